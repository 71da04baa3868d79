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
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture()
def isolated_cache(tmp_path, monkeypatch) -> Path:
    """A fresh, empty download cache (PLANECO_CACHE) for one test."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("PLANECO_CACHE", str(cache))
    return cache
