"""Parsers of @etalab/decoupage-administratif, on invented fixtures, and facts of the real packages."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from planeco_kernel.bundle import schema
from planeco_kernel.errors import SchemaError
from planeco_kernel.sources import etalab

from _bundle_helpers import cog_fixture, fixture_tables


def _v(i: int) -> etalab.CogVersion:
    return etalab.CogVersion.from_registry(cog_fixture().VERSIONS[i])


def test_parse_communes_excludes_com_and_types_columns():
    df = etalab.parse_communes(cog_fixture().V2025["communes"], _v(0))
    assert "97501" not in set(df["code"])
    assert len(df) == 6
    schema.validate(df, "cog_communes")
    row = df.set_index("code").loc["99010"]
    assert row["anciens_codes"] == ["99011"] and row["population"] == 300 and row["census_year"] == 2021
    assert df.set_index("code").loc["99011", "chef_lieu"] == "99010"


def test_parse_epci_members_and_census_year():
    e, m = etalab.parse_epci(cog_fixture().V2025["epci"], _v(0))
    schema.validate(e, "cog_epci")
    schema.validate(m, "cog_epci_members")
    assert e.set_index("siren").loc["200000001", "members_count"] == 3
    assert set(m["census_year"]) == {2020}


@pytest.mark.parametrize("code, expected", [("97611", 2017), ("01001", 2022)])
def test_mayotte_gets_its_2017_census(code, expected):
    recs = [{"code": code, "nom": "x", "type": "commune-actuelle", "departement": code[:3] if code.startswith("97") else code[:2],
             "region": "06", "zone": "drom", "population": 5}]
    df = etalab.parse_communes(recs, _v(1))
    assert df["census_year"].iloc[0] == expected


def test_departements_and_regions_without_com():
    d = etalab.parse_departements(cog_fixture().V2025["departements"], _v(0))
    r = etalab.parse_regions(cog_fixture().V2025["regions"], _v(0))
    assert list(d["code"]) == ["99"] and list(r["code"]) == ["98"]


def test_missing_key_is_a_clear_error():
    with pytest.raises(SchemaError, match=r"communes.json@0.0.1: missing keys \['type'\]"):
        etalab.parse_communes([{"code": "99001", "nom": "x"}], _v(0))


def test_attach_epci():
    communes, _ = fixture_tables()
    s = communes.set_index(["vintage", "code", "type"])["epci_siren"]
    assert s.loc[(2026, "99011", "commune-actuelle")] == "200000001"
    assert pd.isna(s.loc[(2026, "99020", "commune-actuelle")])


def test_read_package_missing_file(tmp_path):
    import tarfile

    tgz = tmp_path / "p.tgz"
    with tarfile.open(tgz, "w:gz"):
        pass
    with pytest.raises(SchemaError, match="communes.json is missing"):
        etalab.read_package(tgz)


# --- facts of the real packages (need the npm tarballs: fetched once, then cached) ---------

@pytest.fixture(scope="module")
def real():
    arts = etalab.fetch_versions()
    out = {}
    for v in etalab.registry_versions():
        out[v.version] = etalab.read_package(arts[v.version].path)
    return out


def _pops(raw, key="communes.json"):
    if key == "communes.json":
        return {r["code"]: r.get("population") for r in raw[key] if r["type"] == "commune-actuelle"}
    return {m["code"]: m["populationMunicipale"] for e in raw[key] for m in e["membres"]}


@pytest.mark.bundle
def test_real_epci_json_6_0_0_identical_to_5_3_0(real):
    assert json.dumps(real["6.0.0"]["epci.json"]) == json.dumps(real["5.3.0"]["epci.json"])
    assert _pops(real["6.0.0"]) == _pops(real["5.3.0"])  # 2023 census in both


@pytest.mark.bundle
@pytest.mark.parametrize("epci_version, communes_version", [
    ("2.3.1", "1.1.1"),   # 2019
    ("3.1.1", "3.1.1"),   # 2020: 3.1.1 updated epci.json but not communes.json (both 2020)
    ("5.3.0", "4.1.0"),   # 2022
])
def test_real_epci_member_census_year_matches_a_communes_file(real, epci_version, communes_version):
    """The registry's epci_census_year is checked against the data: epci.json of a version carries
    the census of a communes.json (usually the previous version's — a one-year lag — except 3.1.1)."""
    a, b = _pops(real[epci_version], "epci.json"), _pops(real[communes_version])
    common = [c for c in a if c in b and not c.startswith("976")]
    same = sum(a[c] == b[c] for c in common) / len(common)
    assert same > 0.99, same
    reg = {v.version: v for v in etalab.registry_versions()}
    assert reg[epci_version].epci_census_year == reg[communes_version].census_year


@pytest.mark.bundle
def test_real_epci_json_3_1_1_is_not_the_2019_census(real):
    """3.1.1's epci.json differs from the 2019 figures (communes.json@1.1.1) for most communes."""
    a, b = _pops(real["3.1.1"], "epci.json"), _pops(real["1.1.1"])
    common = [c for c in a if c in b]
    assert sum(a[c] == b[c] for c in common) / len(common) < 0.5


@pytest.mark.bundle
def test_real_3_1_1_population_not_updated(real):
    a, b = _pops(real["3.1.1"]), _pops(real["2.3.1"])
    common = [c for c in a if c in b]
    assert sum(a[c] == b[c] for c in common) / len(common) > 0.999


@pytest.mark.bundle
def test_real_mayotte_2017_everywhere(real):
    values = {v: _pops(raw)["97611"] for v, raw in real.items()}
    assert len(set(values.values())) == 1, values
