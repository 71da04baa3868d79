"""Browser benchmark of the « Comparateur territorial » app, measured in headless Chromium.

Run: ``PLANECO_DATA_DIR=/path/to/bundle python -m benchmarks apps`` (or ``python benchmarks/bench_apps.py``).
Starts ``planeco serve`` (preheated kernels, as in production) on a free port with the apps of
the checkout plus a hello-world app, then reports medians of:

1. time to interactive: navigation start → the app's widgets visible, for the hello-world app,
   the comparator (search box visible) and the comparator opened by a deep link (cards and map
   legend shown); runs alternate, each after Voilà has logged that the app's preheated kernel
   pool is filled again and has had time to preload (a visitor arriving on an idle server);
2. territory switch: click on a search result → the new territory's cards *and* map legend in
   the page (the legend is sent after the map layer), plus two animation frames (painted);
3. map of all the communes of a département (Loire, 320) and of a région
   (Auvergne-Rhône-Alpes, 4 025): click → choropleth layer replaced and legend shown, painted.

Switch and map times are measured inside the page (``performance.now()``), the click being
dispatched by the same script. Network: every non-local request fails (offline, :data:`DEAD_PROXY`);
every page is left as a person closes a tab (:func:`leave`: Voilà then shuts its kernel down).
Results are printed and written to ``tests/artifacts/bench_apps.json``.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urljoin, urlsplit

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
HELLO = {
    "cells": [{"cell_type": "code", "id": "hello", "metadata": {}, "execution_count": None, "outputs": [],
               "source": "import ipywidgets as widgets\nwidgets.HTML('<h1 class=\"hello\">Bonjour</h1>')"}],
    "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    "nbformat": 4, "nbformat_minor": 5,
}
"""Hello-world app (test data, not a planeco app): the baseline of load-time measurements (also of the browser tests)."""
APP = "voila/render/comparateur.ipynb"
TTI_RUNS = int(os.environ.get("PLANECO_BENCH_RUNS", "5"))
REFILL_TIMEOUT_S = 90.0
REFILL_SETTLE_S = float(os.environ.get("PLANECO_BENCH_SETTLE_S", "15"))
"""Voilà logs « pool is filled » as soon as the new kernel has started, before it has run the
notebook up to the visitor's request (imports, data loading: ~4 s alone, more on a busy
machine): wait this long after that line."""
SWITCH_CODES = ["42207", "42187", "69123", "42218", "63113", "69266", "42095", "42218"]
MAP_TARGETS = [("departement", "42", "Loire"), ("region", "84", "Auvergne-Rhône-Alpes")]
MAP_RUNS = 3

# Click the element, then poll each animation frame until all selectors are present; resolve
# with the elapsed milliseconds once two more frames have been painted.
_CLICK_AND_WAIT = """
([clickSel, waitSels, timeoutMs]) => new Promise((resolve, reject) => {
  const el = document.querySelector(clickSel);
  if (!el) { reject(new Error('nothing to click: ' + clickSel)); return; }
  const t0 = performance.now();
  el.click();
  const tick = () => {
    const now = performance.now();
    if (waitSels.every(s => document.querySelector(s))) {
      requestAnimationFrame(() => requestAnimationFrame(() => resolve(performance.now() - t0)));
    } else if (now - t0 > timeoutMs) { reject(new Error('timeout waiting for ' + waitSels.join(', ')));
    } else { requestAnimationFrame(tick); }
  };
  requestAnimationFrame(tick);
})
"""


@contextmanager
def serving(apps_dir: Path, log: Path):
    """``planeco serve`` on a free port (default settings: preheated kernels), output to ``log``;
    yields its URL once it answers, stops it at the end."""
    from planeco_kernel.hub.process import free_port, spawned

    port = free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
    argv = [sys.executable, "-m", "planeco_kernel", "serve", "--port", str(port), "--no-browser",
            "--apps-dir", str(apps_dir)]
    url = f"http://127.0.0.1:{port}/"
    with spawned(argv, url, log, env, ROOT, timeout_s=120):
        yield url


DEAD_PROXY = {"server": "http://127.0.0.1:9", "bypass": "127.0.0.1,localhost"}
"""Every non-local request goes to a closed port and fails at once: the browser is offline as on a
machine without internet, without Playwright intercepting requests (interception would add a
round trip to every request timed, and holds the beacon a page sends when it is left)."""


def launch(p):
    """Headless Debian Chromium, offline (:data:`DEAD_PROXY`)."""
    return p.chromium.launch(executable_path=CHROMIUM, headless=True, proxy=DEAD_PROXY,
                             args=["--no-sandbox", "--disable-gpu", "--no-first-run"])


def new_context(browser, **options):
    """A browser context of 1280×1000, French; ``options`` go to Playwright's ``new_context``
    (``storage_state``: a session's cookies)."""
    return browser.new_context(viewport={"width": 1280, "height": 1000}, locale="fr-FR", accept_downloads=False,
                               **options)


def _new_page(browser):
    ctx = new_context(browser)
    return ctx, ctx.new_page()


def wait_pool_refilled(log: Path, notebook: str, before: int) -> None:
    """Wait until Voilà logs that the kernel pool of ``notebook`` is filled again (count > before),
    then :data:`REFILL_SETTLE_S`.

    The refill runs the notebook up to the visitor's request (imports, data loading); measuring
    before it ends would time a server busy with it, not a visitor arriving on an idle server.
    """
    deadline = time.monotonic() + REFILL_TIMEOUT_S
    while time.monotonic() < deadline:
        if _pool_fills(log, notebook) > before:
            time.sleep(REFILL_SETTLE_S)
            return
        time.sleep(0.2)
    raise RuntimeError(f"the kernel pool of {notebook} was not refilled within {REFILL_TIMEOUT_S} s")


def _pool_fills(log: Path, notebook: str) -> int:
    return log.read_text(encoding="utf-8", errors="replace").count(f"Kernel pool of {notebook} is filled")


def leave(page) -> None:
    """Leave and close ``page`` as a person closing the tab does; wait until its kernel is gone.

    Voilà shuts a visitor's kernel down when the page is left (its ``beforeunload`` handler sends
    a beacon to ``voila/api/shutdown/<kernel>``); Playwright's ``page.close()`` and
    ``context.close()`` skip that handler, so every visited kernel (1.5 GB for the Comparateur)
    would live until culled and the next visits would be timed on a machine filling up. Navigating
    to ``about:blank`` fires the handler; Playwright does not report beacons, so the kernel's
    API is polled until it answers 404 (closing the context at once could cancel the beacon).
    """
    try:
        cfg = page.evaluate(_PAGE_CONFIG_JS)
        url = page.url
        page.goto("about:blank", timeout=10_000)
        if cfg and cfg.get("kernelId"):
            kernel = urljoin(url, f"{cfg['baseUrl'].rstrip('/')}/api/kernels/{cfg['kernelId']}")
            deadline = time.monotonic() + 15
            while page.context.request.get(kernel).status != 404:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the kernel of {url} still runs 15 s after its page was left")
                time.sleep(0.1)
    finally:
        page.close()


_PAGE_CONFIG_JS = """() => {
  const e = document.getElementById('jupyter-config-data');
  return e ? JSON.parse(e.textContent) : null;
}"""


def visible_after(ctx, url: str, selectors: list[str]) -> float:
    """Seconds from navigation start to every selector visible, in a new page of ``ctx``
    (then left as a person leaves it: :func:`leave`)."""
    page = ctx.new_page()
    try:
        t0 = time.perf_counter()
        page.goto(url, wait_until="commit")
        for sel in selectors:
            page.locator(sel).first.wait_for(state="visible", timeout=120_000)
        return time.perf_counter() - t0
    finally:
        leave(page)


def time_to_interactive(browser, url: str, selectors: list[str]) -> float:
    """:func:`visible_after` in a fresh offline browser context (no cookies, no cache)."""
    ctx = new_context(browser)
    try:
        return visible_after(ctx, url, selectors)
    finally:
        ctx.close()


def _pick_via_search(page, text: str, code: str, wait_sels: list[str]) -> float:
    box = page.locator(".planeco-search input")
    box.fill("")
    box.fill(text)
    page.locator(".planeco-result", has_text=f"({code})").first.wait_for(state="visible", timeout=60_000)
    page.wait_for_timeout(300)  # let the last keystroke's results land
    idx = page.locator(".planeco-search-box .planeco-results > *").evaluate_all(
        f"els => els.findIndex(e => e.textContent.includes('({code})'))")
    click = f".planeco-search-box .planeco-results > :nth-child({idx + 1})"
    return float(page.evaluate(_CLICK_AND_WAIT, [click, wait_sels, 60_000]))


def report(results: dict, goals: dict[str, tuple[str, float]], name: str) -> None:
    """Print each result (median, goal, runs) and write them to ``tests/artifacts/<name>.json``."""
    for k, v in results.items():
        shown = v["median"] if isinstance(v, dict) and "median" in v else v
        goal = goals.get(k)
        print(f"{k:<40} {shown}" + (f"   goal {goal[0]} {goal[1]}" if goal else "")
              + (f"   {v['runs']}" if isinstance(v, dict) and "runs" in v else ""))
    out = ROOT / "tests" / "artifacts"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}.json").write_text(json.dumps(results, indent=2, ensure_ascii=False), encoding="utf-8")


