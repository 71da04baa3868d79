"""Benchmark of the map helpers on the real bundle: load times, GeoJSON sizes, file sizes.

Run: ``PLANECO_DATA_DIR=/path/to/bundle python benchmarks/bench_geo.py``. Prints one line per
measure; the first load includes the pyarrow import (cold), the others are warm.
"""

from __future__ import annotations

import json
import time

from planeco_kernel import config


def main() -> None:
    t0 = time.perf_counter()
    from planeco_kernel import geo

    print(f"import planeco_kernel.geo: {time.perf_counter() - t0:.3f} s")
    data = config.data_dir()
    for name in ("communes.parquet", "display.parquet"):
        size = (data / "geometry" / name).stat().st_size
        print(f"geometry/{name}: {size / 1e6:.1f} MB")
    for dep in ("15", "62", "59", "2A", "974"):
        t = time.perf_counter()
        df = geo.load_display("commune", data_dir=data, within=("departement", dep))
        print(f"load communes of département {dep}: {len(df)} rows in {1000 * (time.perf_counter() - t):.1f} ms")
    for reg, label in (("53", "Bretagne"), ("84", "Auvergne-Rhône-Alpes")):
        df = geo.load_display("commune", data_dir=data, within=("region", reg))
        for precision in (4, 5):
            t = time.perf_counter()
            text = json.dumps(geo.to_geojson(df, precision=precision), separators=(",", ":"))
            print(f"GeoJSON {label} communes ({len(df)}), {precision} decimals: {len(text) / 1e6:.2f} MB "
                  f"in {1000 * (time.perf_counter() - t):.0f} ms")
    for level in ("epci", "departement", "region", "france"):
        df = geo.load_display(level, data_dir=data)
        text = json.dumps(geo.to_geojson(df), separators=(",", ":"))
        print(f"GeoJSON all {level} ({len(df)}): {len(text) / 1e6:.2f} MB")
    import numpy as np

    x = np.random.default_rng(0).lognormal(3, 1, 35_000)
    for method in ("quantiles", "jenks"):
        t = time.perf_counter()
        geo.classify(x, 5, method)
        print(f"classify 35 000 values, {method}: {1000 * (time.perf_counter() - t):.0f} ms")


if __name__ == "__main__":
    main()
