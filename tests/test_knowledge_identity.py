"""Identity from what a person cannot choose; ``--as`` only for a moderator acting on someone's behalf.

Reproduces issue 15, item 1: ``JUPYTERHUB_USER=jh-elu2 planeco kb hide … --as admin`` hid a post,
any user could create moderators and read ``public_sector`` threads. Members are invented test data.
"""

from __future__ import annotations

import json
import subprocess

import pytest

from planeco_kernel.cli import main
from planeco_kernel.knowledge import KnowledgeBase, Member, NotFoundError, PermissionDeniedError
from planeco_kernel.knowledge import frontmatter, identity


@pytest.fixture(autouse=True)
def _env(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("PLANECO_DATA_DIR", str(tmp_path_factory.mktemp("no-bundle")))
    monkeypatch.delenv("JUPYTERHUB_USER", raising=False)
    monkeypatch.delenv("PLANECO_KB_USER", raising=False)


@pytest.fixture()
def kb(tmp_path, monkeypatch) -> KnowledgeBase:
    base = KnowledgeBase.init(tmp_path / "kb", Member(id="admin", name="Admin Test", role="agent", email="admin@test.invalid"))
    base.add_member(Member(id="elu2", name="Élu Test", role="elu", hub_user="jh-elu2", email="elu2@test.invalid"), actor="admin")
    base.add_member(Member(id="acme", name="ACME Test", role="entreprise", hub_user="jh-acme"), actor="admin")
    monkeypatch.setenv("PLANECO_KB", str(base.root))
    return base


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def git(root, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True).stdout


def test_hub_user_cannot_act_as_the_administrator(kb, capsys, monkeypatch):
    p = kb.start_thread("admin", kind="discussion", title="Fil", body="x", anchor="app:zan")
    monkeypatch.setenv("JUPYTERHUB_USER", "jh-elu2")
    code, _, err = run(capsys, "kb", "hide", p.id, "--reason", "x", "--as", "admin")
    assert code == 2 and "seul·es les modérateur·rices peuvent agir au nom" in err
    code, _, err = run(capsys, "kb", "hide", p.id, "--reason", "x")
    assert code == 2 and "n'est pas modérateur" in err
    monkeypatch.delenv("JUPYTERHUB_USER")
    assert not kb.thread(p.thread, "admin").posts[0].hidden


def test_hub_user_wins_over_any_local_setting(kb, monkeypatch):
    monkeypatch.setenv("PLANECO_KB_USER", "admin")
    monkeypatch.setenv("JUPYTERHUB_USER", "jh-acme")
    assert kb.identity().id == "acme"
    with pytest.raises(PermissionDeniedError, match="agir au nom"):
        kb.start_thread("admin", kind="discussion", title="usurpé", body="x", anchor="app:zan")
    with pytest.raises(PermissionDeniedError, match="agir au nom"):
        kb.add_member(Member(id="pirate", name="Pirate", role="agent", moderator=True), actor="admin")


def test_non_moderators_cannot_create_moderators(kb, capsys, monkeypatch):
    monkeypatch.setenv("JUPYTERHUB_USER", "jh-elu2")
    code, _, err = run(capsys, "kb", "members", "add", "pirate", "--name", "P", "--role", "elu", "--moderator")
    assert code == 2 and "modérateur" in err
    code, _, err = run(capsys, "kb", "members", "add", "pirate", "--name", "P", "--role", "elu", "--moderator", "--as", "admin")
    assert code == 2
    monkeypatch.delenv("JUPYTERHUB_USER")
    assert "pirate" not in {m.id for m in kb.members()}


def test_public_sector_threads_stay_closed_to_companies(kb, capsys, monkeypatch):
    t = kb.start_thread("elu2", kind="question", title="Entre nous", body="x", anchor="app:zan", audience="public_sector")
    monkeypatch.setenv("JUPYTERHUB_USER", "jh-acme")
    code, out, _ = run(capsys, "kb", "list", "--json")
    assert code == 0 and json.loads(out) == []
    code, _, err = run(capsys, "kb", "show", t.thread, "--as", "elu2")
    assert code == 2 and "seul·es les modérateur·rices" in err
    code, _, err = run(capsys, "kb", "list", "--as", "admin")
    assert code == 2
    with pytest.raises(PermissionDeniedError):
        kb.thread(t.thread, "elu2")  # the Python API checks the hub user too
    with pytest.raises(NotFoundError):
        kb.thread(t.thread, "acme")


def test_moderator_acting_on_behalf_is_recorded_with_the_members_rights(kb, capsys):
    # local install: the copy's git identity (written by init) is the administrator's
    code, out, _ = run(capsys, "kb", "post", "--title", "Pour Élu", "--anchor", "app:zan", "--body", "x", "--as", "elu2", "--json")
    assert code == 0
    p = json.loads(out)
    assert p["author"] == "elu2" and p["acted_by"] == "admin"
    meta, _ = frontmatter.parse((kb.root / p["path"]).read_bytes())
    assert meta["acted_by"] == "admin"
    log = git(kb.root, "log", "-1", "--format=%an <%ae>|%cn <%ce>|%B")
    author, committer, message = log.split("|", 2)
    assert author == "Élu Test <elu2@test.invalid>" and committer == "Admin Test <admin@test.invalid>"
    assert "Planeco-Acted-By: admin" in message
    # the represented member's rights apply: elu2 is no moderator, so hiding as elu2 is refused
    code, _, err = run(capsys, "kb", "hide", p["id"], "--reason", "x", "--as", "elu2")
    assert code == 2 and "n'est pas modérateur" in err
    assert KnowledgeBase(kb.root).check() == []  # acting on behalf is a legitimate change


def test_local_identity_from_git_then_os_account(kb, monkeypatch):
    assert kb.identity().id == "admin"
    git(kb.root, "config", "user.email", "elu2@test.invalid")
    assert kb.identity().id == "elu2"
    git(kb.root, "config", "user.email", "personne@test.invalid")
    monkeypatch.setattr(identity, "os_login", lambda: "jh-acme")
    assert kb.identity().id == "acme"  # the OS account matched to hub_user
    monkeypatch.setattr(identity, "os_login", lambda: "inconnu")
    with pytest.raises(NotFoundError, match="Identité inconnue"):
        kb.identity()


def test_whoami_set_is_for_moderators(kb, capsys):
    git(kb.root, "config", "user.email", "elu2@test.invalid")
    code, _, err = run(capsys, "kb", "whoami", "--set", "admin")
    assert code == 2 and "modérateur" in err
    git(kb.root, "config", "user.email", "admin@test.invalid")
    assert run(capsys, "kb", "whoami", "--set", "elu2")[0] == 0
    assert run(capsys, "kb", "whoami")[1].startswith("elu2")
