"""Shapefiles with text fields as wide as their data (spatial.shpwrite).

Checked against GDAL's own writer (``GeoDataFrame.to_file``): the same geometry files and the
same values read back, a narrower .dbf whose field widths are the longest values' bytes (read
from the DBF header, dBASE III layout), and the size estimate of spatial.limits equal to the
file.
"""

import struct

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from shapely.geometry import MultiPolygon, Point, Polygon

from spatial import dbfwrite, limits, shpwrite


def _dbf_fields(path):
    """(name, type, width) of each field, from the DBF header (32-byte descriptors)."""
    data = path.read_bytes()
    header_len = struct.unpack("<H", data[8:10])[0]
    out = []
    for i in range((header_len - 33) // 32):
        d = data[32 + 32 * i: 64 + 32 * i]
        out.append((d[:11].rstrip(b"\0").decode(), chr(d[11]), d[16]))
    return out


def _frame():
    sq = Polygon([(0, 0), (1, 0), (1, 1), (0, 1)])
    return gpd.GeoDataFrame({
        "name": ["临清市", "ab", None, "x"],
        "code": pd.array(["a", None, "bcd", "e"], dtype="str"),
        "v": [1.5, np.nan, 2.25, 0.0],
        "n": pd.array([1, None, 3, 4], dtype="Int64"),
        "k": np.array([1, 2, 3, 4], dtype=np.int32),
        "empty": [None, None, None, None],
    }, geometry=[sq, MultiPolygon([sq, Polygon([(2, 2), (3, 2), (3, 3)])]), sq, sq],
        crs="EPSG:4326")


@pytest.mark.parametrize("encoding", ["UTF-8", "CP936"])
def test_same_files_as_gdal_but_narrow_text(tmp_path, encoding):
    gdf = _frame()
    gdf.to_file(tmp_path / "old.shp", driver="ESRI Shapefile", engine="pyogrio",
                encoding=encoding)
    shpwrite.write_shapefile(gdf, tmp_path / "new.shp", encoding=encoding)
    for ext in ("shp", "shx", "prj"):
        assert (tmp_path / f"old.{ext}").read_bytes() == (tmp_path / f"new.{ext}").read_bytes()
    old = pyogrio.read_dataframe(tmp_path / "old.shp", encoding=encoding)
    new = pyogrio.read_dataframe(tmp_path / "new.shp", encoding=encoding)
    pd.testing.assert_frame_equal(old, new, check_dtype=False)
    widths = {n: w for n, _, w in _dbf_fields(tmp_path / "new.dbf")}
    name_bytes = 9 if encoding == "UTF-8" else 6  # 临清市: 3 characters, 3 or 2 bytes each
    assert widths["name"] == name_bytes
    assert widths["code"] == 3 and widths["empty"] == 1
    assert {n: w for n, _, w in _dbf_fields(tmp_path / "old.dbf")}["code"] == 80  # GDAL's
    assert (tmp_path / "new.dbf").stat().st_size < (tmp_path / "old.dbf").stat().st_size


def test_estimate_is_the_file(tmp_path):
    gdf = gpd.GeoDataFrame({"name": ["临清市示例企业", "a"] * 50, "v": np.arange(100.0),
                            "n": np.arange(100)},
                           geometry=[Point(1, 2)] * 100, crs="EPSG:4326")
    shpwrite.write_shapefile(gdf, tmp_path / "t.shp", encoding="UTF-8")
    assert limits.dbf_bytes(pd.DataFrame(gdf.drop(columns="geometry"))) == \
        (tmp_path / "t.dbf").stat().st_size


def test_text_past_254_bytes_is_left_to_gdal(tmp_path):
    """GDAL widens the field to 254 bytes and cuts the value there, with its warning."""
    gdf = gpd.GeoDataFrame({"name": ["x" * 300, "ab"], "code": ["a", "bc"]},
                           geometry=[Point(0, 0), Point(1, 1)], crs="EPSG:4326")
    with pytest.warns(RuntimeWarning, match="truncated to 254"):
        shpwrite.write_shapefile(gdf, tmp_path / "t.shp", encoding="UTF-8")
    widths = {n: w for n, _, w in _dbf_fields(tmp_path / "t.dbf")}
    assert widths == {"name": 254, "code": 2}
    assert pyogrio.read_dataframe(tmp_path / "t.shp")["name"].tolist() == ["x" * 254, "ab"]


def _mixed(n=500):
    rng = np.random.default_rng(7)
    real = rng.normal(0, 500, n)
    real[[3, 9]] = np.nan
    real[5], real[6] = np.inf, -np.inf
    real[[1, 2]] = 0.0, -0.0  # GDAL writes -0.000…
    return gpd.GeoDataFrame({
        "lat": rng.uniform(-90, 90, n), "neg": -rng.random(n), "real": real,
        "big": rng.integers(-10**12, 10**12, n), "k": rng.integers(-999, 999, n).astype(np.int32),
        "n": pd.array(np.where(rng.random(n) < .3, None, rng.integers(0, 99, n)), dtype="Int64"),
        "x": pd.array(np.where(rng.random(n) < .3, None, rng.random(n)), dtype="Float64"),
        "name": np.where(rng.random(n) < .3, None,
                         np.array(["临清市", "ab", "", "x y", "a\0b"])[rng.integers(0, 5, n)]),
        "status": pd.array(np.where(rng.random(n) < .3, None, "kept"), dtype="str"),
        # Arrow-backed text: its UTF-8 bytes used as they are, or per value past a NUL
        "town": pd.array(np.where(rng.random(n) < .3, None, np.array(
            ["临清市", "康庄镇", "", "x y"])[rng.integers(0, 4, n)]), dtype="str"),
        "note": pd.array(np.where(rng.random(n) < .3, None, np.array(
            ["临清市", "a\0b", "c"])[rng.integers(0, 3, n)]), dtype="str"),
    }, geometry=[Point(x, y) for x, y in rng.random((n, 2))], crs="EPSG:4326")


def _gdal_records(monkeypatch, gdf, path, encoding):
    """The same file with GDAL writing every record (the bulk writer switched off)."""
    with monkeypatch.context() as m:
        m.setattr(dbfwrite, "records", lambda *a: None)
        shpwrite.write_shapefile(gdf, path, encoding=encoding, DBF_DATE_LAST_UPDATE="2025-01-01")


@pytest.mark.parametrize("encoding", ["UTF-8", "CP936"])
def test_bulk_dbf_is_gdals_byte_for_byte(tmp_path, monkeypatch, encoding):
    gdf = _mixed()
    used = []
    real = dbfwrite.records
    monkeypatch.setattr(dbfwrite, "records", lambda *a: used.append(real(*a)) or used[-1])
    shpwrite.write_shapefile(gdf, tmp_path / "new.shp", encoding=encoding,
                             DBF_DATE_LAST_UPDATE="2025-01-01")
    assert used and used[0] is not None  # the bulk writer wrote it, not the fallback
    _gdal_records(monkeypatch, gdf, tmp_path / "old.shp", encoding)
    for ext in ("shp", "shx", "prj", "dbf"):
        assert (tmp_path / f"old.{ext}").read_bytes() == (tmp_path / f"new.{ext}").read_bytes()


def test_bulk_dbf_read_by_hand(tmp_path):
    """The records parsed by hand (dBASE III fixed width) hold the frame's values."""
    gdf = _mixed()
    shpwrite.write_shapefile(gdf, tmp_path / "t.shp", encoding="UTF-8")
    data = (tmp_path / "t.dbf").read_bytes()
    n, header_len, record_len = struct.unpack("<IHH", data[4:12])
    assert n == len(gdf) and data[-1:] == b"\x1a"
    assert len(data) == header_len + n * record_len + 1
    fields = _dbf_fields(tmp_path / "t.dbf")
    assert [f for f, _, _ in fields] == [c for c in gdf.columns if c != "geometry"]
    rec = np.frombuffer(data[header_len:-1], dtype=f"S{record_len}")
    pos = 1
    for name, kind, width in fields:
        cells = [r[pos:pos + width].ljust(width, b"\0")[:width] for r in rec.tolist()]
        pos += width
        src = gdf[name].tolist()
        for cell, v in zip(cells, src, strict=True):
            missing = v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v))
            if kind == "C":
                want = "" if missing else v.split("\0")[0]
                assert cell.decode("utf-8").rstrip(" ") == want
            elif missing:
                assert cell == b"*" * width
            else:
                assert float(cell) == pytest.approx(v, rel=1e-12, abs=1e-15)


