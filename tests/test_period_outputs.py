"""Per-period layers in the files: cells once, cell_values indexed, parquet, Shapefile guards."""

import json
import sqlite3

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import shapely
from shapely.geometry import Point, Polygon

from analyses import cli
from spatial import export, geoparquet, labels, limits, periodstore
from spatial.errors import InputError

SPEC = periodstore.PeriodLayer("cell_values", per_cell=("county_code",))
CELLS = ["8730a6480ffffff", "8730a6481ffffff", "8730a6482ffffff"]
PERIODS = ["2025-01-01", "2025-01-02", "2025-01-03", "2025-01-04"]


def _per_period_layer() -> gpd.GeoDataFrame:
    """3 cells × 4 days, one row per cell and day, as pollution-hotspots' ``cells`` is."""
    import h3

    rows = []
    for i, c in enumerate(CELLS):
        for j, p in enumerate(PERIODS):
            rows.append({"h3_cell": c, "period": p, "value": 30.0 + 10 * i + j if j != 2 else
                         np.nan, "fdr_class": [1, 0, -1][i], "exceed": bool(j % 2),
                         "status": "ok" if j != 2 else "no data", "county_code": f"37150{i}"})
    df = pd.DataFrame(rows)
    poly = {c: Polygon([(lng, lat) for lat, lng in h3.cell_to_boundary(c)]) for c in CELLS}
    return gpd.GeoDataFrame(df, geometry=[poly[c] for c in df["h3_cell"]], crs="EPSG:4326")


def test_gpkg_cells_once_values_keyed_by_row_id_and_round_trip(tmp_path):
    layer = _per_period_layer()
    export.write_layers({"cells": layer}, tmp_path, stem="a", fields={},
                        periods={"cells": SPEC})
    gpkg = tmp_path / "a.gpkg"
    con = sqlite3.connect(gpkg)
    # no second index: the row id is (period, cell); one period is a range of row ids
    assert con.execute("PRAGMA index_list(cell_values)").fetchall() == []
    plan = " ".join(str(r) for r in con.execute(
        "EXPLAIN QUERY PLAN SELECT * FROM cells_by_period WHERE period = '2025-01-02'"))
    assert "SEARCH v USING INTEGER PRIMARY KEY (rowid>? AND rowid<?)" in plan
    assert "SCAN v" not in plan
    kinds = dict(con.execute("SELECT table_name, data_type FROM gpkg_contents"))
    values = pd.read_sql_query("SELECT * FROM cell_values", con)
    periods = pd.read_sql_query("SELECT * FROM cell_values_periods", con)
    con.close()
    assert kinds["cells"] == "features" and kinds["cell_values"] == "attributes"
    assert kinds["cell_values_periods"] == "attributes"
    assert kinds["cells_by_period"] == "features"
    # geometry once per cell, fids 1..3 in the layer's order
    cells = gpd.read_file(gpkg, layer="cells", fid_as_index=True)
    assert cells["h3_cell"].tolist() == CELLS and cells.index.tolist() == [1, 2, 3]
    assert list(cells.columns) == ["h3_cell", "county_code", "geometry"]
    assert periods["period"].tolist() == PERIODS
    assert periods["first_fid"].tolist() == [1, 4, 7, 10]
    assert periods["last_fid"].tolist() == [3, 6, 9, 12]
    assert len(values) == len(CELLS) * len(PERIODS)
    assert not {"geom", "county_code", "h3_cell", "period"} & set(values.columns)
    # the old per-period table by hand: fid = (period - 1) * 3 cells + cell
    p_no, c_no = (values["fid"] - 1) // len(CELLS), (values["fid"] - 1) % len(CELLS)
    back = values.drop(columns="fid").assign(h3_cell=np.array(CELLS)[c_no],
                                             period=np.array(PERIODS)[p_no])
    back = back.merge(pd.DataFrame(cells), on="h3_cell")
    back = back.sort_values(["h3_cell", "period"]).reset_index(drop=True)
    want = layer.sort_values(["h3_cell", "period"]).reset_index(drop=True)
    pd.testing.assert_series_equal(back["value"], want["value"])
    assert back["exceed"].astype(bool).tolist() == want["exceed"].tolist()
    for col in ("period", "status", "county_code", "fdr_class"):
        assert back[col].tolist() == want[col].tolist(), col
    assert shapely.equals_exact(np.asarray(back.geometry), np.asarray(want.geometry),
                                tolerance=1e-12).all()
    # the view: the old layer, read by GDAL with a filter on the period
    view = gpd.read_file(gpkg, layer="cells_by_period", where="period = '2025-01-02'")
    assert sorted(view["h3_cell"]) == CELLS and view.crs.to_epsg() == 4326
    ref = layer[layer["period"] == "2025-01-02"].set_index("h3_cell")
    np.testing.assert_allclose(view.set_index("h3_cell").loc[ref.index, "value"], ref["value"])
    # and the whole layer back, as it was in memory
    man = {"period_layers": {"cells": SPEC.to_manifest("cells")}}
    got = periodstore.read_layers(gpkg, periodstore.from_manifest(man))["cells"]
    pd.testing.assert_frame_equal(got, layer)
    # default: no Shapefile of the per-period layer at all
    assert not list((tmp_path / "shp").glob("cells*"))


