"""The « Comparateur territorial » app without a browser: data layer, HTML, widgets, on the real bundle."""

from __future__ import annotations

import io
import math

import numpy as np
import pandas as pd
import pytest

from planeco_kernel.apps import comparateur_data as D
from planeco_kernel.apps import comparateur_html as H

pytestmark = pytest.mark.bundle


@pytest.fixture(scope="module")
def data(bundle_dir):
    return D.ComparateurData()


@pytest.fixture(scope="module")
def app(data):
    from planeco_kernel.apps.comparateur import Comparateur

    return Comparateur(data, check_tiles=False)


def _secret_commune(data) -> str:
    """A commune with population but no poverty rate (Filosofi statistical secret)."""
    ds = data.cube.dataset("commune")
    year = data.latest_year("taux_pauvrete", "commune")
    pov = ds["taux_pauvrete"].sel(year=year).to_series()
    pop = ds["population"].sel(year=data.latest_year("population", "commune")).to_series()
    return str(pov[pov.isna() & pop.notna()].index[0])


def test_cards_are_the_engines_numbers(data):
    t = data.model.get("42218")
    cards, missing = data.cards(t, "demographie")
    comp = data.compare(t)
    assert [c.id for c in cards] == data.available_indicators("demographie")
    for c in cards:
        item = comp[c.id]
        assert c.value == item.value and c.year == item.year and c.source == item.source
        assert {p.group for p in c.positions} == {"epci", "scot", "departement", "peers"}
    pop = next(c for c in cards if c.id == "population")
    assert pop.value == t.population[max(t.population)]
    assert missing and all(u.reason and not u.reason.startswith("Indisponible") for u in missing)


def test_missing_value_is_said_never_zero(data):
    t = data.model.get(_secret_commune(data))
    cards, _ = data.cards(t, "revenus_pauvrete")
    card = next(c for c in cards if c.id == "taux_pauvrete")
    assert not card.has_value and card.value is None and card.value_text == D.MISSING_VINTAGE
    html = H.card_html(card)
    assert D.MISSING_VINTAGE in html and ">0" not in html
    table = data.comparison_table([t], "revenus_pauvrete")
    assert pd.isna(table.set_index("indicateur").loc["taux_pauvrete", D.column_name(t)])
    assert D.MISSING_VINTAGE in H.table_html(table, t.key, "Revenus")
    csv = D.csv_bytes(table).decode("utf-8-sig").splitlines()
    line = next(x for x in csv if x.startswith("taux_pauvrete;"))
    assert line.endswith(";")  # empty cell, not 0


@pytest.mark.parametrize(("code", "level", "scope_key"), [
    ("42218", None, "epci:244200770"),     # a commune: the communes of its EPCI
    ("22016", None, "departement:22"),     # an island without EPCI: its département
    ("42", "departement", "departement:42"),
    ("FR", None, "france:FR"),
])
def test_map_scope(data, code, level, scope_key):
    t = data.model.get(code, level=level)
    scope = data.map_scope(t)
    assert scope.key == scope_key
    if scope.level == "commune":
        parent = data.model.get(scope_key.split(":")[1], level=scope_key.split(":")[0])
        assert set(scope.codes) == {m.code for m in parent.members("commune")}


@pytest.mark.parametrize("method", ["quantiles", "jenks"])
def test_choropleth_classes_colours_and_legend(data, method):
    from planeco_kernel import geo

    scope = data.map_scope(data.model.get("42", level="departement"))
    ch = data.choropleth(scope, "densite_population", method)
    vals = data.values("densite_population", "commune", scope.codes)
    assert ch.breaks[0] == vals.min() and ch.breaks[-1] == vals.max()
    assert len(ch.legend) == len(ch.breaks) - 1 + (1 if ch.n_missing else 0)
    feats = ch.geojson["features"]
    assert len(feats) == len(scope.codes)
    ramp = geo.color_ramp(len(ch.breaks) - 1)
    by_code = {f["id"]: f for f in feats}
    for code, v in vals.items():
        f = by_code[code]
        if math.isnan(v):
            assert f["properties"]["style"]["fillColor"] == geo.MISSING_COLOR
        else:
            assert f["properties"]["style"]["fillColor"] in ramp
            assert f["properties"]["value_text"] != D.MISSING_VINTAGE


def test_choropleth_of_secret_values_says_so(data):
    t = data.model.get(_secret_commune(data))
    ch = data.choropleth(data.map_scope(t), "taux_pauvrete")
    assert ch.n_missing >= 1
    assert ch.legend[-1]["label"] == D.MISSING_VINTAGE
    f = next(f for f in ch.geojson["features"] if f["id"] == t.code)
    assert f["properties"]["value_text"] == D.MISSING_VINTAGE


def test_auto_peers_same_level_and_group(data):
    t = data.model.get("42218")
    peers = data.auto_peers(t)
    tab = data.comparator.tables("commune")
    keys = tab.groups["peers"]
    assert len(peers) == D.AUTO_PEERS
    assert all(p.level == "commune" and keys[tab.row[p.code]] == keys[tab.row[t.code]] for p in peers)
    assert data.auto_peers(data.model.get("FR", level="france")) == []


