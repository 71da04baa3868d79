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
Behind JupyterHub (``PLANECO_KB_SERVICE_URL`` set) the write methods go to the hub's
knowledge-base service (:mod:`~.remote`), which commits as the hub user owning the request's
token; reads stay local.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from planeco_kernel.knowledge import (
    cache,
    gitstore,
    identity,
    integrity,
    model,
    records,
    remote,
    rules,
)
from planeco_kernel.knowledge.documents import Documents
from planeco_kernel.knowledge.errors import (
    KBNotFoundError,
    KnowledgeError,
    NotFoundError,
    PermissionDeniedError,
)
from planeco_kernel.knowledge.filters import ThreadFilter
from planeco_kernel.knowledge.gitstore import commit_files, head_sha, locked
from planeco_kernel.knowledge.keys import Keys
from planeco_kernel.knowledge.location import MARKER, default_kb_dir, find_root
from planeco_kernel.knowledge.model import Member, Post, Thread
from planeco_kernel.knowledge.notebooks import Notebooks
from planeco_kernel.knowledge.state import (  # noqa: F401 - MEMBER_FIELDS re-exported
    MEMBER_FIELDS,
    State,
    assemble,
    summary,
    visible,
)
from planeco_kernel.knowledge.writing import Writer, initial_commit, set_git_identity

DETAIL_FIELDS = records.DETAIL_FIELDS


class KnowledgeBase(Writer, Documents, Notebooks, Keys):
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
        self._service = remote.client_from_environment()  # behind JupyterHub, writes go to the hub's service
        gitstore.repair_on_open(self.root)

    # ------------------------------------------------------------------ creation
    @classmethod
    def init(cls, path: str | os.PathLike | None, admin: Member, *, name: str = "") -> KnowledgeBase:
        """Create a knowledge base at ``path`` (a new folder or an existing git working tree).

        The first member, ``admin``, is a moderator. Nothing else in an existing repository is
        touched: the marker and the member entry are added by one commit. In a new repository
        (or one without a git identity) the admin's identity becomes the repository's git
        identity (``user.email``), which is how the local identity is found afterwards
        (:mod:`~.identity`); in an existing repository the admin's e-mail defaults to the
        configured one.
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
            if fresh or not identity.git_email(root):  # never change the identity a project repository already has
                set_git_identity(repo, admin)
            try:
                repo.refs[b"HEAD"]
                unborn = False
            except KeyError:
                unborn = True
        if unborn:
            initial_commit(root, files, admin)
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

        if self._service is not None:
            raise PermissionDeniedError("Derrière JupyterHub, vous êtes l'utilisateur·rice du hub : l'identité de cette copie "
                                        "ne se change pas (demandez à un·e modérateur·rice de corriger votre fiche de membre).")
        target = self.member(member_id)
        current = self.identity()
        if current.id != target.id:
            rules.require_moderator(current, "changer l'identité configurée de cette copie")
        with Repo(str(self.root)) as repo:
            set_git_identity(repo, target)
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

    @remote.through_service
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
    @remote.through_service
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

    @remote.through_service
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

    @remote.through_service
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

    @remote.through_service
    def flag(self, actor: str, post_id: str, reason: str, *, acted_by: str | None = None) -> str:
        """Flag a post for moderators (any active member); return the event id."""
        who, by = self._acting(actor, acted_by)
        rules.require_active(who)
        return self._event(who, self._post(post_id), "flag", reason=reason, by=by)

    @remote.through_service
    def hide(self, actor: str, post_id: str, reason: str, *, acted_by: str | None = None) -> str:
        """Hide a post (moderators; reason required); return the event id."""
        who, by = self._acting(actor, acted_by)
        rules.require_moderator(who, "masquer un message")
        return self._event(who, self._post(post_id), "hide", reason=reason, by=by)

    @remote.through_service
    def restore(self, actor: str, post_id: str, reason: str, *, acted_by: str | None = None) -> str:
        """Restore a hidden post or publish a held one (moderators; reason required)."""
        who, by = self._acting(actor, acted_by)
        rules.require_moderator(who, "rétablir un message")
        return self._event(who, self._post(post_id), "restore", reason=reason, by=by)

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

# ---------------------------------------------------------------------- helpers
def _member_in(st: State, member_id: str) -> Member:
    m = st.members.get(model.member_id(member_id))
    if m is None:
        raise NotFoundError(
            f"Membre inconnu : « {member_id} ». Un·e modérateur·rice peut l'ajouter avec `planeco kb members add`."
        )
    return m
