"""Tests of spatial.h3grid against h3 itself, shapely brute force and pandas groupby."""

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import pytest
import shapely
from h3.api import basic_int as h3i

from spatial import h3grid, h3shapes
from spatial.errors import InputError

SHANDONG = {"lat": (34.4, 38.4), "lng": (114.8, 122.7)}


@pytest.fixture(params=["h3ronpy", "pure-h3"])
def backend(request, monkeypatch):
    """Run a test with the h3ronpy accelerator and with the plain-h3 fallback."""
    if request.param == "h3ronpy":
        if h3grid._h3ronpy is None:
            pytest.skip("optional tool missing: h3ronpy is not installed")
    else:
        monkeypatch.setattr(h3grid, "_h3ronpy", None)
        monkeypatch.setattr(h3grid, "_h3ronpy_vector", None)
    return request.param


def random_points(n, seed, box=SHANDONG):
    rng = np.random.default_rng(seed)
    return rng.uniform(*box["lat"], n), rng.uniform(*box["lng"], n)


def h3_loop(lat, lng, res):
    return np.array(
        [h3.str_to_int(h3.latlng_to_cell(a, b, res)) for a, b in zip(lat, lng, strict=True)],
        dtype=np.uint64,
    )


# ------------------------------------------------------------------------------ points_to_cells
def test_points_to_cells_equals_h3_loop_shandong_and_world(backend):
    n = 100_000 if backend == "h3ronpy" else 20_000
    lat, lng = random_points(n, 1)
    wlat, wlng = random_points(2_000, 2, {"lat": (-90, 90), "lng": (-180, 180)})
    lat = np.concatenate([lat, wlat, [90.0, -90.0, 0.0, 0.0]])
    lng = np.concatenate([lng, wlng, [180.0, -180.0, 180.0, -180.0]])
    got = h3grid.points_to_cells(lat, lng, resolution=8)
    assert got.dtype == np.uint64
    np.testing.assert_array_equal(got, h3_loop(lat, lng, 8))
    for res in (0, 5, 9, 15):
        np.testing.assert_array_equal(
            h3grid.points_to_cells(lat[:3000], lng[:3000], resolution=res),
            h3_loop(lat[:3000], lng[:3000], res),
        )


def test_points_to_cells_threaded_chunks_keep_order(monkeypatch):
    monkeypatch.setattr(h3grid, "_MIN_THREAD_CHUNK", 5_000)
    lat, lng = random_points(23_457, 3)
    got = h3grid.points_to_cells(pd.Series(lat), list(lng), resolution=9, threads=2)
    np.testing.assert_array_equal(got, h3_loop(lat, lng, 9))
    assert h3grid.points_to_cells([], [], resolution=9).shape == (0,)


@pytest.mark.parametrize(
    ("lat", "lng"),
    [([36.0, np.nan, 36.0], [117.0, 117.0, np.nan]), ([36.0, 117.0, 91.0], [117.0, 36.0, 117.0])],
)
def test_points_to_cells_rejects_bad_coordinates(lat, lng):
    with pytest.raises(InputError, match=r"2 of 3 points .* row 1"):
        h3grid.points_to_cells(lat, lng, resolution=8)


def test_points_to_cells_rejects_bad_arguments():
    with pytest.raises(InputError, match="resolution=16"):
        h3grid.points_to_cells([36.0], [117.0], resolution=16)
    with pytest.raises(InputError, match="same length"):
        h3grid.points_to_cells([36.0, 37.0], [117.0], resolution=8)


# ------------------------------------------------------------------------------------ strings
def test_cells_to_str_and_back_equal_h3(backend):
    lat, lng = random_points(5_000, 4, {"lat": (-89, 89), "lng": (-180, 180)})
    cells = np.concatenate(
        [h3grid.points_to_cells(lat, lng, resolution=r) for r in (0, 3, 8, 15)]
        + [np.array([h3.str_to_int(p) for p in h3.get_pentagons(7)], dtype=np.uint64)]
    )
    strings = h3grid.cells_to_str(cells)
    assert strings.dtype == object
    assert strings.tolist() == [h3.int_to_str(int(c)) for c in cells]
    np.testing.assert_array_equal(h3grid.str_to_cells(strings), cells)
    np.testing.assert_array_equal(h3grid.str_to_cells(pd.Series(strings).str.upper()), cells)
    assert h3grid.str_to_cells([]).dtype == np.uint64
    assert h3grid.cells_to_str([]).shape == (0,)
    assert h3grid.cells_to_gdf([]).shape == (0, 2)


