"""pollution-hotspots: readings formats, validity rules, cell values, Gi*, lists, demo."""

import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
from affine import Affine

from analyses import pollution_hotspots as ph
from analyses import runner
from spatial import config, h3grid, interpolate, io, raster, stats, webmap
from tests.conftest import ROOT

SHARED = next((p for p in (ROOT.parent / "shared" / "data", Path("/work/shared/data"))
               if (p / "cnemc_station_list_2026stations_utf8.csv").exists()), None)

NATIONAL = """timepoint,stationcode,area,positionname,longitude,latitude,aqi,pm2_5,pm2_5_24h,pm10,pm10_24h,so2,so2_24h,no2,no2_24h,co,co_24h,o3,o3_24h,o3_8h,o3_8h_24h,primarypollutant,quality
2026-01-05T13:00:00,1625A,聊城,区政府,115.9848,36.4372,98,73,80,120,130,9,10,40,42,1.1,1.2,30,60,40,50,PM2.5,良
2026-01-05T14:00:00,1625A,聊城,区政府,115.9848,36.4372,—,—,80,118,130,9,10,41,42,1.0,1.2,31,60,40,50,—,—
2026-01-05T13:00:00,1653A,济宁,火炬城,116.6251,35.4302,80,59,62,99,101,7,8,35,36,0.9,1.0,33,58,41,49,PM2.5,良
2026-01-05 14:00,1653A,济宁,火炬城,116.6251,35.4302,82,60,62,101,101,7,8,35,36,0.9,1.0,33,58,41,49,PM2.5,良
,1653A,济宁,火炬城,116.6251,35.4302,82,60,62,101,101,7,8,35,36,0.9,1.0,33,58,41,49,PM2.5,良
"""  # noqa: E501


def test_national_hourly_export_parsed(tmp_path):
    p = tmp_path / "cnemc.csv"
    p.write_text(NATIONAL, encoding="utf-8")
    t = io.read_readings(p)
    pm = t.frame[t.frame["pollutant"] == "pm25"].sort_values(["station_id", "time"])
    assert pm["value"].tolist() == [73.0, 59.0, 60.0]  # pm2_5, not pm2_5_24h; "—" is missing
    assert pm["station_id"].tolist() == ["1625A", "1653A", "1653A"]
    assert str(pm["time"].dt.tz) == "Asia/Shanghai"
    assert pm["time"].iloc[2] == pd.Timestamp("2026-01-05 14:00", tz="Asia/Shanghai")
    assert pm["lon"].iloc[0] == 115.9848 and pm["lat"].iloc[0] == 36.4372
    assert set(t.frame["pollutant"]) == {"pm25", "pm10", "so2", "no2", "co", "o3"}
    co = t.frame[(t.frame["pollutant"] == "co") & (t.frame["station_id"] == "1625A")]
    assert co["value"].tolist() == [1.1, 1.0]
    assert t.rejected["reason"].tolist() == ["time missing or unreadable"]
    assert t.rejected["row"].tolist() == [6]


def test_long_and_station_wide_layouts(tmp_path):
    long = tmp_path / "long.csv"
    long.write_text("站点编码,监测时间,污染物,浓度\nA1,2025-01-01 00:00,PM2.5,50\n"
                    "A1,2025-01-01 01:00,PM10,90\n", encoding="gb18030")
    t = io.read_readings(long)
    assert t.frame[["pollutant", "value"]].values.tolist() == [["pm25", 50.0], ["pm10", 90.0]]
    day = tmp_path / "china_sites_20250101.csv"
    day.write_text("date,hour,type,1001A,1002A\n20250101,0,PM2.5,31,\n20250101,0,PM2.5_24h,40,41\n"
                   "20250101,1,PM2.5,33,35\n", encoding="utf-8")
    t = io.read_readings(day)
    f = t.frame.sort_values(["station_id", "time"])
    assert f[["station_id", "value"]].values.tolist() == [["1001A", 31.0], ["1001A", 33.0],
                                                          ["1002A", 35.0]]
    assert f["time"].iloc[1] == pd.Timestamp("2025-01-01 01:00", tz="Asia/Shanghai")


@pytest.mark.skipif(SHARED is None, reason="../shared/data not available")
def test_cnemc_station_list_falls_in_demo_counties():
    fields = ph.INPUTS[0].fields + (io.Field("city", "text", False, ("城市",)),)
    t = io.read_points(SHARED / "cnemc_station_list_2026stations_utf8.csv", fields=fields,
                       name="stations")
    st = t.frame[t.frame["city"].isin(["聊城", "济宁"])]
    assert len(st) >= 10
    counties = io.read_polygons(ROOT / "data/raw/counties.gpkg", fields=ph.UNIT_FIELDS,
                                name="counties").frame
    from spatial import admin
    a = admin.attach(st, st["lon"].to_numpy(), st["lat"].to_numpy(), counties)
    city = counties.set_index("code")["city_name"].reindex(a["county_code"]).to_numpy()
    assert (city == (a["city"] + "市").to_numpy()).all()


