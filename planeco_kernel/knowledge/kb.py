"""The knowledge base: a git repository of append-only posts.

Layout of the working tree (every file is one record, never rewritten)::

    planeco-kb.yaml                          marker (format version, name)
    members/<member>/e-<time>-<rand>.md      member registry entries (latest wins)
    <dir>/<notebook>.threads/<thread>/…      threads about a notebook (sidecar folder)
    discussions/<type>/<key>/<thread>/…      threads anchored to an app, territory, indicator,
                                             COP lever or action
    …/<thread>/p-<time>-<rand>.md            a post (YAML front matter + Markdown body)
    …/<thread>/e-<time>-<rand>.md            a moderation or edit event

Each record is a commit whose author and committer are the member who wrote it. Only what a
member posts is stored: reading, listing and searching write nothing to the repository (the
listing cache lives in ``.git/planeco-kb`` and is derived from the posts).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from planeco_kernel.knowledge import cache, frontmatter, model, rules
from planeco_kernel.knowledge.errors import (
    InvalidInputError,
    KBNotFoundError,
    KnowledgeError,
    NotFoundError,
    PermissionDeniedError,
)
from planeco_kernel.knowledge.gitstore import commit_files, head_sha, locked
from planeco_kernel.knowledge.location import MARKER, default_kb_dir, find_root
from planeco_kernel.knowledge.model import Member, Post, Thread

MEMBER_FIELDS = ("id", "name", "role", "territory", "organisation", "email", "moderator", "hub_user", "active")
DETAIL_FIELDS = {
    "solution": {"results", "cost_eur", "partners", "year"},
    "rex": {"results", "cost_eur", "partners", "year"},
    "recommendation": {"company", "siren", "service"},
}


@dataclass
class _State:
    head: str
    members: dict[str, Member]
    posts: dict[str, Post]
    threads: dict[str, Thread]


class KnowledgeBase:
    """A knowledge base rooted at a git working tree.

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
        self._state: _State | None = None
        self._raw: tuple[str, dict[str, dict[str, Any]]] | None = None

    # ------------------------------------------------------------------ creation
    @classmethod
    def init(cls, path: str | os.PathLike | None, admin: Member, *, name: str = "") -> KnowledgeBase:
        """Create a knowledge base at ``path`` (a new folder or an existing git working tree).

        The first member, ``admin``, is a moderator. Nothing else in an existing repository is
        touched: the marker and the member entry are added by one commit.
        """
        from dulwich.repo import Repo

        root = Path(path).expanduser().resolve() if path is not None else default_kb_dir()
        if (root / MARKER).exists():
            raise KnowledgeError(f"{root} est déjà une base de connaissances : utilisez-la directement.")
        admin = _validated_member({**admin.to_dict(), "moderator": True, "active": True})
        name = model.text(name or root.name, "Nom de la base", model.MAX_NAME_CHARS)
        created = model.now_utc()
        files = {
            MARKER: f"format: 1\nname: {json.dumps(name, ensure_ascii=False)}\ncreated: {json.dumps(created)}\n".encode(),
            _member_path(admin.id, created): _member_record(admin, created, by=admin.id),
        }
        if (root / ".git").is_dir():
            repo = Repo(str(root))
        else:
            root.mkdir(parents=True, exist_ok=True)
            repo = Repo.init(str(root))
            repo.refs.set_symbolic_ref(b"HEAD", b"refs/heads/main")
        with repo:
            cfg = repo.get_config()
            cfg.set((b"planeco",), b"member", admin.id.encode())
            cfg.write_to_path()
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
        """Make a local copy of a knowledge base from ``remote`` (path or URL) at ``path``."""
        from planeco_kernel.knowledge.sync import clone

        clone(remote, Path(path).expanduser().resolve())
        return cls(path)

    # ------------------------------------------------------------------ state
    def _records(self, head: str) -> dict[str, dict[str, Any]]:
        if self._raw is None or self._raw[0] != head:
            records = cache.load(self.root)
            self._raw = (head, records)
        return self._raw[1]

    def _load(self) -> _State:
        head = head_sha(self.root).decode()
        if self._state is not None and self._state.head == head:
            return self._state
        self._state = _assemble(head, self._records(head))
        return self._state

    def _partial(self, thread_id: str | None = None) -> _State:
        """State restricted to members (and one thread): what a post needs, much cheaper than :meth:`_load`."""
        head = head_sha(self.root).decode()
        if self._state is not None and self._state.head == head:
            return self._state
        records = self._records(head)
        marker = f"/{thread_id}/" if thread_id else None
        wanted = {p: r for p, r in records.items() if p.startswith("members/") or (marker and marker in p)}
        return _assemble(head, wanted)

    def refresh(self) -> None:
        """Forget the in-memory state (it is also refreshed whenever ``HEAD`` moves)."""
        self._state = None
        self._raw = None

    # ------------------------------------------------------------------ members
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
        """The member acting in this session.

        ``JUPYTERHUB_USER`` (behind JupyterHub: matched against ``hub_user`` then the id) wins;
        otherwise ``PLANECO_KB_USER``, otherwise the repository setting ``planeco.member``.
        """
        hub = os.environ.get("JUPYTERHUB_USER")
        if hub:
            for m in self._partial().members.values():
                if m.hub_user == hub:
                    return m
            try:
                return self.member(hub.lower())
            except (NotFoundError, InvalidInputError):
                raise NotFoundError(
                    f"L'utilisateur JupyterHub « {hub} » n'est pas membre de la base de connaissances. "
                    "Demandez à un·e modérateur·rice de vous inscrire (champ hub_user)."
                ) from None
        local = os.environ.get("PLANECO_KB_USER") or self._configured_member()
        if not local:
            raise NotFoundError(
                "Identité inconnue : définissez PLANECO_KB_USER=identifiant, ou `planeco kb whoami --set identifiant`."
            )
        return self.member(local)

    def _configured_member(self) -> str:
        from dulwich.config import ConfigFile

        try:
            cfg = ConfigFile.from_path(str(self.root / ".git" / "config"))
            return cfg.get((b"planeco",), b"member").decode()
        except (KeyError, OSError):
            return ""

    def set_identity(self, member_id: str) -> Member:
        """Store the local identity (repository setting ``planeco.member``)."""
        from dulwich.config import ConfigFile

        m = self.member(member_id)
        path = str(self.root / ".git" / "config")
        cfg = ConfigFile.from_path(path)
        cfg.set((b"planeco",), b"member", m.id.encode())
        cfg.write_to_path(path)
        return m

    def add_member(self, member: Member, *, actor: str) -> Member:
        """Add or update a member (moderators only); recorded as a commit by the moderator."""
        mod = self.member(actor)
        rules.require_moderator(mod, "modifier le registre des membres")
        member = _validated_member(member.to_dict())
        created = model.now_utc()
        path = _member_path(member.id, created)
        self._write(mod, path, _member_record(member, created, by=mod.id),
                    f"members: {member.id} ({member.role}) par {mod.id}\n\nPlaneco-Member: {mod.id}\n")  # fmt: skip
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
        audience
            ``open`` (companies may answer), ``no_companies`` or ``public_sector``.
        addressed_to
            Roles or member ids the thread addresses (required for companies).
        details
            For solutions and REX: ``results``, ``cost_eur``, ``partners``, ``year``; for
            recommendations: ``company``, ``siren``, ``service``.

        Raises
        ------
        InvalidInputError, NeutralityError, PermissionDeniedError
        """
        st = self._partial()
        who = _member_in(st, author)
        model.choice(kind, model.THREAD_KINDS, "Type de fil")
        model.choice(audience, model.AUDIENCES, "Audience")
        title = model.text(title, "Le titre", model.MAX_TITLE_CHARS)
        body = model.text(body, "Le message", model.MAX_BODY_CHARS, multiline=True)
        a_kind, a_key = model.anchor(anchor)
        if a_kind == "notebook":
            self._check_notebook(a_key)
        territory = self._territory(territory, who, a_kind, a_key)
        tags = model.themes(themes)
        details = _details(kind, details)
        targets = rules.check_start(who, kind, audience, [str(t) for t in addressed_to], st.members)
        hold = rules.check_solicitation(who, "\n".join([title, body, *map(str, _flatten(details))]))
        created = model.now_utc()
        tid = model.new_thread_id(created)
        pid = model.new_record_id(created, "p")
        meta = {
            "id": pid, "thread": tid, "author": who.id, "role": who.role, "territory": territory,
            "created": created, "reply_to": None, "kind": kind, "audience": audience, "title": title,
            "anchor": f"{a_kind}:{a_key}", "themes": tags, "addressed_to": targets,
            "status": "held" if hold else "published", "held_reason": hold, "details": details,
        }  # fmt: skip
        path = f"{model.anchor_dir(a_kind, a_key)}/{tid}/{pid}.md"
        self._commit(who, path, meta, body, f"{kind}: {title}")
        return _post(meta, body, path)

    def reply(
        self,
        author: str,
        thread: str,
        body: str,
        *,
        reply_to: str | None = None,
        kind: str = "reply",
        details: dict[str, Any] | None = None,
    ) -> Post:
        """Reply in a thread (to its first post, or to ``reply_to``); return the stored post.

        Raises
        ------
        NotFoundError, InvalidInputError, NeutralityError, PermissionDeniedError
        """
        st = self._partial(model.thread_id(thread))
        who = _member_in(st, author)
        th = st.threads.get(thread)
        if th is None or not rules.can_read(who, th.audience, th.author):
            raise NotFoundError(f"Fil inconnu : « {thread} ». Listez les fils avec `planeco kb list`.")
        model.choice(kind, model.REPLY_KINDS, "Type de réponse")
        body = model.text(body, "Le message", model.MAX_BODY_CHARS, multiline=True)
        first = th.posts[0]
        target = first
        if reply_to is not None:
            target = st.posts.get(model.record_id(reply_to))
            if target is None or target.thread != th.id:
                raise NotFoundError(f"Le message « {reply_to} » n'existe pas dans le fil {th.id}.")
        rules.check_reply(who, audience=th.audience, thread_author=th.author, target_author=target.author, members=st.members)
        details = _details(kind, details)
        hold = rules.check_solicitation(who, "\n".join([body, *map(str, _flatten(details))]))
        created = model.now_utc()
        pid = model.new_record_id(created, "p")
        meta = {
            "id": pid, "thread": th.id, "author": who.id, "role": who.role, "territory": who.territory,
            "created": created, "reply_to": target.id, "kind": kind, "audience": th.audience,
            "status": "held" if hold else "published", "held_reason": hold, "details": details,
        }  # fmt: skip
        path = f"{th.dir}/{pid}.md"
        self._commit(who, path, meta, body, f"{kind}: réponse dans « {th.title} »")
        return _post(meta, body, path)

    def edit(self, author: str, post_id: str, body: str) -> str:
        """Edit a post (its author or a moderator): a new ``edit`` event; the original stays in history."""
        st = self._load()
        who = self.member(author)
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
        del st
        return self._event(who, post, "edit", reason="", body=body)

    def flag(self, actor: str, post_id: str, reason: str) -> str:
        """Flag a post for moderators (any active member); return the event id."""
        who = self.member(actor)
        rules.require_active(who)
        return self._event(who, self._post(post_id), "flag", reason=reason)

    def hide(self, actor: str, post_id: str, reason: str) -> str:
        """Hide a post (moderators; reason required); return the event id."""
        who = self.member(actor)
        rules.require_moderator(who, "masquer un message")
        return self._event(who, self._post(post_id), "hide", reason=reason)

    def restore(self, actor: str, post_id: str, reason: str) -> str:
        """Restore a hidden post or publish a held one (moderators; reason required)."""
        who = self.member(actor)
        rules.require_moderator(who, "rétablir un message")
        return self._event(who, self._post(post_id), "restore", reason=reason)

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
        v = self.member(viewer) if viewer else None
        match_territory = _territory_filter(territory, nearby)
        theme_l = theme.strip().lower() if theme else None
        needle = text.strip().lower() if text else None
        if moderation and not (v and v.moderator):
            raise PermissionDeniedError("La file de modération est réservée aux modérateur·rices.")
        out = []
        for th in st.threads.values():
            if not rules.can_read(v, th.audience, th.author):
                continue
            if not moderation and not _visible(th.posts[0], v):
                continue
            if kind and th.kind != kind:
                continue
            if anchor and th.anchor != anchor:
                continue
            if match_territory and not match_territory(th.territory):
                continue
            if theme_l and theme_l not in th.themes:
                continue
            if needle and needle not in th.title.lower() and not any(
                needle in p.body.lower() for p in th.posts if _visible(p, v)
            ):
                continue
            if moderation and not any(p.flags or p.hidden or p.status == "held" for p in th.posts):
                continue
            out.append(_summary(th, v))
        out.sort(key=lambda t: t.last_activity, reverse=True)
        return out

    def thread(self, thread_id: str, viewer: str | None = None) -> Thread:
        """A thread with the posts ``viewer`` may see (hidden posts keep their place, without body)."""
        v = self.member(viewer) if viewer else None
        th = self._thread(thread_id, v)
        shown = []
        for p in th.posts:
            if _visible(p, v):
                shown.append(p)
            elif p.hidden and not (v and (v.moderator or v.id == p.author)):
                shown.append(Post(**{**p.to_dict(), "body": "", "title": p.title, "details": {}}))
        out = _summary(th, v)
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
        v = self.member(viewer) if viewer else None
        wanted = set(kinds)
        for k in wanted:
            model.choice(k, {**model.THREAD_KINDS, **model.REPLY_KINDS}, "Type de message")
        match_territory = _territory_filter(territory, nearby)
        theme_l = theme.strip().lower() if theme else None
        needle = text.strip().lower() if text else None
        out = []
        for th in st.threads.values():
            if not rules.can_read(v, th.audience, th.author) or not _visible(th.posts[0], v):
                continue
            if theme_l and theme_l not in th.themes:
                continue
            for p in th.posts:
                if p.kind not in wanted or not _visible(p, v):
                    continue
                if match_territory and not match_territory(p.territory or th.territory):
                    continue
                if needle and needle not in (p.body + " " + th.title).lower():
                    continue
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
        import json

        key = self.notebook_key(notebook)
        try:
            meta = json.loads((self.root / key).read_text("utf-8")).get("metadata", {})
            author = (meta.get("planeco") or {}).get("author")
            if author and author in self._partial().members:
                return author
        except (OSError, ValueError, AttributeError):
            pass
        from dulwich.repo import Repo

        emails = {m.email.lower(): m.id for m in self._partial().members.values() if m.email}
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

        Unreadable record files, posts by unknown members, member entries and moderation events
        that break the rules (made outside the library, hence ignored), and ``git fsck`` errors.
        """
        import shutil
        import subprocess

        head = head_sha(self.root).decode()
        problems: list[str] = []
        records: dict[str, dict[str, Any]] = {}
        for path, data in cache.walk(self.root, head):
            rec = cache.parse_record(path, data)
            if rec is None:
                problems.append(f"{path} : fichier illisible (en-tête YAML invalide), ignoré.")
            else:
                records[path] = rec
        st = _assemble(head, records)
        for path, r in records.items():
            if path.startswith("members/"):
                if r.get("id") not in st.members or st.members[r["id"]] != Member(**{k: r[k] for k in MEMBER_FIELDS if k in r}):
                    by = r.get("by", "?")
                    if not (st.members.get(by) and st.members[by].moderator):
                        problems.append(f"{path} : fiche de membre écrite par « {by} », qui n'est pas modérateur·rice ; ignorée.")
                continue
            author = r.get("author", "")
            if author not in st.members:
                problems.append(f"{path} : auteur·rice inconnu·e « {author} ».")
            elif r.get("kind") in ("hide", "restore") and not st.members[author].moderator:
                problems.append(f"{path} : {r['kind']} par « {author} », qui n'est pas modérateur·rice ; ignoré.")
        git = shutil.which("git")
        if git:
            r = subprocess.run([git, "fsck", "--no-dangling"], cwd=self.root, capture_output=True, text=True)
            if r.returncode != 0:
                problems.append("git fsck : " + (r.stderr or r.stdout).strip()[:500])
        return problems

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

    @staticmethod
    def _territory(territory: str | None, who: Member, a_kind: str, a_key: str) -> str:
        if territory:
            return model.key(territory.strip().upper() if len(territory.strip()) <= 5 else territory.strip(), "Code de territoire")
        if a_kind == "territory":
            return a_key
        return who.territory

    def _commit(self, who: Member, path: str, meta: dict[str, Any], body: str, summary: str) -> None:
        data = frontmatter.dump(meta, body)
        if len(data) > model.MAX_FILE_BYTES:
            raise InvalidInputError("Le message est trop volumineux une fois enregistré : raccourcissez-le.")
        summary = " ".join(summary.split())[:120]
        self._write(who, path, data, f"{summary}\n\nPlaneco-Member: {who.id}\nPlaneco-Record: {path}\n")

    def _write(self, who: Member, path: str, data: bytes, message: str) -> None:
        """Commit one record under the writer lock and log it for the listing cache."""
        with locked(self.root):
            old = head_sha(self.root).decode()
            new = commit_files(self.root, {path: data}, author=who.git_identity(), message=message).decode()
            rec = cache.parse_record(path, data)
            cache.append(self.root, old, new, {path: rec} if rec else {})
        if self._raw is not None and self._raw[0] == old and rec is not None:
            self._raw[1][path] = rec
            self._raw = (new, self._raw[1])

    def _event(self, who: Member, post: Post, kind: str, *, reason: str, body: str = "") -> str:
        if kind != "edit":
            reason = model.text(reason, "La raison", model.MAX_REASON_CHARS)
        created = model.now_utc()
        eid = model.new_record_id(created, "e")
        meta = {
            "id": eid, "thread": post.thread, "author": who.id, "role": who.role, "created": created,
            "kind": kind, "target": post.id, "reason": reason,
        }  # fmt: skip
        path = f"{post.path.rsplit('/', 1)[0]}/{eid}.md"
        self._commit(who, path, meta, body, f"{kind}: {post.id} — {reason or 'modification'}")
        return eid


