"""The hub's knowledge-base service (planeco_kernel.hub.kb_service): the hub says who writes, not the kernel.

Reproduces the last point of issue 15: behind JupyterHub the acting member came from
``JUPYTERHUB_USER`` in the user's own kernel, which the user can change. Here the service runs
in-process (tornado, its own thread) in front of a FAKE hub API: a tiny tornado app answering
``GET /hub/api/user`` like JupyterHub does for a token (the user model with the token's
scopes, 403 for a token it does not know) — what :class:`jupyterhub.services.auth.HubAuth`
asks. Tokens, hub users and members are INVENTED test data.
"""

from __future__ import annotations

import asyncio
import json
import threading
import urllib.error
import urllib.request

import pytest
from jupyterhub.services.auth import HubAuth
from tornado import web

from planeco_kernel.hub import kb_service as S
from planeco_kernel.hub.process import free_port
from planeco_kernel.knowledge import (
    KnowledgeBase,
    Member,
    NeutralityError,
    NotFoundError,
    PermissionDeniedError,
)
from planeco_kernel.knowledge.remote import SERVICE_VARIABLE, TOKEN_VARIABLE

TOKENS = {  # token -> (hub user, scopes): invented
    "tok-admin": ("admin-hub", [S.ACCESS_SCOPE]),
    "tok-elue": ("elue-hub", [S.ACCESS_SCOPE]),
    "tok-acme": ("acme-hub", [S.ACCESS_SCOPE]),
    "tok-stranger": ("stranger-hub", [S.ACCESS_SCOPE]),     # signed in to the hub, not a member
    "tok-noscope": ("elue-hub", ["users:activity!user=elue-hub"]),  # a token without access to the service
    "tok-culler": ("admin-hub", [S.ACCESS_SCOPE]),       # a hub *service* named like a member (kind "service")
}


class FakeHubUser(web.RequestHandler):
    """``GET /hub/api/user``: the owner of the ``Authorization: token …`` (JupyterHub's answer shape)."""

    def get(self):
        token = self.request.headers.get("Authorization", "").partition(" ")[2]
        self.application.settings["seen"].append(token)
        if token not in TOKENS:
            self.set_status(403)
            self.finish({"status": 403, "message": "Missing or invalid credentials."})
            return
        name, scopes = TOKENS[token]
        kind = "service" if token == "tok-culler" else "user"
        self.finish({"kind": kind, "name": name, "admin": False, "groups": [], "scopes": scopes})


class Servers:
    """The fake hub and the service on one event loop in a background thread."""

    def __init__(self, kb_dir):
        self.hub_port, self.port = free_port(), free_port()
        self.seen: list[str] = []
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self._start(kb_dir), self.loop).result(timeout=30)
        self.url = f"http://127.0.0.1:{self.port}/services/{S.SERVICE_NAME}/"

    async def _start(self, kb_dir):
        self.hub = web.Application([(r"/hub/api/user", FakeHubUser)], seen=self.seen).listen(self.hub_port, "127.0.0.1")
        auth = HubAuth(api_url=f"http://127.0.0.1:{self.hub_port}/hub/api", api_token="tok-service",
                       access_scopes={S.ACCESS_SCOPE}, cache_max_age=0)
        self.app = S.make_app(kb_dir, hub_auth=auth)
        self.server = self.app.listen(self.port, "127.0.0.1")

    async def _stop(self):
        self.server.stop()
        self.hub.stop()

    def close(self):
        asyncio.run_coroutine_threadsafe(self._stop(), self.loop).result(timeout=10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)


