"""Benchmark of the map helpers on the real bundle: load times, GeoJSON sizes and build times, classification.

Run: ``python -m benchmarks geo`` (bundle from ``PLANECO_DATA_DIR``). Reports medians over repeated
runs; the cold import of the module is measured once.
"""

from __future__ import annotations

import json
import time

from benchmarks.timing import measure
from planeco_kernel import config


def main(argv: list[str] | None = None) -> int:
    t0 = time.perf_counter()
    from planeco_kernel import geo

    print(f"import planeco_kernel.geo (cold, once)              {time.perf_counter() - t0:.3f} s")
    data = config.data_dir()
    for name in ("communes.parquet", "display.parquet"):
        size = (data / "geometry" / name).stat().st_size
        print(f"geometry/{name:<42} {size / 1e6:6.1f} MB")
    for dep in ("15", "62", "59", "2A", "974"):
        n = len(geo.load_display("commune", data_dir=data, within=("departement", dep)))
        print(measure(f"load communes of département {dep} ({n})",
                      lambda dep=dep: geo.load_display("commune", data_dir=data, within=("departement", dep))).row("ms"))
    for reg, label in (("53", "Bretagne"), ("84", "Auvergne-Rhône-Alpes")):
        df = geo.load_display("commune", data_dir=data, within=("region", reg))
        text = json.dumps(geo.to_geojson(df, precision=4), separators=(",", ":"))
        print(measure(f"GeoJSON {label} communes ({len(df)}, {len(text) / 1e6:.2f} MB)",
                      lambda df=df: geo.to_geojson(df, precision=4), repeat=5).row("ms"))
    for level in ("epci", "departement", "region"):
        df = geo.load_display(level, data_dir=data)
        text = json.dumps(geo.to_geojson(df), separators=(",", ":"))
        print(f"GeoJSON all {level} ({len(df)}){'':<28} {len(text) / 1e6:6.2f} MB")
    import numpy as np

    x = np.random.default_rng(0).lognormal(3, 1, 35_000)
    for method in ("quantiles", "jenks"):
        print(measure(f"classify 35 000 values, {method}", lambda m=method: geo.classify(x, 5, m), repeat=5).row("ms"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
