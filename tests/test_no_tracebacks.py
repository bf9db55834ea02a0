"""Former tracebacks exit 2 with a message (issue 18 item 8); silent cases reported (item 9);
map dates and table paths that do not depend on the day or the folder (item 10)."""

import os
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pytest
from conftest import workbook_cells
from shapely.geometry import GeometryCollection, LineString, Point, Polygon, box

from analyses import cli, runner
from spatial import config, figure, io
from spatial.errors import InputError
from spatial.io import Field

ROOT = Path(__file__).resolve().parent.parent
RAW = ROOT / "data" / "raw"
CFG = ROOT / "configs" / "heat-radius.toml"


def run_cli(*args: str) -> int:
    return cli.main([*args, "-q"])


# ----------------------------------------------------------------------- 8: tracebacks


def test_lines_in_a_polygon_input_are_rejected_rows(tmp_path):
    path = tmp_path / "counties.gpkg"
    gpd.GeoDataFrame({"code": ["1", "2", "3"], "name": ["a", "b", "c"]},
                     geometry=[Polygon([(0, 0), (1, 0), (1, 1)]), LineString([(0, 0), (1, 1)]),
                               GeometryCollection([Point(0, 0), LineString([(0, 0), (1, 1)])])],
                     crs="EPSG:4326").to_file(path)
    t = io.read_polygons(path, fields=(Field("code", "text", True), Field("name", "text", True)),
                         name="counties")
    assert t.frame["code"].tolist() == ["1"]
    assert t.rejected["row"].tolist() == [2, 3]
    assert set(t.rejected["reason"]) == {"geometry is not a polygon"}


def boilers_with_names(tmp_path: Path, names: dict[str, str]) -> Path:
    """The demo boilers with the names of some ids replaced; returns a config using them."""
    df = pd.read_csv(RAW / "boilers.csv", encoding="gb18030", dtype=str, keep_default_na=False)
    for bid, name in names.items():
        df.loc[df["编号"] == bid, "单位名称"] = name
    df.to_csv(tmp_path / "boilers.csv", index=False, encoding="utf-8")
    text = CFG.read_text(encoding="utf-8").replace('"../data/raw/boilers.csv"', '"boilers.csv"')
    text = text.replace("../data/raw/", (RAW.as_posix() + "/"))
    cfg = tmp_path / "heat.toml"
    cfg.write_text(text, encoding="utf-8")
    return cfg


def test_control_characters_and_nul_in_names(tmp_path):
    cfg = boilers_with_names(tmp_path, {"GL0001": "甲\x07企业", "GL0002": "乙\x00企业"})
    out = runner.execute("heat-radius", config.load(cfg), out=tmp_path / "out", offline=True)
    assert any("control characters" in w and "rows 2, 3" in w
               for w in out.manifest["warnings"])
    boilers = gpd.read_file(out.layers_dir / "heat-radius.gpkg", layer="boilers")
    names = dict(zip(boilers["id"], boilers["name"], strict=True))
    assert names["GL0001"] == "甲\ufffd企业" and names["GL0002"] == "乙\ufffd企业"  # not cut


def test_a_control_character_left_in_a_table_is_an_input_error(tmp_path):
    from spatial import export

    with pytest.raises(InputError, match=r"table 'by_county', column 'name', row 3"):
        export.write_tables({"by_county": pd.DataFrame({"name": ["a", "b\x1bc"]})}, tmp_path)


def test_mathtext_in_a_name_is_drawn_as_text():
    counties = gpd.GeoDataFrame({"code": ["1"], "name": ["$\\frac{1}{$"]},
                                geometry=[box(116, 36, 116.5, 36.5)], crs="EPSG:4326")
    layer = gpd.GeoDataFrame({"status": ["$x^$"]}, geometry=[Point(116.2, 36.2)],
                             crs="EPSG:4326")
    fig = figure.draw({"pts": layer}, title="$a_$", counties=counties)
    assert figure.to_bytes(fig, "png").startswith(b"\x89PNG")


def test_bad_config_shapes_exit_2(tmp_path, capsys):
    cfg = tmp_path / "five.toml"
    cfg.write_text("inputs = 5\n", encoding="utf-8")
    assert run_cli("check", "heat-radius", "--config", str(cfg)) == 2
    assert "inputs" in capsys.readouterr().err
    assert run_cli("run", "heat-radius", "--config", str(tmp_path), "--out",
                   str(tmp_path / "o")) == 2
    assert "is a folder" in capsys.readouterr().err


