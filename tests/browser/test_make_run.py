"""``make run`` on a fresh knowledge-base location: Échanges works out of the box.

Runs the real ``make run`` (the environment and bundle already set up, as after ``make test``)
with ``PLANECO_KB`` pointing at a folder that does not exist yet: the local knowledge base is
created on start, its administrator is the person running the command (git identity, else the
OS account), the gallery says so, and a post made in the browser lands in that knowledge base.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from planeco_kernel.hub.process import free_port, wait_until_answers
from tests.browser.conftest import ROOT

pytestmark = [pytest.mark.browser, pytest.mark.slow]
TIMEOUT = 90_000


@pytest.fixture()
def make_run(tmp_path, bundle_dir):
    port = free_port()
    kb = tmp_path / "nouvelle-base"
    log = tmp_path / "make_run.log"
    venv = sys.prefix
    env = {k: v for k, v in os.environ.items() if k not in ("PLANECO_KB_USER", "JUPYTERHUB_USER", "MAKEFLAGS")}
    env.update({"PLANECO_KB": str(kb), "PLANECO_DATA_DIR": str(bundle_dir),
                "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)})
    # -o: the environment is already installed (make test did it); never reinstall it from here
    cmd = ["make", "-s", "run", f"PORT={port}", f"VENV={venv}", f"DATA_DIR={bundle_dir}", "SERVE_ARGS=--no-browser --pool-size=0",
           "-o", f"{venv}/.planeco-installed"]
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_until_answers(url, proc, log, 120, "make run")
        yield url, kb, log
    finally:
        import signal

        os.killpg(proc.pid, signal.SIGTERM)   # make and the server it started (its own session)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def test_make_run_creates_a_local_knowledge_base_and_echanges_posts_into_it(make_run, offline_page, artifacts_dir):
    from planeco_kernel.hub.local_kb import local_admin
    from planeco_kernel.knowledge import KnowledgeBase

    url, kb_dir, log = make_run
    me = local_admin()
    assert "Base d'échanges locale créée" in log.read_text(), log.read_text()[-2000:]
    op = offline_page()
    page = op.page
    page.goto(url)
    notice = page.locator(".planeco-notice").first.inner_text()
    assert "Utilisation locale" in notice and me.name in notice and "modérateur·rice" in notice
    page.locator(".planeco-card", has_text="Échanges").locator("a").click()
    page.locator(".planeco-kb-app").wait_for(state="visible", timeout=TIMEOUT)
    assert me.name in page.locator(".planeco-kb-identity").inner_text()
    page.get_by_role("tab", name="Nouveau fil").click()
    page.locator(".planeco-kb-new-title input").fill("Premier fil local (essai)")
    page.locator(".planeco-kb-new-body textarea").fill("Bonjour depuis make run (essai).")
    page.locator(".planeco-kb-new-send").click()
    page.locator(".planeco-kb-status", has_text="publié").wait_for(timeout=TIMEOUT)
    page.screenshot(path=str(artifacts_dir / "make_run_echanges.png"), full_page=True)
    threads = KnowledgeBase(kb_dir).threads(me.id, text="Premier fil local")
    assert [t.title for t in threads] == ["Premier fil local (essai)"]
    assert KnowledgeBase(kb_dir).thread(threads[0].id, me.id).posts[0].author == me.id
    assert op.blocked == []
