"""Which changes to the knowledge base are legitimate, verified commit by commit against who committed.

Posts say who wrote them (``author:``), but a file is only a claim: a synced copy or a plain
``git commit`` could write anything. So every commit since the knowledge base was created is
checked against these rules (the commit's author and committer are matched to members by
the e-mail addresses of their registry entries at that point of history):

- a **post or event file** (``…/<thread>/p-….md``, ``e-….md``) is *added* by a commit whose
  author is the record's ``author``; when a moderator acted on someone's behalf the record says
  so (``acted_by``) and the commit's committer is that moderator. Moderation events (``hide``,
  ``restore``) are by a moderator, ``edit`` by the post's author or a moderator. Records are
  never modified or deleted: an edit is a new event and the original stays in history;
- a **member entry** (``members/<id>/e-….md``) is added by a commit of the moderator named in
  its ``by:`` field (the founding entry of the base: by the first moderator for themself);
- a **document** (``documents/…``, :meth:`KnowledgeBase.save_document`) is added by a member,
  and changed or removed only by the member who created it or a moderator;
- the marker ``planeco-kb.yaml`` is written by the creation commit and changed only by an active
  moderator (its settings: ``signatures``, ``service_key``; never its ``format``); no symbolic link
  is ever committed in these areas;
- a **merge** introduces nothing of its own: every path it changes has the content of one of
  its parents;
- **history is never rewritten**: the last verified commit stays an ancestor of ``HEAD``;
- **signatures** (:mod:`~.signing`): a commit signed by a key that is not its committer's (nor
  the hub service's for the hub user its trailer names) is illegitimate; under the setting
  ``signatures: required`` of the marker, so is an unsigned one. The marker's settings are
  changed by a commit of an active moderator only (the creation commit is judged by its e-mail).

What fails is quarantined: an illegitimate addition is left out of what the knowledge base
shows, an illegitimate modification or deletion is undone in what it shows (the last legitimate
version is read from history), and each one is listed by ``planeco kb check`` (which then exits
1) as a :class:`Finding`. Deleting a quarantined addition with git is itself legitimate (it is
how a moderator cleans up). ``planeco kb sync`` refuses incoming history with findings, keeps it
under ``refs/planeco/quarantine/`` and writes a report (:mod:`planeco_kernel.knowledge.sync`).

The verified state is kept in ``.git/planeco-kb/verified.json`` (a cache: deleting it only
costs a full verification), so only new commits are checked.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from planeco_kernel.atomic import atomic_write
from planeco_kernel.knowledge import cache, signing
from planeco_kernel.knowledge.identity import member_email
from planeco_kernel.knowledge.location import MARKER
from planeco_kernel.knowledge.model import Member
from planeco_kernel.knowledge.state import fold_members, own_key_entry

CHECKPOINT = "verified.json"
FORMAT = 2
DOCUMENTS = "documents/"
_LINK = 0o120000
_DIR = 0o040000
_REC = re.compile(r"(?:^|/)t-\d{8}-[0-9a-f]{8}/[pe]-\d{8}T\d{6}-[0-9a-f]{8}\.md$")


@dataclass(frozen=True)
class Finding:
    """One illegitimate change: which commit, which file, why (French)."""

    commit: str
    path: str
    reason: str
    who: str = ""
    resolved: bool = False

    def __str__(self) -> str:
        by = f" ({self.who})" if self.who else ""
        done = " [réglé depuis : fichier retiré ou version légitime remise]" if self.resolved else ""
        return f"commit {self.commit[:10]}{by} : {self.path} — {self.reason}{done}"

    def to_dict(self) -> dict[str, Any]:
        return {"commit": self.commit, "path": self.path, "reason": self.reason, "who": self.who, "resolved": self.resolved}


@dataclass
class Verdict:
    """The verified state of the knowledge base at commit ``head``.

    Attributes
    ----------
    findings
        Every illegitimate change found so far, oldest first.
    exclude
        Paths present at ``head`` whose content is illegitimate (left out of the state).
    restore
        Path → blob sha of the last legitimate version, for records modified or deleted illegitimately.
    member_records
        The legitimate member entries (path → record), from which identities are checked.
    owners
        Document path → member id of its creator.
    authors
        Post id → author id (who may edit it).
    """

    head: str = ""
    findings: list[Finding] = field(default_factory=list)
    exclude: set[str] = field(default_factory=set)
    restore: dict[str, str] = field(default_factory=dict)
    member_records: dict[str, dict[str, Any]] = field(default_factory=dict)
    owners: dict[str, str] = field(default_factory=dict)
    authors: dict[str, str] = field(default_factory=dict)
    created: bool = False
    settings: dict[str, str] = field(default_factory=lambda: {"signatures": "optional", "service_key": ""})

    def to_json(self) -> dict[str, Any]:
        return {"format": FORMAT, "head": self.head, "findings": [f.to_dict() for f in self.findings],
                "exclude": sorted(self.exclude), "restore": self.restore, "member_records": self.member_records,
                "owners": self.owners, "authors": self.authors, "created": self.created, "settings": self.settings}  # fmt: skip

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Verdict:
        return cls(head=d["head"], findings=[Finding(**f) for f in d["findings"]], exclude=set(d["exclude"]),
                   restore=dict(d["restore"]), member_records=dict(d["member_records"]), owners=dict(d["owners"]),
                   authors=dict(d["authors"]), created=bool(d["created"]), settings=dict(d["settings"]))  # fmt: skip

    def copy(self) -> Verdict:
        return Verdict.from_json(json.loads(json.dumps(self.to_json())))

    def resolve(self, path: str) -> None:
        """Mark the findings about ``path`` as resolved (the quarantined file was removed or put back)."""
        self.findings = [Finding(f.commit, f.path, f.reason, f.who, True) if f.path == path else f for f in self.findings]

    @property
    def open_findings(self) -> list[Finding]:
        return [f for f in self.findings if not f.resolved]


def managed(path: str) -> bool:
    """Paths under the rules: the marker, member entries, post/event files, documents."""
    return path == MARKER or path.startswith("members/") or path.startswith(DOCUMENTS) or bool(_REC.search(path))


def in_post_tree(path: str) -> bool:
    """Paths where no symbolic link may be committed (the folders posts are written into)."""
    return managed(path) or path.startswith("discussions/") or path == "discussions" or any(
        part.endswith(".threads") for part in path.split("/")
    )


# ---------------------------------------------------------------------- checkpoint
def _checkpoint_path(root: Path) -> Path:
    from planeco_kernel.knowledge.gitstore import state_dir

    return state_dir(root) / CHECKPOINT


def load_checkpoint(root: Path) -> Verdict | None:
    try:
        d = json.loads(_checkpoint_path(root).read_text("utf-8"))
        return Verdict.from_json(d) if d.get("format") == FORMAT else None
    except (OSError, ValueError, KeyError, TypeError):
        return None


def save_checkpoint(root: Path, v: Verdict) -> None:
    """Write the checkpoint atomically; a read-only copy simply verifies again next time."""
    try:
        atomic_write(_checkpoint_path(root), json.dumps(v.to_json(), ensure_ascii=False, separators=(",", ":")))
    except OSError:
        pass


def advance(root: Path, old: str, new: str, added: dict[str, dict[str, Any]], author: str) -> None:
    """After planeco itself committed ``added`` (legitimate by construction): move the checkpoint (writer lock held)."""
    v = load_checkpoint(root)
    if v is None or v.head != old:
        return  # a reader will verify the new commit
    for path, rec in added.items():
        if path.startswith("members/"):
            v.member_records[path] = rec
        elif path.startswith(DOCUMENTS):
            v.owners.setdefault(path, author)
        elif str(rec.get("id", "")).startswith("p-"):
            v.authors[rec["id"]] = rec["author"]
    v.head = new
    save_checkpoint(root, v)


# ---------------------------------------------------------------------- verification
def verify(root: Path, head: str | None = None, *, save: bool = True) -> Verdict:
    """The verdict at ``head`` (default ``HEAD``), checking only commits after the checkpoint."""
    from dulwich.repo import Repo

    from planeco_kernel.knowledge.gitstore import head_sha

    head = head or head_sha(root).decode()
    start = load_checkpoint(root)
    if start is not None and start.head == head:
        return start
    with Repo(str(root)) as repo:
        v = verify_from(repo, start, head)
    if save:
        save_checkpoint(root, v)
    return v


def verify_from(repo, start: Verdict | None, head: str, *, incoming: bool = False) -> Verdict:
    """Verify the commits of ``head`` not yet covered by ``start`` (a verdict of an earlier commit).

    ``incoming``: ``head`` is another copy's branch (sync); only its commits that ``start.head``
    does not contain are verified, with what ``start`` knows (members, owners, authors).
    """
    from dulwich.graph import can_fast_forward

    rewritten: Verdict | None = None
    if start is not None and start.head and not incoming:
        try:
            ancestor = can_fast_forward(repo, start.head.encode(), head.encode())
        except KeyError:
            ancestor = False
        if not ancestor:
            rewritten, start = start, None
    v = start.copy() if start is not None else Verdict()
    walker = repo.get_walker(include=[head.encode()], exclude=[v.head.encode()] if v.head else None, order="topo", reverse=True)
    commits = [entry.commit for entry in walker]
    signed = [c.id.decode() for c in commits if signing.ssh_signed(c.gpgsig)]
    sigs = signing.signatures(Path(repo.path), signed, _known_keys(v)) if signed else {}
    for c in commits:
        _verify_commit(repo, c, v, sigs.get(c.id.decode()))
    v.head = head
    if rewritten is not None:
        _rewrite(repo, rewritten, v)
    return v


def _email(ident: bytes) -> str:
    s = ident.decode("utf-8", "replace")
    return s.rsplit("<", 1)[-1].rstrip(">").strip().lower() if "<" in s else ""


def _tree_of(repo, commit) -> bytes:
    return commit.tree


def _has(repo, tree: bytes, path: str) -> tuple[int, bytes] | None:
    from dulwich.object_store import tree_lookup_path

    try:
        return tree_lookup_path(repo.__getitem__, tree, path.encode())
    except (KeyError, NotADirectoryError):
        return None


def _changes(repo, old_tree: bytes | None, new_tree: bytes):
    for change in repo.object_store.tree_changes(old_tree, new_tree):
        (op, np), (om, nm), (os_, ns) = change
        yield (op.decode("utf-8", "replace") if op else None, np.decode("utf-8", "replace") if np else None, om, nm, os_, ns)


def _known_keys(v: Verdict) -> dict[str, str]:
    """The allowed signers git is given: the keys of the legitimate member entries so far, and the service's.

    Which key may sign which commit is decided by :func:`~.signing.commit_reason` with the registry
    at that commit; a good signature by a key listed nowhere yet shows as ``U`` with its fingerprint.
    """
    keys = {m.id: m.signing_key for m in fold_members(v.member_records).values() if m.signing_key}
    if v.settings.get("service_key"):
        keys["planeco-kb-service"] = v.settings["service_key"]
    return keys


class _Registry:
    """Members as known at one point of history (from the legitimate entries so far)."""

    def __init__(self, records: dict[str, dict[str, Any]]):
        self.members = fold_members(records)
        self.keys = {mid: m.signing_key for mid, m in self.members.items()}
        self.hub_users = {mid: m.hub_user or mid for mid, m in self.members.items()}
        self.emails: dict[str, set[str]] = {}
        self.moderators: set[str] = set()
        for r in records.values():
            mid = r.get("id")
            if mid in self.members:
                m = Member(**{k: r[k] for k in ("id", "name", "role") if k in r}, email=r.get("email") or "")
                self.emails.setdefault(mid, set()).add(member_email(m))
                if r.get("moderator"):
                    self.moderators.add(mid)

    def who(self, email: str) -> str:
        return next((mid for mid, es in self.emails.items() if email in es), "")

    def is_(self, member_id: str, email: str) -> bool:
        return email in self.emails.get(member_id, ())


def _marker_change(repo, v: Verdict, os_: bytes, ns: bytes, reg: _Registry, committer: str) -> str:
    """Why a change of the marker is illegitimate ('' when it is not; the settings are then applied)."""
    mod = reg.who(committer)
    ok = mod in reg.moderators and reg.members[mod].active
    settings, reason = signing.marker_change(repo[os_].as_raw_string(), repo[ns].as_raw_string(), by_moderator=ok)
    if not reason:
        v.settings = settings
    return reason


def _verify_commit(repo, c, v: Verdict, sig: tuple[str, str] | None = None) -> None:
    sha = c.id.decode()
    has_marker = _has(repo, c.tree, MARKER) is not None
    if not has_marker and not v.created:
        return  # history of the folder before the knowledge base was created there
    if len(c.parents) > 1:
        _verify_merge(repo, c, v)
        return
    parent_tree = repo[c.parents[0]].tree if c.parents else None
    creation = not v.created
    reg = _Registry(v.member_records)
    author, committer = _email(c.author), _email(c.committer)
    who = c.author.decode("utf-8", "replace")
    signed_badly = "" if creation else signing.commit_reason(
        sig if signing.ssh_signed(c.gpgsig) else None, policy=v.settings.get("signatures", "optional"), service_key=v.settings.get("service_key", ""),
        committer=reg.who(committer), keys=reg.keys, hub_users=reg.hub_users, message=c.message)  # fmt: skip
    new_members: dict[str, dict[str, Any]] = {}
    for op, np, om, nm, os_, ns in _changes(repo, parent_tree, c.tree):
        path = np or op
        if path is None:
            continue

        def bad(reason: str, p: str = path) -> None:
            v.findings.append(Finding(sha, p, reason, who))

        if np is not None and nm is not None and (nm & 0o170000) == _LINK and in_post_tree(np):
            bad("lien symbolique : refusé dans l'arborescence des messages")
            v.exclude.add(np)
            continue
        if not managed(path):
            continue
        cleanup = (np is None and op in v.exclude) or (np is not None and op is None and v.restore.get(np) == ns.decode())
        if signed_badly and not cleanup:
            bad(signed_badly)
            if os_ is not None and path not in v.exclude:
                v.restore.setdefault(path, os_.decode())
            if ns is not None:
                v.exclude.add(path)
            continue
        if op is not None and np is not None and op == np:  # modified
            if path == MARKER:
                reason = _marker_change(repo, v, os_, ns, reg, committer)
                if reason:
                    bad(reason)
                continue
            _modified(repo, v, path, os_, ns, om, reg, author, bad)
        elif np is None:  # deleted
            _deleted(v, op, os_, reg, author, bad)
        else:  # added
            if v.restore.get(np) == ns.decode():
                v.restore.pop(np)  # the legitimate version put back
                v.resolve(np)
                continue
            if np == MARKER:
                if not creation:
                    bad("marqueur de la base ajouté après sa création")
                else:
                    settings, problem = signing.settings_of(signing.parse_marker(repo[ns].as_raw_string()) or {})
                    v.settings = settings
                    if problem:
                        bad(f"marqueur de la base : {problem}")
                continue
            rec = cache.parse_record(np, repo[ns].as_raw_string()) if not np.startswith(DOCUMENTS) else None
            if np.startswith(DOCUMENTS):
                owner = reg.who(author)
                if not owner:
                    bad("document ajouté par un commit qui n'est pas d'un membre")
                    v.exclude.add(np)
                else:
                    v.owners[np] = owner
                continue
            if rec is None or rec.get("_invalid"):
                bad("fichier illisible ou invalide (" + (rec["_invalid"] if rec else "en-tête YAML invalide") + ")")
                v.exclude.add(np)
                continue
            if np.startswith("members/"):
                reason = _member_reason(rec, reg, author, creation)
                if reason:
                    bad(reason)
                    v.exclude.add(np)
                else:
                    new_members[np] = rec
                continue
            reason = _record_reason(rec, reg, v, author, committer)
            if reason:
                bad(reason)
                v.exclude.add(np)
            elif rec["id"].startswith("p-"):
                v.authors[rec["id"]] = rec["author"]
    if new_members:
        v.member_records.update(new_members)
    if creation and has_marker:
        v.created = True


def _modified(repo, v, path, os_, ns, om, reg, author, bad) -> None:
    if path.startswith(DOCUMENTS):
        owner = v.owners.get(path, "")
        if path in v.exclude or reg.is_(owner, author) or (reg.who(author) in reg.moderators):
            return
        bad(f"document de « {owner} » modifié par un commit qui n'est ni le sien ni d'un·e modérateur·rice")
    else:
        bad("message modifié : un message n'est jamais réécrit (une modification est un nouvel événement)")
    if path not in v.exclude:
        v.restore.setdefault(path, os_.decode())
    v.exclude.add(path)


def _deleted(v, path, os_, reg, author, bad) -> None:
    if path in v.exclude:
        v.exclude.discard(path)  # removing a quarantined file is how it is cleaned up
        if path not in v.restore:
            v.resolve(path)
        return
    if path.startswith(DOCUMENTS):
        owner = v.owners.get(path, "")
        if reg.is_(owner, author) or reg.who(author) in reg.moderators:
            v.owners.pop(path, None)
            return
        bad(f"document de « {owner} » supprimé par un commit qui n'est ni le sien ni d'un·e modérateur·rice")
    else:
        bad("supprimé : les messages, événements et fiches de membres ne sont jamais supprimés")
    v.restore.setdefault(path, os_.decode())


def _member_reason(rec, reg: _Registry, author: str, creation: bool) -> str:
    by = rec.get("by", "")
    if creation and not reg.members:
        mine = member_email(Member(id=rec["id"], name=rec.get("name", ""), role=rec.get("role", ""), email=rec.get("email") or ""))
        if by == rec["id"] and rec.get("moderator") and author == mine:
            return ""
        return "fiche fondatrice invalide (elle doit être celle d'un·e modérateur·rice, écrite par lui·elle-même)"
    if by == rec["id"] and rec["id"] in reg.members and own_key_entry(reg.members[by], rec):
        return "" if reg.is_(by, author) else f"clé de signature de « {by} » enregistrée par {author or 'une identité inconnue'}"
    m = reg.members.get(by)
    if m is None or not (m.moderator and m.active):
        return f"fiche de membre écrite par « {by} », qui n'est pas modérateur·rice"
    if not reg.is_(by, author):
        return f"fiche de membre signée « {by} » mais commise par {author or 'une identité inconnue'}"
    return ""


def _record_reason(rec, reg: _Registry, v: Verdict, author: str, committer: str) -> str:
    claimed = rec["author"]
    if claimed not in reg.members:
        return f"auteur·rice inconnu·e « {claimed} »"
    if not reg.is_(claimed, author):
        return f"message signé « {claimed} » mais commis par {author or 'une identité inconnue'}"
    by = rec.get("acted_by")
    if by:
        if by not in reg.moderators or not reg.is_(by, committer):
            return f"« au nom de » par « {by} », qui n'est pas le·la modérateur·rice qui a commis"
    elif committer != author:
        return f"commis par {committer}, qui n'est pas l'auteur·rice"
    kind = rec.get("kind")
    if str(rec["id"]).startswith("e-"):
        if kind in ("hide", "restore") and claimed not in reg.moderators:  # the represented member's rights
            return f"{kind} par « {claimed} », qui n'est pas modérateur·rice"
        if kind == "edit":
            owner = v.authors.get(rec.get("target", ""))
            if owner != claimed and claimed not in reg.moderators:
                return f"modification du message de « {owner or '?'} » par « {claimed} »"
    return ""


def _verify_merge(repo, c, v: Verdict) -> None:
    sha = c.id.decode()
    trees = [repo[p].tree for p in c.parents]
    for op, np, _om, nm, os_, ns in _changes(repo, trees[0], c.tree):
        path = np or op
        if path is None or not managed(path):
            continue
        ok = False
        for t in trees[1:]:
            found = _has(repo, t, path)
            if (found is None and ns is None) or (found is not None and ns is not None and found[1] == ns):
                ok = True
                break
        if not ok:
            v.findings.append(Finding(sha, path, "changement introduit par une fusion (absent des deux côtés fusionnés)",
                                      c.committer.decode("utf-8", "replace")))  # fmt: skip
            if ns is not None:
                v.exclude.add(path)
            if os_ is not None and path not in v.exclude:
                v.restore.setdefault(path, os_.decode())
        elif ns is not None and nm is not None and (nm & 0o170000) == _LINK:
            v.exclude.add(path)


def _rewrite(repo, old: Verdict, v: Verdict) -> None:
    """``HEAD`` no longer contains the last verified commit: keep what was legitimate there."""
    try:
        old_tree = repo[old.head.encode()].tree
    except KeyError:
        v.findings.append(Finding(v.head, "(historique)", f"historique réécrit : le commit vérifié {old.head[:10]} a disparu"))
        return
    new_tree = repo[v.head.encode()].tree
    lost = 0
    for op, np, _om, _nm, os_, ns in _changes(repo, old_tree, new_tree):
        if op is None or not managed(op) or op in old.exclude or op == MARKER:
            continue
        if np is None or np == op:
            v.restore.setdefault(op, os_.decode())
            v.exclude.discard(op) if np is None else v.exclude.add(op)
            lost += 1
    for path, blob in old.restore.items():
        v.restore.setdefault(path, blob)
    v.findings.append(Finding(v.head, "(historique)", f"historique réécrit : le commit vérifié {old.head[:10]} n'est plus un "
                              f"ancêtre de HEAD ({lost} fichier(s) retiré(s) ou modifié(s), conservés d'après l'historique)"))


def apply(repo_root: Path, records: dict[str, dict[str, Any]], v: Verdict) -> dict[str, dict[str, Any]]:
    """Records as the knowledge base shows them: quarantined additions out, illegitimate changes undone."""
    if not v.exclude and not v.restore:
        return records
    out = {p: r for p, r in records.items() if p not in v.exclude}
    if v.restore:
        from dulwich.repo import Repo

        with Repo(str(repo_root)) as repo:
            for path, blob in v.restore.items():
                if not cache.is_record_path(path):
                    continue
                try:
                    rec = cache.parse_record(path, repo[blob.encode()].as_raw_string())
                except KeyError:
                    continue
                if rec is not None:
                    out[path] = rec
    return out
