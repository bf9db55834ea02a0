"""Readers: encodings, Chinese headers, validation, declared CRSs, shapefile .cpg."""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from spatial import coords, io
from spatial.errors import InputError

FIELDS = (io.Field("id", "text", True), io.Field("name"), io.Field("capacity_th", "float"),
          io.Field("is_chp", "bool"))

GBK_CSV = "编号,单位名称,经度,纬度,蒸吨,是否热电联产\r\nA1,聊城示例锅炉厂,115.98,36.45,10,是\r\n" \
          "A2,莘县某某厂,115.67,36.23,\"1,200\",否\r\nA3,冠县厂,,36.5,4,是\r\n"


def test_gbk_csv_with_chinese_headers(tmp_path):
    p = tmp_path / "boilers.csv"
    p.write_bytes(GBK_CSV.encode("gbk"))
    t = io.read_points(p, fields=FIELDS, name="boilers",
                       columns={"capacity_th": "蒸吨", "is_chp": "是否热电联产"})
    assert t.encoding == "gb18030"
    assert t.columns["lon"] == "经度" and t.columns["lat"] == "纬度" and t.columns["id"] == "编号"
    assert list(t.frame["id"]) == ["A1", "A2"]
    assert list(t.frame["name"]) == ["聊城示例锅炉厂", "莘县某某厂"]
    assert t.frame["capacity_th"].tolist() == [10.0, 1200.0]
    assert t.frame["is_chp"].tolist() == [True, False]
    assert t.frame.crs == "EPSG:4326"
    assert t.frame.geometry.x.tolist() == [115.98, 115.67]
    # the row without longitude is rejected with its file row number (header = row 1)
    assert t.rejected[["row", "id"]].values.tolist() == [[4, "A3"]]
    assert "coordinates" in t.rejected["reason"][0]


def test_utf8_bom_and_ids_kept_as_text(tmp_path):
    p = tmp_path / "p.csv"
    p.write_bytes("\ufeffid,name,lng,latitude\n007,甲,116.1,35.4\n".encode())
    t = io.read_points(p, fields=FIELDS, name="plants")
    assert t.encoding == "utf-8-sig"
    assert t.frame["id"].tolist() == ["007"]


