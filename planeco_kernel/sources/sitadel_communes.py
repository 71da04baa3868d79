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
    _check_totals(df, rel, name=name)
    return df


def _check_totals(df: pd.DataFrame, rel: Release, *, name: str) -> None:
    totals = rel.extra.get("totals") or {}
    gazetteer.check_published_total(df["commune_code"].nunique(), totals.get("communes"), name=name, what="communes")
    for year, expected in (totals.get("authorised") or {}).items():
        got = df.loc[df["year"] == int(year), "a"].sum()
        gazetteer.check_published_total(got, expected, name=name, what=f"logements autorisés {year}")


def latest_started_year(df: pd.DataFrame) -> int | None:
    """The last year whose started dwellings are all blank (provisional, not yet published)."""
    started = df.groupby("year")["s"].apply(lambda s: s.isna().all())
    blank = [int(y) for y, is_blank in started.items() if is_blank]
    return max(blank) if blank else None


def tidy(wide: pd.DataFrame) -> pd.DataFrame:
    """Tidy long frame; blank cells stay missing (the started series of the latest year included)."""
    long = base.melt(wide, key="commune_code", year="year",
                     variables={k: (v, "logements") for k, v in SERIES.items()})
    return base.validate_tidy(long, name=RELEASE.filename)


def load(*, mirror: str | Path | None = None, url: str | None = None, cache=None) -> pd.DataFrame:
    """Read (mirror), check and tidy the national Sit@del per-commune series."""
    return tidy(parse(gazetteer.obtain(RELEASE, mirror=mirror, url=url, cache=cache)))
