"""The cube: vectorised roll-ups cross-checked against a deliberately naive reference (plain
pandas loops) on the real bundle, official values, unavailable sources, and the group index."""

from __future__ import annotations

import csv
import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from planeco_kernel.indicators.rollup import GroupIndex

# --------------------------------------------------------------------------- group index (tiny arrays)


@pytest.mark.parametrize(
    ("parents", "codes", "values", "expected"),
    [
        (["a", "b", "a", None], ["a", "b", "c"], [1, 2, 3, 4], [4, 2, 0]),
        ([None, None], ["a"], [1, 2], [0]),
        (["b", "b", "b"], ["a", "b"], [1.5, 2.5, 3.0], [0, 7.0]),
    ],
)
def test_group_index_sum(parents, codes, values, expected):
    g = GroupIndex.from_codes(np.array(parents, dtype=object), np.array(codes, dtype=object))
    got = g.sum(np.asarray(values, dtype=float)[:, None])[:, 0]
    assert got.tolist() == expected


# --------------------------------------------------------------------------- naive reference


SECRET_SHARES = {"taux_pauvrete", "part_menages_imposes", "part_prestations_sociales", "part_pensions_retraites"}


def naive_rollup(cube, indicator_id: str, level: str) -> pd.DataFrame:
    """Plain pandas loops: for each territory of ``level``, loop over its member communes and years,
    add up numerators and denominators of the communes that have both, then take the ratio.

    Returns a frame indexed by territory code, one column per year.
    """
    from planeco_kernel.indicators.cube import (
        MIN_ESTIMATE_COVERAGE,
        PARENT_COLUMNS,
        SECRET_SHARE_MIN_COVERAGE,
        STRICT_MIN_COVERAGE,
    )
    from planeco_kernel.indicators.formula import evaluate

    ind = cube.catalogue.indicators[indicator_id]
    comps = cube.components
    if comps.flags:  # split groups: a flagged holder's value covers its flagged, missing members
        from dataclasses import replace

        pos = {c: i for i, c in enumerate(comps.codes)}
        values = {}
        for name in ind.components:
            arr = comps.values[name].copy()
            flag = comps.flags.get(name)
            for group in comps.split_groups if flag is not None else []:
                for j in range(len(comps.years)):
                    members = [pos[c] for c in group]
                    if any(flag[i, j] and not math.isnan(arr[i, j]) for i in members):
                        for i in members:
                            if flag[i, j] and math.isnan(arr[i, j]):
                                arr[i, j] = 0.0
            values[name] = arr
        comps = replace(comps, values=values)
    num, den = evaluate(ind, comps)
    t = cube.territories
    communes = t[t["level"] == "commune"].set_index("code")
    scope = np.ones(len(comps.codes), dtype=bool)
    for c in ind.components:
        s = cube.catalogue.components[c].source
        if s in comps.scope:
            scope &= comps.scope[s]
    rows = {}
    parent_of = communes[PARENT_COLUMNS[level]] if level != "france" else pd.Series("FR", index=communes.index)
    members: dict[str, list[int]] = {}
    for i, code in enumerate(comps.codes):
        p = parent_of.get(code)
        if isinstance(p, str):
            members.setdefault(p, []).append(i)
    weights = [0.0 if pd.isna(w) else float(w) for w in communes["population"].reindex(comps.codes)]
    in_scope = scope.tolist()
    num_cols = [num[:, j].tolist() for j in range(len(comps.years))]
    den_cols = [den[:, j].tolist() if den is not None else None for j in range(len(comps.years))]
    for parent, idx in members.items():
        out = {}
        for j, year in enumerate(comps.years):
            col_num, col_den = num_cols[j], den_cols[j]
            s_num = s_den = w_valid = w_tot = 0.0
            for i in idx:
                if not in_scope[i]:
                    continue
                w = weights[i]
                w_tot += w
                a = col_num[i]
                b = col_den[i] if col_den is not None else 0.0
                if math.isnan(a) or math.isnan(b):
                    continue
                s_num += a
                s_den += b
                w_valid += w
            cover = w_valid / w_tot if w_tot > 0 else math.nan
            threshold = STRICT_MIN_COVERAGE if ind.coverage == "strict" else MIN_ESTIMATE_COVERAGE
            if indicator_id in SECRET_SHARES:
                threshold = SECRET_SHARE_MIN_COVERAGE
            if math.isnan(cover) or cover < threshold:
                out[year] = math.nan
            elif ind.kind == "sum":
                out[year] = s_num
            elif ind.kind == "ratio":
                out[year] = ind.scale * s_num / s_den if s_den != 0 else math.nan
            else:
                out[year] = ((s_num / s_den) ** (1 / ind.growth_years) - 1) * 100 if s_den else math.nan
        rows[parent] = out
    return pd.DataFrame.from_dict(rows, orient="index")


