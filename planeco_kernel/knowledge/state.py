"""The pure state fold: raw records (dicts read from post files) → members, posts and threads.

Nothing here touches git or the file system, so the rules of what a record may contain and
how events apply are testable on plain dictionaries. Every field of a record is validated on
read (:func:`validate`): a record that arrived by sync or by a plain ``git commit`` with a
``created`` that is not a date, an id that does not match its file name or a field of the wrong
type is left out of the state (and reported by ``planeco kb check``) instead of reaching the
HTML of Échanges.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from planeco_kernel.knowledge import model, signing
from planeco_kernel.knowledge.model import Member, Post, Thread

MEMBER_FIELDS = ("id", "name", "role", "territory", "organisation", "email", "moderator", "hub_user", "active", "signing_key")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?Z$")
_STATUSES = ("published", "held")
_PATH = re.compile(r"(?:^|/)(t-\d{8}-[0-9a-f]{8})/([pe]-\d{8}T\d{6}-[0-9a-f]{8})\.md$")
_MEMBER_PATH = re.compile(r"^members/([a-z0-9][a-z0-9._-]*)/(e-\d{8}T\d{6}-[0-9a-f]{8})\.md$")


@dataclass
class State:
    """Members, posts and threads at one commit (``head``)."""

    head: str
    members: dict[str, Member]
    posts: dict[str, Post]
    threads: dict[str, Thread]


def is_date(value: Any) -> bool:
    """True for the UTC timestamps planeco writes (``2026-11-24T01:02:03.456789Z``) that are real dates."""
    if not isinstance(value, str) or not _DATE.match(value):
        return False
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _str(v: Any, limit: int) -> bool:
    return isinstance(v, str) and len(v) <= limit


def _strs(v: Any, limit: int, count: int) -> bool:
    return isinstance(v, list) and len(v) <= count and all(_str(x, limit) for x in v)


def _is(pattern_fn, v: Any) -> bool:
    try:
        pattern_fn(v)
    except model.InvalidInputError:
        return False
    return True


def _details_ok(v: Any) -> bool:
    if not isinstance(v, dict) or len(v) > 10:
        return False
    for k, x in v.items():
        if not isinstance(k, str):
            return False
        ok = (isinstance(x, (int, float)) and not isinstance(x, bool)) or _str(x, 2_000) or _strs(x, model.MAX_NAME_CHARS, 20)
        if not ok:
            return False
    return True


def validate(path: str, r: dict[str, Any]) -> str | None:
    """Why a raw record is not acceptable (French, for ``kb check``), or None when every field is valid."""
    if path.startswith("members/"):
        return _validate_member(path, r)
    m = _PATH.search(path)
    if m is None:
        return "chemin de fichier inattendu"
    thread, rid = m.groups()
    if r.get("id") != rid:
        return f"identifiant « {str(r.get('id'))[:40]} » différent du nom du fichier"
    if r.get("thread") != thread:
        return f"fil « {str(r.get('thread'))[:40]} » différent du dossier {thread}"
    if not _is(model.member_id, r.get("author")):
        return "auteur·rice invalide"
    if r.get("role") not in model.ROLES:
        return f"rôle inconnu « {str(r.get('role'))[:40]} »"
    if not is_date(r.get("created")):
        return f"date de création invalide « {str(r.get('created'))[:40]} » (date ISO UTC attendue)"
    if r.get("acted_by") is not None and not _is(model.member_id, r.get("acted_by")):
        return "champ acted_by invalide"
    if not _str(r.get("body", ""), model.MAX_BODY_CHARS * 2):
        return "corps du message invalide"
    if rid.startswith("p-"):
        return _validate_post(r)
    return _validate_event(r)


def _validate_post(r: dict[str, Any]) -> str | None:
    kind = r.get("kind")
    first = r.get("reply_to") is None
    if first and kind not in model.THREAD_KINDS:
        return f"type de fil inconnu « {str(kind)[:40]} »"
    if not first and (kind not in model.REPLY_KINDS or not _is(model.record_id, r.get("reply_to"))):
        return "réponse invalide (type ou message cité)"
    checks = {
        "audience": r.get("audience", "open") in model.AUDIENCES,
        "title": _str(r.get("title", ""), model.MAX_TITLE_CHARS) and (not first or bool(r.get("title"))),
        "territory": r.get("territory") in (None, "") or _is(model.key, r.get("territory")),
        "anchor": r.get("anchor") in (None, "") or _is(model.anchor, r.get("anchor")),
        "themes": _strs(r.get("themes") or [], model.MAX_THEME_CHARS, model.MAX_THEMES),
        "addressed_to": _strs(r.get("addressed_to") or [], 64, 50),
        "status": r.get("status", "published") in _STATUSES,
        "held_reason": _str(r.get("held_reason") or "", 4_000),
        "details": _details_ok(r.get("details") or {}),
        "key": r.get("key") is None or _str(r.get("key"), 80),
    }
    bad = [k for k, ok in checks.items() if not ok]
    return f"champ(s) invalide(s) : {', '.join(bad)}" if bad else None


def _validate_event(r: dict[str, Any]) -> str | None:
    if r.get("kind") not in model.EVENT_KINDS:
        return f"type d'événement inconnu « {str(r.get('kind'))[:40]} »"
    if not _is(model.record_id, r.get("target")) or not str(r.get("target")).startswith("p-"):
        return "message visé invalide"
    if not _str(r.get("reason", ""), model.MAX_REASON_CHARS):
        return "raison invalide"
    return None


def _validate_member(path: str, r: dict[str, Any]) -> str | None:
    m = _MEMBER_PATH.match(path)
    if m is None:
        return "chemin de fiche de membre inattendu"
    if r.get("id") != m.group(1):
        return "identifiant de membre différent du dossier"
    if not _is(model.member_id, r.get("by")):
        return "auteur·rice de la fiche invalide"
    if r.get("role") not in model.ROLES:
        return f"rôle inconnu « {str(r.get('role'))[:40]} »"
    if not is_date(r.get("created")):
        return f"date invalide « {str(r.get('created'))[:40]} »"
    if not _str(r.get("name"), model.MAX_NAME_CHARS) or not r.get("name"):
        return "nom invalide"
    for k in ("territory", "organisation", "email", "hub_user"):
        if not _str(r.get(k) or "", 200):
            return f"champ {k} invalide"
    for k in ("moderator", "active"):
        if not isinstance(r.get(k, k == "active"), bool):
            return f"champ {k} invalide (vrai/faux attendu)"
    if r.get("signing_key"):
        if not _is(signing.public_key, r.get("signing_key")):
            return "clé de signature (signing_key) invalide"
    return None


def post_from_record(meta: dict[str, Any], body: str, path: str) -> Post:
    """A :class:`Post` from a validated record (or from the metadata a writer just built)."""
    fields = {k: meta[k] for k in meta if k in Post.__dataclass_fields__}
    return Post(**{**fields, "body": body, "path": path, "themes": list(meta.get("themes") or []),
                   "addressed_to": list(meta.get("addressed_to") or []), "details": dict(meta.get("details") or {})})  # fmt: skip


def visible(p: Post, v: Member | None) -> bool:
    """Whether viewer ``v`` sees post ``p`` (moderators see all; held posts only their author)."""
    if v is not None and v.moderator:
        return True
    if p.hidden:
        return False
    if p.status == "held":
        return v is not None and v.id == p.author
    return True


def summary(th: Thread, v: Member | None) -> Thread:
    """A thread's listing entry as viewer ``v`` sees it (reply count and activity of visible posts)."""
    shown = [p for p in th.posts[1:] if visible(p, v)]
    last = max([th.created, *(p.created for p in shown)])
    first = th.posts[0]
    return Thread(
        id=th.id, title=th.title, kind=th.kind, anchor=th.anchor, audience=th.audience, author=th.author,
        role=th.role, territory=th.territory, themes=th.themes, created=th.created, last_activity=last,
        replies=len(shown), dir=th.dir, hidden=first.hidden, status=first.status,
        flags=sum(p.flags for p in th.posts),
    )  # fmt: skip


