"""INSEE census RP 2021, base communale logement — dwellings, main, secondary and vacant, per commune.

Source: INSEE, « Logement en 2021 », bases du recensement de la population, file 8202349
(columns ``P21_LOG``, ``P21_RP``, ``P21_RSECOCC``, ``P21_LOGVAC``), aggregated per commune by
bpineau/gazetteer and mirrored as ``insee/rp2021_logements_communes.json.gz`` (see
:mod:`planeco_kernel.sources.gazetteer`).

Layout (gzip JSON)::

    {"meta": {"data_year": 2021, "row_count_communes": 34955, ...},
     "communes": {"01001": {"log": 372, "rp": 341, "rsec": 14, "vac": 17, "vacancy_rate_pct": 4.68}}}

``log`` dwellings, ``rp`` main residences, ``rsec`` secondary and occasional dwellings, ``vac``
vacant dwellings (census counts, rounded to units here), ``vacancy_rate_pct`` = vac / log × 100.
The file holds Paris, Lyon and Marseille **both** as communes and as their 45 arrondissements:
the arrondissements are dropped when the commune's row is present (the move to the current
geography does it, :func:`planeco_kernel.indicators.components.to_current_geography`), so they
are counted once.

Facts checked on the mirrored file (this machine): 34,955 rows including the 45 arrondissements;
without them, 37,153,192 dwellings and 8.08 % vacant (the mirror README's totals); rp + rsec +
vac = log for every row to within 1 dwelling (rounding of the weighted counts); the published
rate × log / 100 equals vac to the rounding of the counts (1.5 dwelling) and of the rate (0.005 point).

Variables (tidy, year 2021): ``logements``, ``residences_principales``, ``residences_secondaires``,
``logements_vacants`` — the same names as the census components of the catalogue (2013 and 2018
from the comparateur, the dossier complet online), so the years form one series.

**Official file (online).** The publisher's own file is INSEE's « Logement en 2021 », base
communale (:data:`OFFICIAL_URL`, ``base-cc-logement-2021_csv.zip``), the very file the aggregate
was made from. The archive holds the data member ``base-cc-logement-2021.CSV`` and a variable
dictionary ``meta_base-cc-logement-2021.CSV``; the data member is ``;``-separated, one row per
commune and per arrondissement municipal, ``CODGEO`` then the census variables (``P21_LOG``,
``P21_RP``, ``P21_RSECOCC``, ``P21_LOGVAC``, ``P21_MAISON`` … and the 2015 / 2010 ones): weighted
counts with a decimal point (``372.387493855914``); a blank cell is missing, never 0.
:func:`parse_official` reads it strictly and returns the frame of :func:`parse`: counts rounded
half to even as the aggregate did (so the two paths give the same values and the same published
totals: 34,955 rows with dwellings, 37,153,192 dwellings without the arrondissements), the
vacancy rate computed from the unrounded counts.

This layout (URL, member names, columns, decimal point, the rows kept by the aggregate) is taken
from public code that reads the file — bpineau/gazetteer's ``sources/vacance/transform.go``, which
builds the mirrored aggregate from it, and other public readers (``sep=";"``, ``CODGEO``,
``P21_*``); it was **not compared with a downloaded file** (this machine is offline) and is tested
on the invented fixture ``tests/fixtures/sources/test-data_base-cc-logement-2021.csv``. A copy
placed in the mirror as ``insee/base-cc-logement-2021_csv.zip`` (or the CSV member alone under
that name) is read first.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from planeco_kernel.errors import SchemaError
from planeco_kernel.sources import base, gazetteer
from planeco_kernel.sources.base import Release

SOURCE_ID = "insee_rp_logement"
YEAR = 2021

RELEASE = Release(
    SOURCE_ID, YEAR, "https://www.insee.fr/fr/statistiques/8202349",
    "rp2021_logements_communes.json.gz", mirror_path="insee/rp2021_logements_communes.json.gz",
    extra={"mirror_only": True, "totals": {"logements_sans_arrondissements": 37153192, "communes": 34955}},
)

VARIABLES = {"log": "logements", "rp": "residences_principales", "rsec": "residences_secondaires", "vac": "logements_vacants"}
ARRONDISSEMENT_PREFIXES = ("751", "132", "6938")
"""Codes of the arrondissements municipaux: 75101–75120, 13201–13216, 69381–69389."""


OFFICIAL_URL = "https://www.insee.fr/fr/statistiques/fichier/8202349/base-cc-logement-2021_csv.zip"
OFFICIAL_RELEASE = Release(
    SOURCE_ID, YEAR, OFFICIAL_URL, "base-cc-logement-2021_csv.zip", mirror_path="insee/base-cc-logement-2021_csv.zip",
    member="base-cc-logement-20[0-9][0-9].[Cc][Ss][Vv]", sep=";", encodings=("utf-8-sig", "cp1252"),
    note="Insee, recensement 2021, base communale logement (fichier 8202349).",
    extra={"totals": RELEASE.extra["totals"]},
)
OFFICIAL_STEMS = {"log": "LOG", "rp": "RP", "rsec": "RSECOCC", "vac": "LOGVAC"}
"""Aggregate key -> census variable (the ``P<yy>_`` prefix is added for the release's year)."""


def is_arrondissement(codes: pd.Series) -> pd.Series:
    c = codes.astype(str)
    return ((c.str.startswith("751") & (c != "75056")) | c.str.match(r"^132(0[1-9]|1[0-6])$") | c.str.match(r"^6938[1-9]$"))


def parse(path: Path, rel: Release = RELEASE) -> pd.DataFrame:
    """Parse and check the file; return a wide frame ``commune_code, log, rp, rsec, vac, vacancy_rate_pct``."""
    name = rel.filename
    doc = gazetteer.read_json(path, name=name)
    rows = gazetteer.commune_map(doc, name=name)
    year = (doc.get("meta") or {}).get("data_year")
    if year != rel.vintage:
        raise SchemaError(f"{name}: meta.data_year is {year!r}, expected {rel.vintage}: another census vintage.")
    df = pd.DataFrame.from_dict(rows, orient="index")
    base.require_columns(df, [*VARIABLES, "vacancy_rate_pct"], name=name)
    df = df.rename_axis("commune_code").reset_index()
    df = base.to_numeric(df, [*VARIABLES, "vacancy_rate_pct"], name=name)
    base.check_ranges(df, {**{k: (0, 2_000_000) for k in VARIABLES}, "vacancy_rate_pct": (0, 100)}, name=name)
    parts = df[["rp", "rsec", "vac"]].sum(axis=1, min_count=3)
    gap = (parts - df["log"]).abs()
    if (gap > 2).any():
        raise SchemaError(f"{name}: rp + rsec + vac differs from log by more than 2 dwellings for "
                          f"{int((gap > 2).sum())} communes, e.g. {df.loc[gap > 2, 'commune_code'].head(3).tolist()}: "
                          "the columns changed meaning.")
    # The rate was computed on the weighted (unrounded) counts and rounded to 0.01 point.
    implied = df["vacancy_rate_pct"] * df["log"] / 100
    off = (implied - df["vac"]).abs() > 1.5 + 0.00005 * df["log"]
    if off.any():
        raise SchemaError(f"{name}: vacancy_rate_pct is not vac / log × 100 for {int(off.sum())} communes, e.g. "
                          f"{df.loc[off, 'commune_code'].head(3).tolist()}.")
    totals = rel.extra.get("totals") or {}
    gazetteer.check_published_total(len(df), totals.get("communes"), name=name, what="lignes (communes et arrondissements)")
    whole = df.loc[~is_arrondissement(df["commune_code"]), "log"].sum()
    gazetteer.check_published_total(whole, totals.get("logements_sans_arrondissements"), name=name,
                                    what="logements sans les arrondissements")
    return df


def parse_official(path: Path, rel: Release = OFFICIAL_RELEASE) -> pd.DataFrame:
    """Parse INSEE's base communale logement (see the module docstring); return the frame of :func:`parse`.

    Raises
    ------
    SchemaError
        A column is missing (another census year: ``P22_*``), a code or count is malformed, a
        code is repeated, or main + secondary + vacant differ from all dwellings; the message names
        the file (and its member) and the column.
    PublishedTotalError
        The file does not reproduce the published totals (``rel.extra["totals"]``).
    """
    yy = f"{rel.vintage % 100:02d}"
    cols = {k: f"P{yy}_{stem}" for k, stem in OFFICIAL_STEMS.items()}
    df = base.read_csv(path, rel, required=["CODGEO", *cols.values()], usecols=["CODGEO", *cols.values()])
    name = df.attrs["source_name"]
    df["commune_code"] = base.check_codes(df["CODGEO"], name=name, column="CODGEO")
    if df["commune_code"].duplicated().any():
        raise SchemaError(f"{name}: duplicated CODGEO, e.g. {df.loc[df['commune_code'].duplicated(), 'commune_code'].head(3).tolist()}")
    df = base.to_numeric(df, cols.values(), name=name)
    raw = pd.DataFrame({k: df[c] for k, c in cols.items()})
    base.check_ranges(raw.rename(columns=cols), {c: (0, 2_000_000) for c in cols.values()}, name=name)
    gap = (raw[["rp", "rsec", "vac"]].sum(axis=1, min_count=3) - raw["log"]).abs()
    if (gap > 1).any():
        raise SchemaError(f"{name}: {cols['rp']} + {cols['rsec']} + {cols['vac']} differs from {cols['log']} for "
                          f"{int((gap > 1).sum())} communes, e.g. {df.loc[gap > 1, 'commune_code'].head(3).tolist()}: "
                          "the columns changed meaning.")
    out = pd.DataFrame({"commune_code": df["commune_code"]})
    for k in VARIABLES:
        out[k] = np.round(raw[k])  # half to even, as the aggregate
    out["vacancy_rate_pct"] = np.round(raw["vac"] / raw["log"].where(raw["log"] > 0) * 100, 2)
    totals = rel.extra.get("totals") or {}
    kept = raw["log"].gt(0) & raw[list(VARIABLES)].notna().all(axis=1)  # the rows the aggregate keeps
    gazetteer.check_published_total(int(kept.sum()), totals.get("communes"), name=name,
                                    what="lignes avec des logements (communes et arrondissements)")
    whole = out.loc[~is_arrondissement(out["commune_code"]), "log"].sum()
    gazetteer.check_published_total(whole, totals.get("logements_sans_arrondissements"), name=name,
                                    what="logements sans les arrondissements")
    return out


def tidy(wide: pd.DataFrame, year: int = YEAR, *, name: str = RELEASE.filename) -> pd.DataFrame:
    long = base.melt(wide, key="commune_code", year=year, variables={k: (v, "logements") for k, v in VARIABLES.items()})
    return base.validate_tidy(long, name=name)


def load_official(*, mirror: str | Path | None = None, url: str | None = None, cache=None) -> pd.DataFrame:
    """INSEE's base communale logement 2021 (mirror copy, else insee.fr when online), checked and tidy as :func:`load`.

    Blank cells are dropped from the tidy frame (missing, never 0)."""
    path = base.obtain(OFFICIAL_RELEASE, mirror=mirror, url=url, cache=cache).path
    long = tidy(parse_official(path, OFFICIAL_RELEASE), name=OFFICIAL_RELEASE.filename)
    return long.dropna(subset=["value"]).reset_index(drop=True)


def load(*, mirror: str | Path | None = None, url: str | None = None, cache=None) -> pd.DataFrame:
    """Read (mirror), check and tidy the census 2021 housing counts per commune."""
    return tidy(parse(gazetteer.obtain(RELEASE, mirror=mirror, url=url, cache=cache)))
