"""Packaging invariants: pyproject.toml and environment.yml declare the same environment."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent

# PyPI name -> conda-forge name, where they differ.
PYPI_TO_CONDA = {"pyyaml": "pyyaml"}
CONDA_ONLY = {"python", "nodejs", "pip"}


def _name(req: str) -> str:
    """Canonical distribution name (PEP 503): lower case, runs of -_. as one hyphen."""
    return re.sub(r"[-_.]+", "-", re.split(r"[<>=~!\[; ]", req.strip(), maxsplit=1)[0]).lower()


def _pyproject_packages() -> dict[str, str]:
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(meta["dependencies"]) + [r for extra in meta["optional-dependencies"].values() for r in extra]
    return {PYPI_TO_CONDA.get(_name(r), _name(r)): r for r in reqs}


def _conda_packages() -> dict[str, str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    deps = [d for d in env["dependencies"] if isinstance(d, str)]
    return {_name(d): d for d in deps if _name(d) not in CONDA_ONLY}


def test_environment_yml_names_the_same_packages_as_pyproject():
    py, conda = _pyproject_packages(), _conda_packages()
    assert sorted(set(py) - set(conda)) == [], "in pyproject.toml but not environment.yml"
    assert sorted(set(conda) - set(py)) == [], "in environment.yml but not pyproject.toml"


def test_environment_yml_uses_the_same_version_specifiers():
    py, conda = _pyproject_packages(), _conda_packages()
    for name, req in py.items():
        spec_py = req[len(name):].replace(" ", "") if req.lower().startswith(name) else req
        spec_conda = conda[name][len(name):].replace(" ", "")
        assert re.sub(r"^\[[^\]]*\]", "", spec_py) == spec_conda, f"{name}: {req!r} vs {conda[name]!r}"


def test_lock_pins_every_declared_dependency():
    lock = {_name(l): l for l in (ROOT / "requirements.lock").read_text().splitlines() if "==" in l}
    for name in _pyproject_packages():
        assert name in lock, f"{name} is not pinned in requirements.lock"


def test_slow_import_rfc3987_syntax_is_not_installed():
    """rfc3987-syntax adds ~2.3 s to every Jupyter process (STACK.md); setup removes it."""
    import importlib.util

    assert importlib.util.find_spec("rfc3987_syntax") is None, "run `make setup` (it uninstalls rfc3987-syntax)"
