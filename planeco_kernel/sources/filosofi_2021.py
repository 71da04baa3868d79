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

**Official file (online).** The publisher's own file is INSEE's « Revenus, pauvreté et niveau de
vie en 2021 » (Filosofi), indicators per commune, archive
``indic-struct-distrib-revenu-2021-COMMUNES_csv.zip`` (:data:`OFFICIAL_URL`, page 7756855), member
``FILO2021_DISP_COM.csv`` (disposable income): ``;``-separated, one row per commune and
arrondissement, ``CODGEO`` then ``NBMEN21, NBPERS21, NBUC21, Q121, Q221, Q321, Q3_Q1, D121 … D921,
RD21, S80S2021, GI21, PACT21 … PPMINI21 … PIMPOT21``. The median is ``Q221`` (second quartile of
disposable income per consumption unit); ``MED21`` — its name in INSEE's base-cc / dossier
complet layout — is accepted in its place (exactly one of the two must be there).
``PPMINI21`` (share of minimum social benefits, %) is read when present: the income breakdown is
published only for the larger communes, and one public harmoniser found only ``PACT21`` in the 2020
and 2021 files, so its absence leaves the variable missing rather than refusing the file. Cells
withheld by statistical secret hold ``s`` (also ``ns``, ``nd``, ``so``) or nothing: missing, never
0; a decimal comma is read as a point. :func:`parse_official` returns the frame of :func:`parse`;
the aggregate's figures are checked on it (31,322 communes with a median; median of the commune
medians 22,810 €, to 10 €) — the aggregate was made from data.gouv.fr's republication of this
INSEE file, so the two should agree; a difference stops the build with both numbers.

This layout (URL, member, column names, secret markers) is taken from public code that reads the
file (several projects read ``FILO2021_DISP_COM.csv`` with ``CODGEO`` and ``Q221`` / ``Q121`` /
``Q321``, one with ``MED21``, and map ``s``/``ns``/``nd``/``so`` to missing); it was **not compared
with a downloaded file** (this machine is offline), nor was its geography (COG 2023, as the
aggregate, is assumed), and is tested on the invented fixture
``tests/fixtures/sources/test-data_FILO2021_DISP_COM.csv``. A copy placed in the mirror as
``insee/indic-struct-distrib-revenu-2021-COMMUNES_csv.zip`` (or the CSV member alone under that
name) is read first.
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

OFFICIAL_URL = "https://www.insee.fr/fr/statistiques/fichier/7756855/indic-struct-distrib-revenu-2021-COMMUNES_csv.zip"
OFFICIAL_RELEASE = Release(
    SOURCE_ID, YEAR, OFFICIAL_URL, "indic-struct-distrib-revenu-2021-COMMUNES_csv.zip",
    mirror_path="insee/indic-struct-distrib-revenu-2021-COMMUNES_csv.zip", member="FILO2021_DISP_COM.[Cc][Ss][Vv]",
    sep=";", encodings=("utf-8-sig", "cp1252"), note="Insee, Filosofi 2021, indicateurs par commune (revenu disponible).",
    extra={"totals": RELEASE.extra["totals"], "median_tolerance_eur": 10},
)
SECRET = frozenset({"", "s", "ns", "nd", "so"})
"""Markers of a withheld cell in INSEE's Filosofi files (statistical secret, not significant, not available)."""


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