def _daily(stations, values, start="2025-01-01", days=31):
    """Daily readings frame as read_readings returns it: values[station] = array per day."""
    rows = []
    times = pd.date_range(start, periods=days, freq="D", tz="Asia/Shanghai")
    for sid in stations:
        for t, v in zip(times, values[sid], strict=True):
            if not np.isnan(v):
                rows.append((sid, t, "pm25", float(v), np.nan, np.nan, "r.csv", len(rows) + 2))
    return pd.DataFrame(rows, columns=["station_id", "time", "pollutant", "value", "lon", "lat",
                                       "file", "row"])


def test_validity_completeness_and_idw_cells():
    st = gpd.GeoDataFrame({"id": ["A", "B", "C", "F"], "name": ["a", "b", "c", "f"],
                           "type": ["国控", "省控", "微站", "微站"],
                           "lon": [116.50, 116.56, 116.52, 116.53],
                           "lat": [35.40, 35.42, 35.46, 35.41]},
                          geometry=gpd.points_from_xy([116.5, 116.56, 116.52, 116.53],
                                                      [35.4, 35.42, 35.46, 35.41]),
                          crs="EPSG:4326")
    vals = {"A": np.full(31, 80.0) + np.arange(31) % 4, "B": np.full(31, 40.0) + np.arange(31) % 3,
            "C": np.where(np.arange(31) < 22, 60.0 + np.arange(31) % 2, np.nan),  # 22/31 < 75 %
            "F": np.r_[np.full(5, -999.0), np.full(26, 7.0)]}  # code, then stuck
    readings = _daily(["A", "B", "C", "F"], vals)
    p = ph.Params(max_distance_km=5.0, h3_resolution=8)
    r = ph.run({"stations": st, "readings": readings}, p)
    rej = r.tables["rejected"]
    assert sorted(rej["reason"].str.extract(r"(outside|stuck)")[0]) == ["outside", "stuck"]
    s = r.layers["stations"].set_index("id")
    assert s.loc["C", "status"] == "incomplete" and s.loc["F", "status"] == "failed sensor"
    assert s.loc["A", "mean_value"] == round(vals["A"].mean(), 3)
    assert s.loc["B", "n_periods_valid"] == 1
    cells = r.layers["cells"]
    # brute force: IDW of A and B only (C incomplete, F invalid), 5 km
    c = h3grid.str_to_cells(cells["h3_cell"].to_numpy())
    lat, lng = h3grid.cell_centers(c)
    ref = interpolate.idw(np.array([116.50, 116.56]), np.array([35.40, 35.42]),
                          np.array([np.mean(vals["A"]), np.mean(vals["B"])]), lng, lat,
                          max_distance_m=5000)
    np.testing.assert_allclose(cells["value"], np.round(ref.values, 3), equal_nan=True)
    assert (cells.loc[cells["value"].isna(), "status"] == "beyond_range").all()
    assert cells["value"].isna().any() and cells["value"].notna().any()
    # Gi* equals stats.gi_star on the same cells and k=1 ring weights
    w = stats.ring_weights(c, k=1)
    z, _ = stats.gi_star(cells["value"].to_numpy(), w)
    np.testing.assert_allclose(cells["gi_z"], z, equal_nan=True)
    # exceedance against the mean of all cells (no counties: one area)
    v = cells["value"].to_numpy()
    np.testing.assert_allclose(cells["exceed_ratio"], np.round(v / np.nanmean(v) - 1, 4))


def _rasters(tmp_path, months):
    """Monthly rasters: a background of 40 with a 30-pixel hot block that grows by month."""
    paths = []
    for k, mth in enumerate(months):
        v = np.full((60, 60), 40.0) + (np.arange(60)[None, :] % 5)
        v[20:30, 20:30] += 20 + 3 * k
        v[0, 0] = -9999
        path = tmp_path / f"pm25_{mth}.tif"
        with rasterio.open(path, "w", driver="GTiff", height=60, width=60, count=1,
                           dtype="float32", crs="EPSG:4326", nodata=-9999,
                           transform=Affine(0.01, 0, 116.2, 0, -0.01, 35.6)) as ds:
            ds.write(v.astype(np.float32), 1)
        paths.append(path)
    return pd.DataFrame({"path": [str(p) for p in paths], "file": [p.name for p in paths]})