def own_key_entry(current: Member, r: dict[str, Any]) -> bool:
    """Whether entry ``r`` only changes the signing key of the active member ``current`` (a member may, for themself)."""
    new = Member(**{k: r[k] for k in MEMBER_FIELDS if k in r})
    return current.active and {**current.to_dict(), "signing_key": ""} == {**new.to_dict(), "signing_key": ""}


def fold_members(records: dict[str, dict[str, Any]]) -> dict[str, Member]:
    """The member registry: entries in time order, each counting once its writer is a known active moderator.

    Bootstrap: the first entry, made by a moderator for themself, founds the registry. An active
    member may also write their own entry when it only changes their ``signing_key``.
    """
    recs = sorted((r for p, r in records.items() if p.startswith("members/")), key=lambda r: (r.get("created", ""), r["path"]))
    members: dict[str, Member] = {}
    pending = recs
    while pending:
        left = []
        for r in pending:
            m = Member(**{k: r[k] for k in MEMBER_FIELDS if k in r})
            by = members.get(r.get("by", ""))
            bootstrap = not members and r.get("by") == m.id and m.moderator
            own_key = r.get("by") == m.id and m.id in members and own_key_entry(members[m.id], r)
            if bootstrap or own_key or (by is not None and by.moderator and by.active):
                members[m.id] = m
            else:
                left.append(r)
        if len(left) == len(pending):
            break
        pending = left
    return members


