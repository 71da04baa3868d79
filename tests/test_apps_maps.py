"""The MapApp base of the map apps, on an invented two-territory model (no bundle needed)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from planeco_kernel.apps import maps
from planeco_kernel.errors import AmbiguousTerritoryError, GeometryUnavailable, TerritoryNotFoundError

EVIL = "<b>Nulle-part</b>"


class _Model:
    """Invented test data: one commune « Alpha » (code 00001)."""

    def __init__(self):
        self.alpha = SimpleNamespace(code="00001", level="commune", key="commune:00001", name="Alpha")

    def resolve(self, query):
        if query == "ambigu":
            raise AmbiguousTerritoryError(query, ["A", "B"])
        if query != "00001":
            raise TerritoryNotFoundError(query, ["Alpha (00001)"])
        return SimpleNamespace(territory=self.alpha, note="Code complété.", matched_by="code")

    def get(self, code, level="commune"):
        assert (code, level) == ("00001", "commune")
        return self.alpha


class _App(maps.MapApp):
    def __init__(self):
        import ipyleaflet as L
        import ipywidgets as W

        self.model = _Model()
        self.message = W.HTML()
        self._search = SimpleNamespace(text=W.Text(), results=W.VBox(), status=W.HTML("ancien statut"))
        self.layer = L.GeoJSON(data={"type": "FeatureCollection", "features": [{"type": "Feature"}]})
        self._init_map(300, (self.layer,), clickable=(self.layer,))
        self.selected = []

    def select(self, t, note=None):
        self.selected.append((t.code, note))


@pytest.fixture()
def app():
    return _App()


def test_open_resolves_or_explains(app):
    assert app.open("00001") is True and app.selected == [("00001", "Code complété.")]
    assert app.open(EVIL) is False
    assert "Territoire introuvable" in app.message.value and "&lt;b&gt;Nulle-part" in app.message.value
    assert "Vouliez-vous dire : Alpha (00001) ?" in app.message.value
    assert app._search.text.value == EVIL and app._search.status.value == ""  # one message, not two
    assert app.open("ambigu") is False and "désigne plusieurs territoires" in app.message.value


def test_click_selects_the_feature_territory(app):
    app._on_map_click(feature={"properties": {"code": "00001", "level": "commune"}})
    app._on_map_click(feature={"properties": {}})  # a click outside any territory: nothing
    assert app.selected == [("00001", None)]


def test_basemap_toggle_adds_and_removes_the_tiles(app):
    assert not any(getattr(lyr, "url", "") == maps.TILE_URL for lyr in app.map.layers)
    app.basemap_toggle.value = True
    assert app.map.layers[0].url == maps.TILE_URL and app.map.layers[1] is app.layer
    app.basemap_toggle.value = False
    assert list(app.map.layers) == [app.layer]


def test_map_unavailable_empties_the_layers_and_says_why(app):
    app.show_map_unavailable(GeometryUnavailable(EVIL), app.layer)
    assert app.layer.data == {"type": "FeatureCollection", "features": []}
    assert "Carte indisponible" in app.map_note.value and "<b>" not in app.map_note.value
    assert GeometryUnavailable in maps.map_errors()
    app.show_map_notes(["Cliquez <ici>"])
    assert app.map_note.value == "<p class='planeco-mention'>Cliquez &lt;ici&gt;</p>"


def test_tiles_probe_offline(app, monkeypatch):
    def refuse(*_a, **_k):
        raise OSError("réseau coupé (test)")

    monkeypatch.setattr("socket.create_connection", refuse)
    app._probe_tiles()
    assert app.basemap_toggle.value is False