def test_split_refuses_cells_whose_per_cell_columns_differ():
    layer = _per_period_layer()
    layer.loc[5, "county_code"] = "999999"
    with pytest.raises(ValueError, match="county_code"):
        periodstore.split(layer, SPEC, layer="cells")


def test_shp_periods_one_file_per_period(tmp_path):
    layer = _per_period_layer()
    export.write_layers({"cells": layer}, tmp_path, stem="a", fields={},
                        periods={"cells": SPEC}, shp_periods=True)
    files = sorted(p.name for p in (tmp_path / "shp").glob("*.shp"))
    assert files == [f"cells_{p}.shp" for p in PERIODS]
    one = gpd.read_file(tmp_path / "shp" / "cells_2025-01-02.shp")
    assert sorted(one["h3_cell"]) == CELLS and set(one["period"]) == {"2025-01-02"}
    ref = layer[layer["period"] == "2025-01-02"].set_index("h3_cell")
    np.testing.assert_allclose(one.set_index("h3_cell").loc[ref.index, "value"], ref["value"])


def test_parquet_copy_readable_by_pyarrow(tmp_path):
    layer = _per_period_layer()
    paths = geoparquet.write_parquet({"cells": layer}, tmp_path, periods={"cells": SPEC})
    assert sorted(p.name for p in paths) == ["cell_values.parquet", "cells.parquet"]
    t = pq.read_table(tmp_path / "cells.parquet")
    geo = json.loads(t.schema.metadata[b"geo"])  # GeoParquet metadata
    assert geo["primary_column"] == "geometry"
    assert geo["columns"]["geometry"]["encoding"] == "WKB"
    assert t.num_rows == len(CELLS)
    v = pq.read_table(tmp_path / "cell_values.parquet").to_pandas()
    assert len(v) == len(layer)
    want = layer.set_index(["h3_cell", "period"])["value"]
    got = v.set_index(["h3_cell", "period"])["value"].loc[want.index]
    np.testing.assert_allclose(got.to_numpy(), want.to_numpy())
    g = shapely.from_wkb(t.column("geometry").to_pylist())
    assert shapely.equals_exact(g, np.asarray(layer.drop_duplicates("h3_cell").geometry),
                                tolerance=0).all()


def test_shp_size_estimate_is_the_written_size(tmp_path):
    # the .shp layout (100-byte header; per record 8 + 44 + 4 × rings + 16 × points) against
    # the file GDAL writes: a hexagon, a polygon with a hole, a multipolygon, points
    ring = [(0, 0), (4, 0), (4, 4), (0, 4)]
    hole = Polygon(ring, [[(1, 1), (2, 1), (2, 2), (1, 2)]])
    multi = shapely.MultiPolygon([Polygon(ring), Polygon([(5, 5), (6, 5), (6, 6)])])
    holed = shapely.MultiPolygon([hole, Polygon([(5, 5), (6, 5), (6, 6)])])
    polys = gpd.GeoDataFrame({"a": [1, 2, 3, 4]}, geometry=[
        _per_period_layer().geometry[0], hole, multi, holed], crs="EPSG:4326")
    pts = gpd.GeoDataFrame({"a": [1, 2]}, geometry=[Point(1, 2), Point(3, 4)],
                           crs="EPSG:4326")
    for name, gdf in (("polys", polys), ("pts", pts)):
        gdf.to_file(tmp_path / f"{name}.shp", engine="pyogrio")
        assert limits.shp_bytes(gdf.geometry.to_numpy()) == (tmp_path / f"{name}.shp"
                                                             ).stat().st_size, name


