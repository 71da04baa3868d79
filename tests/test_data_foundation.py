"""The data foundation of issue 14: one source registry, one bundle reader, one level vocabulary,
split groups as data, one « territories within X », per-indicator levels."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from importlib import import_module
from pathlib import Path

import pandas as pd
import pytest
import yaml

from planeco_kernel.errors import BundleError, TerritoryNotFoundError

ROOT = Path(__file__).resolve().parent.parent
PKG = ROOT / "planeco_kernel"


# --------------------------------------------------------------------------- source registry


def test_registry_has_one_complete_entry_per_source():
    from planeco_kernel.sources import catalog

    assert {"cog", "population", "geometry", "banatic"} <= set(catalog.ALL)
    for sid, s in catalog.ALL.items():
        assert s.title and s.short and s.publisher and s.publisher_short and s.licence, sid
        assert s.homepage.startswith("https://") and all(u.startswith("https://") for u in s.urls), sid
        assert s.vintages and s.vintage_text and s.geography and s.levels and s.coverage, sid
    assert set(catalog.SOURCES) == {k for k, v in catalog.ALL.items() if v.kind == "indicator"}


def test_connectors_keep_parsing_facts_their_locations_are_declared():
    """Each connector's default release points at a URL the registry declares for its source."""
    from planeco_kernel.sources import catalog

    for sid, info in catalog.SOURCES.items():
        module = import_module(f"planeco_kernel.sources.{sid}")
        assert module.SOURCE_ID == sid
        assert info.release().url in info.urls, sid


def test_indicator_catalogue_reads_its_sources_from_the_registry():
    from planeco_kernel.indicators.catalogue import CATALOGUE_PATH, load_catalogue
    from planeco_kernel.sources import catalog

    raw = yaml.safe_load(CATALOGUE_PATH.read_text(encoding="utf-8"))
    assert "sources" not in raw  # declared once, in sources/registry.yaml
    cat = load_catalogue()
    for sid, src in cat.sources.items():
        reg = catalog.ALL[sid]
        assert src.title == reg.label and src.vintage == reg.vintage_text and src.url == reg.homepage
    assert {s for c in cat.components.values() for s in c.sources} <= set(catalog.ALL)


def test_catalogue_refuses_a_sources_block():
    from planeco_kernel.indicators.catalogue import (
        CATALOGUE_PATH,
        CatalogueError,
        parse_catalogue,
    )

    raw = yaml.safe_load(CATALOGUE_PATH.read_text(encoding="utf-8"))
    raw["sources"] = {"filosofi": {"title": "autre titre", "vintage": "x", "url": "https://x"}}
    with pytest.raises(CatalogueError, match="registry.yaml"):
        parse_catalogue(raw)


def test_reports_label_sources_from_the_registry():
    from planeco_kernel.reports.notebook import _source_label
    from planeco_kernel.sources import catalog

    assert _source_label({"name": "banatic", "title": "ancien titre"}) == catalog.ALL["banatic"].label
    assert _source_label({"name": "x", "file": "banatic/groupements_membres.csv"}) == catalog.ALL["banatic"].label
    assert not hasattr(import_module("planeco_kernel.reports.notebook"), "_KNOWN_SOURCES")


def test_declared_file_identities_match_the_mirror():
    from planeco_kernel import config
    from planeco_kernel.sources import catalog
    from planeco_kernel.sources.fetch import sha256_file

    mirror = config.mirror_dir()
    if mirror is None:
        pytest.skip("no mirror (PLANECO_MIRROR)")
    declared = [(sid, f) for sid, s in catalog.ALL.items() for f in s.files if "://" not in f.key]
    assert declared
    for sid, f in declared:
        path = mirror / f.key
        if path.is_file():
            assert sha256_file(path) == f.sha256, (sid, f.key)


# --------------------------------------------------------------------------- level vocabulary


def test_one_level_vocabulary():
    from planeco_kernel.bundle.schema import LEVEL_LABELS_FR, LEVELS
    from planeco_kernel.levels import LEVEL

    assert tuple(LEVEL) == LEVELS
    assert LEVEL["epci"].of == "de l'intercommunalité" and LEVEL["epci"].of_short == "de l'EPCI"
    assert LEVEL["departement"].median == "le département médian"
    assert LEVEL["region"].median == "la région médiane"
    assert LEVEL["scot"].plural == "SCoT" and LEVEL["commune"].plural == "communes"
    assert LEVEL_LABELS_FR["epci"] == "Intercommunalité (EPCI)"


