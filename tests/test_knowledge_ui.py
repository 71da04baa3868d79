"""The « Échanges » widgets and the Voilà app notebook run headless (nbclient).

Members and posts are invented test data.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from planeco_kernel.knowledge import KnowledgeBase, Member, show_threads
from planeco_kernel.knowledge.ui import (
    CSS_CLASSES,
    EchangesApp,
    NotebookThreads,
    thread_html,
)

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _no_territory_model(tmp_path_factory, monkeypatch):
    """These tests exercise the fallback (same département): no data bundle is visible."""
    monkeypatch.setenv("PLANECO_DATA_DIR", str(tmp_path_factory.mktemp("no-bundle")))


@pytest.fixture()
def kb(tmp_path, monkeypatch) -> KnowledgeBase:
    monkeypatch.delenv("JUPYTERHUB_USER", raising=False)
    monkeypatch.delenv("PLANECO_KB_USER", raising=False)
    base = KnowledgeBase.init(tmp_path / "kb", Member(id="marie", name="Marie Test", role="elu", territory="69123"))
    base.add_member(Member(id="paul", name="Paul <b>Test</b>", role="agent", territory="69266", hub_user="paul.hub"), actor="marie")  # noqa: E501
    base.add_member(Member(id="acme", name="ACME Test", role="entreprise", territory="69001"), actor="marie")
    base.start_thread("paul", kind="solution", title="Chaufferie bois", body="Mise en service **2024**", anchor="territory:69266", themes=["énergie"])  # noqa: E501
    base.start_thread("marie", kind="rex_request", title="Covoiturage <script>", body="<img src=x onerror=alert(1)>", anchor="territory:69123", themes=["mobilité"])  # noqa: E501
    return base


def _classes(widget) -> set[str]:
    out = set(widget._dom_classes)
    for child in getattr(widget, "children", ()):
        out |= _classes(child)
    return out


def test_app_has_stable_classes(kb):
    app = EchangesApp(kb, member="marie")
    missing = set(CSS_CLASSES.values()) - {CSS_CLASSES["notebook_panel"]} - _classes(app)
    assert not missing


def test_app_browse_filter_open_and_reply(kb):
    app = EchangesApp(kb, member="marie")
    assert len(app.results.children) == 2
    app.f_theme.value = "énergie"
    app.search_button.click()
    assert len(app.results.children) == 1
    app.f_theme.value, app.f_territory.value, app.f_nearby.value = "", "69001", True
    assert {t.title for t in app.search()} == {"Chaufferie bois", "Covoiturage <script>"}
    button = next(b for b in app.results.children[0].children if "planeco-kb-thread-item" in b._dom_classes)
    button.click()
    assert "data-thread-id" in app.view.html.value
    app.view.body.value = "Nous avons un **REX**."
    app.view.send.click()
    assert "Réponse publiée" in app.status.value
    assert "<strong>REX</strong>" in app.view.html.value


def test_app_renders_hostile_content_safely(kb):
    app = EchangesApp(kb, member="marie")
    t = kb.threads("marie", kind="rex_request")[0]
    app.open_thread(t.id)
    html = app.view.html.value
    assert "<script" not in html and "<img" not in html and "Covoiturage &lt;script&gt;" in html
    members = {m.id: m for m in kb.members()}
    assert "Paul &lt;b&gt;Test&lt;/b&gt;" in thread_html(kb.thread(kb.threads("marie", kind="solution")[0].id, "marie"), members)


def test_app_new_thread_and_neutrality_message(kb):
    app = EchangesApp(kb, member="acme")
    app.form.title.value, app.form.body.value, app.form.kind.value = "Notre REX", "Contactez-nous pour une offre spéciale", "rex"
    app.form.send.click()
    assert "planeco-kb-error" in app.status.value and "démarchage" in app.status.value
    app.form.body.value = "Nous avons accompagné trois communes."
    assert app.form.submit() is not None and "Fil publié" in app.status.value


def test_app_identity_from_jupyterhub_and_read_only_fallback(kb, monkeypatch):
    monkeypatch.setenv("JUPYTERHUB_USER", "paul.hub")
    assert EchangesApp(kb).member.id == "paul"
    monkeypatch.setenv("JUPYTERHUB_USER", "inconnu")
    app = EchangesApp(kb)
    assert app.member is None and "Lecture seule" in app.identity.value and app.form.send.disabled
    assert len(app.results.children) == 2  # still browsable


def test_nearby_solutions(kb):
    app = EchangesApp(kb, member="marie")
    assert "Chaufferie bois" in app.nearby.value and "même département" in app.nearby.value
    app.n_territory.value = "13055"
    assert app.show_nearby() == []


def test_show_threads_in_a_notebook(kb, monkeypatch):
    nb = kb.root / "diag.ipynb"
    nb.write_text(json.dumps({"cells": [], "metadata": {"planeco": {"author": "paul"}}, "nbformat": 4, "nbformat_minor": 5}))
    monkeypatch.setenv("PLANECO_KB_USER", "marie")
    panel = show_threads(nb)
    assert isinstance(panel, NotebookThreads) and panel.key == "diag.ipynb"
    p = panel.ask("Source ?", "D'où viennent les surfaces ?")
    assert p.addressed_to == ["paul"] and p.anchor == "notebook:diag.ipynb"
    assert len(panel.list.children) == 1
    panel.view.body.value = "Merci"
    assert panel.view.send_reply() is not None


@pytest.mark.slow
def test_app_notebook_runs_headless(kb, monkeypatch):
    import nbformat
    from nbclient import NotebookClient

    monkeypatch.setenv("PLANECO_KB", str(kb.root))
    monkeypatch.setenv("PLANECO_KB_USER", "marie")
    monkeypatch.setenv("PYTHONPATH", str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    nb = nbformat.read(ROOT / "apps" / "echanges.ipynb", as_version=4)
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(kb.root)}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in outputs)
    assert len(kb.threads("marie")) == 2  # opening the app writes nothing


def test_missing_kb_panel_speaks_to_officials_and_folds_the_command(tmp_path):
    from planeco_kernel.knowledge.ui import show_app

    panel = show_app(tmp_path / "no_kb_here")
    html = panel.value
    assert "<h1" in html and "Échanges entre territoires" in html
    assert "L'espace d'échanges n'est pas encore activé sur cette installation ; contactez votre administrateur." in html
    admin = html.split("<details", 1)[1]
    assert "Pour l'administrateur" in admin and "<code>planeco kb init" in admin
    assert str(tmp_path) not in html.split("<details", 1)[0]  # paths only in the folded part
    assert "`" not in html


@pytest.mark.parametrize(("text", "expected"), [
    ("Lancez `planeco kb init X` puis", "Lancez <code>planeco kb init X</code> puis"),
    ("a `b` c `d`", "a <code>b</code> c <code>d</code>"),
    ("un ` seul", "un ` seul"),
    ("<b>", "&lt;b&gt;"),
])
def test_code_spans(text, expected):
    from planeco_kernel.knowledge.ui import _code_spans, _fragments

    html = str(_fragments().missing(_code_spans(text)))
    assert f"<p>{expected}</p>" in html
