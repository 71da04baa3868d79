"""Compare one territory with its parents and its peers, for every indicator.

For a territory of level L, each indicator is read at its latest year with values at level L,
and compared within each group the territory belongs to: the territories of level L of the
same EPCI, SCoT, département, région, France, and — for communes — the peer group declared in
the catalogue (:mod:`planeco_kernel.indicators.peers`). For each group: rank counted from the top
(1 = the highest value, whatever the polarity) and from the bottom (1 = the lowest), percentile
(share of the group's values lower than or equal to it, in %), the group's median, the parent's
own value and the gap to it.
Plus the evolution between the latest year and an earlier vintage (difference and annual
growth), and one French sentence. Every value carries its source and vintage.

The latest values of each group are sorted once (:class:`~planeco_kernel.indicators.ranking.GroupStats`),
on the group's first use or for every group of a level at once (:meth:`_LevelTables.precompute`,
what the Comparateur's preheated kernel does); then each comparison is a few binary searches.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from planeco_kernel.bundle.schema import LEVELS
from planeco_kernel.indicators import sentences as fr
from planeco_kernel.indicators.cube import PARENT_COLUMNS, Cube, load_cube
from planeco_kernel.indicators.missing import missing_reason, missing_text
from planeco_kernel.indicators.ranking import GroupStats
from planeco_kernel.indicators.peers import peer_keys

PRECOMPUTED_GROUP_SIZE = 1000
"""Groups of at least this many territories get their statistics in :meth:`_LevelTables.precompute`."""

EVOLUTION_SPAN = 5
"""Evolution compares the latest year with the latest year at least this many years earlier
(or the earliest year available when the series is shorter)."""


@dataclass
class _LevelTables:
    ids: list[str]
    years: np.ndarray  # per indicator: index of the latest year with values at this level (-1: none)
    values: list[np.ndarray]  # per indicator: (n, Y), the cube's own array (a view, not a copy)
    coverage: list[np.ndarray | None]  # per indicator: (n, Y), None where not stored
    latest: np.ndarray  # (n, K): value at the latest year
    row: dict[str, int]
    groups: dict[str, np.ndarray]  # group name -> key per territory (object, None = no group)
    peer_labels: np.ndarray | None = None
    column: dict[str, int] = field(default_factory=dict, repr=False)  # indicator id -> its index in ``ids``
    _members: dict[str, dict[object, np.ndarray]] = field(default_factory=dict, repr=False)
    _stats: dict[tuple[str, object], GroupStats] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.column = {iid: k for k, iid in enumerate(self.ids)}

    def stats(self, group: str, key: object) -> GroupStats:
        """Latest values of the territories of group ``group`` (``epci``, ``peers``…) whose key is
        ``key``, sorted per indicator — computed on first use and kept: ranking every territory of
        the level in every group at once took ~10 s for all France's communes."""
        hit = self._stats.get((group, key))
        if hit is None:
            members = self._members.get(group)
            if members is None:
                keys = pd.Series(self.groups[group], dtype=object)
                members = self._members[group] = {k: np.asarray(v) for k, v in keys.groupby(keys, dropna=True).indices.items()}
            rows = members.get(key, np.zeros(0, dtype=np.int64))
            sub = self.latest if len(rows) == len(self.latest) else self.latest[rows]
            hit = self._stats[(group, key)] = GroupStats.of(sub)
        return hit

    def precompute(self, min_members: int = PRECOMPUTED_GROUP_SIZE) -> int:
        """Compute now the statistics of every group of the level with at least ``min_members``
        territories (a preheated kernel does it before any visitor): sorting those is what made a
        deep link's first comparison slow (France's 35,000 communes: ~0.12 s; a région's or a peer
        group's thousands: 15–30 ms each), while a smaller group sorts in about a millisecond on use.
        For all France's communes: ~0.2 s and ~90 MB. Returns how many groups were computed."""
        n = 0
        for group, keys in self.groups.items():
            sizes = pd.Series(keys, dtype=object).value_counts(dropna=True)
            for key in sizes.index[sizes.to_numpy() >= min_members]:
                self.stats(group, key)
                n += 1
        return n