@pytest.fixture(scope="module")
def cube(bundle_dir):
    from planeco_kernel.indicators.cube import load_cube

    return load_cube(bundle_dir)


CHECKED = ["population", "croissance_population_annuelle_5ans", "taux_pauvrete", "part_menages_imposes",
           "taille_menages_fiscaux", "densite_population"]


@pytest.mark.bundle
@pytest.mark.parametrize(("indicator_id", "level"), [
    *((i, lv) for i in CHECKED for lv in ("departement", "france")),
    ("population", "epci"), ("taux_pauvrete", "epci"), ("taux_pauvrete", "scot"), ("croissance_population_annuelle_5ans", "region"),
])
def test_fast_rollup_matches_naive_reference(cube, indicator_id, level):
    if not cube.status[indicator_id].available:
        pytest.skip(f"{indicator_id} unavailable in this bundle: {cube.status[indicator_id].reason}")
    ref = naive_rollup(cube, indicator_id, level)
    ds = cube.dataset(level)
    fast = ds[indicator_id].to_pandas()
    fast.columns = [int(y) for y in fast.columns]
    fast = fast.loc[ref.index, ref.columns]
    if level == "epci" and indicator_id in SECRET_SHARES:  # official values: checked in test_official_shares
        cover = ds[f"{indicator_id}__coverage"].to_pandas()
        cover.columns = [int(y) for y in cover.columns]
        official = (cover.loc[ref.index, ref.columns] == 1.0).to_numpy()
        fast = fast.where(~official, ref)
    np.testing.assert_allclose(fast.to_numpy(), ref.to_numpy(), rtol=1e-9, equal_nan=True)
    if indicator_id not in SECRET_SHARES or level == "epci":  # France's coverage is 0,73: not shown
        assert np.isfinite(fast.to_numpy()).any()


@pytest.mark.bundle
def test_real_values(cube, bundle_dir):
    """Numbers checked against the files themselves."""
    fr = cube.dataset("france")
    pop = pd.read_parquet(bundle_dir / "population.parquet")
    communes = pop[(pop["level"] == "commune") & (pop["census_year"] == 2023)]["population"].sum()
    assert fr["population"].sel(territory="FR", year=2023).item() == communes
    # Ambérieu-en-Bugey in the Filosofi 2016 file: TP6016 = 17.0, MED16 = 19721
    com = cube.dataset("commune")
    assert com["taux_pauvrete"].sel(territory="01004", year=2016).item() == pytest.approx(17.0)
    assert com["niveau_vie_median"].sel(territory="01004", year=2016).item() == pytest.approx(19721.0)
    assert fr["population"].attrs["source"].startswith("Populations municipales")
    assert fr["taux_pauvrete"].attrs["units"] == "%"


