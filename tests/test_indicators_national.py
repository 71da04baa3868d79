"""Indicators of the national per-commune files in the REAL bundle, against naive sums of the REAL files.

The bundle (``planeco data build`` with the offline mirror) holds Sit@del, census 2021 housing,
LOVAC, SRU, CatNat, Cartofriches and the ANCT programmes. Each test recomputes a value with plain
Python from the mirror file itself (``json``/``csv``, no planeco code) and compares it with the
cube: published totals, Paris/Lyon/Marseille counted once, blank cells never counted as 0,
département and EPCI roll-ups equal to sums or weighted means of their communes. The last tests
use tiny INVENTED frames to check how components combine sources.
"""

from __future__ import annotations

import csv
import gzip
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from planeco_kernel import config

pytestmark = pytest.mark.bundle


def _mirror() -> Path:
    env = config.mirror_dir()
    for p in ([env] if env else []) + config.default_mirror_candidates():
        if p and (p / "sdes" / "sitadel_logements_communes_2013_2025.json.gz").is_file():
            return p
    pytest.skip("offline mirror with the national aggregates not found (set PLANECO_MIRROR)")


def _json(rel: str):
    path = _mirror() / rel
    opener = gzip.open if rel.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as fh:
        return json.load(fh)


def _is_arrondissement(code: str) -> bool:
    return (code.startswith("751") and code != "75056") or (code.startswith("132") and 201 <= int(code[2:]) <= 216) or (
        code.startswith("6938") and code != "69380")


@pytest.fixture(scope="module")
def cube(bundle_dir):
    from planeco_kernel.indicators.cube import load_cube

    c = load_cube(bundle_dir)
    if "catnat_arretes" not in c.available():
        pytest.fail("the bundle was built without the national aggregates: run `planeco data build` with PLANECO_MIRROR")
    return c


@pytest.fixture(scope="module")
def communes(bundle_dir) -> pd.DataFrame:
    t = pd.read_parquet(bundle_dir / "territories.parquet")
    return t[t["level"] == "commune"].set_index("code")


def _value(cube, level: str, code: str, indicator: str, year: int) -> float:
    return float(cube[level][indicator].sel(territory=code, year=year))


# --------------------------------------------------------------------------- published totals


def test_france_totals_equal_the_published_totals(cube):
    assert _value(cube, "france", "FR", "logements_autorises", 2022) == 451_889
    assert _value(cube, "france", "FR", "logements_autorises", 2023) == 354_879
    assert _value(cube, "france", "FR", "nombre_logements", 2021) == 37_153_192
    assert _value(cube, "france", "FR", "catnat_arretes", 2025) == 260_799
    assert _value(cube, "france", "FR", "communes_action_coeur_de_ville", 2026) == 245
    assert _value(cube, "france", "FR", "communes_petites_villes_de_demain", 2026) == 1_646
    assert _value(cube, "france", "FR", "communes_ort", 2026) == 2_265


def test_friches_outside_the_geography_are_reported_with_their_count(cube):
    doc = _json("cerema/cartofriches_communes.json.gz")["communes"]
    # overseas collectivities (975 Saint-Pierre-et-Miquelon, 977 Saint-Barthélemy …) are outside the COG
    outside = {c: r["n"] for c, r in doc.items() if c[:3] in ("975", "977", "978") or c.startswith("98")}
    note = next(n for n in cube.components.notes if n.startswith("cartofriches :"))
    assert f"{len(outside)} codes communaux sans correspondance" in note
    assert _value(cube, "france", "FR", "friches_sites", 2026) + sum(outside.values()) == 27_983


# --------------------------------------------------------------------------- Paris, Lyon, Marseille


@pytest.mark.parametrize(("commune", "departement"), [("75056", "75"), ("69123", None), ("13055", None)])
def test_paris_lyon_marseille_counted_once(cube, commune, departement):
    rows = _json("insee/rp2021_logements_communes.json.gz")["communes"]
    whole = rows[commune]["log"]
    arrondissements = sum(r["log"] for c, r in rows.items() if _is_arrondissement(c) and c[:2] == commune[:2])
    assert abs(arrondissements - whole) < 0.01 * whole  # the file holds both: summing both doubles the count
    assert _value(cube, "commune", commune, "nombre_logements", 2021) == whole
    if departement:
        assert _value(cube, "departement", departement, "nombre_logements", 2021) == whole
    assert not any(_is_arrondissement(c) for c in cube["commune"].territory.values)