def test_value_wider_than_its_field_left_to_gdal(tmp_path, monkeypatch):
    """A real past the field's 24 characters: GDAL writes it (and warns), as before."""
    gdf = _mixed(50)
    gdf.loc[4, "lat"] = 1e12
    shpwrite.write_shapefile(gdf, tmp_path / "new.shp", encoding="UTF-8",
                             DBF_DATE_LAST_UPDATE="2025-01-01")
    _gdal_records(monkeypatch, gdf, tmp_path / "old.shp", "UTF-8")
    assert (tmp_path / "old.dbf").read_bytes() == (tmp_path / "new.dbf").read_bytes()


def test_text_bytes_of_arrow_strings():
    """Arrow-backed text measured in place: 临清市 is 3 characters of 3 UTF-8 bytes, 2 GBK."""
    s = pd.Series(pd.array(["临清市", None, "ab", "x"], dtype="str"))
    assert shpwrite.text_bytes(s) == 9
    assert shpwrite.text_bytes(s, "gbk") == 6
    assert shpwrite.text_bytes(pd.Series(pd.array([None, None], dtype="str"))) == 0


def test_integer_cells_are_cs_printf():
    """Integers formatted all at once equal Python's ``%*d`` (C's printf) cell for cell."""
    rng = np.random.default_rng(3)
    ext = np.iinfo(np.int64)
    vals = np.concatenate([rng.integers(ext.min, ext.max, 5000, endpoint=True),
                           rng.integers(-1000, 1000, 500),
                           [0, -1, 1, 9, 10, -9, -10, 99, 100, ext.min, ext.max]])
    for width in (1, 3, 18, 20, 24):
        want = [b"%*d" % (width, v) for v in vals.tolist()]
        got = dbfwrite._int_cells(vals, width)
        if any(len(w) > width for w in want):  # wider than the field: not written in bulk
            assert got is None
        else:
            assert [bytes(r) for r in got] == want
    small = np.array([0, 5, -5, 12], dtype=np.int32)
    assert [bytes(r) for r in dbfwrite._int_cells(small, 2)] == [b" 0", b" 5", b"-5", b"12"]
    assert dbfwrite._int_cells(small, 1) is None  # -5 and 12 need two bytes
    top = np.array([0, 2**64 - 1], dtype=np.uint64)
    assert bytes(dbfwrite._int_cells(top, 20)[1]) == b"18446744073709551615"


