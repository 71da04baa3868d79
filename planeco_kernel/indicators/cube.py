"""The indicator cube: one :class:`xarray.Dataset` per level (territory × year), all France at once.

:func:`build_cube` evaluates every indicator's numerator and denominator per commune and year
(:mod:`planeco_kernel.indicators.formula`), sums them up commune → EPCI → SCoT → département →
région → France through :class:`~planeco_kernel.indicators.rollup.GroupIndex` (the parent codes
of the bundle's ``territories`` table), and only then takes the ratio, so that a rolled-up
value is always a ratio of sums (or a population-weighted mean), never an average of ratios.

Missing commune values (statistical secret) are handled by each indicator's ``coverage`` rule:
``strict`` — the aggregate is missing unless the member communes with a value hold
:data:`STRICT_MIN_COVERAGE` of the population; ``estimate`` — the
aggregate is computed over the communes that have a value and carries its coverage (share of
the population covered); below
:data:`MIN_ESTIMATE_COVERAGE` it is missing. Medians and deciles (``official_only``) are never
rolled up: EPCI take the value the publisher computed for them (Filosofi's EPCI file) when the
EPCI's perimeter is unchanged since (checked on the number of fiscal households), and the other
levels are unavailable. Population-weighted shares the publisher also gives for EPCI (Filosofi's
poverty rate …) take the official value there too, and are estimated elsewhere only above
:data:`SECRET_SHARE_MIN_COVERAGE`. Every rolled-up indicator carries its coverage in ``<id>__coverage``.
A ratio declared with ``denominator_rule: positive`` is missing wherever its denominator — a
commune's, or the sum over a territory's communes — is zero or negative (consumption per new
household where households did not increase): never a negative or infinite value.

Values of split communes that describe their former territory (:attr:`Components.flags`) make a
commune's indicator missing wherever they are read (a change of population over a split, a
density over a contour that still covers the split-off communes); they still count in the
roll-ups, whose sums are right as long as the whole split group lies in the territory — where it
does not, the territory's value is missing too.

Indicators with ``aggregation: published`` read territorial components (series published per
région or for France, :mod:`planeco_kernel.indicators.territorial`): they are evaluated on each of
their levels' own values, never from communes, and hold no value at the other levels (the
dataset's ``level_note`` attribute says « disponible à l'échelle régionale »).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from planeco_kernel.bundle.reader import Bundle, open_bundle
from planeco_kernel.bundle.schema import FRANCE_CODE, LEVELS
from planeco_kernel.indicators.catalogue import Catalogue, Indicator, load_catalogue
from planeco_kernel.indicators.components import HOW_TO_GET, Components, load_components
from planeco_kernel.indicators.formula import Unavailable, consecutive, evaluate, evaluate_columns
from planeco_kernel.indicators import splits
from planeco_kernel.indicators.rollup import GroupIndex, PartlyNested
from planeco_kernel.indicators.published import evaluate_published
from planeco_kernel.levels import PARENT_COLUMNS

def _extracts() -> dict:
    from planeco_kernel.sources.catalog import ALL

    return {k: v for k, v in ALL.items() if v.partial_coverage}


_EXTRACTS = _extracts()
"""Registry sources that cover only part of France (the Métropole de Lyon extract)."""

MIN_ESTIMATE_COVERAGE = 0.5
"""Below this share of the population covered, an estimated aggregate is not shown."""

STRICT_MIN_COVERAGE = 0.999
"""A ``strict`` aggregate needs values for communes holding at least this share of the population
(a handful of communes have no value in the bundle's population table: islands outside any EPCI,
communes re-created after a split whose old value stays with the commune that held it)."""

SECRET_SHARE_MIN_COVERAGE = 0.95
"""Population-weighted shares of a publisher that also gives EPCI values (Filosofi's poverty rate,
shares of taxed households, of social benefits, of pensions) are withheld in the small communes
(statistical secret), whose values differ from the towns': an estimate over the other communes
is biased. Against Filosofi 2016's official EPCI values, the bias of the poverty rate is +2,0
points on average (up to 8,5) at 50–70 % coverage, +0,5 (up to 1,5) at 90–95 %, +0,1 (up to
0,7) from 95 %: below this coverage such a share is not shown; EPCI with an unchanged perimeter
take the official value."""

PERIMETER_TOLERANCE = 0.005
"""Relative gap allowed between an EPCI's official household count and its current members' sum."""


@dataclass
class IndicatorStatus:
    available: bool
    reason: str = ""
    years: list[int] = field(default_factory=list)



@dataclass
class Cube:
    """The indicator datasets of every level, with the catalogue and the territories they describe."""

    catalogue: Catalogue
    datasets: dict[str, object]  # level -> xarray.Dataset
    territories: pd.DataFrame
    status: dict[str, IndicatorStatus]
    components: Components
    missing_reasons: dict[str, list[tuple[str, str, str]]] = field(default_factory=dict)
    """Why the build left some commune values missing (:mod:`planeco_kernel.indicators.missing`):
    ``{commune_code: [(source, variable, reason), …]}``, from the bundle's ``missing_reasons`` table."""

    def level_note(self, indicator_id: str, level: str) -> str:
        """« disponible à l'échelle régionale » when the indicator does not exist at ``level``; else ``""``."""
        return self.catalogue.get(indicator_id).level_note(level)

    def __getitem__(self, level: str):
        return self.dataset(level)

    def dataset(self, level: str):
        """The :class:`xarray.Dataset` of one level (``commune`` … ``france``)."""
        if level not in self.datasets:
            raise KeyError(f"Niveau inconnu : « {level} ». Niveaux : {', '.join(self.datasets)}.")
        return self.datasets[level]

    def available(self) -> list[str]:
        """Ids of the indicators that have values."""
        return [k for k, s in self.status.items() if s.available]

    def unavailable(self) -> dict[str, str]:
        """``{indicator id: French reason}`` for the indicators without values."""
        return {k: s.reason for k, s in self.status.items() if not s.available}

    def table(self, level: str, *, year: int | None = None, within: str | None = None,
              indicators: list[str] | None = None) -> pd.DataFrame:
        """A flat table: code, name, year, one column per indicator (long over years unless ``year``)."""
        ds = self.dataset(level)
        ids = indicators or list(self.catalogue.indicators)
        df = ds[ids].to_dataframe().reset_index()
        df = df.rename(columns={"territory": "code"})
        df = df[["code", "name", "year", *ids]]
        df["year"] = df["year"].astype("int64")
        if within is not None:
            members = self.members(level, within)
            df = df[df["code"].isin(members)]
        if year is not None:
            df = df[df["year"] == int(year)]
        df = df.dropna(subset=ids, how="all")
        return df.reset_index(drop=True)

    def members(self, level: str, within: str) -> set[str]:
        """Codes of the ``level`` territories inside ``within`` (``region:84``, ``84`` = the
        département, a SIREN …; see :mod:`planeco_kernel.territory.within`)."""
        from planeco_kernel.territory.within import within as codes_inside

        return set(codes_inside(self.territories, level, within))


