"""Benchmark of the indicator engine: cube build + roll-up for all France, one comparison, naive ratio.

Run ``python -m benchmarks.bench_indicators [--data-dir DIR] [--repeat N]`` (default bundle:
``PLANECO_DATA_DIR``). Reports medians over repeated runs:

- building and rolling up the cube for all France from the bundle (components loaded from
  ``indicators/components.parquet`` or the user cache, every indicator evaluated and rolled up
  commune → EPCI → SCoT → département → région → France; goal < 1 s);
- one territory's full comparison, warm (goal < 10 ms);
- the roll-up of one indicator through all levels, vectorised vs a naive reference written with
  plain Python/pandas loops (ratio);
- the bundle's own build time (``build_seconds`` of its manifest: ``planeco data build`` with all
  the sources it could read) and the number of sources it includes.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import sys
from pathlib import Path

from benchmarks.timing import measure, ratio_line


def naive_rollup_all_levels(cube, indicator_id: str) -> dict:
    """Plain loops: for each level and territory, sum the members' numerators/denominators."""
    from planeco_kernel.indicators.cube import PARENT_COLUMNS
    from planeco_kernel.indicators.formula import evaluate

    ind = cube.catalogue.indicators[indicator_id]
    comps = cube.components
    num, den = evaluate(ind, comps)
    t = cube.territories
    communes = t[t["level"] == "commune"].set_index("code").reindex(comps.codes)
    out = {}
    for level in ("epci", "scot", "departement", "region", "france"):
        parents = ["FR"] * len(communes) if level == "france" else communes[PARENT_COLUMNS[level]].tolist()
        result: dict[str, list[float]] = {}
        for j in range(len(comps.years)):
            sums: dict[str, list[float]] = {}
            for i, p in enumerate(parents):
                if p is None:
                    continue
                a = num[i, j]
                b = den[i, j] if den is not None else 0.0
                if math.isnan(a) or math.isnan(b):
                    continue
                acc = sums.setdefault(p, [0.0, 0.0])
                acc[0] += a
                acc[1] += b
            for p, (a, b) in sums.items():
                result.setdefault(p, [math.nan] * len(comps.years))[j] = a if den is None else (ind.scale * a / b if b else math.nan)
        out[level] = result
    return out


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print one line per measure; return 0 (2 if there is no bundle)."""
    parser = argparse.ArgumentParser(prog="bench_indicators", description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=None, help="bundle directory (default PLANECO_DATA_DIR)")
    parser.add_argument("--repeat", type=int, default=7, help="repetitions per measure (median reported)")
    parser.add_argument("--code", default="01004", help="territory compared (default 01004)")
    args = parser.parse_args(argv)

    from planeco_kernel import config
    from planeco_kernel.errors import PlanecoError
    from planeco_kernel.indicators.catalogue import load_catalogue
    from planeco_kernel.indicators.comparison import Comparator
    from planeco_kernel.indicators.components import load_components
    from planeco_kernel.indicators.cube import _territories, build_cube

    data_dir = (args.data_dir or config.data_dir()).resolve()
    try:
        load_components(data_dir)  # warm the components cache (assembled once per bundle)
    except (PlanecoError, FileNotFoundError) as exc:
        print(f"Erreur : {exc}", file=sys.stderr)
        return 2

    def build():
        return build_cube(load_components(data_dir), _territories(data_dir))

    t_build = measure("cube build + roll-up, all France (load + compute)", build, repeat=args.repeat)
    cube = build()
    comps = cube.components
    n_avail = len(cube.available())
    t_compute = measure("cube roll-up only (components in memory)", lambda: build_cube(comps, cube.territories),
                        repeat=args.repeat)
    comparator = Comparator(cube)
    t_first = measure(f"first comparison of {args.code} (ranks of the level)", lambda: Comparator(cube).compare(args.code),
                      repeat=3, warmup=0)
    t_cmp = measure(f"one territory's full comparison ({args.code}), warm", lambda: comparator.compare(args.code),
                    repeat=args.repeat, number=50)
    one = dataclasses.replace(cube.catalogue, indicators={"population": cube.catalogue.indicators["population"]})
    t_fast = measure("roll-up of `population`, all levels, vectorised", lambda: build_cube(comps, cube.territories, one),
                     repeat=args.repeat)
    t_naive = measure("roll-up of `population`, all levels, naive loops", lambda: naive_rollup_all_levels(cube, "population"),
                      repeat=3)
    print(f"bundle: {data_dir}  ({len(comps.codes)} communes, {len(comps.years)} years, "
          f"{len(cube.catalogue)} indicators, {n_avail} with values)")
    print(t_build.row("ms") + "   goal < 1000 ms")
    print(t_compute.row("ms"))
    print(t_first.row("ms"))
    print(t_cmp.row("ms") + "   goal < 10 ms")
    print(t_fast.row("ms"))
    print(t_naive.row("ms"))
    print(ratio_line("naive / vectorised roll-up", t_naive, t_fast))
    from planeco_kernel.bundle.reader import open_bundle

    man = open_bundle(data_dir).manifest
    included = sorted({s.get("source") for s in man.indicator_sources if s.get("included")})
    print(f"bundle build (planeco data build, manifest build_seconds): {man.raw.get('build_seconds')} s; "
          f"indicator sources included: {', '.join(included) or 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
