"""The tidy output every connector returns, and the helpers that check and shape its frames.

Every connector's ``load()`` returns a **long** frame with exactly the columns of
:data:`TIDY_COLUMNS`, one row per (territory, year, variable)::

    commune_code  year  variable              value    unit
    01004         2016  niveau_vie_median_eur 19721.0  EUR
    01004         2016  taux_pauvrete_pct     17.0     %

- ``commune_code`` (``string``): INSEE commune code, 5 characters, ``^[0-9][0-9AB][0-9]{3}$``
  (Corsica ``2A``/``2B`` kept). Connectors that read EPCI files use ``epci_siren`` (9 digits)
  instead, as the key column.
- ``year`` (``int16``): the reference year of the value (the income year for Filosofi, the census
  year for the RP, the year of the flow for land consumption, authorisations and energy).
- ``variable`` (``string``): a snake_case name that carries its meaning and unit
  (``conso_naf_habitat_ha``, ``conso_elec_residentiel_mwh``).
- ``value`` (``float64``): missing where the publisher withholds it (statistical secret), never 0.
- ``unit`` (``string``): ``EUR``, ``%``, ``ha``, ``MWh``, ``tCO2e``, ``logements``, ``DPE``,
  ``personnes``, ``ménages`` …

Long format was chosen over wide-per-year because the sources do not share their variables or
years; a long frame concatenates across sources and vintages, and pivots to wide with one call
(``df.pivot_table(index="commune_code", columns="variable", values="value")``).

Checks (:func:`require_columns`, :func:`check_codes`, :func:`to_numeric`, :func:`check_ranges`,
:func:`validate_tidy`) raise :class:`~planeco_kernel.errors.SchemaError` naming the file and the
columns. Re-exported by :mod:`planeco_kernel.sources.base`, where connectors find them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from planeco_kernel.errors import SchemaError

TIDY_COLUMNS: tuple[str, ...] = ("commune_code", "year", "variable", "value", "unit")
"""Columns of every connector's tidy output (``epci_siren`` replaces ``commune_code`` for EPCI)."""

COMMUNE_CODE_PATTERN = r"^[0-9][0-9AB][0-9]{3}$"
"""INSEE commune code (metropolitan, Corsica 2A/2B, overseas 97x)."""

EPCI_SIREN_PATTERN = r"^[0-9]{9}$"
"""SIREN of an EPCI (9 digits)."""

YEAR_RANGE = (1990, 2100)


def require_columns(df: pd.DataFrame, expected: Sequence[str], *, name: str) -> None:
    """Raise :class:`SchemaError` naming the file and the missing columns."""
    missing = [c for c in expected if c not in df.columns]
    if missing:
        raise SchemaError(f"{name}: missing columns {missing} (expected {list(expected)})")


def check_codes(values: pd.Series, *, name: str, column: str, pattern: str = COMMUNE_CODE_PATTERN) -> pd.Series:
    """Check territory codes against ``pattern`` (strings, stripped); return them.

    Raises
    ------
    SchemaError
        Naming the file, the column, the number of bad codes and the first ones.
    """
    codes = values.astype("string").str.strip()
    bad = codes[codes.isna() | ~codes.str.fullmatch(pattern.strip("^$")).fillna(False)]
    if len(bad):
        sample = [str(v) for v in bad.head(5).tolist()]
        raise SchemaError(
            f"{name}: {len(bad)} invalid codes in column {column!r} (expected {pattern}), e.g. {sample}. "
            "Codes must be text with their leading zeros (01001, 2A004): the file was probably "
            "re-saved by a spreadsheet that turned them into numbers."
        )
    return codes


def to_numeric(df: pd.DataFrame, columns: Iterable[str], *, name: str, decimal_comma: bool = False) -> pd.DataFrame:
    """Convert string columns to ``float64``; empty stays missing, anything unparseable is an error.

    Raises
    ------
    SchemaError
        Naming the file, the columns and sample values that are not numbers.
    """
    out = df.copy()
    problems: list[str] = []
    for col in columns:
        raw = out[col].astype("string").str.strip()
        if decimal_comma:
            raw = raw.str.replace(",", ".", regex=False)
        num = pd.to_numeric(raw, errors="coerce")
        bad = raw.notna() & (raw != "") & num.isna()
        if bad.any():
            problems.append(f"{col} {raw[bad].head(3).tolist()}")
        out[col] = num.astype("float64")
    if problems:
        raise SchemaError(f"{name}: non-numeric values in columns " + "; ".join(problems))
    return out


def check_ranges(df: pd.DataFrame, ranges: Mapping[str, tuple[float, float]], *, name: str) -> None:
    """Validate numeric columns against (min, max) ranges with pandera; errors name file and columns.

    Missing values are allowed (statistical secret); values outside their range are not.
    """
    import pandera.pandas as pa

    schema = pa.DataFrameSchema(
        {col: pa.Column(float, pa.Check.in_range(lo, hi), nullable=True, required=True) for col, (lo, hi) in ranges.items()},
        strict=False,
        coerce=False,
    )
    try:
        schema.validate(df, lazy=True)
    except pa.errors.SchemaErrors as exc:
        raise SchemaError(f"{name}: {_summarise_pandera(exc)}") from None


def _summarise_pandera(exc: Any) -> str:
    fc = exc.failure_cases
    parts: list[str] = []
    for col, grp in fc.groupby("column", dropna=False, sort=False):
        checks = ", ".join(sorted({str(c) for c in grp["check"]}))
        sample = [v for v in grp["failure_case"].head(3).tolist()]
        parts.append(f"column {col!r} fails {checks} ({len(grp)} values, e.g. {sample})")
    return "; ".join(parts) + ". The values are out of their documented range: the publisher changed units or layout."


