"""What the « Comparateur territorial » app shows, computed without any widget (testable, reusable).

:class:`ComparateurData` wraps the territory model and the indicator cube
(:mod:`planeco_kernel.indicators`) and answers the app's questions with plain Python values:
indicator cards of a theme (value, unit, vintage, source, evolution, position in the parents
and the peer group, French sentence), the unavailable indicators and why, the map scope and
its choropleth (classes, colours, legend, GeoJSON with precomputed styles), automatic peers,
the side-by-side table, its CSV/XLSX export, the chart PNG, and the deep-link state.
The peers are in :mod:`.comparateur_peers` (a part of :class:`ComparateurData`), the deep-link
state in :mod:`.comparateur_state`, the exports in :mod:`.comparateur_export`; their names are
re-exported here.

A missing value is never a zero: it is ``None`` in the data and :data:`MISSING_VINTAGE` in text.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from planeco_kernel.apps.comparateur_export import (  # noqa: F401  (re-exported)
    chart_png,
    column_name,
    csv_bytes,
    xlsx_bytes,
)
from planeco_kernel.apps.comparateur_peers import (  # noqa: F401  (re-exported)
    AUTO_PEERS,
    PEER_GROUPS,
    PROGRAMME_ORDER,
    PROGRAMME_PEERS,
    ComparateurPeers,
)
from planeco_kernel.apps.comparateur_state import (  # noqa: F401  (re-exported)
    DEEP_LINK_KEYS,
    MAX_COMPARED,
    AppState,
    parse_state,
)
from planeco_kernel.indicators.sentences import format_value
from planeco_kernel.levels import LEVEL

if TYPE_CHECKING:
    from planeco_kernel.indicators.comparison import Comparison, IndicatorComparison
    from planeco_kernel.indicators.cube import Cube
    from planeco_kernel.territory import Territory

MISSING_VINTAGE = "donnée non disponible pour ce millésime"
"""Shown instead of a value that the source does not give for this territory and year."""

POSITION_GROUPS: tuple[str, ...] = ("epci", "scot", "departement", "peers")
"""Groups in which a territory's position is shown (when it belongs to them)."""

FALLBACK_GROUPS: tuple[str, ...] = ("region", "france")
"""Groups shown for levels that belong to none of :data:`POSITION_GROUPS` (départements, régions)."""

GROUP_LABELS: dict[str, str] = {k: lv.title for k, lv in LEVEL.items() if k != "commune"} | {
    "peers": "Communes comparables"}

CLASS_METHODS: dict[str, str] = {
    "quantiles": "quantiles (même nombre de communes par classe)",
    "jenks": "seuils naturels de Jenks (classes les plus homogènes)",
}
N_CLASSES = 5


# --------------------------------------------------------------------------- cards


@dataclass(frozen=True)
class Position:
    """Where the territory stands in one group (its EPCI, SCoT, département or peer group)."""

    group: str
    label: str
    rank: int | None
    count: int | None
    percentile: float | None
    reference_text: str

    @property
    def rank_text(self) -> str:
        if self.rank is None or not self.count:
            return "rang non calculable"
        from planeco_kernel.indicators.sentences import rank_text

        return rank_text(self.rank, self.count)


@dataclass(frozen=True)
class Card:
    """One indicator of the current territory, ready to be shown."""

    id: str
    label: str
    unit: str
    definition: str
    has_value: bool
    value: float | None
    value_text: str
    year: int | None
    source: str
    vintage: str
    evolution_text: str | None
    positions: tuple[Position, ...]
    sentence: str
    estimate: bool
    note: str = ""


@dataclass(frozen=True)
class Unavailable:
    """An indicator without data in this bundle, with why and how to get it."""

    id: str
    label: str
    source: str
    reason: str


