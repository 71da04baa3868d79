"""The territory package's boundary: no code outside ``planeco_kernel/territory/`` reads a private
attribute of a :class:`Territory`, :class:`TerritoryModel` or of the model's parts.

An AST scan (the source is read, not run): the private names are those the classes of
``planeco_kernel/territory/`` define (``self._x = …``, ``__slots__``, ``def _x``); any
``something._x`` (or ``getattr(something, "_x")``) with one of these names, outside the package,
on anything but ``self``/``cls``, fails. Other classes' private members that happen to share a
name are listed in ``ALLOWED`` with the reason, so that a new collision is a decision, not an
accident.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from fixtures.territory.fake_bundle import write_fake_bundle
from planeco_kernel.territory import Territory, clear_cache, load_model
from planeco_kernel.territory.population import PopulationIndex

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "planeco_kernel" / "territory"
SCANNED = [ROOT / "planeco_kernel", ROOT / "apps", ROOT / "tests", ROOT / "benchmarks"]

ALLOWED: dict[tuple[str, str], str] = {
    # (file relative to the repository, private name): why it is not a territory reach-in
}


def _private_names() -> set[str]:
    """Private attribute and method names defined by the classes of planeco_kernel/territory/."""
    names: set[str] = set()
    for f in PACKAGE.rglob("*.py"):
        for cls in (n for n in ast.walk(ast.parse(f.read_text(encoding="utf-8"))) if isinstance(n, ast.ClassDef)):
            for node in ast.walk(cls):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    names.add(node.name)
                elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self":
                    names.add(node.attr)
                elif isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__slots__"
                                                           for t in node.targets):
                    names.update(c.value for c in ast.walk(node.value) if isinstance(c, ast.Constant))
    return {n for n in names if isinstance(n, str) and n.startswith("_") and not n.startswith("__")}


def _scan(rel: str, source: str, private: set[str]) -> list[str]:
    """``file:line: .name`` for each read of a private territory name in one module's source."""
    out = []
    for node in ast.walk(ast.parse(source)):
        name = None
        if isinstance(node, ast.Attribute) and node.attr in private:
            if not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")):
                name = node.attr
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
              and node.func.id in ("getattr", "setattr", "hasattr") and len(node.args) >= 2
              and isinstance(node.args[1], ast.Constant) and node.args[1].value in private):
            name = str(node.args[1].value)
        if name is not None and (rel, name) not in ALLOWED:
            out.append(f"{rel}:{node.lineno}: .{name}")
    return out


def _reach_ins(private: set[str]) -> list[str]:
    out = []
    for top in SCANNED:
        for f in sorted(top.rglob("*.py")):
            if PACKAGE in f.parents or f == Path(__file__):
                continue
            out += _scan(str(f.relative_to(ROOT)), f.read_text(encoding="utf-8"), private)
    return out


def test_private_names_are_found():
    private = _private_names()
    # the ones the old model exposed to reach-ins (reports read t._m) and the store's
    assert {"_m", "_i", "_memo", "_lock"} <= private


def test_no_private_attribute_read_outside_the_territory_package():
    found = _reach_ins(_private_names())
    assert not found, ("Code outside planeco_kernel/territory/ reads private attributes of the territory "
                       "model; use the public protocol (Territory's properties, TerritoryModel's methods):\n"
                       + "\n".join(found))


def test_the_scan_catches_a_reach_in():
    source = "def f(t, self):\n    return t._m.store, getattr(t, '_i'), self._m, t.code\n"
    assert sorted(_scan("x.py", source, _private_names())) == ["x.py:2: ._i", "x.py:2: ._m"]


def test_territory_public_protocol_is_documented():
    doc = Territory.__doc__ or ""
    for member in ("code", "level", "name", "key", "level_label", "nature", "flags", "label", "population",
                   "population_sources", "population_flags", "population_latest", "members_count", "parents",
                   "parent", "members", "geometry", "to_dict"):
        assert f"`{member}`" in doc, member
        assert hasattr(Territory, member), member


# -- the population look-ups: direct (first few) and grouped give the same series ----------------
@pytest.fixture()
def fake_model(tmp_path):
    clear_cache()
    d = write_fake_bundle(tmp_path / "bundle")
    yield load_model(d)
    clear_cache()


def test_direct_and_grouped_population_look_ups_agree(fake_model):
    store = fake_model.store
    index = store.population()
    assert isinstance(index, PopulationIndex)
    rows = range(len(store))
    direct = {r: (index.values(r), index.sources(r), index.flags(r)) for r in rows if r < PopulationIndex.DIRECT}
    grouped = PopulationIndex(store.read("population"), store.table)  # no key columns: grouped only
    for r in rows:
        expected = (grouped.values(r), grouped.sources(r), grouped.flags(r))
        assert (index.values(r), index.sources(r), index.flags(r)) == expected, r
        if r in direct:
            assert direct[r] == expected, r
    assert index._grouped is not None  # noqa: SLF001 — more rows than DIRECT were asked: grouped now


@pytest.mark.bundle
def test_direct_and_grouped_population_look_ups_agree_on_the_real_bundle(bundle_dir):
    clear_cache()
    store = load_model(bundle_dir).store
    pop = store.read("population")
    grouped = PopulationIndex(pop, store.table)
    sample = [store.by_key[k] for k in (("commune", "86194"), ("commune", "75056"), ("epci", "200069854"),
                                         ("departement", "86"), ("region", "75"), ("france", "FR"))]
    sample += list(range(0, len(store), len(store) // 9))[:9]
    direct = PopulationIndex(pop, store.table, store.population()._keys)  # noqa: SLF001
    for r in sample:
        assert (direct.values(r), direct.sources(r), direct.flags(r)) == (
            grouped.values(r), grouped.sources(r), grouped.flags(r)), store.codes[r]
    assert direct._grouped is None  # noqa: SLF001 — all of these were direct look-ups


def test_scanned_and_indexed_key_look_ups_agree(fake_model):
    from planeco_kernel.territory.store import SCALAR_READS, TerritoryStore

    scanning = TerritoryStore(fake_model.bundle)  # a fresh store: its first look-ups scan the code list
    indexed = fake_model.store.by_key
    keys = list(indexed)[:SCALAR_READS // 2] + [("commune", "99999"), ("region", "01001")]
    for level, code in keys:
        assert scanning.row_of(level, code) == indexed.get((level, code)), (level, code)
    assert ("by_key",) not in scanning._memo  # noqa: SLF001 — still scanning
    for level, code in list(indexed) + [("commune", "99999")]:  # past SCALAR_READS: the dictionary
        assert scanning.row_of(level, code) == indexed.get((level, code)), (level, code)
        assert scanning.rows_for_code(code) == fake_model.store.rows_for_code(code)
    assert ("by_key",) in scanning._memo  # noqa: SLF001