def _territories(bundle: str | Path | Bundle) -> pd.DataFrame:
    cols = ["level", "code", "name", "epci_code", "scot_code", "departement_code", "region_code", "population"]
    t = open_bundle(bundle).read("territories", cols).copy()
    for c in cols:
        if c != "population":
            t[c] = t[c].astype(object).where(t[c].notna(), None)
    return t


def build_cube(components: Components, territories: pd.DataFrame, catalogue: Catalogue | None = None,
               partial: pd.DataFrame | None = None):
    """Evaluate and roll up every indicator; return a :class:`Cube`.

    ``partial`` (``level, code, census_year``) lists the territory-years the bundle's population
    table flags ``partial``: indicators reading ``pop_municipale`` in such a year get
    ``<id>__partial`` = 1 there (the value is kept; its coverage is in ``<id>__coverage``)."""
    import xarray as xr

    cat = catalogue or load_catalogue()
    years = components.years
    communes = territories[territories["level"] == "commune"].set_index("code").reindex(components.codes)
    weight = communes["population"].astype("float64").fillna(0.0).to_numpy()
    groups: dict[str, GroupIndex] = {}
    level_codes: dict[str, np.ndarray] = {"commune": np.asarray(components.codes, dtype=object)}
    for level in LEVELS[1:]:
        codes = territories.loc[territories["level"] == level, "code"].to_numpy(dtype=object)
        level_codes[level] = codes
        if level == "france":
            groups[level] = GroupIndex.from_index(np.zeros(len(weight), dtype=np.int64), len(codes))
        else:
            groups[level] = GroupIndex.from_codes(communes[PARENT_COLUMNS[level]].to_numpy(dtype=object), codes)
    sources_of = {k: c.sources for k, c in cat.components.items()}
    flagged = splits.flagged_rows(components)
    member_of: dict[str, np.ndarray] = {}  # commune -> territory row, per level
    for level, g in groups.items():
        m = np.full(len(weight), -1, dtype=np.int64)
        if len(g.order):
            m[g.order] = np.repeat(g.present, np.diff(np.r_[g.starts, len(g.order)]))
        member_of[level] = m
    # régions sum the départements' sums (a hundred rows) instead of the 35 000 communes again,
    # and France the régions' sums, wherever the levels nest exactly (checked on the members)
    coarser = {up: (down, GroupIndex.coarser(member_of[down], member_of[up], len(level_codes[down]),
                                             len(level_codes[up])))
               for down, up in (("departement", "region"), ("region", "france"))}
    # SCoT sum their EPCI's sums: all but one EPCI lie wholly in one SCoT (or in none); the
    # communes of the other, and those without EPCI, are summed directly — one 35 000-row gather
    # fewer per indicator (départements need none: communes are sorted by département)
    nested = {"scot": ("epci", PartlyNested.build(member_of["epci"], member_of["scot"], len(level_codes["epci"]),
                                                  len(level_codes["scot"])))}
    crossing = splits.crossing_split_groups(components, communes)
    marks: dict[str, dict[str, np.ndarray]] = {lv: {} for lv in LEVELS}
    # the flagged communes' components as the roll-ups count them (only those rows differ)
    rollup_flagged = splits.covered_as_zero(splits.row_subset(components, flagged, set(components.values)))
    secret_shares = {ind.id for ind in cat if _official_share(ind, components)}
    official_cache: dict = {}
    data: dict[str, dict[str, tuple]] = {lv: {} for lv in LEVELS}
    status: dict[str, IndicatorStatus] = {}
    for ind in cat:
        if ind.aggregation == "published":  # published per région / for France: read, never rolled up
            status[ind.id] = _published(ind, cat, components, level_codes, data)
            continue
        try:  # only the year columns where the formula's inputs have values (cols): the others are NaN
            num, den, cols = evaluate_columns(ind, components)
        except Unavailable as exc:
            status[ind.id] = IndicatorStatus(False, str(exc))
            continue
        valid = ~np.isnan(num) if den is None else ~np.isnan(num) & ~np.isnan(den)
        keep = valid.any(axis=0)
        if not keep.any():
            status[ind.id] = IndicatorStatus(False, (
                "aucune valeur communale dans les données disponibles : les années que lit la formule "
                f"({ind.formula_text()}) ne sont pas toutes dans le paquet. {HOW_TO_GET}"))
            continue
        in_scope = np.ones(len(weight), dtype=bool)
        for comp in ind.components:  # a commune is in a component's scope if one of its sources covers it
            # an extract (partial_coverage: one EPCI) does not shrink the scope: outside it, values are
            # missing, so that a territory it covers only in part gets no value
            scopes = [components.scope.get(f"{s}:{comp}", components.scope.get(s)) for s in sources_of[comp]
                      if s not in _EXTRACTS]
            scopes = [s for s in scopes if s is not None]
            if scopes:
                in_scope &= np.logical_or.reduce(scopes)
        out = ~in_scope
        note = ""
        extracts = _partial_sources(ind, sources_of, components)
        if extracts:  # values from an extract only (one EPCI): say where, and how to get the rest
            note = " ; ".join(dict.fromkeys(p.coverage_note() for p in extracts))
        elif out.any():
            note = (f"hors du champ de la source : {int(out.sum())} communes ({int(weight[out].sum())} habitants), "
                    "exclues des agrégats")
        status[ind.id] = IndicatorStatus(True, note, [years[c] for c in cols[keep]])
        split = splits.split_mask(ind, components, flagged)
        has_split = bool(split.any())
        split_k = split[:, cols]
        shown = valid & ~split_k if has_split else valid
        # year-major like the components (each year's column contiguous): written by contiguous runs
        commune_value = np.empty((len(years), len(weight))).T
        commune_value[:, np.setdiff1d(np.arange(len(years)), cols)] = np.nan  # years the formula cannot read
        live_view = _columns_view(commune_value, cols)  # written in place when the years are consecutive
        target = live_view if live_view is not None else np.empty((len(cols), len(weight))).T
        _finish_into(ind, num, den, target)
        if has_split:
            target[split_k] = np.nan
        if live_view is None:
            commune_value[:, cols] = target
        data["commune"][ind.id] = (commune_value, None)
        if ind.aggregation == "official_only":
            for level in LEVELS[1:]:
                vals = _official(ind, components, level_codes[level], groups[level], official_cache) if level == "epci" else None
                data[level][ind.id] = (vals if vals is not None else np.full((len(level_codes[level]), len(years)), np.nan), None)
            continue
        patch = None
        if has_split:  # roll-ups: the recreated communes' share is inside the holder's value
            rnum, rden = evaluate(ind, rollup_flagged)  # only the flagged rows change
            rnum = rnum[:, cols]
            rden = rden[:, cols] if rden is not None else None
            rvalid = ~np.isnan(rnum) if rden is None else ~np.isnan(rnum) & ~np.isnan(rden)
            # the years with a value once the flagged rows are replaced (their rows are patched
            # into the stacked array below instead of copying the commune arrays)
            keep = (valid.sum(axis=0) - valid[flagged].sum(axis=0) + rvalid.sum(axis=0)) > 0
            patch = (rnum, rden, rvalid)
        # only the years with a value are rolled up (a census indicator has 2 of the 17 years):
        # yk indexes the evaluated columns, years_k the full year axis
        yk = np.flatnonzero(keep)
        years_k = cols[yk]
        n, y = num.shape[0], len(yk)
        every = y == num.shape[1]  # no column to drop: read the arrays as they are
        vk = valid if every else valid[:, yk]
        # [num | den | valid weight | total weight], zero where not valid, written in place and
        # transposed (one contiguous row per column: GroupIndex.sum(axis=1) is three times faster)
        width = 2 * y + 1 if den is None else 3 * y + 1
        stacked = np.zeros((width, n))
        np.copyto(stacked[:y], (num if every else num[:, yk]).T, where=vk.T)
        if den is not None:
            np.copyto(stacked[y:2 * y], (den if every else den[:, yk]).T, where=vk.T)
        np.copyto(stacked[width - y - 1:width - 1], weight[None, :], where=(vk & in_scope[:, None]).T)
        stacked[-1] = weight * in_scope
        if patch is not None:
            rnum, rden, rvalid = patch
            rv = rvalid[:, yk]
            stacked[:y, flagged] = np.where(rv, rnum[:, yk], 0.0).T
            if rden is not None:
                stacked[y:2 * y, flagged] = np.where(rv, rden[:, yk], 0.0).T
            stacked[width - y - 1:width - 1, flagged] = np.where(rv & in_scope[flagged, None], weight[flagged, None], 0.0).T
        level_sums: dict[str, np.ndarray] = {}  # transposed too: (width × territories)
        for level in LEVELS[1:]:
            down, over = coarser.get(level, ("", None))
            if over is not None and down in level_sums:
                s_t = over.sum(level_sums[down], axis=1)
            elif level in nested and nested[level][0] in level_sums:
                s_t = nested[level][1].sum(level_sums[nested[level][0]], stacked, axis=1)
            else:
                s_t = groups[level].sum(stacked, axis=1)
            level_sums[level] = s_t
            s = s_t.T
            s_num, rest = s[:, :y], s[:, y:]
            s_den = rest[:, :y] if den is not None else None
            w_valid = rest[:, -y - 1:-1]
            w_tot = rest[:, -1:]
            n_level = len(level_codes[level])
            cover = np.full((n_level, len(years)), np.nan)
            value = np.full((n_level, len(years)), np.nan)
            with np.errstate(invalid="ignore", divide="ignore"):
                cover[:, years_k] = np.where(w_tot > 0, w_valid / w_tot, np.nan)
            value[:, years_k] = _finish(ind, s_num, s_den)
            official = _official(ind, components, level_codes[level], groups[level], official_cache) if (
                level == "epci" and ind.id in secret_shares) else None
            if has_split and level in crossing:
                cross_rows = np.flatnonzero(crossing[level])
                r, c = np.nonzero(split[cross_rows])
                rows_of = member_of[level][cross_rows[r]]
                value[rows_of[rows_of >= 0], c[rows_of >= 0]] = np.nan
            if ind.coverage == "strict":
                value = np.where(cover >= STRICT_MIN_COVERAGE, value, np.nan)
            elif ind.id in secret_shares:
                value = np.where(cover >= SECRET_SHARE_MIN_COVERAGE, value, np.nan)
            else:
                value = np.where(cover >= MIN_ESTIMATE_COVERAGE, value, np.nan)
            if official is not None:
                has = ~np.isnan(official)
                value = np.where(has, official, value)
                cover = np.where(has, 1.0, cover)
            data[level][ind.id] = (value, cover)
            if partial is not None and "pop_municipale" in ind.components:
                marks[level][ind.id] = _partial_marks(ind, partial, level, level_codes[level], years) & ~np.isnan(value)
        # 0/1 per commune-year: float32 halves the largest arrays of the cube (~0.25 GB)
        shown_all = np.zeros((len(years), len(weight)), dtype="float32").T
        shown_view = _columns_view(shown_all, cols)
        if shown_view is not None:
            shown_view[...] = shown
        else:
            shown_all[:, cols] = shown
        data["commune"][ind.id] = (data["commune"][ind.id][0], shown_all)
    names = territories.set_index(["level", "code"])["name"]
    datasets = {}
    for level in LEVELS:
        codes = level_codes[level]
        n = len(codes)
        dvars = {}
        missing = np.full((n, len(years)), np.nan)  # one read-only array for every indicator without values
        missing.flags.writeable = False
        for ind in cat:
            if ind.id in data[level] and ind.available_at(level):
                value, cover = data[level][ind.id]
            else:  # an indicator that exists only at other levels never pretends a value here
                value, cover = missing, None
            dvars[ind.id] = (("territory", "year"), value, _attrs(ind, cat, status[ind.id], components, level))
            if cover is not None:
                dvars[f"{ind.id}__coverage"] = (("territory", "year"), cover, {
                    "long_name": f"Couverture de « {ind.label} » (part de la population des communes renseignées)",
                    "units": "1", "role": "coverage", "indicator": ind.id})
        for ind_id, mark in marks[level].items():
            if mark.any():
                dvars[f"{ind_id}__partial"] = (("territory", "year"), mark.astype("float64"), {
                    "long_name": "Population partielle dans la table de population du paquet (1 = partielle)",
                    "units": "1", "role": "partial", "indicator": ind_id})
        lvl_names = names.xs(level).reindex(codes).to_numpy(dtype=object) if n else np.array([], dtype=object)
        datasets[level] = xr.Dataset(
            dvars, coords={"territory": codes.astype(str), "year": np.asarray(years, dtype=np.int16),
                           "name": ("territory", lvl_names.astype(str))},
            attrs={"level": level, "catalogue_sha256": cat.sha256,
                   "title": f"Indicateurs planeco — niveau {level}"},
        )
    return Cube(cat, datasets, territories, status, components)