# --------------------------------------------------------------------------- blank is not zero


def test_blank_started_year_is_missing_never_zero(cube):
    started = cube["commune"]["logements_commences"].sel(year=2025).values
    assert np.isnan(started).all()
    assert math.isnan(_value(cube, "france", "FR", "logements_commences", 2025))
    assert math.isnan(_value(cube, "commune", "01001", "logements_commences_moyenne_5ans", 2025))
    rec = _json("sdes/sitadel_logements_communes_2013_2025.json.gz")["communes"]["01001"]
    s = {rec["y0"] + i: v for i, v in enumerate(rec["s"])}
    assert _value(cube, "commune", "01001", "logements_commences_moyenne_5ans", 2024) == pytest.approx(
        sum(s[y] for y in range(2020, 2025)) / 5)


def test_a_blank_cell_makes_the_aggregate_missing_not_smaller(cube, communes):
    rows = _json("sdes/sitadel_logements_communes_2013_2025.json.gz")["communes"]
    blank = [c for c, r in rows.items() if r["y0"] + len(r["a"]) > 2022 and r["a"][2022 - r["y0"]] == -1]
    assert blank, "the file has a blank authorised cell in 2022"
    code = blank[0]
    assert math.isnan(_value(cube, "commune", code, "logements_autorises", 2022))


# --------------------------------------------------------------------------- roll-ups = naive sums of the files


def _clean_departements(codes_in_file: set[str], communes: pd.DataFrame, n: int = 6) -> list[str]:
    """Départements whose file codes are all current communes (no merge to follow): naive sums hold."""
    current = set(communes.index)
    by_dep: dict[str, set[str]] = {}
    for c in codes_in_file:
        by_dep.setdefault(c[:3] if c.startswith("97") else c[:2], set()).add(c)
    clean = sorted(d for d, cs in by_dep.items() if cs <= current and d in set(communes["departement_code"]))
    assert len(clean) >= n
    return clean[:n]


@pytest.mark.parametrize(("indicator", "year", "extract"), [
    ("logements_autorises", 2021, lambda r: r["a"][2021 - r["y0"]] if r["y0"] + len(r["a"]) > 2021 else None),
    ("logements_autorises_collectifs", 2019, lambda r: r["c"][2019 - r["y0"]] if r["y0"] + len(r["c"]) > 2019 else None),
])
def test_departement_sitadel_is_the_sum_of_the_file(cube, communes, indicator, year, extract):
    rows = _json("sdes/sitadel_logements_communes_2013_2025.json.gz")["communes"]
    for dep in _clean_departements(set(rows), communes):
        vals = [extract(r) for c, r in rows.items() if c in communes.index and communes.loc[c, "departement_code"] == dep]
        if any(v is None or v < 0 for v in vals):
            continue
        assert _value(cube, "departement", dep, indicator, year) == sum(vals), dep


def test_departement_catnat_and_friches_are_sums_of_the_files(cube, communes):
    catnat = {r["insee"]: r for r in _json("georisques/catnat_communes_1982_2025.json.gz")["communes"]}
    for dep in _clean_departements(set(catnat), communes):
        mine = [r for c, r in catnat.items() if c in communes.index and communes.loc[c, "departement_code"] == dep]
        assert _value(cube, "departement", dep, "catnat_arretes", 2025) == sum(r["total"] for r in mine), dep
        naive = sum(r.get("sech", 0) for r in mine)
        assert _value(cube, "departement", dep, "catnat_secheresse", 2025) == naive, dep
    friches = _json("cerema/cartofriches_communes.json.gz")["communes"]
    in_cog = {c for c in friches if not (c[:3] in ("975", "977", "978") or c.startswith("98"))}
    for dep in _clean_departements(in_cog, communes):
        mine = [r for c, r in friches.items() if c in communes.index and communes.loc[c, "departement_code"] == dep]
        assert _value(cube, "departement", dep, "friches_sans_projet", 2026) == sum(
            r["by_status"].get("friche sans projet", 0) for r in mine), dep
        assert _value(cube, "departement", dep, "friches_surface_unites_foncieres_ha", 2026) == pytest.approx(
            sum(r["total_surface_m2"] for r in mine) / 10_000), dep


