"""Commune-level components of the indicators, on the current geography, one array per variable.

A :class:`Components` holds, for every commune of the bundle's ``territories`` table (current
COG) and every year, the value of each component the catalogue names (``pop_municipale``,
``surface_km2`` and the connectors' tidy variables). It is assembled from:

- the bundle's ``population`` table (``pop_municipale``) and, when present, the
  ``commune_geometry`` table (``surface_km2``);
- each source's tidy frame: ``sources/<source_id>.parquet`` in the bundle, written by the
  source step of ``planeco data build`` (:mod:`planeco_kernel.bundle.sources_step`). The
  indicator layer never reads the mirror or the cache at run time: a source the build did not
  write is unavailable, with the reason the build recorded. A component may come from several
  sources (``sources:`` in the catalogue, preferred first); :attr:`Components.provenance` says
  which source gave each year.

Everything is read through :class:`planeco_kernel.bundle.reader.Bundle`.

Source codes of older geographies are moved to the current communes through the bundle's
``code_history``: extensive values (counts, surfaces) of merged communes are summed — the sum is
missing if one piece is missing — and intensive values (rates, medians) are kept only when one
old commune maps to one current commune; otherwise they are missing, never averaged.

Communes split since a source's vintage (``code_history`` event ``split``: a commune created
by merging several, then divided again) keep, in the older vintages, one value for the whole
former territory, held by one of them. Such values are kept (their sum over a territory that
contains the whole group is right) but marked in :attr:`Components.flags`: a commune-level
indicator reading a flagged value is missing. The marks come from the ``population`` table's
``flag`` column (``split_unallocated``, ``split_recreated``), from each source year where the
holder has a row and a recreated commune has none, and from the manifest's
``geometry.split_overlaps`` (a contour still covering the split-off communes). The split groups
themselves are the ``split_group`` column of ``code_history``.

The result is cached as a Parquet file (``indicators/components.parquet`` in the bundle, or a
copy in the user cache keyed by the bundle and catalogue), so that building the cube is a load.
"""

from __future__ import annotations

import hashlib
import json
import logging
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from planeco_kernel import config
from planeco_kernel.bundle import schema
from planeco_kernel.bundle.reader import Bundle, open_bundle
from planeco_kernel.errors import BundleError
from planeco_kernel.indicators.catalogue import Catalogue, load_catalogue
from planeco_kernel.indicators.geography import (  # noqa: F401 - re-exported
    _year_to_current,
    current_code_map,
    to_current_geography,
)
from planeco_kernel.indicators.territorial import territorial_components

log = logging.getLogger(__name__)

BUNDLE_COMPONENTS = schema.COMPONENTS_PATH
SOURCES_DIR = schema.SOURCE_FRAME_PATH.split("/", 1)[0]
FORMAT = 4
SPLIT_FLAGS = ("split_unallocated", "split_recreated")
HOW_TO_GET = (
    "Lancez `planeco data build` sur une machine ayant accès à internet (ou avec un miroir contenant "
    "le fichier officiel, --mirror / PLANECO_MIRROR) pour l'ajouter au paquet de données."
)


@dataclass
class SourceStatus:
    """Whether a source's values are in the components, and why not."""

    available: bool
    reason: str
    years: list[int] = field(default_factory=list)
    origin: str = ""

    def to_dict(self) -> dict:
        return {"available": self.available, "reason": self.reason, "years": self.years, "origin": self.origin}


