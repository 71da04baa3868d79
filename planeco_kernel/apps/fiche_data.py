"""What the "Fiche territoire" app shows, computed without any widget (testable, reusable).

Every function takes a territory of the model (:mod:`planeco_kernel.territory`) and returns
plain Python values: population rows with their source, the caption under the chart, the
chart itself (PNG bytes), parents, members, and GeoJSON for the map.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from planeco_kernel import fmt
from planeco_kernel.errors import GeometryUnavailable  # noqa: F401 (re-exported: the apps catch it here)

from planeco_kernel.levels import LEVEL

if TYPE_CHECKING:
    from planeco_kernel.territory import Territory

LEVEL_LABELS: dict[str, str] = {k: lv.label for k, lv in LEVEL.items()} | {"scot": "SCoT (structure porteuse)"}
"""French label of each level, as shown in the app."""

PARENT_ORDER: tuple[str, ...] = ("epci", "scot", "departement", "region", "france")

POPULATION_FLAG_NOTES: dict[str, str] = {
    "merged_sum": "somme des anciennes communes aujourd'hui fusionnées",
    "split_unallocated": "inclut la population de communes rétablies depuis (chiffre non réparti)",
    "split_recreated": "commune rétablie depuis : sa population est comptée dans la commune dont elle est issue",
    "not_censused": "pas de chiffre de recensement publié pour cette année",
    "missing": "non disponible",
    "partial": "somme partielle : des communes membres n'ont pas de chiffre cette année-là",
}
"""French footnotes for the ``flag`` column of the bundle's ``population`` table."""

_SOURCE_FILE = re.compile(r"([A-Za-z0-9_./-]+\.json)@(\d+(?:\.\d+)*)")
"""A source file and version inside a ``population.source`` value (``communes.json@5.3.0``)."""

MAX_DRAWN_MEMBERS = 2500
"""Above this many member communes, the map shows only the territory's contour (see STACK.md)."""


@dataclass(frozen=True)
class PopulationRow:
    """One census year of a territory's population series.

    Attributes
    ----------
    year : int
        Census year (the reference year of the INSEE figure, not the publication year).
    value : int or None
        Population municipale; ``None`` when the bundle has no figure (never zero).
    source : str or None
        File and version the figure comes from (``"communes.json@5.3.0"``), when known.
    note : str or None
        French footnote (e.g. merged communes summed).
    """

    year: int
    value: int | None
    source: str | None = None
    note: str | None = None

    @property
    def label(self) -> str:
        """The value in French formatting, or :data:`~planeco_kernel.fmt.MISSING`."""
        return fmt.integer(self.value)


def level_label(t: Territory) -> str:
    """French label of the territory's level."""
    return LEVEL_LABELS.get(t.level, t.level)


def population_rows(t: Territory) -> list[PopulationRow]:
    """The territory's population series, oldest census first; missing figures kept as ``None``."""
    pop = dict(t.population or {})
    sources = dict(getattr(t, "population_sources", None) or {})
    flags = dict(getattr(t, "population_flags", None) or {})
    years = sorted(set(pop) | set(flags))
    rows = []
    for y in years:
        v = pop.get(y)
        flag = flags.get(y)
        note = None
        if flag:
            note = "; ".join(POPULATION_FLAG_NOTES.get(f.strip(), f.strip()) for f in str(flag).split(","))
        rows.append(PopulationRow(int(y), None if v is None else int(v), sources.get(y), note))
    return rows


def population_summary(rows: list[PopulationRow]) -> str | None:
    """One French sentence on the latest figure and the mean annual change, or ``None`` without data."""
    known = [r for r in rows if r.value is not None]
    if not known:
        return None
    last = known[-1]
    text = f"{last.label} habitants en {last.year} (population municipale)"
    if len(known) >= 2:
        first = known[0]
        g = fmt.annual_growth_percent((first.year, first.value), (last.year, last.value))
        if g is not None:
            text += f", soit {fmt.percent(g, rate_decimals(g), signed=True)} par an en moyenne depuis {first.year}"
    return text + "."


def rate_decimals(value: float | None) -> int:
    """Decimals showing a rate with two significant digits below 1 (``0,011``, ``0,25``), one above."""
    import math

    if value is None or value == 0 or math.isnan(value) or abs(value) >= 1:
        return 1
    return max(1, 1 - math.floor(math.log10(abs(value))))


