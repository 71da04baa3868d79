"""A real JupyterHub on 127.0.0.1, driven through headless Chromium by three members of different roles.

The hub is started by the test from the repository's ``jupyterhub_config.py`` (JupyterHub's dummy
authenticator: any password; configurable-http-proxy from ``.hub-node``; random free ports;
bounded waits; everything it spawned is stopped at the end). Its knowledge base is fresh and
holds INVENTED TEST members:

- ``claire`` (hub user ``claire.hub``): élue of Lyon;
- ``acme`` (hub user ``acme``) and ``betaco``: two companies;
- ``modo`` (hub user ``modo``): agent territorial and moderator (the knowledge base's admin).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from tests.browser.conftest import ROOT

pytestmark = [pytest.mark.browser, pytest.mark.slow]
TIMEOUT = 90_000
MEMBERS = {  # hub user -> (member id, display name)
    "claire.hub": ("claire", "Claire Élue (données de test)"),
    "acme": ("acme", "ACME Énergie (données de test)"),
    "modo": ("modo", "Modo Agent (données de test)"),
}


@pytest.fixture(scope="module")
def hub_kb(tmp_path_factory):
    from planeco_kernel.knowledge import KnowledgeBase, Member

    root = tmp_path_factory.mktemp("hubkb") / "kb"
    kb = KnowledgeBase.init(root, Member("modo", MEMBERS["modo"][1], "agent", territory="69123", hub_user="modo"))
    kb.add_member(Member("claire", MEMBERS["claire.hub"][1], "elu", territory="69123", hub_user="claire.hub"), actor="modo")
    kb.add_member(Member("acme", MEMBERS["acme"][1], "entreprise", territory="69266", hub_user="acme"), actor="modo")
    kb.add_member(Member("betaco", "BetaCo (données de test)", "entreprise", territory="69266"), actor="modo")
    from planeco_kernel.knowledge.identity import os_login

    # the machine's own account is a member too: a public server must still not write as it
    kb.add_member(Member("poste", "Poste local (données de test)", "agent", hub_user=os_login()), actor="modo")
    kb.start_thread("modo", kind="rex", title="Fil public : covoiturage (essai)", anchor="territory:69123",
                    body="Retour d'expérience **public** (essai).", themes=["mobilité"])
    return root


@pytest.fixture(scope="module")
def hub(hub_kb, small_bundle_dir, tmp_path_factory):
    from planeco_kernel.hub.process import HubProcess

    env = {"PLANECO_KB": str(hub_kb), "PLANECO_DATA_DIR": str(small_bundle_dir), "PLANECO_HUB_AUTHENTICATOR": "dummy",
           "PLANECO_HUB_POOL_SIZE": "0", "PLANECO_HUB_ADMINS": "modo"}
    with HubProcess(tmp_path_factory.mktemp("hubstate"), env) as h:
        yield h


@pytest.fixture(scope="module")
def public_gallery(hub, hub_kb, small_bundle_dir, served_apps_dir, tmp_path_factory):
    """``planeco serve --public`` over the hub's knowledge base, whose process has a local identity it must not lend."""
    from planeco_kernel.hub.process import free_port, spawned
    from tests.browser.conftest import serve_argv

    port = free_port()
    log = tmp_path_factory.mktemp("public") / "serve.log"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PLANECO_DATA_DIR": str(small_bundle_dir), "PLANECO_KB": str(hub_kb),
           "PLANECO_KB_USER": "modo"}
    url = f"http://127.0.0.1:{port}/"
    with spawned(serve_argv(served_apps_dir, port, "--public", "--sign-in-url", hub.url), url, log, env, ROOT):
        yield url


def sign_in(page, hub, user: str) -> None:
    """Sign in on the hub's login page; wait for this user's planeco gallery."""
    page.goto(hub.url + "hub/login")
    page.fill("#username_input", user)
    page.fill("#password_input", "essai")
    page.click("#login_submit")
    page.wait_for_url(f"**/user/{user}/", timeout=TIMEOUT)
    page.locator(".planeco-card").first.wait_for(timeout=TIMEOUT)