def _published(ind: Indicator, cat: Catalogue, comps: Components, level_codes: dict[str, np.ndarray],
               data: dict[str, dict[str, tuple]]) -> IndicatorStatus:
    """Status of a ``published`` indicator; its values per level go into ``data``."""
    per_level = evaluate_published(ind, comps, level_codes)
    if per_level is None:
        sources = sorted({s for c in ind.components if c not in comps.territorial for s in cat.components[c].sources})
        why = "; ".join(dict.fromkeys(comps.sources[s].reason for s in sources
                                      if s in comps.sources and not comps.sources[s].available))
        return IndicatorStatus(False, why or f"séries absentes du paquet de données. {HOW_TO_GET}")
    have = np.zeros(len(comps.years), dtype=bool)
    for level, value in per_level.items():
        data[level][ind.id] = (value, None)
        have |= ~np.isnan(value).all(axis=0)
    if not have.any():
        return IndicatorStatus(False, f"aucune valeur {' / '.join(ind.levels)} dans le paquet de données. {HOW_TO_GET}")
    return IndicatorStatus(True, "", [y for y, k in zip(comps.years, have) if k])


def _partial_sources(ind: Indicator, sources_of: dict[str, tuple[str, ...]], comps: Components) -> list:
    """Registry entries of the extracts (``partial_coverage``) that gave every year of some component
    of ``ind`` (no national source for it in the bundle)."""
    out = []
    for comp in sorted(ind.components):
        used = set(comps.provenance.get(comp, {}).values())
        if used and used <= set(_EXTRACTS):
            out += [_EXTRACTS[s] for s in sorted(used)]
    return out


