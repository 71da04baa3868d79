"""ZAN levers and the Fiche's key figures on the REAL bundle (national aggregates of the offline mirror)."""

from __future__ import annotations

import gzip
import json
import math

import pytest

from planeco_kernel import config

pytestmark = pytest.mark.bundle


@pytest.fixture(scope="module")
def cube(bundle_dir):
    from planeco_kernel.indicators.cube import load_cube

    return load_cube(bundle_dir)


def _mirror_json(rel: str):
    env = config.mirror_dir()
    root = next(p for p in ([env] if env else []) + config.default_mirror_candidates() if p and (p / rel).is_file())
    opener = gzip.open if rel.endswith(".gz") else open
    with opener(root / rel, "rt", encoding="utf-8") as fh:
        return json.load(fh)


def test_brownfields_lever_is_the_file_count(cube):
    from planeco_kernel.indicators.zan_levers import zan_levers

    z = zan_levers(cube, "61214", "commune")  # L'Aigle: 17 sites without project in the file
    rec = _mirror_json("cerema/cartofriches_communes.json.gz")["communes"]["61214"]
    assert z.get("friches_sans_projet").value == rec["by_status"]["friche sans projet"]
    assert z.get("friches_surface_unites_foncieres_ha").value == pytest.approx(rec["total_surface_m2"] / 10_000)
    assert "pas la surface des friches" in z.get("friches_surface_unites_foncieres_ha").method
    assert "ne se retranchent pas" in z.caveat


def test_long_term_vacancy_is_an_estimate_with_its_method(cube):
    from planeco_kernel.indicators.zan_levers import zan_levers

    lever = zan_levers(cube, "01004", "commune").get("logements_vacants_longue_duree")
    rp = _mirror_json("insee/rp2021_logements_communes.json.gz")["communes"]["01004"]
    sru = _mirror_json("logement/taux_logements_sociaux_sru_2024.json.gz")["communes"]["01004"]["rate_pct"]
    private = rp["log"] - sru / 100 * rp["rp"]
    assert lever.estimate and lever.value == pytest.approx(3.48 / 100 * private)  # LOVAC 2025: 3,48 %
    assert "LOVAC" in lever.source and "estimé" in lever.method


def test_density_lever_says_why_it_is_missing(cube):
    from planeco_kernel.indicators.zan_levers import zan_levers

    lever = zan_levers(cube, "84", "departement").get("logements_autorises_par_ha_habitat")
    if lever.value is None:
        assert lever.why_missing
    else:
        assert lever.value > 0


def test_unknown_territory_is_a_clear_error(cube):
    from planeco_kernel.errors import TerritoryNotFoundError
    from planeco_kernel.indicators.zan_levers import zan_levers

    with pytest.raises(TerritoryNotFoundError):
        zan_levers(cube, "99999", "commune")


def test_fiche_sections_carry_source_vintage_and_notes(cube):
    from planeco_kernel.apps import fiche_figures as F

    got = {s.key: s for s in F.sections(cube, "commune", "01053")}
    assert set(got) == {"construction", "logement", "vacance", "friches", "risques"}
    for s in got.values():
        assert all(f.source and "(" in f.source for f in s.figures)
    assert any("provisoires" in n for n in got["construction"].notes)
    assert any("pas une mesure de l'exposition" in n for n in got["risques"].notes)
    assert got["risques"].links[0][1].endswith("codeInsee=01053")
    vac = {f.indicator: f for f in got["vacance"].figures}
    assert vac["taux_vacance"].year == 2021 and "recensement 2021" in vac["taux_vacance"].source
    assert vac["taux_vacance_lovac"].year == 2025 and "LOVAC" in vac["taux_vacance_lovac"].source
    catnat = {f.indicator: f for f in got["risques"].figures}
    assert catnat["catnat_arretes"].value_text.startswith("13")
    started = {f.indicator: f for f in got["construction"].figures}["logements_commences"]
    assert started.year == 2024  # 2025 is blank (provisional), not 0


def test_programme_badges_with_dates(cube):
    from planeco_kernel.apps import fiche_figures as F

    badges = F.programme_badges(cube, "01053")
    assert [(b.key, b.signed_text) for b in badges] == [
        ("acv", "convention signée le 25 janvier 2024"), ("ort", "convention signée le 7 octobre 2019")]
    assert F.programme_badges(cube, "01001") == []
    epci = {s.key: s for s in F.sections(cube, "epci", "200046977")}
    assert "programmes" in epci and not math.isnan(float(epci["programmes"].figures[0].value_text.split()[0]))


def test_the_fiche_shows_the_key_figures_with_sources(bundle_dir):
    from planeco_kernel.apps.fiche import FicheTerritoire
    from planeco_kernel.territory import load_model

    app = FicheTerritoire(load_model(bundle_dir))
    app.select(app.model.get("56101", "commune"))  # Languidic, Petite Ville de Demain
    html = app.figures.value
    assert "Petites Villes de Demain" in html and "8 septembre 2021" in html and "ANCT" in html
    for title in ("Construction", "Logement", "Logements vacants", "Friches", "Risques et adaptation"):
        assert title in html
    assert "LOVAC" in html and "recensement 2021" in html and "unités foncières" in html
    assert "georisques.gouv.fr" in html and "pas une mesure de l&#39;exposition" in html


def test_comparateur_peer_group_same_programme(bundle_dir, cube):
    """« Communes du même programme »: a Petite Ville de Demain is compared with the other PVD of its
    département (or région), from the ANCT file itself."""
    from planeco_kernel.apps.comparateur_data import PROGRAMME_PEERS, ComparateurData
    from planeco_kernel.territory import load_model

    model = load_model(bundle_dir)
    data = ComparateurData(model, cube)
    doc = _mirror_json("anct/programmes_acv_pvd_ort.json")["communes"]
    t = model.get("56101", "commune")  # Languidic (Morbihan), PVD
    assert data.programme_of(t) == "pvd"
    peers = data.programme_peers(t, "departement")
    expected = {c for c, r in doc.items() if r.get("pvd") and c.startswith("56") and c != "56101"}
    assert {p.code for p in peers} <= expected and len(peers) == min(PROGRAMME_PEERS, len(expected))
    region = data.programme_peers(t, "region", n=10_000)
    assert {p.code for p in region} >= expected and all(doc[p.code].get("pvd") for p in region)
    assert data.programme_of(model.get("01001", "commune")) is None
    assert data.programme_peers(model.get("01001", "commune")) == []
