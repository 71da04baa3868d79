"""Behind JupyterHub vs behind ``planeco serve``: time until a signed-in person sees the Comparateur.

Run: ``PLANECO_DATA_DIR=/path/to/bundle python -m benchmarks hub``.
Starts, on free ports of 127.0.0.1, a real JupyterHub with the repository's ``jupyterhub_config.py``
(dummy authenticator, one preheated kernel per app, configurable-http-proxy from ``.hub-node``)
and a ``planeco serve``, both over one fresh knowledge base holding one INVENTED TEST member.
In headless Chromium (offline: non-local requests fail), the person signs in (the hub
spawns their server) and, on each server in turn, opens the gallery until it no longer says the
apps are warming, then the Comparateur (first visit); then, after Voilà has refilled the app's
kernel pool, again the gallery then the Comparateur, ``PLANECO_BENCH_NEXT_VISITS`` times (default 2):
the next visits, taken the same way on the same server (paired with the first). The second server
is started once the first's visits are over (a server warming up next door would slow a first visit
down). Both are started ``PLANECO_BENCH_FIRST_VISITS`` times (default 3), in alternating order.
After the last start, alternating between the two servers, the Comparateur is opened with the
session's cookies: navigation start → the search box visible; by a deep link
(``?territoire=42218``) → cards and map legend shown; and a hello-world app. Every visit is a fresh
browser context with the session's cookies (empty cache) and waits until Voilà has refilled the
app's kernel pool (as in ``bench_apps``). Reports medians, the ratio hub / serve (goal ≤ 1.5×),
first visit / next visits (goal ≤ 1×: median of the first visits over median of the next ones, and
the median of the per-start ratios) and deep link / hello world (goal ≤ 1.3×).
Results: ``tests/artifacts/bench_hub.json``.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from benchmarks.bench_apps import (APP, HELLO, ROOT, TTI_RUNS, _pool_fills, _summary, launch, new_context, report,
                                   serving, visible_after, wait_pool_refilled)

USER = "bench"
TARGETS = {
    "comparateur": ("", [".planeco-search input"]),
    "comparateur_lien_direct": ("?territoire=42218", [".planeco-ind-card[data-indicator='population']",
                                                      ".planeco-legend-body[data-key='commune:42218']"]),
    "hello": (None, ["h1.hello"]),
}


def _wait_warm(ctx, gallery_url: str, timeout_s: float = 180) -> float:
    """Open the gallery until it no longer says the apps are warming; return the seconds waited."""
    page = ctx.new_page()
    t0 = time.perf_counter()
    try:
        while time.perf_counter() - t0 < timeout_s:
            page.goto(gallery_url)
            page.locator(".planeco-card").first.wait_for(timeout=60_000)
            if page.locator(".planeco-notice--warming").count() == 0:
                return time.perf_counter() - t0
            time.sleep(1.0)
        raise RuntimeError(f"{gallery_url}: kernels still warming after {timeout_s} s")
    finally:
        page.close()


FIRST_VISITS = int(os.environ.get("PLANECO_BENCH_FIRST_VISITS", "3"))
"""Starts of both servers, each giving one first visit of each (the TTI runs are taken in the last one)."""
NEXT_VISITS = max(1, int(os.environ.get("PLANECO_BENCH_NEXT_VISITS", "2")))
"""Visits after the first one, taken the same way (gallery, then the Comparateur) in every start."""


def _sign_in(browser, hub) -> tuple[dict, float]:
    """Sign in through the hub's login form (the hub spawns the server); the session's storage
    state (cookies) and the seconds until the person's gallery was served."""
    ctx = new_context(browser)
    try:
        page = ctx.new_page()
        t0 = time.perf_counter()
        page.goto(hub.url + "hub/login")
        page.fill("#username_input", USER)
        page.fill("#password_input", "essai")
        page.click("#login_submit")
        page.wait_for_url(f"**/user/{USER}/", timeout=180_000)
        return ctx.storage_state(), time.perf_counter() - t0
    finally:
        ctx.close()


def _from_gallery(browser, state, base: str, log: Path) -> tuple[float, float]:
    """A person's way in: the gallery (reloaded until it no longer says the apps are warming),
    then the Comparateur in a new tab; returns (seconds waited for the gallery, time to interactive),
    once Voilà has refilled the Comparateur's kernel pool."""
    ctx = new_context(browser, storage_state=state)
    try:
        waited = _wait_warm(ctx, base)
    finally:
        ctx.close()
    before = _pool_fills(log, "comparateur.ipynb")
    tti = _visit(browser, state, base + APP, TARGETS["comparateur"][1])
    wait_pool_refilled(log, "comparateur.ipynb", before)
    return waited, tti


def _visit(browser, state: dict, url: str, selectors: list[str]) -> float:
    """:func:`visible_after` in a fresh offline context carrying the session's cookies (empty cache,
    as every visit of ``bench_apps``: first and later visits are measured alike)."""
    ctx = new_context(browser, storage_state=state)
    try:
        return visible_after(ctx, url, selectors)
    finally:
        ctx.close()


