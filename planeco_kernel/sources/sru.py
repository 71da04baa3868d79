"""Social rented dwellings (loi SRU, art. 55) — share among main residences, 2024, per commune.

Source: « Taux de logements sociaux dans les communes » (ministry of housing, inventory of the
loi SRU art. 55, vintage 2024) on data.gouv.fr (resource b0d30277), aggregated by
bpineau/gazetteer and mirrored as ``logement/taux_logements_sociaux_sru_2024.json.gz`` (see
:mod:`planeco_kernel.sources.gazetteer`).

Layout (gzip JSON)::

    {"meta": {"data_year": 2024, "row_count_communes": 35228, ...},
     "communes": {"01001": {"label": "L'Abergement-Clémenciat", "rate_pct": 7.0}, ...}}

``rate_pct``: social rented dwellings (LLS counted by the SRU inventory, intermediate LLS
excluded) in % of main residences. A rate does not add up: territories get the mean weighted by
main residences (an estimate: the weights are the census's, not the inventory's). 0 % commonly
means a commune below the SRU thresholds, where the inventory is not required.

Facts checked on the mirrored file (this machine): 35,228 communes (including communes of older
geographies); rates from 0 to 157 % — a few small communes exceed 100 % (the inventory counts
dwellings that the census main residences do not hold): kept as published, range 0–200 checked.

Variable (tidy, year 2024, %): ``taux_logements_sociaux_sru_pct``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from planeco_kernel.errors import SchemaError
from planeco_kernel.sources import base, gazetteer
from planeco_kernel.sources.base import Release

SOURCE_ID = "sru"
YEAR = 2024

RELEASE = Release(
    SOURCE_ID, YEAR, "https://www.data.gouv.fr/fr/datasets/taux-de-logements-sociaux-dans-les-communes/",
    "taux_logements_sociaux_sru_2024.json.gz", mirror_path="logement/taux_logements_sociaux_sru_2024.json.gz",
    extra={"mirror_only": True, "totals": {"communes": 35228}},
)


def parse(path: Path, rel: Release = RELEASE) -> pd.DataFrame:
    """Parse and check the file; return ``commune_code, rate_pct``."""
    name = rel.filename
    doc = gazetteer.read_json(path, name=name)
    rows = gazetteer.commune_map(doc, name=name)
    if (doc.get("meta") or {}).get("data_year") != rel.vintage:
        raise SchemaError(f"{name}: meta.data_year is {(doc.get('meta') or {}).get('data_year')!r}, expected {rel.vintage}.")
    df = pd.DataFrame.from_dict(rows, orient="index").rename_axis("commune_code").reset_index()
    base.require_columns(df, ["rate_pct"], name=name)
    df = base.to_numeric(df, ["rate_pct"], name=name)
    base.check_ranges(df, {"rate_pct": (0, 200)}, name=name)
    gazetteer.check_published_total(len(df), (rel.extra.get("totals") or {}).get("communes"), name=name, what="communes")
    return df[["commune_code", "rate_pct"]]


def tidy(wide: pd.DataFrame, year: int = YEAR) -> pd.DataFrame:
    long = base.melt(wide, key="commune_code", year=year, variables={"rate_pct": ("taux_logements_sociaux_sru_pct", "%")})
    return base.validate_tidy(long.dropna(subset=["value"]), name=RELEASE.filename)


def load(*, mirror: str | Path | None = None, url: str | None = None, cache=None) -> pd.DataFrame:
    """Read (mirror), check and tidy the SRU social-housing rates 2024 per commune."""
    return tidy(parse(gazetteer.obtain(RELEASE, mirror=mirror, url=url, cache=cache)))