def test_epci_sru_rate_is_the_weighted_mean_of_its_communes(cube, communes):
    sru = {c: r["rate_pct"] for c, r in _json("logement/taux_logements_sociaux_sru_2024.json.gz")["communes"].items()}
    rp = {c: r["rp"] for c, r in _json("insee/rp2021_logements_communes.json.gz")["communes"].items()}
    checked = 0
    for epci, members in communes.groupby("epci_code"):
        codes = list(members.index)
        if not all(c in sru and c in rp for c in codes) or len(codes) < 5:
            continue
        # a commune whose absorbed communes also have rows in the file has no single value (a rate of
        # several pieces is never averaged): such EPCI are left out of this check
        if any(math.isnan(_value(cube, "commune", c, "taux_logements_sociaux_sru", 2024)) for c in codes):
            continue
        naive = sum(sru[c] * rp[c] for c in codes) / sum(rp[c] for c in codes)
        assert _value(cube, "epci", epci, "taux_logements_sociaux_sru", 2024) == pytest.approx(naive), epci
        checked += 1
        if checked == 10:
            break
    assert checked == 10


def test_lovac_is_weighted_by_census_dwellings_and_never_summed(cube, communes):
    rates: dict[str, float] = {}
    with open(_mirror() / "logement" / "lovac_2025_communes.csv", encoding="utf-8") as fh:
        for row in csv.DictReader(fh, delimiter=";"):
            if row["taux_vacance_long_25_pct"]:
                rates[row["INSEE_C"]] = float(row["taux_vacance_long_25_pct"])
    log = {c: r["log"] for c, r in _json("insee/rp2021_logements_communes.json.gz")["communes"].items()}
    for epci, members in list(communes.groupby("epci_code"))[:300]:
        codes = [c for c in members.index if c in rates and c in log]
        if len(codes) != len(members) or len(codes) < 3:
            continue
        naive = sum(rates[c] * log[c] for c in codes) / sum(log[c] for c in codes)
        assert _value(cube, "epci", epci, "taux_vacance_longue_lovac", 2025) == pytest.approx(naive), epci
        assert naive < 100
        return
    pytest.fail("no EPCI with every commune's LOVAC rate published among the first 300")


def test_programme_members_counted_per_departement(cube, communes):
    doc = _json("anct/programmes_acv_pvd_ort.json")["communes"]
    pvd = [c for c, r in doc.items() if r.get("pvd") and c in communes.index]
    assert len(pvd) == 1_646  # every PVD commune is a current commune
    deps = pd.Series([communes.loc[c, "departement_code"] for c in pvd]).value_counts()
    for dep, n in deps.head(5).items():
        assert _value(cube, "departement", dep, "communes_petites_villes_de_demain", 2026) == n


# --------------------------------------------------------------------------- INVENTED frames: how sources combine


def _tiny_bundle(tmp_path: Path) -> None:
    """INVENTED TEST DATA: a two-commune bundle."""
    pd.DataFrame({"level": ["commune", "commune"], "code": ["01001", "01002"]}).to_parquet(tmp_path / "territories.parquet")
    pd.DataFrame({"level": ["commune"] * 2, "code": ["01001", "01002"], "census_year": [2021] * 2,
                  "population": [100, 200], "source": ["test"] * 2, "flag": [None, None]}).to_parquet(
        tmp_path / "population.parquet")
    pd.DataFrame({"code": ["01001", "01002"], "vintage": [2025] * 2, "type": ["commune-actuelle"] * 2,
                  "current_code": ["01001", "01002"], "event": [None, None], "note": [None, None]}).to_parquet(
        tmp_path / "code_history.parquet")


def _frame(variable: str, year: int, values: dict[str, float]) -> pd.DataFrame:
    return pd.DataFrame({"commune_code": list(values), "year": [year] * len(values), "variable": [variable] * len(values),
                         "value": list(values.values())})