def open_echanges(page):
    page.locator(".planeco-card", has_text="Échanges").locator("a").click()
    page.locator(".planeco-kb-app").wait_for(state="visible", timeout=TIMEOUT)


def start_thread(page, title: str, body: str) -> str:
    page.get_by_role("tab", name="Nouveau fil").click()
    page.locator(".planeco-kb-new-title input").fill(title)
    page.locator(".planeco-kb-new-body textarea").fill(body)
    status = page.locator(".planeco-kb-status")
    before = status.inner_text()
    page.locator(".planeco-kb-new-send").click()
    deadline = time.monotonic() + TIMEOUT / 1000
    while status.inner_text() == before and time.monotonic() < deadline:   # the answer to this click
        time.sleep(0.1)
    return status.inner_text()


@pytest.fixture(scope="module")
def sessions(hub, browser):
    """One signed-in browser session per member (hub user -> OfflinePage), kept for the module."""
    from tests.browser.conftest import OfflinePage

    made: dict[str, OfflinePage] = {}
    yield made
    for op in made.values():
        op.close()


def session(sessions, browser, hub, user: str):
    """The signed-in page of ``user`` with Échanges open (signing in and spawning the first time)."""
    from tests.browser.conftest import OfflinePage

    if user not in sessions:
        op = OfflinePage(browser)
        sign_in(op.page, hub, user)
        assert f"« {user} »" in op.page.locator(".planeco-notice").first.inner_text()
        open_echanges(op.page)
        sessions[user] = op
    return sessions[user].page


def test_three_members_sign_in_and_post_under_their_own_names(hub, hub_kb, sessions, browser, artifacts_dir):
    for user, (member, name) in MEMBERS.items():
        page = session(sessions, browser, hub, user)
        assert name in page.locator(".planeco-kb-identity").inner_text()
        text = start_thread(page, f"Question de {member} (essai)", f"Message de {member} : réseau de chaleur ? (essai)")
        assert "publié" in text, text
        page.screenshot(path=str(artifacts_dir / f"hub_{member}_post.png"), full_page=True)
        assert sessions[user].blocked == [], f"{user}: requests outside the server: {sessions[user].blocked}"
    log = subprocess.run(["git", "log", "--format=%an"], cwd=hub_kb, capture_output=True, text=True, check=True)
    authors = set(log.stdout.splitlines())
    assert {name for _member, name in MEMBERS.values()} <= authors


def test_a_company_addressing_another_company_is_refused_with_the_rule(hub, hub_kb, sessions, browser):
    from planeco_kernel.knowledge import KnowledgeBase

    page = session(sessions, browser, hub, "acme")
    page.get_by_role("tab", name="Nouveau fil").click()
    page.locator(".planeco-kb-new-to input").fill("betaco")
    text = start_thread(page, "Partenariat entre entreprises (essai)", "Travaillons ensemble ? (essai)")
    assert "pas de sollicitation entre entreprises" in text, text
    assert not KnowledgeBase(hub_kb).threads(None, text="Partenariat entre entreprises")


def _open_thread(page, title: str) -> None:
    page.get_by_role("tab", name="Fils").click()
    page.locator(".planeco-kb-search").click()
    page.locator(".planeco-kb-thread-item", has_text=title).first.click()
    page.locator(".planeco-kb-thread-title", has_text=title).wait_for(timeout=TIMEOUT)