@pytest.mark.bundle
def test_medians_are_official_or_unavailable(cube):
    """EPCI medians are Filosofi's EPCI values where the perimeter is unchanged; never computed above."""
    from planeco_kernel import config

    mirror = config.mirror_dir()
    if mirror is None or not (mirror / "insee" / "filosofi_epci_2016.csv").is_file():
        pytest.skip("no Filosofi EPCI file in the mirror")
    with open(mirror / "insee" / "filosofi_epci_2016.csv", encoding="utf-8") as f:
        official = {r["CODGEO"]: float(r["MED16"]) for r in csv.DictReader(f) if r["MED16"]}
    epci = cube.dataset("epci")["niveau_vie_median"].sel(year=2016).to_series().dropna()
    assert len(epci) > 300
    for code, value in epci.items():
        assert value == pytest.approx(official[code])
    for level in ("scot", "departement", "region", "france"):
        assert cube.dataset(level)["niveau_vie_median"].isnull().all()


@pytest.mark.bundle
def test_unavailable_sources_are_reported_not_filled(cube):
    for iid, reason in cube.unavailable().items():
        assert cube.dataset("commune")[iid].isnull().all()
        assert cube.dataset("france")[iid].attrs["status"] == "indisponible"
        assert "planeco data build" in reason, (iid, reason)


@pytest.mark.bundle
def test_density_unavailable_without_geometry(bundle_dir, tmp_path):
    """Without geometry/communes.parquet the density indicators say why, instead of a value."""
    from planeco_kernel.indicators.components import assemble
    from planeco_kernel.indicators.cube import _territories, build_cube

    for name in ("territories.parquet", "population.parquet", "code_history.parquet", "manifest.json"):
        shutil.copy(bundle_dir / name, tmp_path / name)
    comps = assemble(Path(tmp_path), frames={}, status={})
    cube = build_cube(comps, _territories(Path(tmp_path)))
    assert cube.status["population"].available
    assert not cube.status["densite_population"].available
    assert "commune_geometry" in cube.status["densite_population"].reason
    assert cube.dataset("france")["densite_population"].isnull().all()


@pytest.mark.bundle
def test_components_cache_round_trip(cube, tmp_path):
    from planeco_kernel.indicators.components import Components

    path = tmp_path / "c.parquet"
    cube.components.to_parquet(path)
    back = Components.from_parquet(path)
    assert back.years == cube.components.years
    assert list(back.codes) == list(cube.components.codes)
    for k, v in cube.components.values.items():
        np.testing.assert_array_equal(back.values[k], v)
    for k, v in cube.components.scope.items():
        np.testing.assert_array_equal(back.scope[k], v)
    assert set(back.official) == set(cube.components.official)


# INVENTED TEST DATA: a commune published both as a whole (69123) and by arrondissement
# (69381, 69382), as INSEE Filosofi does for Paris, Lyon and Marseille; and a merged commune.
_PLM = pd.DataFrame({
    "commune_code": ["69123", "69381", "69382", "69123", "69381", "69382", "01015", "01340"],
    "year": [2016] * 8,
    "variable": ["menages"] * 3 + ["mediane"] * 3 + ["menages"] * 2,
    "value": [100.0, 40.0, 60.0, 22_000.0, 21_000.0, 23_000.0, 10.0, 5.0],
})
_MAP = pd.Series({"69381": "69123", "69382": "69123", "01340": "01015"})
_CURRENT = pd.Index(["69123", "01015"])


@pytest.mark.parametrize(("rows", "expected_menages", "expected_mediane"), [
    (slice(None), 100.0, 22_000.0),                        # whole commune present: arrondissements dropped
    ([1, 2, 4, 5, 6, 7], 100.0, float("nan")),             # by arrondissement only: counts summed, median unknown
])
def test_arrondissements_are_not_counted_twice(rows, expected_menages, expected_mediane):
    from planeco_kernel.indicators.components import to_current_geography

    tidy = _PLM.iloc[rows] if isinstance(rows, list) else _PLM
    wide, unmatched = to_current_geography(tidy, _MAP, _CURRENT, {"menages"}, frozenset({"69381", "69382"}))
    assert unmatched == []
    assert wide.loc["69123", ("menages", 2016)] == expected_menages
    got = wide.loc["69123", ("mediane", 2016)]
    assert (math.isnan(got) and math.isnan(expected_mediane)) or got == expected_mediane
    assert wide.loc["01015", ("menages", 2016)] == 15.0    # merged communes still summed


