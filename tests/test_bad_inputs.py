"""Bad and awkward inputs as bureaus send them, through `lantian check` and `lantian run`.

Each case either works (and the values read are asserted) or exits 2 with a message naming the
file and the rows or column; none shows a traceback, and no row is lost without a `rejected`
entry (rows read = rows used + rows rejected).
"""

import json
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Transformer

from analyses import cli
from spatial import coords

GOOD = [("GL1", "甲厂", 115.98, 36.45, 10.0), ("GL2", "乙厂", 116.10, 36.50, 4.0),
        ("GL3", "丙厂", 116.59, 35.41, 20.0), ("GL4", "丁厂", 115.70, 36.20, 2.0)]
HEAD = ["编号", "单位名称", "经度", "纬度", "蒸吨"]


def frame(rows=GOOD, head=HEAD):
    return pd.DataFrame(rows, columns=head)


def csv(tmp_path, df, name="boilers.csv", encoding="gbk", **kw):
    p = tmp_path / name
    df.to_csv(p, index=False, encoding=encoding, **kw)
    return p


def xlsx(tmp_path, rows, name="boilers.xlsx"):
    """Write raw rows (lists) to a sheet, so title and group-header rows can be included."""
    p = tmp_path / name
    pd.DataFrame(rows).to_excel(p, index=False, header=False)
    return p


def write_config(tmp_path, root, boilers, *, crs="wgs84", columns=None, counties=None,
                 plants=None, extra=""):
    cols = columns if columns is not None else {"capacity_th": "蒸吨"}
    col_text = ", ".join(f'{k} = "{v}"' for k, v in cols.items())
    text = (f'[inputs.plants]\npath = "{plants or root / "data/raw/plants.csv"}"\n'
            f'[inputs.boilers]\npath = "{boilers}"\ncrs = "{crs}"\ncolumns = {{ {col_text} }}\n'
            f'[inputs.counties]\npath = "{counties or root / "data/raw/counties.gpkg"}"\n' + extra)
    p = tmp_path / "config.toml"
    p.write_text(text, encoding="utf-8")
    return p


def lantian(args, capsys):
    code = cli.main(args)
    cap = capsys.readouterr()
    assert "Traceback" not in cap.out + cap.err
    return code, cap.out, cap.err


def run_ok(tmp_path, cfg, capsys, *extra):
    """Run check and run; both succeed; returns (boilers layer, manifest, check output)."""
    code, out_check, err = lantian(["check", "heat-radius", "--config", str(cfg)], capsys)
    assert code == 0, err
    out = tmp_path / "out"
    code, out_run, err = lantian(["run", "heat-radius", "--config", str(cfg), "--out", str(out),
                                  *extra], capsys)
    assert code == 0, err
    d = out / "layers" / "heat-radius"
    man = json.loads((d / "manifest.json").read_text("utf-8"))
    b = man["inputs"]["boilers"]
    assert b["rows_read"] == b["rows_used"] + b["rows_rejected"]  # nothing lost silently
    rejected = pd.read_csv(d / "rejected.csv", encoding="utf-8-sig")
    assert (rejected["input"] == "boilers").sum() == b["rows_rejected"]
    layer = gpd.read_file(d / "heat-radius.gpkg", layer="boilers").sort_values("row")
    return layer.reset_index(drop=True), man, out_check, rejected


def run_fails(tmp_path, cfg, capsys, pattern):
    """check and run both exit 2 with a message matching `pattern`; nothing is written."""
    for args in (["check", "heat-radius", "--config", str(cfg)],
                 ["run", "heat-radius", "--config", str(cfg), "--out", str(tmp_path / "out")]):
        code, _, err = lantian(args, capsys)
        assert code == 2, err
        assert re.search(pattern, err), err
    assert not (tmp_path / "out" / "layers" / "heat-radius").exists()


def good_values(layer, rows=GOOD):
    assert layer["id"].tolist() == [r[0] for r in rows]
    assert layer["name"].tolist() == [r[1] for r in rows]
    np.testing.assert_allclose(layer["lon"], [r[2] for r in rows], atol=1e-9)
    np.testing.assert_allclose(layer["lat"], [r[3] for r in rows], atol=1e-9)