def _partial_marks(ind: Indicator, partial: pd.DataFrame, level: str, codes: np.ndarray,
                   years: list[int]) -> np.ndarray:
    """Territory-years of ``level`` where ``ind`` reads a population flagged ``partial``."""
    here = partial[partial["level"] == level]
    out = np.zeros((len(codes), len(years)), dtype=bool)
    if here.empty:
        return out
    pos = pd.Index(codes, dtype=object)
    lags = {lag for expr in (ind.numerator, ind.denominator) if expr is not None
            for t in expr.terms for f in t.factors if f.component == "pop_municipale" for lag in f.lags()}
    for code, year in zip(here["code"].astype(str), here["census_year"].astype(int)):
        i = pos.get_indexer([code])[0]
        if i < 0:
            continue
        for lag in lags:
            if year - lag in years:
                out[i, years.index(year - lag)] = True
    return out


def _official_share(ind: Indicator, comps: Components) -> bool:
    """Whether ``ind`` is a population-weighted share (``share * weight / weight``) that the
    publisher also gives for EPCI (see :data:`SECRET_SHARE_MIN_COVERAGE`)."""
    if ind.aggregation != "population_weighted" or not ind.numerator.terms:
        return False
    first = ind.numerator.terms[0].factors[0].component
    return first is not None and first in comps.official


