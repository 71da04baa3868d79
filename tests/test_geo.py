"""Tests of the map helpers (planeco_kernel.geo).

Unit tests use INVENTED TEST DATA (squares with made-up codes ``T0001``…, small value lists);
tests marked ``bundle`` read the real bundle.
"""

from __future__ import annotations

import itertools
import json
import math
import time

import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import box

from planeco_kernel import fmt, geo
from planeco_kernel.bundle.geometry import _write_geoparquet
from planeco_kernel.errors import BundleError

NB = fmt.NNBSP


# ---------------------------------------------------------------------------------------------
# Classification
# ---------------------------------------------------------------------------------------------

def _naive_jenks(x: list[float], k: int) -> list[float]:
    """Reference: try every split of the sorted values into k non-empty runs, keep the least SSD."""
    x = sorted(x)
    n = len(x)
    best, best_cuts = math.inf, None
    for cuts in itertools.combinations(range(1, n), k - 1):
        bounds = (0, *cuts, n)
        ssd = sum(np.var(x[a:b]) * (b - a) for a, b in zip(bounds[:-1], bounds[1:]))
        if ssd < best - 1e-12:
            best, best_cuts = ssd, cuts
    return [x[0], *[x[c - 1] for c in best_cuts], x[-1]]


@pytest.mark.parametrize(("values", "k", "expected"), [
    ([1, 2, 3, 10, 11, 12, 20, 21, 22], 3, [1, 3, 12, 22]),
    ([0, 0, 1, 1, 5, 5, 5, 9], 2, [0, 1, 9]),
    ([4.0, 4.0, 4.0], 3, [4.0, 4.0]),            # all tied: one class
    ([0, 0, 0, 0, 3, 4], 3, [0, 0, 3, 4]),     # tied minimum: a class of its own
])
def test_jenks_reference_cases(values, k, expected):
    assert geo.classify(values, k, "jenks") == expected


@pytest.mark.parametrize("seed", range(6))
def test_jenks_matches_naive_exhaustive_search(seed):
    rng = np.random.default_rng(seed)
    x = list(np.round(rng.lognormal(2, 1, 11), 2))
    for k in (2, 3, 4):
        assert geo.classify(x, k, "jenks") == pytest.approx(_naive_jenks(x, k)), (seed, k)


@pytest.mark.parametrize(("values", "k", "expected"), [
    (list(range(1, 11)), 5, [1.0, 2.8, 4.6, 6.4, 8.2, 10.0]),
    ([0, 0, 0, 0, 0, 0, 0, 0, 1, 2], 4, [0.0, 0.0, 2.0]),    # ties merged; the zeros stay a class
    ([7, 7, 7], 5, [7.0, 7.0]),
    ([1, np.nan, 3, None, float("inf")], 2, [1.0, 2.0, 3.0]),  # missing values ignored
])
def test_quantiles(values, k, expected):
    assert geo.classify(values, k, "quantiles") == pytest.approx(expected)


def test_jenks_on_many_values_is_fast_and_sorted():
    x = np.random.default_rng(1).lognormal(3, 1.2, 35_000)  # as many as communes
    t = time.perf_counter()
    b = geo.classify(x, 5, "jenks")
    assert time.perf_counter() - t < 2
    assert len(b) == 6 and b == sorted(b) and b[0] == x.min() and b[-1] == x.max()


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"values": [np.nan, None], "k": 3}, "toutes les valeurs sont manquantes"),
    ({"values": [1, 2], "k": 0}, "au moins 1"),
    ({"values": [1, 2], "k": 2, "method": "equal"}, "Méthode de classification inconnue"),
])
def test_classify_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        geo.classify(**kwargs)


def test_assign_classes_and_colours_with_missing_values():
    breaks = [0.0, 10.0, 20.0, 30.0]
    assert geo.assign_classes([0, 5, 10, 10.5, 30, np.nan, 99], breaks).tolist() == [0, 0, 0, 1, 2, -1, 2]
    colours = geo.colors_for([0, 25, None], breaks)
    assert colours == [geo.PALETTES["YlGnBu"][3][0], geo.PALETTES["YlGnBu"][3][2], geo.MISSING_COLOR]
    assert geo.MISSING_COLOR not in {c for ramp in geo.PALETTES["YlGnBu"].values() for c in ramp}


