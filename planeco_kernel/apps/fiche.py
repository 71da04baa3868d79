"""The "Fiche territoire" app: search a territory, see its population, parents, members and map.

The notebook ``apps/fiche_territoire.ipynb`` only calls :func:`show`. Everything shown is computed
by :mod:`planeco_kernel.apps.fiche_data` from the territory model; this module lays it out with
ipywidgets and ipyleaflet.

Deep link: ``…/fiche_territoire.ipynb?territoire=CODE`` opens a territory directly (any input the
model's ``resolve`` accepts: INSEE code, SIREN, ``level:code`` key, or a name).
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

import ipywidgets as W

from planeco_kernel import fmt
from planeco_kernel.apps import fiche_data as D
from planeco_kernel.apps import templates
from planeco_kernel.apps.maps import MapApp, empty_collection
from planeco_kernel.apps.request import TERRITORY_PARAM, deep_link_value
from planeco_kernel.levels import LEVEL
from planeco_kernel.apps.search import MAX_RESULTS, SEARCH_LEVELS, TerritorySearch  # noqa: F401 (re-exported)

if TYPE_CHECKING:
    from planeco_kernel.territory import Territory

MEMBERS_SHOWN = 20
DEEP_LINK_PARAM = TERRITORY_PARAM
MAP_HEIGHT_PX = 440
MAX_BROWNFIELD_POINTS = 3000
"""Above this many sites (a large département, a région, France) the map shows none: say so."""


def _common(name: str, *args: Any, **kwargs: Any) -> str:
    """A fragment of ``common.html`` (messages, notes, headings shared by the apps)."""
    return templates.macro("common.html", name, *args, **kwargs)


def _fragment(name: str, *args: Any, **kwargs: Any) -> str:
    """A fragment of ``fiche.html``."""
    return templates.macro("fiche.html", name, *args, **kwargs)


class FicheTerritoire(MapApp):
    """The app's widgets and behaviour (map behaviour from :class:`~planeco_kernel.apps.maps.MapApp`).

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
        intro = W.HTML(_common(
            "intro", "Fiche territoire",
            "Tapez le nom ou le code d'une commune, d'une intercommunalité, d'un SCoT, "
            "d'un département ou d'une région (accents facultatifs)."))
        self._search = TerritorySearch(self.model, self.select)
        # Parts of the search box, named as before (tests and callers drive them).
        self.search, self.search_level = self._search.text, self._search.level
        self.results, self.search_status = self._search.results, self._search.status
        search_box = self._search.widget

        self.header = W.HTML()
        self.header.add_class("planeco-fiche-header")
        self.chart = W.HTML()
        self.chart.add_class("planeco-chart")
        self.figures = W.HTML()
        self.figures.add_class("planeco-fiche-figures")
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

        self._make_map()
        self.friches_note = W.HTML()
        self.friches_note.add_class("planeco-friches-legend")
        map_box = W.VBox([W.HTML(_common("h2", "Carte")), self.map, self.map_note, self.friches_note, self.basemap_toggle],
                         layout=lay(flex="1 1 420px", min_width="300px", align_items="stretch"))
        left = W.VBox([self.chart, self.figures, self.parents, self.members_box], layout=lay(flex="1 1 420px", min_width="300px"))
        self.body = W.HBox([left, map_box], layout=lay(flex_flow="row wrap", width="100%"))
        self.body.add_class("planeco-fiche-body")
        self.fiche = W.VBox([self.header, self.body], layout=lay(display="none"))
        self.message = W.HTML()
        self.message.add_class("planeco-message")
        self.widget = W.VBox([intro, search_box, self.message, self.fiche], layout=lay(width="100%"))
        self.widget.add_class("planeco-fiche")

    def _make_map(self):
        import ipyleaflet as L

        self._members_layer = L.GeoJSON(data=empty_collection(), name="Communes membres")
        self._contour_layer = L.GeoJSON(data=empty_collection(), name="Contour")
        self._friches_layer = L.GeoJSON(data=empty_collection(), name="Friches (Cartofriches)",
                                        point_style={"radius": 5, "weight": 1, "fillOpacity": 0.9, "opacity": 1})
        return self._init_map(MAP_HEIGHT_PX, (self._members_layer, self._contour_layer, self._friches_layer),
                              clickable=(self._members_layer,))

    # ------------------------------------------------------------------ search
    def _show_resolved(self, res) -> None:
        """Show a resolved query; a code that also designates territories of other levels says so."""
        note = res.note
        others = self._same_code_elsewhere(res.territory) if res.matched_by in ("code", "siren") else []
        if others:
            t = res.territory
            padded = [n for n in (note or "").split(". ") if n.startswith("Code complété")]
            links = [(deep_link_value(o), ARTICLE.get(o.level, "") + o.name) for o in others]
            head = padded[0].rstrip(".") if padded else ""
            self.select(t)
            self.message.value = _fragment("same_code_elsewhere", head, t.code, ARTICLE_DE.get(t.level, "") + t.name,
                                           DEEP_LINK_PARAM, links)
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
        self.message.value = _common("message", note) if note else ""
        rows = D.population_rows(t)
        self._render_header(t, rows)
        self._render_chart(t, rows)
        self._render_figures(t)
        self._render_parents(t)
        self._members = D.members_of(t)
        self.members_filter.value = ""
        self._render_members()
        self._render_map(t)
        self.fiche.layout.display = "flex"

    def _render_header(self, t: Territory, rows: list[D.PopulationRow]) -> None:
        self.header.value = _fragment("header", t.key, D.level_label(t), t.name, list(D.summary_facts(t)),
                                      DEEP_LINK_PARAM, deep_link_value(t))

    def _render_chart(self, t: Territory, rows: list[D.PopulationRow]) -> None:
        summary = D.population_summary(rows)
        caption = D.population_caption(rows)
        png = D.population_chart_png(rows)
        alt = "Population municipale : " + " ; ".join(f"{r.year} : {r.label}" for r in rows)
        self.chart.value = _fragment("chart", t.key, None if png is None else base64.b64encode(png).decode(),
                                     summary, alt, caption, D.population_provenance(rows) if png is not None else "",
                                     rows)

    def _render_figures(self, t: Territory) -> None:
        """Construction, housing, vacancy, brownfields, CatNat and programmes (fiche_figures.html)."""
        from planeco_kernel.apps import fiche_figures as F
        from planeco_kernel.errors import PlanecoError
        from planeco_kernel.indicators.cube import load_cube

        try:
            cube = load_cube(self.model.data_dir)
            sections = F.sections(cube, t.level, t.code)
            badges = F.programme_badges(cube, t.code) if t.level == "commune" else []
            src = F.programmes_source(cube) if t.level == "commune" else ""
        except (PlanecoError, KeyError, OSError, ValueError) as exc:  # a bundle without the indicator tables
            self.figures.value = templates.macro("fiche_figures.html", "unavailable", str(exc))
            return
        self.figures.value = templates.macro("fiche_figures.html", "figures", t.key, badges, src, sections)

    def _territory_button(self, t: Territory, prefix: str = "") -> W.Button:
        b = W.Button(description=f"{prefix}{t.name}", tooltip=f"Afficher la fiche de {t.name}",
                     layout=W.Layout(width="auto", max_width="100%"))
        b.add_class("planeco-link")
        b.on_click(lambda _b, t=t: self.select(t))
        return b

    def _render_parents(self, t: Territory) -> None:
        parents = D.parents_of(t)
        title = W.HTML(_common("h2", "Fait partie de"))
        if not parents:
            body: list[W.Widget] = [W.HTML(_common("mentions", ["Aucun territoire englobant dans les données."]))]
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
            body.append(W.HTML(_common("mentions", missing)))
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
        if total == 0:
            self.members_title.value = _fragment("members_title", fmt.integer(total),
                                                 "Aucune commune membre dans les données.")
            self.members_list.children = ()
            return
        more = len(shown) - MEMBERS_SHOWN
        sub = ("Les plus peuplées d'abord." if not needle else f"{fmt.integer(len(shown))} commune(s) correspondent au filtre.")
        self.members_title.value = _fragment("members_title", fmt.integer(total), sub)
        rows = []
        for m in shown[:MEMBERS_SHOWN]:
            pop = D.latest_population(m)
            label = W.HTML(_fragment("member_population", m.code,
                                     fmt.integer(pop) + " hab." if pop is not None else "population non disponible"))
            row = W.HBox([self._territory_button(m), label], layout=W.Layout(align_items="center"))
            row.add_class("planeco-member-row")
            rows.append(row)
        if more > 0:
            rows.append(W.HTML(_common("mentions", [f"… et {fmt.integer(more)} autres : utilisez le filtre."])))
        self.members_list.children = tuple(rows)

    # ------------------------------------------------------------------ map
    def _render_map(self, t: Territory) -> None:
        try:
            self._draw_map(t)
        except D.GeometryUnavailable as exc:
            self.show_map_unavailable(exc, self._contour_layer, self._members_layer)

    def _draw_map(self, t: Territory) -> None:
        notes = []
        contour = D.contour_geojson(t)
        self._contour_layer.data = contour or empty_collection()
        members_data = empty_collection()
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
            self.fit(bounds)
        if members_data["features"]:
            notes.append("Cliquez sur un territoire de la carte pour afficher sa fiche.")
        self.show_map_notes(notes)
        self._draw_brownfields(t)

    def _draw_brownfields(self, t: Territory) -> None:
        """The Cartofriches sites of the territory (points by status, legend, source), or why there are none."""
        codes = [t.code] if t.level == "commune" else [m.code for m in self._members]
        shown = brownfield_layer(self.model.data_dir, codes)
        self._friches_layer.data = shown.geojson
        self.friches_note.value = _fragment("friches_legend", shown.available, shown.legend, shown.total_text,
                                            shown.note, shown.source)

    @staticmethod
    def _bounds(*collections: dict | None) -> tuple[float, float, float, float] | None:
        from shapely.geometry import shape

        boxes = [shape(f["geometry"]).bounds for c in collections if c for f in c["features"]]
        if not boxes:
            return None
        return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))


