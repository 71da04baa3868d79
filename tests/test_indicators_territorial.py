"""Territorial indicators: Écolab regional series and the baromètre's national series as catalogue
indicators (levels, values, never a commune value) and the distance to the national 2030 target.

All tables here are INVENTED TEST DATA (two régions, two communes), except where a test says it
reads the real bundle.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from planeco_kernel import fmt
from planeco_kernel.indicators import sentences as fr

NB = fmt.NNBSP


# --------------------------------------------------------------------------- connector (tiny tables)


def test_ecolab_series_become_regional_rows():
    from planeco_kernel.sources.sgpe_barometre import TerritorialVariable, ecolab_territorial

    # INVENTED TEST DATA: one series with a dimension, one without
    e = pd.DataFrame({
        "indicator_id": ["434", "434", "434", "611", "611"],
        "region_code": ["84", "84", "11", "84", "11"], "year": [2024, 2024, 2024, 2023, 2023],
        "dimension": ["carburant=Electrique;type_vehicule=VP", "carburant=Essence;type_vehicule=VP",
                      "carburant=Electrique;type_vehicule=VP", None, None],
        "value": [20.0, 50.0, 25.0, 1000.0, np.nan],
    })
    spec = {"a": TerritorialVariable("434", dimension="carburant=Electrique;type_vehicule=VP"),
            "b": TerritorialVariable("611")}
    got = ecolab_territorial(e, spec).sort_values(["variable", "code"]).reset_index(drop=True)
    assert got[["level", "code", "year", "variable", "value"]].values.tolist() == [
        ["region", "11", 2024, "a", 25.0], ["region", "84", 2024, "a", 20.0], ["region", "84", 2023, "b", 1000.0]]


def test_ecolab_series_absent_is_an_error():
    from planeco_kernel.errors import SchemaError
    from planeco_kernel.sources.sgpe_barometre import TerritorialVariable, ecolab_territorial

    e = pd.DataFrame({"indicator_id": ["611"], "region_code": ["84"], "year": [2023], "dimension": [None], "value": [1.0]})
    with pytest.raises(SchemaError, match="série 999"):
        ecolab_territorial(e, {"x": TerritorialVariable("999")})


def test_national_series_sum_their_sub_series_and_give_the_target():
    from planeco_kernel.sources.sgpe_barometre import TerritorialVariable, barometre_territorial

    # INVENTED TEST DATA: two sub-series in GW, the second one missing in 2022; a third one not chosen
    rows = []
    for sub, vals, target in (("terrestre", {2022: 20.0, 2023: 21.0}, 31.0), ("maritime", {2023: 1.5}, 3.6),
                              ("solaire", {2022: 16.0, 2023: 19.0}, 48.0)):
        for y, v in vals.items():
            rows.append({"indicator": "Capacité", "sub_level": sub, "kind": "value", "year": y, "value": v,
                         "target_source": None, "target_url": None})
        rows.append({"indicator": "Capacité", "sub_level": sub, "kind": "target", "year": 2030, "value": target,
                     "target_source": "PPE 2026-2035", "target_url": "https://example.org/ppe"})
    ind = pd.DataFrame(rows)
    spec = {"eolien": TerritorialVariable("898", national="Capacité", sub_levels=("terrestre", "maritime"), factor=1000.0)}
    values, targets = barometre_territorial(ind, spec)
    assert values[["level", "code", "year", "variable"]].values.tolist() == [["france", "FR", 2023, "eolien"]]
    assert values["value"].tolist() == [22500.0]  # (21 + 1.5) GW, 2022 left out: maritime has no value
    assert targets[["variable", "year", "value", "target_source"]].values.tolist() == [
        ["eolien", 2030, 34600.0, "PPE 2026-2035"]]


def test_every_territorial_variable_is_a_catalogue_component():
    from planeco_kernel.indicators.catalogue import load_catalogue
    from planeco_kernel.sources.sgpe_barometre import TERRITORIAL_VARIABLES

    cat = load_catalogue()
    territorial = {n for n, c in cat.components.items() if c.territorial}
    assert territorial == set(TERRITORIAL_VARIABLES)
    for name in territorial:
        comp = cat.components[name]
        national = TERRITORIAL_VARIABLES[name].national is not None
        # France from the baromètre where it has the same series, else the sum of the régions or no value
        assert ("sgpe_barometre" in comp.sources) == national, name
        if not national and "france" in comp.levels:
            assert comp.france == "sum_of_regions" and comp.kind == "extensive", name
        # every level is published by one of its sources (registry levels), or is France as Σ régions
        from planeco_kernel.sources.catalog import ALL

        for level in comp.levels:
            assert any(level in ALL[s].levels for s in comp.sources) or (
                level == "france" and comp.france == "sum_of_regions"), (name, level)


def test_catalogue_declares_the_levels():
    from planeco_kernel.indicators.catalogue import load_catalogue

    cat = load_catalogue()
    published = [i for i in cat if i.aggregation == "published"]
    assert len(published) >= 15
    assert cat.get("conso_enaf_region").levels == ("region", "france")
    assert cat.get("part_residences_principales_dpe_f").levels == ("region",)
    for ind in published:
        assert not ind.available_at("commune") and ind.available_at("region"), ind.id
        assert ind.level_note("commune").startswith("disponible à l'échelle régionale"), ind.id
        assert ind.source == "ecolab"


def test_catalogue_refuses_a_territorial_component_rolled_up_from_communes():
    from planeco_kernel.indicators.catalogue import CATALOGUE_PATH, CatalogueError, parse_catalogue

    import yaml

    data = yaml.safe_load(CATALOGUE_PATH.read_text(encoding="utf-8"))
    row = next(r for r in data["indicators"] if r["id"] == "conso_enaf_region")
    row["aggregation"] = "sum"
    with pytest.raises(CatalogueError, match="demandent aggregation: published"):
        parse_catalogue(data)
    row["aggregation"] = "published"
    row["levels"] = ["commune", "region"]
    with pytest.raises(CatalogueError, match="niveaux"):
        parse_catalogue(data)


# --------------------------------------------------------------------------- cube (tiny bundle)

YEARS = (2022, 2023, 2024, 2025)


def _bundle(tmp_path):
    """INVENTED TEST DATA: two communes, in two départements of two régions."""
    t = pd.DataFrame({
        "level": ["commune", "commune", "departement", "departement", "region", "region", "france"],
        "code": ["84001", "11001", "84", "11", "R84", "R11", "FR"],
        "name": ["Une", "Deux", "Dép. A", "Dép. B", "Région A", "Région B", "France"],
        "epci_code": [None] * 7, "scot_code": [None] * 7,
        "departement_code": ["84", "11", None, None, None, None, None],
        "region_code": ["R84", "R11", "R84", "R11", None, None, None],
        "population": [100, 300, 100, 300, 100, 300, 400],
    })
    t.to_parquet(tmp_path / "territories.parquet")
    pd.DataFrame({"level": ["commune"] * 2, "code": ["84001", "11001"], "census_year": [2021] * 2,
                  "population": [100, 300], "source": ["test"] * 2, "flag": [None, None]}).to_parquet(
        tmp_path / "population.parquet")
    pd.DataFrame({"code": ["84001", "11001"], "vintage": [2025] * 2, "type": ["commune-actuelle"] * 2,
                  "current_code": ["84001", "11001"], "event": [None, None], "note": [None, None]}).to_parquet(
        tmp_path / "code_history.parquet")
    return t


def _frames():
    """INVENTED TEST DATA: Écolab rows of two régions, the baromètre's France rows, one 2030 target."""
    reg = []
    for var, values in {
        "conso_enaf_region_ha": {"R84": (100.0, 90.0, 80.0, None), "R11": (50.0, 40.0, 30.0, None)},
        "conso_energie_tertiaire_gwh": {"R84": (10.0, 11.0, 12.0, None), "R11": (5.0, None, 6.0, None)},
        "part_rp_dpe_f_pct": {"R84": (None, 12.0, 11.0, None), "R11": (None, 14.0, 13.0, None)},
        "part_vp_electriques_parc_pct": {"R84": (None, 1.2, 2.0, 2.6), "R11": (None, 1.8, 2.4, 3.1)},
    }.items():
        for code, vals in values.items():
            reg += [{"level": "region", "code": code, "year": y, "variable": var, "value": v}
                    for y, v in zip(YEARS, vals) if v is not None]
    nat = [{"level": "france", "code": "FR", "year": y, "variable": "conso_enaf_region_ha", "value": v}
           for y, v in zip(YEARS, (151.0, 129.0, 111.0))]
    nat += [{"level": "france", "code": "FR", "year": y, "variable": "part_vp_electriques_parc_pct", "value": v}
            for y, v in zip(YEARS, (1.0, 1.5, 2.2, 2.9))]
    targets = pd.DataFrame([{"variable": "part_vp_electriques_parc_pct", "year": 2030, "value": 15.0,
                             "target_source": "3e stratégie nationale bas-carbone", "target_url": None,
                             "series": "Proportion de voitures particulières électriques dans le parc roulant"}])
    return {"ecolab": pd.DataFrame(reg), "sgpe_barometre": pd.DataFrame(nat), "sgpe_barometre_targets": targets}


