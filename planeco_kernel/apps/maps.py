"""What every map app shares: the offline base map, the optional OpenStreetMap tiles, open-or-explain,
click-to-select and the « Carte indisponible » note.

:func:`base_map` builds an ipyleaflet map of France with the canvas renderer and no tiles (usable
offline). :class:`MapApp` is the base class of the apps that show territories on such a map (Fiche
territoire, Comparateur territorial, and the next ones): a subclass builds its widgets, calls
:meth:`MapApp._init_map` with its layers, and implements ``select(territory, note=None)``; the base
gives it :meth:`~MapApp.open` (resolve a query or say why not), the base-map toggle, the click on a
territory of the map and the notes under the map.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from planeco_kernel.apps import templates

if TYPE_CHECKING:
    from planeco_kernel.territory import Territory

ATTRIBUTION = "Leaflet | contours : IGN, INSEE (Licence Ouverte)"
TILE_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
"""OpenStreetMap's standard tiles: added to a map only on request (they need the internet)."""
TILE_HOST = ("tile.openstreetmap.org", 443)
TILE_ATTRIBUTION = "© contributeurs OpenStreetMap"
BASEMAP_LABEL = "Fond de carte OpenStreetMap (connexion Internet nécessaire)"


def empty_collection() -> dict[str, Any]:
    """An empty GeoJSON FeatureCollection (a new dict each time: layers may modify theirs)."""
    return {"type": "FeatureCollection", "features": []}


def base_map(height_px: int):
    """An empty map of France for the apps: canvas rendering (thousands of shapes stay fast),
    no base tiles (an OpenStreetMap layer is added only on request), no scroll-wheel zoom."""
    import ipyleaflet as L
    import ipywidgets as W

    m = L.Map(center=(46.6, 2.4), zoom=5, prefer_canvas=True, layers=(), scroll_wheel_zoom=False,
              attribution_control=False, layout=W.Layout(width="100%", height=f"{height_px}px"))
    m.add(L.AttributionControl(position="bottomright", prefix=ATTRIBUTION))
    m.add_class("planeco-map")
    return m


def tiles_reachable(timeout: float = 0.8) -> bool:
    """True when the OpenStreetMap tile server accepts a TCP connection (quick check)."""
    import socket

    try:
        with socket.create_connection(TILE_HOST, timeout=timeout):
            return True
    except OSError:
        return False


def tile_layer():
    """The OpenStreetMap tile layer (only ever added on request)."""
    import ipyleaflet as L

    return L.TileLayer(url=TILE_URL, max_zoom=19, attribution=TILE_ATTRIBUTION, name="OpenStreetMap")


def map_errors() -> tuple[type[BaseException], ...]:
    """The errors that mean « this bundle has no contours »: the map says so, the rest of the app stays."""
    from planeco_kernel.errors import BundleError, GeometryUnavailable

    return (GeometryUnavailable, BundleError)


class MapApp:
    """Base of the apps that show territories on a map.

    A subclass sets ``self.model`` (the territory model), ``self.message`` (an ``ipywidgets.HTML``
    above the app), ``self._search`` (a :class:`~planeco_kernel.apps.search.TerritorySearch`),
    calls :meth:`_init_map` while building its widgets, and implements
    ``select(territory, note=None)``.

    Attributes
    ----------
    map : ipyleaflet.Map
        The map (see :func:`base_map`).
    map_note : ipywidgets.HTML
        Notes under the map (how to use it, what is missing, « Carte indisponible »).
    basemap_toggle : ipywidgets.Checkbox
        Adds or removes the OpenStreetMap tiles.
    """

    model: Any
    message: Any
    _search: Any

    def select(self, t: Territory, note: str | None = None) -> None:  # pragma: no cover - each app has its own
        raise NotImplementedError

    # ------------------------------------------------------------------ map widgets
    def _init_map(self, height_px: int, layers: tuple = (), clickable: tuple = ()):
        """Build ``self.map`` (with ``layers``, bottom first), ``self.map_note`` and ``self.basemap_toggle``.

        A click on a feature of a ``clickable`` layer selects the territory of its ``code`` and
        ``level`` properties.
        """
        import ipywidgets as W

        self.map = base_map(height_px)
        self.map.layers = tuple(layers)
        for layer in clickable:
            layer.on_click(self._on_map_click)
        self._basemap = None
        self.map_note = W.HTML()
        self.map_note.add_class("planeco-map-note")
        self.basemap_toggle = W.Checkbox(value=False, indent=False, description=BASEMAP_LABEL,
                                         style={"description_width": "initial"}, layout=W.Layout(width="auto"))
        self.basemap_toggle.observe(self._on_basemap, names="value")
        return self.map

    def _on_basemap(self, change) -> None:
        if change["new"]:
            if self._basemap is None:
                self._basemap = tile_layer()
            self.map.layers = (self._basemap, *[lyr for lyr in self.map.layers if lyr is not self._basemap])
        elif self._basemap is not None and self._basemap in self.map.layers:
            self.map.layers = tuple(lyr for lyr in self.map.layers if lyr is not self._basemap)

    def _probe_tiles(self) -> None:
        """Switch the tiles on when their server answers (run in a thread: the check may take a second)."""
        if tiles_reachable():
            self.basemap_toggle.value = True

    def _on_map_click(self, feature=None, **_kw) -> None:
        props = (feature or {}).get("properties", {})
        if props.get("code"):
            self.select(self.model.get(props["code"], level=props.get("level", "commune")))

    def show_map_notes(self, notes: list[str]) -> None:
        """The small print under the map."""
        self.map_note.value = templates.macro("common.html", "mentions", notes)

    def show_map_unavailable(self, exc: BaseException, *layers) -> None:
        """Empty ``layers`` and say « Carte indisponible » with the reason."""
        for layer in layers:
            layer.data = empty_collection()
        self.map_note.value = templates.macro("common.html", "map_unavailable", exc)

    def fit(self, bounds: tuple[float, float, float, float], width_px: int = 560, height_px: int = 440) -> None:
        """Centre and zoom the map on ``bounds`` (minx, miny, maxx, maxy)."""
        from planeco_kernel.apps.fiche_data import view_for_bounds

        self.map.center, self.map.zoom = view_for_bounds(bounds, width_px=width_px, height_px=height_px)

    # ------------------------------------------------------------------ open a query
    def open(self, query: str) -> bool:
        """Show the territory designated by ``query`` (code, key or name), or say why it cannot.

        An unknown or ambiguous query is put in the search box, so that the candidates are listed.
        Returns whether a territory was shown.
        """
        from planeco_kernel.errors import AmbiguousTerritoryError, TerritoryNotFoundError

        try:
            res = self.model.resolve(query)
        except AmbiguousTerritoryError:
            self.message.value = templates.macro("common.html", "ambiguous", query)
            self._search.text.value = query
            return False
        except TerritoryNotFoundError as exc:
            self.message.value = templates.macro("common.html", "not_found", query, exc.suggestions)
            self._search.text.value = query
            if not self._search.results.children:  # the alert already says it: one message, not two
                self._search.status.value = ""
            return False
        self._show_resolved(res)
        return True

    def _show_resolved(self, res) -> None:
        """Show a resolved query (override to add a note, e.g. the same code at another level)."""
        self.select(res.territory, note=res.note)