@pytest.mark.parametrize(
    "bad",
    [
        "882d8d9a3bffffe",  # well-formed hex, but unused digits must be 7
        "882d8d9a3bfffff0",
        "not-a-cell-id!!",
        "882d8d9a3bffff",
        "882d8d9a3bfffé",
    ],
)
def test_str_to_cells_names_first_bad_value(backend, bad):
    assert not h3.is_valid_cell(bad)  # independent check that the value is indeed invalid
    with pytest.raises(InputError, match=rf"position 1: '{bad}'"):
        h3grid.str_to_cells(["882d8d9a3bfffff", bad, "bad-too"])


def test_cells_functions_reject_invalid_ids(backend):
    with pytest.raises(
        InputError, match="1 of 2 values are not valid H3 cells; first at position 1"
    ):
        h3grid.cells_to_str(np.array([h3.str_to_int("882d8d9a3bfffff"), 12345], dtype=np.uint64))
    with pytest.raises(InputError, match="str_to_cells"):
        h3grid.cell_centers(np.array(["882d8d9a3bfffff"]))


# -------------------------------------------------------------------------- centres, polygons
def test_cell_centers_equal_h3():
    lat, lng = random_points(3_000, 5)
    cells = h3grid.points_to_cells(lat, lng, resolution=7)
    clat, clng = h3grid.cell_centers(cells)
    expected = np.array([h3i.cell_to_latlng(int(c)) for c in cells])
    np.testing.assert_array_equal(clat, expected[:, 0])
    np.testing.assert_array_equal(clng, expected[:, 1])


def test_cells_to_polygons_shandong_vertices_and_centres():
    lat, lng = random_points(2_000, 6)
    cells = np.unique(h3grid.points_to_cells(lat, lng, resolution=8))
    polys = h3grid.cells_to_polygons(cells)
    assert all(p.geom_type == "Polygon" and p.is_valid for p in polys)
    for cell, poly in zip(cells[:200], polys[:200], strict=True):
        ring = np.asarray(poly.exterior.coords)
        expected = np.array(h3i.cell_to_boundary(int(cell)))[:, ::-1]
        np.testing.assert_array_equal(ring[:-1], expected)
        np.testing.assert_array_equal(ring[-1], ring[0])
    clat, clng = h3grid.cell_centers(cells)
    assert shapely.contains_xy(polys, clng, clat).all()
    # the points that produced the cells lie in their hexagons (up to edge round-off)
    own = h3grid.cells_to_polygons(h3grid.points_to_cells(lat, lng, resolution=8))
    assert shapely.dwithin(own, shapely.points(lng, lat), 1e-9).all()


def test_cells_to_polygons_all_res0_res1_cells_pentagons_distortion_antimeridian():
    res0 = sorted(h3i.get_res0_cells())
    cells = np.array(res0 + sorted(c for b in res0 for c in h3i.cell_to_children(b, 1)), np.uint64)
    polys = h3grid.cells_to_polygons(cells)
    n_vertices = {len(p.exterior.coords) - 1 for p in polys}
    assert {5, 6, 10} < n_vertices  # pentagons, hexagons, distortion vertices (class III res 1)
    clat, clng = h3grid.cell_centers(cells)
    for cell, poly, la, ln in zip(cells, polys, clat, clng, strict=True):
        ring = np.asarray(poly.exterior.coords)[:-1]
        expected = np.array(h3i.cell_to_boundary(int(cell)))[:, ::-1]
        np.testing.assert_array_equal(ring[:, 1], expected[:, 1])
        assert np.allclose(np.mod(ring[:, 0] - expected[:, 0], 360), 0)  # shifted by 0 or 360
        if abs(la) < 75:  # away from poles, the (possibly shifted) polygon holds its centre
            assert poly.contains(shapely.Point(ln, la)) or poly.contains(
                shapely.Point(ln + 360, la)
            )
            assert np.ptp(ring[:, 0]) < 180


