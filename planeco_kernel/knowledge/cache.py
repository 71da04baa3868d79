"""Derived, rebuildable cache of all records (posts, moderation events, member entries).

The git tree at ``HEAD`` is the only source of truth. This cache — one JSON file in
``.git/planeco-kb`` keyed by the ``HEAD`` commit — only makes listing fast: when ``HEAD`` moved
it is updated from the tree diff (only changed files are parsed); when it is missing, corrupt or
its commit unknown it is rebuilt from the tree. Deleting it is always safe.

Writers do not rewrite the cache on every post: under the writer lock they append one line
(``{"from": old head, "to": new head, "records": {...}}``) to ``cache-log.jsonl``; readers
follow that chain from the cached head. A broken chain (a merge made by ``git``, a writer killed
mid-line) falls back to the tree diff. When the log grows past :data:`LOG_COMPACT_BYTES` the
writer folds it into the cache file.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from planeco_kernel.atomic import atomic_write
from planeco_kernel.knowledge import frontmatter
from planeco_kernel.knowledge.gitstore import head_sha, state_dir

CACHE_NAME = "cache-v2.json"  # v2: records carry their validation
LOG_NAME = "cache-log.jsonl"
LOG_COMPACT_BYTES = 512 * 1024
_RECORD_PATH = re.compile(r"(?:^|/)(t-\d{8}-[0-9a-f]{8})/([pe]-\d{8}T\d{6}-[0-9a-f]{8})\.md$")
_MEMBER_PATH = re.compile(r"^members/([a-z0-9][a-z0-9._-]*)/(e-\d{8}T\d{6}-[0-9a-f]{8})\.md$")


def is_record_path(path: str) -> bool:
    """True for a post/event file or a member entry."""
    return bool(_RECORD_PATH.search(path) or _MEMBER_PATH.match(path))


def parse_record(path: str, data: bytes) -> dict[str, Any] | None:
    """Parse one record file into a dict (front matter + ``body`` + ``path``); None if unreadable.

    Every field is validated once, here (:func:`~planeco_kernel.knowledge.state.validate`): an
    invalid record carries the reason under ``_invalid`` and the state fold leaves it out.
    """
    from planeco_kernel.knowledge.state import validate

    try:
        meta, body = frontmatter.parse(data, where=path)
    except Exception:  # a malformed file must not break listing; KnowledgeBase.check() reports it
        return None
    meta["body"] = body
    meta["path"] = path
    meta.pop("_invalid", None)
    reason = validate(path, meta)
    if reason:
        meta["_invalid"] = reason
    return meta


def load(root: Path) -> dict[str, dict[str, Any]]:
    """All records of the knowledge base at ``root``, keyed by path, up to date with ``HEAD``."""
    head = head_sha(root).decode()
    cache_file = state_dir(root) / CACHE_NAME
    cached: dict[str, Any] | None = None
    try:
        with open(cache_file, "rb") as f:
            cached = json.loads(f.read())
    except (OSError, ValueError):
        cached = None
    if cached and cached.get("head") == head:
        return cached["records"]
    records: dict[str, dict[str, Any]] | None = None
    if cached and isinstance(cached.get("records"), dict):
        at, records = _follow_log(root, cached["head"], head, cached["records"])
        if at == head:
            return records
        records = _update(root, at, head, records)
    if records is None:
        records = _rebuild(root, head)
    save(root, head, records)
    return records


def _follow_log(root: Path, at: str, head: str, records: dict[str, dict[str, Any]]) -> tuple[str, dict[str, dict[str, Any]]]:
    """Apply the writers' log lines chained from ``at``; return where the chain stopped."""
    try:
        with open(state_dir(root) / LOG_NAME, "rb") as f:
            lines = f.read().splitlines()
    except OSError:
        return at, records
    steps: dict[str, dict[str, Any]] = {}
    for line in lines:
        try:
            step = json.loads(line)
            steps[step["from"]] = step
        except (ValueError, KeyError, TypeError):
            continue  # a line cut by a killed writer: the chain stops there
    while at != head and at in steps:
        step = steps.pop(at)
        records.update(step["records"])
        at = step["to"]
    return at, records


def append(root: Path, old: str, new: str, added: dict[str, dict[str, Any]]) -> None:
    """Record one commit's new records in the log (call with the writer lock held)."""
    line = json.dumps({"from": old, "to": new, "records": added}, ensure_ascii=False, separators=(",", ":")) + "\n"
    log = state_dir(root) / LOG_NAME
    with open(log, "ab") as f:
        f.write(line.encode("utf-8"))
        size = f.tell()
    if size > LOG_COMPACT_BYTES:
        records = load(root)
        save(root, new, records)
        log.unlink(missing_ok=True)


def save(root: Path, head: str, records: dict[str, dict[str, Any]]) -> None:
    """Write the cache atomically (several readers may race; the last rename wins, all are valid)."""
    cache_file = state_dir(root) / CACHE_NAME
    data = json.dumps({"head": head, "records": records}, ensure_ascii=False, separators=(",", ":"))  # C encoder
    atomic_write(cache_file, data)


def walk(root: Path, head: str):
    """Yield ``(path, bytes)`` of every record file in the tree of commit ``head``."""
    from dulwich.objects import Tree
    from dulwich.repo import Repo

    with Repo(str(root)) as repo:
        stack = [(b"", repo[head.encode()].tree)]
        while stack:
            prefix, tree_id = stack.pop()
            tree = repo[tree_id]
            assert isinstance(tree, Tree)
            for entry in tree.items():
                p = prefix + entry.path
                if entry.mode & 0o170000 == 0o040000:
                    stack.append((p + b"/", entry.sha))
                else:
                    path = p.decode("utf-8", "replace")
                    if is_record_path(path):
                        yield path, repo[entry.sha].as_raw_string()


def _rebuild(root: Path, head: str) -> dict[str, dict[str, Any]]:
    from dulwich.objects import Tree
    from dulwich.repo import Repo

    records: dict[str, dict[str, Any]] = {}
    with Repo(str(root)) as repo:
        stack = [(b"", repo[head.encode()].tree)]
        while stack:
            prefix, tree_id = stack.pop()
            tree = repo[tree_id]
            assert isinstance(tree, Tree)
            for entry in tree.items():
                name = entry.path
                p = prefix + name
                if entry.mode & 0o170000 == 0o040000:
                    stack.append((p + b"/", entry.sha))
                else:
                    path = p.decode("utf-8", "replace")
                    if is_record_path(path):
                        rec = parse_record(path, repo[entry.sha].as_raw_string())
                        if rec is not None:
                            records[path] = rec
    return records


def _update(root: Path, old: str, new: str, records: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]] | None:
    from dulwich.repo import Repo

    try:
        with Repo(str(root)) as repo:
            old_tree = repo[old.encode()].tree
            new_tree = repo[new.encode()].tree
            for change in repo.object_store.tree_changes(old_tree, new_tree):
                (old_path, new_path), _modes, (_old_sha, new_sha) = change
                if old_path is not None:
                    records.pop(old_path.decode("utf-8", "replace"), None)
                if new_path is not None:
                    path = new_path.decode("utf-8", "replace")
                    if is_record_path(path):
                        rec = parse_record(path, repo[new_sha].as_raw_string())
                        if rec is not None:
                            records[path] = rec
    except KeyError:
        return None
    return records
