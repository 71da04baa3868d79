"""The "Fiche territoire" app: search a territory, see its population, parents, members and map.

The notebook ``apps/fiche_territoire.ipynb`` only calls :func:`show`. Everything shown is computed
by :mod:`planeco_kernel.apps.fiche_data` from the territory model; this module lays it out with
ipywidgets and ipyleaflet.

Deep link: ``…/fiche_territoire.ipynb?territoire=CODE`` opens a territory directly (any input the
model's ``resolve`` accepts: INSEE code, SIREN, ``level:code`` key, or a name).
"""

from __future__ import annotations

import base64
import html
from typing import TYPE_CHECKING, Any

import ipywidgets as W

from planeco_kernel.apps import fiche_data as D
from planeco_kernel import fmt
from planeco_kernel.levels import LEVEL
from planeco_kernel.apps.search import MAX_RESULTS, SEARCH_LEVELS, TerritorySearch  # noqa: F401 (re-exported)

if TYPE_CHECKING:
    from planeco_kernel.territory import Territory

MEMBERS_SHOWN = 20
DEEP_LINK_PARAM = "territoire"


def _esc(text: Any) -> str:
    return html.escape(str(text), quote=True)


class FicheTerritoire:
    """The app's widgets and behaviour.

    Parameters
    ----------
    model : TerritoryModel, optional
        The territory model (default: :func:`planeco_kernel.territory.load_model`).

    Attributes
    ----------
    widget : ipywidgets.Box
        The whole app, to display.
    current : Territory or None
        The territory shown.
    """

    def __init__(self, model: Any = None):
        if model is None:
            from planeco_kernel.territory import load_model

            model = load_model()
        self.model = model
        # Build the name and population indexes now (preheated kernel: before the visitor arrives).
        for t in self.model.search("a", limit=1):
            D.population_rows(t)
        self.current: Territory | None = None
        self._members: list[Territory] = []
        self._build()

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        lay = W.Layout
        intro = W.HTML(
            "<h1 class='planeco-h1'>Fiche territoire</h1>"
            "<p class='planeco-lead'>Tapez le nom ou le code d'une commune, d'une intercommunalité, d'un SCoT, "
            "d'un département ou d'une région (accents facultatifs).</p>"
        )
        self._search = TerritorySearch(self.model, self.select)
        # Parts of the search box, named as before (tests and callers drive them).
        self.search, self.search_level = self._search.text, self._search.level
        self.results, self.search_status = self._search.results, self._search.status
        search_box = self._search.widget

        self.header = W.HTML()
        self.header.add_class("planeco-fiche-header")
        self.chart = W.HTML()
        self.chart.add_class("planeco-chart")
        self.parents = W.VBox()
        self.parents.add_class("planeco-parents")
        self.members_filter = W.Text(placeholder="nom ou code INSEE", continuous_update=True,
                                     description="Filtrer les communes membres", style={"description_width": "initial"},
                                     layout=lay(width="100%", max_width="420px"))
        self.members_filter.add_class("planeco-filter")
        self.members_filter.observe(lambda _c: self._render_members(), names="value")
        self.members_title = W.HTML()
        self.members_list = W.VBox()
        self.members_list.add_class("planeco-members")
        self.members_box = W.VBox([self.members_title, self.members_filter, self.members_list])

        self.map_note = W.HTML()
        self.map_note.add_class("planeco-map-note")
        self.basemap_toggle = W.Checkbox(value=False, indent=False,
                                         description="Fond de carte OpenStreetMap (connexion Internet nécessaire)",
                                         style={"description_width": "initial"}, layout=W.Layout(width="auto"))
        self.basemap_toggle.observe(self._on_basemap, names="value")
        self.map = self._make_map()
        map_box = W.VBox([W.HTML("<h2 class='planeco-h2'>Carte</h2>"), self.map, self.map_note, self.basemap_toggle],
                         layout=lay(flex="1 1 420px", min_width="300px", align_items="stretch"))
        left = W.VBox([self.chart, self.parents, self.members_box], layout=lay(flex="1 1 420px", min_width="300px"))
        self.body = W.HBox([left, map_box], layout=lay(flex_flow="row wrap", width="100%"))
        self.body.add_class("planeco-fiche-body")
        self.fiche = W.VBox([self.header, self.body], layout=lay(display="none"))
        self.message = W.HTML()
        self.message.add_class("planeco-message")
        self.widget = W.VBox([intro, search_box, self.message, self.fiche], layout=lay(width="100%"))
        self.widget.add_class("planeco-fiche")

    def _make_map(self):
        import ipyleaflet as L

        from planeco_kernel.apps.maps import base_map

        m = base_map(440)
        self._members_layer = L.GeoJSON(data={"type": "FeatureCollection", "features": []},
                                        name="Communes membres")
        self._contour_layer = L.GeoJSON(data={"type": "FeatureCollection", "features": []}, name="Contour")
        self._members_layer.on_click(self._on_map_click)
        self._basemap = None
        m.layers = (self._members_layer, self._contour_layer)
        return m

    # ------------------------------------------------------------------ search
    def open(self, query: str) -> None:
        """Show the territory designated by ``query`` (code, key or name), or say why it cannot.

        An unknown or ambiguous query is put in the search box, so that the candidates are listed.
        """
        from planeco_kernel.errors import AmbiguousTerritoryError, TerritoryNotFoundError

        try:
            res = self.model.resolve(query)
        except AmbiguousTerritoryError:
            self.message.value = (f"<div class='planeco-note' role='status'>« {_esc(query)} » désigne plusieurs "
                                  "territoires : choisissez-en un ci-dessous.</div>")
            self.search.value = query
            return
        except TerritoryNotFoundError as exc:
            hint = (" Vouliez-vous dire : " + ", ".join(exc.suggestions) + " ?") if exc.suggestions else ""
            self.message.value = (f"<div class='planeco-alert' role='alert'>Territoire introuvable : « {_esc(query)} ».{_esc(hint)} "
                                  "Cherchez-le par son nom ou son code dans le champ ci-dessus.</div>")
            self.search.value = query
            if not self._search.results.children:  # the alert already says it: one message, not two
                self._search.status.value = ""
            return
        note = res.note
        others = self._same_code_elsewhere(res.territory) if res.matched_by in ("code", "siren") else []
        if others:
            t = res.territory
            padded = [n for n in (note or "").split(". ") if n.startswith("Code complété")]
            links = " · ".join(f"<a class='planeco-link-other' href='?{DEEP_LINK_PARAM}={_esc(deep_link_value(o))}'>"
                               f"Afficher {_esc(ARTICLE.get(o.level, ''))}{_esc(o.name)}</a>" for o in others)
            head = (_esc(padded[0].rstrip(".")) + ". ") if padded else ""
            self.select(t)
            self.message.value = (f"<div class='planeco-note' role='status'>{head}« {_esc(t.code)} » est le code "
                                  f"{_esc(ARTICLE_DE.get(t.level, ''))}{_esc(t.name)}, affiché ci-dessous. "
                                  f"Vous cherchiez autre chose ? {links}</div>")
            return
        self.select(res.territory, note=note)

    def _same_code_elsewhere(self, t: Territory) -> list[Territory]:
        """Territories of other levels that carry the same code as ``t`` (« 84 »: Vaucluse and a région)."""
        from planeco_kernel.errors import TerritoryNotFoundError

        out = []
        for lvl in ("commune", "epci", "scot", "departement", "region"):
            if lvl == t.level:
                continue
            try:
                o = self.model.get(t.code, level=lvl)
            except (TerritoryNotFoundError, KeyError, ValueError):
                continue
            if o is not None and o.code == t.code:
                out.append(o)
        return out

    # ------------------------------------------------------------------ selection
    def select(self, t: Territory, note: str | None = None) -> None:
        """Show the fiche of territory ``t``."""
        self.current = t
        self._search.clear()
        self.message.value = f"<div class='planeco-note' role='status'>{_esc(note)}</div>" if note else ""
        rows = D.population_rows(t)
        self._render_header(t, rows)
        self._render_chart(t, rows)
        self._render_parents(t)
        self._members = D.members_of(t)
        self.members_filter.value = ""
        self._render_members()
        self._render_map(t)
        self.fiche.layout.display = "flex"

    def _render_header(self, t: Territory, rows: list[D.PopulationRow]) -> None:
        facts = "".join(f"<div class='planeco-fact'><dt>{_esc(k)}</dt><dd>{_esc(v)}</dd></div>"
                        for k, v in D.summary_facts(t))
        self.header.value = (
            f"<div class='planeco-fiche-title' data-key='{_esc(t.key)}'>"
            f"<p class='planeco-badge'>{_esc(D.level_label(t))}</p>"
            f"<h2 class='planeco-h1'>{_esc(t.name)}</h2>"
            f"<dl class='planeco-facts'>{facts}</dl>"
            f"<p class='planeco-mention'><a class='planeco-permalink' href='?{DEEP_LINK_PARAM}={_esc(deep_link_value(t))}'>"
            f"Lien direct vers cette fiche</a> (à copier ou à partager)</p></div>"
        )

    def _render_chart(self, t: Territory, rows: list[D.PopulationRow]) -> None:
        summary = D.population_summary(rows)
        caption = D.population_caption(rows)
        png = D.population_chart_png(rows)
        parts = [f"<div class='planeco-chart-body' data-key='{_esc(t.key)}'><h2 class='planeco-h2'>Population</h2>"]
        if png is None:
            parts.append("<p class='planeco-alert' role='note'>Aucune donnée de population pour ce territoire "
                         "dans le paquet de données.</p>")
        else:
            alt = "Population municipale : " + " ; ".join(f"{r.year} : {r.label}" for r in rows)
            parts.append(f"<p class='planeco-summary'>{_esc(summary)}</p>")
            parts.append(f"<figure class='planeco-figure'><img class='planeco-chart-img' alt='{_esc(alt)}' "
                         f"src='data:image/png;base64,{base64.b64encode(png).decode()}'/>")
            prov = D.population_provenance(rows)
            more = (f"<details class='planeco-provenance'><summary>Détail technique des sources</summary>{_esc(prov)}"
                    "</details>") if prov else ""
            parts.append(f"<figcaption class='planeco-mention'>{_esc(caption)}{more}</figcaption></figure>")
            table_rows = "".join(
                f"<tr data-year='{r.year}'><th scope='row'>{r.year}</th><td>{_esc(r.label)}</td>"
                f"<td class='planeco-mention'>{_esc(r.note or '')}</td></tr>" for r in rows)
            parts.append("<details class='planeco-table-details'><summary>Voir les chiffres</summary>"
                         "<table class='planeco-table planeco-pop-table'><caption>Population municipale par année "
                         "de recensement</caption><thead><tr><th scope='col'>Année</th><th scope='col'>Habitants</th>"
                         f"<th scope='col'>Remarque</th></tr></thead><tbody>{table_rows}</tbody></table></details>")
        self.chart.value = "".join(parts) + "</div>"

    def _territory_button(self, t: Territory, prefix: str = "") -> W.Button:
        b = W.Button(description=f"{prefix}{t.name}", tooltip=f"Afficher la fiche de {t.name}",
                     layout=W.Layout(width="auto", max_width="100%"))
        b.add_class("planeco-link")
        b.on_click(lambda _b, t=t: self.select(t))
        return b

    def _render_parents(self, t: Territory) -> None:
        parents = D.parents_of(t)
        title = W.HTML("<h2 class='planeco-h2'>Fait partie de</h2>")
        if not parents:
            body: list[W.Widget] = [W.HTML("<p class='planeco-mention'>Aucun territoire englobant dans les données.</p>")]
        else:
            body = [self._territory_button(p, prefix="" if p.level == "france" else f"{D.level_label(p)} : ")
                    for p in parents]
        missing = []
        if t.level == "commune" and "epci" not in (t.parents or {}):
            missing.append("Cette commune n'appartient à aucune intercommunalité à fiscalité propre "
                           "(cas de quelques îles mono-communales).")
        if t.level in ("commune", "epci") and "scot" not in (t.parents or {}):
            missing.append("Aucune structure porteuse de SCoT connue (BANATIC) pour ce territoire.")
        if missing:
            body.append(W.HTML("".join(f"<p class='planeco-mention'>{_esc(m)}</p>" for m in missing)))
        self.parents.children = (title, *body)

    def _render_members(self) -> None:
        t = self.current
        if t is None or t.level == "commune":
            self.members_box.layout.display = "none"
            return
        self.members_box.layout.display = "flex"
        total = len(self._members)
        needle = self.members_filter.value.strip()
        if needle:
            from planeco_kernel.territory.names import normalize

            n = normalize(needle)
            shown = [m for m in self._members if n in normalize(m.name) or m.code.startswith(needle)]
        else:
            shown = self._members
        head = f"<h2 class='planeco-h2'>Communes membres ({fmt.integer(total)})</h2>"
        if total == 0:
            self.members_title.value = head + "<p class='planeco-mention'>Aucune commune membre dans les données.</p>"
            self.members_list.children = ()
            return
        more = len(shown) - MEMBERS_SHOWN
        sub = ("Les plus peuplées d'abord." if not needle else f"{fmt.integer(len(shown))} commune(s) correspondent au filtre.")
        self.members_title.value = head + f"<p class='planeco-mention'>{sub}</p>"
        rows = []
        for m in shown[:MEMBERS_SHOWN]:
            pop = D.latest_population(m)
            label = W.HTML(f"<span class='planeco-pop' data-code='{_esc(m.code)}'>"
                           f"{_esc(fmt.integer(pop) + ' hab.' if pop is not None else 'population non disponible')}</span>")
            row = W.HBox([self._territory_button(m), label], layout=W.Layout(align_items="center"))
            row.add_class("planeco-member-row")
            rows.append(row)
        if more > 0:
            rows.append(W.HTML(f"<p class='planeco-mention'>… et {fmt.integer(more)} autres : utilisez le filtre.</p>"))
        self.members_list.children = tuple(rows)

    # ------------------------------------------------------------------ map
    def _render_map(self, t: Territory) -> None:
        empty = {"type": "FeatureCollection", "features": []}
        try:
            self._draw_map(t)
        except D.GeometryUnavailable as exc:
            self._contour_layer.data = empty
            self._members_layer.data = empty
            self.map_note.value = (f"<p class='planeco-alert' role='note'>Carte indisponible : les contours ne sont "
                                   f"pas dans le paquet de données. {_esc(exc)}</p>")

    def _draw_map(self, t: Territory) -> None:
        notes = []
        contour = D.contour_geojson(t)
        self._contour_layer.data = contour or {"type": "FeatureCollection", "features": []}
        members_data = {"type": "FeatureCollection", "features": []}
        level, drawn = D.map_members(t, self._members)
        if drawn:
            members_data, lacking = D.members_geojson(drawn)
            if level != "commune":
                what = "départements" if level == "departement" else "intercommunalités (EPCI)"
                notes.append(f"{fmt.integer(len(self._members))} communes : la carte montre les "
                             f"{fmt.integer(len(drawn))} {what} qui le composent.")
            if lacking:
                notes.append(f"{fmt.integer(lacking)} membre(s) sans contour dans les données.")
        self._members_layer.data = members_data
        if contour is None:
            notes.append("Contour non disponible pour ce territoire dans les données géographiques.")
        bounds = D.METROPOLE_BOUNDS if t.level == "france" else self._bounds(contour, members_data)
        if bounds is not None:
            center, zoom = D.view_for_bounds(bounds)
            self.map.center, self.map.zoom = center, zoom
        if members_data["features"]:
            notes.append("Cliquez sur un territoire de la carte pour afficher sa fiche.")
        self.map_note.value = "".join(f"<p class='planeco-mention'>{_esc(n)}</p>" for n in notes)

    @staticmethod
    def _bounds(*collections: dict | None) -> tuple[float, float, float, float] | None:
        from shapely.geometry import shape

        boxes = [shape(f["geometry"]).bounds for c in collections if c for f in c["features"]]
        if not boxes:
            return None
        return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))

    def _on_map_click(self, feature=None, **_kw) -> None:
        props = (feature or {}).get("properties", {})
        if props.get("code"):
            self.select(self.model.get(props["code"], level=props.get("level", "commune")))

    def _on_basemap(self, change) -> None:
        import ipyleaflet as L

        if change["new"]:
            if self._basemap is None:
                self._basemap = L.TileLayer(url="https://tile.openstreetmap.org/{z}/{x}/{y}.png", max_zoom=19,
                                            attribution="© contributeurs OpenStreetMap", name="OpenStreetMap")
            self.map.layers = (self._basemap, *[lyr for lyr in self.map.layers if lyr is not self._basemap])
        elif self._basemap is not None and self._basemap in self.map.layers:
            self.map.layers = tuple(lyr for lyr in self.map.layers if lyr is not self._basemap)


