"""National series of the baromètre and how far they are from their official 2030 target.

:func:`distance_to_target` reads a series of the baromètre's table: the last realised value, the
2030 target and its source (SNBC-3, PPE, SNB…), the gap, the yearly pace observed over the last
three years and the pace needed to reach the target. :func:`distance` is the same computation on
any realised series: the indicator comparisons use it on the cube's France series
(:meth:`planeco_kernel.indicators.comparison.Comparator.national_target`).
"""

from __future__ import annotations

import pandas as pd

from planeco_kernel.errors import PlanecoError

PACE_YEARS = 3


def national_series(indicators: pd.DataFrame, name: str, sub_level: str | None = None) -> pd.DataFrame:
    """Rows of one national series (``value`` and ``target`` kinds); all sub-series summed if ``sub_level`` is None.

    Raises
    ------
    PlanecoError
        If no series has that name (the message lists close names).
    """
    d = indicators[indicators["indicator"] == name]
    if d.empty:
        close = sorted({n for n in indicators["indicator"].dropna().unique() if name.lower()[:12] in n.lower()})[:5]
        raise PlanecoError(f"Série nationale inconnue « {name} »" + (f" ; voisines : {close}" if close else "") + ".")
    if sub_level is not None:
        d = d[d["sub_level"] == sub_level]
    elif d["sub_level"].notna().any() and d["sub_level"].nunique() > 1:
        d = d.groupby(["kind", "year"], as_index=False).agg(
            value=("value", "sum"), unit=("unit", "first"), source=("source", "first"),
            target_source=("target_source", "first"))
    return d


def distance_to_target(indicators: pd.DataFrame, name: str, sub_level: str | None = None, year: int = 2030) -> dict:
    d = national_series(indicators, name, sub_level)
    v = d[d["kind"] == "value"].sort_values("year")
    t = d[(d["kind"] == "target") & (d["year"] == year)]
    if v.empty:
        raise PlanecoError(f"« {name} » : aucune valeur réalisée.")
    target = float(t["value"].iloc[0]) if len(t) else None
    src = d["target_source"].dropna()
    return {
        "indicator": name, "unit": None if d["unit"].dropna().empty else str(d["unit"].dropna().iloc[0]),
        "target_source": None if src.empty else str(src.iloc[0]),
        **distance(v["year"].astype(int).tolist(), v["value"].astype(float).tolist(), target, year),
    }


def distance(years: list[int], values: list[float], target: float | None, year: int = 2030) -> dict:
    """Distance of a realised series (years ascending, no missing value) to its ``year`` target.

    ``last_year``/``last_value``: the latest point; ``observed_pace``: the mean yearly change over the
    last :data:`PACE_YEARS` years (``pace_from``: the first year of that span); ``gap``: latest minus
    target; ``required_pace``: the yearly change that reaches the target in ``year``; ``on_track``:
    whether the observed pace, kept up, reaches it.
    """
    if not years:
        raise PlanecoError("aucune valeur réalisée.")
    last_y, last_v = int(years[-1]), float(values[-1])
    span = [(y, v) for y, v in zip(years, values) if y > last_y - PACE_YEARS]
    first_y, first_v = span[0]
    pace = (last_v - float(first_v)) / max(1, last_y - int(first_y))
    return {
        "last_year": last_y, "last_value": last_v, "target_year": year, "target": target,
        "gap": None if target is None else last_v - target, "observed_pace": pace, "pace_from": int(first_y),
        "required_pace": None if target is None or year <= last_y else (target - last_v) / (year - last_y),
        "on_track": None if target is None or year <= last_y else _on_track(last_v, pace, target, year - last_y),
    }


def _on_track(last: float, pace: float, target: float, years: int) -> bool:
    projected = last + pace * years
    return projected <= target if target <= last else projected >= target