def test_two_gigabyte_guard_refuses_before_writing(tmp_path):
    layer = _per_period_layer()
    one = int(limits.shp_bytes(layer.drop_duplicates("h3_cell").geometry.to_numpy()))
    # a limit just under one period's .shp: refused, and not a file written
    with limits.using({"max_shp_bytes": one - 1}), pytest.raises(InputError,
                                                                  match=r"\.shp.*max_shp_bytes"):
        export.write_layers({"cells": layer}, tmp_path / "x", stem="a", fields={},
                            periods={"cells": SPEC}, shp_periods=True)
    assert not (tmp_path / "x").exists() or not any((tmp_path / "x").rglob("*"))
    # the DBF: records of one period (3 rows), not of the whole layer (12 rows)
    attrs = pd.DataFrame(labels.label_frame(layer).drop(columns="geometry"))  # as written
    per_period = limits.dbf_bytes(attrs, rows=len(CELLS))
    with limits.using({"max_dbf_bytes": int(per_period) - 1}), pytest.raises(
            InputError, match=r"\.dbf.*max_dbf_bytes"):
        export.write_layers({"cells": layer}, tmp_path / "y", stem="a", fields={},
                            periods={"cells": SPEC}, shp_periods=True)
    assert not (tmp_path / "y").exists() or not any((tmp_path / "y").rglob("*"))
    with limits.using({"max_dbf_bytes": int(per_period)}):  # the limit itself is allowed
        export.write_layers({"cells": layer}, tmp_path / "z", stem="a", fields={},
                            periods={"cells": SPEC}, shp_periods=True)
    written = (tmp_path / "z" / "shp" / "cells_2025-01-01.dbf").stat().st_size
    assert per_period - 80 <= written <= per_period  # the estimate bounds the file, closely


def test_run_shp_periods_and_parquet(tmp_path):
    from test_pollution_hotspots import _rasters

    months = ["2025-01", "2025-02", "2025-03"]
    _rasters(tmp_path, months)
    cfg = tmp_path / "ph.toml"
    cfg.write_text('analysis = "pollution-hotspots"\n[inputs.rasters]\npath = "pm25_*.tif"\n'
                   "[output]\nparquet = true\n", encoding="utf-8")
    out = tmp_path / "out"
    assert cli.main(["run", "pollution-hotspots", "--config", str(cfg), "--out", str(out),
                     "--shp-periods", "--offline", "--no-report", "-q"]) == 0
    folder = out / "layers" / "pollution-hotspots"
    shp = sorted(p.name for p in (folder / "shp").glob("cells*.shp"))
    assert shp == [f"cells_{m}.shp" for m in months]
    man = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    entry = man["period_layers"]["cells"]
    assert entry["values"] == "cell_values" and entry["view"] == "cells_by_period"
    n_cells = len(gpd.read_file(folder / "pollution-hotspots.gpkg", layer="cells"))
    assert man["layers"]["cells"] == n_cells and entry["rows"] == n_cells * len(months)
    assert pq.read_table(folder / "parquet" / "cell_values.parquet").num_rows == entry["rows"]
    # the county pack gets the county's values as a table and draws the cells by period
    from analyses import runner
    from spatial import packs

    builder = runner.county_map_builder("pollution-hotspots", folder)
    assert builder is not None
    layers = periodstore.read_layers(folder / "pollution-hotspots.gpkg",
                                 periodstore.from_manifest(man))
    assert len(layers["cells"]) == entry["rows"] and "value" in layers["cells"]
    assert "cells_by_period" not in layers
    del packs  # packs need counties in the run; covered by tests/test_packs.py


def test_output_flags_are_checked():
    from spatial import config

    assert config.output_options({"parquet": True, "shp_periods": False}) == {"parquet": True}
    with pytest.raises(InputError, match="parquet must be true or false"):
        config.output_options({"parquet": "yes"})