@pytest.mark.parametrize("geoms", [
    [Point(0.5, 1.5), Point(-120.25, 33.0), Point(116.4, 39.9)],
    [Point(0.5, 1.5, 2.0), Point(1, 2, 3)],  # 3-D: GDAL writes them
    [Point(0.5, 1.5), Point()],  # an empty point: GDAL writes it
])
def test_points_in_bulk_or_by_gdal_are_gdals_files(tmp_path, monkeypatch, geoms):
    gdf = gpd.GeoDataFrame({"k": np.arange(len(geoms))}, geometry=geoms, crs="EPSG:4326")
    plain = all(not g.is_empty and not g.has_z for g in geoms)
    assert (shpwrite.point_files(gdf.geometry.values) is not None) == plain
    shpwrite.write_shapefile(gdf, tmp_path / "new.shp", encoding="UTF-8")
    gdf.to_file(tmp_path / "old.shp", driver="ESRI Shapefile", engine="pyogrio",
                encoding="UTF-8")
    for ext in ("shp", "shx", "prj"):
        assert (tmp_path / f"old.{ext}").read_bytes() == (tmp_path / f"new.{ext}").read_bytes()
    if plain:  # the records read by hand: 28 bytes each after the 100-byte header
        data = (tmp_path / "new.shp").read_bytes()
        for i, g in enumerate(geoms):
            num, length = struct.unpack(">2i", data[100 + 28 * i: 108 + 28 * i])
            kind, x, y = struct.unpack("<i2d", data[108 + 28 * i: 128 + 28 * i])
            assert (num, length, kind, x, y) == (i + 1, 10, 1, g.x, g.y)


