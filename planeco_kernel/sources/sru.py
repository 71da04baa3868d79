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

**Official file (online).** The publisher's own file is the CSV resource ``b0d30277-3a14-4673-a988-2fa6c11e030c``
of the data.gouv.fr dataset « Taux de logements sociaux dans les communes » (export relayed from
the Caisse des Dépôts open data): ``;``-separated, UTF-8 with a BOM, one row per commune, with
among others the columns ``Code Commune``, ``Nom Commune`` and ``Taux de logements sociaux (%)``
(a decimal point or a decimal comma: ``7.0``, ``0,0``; an empty rate is a commune without a
published rate, never 0). The file does not say its vintage: the release declares 2024, and the
number of communes with a rate (35,228, the count of the mirror aggregate made from this very
resource) is checked, so a republication of another vintage stops the build instead of being
labelled 2024. :func:`parse_official` reads it strictly: rows without a commune code are dropped
(they name no commune), a duplicated code, a rate that is not a number or outside 0–200 is an
error naming the file and the column. The rate is kept as published (the mirror aggregate rounds
it to one decimal). This layout is taken from the public code of bpineau/gazetteer that reads
this resource (``sources/rpls/transform.go`` and its sample), **not verified here against a
downloaded file** (this machine is offline); it is tested on invented files in that layout.
Online, the resource URL is found through the data.gouv.fr API (``/api/1/datasets/<slug>/``:
the resource of that id, else the CSV resource whose title names the communes); a copy placed in
the mirror as ``logement/taux_logements_sociaux_communes.csv`` is read first.
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


DATASET_SLUG = "taux-de-logements-sociaux-dans-les-communes"
DATASET_API = f"https://www.data.gouv.fr/api/1/datasets/{DATASET_SLUG}/"
RESOURCE_ID = "b0d30277-3a14-4673-a988-2fa6c11e030c"
OFFICIAL_WHERE = DATASET_API
"""Where the official file is found when online (shown as the bundle's origin)."""
OFFICIAL_RELEASE = Release(
    SOURCE_ID, YEAR, DATASET_API, "taux_logements_sociaux_communes.csv",
    mirror_path="logement/taux_logements_sociaux_communes.csv", sep=";", encodings=("utf-8-sig", "cp1252"),
    note="Taux de logements sociaux dans les communes (inventaire SRU), ressource data.gouv.fr b0d30277.",
    extra={"totals": {"communes": 35228}},
)
OFFICIAL_CODE, OFFICIAL_RATE = "Code Commune", "Taux de logements sociaux (%)"


def parse_official(path: Path, rel: Release = OFFICIAL_RELEASE) -> pd.DataFrame:
    """Parse the official CSV (see the module docstring); return ``commune_code, rate_pct`` (NaN = no rate).

    Raises
    ------
    SchemaError
        A column is missing, a code is not a commune code or is duplicated, a rate is not a number
        or is outside 0–200; the message names the file and the column.
    PublishedTotalError
        The number of communes with a rate differs from the release's declared total.
    """
    name = rel.filename
    df = base.read_csv(path, rel, required=[OFFICIAL_CODE, OFFICIAL_RATE], usecols=[OFFICIAL_CODE, OFFICIAL_RATE])
    df = df.loc[df[OFFICIAL_CODE].notna() & (df[OFFICIAL_CODE].str.strip() != "")].copy()  # no code: no commune
    df["commune_code"] = base.check_codes(df[OFFICIAL_CODE].str.strip(), name=name, column=OFFICIAL_CODE)
    if df["commune_code"].duplicated().any():
        raise SchemaError(f"{name}: duplicated {OFFICIAL_CODE!r}, e.g. "
                          f"{df.loc[df['commune_code'].duplicated(), 'commune_code'].head(3).tolist()}")
    df = base.to_numeric(df, [OFFICIAL_RATE], name=name, decimal_comma=True)
    base.check_ranges(df, {OFFICIAL_RATE: (0, 200)}, name=name)
    df = df.rename(columns={OFFICIAL_RATE: "rate_pct"})
    gazetteer.check_published_total(int(df["rate_pct"].notna().sum()), (rel.extra.get("totals") or {}).get("communes"),
                                    name=name, what="communes avec un taux")
    return df[["commune_code", "rate_pct"]].reset_index(drop=True)


def resolve_official_url(dataset: dict) -> str:
    """The URL of the per-commune CSV among the dataset's ``resources`` (data.gouv.fr API v1 JSON).

    Raises
    ------
    SourceUnavailableError
        No resource is the declared one nor a CSV naming the communes.
    """
    from planeco_kernel.sources import datagouv

    missing = (f"SRU : le jeu de données data.gouv.fr « {DATASET_SLUG} » n'a plus la ressource {RESOURCE_ID} ni de "
               "fichier CSV par commune. Téléchargez le CSV « Taux de logements sociaux dans les communes » à la main et "
               f"placez-le dans le miroir ({OFFICIAL_RELEASE.mirror_path}).")
    by_id = [r for r in dataset.get("resources") or [] if isinstance(r, dict) and r.get("id") == RESOURCE_ID]
    if by_id:
        return datagouv.pick_resource({"resources": by_id}, lambda r: True, missing=missing)
    return datagouv.pick_resource(dataset, lambda r: datagouv.fmt(r) == "csv" and "commune" in datagouv.label(r), missing=missing)


def official_mirror_files(mirror: str | Path | None = None) -> list[Path]:
    """The mirror's copy of the official file (read then without the network), or ``[]``."""
    root = base.resolve_mirror(mirror)
    local = root / OFFICIAL_RELEASE.mirror_path if root is not None and OFFICIAL_RELEASE.mirror_path else None
    return [local] if local is not None and local.is_file() else []


def load_official(*, mirror: str | Path | None = None, url: str | None = None, cache=None) -> pd.DataFrame:
    """The official per-commune CSV (mirror copy, else data.gouv.fr through its API), tidy like :func:`load`."""
    from planeco_kernel.sources import datagouv

    if url is None and not official_mirror_files(mirror):
        url = resolve_official_url(datagouv.fetch_dataset(DATASET_API, cache=cache))
    path = base.obtain(OFFICIAL_RELEASE, mirror=mirror, url=url, cache=cache).path
    return tidy(parse_official(path, OFFICIAL_RELEASE))


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
