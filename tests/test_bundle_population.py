"""Crosswalk, population series and code history on the invented fixture (test data, not real)."""

from __future__ import annotations

import pandas as pd
import pytest

from planeco_kernel.bundle.crosswalk import atoms, crosswalk
from planeco_kernel.bundle.history import code_history
from planeco_kernel.bundle.population import commune_population, population_table, rollup

from _bundle_helpers import fixture_tables


@pytest.fixture(scope="module")
def tables():
    return fixture_tables()


@pytest.fixture(scope="module")
def xw(tables):
    c, _ = tables
    return crosswalk(c[c["vintage"] == 2025], c[c["vintage"] == 2026])


@pytest.mark.parametrize("old, current, relation, role", [
    ("99001", "99001", "merged", "holder"),
    ("99002", "99001", "merged", "holder"),
    ("99010", "99010", "split", "holder"),
    ("99010", "99011", "split", "recreated"),
    ("99030", "99030", "direct", "holder"),
])
def test_crosswalk_relations(xw, old, current, relation, role):
    row = xw[(xw["old_code"] == old) & (xw["current_code"] == current)]
    assert list(row["relation"]) == [relation] and list(row["role"]) == [role]


def test_explicit_delegated_record_beats_stale_anciens_codes():
    """A commune déléguée's chefLieu wins over another commune's stale anciensCodes (cf. 55273)."""
    c = pd.DataFrame({"code": ["1", "2", "3"], "type": ["commune-actuelle", "commune-actuelle", "commune-associee"],
                      "anciens_codes": [["3"], None, None], "chef_lieu": [None, "", "2"]})
    assert atoms(c)["3"] == "2"


def test_irrelevant_anciens_codes_are_ignored():
    c = pd.DataFrame({"code": ["1"], "type": ["commune-actuelle"], "anciens_codes": [["7"]], "chef_lieu": [None]})
    assert "7" not in atoms(c, relevant={"1"})


def test_split_holder_is_largest_current_commune():
    old = pd.DataFrame({"code": ["1", "2"], "type": ["commune-actuelle", "commune-deleguee"],
                        "anciens_codes": [["2"], None], "chef_lieu": [None, "1"], "population": [10, None]})
    cur = pd.DataFrame({"code": ["1", "2"], "type": ["commune-actuelle"] * 2, "anciens_codes": [None, None],
                        "chef_lieu": [None, None], "population": pd.array([3, 7], dtype="Int64")})
    x = crosswalk(old, cur)
    assert x.loc[x["role"] == "holder", "current_code"].tolist() == ["2"]


@pytest.fixture(scope="module")
def series(tables):
    c, m = tables
    return commune_population(c, m, 2026, years=range(2020, 2023)).set_index(["code", "census_year"])


@pytest.mark.parametrize("code, year, population, flag, source", [
    # 2020: only epci.json@0.0.1 (vintage 2025 geography), carried onto the 2026 communes
    ("99001", 2020, 144, "merged_sum", "epci.json@0.0.1"),
    ("99010", 2020, 296, "split_unallocated", "epci.json@0.0.1"),
    ("99011", 2020, None, "split_recreated", "epci.json@0.0.1"),
    ("99020", 2020, None, "missing", "epci.json@0.0.1"),  # the island has no EPCI
    ("99030", 2020, 990, None, "epci.json@0.0.1"),
    # 2021: epci.json@0.0.2 is on the current geography (primary: the split is allocated) ...
    ("99010", 2021, 238, None, "epci.json@0.0.2"),
    ("99011", 2021, 67, None, "epci.json@0.0.2"),
    ("99001", 2021, 150, None, "epci.json@0.0.2"),
    # ... and the island, absent from it, comes from communes.json@0.0.1 (same census year)
    ("99020", 2021, 20, None, "communes.json@0.0.1"),
    # 2022: communes.json@0.0.2, current geography
    ("99011", 2022, 70, None, "communes.json@0.0.2"),
])
def test_commune_series(series, code, year, population, flag, source):
    row = series.loc[(code, year)]
    assert (pd.isna(row["population"]) if population is None else row["population"] == population)
    assert (pd.isna(row["flag"]) if flag is None else row["flag"] == flag)
    assert row["source"] == source


def test_without_current_geography_source_split_stays_unallocated(tables):
    c, m = tables
    s = commune_population(c, m[m["vintage"] == 2025], 2026, years=range(2021, 2022)).set_index("code")
    assert s.loc["99010", "population"] == 300 and s.loc["99010", "flag"] == "split_unallocated"
    assert pd.isna(s.loc["99011", "population"]) and s.loc["99011", "holder"] == "99010"
    assert s.loc["99001", "population"] == 150 and s.loc["99001", "flag"] == "merged_sum"


