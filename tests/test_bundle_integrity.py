"""Integrity of the real data bundle (built by `planeco data build`): numbers checked against
their sources and against each other."""

from __future__ import annotations

import json

import pandas as pd
import pytest

pytestmark = pytest.mark.bundle

ISLANDS = {"22016", "29083", "29155", "85113"}


@pytest.fixture(scope="module")
def t(bundle_dir):
    return pd.read_parquet(bundle_dir / "territories.parquet")


@pytest.fixture(scope="module")
def pop(bundle_dir):
    return pd.read_parquet(bundle_dir / "population.parquet")


@pytest.fixture(scope="module")
def cog(bundle_dir):
    return {n: pd.read_parquet(bundle_dir / "cog" / f"{n}.parquet") for n in ("communes", "epci", "epci_members")}


def test_current_communes(t):
    com = t[t["level"] == "commune"]
    # COG 2026: 34,875 communes in the départements (34,969 with the 94 of the COM, left out)
    assert 34_800 <= len(com) <= 35_000
    assert com["code"].is_unique
    assert com["population"].notna().all()


def test_arrondissements_not_counted(t):
    com = t[t["level"] == "commune"].set_index("code")
    for arr_prefix, commune in (("751", "75056"), ("6938", "69123"), ("132", "13055")):
        assert commune in com.index and "arrondissements_municipaux" in com.loc[commune, "flags"]
    arr = [f"751{i:02d}" for i in range(1, 21)] + [f"6938{i}" for i in range(1, 10)] + [f"132{i:02d}" for i in range(1, 17)]
    assert not com.index.isin(arr).any()


def test_every_commune_in_exactly_one_epci_except_islands(t, cog):
    com = t[t["level"] == "commune"]
    assert set(com.loc[com["epci_code"].isna(), "code"]) == ISLANDS
    assert all("no_epci" in f for f in com.loc[com["code"].isin(ISLANDS), "flags"])
    m = cog["epci_members"]
    m = m[m["vintage"] == m["vintage"].max()]
    assert not m["commune_code"].duplicated().any()


def test_epci_rollup_equals_etalab_epci_json(pop, cog):
    """Census 2022: our EPCI sums of communes.json@4.1.0 values carried onto the 2026 geography
    equal etalab's EPCI totals of epci.json@6.0.0 (2022 figures, 2025 = 2026 geography).

    2022 is the one census year published both by commune (communes.json 4.1.0) and by EPCI on
    the current geography (epci.json 5.3.0/6.0.0): checking the communes.json path against it is
    not circular.
    """
    from planeco_kernel.bundle.crosswalk import crosswalk
    from planeco_kernel.bundle.population import Candidate, carry

    c = cog["communes"]
    old, cur = c[c["vintage"] == 2024], c[c["vintage"] == 2026]
    act = old[(old["type"] == "commune-actuelle") & (old["departement_code"] != "976")]
    cand = Candidate(2022, "communes.json", "4.1.0", 2024, act.set_index("code")["population"])
    carried = carry(cand, crosswalk(old, cur)).set_index("code")
    m = cog["epci_members"]
    m = m[m["vintage"] == 2026]
    sums = carried["population"].reindex(m["commune_code"]).groupby(m["siren"].to_numpy()).sum(min_count=1)
    e = cog["epci"]
    e = e[(e["vintage"] == 2026) & (e["census_year"] == 2022)].set_index("siren")["population"]
    diff = (sums.reindex(e.index) - e)
    assert len(e) > 1_200
    assert (diff == 0).all(), diff[diff != 0]
    # and the bundle's own EPCI series for 2022 agrees
    p = pop[(pop["level"] == "epci") & (pop["census_year"] == 2022)].set_index("code")["population"]
    assert (p.reindex(e.index) == e).all()


def test_scot_members_cover_their_epcis(bundle_dir, t):
    sm = pd.read_parquet(bundle_dir / "scot_members.parquet")
    com = t[t["level"] == "commune"]
    epci_members = sm[sm["member_level"] == "epci"]
    assert not epci_members["member_code"].duplicated().any()
    # every commune of a member EPCI is in that EPCI's SCoT, and only there
    g = com.dropna(subset=["epci_code"]).groupby("epci_code")["scot_code"]
    first, n = g.first(), g.nunique(dropna=False)
    expected = pd.Series(epci_members["scot_code"].to_numpy(), index=epci_members["member_code"].to_numpy())
    assert (first.reindex(expected.index) == expected).all()
    assert (n.reindex(expected.index) == 1).all()
    scots = t[t["level"] == "scot"].set_index("code")
    assert set(sm["scot_code"]) == set(scots.index)
    assert (scots["members_count"] == com.groupby("scot_code").size().reindex(scots.index)).all()
    assert 0.9 < com["scot_code"].notna().mean() <= 1


@pytest.mark.parametrize("level, parent_col", [("departement", "departement_code"), ("region", "region_code")])
def test_department_region_totals(t, level, parent_col):
    com = t[t["level"] == "commune"]
    agg = t[t["level"] == level].set_index("code")
    sums = com.groupby(parent_col)["population"].sum()
    assert (agg["population"] == sums.reindex(agg.index)).all()
    assert agg["population"].sum() == com["population"].sum()


def test_france_total_and_mayotte(t, pop):
    fr = t[(t["level"] == "france")].iloc[0]
    com = t[t["level"] == "commune"]
    assert fr["population"] == com["population"].sum()
    assert 67_000_000 < fr["population"] < 69_000_000
    mayotte = com[com["departement_code"] == "976"]
    assert len(mayotte) == 17 and (mayotte["census_year"] == 2017).all()
    assert "mixed_census_years" in fr["flags"]
    p = pop[(pop["level"] == "commune") & pop["code"].str.startswith("976")]
    assert p["population"].isna().all() and (p["flag"] == "not_censused").all()


