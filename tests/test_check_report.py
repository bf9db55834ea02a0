"""`lantian check` reports what it really did: files, sheet, header rows, CRS as read, columns."""

import geopandas as gpd
from test_headers import plants_workbook

from analyses import cli

BOILERS = ("编号,单位名称,经度,纬度,蒸吨,备注\nGL1,甲厂,115.98,36.45,10,新建\n"
           "GL2,乙厂,116.10,36.50,4,\n")


def test_check_says_what_it_read(tmp_path, root, capsys):
    plants_workbook(tmp_path / "机组清单.xlsx")
    (tmp_path / "boilers").mkdir()
    for name in ("a.csv", "b.csv"):
        (tmp_path / "boilers" / name).write_text(BOILERS, encoding="utf-8")
    # a county Shapefile as county agencies send it: CGCS2000 Gauss-Krüger, XZQDM/XZQMC
    counties = gpd.read_file(root / "data/raw/counties.gpkg")
    counties = counties.rename(columns={"code": "XZQDM", "name": "XZQMC"})[
        ["XZQDM", "XZQMC", "geometry"]].to_crs(4548)
    counties.to_file(tmp_path / "县界.shp", encoding="utf-8")
    cfg = tmp_path / "c.toml"
    cfg.write_text('[inputs.plants]\npath = "机组清单.xlsx"\n'
                   '[inputs.boilers]\npath = "boilers/*.csv"\ncolumns = { capacity_th = "蒸吨" }\n'
                   '[inputs.counties]\npath = "县界.shp"\n', encoding="utf-8")
    assert cli.main(["check", "heat-radius", "--config", str(cfg)]) == 0
    out = capsys.readouterr().out
    plants = out[out.index("[plants]"):out.index("[boilers]")]
    assert "sheet '机组清单'" in plants
    assert "header on rows 3 and 4; records from row 5" in plants
    assert "columns recognised: id ← 序号, name ← 企业名称" in plants
    assert "columns not used: 所属乡镇" in plants
    assert "rows read 5, usable 4, rejected 1" in plants
    assert "1 × total row (合计/小计): rows 9" in plants
    assert "crs declared in the config: wgs84" in plants
    boilers = out[out.index("[boilers]"):out.index("[counties]")]
    assert "files matched: 2" in boilers  # every file the glob matched is named
    assert "a.csv" in boilers and "b.csv" in boilers
    assert "columns not used: 备注" in boilers
    county = out[out.index("[counties]"):]
    assert "crs read from the file: EPSG:4548 (CGCS2000 / 3-degree Gauss-Kruger CM 117E)" in county
    assert "code ← XZQDM, name ← XZQMC" in county  # recognised without a mapping
    assert "declared wgs84" not in out
