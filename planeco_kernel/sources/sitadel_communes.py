"""SDES Sit@del — dwellings authorised, started and authorised collective, per commune and year (national).

Source: SDES, « Logements autorisés et commencés par commune » on the DIDO platform (datafile
9c90a880-4ba0-49b4-b99d-d7dd6c810dd0, millésime 2026-06; columns ``LOG_AUT`` authorised and
``LOG_COM`` started), aggregated per commune by bpineau/gazetteer and mirrored as
``sdes/sitadel_logements_communes_2013_2025.json.gz`` (see :mod:`planeco_kernel.sources.gazetteer`).

Layout (gzip JSON)::

    {"meta": {"data_millesime": "2026-06", "row_count_communes": 34746, ...},
     "communes": {"86194": {"y0": 2013, "a": [...], "s": [...], "c": [...]}, ...}}

``a`` dwellings authorised, ``s`` dwellings started, ``c`` authorised collective dwellings; index
``i`` is year ``y0 + i``; the three lists have the same length. ``-1`` is a blank cell (no data),
distinct from a real 0: it becomes a missing value, never 0. Series are shorter for communes that
ceased to exist (merged) and start in 2014 for one commune created then. Paris and Lyon
arrondissements are already folded onto 75056 and 69123 (Marseille is published as 13055).

Facts checked on the mirrored file (this machine, 2026-12-02): 34,746 communes; authorised over all
communes 451,889 in 2022 and 354,879 in 2023 (the mirror README's totals); every commune with a
2025 value has ``-1`` for started 2025 — **the latest started year is provisional and blank**:
declarations of starts arrive late, so 2025 starts are missing, not zero; one commune has blank
cells in 2018 and one in 2022; collective ≤ authorised everywhere.

Variables (tidy, ``logements``): ``logements_autorises``, ``logements_commences``,
``logements_autorises_collectifs``.

**Official file (online).** The publisher's own file is the DIDO datafile itself, served as CSV by
the SDES API (:data:`OFFICIAL_URL`, millésime 2026-06): ``;``-separated, UTF-8, header row, one row
per commune, year and dwelling type::

    "ANNEE";"COMM";"TYPE_LGT";"LOG_AUT";"LOG_COM";"SDP_AUT";"SDP_COM"
    "2024";"93066";"Tous Logements";3;71;285;4378
    "2024";"93066";"Collectif";2;46;118;2400

``TYPE_LGT`` ``Tous Logements`` gives ``a`` (``LOG_AUT``) and ``s`` (``LOG_COM``), ``Collectif``
gives ``c`` (its ``LOG_AUT``); the other types (``Individuel pur`` …) and the floor areas
``SDP_*`` are not read. A blank cell is no data (missing, never 0). Rows whose ``COMM`` is not a
five-character code (national or departmental aggregates) are skipped; the arrondissements of
Paris and Lyon are dropped, the file publishing the parent commune's row too (an arrondissement
without its commune's row for that year is refused). :func:`parse_official` returns the same wide
frame as :func:`parse` (contiguous years per commune, missing where no row), so the rest of the
build is unchanged; unlike the aggregate it keeps the communes that authorised no dwelling in any
year (real zeros: the aggregate drops them). The published totals are checked on it: authorised
dwellings of 2022 and 2023, and 34,746 communes with at least one authorised dwelling.

This layout (URL, columns, ``TYPE_LGT`` values, blank cells, parent rows beside the arrondissements)
is taken from the public code of bpineau/gazetteer that builds the mirrored aggregate from this very
file (``sources/sitadel/transform.go``); it was **not compared with a downloaded file** (this
machine is offline) and is tested on the invented fixture
``tests/fixtures/sources/test-data_sitadel_dido_communes.csv``. A copy placed in the mirror as
``sdes/sitadel_logements_communes_dido.csv`` is read first.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from planeco_kernel.errors import SchemaError
from planeco_kernel.sources import base, gazetteer
from planeco_kernel.sources.base import Release

SOURCE_ID = "sitadel_communes"

RELEASE = Release(
    SOURCE_ID, 2025, "https://www.statistiques.developpement-durable.gouv.fr/",
    "sitadel_logements_communes_2013_2025.json.gz", mirror_path="sdes/sitadel_logements_communes_2013_2025.json.gz",
    note="Agrégats communaux du fichier SDES (DIDO 9c90a880), millésime 2026-06.",
    extra={"mirror_only": True, "millesime": "2026-06",
           "totals": {"communes": 34746, "authorised": {2022: 451889, 2023: 354879}}},
)

SERIES = {"a": "logements_autorises", "s": "logements_commences", "c": "logements_autorises_collectifs"}
BLANK = -1


DIDO_DATAFILE = "9c90a880-4ba0-49b4-b99d-d7dd6c810dd0"
OFFICIAL_URL = (f"https://data.statistiques.developpement-durable.gouv.fr/dido/api/v1/datafiles/{DIDO_DATAFILE}/csv"
                "?millesime=2026-06&withColumnName=true")
OFFICIAL_RELEASE = Release(
    SOURCE_ID, 2025, OFFICIAL_URL, "sitadel_logements_communes_dido.csv", mirror_path="sdes/sitadel_logements_communes_dido.csv",
    sep=";", encodings=("utf-8-sig", "cp1252"), note="Fichier SDES (DIDO 9c90a880), millésime 2026-06.",
    extra={"millesime": "2026-06", "totals": {"communes_with_authorised": 34746, "authorised": {2022: 451889, 2023: 354879}}},
)
OFFICIAL_COLUMNS = ("ANNEE", "COMM", "TYPE_LGT", "LOG_AUT", "LOG_COM")
ALL_TYPES, COLLECTIVE = "Tous Logements", "Collectif"
PARENTS = {"751": "75056", "6938": "69123", "132": "13055"}
"""Arrondissement code prefixes and the commune whose row the file also publishes."""


def _parent(codes: pd.Series) -> pd.Series:
    """The parent commune of Paris / Lyon / Marseille arrondissements; ``<NA>`` for any other code."""
    from planeco_kernel.sources.insee_rp_logement import is_arrondissement

    out = pd.Series(pd.NA, index=codes.index, dtype="string")
    arr = is_arrondissement(codes)
    for prefix, parent in PARENTS.items():
        out[arr & codes.str.startswith(prefix)] = parent
    return out


def parse_official(path: Path, rel: Release = OFFICIAL_RELEASE) -> pd.DataFrame:
    """Parse the SDES DIDO file (see the module docstring); return the frame of :func:`parse`.

    Raises
    ------
    SchemaError
        A column is missing, a code or year is malformed (four-digit codes: leading zero lost),
        ``TYPE_LGT`` has no ``Tous Logements`` row, a count is not an integer ≥ 0, a row is
        repeated, collective exceeds authorised, or an arrondissement comes without its commune's
        row; the message names the file and the column.
    PublishedTotalError
        The file does not reproduce the totals of the millésime (``rel.extra["totals"]``).
    """
    df = base.read_csv(path, rel, required=OFFICIAL_COLUMNS, usecols=OFFICIAL_COLUMNS)
    name = df.attrs["source_name"]
    code = df["COMM"].astype("string").str.strip()
    lost_zero = code.str.fullmatch(r"\d{4}").fillna(False)
    if lost_zero.any():
        raise SchemaError(f"{name}: column 'COMM' holds four-digit codes, e.g. {code[lost_zero].head(3).tolist()}: the leading "
                          "zero was lost (file re-saved by a spreadsheet). Download the file again.")
    df = df[code.str.len().eq(5).fillna(False)].copy()  # national / departmental rows
    df["commune_code"] = base.check_codes(df["COMM"], name=name, column="COMM")
    years = pd.to_numeric(df["ANNEE"].astype("string").str.strip(), errors="coerce")
    bad = years.isna() | (years < 2000) | (years > 2100) | (years != np.floor(years))
    if bad.any():
        raise SchemaError(f"{name}: column 'ANNEE' must hold years, found {df.loc[bad, 'ANNEE'].head(3).tolist()}")
    df["year"] = years.astype(int)
    df["type"] = df["TYPE_LGT"].astype("string").str.strip()
    if not df["type"].eq(ALL_TYPES).any():
        raise SchemaError(f"{name}: column 'TYPE_LGT' has no « {ALL_TYPES} » row (values found: "
                          f"{sorted(df['type'].dropna().unique().tolist())[:8]}): the publisher renamed the dwelling types.")
    df = base.to_numeric(df, ["LOG_AUT", "LOG_COM"], name=name)
    for col in ("LOG_AUT", "LOG_COM"):
        v = df[col]
        bad = v.notna() & ((v < 0) | (v != np.floor(v)))
        if bad.any():
            raise SchemaError(f"{name}: column {col!r} must hold dwelling counts (integers ≥ 0), found {v[bad].head(3).tolist()}")
    dup = df.duplicated(["commune_code", "year", "type"])
    if dup.any():
        raise SchemaError(f"{name}: repeated rows (COMM, ANNEE, TYPE_LGT), e.g. {df.loc[dup, ['commune_code', 'year', 'type']].head(3).values.tolist()}")
    parent = _parent(df["commune_code"])
    arr = parent.notna()
    if arr.any():
        present = set(zip(df.loc[~arr, "commune_code"], df.loc[~arr, "year"], strict=True))
        orphan = [(p, y) for p, y in zip(parent[arr], df.loc[arr, "year"], strict=True) if (p, y) not in present]
        if orphan:
            raise SchemaError(f"{name}: arrondissement rows without their commune's row (COMM {sorted(set(orphan))[:3]}): "
                              "the file no longer publishes Paris / Lyon / Marseille as a whole; they would be counted twice or lost.")
        df = df[~arr]
    wide = _official_wide(df)
    base.check_ranges(wide, {k: (0, 60_000) for k in SERIES}, name=name)
    both = wide["a"].notna() & wide["c"].notna()
    if (wide.loc[both, "c"] > wide.loc[both, "a"]).any():
        raise SchemaError(f"{name}: collective dwellings exceed authorised dwellings: LOG_AUT of « {COLLECTIVE} » and "
                          f"« {ALL_TYPES} » are swapped or redefined.")
    totals = rel.extra.get("totals") or {}
    with_auth = wide.groupby("commune_code")["a"].max().gt(0).sum()
    gazetteer.check_published_total(with_auth, totals.get("communes_with_authorised"), name=name,
                                    what="communes ayant autorisé au moins un logement")
    _check_totals(wide, {"authorised": totals.get("authorised")}, name=name)
    return wide


def _official_wide(df: pd.DataFrame) -> pd.DataFrame:
    """``commune_code, year, a, s, c`` on contiguous years per commune (first to last year with a row)."""
    alltypes = df[df["type"] == ALL_TYPES].set_index(["commune_code", "year"])
    coll = df[df["type"] == COLLECTIVE].set_index(["commune_code", "year"])
    span = df.groupby("commune_code")["year"].agg(["min", "max"])
    index = pd.MultiIndex.from_tuples(
        [(code, y) for code, lo, hi in zip(span.index, span["min"], span["max"], strict=True) for y in range(int(lo), int(hi) + 1)],
        names=["commune_code", "year"])
    wide = pd.DataFrame(index=index)
    wide["a"] = alltypes["LOG_AUT"].reindex(index)
    wide["s"] = alltypes["LOG_COM"].reindex(index)
    wide["c"] = coll["LOG_AUT"].reindex(index)
    return wide.astype("float64").reset_index()


def parse(path: Path, rel: Release = RELEASE) -> pd.DataFrame:
    """Parse and check the file; return a wide frame ``commune_code, year, a, s, c`` (NaN = blank)."""
    name = rel.filename
    rows = gazetteer.commune_map(gazetteer.read_json(path, name=name), name=name)
    codes: list[str] = []
    years: list[int] = []
    cols: dict[str, list[float]] = {k: [] for k in SERIES}
    for code, rec in rows.items():
        try:
            y0 = int(rec["y0"])
            lists = {k: list(rec[k]) for k in SERIES}
        except (KeyError, TypeError, ValueError):
            raise SchemaError(f"{name}: commune {code}: expected keys y0, a, s, c (found {sorted(rec) if isinstance(rec, dict) else rec!r})") from None
        n = {len(v) for v in lists.values()}
        if len(n) != 1:
            raise SchemaError(f"{name}: commune {code}: series a, s, c of different lengths {sorted(n)}")
        length = n.pop()
        codes.extend([code] * length)
        years.extend(range(y0, y0 + length))
        for k, v in lists.items():
            cols[k].extend(v)
    df = pd.DataFrame({"commune_code": codes, "year": years, **cols})
    for k in SERIES:
        vals = pd.to_numeric(df[k], errors="coerce")
        bad = vals.isna() | (vals < BLANK) | (vals != np.floor(vals))
        if bad.any():
            raise SchemaError(f"{name}: series {k!r} holds values that are not counts nor -1 (blank), e.g. "
                              f"{df.loc[bad, k].head(3).tolist()}")
        df[k] = vals.where(vals != BLANK).astype("float64")
    base.check_ranges(df, {k: (0, 60_000) for k in SERIES}, name=name)
    both = df["a"].notna() & df["c"].notna()
    if (df.loc[both, "c"] > df.loc[both, "a"]).any():
        raise SchemaError(f"{name}: collective dwellings exceed authorised dwellings: series c and a are swapped or redefined.")
    _check_totals(df, rel.extra.get("totals") or {}, name=name)
    return df


def _check_totals(df: pd.DataFrame, totals: dict, *, name: str) -> None:
    gazetteer.check_published_total(df["commune_code"].nunique(), totals.get("communes"), name=name, what="communes")
    for year, expected in (totals.get("authorised") or {}).items():
        got = df.loc[df["year"] == int(year), "a"].sum()
        gazetteer.check_published_total(got, expected, name=name, what=f"logements autorisés {year}")


def latest_started_year(df: pd.DataFrame) -> int | None:
    """The last year whose started dwellings are all blank (provisional, not yet published)."""
    started = df.groupby("year")["s"].apply(lambda s: s.isna().all())
    blank = [int(y) for y, is_blank in started.items() if is_blank]
    return max(blank) if blank else None


def tidy(wide: pd.DataFrame, *, name: str = RELEASE.filename) -> pd.DataFrame:
    """Tidy long frame; blank cells stay missing (the started series of the latest year included)."""
    long = base.melt(wide, key="commune_code", year="year",
                     variables={k: (v, "logements") for k, v in SERIES.items()})
    return base.validate_tidy(long, name=name)


def load_official(*, mirror: str | Path | None = None, url: str | None = None, cache=None) -> pd.DataFrame:
    """The SDES DIDO file (mirror copy, else the SDES API when online), checked and tidy as :func:`load`."""
    path = base.obtain(OFFICIAL_RELEASE, mirror=mirror, url=url, cache=cache).path
    return tidy(parse_official(path, OFFICIAL_RELEASE), name=OFFICIAL_RELEASE.filename)


def load(*, mirror: str | Path | None = None, url: str | None = None, cache=None) -> pd.DataFrame:
    """Read (mirror), check and tidy the national Sit@del per-commune series."""
    return tidy(parse(gazetteer.obtain(RELEASE, mirror=mirror, url=url, cache=cache)))
