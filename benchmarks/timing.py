"""Small timing helpers shared by the benchmarks: repeat a callable, report medians."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Timing:
    name: str
    samples: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    def row(self, unit: str = "ms") -> str:
        scale = {"s": 1.0, "ms": 1e3, "us": 1e6}[unit]
        return f"{self.name:<48} median {self.median * scale:10.3f} {unit}   (n={len(self.samples)}, min {min(self.samples) * scale:.3f}, max {max(self.samples) * scale:.3f})"


def measure(name: str, fn: Callable[[], object], repeat: int = 7, number: int = 1, warmup: int = 1) -> Timing:
    """Time ``fn`` ``repeat`` times (each sample is the mean of ``number`` calls), after ``warmup`` calls."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        samples.append((time.perf_counter() - t0) / number)
    return Timing(name, samples)


def ratio_line(label: str, slow: Timing, fast: Timing) -> str:
    return f"{label:<48} ratio {slow.median / fast.median:8.1f}×  ({slow.name} / {fast.name})"