def validate_tidy(df: pd.DataFrame, *, name: str, key: str = "commune_code") -> pd.DataFrame:
    """Validate a connector's tidy output against the declared long schema (pandera).

    Returns the frame with normalised dtypes and columns in :data:`TIDY_COLUMNS` order.
    """
    import pandera.pandas as pa

    pattern = COMMUNE_CODE_PATTERN if key == "commune_code" else EPCI_SIREN_PATTERN
    cols = (key,) + TIDY_COLUMNS[1:]
    require_columns(df, cols, name=name)
    out = df.loc[:, list(cols)].copy()
    out[key] = out[key].astype("string")
    out["year"] = out["year"].astype("int16")
    out["variable"] = out["variable"].astype("string")
    out["value"] = out["value"].astype("float64")
    out["unit"] = out["unit"].astype("string")
    out = out.reset_index(drop=True)
    dup = out.duplicated([key, "year", "variable"])
    if dup.any():
        sample = out.loc[dup, [key, "year", "variable"]].head(3).values.tolist()
        raise SchemaError(f"{name} (tidy output): {int(dup.sum())} duplicated keys ({key}, year, variable), e.g. {sample}")
    schema = pa.DataFrameSchema(
        {
            key: pa.Column("string", pa.Check.str_matches(pattern), nullable=False),
            "year": pa.Column("int16", pa.Check.in_range(*YEAR_RANGE), nullable=False),
            "variable": pa.Column("string", pa.Check.str_matches(r"^[a-z0-9_]+$"), nullable=False),
            "value": pa.Column("float64", nullable=True),
            "unit": pa.Column("string", nullable=False),
        },
        strict=True,
        ordered=True,
    )
    try:
        return schema.validate(out, lazy=True)
    except pa.errors.SchemaErrors as exc:
        raise SchemaError(f"{name} (tidy output): {_summarise_pandera(exc)}") from None


WITHHELD_ATTR = "withheld"
"""Key of :class:`Withheld` in the ``attrs`` of a tidy frame whose withheld cells were dropped."""


@dataclass(frozen=True)
class Withheld:
    """The cells a connector dropped from its tidy frame because the publisher withholds them, and why.

    Kept in the frame's ``attrs`` (:data:`WITHHELD_ATTR`) by :func:`drop_withheld`; the build's source
    step turns them into rows of the bundle's ``missing_reasons`` table. Immutable (``attrs`` are
    copied with every derived frame: a copy is the object itself).
    """

    rows: tuple[tuple[str, str], ...]
    """``(commune_code, variable)`` in the file's geography."""
    reason: str
    """Why, in French (« valeur sous secret statistique … »)."""

    def __deepcopy__(self, memo: dict) -> Withheld:
        return self


def drop_withheld(long: pd.DataFrame, *, name: str, reason: str) -> pd.DataFrame:
    """:func:`validate_tidy` of the rows of ``long`` that have a value; the others (withheld by the
    publisher: statistical secret) are recorded as a :class:`Withheld` in the result's ``attrs``."""
    gone = long["value"].isna()
    out = validate_tidy(long[~gone], name=name)
    rows = long.loc[gone]
    out.attrs[WITHHELD_ATTR] = Withheld(tuple(zip(rows["commune_code"].astype(str), rows["variable"].astype(str),
                                                  strict=True)), reason)
    return out


def withheld(df: pd.DataFrame) -> Withheld | None:
    """The :class:`Withheld` cells of a tidy frame made by :func:`drop_withheld`, or ``None``."""
    got = df.attrs.get(WITHHELD_ATTR)
    return got if isinstance(got, Withheld) else None


def melt(
    wide: pd.DataFrame,
    *,
    key: str,
    year: int | str,
    variables: Mapping[str, tuple[str, str]],
    key_name: str = "commune_code",
) -> pd.DataFrame:
    """Turn a wide frame (one column per source variable) into the tidy long frame.

    Parameters
    ----------
    wide
        Frame with ``key`` and the numeric source columns named in ``variables``.
    year
        The reference year for every row (an ``int``), or the name of the column that holds it.
    variables
        ``{source_column: (variable_name, unit)}``; columns absent from ``wide`` are skipped.
    """
    cols = [c for c in variables if c in wide.columns]
    ids = [key] if isinstance(year, int) else [key, year]
    long = wide.loc[:, [*ids, *cols]].melt(id_vars=ids, var_name="_src", value_name="value")
    codes = pd.Categorical(long["_src"], categories=cols).codes  # vectorised lookup, no per-row dict map
    long["variable"] = np.asarray([variables[c][0] for c in cols], dtype=object)[codes]
    long["unit"] = np.asarray([variables[c][1] for c in cols], dtype=object)[codes]
    if isinstance(year, int):
        long["year"] = year
    else:
        long = long.rename(columns={year: "year"})
    long = long.rename(columns={key: key_name})
    return long[[key_name, "year", "variable", "value", "unit"]].reset_index(drop=True)


def year_prefix_columns(columns: Iterable[str], regex: str) -> list[int]:
    """Two-digit years found in column names by ``regex`` (one group), as full years, sorted."""
    found = {2000 + int(m.group(1)) for c in columns if (m := re.fullmatch(regex, c))}
    return sorted(found)
