"""The « Comparateur territorial » app: indicator cards by theme, choropleth map, side-by-side comparison.

The notebook ``apps/comparateur.ipynb`` only calls :func:`show`. Numbers come from
:class:`~planeco_kernel.apps.comparateur_data.ComparateurData` (the indicator engine), HTML from
:mod:`planeco_kernel.apps.comparateur_html`; this module lays them out with ipywidgets and ipyleaflet.

Deep link: ``…/comparateur.ipynb?territoire=CODE&theme=THEME&indicateur=ID&comparer=CODE1,CODE2``.
The address bar follows the selection: the app writes the state into a hidden element
(``data-planeco-url``) that the planeco template's script copies with ``history.replaceState``.

Map: one plain GeoJSON layer with precomputed styles (see STACK.md), canvas renderer, the selected
territory outlined on top, hover shows name and value, a click selects the commune. The
OpenStreetMap base map is added only when the tile server answers; without it the contours suffice.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import ipywidgets as W

from planeco_kernel import fmt
from planeco_kernel.apps import comparateur_html as H
from planeco_kernel.apps import templates
from planeco_kernel.apps.comparateur_data import (
    MAX_COMPARED, PEER_GROUPS, AppState, ComparateurData, MapScope, chart_png, csv_bytes, parse_state, xlsx_bytes,
)
from planeco_kernel.apps.fiche_data import METROPOLE_BOUNDS, contour_geojson, level_label
from planeco_kernel.apps.maps import TILE_URL, MapApp, empty_collection, map_errors, tiles_reachable  # noqa: F401
from planeco_kernel.apps.request import deep_link_value
from planeco_kernel.apps.search import TerritorySearch

if TYPE_CHECKING:
    from planeco_kernel.territory import Territory

OUTLINE_STYLE = {"color": "#e1000f", "weight": 3, "opacity": 1, "fill": False}
MAP_HEIGHT_PX = 480
MAP_WIDTH_PX = 900


def _common(name: str, *args: Any, **kwargs: Any) -> str:
    """A fragment of ``common.html`` (messages, notes, headings shared by the apps)."""
    return templates.macro("common.html", name, *args, **kwargs)


class Comparateur(MapApp):
    """The app's widgets and behaviour (map behaviour from :class:`~planeco_kernel.apps.maps.MapApp`).

    Parameters
    ----------
    data : ComparateurData, optional
        The data layer (default: built on the bundle of ``PLANECO_DATA_DIR``).

    Attributes
    ----------
    widget : ipywidgets.Box
        The whole app, to display.
    current : Territory or None
        The territory shown.
    compared : list of Territory
        Territories the user added to the comparison (at most :data:`MAX_COMPARED`).
    """

    def __init__(self, data: ComparateurData | None = None, *, check_tiles: bool = True):
        self.data = data or ComparateurData()
        sample = self.data.warm_up()
        self.model = self.data.model
        self.current: Territory | None = None
        self.compared: list[Territory] = []
        self.peers: list[Territory] = []
        self.scope: MapScope | None = None
        self.choro = None
        self.table = None
        self._build()
        if sample is not None:
            self._warm_fragments(sample)
        if check_tiles:
            threading.Thread(target=self._probe_tiles, daemon=True).start()

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        lay = W.Layout
        d = self.data
        intro = W.HTML(_common(
            "intro", "Comparateur territorial",
            "Choisissez un territoire (commune, intercommunalité, SCoT, département, région ; "
            "accents facultatifs) : ses indicateurs par thème, sa place parmi ses voisins, une carte et une "
            "comparaison avec les territoires de votre choix."))
        self._search = TerritorySearch(self.model, self.select, tooltip_prefix="Afficher les indicateurs de")
        self.search, self.results = self._search.text, self._search.results
        self.message = W.HTML()
        self.message.add_class("planeco-message")
        self.url_state = W.HTML(H.url_state_html(""), layout=lay(display="none"))
        self.url_state.add_class("planeco-url")

        self.header = W.HTML()
        self.header.add_class("planeco-cmp-header")
        themes = d.themes
        self.theme = W.ToggleButtons(
            options=[(label if d.available_indicators(tid) else f"{label} (aucune donnée)", tid)
                     for tid, label in themes.items()], value=next(iter(themes)),
            tooltips=[f"{fmt.plural(len(d.available_indicators(t)), 'indicateur')} avec données sur "
                      f"{len(d.catalogue.by_theme(t))}" for t in themes],
            style={"button_width": "auto"}, layout=lay(width="100%"))
        self.theme.add_class("planeco-themes")
        self.theme.observe(self._on_theme, names="value")
        self.cards = W.HTML()
        self.cards.add_class("planeco-cmp-cards")

        # map
        cat = d.catalogue
        options = [(f"{themes[cat.indicators[i].theme]} — {cat.indicators[i].label}", i) for i in d.available_indicators()]
        self.indicator = W.Dropdown(options=options, value=options[0][1], description="Indicateur cartographié",
                                    style={"description_width": "initial"}, layout=lay(width="100%", max_width="640px"))
        self.indicator.add_class("planeco-indicator")
        self.indicator.observe(self._on_indicator, names="value")
        self.method = W.ToggleButtons(options=[("Quantiles", "quantiles"), ("Seuils naturels (Jenks)", "jenks")],
                                      value="quantiles", description="Classes",
                                      style={"button_width": "auto", "description_width": "initial"})
        self.method.add_class("planeco-method")
        self.method.observe(self._on_indicator, names="value")
        self._make_map()
        self.legend = W.HTML()
        self.legend.add_class("planeco-cmp-legend")
        map_box = W.VBox([W.HTML(_common("h2", "Carte")), self.indicator, self.method, self.map,
                          self.legend, self.map_note, self.basemap_toggle], layout=lay(width="100%"))

        # comparison
        self._compare_search = TerritorySearch(self.model, self.add_compared, css_class="planeco-compare-search",
                                               description="Ajouter un territoire à comparer",
                                               placeholder="ex. Roanne, CA du Grand Annecy, 69…",
                                               tooltip_prefix="Ajouter à la comparaison :")
        self.compared_box = W.HBox(layout=lay(flex_flow="row wrap"))
        self.compared_box.add_class("planeco-compared")
        self.peers_toggle = W.Checkbox(value=True, indent=False, style={"description_width": "initial"},
                                       description="Ajouter automatiquement 3 territoires comparables proches",
                                       layout=lay(width="auto"))
        self.peers_toggle.observe(lambda _c: self._render_comparison(), names="value")
        # « communes du même programme » (ANCT): offered when the commune takes part in one
        self.peer_group = W.Dropdown(options=[(label, key) for key, label in PEER_GROUPS.items()], value="peers",
                                     description="Territoires ajoutés", style={"description_width": "initial"},
                                     layout=lay(width="auto", display="none"))
        self.peer_group.add_class("planeco-peer-group")
        self.peer_group.observe(lambda _c: self._update_peers(), names="value")
        self.table_html = W.HTML()
        self.table_html.add_class("planeco-cmp-table-box")
        self.chart = W.HTML()
        self.chart.add_class("planeco-cmp-chart")
        self.downloads = W.HTML()
        self.downloads.add_class("planeco-downloads")
        compare_box = W.VBox([W.HTML(H.compare_intro_html(MAX_COMPARED)),
                              self._compare_search.widget, self.compared_box, self.peers_toggle, self.peer_group,
                              self.table_html, self.chart, self.downloads], layout=lay(width="100%"))

        self.body = W.VBox([self.header, self.theme, self.cards, map_box, compare_box], layout=lay(display="none"))
        self.body.add_class("planeco-cmp-body")
        self.widget = W.VBox([intro, self._search.widget, self.message, self.url_state, self.body],
                             layout=lay(width="100%"))
        self.widget.add_class("planeco-comparateur")

    def _make_map(self):
        import ipyleaflet as L

        self._choro_layer = L.GeoJSON(data=empty_collection(), name="Indicateur",
                                      hover_style={"weight": 2.5, "color": "#161616", "fillOpacity": 0.9})
        self._choro_layer.on_hover(self._on_map_hover)
        self._outline_layer = L.GeoJSON(data=empty_collection(), name="Territoire choisi", style=OUTLINE_STYLE)
        m = self._init_map(MAP_HEIGHT_PX, (self._choro_layer, self._outline_layer), clickable=(self._choro_layer,))
        self.hover = W.HTML(H.hover_placeholder_html())
        self.hover.add_class("planeco-map-hover")
        m.add(L.WidgetControl(widget=self.hover, position="topright"))
        return m

    def _warm_fragments(self, t: Territory) -> None:
        """Render once, into nothing, the HTML fragments a first selection of ``t`` shows (templates
        compiled before the visitor arrives); the widgets are left untouched."""
        d, theme = self.data, self.theme.value
        H.header_html(t, level_label, [p for p in (t.parent(lv) for lv in ("epci", "departement")) if p])
        H.cards_html(t, d.themes[theme], *d.cards(t, theme))
        scope = d.map_scope(t)
        H.legend_html(d.choropleth(scope, self.indicator.value, self.method.value), scope, t.key)
        table = d.comparison_table([t], theme)
        H.table_html(table, t.key, d.themes[theme])
        H.chart_html(b"", "", t.key, self.indicator.value)
        H.downloads_html(t.key, [dict(data=b"", filename="a.csv", mime="text/csv", label="CSV", css="planeco-dl-csv")])
        H.url_state_html(AppState(territory=deep_link_value(t)).query())

    # ------------------------------------------------------------------ selection
    def select(self, t: Territory, note: str | None = None) -> None:
        """Show territory ``t``: header, cards, map, then the comparison."""
        self.current = t
        self._search.clear()
        self.message.value = _common("message", note) if note else ""
        self._render_header(t)
        self._render_cards()
        self._render_map()
        self.body.layout.display = "flex"
        has_programme = self.data.programme_of(t) is not None
        self.peer_group.layout.display = "flex" if has_programme else "none"
        if not has_programme and self.peer_group.value != "peers":
            self.peer_group.value = "peers"  # observer refreshes the peers
        self._update_peers(render=False)
        self._render_comparison()
        self._sync_url()

    def _update_peers(self, render: bool = True) -> None:
        """The automatic peers of the chosen group: nearest comparables, or the same ANCT programme."""
        t = self.current
        if t is None:
            return
        group = self.peer_group.value
        if group == "peers":
            self.peers = self.data.auto_peers(t)
        else:
            self.peers = self.data.programme_peers(t, scope=group.removeprefix("programme_"))
        if render:
            self._render_comparison()

    def _render_header(self, t: Territory) -> None:
        parents = [p for p in (t.parent(lv) for lv in ("epci", "scot", "departement", "region")) if p]
        self.header.value = H.header_html(t, level_label, parents)

    def _render_cards(self) -> None:
        t = self.current
        if t is None:
            return
        theme = self.theme.value
        cards, missing = self.data.cards(t, theme)
        self.cards.value = H.cards_html(t, self.data.themes[theme], cards, missing)

    # ------------------------------------------------------------------ map
    def _render_map(self, force: bool = False) -> None:
        t = self.current
        if t is None:
            return
        scope = self.data.map_scope(t)
        try:
            if force or self.scope is None or scope.key != self.scope.key or self.choro is None \
                    or self.choro.indicator != self.indicator.value or self.choro.method != self.method.value:
                ch = self.data.choropleth(scope, self.indicator.value, self.method.value)
                self._choro_layer.data = ch.geojson
                if self.scope is None or scope.key != self.scope.key:
                    self._fit(scope)
                self.scope, self.choro = scope, ch
                # The outline must be drawn after the new choropleth (one canvas, drawing order):
                # re-create it, as an unchanged value would not be sent again.
                self._outline_layer.data = empty_collection()
            contour = contour_geojson(t)
            self._outline_layer.data = self._outline(contour)
        except map_errors() as exc:  # a bundle without contours: say so, keep the cards
            self.show_map_unavailable(exc, self._choro_layer, self._outline_layer)
            return
        notes = ["Survolez une commune pour lire sa valeur ; cliquez pour la choisir."
                 if scope.level == "commune" else "Cliquez sur un département pour le choisir."]
        if self.choro.n_missing:
            notes.append(f"{fmt.plural(self.choro.n_missing, 'territoire en gris', 'territoires en gris')} : "
                         "donnée non disponible pour ce millésime.")
        self.show_map_notes(notes)
        self.legend.value = H.legend_html(self.choro, scope, t.key)

    @staticmethod
    def _outline(contour: dict | None) -> dict:
        if not contour:
            return empty_collection()
        for f in contour["features"]:
            f["properties"]["style"] = OUTLINE_STYLE
        return contour

    def _fit(self, scope: MapScope) -> None:
        from planeco_kernel import geo

        if scope.key == "france:FR":
            bounds = METROPOLE_BOUNDS
        else:
            s, w, n, e = geo.bbox(scope.level, scope.codes)
            bounds = (w, s, e, n)
        self.fit(bounds, width_px=MAP_WIDTH_PX, height_px=MAP_HEIGHT_PX)

    def _on_map_hover(self, feature=None, **_kw) -> None:
        props = (feature or {}).get("properties", {})
        if props.get("code"):
            self.hover.value = H.hover_html(props["code"], props.get("name", props["code"]), props.get("value_text", ""))

    def _on_indicator(self, _change=None) -> None:
        self._render_map()
        self._render_comparison(table=False)
        self._sync_url()

    def _on_theme(self, _change=None) -> None:
        ids = self.data.available_indicators(self.theme.value)
        self._render_cards()
        if ids and self.indicator.value not in ids:
            self.indicator.value = ids[0]  # redraws the map and the chart
        self._render_comparison()
        self._sync_url()

    # ------------------------------------------------------------------ comparison
    def add_compared(self, t: Territory) -> None:
        """Add ``t`` to the side-by-side comparison (at most :data:`MAX_COMPARED`)."""
        if any(c.key == t.key for c in self.compared) or (self.current is not None and t.key == self.current.key):
            return
        if len(self.compared) >= MAX_COMPARED:
            self.message.value = _common("message", f"Vous comparez déjà {MAX_COMPARED} territoires : retirez-en un "
                                                    "pour en ajouter un autre.")
            return
        self.compared.append(t)
        self._render_comparison()
        self._sync_url()

    def remove_compared(self, t: Territory) -> None:
        self.compared = [c for c in self.compared if c.key != t.key]
        self._render_comparison()
        self._sync_url()

    def territories_compared(self) -> list[Territory]:
        """The current territory, the user's choices, then the automatic peers (no duplicates)."""
        out: list[Territory] = []
        extra = self.peers if self.peers_toggle.value else []
        for t in [self.current, *self.compared, *extra]:
            if t is not None and all(o.key != t.key for o in out):
                out.append(t)
        return out

    def _render_comparison(self, table: bool = True) -> None:
        t = self.current
        if t is None:
            return
        chips = []
        for c in self.compared:
            b = W.Button(description=f"✕ {c.name} ({c.code})", tooltip=f"Retirer {c.name} de la comparaison",
                         layout=W.Layout(width="auto"))
            b.add_class("planeco-chip")
            b.on_click(lambda _b, c=c: self.remove_compared(c))
            chips.append(b)
        self.compared_box.children = tuple(chips)
        terrs = self.territories_compared()
        theme = self.theme.value
        if table or self.table is None:
            self.table = self.data.comparison_table(terrs, theme)
            self.table_html.value = H.table_html(self.table, t.key, self.data.themes[theme])
        ind = self.data.catalogue.indicators[self.indicator.value]
        items = [self.data.compare(x)[ind.id] for x in terrs]
        labels = [f"{x.name} · {level_label(x)}" for x in terrs]
        values = [it.value for it in items]
        years = sorted({it.year for it in items if it.year})
        title = f"{ind.label} ({', '.join(map(str, years))})" if years else ind.label
        png = chart_png(labels, values, ind.unit, title)
        alt = title + " : " + " ; ".join(f"{lab} : {H.cell_text(v, ind.unit)}" for lab, v in zip(labels, values))
        self.chart.value = H.chart_html(png, alt, t.key, ind.id)
        base = f"comparaison_{theme}_{t.code}"
        links = [dict(data=csv_bytes(self.table), filename=f"{base}.csv", mime="text/csv;charset=utf-8",
                      label="Télécharger le tableau (CSV)", css="planeco-dl-csv"),
                 dict(data=xlsx_bytes(self.table), filename=f"{base}.xlsx",
                      mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                      label="Télécharger le tableau (Excel)", css="planeco-dl-xlsx"),
                 dict(data=png, filename=f"graphique_{ind.id}_{t.code}.png", mime="image/png",
                      label="Télécharger le graphique (PNG)", css="planeco-dl-png")]
        self.downloads.value = H.downloads_html(t.key, links)

    # ------------------------------------------------------------------ URL
    def state(self) -> AppState:
        """The current state, as carried by the URL."""
        return AppState(territory=deep_link_value(self.current) if self.current else None, theme=self.theme.value,
                        indicator=self.indicator.value, compared=tuple(deep_link_value(c) for c in self.compared))

    def _sync_url(self) -> None:
        self.url_state.value = H.url_state_html(self.state().query())

    def apply(self, params: dict[str, str]) -> None:
        """Open the state of a deep link (query parameters), saying what could not be used."""
        st = parse_state(params, self.data.themes, self.data.catalogue.indicators)
        if st.theme:
            self.theme.value = st.theme
        if st.indicator and st.indicator in dict((v, k) for k, v in self.indicator.options):
            self.indicator.value = st.indicator
        elif st.indicator:
            st.problems.append(f"L'indicateur « {st.indicator} » n'a pas de données dans ce paquet : "
                               "la carte montre un autre indicateur.")
        problems = list(st.problems)
        for code in st.compared:
            try:
                self.compared.append(self.model.resolve(code).territory)
            except Exception:  # noqa: BLE001 - any unresolvable code is reported, the others are kept
                problems.append(f"Territoire à comparer introuvable : « {code} ».")
        opened = self.open(st.territory) if st.territory else False
        if problems and (opened or not st.territory):
            self.message.value += _common("messages", problems)


def show(query: dict[str, str] | None = None) -> Comparateur:
    """Build the app (data loaded, indexes warmed), display it, then open the deep link's state.

    Parameters
    ----------
    query : dict, optional
        Query parameters; by default read from the Voilà request
        (:func:`planeco_kernel.apps.request.query_params`, which waits for the visitor when the
        kernel is preheated — so everything slow happens before).
    """
    from planeco_kernel.apps.request import display_then_apply

    app = Comparateur()
    return display_then_apply(app, app.apply, query)
