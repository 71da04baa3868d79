"""INSEE Filosofi 2021 — median disposable income per consumption unit and share of minimum social benefits.

Source: INSEE, Filosofi 2021 per commune, as republished on data.gouv.fr (« Revenu des Français à
la commune », downloaded 2026-05-24), aggregated by bpineau/gazetteer and mirrored as
``insee/filosofi_com_2021.json`` (see :mod:`planeco_kernel.sources.gazetteer`).

Layout (JSON)::

    {"meta": {"data_year": 2021, "row_count_communes": 31322, "national_median_eur": 22810, ...},
     "communes": {"01001": {"median_eur": 25820}, "75101": {"median_eur": 35030, "minima_pct": 0.7}}}

``median_eur``: median of disposable income per consumption unit (« niveau de vie médian », €
per year; INSEE's ``MED21``). ``minima_pct``: share of minimum social benefits (« minima
sociaux ») in disposable income, % — **not the poverty rate** (``TP6021`` is not in this file;
the republisher calls it a proxy, planeco does not). Both are withheld for small communes
(statistical secret): absent key = missing, never 0.

Facts checked on the mirrored file (this machine): 31,322 communes; ``minima_pct`` present for
5,343 of them (0.1 to 16.8 %); medians 12,260 to 55,340 €; Paris, Lyon and Marseille appear only
as arrondissements (a median does not add up: the three communes have no value at commune level).

Variables (tidy, year 2021): ``niveau_vie_median_eur`` (the same component as Filosofi's other
vintages, so 2021 is its latest year) and ``part_minima_sociaux_pct``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from planeco_kernel.errors import SchemaError
from planeco_kernel.sources import base, gazetteer
from planeco_kernel.sources.base import Release

SOURCE_ID = "filosofi_2021"
YEAR = 2021

RELEASE = Release(
    SOURCE_ID, YEAR, "https://www.data.gouv.fr/fr/datasets/revenu-des-francais-a-la-commune/",
    "filosofi_com_2021.json", mirror_path="insee/filosofi_com_2021.json",
    extra={"mirror_only": True, "totals": {"communes": 31322, "national_median_eur": 22810}},
)

VARIABLES = {"median_eur": ("niveau_vie_median_eur", "EUR"), "minima_pct": ("part_minima_sociaux_pct", "%")}


def parse(path: Path, rel: Release = RELEASE) -> pd.DataFrame:
    """Parse and check the file; return ``commune_code, median_eur, minima_pct`` (NaN = secret)."""
    name = rel.filename
    doc = gazetteer.read_json(path, name=name)
    rows = gazetteer.commune_map(doc, name=name)
    meta = doc.get("meta") or {}
    if meta.get("data_year") != rel.vintage:
        raise SchemaError(f"{name}: meta.data_year is {meta.get('data_year')!r}, expected {rel.vintage}.")
    df = pd.DataFrame.from_dict(rows, orient="index").rename_axis("commune_code").reset_index()
    unknown = sorted(set(df.columns) - {"commune_code", *VARIABLES})
    if unknown or "median_eur" not in df.columns:
        raise SchemaError(f"{name}: expected keys {sorted(VARIABLES)} per commune; found also {unknown}.")
    if "minima_pct" not in df.columns:
        df["minima_pct"] = float("nan")
    df = base.to_numeric(df, VARIABLES, name=name)
    base.check_ranges(df, {"median_eur": (5_000, 100_000), "minima_pct": (0, 100)}, name=name)
    totals = rel.extra.get("totals") or {}
    gazetteer.check_published_total(len(df), totals.get("communes"), name=name, what="communes")
    gazetteer.check_published_total(meta.get("national_median_eur", 0), totals.get("national_median_eur"), name=name,
                                    what="médiane nationale (meta)")
    return df


def tidy(wide: pd.DataFrame, year: int = YEAR) -> pd.DataFrame:
    long = base.melt(wide, key="commune_code", year=year, variables=VARIABLES)
    return base.validate_tidy(long.dropna(subset=["value"]), name=RELEASE.filename)


def load(*, mirror: str | Path | None = None, url: str | None = None, cache=None) -> pd.DataFrame:
    """Read (mirror), check and tidy Filosofi 2021 per commune."""
    return tidy(parse(gazetteer.obtain(RELEASE, mirror=mirror, url=url, cache=cache)))