def _positions(item: IndicatorComparison) -> tuple[Position, ...]:
    groups = [g for g in item.groups if g.group in POSITION_GROUPS] or \
        [g for g in item.groups if g.group in FALLBACK_GROUPS]
    out = []
    for g in groups:
        name = g.name or g.code
        label = f"{GROUP_LABELS[g.group]} : {name}" if g.group != "peers" else f"{GROUP_LABELS['peers']} ({name})"
        ref = format_value(g.value, item.unit) if g.value is not None else (g.value_note or MISSING_VINTAGE)
        ref_label = "médiane du groupe" if g.group == "peers" else "ensemble du territoire"
        out.append(Position(g.group, label, g.rank, g.count, g.percentile, f"{ref_label} : {ref}"))
    return tuple(out)


def card_of(item: IndicatorComparison, definition: str = "") -> Card:
    """The :class:`Card` of one indicator comparison (the indicator has data in the bundle)."""
    has = item.value is not None
    return Card(
        id=item.id, label=item.label, unit=item.unit, definition=definition, has_value=has, value=item.value,
        value_text=item.value_text if has else (item.reason if item.reason.startswith("disponible à l'échelle")
                                                 else MISSING_VINTAGE), year=item.year, source=item.source,
        vintage=item.vintage, evolution_text=(item.evolution or {}).get("text") if has else None,
        positions=_positions(item) if has else (), sentence=item.sentence if has else "",
        estimate=item.estimate, note="" if has else item.reason,
    )


def clean_reason(reason: str) -> str:
    """The engine's unavailability reason without its « Indisponible — » prefix."""
    return reason.removeprefix("Indisponible — ").strip()


# --------------------------------------------------------------------------- map


@dataclass(frozen=True)
class MapScope:
    """The territories drawn on the map for a selected territory."""

    level: str
    codes: tuple[str, ...]
    key: str
    title: str


@dataclass
class Choropleth:
    """A recoloured map: classes, colours, legend and GeoJSON (styles precomputed)."""

    indicator: str
    label: str
    unit: str
    year: int | None
    method: str
    breaks: list[float] | None
    legend: list[dict[str, Any]]
    values: dict[str, float | None]
    geojson: dict[str, Any]
    n_missing: int

    @property
    def method_text(self) -> str:
        return CLASS_METHODS[self.method]


# --------------------------------------------------------------------------- the data


