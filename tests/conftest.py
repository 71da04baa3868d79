"""Shared fixtures.

``bundle_dir``: the real data bundle (built by ``make data`` / ``planeco data build``); tests
marked ``bundle`` need it. Test fixtures under ``tests/fixtures`` are invented test data and say so.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "tests" / "artifacts"


@pytest.fixture(scope="session")
def bundle_dir() -> Path:
    from planeco_kernel import config

    d = config.data_dir()
    if not (d / "manifest.json").is_file():
        pytest.fail(f"No data bundle in {d}: run `make data` (planeco data build) first.")
    return d


@pytest.fixture(scope="session")
def small_bundle_dir(bundle_dir, tmp_path_factory) -> Path:
    """The tests' fast bundle: départements 01, 42, 59, 69, 84 and 86 cut from the real bundle
    (:mod:`planeco_kernel.bundle.subset`; commune values identical, roll-ups over these
    départements only). For tests that start kernels (notebooks, reports, apps), which then load
    about 2,000 communes instead of 34,875; integrity and reference tests keep ``bundle_dir``."""
    from planeco_kernel.bundle.subset import derive_subset

    d = tmp_path_factory.mktemp("small-bundle") / "bundle"
    derive_subset(bundle_dir, d)
    return d


@pytest.fixture(scope="module")
def use_small_bundle(small_bundle_dir):
    """``PLANECO_DATA_DIR`` on the fast bundle for a whole module (``pytest.mark.usefixtures``):
    code run in the test process, and the kernels and commands it starts, read it."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PLANECO_DATA_DIR", str(small_bundle_dir))
        yield small_bundle_dir


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture()
def isolated_cache(tmp_path, monkeypatch) -> Path:
    """A fresh, empty download cache (PLANECO_CACHE) for one test."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("PLANECO_CACHE", str(cache))
    return cache