# ---------------------------------------------------------------------- helpers
def _member_in(st: _State, member_id: str) -> Member:
    m = st.members.get(model.member_id(member_id))
    if m is None:
        raise NotFoundError(
            f"Membre inconnu : « {member_id} ». Un·e modérateur·rice peut l'ajouter avec `planeco kb members add`."
        )
    return m


def _validated_member(d: dict[str, Any]) -> Member:
    role = model.choice(d.get("role"), model.ROLES, "Rôle")
    return Member(
        id=model.member_id(d.get("id")),
        name=model.text(d.get("name"), "Le nom", model.MAX_NAME_CHARS),
        role=role,
        territory=model.key(d["territory"], "Code de territoire") if d.get("territory") else "",
        organisation=model.text(d.get("organisation") or "", "L'organisation", model.MAX_NAME_CHARS, required=False),
        email=model.email(d["email"]) if d.get("email") else "",
        moderator=bool(d.get("moderator", False)),
        hub_user=model.text(d.get("hub_user") or "", "L'utilisateur JupyterHub", 100, required=False),
        active=bool(d.get("active", True)),
    )


def _member_path(member_id: str, created: str) -> str:
    return f"members/{member_id}/{model.new_record_id(created, 'e')}.md"


def _member_record(m: Member, created: str, *, by: str) -> bytes:
    return frontmatter.dump({"type": "member", **m.to_dict(), "created": created, "by": by}, "")


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


