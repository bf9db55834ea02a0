"""The compact per-period values table (spatial.periodtable): exact, typed, indexed, small."""

import logging
import shutil
import sqlite3
import subprocess

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
from shapely.geometry import box

from spatial import export, periodstore

SPEC = periodstore.PeriodLayer("cell_values", per_cell=("county_code",),
                               decimals=(("value", 3), ("ratio", 4)), codes=("status",))


def _layer(n_cells: int, n_periods: int, *, seed: int = 0) -> gpd.GeoDataFrame:
    """A per-period layer as pollution-hotspots makes it: cell by cell, every period."""
    rng = np.random.default_rng(seed)
    n = n_cells * n_periods
    cells = np.array([f"c{i:05d}" for i in range(n_cells)], dtype=object)
    value = np.round(rng.uniform(5, 250, n), 3)
    value[rng.uniform(size=n) < 0.02] = np.nan
    ratio = np.round(value / 90.0 - 1.0, 4)
    ratio[:3] = [-0.0, 0.0, -0.00004]  # -0.0 as the analysis makes it
    ratio[2] = np.round(ratio[2], 4)
    df = pd.DataFrame({
        "h3_cell": np.repeat(cells, n_periods),
        "period": np.tile(np.array([f"2025-{1 + j // 28:02d}-{1 + j % 28:02d}"
                                    for j in range(n_periods)], dtype=object), n_cells),
        "value": value,
        "n_obs": rng.integers(1, 7, n),
        "gi_z": rng.normal(size=n),
        "gi_p": rng.uniform(size=n),
        "fdr_class": rng.choice([-1, 0, 0, 0, 1], n),
        "ratio": ratio,
        "exceed": ratio >= 0.1,
        "status": np.where(np.isnan(value), "no_pixels", "ok"),
        "county_code": np.repeat(np.array([f"3715{i % 7:02d}" for i in range(n_cells)],
                                          dtype=object), n_periods),
    })
    geoms = np.array([box(i, 0, i + 1, 1) for i in range(n_cells)], dtype=object)
    return gpd.GeoDataFrame(df, geometry=np.repeat(geoms, n_periods), crs="EPSG:4326")


def _write(tmp_path, layer, spec=SPEC):
    export.write_layers({"cells": layer}, tmp_path, stem="a", fields={},
                        periods={"cells": spec})
    return tmp_path / "a.gpkg"


def _bits(x) -> np.ndarray:
    return (np.asarray(x, dtype=np.float64) + 0.0).view(np.int64)  # -0.0 as 0.0


def test_scaled_columns_read_back_bit_identical(tmp_path):
    # every decimals 0..6, magnitudes up to 1e9, negatives, NaN: np.round's doubles, back from
    # SQLite's own division of the stored integers (sqlite3, not the code under test)
    rng = np.random.default_rng(7)
    n = 20_000
    cols = {}
    for d in range(7):
        x = rng.uniform(-1, 1, n) * 10.0 ** rng.integers(0, 10 - d, n)
        x[::97] = np.nan
        cols[f"x{d}"] = np.round(x, d)
    df = pd.DataFrame({"h3_cell": np.array([f"c{i}" for i in range(n)], dtype=object),
                       "period": "2025-01", **cols})
    layer = gpd.GeoDataFrame(df, geometry=[box(0, 0, 1, 1)] * n, crs="EPSG:4326")
    layer["geometry"] = [box(i, 0, i + 1, 1) for i in range(n)]
    spec = periodstore.PeriodLayer("v", decimals=tuple((f"x{d}", d) for d in range(7)))
    gpkg = _write(tmp_path, layer, spec)
    con = sqlite3.connect(gpkg)
    info = {r[1]: (r[2], r[6]) for r in con.execute("PRAGMA table_xinfo(v)")}
    got = pd.read_sql_query(f"SELECT fid, {', '.join(cols)} FROM v ORDER BY fid", con)
    con.close()
    for d in range(7):  # stored as integers, read through a generated REAL column
        assert info[f"x{d}_x{10 ** d}"] == ("INTEGER", 0)
        assert info[f"x{d}"] == ("REAL", 2)  # 2: a VIRTUAL generated column
        want = cols[f"x{d}"]
        assert np.array_equal(np.isnan(got[f"x{d}"]), np.isnan(want))
        ok = ~np.isnan(want)
        assert np.array_equal(_bits(got[f"x{d}"])[ok], _bits(want)[ok]), d


