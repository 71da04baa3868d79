"""Échanges widgets for acting on posts (flag, hide, restore, edit) and the members screen (moderators).

Thin views over :class:`~planeco_kernel.knowledge.kb.KnowledgeBase`, used by
:class:`~planeco_kernel.knowledge.ui.EchangesApp`: every action is the library's, called as the
signed-in member, so its rules decide (a non-moderator's hide is refused by the library as from
the command line; the controls only spare people buttons they may not use). The registry is
the same one ``planeco kb members`` edits; each change is a commit by the moderator.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as w

from planeco_kernel.knowledge.model import ROLES, Member

CSS = {
    "actions": "planeco-kb-actions",
    "action_post": "planeco-kb-action-post",
    "action_text": "planeco-kb-action-text",
    "flag": "planeco-kb-flag",
    "hide": "planeco-kb-hide",
    "restore": "planeco-kb-restore",
    "edit": "planeco-kb-edit",
    "admin": "planeco-kb-admin-members",
    "member_pick": "planeco-kb-member-pick",
    "member_save": "planeco-kb-member-save",
}


def _admin_fragments():
    from planeco_kernel.apps.templates import environment

    return environment().get_template("knowledge/admin.html").module


def _echanges_fragments():
    from planeco_kernel.apps.templates import environment

    return environment().get_template("knowledge/echanges.html").module


def _cls(widget: w.Widget, key: str) -> w.Widget:
    widget.add_class(CSS[key])
    return widget


class PostActions(w.VBox):
    """Flag, edit, and (moderators) hide or restore one post of the thread shown."""

    def __init__(self, owner: Any, refresh):
        super().__init__()
        self.owner, self.refresh = owner, refresh
        me = owner.member
        self.post = _cls(w.Dropdown(options=[], description="Message"), "action_post")
        self.text = _cls(w.Textarea(description="Motif", placeholder="Motif du signalement ou du masquage ; "
                                    "pour « Modifier », le nouveau texte", layout=w.Layout(width="100%", height="5em")),
                         "action_text")
        self.flag = _cls(w.Button(description="Signaler", tooltip="Signaler ce message aux modérateur·rices"), "flag")
        self.edit = _cls(w.Button(description="Modifier", tooltip="Remplacer le texte de votre message"), "edit")
        buttons = [self.flag, self.edit]
        self.flag.on_click(lambda _b: self.act("flag"))
        self.edit.on_click(lambda _b: self.act("edit"))
        if me is not None and me.moderator:
            self.hide = _cls(w.Button(description="Masquer", button_style="warning"), "hide")
            self.restore = _cls(w.Button(description="Rétablir"), "restore")
            self.hide.on_click(lambda _b: self.act("hide"))
            self.restore.on_click(lambda _b: self.act("restore"))
            buttons += [self.hide, self.restore]
        self.add_class(CSS["actions"])
        self.children = [w.HTML(str(_echanges_fragments().heading(4, "Agir sur un message"))), self.post, self.text,
                         w.HBox(buttons)]
        self.layout.display = "none" if me is None else None

    def show(self, options: list[tuple[str, str]]) -> None:
        """Offer the thread's posts, ``[(label, post id)]``; the last one is selected."""
        opts = list(options)
        self.post.options = opts
        if opts:
            self.post.value = opts[-1][1]

    def act(self, action: str) -> Any:
        me, kb = self.owner.member, self.owner.kb
        if me is None or not self.post.value:
            return None
        text = self.text.value
        calls = {"flag": kb.flag, "hide": kb.hide, "restore": kb.restore, "edit": kb.edit}
        done = {"flag": "Message signalé aux modérateur·rices.", "hide": "Message masqué.",
                "restore": "Message rétabli.", "edit": "Message modifié."}
        result = self.owner._guard(calls[action], me.id, self.post.value, text)
        if result is not None:
            self.text.value = ""
            self.owner._ok(done[action])
            self.refresh()
        return result


class MembersAdmin(w.VBox):
    """The members screen: who is registered with which role, and a form to add or change a member."""

    def __init__(self, owner: Any):
        super().__init__()
        self.owner = owner
        self.add_class(CSS["admin"])
        self.table = w.HTML()
        self.pick = _cls(w.Dropdown(options=[], description="Membre"), "member_pick")
        self.pick.observe(lambda ch: self._fill(ch["new"]), names="value")
        self.fields = {
            "id": w.Text(description="Identifiant", placeholder="marie.dupont"),
            "name": w.Text(description="Nom"),
            "role": w.Dropdown(options=[(v, k) for k, v in ROLES.items()], description="Rôle"),
            "territory": w.Text(description="Territoire", placeholder="code INSEE ou SIREN"),
            "organisation": w.Text(description="Organisation"),
            "email": w.Text(description="E-mail"),
            "hub_user": w.Text(description="Hub", placeholder="utilisateur JupyterHub"),
            "moderator": w.Checkbox(description="modérateur·rice", indent=False),
            "active": w.Checkbox(description="actif", value=True, indent=False),
        }
        for k, f in self.fields.items():
            f.add_class(f"planeco-kb-member-{k.replace('_', '-')}")
        self.save = _cls(w.Button(description="Enregistrer", button_style="primary"), "member_save")
        self.save.on_click(lambda _b: self.submit())
        note = _admin_fragments().note(
            "Réservé aux modérateur·rices. Chaque modification est un commit à votre nom ; "
            "la même chose se fait en ligne de commande avec `planeco kb members add`.")
        self.children = [w.HTML(str(note)), self.table, self.pick, *self.fields.values(), self.save]
        self.refresh()

    def refresh(self) -> None:
        members = self.owner.kb.members(include_inactive=True)
        rows = [{**m.to_dict(), "role": ROLES.get(m.role, m.role)} for m in members]
        self.table.value = str(_admin_fragments().members(rows))
        self.pick.options = [("— nouveau membre —", "")] + [(f"{m.name} ({m.id})", m.id) for m in members]

    def _fill(self, member_id: str) -> None:
        if not member_id:
            for k, f in self.fields.items():
                f.value = True if k == "active" else (False if k == "moderator" else ("elu" if k == "role" else ""))
            return
        m = self.owner.kb.member(member_id)
        for k, f in self.fields.items():
            f.value = getattr(m, k)

    def submit(self) -> Member | None:
        me = self.owner.member
        if me is None:
            return None
        values = {k: (f.value.strip() if isinstance(f.value, str) else f.value) for k, f in self.fields.items()}
        saved = self.owner._guard(lambda: self.owner.kb.add_member(Member(**values), actor=me.id))
        if saved is not None:
            self.owner._ok(f"Membre « {saved.id} » enregistré ({ROLES.get(saved.role, saved.role)}).")
            self.refresh()
        return saved