def _details(kind: str, details: dict[str, Any] | None) -> dict[str, Any]:
    if not details:
        return {}
    allowed = DETAIL_FIELDS.get(kind, set())
    extra = set(details) - allowed
    if extra:
        raise InvalidInputError(
            f"Champs non prévus pour « {kind} » : {', '.join(sorted(map(str, extra)))}. "
            f"Champs possibles : {', '.join(sorted(allowed)) or 'aucun'}."
        )
    out: dict[str, Any] = {}
    for k, v in details.items():
        if v in (None, "", []):
            continue
        if k == "cost_eur":
            try:
                v = float(str(v).replace("\u202f", "").replace(" ", "").replace(",", "."))
            except ValueError:
                raise InvalidInputError(f"Coût invalide : {str(v)[:30]!r}. Donnez un montant en euros, par exemple 120000.") from None
            if not 0 <= v < 1e12:
                raise InvalidInputError("Coût hors limites : donnez un montant positif en euros.")
        elif k == "year":
            if not str(v).isdigit() or not 1900 <= int(v) <= 2100:
                raise InvalidInputError(f"Année invalide : {str(v)[:10]!r}.")
            v = int(v)
        elif k == "partners":
            vals = v.split(",") if isinstance(v, str) else list(v)
            v = [model.text(x, "Partenaire", model.MAX_NAME_CHARS) for x in vals if str(x).strip()][:20]
        elif k == "siren":
            v = str(v).replace(" ", "")
            if not (v.isdigit() and len(v) == 9):
                raise InvalidInputError(f"SIREN invalide : {v[:12]!r} (9 chiffres attendus).")
        else:
            v = model.text(v, k.capitalize(), 2_000, multiline=True)
        out[k] = v
    return out