@pytest.mark.bundle
def test_paris_lyon_marseille_have_their_official_filosofi_values(cube):
    """Filosofi 2016 gives 69123 Lyon a median of 22 806 € and 225 617 fiscal households."""
    ds = cube["commune"]
    for code, median in (("69123", 22_806.0), ("75056", 26_808.0), ("13055", 18_248.0)):
        assert float(ds["niveau_vie_median"].sel(territory=code, year=2016)) == pytest.approx(median)


# INVENTED TEST DATA: 74010 absorbs 74093 in 2016 (both have rows in 2015, only 74010 in 2016);
# 49999 is a commune created after 2015 (a row in 2016 only).
_NEW = pd.DataFrame({
    "commune_code": ["74010", "74093", "74010", "49999", "74010", "74093", "74010"],
    "year": [2015, 2015, 2016, 2016, 2015, 2015, 2016],
    "variable": ["menages"] * 4 + ["mediane"] * 3,
    "value": [100.0, 20.0, 130.0, 7.0, 21_000.0, 20_000.0, 22_500.0],
})


def test_each_year_is_mapped_with_its_own_codes():
    """A code absent from one vintage is no missing piece of that vintage."""
    from planeco_kernel.indicators.components import to_current_geography

    wide, unmatched = to_current_geography(
        _NEW, pd.Series({"74093": "74010"}), pd.Index(["74010", "49999"]), {"menages"})
    assert unmatched == []
    assert wide.loc["74010", ("menages", 2015)] == 120.0           # two pieces summed
    assert wide.loc["74010", ("menages", 2016)] == 130.0           # direct 2016 row kept
    assert math.isnan(wide.loc["74010", ("mediane", 2015)])         # two pieces: no median
    assert wide.loc["74010", ("mediane", 2016)] == 22_500.0
    assert wide.loc["49999", ("menages", 2016)] == 7.0             # created after 2015: kept
    assert math.isnan(wide.loc["49999", ("menages", 2015)])


@pytest.mark.bundle
def test_filosofi_households_match_the_file(cube, bundle_dir):
    """France's fiscal households equal the file's total (without the arrondissements, published
    besides their commune) within 0.3 % — the gap is merged communes with a secret piece — and
    Annecy (74010, created in 2017) keeps its direct 2016 row."""
    path = bundle_dir / "sources" / "filosofi.parquet"
    if not path.is_file():
        pytest.skip("Filosofi absent from this bundle")
    t = pd.read_parquet(path)
    hist = pd.read_parquet(bundle_dir / "code_history.parquet", columns=["code", "type"])
    arrondissements = set(hist.loc[hist["type"] == "arrondissement-municipal", "code"].astype(str))
    ds = cube["commune"]
    assert float(ds["niveau_vie_median"].sel(territory="74010", year=2016)) == pytest.approx(23_769.6)
    for year in (2015, 2016):
        rows = t[(t["variable"] == "nb_menages_fiscaux") & (t["year"] == year)]
        expected = rows.loc[~rows["commune_code"].isin(arrondissements), "value"].sum()
        got = np.nansum(cube.components.values["nb_menages_fiscaux"][:, cube.components.year_index(year)])
        assert got == pytest.approx(expected, rel=3e-3)  # the bug lost 1.6 % in 2016
    assert float(ds["nombre_menages_fiscaux"].sel(territory="74010", year=2016)) == 57_838.0