class ComparateurData(ComparateurPeers):
    """The app's data layer over the territory model and the indicator cube.

    Parameters
    ----------
    model : TerritoryModel, optional
        Default: :func:`planeco_kernel.territory.load_model`.
    cube : Cube, optional
        Default: :func:`planeco_kernel.indicators.cube.load_cube` (the bundle's components).
    """

    def __init__(self, model: Any = None, cube: Cube | None = None):
        from planeco_kernel.indicators.comparison import comparator
        from planeco_kernel.indicators.cube import load_cube

        if model is None:
            from planeco_kernel.territory import load_model

            model = load_model()
        self.model = model
        self.cube = cube or load_cube()
        self.catalogue = self.cube.catalogue
        self.comparator = comparator(self.cube)
        self._comparisons: dict[str, Comparison] = {}
        self._features: dict[tuple[str, tuple[str, ...]], list[dict[str, Any]]] = {}
        self._names = {lv: df.set_index("code")["name"] for lv, df in self.cube.territories.groupby("level")}

    def warm_up(self) -> Territory | None:
        """Do the slow first-time work now (preheated kernel: before the visitor arrives).

        Every level's tables and the statistics of all their groups (a deep link's first comparison
        then sorts nothing), every level's display contours, and one commune's whole first view:
        cards, map, nearest peers, side-by-side table and its exports, chart (matplotlib, openpyxl
        imported). Returns that commune (the app renders its HTML once too), ``None`` without any.
        """
        for level in ("commune", "epci", "scot", "departement", "region", "france"):
            self.comparator.tables(level).precompute()
        from planeco_kernel import geo
        from planeco_kernel.apps.fiche_data import contour_geojson

        samples = [*self.model.search("a", limit=1), *self.model.search("a", level="commune", limit=1)]
        for t in samples:
            self.compare(t)
            scope = self.map_scope(t)
            self.choropleth(scope, self.available_indicators()[0])
            try:
                for lv in ("commune", "epci", "scot", "departement", "region"):
                    p = t if lv == "commune" else t.parent(lv)
                    if p is not None:
                        contour_geojson(p)  # reads each level's display contours once
                geo.bbox(scope.level, scope.codes)
                self.model.nearby(t.code, limit=1)
            except Exception:  # noqa: BLE001 - bundle without contours: the app says so when drawing
                pass
        geo.codes_within("commune", "departement", "01")
        commune = next((t for t in samples if t.level == "commune"), None)
        if commune is None:
            chart_png(["a"], [1.0], "", "")  # imports matplotlib
            return None
        theme = next(iter(self.themes))
        self.cards(commune, theme)
        self.programme_of(commune)
        terrs = [commune, *self.auto_peers(commune)]
        table = self.comparison_table(terrs, theme)
        csv_bytes(table)
        xlsx_bytes(table)  # imports openpyxl
        ind = self.available_indicators(theme)[0] if self.available_indicators(theme) else self.available_indicators()[0]
        chart_png([t.name for t in terrs], [self.compare(t)[ind].value for t in terrs], "", ind)
        return commune

    # ------------------------------------------------------------------ indicators
    @property
    def themes(self) -> dict[str, str]:
        """Theme id → French label, in catalogue order."""
        return dict(self.catalogue.themes)

    def available_indicators(self, theme: str | None = None) -> list[str]:
        """Ids of the indicators (of a theme) that have values in the bundle."""
        return [i.id for i in self.catalogue.by_theme(theme) if self.cube.status[i.id].available]

    def compare(self, t: Territory) -> Comparison:
        """The engine's comparison of ``t`` (cached per territory)."""
        c = self._comparisons.get(t.key)
        if c is None:
            c = self.comparator.compare(t.code, t.level)
            if len(self._comparisons) > 256:
                self._comparisons.clear()
            self._comparisons[t.key] = c
        return c

    def cards(self, t: Territory, theme: str) -> tuple[list[Card], list[Unavailable]]:
        """Cards of the theme's indicators that have data, and the list of those that have none."""
        comp = self.compare(t)
        wanted = {i.id for i in self.catalogue.by_theme(theme)}
        cards, missing = [], []
        for item in comp.indicators:
            if item.id not in wanted:
                continue
            ind = self.catalogue.indicators[item.id]
            if self.cube.status[item.id].available:
                cards.append(card_of(item, ind.definition))
            else:
                missing.append(Unavailable(item.id, item.label, self.catalogue.sources[ind.source].title,
                                           clean_reason(self.cube.status[item.id].reason)))
        return cards, missing

    def latest_year(self, indicator: str, level: str) -> int | None:
        """Latest year with at least one value of ``indicator`` at ``level``."""
        ds = self.cube.dataset(level)
        have = ~np.isnan(ds[indicator].values)
        cols = np.flatnonzero(have.any(axis=0))
        return int(ds["year"].values[cols[-1]]) if len(cols) else None

    def values(self, indicator: str, level: str, codes: list[str] | tuple[str, ...],
               year: int | None = None) -> pd.Series:
        """Values of ``indicator`` for ``codes`` at ``year`` (default: latest), NaN where missing."""
        ds = self.cube.dataset(level)
        year = year if year is not None else self.latest_year(indicator, level)
        if year is None:
            return pd.Series(np.nan, index=list(codes), dtype="float64")
        s = ds[indicator].sel(year=year).to_series()
        s.index = s.index.astype(str)
        return s.reindex(list(codes))

    # ------------------------------------------------------------------ map
    def map_scope(self, t: Territory) -> MapScope:
        """Territories drawn around ``t``: the communes of its EPCI (of its département without
        EPCI) for a commune; its member communes otherwise; the départements for France."""
        from planeco_kernel import geo

        if t.level == "france":
            codes = tuple(sorted(self._names["departement"].index.astype(str)))
            return MapScope("departement", codes, "france:FR", "Départements de France")
        parent = t
        if t.level == "commune":
            parent = t.parent("epci") or t.parent("departement") or t
        if parent.level == "commune":
            return MapScope("commune", (t.code,), t.key, t.name)
        codes = tuple(sorted(geo.codes_within("commune", parent.level, parent.code)))
        return MapScope("commune", codes, parent.key, f"Communes de {parent.name}")

    def _base_features(self, scope: MapScope) -> list[dict[str, Any]]:
        key = (scope.level, scope.codes)
        feats = self._features.get(key)
        if feats is None:
            from planeco_kernel import geo

            frame = geo.load_display(scope.level, scope.codes)
            gj = geo.to_geojson(frame, precision=4)
            names = self._names[scope.level]
            feats = gj["features"]
            for f in feats:
                f["properties"]["name"] = str(names.get(f["id"], f["id"]))
            if len(self._features) > 16:
                self._features.clear()
            self._features[key] = feats
        return feats

    def choropleth(self, scope: MapScope, indicator: str, method: Literal["quantiles", "jenks"] = "quantiles",
                   k: int = N_CLASSES) -> Choropleth:
        """Classes, colours, legend and GeoJSON of ``indicator`` over the scope's territories."""
        from planeco_kernel import geo

        ind = self.catalogue.get(indicator)
        year = self.latest_year(indicator, scope.level)
        vals = self.values(indicator, scope.level, scope.codes, year)
        finite = vals.dropna()
        missing = ind.level_note(scope.level) or MISSING_VINTAGE  # a regional series has no commune value
        if finite.empty:
            breaks, colors = None, {}
            legend = [{"label": missing, "color": geo.MISSING_COLOR, "lower": None, "upper": None}]
        else:
            breaks = geo.classify(finite, k=min(k, max(finite.nunique(), 1)), method=method)
            colors = dict(zip(vals.index, geo.colors_for(vals.to_numpy(), breaks)))
            legend = geo.legend_items(breaks, unit=ind.unit if ind.unit != "ratio" else "")
            if finite.size < vals.size:
                legend[-1]["label"] = missing
            else:
                legend = legend[:-1]
        values: dict[str, float | None] = {c: (None if math.isnan(v) else float(v)) for c, v in vals.items()}
        features = []
        for f in self._base_features(scope):
            code = f["id"]
            v = values.get(code)
            props = {"code": code, "name": f["properties"]["name"], "level": scope.level,
                     "value_text": format_value(v, ind.unit) if v is not None else missing,
                     "style": geo.fill_style(colors.get(code, geo.MISSING_COLOR), weight=0.6, opacity=0.9)}
            features.append({"type": "Feature", "id": code, "properties": props, "geometry": f["geometry"]})
        return Choropleth(indicator, ind.label, ind.unit, year, method, breaks, legend, values,
                          {"type": "FeatureCollection", "features": features},
                          n_missing=int(vals.isna().sum()))

    # ------------------------------------------------------------------ comparison
    def comparison_table(self, territories: list[Territory], theme: str) -> pd.DataFrame:
        """Side by side: one row per indicator of the theme with data, one column per territory.

        Columns: ``indicateur`` (id), ``libellé``, ``unité``, ``année``, then one column per
        territory named ``"Nom (code)"``; missing values are NaN (shown as :data:`MISSING_VINTAGE`).
        """
        ids = self.available_indicators(theme)
        comps = [self.compare(t) for t in territories]
        rows = []
        for iid in ids:
            ind = self.catalogue.indicators[iid]
            items = [c[iid] for c in comps]
            years = sorted({it.year for it in items if it.year is not None})
            row: dict[str, Any] = {"indicateur": iid, "libellé": ind.label, "unité": ind.unit,
                                   "année": ", ".join(map(str, years))}
            for t, it in zip(territories, items):
                row[column_name(t)] = np.nan if it.value is None else it.value
            rows.append(row)
        cols = ["indicateur", "libellé", "unité", "année", *[column_name(t) for t in territories]]
        return pd.DataFrame(rows, columns=cols)