def test_census_years_add_up_and_the_declared_source_wins(tmp_path):
    from planeco_kernel.indicators.catalogue import load_catalogue
    from planeco_kernel.indicators.components import SourceStatus, assemble

    _tiny_bundle(tmp_path)
    cat = load_catalogue()
    assert cat.components["logements"].sources == ("insee_rp", "insee_rp_logement", "insee_comparateur")
    frames = {"insee_rp_logement": pd.concat([_frame("logements", 2021, {"01001": 70.0, "01002": 80.0}),
                                              _frame("logements", 2018, {"01001": 1.0, "01002": 1.0})]),
              "insee_rp": _frame("logements", 2018, {"01001": 60.0, "01002": 75.0})}
    comps = assemble(tmp_path, cat, frames=frames, status={s: SourceStatus(True, "") for s in frames})
    arr = comps.values["logements"]
    assert arr[:, comps.year_index(2021)].tolist() == [70.0, 80.0]   # the 2021 census completes the series
    assert arr[:, comps.year_index(2018)].tolist() == [60.0, 75.0]   # the declared source wins its years


def test_inventory_absent_commune_is_zero_but_a_rate_stays_missing(tmp_path):
    from planeco_kernel.indicators.catalogue import load_catalogue
    from planeco_kernel.indicators.components import SourceStatus, assemble

    _tiny_bundle(tmp_path)
    cat = load_catalogue()
    frames = {"catnat": pd.concat([_frame("catnat_arretes", 2025, {"01001": 3.0}),
                                   _frame("catnat_derniere_annee", 2025, {"01001": 2019.0})]),
              "sru": _frame("taux_logements_sociaux_sru_pct", 2024, {"01001": 12.0})}
    comps = assemble(tmp_path, cat, frames=frames, status={s: SourceStatus(True, "") for s in frames})
    assert comps.values["catnat_arretes"][:, comps.year_index(2025)].tolist() == [3.0, 0.0]
    last = comps.values["catnat_derniere_annee"][:, comps.year_index(2025)]
    assert last[0] == 2019.0 and math.isnan(last[1])
    sru = comps.values["taux_logements_sociaux_sru_pct"][:, comps.year_index(2024)]
    assert sru[0] == 12.0 and math.isnan(sru[1])


# --------------------------------------------------------------------------- a wrong total stops the build


def test_a_published_total_mismatch_stops_the_source_step(bundle_dir, tmp_path, monkeypatch):
    """INVENTED file in an otherwise empty mirror: Sit@del with 10 dwellings authorised in 2022. The
    source step raises instead of skipping the source, so `planeco data build` fails and keeps the
    previous bundle (the build writes into a temporary directory and swaps only at the end)."""
    import shutil

    from planeco_kernel.bundle.sources_step import build_sources
    from planeco_kernel.sources import catalog
    from planeco_kernel.sources.gazetteer import PublishedTotalError

    out = tmp_path / "bundle"
    out.mkdir()
    for name in ("territories.parquet", "population.parquet", "code_history.parquet", "manifest.json"):
        shutil.copy(bundle_dir / name, out / name)
    (out / "cog").mkdir()
    shutil.copy(bundle_dir / "cog" / "communes.parquet", out / "cog" / "communes.parquet")
    mirror = tmp_path / "mirror" / "sdes"
    mirror.mkdir(parents=True)
    doc = {"meta": {}, "communes": {"01001": {"y0": 2022, "a": [10], "s": [-1], "c": [2]}}}
    (mirror / "sitadel_logements_communes_2013_2025.json.gz").write_bytes(gzip.compress(json.dumps(doc).encode()))
    monkeypatch.setenv("PLANECO_OFFLINE", "1")
    monkeypatch.setenv("PLANECO_CACHE", str(tmp_path / "cache"))
    # the declared sha256 would refuse this file first (also a stop); let the totals speak here
    monkeypatch.setattr(catalog, "declared_identity", lambda key: None)
    from planeco_kernel.sources import identity

    monkeypatch.setattr(identity, "declared_identity", lambda key: None)
    with pytest.raises(PublishedTotalError, match="published total is 34,746"):
        build_sources(out, tmp_path / "mirror")
