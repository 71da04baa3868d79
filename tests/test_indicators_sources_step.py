"""The data-build step for indicator sources: reachable sources written, the others recorded with why."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

TABLES = ("territories.parquet", "population.parquet", "code_history.parquet", "manifest.json")


def _bundle_copy(bundle_dir: Path, tmp: Path) -> Path:
    out = tmp / "bundle"
    out.mkdir()
    for name in TABLES:
        shutil.copy(bundle_dir / name, out / name)
    (out / "cog").mkdir()
    shutil.copy(bundle_dir / "cog" / "communes.parquet", out / "cog" / "communes.parquet")
    return out


@pytest.mark.bundle
def test_nothing_reachable_offline(bundle_dir, tmp_path, monkeypatch):
    from planeco_kernel.bundle.sources_step import build_sources
    from planeco_kernel.indicators.components import Components
    from planeco_kernel.sources.catalog import SOURCES

    monkeypatch.setenv("PLANECO_OFFLINE", "1")
    monkeypatch.setenv("PLANECO_CACHE", str(tmp_path / "cache"))
    empty = tmp_path / "mirror"
    empty.mkdir()
    out = _bundle_copy(bundle_dir, tmp_path)
    entries = build_sources(out, empty)
    # the territorial series (Écolab, baromètre) come from the planning tables, absent from this copy
    assert {e["source"] for e in entries} == set(SOURCES) | {"ecolab", "sgpe_barometre"}
    assert not any(e["included"] for e in entries)
    assert all(e["reason"] and "planeco data build" in e["fix"] for e in entries)
    comps = Components.from_parquet(out / "indicators" / "components.parquet")
    assert "pop_municipale" in comps.values and comps.sources["population"].available
    assert not comps.sources["filosofi"].available and "PLANECO_OFFLINE" in comps.sources["filosofi"].reason


@pytest.mark.bundle
def test_mirrored_filosofi_is_included(bundle_dir, tmp_path, monkeypatch):
    from planeco_kernel import config
    from planeco_kernel.bundle.sources_step import build_sources
    from planeco_kernel.indicators.components import load_components

    mirror = config.mirror_dir()
    if mirror is None or not (mirror / "insee" / "filosofi_com_2016.csv").is_file():
        pytest.skip("no Filosofi in the mirror (PLANECO_MIRROR)")
    monkeypatch.setenv("PLANECO_OFFLINE", "1")
    out = _bundle_copy(bundle_dir, tmp_path)
    entries = build_sources(out, mirror)
    by_name = {e.get("name", e["source"]): e for e in entries}
    assert by_name["filosofi"]["included"] and by_name["filosofi"]["years"] == [2015, 2016]
    assert by_name["filosofi_epci"]["included"]
    frame = pd.read_parquet(out / "sources" / "filosofi.parquet")
    assert list(frame.columns) == ["commune_code", "year", "variable", "value", "unit"]
    assert not by_name["insee_rp"]["included"]
    json.dumps(entries)  # manifest entries are JSON
    comps = load_components(out)  # read from the bundle's indicators/components.parquet
    assert comps.sources["filosofi"].available and 2016 in comps.years
    i = list(comps.codes).index("01004")
    assert comps.values["taux_pauvrete_pct"][i, comps.years.index(2016)] == pytest.approx(17.0)


@pytest.mark.bundle
def test_territorial_frames_from_the_planning_tables(bundle_dir, tmp_path):
    """The source step turns the planning tables into territorial frames and national targets."""
    from planeco_kernel.bundle.reader import Bundle
    from planeco_kernel.bundle.sources_step import territorial_frames

    src = Bundle(bundle_dir)
    if not (src.has("ecolab_series") and src.has("barometre_indicators")):
        pytest.skip("bundle built without the planning tables")
    out = _bundle_copy(bundle_dir, tmp_path)
    (out / "planning").mkdir()
    for table in ("ecolab_series", "barometre_indicators"):
        shutil.copy(src.path(table), Bundle(out).path(table))
    Bundle(out).source_path("x").parent.mkdir(parents=True, exist_ok=True)
    frames: dict = {}
    status: dict = {}
    entries = territorial_frames(Bundle(out), frames, status)
    assert {e["name"] for e in entries} == {"ecolab", "sgpe_barometre", "sgpe_barometre_targets"}
    assert all(e["included"] for e in entries) and status["ecolab"].available
    assert set(frames["ecolab"]["level"]) == {"region"} and set(frames["sgpe_barometre"]["level"]) == {"france"}
    back = pd.read_parquet(out / "sources" / "ecolab.parquet")
    assert list(back.columns) == ["level", "code", "year", "variable", "value"]
    tg = frames["sgpe_barometre_targets"].set_index("variable")
    assert tg.loc["puissance_solaire_mw", "value"] == pytest.approx(48000.0)  # 48 GW, PPE 2026-2035