def test_bad_out_folders_exit_2_before_the_analysis(tmp_path, capsys, monkeypatch):
    from analyses import heat_radius

    def never(*a, **k):
        raise AssertionError("ran")

    monkeypatch.setattr(heat_radius, "run", never)
    f = tmp_path / "file"
    f.write_text("x")
    assert run_cli("run", "heat-radius", "--config", str(CFG), "--out", str(f)) == 2
    assert "is an existing file" in capsys.readouterr().err
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        if os.access(ro, os.W_OK):  # root writes anyway: make the write fail as it would
            from spatial import publish

            real = Path.write_bytes

            def denied(self, data):
                if publish.WORK_DIR in self.parts:
                    raise PermissionError(13, "Permission denied", str(self))
                return real(self, data)

            monkeypatch.setattr(Path, "write_bytes", denied)
        assert run_cli("run", "heat-radius", "--config", str(CFG), "--out", str(ro)) == 2
        assert "cannot write there" in capsys.readouterr().err
    finally:
        ro.chmod(0o755)


def test_symlinked_layers_folder_exits_2(tmp_path, capsys):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "out" / "layers").mkdir(parents=True)
    os.symlink(elsewhere, tmp_path / "out" / "layers" / "heat-radius")
    assert run_cli("run", "heat-radius", "--config", str(CFG), "--out",
                   str(tmp_path / "out")) == 2
    assert "layers/heat-radius is a symbolic link" in capsys.readouterr().err
    assert not any(elsewhere.iterdir())


def test_bad_scheduler_exits_2(capsys):
    cfg = ROOT / "configs" / "fire-points.toml"
    assert run_cli("run", "fire-points", "--config", str(cfg), "--engine", "dask",
                   "--scheduler", "not a url") == 2
    assert "not a scheduler address" in capsys.readouterr().err


# ----------------------------------------------------------------------- 9: silent cases


def write_raster(path: Path, data: np.ndarray, nodata: float | None = -9999.0,
                 west: float = 115.8, north: float = 36.6) -> Path:
    import rasterio
    from affine import Affine

    with rasterio.open(path, "w", driver="GTiff", width=data.shape[1], height=data.shape[0],
                       count=1, dtype="float32", crs="EPSG:4326", nodata=nodata,
                       transform=Affine(0.02, 0, west, 0, -0.02, north)) as ds:
        ds.write(data.astype("float32"), 1)
    return path


def raster_config(tmp_path: Path, paths: list[Path], counties: bool = False) -> Path:
    cfg = tmp_path / "r.toml"
    lst = ", ".join(f'"{p.as_posix()}"' for p in paths)
    text = f"[inputs.rasters]\npath = [{lst}]\n"
    if counties:
        text += f'[inputs.counties]\npath = "{(RAW / "counties.gpkg").as_posix()}"\n'
    cfg.write_text(text, encoding="utf-8")
    return cfg


def test_two_rasters_of_one_period_are_an_error(tmp_path):
    a = write_raster(tmp_path / "pm25_2025-01.tif", np.full((20, 20), 50.0))
    b = write_raster(tmp_path / "pm25_202501_v2.tif", np.full((20, 20), 70.0))
    with pytest.raises(InputError, match="both are period 2025-01"):
        runner.execute("pollution-hotspots", config.load(raster_config(tmp_path, [a, b])),
                       out=tmp_path / "out", offline=True)


def test_empty_negative_and_outside_rasters_are_rejected_rows(tmp_path):
    rng = np.random.default_rng(1)
    good = [write_raster(tmp_path / f"pm25_2025-0{m}.tif", 40 + 10 * rng.random((20, 20)))
            for m in (1, 2, 3)]
    nan = write_raster(tmp_path / "pm25_2025-04.tif", np.full((20, 20), np.nan))
    neg_data = 40 + 10 * rng.random((20, 20))
    neg_data[:5] = -5.0  # the top 5 rows below zero
    neg = write_raster(tmp_path / "pm25_2025-05.tif", neg_data)
    far = write_raster(tmp_path / "pm25_2025-06.tif", np.full((20, 20), 50.0), west=100.0,
                       north=30.0)  # far outside the counties
    cfg = raster_config(tmp_path, [*good, nan, neg, far], counties=True)
    out = runner.execute("pollution-hotspots", config.load(cfg), out=tmp_path / "out",
                         offline=True)
    rej = out.result.tables["rejected"]
    by_file = dict(zip(rej["file"], rej["reason"], strict=True))
    assert "every pixel is nodata, NaN or infinite" in by_file["pm25_2025-04.tif"]
    assert "negative mean concentration" in by_file["pm25_2025-05.tif"]
    assert "no valid pixel inside the study area" in by_file["pm25_2025-06.tif"]
    assert len(rej[rej["input"] == "rasters"]) == 3  # one row per raster, none repeated
    cells = out.result.layers["cells"]
    may = cells[cells["period"].astype(str) == "2025-05"]
    assert (may["value"].dropna() >= 0).all()
    assert any("rejected" in s for s in out.result.summary)