@pytest.fixture()
def tiny(tmp_path):
    from planeco_kernel.indicators.components import SourceStatus, assemble
    from planeco_kernel.indicators.cube import build_cube

    t = _bundle(tmp_path)
    frames = _frames()
    comps = assemble(tmp_path, frames=frames, status={s: SourceStatus(True, "") for s in ("ecolab", "sgpe_barometre")})
    return frames, comps, build_cube(comps, t)


def _naive(frames, variable: str, level: str) -> dict[tuple[str, int], float]:
    """The file's values, row by row: the reference for the régions (and France where published)."""
    out = {}
    for f in (frames["ecolab"], frames["sgpe_barometre"]):
        for r in f.itertuples():
            if r.variable == variable and r.level == level:
                out[(r.code, int(r.year))] = float(r.value)
    return out


def _cube_values(cube, indicator: str, level: str) -> dict[tuple[str, int], float]:
    ds = cube.dataset(level)
    out = {}
    for code in ds["territory"].values:
        for y in ds["year"].values:
            v = float(ds[indicator].sel(territory=code, year=y))
            if not math.isnan(v):
                out[(str(code), int(y))] = v
    return out


@pytest.mark.parametrize(("indicator", "variable"), [
    ("conso_enaf_region", "conso_enaf_region_ha"), ("conso_energie_tertiaire", "conso_energie_tertiaire_gwh"),
    ("part_residences_principales_dpe_f", "part_rp_dpe_f_pct"), ("part_voitures_electriques_parc", "part_vp_electriques_parc_pct"),
])
def test_region_values_are_the_files(tiny, indicator, variable):
    frames, _, cube = tiny
    assert _cube_values(cube, indicator, "region") == _naive(frames, variable, "region")
    assert cube.status[indicator].available