def test_inexact_or_infinite_columns_stay_real(tmp_path, caplog):
    layer = _layer(4, 3)
    layer["value"] = layer["value"] + 1e-7  # not 3-decimal any more
    layer.loc[5, "ratio"] = np.inf
    with caplog.at_level(logging.WARNING, logger="spatial.periodtable"):
        gpkg = _write(tmp_path, layer)
    assert "cell_values.value is not exactly 3-decimal" in caplog.text
    con = sqlite3.connect(gpkg)
    info = {r[1]: r[2] for r in con.execute("PRAGMA table_xinfo(cell_values)")}
    con.close()
    assert info["value"] == "REAL" and info["ratio"] == "REAL" and "value_x1000" not in info
    man = {"period_layers": {"cells": SPEC.to_manifest("cells")}}
    got = periodstore.read_layers(gpkg, periodstore.from_manifest(man))["cells"]
    pd.testing.assert_frame_equal(got, layer)
    assert got.loc[5, "ratio"] == np.inf


def test_read_layers_gives_the_layer_back_exactly(tmp_path):
    layer = _layer(50, 40)
    gpkg = _write(tmp_path, layer)
    man = {"period_layers": {"cells": SPEC.to_manifest("cells")}}
    got = periodstore.read_layers(gpkg, periodstore.from_manifest(man))["cells"]
    pd.testing.assert_frame_equal(got, layer)  # columns, dtypes, order, values
    for col in ("value", "gi_z", "gi_p", "ratio"):
        assert np.array_equal(_bits(got[col]), _bits(layer[col]), equal_nan=True), col
    assert (got["status"] == "no_pixels").sum() == layer["value"].isna().sum() > 0


def test_view_has_the_old_layers_fields_and_types(tmp_path):
    layer = _layer(6, 5)
    gpkg = _write(tmp_path, layer)
    # the reference: the same layer written as one plain GDAL layer (the old layout)
    layer.to_file(tmp_path / "plain.gpkg", layer="cells", engine="pyogrio")
    old = pyogrio.read_info(tmp_path / "plain.gpkg", layer="cells")
    new = pyogrio.read_info(gpkg, layer="cells_by_period")
    assert new["fields"].tolist() == old["fields"].tolist()
    assert new["dtypes"].tolist() == old["dtypes"].tolist()
    assert new["geometry_type"] == "Polygon" and new["features"] == len(layer)
    # one period through GDAL, as QGIS's filter asks for it
    day = "2025-01-03"
    got = gpd.read_file(gpkg, layer="cells_by_period", where=f"period = '{day}'")
    want = layer[layer["period"] == day].reset_index(drop=True)
    pd.testing.assert_frame_equal(got, want, check_dtype=False)


@pytest.mark.skipif(shutil.which("ogrinfo") is None, reason="no system GDAL (ogrinfo)")
def test_system_gdal_sees_reals_and_text(tmp_path):
    """The system's GDAL (3.6 on Debian 12, the one QGIS 3.22 uses) types the view's columns
    from the generated columns' declared types: Real, not String."""
    gpkg = _write(tmp_path, _layer(3, 2))
    out = subprocess.run(["ogrinfo", "-so", "-nomd", str(gpkg), "cells_by_period"],
                         capture_output=True, text=True, check=True).stdout
    fields = dict(line.strip().split(": ", 1) for line in out.splitlines()
                  if ": " in line and "(" in line.split(": ", 1)[1])
    assert fields["value"].startswith("Real") and fields["ratio"].startswith("Real")
    assert fields["gi_z"].startswith("Real") and fields["status"].startswith("String")
    assert fields["n_obs"].startswith("Integer64") and fields["exceed"] == "Integer(Boolean) (0.0)"


def test_one_period_or_one_cell_is_read_by_row_id(tmp_path):
    gpkg = _write(tmp_path, _layer(20, 10))
    con = sqlite3.connect(gpkg)
    plan = " | ".join(r[3] for r in con.execute(
        "EXPLAIN QUERY PLAN SELECT * FROM cells_by_period WHERE period = '2025-01-02'"))
    assert "SEARCH v USING INTEGER PRIMARY KEY (rowid>? AND rowid<?)" in plan, plan
    assert "SEARCH c USING INTEGER PRIMARY KEY (rowid=?)" in plan and "SCAN v" not in plan
    plan = " | ".join(r[3] for r in con.execute(
        "EXPLAIN QUERY PLAN SELECT * FROM cells_by_period WHERE h3_cell = 'c00003'"))
    assert "SEARCH v USING INTEGER PRIMARY KEY (rowid=?)" in plan and "SCAN v" not in plan
    n = con.execute("SELECT count(*) FROM cells_by_period WHERE period = '2025-01-02'"
                    ).fetchone()[0]
    con.close()
    assert n == 20