@pytest.mark.parametrize(("group", "expected"), [
    (["15141", "15031", "15035"], ["15141", "15031", "15035"]),
    (["60054", "60694"], ["60054", "60694"]),
    (["15141", "99999"], []),  # a member that is no current commune: no group left
    (None, []),
])
def test_split_groups_from_code_history(group, expected):
    """Split groups are the structured ``split_group`` column of code_history (issue 14)."""
    from planeco_kernel.indicators.components import split_groups_of

    code = group[0] if group else "01001"
    hist = pd.DataFrame({"code": [code], "event": ["split"], "split_group": [group],
                         "note": ["couvrait aussi 15031 (Celles), redevenues communes"]})
    current = pd.Index(["15141", "15031", "15035", "60054", "60694", "01001"])
    assert split_groups_of(hist, current) == ([expected] if expected else [])


def test_split_groups_never_read_from_the_note():
    from planeco_kernel.indicators.components import split_groups_of

    hist = pd.DataFrame({"code": ["15141"], "event": ["split"], "note": [
        "En 2021, 15141 « Neussargues en Pinatelle » couvrait aussi 15031 (Celles), redevenues communes depuis."]})
    assert split_groups_of(hist, pd.Index(["15141", "15031"])) == []


@pytest.mark.bundle
@pytest.mark.parametrize(("commune", "epci", "indicator", "year"), [
    ("15141", "200066637", "croissance_population_annuelle_5ans", 2023),   # was −14,6 %/an
    ("85084", "200071918", "croissance_population_annuelle_5ans", 2023),   # was −5,4 %/an
    ("60694", "246000582", "croissance_population_annuelle_5ans", 2023),   # was −9,1 %/an
    ("85084", "200071918", "nombre_menages_fiscaux", 2016),                # old Essarts-en-Bocage
    ("15141", "200066637", "nombre_menages_fiscaux", 2016),                # covers 5 communes
    ("15141", "200066637", "densite_population", 2023),                    # contour covers the split-off communes
])
def test_split_communes_missing_at_commune_level_kept_above(cube, commune, epci, indicator, year):
    if commune not in set(cube.components.codes):
        pytest.skip(f"{commune} absent from this bundle")
    assert math.isnan(float(cube["commune"][indicator].sel(territory=commune, year=year)))
    assert not math.isnan(float(cube["epci"][indicator].sel(territory=epci, year=year)))


@pytest.mark.bundle
def test_split_group_population_is_summed_at_epci(cube, bundle_dir):
    """EPCI 200071918 in 2018: the holder 85084's value covers the recreated 85165 and 85212."""
    pop = pd.read_parquet(bundle_dir / "population.parquet")
    row = pop[(pop["level"] == "epci") & (pop["code"] == "200071918") & (pop["census_year"] == 2018)]
    if row.empty or pd.isna(row["population"].iloc[0]):
        pytest.skip("no EPCI population for 2018 in this bundle")
    got = float(cube["epci"]["population"].sel(territory="200071918", year=2018))
    assert got == float(row["population"].iloc[0])


