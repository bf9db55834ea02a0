"""Outputs keep the input's own columns, file and row, and the coordinates as the user gave them."""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from analyses import runner
from spatial import config, io, sources

# boilers as a county office lists them, coordinates copied from Amap (GCJ-02), typed here
BOILERS = pd.DataFrame({
    "序号": [1, 2, 3],
    "编号": ["GL1", "GL2", "GL3"],
    "单位名称": ["甲厂", "乙厂", "丙厂"],
    "乡镇（街道）": ["古楼街道", "柳园街道", "新区街道"],
    "经度": [115.991234, 116.106543, 116.598765],
    "纬度": [36.451234, 36.501111, 35.413579],
    "蒸吨": [10, 4, 20],
    "燃料类型": ["燃煤", "燃煤", "天然气"],
})


def write_config(tmp_path, root, boilers, crs):
    p = tmp_path / "config.toml"
    p.write_text(f'[inputs.plants]\npath = "{root / "data/raw/plants.csv"}"\n'
                 f'[inputs.boilers]\npath = "{boilers}"\ncrs = "{crs}"\n'
                 'columns = { capacity_th = "蒸吨" }\n'
                 f'[inputs.counties]\npath = "{root / "data/raw/counties.gpkg"}"\n',
                 encoding="utf-8")
    return p


def test_gcj02_input_comes_back_with_its_gcj02_coordinates(tmp_path, root):
    src = tmp_path / "锅炉台账.csv"
    BOILERS.to_csv(src, index=False, encoding="gbk")
    out = runner.execute("heat-radius", config.load(write_config(tmp_path, root, src, "gcj02")),
                         out=tmp_path / "out", offline=True)
    layer = gpd.read_file(out.layers_dir / "heat-radius.gpkg", layer="boilers")
    layer = layer.sort_values("row").reset_index(drop=True)
    # the coordinates as typed, to the last digit
    assert layer["lon_gcj02"].tolist() == BOILERS["经度"].tolist()
    assert layer["lat_gcj02"].tolist() == BOILERS["纬度"].tolist()
    # ... while lon/lat are WGS-84: GCJ-02 is 100-700 m off in Shandong
    shift = np.hypot(layer["lon"] - layer["lon_gcj02"], layer["lat"] - layer["lat_gcj02"])
    assert ((shift > 0.001) & (shift < 0.01)).all()
    # every column of the list, the file and the row, so the rows can be matched to it
    assert layer["src_序号"].tolist() == ["1", "2", "3"]
    assert layer["src_乡镇（街道）"].tolist() == ["古楼街道", "柳园街道", "新区街道"]
    assert layer["src_燃料类型"].tolist() == ["燃煤", "燃煤", "天然气"]
    assert layer["src_file"].tolist() == ["锅炉台账.csv"] * 3
    assert layer["row"].tolist() == [2, 3, 4]
    # the Shapefile dictionary explains the new columns in Chinese
    fields = pd.read_csv(out.layers_dir / "shp" / "fields.csv", encoding="utf-8-sig")
    b = fields[fields["layer"] == "boilers"].set_index("full_name")
    assert b.loc["src_乡镇（街道）", "label"] == "乡镇（街道）（原表）"
    assert b.loc["lon_gcj02", "label"] == "经度（原表，GCJ-02（高德））"


def test_wgs84_input_adds_no_coordinate_columns(tmp_path, root):
    src = tmp_path / "b.csv"
    BOILERS.to_csv(src, index=False, encoding="utf-8")
    t = io.read_points(src, fields=runner.get("heat-radius").INPUTS[1].fields, name="boilers")
    assert not [c for c in t.source.columns if c.startswith(("lon_", "lat_"))]
    assert t.source.columns.tolist() == ["row", *BOILERS.columns]


def test_projected_input_keeps_its_metres(tmp_path):
    from pyproj import Transformer
    lon, lat = BOILERS["经度"].to_numpy(), BOILERS["纬度"].to_numpy()
    x, y = Transformer.from_crs(4326, 4547, always_xy=True).transform(lon, lat)
    df = BOILERS.assign(经度=np.round(x, 2), 纬度=np.round(y, 2))
    src = tmp_path / "b.csv"
    df.to_csv(src, index=False)
    t = io.read_points(src, fields=(io.Field("id", "text", True),), name="boilers",
                       crs="EPSG:4547")
    assert t.source["x_epsg4547"].tolist() == df["经度"].tolist()
    assert t.source["y_epsg4547"].tolist() == df["纬度"].tolist()
    np.testing.assert_allclose(t.frame["lon"], lon, atol=1e-7)


def test_attach_keeps_order_and_leaves_unmatched_rows_empty():
    frame = pd.DataFrame({"id": ["b", "a", "x"], "row": [3, 2, None], "name": [1, 2, 3]})
    src = pd.DataFrame({"row": [2, 3], "name": ["甲", "乙"], "lon_gcj02": [1.0, 2.0]})
    out = sources.attach(frame, src, path="in/锅炉.csv")
    assert out["id"].tolist() == ["b", "a", "x"]
    assert out["src_name"].tolist()[:2] == ["乙", "甲"] and pd.isna(out["src_name"].iloc[2])
    assert out["lon_gcj02"].tolist()[:2] == [2.0, 1.0]
    assert out["src_file"].tolist()[:2] == ["锅炉.csv", "锅炉.csv"]
    assert pd.isna(out["src_file"].iloc[2])
    assert out["name"].tolist() == [1, 2, 3]  # the analysis's own column is not touched


