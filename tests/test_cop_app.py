"""COP app without a browser: CopData on the real bundle, the debate/scenario/edition storage in a
knowledge base of INVENTED TEST DATA, exports, and the widget flow of the four steps."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from planeco_kernel.apps.cop_data import CopData
from planeco_kernel.errors import PlanecoError
from planeco_kernel.knowledge import KnowledgeBase, Member
from planeco_kernel.trajectories import debate as D
from planeco_kernel.trajectories import kbstore
from planeco_kernel.trajectories.data import load_planning
from planeco_kernel.trajectories.scenarios import LeverLevel, Scenario


@pytest.fixture(scope="module")
def pdata(bundle_dir):
    return load_planning(bundle_dir)


@pytest.fixture()
def kb(tmp_path):
    root = tmp_path / "kb"
    kb = KnowledgeBase.init(root, Member("marie", "Marie Essai (données de test)", "elu", territory="69123", moderator=True))
    kb.add_member(Member("paul", "Paul Essai (données de test)", "agent", territory="69266"), actor="marie")
    return kb


def test_treemap_areas(pdata):
    data = CopData(pdata, "84")
    blocks = data.treemap()
    assert sum(b.share for b in blocks) == pytest.approx(1.0)
    total = sum(lv.obj_kt for lv in data.levers if lv.obj_kt > 0)
    for b in blocks:
        assert b.obj_kt / total == pytest.approx(b.share)
        assert sum(t.share_in_sector for t in b.tiles) == pytest.approx(1.0)
    assert blocks[0].obj_kt >= blocks[-1].obj_kt


def test_roadmap_extra_commitments_and_exports(pdata):
    extra = pd.DataFrame([{"territory_code": "69123", "lever_id": "augm_voitelec", "quantity": 50.0, "unit": "ktCO2e",
                           "year": 2030, "actor": "Entreprise test", "actor_type": "entreprise",
                           "source": "plan d'actions", "action_id": "a1"}])
    data = CopData(pdata, "84", extra_commitments=[extra])
    data.add_commitment(territory_code="69", lever_id="augm_voitelec", quantity=4.677,
                        unit=data.by_id["augm_voitelec"].unit_phys, year=2028, actor="Département test",
                        actor_type="collectivite", source="COP (saisie)", action_id="", cost_eur=0, status="engagé")
    cov = data.coverage().set_index("lever_id")
    assert cov.loc["augm_voitelec", "committed_kt"] == pytest.approx(60.0)
    xl = pd.read_excel(io.BytesIO(data.xlsx()), sheet_name=None)
    assert set(xl) == {"Couverture par levier", "Couverture par secteur", "Engagements", "Sources"}
    assert "indicatives, non contraignantes" in xl["Sources"]["mention"].iloc[0]
    html = data.dossier_html()
    assert "Données de travail SGPE, indicatives, non contraignantes." in html and "Entreprise test" in html
    with pytest.raises(PlanecoError, match="ligne 1 : quantité négative"):
        data.add_commitment(territory_code="69", lever_id="augm_voitelec", quantity=-1, unit="ktCO2e", year=2030,
                            actor="x", actor_type="collectivite", source="s", action_id="")
    bad = extra.assign(unit="voitures")
    with pytest.raises(PlanecoError, match="engagements importés n° 1, ligne 1 : unité « voitures »"):
        CopData(pdata, "84", extra_commitments=[bad])


def test_dossier_escapes_hostile_text(pdata):
    data = CopData(pdata, "84")
    data.add_commitment(territory_code="69", lever_id="augm_voitelec", quantity=1, unit="ktCO2e", year=2030,
                        actor="<script>alert(1)</script>", actor_type="association", source="s", action_id="")
    assert "<script>alert(1)" not in data.dossier_html()


def test_declension_sums_checked(pdata):
    data = CopData(pdata, "84")
    d = data.declension("augm_voitelec", "departement", "population")
    assert len(d) == 12 and d["obj_kt"].sum() == pytest.approx(data.by_id["augm_voitelec"].obj_kt)
    assert d.attrs["method"] == "estimation par clé de répartition : population municipale"
    inv = pd.DataFrame({"territory_code": d["code"], "sector": "Transport de voyageurs", "year": 2021, "tco2e": 1.0})
    e = data.declension("augm_voitelec", "departement", "inventaire", inventory=inv, sector="Transport de voyageurs")
    assert e["share"].tolist() == pytest.approx([1 / 12] * 12)


def test_debate_positions_and_conclusion(kb):
    p = D.propose(kb, "paul", "augm_vélotc", "Pistes cyclables interurbaines (essai)", "Relier les bourgs.")
    assert kbstore.lever_anchor("augm_vélotc") == "lever:augm_velotc"
    D.take_position(kb, "marie", p.thread, "pour", "D'accord (essai).")
    D.take_position(kb, "paul", p.thread, "amendement", "Commencer par la vallée (essai).")
    with pytest.raises(D.DebateError, match="conclusion est nécessaire"):
        D.conclude(kb, "paul", p.thread, "  ")
    with pytest.raises(D.DebateError, match="inconnue"):
        D.take_position(kb, "paul", p.thread, "peut-être", "x")
    D.conclude(kb, "paul", p.thread, "Retenu avec l'amendement.")
    d = D.debates_of(kb, "augm_vélotc", "marie")[0]
    assert d.positions == {"pour": 1, "contre": 0, "amendement": 1} and d.closed
    assert d.conclusion == "Retenu avec l'amendement."
    with pytest.raises(D.DebateError, match="déjà clos"):
        D.conclude(kb, "marie", p.thread, "Encore.")


def test_scenarios_versioned_in_kb(kb, pdata):
    data = CopData(pdata, "84")
    s = Scenario("Ambition test", "84", [LeverLevel("augm_voitelec", 1500.0, "ktCO2e")])
    kbstore.save_scenario(kb, "marie", s)
    s.levels = [LeverLevel("augm_voitelec", 1600.0, "ktCO2e")]
    kbstore.save_scenario(kb, "marie", s)
    got = kbstore.load_scenarios(kb, "marie", "84", data.by_id)["Ambition test"]
    assert [x.version for x in got] == [1, 2] and got[1].levels[0].value == 1600.0
    assert sorted(kb.documents("documents/cop/84/")) == [
        "documents/cop/84/scenarios/Ambition-test/v001.yaml", "documents/cop/84/scenarios/Ambition-test/v002.yaml"]
    assert "value: 1500.0" in kb.read_document("documents/cop/84/scenarios/Ambition-test/v001.yaml")
    copy = got[1].copy("Variante")
    kbstore.save_scenario(kb, "paul", copy)
    assert set(kbstore.load_scenarios(kb, "paul", "84", data.by_id)) == {"Ambition test", "Variante"}


def test_app_widget_flow(pdata, kb, monkeypatch):
    monkeypatch.setenv("JUPYTERHUB_USER", "marie")
    from planeco_kernel.apps.cop import CopApp

    app = CopApp(pdata, kb=kb, region_code="32")
    assert "Hauts-de-France" in app.header.value
    assert "indicatives, non contraignantes" in app.step1.children[0].value
    tile = app.treemap_box.children[0].children[0]
    tile.click()
    assert f"data-lever='{app.lever_pick.value}'" in app.lever_html.value
    assert "54,47" in app.zan_html.value  # the SRADDET target of Hauts-de-France
    app.p_title.value, app.p_body.value = "Covoiturage domicile-travail (essai)", "Aires de covoiturage."
    app.p_send.click()
    assert "Covoiturage domicile-travail" in app.debates_html.value
    app.pos_text.value = "Oui (essai)."
    app.pos_send.click()
    assert "Pour : 1" in app.debates_html.value
    app.concl_send.click()
    assert "conclusion est nécessaire" in app.status.value
    box = app.scen_inputs.children[0]
    box.value = box.value + 100
    assert "−100" in app.scen_gaps.value or "-100" in app.scen_gaps.value
    app.c_quantity.value = 25.0
    app.c_add.click()
    assert "Engagement ajouté" in app.status.value and "cop-export-xlsx" in app.exports.value
    app.edition_label.value = "2025"
    app.edition_save.click()
    app.c_quantity.value = 5.0
    app.c_add.click()
    app.edition_label.value = "2026"
    app.edition_save.click()
    assert "nouveau" in app.edition_changes.value


def test_scenario_card_physical_unit_and_lever_indicators(pdata):
    from planeco_kernel.apps.cop import CopApp

    app = CopApp(pdata, kb=None, region_code="84")
    app.scen_sector.value = "Transport de voyageurs"
    app.scen_unit.value = "phys"
    ev = app.data.by_id["augm_voitelec"]
    box = next(b for b in app.scen_inputs.children if b.description.startswith("Véhicules électriques"))
    assert box.value == pytest.approx(ev.obj_phys, abs=1e-3)
    box.value = 700.0  # thousand EVs in 2030 -> (700 − 13.754) / 0.4677 kt
    assert {x.lever_id: x.value for x in app.scenario.levels}["augm_voitelec"] == pytest.approx((700 - 13.754) / 0.4677)
    app.show_lever("augm_voitelec")
    assert "Écolab, indicateur 826" in app.lever_html.value
    app.decl_lever.value = "reduc_artif"
    assert app.decl_key.value == "surface" and "surface du territoire" in app.decl_check.value


def test_bad_scenario_file_in_kb_names_path_and_line(kb, pdata):
    data = CopData(pdata, "84")
    text = Scenario("Casse", "84", [LeverLevel("augm_voitelec", 10.0, "ktCO2e")]).to_yaml().replace("augm_voitelec", "augm_foo")
    kb.save_document("documents/cop/84/scenarios/Casse/v001.yaml", text, "essai", author="marie")
    from planeco_kernel.trajectories.scenarios import ScenarioError

    with pytest.raises(ScenarioError, match="documents/cop/84/scenarios/Casse/v001.yaml, ligne 7 : levier inconnu"):
        kbstore.load_scenarios(kb, "marie", "84", data.by_id)


def test_actors_commitments_from_the_knowledge_base_fill_the_region_gauges(pdata, kb, monkeypatch):
    """An action sheet imported into the knowledge base (tests/fixtures/actions, INVENTED) counts in its région."""
    from pathlib import Path

    from planeco_kernel.actions import import_table, save, territory_resolver
    from planeco_kernel.apps.cop import CopApp
    from planeco_kernel.apps.cop_data import gauge_rows
    from planeco_kernel.assessment.levers import load_levers

    monkeypatch.setenv("JUPYTERHUB_USER", "paul")
    fixture = Path(__file__).parent / "fixtures" / "actions" / "plan_essai.csv"
    save(kb, import_table(fixture, load_levers(), territory_resolver()), "import")  # sheets in Poitiers (86194)
    data = CopData(pdata, "75", kb=kb)  # Nouvelle-Aquitaine
    assert data.kb_count == 2 and data.kb_notes == []
    cov = data.coverage().set_index("lever_id")
    assert cov.loc["augm_covoit", "committed_kt"] == pytest.approx(1.5)
    assert cov.loc["reduc_tconso", "committed_kt"] == pytest.approx(3.0)
    name = cov.loc["augm_covoit", "lever"]
    (row,) = [r for r in gauge_rows(data.coverage()) if r["label"] == name]
    assert row["committed"] == "2" and row["width"] > 0  # 1,5 kt rounded in the gauge
    sources = set(data.commitments()["source"])
    assert sources == {"acteurs socio-économiques — plan d'actions (base de connaissances)"}
    assert CopData(pdata, "84", kb=kb).kb_count == 0  # Auvergne-Rhône-Alpes: none of them
    app = CopApp(pdata, kb=kb, region_code="75")
    assert "2 engagement(s) des acteurs socio-économiques" in app.status.value
    assert "acteurs socio-économiques — plan d&#39;actions" in app.commit_table.value
    html = data.dossier_html()
    assert "acteurs socio-économiques" in html


def test_region_choices_are_the_bundles(small_bundle_dir, kb):
    """A bundle cut to a few départements (the tests' fast bundle) lacks most régions: the app offers
    those it holds and opens on one of them, instead of failing on the panorama's first région."""
    from planeco_kernel.apps.cop import CopApp

    app = CopApp(load_planning(small_bundle_dir), kb=kb)
    codes = [c for _name, c in app.region.options]
    assert set(codes) == {"32", "75", "84", "93"}  # Nord, Vienne; Ain, Loire, Rhône; Vaucluse
    assert app.data.region_code == app.region.value in codes
    app.apply_query({"region": "11"})  # Île-de-France is not in this bundle: the deep link is ignored
    assert app.region.value != "11"