def test_county_pack_of_a_per_period_layer(demo_out, tmp_path):
    import shutil
    import zipfile

    out = tmp_path / "o"
    shutil.copytree(demo_out / "layers" / "pollution-hotspots",
                    out / "layers" / "pollution-hotspots")
    assert cli.main(["export", "pollution-hotspots", "--by", "county", "--out", str(out),
                     "-q"]) == 0
    gpkg = out / "layers" / "pollution-hotspots" / "pollution-hotspots.gpkg"
    con = sqlite3.connect(gpkg)  # the county's cell-periods, by SQL on the tables
    want = pd.read_sql_query(
        "SELECT c.h3_cell, p.period, v.value, c.county_code FROM cell_values v "
        "JOIN cell_values_periods p ON v.fid BETWEEN p.first_fid AND p.last_fid "
        "JOIN cells c ON c.fid = v.fid - p.first_fid + 1", con)
    con.close()
    zips = sorted((out / "layers" / "pollution-hotspots" / "counties").glob("*.zip"))
    assert zips
    z = zips[0]
    code = z.name.split("_")[0]
    with zipfile.ZipFile(z) as zf:
        names = zf.namelist()
        with zf.open(f"{z.stem}/cell_values.csv") as f:
            got = pd.read_csv(f, encoding="utf-8-sig", dtype={"county_code": str})
        page = zf.read(f"{z.stem}/pollution-hotspots.html").decode("utf-8")
    assert not [n for n in names if "/shp/cells" in n]  # no per-period Shapefile by default
    assert any(n.endswith("/shp/hotspots.shp") for n in names)
    mine = want[want["county_code"] == code]
    assert len(got) == len(mine) > 0
    assert set(zip(got["h3_cell"], got["period"], strict=True)) == \
        set(zip(mine["h3_cell"], mine["period"], strict=True))
    last = sorted(want["period"].unique())[-1]
    assert f'"{last}"' in page  # the map still picks periods


def test_python_write_takes_the_output_flags(tmp_path):
    from test_pollution_hotspots import _rasters

    from analyses import pollution_hotspots

    months = ["2025-01", "2025-02"]
    files = _rasters(tmp_path, months)
    inputs = pollution_hotspots.read_inputs(rasters=list(files["path"]))
    result = pollution_hotspots.run(inputs)
    out = result.write(tmp_path / "py", offline=True, report=False, parquet=True,
                       shp_periods=True)
    assert sorted(p.name for p in (out.layers_dir / "shp").glob("cells_*.shp")) == \
        [f"cells_{m}.shp" for m in months]
    v = pq.read_table(out.layers_dir / "parquet" / "cell_values.parquet")
    assert v.num_rows == len(result.layers["cells"])  # the result itself is not split


def test_qgis_layer_info_of_the_view_without_counting_it(tmp_path):
    """The QGIS writer's emptiness and extent of ``cells_by_period`` (read without GDAL
    counting millions of joined rows) agree with GDAL's own count and extent."""
    import pyogrio

    from spatial import qgis

    layer = _per_period_layer()
    export.write_layers({"cells": layer, "empty": layer.iloc[:0][["h3_cell", "geometry"]]},
                        tmp_path, stem="a", fields={}, periods={"cells": SPEC})
    gpkg = tmp_path / "a.gpkg"
    gdal = pyogrio.read_info(gpkg, layer="cells_by_period", force_total_bounds=True)
    ours = qgis._layer_info(gpkg, "cells_by_period", bounds=True)
    assert gdal["features"] == len(layer) and ours["features"] == 1
    np.testing.assert_allclose(ours["total_bounds"], layer.total_bounds, rtol=0, atol=1e-12)
    np.testing.assert_allclose(ours["total_bounds"], gdal["total_bounds"], rtol=0, atol=1e-12)
    # tables go through pyogrio as before
    assert qgis._layer_info(gpkg, "cells")["features"] == len(CELLS)
    assert qgis._layer_info(gpkg, "empty")["features"] == 0
    con = sqlite3.connect(gpkg)  # an empty view reads as empty
    con.execute("DELETE FROM cell_values")
    con.commit()
    con.close()
    assert qgis._layer_info(gpkg, "cells_by_period")["features"] == 0
