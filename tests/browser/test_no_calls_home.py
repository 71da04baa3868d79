"""No calls home: JupyterLab and every app of the gallery request nothing outside the server.

Every request the page makes is recorded (Playwright routing, see ``conftest.OfflinePage``); any
host other than 127.0.0.1/localhost fails the test. JupyterLab runs with the environment's
settings installed by ``make setup`` (``planeco_kernel/share/``): it must not ask « Would you
like to get notified about official Jupyter news? », and its server must not fetch the feed nor
check for updates.
"""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.request

import pytest

from planeco_kernel.hub.process import free_port, spawned
from tests.browser.conftest import ROOT

pytestmark = pytest.mark.browser
TIMEOUT = 90_000
SETTLE_S = 4.0
"""JupyterLab asks for the news and update check a moment after the page is restored."""


@pytest.fixture(scope="module")
def jupyterlab(tmp_path_factory):
    """A plain ``jupyter lab`` (no token, loopback only) on a free port, over an empty folder."""
    port = free_port()
    work = tmp_path_factory.mktemp("lab")
    log = work / "lab.log"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "JUPYTER_CONFIG_DIR": str(work / "userconfig")}
    argv = [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}", "--ServerApp.ip=127.0.0.1",
            "--ServerApp.port_retries=0", "--IdentityProvider.token=", "--ServerApp.password=", "--allow-root",
            f"--ServerApp.root_dir={work}"]
    url = f"http://127.0.0.1:{port}/"
    with spawned(argv, url + "api", log, env, work):
        yield url


def assert_lab_calls_nobody(op, lab_url: str) -> None:
    """Open JupyterLab at ``lab_url``; fail on any non-local request or on the news question."""
    page = op.page
    page.goto(lab_url)
    page.locator(".jp-Launcher").first.wait_for(state="visible", timeout=TIMEOUT)
    time.sleep(SETTLE_S)
    assert op.blocked == [], f"JupyterLab asked for outside resources: {op.blocked}"
    assert page.get_by_text("official Jupyter news").count() == 0, "JupyterLab asked about the Jupyter news feed"


def test_jupyterlab_requests_nothing_outside_the_server(jupyterlab, offline_page, artifacts_dir):
    op = offline_page()
    assert_lab_calls_nobody(op, jupyterlab + "lab")
    op.page.screenshot(path=str(artifacts_dir / "lab_no_calls_home.png"))
    # the server side of the promise: no feed fetched, no update looked for
    with urllib.request.urlopen(jupyterlab + "lab/api/news", timeout=10) as r:
        assert json.load(r)["news"] == []
    with urllib.request.urlopen(jupyterlab + "lab/api/update", timeout=10) as r:
        assert json.load(r)["notification"] is None


def test_every_app_of_the_gallery_requests_nothing_outside_the_server(server, offline_page, served_apps_dir):
    from planeco_kernel.apps.gallery import load_gallery

    for entry in load_gallery(served_apps_dir):
        op = offline_page()
        page = op.page
        errors: list[str] = []
        page.on("console", lambda m, errors=errors: errors.append(m.text) if m.type == "error" else None)
        page.goto(server + entry.url)
        page.locator(".jp-OutputArea-output").first.wait_for(state="attached", timeout=TIMEOUT)
        page.wait_for_load_state("networkidle", timeout=TIMEOUT)
        time.sleep(1.0)
        assert op.blocked == [], f"{entry.notebook} asked for outside resources: {op.blocked}"
        op.close()
