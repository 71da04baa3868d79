"""Crash-safe, append-only commits into a git working tree, without spawning processes.

One writer at a time holds an ``fcntl`` lock on ``.git/planeco-kb/lock`` (released by the
kernel when a process dies, so a killed writer never leaves a stale lock). A commit goes:

1. write a journal naming the paths about to be added;
2. write blob, trees and commit as loose objects (each written to ``*.lock`` then renamed by
   dulwich; orphans of a crash are harmless unreachable objects);
3. move ``HEAD``'s branch with compare-and-swap — the single atomic step that publishes a post;
4. write the files into the working tree (temporary file + rename) and update the index;
5. delete the journal.

The next writer that finds a journal finishes or rolls back step 4 from ``HEAD`` and removes
stale ``*.lock`` files left by a killed process. So a killed poster leaves either no post or a
complete, committed post, and a repository that passes ``git fsck``.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import shutil
import stat
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

from planeco_kernel.atomic import atomic_write, stale_temps
from planeco_kernel.knowledge.errors import KnowledgeError, LockTimeoutError
from planeco_kernel.knowledge.signing import git_env

STATE_DIR = "planeco-kb"
FILE_MODE = 0o100644
_OLD_TMP_SUFFIX = ".planeco-tmp"  # temporary name of earlier versions, still cleaned up


def state_dir(root: Path) -> Path:
    """``.git/planeco-kb``: lock, journal and derived caches (never versioned)."""
    d = root / ".git" / STATE_DIR
    d.mkdir(exist_ok=True)
    return d


@contextlib.contextmanager
def locked(root: Path, timeout: float = 30.0) -> Iterator[None]:
    """Hold the writer lock of the knowledge base at ``root``; recover from a crashed writer first."""
    path = state_dir(root) / "lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + timeout
        delay = 0.001
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                if time.monotonic() > deadline:
                    raise LockTimeoutError(
                        f"La base de connaissances {root} est verrouillée par un autre envoi depuis plus de "
                        f"{timeout:.0f} s. Réessayez ; si cela persiste, vérifiez qu'aucun processus planeco n'est bloqué."
                    ) from None
                time.sleep(delay)
                delay = min(delay * 2, 0.05)
        recover(root)
        yield
    finally:
        os.close(fd)  # closing releases the flock


def _journal(root: Path) -> Path:
    return root / ".git" / STATE_DIR / "journal.json"


def recover(root: Path) -> bool:
    """Finish or roll back an interrupted commit (call with the lock held). Returns True if work was done."""
    journal = _journal(root)
    gitdir = root / ".git"
    if not journal.exists():
        return False
    try:
        paths = json.loads(journal.read_text("utf-8")).get("paths", [])
    except (OSError, ValueError):
        paths = []
    # stale lock files of git/dulwich left by the killed writer (we hold the only writer lock).
    # A `git update-index` started by the killed writer may still be finishing: give it 2 s.
    # An index.lock older than the journal belongs to another program (an editor's git
    # integration), not to the killed writer: it is left alone, and so is the index update.
    index_lock = gitdir / "index.lock"
    foreign = _foreign_index_lock(index_lock, journal)
    deadline = time.monotonic() + 2.0
    while not foreign and index_lock.exists() and time.monotonic() < deadline:
        try:
            if time.time() - index_lock.stat().st_mtime > 2.0:
                break
        except FileNotFoundError:
            break
        time.sleep(0.01)
    for stale in ([] if foreign else [index_lock]) + [gitdir / "HEAD.lock", gitdir / "packed-refs.lock"]:
        stale.unlink(missing_ok=True)
    for p in (gitdir / "refs").rglob("*.lock"):
        p.unlink(missing_ok=True)
    objects = gitdir / "objects"
    for sub in objects.iterdir():
        if len(sub.name) == 2 and sub.is_dir():
            for p in sub.glob("*.lock"):
                p.unlink(missing_ok=True)
    from dulwich.repo import Repo

    with Repo(str(root)) as repo:
        tree = repo[repo.head()].tree
        entries = {}
        for rel in paths:
            with contextlib.suppress(Exception):
                full = root / rel
                for tmp in [full.with_name(full.name + _OLD_TMP_SUFFIX), *stale_temps(full)]:
                    tmp.unlink(missing_ok=True)
                try:
                    _mode, sha = _lookup(repo, tree, rel.encode())
                except KeyError:
                    continue  # never published: nothing to keep
                data = repo[sha].as_raw_string()
                _write_atomic(full, data)
                entries[rel] = sha
        if entries:
            if foreign:
                return True  # files are in place; the index waits for the other program (journal kept)
            _update_index(repo, root, entries)
    journal.unlink(missing_ok=True)
    return True


def _foreign_index_lock(index_lock: Path, journal: Path) -> bool:
    try:
        return index_lock.stat().st_mtime < journal.stat().st_mtime - 0.5
    except FileNotFoundError:
        return False


def repair_on_open(root: Path) -> bool:
    """Finish an interrupted commit when a knowledge base is opened (writer lock taken without waiting).

    A writer killed after publishing but before updating the index leaves an index without the
    new post; a plain ``git commit`` made then would delete it. Returns True if a repair ran.
    """
    if not _journal(root).exists():
        return False
    try:
        with locked(root, timeout=0.0):
            return True  # `locked` ran recover()
    except (LockTimeoutError, OSError):
        return False  # a writer is busy: it recovers itself


def _lookup(repo, tree_id: bytes, path: bytes) -> tuple[int, bytes]:
    from dulwich.object_store import tree_lookup_path

    return tree_lookup_path(repo.__getitem__, tree_id, path)


def _write_atomic(full: Path, data: bytes) -> os.stat_result:
    atomic_write(full, data)
    return os.stat(full)


_git_env = git_env  # the environment for git subprocesses (in signing, the lower layer)


def _update_index(repo, root: Path, entries: dict[str, bytes]) -> None:
    """Stage the new files so that ``git status`` is clean and a later ``git commit`` keeps them.

    ``git update-index`` (C, ~3 ms) is used when git is installed: dulwich parses and rewrites
    the whole index in Python, which grows with the repository (~40 ms at 1,500 files).
    """
    git = shutil.which("git")
    if git:
        r = subprocess.run(
            [git, "update-index", "--add", "-z", "--stdin"],
            cwd=root,
            input=b"\0".join(p.encode("utf-8") for p in entries) + b"\0",
            capture_output=True,
            env=_git_env(),
        )
        if r.returncode == 0:
            return
    from dulwich.index import index_entry_from_stat

    index = repo.open_index()
    for rel, sha in entries.items():
        st = os.stat(root / rel)
        index[rel.encode()] = index_entry_from_stat(st, sha, stat.S_IFREG | 0o644)
    index.write()


def commit_files(
    root: Path,
    files: dict[str, bytes],
    *,
    author: bytes,
    message: str,
    allow_overwrite: bool = False,
    timestamp: int | None = None,
    committer: bytes | None = None,
    sign: str = "",
) -> bytes:
    """Commit new files (paths relative to ``root``) as one commit by ``author``; return its sha.

    Must be called with :func:`locked` held. Existing paths are refused unless ``allow_overwrite``
    (posts are append-only); so are paths through a symbolic link, in the working tree or in the
    committed tree (a link would make a post be written outside the repository). ``committer``
    (default: the author) is the moderator when one acts on someone's behalf.

    Once the branch has moved the commit is published: a failure to update the working tree or
    the index after that (another program holding ``.git/index.lock``) does not raise; the
    journal stays and the next writer, or the next opening of the knowledge base, finishes the
    job (:func:`recover`). :data:`pending` says whether that happened. ``sign``: an SSH key file
    to sign the commit with (:func:`planeco_kernel.knowledge.signing.signed_commit`, by git).
    """
    from dulwich.file import FileLocked
    from dulwich.object_store import commit_tree_changes
    from dulwich.objects import Blob, Commit
    from dulwich.repo import Repo

    for rel in files:
        refuse_links(root, rel)
    journal = _journal(root)
    journal.write_text(json.dumps({"paths": sorted(files)}), "utf-8")
    with Repo(str(root)) as repo:
        store = repo.object_store
        head = repo.refs[b"HEAD"]
        parent_tree = repo[head].tree
        changes = []
        shas: dict[str, bytes] = {}
        for rel, data in files.items():
            _refuse_tree_links(repo, parent_tree, rel)
            if not allow_overwrite:
                try:
                    _lookup(repo, parent_tree, rel.encode())
                except KeyError:
                    pass
                else:
                    raise KnowledgeError(f"Le fichier {rel} existe déjà : les messages ne sont jamais réécrits.")
            blob = Blob.from_string(data)
            store.add_object(blob)
            shas[rel] = blob.id
            changes.append((rel.encode(), FILE_MODE, blob.id))
        tree = commit_tree_changes(store, parent_tree, changes)
        c = Commit()
        c.tree = tree
        c.parents = [head]
        c.author = author
        c.committer = committer or author
        c.author_time = c.commit_time = int(time.time()) if timestamp is None else timestamp
        c.author_timezone = c.commit_timezone = 0
        c.encoding = b"UTF-8"
        c.message = message.encode("utf-8") if message.endswith("\n") else (message + "\n").encode("utf-8")
        if sign:
            from planeco_kernel.knowledge.signing import signed_commit

            sha = signed_commit(root, tree=tree, parents=[head], author=c.author, committer=c.committer,
                                timestamp=c.commit_time, message=c.message.decode("utf-8"), key=sign)  # fmt: skip
        else:
            store.add_object(c)
            sha = c.id
        if not repo.refs.set_if_equals(b"HEAD", head, sha):
            raise KnowledgeError(
                "La branche de la base de connaissances a changé pendant l'envoi (un outil git externe ?). "
                "Réessayez l'envoi."
            )
        global pending
        try:
            for rel, data in files.items():
                _write_atomic(root / rel, data)
            if (root / ".git" / "index.lock").exists():
                raise KnowledgeError("index verrouillé par un autre programme git (.git/index.lock)")
            _update_index(repo, root, shas)
        except (OSError, KnowledgeError, subprocess.SubprocessError, FileLocked):
            pending = True  # published; the journal stays and recovery completes the working tree and index
            return sha
    pending = False
    journal.unlink(missing_ok=True)
    return sha


pending = False
"""True when the last :func:`commit_files` published its commit but could not update the working
tree or the index yet (another program held ``.git/index.lock``); recovery will."""


class SymlinkError(KnowledgeError):
    """A path of the post tree goes through a symbolic link."""


def refuse_links(root: Path, rel: str) -> None:
    """Refuse ``rel`` if any part of it, inside ``root``, is a symbolic link in the working tree."""
    cur = root
    for part in rel.split("/"):
        cur = cur / part
        if cur.is_symlink():
            raise SymlinkError(
                f"« {cur.relative_to(root)} » est un lien symbolique : la base de connaissances les refuse dans "
                "l'arborescence des messages (un message serait écrit hors du dépôt). Supprimez ce lien."
            )


def _refuse_tree_links(repo, tree_id: bytes, rel: str) -> None:
    parts = rel.split("/")
    for i in range(1, len(parts) + 1):
        try:
            mode, _sha = _lookup(repo, tree_id, "/".join(parts[:i]).encode())
        except (KeyError, NotADirectoryError):
            return
        if mode & 0o170000 == 0o120000:
            raise SymlinkError(
                f"« {'/'.join(parts[:i])} » est un lien symbolique validé dans le dépôt : la base de connaissances "
                "les refuse dans l'arborescence des messages. Un·e modérateur·rice doit le retirer (`git rm`)."
            )


def head_sha(root: Path) -> bytes:
    """The commit ``HEAD`` points to, read from the ref files without opening a dulwich repo."""
    gitdir = root / ".git"
    ref = (gitdir / "HEAD").read_bytes().strip()
    if ref.startswith(b"ref: "):
        name = ref[5:].decode()
        f = gitdir / name
        if f.exists():
            return f.read_bytes().strip()
        packed = gitdir / "packed-refs"
        if packed.exists():
            for line in packed.read_bytes().splitlines():
                if line.endswith(b" " + name.encode()):
                    return line.split()[0]
        raise KnowledgeError(f"La branche {name} de la base de connaissances {root} n'existe pas.")
    return ref
