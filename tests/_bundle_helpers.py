"""Helpers shared by the bundle tests: load the invented COG fixture (test data, not real)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "bundle"


def cog_fixture():
    spec = importlib.util.spec_from_file_location("cog_fixture", FIXTURES / "cog_fixture.py")
    mod = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(mod)
    return mod


def fixture_tables():
    """cog_communes and cog_epci_members of the invented fixture, both vintages."""
    import pandas as pd

    from planeco_kernel.sources import etalab

    fx = cog_fixture()
    communes, members = [], []
    for entry, data in zip(fx.VERSIONS, (fx.V2025, fx.V2026)):
        v = etalab.CogVersion.from_registry(entry)
        communes.append(etalab.parse_communes(data["communes"], v))
        members.append(etalab.parse_epci(data["epci"], v)[1])
    m = pd.concat(members, ignore_index=True)
    return etalab.attach_epci(pd.concat(communes, ignore_index=True), m), m
