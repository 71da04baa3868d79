"""Browser-test fixtures: one ``planeco serve`` per session, headless Debian Chromium, no network.

The server serves a temporary copy of ``apps/`` plus ``hello.ipynb``, a hello-world app (test
data, not a planeco app) used as the baseline for load-time measurements. Every request to a
host other than 127.0.0.1/localhost fails (the browser's proxy is a closed port) and is recorded,
so tests never depend on the network and can assert that the pages need none.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from benchmarks.bench_apps import DEAD_PROXY, HELLO
from planeco_kernel.hub.process import spawned

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost"}


def serve_argv(apps_dir: Path, port: int, *extra: str) -> list[str]:
    """``planeco serve`` on ``port`` over ``apps_dir``, no browser, no preheated pool, plus ``extra``."""
    return [sys.executable, "-m", "planeco_kernel", "serve", "--port", str(port), "--no-browser",
            "--pool-size", "0", "--apps-dir", str(apps_dir), *extra]


@pytest.fixture(scope="session")
def served_apps_dir(tmp_path_factory) -> Path:
    """A copy of ``apps/`` with the hello-world baseline app added."""
    d = tmp_path_factory.mktemp("apps")
    shutil.copytree(ROOT / "apps", d, dirs_exist_ok=True)
    (d / "hello.ipynb").write_text(json.dumps(HELLO), encoding="utf-8")
    return d


@pytest.fixture(scope="session")
def kb_dir(tmp_path_factory) -> Path:
    """A knowledge base for the « Échanges » app, filled with INVENTED TEST DATA.

    Members: ``marie`` (élue, Lyon, moderator — the server's local identity) and ``acme``
    (entreprise, Villeurbanne). One REX thread about Villeurbanne whose body carries hostile
    HTML, to check in the browser that it is shown as text and never executed.
    """
    from planeco_kernel.knowledge import KnowledgeBase, Member

    root = tmp_path_factory.mktemp("kb") / "kb"
    kb = KnowledgeBase.init(root, Member("marie", "Marie Essai (données de test)", "elu", territory="69123"))
    kb.add_member(Member("acme", "ACME Essai (données de test)", "entreprise", territory="69266"), actor="marie")
    kb.start_thread("marie", kind="rex", title="Réseau de chaleur bois (essai)", anchor="territory:69266",
                    body="Mise en service **2024**. <script>window.__pwned = 1</script>"
                         "<img src=x onerror=\"window.__pwned = 2\">", themes=["énergie"])
    return root


@pytest.fixture(scope="session")
def server(served_apps_dir, small_bundle_dir, kb_dir, tmp_path_factory) -> str:
    """Start ``planeco serve`` on a free port; yield its base URL; stop it at the end."""
    from planeco_kernel.hub.process import free_port

    port = free_port()
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
           "PLANECO_DATA_DIR": str(small_bundle_dir), "PLANECO_KB": str(kb_dir)}
    url = f"http://127.0.0.1:{port}/"
    # No preheated pool here: the gallery now has 8 apps and each app kernel holds the indicator
    # cube (~2 GB); a pool per app plus the visitors' kernels exhausted the 24 GiB of the test
    # machine. Kernels start on visit and idle ones are culled after a minute.
    with spawned(serve_argv(served_apps_dir, port, "--cull-idle", "60"), url, log, env, ROOT):
        yield url


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install it with `apt-get install -y chromium` (.ci/run does).")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS, proxy=DEAD_PROXY)
        yield b
        b.close()


class OfflinePage:
    """A Playwright page of the offline browser; requests it makes outside the server are
    recorded in ``blocked`` (they fail: the browser's proxy is :data:`DEAD_PROXY`).

    Requests are observed, not intercepted: interception would hold the beacon by which a page
    that is left asks Voilà to shut its kernel down.
    """

    def __init__(self, browser, width: int = 1280, height: int = 900):
        self.context = browser.new_context(viewport={"width": width, "height": height}, locale="fr-FR")
        self.closed = False
        self.blocked: list[str] = []
        self.errors: list[str] = []
        self.context.on("request", self._record)
        self.page = self.context.new_page()
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

    def _record(self, request) -> None:
        url = request.url
        if not (url.startswith(("data:", "blob:", "about:")) or urlsplit(url).hostname in LOCAL_HOSTS):
            self.blocked.append(url)

    def close(self) -> None:
        """Leave every page as a person closing the tab does (Voilà's ``beforeunload`` handler
        then shuts the page's kernel down, which ``context.close()`` alone skips: kernels would
        pile up until culled), then close the context."""
        from playwright.sync_api import Error as PlaywrightError

        if not self.closed:
            self.closed = True
            for pg in self.context.pages:
                try:
                    pg.goto("about:blank", timeout=10_000)
                except PlaywrightError:
                    pass  # a crashed or already closed page has no kernel to release
            self.context.close()


@pytest.fixture()
def offline_page(browser):
    """Factory of offline pages (closed after the test): ``offline_page(width=768)``."""
    made: list[OfflinePage] = []

    def make(**kw) -> OfflinePage:
        op = OfflinePage(browser, **kw)
        made.append(op)
        return op

    yield make
    for op in made:
        op.close()
