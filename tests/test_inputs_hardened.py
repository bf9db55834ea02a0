"""Lists and globs (issue 18 item 3), provenance (6) and bounded resources (7)."""

import hashlib
import json
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analyses import cli, runner
from spatial import config, limits
from spatial.errors import InputError

ROOT = Path(__file__).resolve().parent.parent
RAW = ROOT / "data" / "raw"


def split_boilers(folder: Path) -> tuple[Path, Path, int]:
    """The demo boilers (GBK CSV) split in two files; returns the files and the row count."""
    raw = (RAW / "boilers.csv").read_bytes().decode("gb18030").splitlines()
    header, rows = raw[0], raw[1:]
    half = len(rows) // 2
    a, b = folder / "b1.csv", folder / "b2.csv"
    a.write_text("\n".join([header, *rows[:half]]) + "\n", encoding="gb18030")
    b.write_text("\n".join([header, *rows[half:]]) + "\n", encoding="gb18030")
    return a, b, len(rows)


def heat_config(folder: Path, boilers: str, extra: str = "") -> Path:
    cfg = folder / "run.toml"
    cfg.write_text(
        f'[inputs.plants]\npath = "{(RAW / "plants.csv").as_posix()}"\n'
        f'[inputs.boilers]\npath = {boilers}\n'
        'columns = { capacity_th = "蒸吨", plant_id = "所属电厂编号" }\n'
        f'[inputs.counties]\npath = "{(RAW / "counties.gpkg").as_posix()}"\n'
        + extra, encoding="utf-8")
    return cfg


# ----------------------------------------------------------------------- 3: lists and globs


@pytest.mark.parametrize("form", ['["b1.csv", "b2.csv"]', '"b*.csv"'])
def test_a_list_or_glob_reads_every_file(tmp_path, form, capsys):
    a, b, n = split_boilers(tmp_path)
    whole_cfg = heat_config(tmp_path, f'"{(RAW / "boilers.csv").as_posix()}"')
    whole = runner.check("heat-radius", config.load(whole_cfg))[0]["boilers"]
    cfg = heat_config(tmp_path, form)
    tables, _ = runner.check("heat-radius", config.load(cfg))
    t = tables["boilers"]
    assert t.n_read == n == whole.n_read  # 430 rows, not the first file's 215
    assert len(t.frame) + len(t.rejected) == n
    assert sorted(t.frame["id"]) == sorted(whole.frame["id"])
    assert set(t.frame["file"]) == {"b1.csv", "b2.csv"}
    # rows are the rows of their own file: the first data row of b2.csv is row 2
    first_b2 = t.frame[t.frame["file"] == "b2.csv"]["row"].min()
    assert first_b2 == 2
    assert cli.main(["check", "heat-radius", "--config", str(cfg)]) == 0
    out = capsys.readouterr().out
    assert str(a) in out and str(b) in out
    run = runner.execute("heat-radius", config.load(cfg), out=tmp_path / "out", offline=True)
    man = json.loads((run.layers_dir / "manifest.json").read_text(encoding="utf-8"))
    sha = man["inputs"]["boilers"]["sha256"]
    assert sha == {"b1.csv": hashlib.sha256(a.read_bytes()).hexdigest(),
                   "b2.csv": hashlib.sha256(b.read_bytes()).hexdigest()}
    assert man["inputs"]["boilers"]["rows_read"] == n


