"""Posting and moderation in the knowledge base: threads, replies, edits, flags, hide and restore.

A mixin of :class:`~planeco_kernel.knowledge.kb.KnowledgeBase` (which gives ``_acting``, ``_load``,
``_post`` and the writer): each method checks the neutrality rules (:mod:`~.rules`), writes one record
and commits it as its author; behind JupyterHub the hub's knowledge-base service runs it
(:mod:`~.remote`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from planeco_kernel.knowledge import (
    model,
    records,
    remote,
    rules,
)
from planeco_kernel.knowledge.errors import (
    NotFoundError,
    PermissionDeniedError,
)
from planeco_kernel.knowledge.model import Post


class Posting:
    """Writing posts and moderation events (see the module docstring)."""

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
