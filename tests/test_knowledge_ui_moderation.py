"""Échanges as each signed-in member: members screen (moderators), post actions, recipients, public read-only.

Members are INVENTED TEST DATA. The session identity is the hub user (``JUPYTERHUB_USER``), as
behind JupyterHub.
"""

from __future__ import annotations

import subprocess

import pytest

from planeco_kernel import serve
from planeco_kernel.knowledge import KnowledgeBase, Member
from planeco_kernel.knowledge.ui import EchangesApp


@pytest.fixture()
def kb(tmp_path):
    kb = KnowledgeBase.init(tmp_path / "kb", Member("modo", "Modo Essai", "agent", territory="69123", hub_user="modo"))
    kb.add_member(Member("claire", "Claire Essai", "elu", territory="69123", hub_user="claire"), actor="modo")
    kb.add_member(Member("acme", "ACME Essai", "entreprise", territory="69266", hub_user="acme"), actor="modo")
    kb.add_member(Member("betaco", "BetaCo Essai", "entreprise", territory="69266"), actor="modo")
    kb.start_thread("claire", kind="question", title="Covoiturage ? (essai)", anchor="territory:69123", body="Qui a un REX ?")
    return kb


def as_hub_user(monkeypatch, name: str, mode: str = "hub") -> None:
    monkeypatch.setenv("JUPYTERHUB_USER", name)
    monkeypatch.setenv("PLANECO_SERVE_MODE", mode)
    serve.serving_context.cache_clear()


@pytest.fixture(autouse=True)
def _fresh_context():
    serve.serving_context.cache_clear()
    yield
    serve.serving_context.cache_clear()


def _open_first_thread(app: EchangesApp):
    app.open_thread(app.search()[0].id)
    return app.view


def test_only_moderators_get_the_members_screen(kb, monkeypatch):
    as_hub_user(monkeypatch, "claire")
    assert not hasattr(EchangesApp(kb.root), "admin")
    as_hub_user(monkeypatch, "modo")
    app = EchangesApp(kb.root)
    assert app.tabs.get_title(len(app.tabs.children) - 1) == "Membres"
    assert 'data-member-id="acme"' in app.admin.table.value


def test_a_moderator_registers_a_member_from_the_members_screen(kb, monkeypatch):
    as_hub_user(monkeypatch, "modo")
    admin = EchangesApp(kb.root).admin
    f = admin.fields
    f["id"].value, f["name"].value, f["role"].value, f["hub_user"].value = "paul", "Paul Essai", "association", "paul.hub"
    saved = admin.submit()
    assert saved is not None and saved.hub_user == "paul.hub"
    assert KnowledgeBase(kb.root).member("paul").role == "association"
    log = subprocess.run(["git", "log", "-1", "--format=%an"], cwd=kb.root, capture_output=True, text=True, check=True)
    assert log.stdout.strip() == "Modo Essai"


def test_a_non_moderator_has_no_hide_control_and_the_library_refuses_it(kb, monkeypatch):
    as_hub_user(monkeypatch, "claire")
    app = EchangesApp(kb.root)
    actions = _open_first_thread(app).actions
    assert not hasattr(actions, "hide")
    from planeco_kernel.knowledge import PermissionDeniedError

    with pytest.raises(PermissionDeniedError, match="modérat"):
        app.kb.hide("claire", actions.post.value, "essai")


def test_flag_edit_and_hide_as_the_signed_in_member(kb, monkeypatch):
    as_hub_user(monkeypatch, "claire")
    app = EchangesApp(kb.root)
    actions = _open_first_thread(app).actions
    actions.text.value = "Texte corrigé (essai)."
    assert actions.act("edit") is not None and "Message modifié" in app.status.value
    actions.text.value = "à vérifier"
    assert actions.act("flag") is not None
    as_hub_user(monkeypatch, "modo")
    app = EchangesApp(kb.root)
    actions = _open_first_thread(app).actions
    actions.text.value = "hors sujet (essai)"
    assert actions.act("hide") is not None and "Message masqué" in app.status.value


def test_a_company_addressing_another_company_is_refused_with_the_rule(kb, monkeypatch):
    as_hub_user(monkeypatch, "acme")
    app = EchangesApp(kb.root)
    form = app.form
    assert form.to.value == "elu, agent"
    form.title.value, form.body.value, form.to.value = "Partenariat ? (essai)", "Bonjour (essai).", "betaco"
    assert form.submit() is None
    assert "pas de sollicitation entre entreprises" in app.status.value


def test_an_unknown_hub_user_reads_and_is_told_to_ask_a_moderator(kb, monkeypatch):
    as_hub_user(monkeypatch, "inconnu")
    app = EchangesApp(kb.root)
    assert app.member is None
    assert "demandez à un·e modérateur·rice de vous inscrire" in app.identity.value.lower()
    assert app.search() and app.form.send.disabled


def test_public_mode_never_writes_under_the_servers_identity(kb, monkeypatch):
    as_hub_user(monkeypatch, "modo", mode="public")   # even with an identity in the environment
    app = EchangesApp(kb.root)
    assert app.member is None and "Lecture seule" in app.identity.value and "connectez-vous" in app.identity.value
    assert app.form.send.disabled and app.search()