# ---------------------------------------------------------------- encodings and layouts

def test_gbk_csv_with_chinese_headers(tmp_path, root, capsys):
    layer, man, out, _ = run_ok(tmp_path, write_config(tmp_path, root, csv(tmp_path, frame())),
                                capsys)
    good_values(layer)
    assert layer["capacity_th"].tolist() == [10.0, 4.0, 20.0, 2.0]
    assert man["inputs"]["boilers"]["encoding"] == "gb18030" and "encoding gb18030" in out


def test_utf8_with_bom(tmp_path, root, capsys):
    p = csv(tmp_path, frame(), encoding="utf-8-sig")
    layer, man, _, _ = run_ok(tmp_path, write_config(tmp_path, root, p), capsys)
    good_values(layer)
    assert man["inputs"]["boilers"]["encoding"] == "utf-8-sig"


def test_utf16_is_an_error_naming_the_file(tmp_path, root, capsys):
    p = csv(tmp_path, frame(), encoding="utf-16")
    run_fails(tmp_path, write_config(tmp_path, root, p), capsys, r"boilers\.csv.*UTF-8 or GBK")


def test_excel_with_title_row(tmp_path, root, capsys):
    rows = [["聊城市燃煤锅炉台账（2026年）", None, None, None, None], HEAD,
            *[list(r) for r in GOOD]]
    layer, _, _, _ = run_ok(tmp_path, write_config(tmp_path, root, xlsx(tmp_path, rows)), capsys)
    good_values(layer)
    assert layer["row"].tolist() == [3, 4, 5, 6]  # file rows under the title and header


def test_excel_with_merged_group_header(tmp_path, root, capsys):
    rows = [["基本信息", None, "坐标", None, "规模"], HEAD, *[list(r) for r in GOOD]]
    layer, _, _, _ = run_ok(tmp_path, write_config(tmp_path, root, xlsx(tmp_path, rows)), capsys)
    good_values(layer)


def test_semicolon_csv_with_decimal_commas(tmp_path, root, capsys):
    text = "编号;单位名称;经度;纬度;蒸吨\r\n" + "".join(
        f"{i};{n};{str(x).replace('.', ',')};{str(y).replace('.', ',')};{t:g}\r\n"
        for i, n, x, y, t in GOOD)
    p = tmp_path / "b.csv"
    p.write_bytes(text.encode("gbk"))
    layer, _, _, _ = run_ok(tmp_path, write_config(tmp_path, root, p), capsys)
    good_values(layer)


def test_headers_with_spaces_and_units(tmp_path, root, capsys):
    df = frame(head=[" 编号 ", "单位名称", "经度(°)", "纬度（°）", "蒸吨"])
    layer, _, _, _ = run_ok(tmp_path, write_config(tmp_path, root, csv(tmp_path, df)), capsys)
    good_values(layer)


def test_ids_with_leading_zeros_stay_text(tmp_path, root, capsys):
    rows = [("007", *r[1:]) for r in GOOD[:1]] + GOOD[1:]
    layer, _, _, _ = run_ok(tmp_path, write_config(tmp_path, root, csv(tmp_path, frame(rows))),
                            capsys)
    assert layer["id"][0] == "007"


def test_header_only_gives_empty_valid_outputs(tmp_path, root, capsys):
    layer, man, out, _ = run_ok(
        tmp_path, write_config(tmp_path, root, csv(tmp_path, frame(rows=[]))), capsys)
    assert len(layer) == 0 and "has no usable rows" in out


def test_empty_file(tmp_path, root, capsys):
    p = tmp_path / "boilers.csv"
    p.write_bytes(b"")
    run_fails(tmp_path, write_config(tmp_path, root, p), capsys, r"boilers\.csv: the file is empty")


# ---------------------------------------------------------------- coordinates