_LEVEL_WORD = re.compile(r'"(epci|departement|region)":\s*"([^"]*)"')


def test_no_per_level_french_dictionary_left_in_modules():
    """Level words come from planeco_kernel.levels; input aliases (territory.codes), level -> level
    maps and column names are not words."""
    from planeco_kernel.levels import LEVELS

    offenders = []
    for path in PKG.rglob("*.py"):
        rel = path.relative_to(PKG).as_posix()
        if rel in ("levels.py", "territory/codes.py") or rel.startswith("knowledge/"):
            continue
        for m in _LEVEL_WORD.finditer(path.read_text(encoding="utf-8")):
            value = m.group(2)
            if value in LEVELS or value.endswith("_code") or value == "":
                continue
            offenders.append(f"{rel}: {m.group(0)}")
    assert not offenders, offenders


# --------------------------------------------------------------------------- bundle reader


def _manifest(**over):
    base = {"format": 1, "built_at": "2026-12-02T18:00:00+00:00", "current_cog": 2026, "tables": {}}
    return {**base, **over}


def test_manifest_is_validated_not_defaulted():
    from planeco_kernel.bundle.reader import Manifest

    m = Manifest.parse(_manifest(sources=[{"name": "geometry", "vintage": 2025}]))
    assert m.current_cog == 2026 and m.source_vintage("geometry") == 2025
    raw = _manifest()
    del raw["current_cog"]
    with pytest.raises(BundleError, match="current_cog"):
        Manifest.parse(raw)
    with pytest.raises(BundleError, match="current_cog"):
        Manifest.parse(_manifest(current_cog="2025"))


def test_bundle_paths_come_from_the_schema_and_the_cache_follows_the_stamp(tmp_path):
    from planeco_kernel.bundle import reader, schema

    d = tmp_path / "b"
    d.mkdir()
    with pytest.raises(BundleError, match="planeco data build"):
        reader.Bundle(d)
    pd.DataFrame({"level": ["commune"], "code": ["01001"]}).to_parquet(d / schema.TERRITORIES.path)
    (d / schema.MANIFEST_PATH).write_text(json.dumps(_manifest()), encoding="utf-8")
    b = reader.open_bundle(d)
    assert b.path("territories") == d / "territories.parquet"
    assert b.source_path("filosofi") == d / "sources" / "filosofi.parquet"
    assert b.components_path == d / "indicators" / "components.parquet"
    assert reader.open_bundle(d) is b and len(b.read("territories")) == 1
    pd.DataFrame({"level": ["commune"] * 2, "code": ["01001", "01002"]}).to_parquet(d / schema.TERRITORIES.path)
    b2 = reader.open_bundle(d)  # rebuilt: a new stamp, a fresh cache
    assert b2 is not b and len(b2.read("territories")) == 2


def test_indicator_layer_does_not_read_mirrors_at_run_time():
    text = (PKG / "indicators" / "components.py").read_text(encoding="utf-8")
    assert "sources_step" not in text.split('"""', 2)[2] and "catalog.available" not in text
    assert not (PKG / "indicators" / "sources_step.py").exists()


# --------------------------------------------------------------------------- territories within X


TINY = pd.DataFrame({
    "level": ["commune", "commune", "commune", "departement", "departement", "region"],
    "code": ["84001", "84002", "01001", "84", "01", "84"],
    "departement_code": ["84", "84", "01", None, None, None],
    "region_code": ["93", "93", "84", "93", "84", None],
    "epci_code": [None] * 6, "scot_code": [None] * 6,
})


@pytest.mark.parametrize(("level", "parent", "expected"), [
    ("commune", "84", ["84001", "84002"]),           # bare 84: the département (Vaucluse)
    ("commune", "departement:84", ["84001", "84002"]),
    ("commune", "region:84", ["01001"]),             # the région (Auvergne-Rhône-Alpes)
    ("departement", "region:84", ["01"]),
    ("departement", "84", ["84"]),
    ("region", "region:84", ["84"]),
])
def test_within_tiny(level, parent, expected):
    from planeco_kernel.territory.within import within

    assert within(TINY, level, parent) == expected


