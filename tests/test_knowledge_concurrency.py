"""Reliability: concurrent posters, writers killed mid-post, stale lock recovery.

Posts are invented test data.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from planeco_kernel.atomic import TEMP_SUFFIX
from planeco_kernel.knowledge import KnowledgeBase, Member
from planeco_kernel.knowledge.cache import is_record_path

ROOT = Path(__file__).resolve().parent.parent


def git(root: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=check)


def assert_repo_sound(root: Path) -> None:
    fsck = git(root, "fsck", "--strict", "--no-dangling", check=False)
    assert fsck.returncode == 0 and "error" not in fsck.stderr.lower(), fsck.stderr
    assert git(root, "status", "--porcelain", "--untracked-files=all").stdout == ""


def committed_records(root: Path) -> list[str]:
    return [p for p in git(root, "ls-tree", "-r", "--name-only", "HEAD").stdout.split("\n") if p and is_record_path(p) and not p.startswith("members/")]  # noqa: E501


@pytest.fixture()
def kb(tmp_path) -> KnowledgeBase:
    base = KnowledgeBase.init(tmp_path / "kb", Member(id="marie", name="Marie Test", role="elu", territory="69123"))
    base.add_member(Member(id="paul", name="Paul Test", role="agent", territory="69266"), actor="marie")
    return base


def _poster(root: str, who: str, n: int, q) -> None:
    base = KnowledgeBase(root)
    ids = []
    for i in range(n):
        # distinct content per process: the same content by the same author is one post (idempotent posting)
        p = base.start_thread(who, kind="discussion", title=f"{who} {i}", body=f"concurrent {os.getpid()}", anchor="app:zan")
        ids.append(p.id)
        ids.append(base.reply(who, p.thread, "réponse").id)
    q.put(ids)


def test_concurrent_posters_lose_nothing(kb):
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    procs = [ctx.Process(target=_poster, args=(str(kb.root), who, 8, q)) for who in ("marie", "paul", "marie", "paul")]
    for p in procs:
        p.start()
    ids = [i for _ in procs for i in q.get(timeout=120)]
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    assert len(ids) == len(set(ids)) == 64
    assert len(committed_records(kb.root)) == 64
    assert {p.id for t in KnowledgeBase(kb.root).threads("marie") for p in KnowledgeBase(kb.root).thread(t.id, "marie").posts} == set(ids)  # noqa: E501
    assert int(git(kb.root, "rev-list", "--count", "HEAD").stdout) == 64 + 3
    assert_repo_sound(kb.root)


LOOP = textwrap.dedent(
    """
    import sys
    from planeco_kernel.knowledge import KnowledgeBase
    base = KnowledgeBase(sys.argv[1])
    print("ready", flush=True)
    i = 0
    while True:
        base.start_thread("paul", kind="discussion", title=f"boucle {i}", body="x" * 2000, anchor="app:zan")
        i += 1
    """
)


def _spawn(code: str, *args: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-c", code, *args], env=env, stdout=subprocess.PIPE, text=True)


@pytest.mark.slow
def test_kill_9_at_random_points(kb):
    rng = random.Random(20261124)
    for _ in range(12):
        proc = _spawn(LOOP, str(kb.root))
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.02, 0.4))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        # no partial post: every post file present in the working tree is committed and complete
        untracked = [ln for ln in git(kb.root, "status", "--porcelain", "--untracked-files=all").stdout.splitlines() if ln.startswith("??")]
        for line in untracked:  # only possible state: committed, index not yet updated
            path = line[3:]
            if Path(path).name.startswith(".") and path.endswith(TEMP_SUFFIX):
                continue  # an unpublished temporary file, never read as a post; removed by recovery
            committed = git(kb.root, "show", f"HEAD:{path}", check=False)
            assert committed.returncode == 0 and committed.stdout == (kb.root / path).read_text("utf-8"), line
        fsck = git(kb.root, "fsck", "--strict", "--no-dangling", check=False)
        assert fsck.returncode == 0, fsck.stderr
        # a later post succeeds and repairs the working tree (stale lock recovery)
        KnowledgeBase(kb.root).start_thread("marie", kind="discussion", title="après", body="ok", anchor="app:zan")
        assert_repo_sound(kb.root)
    n = len(committed_records(kb.root))
    assert len(KnowledgeBase(kb.root).threads("marie")) == n


CRASH = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    from planeco_kernel.knowledge import KnowledgeBase, gitstore
    root, point = Path(sys.argv[1]), sys.argv[2]
    die = lambda: os.kill(os.getpid(), signal.SIGKILL)
    if point == "objects":  # killed while dulwich writes a loose object (its .lock file stays)
        from dulwich.object_store import DiskObjectStore
        orig, calls = DiskObjectStore.add_object, []
        def add_object(self, obj):
            calls.append(obj)
            if len(calls) == 2:
                p = Path(self._get_shafile_path(obj.id) + ".lock"); p.parent.mkdir(exist_ok=True); p.write_bytes(b"x")
                die()
            return orig(self, obj)
        DiskObjectStore.add_object = add_object
    elif point == "ref":  # killed while the branch ref is being moved
        from dulwich.refs import DiskRefsContainer
        def set_if_equals(self, *a, **k):
            (root / ".git" / "refs" / "heads" / "main.lock").write_bytes(b"partial")
            die()
        DiskRefsContainer.set_if_equals = set_if_equals
    elif point == "worktree":  # published, killed before the file reached the working tree
        def write_atomic(full, data):
            full.parent.mkdir(parents=True, exist_ok=True)
            full.with_name(full.name + ".planeco-tmp").write_bytes(data[: len(data) // 2])
            die()
        gitstore._write_atomic = write_atomic
    elif point == "index":  # killed while writing the index
        def update_index(repo, root_, entries):
            (root / ".git" / "index.lock").write_bytes(b"partial")
            die()
        gitstore._update_index = update_index
    KnowledgeBase(root).start_thread("paul", kind="discussion", title="crash", body="x", anchor="app:zan")
    """
)


@pytest.mark.parametrize(("point", "published"), [("objects", False), ("ref", False), ("worktree", True), ("index", True)])
def test_kill_at_each_step_of_a_commit(kb, point, published):
    before = len(committed_records(kb.root))
    proc = _spawn(CRASH, str(kb.root), point)
    proc.wait(60)
    proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL
    assert len(committed_records(kb.root)) == before + published
    KnowledgeBase(kb.root).start_thread("marie", kind="discussion", title="après", body="ok", anchor="app:zan")
    assert_repo_sound(kb.root)
    titles = sorted(t.title for t in KnowledgeBase(kb.root).threads("marie"))
    assert titles == (["après", "crash"] if published else ["après"])
    assert not list(kb.root.rglob("*.planeco-tmp")) and not list((kb.root / ".git").rglob("*.lock"))