def test_france_is_the_barometre_or_the_sum_of_regions(tiny):
    frames, _, cube = tiny
    # declared from the baromètre: its national value, not the sum of the régions (151 ≠ 150)
    assert _cube_values(cube, "conso_enaf_region", "france") == _naive(frames, "conso_enaf_region_ha", "france")
    # declared as the sum of the régions: only the years where every région has a value
    assert _cube_values(cube, "conso_energie_tertiaire", "france") == {("FR", 2022): 15.0, ("FR", 2024): 18.0}
    # declared [region] only: never a national value
    assert _cube_values(cube, "part_residences_principales_dpe_f", "france") == {}
    assert cube.level_note("part_residences_principales_dpe_f", "france") == "disponible à l'échelle régionale"


@pytest.mark.parametrize("level", ["commune", "departement"])
def test_a_commune_never_gets_a_regional_value(tiny, level):
    _, _, cube = tiny
    for ind in cube.catalogue:
        if ind.aggregation != "published":
            continue
        assert np.isnan(cube.dataset(level)[ind.id].values).all(), (ind.id, level)
        assert cube.dataset(level)[ind.id].attrs["level_note"].startswith("disponible à l'échelle régionale")


def test_a_commune_comparison_says_where_to_read_it(tiny):
    from planeco_kernel.indicators.comparison import Comparator

    _, _, cube = tiny
    item = Comparator(cube).compare("84001", "commune")["conso_enaf_region"]
    assert item.value is None and item.sentence == ""
    assert item.reason == "disponible à l'échelle régionale / nationale"


def test_territorial_components_survive_the_components_file(tiny, tmp_path):
    from planeco_kernel.indicators.components import Components

    _, comps, _ = tiny
    comps.to_parquet(tmp_path / "c.parquet")
    back = Components.from_parquet(tmp_path / "c.parquet")
    assert back.targets == comps.targets
    for name, per_level in comps.territorial.items():
        for level, df in per_level.items():
            pd.testing.assert_frame_equal(back.territorial[name][level], df, check_names=False)


