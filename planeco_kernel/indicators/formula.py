"""Evaluate an indicator's numerator and denominator on the commune components (vectorised).

Each component is a (communes × years) array; year selectors shift along the year axis:
``x[-5]`` reads year y-5, ``x[-5:-1]`` sums years y-5 … y-1 (missing if one is missing),
``x[~]`` reads the nearest year where ``x`` has values (ties: the later year).
"""

from __future__ import annotations

import numpy as np

from planeco_kernel.indicators.catalogue import Expression, Factor, Indicator
from planeco_kernel.indicators.components import Components


class Unavailable(Exception):
    """An indicator cannot be computed; the message (French) says why and how to get it."""


def _shifted(arr: np.ndarray, years: list[int], lag: int) -> np.ndarray:
    """``arr`` with each year's column taken from year + ``lag`` (NaN where that year is absent)."""
    pos = {y: j for j, y in enumerate(years)}
    src = np.array([pos.get(y + lag, -1) for y in years], dtype=np.int64)
    out = arr[:, np.where(src >= 0, src, 0)]  # one gather for all years
    if (src < 0).any():
        out[:, src < 0] = np.nan
    return out


def _nearest(arr: np.ndarray, years: list[int]) -> np.ndarray:
    """Each year's column from the nearest year that has a value (the later one on a tie)."""
    have = np.flatnonzero(~np.isnan(arr).all(axis=0)).tolist()
    if not have:
        return np.full_like(arr, np.nan)
    src = [min(have, key=lambda h: (abs(years[h] - y), -years[h])) for y in years]
    return arr[:, np.asarray(src, dtype=np.int64)]


def _factor(f: Factor, comps: Components) -> np.ndarray | float:
    if f.component is None:
        return f.number
    arr = comps.values[f.component]
    if f.nearest:
        return _nearest(arr, comps.years)
    total = None
    for lag in f.lags():
        part = arr if lag == 0 else _shifted(arr, comps.years, lag)
        total = part if total is None else total + part
    return total


def evaluate_expression(expr: Expression, comps: Components) -> np.ndarray:
    """The (communes × years) values of an expression; NaN wherever one of its inputs is missing."""
    result = None
    for term in expr.terms:
        value: np.ndarray | float = term.sign
        for f in term.factors:
            value = value * _factor(f, comps)
        if np.isscalar(value):
            value = np.full((len(comps.codes), len(comps.years)), float(value))
        result = value if result is None else result + value
    return result


def evaluate(ind: Indicator, comps: Components) -> tuple[np.ndarray, np.ndarray | None]:
    """Numerator and denominator arrays of ``ind`` per commune and year.

    Raises
    ------
    Unavailable
        A component is missing; the message names the source and why it is absent.
    """
    missing = sorted(c for c in ind.components if c not in comps.values)
    if missing:
        sources = sorted({_source_of(ind, c) for c in missing})
        reasons = []
        for s in sources:
            st = comps.sources.get(s)
            if st is not None and not st.available:
                why = st.reason
            else:
                mine = [c for c in missing if _source_of(ind, c) == s]
                notes = [n for n in dict.fromkeys(_when_absent(c) for c in mine) if n]
                why = " ; ".join(n.rstrip(".") for n in notes) + "." if notes else (
                    "la source est lue mais ne contient pas " + ", ".join(mine) + " pour cette géographie.")
            reasons.append(f"source « {s} » : {why}")
        raise Unavailable("Indisponible — " + " ".join(reasons))
    num = evaluate_expression(ind.numerator, comps)
    den = evaluate_expression(ind.denominator, comps) if ind.denominator is not None else None
    return num, den


def _when_absent(component: str) -> str:
    from planeco_kernel.indicators.catalogue import load_catalogue

    comp = load_catalogue().components.get(component)
    return comp.when_absent if comp is not None else ""


def _source_of(ind: Indicator, component: str) -> str:
    from planeco_kernel.indicators.catalogue import load_catalogue

    comp = load_catalogue().components.get(component)
    return comp.source if comp is not None else ind.source
