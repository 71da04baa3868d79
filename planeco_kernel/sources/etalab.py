"""COG and populations from the npm package ``@etalab/decoupage-administratif``.

One package version per COG vintage (2021…2026, pinned in ``registry.yaml``). This module
fetches the tarballs (:func:`fetch_versions`), reads the JSON files straight from them
(:func:`read_package`) and turns them into the ``cog_*`` tables of the bundle schema
(:func:`parse_communes`, :func:`parse_epci`, :func:`parse_departements`, :func:`parse_regions`).

Scope: communes of the départements (metropolitan France and the five DROM). The 94
communes of the collectivités d'outre-mer (``zone: "com"``, or ``collectiviteOutremer`` in
1.1.1) are left out: their populations come from local censuses of other years (ISPF, ISEE…),
they have no EPCI and no SCoT. Census years: ``census_year`` (communes.json) and
``epci_census_year`` (member figures of epci.json, one year behind) come from the registry;
Mayotte (département 976) has the 2017 census in every version and gets 2017.
"""

from __future__ import annotations

import json
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from planeco_kernel.errors import SchemaError

PACKAGE_FILES = ("communes.json", "epci.json", "departements.json", "regions.json")
MAYOTTE_DEPARTEMENT = "976"
MAYOTTE_CENSUS_YEAR = 2017
"""Mayotte's last exhaustive census: every package version carries its 2017 figures."""


@dataclass(frozen=True)
class CogVersion:
    """One pinned package version (an entry of ``registry.yaml``'s ``cog.versions``)."""

    version: str
    vintage: int
    census_year: int
    epci_census_year: int
    integrity: str

    @classmethod
    def from_registry(cls, entry: dict[str, Any]) -> CogVersion:
        return cls(str(entry["version"]), int(entry["cog"]), int(entry["census_year"]),
                   int(entry["epci_census_year"]), str(entry["integrity"]))


def registry_versions() -> list[CogVersion]:
    """The pinned versions, oldest vintage first."""
    from planeco_kernel.sources import registry

    return sorted((CogVersion.from_registry(e) for e in registry()["cog"]["versions"]), key=lambda v: v.vintage)


def fetch_versions(versions: list[CogVersion] | None = None, cache=None) -> dict[str, Any]:
    """Fetch (or find in the cache) every pinned tarball; return ``{version: Artifact}``."""
    from planeco_kernel.sources import fetch, registry

    package = registry()["cog"]["package"]
    return {v.version: fetch.npm_pack(package, v.version, integrity=v.integrity, cache=cache)
            for v in (versions or registry_versions())}


def read_package(tarball: Path) -> dict[str, Any]:
    """Read the JSON data files of one package tarball without extracting it.

    Raises
    ------
    SchemaError
        If a data file is missing from the archive.
    """
    out: dict[str, Any] = {}
    with tarfile.open(tarball, "r:gz") as tar:
        names = {Path(m.name).name: m for m in tar.getmembers() if m.name.startswith("package/data/")}
        for fname in PACKAGE_FILES:
            member = names.get(fname)
            if member is None:
                raise SchemaError(f"{tarball.name}: package/data/{fname} is missing from the npm archive.")
            fh = tar.extractfile(member)
            assert fh is not None
            out[fname] = json.load(fh)
    return out


def _is_com(rec: dict[str, Any]) -> bool:
    return rec.get("zone") == "com" or "collectiviteOutremer" in rec or not rec.get("departement")


def _require(records: list[dict[str, Any]], keys: tuple[str, ...], what: str) -> None:
    if not isinstance(records, list) or not records:
        raise SchemaError(f"{what}: expected a non-empty JSON list.")
    missing = sorted({k for r in records[:50] for k in keys if k not in r})
    if missing:
        raise SchemaError(f"{what}: missing keys {missing} (expected: {', '.join(keys)}).")