def test_swapped_columns(tmp_path, root, capsys):
    df = frame()
    df[["经度", "纬度"]] = df[["纬度", "经度"]].to_numpy()
    run_fails(tmp_path, write_config(tmp_path, root, csv(tmp_path, df)), capsys,
              r"boilers\.csv: rows 2, 3, 4, 5 .*swapped.*"
              r"columns = \{ lon = \"纬度\", lat = \"经度\"")


def test_dms_text(tmp_path, root, capsys):
    df = frame().astype(object)
    df.loc[0, "经度"] = "115°58'48\""
    df.loc[0, "纬度"] = "36°27′00″N"
    layer, _, _, _ = run_ok(tmp_path, write_config(tmp_path, root, csv(tmp_path, df)), capsys)
    good_values(layer)


def test_full_width_digits(tmp_path, root, capsys):
    df = frame().astype(object)
    df.loc[1, "经度"] = "１１６．１０"
    df.loc[1, "纬度"] = "３６．５０"
    layer, _, _, _ = run_ok(tmp_path, write_config(tmp_path, root, csv(tmp_path, df)), capsys)
    good_values(layer)


@pytest.mark.parametrize("lon,lat,reason", [
    (0, 0, "coordinates are 0, 0"), (None, 36.5, "missing or unreadable coordinates"),
    ("不详", 36.5, "missing or unreadable coordinates"),
    (115.9, 95.0, "out of range"),
])
def test_unusable_coordinates_are_rejected_with_row(tmp_path, root, capsys, lon, lat, reason):
    rows = [*GOOD, ("GL9", "坏厂", lon, lat, 1.0)]
    layer, _, out, rej = run_ok(tmp_path, write_config(tmp_path, root,
                                                       csv(tmp_path, frame(rows))), capsys)
    good_values(layer)
    r = rej[rej["input"] == "boilers"]
    assert r["row"].tolist() == [6] and r["id"].tolist() == ["GL9"]
    assert reason in r["reason"].iloc[0] and reason in out


def test_undeclared_projected_metres(tmp_path, root, capsys):
    x, y = Transformer.from_crs(4326, 4547, always_xy=True).transform(
        [r[2] for r in GOOD], [r[3] for r in GOOD])
    df = frame()
    df["经度"], df["纬度"] = x, y
    p = csv(tmp_path, df)
    run_fails(tmp_path, write_config(tmp_path, root, p), capsys,
              r"boilers\.csv: rows 2, 3, 4, 5 .*projected metres.*EPSG:4547")
    layer, _, _, _ = run_ok(tmp_path, write_config(tmp_path, root, p, crs="EPSG:4547"), capsys)
    good_values(layer)


def test_declared_bd09(tmp_path, root, capsys):
    df = frame()
    x, y = coords.from_wgs84(df["经度"].to_numpy(), df["纬度"].to_numpy(), "bd09")
    df["经度"], df["纬度"] = x.round(9), y.round(9)
    layer, _, _, _ = run_ok(tmp_path, write_config(tmp_path, root, csv(tmp_path, df), crs="bd09"),
                            capsys)
    good_values(layer)


def test_undeclared_gcj02_warned_and_strict_fails(tmp_path, root, capsys):
    src = pd.read_csv(root / "data/raw/boilers.csv", encoding="gbk", dtype=str).head(300)
    x, y = coords.from_wgs84(pd.to_numeric(src["经度"]).to_numpy(),
                             pd.to_numeric(src["纬度"]).to_numpy(), "gcj02")
    src["经度"], src["纬度"] = x.round(7), y.round(7)
    cfg = write_config(tmp_path, root, csv(tmp_path, src))
    code, out, _ = lantian(["check", "--config", str(cfg)], capsys)
    assert code == 0 and 'set crs = "gcj02"' in out
    code, _, err = lantian(["check", "--strict", "--config", str(cfg)], capsys)
    assert code == 2 and "look like GCJ02" in err


def test_unknown_crs_name(tmp_path, root, capsys):
    run_fails(tmp_path, write_config(tmp_path, root, csv(tmp_path, frame()), crs="marscoords"),
              capsys, r"marscoords")