def test_swapped_columns_are_an_error_naming_the_fix(tmp_path):
    p = tmp_path / "s.csv"
    p.write_text("id,lon,lat\n1,36.45,115.98\n2,35.4,116.6\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"s\.csv.*swapped.*columns = \{ lon = \"lat\""):
        io.read_points(p, fields=FIELDS, name="boilers")


def test_missing_required_column_names_the_file_and_headers(tmp_path):
    p = tmp_path / "m.csv"
    p.write_text("名称,经度,纬度\n甲,116,35\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"m\.csv.*required field\(s\) id.*名称, 经度, 纬度"):
        io.read_points(p, fields=FIELDS, name="boilers")


def test_mapped_column_absent(tmp_path):
    p = tmp_path / "m.csv"
    p.write_text("id,lon,lat\n1,116,35\n", encoding="utf-8")
    with pytest.raises(InputError, match="'蒸吨'.*not in the file"):
        io.read_points(p, fields=FIELDS, name="boilers", columns={"capacity_th": "蒸吨"})


@pytest.mark.parametrize("content", [b"", b"\n  \n"])
def test_empty_files(tmp_path, content):
    p = tmp_path / "e.csv"
    p.write_bytes(content)
    with pytest.raises(InputError, match=r"e\.csv"):
        io.read_points(p, fields=FIELDS, name="boilers")


def test_header_only_gives_zero_rows(tmp_path):
    p = tmp_path / "h.csv"
    p.write_text("id,lon,lat\n", encoding="utf-8")
    t = io.read_points(p, fields=FIELDS, name="boilers")
    assert len(t.frame) == 0 and len(t.rejected) == 0


def test_missing_file_and_unsupported_type(tmp_path):
    with pytest.raises(InputError, match="not found"):
        io.read_points(tmp_path / "nope.csv", fields=FIELDS, name="x")
    (tmp_path / "a.doc").write_text("x")
    with pytest.raises(InputError, match="unsupported file type"):
        io.read_points(tmp_path / "a.doc", fields=FIELDS, name="x")


def test_undecodable_bytes(tmp_path):
    p = tmp_path / "bad.csv"
    p.write_bytes(b"id,lon,lat\n\xff\xfe\xfa,1,2\n")
    with pytest.raises(InputError, match="UTF-8 or GBK"):
        io.read_points(p, fields=FIELDS, name="x")


def test_gcj02_declared_is_converted(tmp_path):
    lng, lat = 116.59, 35.41
    glng, glat = coords.wgs84_to_gcj02(lng, lat)
    p = tmp_path / "g.csv"
    p.write_text(f"id,lon,lat\n1,{float(glng):.9f},{float(glat):.9f}\n", encoding="utf-8")
    t = io.read_points(p, fields=FIELDS, name="x", crs="gcj02")
    assert abs(t.frame["lon"][0] - lng) < 1e-7 and abs(t.frame["lat"][0] - lat) < 1e-7


def test_projected_declared_crs(tmp_path):
    from pyproj import Transformer
    x, y = Transformer.from_crs(4326, 4547, always_xy=True).transform(116.59, 35.41)
    p = tmp_path / "proj.csv"
    p.write_text(f"id,x,y\n1,{x:.3f},{y:.3f}\n", encoding="utf-8")
    t = io.read_points(p, fields=FIELDS, name="x", crs="EPSG:4547")
    assert abs(t.frame["lon"][0] - 116.59) < 1e-6 and abs(t.frame["lat"][0] - 35.41) < 1e-6


def test_xlsx_numbers_and_dms_text(tmp_path):
    p = tmp_path / "b.xlsx"
    pd.DataFrame({"编号": [1, 2], "经度": ["116°30'15\"", 116.2], "纬度": [35.5, "35.25"]}
                 ).to_excel(p, index=False)
    t = io.read_points(p, fields=FIELDS, name="x")
    assert t.frame["id"].tolist() == ["1", "2"]
    np.testing.assert_allclose(t.frame["lon"], [116 + 30 / 60 + 15 / 3600, 116.2])
    np.testing.assert_allclose(t.frame["lat"], [35.5, 35.25])


def test_zero_coordinates_rejected(tmp_path):
    p = tmp_path / "z.csv"
    p.write_text("id,lon,lat\n1,0,0\n2,116,35\n", encoding="utf-8")
    t = io.read_points(p, fields=FIELDS, name="x")
    assert t.frame["id"].tolist() == ["2"]
    assert t.rejected["reason"].tolist() == ["coordinates are 0, 0 (unknown)"]


@pytest.mark.parametrize("enc,cpg", [("gbk", "GBK"), ("utf-8", "UTF-8"), ("gbk", None)])
def test_shapefile_encodings(tmp_path, enc, cpg):
    gdf = gpd.GeoDataFrame({"code": ["371502", "371522"], "name": ["东昌府区", "莘县"]},
                           geometry=[shapely.box(115.9, 36.4, 116.1, 36.6),
                                     shapely.box(115.4, 36.0, 115.7, 36.3)], crs=4326)
    p = tmp_path / "counties.shp"
    gdf.to_file(p, encoding=enc)
    cpg_path = p.with_suffix(".cpg")
    if cpg is None:
        cpg_path.unlink(missing_ok=True)
    else:
        cpg_path.write_text(cpg)
    t = io.read_polygons(p, fields=(io.Field("code", "text", True), io.Field("name", "text", True)),
                         name="counties")
    assert t.frame["name"].tolist() == ["东昌府区", "莘县"]


def test_invalid_polygon_is_repaired_and_empty_rejected(tmp_path):
    bowtie = shapely.Polygon([(116, 35), (116.1, 35.1), (116.1, 35), (116, 35.1)])
    gdf = gpd.GeoDataFrame({"code": ["1", "2"], "name": ["甲", "乙"]},
                           geometry=[bowtie, shapely.Polygon()], crs=4326)
    p = tmp_path / "z.gpkg"
    gdf.to_file(p)
    t = io.read_polygons(p, fields=(io.Field("code", "text", True), io.Field("name")),
                         name="zones")
    assert len(t.frame) == 1 and t.frame.geometry.is_valid.all()
    assert shapely.area(t.frame.geometry[0]) == pytest.approx(0.005, rel=1e-9)  # 2 triangles
    assert t.rejected["reason"].tolist() == ["empty geometry"]


def test_parse_numbers_variants():
    s = pd.Series(["1,234.5", "１２３", " 7 ", "abc", None, "36°30′", "116.5E", "12 30 00"],
                  dtype=object)
    out = io.parse_numbers(s)
    np.testing.assert_allclose(out[:3], [1234.5, 123.0, 7.0])
    assert np.isnan(out[3]) and np.isnan(out[4])
    assert out[5] == pytest.approx(36.5)
    assert np.isnan(out[7])  # ambiguous space-separated text is not guessed


def test_parse_bools():
    s = pd.Series(["是", "否", "Y", "n", "TRUE", "0", "maybe", None], dtype=object)
    assert io.parse_bools(s).tolist() == [True, False, True, False, True, False, pd.NA, pd.NA]