def _polygons(n=400, seed=4):
    """H3 hexagons and pentagon-like rings both ways round, hulls of many vertices, slivers."""
    from spatial import h3grid

    rng = np.random.default_rng(seed)
    cells = h3grid.points_to_cells(rng.uniform(30, 40, n // 4), rng.uniform(110, 120, n // 4),
                                   resolution=8)
    geoms = list(h3grid.cells_to_polygons(np.unique(cells)))
    for _ in range(n // 4):  # random convex hulls, buffered: 30-60 vertices, counter-clockwise
        pts = rng.normal(0, 1, (rng.integers(3, 12), 2)) + rng.uniform(-170, 170, 2)
        geoms.append(shapely.MultiPoint(pts).convex_hull.buffer(0.05, quad_segs=8))
    for g in list(geoms[: n // 4]):  # the same rings turned the other way
        geoms.append(shapely.Polygon(list(g.exterior.coords)[::-1]))
    for _ in range(n // 8):  # slivers: a vertex on or almost on the line of the two others
        x, y = rng.uniform(-10, 10, 2)
        geoms.append(shapely.Polygon([(x, y), (x + 1, y + 1), (x + 2, y + 2 + 1e-15 *
                                                                 rng.integers(-1, 2))]))
    for _ in range(n // 8):  # tiny rings (GDAL's 1e-5 fallback), stars, a repeated pivot
        x, y = rng.uniform(-10, 10, 2)
        k = rng.integers(5, 14)
        r = rng.uniform(0.3, 1.0, k) * (1e-6 if rng.random() < 0.5 else 1.0)
        a = np.sort(rng.uniform(0, 2 * np.pi, k)) * rng.choice([1, -1])
        geoms.append(shapely.Polygon(np.column_stack([x + r * np.cos(a), y + r * np.sin(a)])))
        geoms.append(shapely.Polygon([(x, y), (x + 1, y), (x + 1, y + 1), (x, y),
                                      (x - 1, y + 1)][:: rng.choice([1, -1])]))
    return geoms


def test_polygons_in_bulk_are_gdals_files(tmp_path):
    geoms = _polygons()
    gdf = gpd.GeoDataFrame({"k": np.arange(len(geoms))}, geometry=geoms, crs="EPSG:4326")
    assert shpwrite.polygon_files(gdf.geometry.values) is not None
    shpwrite.write_shapefile(gdf, tmp_path / "new.shp", encoding="UTF-8")
    gdf.to_file(tmp_path / "old.shp", driver="ESRI Shapefile", engine="pyogrio",
                encoding="UTF-8")
    for ext in ("shp", "shx", "prj", "dbf"):
        assert (tmp_path / f"old.{ext}").read_bytes() == (tmp_path / f"new.{ext}").read_bytes()
    back = pyogrio.read_dataframe(tmp_path / "new.shp")
    for got, g in zip(back.geometry, geoms, strict=True):  # the ring, or the ring reversed
        ring = np.asarray(g.exterior.coords)
        assert np.array_equal(np.asarray(got.exterior.coords), ring) or \
            np.array_equal(np.asarray(got.exterior.coords), ring[::-1])


@pytest.mark.parametrize("geom", [
    Polygon([(0, 0), (4, 0), (4, 4), (0, 4)], [[(1, 1), (2, 1), (2, 2), (1, 2)]]),  # a hole
    MultiPolygon([Polygon([(0, 0), (1, 0), (1, 1)]), Polygon([(2, 2), (3, 2), (3, 3)])]),
    Polygon(),
])
def test_other_polygons_left_to_gdal(geom):
    sq = Polygon([(0, 0), (1, 0), (1, 1), (0, 1)])
    assert shpwrite.polygon_files(gpd.GeoSeries([sq, geom]).values) is None
