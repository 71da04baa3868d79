"""Géorisques GASPAR — recognised natural disasters (arrêtés CatNat) per commune since 1982.

Source: the GASPAR base of the ministry of ecological transition, published by Géorisques
(https://www.georisques.gouv.fr/, « arrêtés de catastrophe naturelle », open data on
data.gouv.fr), counted per commune by bpineau/gazetteer and mirrored as
``georisques/catnat_communes_1982_2025.json.gz`` (see :mod:`planeco_kernel.sources.gazetteer`).

Layout (gzip JSON)::

    {"ref_year": 2025, "window_years": 10,
     "communes": [{"insee": "01053", "total": 13, "recent": 4, "last_year": 2022,
                   "inond": 6, "sech": 4, "mvt": 1, "temp": 1}, ...]}

``total``: decrees since 1982; ``recent``: decrees of the last ``window_years`` years up to
``ref_year`` (2016–2025); ``last_year``: year of the latest decree; per category ``inond``
(floods, mudflows), ``sech`` (drought / clay shrinkage and swelling), ``mvt`` (ground movements),
``temp`` (storms, cyclonic winds); an absent category is 0. Other perils (avalanches,
earthquakes, marine submersion …) are in ``total`` only. A commune absent from the file has no
recognised disaster since 1982 (0). These are **recognised disasters**, not an exposure to risk:
a commune without decree is not a commune without risk.

Facts checked on the mirrored file (this machine): 34,704 communes, 260,799 decrees (the mirror
README's totals); inond + sech + mvt + temp ≤ total everywhere (equal for 27,104 communes);
recent ≤ total; 1982 ≤ last_year ≤ 2025; Paris, Lyon and Marseille given as communes only.

Variables (tidy, year = ``ref_year``): ``catnat_arretes`` (since 1982), ``catnat_arretes_10_ans``,
``catnat_inondations``, ``catnat_secheresse``, ``catnat_mouvements_terrain``, ``catnat_tempetes``
(since 1982, ``arrêtés``) and ``catnat_derniere_annee`` (a year, not additive).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from planeco_kernel.errors import SchemaError
from planeco_kernel.sources import base, gazetteer
from planeco_kernel.sources.base import Release

SOURCE_ID = "catnat"
FIRST_YEAR = 1982

RELEASE = Release(
    SOURCE_ID, 2025, "https://www.georisques.gouv.fr/donnees/bases-de-donnees/base-gaspar",
    "catnat_communes_1982_2025.json.gz", mirror_path="georisques/catnat_communes_1982_2025.json.gz",
    extra={"mirror_only": True, "totals": {"communes": 34704, "arretes": 260799}},
)

CATEGORIES = {"inond": "catnat_inondations", "sech": "catnat_secheresse", "mvt": "catnat_mouvements_terrain",
              "temp": "catnat_tempetes"}
COUNTS = {"total": "catnat_arretes", "recent": "catnat_arretes_10_ans", **CATEGORIES}
GEORISQUES_COMMUNE_URL = "https://www.georisques.gouv.fr/mes-risques/connaitre-les-risques-pres-de-chez-moi/rapport2?form-commune=true&codeInsee={code}"
"""Géorisques' risk report of one commune (« connaître les risques près de chez moi »; the URL form
used by MTES-MCT Docurba's front end)."""


def parse(path: Path, rel: Release = RELEASE) -> tuple[pd.DataFrame, int, int]:
    """Parse and check the file; return (one row per commune, ref_year, window_years)."""
    name = rel.filename
    doc = gazetteer.read_json(path, name=name)
    if not isinstance(doc, dict) or not isinstance(doc.get("communes"), list):
        raise SchemaError(f"{name}: expected an object with a 'communes' list.")
    try:
        ref_year, window = int(doc["ref_year"]), int(doc["window_years"])
    except (KeyError, TypeError, ValueError):
        raise SchemaError(f"{name}: ref_year and window_years are missing or not years.") from None
    df = pd.DataFrame(doc["communes"])
    base.require_columns(df, ["insee", "total", "recent", "last_year"], name=name)
    unknown = sorted(set(df.columns) - {"insee", "total", "recent", "last_year", *CATEGORIES})
    if unknown:
        raise SchemaError(f"{name}: unknown keys {unknown}: a new category? (known: {sorted(CATEGORIES)})")
    for c in CATEGORIES:
        df[c] = df[c].fillna(0) if c in df.columns else 0  # absent category = 0 (documented by the file)
    df["commune_code"] = base.check_codes(df["insee"], name=name, column="insee")
    if df["commune_code"].duplicated().any():
        raise SchemaError(f"{name}: duplicated communes, e.g. {df.loc[df['commune_code'].duplicated(), 'commune_code'].head(3).tolist()}")
    df = base.to_numeric(df, [*COUNTS, "last_year"], name=name)
    base.check_ranges(df, {**{c: (0, 1000) for c in COUNTS}, "last_year": (FIRST_YEAR, ref_year)}, name=name)
    if df[list(COUNTS) + ["last_year"]].isna().any().any():
        raise SchemaError(f"{name}: empty counts (total, recent, last_year must be given for every commune).")
    over = df[list(CATEGORIES)].sum(axis=1) > df["total"]
    if over.any() or (df["recent"] > df["total"]).any():
        raise SchemaError(f"{name}: categories or recent decrees exceed the total for {int(over.sum())} communes: "
                          "the counts changed meaning.")
    totals = rel.extra.get("totals") or {}
    gazetteer.check_published_total(len(df), totals.get("communes"), name=name, what="communes")
    gazetteer.check_published_total(df["total"].sum(), totals.get("arretes"), name=name, what="arrêtés CatNat")
    return df[["commune_code", *COUNTS, "last_year"]], ref_year, window


def tidy(df: pd.DataFrame, ref_year: int) -> pd.DataFrame:
    variables = {k: (v, "arrêtés") for k, v in COUNTS.items()}
    variables["last_year"] = ("catnat_derniere_annee", "année")
    long = base.melt(df, key="commune_code", year=ref_year, variables=variables)
    return base.validate_tidy(long, name=RELEASE.filename)


def load(*, mirror: str | Path | None = None, url: str | None = None, cache=None) -> pd.DataFrame:
    """Read (mirror), check and tidy the CatNat decree counts per commune."""
    df, ref_year, _ = parse(gazetteer.obtain(RELEASE, mirror=mirror, url=url, cache=cache))
    return tidy(df, ref_year)