ARTICLE: dict[str, str] = {k: f"{lv.the} " for k, lv in LEVEL.items()} | {"france": ""}
ARTICLE_DE: dict[str, str] = {k: f"{lv.of} " for k, lv in LEVEL.items()} | {"france": "de "}


def deep_link_value(t: Territory) -> str:
    """The ``?territoire=`` value that designates ``t`` unambiguously.

    The code alone for communes, EPCI and départements (what users type); the ``level:code`` key
    for régions (``84`` is also a département) and SCoT (an EPCI may carry its own SCoT, same SIREN).
    """
    return t.code if t.level in ("commune", "epci", "departement") else t.key


def show(query: dict[str, str] | None = None) -> FicheTerritoire:
    """Build the app, display it, then open the territory of the deep link, if any.

    Parameters
    ----------
    query : dict, optional
        Query parameters of the page; by default read from the Voilà request
        (:func:`planeco_kernel.apps.request.query_params`, which waits for the visitor when the
        kernel is preheated — so everything slow happens before).
    """
    from planeco_kernel.apps.request import display_then_apply

    app = FicheTerritoire()

    def open_deep_link(q: dict[str, str]) -> None:
        if q.get(DEEP_LINK_PARAM):
            app.open(q[DEEP_LINK_PARAM])

    return display_then_apply(app, open_deep_link, query)
