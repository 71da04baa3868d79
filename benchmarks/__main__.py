"""Run the benchmarks: ``python -m benchmarks`` (all) or ``python -m benchmarks territory kb``."""

from __future__ import annotations

import importlib
import pkgutil
import sys
import time
from pathlib import Path


def _names() -> list[str]:
    here = Path(__file__).parent
    return sorted(m.name[len("bench_"):] for m in pkgutil.iter_modules([str(here)]) if m.name.startswith("bench_"))


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    available = _names()
    if args in (["-h"], ["--help"]):
        print("usage: python -m benchmarks [NAME ...]\navailable: " + ", ".join(available))
        return 0
    unknown = [a for a in args if a not in available]
    if unknown:
        print(f"unknown benchmark(s) {unknown}; available: {', '.join(available)}", file=sys.stderr)
        return 2
    status = 0
    for name in args or available:
        print(f"\n=== benchmark: {name}")
        t0 = time.perf_counter()
        module = importlib.import_module(f"benchmarks.bench_{name}")
        rc = module.main([])
        print(f"--- {name}: done in {time.perf_counter() - t0:.1f} s (exit {rc})")
        status = status or rc
    return status


if __name__ == "__main__":
    sys.exit(main())
