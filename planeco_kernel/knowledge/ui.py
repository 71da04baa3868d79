"""Widgets of the knowledge base: the Voilà app « Échanges » and the notebook thread panel.

Thin views over :class:`~planeco_kernel.knowledge.kb.KnowledgeBase`: every rule lives in the
library. Identity comes from the server's authenticated user behind JupyterHub
(``JUPYTERHUB_USER``), else from the install's git/OS identity (:mod:`~planeco_kernel.knowledge.identity`);
without one, the views are read-only.

For browser tests, every interactive element carries a stable CSS class (``planeco-kb-…``,
listed in :data:`CSS_CLASSES`), and the HTML the views generate carries ``aria-label`` and
``data-*`` attributes (thread and post ids). User content is always rendered through the
sanitizer (:func:`~planeco_kernel.knowledge.render.markdown_to_html`); everything else is
rendered by the templates of ``apps/templates/knowledge/`` with the gallery's Jinja environment
(autoescape on), so every value — names, titles, dates, reasons, details — is escaped.
"""

from __future__ import annotations

import os
from typing import Any

import ipywidgets as w

from planeco_kernel.knowledge.errors import KnowledgeError, NotFoundError
from planeco_kernel.knowledge.kb import KnowledgeBase
from planeco_kernel.knowledge.model import (
    AUDIENCES,
    ROLES,
    THREAD_KINDS,
    Member,
    Post,
    Thread,
)
from planeco_kernel.knowledge.render import markdown_to_html

CSS_CLASSES = {
    "app": "planeco-kb-app",
    "notebook_panel": "planeco-kb-notebook-threads",
    "identity": "planeco-kb-identity",
    "status": "planeco-kb-status",
    "filter_territory": "planeco-kb-filter-territory",
    "filter_nearby": "planeco-kb-filter-nearby",
    "filter_theme": "planeco-kb-filter-theme",
    "filter_kind": "planeco-kb-filter-kind",
    "filter_text": "planeco-kb-filter-text",
    "search": "planeco-kb-search",
    "results": "planeco-kb-results",
    "thread_item": "planeco-kb-thread-item",
    "thread_view": "planeco-kb-thread-view",
    "reply_body": "planeco-kb-reply-body",
    "reply_kind": "planeco-kb-reply-kind",
    "reply_send": "planeco-kb-reply-send",
    "new_title": "planeco-kb-new-title",
    "new_body": "planeco-kb-new-body",
    "new_kind": "planeco-kb-new-kind",
    "new_anchor": "planeco-kb-new-anchor",
    "new_themes": "planeco-kb-new-themes",
    "new_audience": "planeco-kb-new-audience",
    "new_send": "planeco-kb-new-send",
    "new_to": "planeco-kb-new-to",
    "sign_in": "planeco-kb-sign-in",
    "nearby": "planeco-kb-nearby",
    "nearby_territory": "planeco-kb-nearby-territory",
    "nearby_search": "planeco-kb-nearby-search",
}
MAX_LISTED = 100

def _fragments():
    """The macros of ``apps/templates/knowledge/echanges.html`` (Jinja environment of the gallery, autoescape on)."""
    from planeco_kernel.apps.templates import environment

    return environment().get_template("knowledge/echanges.html").module


def _kind_options() -> list[tuple[str, str]]:
    return [(label, k) for k, label in THREAD_KINDS.items()]