# --------------------------------------------------------------------------- brownfield points


class BrownfieldLayer:
    """What the Fiche's map shows of the Cartofriches sites of some communes (no widgets: testable).

    Attributes
    ----------
    available : bool
        The bundle holds the official site list (built online, or with the list in the mirror).
    geojson : dict
        Points, one feature per located site, coloured by status (``properties.style``).
    legend : list of (colour, label, count)
        One line per status present.
    total_text, note, source : str
        Count shown, what is missing (no point, too many sites, offline), source and vintage.
    """

    def __init__(self, available: bool, geojson: dict[str, Any], legend: list[tuple[str, str, str]],
                 total_text: str, note: str, source: str):
        self.available, self.geojson, self.legend = available, geojson, legend
        self.total_text, self.note, self.source = total_text, note, source


OFFLINE_BROWNFIELDS = (
    "Les friches de cette fiche sont comptées par commune à partir de l'agrégat du miroir hors ligne "
    "(Cerema, Cartofriches, {vintage}) : ce paquet de données n'a pas la liste des sites, la carte ne les "
    "montre donc pas. Pour les voir : reconstruisez le paquet avec un accès à internet (planeco data build "
    "télécharge la liste officielle « Sites référencés dans Cartofriches » sur data.gouv.fr), ou placez ce "
    "fichier (friches-standard-….csv) dans le miroir sous cerema/friches-standard.csv."
)