@pytest.mark.bundle
@pytest.mark.parametrize(("indicator_id", "component"), [
    ("taux_pauvrete", "taux_pauvrete_pct"), ("part_menages_imposes", "part_menages_imposes_pct"),
    ("part_prestations_sociales", "part_prestations_sociales_pct"), ("part_pensions_retraites", "part_pensions_retraites_pct"),
])
def test_official_shares(cube, bundle_dir, indicator_id, component):
    """Secret-biased shares: EPCI with an unchanged perimeter show Filosofi's official value (the
    estimate over non-secret communes read 24,4 % for CA Évreux Portes de Normandie 200071454,
    official 15,9 %); estimates elsewhere stay within 1,5 point of the official value."""
    path = bundle_dir / "sources" / "filosofi_epci.parquet"
    if not path.is_file():
        pytest.skip("Filosofi EPCI file absent from this bundle")
    t = pd.read_parquet(path)
    off = t[(t["variable"] == component) & (t["year"] == 2016)].set_index("epci_siren")["value"]
    hh = t[(t["variable"] == "nb_menages_fiscaux") & (t["year"] == 2016)].set_index("epci_siren")["value"]
    ds = cube["epci"]
    got = ds[indicator_id].sel(year=2016).to_series()
    cover = ds[f"{indicator_id}__coverage"].sel(year=2016).to_series()
    comm = cube.territories[cube.territories["level"] == "commune"].set_index("code")["epci_code"]
    members = pd.Series(cube.components.values["nb_menages_fiscaux"][:, cube.components.year_index(2016)],
                        index=cube.components.codes).groupby(comm.reindex(cube.components.codes).to_numpy())
    same = (members.apply(lambda s: s.notna().all())
            & ((members.sum() - hh.reindex(members.sum().index)).abs() <= 0.005 * hh.reindex(members.sum().index)))
    unchanged = same[same].index.intersection(off.dropna().index)
    assert len(unchanged) > 500
    np.testing.assert_allclose(got.reindex(unchanged), off.reindex(unchanged))
    if indicator_id == "taux_pauvrete" and "200071454" in got.index:  # perimeter changed: no estimate
        assert math.isnan(got["200071454"]) or got["200071454"] == pytest.approx(15.9, abs=1.5)
    estimated = got[(cover < 1.0) & got.notna()].index.intersection(off.dropna().index)
    assert (got.reindex(estimated) - off.reindex(estimated)).abs().max() <= 1.5 if len(estimated) else True


def test_components_come_from_their_declared_source(tmp_path):
    """Two sources emit ``population_65_ans_plus``: only the catalogue's declared source counts."""
    from planeco_kernel.indicators.catalogue import load_catalogue
    from planeco_kernel.indicators.components import SourceStatus, assemble

    cat = load_catalogue()
    declared = cat.components["population_65_ans_plus"].source
    other = next(s for s in sorted({c.source for c in cat.components.values()}) if s not in (declared, "population", "geometry"))
    # INVENTED TEST DATA: a two-commune bundle
    pd.DataFrame({"level": ["commune", "commune"], "code": ["01001", "01002"]}).to_parquet(tmp_path / "territories.parquet")
    pd.DataFrame({"level": ["commune"] * 2, "code": ["01001", "01002"], "census_year": [2021] * 2,
                  "population": [100, 200], "source": ["test"] * 2, "flag": [None, None]}).to_parquet(
        tmp_path / "population.parquet")
    pd.DataFrame({"code": ["01001", "01002"], "vintage": [2025] * 2, "type": ["commune-actuelle"] * 2,
                  "current_code": ["01001", "01002"], "event": [None, None], "note": [None, None]}).to_parquet(
        tmp_path / "code_history.parquet")

    def tidy(value):
        return pd.DataFrame({"commune_code": ["01001", "01002"], "year": [2021] * 2,
                             "variable": ["population_65_ans_plus"] * 2, "value": [value, value]})

    frames = {other: tidy(999.0), declared: tidy(20.0)}
    comps = assemble(tmp_path, cat, frames=frames, status={s: SourceStatus(True, "") for s in frames})
    got = comps.values["population_65_ans_plus"][:, comps.year_index(2021)]
    assert got.tolist() == [20.0, 20.0]
    comps = assemble(tmp_path, cat, frames={other: tidy(999.0)}, status={other: SourceStatus(True, "")})
    assert "population_65_ans_plus" not in comps.values


@pytest.mark.bundle
def test_partial_population_is_marked(cube, bundle_dir):
    """Territory-years the population table flags ``partial`` (France 2018: islands without EPCI
    missing from epci.json) are marked ``population__partial`` in the cube; the others are not."""
    pop = pd.read_parquet(bundle_dir / "population.parquet")
    flagged = pop[(pop["level"] == "departement") | (pop["level"] == "france")]
    for level, code, year, flag in flagged[["level", "code", "census_year", "flag"]].itertuples(index=False):
        ds = cube[level]
        if "population__partial" not in ds or int(year) not in ds["year"].values:
            continue
        mark = float(ds["population__partial"].sel(territory=code, year=int(year)))
        assert mark == (1.0 if (not pd.isna(flag) and flag == "partial") and not math.isnan(float(ds["population"].sel(territory=code, year=int(year)))) else 0.0)