def _scope_reason(status_reason: str) -> str:
    """The coverage of an extract (« données disponibles pour la Métropole de Lyon ; ailleurs : … »)
    when that is why a territory has no value; else ``""``."""
    return status_reason if status_reason.startswith("données disponibles pour") else ""


class Comparator:
    """Comparisons over a :class:`~planeco_kernel.indicators.cube.Cube` (precomputed per level, lazily)."""

    def __init__(self, cube: Cube):
        self.cube = cube
        self._levels: dict[str, _LevelTables] = {}
        self._cited: dict[tuple[str, str, int | None], tuple[Any, str]] = {}  # (indicator, level, year) -> source, provenance
        t = cube.territories
        self._terr = {lv: t[t["level"] == lv].set_index("code") for lv in LEVELS}

    def tables(self, level: str) -> _LevelTables:
        if level not in self._levels:
            self._levels[level] = self._prepare(level)
        return self._levels[level]

    def _prepare(self, level: str) -> _LevelTables:
        cube = self.cube
        ds = cube.dataset(level)
        ids = [i for i in cube.catalogue.indicators if cube.status[i].available]
        # the cube's arrays themselves: stacking them copied ~0.9 GB at commune level
        values = [ds[i].values for i in ids]
        coverage = [ds[f"{i}__coverage"].values if f"{i}__coverage" in ds else None for i in ids]
        n = ds.sizes["territory"]
        years = np.full(len(ids), -1, dtype=np.int64)
        latest = np.full((n, len(ids)), np.nan)
        for k, v in enumerate(values):
            have = np.flatnonzero(~np.isnan(v).all(axis=0))
            if len(have):
                years[k] = have[-1]
                latest[:, k] = v[:, have[-1]]
        codes = [str(c) for c in ds["territory"].values]
        terr = self._terr[level].reindex(codes)
        groups: dict[str, np.ndarray] = {}
        for parent in LEVELS[LEVELS.index(level) + 1:]:
            if parent == "france":
                groups[parent] = np.full(n, "FR", dtype=object)
            elif PARENT_COLUMNS[parent] in terr.columns:
                col = terr[PARENT_COLUMNS[parent]].to_numpy(dtype=object)
                if not pd.isna(col).all():
                    groups[parent] = np.where(pd.isna(col), None, col)
        peer_labels = None
        if level == "commune":
            comps = cube.components
            surface = None
            if "surface_km2" in comps.values:
                s = comps.values["surface_km2"]
                surface = np.nanmax(np.where(np.isnan(s), -np.inf, s), axis=1)
                surface = np.where(np.isfinite(surface), surface, np.nan)
            keys, peer_labels = peer_keys(terr["population"].astype("float64").to_numpy(), surface, cube.catalogue)
            groups["peers"] = keys
        tab = _LevelTables(ids, years, values, coverage, latest, {c: i for i, c in enumerate(codes)}, groups,
                           peer_labels=peer_labels)
        return tab

    # ------------------------------------------------------------------ one territory
    def compare(self, code: str, level: str | None = None) -> Comparison:
        """Compare the territory ``code`` (level inferred when unambiguous)."""
        level, code = self._resolve(code, level)
        tab = self.tables(level)
        i = tab.row[code]
        cube = self.cube
        years = [int(y) for y in cube.dataset(level)["year"].values]
        terr = self._terr[level].loc[code]
        parents = {}
        for g in tab.groups:
            key = tab.groups[g][i]
            if key is None:
                continue
            if g == "peers":
                parents[g] = {"level": "peers", "code": key, "name": tab.peer_labels[i]}
            else:
                name = self._terr[g]["name"].get(key) if key in self._terr[g].index else None
                parents[g] = {"level": g, "code": key, "name": name}
        items = []
        for ind in cube.catalogue:
            if not cube.status[ind.id].available:
                items.append(IndicatorComparison(ind.id, ind.label, ind.unit, ind.theme, available=False,
                                                 reason=cube.status[ind.id].reason,
                                                 source=cube.catalogue.sources[ind.source].title))
                continue
            k = tab.column[ind.id]
            j = int(tab.years[k])
            items.append(self._item(ind, level, tab, i, k, j, years, parents, code))
        return Comparison(level=level, code=code, name=str(terr["name"]), parents=parents, indicators=items)

    def _item(self, ind, level, tab, i, k, j, years, parents, code: str = "") -> IndicatorComparison:
        cube = self.cube
        value = float(tab.values[k][i, j]) if j >= 0 else math.nan
        year = years[j] if j >= 0 else None
        cover = float(tab.coverage[k][i, j]) if j >= 0 and tab.coverage[k] is not None else math.nan
        estimate = level != "commune" and not math.isnan(cover) and cover < 0.999
        # the same for every territory of the level (the indicator's latest year there): kept
        cited = self._cited.get((ind.id, level, year))
        if cited is None:
            cited = self._cited[(ind.id, level, year)] = (
                cube.catalogue.sources[_level_source_id(cube.catalogue, ind, level)], self._provenance(ind, year, level))
        src, provenance = cited
        groups = []
        for g, info in parents.items():
            st = tab.stats(g, tab.groups[g][i])
            median = float(st.median[k])
            if g == "peers":
                pval = median
            else:
                ptab = self.tables(g)
                prow = ptab.row.get(info["code"])
                pval = float(ptab.values[ptab.column[ind.id]][prow, j]) if prow is not None and j >= 0 else math.nan
            top, bottom, pct = st.ranks(k, float(tab.latest[i, k]))
            groups.append(GroupComparison(
                group=g, code=info["code"], name=info["name"], value=_f(pval),
                gap=_f(value - pval), rank=_i(top), count=_i(st.count[k]),
                percentile=_f(pct), rank_from_bottom=_i(bottom),
                median=_f(median), value_note=_missing_note(ind, g) if math.isnan(pval) else "",
            ))
        evo = _evolution(tab.values[k][i], years, j, ind.unit)
        sentence = ""
        if not math.isnan(value):
            target = (next((gr for gr in groups if gr.group != "peers" and (gr.count or 0) >= 4 and gr.median is not None), None)
                      or next((gr for gr in groups if (gr.count or 0) >= 4), None) or (groups[0] if groups else None))
            if target is not None:
                sentence = fr.comparison_sentence(
                    level=level, group=target.group, subject=ind.subject, percentile=target.percentile,
                    polarity=ind.polarity, value_text=fr.format_value(value, ind.unit),
                    reference_text=f"{fr.format_value(target.median, ind.unit)} {fr.median_reference(level, target.group)}",
                    provenance=provenance, estimate=estimate, context_text=self._cited_context(ind, value, target, level, year))
            else:
                sentence = f"{fr.LEVEL_WORDS[level][0]} : {ind.subject} vaut {fr.format_value(value, ind.unit)} ({provenance})."
            clause = self.target_clause(ind, level)
            if clause:
                sentence = f"{sentence} {clause}"
        return IndicatorComparison(
            ind.id, ind.label, ind.unit, ind.theme, available=not math.isnan(value), year=year, value=_f(value),
            value_text=fr.format_value(value, ind.unit), source=src.title, vintage=src.vintage,
            estimate=estimate, coverage=_f(cover), groups=groups, evolution=evo, sentence=sentence,
            reason="" if not math.isnan(value) else (
                ind.level_note(level) or _scope_reason(cube.status[ind.id].reason)
                or missing_text(missing_reason(cube, ind.id, level, code),
                                "pas de valeur pour ce territoire (secret statistique ou donnée absente)")),
        )

    def _cited_context(self, ind, value: float, target: GroupComparison, level: str, year: int | None) -> str | None:
        """:func:`_context`; for a ``published`` indicator whose parent level has another source (France:
        the baromètre, the régions: Écolab), that source is cited beside the parent's value."""
        text = _context(ind, value, target)
        if text is None or ind.aggregation != "published" or target.group == "peers":
            return text
        cat = self.cube.catalogue
        comps = [cat.components[c] for c in sorted(ind.components)]
        if [_published_source(cat, c, level, None) for c in comps] == [_published_source(cat, c, target.group, None) for c in comps]:
            return text
        return f"{text} ({' ; '.join(dict.fromkeys(_published_source(cat, c, target.group, year) for c in comps))})"

    def national_target(self, ind) -> dict | None:
        """The official national target of ``ind`` (baromètre SGPE) with France's distance to it, or ``None``.

        Only an indicator that reads one territorial component (``kind: sum``) whose France values come
        from the same national series as the target has one; the distance is computed on the cube's
        France series by :func:`planeco_kernel.trajectories.national.distance`."""
        from planeco_kernel.trajectories.national import distance

        terms = ind.numerator.terms
        if ind.aggregation != "published" or ind.kind != "sum" or len(terms) != 1 or len(terms[0].factors) != 1:
            return None
        comp = terms[0].factors[0].component
        target = self.cube.components.targets.get(comp) if comp else None
        if target is None or "france" not in ind.levels:
            return None
        ds = self.cube.dataset("france")
        series = ds[ind.id].values[0]
        years = [int(y) for y in ds["year"].values]
        have = [(y, float(v)) for y, v in zip(years, series) if not math.isnan(v)]
        if not have:
            return None
        d = distance([y for y, _ in have], [v for _, v in have], float(target["value"]), int(target["year"]))
        src = self.cube.catalogue.sources.get(target.get("source_id", ""))
        cited = " ; ".join(x for x in (target.get("target_source"), f"{src.short}, {src.vintage}" if src else "") if x)
        return {**d, "target_source": cited, "series": target.get("series")}

    def target_clause(self, ind, level: str) -> str:
        """The clause on the distance to the national 2030 target (France and région levels), or ``""``."""
        if level not in ("france", "region"):
            return ""
        d = self.national_target(ind)
        if d is None:
            return ""
        return fr.target_clause(level=level, unit=ind.unit, polarity=ind.polarity, last_year=d["last_year"],
                                last_value=d["last_value"], target_year=d["target_year"], target=d["target"],
                                required_pace=d["required_pace"], observed_pace=d["observed_pace"],
                                pace_from=d["pace_from"], target_source=d["target_source"])

    def _provenance(self, ind, year: int | None, level: str | None = None) -> str:
        """« Insee, Filosofi 2016 »; a fixed-vintage source among the components is cited with its own
        vintage (« Insee, populations municipales 2023 ; contours COG 2025 »), not the indicator's year.
        A ``published`` indicator cites the source that publishes ``level`` (Écolab for the régions, the
        baromètre for France), or « somme des régions »."""
        cat = self.cube.catalogue
        if ind.aggregation == "published" and level is not None:
            return " ; ".join(dict.fromkeys(_published_source(cat, cat.components[c], level, year)
                                            for c in sorted(ind.components)))
        fixed = {"geometry"}
        used = [cat.components[c].source for c in sorted(ind.components) if c in cat.components]
        yearly = [ind.source] if ind.source not in fixed else [sid for sid in dict.fromkeys(used) if sid not in fixed][:1]
        parts = [f"{cat.sources[sid].short} {year}" if year else cat.sources[sid].short for sid in yearly]
        for sid in dict.fromkeys([ind.source, *used]):
            if sid in fixed:
                parts.append(f"contours {cat.sources[sid].vintage}")
        return " ; ".join(parts)

    def _resolve(self, code: str, level: str | None) -> tuple[str, str]:
        from planeco_kernel.errors import TerritoryNotFoundError

        code = str(code).strip().upper() if str(code).strip().upper() == "FR" else str(code).strip()
        if level is not None:
            if level not in self._terr:
                raise TerritoryNotFoundError(code, level=level)
            if code not in self._terr[level].index:
                raise TerritoryNotFoundError(code, level=level)
            return level, code
        for lv in LEVELS:
            if code in self._terr[lv].index:
                return lv, code
        from planeco_kernel.territory import load_model

        try:
            t = load_model().get(code)
        except Exception as exc:  # noqa: BLE001 - re-raised as a territory error below
            raise TerritoryNotFoundError(code) from exc
        return t.level, t.code