@dataclass
class Components:
    """Commune × year arrays of every component, plus what is known about their sources.

    Attributes
    ----------
    codes
        Commune codes (current COG), in the order of the bundle's ``territories`` table.
    years
        Sorted years of the year axis.
    values
        ``{component: float64 array (len(codes), len(years))}``; NaN where missing.
    sources
        ``{source_id: SourceStatus}`` for every source of the catalogue.
    official
        Official non-additive values published for EPCI: ``{component: DataFrame}`` indexed by
        EPCI SIREN, one column per year (e.g. Filosofi's EPCI file).
    notes
        Remarks of the assembly (unmatched old codes …), in French.
    """

    codes: np.ndarray
    years: list[int]
    values: dict[str, np.ndarray]
    sources: dict[str, SourceStatus]
    official: dict[str, pd.DataFrame] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    scope: dict[str, np.ndarray] = field(default_factory=dict)
    """``{source_id: bool array}``: the communes a source covers at all (a row in its file, even with
    values withheld by statistical secret). Communes outside every year of a source — Mayotte in
    the census series, for instance — are outside its scope, not missing values."""
    flags: dict[str, np.ndarray] = field(default_factory=dict)
    """``{component: bool array like its values}``: values that describe a split commune's former
    territory rather than the commune (see the module docstring); missing at commune level."""
    split_groups: list[list[str]] = field(default_factory=list)
    """Current codes of each split group, holder first."""
    provenance: dict[str, dict[int, str]] = field(default_factory=dict)
    """``{component: {year: source id}}``: which source gave each year of a component (a component
    may come from several sources, in the catalogue's order of preference)."""
    territorial: dict[str, dict[str, pd.DataFrame]] = field(default_factory=dict)
    """``{component: {level: DataFrame}}`` (code × year) of the territorial components (published per
    région or for France, :mod:`planeco_kernel.indicators.territorial`); never a commune value."""
    targets: dict[str, dict] = field(default_factory=dict)
    """``{component: {year, value, target_source, target_url, series}}``: the official national target
    of a territorial component (baromètre SGPE), in the component's unit."""

    def live(self, name: str) -> np.ndarray:
        """Years (bool per column of the year axis) where component ``name`` has a value somewhere.

        Cached per array object: replacing ``values[name]`` recomputes it (arrays are not changed in place
        once assembled)."""
        arr = self.values[name]
        import weakref

        cache: dict[str, tuple[weakref.ref, np.ndarray]] = self.__dict__.setdefault("_live_cache", {})
        hit = cache.get(name)
        if hit is None or hit[0]() is not arr:
            hit = (weakref.ref(arr), ~np.isnan(arr).all(axis=0))
            cache[name] = hit
        return hit[1]

    def year_index(self, year: int) -> int | None:
        try:
            return self.years.index(int(year))
        except ValueError:
            return None

    # ------------------------------------------------------------------ persistence
    def to_parquet(self, path: Path) -> None:
        """Write the components (wide, one column per component and year) and metadata."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        cols = {"commune_code": pa.array(self.codes.astype(str))}
        for sid, mask in self.scope.items():
            cols[f"scope:{sid}"] = pa.array(mask.astype(bool))
        for name, arr in self.values.items():
            for j, y in enumerate(self.years):
                col = arr[:, j]
                if not np.isnan(col).all():
                    cols[f"{name}|{y}"] = pa.array(col)
        for name, mask in self.flags.items():
            for j, y in enumerate(self.years):
                if mask[:, j].any():
                    cols[f"flag:{name}|{y}"] = pa.array(mask[:, j])
        official = {name: _frame_json(df) for name, df in self.official.items()}
        meta = {
            "format": FORMAT, "years": self.years, "components": sorted(self.values),
            "sources": {k: v.to_dict() for k, v in self.sources.items()}, "official": official, "notes": self.notes,
            "split_groups": self.split_groups,
            "provenance": {k: {str(y): s for y, s in v.items()} for k, v in self.provenance.items()},
            "territorial": {k: {lv: _frame_json(df) for lv, df in v.items()} for k, v in self.territorial.items()},
            "targets": self.targets,
        }
        table = pa.table(cols).replace_schema_metadata({b"planeco_components": json.dumps(meta).encode()})
        # A unique temporary name: two kernels sharing the user cache never write the same file.
        from planeco_kernel.atomic import atomic_path

        with atomic_path(path) as tmp:
            pq.write_table(table, tmp)

    @classmethod
    def from_parquet(cls, path: Path) -> Components:
        import pyarrow.parquet as pq

        table = pq.read_table(path)
        meta = json.loads(table.schema.metadata[b"planeco_components"])
        if meta.get("format") != FORMAT:
            raise ValueError(f"{path}: components format {meta.get('format')} (expected {FORMAT})")
        years = [int(y) for y in meta["years"]]
        codes = np.asarray(table.column("commune_code").to_pylist(), dtype=object)
        n = len(codes)
        # year-major memory (each year's column contiguous, as in the file): filled by contiguous
        # copies, and the formulas' year selections and the cube's roll-ups read contiguous runs
        by_year = {name: np.full((len(years), n), np.nan) for name in meta["components"]}
        values = {name: arr.T for name, arr in by_year.items()}
        scope = {}
        flags: dict[str, np.ndarray] = {}
        for col in table.column_names[1:]:
            if col.startswith("scope:"):
                scope[col[len("scope:"):]] = table.column(col).to_numpy(zero_copy_only=False).astype(bool)
                continue
            if col.startswith("flag:"):
                name, y = col[len("flag:"):].rsplit("|", 1)
                mask = flags.setdefault(name, np.zeros((n, len(years)), dtype=bool))
                mask[:, years.index(int(y))] = table.column(col).to_numpy(zero_copy_only=False).astype(bool)
                continue
            name, y = col.rsplit("|", 1)
            by_year[name][years.index(int(y))] = table.column(col).to_numpy(zero_copy_only=False)
        official = {name: _frame_from_json(spec, "epci_siren") for name, spec in meta["official"].items()}
        territorial = {k: {lv: _frame_from_json(spec, "code") for lv, spec in v.items()}
                       for k, v in meta.get("territorial", {}).items()}
        sources = {k: SourceStatus(v["available"], v["reason"], v["years"], v.get("origin", "")) for k, v in meta["sources"].items()}
        provenance = {k: {int(y): s for y, s in v.items()} for k, v in meta.get("provenance", {}).items()}
        return cls(codes, years, values, sources, official, meta.get("notes", []), scope, flags,
                   [list(g) for g in meta.get("split_groups", [])], provenance, territorial, meta.get("targets", {}))


def _frame_json(df: pd.DataFrame) -> dict:
    """A code × year frame as JSON (the components file's metadata)."""
    return {"index": df.index.astype(str).tolist(), "columns": [int(c) for c in df.columns],
            "data": [[None if np.isnan(v) else float(v) for v in row] for row in df.to_numpy(dtype="float64")]}


def _frame_from_json(spec: dict, index_name: str) -> pd.DataFrame:
    return pd.DataFrame(spec["data"], index=pd.Index(spec["index"], name=index_name), columns=spec["columns"],
                        dtype="float64")


# --------------------------------------------------------------------------- assembly


def _read_source_frames(bundle: Bundle, catalogue: Catalogue) -> tuple[dict[str, pd.DataFrame], dict[str, SourceStatus]]:
    """Tidy frames of every connector source, from the bundle only (``sources/<id>.parquet``).

    The indicator layer never reads the mirror or the cache at run time: a source that the build
    did not write is unavailable, with the build's reason (manifest) and how to add it.
    """
    frames: dict[str, pd.DataFrame] = {}
    status: dict[str, SourceStatus] = {}
    connector_sources = sorted({s for c in catalogue.components.values() for s in c.sources} - {"population", "geometry"})
    skipped = bundle.manifest.skipped_indicator_sources()
    for sid in connector_sources:
        df = bundle.read_source(sid)
        if df is not None:
            frames[sid] = df
            status[sid] = SourceStatus(True, "", origin=f"paquet de données ({bundle.source_path(sid).relative_to(bundle.data_dir)})")
            for extra in (f"{sid}_epci", f"{sid}_targets"):
                more = bundle.read_source(extra)
                if more is not None:
                    frames[extra] = more
        elif sid in skipped:
            status[sid] = SourceStatus(False, f"source ignorée à la construction du paquet : {skipped[sid].get('reason', '')}. {HOW_TO_GET}")
        else:
            status[sid] = SourceStatus(False, f"source absente du paquet de données (construit sans elle). {HOW_TO_GET}")
    return frames, status


def assemble(data_dir: str | Path | Bundle, catalogue: Catalogue | None = None, *,
             frames: dict[str, pd.DataFrame] | None = None,
             status: dict[str, SourceStatus] | None = None) -> Components:
    """Assemble the components from the bundle and its source frames (no caching; see :func:`load_components`).

    ``frames`` and ``status`` are given by the build's source step (the frames it has just read);
    otherwise the frames are read from the bundle's ``sources/``.
    """
    bundle = open_bundle(data_dir)
    cat = catalogue or load_catalogue()
    terr = bundle.read("territories", ["level", "code"])
    codes = terr.loc[terr["level"] == "commune", "code"].astype(str).to_numpy(dtype=object)
    # plain object codes: `isin` on the Arrow-backed strings pandas infers builds a scalar per value
    # (27 of the 31 s this step took)
    current = pd.Index(codes, dtype=object)
    n = len(codes)
    if frames is None:
        frames, status = _read_source_frames(bundle, cat)
    status = dict(status or {})
    notes: list[str] = []
    scope: dict[str, np.ndarray] = {}
    per_var: dict[tuple[str, int], np.ndarray] = {}

    per_flag: dict[tuple[str, int], np.ndarray] = {}
    pop = bundle.read("population")
    pop = pop[pop["level"] == "commune"]
    pw = pop.pivot(index="code", columns="census_year", values="population").reindex(current)
    split = pop["flag"].isin(SPLIT_FLAGS).fillna(False).astype(bool) if "flag" in pop.columns else False
    fw = pop.assign(split=split).pivot(index="code", columns="census_year", values="split")
    fw = fw.reindex(current).fillna(False).astype(bool)
    for y in pw.columns:
        per_var[("pop_municipale", int(y))] = pw[y].astype("float64").to_numpy()
        per_flag[("pop_municipale", int(y))] = fw[y].to_numpy(dtype=bool)
    split_groups = split_groups_of(bundle.read("code_history"), current)
    code_pos = {c: i for i, c in enumerate(codes)}
    scope["population"] = pw.notna().any(axis=1).to_numpy()
    status["population"] = SourceStatus(True, "", sorted(int(y) for y in pw.columns), "paquet de données (population.parquet)")

    if bundle.has("commune_geometry"):
        g = bundle.read("commune_geometry", ["code", "area_km2"]).set_index("code")["area_km2"]
        man = bundle.manifest
        gyear = man.source_vintage("geometry")
        if gyear is None:
            raise BundleError(f"{bundle.manifest_path} : le millésime des contours (sources, name = geometry) "
                              "n'est pas enregistré ; relancez `planeco data build --force`.")
        per_var[("surface_km2", gyear)] = g.reindex(current).astype("float64").to_numpy()
        overlap = np.zeros(n, dtype=bool)
        for code in man.split_overlaps:
            if code in code_pos:
                overlap[code_pos[code]] = True
        per_flag[("surface_km2", gyear)] = overlap
        scope["geometry"] = ~np.isnan(per_var[("surface_km2", gyear)])
        status["geometry"] = SourceStatus(True, "", [gyear], "paquet de données (geometry/communes.parquet)")
    else:
        status["geometry"] = SourceStatus(
            False, "la table des surfaces communales (commune_geometry, geometry/communes.parquet) est absente du "
            "paquet de données ; lancez `planeco data build` (étape géométrie) pour l'ajouter.")

    declared: dict[str, set[str]] = {}
    for k, c in cat.components.items():
        for sid in c.sources:
            declared.setdefault(sid, set()).add(k)
    absent_zero = {k for k, c in cat.components.items() if c.absent_is_zero}
    provenance: dict[str, dict[int, str]] = {"pop_municipale": {int(y): "population" for y in pw.columns}}
    geometry_years = {y: "geometry" for v, y in per_var if v == "surface_km2"}
    if geometry_years:
        provenance["surface_km2"] = geometry_years
    extensive = {k for k, c in cat.components.items() if c.kind == "extensive"}
    code_map = None
    subdivisions: frozenset[str] = frozenset()
    official: dict[str, pd.DataFrame] = {}
    territorial = territorial_components(frames, cat, bundle.read("territories", ["level", "code"]))
    for sid, tidy in frames.items():
        # each component from the source the catalogue declares for it, never a namesake of another
        if "level" in tidy.columns or sid.endswith("_targets"):
            continue  # a territorial frame (régions, France): indicators.territorial
        if sid.endswith("_epci"):
            sub = tidy[tidy["variable"].isin(declared.get(sid[: -len("_epci")], set()))]
            for var, g in sub.groupby("variable"):
                official[str(var)] = g.pivot_table(index="epci_siren", columns="year", values="value", aggfunc="first")
            continue
        wanted = pd.Index(tidy["variable"].to_numpy(dtype=object), dtype=object).isin(list(declared.get(sid, set())))
        sub = tidy[wanted]
        if sub.empty:
            continue
        # plain object codes: membership tests on Arrow-backed strings are two orders slower
        sub = sub.assign(commune_code=sub["commune_code"].to_numpy(dtype=object))
        if code_map is None:
            history = bundle.read("code_history", ["code", "vintage", "type", "current_code"])
            code_map = current_code_map(
                history,
                bundle.read("cog_communes", ["vintage", "code", "type", "anciens_codes"]) if bundle.has("cog_communes") else None,
            )
            subdivisions = frozenset(history.loc[history["type"] == "arrondissement-municipal", "code"].astype(str))
        wide, unmatched = to_current_geography(sub, code_map, current, extensive, subdivisions)
        if unmatched:
            notes.append(f"{sid} : {len(unmatched)} codes communaux sans correspondance dans la géographie courante "
                         f"(ex. {', '.join(unmatched[:5])}) : valeurs ignorées.")
        in_file = current.isin(wide.index.to_numpy(dtype=object))
        for var, codes_of_var in sub.groupby("variable")["commune_code"]:
            # a component's own scope: the communes its source gives a row for (even a withheld value)
            old = pd.Index(codes_of_var.astype(str).unique(), dtype=object)
            mapped = np.where(old.isin(current), old, old.map(code_map).astype(object).fillna("").to_numpy())
            scope[f"{sid}:{var}"] = current.isin(pd.Index(mapped, dtype=object))
        wide = wide.reindex(current)
        zero = [c for c in wide.columns if c[0] in absent_zero]
        if zero:  # an inventory: a commune absent from the file has none (documented per component)
            wide.loc[~in_file, zero] = 0.0
            in_file = np.ones(n, dtype=bool)
            for var in {str(c[0]) for c in zero}:  # an inventory's scope is every commune
                scope[f"{sid}:{var}"] = in_file
        scope[sid] = in_file if sid not in scope else scope[sid] | in_file
        held = _split_held(sub, split_groups, code_pos, n)
        for var, y in wide.columns:
            var, y = str(var), int(y)
            prefs = cat.components[var].sources
            given = provenance.setdefault(var, {}).get(y)
            if given is not None and prefs.index(given) < prefs.index(sid):
                continue  # a preferred source gives this year
            provenance[var][y] = sid
            per_var[(var, y)] = wide[(var, y)].astype("float64").to_numpy()
            if y in held:
                per_flag[(var, y)] = held[y]
            else:
                per_flag.pop((var, y), None)
        if sid in status:
            status[sid].years = sorted({int(y) for _, y in wide.columns})
    years = sorted({y for _, y in per_var})
    first = years[0] if years else None  # territorial series start no earlier than the commune ones
    years = sorted(set(years) | {y for y in territorial.years if first is None or y >= first})
    for sid, yrs in territorial.source_years.items():
        if sid in status:
            status[sid].years = [y for y in yrs if y in years]
    values = {}
    for (var, y), arr in per_var.items():
        values.setdefault(var, np.full((n, len(years)), np.nan))[:, years.index(y)] = arr
    flags: dict[str, np.ndarray] = {}
    for (var, y), mask in per_flag.items():
        if mask.any():
            flags.setdefault(var, np.zeros((n, len(years)), dtype=bool))[:, years.index(y)] = mask
    for sid in {s for c in cat.components.values() for s in c.sources}:
        status.setdefault(sid, SourceStatus(False, f"source non lue. {HOW_TO_GET}"))
    return Components(codes, years, values, status, official, notes, scope, flags, split_groups, provenance,
                      {k: {lv: df.reindex(columns=[y for y in df.columns if y in years]) for lv, df in v.items()}
                       for k, v in territorial.values.items()}, territorial.targets)


def split_groups_of(code_history: pd.DataFrame, current: pd.Index) -> list[list[str]]:
    """Current codes of each commune split since an older vintage, holder first.

    Read from the ``split_group`` column of ``code_history`` (the current communes sharing the
    territory the code covered that vintage, holder first); only current codes are kept.
    """
    if "split_group" not in code_history.columns:
        return []
    rows = code_history[code_history["event"] == "split"].dropna(subset=["split_group"])
    groups: dict[str, list[str]] = {}
    for group in rows["split_group"]:
        members = [str(m) for m in group]
        if members:
            held = groups.setdefault(members[0], [members[0]])
            held += [m for m in members[1:] if m not in held]
    out = []
    for holder, members in sorted(groups.items()):
        kept = [m for m in (holder, *sorted(set(members) - {holder})) if m in current]
        if len(kept) > 1:
            out.append(kept)
    return out


def _split_held(rows: pd.DataFrame, groups: list[list[str]], code_pos: dict[str, int], n: int) -> dict[int, np.ndarray]:
    """``{year: bool array}``: members of split groups in the years where the holder has a row and
    a recreated commune has none — the holder's value then covers the whole former territory."""
    out: dict[int, np.ndarray] = {}
    if not groups:
        return out
    for year, codes in rows.groupby("year")["commune_code"]:
        present = set(codes.to_numpy(dtype=object))
        mask = np.zeros(n, dtype=bool)
        for holder, *others in groups:
            if holder in present and any(o not in present for o in others):
                mask[[code_pos[c] for c in (holder, *others)]] = True
        if mask.any():
            out[int(year)] = mask
    return out


def cache_key(data_dir: str | Path | Bundle, catalogue: Catalogue) -> str:
    """Key of a cached components file: the bundle's build stamp, the catalogue's and the code's checksums."""
    bundle = open_bundle(data_dir)
    code = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()
    stamp = f"{bundle.data_dir.resolve()}|{bundle.manifest.built_at}|{catalogue.sha256}|{code}"
    return hashlib.sha256(stamp.encode()).hexdigest()[:16]


def load_components(data_dir: str | Path | Bundle | None = None, *, catalogue: Catalogue | None = None,
                    refresh: bool = False) -> Components:
    """The components of a bundle: from ``indicators/components.parquet`` in the bundle, else from a
    cached copy in the user cache, else assembled (and cached).

    Parameters
    ----------
    refresh
        Re-assemble even when a cached copy exists.
    """
    bundle = open_bundle(data_dir)
    cat = catalogue or load_catalogue()
    bundled = bundle.components_path
    if bundled.is_file() and not refresh:
        try:
            return Components.from_parquet(bundled)
        except ValueError as exc:  # written by an older planeco: assembled again below
            log.warning("%s", exc)
    cached = config.cache_dir() / "indicators" / f"components-{cache_key(bundle, cat)}.parquet"
    if cached.is_file() and not refresh:
        try:
            return Components.from_parquet(cached)
        except Exception:  # noqa: BLE001 - a damaged cache entry is rebuilt
            log.warning("damaged components cache %s: rebuilding", cached)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # old-vintage warnings: the vintage is in every value's provenance
        comp = assemble(bundle, cat)
    try:
        comp.to_parquet(cached)
    except OSError as exc:
        log.warning("cannot cache components in %s: %s", cached, exc)
    return comp
