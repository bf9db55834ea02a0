"""The Python API: run() on an analyst's own frames, Params types, Result.write = the CLI's."""

import html

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from conftest import ROOT
from pyproj import Geod

import analyses
from analyses import (
    fire_points,
    heat_radius,
    hotspot_rasters,
    no_burn_zones,
    pollution_hotspots,
    runner,
)
from spatial import config, firms
from spatial.errors import InputError

G = Geod(ellps="WGS84")
DATA = ROOT / "data" / "raw"


def test_import_analyses_gives_the_modules():
    assert analyses.heat_radius is heat_radius
    assert analyses.pollution_hotspots.NAME == "pollution-hotspots"
    with pytest.raises(AttributeError):
        analyses.no_such_analysis  # noqa: B018


def _plants():
    # only the required columns: id, name, capacity_mw, lon, lat
    return pd.DataFrame({"id": ["P1", "P2"], "name": ["甲热电", "乙电厂"],
                         "capacity_mw": [350.0, 120.0], "lon": [116.0, 116.8],
                         "lat": [36.4, 36.9]})


def test_heat_radius_on_frames_with_only_required_columns():
    # boilers: id, lon, lat and a fuel typed as office systems write it (燃煤 -> coal)
    boilers = pd.DataFrame({"id": ["B1", "B2", "B3"], "lon": [116.05, 116.1, 117.6],
                            "lat": [36.42, 36.5, 36.4], "燃料": ["燃煤", None, "燃煤"]})
    result = heat_radius.run({"plants": _plants(), "boilers": boilers},
                             heat_radius.Params(radius_km=15, chp_only=False))
    b = result.layers["boilers"].set_index("id")
    # the reference: pyproj.Geod distances to the one qualifying plant (P1, 350 MW >= 300)
    d = G.inv(boilers["lon"], boilers["lat"], np.full(3, 116.0), np.full(3, 36.4))[2]
    np.testing.assert_array_equal(b.loc[["B1", "B2", "B3"], "in_radius"], d <= 15_000)
    np.testing.assert_allclose(b.loc[["B1", "B2", "B3"], "distance_km"], np.round(d / 1000, 3))
    assert b["row"].tolist() == [1, 2, 3]  # no `row` column: 1, 2, 3
    assert b.loc["B1", "fuel"] == "coal" and b.loc["B1", "target"]
    assert b.loc["B2", "fuel"] == "unknown" and not b.loc["B2", "target"]  # never taken as clean
    # B2, and P2 (120 MW, screened as a small CHP unit) whose fuel column was not given
    assert result.tables["unknown_fuel"]["id"].tolist() == ["B2", "P2"]
    assert result.layers["plants"]["id"].tolist() == ["P1"]
    shown = result._repr_html_()  # a notebook shows the title and every summary line
    assert result.title in shown
    assert all(html.escape(line) in shown for line in result.summary)


def test_a_geodataframe_in_another_crs_and_a_row_column():
    boilers = pd.DataFrame({"id": ["B1", "B2"], "lon": [116.05, 116.1], "lat": [36.42, 36.5],
                            "row": [7, 9]})
    projected = gpd.GeoDataFrame(boilers[["id", "row"]],
                                 geometry=gpd.points_from_xy(boilers["lon"], boilers["lat"]),
                                 crs="EPSG:4326").to_crs("EPSG:3857")
    params = heat_radius.Params(radius_km=15, chp_only=False)
    a = heat_radius.run({"plants": _plants(), "boilers": boilers}, params).layers["boilers"]
    b = heat_radius.run({"plants": _plants(), "boilers": projected}, params).layers["boilers"]
    np.testing.assert_allclose(b["lon"], boilers["lon"], atol=1e-9)
    np.testing.assert_allclose(b["lat"], boilers["lat"], atol=1e-9)
    assert a["row"].tolist() == b["row"].tolist() == [7, 9]
    assert a["in_radius"].tolist() == b["in_radius"].tolist()


@pytest.mark.parametrize("drop, name", [("capacity_mw", "plants"), ("id", "plants"),
                                        ("lat", "boilers"), ("id", "boilers")])
def test_a_missing_required_column_names_it(drop, name):
    frames = {"plants": _plants(),
              "boilers": pd.DataFrame({"id": ["B1"], "lon": [116.05], "lat": [36.42]})}
    frames[name] = frames[name].drop(columns=[drop])
    with pytest.raises(InputError, match=rf"\b{drop}\b"):
        heat_radius.run(frames, heat_radius.Params(chp_only=False))