def _flatten(d: dict[str, Any]) -> list[Any]:
    out: list[Any] = []
    for v in d.values():
        out.extend(v if isinstance(v, list) else [v])
    return out


def _post(meta: dict[str, Any], body: str, path: str) -> Post:
    fields = {k: meta[k] for k in meta if k in Post.__dataclass_fields__}
    return Post(**{**fields, "body": body, "path": path, "themes": list(meta.get("themes") or []),
                   "addressed_to": list(meta.get("addressed_to") or []), "details": dict(meta.get("details") or {})})  # fmt: skip


def _visible(p: Post, v: Member | None) -> bool:
    if v is not None and v.moderator:
        return True
    if p.hidden:
        return False
    if p.status == "held":
        return v is not None and v.id == p.author
    return True


def _summary(th: Thread, v: Member | None) -> Thread:
    visible = [p for p in th.posts[1:] if _visible(p, v)]
    last = max([th.created, *(p.created for p in visible)])
    first = th.posts[0]
    return Thread(
        id=th.id, title=th.title, kind=th.kind, anchor=th.anchor, audience=th.audience, author=th.author,
        role=th.role, territory=th.territory, themes=th.themes, created=th.created, last_activity=last,
        replies=len(visible), dir=th.dir, hidden=first.hidden, status=first.status,
        flags=sum(p.flags for p in th.posts),
    )  # fmt: skip