def test_points_outside_every_county_are_warned(tmp_path, root, capsys):
    rows = [*GOOD, ("GL8", "远厂", 113.0, 30.0, 1.0)]
    layer, _, out, _ = run_ok(tmp_path, write_config(tmp_path, root, csv(tmp_path, frame(rows))),
                              capsys)
    assert "1 of 5 points of 'boilers' fall outside every boundary polygon (rows 6)" in out
    assert layer["county_name"].isna().tolist() == [False] * 4 + [True]


# ---------------------------------------------------------------- columns and values

def test_missing_required_column(tmp_path, root, capsys):
    df = frame().drop(columns="编号")
    run_fails(tmp_path, write_config(tmp_path, root, csv(tmp_path, df)), capsys,
              r"boilers\.csv: input 'boilers' has no column for required field\(s\) id")


def test_mapping_to_absent_header(tmp_path, root, capsys):
    cfg = write_config(tmp_path, root, csv(tmp_path, frame()), columns={"capacity_th": "容量"})
    run_fails(tmp_path, cfg, capsys, r"column '容量' \(mapped to 'capacity_th'")


def test_mapping_unknown_field(tmp_path, root, capsys):
    cfg = write_config(tmp_path, root, csv(tmp_path, frame()), columns={"power": "蒸吨"})
    run_fails(tmp_path, cfg, capsys, r"maps unknown field 'power'")


def test_half_text_column_is_an_error(tmp_path, root, capsys):
    df = frame().astype(object)
    df["蒸吨"] = ["10", "约4", "二十", "见附表"]
    run_fails(tmp_path, write_config(tmp_path, root, csv(tmp_path, df)), capsys,
              r"column '蒸吨' \(capacity_th\) should hold a float but 3 of 4 values")


def test_some_text_in_optional_column_warned(tmp_path, root, capsys):
    df = frame().astype(object)
    df.loc[2, "蒸吨"] = "约20"
    layer, _, out, _ = run_ok(tmp_path, write_config(tmp_path, root, csv(tmp_path, df)), capsys)
    assert np.isnan(layer["capacity_th"][2]) and layer["capacity_th"][0] == 10.0
    assert "rows 4 are not a valid float (e.g. '约20'); read as empty" in out


def test_thousands_separators(tmp_path, root, capsys):
    df = frame().astype(object)
    df.loc[0, "蒸吨"] = "1,200"
    layer, _, _, _ = run_ok(tmp_path, write_config(tmp_path, root, csv(tmp_path, df)), capsys)
    assert layer["capacity_th"][0] == 1200.0


def test_duplicate_ids_warned(tmp_path, root, capsys):
    rows = [*GOOD, ("GL1", "甲厂二号", 116.0, 36.46, 4.0)]
    layer, _, out, _ = run_ok(tmp_path, write_config(tmp_path, root, csv(tmp_path, frame(rows))),
                              capsys)
    assert len(layer) == 5 and "1 ids appear more than once in 'boilers' (e.g. GL1)" in out


def test_script_in_names_is_escaped_in_the_map(tmp_path, root, capsys):
    rows = [("GL1", "<img src=x onerror=alert(1)>", 115.98, 36.45, 10.0), *GOOD[1:]]
    run_ok(tmp_path, write_config(tmp_path, root, csv(tmp_path, frame(rows))), capsys)
    html = (tmp_path / "out/maps/heat-radius.html").read_text("utf-8")
    assert "<img src=x onerror" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html


# ---------------------------------------------------------------- files

def test_missing_file(tmp_path, root, capsys):
    run_fails(tmp_path, write_config(tmp_path, root, tmp_path / "nope.csv"), capsys,
              r"nope\.csv: file not found")


def test_unsupported_type(tmp_path, root, capsys):
    p = tmp_path / "boilers.docx"
    p.write_bytes(b"PK\x03\x04")
    run_fails(tmp_path, write_config(tmp_path, root, p), capsys, r"unsupported file type '.docx'")