def test_a_list_where_one_file_is_meant_is_refused(tmp_path):
    cfg = tmp_path / "fires.toml"
    cfg.write_text(
        f'[inputs.fires]\npath = "{(RAW / "firms_viirs_2024.csv").as_posix()}"\n'
        f'[inputs.cropland]\npath = ["{(RAW / "cropland_demo.tif").as_posix()}", '
        f'"{(RAW / "cropland_demo.tif").as_posix()}"]\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"\[inputs.cropland\] takes one file.*names 2"):
        runner.check("fire-points", config.load(cfg))


# ----------------------------------------------------------------------- 6: provenance


def test_a_file_changed_mid_run_is_recorded_as_read(tmp_path, monkeypatch):
    src = tmp_path / "boilers.csv"
    src.write_bytes((RAW / "boilers.csv").read_bytes())
    read_bytes = src.read_bytes()
    cfg = heat_config(tmp_path, '"boilers.csv"')
    from analyses import heat_radius

    real_run = heat_radius.run

    def run_and_edit(inputs, params):
        src.write_bytes(read_bytes + "GL7777,新增,116.5,35.4,1,燃煤,锅炉,在用,,\n"
                        .encode("gb18030"))  # someone saves the inventory meanwhile
        return real_run(inputs, params)

    monkeypatch.setattr(heat_radius, "run", run_and_edit)
    out = runner.execute("heat-radius", config.load(cfg), out=tmp_path / "out", offline=True)
    man = out.manifest
    assert man["inputs"]["boilers"]["sha256"] == hashlib.sha256(read_bytes).hexdigest()
    assert man["inputs"]["boilers"]["sha256"] != hashlib.sha256(src.read_bytes()).hexdigest()
    assert any("boilers.csv: changed while the run was reading it" in w
               for w in man["warnings"])


# ----------------------------------------------------------------------- 7: limits


@pytest.fixture
def no_run(monkeypatch):
    """Fail the test if the analysis itself starts: a limit must refuse before the work."""
    from analyses import fire_points, heat_radius, pollution_hotspots

    def never(*a, **k):
        raise AssertionError("the analysis ran although a limit should have refused it")

    for m in (heat_radius, fire_points, pollution_hotspots):
        monkeypatch.setattr(m, "run", never)


def test_fine_resolution_is_refused_with_the_estimate(tmp_path, no_run):
    cfg = heat_config(tmp_path, f'"{(RAW / "boilers.csv").as_posix()}"',
                      "[params]\nh3_resolution = 13\n")
    with pytest.raises(InputError, match=r"h3_resolution = 13.*H3 cells: about [\d,]+, above "
                                         r"the limit of 2,000,000 \(\[limits\] max_cells\)"):
        runner.execute("heat-radius", config.load(cfg), out=tmp_path / "out", offline=True)
    assert not (tmp_path / "out" / "layers").exists() or not any(
        (tmp_path / "out" / "layers").iterdir())


def test_the_estimate_matches_h3(tmp_path):
    import h3

    # a 0.2° box at 36.5°N: area by hand, cells by h3's own polygon fill
    poly = h3.LatLngPoly([(36.4, 116.0), (36.4, 116.2), (36.6, 116.2), (36.6, 116.0)])
    n = len(h3.polygon_to_cells(poly, 9))
    est = limits.cells_in_area(limits.bbox_area_km2(116.0, 36.4, 116.2, 36.6), 9, lat=36.5,
                               lng=116.1)
    assert est == pytest.approx(n, rel=0.1)


def test_big_k_ring_is_refused(tmp_path, no_run):
    cfg = tmp_path / "p.toml"
    cfg.write_text(
        f'[inputs.stations]\npath = "{(RAW / "air_stations.csv").as_posix()}"\n'
        f'[inputs.readings]\npath = "{(RAW / "air_readings_daily.csv").as_posix()}"\n'
        f'[inputs.counties]\npath = "{(RAW / "counties.gpkg").as_posix()}"\n'
        '[params]\nk_ring = 300\nsource = "stations"\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"k_ring = 300 \(270,901 cells per disk\).*"
                                         r"max_neighbours"):
        runner.execute("pollution-hotspots", config.load(cfg), out=tmp_path / "out",
                       offline=True)
    # the config can raise the limit: then the estimate passes (and the analysis would run)
    with open(cfg, "a", encoding="utf-8") as f:
        f.write("[limits]\nmax_neighbours = 100_000_000_000\n")
    with pytest.raises(AssertionError, match="the analysis ran"):
        runner.execute("pollution-hotspots", config.load(cfg), out=tmp_path / "out",
                       offline=True)


def test_huge_sparse_raster_is_refused_before_reading(tmp_path):
    import rasterio
    from affine import Affine

    path = tmp_path / "pm25_2025-01.tif"
    with rasterio.open(path, "w", driver="GTiff", width=100_000, height=100_000, count=1,
                       dtype="float32", crs="EPSG:4326", sparse_ok=True, tiled=True,
                       transform=Affine(1e-5, 0, 115, 0, -1e-5, 37), nodata=-9999) as ds:
        ds.write(np.ones((1, 16, 16), dtype="float32"),
                 window=rasterio.windows.Window(0, 0, 16, 16))
    assert path.stat().st_size < 5_000_000  # a small file asking for 10^10 pixels
    cfg = tmp_path / "r.toml"
    cfg.write_text(f'[inputs.rasters]\npath = "{path.as_posix()}"\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"100,000 × 100,000 pixels.*about 10,000,000,000.*"
                                         r"max_raster_pixels"):
        runner.check("pollution-hotspots", config.load(cfg))


def test_inflating_xlsx_is_refused(tmp_path):
    path = tmp_path / "boilers.xlsx"
    pd.DataFrame({"编号": ["A"], "经度": [116.0], "纬度": [36.0], "蒸吨": [1.0],
                  "所属电厂编号": [""]}).to_excel(path, index=False)
    with zipfile.ZipFile(path, "a") as z:  # 50 MB of XML that compresses to ~50 KB
        z.writestr("xl/padding.xml", b"<a>" + b" " * 50_000_000 + b"</a>",
                   compress_type=zipfile.ZIP_DEFLATED)
    assert path.stat().st_size < 1_000_000
    cfg = heat_config(tmp_path, '"boilers.xlsx"', "[limits]\nmax_xlsx_bytes = 10_000_000\n")
    with pytest.raises(InputError, match=r"boilers.xlsx: the workbook's XML inflates to bytes: "
                                         r"about 50,0[\d,]+, above the limit of 10,000,000"):
        runner.check("heat-radius", config.load(cfg))


def test_dbf_past_the_limit_is_refused(tmp_path, monkeypatch, capsys):
    """A Shapefile whose .dbf would pass the limit is left out (never written half); the run,
    the GeoPackage and the other Shapefiles are written, and the run says so."""
    import geopandas as gpd
    import pyogrio

    from spatial import export

    cfg = heat_config(tmp_path, f'"{(RAW / "boilers.csv").as_posix()}"',
                      "[limits]\nmax_dbf_bytes = 20_000\n")
    # the boilers' attribute table is the one above 20,000 bytes (~440 rows)
    assert cli.main(["run", "heat-radius", "--config", str(cfg), "--out",
                     str(tmp_path / "out"), "--offline", "--no-report"]) == 0
    printed = capsys.readouterr().out
    folder = tmp_path / "out" / "layers" / "heat-radius"
    assert not (folder / "shp" / "boilers.dbf").exists()
    assert not (folder / "shp" / "boilers.shp").exists()
    assert (folder / "shp" / "plants.shp").exists()  # small layers keep their Shapefiles
    assert "boilers" in [n for n, _ in pyogrio.list_layers(folder / "heat-radius.gpkg")]
    man = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    msg = [w for w in man["warnings"] if w.startswith("shp/boilers.shp left out")]
    assert len(msg) == 1 and "its Shapefile attribute table (.dbf) would be bytes" in msg[0]
    assert msg[0] in man["left_out"] and set(man["left_out"]) <= set(man["warnings"])
    assert all(w.split(" ")[0] in {"shp/boilers.shp", "shp/cells.shp", "shp/biomass.shp"}
               for w in man["left_out"])  # the layers above 20,000 bytes only
    assert "warning: shp/boilers.shp left out" in printed
    # without a list to report into, write_layers refuses
    big = gpd.GeoDataFrame({"name": ["临清市示例企业" * 3] * 500},
                           geometry=gpd.points_from_xy(np.zeros(500), np.zeros(500)),
                           crs="EPSG:4326")
    with limits.using({"max_dbf_bytes": 20_000}), pytest.raises(
            InputError, match=r"layer 't': its Shapefile attribute table \(.dbf\) would be"):
        export.write_layers({"t": big}, tmp_path / "w0", stem="t", fields={})
    assert not (tmp_path / "w0" / "shp" / "t.dbf").exists()
    # the estimate is within 10 % of the .dbf GDAL writes
    gdf = gpd.GeoDataFrame({"name": ["临清市示例企业" * 3] * 500, "v": np.arange(500.0)},
                           geometry=gpd.points_from_xy(np.zeros(500), np.zeros(500)),
                           crs="EPSG:4326")
    export.write_layers({"t": gdf}, tmp_path / "w", stem="t", fields={})
    real = (tmp_path / "w" / "shp" / "t.dbf").stat().st_size
    assert limits.dbf_bytes(pd.DataFrame(gdf.drop(columns="geometry"))) == pytest.approx(
        real, rel=0.1)


def test_limits_table_is_checked(tmp_path):
    cfg = heat_config(tmp_path, '"b.csv"', "[limits]\nmax_cels = 5\n")
    with pytest.raises(InputError, match="unknown key.*max_cels"):
        config.load(cfg)
    cfg = heat_config(tmp_path, '"b.csv"', "[limits]\nmax_cells = -5\n")
    with pytest.raises(InputError, match="positive whole number"):
        config.load(cfg)


def test_point_analyses_are_estimated_by_their_points():
    import geopandas as gpd

    # 1,000 detections spread over all of China: the box is huge, the cells are at most 1,000
    rng = np.random.default_rng(0)
    fires = gpd.GeoDataFrame(geometry=gpd.points_from_xy(rng.uniform(74, 134, 1000),
                                                         rng.uniform(18, 53, 1000)),
                             crs="EPSG:4326")

    class P:
        h3_resolution = 8
        persistent_resolution = 9
        persistent_k = 1

    est = limits.check_work("fire-points", {"fires": fires}, P(), cells_from="points")
    assert est["cells_h3_resolution"] <= 1001
    with pytest.raises(InputError, match="max_cells"):
        limits.check_work("x", {"fires": fires}, P())
