"""The territory model on a tiny INVENTED bundle (tests/fixtures/territory/fake_bundle.py).

Names and codes are borrowed from real places; every figure here is invented test data.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import pandas as pd
import pytest
import shapely

from fixtures.territory.fake_bundle import COMMUNES, write_fake_bundle
from planeco_kernel.bundle import schema
from planeco_kernel.errors import (
    AmbiguousTerritoryError,
    BundleError,
    ConfigError,
    SchemaError,
    TerritoryNotFoundError,
)
from planeco_kernel.territory import Resolution, Territory, TerritoryModel, clear_cache, load_model


@pytest.fixture(scope="module")
def fake_dir(tmp_path_factory) -> Path:
    return write_fake_bundle(tmp_path_factory.mktemp("fake_bundle"))


@pytest.fixture(scope="module")
def model(fake_dir) -> TerritoryModel:
    return load_model(fake_dir)


def test_fixture_bundle_matches_the_schema(fake_dir):
    for table in (schema.TERRITORIES, schema.POPULATION, schema.CODE_HISTORY, schema.SCOT_MEMBERS,
                  schema.DISPLAY_GEOMETRY, schema.COMMUNE_GEOMETRY, schema.COG_COMMUNES):
        schema.validate(pd.read_parquet(fake_dir / table.path), table)


# -- get: exact look-ups ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("code", "level", "key"),
    [
        ("01001", None, "commune:01001"),
        (" 01001 ", None, "commune:01001"),
        ("75", None, "departement:75"),
        ("75", "region", "region:75"),
        ("75", "région", "region:75"),
        ("region:75", None, "region:75"),
        ("departement:75", None, "departement:75"),
        ("974", None, "departement:974"),
        ("04", None, "region:04"),
        ("200046977", None, "epci:200046977"),
        ("200 046 977", None, "epci:200046977"),
        ("250100001", None, "scot:250100001"),
        ("247200132", None, "epci:247200132"),  # SIREN of an EPCI that also carries a SCoT
        ("247200132", "scot", "scot:247200132"),
        ("scot:247200132", None, "scot:247200132"),
        ("FR", None, "france:FR"),
        ("fr", None, "france:FR"),
        ("france:FR", None, "france:FR"),
    ],
)
def test_get(model, code, level, key):
    assert model.get(code, level=level).key == key


@pytest.mark.parametrize(
    ("code", "level", "match"),
    [
        ("99999", None, "Territoire inconnu : « 99999 »"),
        ("01001", "epci", "au niveau « epci ».*commune:01001"),
        ("01340", None, "01015 \\(Arboys en Bugey, successeur de 01340\\)"),
        ("region:01", None, "Territoire inconnu"),
        ("1001", None, "Vouliez-vous dire : 01001"),
    ],
)
def test_get_unknown(model, code, level, match):
    with pytest.raises(TerritoryNotFoundError, match=match):
        model.get(code, level=level)


def test_unknown_level_is_a_config_error(model):
    with pytest.raises(ConfigError, match="Niveau inconnu : « canton ».*commune, epci, scot"):
        model.get("01001", level="canton")


# -- resolve: anything a user types -------------------------------------------------------------
@pytest.mark.parametrize(
    ("query", "kwargs", "key", "matched_by", "note"),
    [
        ("01001", {}, "commune:01001", "code", None),
        ("1001", {}, "commune:01001", "code", "zéro initial"),
        ("200046977", {}, "epci:200046977", "siren", None),
        ("247200132", {}, "epci:247200132", "siren", "scot:247200132"),
        ("75", {}, "departement:75", "code", "région Nouvelle-Aquitaine.*« region:75 »"),
        ("93", {}, "departement:93", "code", "Provence-Alpes-Côte d'Azur.*region:93"),
        ("75", {"level": "region"}, "region:75", "code", None),
        ("region:75", {}, "region:75", "key", None),
        ("FR", {}, "france:FR", "code", None),
        ("01340", {}, "commune:01015", "old_code", "01340 \\(Saint-Bois\\) a fusionné dans 01015 Arboys en Bugey"),
        ("42190", {}, "commune:42218", "old_code", "42190 \\(Rochetaillée\\).*commune déléguée.*42218 Saint-Étienne"),
        ("75101", {}, "commune:75056", "arrondissement", "arrondissement municipal de 75056 Paris"),
        ("69381", {}, "commune:69123", "arrondissement", "Lyon 1er Arrondissement"),
        ("13201", {}, "commune:13055", "arrondissement", "Arrondissement municipal de Marseille.*commune entière"),
        ("Saint-Étienne", {}, "commune:42218", "name", None),
        ("saint etienne", {}, "commune:42218", "name", None),
        ("st etienne", {}, "commune:42218", "name", None),
        ("St-Etienne", {}, "commune:42218", "name", None),
        ("ST ÉTIENNE", {}, "commune:42218", "name", None),
        ("Ste Foy les Lyon", {}, "commune:69202", "name", None),
        ("sainte-foy-lès-lyon", {}, "commune:69202", "name", None),
        ("L'Abergement-Clémenciat", {}, "commune:01001", "name", None),
        ("l abergement clemenciat", {}, "commune:01001", "name", None),
        ("Abergement-Clémenciat", {}, "commune:01001", "name", None),
        ("Abergement-Clémenciat (L')", {}, "commune:01001", "name", None),
        ("le mans", {}, "commune:72181", "name", None),
        ("Mans", {}, "commune:72181", "name", None),
        ("la rochelle", {}, "commune:17300", "name", None),
        ("ile de sein", {}, "commune:29083", "name", None),
        ("Paris", {}, "commune:75056", "name", "département 75"),
        ("Paris", {"level": "departement"}, "departement:75", "name", None),
        ("departement:Paris", {}, "departement:75", "name", None),
        ("Saint-Denis (93)", {}, "commune:93066", "name", None),
        ("Saint-Denis", {"departement": "974"}, "commune:97411", "name", None),
        ("Nouvelle Aquitaine", {}, "region:75", "name", None),
        ("Seine-St-Denis", {}, "departement:93", "name", None),
        ("Bugey Sud", {}, "epci:200040350", "name_word", "interprété comme CC Bugey Sud"),
        ("Métropole de Lyon", {}, "epci:200046977", "name", None),
        ("Bourg-en-Br", {}, "commune:01053", "name_prefix", "interprété comme Bourg-en-Bresse"),
        ("Saint-Etiene", {}, "commune:42218", "name_fuzzy", "introuvable tel quel"),
        ("Bourg en Bresee", {}, "commune:01053", "name_fuzzy", "Bourg-en-Bresse"),
        ("Bourgen Bresse", {}, "commune:01053", "name", None),  # same letters, spaces differ
        ("La Réunion", {}, "departement:974", "name", "La Réunion \\(commune 47222.*region:04"),
        ("la reunion", {"level": "commune"}, "commune:47222", "name", None),
    ],
)
def test_resolve(model, query, kwargs, key, matched_by, note):
    res = model.resolve(query, **kwargs)
    assert isinstance(res, Resolution)
    assert res.territory.key == key
    assert res.matched_by == matched_by
    if note is None:
        assert res.note is None
    else:
        assert res.note is not None
        assert re.search(note, res.note), res.note


@pytest.mark.parametrize(
    ("query", "kwargs", "candidates"),
    [
        ("Saint-Denis", {}, ["Saint-Denis (commune 93066, Seine-Saint-Denis)", "Saint-Denis (commune 97411, La Réunion)"]),
        ("st denis", {"level": "commune"}, ["93066", "97411"]),
        ("Saint-Ch", {"departement": "42"}, None),  # single prefix match: resolves, tested below
    ],
)
def test_resolve_ambiguous(model, query, kwargs, candidates):
    if candidates is None:
        assert model.resolve(query, **kwargs).territory.code == "42207"
        return
    with pytest.raises(AmbiguousTerritoryError, match="désigne plusieurs territoires") as exc:
        model.resolve(query, **kwargs)
    text = " ".join(exc.value.candidates)
    for c in candidates:
        assert c in text


def test_resolve_ambiguous_prefix_lists_most_populous_first(model):
    with pytest.raises(AmbiguousTerritoryError) as exc:
        model.resolve("Saint-D", level="commune")
    assert [c.split("(commune ")[1][:5] for c in exc.value.candidates] == ["97411", "93066", "01054"]


@pytest.mark.parametrize(
    ("query", "kwargs", "suggestion"),
    [
        ("Saint-Denys", {}, "Saint-Denis (commune 93066, Seine-Saint-Denis)"),  # two equally close: no guess
        ("Lyo Metropole", {}, "Métropole de Lyon"),
        ("zzzzzz", {}, []),
        ("Lyon", {"level": "scot"}, None),
        ("99999", {}, []),
        ("", {}, []),
    ],
)
def test_resolve_unknown_with_suggestions(model, query, kwargs, suggestion):
    with pytest.raises(TerritoryNotFoundError, match="Territoire inconnu") as exc:
        model.resolve(query, **kwargs)
    if isinstance(suggestion, str):
        assert any(suggestion in s for s in exc.value.suggestions), exc.value.suggestions
        assert "Vouliez-vous dire" in str(exc.value)
    elif suggestion == []:
        assert exc.value.suggestions == []
        assert "planeco territory search" in str(exc.value)


# -- search ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "kwargs", "first"),
    [
        ("saint-etienne", {}, ["commune:42218", "epci:244200770"]),
        ("st etienne", {"level": "epci"}, ["epci:244200770"]),
        ("saint denis", {}, ["commune:97411", "commune:93066", "commune:01054", "departement:93"]),
        ("saint denis", {"departement": "01"}, ["commune:01054"]),
        ("lyon", {}, ["commune:69123", "epci:200046977", "commune:69202"]),
        ("01001", {}, ["commune:01001"]),
        ("Saint-Etiene", {}, ["commune:42218"]),
        ("qqqqq", {}, []),
    ],
)
def test_search_ranking(model, text, kwargs, first):
    keys = [t.key for t in model.search(text, **kwargs)]
    assert keys[: len(first)] == first
    if not first:
        assert keys == []


def test_search_limit_and_level(model):
    found = model.search("saint", limit=3)
    assert len(found) == 3
    assert all(t.level == "commune" for t in model.search("saint", level="commune"))
    assert model.search("saint", limit=0) == []


# -- Territory attributes -------------------------------------------------------------------
def test_commune_attributes(model):
    t = model.get("01001")
    assert isinstance(t, Territory)
    assert (t.code, t.level, t.name, t.key) == ("01001", "commune", "L'Abergement-Clémenciat", "commune:01001")
    assert t.nature is None and t.flags == ()
    assert t.population == {2018: 780, 2019: 785, 2020: 790, 2021: 795, 2022: 800, 2023: 810}
    assert t.population_latest == (2023, 810)
    assert t.population_sources[2023] == "communes.json@5.3.0"
    assert t.parents == {"epci": "200069193", "scot": "250100001", "departement": "01", "region": "84",
                         "france": "FR"}
    assert t.parent("departement").name == "Ain"
    assert t.parent("france").key == "france:FR"
    assert t.parent("region").code == "84"
    assert t.members_count == 1
    assert t.members() == []


def test_missing_population_year_is_omitted(model):
    t = model.get("01015")
    assert 2021 not in t.population and t.population[2022] == 660
    assert t.flags == ("merged",)


def test_commune_without_epci(model):
    t = model.get("29083")
    assert "epci" not in t.parents and t.parent("epci") is None
    assert t.flags == ("no_epci",)
    assert t.geometry() is None and t.geometry(display=False) is None


def test_epci_and_scot_hierarchy(model):
    epci = model.get("200040350")
    assert epci.nature == "CC"
    assert epci.parents == {"scot": "250100001", "departement": "01", "region": "84", "france": "FR"}
    scot = epci.parent("scot")
    assert scot.level == "scot" and scot.nature == "SMF"
    assert [e.code for e in scot.members("epci")] == ["200040350", "200069193"]
    assert [c.code for c in scot.members()] == ["01001", "01015"]
    assert scot.members_count == 2
    assert set(model.scot_members("250100001")["member_code"]) == {"200040350", "200069193"}
    # population of an aggregate = sum of its members' (invented) figures
    assert scot.population[2023] == 810 + 665


def test_members_of_departement_region_and_france(model):
    ain = model.get("01")
    assert [c.code for c in ain.members()] == ["01001", "01015", "01053", "01054"]
    assert ain.members_count == 4
    assert [e.code for e in ain.members("epci")] == ["200040350", "200069193", "200071751"]
    assert [d.code for d in model.get("84", level="region").members("departement")] == ["01", "42", "69"]
    france = model.get("FR")
    assert len(france.members()) == len(COMMUNES) == france.members_count
    assert france.parents == {} and france.parent("region") is None
    assert model.get("01001").members("epci") == []


def test_territory_equality_and_repr(model):
    assert model.get("01001") == model.resolve("L'Abergement-Clémenciat").territory
    assert len({model.get("01001"), model.get("01001")}) == 1
    assert repr(model.get("75")) == "Territory(departement:75 'Paris')"
    assert model.get("93066").label() == "Saint-Denis (commune 93066, Seine-Saint-Denis)"


def test_geometry(model):
    g = model.get("01001").geometry()
    assert isinstance(g, shapely.Polygon) and g.is_valid
    assert g.equals(model.get("01001").geometry(display=False))
    assert model.get("84", level="region").geometry() is not None


def test_geometry_fallbacks(tmp_path):
    d = write_fake_bundle(tmp_path / "b")
    (d / "geometry" / "display.parquet").unlink()
    m = load_model(d)
    assert m.get("01001").geometry() is not None  # communes: full contour when no display layer
    with pytest.raises(BundleError, match="Contours absents.*planeco data build"):
        m.get("01", level="departement").geometry()


def test_to_dict_is_json_ready(model):
    d = model.resolve("01340").to_dict()
    assert json.loads(json.dumps(d)) == d
    assert d["code"] == "01015" and d["level"] == "commune" and d["name"] == "Arboys en Bugey"
    assert d["population"] == {"2018": 640, "2019": 645, "2020": 650, "2022": 660, "2023": 665}
    assert d["parents"] == {"epci": "200040350", "scot": "250100001", "departement": "01", "region": "84",
                            "france": "FR"}
    assert d["parent_names"]["epci"] == "CC Bugey Sud"
    assert d["members_count"] == 1
    assert "Saint-Bois" in d["note"]
    assert "note" not in model.resolve("01015").to_dict()


# -- tables ---------------------------------------------------------------------------------------
def test_territories_frame(model):
    df = model.territories("epci")
    assert len(df) == 12 and set(df["level"]) == {"epci"}
    assert list(df.columns) == list(schema.TERRITORIES.column_names)
    assert df["population"].dtype == "Int64" and df["code"].dtype == "string"
    df.loc[0, "name"] = "changed"
    assert model.territories("epci").loc[0, "name"] != "changed"


def test_history(model):
    h = model.history("01340")
    assert list(h["vintage"]) == list(range(2021, 2027))
    assert set(h["current_code"]) == {"01015"} and set(h["event"]) == {"merged"}
    assert model.history("99999").empty
    assert set(model.predecessors("01015")["code"]) == {"01340"}
    assert set(model.predecessors("42218")["code"]) == {"42190"}


# -- loading and cache ----------------------------------------------------------------------
def test_load_model_is_cached_and_reloads_on_manifest_change(tmp_path):
    d = write_fake_bundle(tmp_path / "b")
    m1 = load_model(d)
    assert load_model(d) is m1
    manifest = d / "manifest.json"
    st = manifest.stat()
    os.utime(manifest, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    m2 = load_model(d)
    assert m2 is not m1 and load_model(d) is m2
    clear_cache()
    assert load_model(d) is not m2


def test_load_model_uses_planeco_data_dir(fake_dir, monkeypatch):
    monkeypatch.setenv("PLANECO_DATA_DIR", str(fake_dir))
    assert load_model().data_dir == fake_dir.resolve()


def test_missing_bundle_says_how_to_build(tmp_path):
    with pytest.raises(BundleError, match="planeco data build"):
        load_model(tmp_path / "nothing")


def test_schema_drift_is_an_error(tmp_path):
    d = write_fake_bundle(tmp_path / "b")
    df = pd.read_parquet(d / "territories.parquet").rename(columns={"epci_code": "epci"})
    df.to_parquet(d / "territories.parquet")
    with pytest.raises(SchemaError, match=r"territories .*missing columns \['epci_code'\]"):
        load_model(d)


def test_missing_optional_table_is_a_bundle_error(tmp_path):
    d = write_fake_bundle(tmp_path / "b")
    (d / "code_history.parquet").unlink()
    m = load_model(d)
    assert m.get("01001").name == "L'Abergement-Clémenciat"
    with pytest.raises(BundleError, match="code_history.*planeco data build"):
        m.history("01340")


def test_lookups_are_fast(model):
    model.resolve("st etienne")  # build the name index
    n = 2000
    t0 = time.perf_counter()
    for _ in range(n):
        model.get("01001")
    per_get = (time.perf_counter() - t0) / n
    t0 = time.perf_counter()
    for _ in range(n):
        model.resolve("st etienne")
    per_resolve = (time.perf_counter() - t0) / n
    assert per_get < 50e-6 and per_resolve < 200e-6, (per_get, per_resolve)


def test_ambiguous_name_hints_at_the_departement(model):
    with pytest.raises(AmbiguousTerritoryError, match=r"« Saint-Denis \(974\) », ou --departement 974"):
        model.resolve("Saint-Denis")
    assert model.resolve("Saint-Denis (974)").territory.code == "97411"
