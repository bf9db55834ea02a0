"""spatial.raster: cell means equal an independent per-pixel computation, in two CRSs."""

import h3
import numpy as np
import pandas as pd
import pyproj
import pytest
import rasterio
from affine import Affine

from spatial import raster
from spatial.errors import InputError

NODATA = -9999.0


def from_origin(west, north, xsize, ysize):
    return Affine(xsize, 0.0, west, 0.0, -ysize, north)


def write(path, values, transform, crs):
    with rasterio.open(path, "w", driver="GTiff", height=values.shape[0],
                       width=values.shape[1], count=1, dtype="float32", crs=crs,
                       transform=transform, nodata=NODATA) as ds:
        ds.write(values.astype(np.float32), 1)
    return path


def brute_force(path, res):
    """Loop over pixels: centre -> (to WGS-84) -> h3.latlng_to_cell -> pandas mean."""
    rows = []
    with rasterio.open(path) as ds:
        band = ds.read(1)
        to = None if ds.crs.to_epsg() == 4326 else pyproj.Transformer.from_crs(
            ds.crs, "EPSG:4326", always_xy=True)
        for r in range(ds.height):
            for c in range(ds.width):
                v = float(band[r, c])
                if v == NODATA or np.isnan(v):
                    continue
                x, y = ds.transform @ (c + 0.5, r + 0.5)
                if to is not None:
                    x, y = to.transform(x, y)
                rows.append((h3.str_to_int(h3.latlng_to_cell(y, x, res)), v))
    df = pd.DataFrame(rows, columns=["cell", "v"])
    return df.groupby("cell")["v"].agg(["mean", "size"])


@pytest.fixture
def rng():
    return np.random.default_rng(7)


def check(path, res, **kw):
    s = raster.raster_to_cells(path, resolution=res, **kw)
    ref = brute_force(path, res)
    has = s.count > 0
    got = pd.DataFrame({"mean": s.mean[has], "size": s.count[has]},
                       index=s.cells[has].astype(np.uint64))
    ref.index = ref.index.astype(np.uint64)
    assert sorted(got.index) == sorted(ref.index)
    got = got.loc[ref.index]
    np.testing.assert_allclose(got["mean"], ref["mean"], rtol=1e-12)
    np.testing.assert_array_equal(got["size"], ref["size"])
    return s


def test_wgs84_raster_matches_pixel_centres(tmp_path, rng):
    v = rng.uniform(10, 100, (30, 40))
    v[3:6, 4:9] = NODATA
    v[10, 10] = np.nan
    p = write(tmp_path / "a.tif", v, from_origin(116.40, 35.60, 0.01, 0.01), "EPSG:4326")
    s = check(p, 7)
    assert s.count.sum() == v.size - 15 - 1
    # windowed reading gives the same numbers
    s2 = raster.raster_to_cells(p, resolution=7, block_rows=7)
    np.testing.assert_array_equal(s2.count, s.count)
    np.testing.assert_allclose(s2.mean, s.mean, rtol=1e-13)


def test_projected_raster_matches_pixel_centres(tmp_path, rng):
    v = rng.uniform(10, 100, (25, 30))
    v[0, :5] = NODATA
    x0, y0 = pyproj.Transformer.from_crs(4326, 32650, always_xy=True).transform(116.5, 35.6)
    p = write(tmp_path / "u.tif", v, from_origin(x0, y0, 1000, 1000), "EPSG:32650")
    check(p, 7)
    check(p, 8, block_rows=4)


def test_index_reused_for_the_same_grid_and_refused_for_another(tmp_path, rng):
    t = from_origin(116.40, 35.60, 0.01, 0.01)
    a = write(tmp_path / "a.tif", rng.uniform(0, 50, (20, 20)), t, "EPSG:4326")
    b = write(tmp_path / "b.tif", rng.uniform(0, 50, (20, 20)), t, "EPSG:4326")
    sa = raster.raster_to_cells(a, resolution=7)
    sb = raster.raster_to_cells(b, index=sa.index)
    fresh = raster.raster_to_cells(b, resolution=7)
    np.testing.assert_allclose(sb.mean, fresh.mean, rtol=1e-13)
    with rasterio.open(b) as ds:
        arr = ds.read(1)
    np.testing.assert_allclose(raster.aggregate_array(arr, sa.index, nodata=NODATA).mean,
                               fresh.mean, rtol=1e-13)
    c = write(tmp_path / "c.tif", rng.uniform(0, 50, (20, 20)),
              from_origin(116.41, 35.60, 0.01, 0.01), "EPSG:4326")
    with pytest.raises(InputError, match="differs from the index"):
        raster.raster_to_cells(c, index=sa.index)
    with pytest.raises(InputError, match="not found"):
        raster.raster_to_cells(tmp_path / "missing.tif", resolution=7)


