"""Territories near, inside and around one another: members, « within », nearest neighbours, contours.

Functions of a :class:`~planeco_kernel.territory.store.TerritoryStore` returning rows or codes;
their indexes (member lists, points, contour tables) are cached in the store
(:meth:`TerritoryStore.cached`), so once per build.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from planeco_kernel.errors import BundleError
from planeco_kernel.levels import RANK
from planeco_kernel.territory.store import PARENT_COLUMNS

if TYPE_CHECKING:
    from planeco_kernel.territory.store import TerritoryStore


def member_rows(store: TerritoryStore, row: int, level: str) -> list[int]:
    """Rows of the territories of ``level`` inside the territory at ``row``, by code."""
    t_level, t_code = store.levels[row], store.codes[row]
    if RANK[level] >= RANK[t_level]:
        return []
    if t_level == "france":
        rows = [r for r, lvl in enumerate(store.levels) if lvl == level]
    else:
        rows = [r for r in store.member_index(t_level).get(t_code, ()) if store.levels[r] == level]
    rows.sort(key=lambda r: store.codes[r])
    return rows


def within_codes(store: TerritoryStore, level: str, parent_level: str, parent_code: str) -> list[str]:
    """Codes of the ``level`` territories inside ``parent_level:parent_code`` (see :mod:`.within`)."""
    from planeco_kernel.territory.within import codes_within

    frame = store.frame(["level", "code", *PARENT_COLUMNS.values()])
    return codes_within(frame, level, parent_level, parent_code)


def points(store: TerritoryStore, level: str) -> tuple[list[str], Any, Any]:
    """Codes and (lon, lat) arrays, in radians, of the territories of a level.

    Communes use their interior point (``geometry/communes.parquet``); other levels the
    population-weighted mean of their member communes' points (plain mean where no
    population is known).
    """
    def build() -> tuple[list[str], Any, Any]:
        import numpy as np
        import pandas as pd

        pts = store.read("commune_geometry", columns=["code", "lon", "lat"]).to_pandas()
        if level == "commune":
            return (pts["code"].tolist(), np.radians(pts["lon"].to_numpy()), np.radians(pts["lat"].to_numpy()))
        lv, cd = store.levels, store.codes
        communes = pd.DataFrame({
            "code": [c for c, lvl in zip(cd, lv) if lvl == "commune"],
            "parent": [p for p, lvl in zip(store.column(PARENT_COLUMNS[level]), lv) if lvl == "commune"],
            "w": [p if p else 1 for p, lvl in zip(store.column("population"), lv) if lvl == "commune"],
        }).merge(pts, on="code").dropna(subset=["parent"])
        communes["wlon"] = communes["lon"] * communes["w"]
        communes["wlat"] = communes["lat"] * communes["w"]
        g = communes.groupby("parent")[["wlon", "wlat", "w"]].sum()
        return (g.index.tolist(), np.radians((g["wlon"] / g["w"]).to_numpy()),
                np.radians((g["wlat"] / g["w"]).to_numpy()))

    return store.cached(("points", level), build)


def nearest_codes(store: TerritoryStore, level: str, code: str, limit: int) -> list[str]:
    """Codes of the ``limit`` territories of ``level`` nearest to ``code`` (itself excluded), nearest first.

    Great-circle distance between the points of :func:`points`; ``[]`` for a territory without one.
    """
    import numpy as np

    found, lon, lat = points(store, level)
    try:
        i = found.index(code)
    except ValueError:
        return []
    # haversine, vectorised over all territories of the level
    dlat, dlon = lat - lat[i], lon - lon[i]
    a = np.sin(dlat / 2) ** 2 + np.cos(lat[i]) * np.cos(lat) * np.sin(dlon / 2) ** 2
    order = np.argsort(a, kind="stable")
    return [found[j] for j in order[: limit + 1] if j != i][:limit]


def geometry(store: TerritoryStore, level: str, code: str, display: bool):
    """The contour of ``level:code`` as a shapely geometry, or ``None`` (see :meth:`Territory.geometry`).

    Raises
    ------
    BundleError
        The bundle has no contours at all.
    """
    display_path = store.bundle.path("display_geometry")
    full_path = store.bundle.path("commune_geometry")
    # Communes: the full contour when asked, or when there is no display layer.
    full = level == "commune" and (not display or not display_path.is_file()) and full_path.is_file()

    def build():
        if full:
            table = store.read("commune_geometry", columns=["code", "geometry"])
        elif display_path.is_file():
            table = store.read_where("display_geometry", ["level", "code", "geometry"], {"level": level})
        else:
            raise BundleError(
                f"Contours absents du paquet de données ({display_path}). "
                "Reconstruisez-le avec `planeco data build` (contours inclus)."
            )
        geoms = table.column("geometry").combine_chunks()
        index = {c: i for i, c in enumerate(table.column("code").to_pylist())}
        return index, geoms

    index, geoms = store.cached(("geometry", "commune", True) if full else ("geometry", level, False), build)
    i = index.get(code)
    if i is None:
        return None
    wkb = geoms[i].as_py()
    if wkb is None:
        return None
    import shapely

    return shapely.from_wkb(wkb)


__all__ = ["geometry", "member_rows", "nearest_codes", "points", "within_codes"]
