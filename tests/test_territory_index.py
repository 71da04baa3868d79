"""The territory index (``territory_index.sqlite``) says what the Parquet tables say.

:mod:`planeco_kernel.bundle.territory_index` is derived from ``territories`` and ``population`` by
the build; the command line reads its territories from it (``load_model(use_index=True)``). These
tests compare, for every territory, what a model reading the index and a model reading the Parquet
tables hand out (identity, parents, populations with sources and flags, members, labels), on the
INVENTED bundle of ``tests/fixtures/territory``, on the tests' subset bundle and on the complete
bundle; and check that an index that does not match its manifest is not read.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from fixtures.territory.fake_bundle import write_fake_bundle
from planeco_kernel.bundle import territory_index
from planeco_kernel.territory.model import TerritoryModel


def _describe(model: TerritoryModel) -> list[tuple]:
    out = []
    for t in model:
        out.append((t.to_dict(), t.label(), dict(t.population_flags), [m.key for m in t.members("commune")][:50]))
    return out


def _agree(d: Path) -> int:
    parquet, indexed = TerritoryModel(d), TerritoryModel(d, use_index=True)
    assert parquet.store.index is None and indexed.store.index is not None
    assert indexed.store.levels == parquet.store.levels and indexed.store.codes == parquet.store.codes
    a, b = _describe(parquet), _describe(indexed)
    assert len(a) == len(b) == len(parquet)
    bad = [x[0]["key"] for x, y in zip(a, b) if x != y]
    assert not bad, bad[:10]
    return len(a)


@pytest.fixture(scope="module")
def fake_indexed(tmp_path_factory) -> Path:
    return write_fake_bundle(tmp_path_factory.mktemp("indexed") / "bundle", index=True)


def test_the_index_agrees_with_the_tables_on_the_invented_bundle(fake_indexed):
    assert _agree(fake_indexed) > 40


def test_resolution_is_the_same_through_the_index(fake_indexed):
    parquet, indexed = TerritoryModel(fake_indexed), TerritoryModel(fake_indexed, use_index=True)
    for query in ("01001", "75", "region:75", "st etienne", "Saint-Denis (93)", "200046977", "1001"):
        a, b = parquet.resolve(query), indexed.resolve(query)
        assert (a.territory.key, a.note, a.matched_by) == (b.territory.key, b.note, b.matched_by), query
    assert [t.key for t in parquet.search("saint")] == [t.key for t in indexed.search("saint")]


def _copy_with_manifest(src: Path, dst: Path, edit) -> Path:
    shutil.copytree(src, dst)
    man = json.loads((dst / "manifest.json").read_text(encoding="utf-8"))
    edit(man)
    (dst / "manifest.json").write_text(json.dumps(man), encoding="utf-8")
    return dst


@pytest.mark.parametrize("edit", [
    pytest.param(lambda m: m["tables"]["territories"].update(sha256="0" * 64), id="territories-rebuilt"),
    pytest.param(lambda m: m["tables"]["population"].update(sha256="0" * 64), id="population-rebuilt"),
    pytest.param(lambda m: m[territory_index.MANIFEST_KEY].update(format=territory_index.FORMAT + 1), id="format"),
    pytest.param(lambda m: m[territory_index.MANIFEST_KEY].update(bytes=1), id="size"),
    pytest.param(lambda m: m.pop(territory_index.MANIFEST_KEY), id="no-entry"),
])
def test_an_index_that_does_not_match_its_manifest_is_not_read(fake_indexed, tmp_path, edit):
    d = _copy_with_manifest(fake_indexed, tmp_path / "b", edit)
    model = TerritoryModel(d, use_index=True)
    assert model.store.index is None  # the Parquet tables are read instead
    assert model.resolve("01001").territory.name == TerritoryModel(fake_indexed).resolve("01001").territory.name


def test_a_missing_or_corrupt_index_falls_back_to_the_tables(fake_indexed, tmp_path):
    d = tmp_path / "b"
    shutil.copytree(fake_indexed, d)
    path = d / territory_index.PATH
    size = path.stat().st_size
    path.write_bytes(b"\0" * size)  # same size, not a database
    assert TerritoryModel(d, use_index=True).store.index is None
    path.unlink()
    assert TerritoryModel(d, use_index=True).store.index is None


def test_the_subset_bundle_has_a_current_index(small_bundle_dir):
    man = json.loads((small_bundle_dir / "manifest.json").read_text(encoding="utf-8"))
    entry = man[territory_index.MANIFEST_KEY]
    assert entry["derived_from"] == {n: man["tables"][n]["sha256"] for n in ("territories", "population")}
    assert _agree(small_bundle_dir) > 1000


@pytest.mark.bundle
def test_the_index_agrees_with_the_tables_for_every_territory_of_the_bundle(bundle_dir, tmp_path):
    """The complete bundle: an index written next to (links to) its tables, every territory compared."""
    d = tmp_path / "bundle"
    d.mkdir()
    for p in bundle_dir.iterdir():
        if p.name not in ("manifest.json", territory_index.PATH):
            os.symlink(p, d / p.name)
    man = json.loads((bundle_dir / "manifest.json").read_text(encoding="utf-8"))
    man[territory_index.MANIFEST_KEY] = territory_index.write(d, man["tables"])
    (d / "manifest.json").write_text(json.dumps(man), encoding="utf-8")
    assert _agree(d) > 36000


def test_a_missing_index_makes_the_bundle_incomplete(fake_indexed, tmp_path):
    from planeco_kernel.bundle import manifest as mf

    d = tmp_path / "b"
    shutil.copytree(fake_indexed, d)
    assert not [p for p in mf.problems(d) if "index des territoires" in p]
    (d / territory_index.PATH).unlink()
    assert [p for p in mf.problems(d) if "index des territoires" in p]  # `data build --if-needed` rebuilds it