def assemble(head: str, records: dict[str, dict[str, Any]], *, prevalidated: bool = False) -> State:
    """Fold raw records into a :class:`State`; invalid records and rule-breaking events are left out.

    ``prevalidated``: the records come from :func:`planeco_kernel.knowledge.cache.parse_record`,
    which validated them once and marked the invalid ones (``_invalid``).

    Events apply in time order: ``flag`` by any member, ``hide``/``restore`` by a moderator,
    ``edit`` by the post's author or a moderator. Anything else (written with git directly) is
    ignored here and reported by :func:`planeco_kernel.knowledge.integrity.check`.
    """
    if prevalidated:
        valid = {p: r for p, r in records.items() if "_invalid" not in r}
    else:
        valid = {p: r for p, r in records.items() if validate(p, r) is None}
    members = fold_members(valid)
    posts: dict[str, Post] = {}
    events = []
    for path, r in valid.items():
        rid = r["id"]
        if rid.startswith("p-"):
            posts[rid] = post_from_record(r, r.get("body", ""), path)
        elif rid.startswith("e-") and not path.startswith("members/"):
            events.append(r)
    events.sort(key=lambda r: (r["created"], r["id"]))
    for e in events:
        p = posts.get(e["target"])
        actor = members.get(e["author"])
        if p is None or actor is None or p.thread != e["thread"]:
            continue
        k = e["kind"]
        if k == "flag":
            p.flags += 1
        elif k in ("hide", "restore") and actor.moderator:
            p.hidden = k == "hide"
            p.hidden_reason = e.get("reason", "") if k == "hide" else ""
            if k == "restore":
                p.status = "published"
        elif k == "edit" and (actor.id == p.author or actor.moderator):
            p.body = e.get("body", "")
            p.edited = e["created"]
    by_thread: dict[str, list[Post]] = {}
    for p in posts.values():
        by_thread.setdefault(p.thread, []).append(p)
    threads: dict[str, Thread] = {}
    for tid, ps in by_thread.items():
        ps.sort(key=lambda p: (p.created, p.id))
        firsts = [p for p in ps if p.reply_to is None and p.kind in model.THREAD_KINDS and p.title]
        if not firsts:
            continue
        f = firsts[0]
        ps.remove(f)
        ps.insert(0, f)
        threads[tid] = Thread(
            id=tid, title=f.title, kind=f.kind, anchor=f.anchor, audience=f.audience, author=f.author, role=f.role,
            territory=f.territory, themes=f.themes, created=f.created, last_activity=ps[-1].created,
            replies=len(ps) - 1, dir=f.path.rsplit("/", 1)[0], posts=ps,
        )  # fmt: skip
    return State(head=head, members=members, posts=posts, threads=threads)