@pytest.mark.parametrize(("params", "expected", "n_problems"), [
    ({"territoire": "42218"}, D.AppState("42218"), 0),
    ({"theme": "revenus"}, D.AppState(theme="revenus_pauvrete"), 0),
    ({"theme": "Démographie"}, D.AppState(theme="demographie"), 0),
    ({"theme": "energie-climat"}, D.AppState(theme="energie_climat"), 0),
    ({"theme": "zzz"}, D.AppState(), 1),
    ({"indicateur": "population"}, D.AppState(indicator="population"), 0),
    ({"indicateur": "popul"}, D.AppState(), 1),
    ({"comparer": "69123, 01001,,13055,75056,33063"}, D.AppState(compared=("69123", "01001", "13055", "75056")), 0),
])
def test_parse_state(data, params, expected, n_problems):
    st = D.parse_state(params, data.themes, data.catalogue.indicators)
    assert (st.territory, st.theme, st.indicator, st.compared) == \
        (expected.territory, expected.theme, expected.indicator, expected.compared)
    assert len(st.problems) == n_problems


def test_state_query_round_trip(data):
    from urllib.parse import parse_qsl

    st = D.AppState("region:84", "demographie", "population", ("42218", "scot:254202195"))
    q = st.query()
    assert q == "territoire=region:84&theme=demographie&indicateur=population&comparer=42218,scot:254202195"
    back = D.parse_state(dict(parse_qsl(q)), data.themes, data.catalogue.indicators)
    assert (back.territory, back.theme, back.indicator, back.compared) == (st.territory, st.theme, st.indicator, st.compared)


def test_exports(data):
    t = data.model.get("42218")
    table = data.comparison_table([t, data.model.get("69123")], "demographie")
    csv = D.csv_bytes(table)
    assert csv.startswith(b"\xef\xbb\xbf")
    back = pd.read_csv(io.BytesIO(csv), sep=";", decimal=",", encoding="utf-8-sig")
    assert list(back.columns) == list(table.columns)
    np.testing.assert_allclose(back["Saint-Étienne (42218)"].to_numpy(dtype=float),
                               table["Saint-Étienne (42218)"].to_numpy(dtype=float), rtol=1e-9)
    x = pd.read_excel(io.BytesIO(D.xlsx_bytes(table)))
    assert x.shape == table.shape
    png = D.chart_png(["A", "B"], [3.5, None], "%", "Test")
    assert png.startswith(b"\x89PNG")


def test_widgets_select_map_click_theme_and_url(app, data):
    app.open("42218")
    assert "data-key='commune:42218'" in app.cards.value
    assert "data-key='commune:42218'" in app.legend.value
    assert "territoire=42218" in app.url_state.value
    feats = app._choro_layer.data["features"]
    assert {f["id"] for f in feats} == set(data.map_scope(data.model.get("42218")).codes)
    # click a commune on the map: it becomes the selection, the map scope (same EPCI) stays
    other = next(f for f in feats if f["id"] != "42218")
    app._on_map_click(feature=other)
    assert app.current.code == other["id"]
    assert f"data-key='commune:{other['id']}'" in app.cards.value
    # theme switch: cards of that theme, map indicator follows
    app.theme.value = "revenus_pauvrete"
    assert "data-indicator='taux_pauvrete'" in app.cards.value
    assert app.indicator.value in data.available_indicators("revenus_pauvrete")
    assert f"data-indicator='{app.indicator.value}'" in app.legend.value
    assert "theme=revenus_pauvrete" in app.url_state.value
    # a theme without commune data: commuting is in the census dossier complet (online only), the
    # electric-car shares are regional series (Écolab): their cards say where to read them, never a
    # number, and the unavailable ones are in the collapsed list
    app.theme.value = "mobilites"
    if any(data.catalogue.get(i).available_at("commune") for i in data.available_indicators("mobilites")):
        pytest.skip("this bundle has commune data for Mobilités")
    if data.available_indicators("mobilites"):
        assert "disponible à l&#39;échelle régionale" in app.cards.value or "disponible à l'échelle régionale" in app.cards.value
    else:
        assert "Aucun indicateur du thème" in app.cards.value
    assert "<details" in app.cards.value


def test_widgets_compare_at_most_four(app, data):
    app.open("42218")
    app.compared.clear()
    for code in ("69123", "13055", "75056", "33063", "31555"):
        app.add_compared(data.model.get(code))
    assert [c.code for c in app.compared] == ["69123", "13055", "75056", "33063"]
    assert "retirez-en un" in app.message.value
    cols = list(app.table.columns[4:])
    assert cols[0] == "Saint-Étienne (42218)" and len(cols) >= 5
    assert "comparer=69123,13055,75056,33063" in app.url_state.value
    assert "planeco-dl-csv" in app.downloads.value and "planeco-dl-png" in app.downloads.value
    app.remove_compared(data.model.get("13055"))
    assert [c.code for c in app.compared] == ["69123", "75056", "33063"]