@pytest.mark.parametrize("crs, transform, res", [
    ("EPSG:4326", Affine(0.0021, 0.0, 116.03, 0.0, -0.0013, 36.9), 7),
    ("EPSG:4326", Affine(0.0004, 0.0001, 116.0, 0.00005, -0.0004, 37.0), 8),  # rotated
    ("EPSG:32650", Affine(150.0, 0.0, 310000.0, 0.0, -150.0, 4100000.0), 7),  # UTM 50N
])
def test_burned_index_equals_pixel_by_pixel_lookup(crs, transform, res):
    """The burned index (outlines rasterized, exact near edges) equals looking up every pixel."""
    shape = (601, 757)  # not multiples of the seed spacing: partial blocks at the edges
    fast = raster.pixel_index(shape, transform, crs, resolution=res)
    exact = raster.pixel_index(shape, transform, crs, resolution=res, fast=False)
    assert raster._block_size(raster._LngLat(Affine(*tuple(transform)[:6]), None
                                             if crs == "EPSG:4326" else pyproj.Transformer.
                                             from_crs(crs, "EPSG:4326", always_xy=True)),
                              *shape, res) >= 3  # the burn path is really taken
    np.testing.assert_array_equal(fast.cells, exact.cells)
    np.testing.assert_array_equal(fast.codes, exact.codes)


# ---------------------------------------------------------------- burned outlines (raster_burn)
def per_pixel_cells(shape, transform, crs, res):
    """Reference: every pixel centre -> (to WGS-84) -> h3.latlng_to_cell, in a Python loop."""
    height, width = shape
    to = None if crs == "EPSG:4326" else pyproj.Transformer.from_crs(crs, "EPSG:4326",
                                                                      always_xy=True)
    out = np.zeros(height * width, dtype=np.uint64)
    for r in range(height):
        for c in range(width):
            x, y = transform @ (c + 0.5, r + 0.5)
            if to is not None:
                x, y = to.transform(x, y)
            out[r * width + c] = h3.str_to_int(h3.latlng_to_cell(y, x, res))
    return out


def burned_index(monkeypatch, shape, transform, crs, res):
    """pixel_index, asserting that the burn path (not the pixel-by-pixel lookup) produced it."""
    from spatial import raster_burn

    calls = []
    real = raster_burn.burn_codes

    def spy(*a, **kw):
        calls.append(real(*a, **kw))
        return calls[-1]

    monkeypatch.setattr(raster_burn, "burn_codes", spy)
    idx = raster.pixel_index(shape, transform, crs, resolution=res)
    assert len(calls) == 1 and calls[0] is not None
    return idx


def assert_same_as_reference(idx, ref):
    got = np.where(idx.codes >= 0, idx.cells[np.maximum(idx.codes, 0)], 0)
    np.testing.assert_array_equal(got, ref)
    np.testing.assert_array_equal(idx.cells, np.unique(ref))


def test_pixels_on_hexagon_edges_and_vertices_are_decided_exactly(monkeypatch):
    """Pixel centres placed on a hexagon's edge (its chord) and on two vertices: same as H3."""
    res = 7
    cell = h3.latlng_to_cell(36.5, 117.0, res)
    ring = np.array(h3.cell_to_boundary(cell))  # (lat, lng)
    d = np.roll(ring, -1, axis=0) - ring
    k = int(np.argmax(np.where((d[:, 1] > 0) & (d[:, 0] < 0),
                               np.minimum(d[:, 1] * np.cos(np.radians(36.5)), -d[:, 0]), -1)))
    (lat0, lng0), (dlat, dlng) = ring[k], d[k]
    n = 10  # pixels per edge along each axis: pixel (c0 + i, r0 + i) lies on the edge's chord
    a, e = dlng / n, dlat / n
    c0 = r0 = 40
    t = Affine(a, 0.0, lng0 - a * (c0 + 0.5), 0.0, e, lat0 - e * (r0 + 0.5))
    shape = (110, 120)
    x, y = t @ (c0 + 0.5, r0 + 0.5)
    assert abs(x - lng0) < 1e-12 and abs(y - lat0) < 1e-12  # a pixel centre on the vertex
    idx = burned_index(monkeypatch, shape, t, "EPSG:4326", res)
    assert_same_as_reference(idx, per_pixel_cells(shape, t, "EPSG:4326", res))