def test_palette_matches_matplotlib_colorbrewer_data():
    """Cross-check the 9-class YlGnBu against matplotlib's copy of ColorBrewer."""
    from matplotlib import colormaps
    from matplotlib.colors import to_rgb

    cmap = colormaps["YlGnBu"]  # 256-level interpolation: compare within one level per channel
    expected = np.array([cmap(i / 8)[:3] for i in range(9)])
    ours = np.array([to_rgb(c) for c in geo.PALETTES["YlGnBu"][9]])
    assert np.abs(ours - expected).max() <= 2 / 255


@pytest.mark.parametrize("n", range(1, 10))
def test_color_ramp_sizes(n):
    assert len(geo.color_ramp(n)) == n


# ---------------------------------------------------------------------------------------------
# French labels
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("breaks", "unit", "labels"), [
    ([0, 1234.6, 12345], "hab.", [f"jusqu'à 1{NB}235{NB}hab.", f"plus de 1{NB}235{NB}hab."]),
    ([0, 3.4, 5.25], "%", [f"jusqu'à 3,4{NB}%", f"plus de 3,4{NB}%"]),
    ([0.01, 0.02, 0.03, 0.035], "", ["jusqu'à 0,020", "plus de 0,020 à 0,030", "plus de 0,030"]),
    ([1, 5], "ha", [f"de 1 à 5{NB}ha"]),
    ([7, 7], "ha", [f"7{NB}ha"]),
])
def test_legend_items_labels(breaks, unit, labels):
    items = geo.legend_items(breaks, unit)
    assert [i["label"] for i in items[:-1]] == labels
    assert items[-1] == {"label": "donnée non disponible", "color": geo.MISSING_COLOR, "lower": None, "upper": None}
    assert [i["color"] for i in items[:-1]] == geo.color_ramp(len(labels))


def test_legend_bounds_match_class_assignment():
    breaks = [15208, 20555, 23903, 30000]
    items = geo.legend_items(breaks, include_missing=False)
    # a value equal to a bound is in the class whose label ends with it, never in two
    assert list(geo.assign_classes([20555, 20556, 23903, 23904], breaks)) == [0, 1, 1, 2]
    assert items[0]["label"].startswith("jusqu'à 20") and items[1]["label"].startswith("plus de 20")


def test_legend_without_missing_entry_and_error():
    assert len(geo.legend_items([0, 1, 2], include_missing=False)) == 2
    with pytest.raises(ValueError, match="au moins deux bornes"):
        geo.legend_items([1])


# ---------------------------------------------------------------------------------------------
# GeoJSON
# ---------------------------------------------------------------------------------------------

def _frame():
    """TEST DATA: two invented squares."""
    return pd.DataFrame({"code": ["T0001", "T0002"],
                         "geometry": [box(2.123456789, 46.0, 2.2, 46.1), box(2.2, 46.0, 2.3, 46.1)]})


def test_to_geojson_rounds_and_adds_properties_and_styles():
    props = pd.DataFrame({"code": ["T0001", "T0002"], "value": [1.5, np.nan], "name": ["A", "B"]})
    gj = geo.to_geojson(_frame(), props, style={"T0001": "#ff0000"})
    assert gj["type"] == "FeatureCollection" and len(gj["features"]) == 2
    f1, f2 = gj["features"]
    assert f1["id"] == "T0001" and f1["properties"]["value"] == 1.5 and f2["properties"]["value"] is None
    assert f1["geometry"]["coordinates"][0][0][0] in (2.1235, 2.2)
    assert all(len(str(c).split(".")[-1]) <= 4 for ring in f1["geometry"]["coordinates"] for pt in ring for c in pt)
    assert f1["properties"]["style"]["fillColor"] == "#ff0000"
    assert f2["properties"]["style"]["fillColor"] == geo.MISSING_COLOR
    json.dumps(gj, allow_nan=False)  # strict JSON: no NaN


def test_to_geojson_with_mapping_properties_and_style_function():
    gj = geo.to_geojson(_frame(), {"T0002": {"value": 3}},
                        style=lambda p: geo.fill_style("#000000" if p.get("value") else geo.MISSING_COLOR))
    styles = [f["properties"]["style"]["fillColor"] for f in gj["features"]]
    assert styles == [geo.MISSING_COLOR, "#000000"]


def test_to_geojson_needs_code_and_geometry():
    with pytest.raises(ValueError, match="colonnes « code » et « geometry »"):
        geo.to_geojson(pd.DataFrame({"x": [1]}))