def test_rollup_no_double_count_and_flags(series):
    s = series.reset_index()
    parent = pd.Series({"99001": "A", "99010": "A", "99011": "A", "99020": "B", "99030": "B"})
    r = rollup(s, parent, "epci").set_index(["code", "census_year"])
    assert r.loc[("A", 2020), "population"] == 440  # 144 + 296; the recreated commune is covered
    assert pd.isna(r.loc[("A", 2020), "flag"])
    assert r.loc[("B", 2020), "flag"] == "partial" and r.loc[("B", 2020), "population"] == 990
    assert r.loc[("A", 2021), "population"] == 455
    # a recreated commune in another territory than its holder: missing there, unallocated at the holder's
    parent2 = parent.copy()
    parent2["99011"] = "C"
    r2 = rollup(s, parent2, "epci").set_index(["code", "census_year"])
    assert r2.loc[("C", 2020), "flag"] == "missing"
    assert r2.loc[("A", 2020), "flag"] == "split_unallocated"


def test_population_table_schema(series):
    from planeco_kernel.bundle import schema

    s = series.reset_index()
    t = population_table(s, {"france": pd.Series("FR", index=s["code"].unique())})
    schema.validate(t, "population")
    assert t[(t["level"] == "france") & (t["census_year"] == 2022)]["population"].item() == 160 + 240 + 70 + 21 + 1010


def test_code_history(tables):
    c, _ = tables
    cur = c[c["vintage"] == 2026]
    xw = {2025: crosswalk(c[c["vintage"] == 2025], cur)}
    h = code_history(c, xw, 2026).set_index(["code", "vintage"])
    assert h.loc[("99002", 2025), "current_code"] == "99001" and h.loc[("99002", 2025), "event"] == "merged"
    assert h.loc[("99011", 2025), "event"] == "recreated"
    assert h.loc[("99010", 2025), "event"] == "split"
    assert h.loc[("99001", 2025), "event"] == "merged"
    assert "99002" in h.loc[("99001", 2025), "note"]
    from planeco_kernel.bundle import schema

    schema.validate(h.reset_index(), "code_history")


def _republished_tables():
    """TEST DATA (invented): 2.0 publishes census 2020 on geography 2022 (communes 1 and 2);
    3.0 (geography 2023, 1 absorbed 2) re-publishes it without re-summing: 1 keeps its own 10.
    Its epci.json carries the right 2020 figures on the 2023 geography (15)."""
    def com(vintage, version, code, typ, anciens, chef, pop):
        return {"vintage": vintage, "package_version": version, "code": code, "name": code, "type": typ,
                "departement_code": "99", "region_code": "99", "epci_siren": "E", "chef_lieu": chef,
                "anciens_codes": anciens, "population": pop, "census_year": 2020}
    c = pd.DataFrame([com(2022, "2.0", "1", "commune-actuelle", None, None, 10),
                      com(2022, "2.0", "2", "commune-actuelle", None, None, 5),
                      com(2022, "2.0", "3", "commune-actuelle", None, None, 7),
                      com(2023, "3.0", "1", "commune-actuelle", ["2"], None, 10),
                      com(2023, "3.0", "2", "commune-deleguee", None, "1", None),
                      com(2023, "3.0", "3", "commune-actuelle", None, None, 7)])
    c["population"] = c["population"].astype("Int64")
    m = pd.DataFrame({"vintage": [2023, 2023], "siren": ["E", "E"], "commune_code": ["1", "3"],
                      "population": pd.array([15, 7], dtype="Int64"), "census_year": [2020, 2020]})
    return c, m


def test_republication_on_changed_geography_is_dropped():
    from planeco_kernel.bundle.population import republications

    c, m = _republished_tables()
    audit: list = []
    s = commune_population(c, m, 2023, years=range(2020, 2021), audit=audit).set_index("code")
    assert s.loc["1", "population"] == 15 and s.loc["1", "source"] == "epci.json@3.0"
    assert audit == []  # epci.json@3.0 and communes.json@2.0 carried onto 2023 agree
    rep = republications(c, m, range(2020, 2021))
    assert [(r["source"], r["first_published_by"]) for r in rep] == [("communes.json@3.0", "communes.json@2.0")]


def test_disagreement_between_candidates_is_reported():
    c, m = _republished_tables()
    m = m.assign(population=pd.array([16, 7], dtype="Int64"))  # epci.json says 16, communes.json@2.0 sums to 15
    audit: list = []
    commune_population(c, m, 2023, years=range(2020, 2021), audit=audit)
    assert audit == [{"census_year": 2020, "sources": ["epci.json@3.0", "communes.json@2.0"], "communes": 1,
                      "difference": -1, "examples": [{"code": "1", "values": [16, 15]}]}]
