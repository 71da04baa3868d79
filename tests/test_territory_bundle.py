"""The territory model on the REAL data bundle (``PLANECO_DATA_DIR``, built by ``planeco data build``).

Expected figures come from the official sources the bundle is built from: INSEE population
municipale as published in ``@etalab/decoupage-administratif`` 6.0.0 (census 2023, COG 2026).
"""

from __future__ import annotations

import json
import time

import pytest

from planeco_kernel.errors import AmbiguousTerritoryError
from planeco_kernel.territory import TerritoryModel, clear_cache, load_model

pytestmark = pytest.mark.bundle


@pytest.fixture(scope="module")
def model(bundle_dir) -> TerritoryModel:
    return load_model(bundle_dir)


def test_load_is_fast(bundle_dir):
    clear_cache()
    times = []
    for _ in range(3):
        clear_cache()
        t0 = time.perf_counter()
        load_model(bundle_dir)
        times.append(time.perf_counter() - t0)
    assert min(times) < 0.5, times
    m = load_model(bundle_dir)
    t0 = time.perf_counter()
    m.resolve("st etienne")
    m.get("01001").population
    assert time.perf_counter() - t0 < 1.5  # first name index + population index


def test_levels_and_counts(model):
    counts = {lvl: len(model.territories(lvl)) for lvl in model.levels()}
    assert model.levels() == ["commune", "epci", "scot", "departement", "region", "france"]
    # COG 2026: 34,969 communes, less the 94 of the collectivités d'outre-mer left out of the bundle
    assert counts["commune"] == 34_875
    assert 1_200 <= counts["epci"] <= 1_300
    assert counts["departement"] == 101 and counts["region"] == 18 and counts["france"] == 1
    assert counts["scot"] > 100


@pytest.mark.parametrize(
    ("code", "name", "dep", "region", "pop_2023"),
    [
        ("01001", "L'Abergement-Clémenciat", "01", "84", 860),
        ("01015", "Arboys en Bugey", "01", "84", 710),
        ("75056", "Paris", "75", "11", 2_103_778),
        ("69123", "Lyon", "69", "84", 519_127),
        ("13055", "Marseille", "13", "93", 886_040),
        ("42218", "Saint-Étienne", "42", "84", 173_136),
        ("97411", "Saint-Denis", "974", "04", 155_634),
    ],
)
def test_known_communes(model, code, name, dep, region, pop_2023):
    t = model.get(code)
    assert (t.level, t.name) == ("commune", name)
    assert t.parents["departement"] == dep and t.parents["region"] == region and t.parents["france"] == "FR"
    assert t.population[2023] == pop_2023
    assert t.population_latest == (2023, pop_2023)
    assert t.population_sources[2023].startswith("communes.json@")
    assert t.members_count == 1


@pytest.mark.parametrize(
    ("query", "kwargs", "code", "note"),
    [
        ("st etienne", {}, "42218", None),
        ("Saint-Etienne", {}, "42218", None),
        ("l'abergement clemenciat", {}, "01001", None),
        ("Abergement-Clémenciat", {}, "01001", None),
        ("Saint-Denis (93)", {}, "93066", None),
        ("saint denis", {"departement": "974"}, "97411", None),
        ("01340", {}, "01015", "01015"),  # Saint-Bois, commune déléguée of Arboys en Bugey
        ("42190", {}, "42218", "42218"),  # Rochetaillée, commune associée of Saint-Étienne
        ("75101", {}, "75056", "arrondissement municipal"),
        ("75120", {}, "75056", "arrondissement municipal"),
        ("69381", {}, "69123", "arrondissement municipal"),
        ("13216", {}, "13055", "arrondissement municipal"),
        ("1001", {}, "01001", "zéro initial"),
        ("2a004", {}, "2A004", None),  # Ajaccio, Corsican code
    ],
)
def test_resolve_real(model, query, kwargs, code, note):
    res = model.resolve(query, **kwargs)
    assert res.territory.code == code and res.territory.level == "commune"
    if note is None:
        assert res.note is None
    else:
        assert note.lower() in res.note.lower()


def test_bare_75_is_the_departement_with_a_note(model):
    res = model.resolve("75")
    assert res.territory.key == "departement:75" and res.territory.name == "Paris"
    assert "Nouvelle-Aquitaine" in res.note and "region:75" in res.note
    assert model.get("75", level="region").name == "Nouvelle-Aquitaine"


def test_saint_denis_is_ambiguous(model):
    with pytest.raises(AmbiguousTerritoryError) as exc:
        model.resolve("Saint-Denis")
    text = " ".join(exc.value.candidates)
    for code in ("11339", "30247", "93066", "97411"):
        assert code in text


@pytest.mark.parametrize("code", ["22016", "29083", "29155", "85113"])
def test_island_communes_have_no_epci(model, code):
    t = model.get(code)
    assert "epci" not in t.parents and t.parent("epci") is None


def test_epci_members_add_up(model):
    lyon = model.get("200046977")
    assert lyon.level == "epci" and lyon.name == "Métropole de Lyon"
    members = lyon.members()
    assert len(members) == lyon.members_count
    assert "69123" in {m.code for m in members}
    assert all(m.parents["epci"] == "200046977" for m in members)
    latest = max(lyon.population)
    assert lyon.population[latest] == sum(m.population.get(latest, 0) for m in members)
    assert model.get("69123").parent("epci") == lyon


def test_scot_parents_and_members(model):
    scots = model.territories("scot")
    checked = 0
    for siren in scots["code"].head(20):
        scot = model.get(siren, level="scot")
        communes = scot.members()
        assert len(communes) == scot.members_count
        for c in communes[:5]:
            assert c.parents["scot"] == siren
            assert c.parent("scot") == scot
            checked += 1
        listed = set(model.scot_members(siren)["member_code"])
        assert listed, siren
    assert checked > 0


def test_departement_and_region_members(model):
    ain = model.get("01")
    assert ain.name == "Ain" and ain.parents == {"region": "84", "france": "FR"}
    assert len(ain.members()) == ain.members_count
    assert [d.code for d in model.get("84", level="region").members("departement")] == [
        "01", "03", "07", "15", "26", "38", "42", "43", "63", "69", "73", "74"]


def test_history_of_a_merged_code(model):
    h = model.history("01340")
    assert set(h["vintage"]) >= {2021, 2026}
    assert set(h["current_code"].dropna()) == {"01015"}
    assert "01340" in set(model.predecessors("01015")["code"])


def test_search_real(model):
    assert model.search("saint-etienne")[0].code == "42218"
    assert model.search("marseille", level="commune")[0].code == "13055"
    assert model.search("Saint-Etiene")[0].code == "42218"


def test_to_dict_real(model):
    d = model.resolve("01001").to_dict()
    assert json.loads(json.dumps(d)) == d
    assert d["population"]["2023"] == 860
    assert set(d["parents"]) >= {"departement", "region", "france"}


def test_geometry_real(model):
    g = model.get("01001").geometry()
    assert g is not None and g.is_valid
    minx, miny, maxx, maxy = g.bounds
    assert 4.8 < minx < maxx < 5.1 and 46.0 < miny < maxy < 46.3
