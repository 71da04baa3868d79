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
"""

from __future__ import annotations

from pathlib import Path

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


def tidy(wide: pd.DataFrame, year: int = YEAR) -> pd.DataFrame:
    long = base.melt(wide, key="commune_code", year=year, variables={k: (v, "logements") for k, v in VARIABLES.items()})
    return base.validate_tidy(long, name=RELEASE.filename)


def load(*, mirror: str | Path | None = None, url: str | None = None, cache=None) -> pd.DataFrame:
    """Read (mirror), check and tidy the census 2021 housing counts per commune."""
    return tidy(parse(gazetteer.obtain(RELEASE, mirror=mirror, url=url, cache=cache)))