def main(argv: list[str] | None = None) -> int:
    from playwright.sync_api import sync_playwright

    from planeco_kernel import config
    from planeco_kernel.hub.process import HubProcess
    from planeco_kernel.knowledge import KnowledgeBase, Member

    results: dict = {"conditions": {"cpus": os.cpu_count(), "load_avg_1_5_15": [round(x, 2) for x in os.getloadavg()],
                                    "runs": TTI_RUNS, "first_visits": FIRST_VISITS,
                                    "next_visits_per_start": NEXT_VISITS, "bundle": str(config.data_dir())}}
    first: dict[str, list[float]] = {"serve": [], "hub": []}
    warming: dict[str, list[float]] = {"serve": [], "hub": []}
    following: dict[str, list[float]] = {"serve": [], "hub": []}
    paired: dict[str, list[float]] = {"serve": [], "hub": []}
    spawn: list[float] = []
    times: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="planeco-bench-hub-") as tmp:
        tmp = Path(tmp)
        apps = tmp / "apps"
        shutil.copytree(ROOT / "apps", apps)
        (apps / "hello.ipynb").write_text(json.dumps(HELLO), encoding="utf-8")
        kb = KnowledgeBase.init(tmp / "kb", Member(USER, "Banc d'essai (données de test)", "agent", hub_user=USER))
        os.environ["PLANECO_KB"] = str(kb.root)
        hub_env = {"PLANECO_KB": str(kb.root), "PLANECO_HUB_AUTHENTICATOR": "dummy", "PLANECO_HUB_POOL_SIZE": "1",
                   "PLANECO_HUB_APPS_DIR": str(apps), "PLANECO_DATA_DIR": str(config.data_dir())}
        with sync_playwright() as p:
            browser = launch(p)
            for start in range(FIRST_VISITS):
                # first visit: as soon as the gallery no longer says « se préparent », open the
                # Comparateur; then the next visits, the same way. The second server is started only
                # once the first one's visits are over and its pool refilled: a server warming up (or
                # a refilling kernel loading the data) would slow the other's first visit.
                order = ["serve", "hub"] if start % 2 == 0 else ["hub", "serve"]
                with ExitStack() as stack:
                    servers: dict[str, tuple[str, Path]] = {}
                    state = None
                    for sname in order:
                        if sname == "serve":
                            log = tmp / f"serve{start}.log"
                            servers[sname] = (stack.enter_context(serving(apps, log)), log)
                        else:
                            hub = stack.enter_context(HubProcess(tmp / f"hub{start}", hub_env))
                            state, signed_in = _sign_in(browser, hub)
                            spawn.append(signed_in)
                            # the hub's log carries the users' servers' output (Voilà's pool messages)
                            servers[sname] = (hub.url + f"user/{USER}/", hub.log)
                        base, log = servers[sname]
                        for visit in range(1 + NEXT_VISITS):
                            waited, tti = _from_gallery(browser, state, base, log)
                            if visit == 0:
                                warming[sname].append(waited)
                                first[sname].append(tti)
                            else:
                                following[sname].append(tti)
                        paired[sname].append(first[sname][-1] / statistics.median(following[sname][-NEXT_VISITS:]))
                    if start < FIRST_VISITS - 1:
                        continue
                    for _name, (_base, log) in servers.items():
                        for nb in ("hello.ipynb", "comparateur.ipynb"):
                            wait_pool_refilled(log, nb, 0)
                    times = {f"{s}_{t}": [] for s in servers for t in TARGETS}
                    for _ in range(TTI_RUNS):
                        for target, (query, sels) in TARGETS.items():
                            path = "voila/render/hello.ipynb" if query is None else APP + query
                            nb = path.split("?")[0].rsplit("/", 1)[-1]
                            for sname, (base, log) in servers.items():
                                before = _pool_fills(log, nb)
                                times[f"{sname}_{target}"].append(_visit(browser, state, base + path, sels))
                                wait_pool_refilled(log, nb, before)
            browser.close()
    results["conditions"]["load_avg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    results["hub_sign_in_and_spawn_s"] = _summary(spawn)
    for s in ("serve", "hub"):
        results[f"{s}_warming_s"] = _summary(warming[s])
        results[f"tti_{s}_first_visit_s"] = _summary(first[s])
        results[f"tti_{s}_next_visits_s"] = _summary(following[s])
    for k, v in times.items():
        results[f"tti_{k}_s"] = _summary(v)
    med = {k: statistics.median(v) for k, v in times.items()}
    results["ratio_hub_vs_serve_comparateur"] = round(med["hub_comparateur"] / med["serve_comparateur"], 2)
    results["ratio_hub_vs_serve_lien_direct"] = round(med["hub_comparateur_lien_direct"] / med["serve_comparateur_lien_direct"], 2)
    for s in ("serve", "hub"):
        results[f"ratio_{s}_first_visit_vs_next"] = round(statistics.median(first[s]) / statistics.median(following[s]), 2)
        results[f"ratio_{s}_first_visit_vs_next_per_start"] = _summary(paired[s])
        results[f"ratio_{s}_lien_direct_vs_hello"] = round(med[f"{s}_comparateur_lien_direct"] / med[f"{s}_hello"], 2)
    goals = {"ratio_hub_vs_serve_comparateur": ("≤", 1.5), "ratio_serve_first_visit_vs_next": ("≤", 1.0),
             "ratio_hub_first_visit_vs_next": ("≤", 1.0), "ratio_hub_vs_serve_lien_direct": ("≤", 1.5),
             "ratio_serve_lien_direct_vs_hello": ("≤", 1.3), "ratio_hub_lien_direct_vs_hello": ("≤", 1.3)}
    report(results, goals, "bench_hub")
    return 0


if __name__ == "__main__":
    sys.exit(main())
