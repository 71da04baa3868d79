"""Name normalization and the name index (pure functions, no bundle)."""

from __future__ import annotations

import pytest

from planeco_kernel.territory.names import NameIndex, bare, normalize, trigrams


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Saint-Étienne", "saint etienne"),
        ("St-Étienne", "saint etienne"),
        ("st etienne", "saint etienne"),
        ("ST ÉTIENNE", "saint etienne"),
        ("Ste-Foy-lès-Lyon", "sainte foy les lyon"),
        ("Sainte Foy les Lyon", "sainte foy les lyon"),
        ("L'Abergement-Clémenciat", "l abergement clemenciat"),
        ("L’Abergement Clemenciat", "l abergement clemenciat"),
        ("L'Haÿ-les-Roses", "l hay les roses"),
        ("Œuilly", "oeuilly"),
        ("Île-de-Sein", "ile de sein"),
        ("  Bourg--en   Bresse ", "bourg en bresse"),
        ("Provence-Alpes-Côte d'Azur", "provence alpes cote d azur"),
        ("Stenay", "stenay"),  # "st" only as a whole word
        ("", ""),
    ],
)
def test_normalize(text, expected):
    assert normalize(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("L'Abergement-Clémenciat", "abergement clemenciat"),
        ("Abergement-Clémenciat (L')", "abergement clemenciat"),
        ("Le Mans", "mans"),
        ("La Rochelle", "rochelle"),
        ("Les Abrets en Dauphiné", "abrets en dauphine"),
        ("Mans (Le)", "mans"),
        ("Les", "les"),  # a lone article is a name, kept
        ("Lyon", "lyon"),
    ],
)
def test_bare(text, expected):
    assert bare(text) == expected


def test_trigrams_are_padded():
    assert trigrams("ab") == {"  a", " ab", "ab "}


NAMES = ["Saint-Étienne", "Saint-Étienne Métropole", "Saint-Denis", "Saint-Denis", "Le Mans",
         "Le Mans Métropole", "L'Abergement-Clémenciat", "Lyon", "Métropole de Lyon", "Sainte-Foy-lès-Lyon"]


@pytest.fixture(scope="module")
def index() -> NameIndex:
    return NameIndex(NAMES)


@pytest.mark.parametrize(
    ("query", "exact", "bare_ids"),
    [
        ("st etienne", [0], [0]),
        ("SAINT ETIENNE", [0], [0]),
        ("saint-denis", [2, 3], [2, 3]),
        ("mans", [], [4]),
        ("le mans", [4], [4]),
        ("abergement clemenciat", [], [6]),
        ("l'abergement-clemenciat", [6], [6]),
        ("nowhere", [], []),
    ],
)
def test_index_exact(index, query, exact, bare_ids):
    assert index.exact(query) == exact
    assert index.exact_bare(query) == bare_ids


@pytest.mark.parametrize(
    ("query", "expected"),
    [("saintetienne", [0]), ("Lemans", [4]), ("mans metro pole", [5]), ("l abergement clemenciat", [6]), ("x", [])],
)
def test_index_compact(index, query, expected):
    assert index.compact(query) == expected


@pytest.mark.parametrize("query", ["saint", "st e", "le m", "ma", "l", "metropole", "sainte foy", "zz"])
def test_index_prefix_matches_naive_scan(index, query):
    q = normalize(query)
    naive = {i for i, n in enumerate(NAMES) if normalize(n).startswith(q) or bare(n).startswith(q)}
    assert set(index.prefix(query)) == naive


@pytest.mark.parametrize(
    ("query", "expected"),
    [("metropole", {1, 5, 8}), ("lyon", {7, 8, 9}), ("foy les", {9}), ("etienne", {0, 1}), ("xyz", set())],
)
def test_index_word(index, query, expected):
    assert set(index.word(query)) == expected


@pytest.mark.parametrize(
    ("query", "best"),
    [("Saint-Etiene", 0), ("Saint Ettienne", 0), ("Lyonn", 7), ("Abergement Clemencia", 6), ("Sainte Foi les Lion", 9)],
)
def test_index_fuzzy_finds_typos(index, query, best):
    hits = index.fuzzy(query, limit=3)
    assert hits and hits[0][0] == best
    assert 0.6 <= hits[0][1] <= 1.0
    assert [s for _i, s in hits] == sorted((s for _i, s in hits), reverse=True)


def test_index_fuzzy_nothing_alike(index):
    assert index.fuzzy("qqqqwwww") == []
