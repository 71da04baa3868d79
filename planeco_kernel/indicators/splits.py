"""Split and recreated communes in the cube: which rows describe a former territory, and how roll-ups
count them (:mod:`planeco_kernel.indicators.cube` calls these).

A commune split from another keeps, in the years before the split, values that describe its former
territory: they are missing at commune level (``split_unallocated`` / ``split_recreated`` flags of the
components) while the roll-ups count them inside the holder's value; a parent territory that only
some members of a split group belong to gets no value for the years the split blurs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from planeco_kernel.indicators.catalogue import Indicator
from planeco_kernel.indicators.components import Components
from planeco_kernel.indicators.formula import evaluate
from planeco_kernel.levels import PARENT_COLUMNS


def flagged_rows(comps: Components) -> np.ndarray:
    """Communes with any split-flagged value (a few dozen): the only rows the split rules touch."""
    if not comps.flags:
        return np.zeros(0, dtype=np.int64)
    n_years = len(comps.years)  # flags are sparse: the positions of their True values, row by row
    rows = [np.flatnonzero(f.reshape(-1)) // n_years for f in comps.flags.values()]
    return np.unique(np.concatenate(rows)) if rows else np.zeros(0, dtype=np.int64)


def row_subset(comps: Components, rows: np.ndarray, names: set[str]) -> Components:
    """The components of some communes only (formulas are evaluated commune by commune)."""
    from dataclasses import replace

    return replace(comps, codes=comps.codes[rows], values={c: comps.values[c][rows] for c in names if c in comps.values},
                   flags={c: f[rows] for c, f in comps.flags.items() if c in names})


def split_mask(ind: Indicator, comps: Components, rows: np.ndarray | None = None) -> np.ndarray:
    """Where a commune's value of ``ind`` reads a split-flagged component value.

    ``rows`` (:func:`_flagged_rows`): evaluate only those communes, the others cannot be flagged."""
    shape = (len(comps.codes), len(comps.years))
    if not any(c in comps.flags for c in ind.components):
        return np.zeros(shape, dtype=bool)
    if rows is not None:
        out = np.zeros(shape, dtype=bool)
        if len(rows):
            out[rows] = split_mask(ind, row_subset(comps, rows, ind.components))
        return out
    from dataclasses import replace

    poisoned = {
        c: np.where(comps.flags[c], np.nan, np.where(np.isnan(comps.values[c]), np.nan, 0.0))
        if c in comps.flags else comps.values[c] * 0.0
        for c in ind.components
    }
    num, den = evaluate(ind, replace(comps, values=poisoned))
    num0, den0 = evaluate(ind, replace(comps, values={c: comps.values[c] * 0.0 for c in ind.components}))
    bad = np.isnan(num) & ~np.isnan(num0)
    if den is not None and den0 is not None:
        bad |= np.isnan(den) & ~np.isnan(den0)
    return bad


def covered_as_zero(comps: Components) -> Components:
    """The components with the missing values of split-flagged communes set to 0 in the years
    where another member of their split group holds a flagged value (which covers them).

    Only flagged values change: the cube calls it on the flagged rows alone (:func:`row_subset`)."""
    from dataclasses import replace

    if not comps.flags or not comps.split_groups:
        return comps
    pos = {c: i for i, c in enumerate(comps.codes)}
    values = dict(comps.values)
    for name, flag in comps.flags.items():
        arr = values[name].copy()
        for group in comps.split_groups:
            idx = np.array([pos[c] for c in group if c in pos], dtype=np.int64)
            held = (flag[idx] & ~np.isnan(arr[idx])).any(axis=0)
            covered = flag[idx] & np.isnan(arr[idx]) & held[None, :]
            sub = arr[idx]
            sub[covered] = 0.0
            arr[idx] = sub
        values[name] = arr
    return replace(comps, values=values)


def crossing_split_groups(comps: Components, communes: pd.DataFrame) -> dict[str, np.ndarray]:
    """``{level: bool per commune}``: members of split groups whose communes lie in several
    territories of the level (their flagged values cannot be summed there)."""
    pos = {c: i for i, c in enumerate(comps.codes)}
    out: dict[str, np.ndarray] = {}
    for level, col in PARENT_COLUMNS.items():
        mask = np.zeros(len(comps.codes), dtype=bool)
        parents = communes[col] if col in communes.columns else pd.Series(None, index=communes.index)
        for group in comps.split_groups:
            idx = [pos[c] for c in group if c in pos]
            if len({parents.iloc[i] for i in idx}) > 1:
                mask[idx] = True
        out[level] = mask
    return out