def parse_communes(records: list[dict[str, Any]], cog: CogVersion) -> pd.DataFrame:
    """``communes.json`` → ``cog_communes`` rows (communes of départements only)."""
    _require(records, ("code", "nom", "type"), f"communes.json@{cog.version}")
    rows = []
    for r in records:
        if _is_com(r):
            continue
        dep = r.get("departement")
        rows.append({
            "vintage": cog.vintage, "package_version": cog.version, "code": r["code"], "name": r["nom"],
            "type": r["type"], "departement_code": dep, "region_code": r.get("region"),
            "epci_siren": None, "chef_lieu": r.get("chefLieu") or r.get("commune"),
            "anciens_codes": list(r["anciensCodes"]) if r.get("anciensCodes") else None,
            "population": r.get("population"),
            "census_year": MAYOTTE_CENSUS_YEAR if dep == MAYOTTE_DEPARTEMENT else cog.census_year,
        })
    df = pd.DataFrame(rows)
    return _typed(df, {"vintage": "int16", "census_year": "int16", "population": "Int64"})


def parse_epci(records: list[dict[str, Any]], cog: CogVersion) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``epci.json`` → (``cog_epci``, ``cog_epci_members``) rows."""
    _require(records, ("code", "nom", "type", "membres"), f"epci.json@{cog.version}")
    epci, members = [], []
    for r in records:
        is_mayotte = any(m["code"].startswith(MAYOTTE_DEPARTEMENT) for m in r["membres"])
        year = MAYOTTE_CENSUS_YEAR if is_mayotte else cog.epci_census_year
        epci.append({
            "vintage": cog.vintage, "siren": r["code"], "name": r["nom"], "nature": r["type"],
            "mode_financement": r.get("modeFinancement"), "population": r.get("populationMunicipale"),
            "census_year": year, "members_count": len(r["membres"]),
        })
        for m in r["membres"]:
            members.append({"vintage": cog.vintage, "siren": r["code"], "commune_code": m["code"],
                            "population": m.get("populationMunicipale"), "census_year": year})
    e = _typed(pd.DataFrame(epci), {"vintage": "int16", "census_year": "int16", "population": "Int64",
                                    "members_count": "int32"})
    m = _typed(pd.DataFrame(members), {"vintage": "int16", "census_year": "int16", "population": "Int64"})
    return e, m


def parse_departements(records: list[dict[str, Any]], cog: CogVersion) -> pd.DataFrame:
    """``departements.json`` → ``cog_departements`` rows (départements only, no COM)."""
    _require(records, ("code", "nom", "region"), f"departements.json@{cog.version}")
    rows = [{"vintage": cog.vintage, "code": r["code"], "name": r["nom"], "region_code": r["region"],
             "chef_lieu": r.get("chefLieu")} for r in records if r.get("zone", "metro") != "com" and len(r["code"]) <= 3
            and r["region"] != r["code"]]
    return _typed(pd.DataFrame(rows), {"vintage": "int16"})


def parse_regions(records: list[dict[str, Any]], cog: CogVersion) -> pd.DataFrame:
    """``regions.json`` → ``cog_regions`` rows (régions only, no COM)."""
    _require(records, ("code", "nom"), f"regions.json@{cog.version}")
    rows = [{"vintage": cog.vintage, "code": r["code"], "name": r["nom"], "chef_lieu": r.get("chefLieu")}
            for r in records if r.get("zone", "metro") != "com" and len(r["code"]) == 2]
    return _typed(pd.DataFrame(rows), {"vintage": "int16"})


def attach_epci(communes: pd.DataFrame, members: pd.DataFrame) -> pd.DataFrame:
    """Fill ``epci_siren`` of the communes-actuelles from the same vintage's EPCI membership."""
    key = members.drop_duplicates(["vintage", "commune_code"]).set_index(["vintage", "commune_code"])["siren"]
    idx = pd.MultiIndex.from_arrays([communes["vintage"], communes["code"]])
    siren = pd.Series(key.reindex(idx).to_numpy(), index=communes.index)
    communes = communes.copy()
    communes["epci_siren"] = siren.where(communes["type"] == "commune-actuelle").astype("string")
    return communes


def _typed(df: pd.DataFrame, dtypes: dict[str, str]) -> pd.DataFrame:
    for col in df.columns:
        if col in dtypes:
            df[col] = df[col].astype(dtypes[col])
        elif col != "anciens_codes":
            df[col] = df[col].astype("string")
    return df