def test_cells_to_gdf_columns_crs_and_aggregate_input():
    cells = h3grid.points_to_cells(*random_points(500, 7), resolution=6)
    agg = h3grid.aggregate(cells, {"v": np.arange(cells.size, dtype=float)}, how={"v": "sum"})
    gdf = h3grid.cells_to_gdf(agg.index.to_numpy(), agg)
    assert isinstance(gdf, gpd.GeoDataFrame)
    assert list(gdf.columns) == ["h3_cell", "n", "v_sum", "geometry"]
    assert gdf.crs.to_epsg() == 4326
    assert gdf["h3_cell"].tolist() == [h3.int_to_str(int(c)) for c in agg.index]
    np.testing.assert_array_equal(gdf["n"], agg["n"])
    assert gdf.geometry.iloc[0].equals(h3grid.cells_to_polygons(agg.index.to_numpy()[:1])[0])
    assert list(h3grid.cells_to_gdf(cells[:3]).columns) == ["h3_cell", "geometry"]
    with pytest.raises(InputError, match="rows"):
        h3grid.cells_to_gdf(cells[:3], {"x": [1, 2]})


# -------------------------------------------------------------------------- polygons to cells
def brute_force(poly, res):
    """Cells by centre-in-polygon and hexagon-intersects-polygon, over a large enough disk."""
    if isinstance(poly, shapely.MultiPolygon):
        parts = [brute_force(p, res) for p in poly.geoms]
        return set().union(*(c for c, _ in parts)), set().union(*(o for _, o in parts))
    c = poly.centroid
    origin = h3i.latlng_to_cell(c.y, c.x, res)
    minx, miny, maxx, maxy = poly.bounds
    edge_deg = h3.average_hexagon_edge_length(res, unit="km") / 111.0
    k = int(max(maxx - minx, maxy - miny) / edge_deg) + 3
    disk = np.array(h3i.grid_disk(origin, k), dtype=np.uint64)
    outer_ring = set(h3i.grid_ring(origin, k))
    lat, lng = h3grid.cell_centers(disk)
    hexes = h3grid.cells_to_polygons(disk)
    center = disk[shapely.contains_xy(poly, lng, lat)]
    overlap = disk[shapely.intersects(hexes, poly)]
    assert not outer_ring & set(overlap.tolist()), "disk too small for the brute force"
    return set(center.tolist()), set(overlap.tolist())


def random_polygon(rng, lat, lng, radius):
    k = rng.integers(4, 10)
    ang = np.sort(rng.uniform(0, 2 * np.pi, k))
    r = radius * rng.uniform(0.3, 1.0, k)
    return shapely.Polygon(np.c_[lng + r * np.cos(ang), lat + r * np.sin(ang)])


def test_polygons_to_cells_match_brute_force():
    rng = np.random.default_rng(8)
    polys = [
        random_polygon(rng, rng.uniform(35, 37.5), rng.uniform(115.5, 121), 0.03) for _ in range(8)
    ]
    donut = (
        shapely.Point(117.0, 36.6).buffer(0.04).difference(shapely.Point(117.0, 36.6).buffer(0.02))
    )
    multi = shapely.MultiPolygon([polys[0], shapely.Point(118.0, 35.5).buffer(0.01)])
    geoms = gpd.GeoSeries([*polys, donut, None, multi], crs=4326)
    for res in (8, 9):
        cc, co = h3shapes.polygons_to_cells(geoms, resolution=res, mode="center")
        oc, oo = h3shapes.polygons_to_cells(geoms, resolution=res, mode="overlap")
        assert cc.dtype == np.uint64 and co.dtype == np.int64
        assert 9 not in set(co.tolist()) | set(oo.tolist())  # the None geometry
        for i, g in enumerate(geoms):
            if g is None:
                continue
            center, overlap = brute_force(g, res)
            assert set(cc[co == i].tolist()) == center
            assert set(oc[oo == i].tolist()) == overlap
            assert len(cc[co == i]) == len(center)  # no duplicates
            assert center <= overlap