def parse_official(path: Path, rel: Release = OFFICIAL_RELEASE) -> pd.DataFrame:
    """Parse ``FILO2021_DISP_COM.csv`` (see the module docstring); return the frame of :func:`parse`.

    Raises
    ------
    SchemaError
        No ``CODGEO``, no median column (``Q2<yy>`` or ``MED<yy>``) or both, a malformed or
        repeated code, a value that is neither a number nor a secret marker, or a value out of
        range; the message names the file (and its member) and the column.
    PublishedTotalError
        The file does not reproduce the aggregate's figures (``rel.extra["totals"]``).
    """
    from planeco_kernel.sources.base import TableFile, peek_header

    yy = f"{rel.vintage % 100:02d}"
    table = TableFile(path, name=rel.filename, member=rel.member)
    header, _enc = peek_header(table, sep=rel.sep, encodings=rel.encodings)
    medians = [c for c in (f"Q2{yy}", f"MED{yy}") if c in header]
    if "CODGEO" not in header or len(medians) != 1:
        raise SchemaError(f"{table.name}: expected CODGEO and one median column Q2{yy} (or MED{yy}), found "
                          f"{'both ' if len(medians) == 2 else ''}{header[:12]}{' …' if len(header) > 12 else ''}. "
                          f"Another vintage or layout: use the file of {rel.vintage}.")
    wanted = {"median_eur": medians[0], **({"minima_pct": f"PPMINI{yy}"} if f"PPMINI{yy}" in header else {})}
    df = base.read_csv(path, rel, usecols=["CODGEO", *wanted.values()])
    name = df.attrs["source_name"]
    df["commune_code"] = base.check_codes(df["CODGEO"], name=name, column="CODGEO")
    if df["commune_code"].duplicated().any():
        raise SchemaError(f"{name}: duplicated CODGEO, e.g. {df.loc[df['commune_code'].duplicated(), 'commune_code'].head(3).tolist()}")
    out = pd.DataFrame({"commune_code": df["commune_code"], "median_eur": float("nan"), "minima_pct": float("nan")})
    for key, col in wanted.items():
        raw = df[col].astype("string").str.strip().fillna("")
        secret = raw.str.lower().isin(SECRET)
        values = pd.to_numeric(raw.where(~secret).str.replace(",", ".", regex=False), errors="coerce")
        bad = values.isna() & ~secret
        if bad.any():
            raise SchemaError(f"{name}: column {col!r} must hold numbers or a secret marker ({sorted(SECRET - {''})}), "
                              f"found {raw[bad].head(3).tolist()}")
        out[key] = values.astype("float64")
    base.check_ranges(out.rename(columns=wanted), {wanted["median_eur"]: (5_000, 100_000),
                                                   **({wanted["minima_pct"]: (0, 100)} if "minima_pct" in wanted else {})}, name=name)
    totals = rel.extra.get("totals") or {}
    given = out["median_eur"].dropna()
    gazetteer.check_published_total(len(given), totals.get("communes"), name=name, what="communes avec un revenu médian")
    gazetteer.check_published_total(float(given.median()) if len(given) else 0.0, totals.get("national_median_eur"), name=name,
                                    what="médiane des revenus médians communaux", tolerance=float(rel.extra.get("median_tolerance_eur", 0)))
    return out


def tidy(wide: pd.DataFrame, year: int = YEAR, *, name: str = RELEASE.filename) -> pd.DataFrame:
    long = base.melt(wide, key="commune_code", year=year, variables=VARIABLES)
    return base.drop_withheld(long, name=name, reason=SECRET_REASON)


SECRET_REASON = ("valeur non publiée par l'Insee pour cette commune (Filosofi 2021 : secret statistique ou "
                 "valeur non significative)")
"""Why Filosofi 2021 gives no value for a commune it lists (the bundle's ``missing_reasons``)."""


def load_official(*, mirror: str | Path | None = None, url: str | None = None, cache=None) -> pd.DataFrame:
    """INSEE's ``FILO2021_DISP_COM.csv`` (mirror copy, else insee.fr when online), checked and tidy as :func:`load`."""
    path = base.obtain(OFFICIAL_RELEASE, mirror=mirror, url=url, cache=cache).path
    return tidy(parse_official(path, OFFICIAL_RELEASE), name=OFFICIAL_RELEASE.filename)


def load(*, mirror: str | Path | None = None, url: str | None = None, cache=None) -> pd.DataFrame:
    """Read (mirror), check and tidy Filosofi 2021 per commune."""
    return tidy(parse(gazetteer.obtain(RELEASE, mirror=mirror, url=url, cache=cache)))