def _columns_view(arr: np.ndarray, cols: np.ndarray) -> np.ndarray | None:
    """``arr[:, cols]`` as a view when ``cols`` are consecutive (no copy, writes go through); else ``None``."""
    run = consecutive(cols)
    return arr[:, run] if run is not None else None


def _finish_into(ind: Indicator, num: np.ndarray, den: np.ndarray | None, out: np.ndarray) -> None:
    """The indicator's value written into ``out`` (every element of it; a view of the cube's arrays
    for communes, so that no commune-sized temporary is made)."""
    if ind.kind in ("sum", "median"):
        np.copyto(out, num)
        return
    with np.errstate(invalid="ignore", divide="ignore"):
        np.divide(num, den, out=out)
        out[~(den > 0 if ind.denominator_rule == "positive" else den != 0)] = np.nan
        if ind.kind == "ratio":
            if ind.scale != 1:
                out *= ind.scale
            return
        np.power(out, 1.0 / ind.growth_years, out=out)
        out -= 1.0
        out *= 100.0


def _finish(ind: Indicator, num: np.ndarray, den: np.ndarray | None) -> np.ndarray:
    """The indicator's value from its numerator and denominator (sum, ratio, annual growth)."""
    out = np.empty(num.shape)
    _finish_into(ind, num, den, out)
    return out