def brownfield_layer(data_dir: Any, commune_codes: list[str]) -> BrownfieldLayer:
    """The brownfield points of ``commune_codes`` from the bundle's ``cartofriches_sites`` table."""
    from planeco_kernel.bundle.reader import Bundle
    from planeco_kernel.sources import cartofriches, catalog

    bundle = Bundle(data_dir)
    info = catalog.SOURCES.get("cartofriches")
    sites = bundle.read_source("cartofriches_sites")
    if sites is None:
        vintage = info.vintage_text if info is not None else "instantané du miroir"
        return BrownfieldLayer(False, empty_collection(), [], "", OFFLINE_BROWNFIELDS.format(vintage=vintage), "")
    entry = next((e for e in bundle.manifest.indicator_sources if e.get("name") == "cartofriches_sites"), {})
    source = f"Source : Cerema, Cartofriches, liste des sites ({entry.get('vintage') or 'date d’export inconnue'}) ; " \
             f"{entry.get('origin', '')}".rstrip(" ;")
    mine = sites[sites["commune_code"].isin(set(commune_codes))]
    located = mine[mine["longitude"].notna() & mine["latitude"].notna()]
    notes = []
    if len(mine) - len(located):
        notes.append(f"{fmt.integer(len(mine) - len(located))} site(s) sans coordonnées ne sont pas placés.")
    if len(located) > MAX_BROWNFIELD_POINTS:
        notes.append(f"{fmt.integer(len(located))} sites : trop pour la carte, ouvrez la fiche d'une "
                     "intercommunalité ou d'une commune pour les voir.")
        located = located.iloc[0:0]
    features = []
    for row in located.itertuples(index=False):
        colour = cartofriches.STATUS_COLOURS.get(row.status, cartofriches.STATUS_COLOURS["autre"])
        surface = "surface de l'unité foncière inconnue" if row.surface_m2 != row.surface_m2 else \
            f"unité foncière de {fmt.integer(row.surface_m2)} m²"
        features.append({"type": "Feature", "id": f"friche:{row.site_id}",
                         "geometry": {"type": "Point", "coordinates": [float(row.longitude), float(row.latitude)]},
                         "properties": {"site_id": row.site_id, "name": row.site_nom, "status": row.site_statut,
                                        "type": row.site_type, "surface": surface,
                                        "style": {"color": "#ffffff", "fillColor": colour}}})
    counts = mine["status"].value_counts()
    legend = [(cartofriches.STATUS_COLOURS[k], cartofriches.STATUS_LABELS[k], fmt.integer(int(counts[k])))
              for k in cartofriches.STATUS_COLOURS if k in counts.index]
    total = f"{fmt.integer(len(mine))} site(s) référencé(s)" if len(mine) else "Aucun site référencé dans Cartofriches."
    return BrownfieldLayer(True, {"type": "FeatureCollection", "features": features}, legend, total,
                           " ".join(notes), source)


ARTICLE: dict[str, str] = {k: f"{lv.the} " for k, lv in LEVEL.items()} | {"france": ""}
ARTICLE_DE: dict[str, str] = {k: f"{lv.of} " for k, lv in LEVEL.items()} | {"france": "de "}


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
