"""SDES Sit@del — dwellings authorised and started by commune and year.

Source: the SDES open base « Liste des permis de construire et autres autorisations d'urbanisme »
(Sit@del), file of building permits and prior declarations creating dwellings, published on
data.gouv.fr (https://www.data.gouv.fr/fr/datasets/base-des-permis-de-construire-et-autres-autorisations-durbanisme-sitadel/):
archive https://www.data.gouv.fr/fr/datasets/r/1fa467ef-5e3a-456f-b961-be9032cfa3df with member
``PC_DP_creant_logements_2017_2023.csv`` (semicolon-separated; one row per permit).

Columns read: ``COMM`` (INSEE code of the commune of the works), ``DATE_REELLE_AUTORISATION``,
``DATE_REELLE_DOC`` (date of the declaration of the opening of works: the start), and
``NB_LGT_TOT_CREES`` (dwellings created); ``ETAT_DAU`` when present (``4`` = cancelled). Header
names are matched case-insensitively: SDES switched from ``Type_DAU``/``Etat_DAU``/``REG``/``DEP``
to ``TYPE_DAU``/``ETAT_DAU``/``REG_CODE``/``DEP_CODE`` across vintages. Dates are read as
ISO ``YYYY-MM-DD`` or ``DD/MM/YYYY``.

The tidy output counts, for each commune and year: ``logements_autorises`` (dwellings of
non-cancelled permits by year of authorisation) and ``logements_commences`` (dwellings by year of
the start of works). These are counts **in real dates** from the permit file; SDES's headline
series (« en date de prise en compte », with estimates of missing starts) differ, and starts are
under-reported in recent months because declarations arrive late.

References
----------
Column names (``COMM``, ``TYPE_DAU``/``Type_DAU``, ``ETAT_DAU``, ``DATE_REELLE_AUTORISATION``,
``DATE_REELLE_DOC``, ``DATE_REELLE_DAACT``, ``NB_LGT_TOT_CREES``, ``REG_CODE``/``DEP_CODE``) and
the ``;`` separator: public code reading the Sit@del files and the data.gouv.fr tabular API
(``COMM__exact``); archive URL and member name: a public notebook that downloads it. The newest
monthly vintage lives in a data.gouv.fr dataset whose resource URL changes monthly; pass it with
``url=``. Header names are quoted and the file is Latin-1 (public readers use
``encoding='latin-1'``, ``delimiter=';'``); UTF-8 is tried first in case SDES switches.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from planeco_kernel.errors import SchemaError
from planeco_kernel.sources import base
from planeco_kernel.sources.base import Release

SOURCE_ID = "sitadel"

RELEASE = Release(
    SOURCE_ID, 2023, "https://www.data.gouv.fr/fr/datasets/r/1fa467ef-5e3a-456f-b961-be9032cfa3df",
    "PC_DP_creant_logements_2017_2023.zip", mirror_path="sdes/PC_DP_creant_logements_2017_2023.zip",
    member="PC_DP_creant_logements*.csv", sep=";", encodings=("utf-8-sig", "cp1252", "latin-1"),
)

REQUIRED = ("COMM", "DATE_REELLE_AUTORISATION", "DATE_REELLE_DOC", "NB_LGT_TOT_CREES")
OPTIONAL = ("ETAT_DAU",)
CANCELLED = "4"


def _parse_dates(values: pd.Series, *, name: str, column: str) -> pd.Series:
    raw = values.astype("string").str.strip()
    iso = pd.to_datetime(raw, format="%Y-%m-%d", errors="coerce")
    fr = pd.to_datetime(raw, format="%d/%m/%Y", errors="coerce")
    out = iso.fillna(fr)
    bad = raw.notna() & (raw != "") & out.isna()
    if bad.any():
        raise SchemaError(f"{name}: unreadable dates in column {column!r}, e.g. {raw[bad].head(3).tolist()} (expected YYYY-MM-DD or DD/MM/YYYY)")
    return out


def parse(path: Path, rel: Release = RELEASE) -> pd.DataFrame:
    """Parse and validate the permit file; return one row per permit with dates and dwellings."""
    # Header names are matched case-insensitively (Etat_DAU / ETAT_DAU across vintages).
    df = base.read_csv(path, rel, required=REQUIRED, usecols=(*REQUIRED, *OPTIONAL), header_map=str.upper)
    label = df.attrs["source_name"]
    df["commune_code"] = base.check_codes(df["COMM"], name=label, column="COMM")
    df = base.to_numeric(df, ["NB_LGT_TOT_CREES"], name=label)
    base.check_ranges(df, {"NB_LGT_TOT_CREES": (0, 10_000)}, name=label)
    df["authorised"] = _parse_dates(df["DATE_REELLE_AUTORISATION"], name=label, column="DATE_REELLE_AUTORISATION")
    df["started"] = _parse_dates(df["DATE_REELLE_DOC"], name=label, column="DATE_REELLE_DOC")
    cancelled = df["ETAT_DAU"].astype("string").str.strip().eq(CANCELLED).fillna(False) if "ETAT_DAU" in df else False
    df["cancelled"] = cancelled
    return df[["commune_code", "authorised", "started", "cancelled", "NB_LGT_TOT_CREES"]]


def tidy(permits: pd.DataFrame) -> pd.DataFrame:
    """Dwellings authorised (non-cancelled) and started, summed by commune and year."""
    auth = permits[~permits["cancelled"] & permits["authorised"].notna()]
    auth = auth.groupby(["commune_code", auth["authorised"].dt.year.rename("year")])["NB_LGT_TOT_CREES"].sum().reset_index()
    auth["variable"] = "logements_autorises"
    start = permits[permits["started"].notna()]
    start = start.groupby(["commune_code", start["started"].dt.year.rename("year")])["NB_LGT_TOT_CREES"].sum().reset_index()
    start["variable"] = "logements_commences"
    long = pd.concat([auth, start], ignore_index=True).rename(columns={"NB_LGT_TOT_CREES": "value"})
    long["unit"] = "logements"
    return base.validate_tidy(long[list(base.TIDY_COLUMNS)], name=RELEASE.filename)


def load(*, mirror: str | Path | None = None, url: str | None = None, cache=None) -> pd.DataFrame:
    """Fetch (mirror, cache or data.gouv.fr), parse, validate and tidy Sit@del dwellings."""
    artifact = base.obtain(RELEASE, mirror=mirror, url=url, cache=cache)
    return tidy(parse(artifact.path))