def population_caption(rows: list[PopulationRow]) -> str:
    """Source and vintages of the series, shown under the chart (plain French text, no file names)."""
    known = [r for r in rows if r.value is not None]
    if not known:
        return "Source : Insee, population municipale — aucune donnée pour ce territoire dans le paquet de données."
    years = [r.year for r in known]
    span = str(years[0]) if len(years) == 1 else f"{years[0]} à {years[-1]}"
    text = f"Source : Insee, populations municipales {span} (via Etalab), géographie communale en vigueur."
    missing = [r.year for r in rows if r.value is None]
    if missing:
        text += " Pas de donnée pour : " + ", ".join(map(str, missing)) + "."
    return text


def population_provenance(rows: list[PopulationRow]) -> str | None:
    """Technical provenance of the series (files and package versions), for a folded details element."""
    found = [m for r in rows if r.value is not None and r.source for m in _SOURCE_FILE.findall(r.source)]
    if not found:
        return None
    versions = sorted({v for _f, v in found}, key=lambda v: tuple(int(x) for x in v.split(".")))
    files = sorted({f for f, _v in found})
    return (f"Fichiers {', '.join(files)} du paquet @etalab/decoupage-administratif, "
            f"versions {', '.join(versions)}.")


def chart_title(rows: list[PopulationRow]) -> str | None:
    """« +0,03 % de 2018 à 2023 », the change the chart shows, or ``None`` with fewer than two years."""
    known = [r for r in rows if r.value is not None]
    if len(known) < 2 or not known[0].value:
        return None
    change = (known[-1].value / known[0].value - 1.0) * 100.0  # type: ignore[operator]
    return f"Évolution : {fmt.percent(change, rate_decimals(change), signed=True)} de {known[0].year} à {known[-1].year}"


def population_chart_png(rows: list[PopulationRow], title: str | None = None) -> bytes | None:
    """The population series as a PNG line chart with French-formatted labels; ``None`` without data.

    Missing years are left out of the line (never drawn as zero; :func:`planeco_kernel.charts.is_missing`);
    the x axis shows census years.
    """
    from planeco_kernel import charts

    return charts.population_chart([r.year for r in rows], [r.value for r in rows],
                                   title if title is not None else chart_title(rows))


def parents_of(t: Territory) -> list[Territory]:
    """The territories containing ``t``, smallest first (EPCI, SCoT, département, région, France)."""
    out = []
    parents = dict(t.parents or {})
    for level in PARENT_ORDER:
        if level in parents and parents[level]:
            p = t.parent(level)
            if p is not None:
                out.append(p)
    return out


def latest_population(t: Territory) -> int | None:
    """The most recent known population of ``t``, or ``None``."""
    pop = t.population or {}
    return int(pop[max(pop)]) if pop else None


def members_of(t: Territory) -> list[Territory]:
    """Member communes of ``t``, most populated first (``[]`` for a commune)."""
    if t.level == "commune":
        return []
    members = list(t.members(level="commune"))
    members.sort(key=lambda m: (-(latest_population(m) or -1), m.name))
    return members


def _mercator_y(lat: float) -> float:
    lat = max(min(lat, 85.0), -85.0)
    return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))


def view_for_bounds(bounds: tuple[float, float, float, float], width_px: int = 560, height_px: int = 440,
                    min_zoom: int = 2, max_zoom: int = 15) -> tuple[tuple[float, float], int]:
    """Leaflet ``(center (lat, lon), zoom)`` showing ``bounds`` (minx, miny, maxx, maxy) in a map of that size.

    Computed in Python so that the view is right even before the browser has drawn the map.
    """
    minx, miny, maxx, maxy = bounds
    center = ((miny + maxy) / 2, (minx + maxx) / 2)
    dlon = max(maxx - minx, 1e-6)
    dy = max(_mercator_y(maxy) - _mercator_y(miny), 1e-6)
    zx = math.log2(width_px * 360.0 / (256.0 * dlon))
    zy = math.log2(height_px * 2 * math.pi / (256.0 * dy))
    zoom = int(math.floor(min(zx, zy)))
    return center, max(min_zoom, min(max_zoom, zoom))


