"""Benchmark of the territory model: load, get by code, resolve by name, search.

Run ``python -m benchmarks.bench_territory [--data-dir DIR] [--repeat N]`` (default bundle:
``PLANECO_DATA_DIR``). Prints the median over repeated runs of each operation; per-call times
are medians over batches of calls. Not a pytest test.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path


def _median_seconds(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _per_call(fn: Callable[[], object], repeat: int, batch: int) -> float:
    def run_batch() -> None:
        for _ in range(batch):
            fn()

    return _median_seconds(run_batch, repeat) / batch


def _fmt(seconds: float) -> str:
    if seconds >= 1e-1:
        return f"{seconds:8.3f} s "
    if seconds >= 1e-3:
        return f"{seconds * 1e3:8.2f} ms"
    return f"{seconds * 1e6:8.2f} µs"


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print one line per measure; return 0 (2 if there is no bundle)."""
    parser = argparse.ArgumentParser(prog="bench_territory", description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=None, help="bundle directory (default PLANECO_DATA_DIR)")
    parser.add_argument("--repeat", type=int, default=7, help="repetitions per measure (median reported)")
    parser.add_argument("--batch", type=int, default=2000, help="calls per batch for per-call timings")
    args = parser.parse_args(argv)

    from planeco_kernel import config
    from planeco_kernel.errors import BundleError
    from planeco_kernel.territory import TerritoryModel, clear_cache, load_model
    from planeco_kernel.territory.names import normalize

    data_dir = (args.data_dir or config.data_dir()).resolve()
    try:
        model = TerritoryModel(data_dir)
    except BundleError as exc:
        print(f"Erreur : {exc}", file=sys.stderr)
        return 2
    rep, batch = max(1, args.repeat), max(1, args.batch)

    def cold_load() -> None:
        clear_cache()
        load_model(data_dir)

    rows: list[tuple[str, float]] = [("load_model (territories.parquet, cold cache)", _median_seconds(cold_load, rep))]

    def fresh(attr: Callable[[TerritoryModel], object]) -> Callable[[], object]:
        def run() -> object:
            normalize.cache_clear()  # no help from a previous run's normalized names
            return attr(TerritoryModel(data_dir))
        return run

    load_only = _median_seconds(lambda: TerritoryModel(data_dir), rep)
    rows.append(("first name look-up (load + name index)", _median_seconds(fresh(lambda m: m.resolve("Lyon")), rep)))
    rows.append(("first population (load + population index)",
                 _median_seconds(fresh(lambda m: m.get("75056").population), rep)))
    rows.append(("first history/old code (load + code_history)",
                 _median_seconds(fresh(lambda m: m.resolve("01340")), max(1, rep // 2))))
    rows.append(("first fuzzy (load + names + trigram index)",
                 _median_seconds(fresh(lambda m: m.search("Saint-Etiene")), max(1, rep // 2))))

    model = load_model(data_dir)
    model.resolve("Lyon"), model.get("75056").population, model.search("Saint-Etiene")
    rows += [
        ("get('01001')", _per_call(lambda: model.get("01001"), rep, batch)),
        ("get('75', level='region')", _per_call(lambda: model.get("75", level="region"), rep, batch)),
        ("get('200046977') (SIREN)", _per_call(lambda: model.get("200046977"), rep, batch)),
        ("resolve('st etienne') (name)", _per_call(lambda: model.resolve("st etienne"), rep, batch)),
        ("resolve('Saint-Denis (93)')", _per_call(lambda: model.resolve("Saint-Denis (93)"), rep, batch)),
        ("resolve('75') (dép./région note)", _per_call(lambda: model.resolve("75"), rep, batch)),
        ("population of a commune", _per_call(lambda: model.get("01001").population, rep, batch)),
        ("to_dict() of a commune", _per_call(lambda: model.get("01001").to_dict(), rep, batch // 10)),
        ("search('saint-etienne')", _per_call(lambda: model.search("saint-etienne"), rep, max(1, batch // 100))),
        ("search('marseille', level='commune')",
         _per_call(lambda: model.search("marseille", level="commune"), rep, max(1, batch // 100))),
        ("search('Saint-Etiene') (fuzzy)", _per_call(lambda: model.search("Saint-Etiene"), rep, max(1, batch // 100))),
        ("resolve('Bourg en Bresee') (fuzzy)",
         _per_call(lambda: _swallow(model.resolve, "Bourg en Bresee"), rep, max(1, batch // 100))),
    ]
    print(f"Territory model benchmark — {data_dir} ({len(model)} territories), median of {rep} runs")
    print(f"{'TerritoryModel() only':<48} {_fmt(load_only)}")
    for label, seconds in rows:
        print(f"{label:<48} {_fmt(seconds)}")
    return 0


def _swallow(fn: Callable[[str], object], arg: str) -> object:
    from planeco_kernel.errors import PlanecoError

    try:
        return fn(arg)
    except PlanecoError as exc:
        return exc


if __name__ == "__main__":
    sys.exit(main())