# --------------------------------------------------------------------------- fast paths (identical results)


def _reference_finish(ind, num, den):
    """The plain computation, with its temporaries (as the cube did before the in-place one)."""
    if ind.kind in ("sum", "median"):
        return num.copy()
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(den != 0, num / np.where(den == 0, 1.0, den), np.nan)
        if ind.denominator_rule == "positive":
            ratio = np.where(den > 0, ratio, np.nan)
        if ind.kind == "ratio":
            return ind.scale * ratio
        return (np.power(ratio, 1.0 / ind.growth_years) - 1.0) * 100.0


def test_finish_into_gives_the_plain_values():
    """The in-place finishing of commune arrays (no temporaries) equals the plain computation,
    bitwise, for every kind of indicator of the catalogue, in both memory layouts (INVENTED arrays
    with zeros, negatives and NaN)."""
    from planeco_kernel.indicators.catalogue import load_catalogue
    from planeco_kernel.indicators.cube import _finish, _finish_into

    rng = np.random.default_rng(4)
    num = rng.normal(50, 40, (400, 3))
    den = rng.normal(20, 30, (400, 3))
    num[::7] = np.nan
    den[::5] = 0.0
    den[::11] = np.nan
    seen = set()
    for ind in load_catalogue():
        key = (ind.kind, ind.denominator_rule, ind.scale)
        if key in seen:
            continue
        seen.add(key)
        d = None if ind.kind in ("sum", "median") else den
        expected = _reference_finish(ind, num, d)
        assert np.array_equal(_finish(ind, num, d), expected, equal_nan=True), key
        for layout in (np.empty((400, 3)), np.empty((3, 400)).T):  # commune-major and year-major
            _finish_into(ind, num, d, layout)
            assert np.array_equal(layout, expected, equal_nan=True), key
    assert {k[0] for k in seen} >= {"sum", "ratio", "growth"}


@pytest.mark.bundle
def test_building_leaves_the_components_untouched_and_is_deterministic(cube):
    """Formulas read the components through read-only views: a second build from the same components
    changes none of them and gives the same datasets."""
    import hashlib

    from planeco_kernel.indicators.cube import build_cube

    def digest(comps):
        return {k: hashlib.sha256(np.ascontiguousarray(v).tobytes()).hexdigest() for k, v in comps.values.items()}

    before = digest(cube.components)
    again = build_cube(cube.components, cube.territories, cube.catalogue)
    assert digest(cube.components) == before
    for level, ds in cube.datasets.items():
        for var in ds.data_vars:
            if var.endswith("__partial"):  # marks from the population table, which load_cube passes
                continue
            assert np.array_equal(ds[var].values, again[level][var].values, equal_nan=True), (level, var)


def test_code_map_holds_plain_strings():
    """The code map is read by ``isin``/``map`` over every source's rows: as Arrow-backed strings
    (pandas' default) those build one scalar per value, 20 s of the bundle build (INVENTED codes)."""
    from planeco_kernel.indicators.geography import current_code_map

    history = pd.DataFrame({"code": ["01001", "01002", "01003"], "vintage": [2024, 2024, 2025],
                            "type": ["commune-actuelle"] * 3, "current_code": ["01001", "01001", "01003"]})
    cog = pd.DataFrame({"vintage": [2025], "code": ["01003"], "type": ["commune-actuelle"], "anciens_codes": [["01009"]]})
    m = current_code_map(history, cog)
    assert m.dtype == object and m.index.dtype == object
    assert m.to_dict() == {"01001": "01001", "01002": "01001", "01003": "01003", "01009": "01003"}