def test_polygon_with_hole_excludes_hole_cells_in_center_mode():
    outer = shapely.Point(117.0, 36.6).buffer(0.05)
    hole = shapely.Point(117.0, 36.6).buffer(0.02)
    donut = outer.difference(hole)
    assert len(donut.interiors) == 1
    cells, _ = h3shapes.polygons_to_cells([donut], resolution=9)
    lat, lng = h3grid.cell_centers(cells)
    assert not shapely.contains_xy(hole, lng, lat).any()
    in_hole, _ = h3shapes.polygons_to_cells([hole], resolution=9)
    assert in_hole.size > 50 and not set(in_hole.tolist()) & set(cells.tolist())
    full, _ = h3shapes.polygons_to_cells([outer], resolution=9)
    assert set(full.tolist()) == set(cells.tolist()) | set(in_hole.tolist())


def test_tiny_polygon_gets_its_cell_in_overlap_mode():
    lat, lng = 36.6512, 117.1203
    d_lat, d_lng = 15 / 111_320, 15 / (111_320 * np.cos(np.radians(lat)))  # a 30 m square
    square = shapely.box(lng - d_lng, lat - d_lat, lng + d_lng, lat + d_lat)
    for res in (7, 8, 9):
        cell = h3i.latlng_to_cell(lat, lng, res)
        cells, owner = h3shapes.polygons_to_cells(square, resolution=res, mode="overlap")
        assert cells.tolist() == [cell] and owner.tolist() == [0]
        center, _ = h3shapes.polygons_to_cells(square, resolution=res, mode="center")
        clat, clng = h3i.cell_to_latlng(cell)
        assert center.tolist() == ([cell] if square.contains(shapely.Point(clng, clat)) else [])


def test_overlapping_polygons_share_cells():
    a = shapely.box(117.0, 36.0, 117.05, 36.05)
    b = shapely.box(117.03, 36.0, 117.08, 36.05)
    cells, owner = h3shapes.polygons_to_cells([a, b], resolution=9, mode="overlap")
    shared = set(cells[owner == 0].tolist()) & set(cells[owner == 1].tolist())
    _, overlap_ab = brute_force(a.intersection(b), 9)
    assert shared >= overlap_ab and len(shared) > 10


def test_polygons_to_cells_rejects_bad_input():
    square = shapely.box(117.0, 36.0, 117.01, 36.01)
    with pytest.raises(InputError, match="'cover'"):
        h3shapes.polygons_to_cells([square], resolution=8, mode="cover")
    with pytest.raises(InputError, match="Point"):
        h3shapes.polygons_to_cells([square, shapely.Point(117, 36)], resolution=8)
    with pytest.raises(InputError, match="to_crs"):
        h3shapes.polygons_to_cells(gpd.GeoSeries([square], crs=4326).to_crs(32650), resolution=8)
    with pytest.raises(InputError, match="swapped"):
        h3shapes.polygons_to_cells([shapely.box(36.0, 117.0, 36.01, 117.01)], resolution=8)


# ------------------------------------------------------------------------------- neighbours
def test_grid_disk_pairs_equal_grid_distance_brute_force(backend):
    rng = np.random.default_rng(9)
    origin = h3i.latlng_to_cell(36.6, 117.0, 8)
    patch = np.array(h3i.grid_disk(origin, 8), dtype=np.uint64)
    cells = rng.permutation(patch[rng.random(patch.size) < 0.6])
    dist = np.array([[h3i.grid_distance(int(a), int(b)) for b in cells] for a in cells])
    for k in (0, 1, 2, 3):
        src, dst = h3grid.grid_disk_pairs(cells, k, chunk_size=37)
        assert src.dtype == np.int64 and dst.dtype == np.int64
        got = set(zip(src.tolist(), dst.tolist(), strict=True))
        expected = set(zip(*np.nonzero(dist <= k), strict=True))
        assert got == {(int(i), int(j)) for i, j in expected}
        assert len(got) == src.size  # no duplicate pairs
        assert np.all(np.diff(src) >= 0)