def test_a_non_moderator_cannot_hide_a_post_and_a_moderator_can(hub, hub_kb, sessions, browser):
    from planeco_kernel.knowledge import KnowledgeBase

    page = session(sessions, browser, hub, "claire.hub")     # élue, not a moderator
    _open_thread(page, "Question de acme")
    page.locator(".planeco-kb-actions").wait_for(state="visible", timeout=TIMEOUT)
    assert page.locator(".planeco-kb-hide").count() == 0     # she may flag, not hide
    page.locator(".planeco-kb-action-text textarea").fill("Sollicitation ? (essai)")
    page.locator(".planeco-kb-flag").click()
    page.locator(".planeco-kb-status", has_text="signalé").wait_for(timeout=TIMEOUT)

    page = session(sessions, browser, hub, "modo")           # agent and moderator
    _open_thread(page, "Question de acme")
    page.locator(".planeco-kb-action-text textarea").fill("Hors sujet (essai)")
    page.locator(".planeco-kb-hide").click()
    page.locator(".planeco-kb-status", has_text="Message masqué").wait_for(timeout=TIMEOUT)
    thread = KnowledgeBase(hub_kb).threads("modo", text="Question de acme")[0]
    post = KnowledgeBase(hub_kb).thread(thread.id, "modo").posts[0]
    assert post.hidden and post.hidden_reason == "Hors sujet (essai)"


def test_the_members_screen_is_for_moderators(hub, sessions, browser):
    page = session(sessions, browser, hub, "claire.hub")
    assert page.get_by_role("tab", name="Membres").count() == 0
    page = session(sessions, browser, hub, "modo")
    page.get_by_role("tab", name="Membres").click()
    table = page.locator(".planeco-kb-members")
    table.wait_for(timeout=TIMEOUT)
    assert table.locator("tr[data-member-id='betaco']").count() == 1


def test_an_unknown_hub_user_reads_and_is_told_to_ask_a_moderator(hub, sessions, browser):
    page = session(sessions, browser, hub, "inconnu")
    identity = page.locator(".planeco-kb-identity").inner_text().lower()
    assert "demandez à un·e modérateur·rice de vous inscrire" in identity
    page.locator(".planeco-kb-thread-item").first.wait_for(timeout=TIMEOUT)   # reads
    assert page.locator(".planeco-kb-new-send").is_disabled()


def test_a_user_cannot_open_another_users_server(hub, sessions, browser):
    session(sessions, browser, hub, "acme")
    op = sessions["acme"]
    resp = op.page.goto(hub.url + "user/claire.hub/")
    # the hub refuses to hand acme a token for claire's server: no gallery of claire's is shown
    assert resp.status == 403, (resp.status, op.page.url)
    assert op.page.locator(".planeco-card").count() == 0
    del sessions["acme"]
    op.close()


def test_jupyterlab_behind_the_hub_is_for_staff_and_calls_nobody(hub, sessions, browser, offline_page):
    from tests.browser.test_no_calls_home import assert_lab_calls_nobody

    page = session(sessions, browser, hub, "claire.hub")   # an elected official: the apps, not JupyterLab
    page.goto(hub.url + "hub/spawn/claire.hub/lab")
    page.get_by_text("JupyterLab est réservé aux agents").first.wait_for(timeout=TIMEOUT)

    session(sessions, browser, hub, "modo")                 # agent and moderator: technical staff
    op = offline_page()
    op.context.add_cookies(sessions["modo"].context.cookies())
    op.page.goto(hub.url + "hub/spawn/modo/lab")
    op.page.wait_for_url("**/user/modo/lab/**", timeout=TIMEOUT)
    assert_lab_calls_nobody(op, op.page.url)


