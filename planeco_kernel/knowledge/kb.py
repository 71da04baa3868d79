"""The knowledge base: a git repository of append-only posts, behind one façade.

Layout of the working tree (every file is one record, never rewritten)::

    planeco-kb.yaml                          marker (format version, name)
    members/<member>/e-<time>-<rand>.md      member registry entries (latest wins)
    <dir>/<notebook>.threads/<thread>/…      threads about a notebook (sidecar folder)
    discussions/<type>/<key>/<thread>/…      threads anchored to an app, territory, indicator,
                                             COP lever or action
    …/<thread>/p-<time>-<rand>.md            a post (YAML front matter + Markdown body)
    …/<thread>/e-<time>-<rand>.md            a moderation or edit event
    documents/…                              documents saved by members (save_document)

Each record is a commit whose author is the member who wrote it (the committer is the
moderator when one acts on someone's behalf). The pieces: :mod:`~.identity` (who acts),
:mod:`~.state` (the pure fold of records into members, posts and threads), :mod:`~.filters`
(one thread filter for listing and search), :mod:`~.integrity` (which commits are legitimate),
:mod:`~.gitstore` (crash-safe commits), :mod:`~.cache` (the derived listing cache). Only what a
member posts is stored: reading, listing and searching write nothing to the repository.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from planeco_kernel.knowledge import cache, frontmatter, gitstore, identity, integrity, model, records, rules
from planeco_kernel.knowledge.errors import (
    InvalidInputError,
    KBNotFoundError,
    KnowledgeError,
    NotFoundError,
    PermissionDeniedError,
)
from planeco_kernel.knowledge.filters import ThreadFilter
from planeco_kernel.knowledge.gitstore import commit_files, head_sha, locked
from planeco_kernel.knowledge.location import MARKER, default_kb_dir, find_root
from planeco_kernel.knowledge.model import Member, Post, Thread
from planeco_kernel.knowledge.state import MEMBER_FIELDS, State, assemble, post_from_record, summary, visible

DETAIL_FIELDS = records.DETAIL_FIELDS


class KnowledgeBase:
    """A knowledge base rooted at a git working tree.

    Opening it finishes a commit interrupted by a killed writer (so that the git index matches
    ``HEAD`` before anyone runs a plain ``git commit``).

    Parameters
    ----------
    root
        The knowledge-base directory (or any folder inside it). Default: ``PLANECO_KB``.

    Raises
    ------
    KBNotFoundError
        If no knowledge base is found there.
    """

    def __init__(self, root: str | os.PathLike | None = None):
        found = find_root(root)
        if found is None:
            where = Path(root) if root is not None else default_kb_dir()
            raise KBNotFoundError(
                f"Aucune base de connaissances dans {where}. Créez-en une avec `planeco kb init {where} --admin ID` "
                "ou indiquez son dossier avec --kb / PLANECO_KB."
            )
        self.root = found
        self._state: State | None = None
        self._raw: tuple[str, dict[str, dict[str, Any]]] | None = None
        self.pending_index = False
        gitstore.repair_on_open(self.root)

    # ------------------------------------------------------------------ creation
    @classmethod
    def init(cls, path: str | os.PathLike | None, admin: Member, *, name: str = "") -> KnowledgeBase:
        """Create a knowledge base at ``path`` (a new folder or an existing git working tree).

        The first member, ``admin``, is a moderator. Nothing else in an existing repository is
        touched: the marker and the member entry are added by one commit. In a new repository
        the admin's identity becomes the repository's git identity (``user.email``), which is
        how the local identity is found afterwards (:mod:`~.identity`).
        """
        from dulwich.repo import Repo

        root = Path(path).expanduser().resolve() if path is not None else default_kb_dir()
        if (root / MARKER).exists():
            raise KnowledgeError(f"{root} est déjà une base de connaissances : utilisez-la directement.")
        fresh = not (root / ".git").is_dir()
        if not fresh and not admin.email:
            admin = Member(**{**admin.to_dict(), "email": identity.git_email(root)})
        admin = records.validated_member({**admin.to_dict(), "moderator": True, "active": True})
        name = model.text(name or root.name, "Nom de la base", model.MAX_NAME_CHARS)
        created = model.now_utc()
        files = {
            MARKER: f"format: 1\nname: {json.dumps(name, ensure_ascii=False)}\ncreated: {json.dumps(created)}\n".encode(),
            records.member_path(admin.id, created): records.member_record(admin, created, by=admin.id),
        }
        if fresh:
            root.mkdir(parents=True, exist_ok=True)
            repo = Repo.init(str(root))
            repo.refs.set_symbolic_ref(b"HEAD", b"refs/heads/main")
        else:
            repo = Repo(str(root))
        with repo:
            if fresh or identity.git_email(root).lower() != identity.member_email(admin):
                _set_git_identity(repo, admin)
            try:
                repo.refs[b"HEAD"]
                unborn = False
            except KeyError:
                unborn = True
        if unborn:
            _initial_commit(root, files, admin)
        else:
            with locked(root):
                commit_files(root, files, author=admin.git_identity(), message=f"kb: création de la base « {name} »")
        return cls(root)

    @classmethod
    def clone(cls, remote: str, path: str | os.PathLike) -> KnowledgeBase:
        """Make a local copy of a knowledge base from ``remote`` (path or URL) at ``path``.

        The history received is verified (:mod:`~.integrity`) before the copy is used.
        """
        from planeco_kernel.knowledge.sync import clone

        clone(remote, Path(path).expanduser().resolve())
        base = cls(path)
        integrity.verify(base.root)
        return base

    # ------------------------------------------------------------------ state
    def _records(self, head: str) -> dict[str, dict[str, Any]]:
        if self._raw is None or self._raw[0] != head:
            verdict = integrity.verify(self.root, head)
            self._raw = (head, integrity.apply(self.root, cache.load(self.root), verdict))
        return self._raw[1]

    def _load(self) -> State:
        head = head_sha(self.root).decode()
        if self._state is not None and self._state.head == head:
            return self._state
        self._state = assemble(head, self._records(head), prevalidated=True)
        return self._state

    def _partial(self, thread_id: str | None = None) -> State:
        """State restricted to members (and one thread): what a post needs, much cheaper than :meth:`_load`."""
        head = head_sha(self.root).decode()
        if self._state is not None and self._state.head == head:
            return self._state
        recs = self._records(head)
        marker = f"/{thread_id}/" if thread_id else None
        wanted = {p: r for p, r in recs.items() if p.startswith("members/") or (marker and marker in p)}
        return assemble(head, wanted, prevalidated=True)

    def refresh(self) -> None:
        """Forget the in-memory state (it is also refreshed whenever ``HEAD`` moves)."""
        self._state = None
        self._raw = None

    # ------------------------------------------------------------------ members and identity
    def members(self, *, include_inactive: bool = False) -> list[Member]:
        """Registered members, sorted by id."""
        ms = self._partial().members.values()
        return sorted((m for m in ms if include_inactive or m.active), key=lambda m: m.id)

    def member(self, member_id: str) -> Member:
        """One member by id.

        Raises
        ------
        NotFoundError
            If no member has this id.
        """
        return _member_in(self._partial(), member_id)

    def identity(self) -> Member:
        """The member acting in this session: the JupyterHub user behind JupyterHub, else the
        git/OS identity of this install matched to the registry (:func:`~.identity.session_member`)."""
        return identity.session_member(self.root, self._partial().members)

    def set_identity(self, member_id: str) -> Member:
        """Make ``member_id`` the git identity of this copy (``user.email``/``user.name`` of the repository).

        Only a moderator may do it (they set up who uses an install); behind JupyterHub the hub
        user always wins, so this changes nothing there.

        Raises
        ------
        PermissionDeniedError
            When the current identity is not a moderator.
        """
        from dulwich.repo import Repo

        target = self.member(member_id)
        current = self.identity()
        if current.id != target.id:
            rules.require_moderator(current, "changer l'identité configurée de cette copie")
        with Repo(str(self.root)) as repo:
            _set_git_identity(repo, target)
        return target

    def _acting(self, author: str, acted_by: str | None) -> tuple[Member, Member | None]:
        """``(member whose rights apply, moderator acting on their behalf or None)``.

        Behind JupyterHub the session's hub user is checked: a member other than the hub user
        can only be ``author`` when the hub user is a moderator (recorded as ``acted_by``). For a
        local install the caller's ``author`` is the configured identity (the command line
        resolves it); ``acted_by`` names the moderator acting for ``author``.
        """
        st = self._partial()
        who = _member_in(st, author)
        if identity.hub_user():
            session = identity.session_member(self.root, st.members)
            if acted_by and acted_by != session.id:
                raise PermissionDeniedError(f"Vous êtes connecté·e comme « {session.id} », pas comme « {acted_by} ».")
            return identity.acting(session, who)
        if acted_by and acted_by != who.id:
            return identity.acting(_member_in(st, acted_by), who)
        return who, None

    def _viewer(self, viewer: str | None) -> Member | None:
        """The reader; behind JupyterHub only a moderator may read as someone else."""
        if not viewer:
            return None
        v = self.member(viewer)
        if identity.hub_user():
            session = identity.session_member(self.root, self._partial().members)
            if session.id != v.id and not session.moderator:
                raise PermissionDeniedError(
                    f"Vous êtes connecté·e comme « {session.id} » : seul·es les modérateur·rices lisent au nom d'un autre membre."
                )
        return v

    def add_member(self, member: Member, *, actor: str, acted_by: str | None = None) -> Member:
        """Add or update a member (moderators only); recorded as a commit by the moderator."""
        mod, by = self._acting(actor, acted_by)
        rules.require_moderator(mod, "modifier le registre des membres")
        member = records.validated_member(member.to_dict())
        created = model.now_utc()
        path = records.member_path(member.id, created)
        self._write(mod, path, records.member_record(member, created, by=mod.id),
                    f"members: {member.id} ({member.role}) par {mod.id}\n\nPlaneco-Member: {mod.id}\n", by=by)  # fmt: skip
        return member

    # ------------------------------------------------------------------ posting
    def start_thread(
        self,
        author: str,
        *,
        kind: str,
        title: str,
        body: str,
        anchor: str,
        territory: str | None = None,
        themes: Iterable[str] | str | None = None,
        audience: str = "open",
        addressed_to: Iterable[str] = (),
        details: dict[str, Any] | None = None,
        key: str | None = None,
        acted_by: str | None = None,
    ) -> Post:
        """Open a thread with its first post; return the stored post.

        Parameters
        ----------
        author
            Member id of the poster (commit author).
        kind
            ``question``, ``rex_request``, ``rex``, ``solution``, ``recommendation`` or ``discussion``.
        anchor
            ``notebook:<path>``, ``app:<key>``, ``territory:<code>``, ``indicator:<key>``,
            ``lever:<key>`` or ``action:<key>``.
        territory
            Territory concerned (default: the anchor's, else the author's); resolved with the
            territory model (an old commune code becomes its successor's).
        audience
            ``open`` (companies may answer), ``no_companies`` or ``public_sector``.
        addressed_to
            Roles or member ids the thread addresses (required for companies).
        details
            For solutions and REX: ``results``, ``cost_eur``, ``partners``, ``year``; for
            recommendations: ``company``, ``siren``, ``service``.
        key
            Idempotency key chosen by the client: posting again with the same key returns the
            post already stored instead of a duplicate. Without one, the same content by the
            same author at the same place within 24 h is the same post.
        acted_by
            The moderator acting on ``author``'s behalf (recorded in the post and the commit).

        Raises
        ------
        InvalidInputError, NeutralityError, PermissionDeniedError
        """
        who, by = self._acting(author, acted_by)
        st = self._partial()
        model.choice(kind, model.THREAD_KINDS, "Type de fil")
        model.choice(audience, model.AUDIENCES, "Audience")
        title = model.text(title, "Le titre", model.MAX_TITLE_CHARS)
        body = model.text(body, "Le message", model.MAX_BODY_CHARS, multiline=True)
        a_kind, a_key = model.anchor(anchor)
        if a_kind == "notebook":
            self._check_notebook(a_key)
        elif a_kind == "territory":
            a_key = records.territory_code(a_key)
        if territory:
            territory = records.territory_code(territory)
        else:
            territory = a_key if a_kind == "territory" else who.territory
        tags = model.themes(themes)
        details = records.details(kind, details)
        targets = rules.check_start(who, kind, audience, [str(t) for t in addressed_to], st.members)
        hold = rules.check_solicitation(who, "\n".join([title, body, *map(str, records.flatten(details))]))
        place = f"{a_kind}:{a_key}"
        k = records.client_key(key) or records.content_key(who.id, kind, place, title, body, details, audience)
        created = model.now_utc()
        tid = model.new_thread_id(created)
        pid = model.new_record_id(created, "p")
        meta = {
            "id": pid, "thread": tid, "author": who.id, "role": who.role, "territory": territory,
            "created": created, "reply_to": None, "kind": kind, "audience": audience, "title": title,
            "anchor": place, "themes": tags, "addressed_to": targets,
            "status": "held" if hold else "published", "held_reason": hold, "details": details, "key": k,
        }  # fmt: skip
        path = f"{model.anchor_dir(a_kind, a_key)}/{tid}/{pid}.md"
        return self._commit(who, path, meta, body, f"{kind}: {title}", by=by, client=key is not None)

    def reply(
        self,
        author: str,
        thread: str,
        body: str,
        *,
        reply_to: str | None = None,
        kind: str = "reply",
        details: dict[str, Any] | None = None,
        key: str | None = None,
        acted_by: str | None = None,
    ) -> Post:
        """Reply in a thread (to its first post, or to ``reply_to``); return the stored post.

        ``key`` and ``acted_by`` as for :meth:`start_thread`.

        Raises
        ------
        NotFoundError, InvalidInputError, NeutralityError, PermissionDeniedError
        """
        who, by = self._acting(author, acted_by)
        st = self._partial(model.thread_id(thread))
        th = st.threads.get(thread)
        if th is None or not rules.can_read(who, th.audience, th.author):
            raise NotFoundError(f"Fil inconnu : « {thread} ». Listez les fils avec `planeco kb list`.")
        model.choice(kind, model.REPLY_KINDS, "Type de réponse")
        body = model.text(body, "Le message", model.MAX_BODY_CHARS, multiline=True)
        target = th.posts[0]
        if reply_to is not None:
            target = st.posts.get(model.record_id(reply_to))
            if target is None or target.thread != th.id:
                raise NotFoundError(f"Le message « {reply_to} » n'existe pas dans le fil {th.id}.")
        rules.check_reply(who, audience=th.audience, thread_author=th.author, target_author=target.author, members=st.members)
        details = records.details(kind, details)
        hold = rules.check_solicitation(who, "\n".join([body, *map(str, records.flatten(details))]))
        k = records.client_key(key) or records.content_key(who.id, kind, th.id, target.id, body, details)
        created = model.now_utc()
        pid = model.new_record_id(created, "p")
        meta = {
            "id": pid, "thread": th.id, "author": who.id, "role": who.role, "territory": who.territory,
            "created": created, "reply_to": target.id, "kind": kind, "audience": th.audience,
            "status": "held" if hold else "published", "held_reason": hold, "details": details, "key": k,
        }  # fmt: skip
        return self._commit(who, f"{th.dir}/{pid}.md", meta, body, f"{kind}: réponse dans « {th.title} »", by=by,
                            client=key is not None)  # fmt: skip

    def edit(self, author: str, post_id: str, body: str, *, acted_by: str | None = None) -> str:
        """Edit a post (its author or a moderator): a new ``edit`` event; the original stays in history."""
        who, by = self._acting(author, acted_by)
        rules.require_active(who)
        post = self._post(post_id)
        if post.author != who.id and not who.moderator:
            raise PermissionDeniedError("Seul·e l'auteur·rice d'un message (ou un·e modérateur·rice) peut le modifier.")
        body = model.text(body, "Le message", model.MAX_BODY_CHARS, multiline=True)
        if rules.check_solicitation(who, body):
            raise PermissionDeniedError(
                "Modification refusée : le nouveau texte serait retenu pour modération (prix ou coordonnées). "
                "Publiez plutôt un nouveau message, qui sera relu."
            )
        return self._event(who, post, "edit", reason="", body=body, by=by)

    def flag(self, actor: str, post_id: str, reason: str, *, acted_by: str | None = None) -> str:
        """Flag a post for moderators (any active member); return the event id."""
        who, by = self._acting(actor, acted_by)
        rules.require_active(who)
        return self._event(who, self._post(post_id), "flag", reason=reason, by=by)

    def hide(self, actor: str, post_id: str, reason: str, *, acted_by: str | None = None) -> str:
        """Hide a post (moderators; reason required); return the event id."""
        who, by = self._acting(actor, acted_by)
        rules.require_moderator(who, "masquer un message")
        return self._event(who, self._post(post_id), "hide", reason=reason, by=by)

    def restore(self, actor: str, post_id: str, reason: str, *, acted_by: str | None = None) -> str:
        """Restore a hidden post or publish a held one (moderators; reason required)."""
        who, by = self._acting(actor, acted_by)
        rules.require_moderator(who, "rétablir un message")
        return self._event(who, self._post(post_id), "restore", reason=reason, by=by)

    # ------------------------------------------------------------------ documents
    def save_document(self, path: str, text: str, message: str, *, author: str | None = None) -> str:
        """Commit a document (``documents/…``) as ``author`` (default: the session's identity); return the commit sha.

        The public way for other parts of planeco to keep a file in the knowledge base (e.g. a
        self-assessment's answers as YAML). The first member who saves a path owns it; only its
        owner or a moderator may change it afterwards (checked here and by :mod:`~.integrity`).
        Validating the content is the caller's job; the size limit is 1 Mio.

        Raises
        ------
        InvalidInputError, PermissionDeniedError
        """
        path = records.document_path(path)
        data = records.document_bytes(text)
        who, by = self._acting(author or self.identity().id, None)
        rules.require_active(who)
        message = model.text(message, "Le message de commit", model.MAX_TITLE_CHARS)
        with locked(self.root):
            owner = integrity.verify(self.root).owners.get(path)
            if owner and owner != who.id and not who.moderator:
                raise PermissionDeniedError(
                    f"Le document {path} appartient à « {owner} » : seul·e son auteur·rice ou un·e modérateur·rice le modifie."
                )
            return self._write_locked(who, {path: data}, f"{message}\n\nPlaneco-Member: {who.id}\nPlaneco-Document: {path}\n",
                                      by=by, overwrite=True)  # fmt: skip

    def read_document(self, path: str) -> str:
        """The text of a document at ``HEAD`` (its last legitimate version).

        Raises
        ------
        NotFoundError
        """
        from dulwich.object_store import tree_lookup_path
        from dulwich.repo import Repo

        path = records.document_path(path)
        v = integrity.verify(self.root)
        with Repo(str(self.root)) as repo:
            if path in v.restore:
                return repo[v.restore[path].encode()].as_raw_string().decode("utf-8")
            try:
                if path in v.exclude:
                    raise KeyError(path)
                _mode, sha = tree_lookup_path(repo.__getitem__, repo[repo.head()].tree, path.encode())
            except (KeyError, NotADirectoryError):
                raise NotFoundError(f"Document inconnu : {path}.") from None
            return repo[sha].as_raw_string().decode("utf-8")

    def documents(self, prefix: str = "documents/") -> dict[str, str]:
        """Documents under ``prefix`` with their owners (``{path: member id}``)."""
        return {p: o for p, o in sorted(integrity.verify(self.root).owners.items()) if p.startswith(prefix)}

    # ------------------------------------------------------------------ reading
    def threads(
        self,
        viewer: str | None = None,
        *,
        territory: str | None = None,
        nearby: bool = False,
        theme: str | None = None,
        kind: str | None = None,
        anchor: str | None = None,
        text: str | None = None,
        moderation: bool = False,
    ) -> list[Thread]:
        """Threads visible to ``viewer`` (member id; None = anonymous), newest activity first.

        ``territory`` with ``nearby=True`` also matches nearby or similar territories
        (see :mod:`planeco_kernel.knowledge.nearby`). ``moderation=True`` (moderators) lists
        only threads with flagged, held or hidden posts.
        """
        st = self._load()
        v = self._viewer(viewer)
        if moderation and not (v and v.moderator):
            raise PermissionDeniedError("La file de modération est réservée aux modérateur·rices.")
        f = ThreadFilter.of(kind=kind, territory=territory, nearby=nearby, theme=theme, anchor=anchor, text=text)
        out = []
        for th in st.threads.values():
            if not rules.can_read(v, th.audience, th.author):
                continue
            if not moderation and not visible(th.posts[0], v):
                continue
            if not f.thread(th, v):
                continue
            if moderation and not any(p.flags or p.hidden or p.status == "held" for p in th.posts):
                continue
            out.append(summary(th, v))
        out.sort(key=lambda t: t.last_activity, reverse=True)
        return out

    def thread(self, thread_id: str, viewer: str | None = None) -> Thread:
        """A thread with the posts ``viewer`` may see (hidden posts keep their place, without body)."""
        v = self._viewer(viewer)
        th = self._thread(thread_id, v)
        shown = []
        for p in th.posts:
            if visible(p, v):
                shown.append(p)
            elif p.hidden and not (v and (v.moderator or v.id == p.author)):
                shown.append(Post(**{**p.to_dict(), "body": "", "title": p.title, "details": {}}))
        out = summary(th, v)
        out.posts = shown
        return out

    def search(
        self,
        viewer: str | None = None,
        *,
        kinds: Iterable[str] = ("solution", "rex"),
        territory: str | None = None,
        nearby: bool = False,
        theme: str | None = None,
        text: str | None = None,
    ) -> list[Post]:
        """Posts of the given kinds (solutions and REX by default), filtered by theme, territory and text.

        Replies of kind ``rex``/``solution`` inherit the themes of their thread.
        """
        st = self._load()
        v = self._viewer(viewer)
        f = ThreadFilter.of(kind=list(kinds), territory=territory, nearby=nearby, theme=theme, text=text)
        out = []
        for th in st.threads.values():
            if not rules.can_read(v, th.audience, th.author) or not visible(th.posts[0], v):
                continue
            if not f.thread(th, v, with_kind=False):
                continue
            for p in th.posts:
                if visible(p, v) and f.post(p, th):
                    out.append(Post(**{**p.to_dict(), "title": p.title or th.title, "themes": th.themes}))
        out.sort(key=lambda p: p.created, reverse=True)
        return out

    def notebook_threads(self, notebook: str | os.PathLike, viewer: str | None = None) -> list[Thread]:
        """Threads anchored to a notebook (path absolute or relative to the knowledge base)."""
        return self.threads(viewer, anchor="notebook:" + self.notebook_key(notebook))

    def notebook_key(self, notebook: str | os.PathLike) -> str:
        """The notebook's path relative to the knowledge base, validated."""
        p = Path(notebook)
        if p.is_absolute():
            try:
                p = p.resolve().relative_to(self.root)
            except ValueError:
                raise InvalidInputError(
                    f"Le notebook {notebook} n'est pas dans la base de connaissances {self.root}."
                ) from None
        return model.notebook_path(p.as_posix())

    def notebook_author(self, notebook: str | os.PathLike) -> str | None:
        """Member id of a notebook's author: notebook metadata ``planeco.author``, else the
        e-mail of the last commit that changed it matched against the registry."""
        key = self.notebook_key(notebook)
        members = self._partial().members
        try:
            meta = json.loads((self.root / key).read_text("utf-8")).get("metadata", {})
            author = (meta.get("planeco") or {}).get("author")
            if author and author in members:
                return author
        except (OSError, ValueError, AttributeError):
            pass
        from dulwich.repo import Repo

        emails = {identity.member_email(m): m.id for m in members.values()}
        with Repo(str(self.root)) as repo:
            for entry in repo.get_walker(paths=[key.encode()], max_entries=1):
                mail = entry.commit.author.split(b"<")[-1].rstrip(b">").decode().lower()
                return emails.get(mail)
        return None

    def ask_notebook_author(self, author: str, notebook: str | os.PathLike, *, title: str, body: str, **kw: Any) -> Post:
        """Ask a question to the author of a notebook (a ``question`` thread in its sidecar folder)."""
        key = self.notebook_key(notebook)
        target = self.notebook_author(key)
        to = list(kw.pop("addressed_to", ())) or ([target] if target else [])
        return self.start_thread(author, kind="question", title=title, body=body, anchor=f"notebook:{key}", addressed_to=to, **kw)

    def check(self) -> list[str]:
        """Problems a moderator should look at (French, one per line); empty when all is well.

        See :func:`planeco_kernel.knowledge.health.check`: illegitimate changes (each commit and
        file), unreadable or invalid records, a stale git index, symbolic links in the post tree,
        ``git fsck`` errors.
        """
        from planeco_kernel.knowledge.health import check

        return check(self.root)

    # ------------------------------------------------------------------ internals
    def _thread(self, thread_id: str, viewer: Member | None) -> Thread:
        th = self._load().threads.get(model.thread_id(thread_id))
        if th is None or not rules.can_read(viewer, th.audience, th.author):
            raise NotFoundError(f"Fil inconnu : « {thread_id} ». Listez les fils avec `planeco kb list`.")
        return th

    def _post(self, post_id: str) -> Post:
        p = self._load().posts.get(model.record_id(post_id))
        if p is None:
            raise NotFoundError(f"Message inconnu : « {post_id} ». Affichez le fil avec `planeco kb show` pour voir les identifiants.")
        return p

    def _check_notebook(self, key: str) -> None:
        full = (self.root / key).resolve()
        try:
            full.relative_to(self.root)
        except ValueError:
            raise InvalidInputError(f"Le notebook « {key} » sort de la base de connaissances (lien symbolique ?).") from None
        if not full.is_file():
            raise InvalidInputError(f"Le notebook « {key} » n'existe pas dans la base de connaissances {self.root}.")

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
        new = commit_files(self.root, files, author=who.git_identity(), message=message, allow_overwrite=overwrite,
                           committer=by.git_identity() if by else None).decode()  # fmt: skip
        self.pending_index = gitstore.pending
        recs = {p: r for p, d in files.items() if (r := cache.parse_record(p, d)) is not None and cache.is_record_path(p)}
        cache.append(self.root, old, new, recs)
        integrity.advance(self.root, old, new, {**recs, **{p: {} for p in files if p.startswith(integrity.DOCUMENTS)}}, who.id)
        if self._raw is not None and self._raw[0] == old:
            self._raw[1].update(recs)
            self._raw = (new, self._raw[1])
        return new

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


# ---------------------------------------------------------------------- helpers
def _member_in(st: State, member_id: str) -> Member:
    m = st.members.get(model.member_id(member_id))
    if m is None:
        raise NotFoundError(
            f"Membre inconnu : « {member_id} ». Un·e modérateur·rice peut l'ajouter avec `planeco kb members add`."
        )
    return m


def _set_git_identity(repo, m: Member) -> None:
    cfg = repo.get_config()
    cfg.set((b"user",), b"email", identity.member_email(m).encode())
    cfg.set((b"user",), b"name", m.git_identity().split(b" <")[0])
    cfg.write_to_path()


def _initial_commit(root: Path, files: dict[str, bytes], admin: Member) -> None:
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