@pytest.mark.parametrize("crs", ["bd09", "cgcs2000"])
def test_other_declared_systems_are_kept_too(tmp_path, crs):
    src = tmp_path / "b.csv"
    BOILERS.to_csv(src, index=False)
    t = io.read_points(src, fields=(io.Field("id", "text", True),), name="boilers", crs=crs)
    assert t.source[f"lon_{crs}"].tolist() == BOILERS["经度"].tolist()


def test_rejected_rows_carry_their_record(tmp_path, root):
    bad = BOILERS.copy()
    bad.loc[1, "经度"] = None  # 乙厂 has no longitude
    src = tmp_path / "b.csv"
    bad.to_csv(src, index=False, encoding="gbk")
    out = runner.execute("heat-radius", config.load(write_config(tmp_path, root, src, "wgs84")),
                         out=tmp_path / "out", offline=True)
    rej = pd.read_csv(out.layers_dir / "rejected.csv", encoding="utf-8-sig", dtype=str)
    mine = rej[rej["input"] == "boilers"]
    assert mine["row"].tolist() == ["3"]
    assert mine["src_单位名称"].tolist() == ["乙厂"]
    assert mine["src_乡镇（街道）"].tolist() == ["柳园街道"]


def test_two_files_keep_each_rows_own_record(tmp_path, root):
    # two county lists; row 2 exists in both, so a match on the row alone would swap records
    a, b = tmp_path / "东昌府区.csv", tmp_path / "临清市.csv"
    BOILERS.iloc[:2].to_csv(a, index=False, encoding="gbk")
    BOILERS.iloc[2:].to_csv(b, index=False, encoding="utf-8")
    cfg = write_config(tmp_path, root, a, "gcj02")
    text = cfg.read_text(encoding="utf-8").replace(f'path = "{a}"', f'path = ["{a}", "{b}"]')
    cfg.write_text(text, encoding="utf-8")
    out = runner.execute("heat-radius", config.load(cfg), out=tmp_path / "out", offline=True)
    layer = gpd.read_file(out.layers_dir / "heat-radius.gpkg", layer="boilers")
    got = layer.set_index("id")
    # each boiler carries the record of its own file and row, typed there
    assert got.loc["GL1", "src_单位名称"] == "甲厂" and got.loc["GL1", "row"] == 2
    assert got.loc["GL3", "src_单位名称"] == "丙厂" and got.loc["GL3", "row"] == 2
    assert got.loc["GL1", "src_file"] == "东昌府区.csv"
    assert got.loc["GL3", "src_file"] == "临清市.csv"
    assert got.loc["GL3", "lon_gcj02"] == BOILERS["经度"].iloc[2]


def test_stations_layer_keeps_the_station_list_columns(tmp_path, root):
    # the bureau's station list with a column of its own; rows 2.. as Excel numbers them
    st = pd.read_csv(root / "data/raw/air_stations.csv", encoding="utf-8")
    st["备注"] = [f"站{i}" for i in range(len(st))]
    src = tmp_path / "站点.csv"
    st.to_csv(src, index=False, encoding="gbk")
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[inputs.stations]\npath = "{src}"\n'
                   f'[inputs.readings]\npath = "{root / "data/raw/air_readings_daily.csv"}"\n'
                   f'[inputs.counties]\npath = "{root / "data/raw/counties.gpkg"}"\n'
                   '[params]\nsource = "stations"\nstations_only = true\n'
                   'aq_periods = ["month"]\n', encoding="utf-8")
    out = runner.execute("pollution-hotspots", config.load(cfg), out=tmp_path / "out",
                         offline=True, report=False)
    layer = gpd.read_file(out.layers_dir / "pollution-hotspots.gpkg", layer="stations")
    got = layer.set_index("id")
    for i, sid in enumerate(st["站点编码"].astype(str)):
        assert got.loc[sid, "src_备注"] == f"站{i}" and got.loc[sid, "row"] == i + 2
    assert set(got["src_file"]) == {"站点.csv"}


def test_attach_is_the_first_record_of_each_file_and_row():
    """Checked against a dict of (file, row) -> first record, built row by row."""
    rng = np.random.default_rng(8)
    n = 3000
    source = pd.DataFrame({
        "file": pd.array(rng.choice(["a.csv", "b.csv", None], n, p=[.45, .45, .1]), dtype="str"),
        "row": rng.integers(1, 400, n),
        "name": np.array([f"r{i}" for i in range(n)], dtype=object),
        "v": rng.random(n),
    })
    frame = pd.DataFrame({
        "file": pd.array(rng.choice(["a.csv", "b.csv", "c.csv", None], 800), dtype="str"),
        "row": pd.array(np.where(rng.random(800) < .1, None, rng.integers(-2, 450, 800)),
                        dtype="Int64"),
    })
    first: dict = {}
    for f, r, name in zip(source["file"], source["row"], source["name"], strict=True):
        first.setdefault(("" if pd.isna(f) else f, int(r)), name)
    want = [None if pd.isna(r) else first.get(("" if pd.isna(f) else f, int(r)))
            for f, r in zip(frame["file"], frame["row"], strict=True)]
    out = sources.attach(frame, source)
    got = [None if pd.isna(v) else v for v in out["src_name"]]
    assert got == want
    assert sum(v is not None for v in want) > 300  # most rows found, some not
    assert list(out.index) == list(frame.index) and len(out) == len(frame)