def test_deep_link_with_problems(app):
    app.compared.clear()
    app.apply({"territoire": "244200770", "theme": "zzz", "comparer": "qqqzz"})
    assert app.current.code == "244200770"
    assert "Thème inconnu" in app.message.value and "introuvable" in app.message.value


def test_unavailable_list_grouped_by_source_and_escaped():
    items = [D.Unavailable("a", "Part <b>A</b>", "Source X", "fichier absent : lancez `planeco data build`"),
             D.Unavailable("b", "Part B", "Source X", "fichier absent : lancez `planeco data build`"),
             D.Unavailable("c", "Part C", "Source Y", "autre raison")]
    html = H.unavailable_html(items)
    assert html.startswith("<details") and "<details open" not in html  # collapsed
    assert "3 indicateurs non disponibles" in html
    assert html.count("Pourquoi et comment l'obtenir") == 2
    assert "<b>A</b>" not in html and "&lt;b&gt;A&lt;/b&gt;" in html
    assert H.unavailable_html([]) == ""


def test_url_state_is_escaped():
    html = H.url_state_html("territoire=42218&theme=x'><script>")
    assert "<script>" not in html and "data-planeco-url='territoire=42218&amp;theme=x&#39;&gt;&lt;script&gt;'" in html


def test_basemap_only_when_reachable(app, monkeypatch):
    from planeco_kernel.apps import comparateur as C

    def refuse(*_a, **_k):
        raise OSError("réseau coupé (test)")

    monkeypatch.setattr("socket.create_connection", refuse)
    assert C.tiles_reachable(timeout=0.1) is False
    app.basemap_toggle.value = False
    app._probe_tiles()
    assert app.basemap_toggle.value is False and not any(getattr(lyr, "url", "") == C.TILE_URL for lyr in app.map.layers)
    app.basemap_toggle.value = True  # what the probe does when the tile server answers
    assert app.map.layers[0].url == C.TILE_URL
    app.basemap_toggle.value = False
    assert not any(getattr(lyr, "url", "") == C.TILE_URL for lyr in app.map.layers)


def test_empty_themes_are_marked_in_their_tab(app, data):
    labels = dict((tid, label) for label, tid in app.theme.options)
    for tid, label in data.themes.items():
        if data.available_indicators(tid):
            assert labels[tid] == label
        else:
            assert labels[tid] == f"{label} (aucune donnée)"


@pytest.mark.parametrize(("n_classes", "expected"), [(1, "1 classe."), (5, "5 classes.")])
def test_legend_class_count_agrees(data, n_classes, expected):
    from types import SimpleNamespace

    legend = [{"label": f"c{i}", "color": "#fff"} for i in range(n_classes)]
    ch = SimpleNamespace(legend=legend, n_missing=0, breaks=[0, 1], method_text="quantiles", year=2023, label="X",
                         indicator="x", method="quantiles")
    scope = SimpleNamespace(key="k", title="T")
    assert f"Classes : quantiles, {expected}" in H.legend_html(ch, scope, "commune:1")


def test_regional_series_in_the_comparateur(data):
    """Écolab series: a value and a sentence for a région, the level note (never a number) for a commune."""
    if not data.cube.status["part_sau_bio"].available:
        pytest.skip("bundle built without the Écolab series")
    region = data.model.get("region:84")
    cards, _ = data.cards(region, "agriculture_biodiversite")
    bio = next(c for c in cards if c.id == "part_sau_bio")
    assert bio.has_value and bio.sentence and "Objectif national" in bio.sentence
    commune = data.model.get("42218")
    cards, _ = data.cards(commune, "agriculture_biodiversite")
    bio = next(c for c in cards if c.id == "part_sau_bio")
    assert not bio.has_value and bio.value_text == "disponible à l'échelle régionale / nationale"
    ch = data.choropleth(data.map_scope(commune), "part_sau_bio")
    assert all(v is None for v in ch.values.values())
    assert [x["label"] for x in ch.legend] == ["disponible à l'échelle régionale / nationale"]


def test_preheated_app_leaves_a_deep_link_no_large_group_to_sort(bundle_dir):
    """Building the app (what a preheated kernel does before the visitor) sorts every large group:
    opening a deep link then only sorts its own small groups (EPCI, SCoT, département)."""
    from planeco_kernel.apps.comparateur import Comparateur
    from planeco_kernel.indicators.comparison import PRECOMPUTED_GROUP_SIZE, Comparator

    data = D.ComparateurData()
    data.comparator = Comparator(data.cube)  # nothing computed yet by the other tests
    app = Comparateur(data, check_tiles=False)
    tab = app.data.comparator.tables("commune")
    before = set(tab._stats)
    assert ("france", "FR") in before
    app.apply({"territoire": "42218"})
    assert app.current is not None and app.current.code == "42218" and app.choro is not None
    added = set(tab._stats) - before
    sizes = {key: int((tab.groups[g] == k).sum()) for key in added for g, k in [key]}
    assert all(n < PRECOMPUTED_GROUP_SIZE for n in sizes.values()), sizes