def _feature(code: str, name: str, geom: Any, style: dict[str, Any], level: str = "commune") -> dict[str, Any]:
    from shapely.geometry import mapping

    return {"type": "Feature", "id": f"{level}:{code}",
            "properties": {"code": code, "level": level, "name": name, "style": style},
            "geometry": mapping(geom)}


CONTOUR_STYLE = {"color": "#000091", "weight": 3, "fillColor": "#000091", "fillOpacity": 0.06, "opacity": 1}
MEMBER_STYLE = {"color": "#3a3a3a", "weight": 0.8, "fillColor": "#6a6af4", "fillOpacity": 0.25, "opacity": 0.8}


def _display_geometry(t: Territory):
    from planeco_kernel.errors import BundleError

    try:
        return t.geometry(display=True)
    except BundleError as exc:
        raise GeometryUnavailable(str(exc)) from exc


def contour_geojson(t: Territory) -> dict[str, Any] | None:
    """GeoJSON FeatureCollection of the territory's display contour, or ``None`` without geometry.

    Raises
    ------
    GeometryUnavailable
        When the bundle has no display geometries at all.
    """
    geom = _display_geometry(t)
    if geom is None or getattr(geom, "is_empty", False):
        return None
    return {"type": "FeatureCollection", "features": [_feature(t.code, t.name, geom, CONTOUR_STYLE, t.level)]}


def map_members(t: Territory, communes: list[Territory]) -> tuple[str | None, list[Territory]]:
    """Which members to draw on the map: ``(level, territories)``.

    The member communes when there are at most :data:`MAX_DRAWN_MEMBERS`; otherwise the member
    EPCI (régions, big SCoT) or the départements (France), so that the map stays light
    (see STACK.md: never push thousands of shapes through one widget message).
    """
    if t.level == "commune":
        return None, []
    if len(communes) <= MAX_DRAWN_MEMBERS:
        return "commune", communes
    level = "departement" if t.level == "france" else "epci"
    return level, list(t.members(level=level))


def members_geojson(members: list[Territory]) -> tuple[dict[str, Any], int]:
    """GeoJSON of the members' display contours, and how many members lack a geometry.

    Styles are precomputed in ``properties.style`` (one plain GeoJSON layer, see STACK.md).
    """
    features = []
    for m in members:
        geom = _display_geometry(m)
        if geom is not None and not geom.is_empty:
            features.append(_feature(m.code, m.name, geom, MEMBER_STYLE, m.level))
    return {"type": "FeatureCollection", "features": features}, len(members) - len(features)


METROPOLE_BOUNDS = (-5.2, 41.3, 9.6, 51.1)
"""Metropolitan France (minx, miny, maxx, maxy): the initial view for France, whose contour
includes the overseas départements."""


NATURES: dict[str, str] = {"CC": "Communauté de communes", "CA": "Communauté d'agglomération",
                           "CU": "Communauté urbaine", "METRO": "Métropole", "MET69": "Métropole de Lyon",
                           "SMF": "Syndicat mixte fermé", "SMO": "Syndicat mixte ouvert",
                           "PETR": "Pôle d'équilibre territorial et rural", "POLEM": "Pôle métropolitain"}
"""Legal natures of groupings (BANATIC / INSEE abbreviations) in words."""


def summary_facts(t: Territory) -> list[tuple[str, str]]:
    """Short ``(label, value)`` facts for the header of the fiche (French)."""
    facts: list[tuple[str, str]] = [("Niveau", level_label(t))]
    code_label = "Code INSEE" if t.level in ("commune", "departement", "region") else ("SIREN" if t.level in ("epci", "scot") else "Code")
    facts.append((code_label, t.code))
    nature = getattr(t, "nature", None)
    if nature:
        facts.append(("Nature juridique", NATURES.get(str(nature), str(nature))))
    pop = t.population or {}
    if pop:
        y = max(pop)
        facts.append((f"Population municipale {y}", fmt.integer(pop[y])))
    else:
        facts.append(("Population municipale", fmt.MISSING))
    if t.level != "commune":
        facts.append(("Communes membres", fmt.integer(t.members_count)))
    return facts