def _summary(samples: list[float]) -> dict:
    return {"median": round(statistics.median(samples), 3), "runs": [round(s, 3) for s in samples]}


def main(argv: list[str] | None = None) -> int:
    from playwright.sync_api import sync_playwright

    from planeco_kernel import config
    from planeco_kernel.territory import load_model

    model = load_model()
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="planeco-bench-") as tmp:
        apps = Path(tmp) / "apps"
        shutil.copytree(ROOT / "apps", apps)
        (apps / "hello.ipynb").write_text(json.dumps(HELLO), encoding="utf-8")
        with serving(apps, Path(tmp) / "serve.log") as base, sync_playwright() as p:
            print(f"server {base} (bundle {config.data_dir()}), Chromium {CHROMIUM}")
            browser = launch(p)
            # 1. time to interactive
            tti_apps = {
                "hello": (base + "voila/render/hello.ipynb", ["h1.hello"]),
                "comparateur": (base + APP, [".planeco-search input"]),
                "comparateur_lien_direct": (base + APP + "?territoire=42218",
                                            [".planeco-ind-card[data-indicator='population']",
                                             ".planeco-legend-body[data-key='commune:42218']"]),
            }
            log = Path(tmp) / "serve.log"
            tti: dict[str, list[float]] = {k: [] for k in tti_apps}
            for nb in ("hello.ipynb", "comparateur.ipynb"):
                wait_pool_refilled(log, nb, 0)
            for _ in range(TTI_RUNS):
                for name, (url, sels) in tti_apps.items():
                    nb = urlsplit(url).path.rsplit("/", 1)[-1]
                    before = _pool_fills(log, nb)
                    tti[name].append(time_to_interactive(browser, url, sels))
                    wait_pool_refilled(log, nb, before)
            for name, s in tti.items():
                results[f"tti_{name}_s"] = _summary(s)
            hello = statistics.median(tti["hello"])
            results["tti_ratio_comparateur_vs_hello"] = round(statistics.median(tti["comparateur"]) / hello, 2)
            results["tti_ratio_lien_direct_vs_hello"] = round(
                statistics.median(tti["comparateur_lien_direct"]) / hello, 2)

            # 2. and 3. in one app page
            ctx, page = _new_page(browser)
            page.goto(base + APP + "?territoire=42218")
            page.locator(".planeco-legend-body[data-key='commune:42218']").wait_for(timeout=120_000)
            switch = []
            for code in SWITCH_CODES:
                t = model.get(code)
                ms = _pick_via_search(page, t.name, code, [
                    f".planeco-cmp-cards-body[data-key='{t.key}']", f".planeco-legend-body[data-key='{t.key}']"])
                switch.append(ms)
            results["switch_ms"] = _summary(switch)
            for level, code, name in MAP_TARGETS:
                samples = []
                for _ in range(MAP_RUNS):
                    # leave the scope, then come back: the map is redrawn each time
                    _pick_via_search(page, "Saint-Étienne", "42218",
                                     [".planeco-legend-body[data-key='commune:42218']"])
                    samples.append(_pick_via_search(page, name, code, [
                        f".planeco-legend-body[data-key='{level}:{code}']",
                        ".planeco-map .leaflet-overlay-pane canvas"]))
                results[f"map_{level}_{code}_ms"] = _summary(samples)
            leave(page)
            ctx.close()
            browser.close()
    goals = {"tti_ratio_comparateur_vs_hello": ("≤", 1.3), "switch_ms": ("<", 300),
             "map_departement_42_ms": ("<", 1000), "map_region_84_ms": ("<", 3000)}
    report(results, goals, "bench_apps")
    return 0


if __name__ == "__main__":
    sys.exit(main())