def _component_source_id(comp, level: str) -> str:
    """The source that publishes a territorial component at ``level``: the first of its sources whose
    registry entry lists the level (the régions: Écolab; France: the baromètre), else its first source."""
    from planeco_kernel.sources.catalog import ALL

    return next((s for s in comp.sources if s in ALL and level in ALL[s].levels), comp.sources[0])


def _level_source_id(cat, ind, level: str) -> str:
    """The indicator's source at ``level`` (a ``published`` indicator: the source of that level)."""
    if ind.aggregation != "published":
        return ind.source
    ids = {_component_source_id(cat.components[c], level) for c in ind.components}
    return ids.pop() if len(ids) == 1 else ind.source


def _published_source(cat, comp, level: str, year: int | None) -> str:
    """« Écolab (SDES) 2023 », « SGPE, baromètre 2025 », « somme des régions, Écolab (SDES) 2023 »."""
    from planeco_kernel.sources.catalog import ALL

    when = f" {year}" if year else ""
    if level == "france" and comp.france == "sum_of_regions" and not any(
            s in ALL and "france" in ALL[s].levels for s in comp.sources):
        return f"somme des régions, {cat.sources[comp.sources[0]].short}{when}"
    return f"{cat.sources[_component_source_id(comp, level)].short}{when}"