def test_within_unknown_key_suggests_the_existing_ones():
    from planeco_kernel.territory.within import within

    with pytest.raises(TerritoryNotFoundError, match="departement:84"):
        within(TINY, "commune", "epci:84")
    with pytest.raises(TerritoryNotFoundError):
        within(TINY, "commune", "99")


REGIONS = ["11", "24", "27", "28", "32", "44", "52", "53", "75", "76", "84", "93", "94"]
"""The 13 metropolitan région codes: every one is also a département code."""


@pytest.mark.bundle
@pytest.mark.parametrize("region", REGIONS)
def test_within_colliding_region_codes(bundle_dir, region):
    from planeco_kernel.indicators.cube import load_cube
    from planeco_kernel.territory import load_model

    cube = load_cube(bundle_dir)
    t = cube.territories
    deps = set(t.loc[(t["level"] == "departement") & (t["region_code"] == region), "code"])
    assert deps and cube.members("departement", f"region:{region}") == deps
    communes_r = set(t.loc[(t["level"] == "commune") & (t["region_code"] == region), "code"])
    assert cube.members("commune", f"region:{region}") == communes_r
    communes_d = set(t.loc[(t["level"] == "commune") & (t["departement_code"] == region), "code"])
    assert communes_d and cube.members("commune", region) == communes_d  # bare code: the département
    model = load_model(bundle_dir)
    assert {x.code for x in model.within("departement", f"region:{region}")} == deps
    assert model.get(region).level == "departement"


@pytest.mark.bundle
def test_cli_export_within_region(bundle_dir, tmp_path):
    from typer.testing import CliRunner

    from planeco_kernel.cli import app

    out = tmp_path / "r84.csv"
    r = CliRunner().invoke(app, ["indicators", "export", "--level", "departement", "--within", "region:84",
                                 "--out", str(out)])
    assert r.exit_code == 0, r.output
    df = pd.read_csv(out, dtype={"code": str}, sep=";", encoding="utf-8-sig")
    assert set(df["code"]) == {"01", "03", "07", "15", "26", "38", "42", "43", "63", "69", "73", "74"}


# --------------------------------------------------------------------------- split groups as data


@pytest.mark.bundle
def test_split_groups_are_a_code_history_column(bundle_dir):
    from planeco_kernel.bundle.reader import open_bundle

    h = open_bundle(bundle_dir).read("code_history")
    rows = h[(h["code"] == "15141") & (h["event"] == "split")]
    assert len(rows) and all({"15031", "15035", "15047", "15171"} <= set(g) and g[0] == "15141"
                             for g in rows["split_group"])
    assert h.loc[h["event"] != "split", "split_group"].isna().all()


# --------------------------------------------------------------------------- per-indicator levels


def test_catalogue_levels_are_validated():
    from planeco_kernel.indicators.catalogue import (
        CATALOGUE_PATH,
        CatalogueError,
        parse_catalogue,
    )

    raw = yaml.safe_load(CATALOGUE_PATH.read_text(encoding="utf-8"))
    raw["indicators"][0]["levels"] = ["region", "canton"]
    with pytest.raises(CatalogueError, match="niveaux inconnus"):
        parse_catalogue(raw)


@pytest.mark.bundle
def test_indicator_existing_only_at_some_levels(bundle_dir):
    from planeco_kernel.indicators.cube import build_cube, load_cube

    cube = load_cube(bundle_dir)
    ind = cube.catalogue.get("population")
    cat = replace(cube.catalogue, indicators={**cube.catalogue.indicators,
                                              ind.id: replace(ind, levels=("region", "departement"))})
    assert cat.get(ind.id).level_note("commune") == "disponible à l'échelle régionale / départementale"
    regional = build_cube(cube.components, cube.territories, cat)
    assert regional["commune"][ind.id].isnull().all()
    assert regional["commune"][ind.id].attrs["level_note"] == "disponible à l'échelle régionale / départementale"
    assert regional["region"][ind.id].notnull().any() and regional["region"][ind.id].attrs["level_note"] == ""
