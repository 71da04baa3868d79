"""Statistics of one group of territories for comparisons: each indicator's latest values sorted,
their count and median, and the rank of a value among them by binary search. Computed per group on
first use by :class:`planeco_kernel.indicators.comparison.Comparator` (ranking every territory in every
group up front took ~10 s for all France's communes).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class GroupStats:
    """One group's latest values, each indicator's column sorted (NaN last), and their counts."""

    sorted: np.ndarray  # (m, K)
    count: np.ndarray  # (K,) values present
    median: np.ndarray  # (K,) NaN where none

    @classmethod
    def of(cls, sub: np.ndarray) -> GroupStats:
        srt = np.sort(sub, axis=0)  # NaN sorts last
        count = (~np.isnan(sub)).sum(axis=0)
        k = np.arange(sub.shape[1])
        lo = srt[np.maximum((count - 1) // 2, 0), k] if len(srt) else np.full(len(k), np.nan)
        hi = srt[np.minimum(count // 2, max(len(srt) - 1, 0)), k] if len(srt) else np.full(len(k), np.nan)
        median = np.where(count > 0, (lo + hi) / 2, np.nan)
        return cls(srt, count, median)

    def ranks(self, k: int, v: float) -> tuple[float, float, float]:
        """Rank from the top (1 = highest, ties share the best), from the bottom, and percentile
        (share of values ≤ ``v``, × 100) of value ``v`` in indicator ``k``; NaN for a missing ``v``."""
        c = int(self.count[k])
        if math.isnan(v) or c == 0:
            return math.nan, math.nan, math.nan
        col = self.sorted[:c, k]
        below_or_equal = int(col.searchsorted(v, side="right"))
        below = int(col.searchsorted(v, side="left"))
        return float(c - below_or_equal + 1), float(below + 1), 100.0 * below_or_equal / c