def _territory_filter(territory: str | None, nearby: bool):
    if not territory:
        return None
    code = territory.strip()
    if nearby:
        from planeco_kernel.knowledge.nearby import matcher

        return matcher(code)
    return lambda other: other == code


def _assemble(head: str, records: dict[str, dict[str, Any]]) -> _State:
    """Build members, posts and threads from raw records, applying events in time order.

    Events that break the rules (hide/restore by a non-moderator, edits by someone else than the
    author or a moderator, e.g. written with git directly) are ignored here too.
    """
    member_recs = sorted(
        (r for p, r in records.items() if p.startswith("members/")), key=lambda r: (r.get("created", ""), r["path"])
    )
    members: dict[str, Member] = {}
    pending = member_recs
    while pending:  # an entry counts once its author is a known moderator (bootstrap: self-made first one)
        left = []
        for r in pending:
            try:
                m = Member(**{k: r[k] for k in MEMBER_FIELDS if k in r})
            except TypeError:
                continue
            by = members.get(r.get("by", ""))
            bootstrap = not members and r.get("by") == m.id and m.moderator
            if bootstrap or (by is not None and by.moderator and by.active):
                members[m.id] = m
            else:
                left.append(r)
        if len(left) == len(pending):
            break
        pending = left
    posts: dict[str, Post] = {}
    events = []
    for path, r in records.items():
        rid = str(r.get("id", ""))
        if rid.startswith("p-"):
            try:
                posts[rid] = _post(r, r.get("body", ""), path)
            except TypeError:
                continue
        elif rid.startswith("e-") and not path.startswith("members/"):
            events.append(r)
    events.sort(key=lambda r: (r.get("created", ""), r["id"]))
    for e in events:
        p = posts.get(e.get("target", ""))
        actor = members.get(e.get("author", ""))
        if p is None or actor is None:
            continue
        k = e.get("kind")
        if k == "flag":
            p.flags += 1
        elif k in ("hide", "restore") and actor.moderator:
            p.hidden = k == "hide"
            p.hidden_reason = e.get("reason", "") if k == "hide" else ""
            if k == "restore":
                p.status = "published"
        elif k == "edit" and (actor.id == p.author or actor.moderator):
            p.body = e.get("body", "")
            p.edited = e.get("created", "")
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
    return _State(head=head, members=members, posts=posts, threads=threads)