def test_unavailable_without_the_series(tmp_path):
    from planeco_kernel.indicators.components import SourceStatus, assemble
    from planeco_kernel.indicators.cube import build_cube

    t = _bundle(tmp_path)
    why = "table ecolab_series absente du paquet"
    comps = assemble(tmp_path, frames={}, status={"ecolab": SourceStatus(False, why)})
    cube = build_cube(comps, t)
    assert not cube.status["part_residences_principales_dpe_f"].available
    assert why in cube.status["part_residences_principales_dpe_f"].reason


# --------------------------------------------------------------------------- distance to the 2030 target


def test_target_clause_numbers_by_hand():
    # latest 2,9 % in 2025, target 15 % in 2030: gap +12,1 points, needed (15 − 2,9) / 5 = +2,42 → « +2,4 »
    # points a year; recent pace (2,9 − 1,5) / (2025 − 2023) = +0,70 point a year
    text = fr.target_clause(level="france", unit="%", polarity="higher_better", last_year=2025, last_value=2.9,
                            target_year=2030, target=15.0, required_pace=(15.0 - 2.9) / 5, observed_pace=0.7,
                            pace_from=2023, target_source="3e stratégie nationale bas-carbone ; SGPE, baromètre")
    assert text == (f"Objectif national 2030 : 15,0{NB}% (3e stratégie nationale bas-carbone ; SGPE, baromètre) ; "
                    f"France en 2025 : 2,9{NB}%, à +12,1{NB}points de l'objectif : il faut +2,4{NB}points par an "
                    f"d'ici 2030, contre +0,70{NB}point par an de 2023 à 2025.")


def test_target_already_reached():
    text = fr.target_clause(level="region", unit="%", polarity="higher_better", last_year=2025, last_value=31.2,
                            target_year=2030, target=30.0, required_pace=-0.24, observed_pace=0.05, pace_from=2023,
                            target_source="SNB 2030")
    assert text.startswith("Objectif national (fixé pour la France entière, non décliné par région) 2030 : 30,0")
    assert "objectif déjà atteint" in text and "il faut" not in text


def test_comparison_sentence_at_france_and_region(tiny):
    from planeco_kernel.indicators.comparison import Comparator

    _, _, cube = tiny
    cmp = Comparator(cube)
    france = cmp.compare("FR", "france")["part_voitures_electriques_parc"]
    src = cube.catalogue.sources["sgpe_barometre"]
    # by hand from _frames(): France 2023–2025 = 1,5 ; 2,2 ; 2,9 — pace (2,9 − 1,5) / 2 = +0,70 point a year;
    # needed (15 − 2,9) / 5 = 2,42 → « +2,4 points par an »; gap 15 − 2,9 = +12,1 points
    clause = (f"Objectif national 2030 : 15,0{NB}% (3e stratégie nationale bas-carbone ; {src.short}, {src.vintage}) ; "
              f"France en 2025 : 2,9{NB}%, à +12,1{NB}points de l'objectif : il faut +2,4{NB}points par an d'ici 2030, "
              f"contre +0,70{NB}point par an de 2023 à 2025.")
    assert france.sentence.endswith(clause)
    assert f"{src.short} 2025" in france.sentence  # the France value cites the baromètre, not Écolab
    region = cmp.compare("R84", "region")["part_voitures_electriques_parc"]
    assert region.value == 2.6
    assert "Objectif national (fixé pour la France entière, non décliné par région) 2030" in region.sentence
    assert "France en 2025 : 2,9" in region.sentence
    # no national target: no clause
    assert "Objectif" not in cmp.compare("FR", "france")["conso_enaf_region"].sentence


def test_no_clause_below_region(tiny):
    from planeco_kernel.indicators.comparison import Comparator

    _, _, cube = tiny
    cmp = Comparator(cube)
    assert cmp.target_clause(cube.catalogue.get("part_voitures_electriques_parc"), "departement") == ""


def test_distance_matches_the_trajectories_code():
    """The clause's numbers are those of trajectories.national on the baromètre's own rows."""
    from planeco_kernel.trajectories.national import distance, distance_to_target

    # INVENTED TEST DATA: a national series with its 2030 target
    rows = [{"indicator": "X", "sub_level": None, "kind": "value", "year": y, "value": v, "unit": "%",
             "source": "s", "target_source": "T"} for y, v in ((2022, 1.0), (2023, 1.5), (2024, 2.2), (2025, 2.9))]
    rows.append({"indicator": "X", "sub_level": None, "kind": "target", "year": 2030, "value": 15.0, "unit": "%",
                 "source": "s", "target_source": "T"})
    d = distance_to_target(pd.DataFrame(rows), "X")
    direct = distance([2022, 2023, 2024, 2025], [1.0, 1.5, 2.2, 2.9], 15.0)
    assert {k: d[k] for k in direct} == direct
    assert direct["required_pace"] == pytest.approx(2.42) and direct["observed_pace"] == pytest.approx(0.7)
    assert direct["gap"] == pytest.approx(-12.1)