@pytest.mark.parametrize("crs, transform, shape", [
    # longitude/latitude across the antimeridian (x runs past 180)
    ("EPSG:4326", Affine(0.0025, 0.0, 179.85, 0.0, -0.0012, 60.1), (150, 120)),
    # UTM 60N across the antimeridian
    ("EPSG:32660", Affine(150.0, 0.0, 790000.0, 0.0, -150.0, 6680000.0), (120, 140)),
    # an Albers equal-area CRS as used for national 1 km grids (rotated-looking H3 outlines)
    ("+proj=aea +lat_1=25 +lat_2=47 +lon_0=105 +datum=WGS84 +units=m +no_defs",
     Affine(120.0, 0.0, 1000000.0, 0.0, -120.0, 4100000.0), (130, 110)),
])
def test_burned_index_equals_h3_per_pixel_in_other_crs_and_across_the_antimeridian(
        monkeypatch, crs, transform, shape):
    idx = burned_index(monkeypatch, shape, transform, crs, 7)
    ref = per_pixel_cells(shape, transform, crs, 7)
    if crs == "EPSG:4326":
        lng = transform.c + transform.a * np.arange(shape[1])
        assert lng.min() < 180 < lng.max()
    assert_same_as_reference(idx, ref)


def test_outlines_bent_too_much_are_looked_up_exactly(monkeypatch):
    """With no bend allowed every cell is left unburned: the pixels are all looked up exactly."""
    from spatial import raster_burn

    monkeypatch.setattr(raster_burn, "MAX_BEND_PX", -1.0)
    t = Affine(150.0, 0.0, 310000.0, 0.0, -150.0, 4100000.0)
    idx = burned_index(monkeypatch, (60, 70), t, "EPSG:32650", 7)
    assert_same_as_reference(idx, per_pixel_cells((60, 70), t, "EPSG:32650", 7))


def test_stream_cells_reuses_the_index_per_grid_and_equals_one_by_one(tmp_path, rng):
    ta = from_origin(116.40, 35.60, 0.01, 0.01)
    tb = from_origin(116.45, 35.60, 0.01, 0.01)
    paths = [write(tmp_path / f"d{i}.tif", rng.uniform(0, 90, (30, 40)), ta, "EPSG:4326")
             for i in range(3)]
    paths.append(write(tmp_path / "other.tif", rng.uniform(0, 90, (30, 40)), tb, "EPSG:4326"))
    got = list(raster.stream_cells(paths, resolution=7, block_rows=5))
    assert [p for p, _ in got] == paths
    assert got[1][1].index is got[0][1].index and got[2][1].index is got[0][1].index
    assert got[3][1].index is not got[0][1].index
    for p, s in got:  # the per-pixel loop as reference (brute_force)
        ref = brute_force(p, 7)
        has = s.count > 0
        np.testing.assert_array_equal(s.cells[has], ref.index.to_numpy(np.uint64))
        np.testing.assert_allclose(s.mean[has], ref["mean"], rtol=1e-12)
        np.testing.assert_array_equal(s.count[has], ref["size"])
    with pytest.raises(InputError, match="not found"):
        list(raster.stream_cells([paths[0], tmp_path / "gone.tif"], resolution=7))


def test_tiled_raster_read_in_block_aligned_windows(tmp_path, rng):
    """Windows rounded to the file's 16-row blocks give the per-pixel loop's numbers."""
    v = rng.uniform(10, 100, (50, 48)).astype(np.float32)
    v[7:20, 3] = NODATA
    p = tmp_path / "tiled.tif"
    with rasterio.open(p, "w", driver="GTiff", height=50, width=48, count=1, dtype="float32",
                       crs="EPSG:4326", transform=from_origin(116.4, 35.6, 0.01, 0.01),
                       nodata=NODATA, tiled=True, blockxsize=16, blockysize=16) as ds:
        ds.write(v, 1)
    check(p, 7, block_rows=7)