def test_repeated_readings_are_rejected_not_counted_twice(tmp_path):
    rows = ["station_id,time,pm25"]
    for d in range(1, 11):
        rows.append(f"S1,2025-01-{d:02d},{50 + d}")
    rows.append("S1,2025-01-03,900")  # the same station and day again, another value
    rows.append("S1,2025-01-04,54")  # an exact repeat
    path = tmp_path / "readings.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    t = io.read_readings([path])
    assert len(t.frame) == 10
    assert t.frame["value"].mean() == pytest.approx(np.mean([50 + d for d in range(1, 11)]))
    assert t.rejected["row"].tolist() == [12, 13]
    assert "different value" in t.rejected["reason"].iloc[0]


def test_repeated_village_ids_are_warned(tmp_path):
    import io as _io

    from analyses import checks, no_burn_zones

    text, _ = io.decode_bytes((RAW / "villages.csv").read_bytes(), path="villages.csv")
    src = pd.read_csv(_io.StringIO(text), dtype=str, keep_default_na=False)
    id_col = src.columns[0]
    src.loc[1, id_col] = src.loc[0, id_col]
    src.to_csv(tmp_path / "villages.csv", index=False, encoding="utf-8")
    t = no_burn_zones.read_villages({"path": tmp_path / "villages.csv", "crs": "wgs84",
                                      "columns": {}, "sheet": None},
                                     next(s for s in no_burn_zones.INPUTS
                                          if s.name == "villages"))
    warnings = checks.warnings_for(no_burn_zones, {"villages": t})
    assert any("ids appear more than once in 'villages'" in w and str(src.loc[0, id_col]) in w
               for w in warnings)


# ----------------------------------------------------------------------- 10: promises


def test_map_date_from_config_or_data_never_today(tmp_path):
    import datetime as dt

    today = dt.date.today().isoformat()
    cfg = tmp_path / "h.toml"
    cfg.write_text(CFG.read_text(encoding="utf-8").replace("../data/raw/", RAW.as_posix() + "/")
                   + '\n[map]\ndate = "2025-03-31"\n', encoding="utf-8")
    out = runner.execute("heat-radius", config.load(cfg), out=tmp_path / "a", offline=True)
    html = out.map_path.read_text(encoding="utf-8")
    assert "制图日期：2025-03-31" in html and f"制图日期：{today}" not in html
    fire = runner.execute("fire-points", config.load(ROOT / "configs" / "fire-points.toml"),
                          out=tmp_path / "b", offline=True)
    fires = fire.result.layers["points"]
    latest = pd.to_datetime(fires["local_time"]).max().date().isoformat()
    assert f"数据日期：{latest}" in fire.map_path.read_text(encoding="utf-8")


def test_tables_do_not_depend_on_the_current_folder(tmp_path, monkeypatch):
    cfg = boilers_with_names(tmp_path, {})
    outs = []
    for cwd in (tmp_path, ROOT):
        monkeypatch.chdir(cwd)
        o = tmp_path / f"out_{cwd.name}"
        runner.execute("heat-radius", config.load(os.path.relpath(cfg, cwd)), out=o,
                       offline=True)
        outs.append(o / "layers" / "heat-radius")
    for name in ("rejected.csv", "heat-radius.gpkg"):
        assert (outs[0] / name).read_bytes() == (outs[1] / name).read_bytes(), name
    assert workbook_cells(outs[0] / "tables.xlsx") == workbook_cells(outs[1] / "tables.xlsx")
    rej = pd.read_csv(outs[0] / "rejected.csv", encoding="utf-8-sig")
    assert set(rej.loc[rej["input"] == "boilers", "file"]) == {"boilers.csv"}
    assert rej["file"].notna().all()  # the villages' rows name their file too
    wb = openpyxl.load_workbook(outs[0] / "tables.xlsx")
    assert wb["未采用的记录"]["B2"].value == "boilers.csv"