def test_corrupt_xlsx(tmp_path, root, capsys):
    p = tmp_path / "boilers.xlsx"
    p.write_bytes(b"this is not a workbook")
    run_fails(tmp_path, write_config(tmp_path, root, p), capsys,
              r"boilers\.xlsx: not a readable Excel workbook")


def test_missing_sheet(tmp_path, root, capsys):
    p = xlsx(tmp_path, [HEAD, *[list(r) for r in GOOD]])
    cfg = write_config(tmp_path, root, p)
    cfg.write_text(cfg.read_text("utf-8").replace('crs = "wgs84"', 'crs = "wgs84"\nsheet = "锅炉"'),
                   encoding="utf-8")
    run_fails(tmp_path, cfg, capsys, r"boilers\.xlsx: cannot read sheet '锅炉'")


def test_point_shapefile_without_prj(tmp_path, root, capsys):
    df = frame()
    gdf = gpd.GeoDataFrame(df.rename(columns={"编号": "id", "单位名称": "name", "蒸吨": "th"}),
                           geometry=gpd.points_from_xy(df["经度"], df["纬度"]), crs=4326)
    p = tmp_path / "boilers.shp"
    gdf.drop(columns=["经度", "纬度"]).to_file(p, encoding="utf-8")
    p.with_suffix(".prj").unlink()
    layer, _, out, _ = run_ok(tmp_path, write_config(tmp_path, root, p,
                                                     columns={"capacity_th": "th"}), capsys)
    good_values(layer)
    assert "no coordinate system (.prj)" in out


@pytest.mark.parametrize("encoding,cpg", [("gbk", "GBK"), ("gbk", None), ("utf-8", "UTF-8")])
def test_county_shapefile_encodings(tmp_path, root, capsys, encoding, cpg):
    counties = gpd.read_file(root / "data/raw/counties.gpkg")
    p = tmp_path / "counties.shp"
    counties.to_file(p, encoding=encoding)
    if cpg is None:
        p.with_suffix(".cpg").unlink(missing_ok=True)
    else:
        p.with_suffix(".cpg").write_text(cpg)
    layer, _, _, _ = run_ok(tmp_path, write_config(tmp_path, root, csv(tmp_path, frame()),
                                                   counties=p), capsys)
    assert layer["county_name"].tolist() == ["东昌府区", "茌平区", "任城区", "莘县"]


def test_invalid_county_polygon_is_repaired(tmp_path, root, capsys):
    counties = gpd.read_file(root / "data/raw/counties.gpkg")
    ring = shapely.Polygon([(115.9, 36.4), (116.2, 36.6), (116.2, 36.4), (115.9, 36.6)])
    counties.loc[0, "geometry"] = ring  # a bow tie
    p = tmp_path / "c.gpkg"
    counties.to_file(p)
    layer, _, _, _ = run_ok(tmp_path, write_config(tmp_path, root, csv(tmp_path, frame()),
                                                   counties=p), capsys)
    assert len(layer) == 4


def test_unknown_input_and_parameter(tmp_path, root, capsys):
    cfg = write_config(tmp_path, root, csv(tmp_path, frame()),
                       extra='[inputs.stations]\npath = "x.csv"\n')
    run_fails(tmp_path, cfg, capsys, r"unknown input\(s\) stations")
    cfg = write_config(tmp_path, root, csv(tmp_path, frame()), extra="[params]\nradius = 15\n")
    run_fails(tmp_path, cfg, capsys, r"unknown parameter\(s\) params\.radius")


def test_plants_boolean_spellings(tmp_path, root, capsys):
    p = tmp_path / "plants.csv"
    p.write_text("编号,名称,经度,纬度,装机容量(MW),热电联产\nA,甲,116.0,36.4,350,Y\n"
                 "B,乙,116.3,36.55,400,N\n", encoding="utf-8")
    cfg = write_config(tmp_path, root, csv(tmp_path, frame()), plants=p)
    run_ok(tmp_path, cfg, capsys)
    plants = gpd.read_file(tmp_path / "out/layers/heat-radius/heat-radius.gpkg", layer="plants")
    assert plants["id"].tolist() == ["A"]
