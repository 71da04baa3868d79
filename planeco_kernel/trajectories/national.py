"""National series of the baromètre and how far they are from their official 2030 target.

:func:`distance_to_target` is what a comparison shows for France when an indicator has a national
target: the last realised value, the 2030 target and its source (SNBC-3, PPE, SNB…), the gap, the
yearly pace observed over the last three years and the pace needed to reach the target.
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
    last_y, last_v = int(v["year"].iloc[-1]), float(v["value"].iloc[-1])
    tail = v[v["year"] > last_y - PACE_YEARS]
    pace = (float(tail["value"].iloc[-1]) - float(tail["value"].iloc[0])) / max(1, int(tail["year"].iloc[-1]) - int(tail["year"].iloc[0]))
    target = float(t["value"].iloc[0]) if len(t) else None
    src = d["target_source"].dropna()
    return {
        "indicator": name, "unit": None if d["unit"].dropna().empty else str(d["unit"].dropna().iloc[0]),
        "last_year": last_y, "last_value": last_v, "target_year": year, "target": target,
        "target_source": None if src.empty else str(src.iloc[0]),
        "gap": None if target is None else last_v - target, "observed_pace": pace,
        "required_pace": None if target is None or year <= last_y else (target - last_v) / (year - last_y),
        "on_track": None if target is None or year <= last_y else _on_track(last_v, pace, target, year - last_y),
    }


def _on_track(last: float, pace: float, target: float, years: int) -> bool:
    projected = last + pace * years
    return projected <= target if target <= last else projected >= target