def test_an_anonymous_visitor_of_the_public_gallery_reads_and_is_told_how_to_sign_in(public_gallery, hub, hub_kb, offline_page):
    from planeco_kernel.knowledge import KnowledgeBase

    before = subprocess.run(["git", "rev-list", "--count", "HEAD"], cwd=hub_kb, capture_output=True, text=True).stdout
    op = offline_page()
    page = op.page
    page.goto(public_gallery)
    notice = page.locator(".planeco-notice").first
    assert "connectez-vous" in notice.inner_text()
    assert notice.locator("a").get_attribute("href") == hub.url
    open_echanges(page)
    identity = page.locator(".planeco-kb-identity").inner_text()
    assert "Lecture seule" in identity and "Poste local" not in identity   # never the server's local identity
    page.locator(".planeco-kb-thread-item", has_text="Fil public : covoiturage").click()
    page.locator(".planeco-kb-thread-view strong", has_text="public").wait_for(timeout=TIMEOUT)   # it reads
    assert page.locator(".planeco-kb-reply-send").is_hidden()
    assert "connectez-vous" in page.locator(".planeco-kb-sign-in:visible").first.inner_text()
    page.get_by_role("tab", name="Nouveau fil").click()
    assert page.locator(".planeco-kb-new-send").is_disabled()
    assert "connectez-vous" in page.locator(".planeco-kb-sign-in:visible").first.inner_text()
    after = subprocess.run(["git", "rev-list", "--count", "HEAD"], cwd=hub_kb, capture_output=True, text=True).stdout
    assert before == after                                          # nothing was written
    assert KnowledgeBase(hub_kb).threads(None, text="covoiturage")
    assert op.blocked == []


def _server_environment(hub_user: str) -> dict[str, str]:
    """The environment the hub gave ``hub_user``'s planeco server: what code in their kernel can read."""
    import psutil

    for p in psutil.process_iter(["cmdline"]):
        try:
            env = p.environ()
        except (psutil.AccessDenied, psutil.NoSuchProcess, psutil.ZombieProcess):
            continue
        if env.get("JUPYTERHUB_USER") == hub_user and "planeco_kernel.hub.singleuser" in " ".join(p.info["cmdline"] or []):
            return env
    raise AssertionError(f"no planeco server of {hub_user} is running")


def test_a_kernel_changing_jupyterhub_user_still_writes_as_its_owner(hub, hub_kb, sessions, browser, monkeypatch):
    """Issue 15: with her server's token, claire's kernel claims to be the moderator; the hub's service says no."""
    from planeco_kernel.knowledge import KnowledgeBase, PermissionDeniedError

    session(sessions, browser, hub, "claire.hub")
    env = _server_environment("claire.hub")
    assert env["PLANECO_KB_SERVICE_URL"].endswith("/services/planeco-kb/")
    for name in ("PLANECO_KB_SERVICE_URL", "JUPYTERHUB_API_TOKEN"):
        monkeypatch.setenv(name, env[name])
    monkeypatch.setenv("JUPYTERHUB_USER", "modo")                      # what a notebook cell can do
    kb = KnowledgeBase(hub_kb)
    assert kb.identity().id == "modo"                                  # shown locally…
    thread = kb.threads("modo", text="covoiturage")[0]
    with pytest.raises(PermissionDeniedError, match="seul·es les modérateur·rices peuvent agir au nom"):
        kb.hide("modo", kb.thread(thread.id, "modo").posts[0].id, "usurpation")
    with pytest.raises(PermissionDeniedError, match="seul·es les modérateur·rices peuvent agir au nom"):
        kb.reply("modo", thread.id, "Signé : le modérateur (usurpation, essai)")
    r = kb.reply("claire", thread.id, "Réponse de Claire par le service (essai)")   # …written as the token's owner
    assert r.author == "claire"
    log = subprocess.run(["git", "log", "-1", "--format=%an"], cwd=hub_kb, capture_output=True, text=True, check=True)
    assert log.stdout.strip() == MEMBERS["claire.hub"][1]
    assert "POST /services/planeco-kb/api/reply" in hub.log_tail(200_000)   # the hub's managed service wrote it
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "jeton-invente")
    with pytest.raises(PermissionDeniedError, match="ne reconnaît pas ce jeton"):
        kb.reply("claire", thread.id, "Avec un jeton inventé (essai)")
