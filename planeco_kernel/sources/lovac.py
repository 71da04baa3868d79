"""LOVAC 2025 — vacant and long-term vacant private dwellings (fiscal file), rates per commune.

Source: LOVAC (« LOgements VACants »), the fiscal file of vacant private dwellings built by the
DGFiP and Cerema for the ministry of housing (programme Zéro Logement Vacant), 2025 edition,
rates per commune mirrored as ``logement/lovac_2025_communes.csv`` (aggregated by
bpineau/gazetteer, see :mod:`planeco_kernel.sources.gazetteer`).

Layout (``;``-separated, UTF-8, one row per commune)::

    INSEE_C;taux_vacance_25_pct;taux_vacance_long_25_pct
    01004;6.29;3.48

``taux_vacance_25_pct``: vacant private dwellings, % of private dwellings (1 January 2025);
``taux_vacance_long_25_pct``: vacant for more than two years, same denominator. Empty =
statistical secret (fewer than 11 dwellings), never 0.

Why it differs from census vacancy: the census counts a dwelling vacant on the day of the
survey, whoever owns it (social housing included); LOVAC counts private dwellings recorded as
vacant on 1 January in the tax files (housing tax), with its own rules — the two rates measure
different things and must be shown side by side, not merged.

Facts checked on the mirrored file (this machine): 16,501 communes; 14,721 vacancy rates and
10,516 long-term rates given; Paris, Lyon and Marseille appear only as their 45 arrondissements
(a rate does not add up: the three communes have no value at commune level); long-term ≤ vacant
wherever both are given.

Variables (tidy, year 2025, %): ``taux_vacance_lovac_pct``, ``taux_vacance_longue_lovac_pct``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from planeco_kernel.errors import SchemaError
from planeco_kernel.sources import base, gazetteer
from planeco_kernel.sources.base import Release

SOURCE_ID = "lovac"
YEAR = 2025

RELEASE = Release(
    SOURCE_ID, YEAR, "https://www.data.gouv.fr/fr/datasets/logements-vacants-du-parc-prive-par-anciennete-de-vacance-par-commune-et-par-epci/",
    "lovac_2025_communes.csv", mirror_path="logement/lovac_2025_communes.csv", sep=";", encodings=("utf-8-sig",),
    extra={"mirror_only": True, "totals": {"communes": 16501}},
)

COLUMNS = {"taux_vacance_25_pct": ("taux_vacance_lovac_pct", "%"),
           "taux_vacance_long_25_pct": ("taux_vacance_longue_lovac_pct", "%")}


def parse(path: Path, rel: Release = RELEASE) -> pd.DataFrame:
    """Parse and check the file; return ``commune_code`` and the two rates (NaN = secret)."""
    df = base.read_csv(path, rel, required=["INSEE_C", *COLUMNS], usecols=["INSEE_C", *COLUMNS])
    name = rel.filename
    df["commune_code"] = base.check_codes(df["INSEE_C"], name=name, column="INSEE_C")
    if df["commune_code"].duplicated().any():
        raise SchemaError(f"{name}: duplicated INSEE_C, e.g. {df.loc[df['commune_code'].duplicated(), 'commune_code'].head(3).tolist()}")
    df = base.to_numeric(df, COLUMNS, name=name)
    base.check_ranges(df, {c: (0, 100) for c in COLUMNS}, name=name)
    both = df[list(COLUMNS)].notna().all(axis=1)
    if (df.loc[both, "taux_vacance_long_25_pct"] > df.loc[both, "taux_vacance_25_pct"] + 0.01).any():
        raise SchemaError(f"{name}: long-term vacancy exceeds vacancy: the two columns are swapped.")
    gazetteer.check_published_total(len(df), (rel.extra.get("totals") or {}).get("communes"), name=name, what="communes")
    return df[["commune_code", *COLUMNS]]


def tidy(wide: pd.DataFrame, year: int = YEAR) -> pd.DataFrame:
    long = base.melt(wide, key="commune_code", year=year, variables=COLUMNS)
    return base.validate_tidy(long.dropna(subset=["value"]), name=RELEASE.filename)


def load(*, mirror: str | Path | None = None, url: str | None = None, cache=None) -> pd.DataFrame:
    """Read (mirror), check and tidy the LOVAC 2025 rates per commune."""
    return tidy(parse(gazetteer.obtain(RELEASE, mirror=mirror, url=url, cache=cache)))
