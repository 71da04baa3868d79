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


def _sources(f: Factor, comps: Components) -> list[np.ndarray]:
    """For each lag of ``f``, the year column every output year reads (-1: that year is absent)."""
    years = comps.years
    if f.nearest:
        have = np.flatnonzero(comps.live(f.component)).tolist()
        if not have:
            return [np.full(len(years), -1, dtype=np.int64)]
        return [np.asarray([min(have, key=lambda h: (abs(years[h] - y), -years[h])) for y in years], dtype=np.int64)]
    pos = {y: j for j, y in enumerate(years)}
    return [np.array([pos.get(y + lag, -1) for y in years], dtype=np.int64) for lag in f.lags()]


def _live(expr: Expression, comps: Components) -> np.ndarray:
    """The year columns where ``expr`` can have a value: every factor it reads has one there.

    A missing input makes the result missing (NaN propagates through ``+`` and ``×``), so the
    other columns are all-NaN and need not be computed (a census indicator has 2 of 17 years)."""
    live = np.ones(len(comps.years), dtype=bool)
    for term in expr.terms:
        for f in term.factors:
            if f.component is None:
                continue
            has = comps.live(f.component)
            for src in _sources(f, comps):
                live &= (src >= 0) & has[np.maximum(src, 0)]
    return live


def consecutive(cols: np.ndarray) -> slice | None:
    """``cols`` as a slice when they are consecutive increasing columns (``arr[:, slice]`` is a
    view, no copy); ``None`` otherwise (or when empty)."""
    if len(cols) and cols[-1] - cols[0] + 1 == len(cols) and (np.diff(cols) == 1).all():
        return slice(int(cols[0]), int(cols[-1]) + 1)
    return None


def _factor(f: Factor, comps: Components, cols: np.ndarray) -> np.ndarray | float:
    """The values ``f`` reads on the year columns ``cols``: a read-only view of the component when
    those columns are consecutive (no copy), else a gather. Callers never write into it."""
    if f.component is None:
        return f.number
    arr = comps.values[f.component]
    total = None
    for src in _sources(f, comps):
        picked = src[cols]
        run = consecutive(picked)
        if run is not None:
            part = arr[:, run]
            part.flags.writeable = False
        else:
            part = arr[:, picked]  # one gather of the live columns, shifted by the lag
        total = part if total is None else total + part
    return total


def _narrow(expr: Expression, comps: Components, cols: np.ndarray) -> np.ndarray:
    """The (communes × ``cols``) values of an expression on the year columns ``cols`` (may be a
    read-only view of a component: never written into)."""
    result: np.ndarray | float | None = None
    for term in expr.terms:
        value: np.ndarray | float = term.sign
        for f in term.factors:
            factor = _factor(f, comps, cols)
            # × 1 would only copy: a term of one factor is that factor (bitwise the same values)
            value = factor if (isinstance(value, int | float) and value == 1 and not np.isscalar(factor)) else value * factor
        result = value if result is None else result + value
    if np.isscalar(result):
        return np.full((len(comps.codes), len(cols)), float(result))
    return result


def evaluate_expression(expr: Expression, comps: Components, cols: np.ndarray | None = None) -> np.ndarray:
    """The (communes × years) values of an expression; NaN wherever one of its inputs is missing.

    Only the live year columns (:func:`_live`, or ``cols``) are computed; the others are NaN."""
    n, n_years = len(comps.codes), len(comps.years)
    if cols is None:
        cols = np.flatnonzero(_live(expr, comps))
    out = np.full((n, n_years), np.nan)
    if len(cols):
        out[:, cols] = _narrow(expr, comps, cols)
    return out


def evaluate_columns(ind: Indicator, comps: Components) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """Numerator and denominator of ``ind`` on the year columns where both can have a value:
    ``(num, den, cols)``, arrays of shape (communes × len(cols)). Every other year column of the
    indicator is missing (NaN) — computing it would only allocate NaN (the cube's hot path).

    Raises
    ------
    Unavailable
        As :func:`evaluate`.
    """
    _check_components(ind, comps)
    live = _live(ind.numerator, comps)
    if ind.denominator is not None:
        live = live & _live(ind.denominator, comps)
    cols = np.flatnonzero(live)
    num = _narrow(ind.numerator, comps, cols)
    den = _narrow(ind.denominator, comps, cols) if ind.denominator is not None else None
    return num, den, cols


def evaluate(ind: Indicator, comps: Components) -> tuple[np.ndarray, np.ndarray | None]:
    """Numerator and denominator arrays of ``ind`` per commune and year.

    Raises
    ------
    Unavailable
        A component is missing; the message names the source and why it is absent.
    """
    _check_components(ind, comps)
    num = evaluate_expression(ind.numerator, comps)
    den = evaluate_expression(ind.denominator, comps) if ind.denominator is not None else None
    return num, den


def _check_components(ind: Indicator, comps: Components) -> None:
    """Raise :class:`Unavailable` (French, with the sources' reasons) if a component is missing."""
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


def _when_absent(component: str) -> str:
    from planeco_kernel.indicators.catalogue import load_catalogue

    comp = load_catalogue().components.get(component)
    return comp.when_absent if comp is not None else ""


def _source_of(ind: Indicator, component: str) -> str:
    from planeco_kernel.indicators.catalogue import load_catalogue

    comp = load_catalogue().components.get(component)
    return comp.source if comp is not None else ind.source
