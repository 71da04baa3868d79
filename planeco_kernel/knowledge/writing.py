"""How the façade writes: one record per commit under the writer lock, idempotent, logged for the caches.

A mixin of :class:`planeco_kernel.knowledge.kb.KnowledgeBase` (it uses its ``root``, ``_raw``
and ``_records``); the rules of what may be written are checked before these are called.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from planeco_kernel.knowledge import (
    cache,
    frontmatter,
    gitstore,
    identity,
    integrity,
    model,
    records,
    signing,
)
from planeco_kernel.knowledge.errors import InvalidInputError
from planeco_kernel.knowledge.gitstore import commit_files, head_sha, locked
from planeco_kernel.knowledge.model import Member, Post
from planeco_kernel.knowledge.state import post_from_record


class Writer:
    """Committing records (mixin of the façade)."""

    root: Path
    _raw: tuple[str, dict[str, dict[str, Any]]] | None
    pending_index: bool

    def _commit(self, who: Member, path: str, meta: dict[str, Any], body: str, summary_: str, *,
                by: Member | None = None, client: bool = False) -> Post:  # fmt: skip
        if by is not None:
            meta["acted_by"] = by.id
        data = frontmatter.dump(meta, body)
        if len(data) > model.MAX_FILE_BYTES:
            raise InvalidInputError(
                f"Le message fait {model.fr_size(len(data))} une fois enregistré, pour {model.fr_size(model.MAX_FILE_BYTES)} "
                "au plus : raccourcissez-le."
            )
        summary_ = " ".join(summary_.split())[:120]
        trailer = f"Planeco-Member: {who.id}\n" + (f"Planeco-Acted-By: {by.id}\n" if by else "") + f"Planeco-Record: {path}\n"
        with locked(self.root):
            same = self._same_post(who.id, meta["key"], client)
            if same is not None:
                return same
            self._write_locked(who, {path: data}, f"{summary_}\n\n{trailer}", by=by)
        return post_from_record(meta, body, path)

    def _same_post(self, author: str, key: str, client: bool) -> Post | None:
        """The post already stored with this idempotency key (call with the writer lock held)."""
        recs = self._records(head_sha(self.root).decode())
        now = datetime.now(timezone.utc)
        for path, r in recs.items():
            if r.get("key") != key or r.get("author") != author or not str(r.get("id", "")).startswith("p-"):
                continue
            if not client:
                created = datetime.fromisoformat(str(r.get("created", "")).replace("Z", "+00:00"))
                if (now - created).total_seconds() > records.DEDUP_SECONDS:
                    continue
            return post_from_record(r, r.get("body", ""), path)
        return None

    def _write(self, who: Member, path: str, data: bytes, message: str, *, by: Member | None = None) -> None:
        """Commit one record under the writer lock."""
        with locked(self.root):
            self._write_locked(who, {path: data}, message, by=by)

    def _write_locked(self, who: Member, files: dict[str, bytes], message: str, *, by: Member | None = None,
                      overwrite: bool = False) -> str:  # fmt: skip
        """Commit ``files`` (writer lock held), log them for the listing cache, move the integrity checkpoint."""
        old = head_sha(self.root).decode()
        key, policy = self._signing(by or who)
        hub = identity.session_hub_user()
        if key and hub:
            message = message.rstrip("\n") + f"\n{signing.HUB_TRAILER}: {hub}\n"
        new = commit_files(self.root, files, author=who.git_identity(), message=message, allow_overwrite=overwrite,
                           committer=by.git_identity() if by else None, sign=key).decode()  # fmt: skip
        self.pending_index = gitstore.pending
        recs = {p: r for p, d in files.items() if (r := cache.parse_record(p, d)) is not None and cache.is_record_path(p)}
        try:  # published: the caches below are derived and rebuilt if this fails (a full disk)
            cache.append(self.root, old, new, recs)
            if not key and policy == "optional" and integrity.MARKER not in files:  # else a reader verifies it (git, settings)
                integrity.advance(self.root, old, new, {**recs, **{p: {} for p in files if p.startswith(integrity.DOCUMENTS)}}, who.id)
        except OSError:
            pass
        if self._raw is not None and self._raw[0] == old:
            self._raw[1].update(recs)
            self._raw = (new, self._raw[1])
        return new

    service_key_file: str = ""
    """Set by the hub service: its own key, used once the base lists it as ``service_key``."""

    def _signing(self, committer: Member) -> tuple[str, str]:
        """``(key file to sign with or '', policy)``; refuses a write the base would quarantine."""
        settings = integrity.verify(self.root).settings
        policy = settings.get("signatures", "optional")
        if self.service_key_file:
            registered = settings.get("service_key") == signing.read_public_key(self.service_key_file)
            key = self.service_key_file if registered else ""
        else:
            key = signing.local_key(self.root)
            if key and committer.signing_key != signing.read_public_key(key):
                if policy == "optional":
                    return "", policy  # a commit signed by a key not on the committer's entry would be refused
                raise signing.SigningError(
                    f"La clé de signature configurée ({key}) n'est pas celle de la fiche de « {committer.id} » : le commit "
                    "serait refusé. Enregistrez-la (`planeco kb members set-key`) ou configurez la bonne clé.")  # fmt: skip
        if not key and policy == "required":
            raise signing.SigningError(
                "Cette base exige des commits signés : configurez votre clé SSH (PLANECO_KB_SIGNING_KEY=~/.ssh/id_ed25519, "
                "ou `git config gpg.format ssh` et `git config user.signingkey …`), enregistrée sur votre fiche "
                "(`planeco kb members set-key`)." if not self.service_key_file else
                "Cette base exige des commits signés et la clé du service n'y est pas enregistrée : un·e modérateur·rice "
                "doit lancer `planeco kb settings --service-key …` avec la clé publique que le service a affichée.")  # fmt: skip
        return key, policy

    def _event(self, who: Member, post: Post, kind: str, *, reason: str, body: str = "", by: Member | None = None) -> str:
        if kind != "edit":
            reason = model.text(reason, "La raison", model.MAX_REASON_CHARS)
        created = model.now_utc()
        eid = model.new_record_id(created, "e")
        meta = {
            "id": eid, "thread": post.thread, "author": who.id, "role": who.role, "created": created,
            "kind": kind, "target": post.id, "reason": reason,
        }  # fmt: skip
        if by is not None:
            meta["acted_by"] = by.id
        path = f"{post.path.rsplit('/', 1)[0]}/{eid}.md"
        data = frontmatter.dump(meta, body)
        trailer = f"Planeco-Member: {who.id}\n" + (f"Planeco-Acted-By: {by.id}\n" if by else "") + f"Planeco-Record: {path}\n"
        self._write(who, path, data, f"{kind}: {post.id} — {reason or 'modification'}"[:120] + f"\n\n{trailer}", by=by)
        return eid


def set_git_identity(repo, m: Member) -> None:
    cfg = repo.get_config()
    cfg.set((b"user",), b"email", identity.member_email(m).encode())
    cfg.set((b"user",), b"name", m.git_identity().split(b" <")[0])
    cfg.write_to_path()


def initial_commit(root: Path, files: dict[str, bytes], admin: Member) -> None:
    """First commit of a fresh repository (no parent), then the same crash-safe write path."""
    import time

    from dulwich.objects import Commit, Tree
    from dulwich.repo import Repo

    with Repo(str(root)) as repo:
        empty = Tree()
        repo.object_store.add_object(empty)
        c = Commit()
        c.tree = empty.id
        c.parents = []
        c.author = c.committer = admin.git_identity()
        c.author_time = c.commit_time = int(time.time())
        c.author_timezone = c.commit_timezone = 0
        c.encoding = b"UTF-8"
        c.message = b"kb: initialisation\n"
        repo.object_store.add_object(c)
        repo.refs.set_if_equals(b"HEAD", None, c.id)
    with locked(root):
        commit_files(root, files, author=admin.git_identity(), message="kb: création de la base de connaissances")