# ---------------------------------------------------------------------------------------------
# Loading from a small invented bundle
# ---------------------------------------------------------------------------------------------

@pytest.fixture()
def tiny_bundle(tmp_path):
    """TEST DATA: 3 000 invented square 'communes' in 30 'départements', plus 30 dissolved rows,
    written in the same layout as the real display file (sorted, 1 024-row groups)."""
    rows = []
    for d in range(30):
        for c in range(100):
            g = box(d, c * 0.01, d + 0.01, c * 0.01 + 0.01)
            rows.append(("commune", f"{d:02d}{c:03d}", g))
    for d in range(30):
        rows.append(("departement", f"{d:02d}", box(d, 0, d + 0.01, 1)))
    df = pd.DataFrame(rows, columns=["level", "code", "geometry"])
    df["area_km2"] = 1.0
    df["bbox"] = [list(map(float, b)) for b in shapely.bounds(df["geometry"].to_numpy())]
    _write_geoparquet(df, tmp_path / "geometry" / "display.parquet")
    terr = pd.DataFrame({"level": "commune", "code": df.loc[df["level"] == "commune", "code"]})
    terr["departement_code"] = terr["code"].str[:2]
    terr.to_parquet(tmp_path / "territories.parquet")
    return tmp_path


def test_load_display_filters_exactly(tiny_bundle):
    df = geo.load_display("commune", ["05007", "17099", "99999"], data_dir=tiny_bundle)
    assert df["code"].tolist() == ["05007", "17099"]
    assert isinstance(df["geometry"].iloc[0], shapely.Polygon)
    assert len(geo.load_display("commune", data_dir=tiny_bundle)) == 3000
    assert geo.load_display("departement", data_dir=tiny_bundle)["code"].tolist() == [f"{d:02d}" for d in range(30)]
    within = geo.load_display("commune", data_dir=tiny_bundle, within=("departement", "12"))
    assert len(within) == 100 and set(within["code"].str[:2]) == {"12"}


def test_load_display_returns_fresh_frames(tiny_bundle):
    a = geo.load_display("commune", ["05007"], data_dir=tiny_bundle)
    a.loc[0, "code"] = "changed"
    assert geo.load_display("commune", ["05007"], data_dir=tiny_bundle)["code"].tolist() == ["05007"]


def test_bbox_is_south_west_north_east(tiny_bundle):
    assert geo.bbox("commune", ["00000", "01099"], data_dir=tiny_bundle) == pytest.approx((0.0, 0.0, 1.0, 1.01))
    with pytest.raises(ValueError, match="Aucun contour"):
        geo.bbox("commune", ["nope"], data_dir=tiny_bundle)


def test_missing_bundle_and_bad_level_say_how_to_fix(tmp_path, tiny_bundle):
    with pytest.raises(BundleError, match="planeco data build"):
        geo.load_display("commune", data_dir=tmp_path / "empty")
    with pytest.raises(ValueError, match="Niveaux possibles"):
        geo.load_display("canton", data_dir=tiny_bundle)


# ---------------------------------------------------------------------------------------------
# Real bundle
# ---------------------------------------------------------------------------------------------

@pytest.mark.bundle
def test_real_departement_loads_under_100_ms(bundle_dir):
    geo.load_display("region", data_dir=bundle_dir, within=("departement", "01"))  # imports, footers
    for dep in ("62", "2A", "974"):
        t = time.perf_counter()
        df = geo.load_display("commune", data_dir=bundle_dir, within=("departement", dep))
        assert time.perf_counter() - t < 0.1, dep
        assert len(df) > 20 and shapely.is_valid(df["geometry"].to_numpy()).all()


@pytest.mark.bundle
def test_real_region_geojson_size(bundle_dir):
    df = geo.load_display("commune", data_dir=bundle_dir, within=("region", "53"))  # Bretagne
    text = json.dumps(geo.to_geojson(df), separators=(",", ":"))
    assert len(df) > 1000 and len(text) < 2_000_000


@pytest.mark.bundle
def test_real_bbox_of_paris(bundle_dir):
    south, west, north, east = geo.bbox("commune", ["75056"], data_dir=bundle_dir)
    assert (48.81 < south < 48.82) and (2.22 < west < 2.23) and (48.90 < north < 48.91) and (2.46 < east < 2.47)
