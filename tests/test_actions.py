"""Action inventory: CSV/XLSX import with row-level errors, lossless export, storage in git,
several plans without copies, views and the COP commitments frame.

The inventories here are INVENTED TEST DATA (tests/fixtures/actions).
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from planeco_kernel.actions import (
    commitments,
    export_table,
    import_table,
    load_all,
    save,
    territory_resolver,
)
from planeco_kernel.actions.commitments import COLUMNS
from planeco_kernel.actions.views import (
    filter_sheets,
    indicator_progress,
    rollup,
    table,
    timeline_svg,
)
from planeco_kernel.assessment import (
    ActorProfile,
    Answer,
    ChosenAction,
    DocumentError,
    load_referentiel,
    new_assessment,
    store,
)
from planeco_kernel.assessment.levers import load_levers

FIXTURE = Path(__file__).parent / "fixtures" / "actions" / "plan_essai.csv"
pytestmark = pytest.mark.bundle  # territories are resolved with the territory model of the bundle


@pytest.fixture(scope="module")
def levers():
    return load_levers()


@pytest.fixture(scope="module")
def resolve(bundle_dir):
    return territory_resolver()


@pytest.fixture()
def kb(tmp_path, monkeypatch):
    from planeco_kernel.knowledge import KnowledgeBase, Member

    monkeypatch.delenv("JUPYTERHUB_USER", raising=False)
    k = KnowledgeBase.init(tmp_path / "kb", Member("agent", "Agent Essai", "agent", territory="86194"))
    k.add_member(Member("acme", "ACME Essai", "entreprise", territory="86194"), actor="agent")
    monkeypatch.setenv("JUPYTERHUB_USER", "agent")
    return k


def test_import_reads_every_field(levers, resolve):
    sheets = {s.id: s for s in import_table(FIXTURE, levers, resolve)}
    a = sheets["ESSAI-01"]
    assert a.plans == ["PCAET", "CRTE"] and a.status == "en_cours" and a.priority == "haute"
    assert (a.start, a.end) == (dt.date(2025, 1, 15), dt.date(2027, 12, 31))
    assert a.budget["investissement_previsionnel"] == {2025: 20000.0, 2026: 15000.0}
    assert a.budget["investissement_reel"] == {2025: 18000.0}
    assert a.commitment_quantity == 1.5 and a.commitment_unit == "ktCO2e" and a.commitment_year == 2030
    assert a.effects == ["ges", "energie"] and a.participation == "concertation" and a.pilot_type == "collectivite"
    assert a.indicators[0].progress == pytest.approx(100 * 600 / 1800)
    assert sheets["ESSAI-02"].start == dt.date(2026, 3, 1)   # JJ/MM/AAAA accepted
    assert sheets["ESSAI-03"].status == "realise" and sheets["ESSAI-03"].pilot_type == "association"


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_export_then_import_is_lossless(levers, resolve, tmp_path, suffix):
    sheets = import_table(FIXTURE, levers, resolve)
    files = export_table(sheets, tmp_path / f"inventaire{suffix}")
    assert files[0].exists() and (suffix == ".xlsx" or files[1].name == "inventaire_indicateurs.csv")
    again = import_table(files[0], levers, resolve)
    assert [s.to_dict() for s in again] == [s.to_dict() for s in sheets]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_text_that_looks_like_a_formula_is_never_run(levers, resolve, tmp_path, suffix):
    import dataclasses

    sheets = import_table(FIXTURE, levers, resolve)
    sheets[0] = dataclasses.replace(sheets[0], title='=HYPERLINK("http://example.invalid","x")', pilot="@SUM(A1)")
    (path, *_) = export_table(sheets, tmp_path / f"inv{suffix}")
    if suffix == ".xlsx":
        import openpyxl

        ws = openpyxl.load_workbook(path)["actions"]
        assert all(c.data_type == "s" for c in ws[2] if isinstance(c.value, str))
    else:
        assert "'=HYPERLINK(" in path.read_text("utf-8-sig") and ";'@SUM(A1);" in path.read_text("utf-8-sig")
    again = import_table(path, levers, resolve)
    assert again[0].title == sheets[0].title and again[0].pilot == "@SUM(A1)"


def _bad(tmp_path, levers, resolve, edit) -> list[str]:
    text = FIXTURE.read_text("utf-8")
    p = tmp_path / "plan.csv"
    p.write_text(edit(text), "utf-8")
    shutil.copy(FIXTURE.with_name("plan_essai_indicateurs.csv"), tmp_path / "plan_indicateurs.csv")
    with pytest.raises(DocumentError) as exc:
        import_table(p, levers, resolve)
    return exc.value.problems


def test_wrong_columns_are_named(tmp_path, levers, resolve):
    ps = _bad(tmp_path, levers, resolve, lambda t: t.replace("id;titre;", "id;intitule;", 1).replace(";statut;", ";etat;", 1))
    assert len(ps) == 2 and all(p.startswith("plan.csv, ligne 1 :") for p in ps)
    assert "colonnes inconnues ['intitule', 'etat']" in ps[0] and "manquantes ['titre', 'statut']" in ps[1]


def test_bad_date_unknown_status_and_lever_point_at_the_row(tmp_path, levers, resolve):
    def edit(t):
        return (t.replace("01/03/2026", "31/02/2026").replace(";réalisé;", ";terminé;")
                 .replace("augm_covoit", "augm_covoiturage"))
    ps = _bad(tmp_path, levers, resolve, edit)
    assert ps[0].startswith("plan.csv, ligne 2, colonne « levier » : levier SGPE inconnu « augm_covoiturage »")
    assert "augm_covoit" in ps[0]  # suggestion
    assert ps[1] == "plan.csv, ligne 3, colonne « debut » : date invalide « 31/02/2026 » (attendu AAAA-MM-JJ ou JJ/MM/AAAA)."
    assert ps[2].startswith("plan.csv, ligne 4, colonne « statut » : statut inconnu « terminé »")
    assert len(ps) == 3


def test_bad_territory_plan_and_budget(tmp_path, levers, resolve):
    ps = _bad(tmp_path, levers, resolve, lambda t: t.replace(";86194;réalisé", ";99999;réalisé")
              .replace('"PCAET ; CRTE"', '"PCAET ; PLU"').replace("2025=18000", "2025:18000"))
    assert any(p.startswith("plan.csv, ligne 4, colonne « territoire » : Territoire inconnu") for p in ps)
    assert any(p.startswith("plan.csv, ligne 2, colonne « plans » : plan inconnu « PLU »") for p in ps)
    assert any(p.startswith("plan.csv, ligne 2, colonne « budget_investissement_reel » : budget illisible") for p in ps)


def test_bad_xlsx_date_names_sheet_and_row(tmp_path, levers, resolve):
    import openpyxl

    sheets = import_table(FIXTURE, levers, resolve)
    (p,) = export_table(sheets, tmp_path / "inv.xlsx")
    wb = openpyxl.load_workbook(p)
    ws = wb["actions"]
    col = [c.value for c in ws[1]].index("fin") + 1
    ws.cell(row=3, column=col, value="2029-13-01")
    wb.save(p)
    with pytest.raises(DocumentError) as exc:
        import_table(p, levers, resolve)
    assert exc.value.problems == [("inv.xlsx [actions], ligne 3, colonne « fin » : date invalide « 2029-13-01 » "
                                   "(attendu AAAA-MM-JJ ou JJ/MM/AAAA).")]


def test_stored_in_git_one_action_in_several_plans_without_copies(kb, levers, resolve):
    sheets = import_table(FIXTURE, levers, resolve)
    sha = save(kb, sheets, "import plan d'essai")
    assert sha and save(kb, sheets, "même contenu") is None      # nothing changed: no empty commit
    files = store.read_tree(kb, store.ACTIONS_DIR)
    assert sorted(files) == [f"{store.ACTIONS_DIR}/ESSAI-0{i}.yaml" for i in (1, 2, 3)]
    (rev,) = store.revisions(kb, f"{store.ACTIONS_DIR}/ESSAI-01.yaml")
    assert rev.author.startswith("Agent Essai <")
    back, problems = load_all(kb, levers)
    assert problems == [] and [s.to_dict() for s in back] == [s.to_dict() for s in sheets]
    assert [s.id for s in filter_sheets(back, plan="CRTE")] == ["ESSAI-01"]
    assert [s.id for s in filter_sheets(back, plan="PCAET")] == ["ESSAI-01", "ESSAI-02", "ESSAI-03"]


def test_views(levers, resolve):
    from planeco_kernel.territory import load_model

    model = load_model()
    sheets = import_table(FIXTURE, levers, resolve)
    epci = model.get("86194").parent("epci").code
    assert len(filter_sheets(sheets, territory=epci, model=model)) == 3
    assert [s.id for s in filter_sheets(sheets, lever="reduc_tconso")] == ["ESSAI-02"]
    assert list(table(sheets)["statut"]) == ["en cours", "à venir", "réalisé"]
    svg = timeline_svg(sheets, today=dt.date(2026, 6, 1))
    assert svg.startswith("<svg") and "ESSAI-02" in svg and "à venir" in svg
    prog = indicator_progress(sheets)
    assert list(prog["avancement (%)"].round(1)) == [33.3, 83.3]
    by_lever = rollup(sheets, "levier", levers=levers).set_index("levier")
    assert by_lever.loc["reduc_tconso", "investissement prévu (€)"] == 1_200_000
    assert by_lever.loc["augm_covoit", "engagements (ktCO2e)"] == 1.5
    assert rollup(sheets, "secteur")["actions"].sum() == 3


def test_commitments_frame_from_plans_and_assessments(kb, levers, resolve, monkeypatch):
    from planeco_kernel.territory import load_model

    save(kb, import_table(FIXTURE, levers, resolve), "import")
    ref = load_referentiel()
    monkeypatch.setenv("JUPYTERHUB_USER", "acme")
    a = new_assessment(ref, ActorProfile("acme", "ACME Essai", "entreprise", "petite_moyenne", "86194"), 2026)
    a = a.with_answers({"mob_domicile_travail": Answer(1)})
    a.chosen_actions.extend([ChosenAction("tb_plan_mobilite", "augm_covoit", 0.2, "ktCO2e", 2030),
                             ChosenAction("tb_tri_cinq_flux")])  # not quantified: not a commitment
    store.save_assessment(kb, ref, a)
    df = commitments(kb)
    assert list(df.columns) == COLUMNS
    assert df.dtypes["quantity"] == float and df.dtypes["year"].kind == "i"
    rows = df.to_dict("records")
    assert {(r["source"], r["action_id"], r["lever_id"], r["quantity"], r["actor_type"]) for r in rows} == {
        ("plan d'actions", "ESSAI-01", "augm_covoit", 1.5, "collectivite"),
        ("plan d'actions", "ESSAI-02", "reduc_tconso", 3.0, "collectivite"),
        ("auto-évaluation", "tb_plan_mobilite", "augm_covoit", 0.2, "entreprise"),
    }
    assert set(df["unit"]) == {"ktCO2e"} and set(df["year"]) == {2030}
    model = load_model()
    epci = model.get("86194").parent("epci").code
    assert len(commitments(kb, epci, model=model)) == 3
    other = model.get("69123").parent("epci").code
    assert commitments(kb, other, model=model).empty
