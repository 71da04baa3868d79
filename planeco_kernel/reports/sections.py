"""The sections of a report as plain data, and the small pure helpers that word them.

Section objects (:class:`Table`, :class:`BarChart`, :class:`Title`, :class:`Themes`…) are what a
view-model (:mod:`planeco_kernel.reports.view`) returns and a renderer
(:mod:`planeco_kernel.reports.notebook`) displays: text already formatted in French
(:mod:`planeco_kernel.fmt`), charts as specifications (labels, values, title) that
:mod:`planeco_kernel.charts` draws. No I/O here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from planeco_kernel.levels import LEVEL

LEVEL_PLURAL = {k: lv.plural for k, lv in LEVEL.items()}

SHORT_LEVEL = {k: lv.short for k, lv in LEVEL.items()}

PARAMETER_LABELS: dict[str, str] = {"territory": "Territoire", "level": "Niveau", "vintage": "Millésime",
                                    "peer_group": "Groupe de comparaison", "show_map": "Carte",
                                    "themes": "Thèmes"}
"""French labels of the template parameters shown in the stamp."""

CHANGES_SHOWN = 12


# -- small pure helpers ---------------------------------------------------------------------------
def bar_label(name: str, level: str) -> str:
    """``"Rhône (département)"``; long names shortened so that the level stays visible."""
    if level == "france":
        return "France"
    short = name if len(name) <= 28 else name[:27] + "…"
    return f"{short} ({SHORT_LEVEL.get(level, level)})"


def is_ratio(unit: str) -> bool:
    """Whether a unit is comparable across territories of different sizes (rate, share, density)."""
    u = (unit or "").lower()
    return "%" in u or "/" in u or " par " in u or u.startswith("par ")


def source_short(cube, title: str) -> str:
    """The catalogue's short name of a source (« Insee, recensement ») from its title."""
    for src in cube.catalogue.sources.values():
        if src.title == title:
            return src.short or src.title
    return title or "source inconnue"


def not_loaded(source: str) -> str:
    """« données « Insee, recensement » non chargées dans cette installation »."""
    return f"données « {source} » non chargées dans cette installation"


def param_value(key: str, value: Any) -> str:
    """A template parameter as the stamp shows it (« automatique », « le plus récent »…)."""
    if value is None or value == "":
        return "le plus récent" if key == "vintage" else "par défaut"
    if value == "auto":
        return "automatique"
    if isinstance(value, bool):
        return "oui" if value else "non"
    if key == "level":
        return LEVEL[str(value)].noun if str(value) in LEVEL else str(value)
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return str(value)


def date_fr(iso: str | None) -> str:
    """``2026-11-24T01:55:48+00:00`` → ``24 novembre 2026 à 01 h 55 (UTC)``; unreadable text as is."""
    from datetime import datetime, timezone

    if not iso:
        return "date inconnue"
    try:
        d = datetime.fromisoformat(str(iso))
    except ValueError:
        return str(iso)
    months = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
              "novembre", "décembre")
    utc = d.tzinfo is not None
    if utc:
        d = d.astimezone(timezone.utc)
    day = "1er" if d.day == 1 else str(d.day)
    return f"{day} {months[d.month - 1]} {d.year} à {d.hour:02d} h {d.minute:02d}" + (" (UTC)" if utc else "")


def source_label(src: dict[str, Any]) -> str:
    """Publisher and dataset of a bundle source (« Insee — Code officiel géographique »), not a file path."""
    from planeco_kernel.sources.catalog import ALL, declared_identity

    title = str(src.get("title") or "").strip()
    name = str(src.get("name") or "")
    if name in ALL:  # the source registry's title and publisher, the same everywhere
        return ALL[name].label
    if title and "://" not in title and not title.startswith("pypi:"):
        return title
    declared = declared_identity(str(src.get("file") or ""))
    if declared is not None:
        return ALL[declared[0]].label
    return name.replace("_", " ")


# -- section objects ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Table:
    """A table of text cells; ``right``: indexes of right-aligned (numeric) columns."""

    header: list[str]
    rows: list[list[str]]
    right: frozenset[int] = frozenset()


@dataclass(frozen=True)
class BarChart:
    """Horizontal bars (see :func:`planeco_kernel.charts.bar_chart`); ``None`` values are missing."""

    labels: list[str]
    values: list[float | None]
    title: str
    unit: str
    highlight: int | None = None


@dataclass(frozen=True)
class SeriesChart:
    """A population series (see :func:`planeco_kernel.charts.series_chart`)."""

    series: dict[int, int]
    title: str


@dataclass(frozen=True)
class MapChart:
    """A static choropleth (see :func:`planeco_kernel.charts.choropleth_map`)."""

    geometries: list
    colors: list[str]
    legend: list
    title: str
    outline: Any = None


@dataclass(frozen=True)
class Title:
    heading: str
    name: str
    level_label: str
    nature: str
    code: str
    parents: str
    notes: list[str]


@dataclass(frozen=True)
class Changes:
    first_run: bool
    items: list[str]
    more: int


@dataclass(frozen=True)
class ThemeSection:
    """One indicator theme: optional population chart, table, lead-indicator bars, sentences, what is absent."""

    label: str
    series: SeriesChart | None
    growth_sentence: str | None
    table: Table
    bars: BarChart | None
    sentences: list[str]
    absent: list[tuple[str, str]]  # (labels joined, source short name)


@dataclass(frozen=True)
class Themes:
    error: str | None
    sections: list[ThemeSection] = field(default_factory=list)
    missing: list[tuple[str, list[str]]] = field(default_factory=list)  # (theme label, sources short names)
    causes: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Land:
    text: str | None  # None: no contours
    densest: list[tuple[str, str]]  # (name, density text)


@dataclass(frozen=True)
class Position:
    name: str
    table: Table | None


@dataclass(frozen=True)
class PeerSection:
    """« Parmi les communes comparables » or « Parmi les … de … »."""

    heading: str
    intro: str | None
    chart: BarChart | None
    summary: str | None


@dataclass(frozen=True)
class Members:
    map: MapChart | None
    map_note: str | None  # why there is no map, or what it leaves out
    lead: str
    table: Table


@dataclass(frozen=True)
class Sources:
    table: Table
    indicators: list[tuple[str, str]]  # (source, vintages)
    first_year: int
    vintage: int
    files: list[tuple[str, str, str]]  # (name, version, origin)
    pop_source: str
    geo_source: str