def test_rasters_lists_and_emerging(tmp_path):
    months = [str(p) for p in pd.period_range("2024-01", "2025-02", freq="M")]
    files = _rasters(tmp_path, months)
    r = ph.run({"rasters": files}, ph.Params(top_n=5))
    cells = r.layers["cells"]
    assert list(dict.fromkeys(cells["period"])) == months
    ref = raster.raster_to_cells(files["path"].iloc[3], resolution=7)
    got = cells[cells["period"] == months[3]].set_index("h3_cell")["value"]
    has = ref.count > 0
    np.testing.assert_allclose(got.loc[h3grid.cells_to_str(ref.cells[has])].to_numpy(),
                               np.round(ref.mean[has], 3))
    wide = cells.pivot(index="h3_cell", columns="period", values="value")
    mom = r.tables["worst_mom"]
    m1 = mom[mom["period"] == "2024-06"]
    d = (wide["2024-06"] - wide["2024-05"]).sort_values(ascending=False, kind="stable")
    assert m1["compared_with"].iloc[0] == "2024-05" and len(m1) == 5
    np.testing.assert_allclose(m1["change"], np.round(d.iloc[:5].to_numpy(), 3), atol=2e-3)
    yoy = r.tables["worst_yoy"]
    assert sorted(yoy["period"].unique()) == ["2025-01", "2025-02"]
    assert (yoy["compared_with"] == ["2024-01"] * 5 + ["2024-02"] * 5).all()
    top = r.tables["top_value"]
    t1 = top[top["period"] == months[-1]]
    np.testing.assert_allclose(t1["value"], np.sort(wide[months[-1]].dropna())[::-1][:5])
    hs = r.layers["hotspots"].set_index("h3_cell")
    hot = t1["h3_cell"].iloc[0]
    assert hs.loc[hot, "category"] in ("persistent hot spot", "intensifying hot spot")
    assert hs.loc[hot, "share_hot"] == 1.0
    assert len(r.tables["by_county"]) == 1
    html = ph.build_map(r).get_root().render()
    # every period in the period selector, the map opening on the last one
    assert re.search(r"var periods = \[[^\]]*\"2024-01\"[^\]]*\"2025-02\"\]", html)


@pytest.fixture(scope="module")
def demo():
    cfg = config.load(ROOT / "configs" / "pollution-hotspots.toml")
    tables = runner.read_inputs(ph, cfg)
    params = ph.Params(**{k: tuple(v) if isinstance(v, list) else v
                          for k, v in cfg["params"].items()})
    return tables, ph.run({k: t.frame for k, t in tables.items()}, params)


def test_demo(demo):
    tables, r = demo
    assert len(tables["rasters"].frame) == 13
    rej = r.tables["rejected"]
    assert set(rej["id"]) == {"M07"} and len(rej) == 2
    s = r.layers["stations"].set_index("id")
    assert s.loc["S370826", "n_periods_valid"] == 11  # offline 12 days in March
    assert s.loc["M07", "status"] == "faulty readings"
    assert abs(s["mean_value"] - s["cell_value"]).median() < 5  # rasters agree with stations
    yoy = r.tables["worst_yoy"]
    assert (yoy["period"] == "2025-12").all() and (yoy["county_name"].iloc[:5] == "临清市").all()
    hs = r.layers["hotspots"]
    chiping = hs[hs["county_name"] == "茌平区"]
    assert (chiping["category"] == "persistent hot spot").sum() > 20
    bc = r.tables["by_county"]
    assert bc["county_name"].iloc[0] == "茌平区" and len(bc) == 19


def test_map_periods_hold_values_and_legends_cover_the_layers(demo):
    import dataclasses

    from analyses import pollution_hotspots_map as phm

    _, r = demo
    cells = r.layers["cells"].copy()
    first = sorted(cells["period"].unique())[0]
    cells.loc[cells["period"] == first, "value"] = np.nan  # a period without any value
    r2 = dataclasses.replace(r, layers={**r.layers, "cells": cells})
    legs = {(leg.layer, leg.column): leg for leg in phm.symbology(r2)}
    periods = legs[("cells", "fdr_class")].extra["periods"]
    assert first not in periods and len(periods) == cells["period"].nunique() - 1
    html = webmap.render_html(phm.build_map(r2), offline=True)
    assert f'"{first}"' not in re.search(r"var periods = \[[^\]]*\]", html).group(0)
    # the pattern categories present, each with its Chinese label; no-pattern cells omitted
    pat = legs[("hotspots", "category")]
    present = set(r.layers["hotspots"]["category"]) - {"no pattern detected"}
    assert {e.value for e in pat.entries} == present
    assert all(e.label == stats.CATEGORY_LABELS_ZH[e.value] for e in pat.entries)