def test_a_missing_required_input_and_an_unknown_one():
    with pytest.raises(InputError, match="boilers"):
        heat_radius.run({"plants": _plants()}, heat_radius.Params())
    with pytest.raises(InputError, match="boiler_list"):
        heat_radius.run({"plants": _plants(), "boiler_list": _plants()}, heat_radius.Params())


def test_no_burn_zones_on_a_frame_with_only_required_columns():
    # villages: id, lon, lat and the households; 95 of 100 reaches the 0.95 threshold
    villages = pd.DataFrame({"id": ["v1", "v2"], "lon": [116.0, 116.05], "lat": [36.45, 36.45],
                             "households": [100, 100], "converted_households": [95, 94]})
    result = no_burn_zones.run({"villages": villages},
                               no_burn_zones.Params(unit="cells", min_part_km2=0.0, fill_m=0.0))
    v = result.layers["villages"].set_index("id")
    assert v["converted"].to_dict() == {"v1": True, "v2": False}


def test_fire_points_on_a_firms_csv_read_by_pandas():
    path = DATA / "firms_viirs_2024-06-07_7d.csv"
    params = fire_points.Params(windows=())
    by_pandas = fire_points.run({"fires": pd.read_csv(path)}, params).layers["points"]
    by_reader = fire_points.run({"fires": firms.read_firms(path)}, params).layers["points"]
    assert len(by_pandas) == len(pd.read_csv(path)) > 0
    for col in ("lon", "lat", "status", "local_time", "confidence"):
        assert by_pandas[col].tolist() == by_reader[col].tolist(), col
    # frame rows are 1, 2, …; the file's rows start at 2 (its header is row 1)
    assert (by_reader["row"].to_numpy() - by_pandas["row"].to_numpy() == 1).all()


def test_pollution_hotspots_rasters_as_paths_and_readings_as_a_frame():
    rasters = sorted(DATA.glob("pm25_2025-0[1-3].tif"))
    params = pollution_hotspots.Params(source="rasters")
    by_path = pollution_hotspots.run({"rasters": rasters}, params)
    read = pollution_hotspots.read_inputs(rasters=[str(p) for p in rasters])
    by_reader = pollution_hotspots.run(read, params)
    pd.testing.assert_frame_equal(pd.DataFrame(by_path.layers["cells"]),
                                  pd.DataFrame(by_reader.layers["cells"]))
    # the pixels are read before run (read_inputs with params): run itself reads no file
    ready = pollution_hotspots.read_inputs(rasters=rasters, params=params)
    assert isinstance(ready["rasters"], hotspot_rasters.RasterCells)
    assert ready["rasters"].values.shape == (len(ready["rasters"].cells), 3)  # three months
    pure = pollution_hotspots.run.__wrapped__(ready, params)
    pd.testing.assert_frame_equal(pd.DataFrame(pure.layers["cells"]),
                                  pd.DataFrame(by_path.layers["cells"]))
    with pytest.raises(InputError, match="not prepared"):
        pollution_hotspots.run.__wrapped__(read, params)
    with pytest.raises(InputError, match="other parameters"):
        pollution_hotspots.run(ready, pollution_hotspots.Params(source="rasters",
                                                                h3_resolution=6))
    # readings in the national long layout typed by hand: the station's monthly mean
    times = pd.date_range("2025-01-01", periods=31, freq="D").strftime("%Y-%m-%d")
    values = np.arange(31, dtype=float) + 40.0
    readings = pd.DataFrame({"station_id": "S1", "日期": times, "PM2.5": values})
    stations = pd.DataFrame({"id": ["S1"], "lon": [116.0], "lat": [36.45]})
    res = pollution_hotspots.run({"stations": stations, "readings": readings},
                                 pollution_hotspots.Params(source="stations"))
    st = res.layers["stations"]
    mean_cols = [c for c in st.columns if c.startswith("mean") or c == "value"]
    assert mean_cols, st.columns
    assert st[mean_cols[0]].iloc[0] == pytest.approx(values.mean(), abs=0.05)


@pytest.mark.parametrize("module", [heat_radius, no_burn_zones, fire_points,
                                    pollution_hotspots])
def test_params_check_their_types(module):
    with pytest.raises(InputError, match="h3_resolution"):
        module.Params(h3_resolution="7")
    with pytest.raises(InputError, match="h3_resolution"):
        module.Params(h3_resolution=7.5)
    assert module.Params(h3_resolution=7.0).h3_resolution == 7  # a whole number is taken


def test_run_refuses_params_of_another_analysis():
    with pytest.raises(InputError, match="Params"):
        heat_radius.run({"plants": _plants(), "boilers": _plants()}, no_burn_zones.Params())