# --------------------------------------------------------------------------- the REAL bundle and mirror


def _mirror_file(rel: str):
    from planeco_kernel import config

    env = config.mirror_dir()
    for p in ([env] if env else []) + config.default_mirror_candidates():
        if p and (p / rel).is_file():
            return p / rel
    pytest.skip(f"offline mirror with {rel} not found (set PLANECO_MIRROR)")


@pytest.fixture(scope="module")
def real_cube(bundle_dir):
    from planeco_kernel.indicators.cube import load_cube

    cube = load_cube(bundle_dir)
    if not cube.status["conso_enaf_region"].available:
        pytest.skip("bundle built without the Écolab series (rebuild with `planeco data build`)")
    return cube


@pytest.mark.bundle
def test_real_regions_equal_the_ecolab_file(real_cube):
    """Every région-year of Écolab 611 (ENAF, ha), read with ``json`` only, is the cube's value."""
    import json

    d = json.loads(_mirror_file("sgpe/barometre/ecolab/indicators/611.json").read_text(encoding="utf-8"))
    naive = {(r["conso_enaf_com.geocode_region"], int(r["conso_enaf_com.date_mesure.year"][:4])):
             float(r["conso_enaf_com.id_611"]) for r in d["data"] if r["conso_enaf_com.id_611"] is not None}
    got = _cube_values(real_cube, "conso_enaf_region", "region")
    assert {k: v for k, v in naive.items() if k[1] >= 2009} == pytest.approx(got)


@pytest.mark.bundle
def test_real_france_is_the_barometre_series(real_cube):
    """France = the baromètre's three ENAF sub-series (kha, French number format) × 1000, read with ``csv``."""
    import csv

    path = _mirror_file("sgpe/barometre/grist/grist-indicators.csv")
    with path.open(encoding="utf-8", newline="") as fh:
        rows = [r for r in csv.DictReader(fh)
                if " ".join(r["Indicateur"].split()) == "Consommation d'espaces naturels, agricoles et forestiers"]
    assert len(rows) == 3
    naive = {}
    for y in range(2017, 2024):
        cells = [r[str(y)].replace("\u202f", "").replace("\u00a0", "").replace(" ", "").replace(",", ".") for r in rows]
        if all(cells):
            naive[("FR", y)] = round(sum(float(c) for c in cells) * 1000, 6)
    got = {k: round(v, 6) for k, v in _cube_values(real_cube, "conso_enaf_region", "france").items()}
    assert naive and got == naive


@pytest.mark.bundle
def test_real_commune_and_epci_never_get_a_regional_value(real_cube):
    from planeco_kernel.indicators.comparison import compare

    for level in ("commune", "epci", "scot", "departement"):
        for ind in real_cube.catalogue:
            if ind.aggregation == "published":
                assert np.isnan(real_cube.dataset(level)[ind.id].values).all(), (ind.id, level)
    lyon = compare("69123", "commune", cube=real_cube)
    assert lyon["part_sau_bio"].value is None
    assert lyon["part_sau_bio"].reason == "disponible à l'échelle régionale / nationale"
    assert lyon["part_residences_principales_dpe_g"].reason == "disponible à l'échelle régionale"


def test_each_level_cites_its_own_source(tiny):
    from planeco_kernel.indicators.comparison import Comparator

    _, _, cube = tiny
    cmp = Comparator(cube)
    cat = cube.catalogue
    france = cmp.compare("FR", "france")
    region = cmp.compare("R84", "region")
    assert france["conso_enaf_region"].source == cat.sources["sgpe_barometre"].title
    assert region["conso_enaf_region"].source == cat.sources["ecolab"].title
    # France as the sum of the régions says so
    assert f"somme des régions, {cat.sources['ecolab'].short} 2024" in france["conso_energie_tertiaire"].sentence
    # the région sentence cites the baromètre beside France's value
    assert f"ensemble de la France : 111{NB}ha ({cat.sources['sgpe_barometre'].short} 2024)" in region["conso_enaf_region"].sentence