def _official(ind: Indicator, comps: Components, codes: np.ndarray, group: GroupIndex,
              cache: dict | None = None) -> np.ndarray | None:
    """Official EPCI values of a non-additive indicator, kept where the EPCI's perimeter is unchanged.

    ``cache`` (one dict per cube build): the perimeter check — the same for every indicator, it
    compares the official household counts with the member communes' sums — is computed once."""
    comp = ind.numerator.terms[0].factors[0].component
    table = comps.official.get(comp)
    out = np.full((len(codes), len(comps.years)), np.nan)
    same = _same_perimeter(comps, codes, group, cache)
    if table is None or same is None:
        return out
    for j, y in enumerate(comps.years):
        if y in table.columns and same[:, j].any():
            off = table[y].reindex(codes).to_numpy(dtype="float64")
            out[:, j] = np.where(same[:, j], off, np.nan)
    return out


def _same_perimeter(comps: Components, codes: np.ndarray, group: GroupIndex, cache: dict | None) -> np.ndarray | None:
    """(EPCI × years) bool: every member has a household count and their sum is the official one
    within :data:`PERIMETER_TOLERANCE`; ``None`` without the official household counts."""
    key = ("same_perimeter", id(group))
    if cache is not None and key in cache:
        return cache[key]
    households = comps.official.get("nb_menages_fiscaux")
    same = None
    if households is not None and "nb_menages_fiscaux" in comps.values:
        members = comps.values["nb_menages_fiscaux"]
        complete = group.sum(np.isnan(members).astype("float64")) == 0
        member_sum = group.sum(np.nan_to_num(members))
        same = np.zeros((len(codes), len(comps.years)), dtype=bool)
        for j, y in enumerate(comps.years):
            if y not in households.columns:
                continue
            hh = households[y].reindex(codes).to_numpy(dtype="float64")
            with np.errstate(invalid="ignore", divide="ignore"):
                same[:, j] = complete[:, j] & (np.abs(member_sum[:, j] - hh) <= PERIMETER_TOLERANCE * hh)
    if cache is not None:
        cache[key] = same
    return same


