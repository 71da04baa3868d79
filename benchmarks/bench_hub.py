"""Behind JupyterHub vs behind ``planeco serve``: time until a signed-in person sees the Comparateur.

Run: ``PLANECO_DATA_DIR=/path/to/bundle python -m benchmarks hub``.
Starts, on free ports of 127.0.0.1, a real JupyterHub with the repository's ``jupyterhub_config.py``
(dummy authenticator, one preheated kernel per app, configurable-http-proxy from ``.hub-node``)
and a ``planeco serve``, both over one fresh knowledge base holding one INVENTED TEST member.
In headless Chromium (offline: non-local requests aborted), the person signs in once (the hub
spawns their server; the gallery says when its kernels are warm) and opens the Comparateur as
soon as the gallery no longer says the apps are warming (first visit); then, alternating between the
two servers, opens the Comparateur from a new tab with the session's cookies: navigation start →
the search box visible; and by a deep link (``?territoire=42218``) → cards and map legend shown.
Each run waits until Voilà has refilled the app's kernel pool (as in ``bench_apps``).
Reports medians and the ratio hub / serve (goal ≤ 1.5×). Results: ``tests/artifacts/bench_hub.json``.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.bench_apps import APP, CHROMIUM, HELLO, ROOT, TTI_RUNS, _pool_fills, _summary, new_context, report, start_server, visible_after, wait_pool_refilled

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


def main(argv: list[str] | None = None) -> int:
    from playwright.sync_api import sync_playwright

    from planeco_kernel import config
    from planeco_kernel.hub.process import HubProcess
    from planeco_kernel.knowledge import KnowledgeBase, Member

    results: dict = {"conditions": {"cpus": os.cpu_count(), "load_avg_1_5_15": [round(x, 2) for x in os.getloadavg()],
                                    "runs": TTI_RUNS, "bundle": str(config.data_dir())}}
    with tempfile.TemporaryDirectory(prefix="planeco-bench-hub-") as tmp:
        tmp = Path(tmp)
        apps = tmp / "apps"
        shutil.copytree(ROOT / "apps", apps)
        (apps / "hello.ipynb").write_text(json.dumps(HELLO), encoding="utf-8")
        kb = KnowledgeBase.init(tmp / "kb", Member(USER, "Banc d'essai (données de test)", "agent", hub_user=USER))
        os.environ["PLANECO_KB"] = str(kb.root)
        serve_log = tmp / "serve.log"
        proc, serve_url = start_server(apps, serve_log)
        hub_env = {"PLANECO_KB": str(kb.root), "PLANECO_HUB_AUTHENTICATOR": "dummy", "PLANECO_HUB_POOL_SIZE": "1",
                   "PLANECO_HUB_APPS_DIR": str(apps), "PLANECO_DATA_DIR": str(config.data_dir())}
        try:
            with HubProcess(tmp / "hub", hub_env) as hub, sync_playwright() as p:
                hub_url = hub.url + f"user/{USER}/"
                browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                            args=["--no-sandbox", "--disable-gpu", "--no-first-run"])
                ctx = new_context(browser)
                page = ctx.new_page()
                t0 = time.perf_counter()
                page.goto(hub.url + "hub/login")
                page.fill("#username_input", USER)
                page.fill("#password_input", "essai")
                page.click("#login_submit")
                page.wait_for_url(f"**/user/{USER}/", timeout=180_000)
                results["hub_sign_in_and_spawn_s"] = round(time.perf_counter() - t0, 2)
                page.close()
                # the hub's log carries the users' servers' output (Voilà's pool messages)
                servers = {"serve": (serve_url, serve_log), "hub": (hub_url, hub.log)}
                # first visit: as soon as the gallery no longer says « se préparent », open the Comparateur
                for sname, (base, _log) in servers.items():
                    results[f"{sname}_warming_s"] = round(_wait_warm(ctx, base), 2)
                    results[f"tti_{sname}_first_visit_s"] = round(
                        visible_after(ctx, base + APP, TARGETS["comparateur"][1]), 3)
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
                            times[f"{sname}_{target}"].append(visible_after(ctx, base + path, sels))
                            wait_pool_refilled(log, nb, before)
                browser.close()
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    results["conditions"]["load_avg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    for k, v in times.items():
        results[f"tti_{k}_s"] = _summary(v)
    med = {k: statistics.median(v) for k, v in times.items()}
    results["ratio_hub_vs_serve_comparateur"] = round(med["hub_comparateur"] / med["serve_comparateur"], 2)
    results["ratio_hub_vs_serve_lien_direct"] = round(med["hub_comparateur_lien_direct"] / med["serve_comparateur_lien_direct"], 2)
    for s in ("serve", "hub"):
        results[f"ratio_{s}_first_visit_vs_next"] = round(results[f"tti_{s}_first_visit_s"] / med[f"{s}_comparateur"], 2)
        results[f"ratio_{s}_lien_direct_vs_hello"] = round(med[f"{s}_comparateur_lien_direct"] / med[f"{s}_hello"], 2)
    goals = {"ratio_hub_vs_serve_comparateur": ("≤", 1.5), "ratio_serve_first_visit_vs_next": ("≤", 1.0),
             "ratio_hub_first_visit_vs_next": ("≤", 1.0), "ratio_hub_vs_serve_lien_direct": ("≤", 1.5),
             "ratio_serve_lien_direct_vs_hello": ("≤", 1.3), "ratio_hub_lien_direct_vs_hello": ("≤", 1.3)}
    report(results, goals, "bench_hub")
    return 0


if __name__ == "__main__":
    sys.exit(main())