def test_result_write_equals_the_cli(tmp_path):
    conf = config.load(ROOT / "configs" / "heat-radius.toml")
    cli = runner.execute("heat-radius", conf, out=tmp_path / "cli")
    given = {k: (v["paths"], {"crs": v["crs"], "columns": v["columns"]})
             for k, v in conf["inputs"].items()}
    inputs = heat_radius.read_inputs(base=conf["base"], **given)
    result = heat_radius.run(inputs, heat_radius.Params(**conf["params"]))
    py = result.write(tmp_path / "py")
    a, b = cli.layers_dir, py.layers_dir
    names = sorted(p.name for p in a.rglob("*") if p.is_file())
    assert names == sorted(p.name for p in b.rglob("*") if p.is_file())
    import pyogrio
    for gpkg in sorted(a.glob("*.gpkg")):
        for layer, _ in pyogrio.list_layers(gpkg):
            left = gpd.read_file(gpkg, layer=layer)
            right = gpd.read_file(b / gpkg.name, layer=layer)
            pd.testing.assert_frame_equal(left, right, check_like=False)
    for csv in sorted(a.rglob("*.csv")):
        assert csv.read_bytes() == (b / csv.relative_to(a)).read_bytes(), csv.name
    sheets_a = pd.read_excel(a / "tables.xlsx", sheet_name=None)
    sheets_b = pd.read_excel(b / "tables.xlsx", sheet_name=None)
    assert sheets_a.keys() == sheets_b.keys()
    for k in sheets_a:
        if k != "说明":  # the sheet that says when and from which config the run was
            pd.testing.assert_frame_equal(sheets_a[k], sheets_b[k])
    assert cli.map_path.read_bytes() == py.map_path.read_bytes()
    assert result.layers.keys() == cli.result.layers.keys()
    assert "src_file" not in result.layers["boilers"].columns  # write() left the result alone


def test_the_notebook_is_stripped_and_runs(tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    src = ROOT / "docs" / "notebook.ipynb"
    nb = nbformat.read(src, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(not c.outputs and c.execution_count is None for c in code)  # stripped
    for name in ("heat_radius", "no_burn_zones", "fire_points", "pollution_hotspots",
                 "machinery_zones"):
        assert any(f"{name}.run(" in c.source for c in code), name  # every analysis
    (tmp_path / "notebook.ipynb").write_bytes(src.read_bytes())  # a copy: the clone stays clean
    monkeypatch.setenv("LANTIAN_DATA", str(DATA))
    client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()  # a cell that raises fails the test (CellExecutionError)
    maps = [o for c in code for o in c.outputs
            if "folium" in str(o.get("data", {}).get("text/plain", ""))]
    assert len(maps) == 5  # build_map of each analysis shows a map inline
    assert (tmp_path / "out" / "layers" / "heat-radius" / "heat-radius.gpkg").is_file()
    assert (tmp_path / "out" / "maps" / "heat-radius.html").is_file()


def test_every_analysis_keeps_the_contract():
    from analyses import base
    for name in analyses.REGISTRY:
        module = analyses.get(name)
        assert isinstance(module, base.Analysis), name  # NAME, INPUTS, Params, read_inputs…
        assert module.NAME == name
        hooks = {k for k in vars(module) if k in base.HOOKS}
        assert {base.hook(module, k) is getattr(module, k) for k in hooks} <= {True}
    with pytest.raises(KeyError, match="figure_specs"):
        base.hook(heat_radius, "figure_specs")  # a misspelt hook is an error, not a default


def test_run_mixes_a_file_and_a_frame(tmp_path):
    plants_csv = tmp_path / "电厂.csv"
    _plants().rename(columns={"capacity_mw": "装机容量(MW)", "lon": "经度",
                              "lat": "纬度"}).to_csv(plants_csv, index=False, encoding="gbk")
    boilers = pd.DataFrame({"id": ["B1"], "lon": [116.05], "lat": [36.42]})
    params = heat_radius.Params(radius_km=15, chp_only=False)
    mixed = heat_radius.run({"plants": plants_csv, "boilers": boilers}, params)
    frames = heat_radius.run({"plants": _plants(), "boilers": boilers}, params)
    assert mixed.layers["plants"]["id"].tolist() == frames.layers["plants"]["id"].tolist()
    assert mixed.layers["plants"]["row"].tolist() == [2]  # the file's row (header = row 1)
    read = heat_radius.read_inputs(plants=plants_csv, boilers=boilers)
    assert read.tables["plants"].encoding != read.tables["boilers"].encoding  # file vs frame
