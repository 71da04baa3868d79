"""Sync between territories: two local copies and a bare repository, concurrent posts on both sides.

Posts are invented test data.
"""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path

import pytest

from planeco_kernel.knowledge import InvalidInputError, KnowledgeBase, Member, SyncError
from planeco_kernel.knowledge.sync import sync


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True).stdout


@pytest.fixture()
def copies(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))  # no global git config is used
    monkeypatch.delenv("GIT_AUTHOR_NAME", raising=False)
    remote = tmp_path / "commun.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    a = KnowledgeBase.init(tmp_path / "lyon", Member(id="marie", name="Marie Test", role="elu", territory="69123"))
    a.add_member(Member(id="ines", name="Inès Test", role="agent", territory="38185"), actor="marie")
    sync(a.root, str(remote), name="Marie Test", email="marie@test.invalid")
    b = KnowledgeBase.clone(str(remote), tmp_path / "grenoble")
    return a, b, remote


def _post_many(base: KnowledgeBase, who: str, n: int, out: list[str]) -> None:
    for i in range(n):
        out.append(base.start_thread(who, kind="rex", title=f"{who} {i}", body="REX", anchor="territory:38185").id)


def test_concurrent_posts_on_both_sides_merge_without_conflict(copies):
    a, b, remote = copies
    ids_a: list[str] = []
    ids_b: list[str] = []
    t1 = threading.Thread(target=_post_many, args=(a, "marie", 10, ids_a))
    t2 = threading.Thread(target=_post_many, args=(b, "ines", 10, ids_b))
    t1.start(), t2.start()
    t1.join(), t2.join()
    shared = a.start_thread("marie", kind="discussion", title="même ancrage", body="a", anchor="app:zan")
    r1 = sync(a.root, str(remote), name="Marie Test", email="marie@test.invalid")
    r2 = sync(b.root, str(remote), name="Inès Test", email="ines@test.invalid")
    assert r1.pushed and r2.pushed and r2.received == 11 and r2.merged
    b.reply("ines", shared.thread, "réponse de Grenoble")
    sync(b.root, str(remote), name="Inès Test", email="ines@test.invalid")
    r3 = sync(a.root, str(remote), name="Marie Test", email="marie@test.invalid")
    assert r3.received >= 2
    for base in (a, b):
        posts = {p.id for t in base.threads("marie") for p in base.thread(t.id, "marie").posts}
        assert set(ids_a) | set(ids_b) | {shared.id} <= posts and len(posts) == 22
        assert subprocess.run(["git", "fsck", "--strict"], cwd=base.root, capture_output=True).returncode == 0
        assert git(base.root, "status", "--porcelain") == ""
    assert git(a.root, "rev-parse", "HEAD^{tree}") == git(b.root, "rev-parse", "HEAD^{tree}")
    merge_author = git(b.root, "log", "--merges", "-1", "--format=%an <%ae>").strip()
    assert merge_author == "Inès Test <ines@test.invalid>"
    # the original posts keep their authors after the merge
    assert "Marie Test" in git(b.root, "log", "--format=%an", "--", "discussions/territory")


def test_sync_again_is_a_no_op(copies):
    a, _b, remote = copies
    head = git(a.root, "rev-parse", "HEAD")
    r = sync(a.root, str(remote), name="Marie Test", email="marie@test.invalid")
    assert r.received == 0 and not r.merged and git(a.root, "rev-parse", "HEAD") == head


@pytest.mark.parametrize("remote", ["-uhack", "--upload-pack=touch /tmp/x", "ext::sh -c touch% /tmp/pwned", ""])
def test_hostile_remote_refused(copies, remote):
    with pytest.raises(InvalidInputError, match="Dépôt distant invalide"):
        sync(copies[0].root, remote, name="x", email="x@test.invalid")


def test_unreachable_remote_clear_error(copies, tmp_path):
    with pytest.raises(SyncError, match="Impossible de récupérer"):
        sync(copies[0].root, str(tmp_path / "absent.git"), name="x", email="x@test.invalid")


def test_real_conflict_outside_planeco_is_reported_and_aborted(copies):
    a, b, remote = copies
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@test.invalid", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@test.invalid"}
    import os

    for base, text in ((a, "version A"), (b, "version B")):
        (base.root / "notes.md").write_text(text)
        subprocess.run(["git", "add", "notes.md"], cwd=base.root, check=True)
        subprocess.run(["git", "commit", "-qm", "notes"], cwd=base.root, check=True, env={**os.environ, **env})
    sync(a.root, str(remote), name="t", email="t@test.invalid")
    with pytest.raises(SyncError, match=r"Fusion impossible \(notes.md\)"):
        sync(b.root, str(remote), name="t", email="t@test.invalid")
    assert git(b.root, "status", "--porcelain") == ""  # merge aborted, nothing half-done
    assert (b.root / "notes.md").read_text() == "version B"


def test_direct_sync_between_two_working_copies(copies, tmp_path):
    """Two copies made with `kb init --from` sync directly (issue 15, item 8: « change trop vite » after 5 retries)."""
    a, b, _remote = copies
    pa = a.start_thread("marie", kind="rex", title="depuis Lyon", body="REX", anchor="app:zan")
    pb = b.start_thread("ines", kind="rex", title="depuis Grenoble", body="REX", anchor="app:zan")
    r = sync(a.root, str(b.root), name="Marie Test", email="marie@test.invalid")
    assert r.pushed and r.received == 1
    for base in (a, b):
        base.refresh()
        assert {t.title for t in base.threads("marie")} == {pa.title, pb.title}
        assert git(base.root, "status", "--porcelain") == ""
        assert base.check() == []
    assert git(a.root, "rev-parse", "HEAD") == git(b.root, "rev-parse", "HEAD")
    assert sync(b.root, str(a.root), name="Inès Test", email="ines@test.invalid").received == 0


def test_sync_into_a_remote_working_copy_is_refused_with_the_reason(copies):
    a, b, _remote = copies
    a.start_thread("marie", kind="rex", title="depuis Lyon", body="REX", anchor="app:zan")
    with pytest.raises(SyncError, match="copie de travail .*dépôt nu commun"):
        sync(a.root, f"file://{b.root}", name="Marie Test", email="marie@test.invalid")