@pytest.fixture()
def kb(tmp_path, monkeypatch):
    monkeypatch.setenv("PLANECO_DATA_DIR", str(tmp_path / "no-bundle"))
    for name in ("JUPYTERHUB_USER", SERVICE_VARIABLE, TOKEN_VARIABLE, "PLANECO_KB_USER"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(S.STATE_VARIABLE, str(tmp_path / "service-state"))  # the service's key, out of the home folder
    base = KnowledgeBase.init(tmp_path / "kb", Member("admin", "Admin Essai", "agent", hub_user="admin-hub"))
    base.add_member(Member("elue", "Élue Essai", "elu", hub_user="elue-hub"), actor="admin")
    base.add_member(Member("acme", "ACME Essai", "entreprise", hub_user="acme-hub"), actor="admin")
    return base


@pytest.fixture()
def hub(kb):
    s = Servers(kb.root)
    yield s
    s.close()


def as_server_of(monkeypatch, hub, token: str, claimed_hub_user: str) -> KnowledgeBase:
    """The façade in a user's server: token given by the hub, JUPYTERHUB_USER as the user left it."""
    monkeypatch.setenv(SERVICE_VARIABLE, hub.url)
    monkeypatch.setenv(TOKEN_VARIABLE, token)
    monkeypatch.setenv("JUPYTERHUB_USER", claimed_hub_user)
    return KnowledgeBase(hub.app.settings["planeco_writer"].kb.root)


def raw(hub, path: str, body: dict | None = None, token: str | None = None) -> tuple[int, dict]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"token {token}"
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(hub.url + path, data=data, headers=headers, method="GET" if body is None else "POST")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def commit_author(root, n: int = 0) -> str:
    from dulwich.repo import Repo

    with Repo(str(root)) as repo:
        entry = list(repo.get_walker(max_entries=n + 1))[n]
        return entry.commit.author.decode()


THREAD = {"kind": "discussion", "title": "Covoiturage", "body": "Qui a un retour ?", "anchor": "app:zan"}


def test_a_post_is_authored_by_the_token_owner_whatever_the_body_claims(kb, hub):
    status, d = raw(hub, "api/start_thread", {**THREAD, "author": "admin", "actor": "admin", "acted_by": None},
                    token="tok-elue")
    assert status == 200, d
    assert d["result"]["author"] == "elue" and d["result"]["role"] == "elu" and not d["result"]["acted_by"]
    assert commit_author(kb.root).startswith("Élue Essai")
    assert hub.seen == ["tok-elue"]  # the service asked the hub about the request's token


def test_changing_jupyterhub_user_in_the_kernel_does_not_make_a_moderator(kb, hub, monkeypatch):
    p = kb.start_thread("admin", **THREAD)
    mine = as_server_of(monkeypatch, hub, "tok-elue", claimed_hub_user="admin-hub")  # the attack of issue 15
    assert mine.identity().id == "admin"  # what the kernel *shows* follows its environment…
    with pytest.raises(PermissionDeniedError, match="seul·es les modérateur·rices peuvent agir au nom"):
        mine.hide("admin", p.id, "je me fais passer pour l'admin")  # …but the service acts as the token's owner
    with pytest.raises(PermissionDeniedError, match="seul·es les modérateur·rices peuvent agir au nom"):
        mine.reply("admin", p.thread, "Signé : l'admin")
    with pytest.raises(PermissionDeniedError, match="n'est pas modérateur"):
        mine.hide("elue", p.id, "raison")
    with pytest.raises(PermissionDeniedError, match="n'est pas modérateur"):
        mine.add_member(Member("elue", "Élue Essai", "elu", hub_user="elue-hub", moderator=True), actor="elue")
    kb.refresh()
    assert not kb.thread(p.thread, "admin").posts[0].hidden and len(kb.thread(p.thread, "admin").posts) == 1
    assert not kb.member("elue").moderator
    r = mine.reply("elue", p.thread, "Oui, à Lyon.")
    assert r.author == "elue" and r.thread == p.thread and commit_author(kb.root).startswith("Élue Essai")
    with pytest.raises(PermissionDeniedError, match="ne se change pas"):
        mine.set_identity("admin")


def test_a_moderator_acts_on_behalf_of_a_member_and_it_is_recorded(kb, hub, monkeypatch):
    mod = as_server_of(monkeypatch, hub, "tok-admin", claimed_hub_user="admin-hub")
    p = mod.start_thread("elue", **THREAD)
    assert (p.author, p.acted_by) == ("elue", "admin")
    eid = mod.hide("admin", p.id, "hors sujet")
    kb.refresh()
    assert eid.startswith("e-") and kb.thread(p.thread, "admin").posts[0].hidden
    saved = mod.add_member(Member("elu3", "Élu Trois", "elu", hub_user="elu3-hub"), actor="admin")
    assert saved.id == "elu3" and kb.member("elu3").hub_user == "elu3-hub"


def test_documents_are_saved_as_the_token_owner(kb, hub, monkeypatch):
    mine = as_server_of(monkeypatch, hub, "tok-elue", claimed_hub_user="admin-hub")
    sha = mine.save_document("documents/essai/notes.md", "Notes de l'élue\n", "notes")
    assert len(sha) == 40 and commit_author(kb.root).startswith("Élue Essai")
    kb.refresh()
    assert kb.read_document("documents/essai/notes.md") == "Notes de l'élue\n"


def test_unknown_token_and_non_member_are_refused_in_french(kb, hub, monkeypatch):
    status, d = raw(hub, "api/start_thread", THREAD, token="tok-forged")
    assert status == 403 and d["error"] == "PermissionDeniedError" and "ne reconnaît pas ce jeton" in d["message"]
    with pytest.raises(PermissionDeniedError, match="ne reconnaît pas ce jeton"):
        as_server_of(monkeypatch, hub, "tok-forged", "elue-hub").start_thread("elue", **THREAD)
    status, d = raw(hub, "api/whoami", token="tok-stranger")
    assert status == 403 and "« stranger-hub » n'est pas membre" in d["message"]
    status, d = raw(hub, "api/start_thread", THREAD, token="tok-noscope")
    assert status == 403 and S.ACCESS_SCOPE in d["message"]
    status, d = raw(hub, "api/start_thread", THREAD, token="tok-culler")
    assert status == 403 and "seuls les serveurs des utilisateur·rices" in d["message"]
    monkeypatch.delenv("JUPYTERHUB_USER")
    kb.refresh()
    assert kb.threads("admin") == []


def test_a_request_without_token_is_401(kb, hub, monkeypatch):
    status, d = raw(hub, "api/start_thread", THREAD)
    assert status == 401 and "Jeton JupyterHub manquant" in d["message"]
    monkeypatch.setenv(SERVICE_VARIABLE, hub.url)
    with pytest.raises(PermissionDeniedError, match="pas de jeton JupyterHub"):
        KnowledgeBase(kb.root).start_thread("elue", **THREAD)
    assert hub.seen == []  # nothing to ask the hub


def test_neutrality_rules_still_apply_through_the_service(kb, hub, monkeypatch):
    acme = as_server_of(monkeypatch, hub, "tok-acme", claimed_hub_user="acme-hub")
    with pytest.raises(NeutralityError, match="démarchage commercial"):
        acme.start_thread("acme", kind="discussion", title="Offre", body="Devis gratuit : contactez-nous !",
                          anchor="app:zan", addressed_to=["elu"])
    with pytest.raises(PermissionDeniedError, match="réservé au secteur public"):
        acme.start_thread("acme", **THREAD, audience="public_sector", addressed_to=["elu"])
    p = acme.start_thread("acme", **THREAD, addressed_to=["elu"])
    assert p.author == "acme" and p.status == "published"
    with pytest.raises(NotFoundError, match="Fil inconnu"):
        acme.reply("acme", "t-20261124-1a2b3c4d", "x")


def test_whoami_and_malformed_requests(kb, hub):
    status, d = raw(hub, "api/whoami", token="tok-elue")
    assert status == 200 and d["result"]["id"] == "elue"
    status, d = raw(hub, "api/rewrite_history", {}, token="tok-admin")
    assert status == 404 and "Opération inconnue" in d["message"]
    status, d = raw(hub, "api/start_thread", {"title": "sans corps"}, token="tok-elue")
    assert status == 400 and d["error"] == "InvalidInputError" and "Requête incomplète" in d["message"]


KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"  # an invented public key


def test_signing_keys_go_through_the_service_a_member_for_themself_only(kb, hub, monkeypatch):
    mine = as_server_of(monkeypatch, hub, "tok-elue", claimed_hub_user="admin-hub")
    assert mine.set_signing_key("elue", KEY, actor="elue").signing_key == KEY
    with pytest.raises(PermissionDeniedError):
        mine.set_signing_key("admin", KEY, actor="elue")
    with pytest.raises(PermissionDeniedError):
        mine.configure(actor="elue", signatures="required")
    kb.refresh()
    assert kb.member("elue").signing_key == KEY and kb.member("admin").signing_key == ""
    assert kb.check() == []
