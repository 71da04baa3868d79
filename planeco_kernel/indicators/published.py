"""Indicators with ``aggregation: published``, evaluated on each level's own territorial values.

The territorial components (:mod:`planeco_kernel.indicators.territorial`: régions' Écolab series,
France's baromètre series) are read level by level, never summed from communes; the cube
(:mod:`planeco_kernel.indicators.cube`) stores the result at those levels only.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from planeco_kernel.indicators.catalogue import Indicator


def level_values(comps, names: set[str], level: str, codes: np.ndarray) -> dict[str, np.ndarray]:
    """The territorial components ``names`` at ``level``, as (len(codes), len(years)) arrays (NaN where absent)."""
    years = comps.years
    out = {}
    for name in names:
        df = comps.territorial.get(name, {}).get(level)
        arr = np.full((len(codes), len(years)), np.nan)
        if df is not None and len(df):
            arr = df.reindex(index=pd.Index(codes.astype(str)), columns=years).to_numpy(dtype="float64")
        out[name] = arr
    return out


def evaluate_published(ind: Indicator, comps, level_codes: dict[str, np.ndarray]) -> dict[str, np.ndarray] | None:
    """A ``published`` indicator at each of its levels, on the territorial components' own values
    (never from communes): ``{level: (territories, years) array}``; ``None`` when a component is not
    in the bundle."""
    from dataclasses import replace

    from planeco_kernel.indicators.formula import evaluate

    if any(c not in comps.territorial for c in ind.components):
        return None
    out: dict[str, np.ndarray] = {}
    for level in ind.levels:
        codes = level_codes[level]
        num, den = evaluate(ind, replace(comps, codes=codes, values=level_values(comps, ind.components, level, codes),
                                         flags={}))
        if den is None:
            out[level] = num.copy()
        else:
            with np.errstate(invalid="ignore", divide="ignore"):
                out[level] = ind.scale * np.where(den != 0, num / np.where(den == 0, 1.0, den), np.nan)
    return out
