"""Benchmarks of the trajectories and the COP app: split of a SCoT envelope, a lever change.

Targets (issue 12): a split of a 150-commune SCoT envelope < 50 ms; a lever change recomputes and
redraws the sector gaps and the coverage gauges < 200 ms. Real data: the SCoT of the bundle whose
size is nearest 150 communes (keys: population, population growth, equal parts, with the floors
pooled by EPCI), and the COP app of Auvergne-Rhône-Alpes. Run ``python -m benchmarks trajectories``.
"""

from __future__ import annotations

import statistics
import sys
import time


def _median(fn, repeat: int) -> float:
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return statistics.median(out)


def main(argv: list[str] | None = None) -> int:
    from planeco_kernel.trajectories.data import load_planning
    from planeco_kernel.trajectories.split import key_values, split_envelope

    pdata = load_planning()
    c = pdata.territories[pdata.territories["level"] == "commune"]
    sizes = c.groupby("scot_code").size()
    scot = (sizes - 150).abs().idxmin()
    communes = c[c["scot_code"] == scot]
    weights = {"population": 0.5, "croissance_pop": 0.3, "egal": 0.2}
    values = key_values(pdata, communes, list(weights))
    pools = communes.set_index("code")["epci_code"]
    envelope = 0.6 * len(communes) + 50.0  # tight enough that many floors bind

    def split():
        r = split_envelope(envelope, values, weights, pools=pools)
        assert r.sum_check["ok"]

    def split_with_keys():
        split_envelope(envelope, key_values(pdata, communes, list(weights)), weights, pools=pools)

    t_split = _median(split, 30)
    t_keys = _median(split_with_keys, 10)
    print(f"split of SCoT {scot} ({len(communes)} communes, floors pooled): median {t_split * 1e3:.2f} ms "
          f"(target < 50 ms); with key computation {t_keys * 1e3:.2f} ms")

    from planeco_kernel.apps.cop import CopApp

    app = CopApp(pdata, kb=None, region_code="84")
    lever = app.data.levers[0].lever_id
    values_cycle = iter(range(10_000))

    def lever_change():
        app.set_level(lever, 1000.0 + next(values_cycle))

    t_lever = _median(lever_change, 30)
    print(f"COP lever change (sector gaps + coverage gauges redrawn): median {t_lever * 1e3:.2f} ms (target < 200 ms)")
    ok = t_split < 0.05 and t_lever < 0.2
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