def _f(x) -> float | None:
    try:
        x = float(x)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(x) else x


def _i(x) -> int | None:
    f = _f(x)
    return None if f is None else int(f)


def _missing_note(ind, group: str) -> str:
    """Why a parent's value is missing, in French."""
    if group == "peers":
        return "médiane non calculable (aucune valeur dans le groupe)"
    if ind.aggregation == "official_only":
        return ("médiane non calculable par agrégation des communes" if ind.kind == "median"
                else "valeur non calculable par agrégation des communes")
    if ind.coverage == "strict":
        return "non calculable : communes du territoire pas toutes renseignées"
    return "donnée non disponible pour ce millésime"


def _context(ind, value: float, target: GroupComparison) -> str | None:
    """The extra figure of a sentence: the parent's aggregate for a rate, the share of the parent for a count."""
    if target.group == "peers" or target.value is None:
        return None
    if ind.aggregation == "sum":
        if "[-" in ind.numerator.text:  # a change between two years: a share of the parent's change means nothing
            return None
        return fr.share_text(value, target.value, ind.subject, target.group)
    return f"{fr.AGGREGATE_WORDS.get(target.group, 'ensemble')} : {fr.format_value(target.value, ind.unit)}"


def _evolution(series: np.ndarray, years: list[int], j: int, unit: str) -> dict[str, Any] | None:
    if j < 0 or np.isnan(series[j]):
        return None
    have = np.flatnonzero(~np.isnan(series[:len(years)])).tolist()
    if len(have) < 2:
        return None
    earlier = [t for t in have if years[t] <= years[j] - EVOLUTION_SPAN]
    j0 = earlier[-1] if earlier else have[0]
    if j0 >= j:
        return None
    v0, v1 = float(series[j0]), float(series[j])
    span = years[j] - years[j0]
    growth = ((v1 / v0) ** (1 / span) - 1) * 100 if v0 > 0 and v1 > 0 and "%" not in unit else None
    return {"from_year": years[j0], "to_year": years[j], "from_value": v0, "difference": v1 - v0,
            "annual_growth_pct": growth, "text": fr.evolution_text(v1 - v0, years[j0], years[j], unit, growth)}