def test_population_levels_consistent(pop):
    for year in range(2018, 2024):
        y = pop[pop["census_year"] == year]
        fr = y.loc[y["level"] == "france", "population"].item()
        assert y.loc[y["level"] == "departement", "population"].sum() == fr
        assert y.loc[y["level"] == "region", "population"].sum() == fr
        assert y.loc[y["level"] == "commune", "population"].sum() == fr


@pytest.mark.parametrize("code, year, flag", [
    ("15141", 2021, "split_unallocated"), ("15031", 2021, "split_recreated"),
    ("85084", 2020, "split_unallocated"), ("85165", 2020, "split_recreated"),
    ("15141", 2022, None),  # epci.json@6.0.0 has 2022 figures on the 2025 geography: allocated
])
def test_splits_explicit(pop, code, year, flag):
    row = pop[(pop["level"] == "commune") & (pop["code"] == code) & (pop["census_year"] == year)].iloc[0]
    assert (pd.isna(row["flag"]) if flag is None else row["flag"] == flag)


def test_code_history_resolves_old_codes(bundle_dir):
    h = pd.read_parquet(bundle_dir / "code_history.parquet").set_index(["code", "vintage"])
    assert h.loc[("15031", 2021), "event"] == "recreated"
    assert h.loc[("75101", 2026), "current_code"] == "75056"
    absorbed = h[(h["type"] == "commune-actuelle") & (h["event"] == "merged")].reset_index()
    assert len(absorbed) > 100 and absorbed["current_code"].notna().all()


def test_manifest(bundle_dir):
    m = json.loads((bundle_dir / "manifest.json").read_text(encoding="utf-8"))
    assert m["current_cog"] == 2026
    versions = {s["version"] for s in m["sources"] if s["name"] == "cog"}
    assert versions == {"1.1.1", "2.3.1", "3.1.1", "4.1.0", "5.3.0", "6.0.0"}
    assert m["scot"]["label"].startswith("structures porteuses de SCoT (BANATIC)") or m["scot_perimeters"]


@pytest.mark.parametrize("code, population_2020", [
    # communes nouvelles of 1 January 2023: the 2020 census re-summed on the 2023 geography
    # (epci.json@3.1.1), not communes.json@3.1.1's main-village figure (1 332 for Terval)
    ("85289", 2170), ("01138", 3426), ("02564", 871), ("09056", 454),
    ("16206", 2117), ("50272", 1664), ("51457", 657), ("71042", 439),
])
def test_communes_nouvelles_2023_population_2020(pop, code, population_2020):
    row = pop[(pop["level"] == "commune") & (pop["code"] == code) & (pop["census_year"] == 2020)]
    assert row["population"].tolist() == [population_2020]
    assert row["source"].tolist() == ["epci.json@3.1.1"]


def test_population_candidates_agree_and_republication_recorded(bundle_dir):
    m = json.loads((bundle_dir / "manifest.json").read_text())["population"]
    assert m["disagreements"] == []
    assert [(r["source"], r["first_published_by"]) for r in m["republications_dropped"]] == [
        ("communes.json@3.1.1", "communes.json@2.3.1")]


def test_republished_2020_figures_would_disagree_on_the_8_communes_nouvelles(cog):
    """The agreement check catches the defect: communes.json@3.1.1 kept, it differs from
    epci.json@3.1.1 on exactly the 8 communes nouvelles of 2023, by 3 278 inhabitants."""
    from planeco_kernel.bundle import population as popm
    from planeco_kernel.bundle.crosswalk import crosswalk

    c, m = cog["communes"], cog["epci_members"]
    cands = popm.candidates(c, m, range(2020, 2021), keep_republications=True)[2020]
    cur = c[c["vintage"] == 2026]
    codes = cur.loc[cur["type"] == "commune-actuelle", "code"]
    carried = [popm.carry(k, crosswalk(c[c["vintage"] == k.vintage], cur)).set_index("code").reindex(codes)
               for k in cands]
    d = {tuple(r["sources"]): r for r in popm.disagreements(2020, cands, carried)}
    r = d[("communes.json@3.1.1", "epci.json@3.1.1")]
    assert r["communes"] == 8 and r["difference"] == 3278


@pytest.mark.parametrize("epci, scot", [
    ("243400017", "243400017"),  # Montpellier Méditerranée Métropole: its own SCoT, not the SM du bassin de Thau
    ("243400819", "253403455"),  # CA Hérault-Méditerranée: SCoT du Biterrois
    ("240100750", "240100750"),  # CA du Pays de Gex: SCoT du Pays de Gex, not the PNR du Haut-Jura
    ("200042935", "200042935"),  # Haut-Bugey Agglomération: SCoT Haut-Bugey
    ("240100891", "240100891"),  # CC Terre Valserhône: SCoT du Pays Bellegardien
    ("200066355", "253403539"),  # CA Sète Agglopôle Méditerranée stays in the SCoT du bassin de Thau
])
def test_scot_corrections_applied(bundle_dir, epci, scot):
    m = pd.read_parquet(bundle_dir / "scot_members.parquet")
    assert m.loc[(m["member_level"] == "epci") & (m["member_code"] == epci), "scot_code"].tolist() == [scot]


def test_scot_corrections_and_suspects_in_manifest(bundle_dir):
    s = json.loads((bundle_dir / "manifest.json").read_text())["scot"]
    assert len(s["corrections"]) == 5 and all(c["applied"] and c["source"] for c in s["corrections"])
    assert "253901664" in {x["structure"] for x in s["suspects"]}
