"""The parameterized dossiers run through Papermill on the real bundle (cop_region, zan_scot)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.bundle


def _run(name: str, tmp_path, bundle_dir, monkeypatch, **params):
    import papermill as pm

    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH", "")])))
    monkeypatch.setenv("PLANECO_DATA_DIR", str(bundle_dir))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    out = tmp_path / f"{name}.ipynb"
    nb = pm.execute_notebook(str(ROOT / "parameterized" / f"{name}.ipynb"), str(out), parameters=params,
                             kernel_name="python3", progress_bar=False, cwd=str(tmp_path))
    text = []
    for c in nb.cells:
        for o in c.get("outputs", []):
            assert o.get("output_type") != "error", o
            data = o.get("data", {})
            text.append(str(data.get("text/markdown", "")) + str(data.get("text/html", "")))
    return "\n".join(text)


def test_cop_region_dossier(tmp_path, bundle_dir, monkeypatch):
    text = _run("cop_region", tmp_path, bundle_dir, monkeypatch, territory="32", level="region")
    assert "COP territoriale — Hauts-de-France" in text and "indicatives, non contraignantes" in text
    assert "3e stratégie nationale bas-carbone" in text and "54,47" in text


def test_cop_region_dossier_counts_the_actors_commitments_of_the_knowledge_base(tmp_path, bundle_dir, monkeypatch):
    """The action inventory of tests/fixtures/actions (INVENTED) is in Poitiers: it shows in Nouvelle-Aquitaine."""
    from planeco_kernel.actions import import_table, save, territory_resolver
    from planeco_kernel.assessment.levers import load_levers
    from planeco_kernel.knowledge import KnowledgeBase, Member

    monkeypatch.delenv("JUPYTERHUB_USER", raising=False)
    kb = KnowledgeBase.init(tmp_path / "kb", Member("agent", "Agent Essai (données de test)", "agent", territory="86194"))
    monkeypatch.setenv("JUPYTERHUB_USER", "agent")
    save(kb, import_table(ROOT / "tests" / "fixtures" / "actions" / "plan_essai.csv", load_levers(), territory_resolver()),
         "import")
    monkeypatch.delenv("JUPYTERHUB_USER")  # the dossier only reads the knowledge base
    monkeypatch.setenv("PLANECO_KB", str(kb.root))
    text = _run("cop_region", tmp_path, bundle_dir, monkeypatch, territory="75", level="region")
    assert "COP territoriale — Nouvelle-Aquitaine" in text
    assert "acteurs socio-économiques — plan d" in text and "actions (base de connaissances)" in text
    assert "Communauté urbaine (essai)" in text  # the sheets' pilot, as the actor of the commitment


def test_zan_scot_dossier_says_what_is_missing(tmp_path, bundle_dir, monkeypatch):
    text = _run("zan_scot", tmp_path, bundle_dir, monkeypatch, territory="200069193", level="epci")
    assert "Trajectoire ZAN" in text
    assert ("non disponible" in text.lower()) or ("Enveloppe 2021–2030" in text)


def test_zan_scot_dossier_on_lyon(tmp_path, bundle_dir, monkeypatch):
    text = _run("zan_scot", tmp_path, bundle_dir, monkeypatch, territory="200046977", level="epci")
    assert "827,7" in text and "413,9" in text and "Métropole de Lyon" in text
    assert "Situation" in text and "exact" in text  # the communes' dashboard and the split's sum check
