"""Every analysis notebook runs from top to bottom on the real bundle (kernel ``python3`` of the venv).

The cube is cached (components in the bundle or the user cache), so each notebook takes a few
seconds. Outputs are never written back: the committed notebooks stay without outputs.
"""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_one_notebook_per_theme_and_a_tutorial():
    names = {p.stem for p in NOTEBOOKS}
    assert {"00_demarrer_avec_planeco", "demographie", "logement", "foncier", "revenus", "energie_climat",
            "mobilites"} <= names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_shape(path):
    nb = nbformat.read(path, as_version=4)
    md = [c.source for c in nb.cells if c.cell_type == "markdown"]
    assert md[0].startswith("# ") and "## Vue d'ensemble" in md[0]
    assert any(s.startswith("## Prérequis") for s in md)
    assert any(s.startswith("## Résumé") for s in md[-1:])
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    assert code[0].startswith("from planeco_kernel") and all("import" not in c for c in code[1:])
    assert all("import pandas" not in c and "pd." not in c for c in code)  # logic lives in planeco_kernel


@pytest.mark.bundle
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(path, small_bundle_dir, monkeypatch):
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    # the kernel imports this checkout's planeco_kernel and reads the same bundle
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH", "")])))
    monkeypatch.setenv("PLANECO_DATA_DIR", str(small_bundle_dir))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    client = NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert errors == []