def test_grid_disks_equal_h3_grid_disk_per_cell(backend):
    pentagon = h3.str_to_int(h3.get_pentagons(6)[0])
    cells = np.array([h3i.latlng_to_cell(36.6, 117.0, 8), pentagon,
                      h3i.latlng_to_cell(36.6, 117.0, 8)], dtype=np.uint64)  # a repeat too
    for k in (0, 1, 3):
        nb, origin = h3grid.grid_disks(cells, k)
        assert nb.dtype == np.uint64 and origin.dtype == np.int64
        assert np.all(np.diff(origin) >= 0)
        for i, c in enumerate(cells.tolist()):
            assert sorted(nb[origin == i].tolist()) == sorted(h3i.grid_disk(c, k))
    nb, origin = h3grid.grid_disks(np.zeros(0, np.uint64), 2)
    assert nb.size == 0 and origin.size == 0


def test_grid_disk_pairs_near_pentagon_and_errors(backend):
    pentagon = h3.str_to_int(h3.get_pentagons(6)[0])
    cells = np.array(h3i.grid_disk(pentagon, 3), dtype=np.uint64)
    src, dst = h3grid.grid_disk_pairs(cells, 1)
    got = set(zip(src.tolist(), dst.tolist(), strict=True))
    assert got == {(j, i) for i, j in got}
    assert {(i, i) for i in range(cells.size)} <= got
    p = int(np.flatnonzero(cells == pentagon)[0])
    assert sorted(dst[src == p].tolist()) == sorted(
        int(np.flatnonzero(cells == c)[0]) for c in h3i.grid_disk(pentagon, 1)
    )
    with pytest.raises(InputError, match="unique"):
        h3grid.grid_disk_pairs(np.concatenate([cells, cells[:1]]), 1)
    with pytest.raises(InputError, match="k="):
        h3grid.grid_disk_pairs(cells, -1)


# ------------------------------------------------------------------------------ aggregation
def test_aggregate_equals_pandas_groupby():
    rng = np.random.default_rng(10)
    lat, lng = random_points(20_000, 11, {"lat": (36.0, 36.3), "lng": (117.0, 117.3)})
    cells = h3grid.points_to_cells(lat, lng, resolution=7)
    pm25 = rng.gamma(2.0, 30.0, cells.size)
    pm25[rng.random(cells.size) < 0.1] = np.nan
    pm25[cells == cells[0]] = np.nan  # one cell with no values at all
    frp = rng.integers(0, 500, cells.size)
    flag = rng.random(cells.size) < 0.3
    how = {"pm25": ["count", "sum", "mean", "max", "min"], "frp": "sum", "flag": "mean"}
    got = h3grid.aggregate(cells, {"pm25": pm25, "frp": frp, "flag": flag}, how=how)

    df = pd.DataFrame({"cell": cells, "pm25": pm25, "frp": frp, "flag": flag.astype(float)})
    grouped = df.groupby("cell")
    expected = pd.DataFrame({"n": grouped.size()})
    for func in how["pm25"]:
        expected[f"pm25_{func}"] = grouped["pm25"].agg(func)
    expected["frp_sum"] = grouped["frp"].sum().astype(float)
    expected["flag_mean"] = grouped["flag"].mean()
    assert got.index.dtype == np.uint64 and got.index.name == "cell"
    assert got.index.is_monotonic_increasing
    assert list(got.columns) == list(expected.columns)
    pd.testing.assert_frame_equal(
        got, expected, check_dtype=False, check_index_type=False, rtol=1e-12
    )
    assert got.loc[cells[0], "pm25_sum"] == 0 and np.isnan(got.loc[cells[0], "pm25_mean"])


def test_aggregate_counts_only_and_errors():
    cells = np.array([7, 7, 3], dtype=np.uint64)
    got = h3grid.aggregate(cells)
    assert got["n"].to_dict() == {3: 1, 7: 2} and list(got.columns) == ["n"]
    with pytest.raises(InputError, match="median"):
        h3grid.aggregate(cells, {"v": [1.0, 2.0, 3.0]}, how={"v": "median"})
    with pytest.raises(InputError, match="'w'"):
        h3grid.aggregate(cells, {"v": [1.0, 2.0, 3.0]}, how={"w": "sum"})
    with pytest.raises(InputError, match="str_to_cells"):
        h3grid.aggregate(np.array(["882d8d9a3bfffff"]))