def test_about_38_bytes_per_cell_and_period(tmp_path):
    # a month of days over 2,000 cells with pollution-hotspots' columns: the table and its
    # key take < 42 bytes a row (the text keys, 8-byte reals and an index took ~115)
    layer = _layer(2000, 30)
    gpkg = _write(tmp_path, layer)
    con = sqlite3.connect(gpkg)
    size = dict(con.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name"))
    con.close()
    assert size["cell_values"] / len(layer) < 42
    assert not [k for k in size if k.startswith("cell_values_")
                and k != "cell_values_periods" and "autoindex" not in k]


def test_two_rows_of_one_cell_and_period_are_refused(tmp_path):
    layer = _layer(3, 2)
    layer.loc[1, "period"] = layer.loc[0, "period"]
    with pytest.raises(ValueError, match="two rows for cell 'c00000' and period '2025-01-01'"):
        _write(tmp_path, layer)


def test_rows_period_by_period_read_back_cell_by_cell(tmp_path):
    layer = _layer(5, 4)
    by_period = layer.sort_values(["period", "h3_cell"], kind="stable").reset_index(drop=True)
    gpkg = _write(tmp_path, by_period)
    man = {"period_layers": {"cells": SPEC.to_manifest("cells")}}
    got = periodstore.read_layers(gpkg, periodstore.from_manifest(man))["cells"]
    pd.testing.assert_frame_equal(got, layer)


def test_codes_keep_missing_and_quoted_text(tmp_path):
    layer = _layer(3, 3)
    layer["status"] = layer["status"].astype(object)
    layer.loc[[1, 4], "status"] = ["it's 'quoted'", None]
    gpkg = _write(tmp_path, layer)
    con = sqlite3.connect(gpkg)
    codes = [r[0] for r in con.execute("SELECT status_code FROM cell_values ORDER BY fid")]
    con.close()
    assert None in codes and set(codes) - {None} == {0, 1, 2}  # a NULL code, not a text
    got = gpd.read_file(gpkg, layer="cells_by_period")
    got = got.sort_values(["h3_cell", "period"]).reset_index(drop=True)
    layer.to_file(tmp_path / "plain.gpkg", layer="cells", engine="pyogrio")  # as GDAL reads it
    want = gpd.read_file(tmp_path / "plain.gpkg", layer="cells")
    assert got["status"][1] == "it's 'quoted'" and pd.isna(got["status"][4])
    pd.testing.assert_series_equal(got["status"], want["status"])


def test_an_empty_layer_writes_and_reads_back_empty(tmp_path):
    layer = _layer(3, 2).iloc[:0]
    gpkg = _write(tmp_path, layer)
    man = {"period_layers": {"cells": SPEC.to_manifest("cells")}}
    got = periodstore.read_layers(gpkg, periodstore.from_manifest(man))["cells"]
    assert len(got) == 0 and list(got.columns) == list(layer.columns)
    assert pyogrio.read_info(gpkg, layer="cells_by_period")["features"] == 0


def test_gdal_reads_one_period_by_a_range_of_row_ids(tmp_path):
    """The SQL GDAL itself sends for ``read_file(…, where="period = …")`` (its debug log),
    planned by SQLite: a range of ``cell_values`` row ids, not a scan of the year."""
    import os
    import re
    import sys

    gpkg = _write(tmp_path, _layer(20, 10))
    code = ("import geopandas as gpd, sys; "
            "print(len(gpd.read_file(sys.argv[1], layer='cells_by_period', "
            "where=\"period = '2025-01-04'\")))")
    run = subprocess.run([sys.executable, "-c", code, str(gpkg)], capture_output=True,
                         text=True, check=True, env={**os.environ, "CPL_DEBUG": "ON"})
    assert run.stdout.strip() == "20"
    sql = re.findall(r"ResetStatement\((SELECT .*cells_by_period.*WHERE.*)\)\s*$",
                     run.stderr, re.M)
    assert sql, run.stderr[-2000:]
    con = sqlite3.connect(gpkg)
    plan = " | ".join(r[3] for r in con.execute("EXPLAIN QUERY PLAN " + sql[-1]))
    con.close()
    assert "SEARCH v USING INTEGER PRIMARY KEY (rowid>? AND rowid<?)" in plan, plan
    assert "SCAN v" not in plan, plan
