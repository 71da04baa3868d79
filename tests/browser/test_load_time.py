"""Time until the app's widgets are visible in Chromium: Fiche territoire vs a hello-world app.

Both apps are served by the same ``planeco serve`` (only the needed front-end extensions; the
session's server has no preheated pool, see ``conftest.server``: each visit starts its kernel).
Runs alternate, with a short pause so that the previous visit's kernel is idle, as for a visitor
arriving on an idle server. Results go to ``tests/artifacts/load_times.json``.
"""

from __future__ import annotations

import json
import statistics
import time

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

APPS = {
    "hello": ("voila/render/hello.ipynb", "h1.hello"),
    "fiche_territoire": ("voila/render/fiche_territoire.ipynb", ".planeco-search input"),
    "fiche_territoire_lien_direct": ("voila/render/fiche_territoire.ipynb?territoire=42218", "img.planeco-chart-img"),
}
RUNS = 3
REFILL_PAUSE_S = 2.0
"""No pool to refill (``--pool-size 0``): 8 s pauses here cost 80 s of the suite for nothing."""


def _visible_after(offline_page, url: str, selector: str) -> float:
    op = offline_page()
    try:
        t0 = time.perf_counter()
        op.page.goto(url, wait_until="commit")
        op.page.locator(selector).first.wait_for(state="visible", timeout=90_000)
        return time.perf_counter() - t0
    finally:
        op.close()


def test_time_to_widgets(server, offline_page, artifacts_dir):
    time.sleep(REFILL_PAUSE_S)  # the server settled after start-up
    times: dict[str, list[float]] = {k: [] for k in APPS}
    for _ in range(RUNS):
        for name, (path, selector) in APPS.items():
            times[name].append(_visible_after(offline_page, server + path, selector))
            time.sleep(REFILL_PAUSE_S)
    report = {name: {"runs_s": [round(t, 2) for t in ts], "median_s": round(statistics.median(ts), 2)}
              for name, ts in times.items()}
    (artifacts_dir / "load_times.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    print(json.dumps(report, indent=2))
    # Generous bound: catches a lost preheat or a CDN wait, not machine noise.
    assert report["fiche_territoire"]["median_s"] < 15
    assert report["fiche_territoire"]["median_s"] < report["hello"]["median_s"] + 8