def _fr_date(iso: str) -> str:
    """``2026-11-24T00:53:01.123Z`` → ``24/11/2026 01:53`` (Paris time); « date inconnue » if it is no date."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    try:
        dt = datetime.fromisoformat(str(iso).replace("Z", "+00:00")).astimezone(ZoneInfo("Europe/Paris"))
    except (ValueError, KeyError, TypeError):
        return "date inconnue"
    return dt.strftime("%d/%m/%Y %H:%M")


def _post_view(p: Post, members: dict[str, Member]) -> dict[str, Any]:
    from markupsafe import Markup

    m = members.get(p.author)
    by = members.get(p.acted_by) if p.acted_by else None
    cls = "planeco-kb-post" + (" planeco-kb-hidden" if p.hidden else "") + (" planeco-kb-held" if p.status == "held" else "")
    masked = p.hidden and not p.body
    return {
        "cls": cls, "id": p.id, "who": m.name if m else p.author, "role": ROLES.get(p.role, p.role),
        "when": _fr_date(p.created), "edited": bool(p.edited), "acted_by": (by.name if by else p.acted_by),
        "masked": masked, "hidden": p.hidden, "hidden_reason": p.hidden_reason, "held": p.status == "held",
        "held_reason": p.held_reason, "body": Markup(markdown_to_html(p.body)) if not masked else "",
        "details": [(k, ", ".join(map(str, v)) if isinstance(v, list) else str(v)) for k, v in p.details.items()],
    }  # fmt: skip


def post_html(p: Post, members: dict[str, Member]) -> str:
    """One post as HTML (sanitized body; every other value escaped by the template)."""
    return str(_fragments().post(_post_view(p, members)))


def thread_html(t: Thread, members: dict[str, Member]) -> str:
    """A whole thread as HTML (with the panel's stylesheet)."""
    view = {
        "id": t.id, "title": t.title, "kind": THREAD_KINDS.get(t.kind, t.kind), "territory": t.territory or "—",
        "themes": ", ".join(t.themes) or "—", "audience": AUDIENCES.get(t.audience, t.audience),
    }  # fmt: skip
    return str(_fragments().thread(view, [_post_view(p, members) for p in t.posts]))


class _Base(w.VBox):
    """Shared plumbing: knowledge base, identity, status line."""

    def __init__(self, kb: KnowledgeBase | str | os.PathLike | None, member: str | None, **kwargs: Any):
        super().__init__(**kwargs)
        self.kb = kb if isinstance(kb, KnowledgeBase) else KnowledgeBase(kb)
        self.status = w.HTML(value="")
        self.status.add_class(CSS_CLASSES["status"])
        from planeco_kernel.serve import serving_context

        ctx = serving_context()
        self.sign_in_hint = ctx.sign_in_hint() if ctx.read_only else ""
        try:
            if ctx.read_only and member is None:  # a public gallery never writes under the server's identity
                raise KnowledgeError(self.sign_in_hint)
            self.member: Member | None = self.kb.member(member) if member else self.kb.identity()
            ident = str(_fragments().identity(self.member.name, ROLES[self.member.role]))
        except (KnowledgeError, NotFoundError) as exc:
            self.member = None
            self.sign_in_hint = self.sign_in_hint or str(exc)
            ident = str(_fragments().read_only(str(exc)))
        self.identity = w.HTML(value=ident)
        self.identity.add_class(CSS_CLASSES["identity"])

    @property
    def viewer(self) -> str | None:
        return self.member.id if self.member else None

    def _members(self) -> dict[str, Member]:
        return {m.id: m for m in self.kb.members(include_inactive=True)}

    def _ok(self, msg: str) -> None:
        self.status.value = str(_fragments().ok(msg))

    def _error(self, exc: Exception) -> None:
        self.status.value = str(_fragments().error(str(exc)))

    def _guard(self, fn, *args: Any) -> Any:
        try:
            return fn(*args)
        except KnowledgeError as exc:
            self._error(exc)
            return None


def _cls(widget: w.Widget, key: str) -> w.Widget:
    widget.add_class(CSS_CLASSES[key])
    return widget


class _ThreadView(w.VBox):
    """A thread and its reply form."""

    def __init__(self, owner: _Base):
        super().__init__()
        self.owner = owner
        self.thread_id: str | None = None
        self.html = _cls(w.HTML(value=str(_fragments().paragraph("Choisissez un fil dans la liste."))), "thread_view")
        self.body = _cls(w.Textarea(placeholder="Votre réponse (Markdown)", description="Réponse", layout=w.Layout(width="100%", height="7em")), "reply_body")  # noqa: E501
        self.kind = _cls(w.Dropdown(options=[("Réponse", "reply"), ("Retour d'expérience (REX)", "rex"), ("Solution", "solution")], value="reply", description="Type"), "reply_kind")  # noqa: E501
        self.send = _cls(w.Button(description="Répondre", button_style="primary", disabled=owner.member is None, tooltip="Publier la réponse"), "reply_send")  # noqa: E501
        self.send.on_click(lambda _b: self.send_reply())
        self.form = w.VBox([self.body, w.HBox([self.kind, self.send])])
        self.form.layout.display = "none"
        self.read_only = _cls(w.HTML(value=str(_fragments().paragraph(owner.sign_in_hint))), "sign_in")
        self.read_only.layout.display = "none"
        from planeco_kernel.knowledge.ui_moderation import PostActions

        self.actions = PostActions(owner, lambda: self.show(self.thread_id))
        self.actions.layout.display = "none"
        self.children = [self.html, self.form, self.read_only, self.actions]

    def show(self, thread_id: str) -> None:
        t = self.owner._guard(self.owner.kb.thread, thread_id, self.owner.viewer)
        if t is None:
            return
        self.thread_id = t.id
        members = self.owner._members()
        self.html.value = thread_html(t, members)
        self.actions.show([(f"{members[p.author].name if p.author in members else p.author} — {_fr_date(p.created)}", p.id)
                           for p in t.posts])
        self.actions.layout.display = None if self.owner.member else "none"
        self.form.layout.display = None if self.owner.member else "none"
        self.read_only.layout.display = "none" if self.owner.member else None

    def send_reply(self) -> Post | None:
        if not self.thread_id or self.owner.member is None:
            return None
        p = self.owner._guard(lambda: self.owner.kb.reply(self.owner.member.id, self.thread_id, self.body.value, kind=self.kind.value))
        if p is not None:
            self.body.value = ""
            self.owner._ok(p.held_reason or "Réponse publiée.")
            self.show(self.thread_id)
        return p


class _NewThreadForm(w.VBox):
    """Form to open a thread; ``anchor`` fixed (notebook panel) or typed by the user (app)."""

    def __init__(self, owner: _Base, anchor: str | None, on_created, kinds: list[tuple[str, str]] | None = None,
                 addressed: list[str] | None = None):  # fmt: skip
        super().__init__()
        self.owner = owner
        self.addressed = addressed or []
        self.fixed_anchor = anchor
        self.on_created = on_created
        self.title = _cls(w.Text(description="Titre", placeholder="Sujet du fil", layout=w.Layout(width="100%")), "new_title")
        self.body = _cls(w.Textarea(description="Message", placeholder="Votre message (Markdown)", layout=w.Layout(width="100%", height="8em")), "new_body")  # noqa: E501
        self.kind = _cls(w.Dropdown(options=kinds or _kind_options(), description="Type"), "new_kind")
        default_anchor = f"territory:{owner.member.territory}" if owner.member and owner.member.territory else "app:echanges"
        self.anchor = _cls(w.Text(description="Ancrage", value=anchor or default_anchor, disabled=anchor is not None, tooltip="notebook:…, app:…, territory:CODE, indicator:…, lever:…, action:…"), "new_anchor")  # noqa: E501
        self.themes = _cls(w.Text(description="Thèmes", placeholder="mobilité, énergie"), "new_themes")
        self.audience = _cls(w.Dropdown(options=[(v, k) for k, v in AUDIENCES.items()], value="open", description="Audience"), "new_audience")  # noqa: E501
        commercial = owner.member is not None and owner.member.is_commercial
        self.to = _cls(w.Text(description="Destinataires", value=", ".join(["elu", "agent"] if commercial else self.addressed),
                              placeholder="rôles (elu, agent…) ou identifiants de membres, séparés par des virgules"), "new_to")
        self.send = _cls(w.Button(description="Publier", button_style="primary", disabled=owner.member is None), "new_send")
        self.send.on_click(lambda _b: self.submit())
        self.children = [self.title, self.body, self.kind, self.anchor, self.themes, self.audience, self.to, self.send]
        if owner.member is None:  # say how to write instead of a form that cannot be sent
            self.children = [_cls(w.HTML(value=str(_fragments().paragraph(owner.sign_in_hint))), "sign_in"), *self.children]

    def submit(self) -> Post | None:
        if self.owner.member is None:
            return None
        p = self.owner._guard(
            lambda: self.owner.kb.start_thread(
                self.owner.member.id, kind=self.kind.value, title=self.title.value, body=self.body.value,
                anchor=self.fixed_anchor or self.anchor.value.strip(), themes=self.themes.value, audience=self.audience.value,
                addressed_to=[t.strip() for t in self.to.value.split(",") if t.strip()],
            )  # fmt: skip
        )
        if p is not None:
            self.title.value = self.body.value = self.themes.value = ""
            self.owner._ok(p.held_reason or "Fil publié.")
            self.on_created(p)
        return p


class EchangesApp(_Base):
    """The Voilà app « Échanges »: browse and search threads, read, post, reply, nearby REX.

    Parameters
    ----------
    kb
        Knowledge base (object or folder); default ``PLANECO_KB``.
    member
        Acting member id; default from ``JUPYTERHUB_USER`` / local identity.
    """

    def __init__(self, kb: KnowledgeBase | str | os.PathLike | None = None, member: str | None = None):
        super().__init__(kb, member)
        self.add_class(CSS_CLASSES["app"])
        terr = self.member.territory if self.member else ""
        self.f_territory = _cls(w.Text(description="Territoire", placeholder="code INSEE ou SIREN", value=""), "filter_territory")
        self.f_nearby = _cls(w.Checkbox(description="et territoires proches", value=False, indent=False), "filter_nearby")
        self.f_theme = _cls(w.Text(description="Thème", placeholder="mobilité"), "filter_theme")
        self.f_kind = _cls(w.Dropdown(options=[("Tous", "")] + _kind_options(), description="Type"), "filter_kind")
        self.f_text = _cls(w.Text(description="Texte", placeholder="mots recherchés"), "filter_text")
        self.search_button = _cls(w.Button(description="Chercher", icon="search"), "search")
        self.search_button.on_click(lambda _b: self.search())
        self.results = _cls(w.VBox(), "results")
        self.view = _ThreadView(self)
        self.form = _NewThreadForm(self, None, lambda p: (self.search(), self.view.show(p.thread)))
        self.n_territory = _cls(w.Text(description="Territoire", value=terr, placeholder="code INSEE"), "nearby_territory")
        self.n_button = _cls(w.Button(description="Voir les solutions et REX"), "nearby_search")
        self.n_button.on_click(lambda _b: self.show_nearby())
        self.nearby = _cls(w.HTML(), "nearby")
        browse = w.VBox([
            w.HBox([self.f_territory, self.f_nearby]), w.HBox([self.f_theme, self.f_kind]),
            w.HBox([self.f_text, self.search_button]), self.results, self.view,
        ])  # fmt: skip
        nearby = w.VBox([w.HTML(str(_fragments().paragraph("Solutions et retours d'expérience de territoires proches ou similaires."))), w.HBox([self.n_territory, self.n_button]), self.nearby])  # noqa: E501
        tabs, titles = [browse, self.form, nearby], ["Fils", "Nouveau fil", "REX proches"]
        if self.member is not None and self.member.moderator:  # members and roles: moderators only
            from planeco_kernel.knowledge.ui_moderation import MembersAdmin

            self.admin = MembersAdmin(self)
            tabs.append(self.admin)
            titles.append("Membres")
        self.tabs = w.Tab(children=tabs)
        for i, title in enumerate(titles):
            self.tabs.set_title(i, title)
        self.children = [self.identity, self.status, self.tabs]
        self.search()
        if terr:
            self.show_nearby()

    def search(self) -> list[Thread]:
        """Fill the result list from the filters."""
        ts = self._guard(
            lambda: self.kb.threads(
                self.viewer, territory=self.f_territory.value.strip() or None, nearby=self.f_nearby.value,
                theme=self.f_theme.value.strip() or None, kind=self.f_kind.value or None, text=self.f_text.value.strip() or None,
            )  # fmt: skip
        )
        if ts is None:
            return []
        items = []
        for t in ts[:MAX_LISTED]:
            b = _cls(w.Button(description=t.title[:80], tooltip=t.title, layout=w.Layout(width="auto")), "thread_item")
            b.add_class(f"planeco-kb-thread-{t.id}")
            b.on_click(lambda _b, tid=t.id: self.open_thread(tid))
            meta = w.HTML(str(_fragments().listing_meta(THREAD_KINDS[t.kind], t.territory or "—", t.replies, _fr_date(t.last_activity))))
            items.append(w.HBox([b, meta]))
        if not items:
            items = [w.HTML(str(_fragments().paragraph("Aucun fil ne correspond.")))]
        elif len(ts) > MAX_LISTED:
            items.append(w.HTML(str(_fragments().paragraph(f"{len(ts) - MAX_LISTED} fils de plus : affinez la recherche."))))
        self.results.children = items
        return ts

    def open_thread(self, thread_id: str) -> None:
        """Show a thread (and its reply form)."""
        self.view.show(thread_id)

    def show_nearby(self) -> list[Post]:
        """Solutions and REX of territories nearby or similar to the chosen one."""
        from planeco_kernel.knowledge.nearby import related

        code = self.n_territory.value.strip()
        if not code:
            self.nearby.value = str(_fragments().paragraph("Indiquez un code de territoire."))
            return []
        posts = self._guard(lambda: self.kb.search(self.viewer, territory=code, nearby=True))
        if posts is None:
            return []
        method = related(code)[2]
        rows = [{"thread": p.thread, "title": p.title, "kind": THREAD_KINDS.get(p.kind, p.kind), "territory": p.territory or "—"}
                for p in posts[:MAX_LISTED]]  # fmt: skip
        self.nearby.value = str(_fragments().nearby(method, rows))
        return posts


class NotebookThreads(_Base):
    """The threads of one notebook, with forms to ask its author and to reply (JupyterLab)."""

    def __init__(self, notebook: str | os.PathLike, kb: KnowledgeBase | str | os.PathLike | None = None, member: str | None = None):
        from pathlib import Path

        if kb is None:
            from planeco_kernel.knowledge.location import find_root

            kb = find_root(Path(notebook).resolve().parent) or None
        super().__init__(kb, member)
        self.add_class(CSS_CLASSES["notebook_panel"])
        self.key = self.kb.notebook_key(Path(notebook).resolve() if Path(notebook).is_absolute() or Path(notebook).exists() else notebook)
        self.list = _cls(w.VBox(), "results")
        self.view = _ThreadView(self)
        author = self.kb.notebook_author(self.key)
        self.form = _NewThreadForm(self, f"notebook:{self.key}", lambda p: (self.refresh(), self.view.show(p.thread)),
                                   kinds=[(THREAD_KINDS[k], k) for k in ("question", "discussion", "rex", "solution")],
                                   addressed=[author] if author else None)  # fmt: skip
        ask = "Poser une question" + (f" à {self._members()[author].name}" if author else "")
        frag = _fragments()
        self.children = [
            w.HTML(str(frag.heading(3, f"Discussions sur {self.key}"))), self.identity, self.status, self.list, self.view,
            w.HTML(str(frag.heading(4, ask))), self.form,
        ]  # fmt: skip
        self.refresh()

    def refresh(self) -> list[Thread]:
        ts = self._guard(self.kb.notebook_threads, self.key, self.viewer) or []
        items = []
        for t in ts:
            b = _cls(w.Button(description=t.title[:80], tooltip=t.title, layout=w.Layout(width="auto")), "thread_item")
            b.on_click(lambda _b, tid=t.id: self.view.show(tid))
            items.append(w.HBox([b, w.HTML(str(_fragments().listing_meta(THREAD_KINDS[t.kind], t.territory or "—", t.replies, "")))]))
        self.list.children = items or [w.HTML(str(_fragments().paragraph("Pas encore de discussion sur ce notebook.")))]
        return ts

    def ask(self, title: str, body: str) -> Post | None:
        """Ask the notebook's author a question (programmatic form submit)."""
        self.form.kind.value = "question"
        self.form.title.value, self.form.body.value = title, body
        return self.form.submit()


def _code_spans(text: str) -> list[tuple[bool, str]]:
    """Split ``text`` into ``(is_code, part)`` pieces at its `backticks` (unbalanced: no code)."""
    parts = text.split("`")
    if len(parts) % 2 == 0:
        return [(False, text)]
    return [(bool(i % 2), p) for i, p in enumerate(parts) if p]


def show_app(kb: KnowledgeBase | str | os.PathLike | None = None, member: str | None = None) -> w.Widget:
    """The « Échanges » app, or a French explanation when there is no knowledge base yet.

    The app notebook calls this so that a visitor never sees a traceback: a missing knowledge
    base is a setup step, explained with the exact command to run.
    """
    from planeco_kernel.knowledge.errors import KBNotFoundError

    try:
        return EchangesApp(kb, member)
    except KBNotFoundError as exc:
        panel = w.HTML(str(_fragments().missing(_code_spans(str(exc)))))
        return _cls(panel, "app")