def _attrs(ind: Indicator, cat: Catalogue, st: IndicatorStatus, comps: Components, level: str) -> dict:
    src = cat.sources[ind.source]
    used = sorted({s for c in ind.components for s in comps.provenance.get(c, {}).values()})
    return {
        "levels": ",".join(ind.levels), "level_note": ind.level_note(level),
        "sources_used": ",".join(used),
        "long_name": ind.label, "units": ind.unit, "theme": cat.themes[ind.theme], "definition": ind.definition,
        "source": src.title, "source_id": ind.source, "source_vintage": src.vintage, "source_url": src.url,
        "years": ",".join(str(y) for y in st.years), "formula": ind.formula_text(), "aggregation": ind.aggregation,
        "coverage_rule": ind.coverage, "polarity": ind.polarity, "reference": ind.reference,
        "status": "disponible" if st.available else "indisponible", "reason": st.reason if not st.available else "",
        "scope_note": st.reason if st.available else "",
    }


_CUBES: dict = {}


def load_cube(data_dir: str | Path | Bundle | None = None, *, catalogue: Catalogue | None = None,
              refresh: bool = False) -> Cube:
    """The cube of a bundle (cached in memory per bundle and build stamp)."""
    bundle = open_bundle(data_dir)
    stamp = (bundle.stamp, (catalogue or load_catalogue()).sha256)
    if not refresh and stamp in _CUBES:
        return _CUBES[stamp]
    comps = load_components(bundle, catalogue=catalogue, refresh=refresh)
    pop = bundle.read("population")
    partial = pop.loc[pop["flag"] == "partial", ["level", "code", "census_year"]] if "flag" in pop.columns else None
    cube = build_cube(comps, _territories(bundle), catalogue, partial)
    from planeco_kernel.indicators.missing import bundle_reasons

    cube.missing_reasons = bundle_reasons(bundle)
    _CUBES.clear()
    _CUBES[stamp] = cube
    return cube


__all__ = ["FRANCE_CODE", "Cube", "build_cube", "load_cube"]