@dataclass
class GroupComparison:
    """Where a territory stands in one group. ``rank`` is counted from the top (1 = highest value)."""

    group: str
    code: str
    name: str | None
    value: float | None
    gap: float | None
    rank: int | None
    count: int | None
    percentile: float | None
    rank_from_bottom: int | None = None
    median: float | None = None
    value_note: str = ""
    """Why ``value`` is missing (« médiane non calculable par agrégation des communes »), else empty."""

    @property
    def rank_from_top(self) -> int | None:
        return self.rank

    @property
    def n(self) -> int | None:
        return self.count

    @property
    def rank_text(self) -> str:
        """« 5e valeur la plus élevée sur 53 » / « 2e valeur la plus basse sur 36 »."""
        return fr.rank_text(self.rank, self.count, self.rank_from_bottom)

    def to_dict(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d.update(rank_from_top=self.rank, n=self.count, rank_text=self.rank_text)
        return d


@dataclass
class IndicatorComparison:
    id: str
    label: str
    unit: str
    theme: str
    available: bool
    year: int | None = None
    value: float | None = None
    value_text: str = "n.d."
    source: str = ""
    vintage: str = ""
    estimate: bool = False
    coverage: float | None = None
    groups: list[GroupComparison] = field(default_factory=list)
    evolution: dict[str, Any] | None = None
    sentence: str = ""
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["groups"] = [g.to_dict() for g in self.groups]
        return d


@dataclass
class Comparison:
    """The comparison of one territory: one :class:`IndicatorComparison` per indicator."""

    level: str
    code: str
    name: str
    parents: dict[str, dict]
    indicators: list[IndicatorComparison]

    def __getitem__(self, indicator_id: str) -> IndicatorComparison:
        for it in self.indicators:
            if it.id == indicator_id:
                return it
        from planeco_kernel.indicators.catalogue import load_catalogue

        load_catalogue().get(indicator_id)  # raises the French error with suggestions
        raise KeyError(indicator_id)

    def to_dict(self) -> dict[str, Any]:
        return {"level": self.level, "code": self.code, "name": self.name, "parents": self.parents,
                "indicators": [i.to_dict() for i in self.indicators]}

    def to_frame(self) -> pd.DataFrame:
        """One row per available indicator: value, year, source, and per group rank/percentile/parent value."""
        rows = []
        for it in self.indicators:
            if not it.available:
                continue
            row = {"indicateur": it.id, "libellé": it.label, "année": it.year, "valeur": it.value, "unité": it.unit,
                   "source": it.source}
            for g in it.groups:
                row[f"{g.group}_valeur"] = g.value
                row[f"{g.group}_rang"] = g.rank
                row[f"{g.group}_rang_depuis_le_bas"] = g.rank_from_bottom
                row[f"{g.group}_médiane"] = g.median
                row[f"{g.group}_effectif"] = g.count
                row[f"{g.group}_centile"] = g.percentile
            rows.append(row)
        return pd.DataFrame(rows)


_COMPARATORS: dict[int, Comparator] = {}


def comparator(cube: Cube) -> Comparator:
    """The (cached) comparator of a cube."""
    key = id(cube)
    if key not in _COMPARATORS:
        _COMPARATORS.clear()
        _COMPARATORS[key] = Comparator(cube)
    return _COMPARATORS[key]


def compare(code: str, level: str | None = None, *, cube: Cube | None = None, data_dir=None) -> Comparison:
    """Compare the territory ``code`` with its parents and peers, for every indicator."""
    cube = cube or load_cube(data_dir)
    return comparator(cube).compare(code, level)
