"""Authorship and rights verified against the commits (issue 15, item 2).

Each test reproduces a finding of the hostile test — a plain ``git commit`` or a synced copy that
deletes or rewrites posts, posts as the administrator or grants itself moderation while
``planeco kb check`` said « Base de connaissances saine » — and checks that the change is now
quarantined (not shown, or undone in what is shown) and listed by ``kb check``, which exits 1.
Members and posts are invented test data.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from planeco_kernel.cli import main
from planeco_kernel.knowledge import KnowledgeBase, Member, PermissionDeniedError, SyncError
from planeco_kernel.knowledge import frontmatter, integrity, model
from planeco_kernel.knowledge.state import assemble
from planeco_kernel.knowledge.sync import sync

INTRUDER = {"GIT_AUTHOR_NAME": "Intrus", "GIT_AUTHOR_EMAIL": "intrus@test.invalid",
            "GIT_COMMITTER_NAME": "Intrus", "GIT_COMMITTER_EMAIL": "intrus@test.invalid"}  # fmt: skip


@pytest.fixture(autouse=True)
def _env(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("PLANECO_DATA_DIR", str(tmp_path_factory.mktemp("no-bundle")))
    monkeypatch.delenv("JUPYTERHUB_USER", raising=False)


def git(root: Path, *args: str, env: dict[str, str] | None = None) -> str:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True,
                          env={**os.environ, **(env or {})}).stdout  # fmt: skip


@pytest.fixture()
def kb(tmp_path) -> KnowledgeBase:
    base = KnowledgeBase.init(tmp_path / "kb", Member(id="admin", name="Admin Test", role="agent", email="admin@test.invalid"))
    base.add_member(Member(id="paul", name="Paul Test", role="agent", email="paul@test.invalid"), actor="admin")
    return base


def _post(kb: KnowledgeBase, who: str = "paul", title: str = "Un fil") -> model.Post:
    return kb.start_thread(who, kind="discussion", title=title, body="Texte d'origine.", anchor="app:zan")


def _forged_post(thread_dir: str, author: str, title: str = "Faux") -> tuple[str, bytes]:
    created = model.now_utc()
    tid = thread_dir.rsplit("/", 1)[-1] if "/t-" in thread_dir else model.new_thread_id(created)
    pid = model.new_record_id(created)
    meta = {"id": pid, "thread": tid, "author": author, "role": "agent", "created": created, "reply_to": None,
            "kind": "discussion", "audience": "open", "title": title, "anchor": "app:zan", "themes": [],
            "addressed_to": [], "status": "published", "held_reason": "", "details": {}}  # fmt: skip
    return f"discussions/app/zan/{tid}/{pid}.md", frontmatter.dump(meta, "Message forgé.")


def _check(capsys, kb: KnowledgeBase) -> tuple[int, str]:
    code = main(["kb", "check", "--kb", str(kb.root)])
    return code, capsys.readouterr().out


def test_a_sound_base_checks_clean(kb, capsys):
    _post(kb)
    assert _check(capsys, kb) == (0, "Base de connaissances saine.\n")


def test_post_as_the_administrator_by_a_plain_commit_is_quarantined(kb, capsys):
    path, data = _forged_post("", "admin", "Annonce officielle")
    (kb.root / path).parent.mkdir(parents=True)
    (kb.root / path).write_bytes(data)
    git(kb.root, "add", path)
    git(kb.root, "commit", "-qm", "post", env=INTRUDER)
    assert [t.title for t in KnowledgeBase(kb.root).threads("admin")] == []
    code, out = _check(capsys, kb)
    assert code == 1 and path in out and "message signé « admin » mais commis par intrus@test.invalid" in out
    assert "saine" not in out


def test_deleting_or_rewriting_a_post_with_git_is_undone_and_reported(kb, capsys):
    keep, change = _post(kb, title="À garder"), _post(kb, title="À réécrire")
    git(kb.root, "rm", "-q", keep.path)
    (kb.root / change.path).write_text((kb.root / change.path).read_text("utf-8").replace("Texte d'origine.", "Texte falsifié."))
    git(kb.root, "commit", "-qam", "ménage", env=INTRUDER)
    base = KnowledgeBase(kb.root)
    assert {t.title for t in base.threads("admin")} == {"À garder", "À réécrire"}
    assert base.thread(change.thread, "admin").posts[0].body == "Texte d'origine."
    code, out = _check(capsys, kb)
    assert code == 1 and "supprimé : les messages" in out and "message modifié" in out


def test_granting_oneself_moderation_is_refused(kb, capsys):
    created = model.now_utc()
    entry = {"type": "member", "id": "paul", "name": "Paul Test", "role": "agent", "territory": "", "organisation": "",
             "email": "paul@test.invalid", "moderator": True, "hub_user": "", "active": True, "created": created, "by": "admin"}  # fmt: skip
    path = f"members/paul/{model.new_record_id(created, 'e')}.md"
    (kb.root / path).write_bytes(frontmatter.dump(entry, ""))
    git(kb.root, "add", path)
    git(kb.root, "commit", "-qm", "promotion", env={**INTRUDER, "GIT_AUTHOR_EMAIL": "paul@test.invalid",
                                                    "GIT_COMMITTER_EMAIL": "paul@test.invalid"})  # fmt: skip
    assert not KnowledgeBase(kb.root).member("paul").moderator
    code, out = _check(capsys, kb)
    assert code == 1 and "fiche de membre signée « admin » mais commise par paul@test.invalid" in out


def test_history_rewrite_is_reported_and_loses_nothing(kb, capsys):
    _post(kb, title="Premier")
    kb.threads("admin")  # verified up to here
    _post(kb, title="Second")
    KnowledgeBase(kb.root).threads("admin")
    git(kb.root, "reset", "-q", "--hard", "HEAD~1")
    assert {t.title for t in KnowledgeBase(kb.root).threads("admin")} == {"Premier", "Second"}
    code, out = _check(capsys, kb)
    assert code == 1 and "historique réécrit" in out


def test_removing_a_quarantined_file_is_the_cleanup(kb, capsys):
    path, data = _forged_post("", "admin")
    (kb.root / path).parent.mkdir(parents=True)
    (kb.root / path).write_bytes(data)
    git(kb.root, "add", path)
    git(kb.root, "commit", "-qm", "forgé", env=INTRUDER)
    assert _check(capsys, kb)[0] == 1
    git(kb.root, "rm", "-q", path)
    git(kb.root, "commit", "-qm", "retrait", env=INTRUDER)
    code, out = _check(capsys, kb)
    assert code == 0, out


def test_sync_quarantines_forged_history_and_merges_nothing(kb, tmp_path):
    remote = tmp_path / "commun.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    sync(kb.root, str(remote), name="Admin Test", email="admin@test.invalid")
    other = KnowledgeBase.clone(str(remote), tmp_path / "autre")
    path, data = _forged_post("", "admin", "Faux message de l'administrateur")
    (other.root / path).parent.mkdir(parents=True)
    (other.root / path).write_bytes(data)
    git(other.root, "add", path)
    git(other.root, "commit", "-qm", "forgé", env=INTRUDER)
    git(other.root, "push", "-q", str(remote), "HEAD:main")
    head = git(kb.root, "rev-parse", "HEAD")
    with pytest.raises(SyncError, match="Synchronisation refusée.*1 changement") as err:
        sync(kb.root, str(remote), name="Admin Test", email="admin@test.invalid")
    assert path in str(err.value)
    assert git(kb.root, "rev-parse", "HEAD") == head  # nothing merged
    assert git(kb.root, "for-each-ref", "refs/planeco/quarantine").strip()
    reports = list((kb.root / ".git" / "planeco-kb" / "quarantine").glob("*.txt"))
    assert len(reports) == 1 and path in reports[0].read_text("utf-8")


def test_remote_whose_history_was_rewritten_is_refused(kb, tmp_path):
    remote = tmp_path / "commun.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    _post(kb, title="Avant")
    sync(kb.root, str(remote), name="Admin Test", email="admin@test.invalid")
    git(tmp_path, "--git-dir", str(remote), "update-ref", "refs/heads/main", git(kb.root, "rev-parse", "HEAD~1").strip())
    with pytest.raises(SyncError, match="historique réécrit"):
        sync(kb.root, str(remote), name="Admin Test", email="admin@test.invalid")


def test_documents_belong_to_their_author(kb, monkeypatch, capsys):
    sha = kb.save_document("documents/auto_evaluation/2026/paul.yaml", "niveau: 2\n", "auto-évaluation 2026", author="paul")
    assert len(sha) == 40 and kb.read_document("documents/auto_evaluation/2026/paul.yaml") == "niveau: 2\n"
    assert kb.documents() == {"documents/auto_evaluation/2026/paul.yaml": "paul"}
    kb.save_document("documents/auto_evaluation/2026/paul.yaml", "niveau: 3\n", "mise à jour", author="paul")
    kb.add_member(Member(id="ines", name="Inès Test", role="agent", email="ines@test.invalid"), actor="admin")
    with pytest.raises(PermissionDeniedError, match="appartient à « paul »"):
        kb.save_document("documents/auto_evaluation/2026/paul.yaml", "niveau: 0\n", "x", author="ines")
    kb.save_document("documents/auto_evaluation/2026/paul.yaml", "niveau: 3 # relu\n", "relecture", author="admin")
    assert _check(capsys, kb)[0] == 0
    # the same change by a plain commit of another member is quarantined and undone in what is read
    doc = kb.root / "documents/auto_evaluation/2026/paul.yaml"
    doc.write_text("niveau: 0\n")
    git(kb.root, "commit", "-qam", "x", env={**INTRUDER, "GIT_AUTHOR_EMAIL": "ines@test.invalid", "GIT_COMMITTER_EMAIL": "ines@test.invalid"})
    assert KnowledgeBase(kb.root).read_document("documents/auto_evaluation/2026/paul.yaml") == "niveau: 3 # relu\n"
    code, out = _check(capsys, kb)
    assert code == 1 and "document de « paul » modifié" in out
    with pytest.raises(Exception, match="Chemin de document"):
        kb.save_document("../evil.yaml", "x", "x", author="paul")


def test_save_document_defaults_to_the_session_identity(kb, monkeypatch):
    kb.save_document("documents/notes/admin.md", "# Notes\n", "notes")
    assert kb.documents("documents/notes/") == {"documents/notes/admin.md": "admin"}
    log = git(kb.root, "log", "-1", "--format=%an|%B")
    assert log.startswith("Admin Test|notes") and "Planeco-Document: documents/notes/admin.md" in log


def test_fold_is_pure_and_drops_invalid_records():
    """The state fold needs no git: records as dicts, invalid ones (dates that are not dates) left out."""
    created = "2026-11-24T01:02:03.000000Z"
    member = {"type": "member", "id": "ana", "name": "Ana", "role": "elu", "moderator": True, "active": True,
              "created": created, "by": "ana", "path": "members/ana/e-20261124T010203-00000000.md"}  # fmt: skip
    good = {"id": "p-20261124T010203-00000001", "thread": "t-20261124-00000001", "author": "ana", "role": "elu",
            "created": created, "reply_to": None, "kind": "question", "title": "Bon", "body": "ok"}  # fmt: skip
    bad = {**good, "id": "p-20261124T010203-00000002", "thread": "t-20261124-00000002", "title": "Mauvais",
           "created": "<img src=x onerror=alert(1)>"}  # fmt: skip
    recs = {member["path"]: member,
            "discussions/app/zan/t-20261124-00000001/p-20261124T010203-00000001.md": good,
            "discussions/app/zan/t-20261124-00000002/p-20261124T010203-00000002.md": bad}  # fmt: skip
    st = assemble("head", recs)
    assert list(st.members) == ["ana"] and [t.title for t in st.threads.values()] == ["Bon"]


def test_verified_checkpoint_is_only_a_cache(kb, capsys):
    _post(kb)
    v1 = integrity.verify(kb.root)
    (kb.root / ".git" / "planeco-kb" / integrity.CHECKPOINT).unlink()
    v2 = integrity.verify(kb.root)
    assert v1.head == v2.head and v1.findings == v2.findings == [] and v1.authors == v2.authors
