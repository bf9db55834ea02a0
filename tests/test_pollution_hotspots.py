"""pollution-hotspots: readings formats, validity rules, cell values, Gi*, lists, demo."""

import dataclasses
import re

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import pytest
import rasterio
from affine import Affine
from conftest import ROOT, TEST_DATA

from analyses import pollution_hotspots as ph
from analyses import runner
from spatial import config, io, stats, webmap
from spatial.errors import InputError

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


def test_cnemc_station_list_falls_in_demo_counties():
    """Real CNEMC rows: each station lies in a county of its own city, or in none of the demo's."""
    import csv

    import shapely

    from spatial import admin

    path = TEST_DATA / "cnemc_station_list_2026stations_utf8.csv"
    fields = ph.INPUTS[0].fields + (io.Field("city", "text", False, ("地级行政区",)),)
    t = io.read_points(path, fields=fields, name="stations")
    with open(path, encoding="utf-8", newline="") as f:
        raw = list(csv.DictReader(f))
    assert len(t.frame) == len(raw) == 161 and len(t.rejected) == 0
    assert t.frame["id"].tolist() == [r["监测点编码"] for r in raw]
    counties = io.read_polygons(ROOT / "data/raw/counties.gpkg", fields=ph.UNIT_FIELDS,
                                name="counties").frame
    a = admin.attach(t.frame, t.frame["lon"].to_numpy(), t.frame["lat"].to_numpy(), counties)
    # reference: shapely point in polygon, station by station, on the file's own text
    expected = []
    for r in raw:
        p = shapely.Point(float(r["经度"]), float(r["纬度"]))
        inside = [c for c, g in zip(counties["city_name"], counties.geometry, strict=True)
                  if g.contains(p)]
        expected.append(inside[0] if inside else None)
    got = counties.set_index("code")["city_name"].reindex(a["county_code"]).tolist()
    assert [g if isinstance(g, str) else None for g in got] == expected
    # every Liaocheng and Jining station (13) is in a county of its own city; no other is
    own = [r["地级行政区"] if r["地级行政区"] in ("聊城市", "济宁市") else None for r in raw]
    assert expected == own and sum(c is not None for c in own) == 13


def great_circle_m(lng1, lat1, lng2, lat2, radius=6_371_008.8):
    """Haversine distance in metres on the sphere of the IUGG mean Earth radius."""
    p1, p2, dl = np.radians(lat1), np.radians(lat2), np.radians(lng2 - lng1)
    h = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * radius * np.arcsin(np.sqrt(h))


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
    # brute force: IDW (power 2) of A and B only (C incomplete, F invalid) within 5 km of each
    # cell centre (h3's own cell_to_latlng), great-circle distances on the mean-radius sphere
    srcs = [(116.50, 35.40, np.mean(vals["A"])), (116.56, 35.42, np.mean(vals["B"]))]
    ref = []
    for cell in cells["h3_cell"]:
        clat, clng = h3.cell_to_latlng(cell)
        num = den = 0.0
        for slng, slat, sv in srcs:
            d = great_circle_m(clng, clat, slng, slat)
            if d <= 5000:
                num, den = num + sv / max(d, 1.0) ** 2, den + 1 / max(d, 1.0) ** 2
        ref.append(num / den if den else np.nan)
    np.testing.assert_allclose(cells["value"], np.round(ref, 3), equal_nan=True)
    assert (cells.loc[cells["value"].isna(), "status"] == "beyond_range").all()
    assert cells["value"].isna().any() and cells["value"].notna().any()
    # Gi* by the textbook formula (Getis & Ord 1995; binary weights, the cell itself and its
    # k=1 ring among the cells with a value): z_i = (sum_j w_ij x_j - xbar W_i) /
    # (s sqrt((n W_i - W_i**2) / (n - 1))), xbar and s (divisor n) over the n cells with a value
    x = cells.set_index("h3_cell")["value"].dropna()
    n, xbar = len(x), x.mean()
    sd = np.sqrt((x**2).mean() - xbar**2)
    z = {}
    for cell in x.index:
        near = [c for c in h3.grid_disk(cell, 1) if c in x.index]
        wsum = len(near)
        z[cell] = (x[near].sum() - xbar * wsum) / (sd * np.sqrt((n * wsum - wsum**2) / (n - 1)))
    want = cells["h3_cell"].map(z).astype(float)
    np.testing.assert_allclose(cells["gi_z"], want, rtol=1e-9, equal_nan=True)
    assert cells["gi_z"].notna().sum() == n > 10
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
    # by hand from the generator (not the file): month k=3, pixel (r, c) has centre
    # 116.2 + 0.01 (c + 0.5) E, 35.6 - 0.01 (r + 0.5) N; the mean of the valid pixels per cell
    r_, c_ = np.mgrid[0:60, 0:60]
    v = 40.0 + c_ % 5
    v[20:30, 20:30] += 20 + 3 * 3
    valid = (r_ + c_) > 0  # pixel (0, 0) is nodata
    lat, lng = 35.6 - 0.01 * (r_[valid] + 0.5), 116.2 + 0.01 * (c_[valid] + 0.5)
    owner = [h3.latlng_to_cell(a, b, 7) for a, b in zip(lat, lng, strict=True)]
    ref = pd.Series(v[valid]).groupby(owner).mean()
    got = cells[cells["period"] == months[3]].set_index("h3_cell")["value"].dropna()
    assert sorted(got.index) == sorted(ref.index)
    np.testing.assert_allclose(got.loc[ref.index].to_numpy(), np.round(ref.to_numpy(), 3))
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
    assert re.search(r"\"periods\":\[\"2024-01\"[^\]]*\"2025-02\"\]", html)


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


def test_receptors_listed_near_hot_spots(tmp_path):
    import h3
    from pyproj import Geod

    def centres(cells):  # h3's own cell centres, (lng, lat) arrays
        ll = np.array([h3.cell_to_latlng(c) for c in cells])
        return ll[:, 1], ll[:, 0]

    months = [str(p) for p in pd.period_range("2024-01", "2025-02", freq="M")]
    files = _rasters(tmp_path, months)
    base = ph.run({"rasters": files}, ph.Params())
    hs = base.layers["hotspots"]
    hot = hs[hs["category"].isin(ph.HOT_PATTERNS)]
    assert len(hot) and len(hot) < len(hs)
    cx, cy = centres(hot["h3_cell"].iloc[:1])
    geod = Geod(ellps="WGS84")
    sx, sy, _ = geod.fwd(cx[0], cy[0], 0, 800)          # a school 0.8 km north of a hot cell
    fx, fy, _ = geod.fwd(116.2, 35.6, 315, 20000)     # a hospital far from every cell
    rec = pd.DataFrame({"name": ["实验小学", "人民医院"], "kind": ["school", "hospital"],
                        "lon": [sx, fx], "lat": [sy, fy]})
    r = ph.run({"rasters": files, "receptors": rec}, ph.Params(receptor_km=3.0))
    out = r.layers["hotspots"].set_index("h3_cell")
    row = out.loc[hot["h3_cell"].iloc[0]]
    assert row["n_receptors"] == 1 and row["receptors"].startswith("实验小学（school，")
    # every listed cell is a hot spot whose centre is within 3 km of the school (pyproj)
    listed = out[out["n_receptors"] > 0]
    assert listed["category"].isin(ph.HOT_PATTERNS).all()
    lx, ly = centres(listed.index)
    d = geod.inv(lx, ly, np.full(len(lx), sx), np.full(len(lx), sy))[2]
    assert (d <= 3000 * (1 + 1e-3)).all()
    hot_all = out[out["category"].isin(ph.HOT_PATTERNS)]
    hx, hy = centres(hot_all.index)
    dall = geod.inv(hx, hy, np.full(len(hx), sx), np.full(len(hx), sy))[2]
    assert (hot_all["n_receptors"] > 0).sum() == (dall <= 3000).sum()


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
    assert f'"{first}"' not in re.search(r"\"periods\":\[[^\]]*\]", html).group(0)
    # the pattern categories present, each with its Chinese label; no-pattern cells omitted
    pat = legs[("hotspots", "category")]
    present = set(r.layers["hotspots"]["category"]) - {"no pattern detected"}
    assert {e.value for e in pat.entries} == present
    assert all(e.label == stats.CATEGORY_LABELS_ZH[e.value] for e in pat.entries)


def _three_stations():
    lon, lat = [116.0, 116.6, 117.2], [35.4, 35.9, 35.4]  # ~60 km apart: one station per cell
    return gpd.GeoDataFrame({"id": ["A", "B", "C"], "name": ["a", "b", "c"],
                             "type": ["国控"] * 3, "lon": lon, "lat": lat},
                            geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")


@pytest.mark.parametrize("kind", ["quarter", "season", "year"])
def test_period_types_quarter_season_year_by_hand(kind):
    """Daily readings 2023-10-01 … 2025-03-31 (548 days); each cell holds one station, so a
    cell's value is its station's mean over the period's days (worked out here with masks)."""
    days = pd.date_range("2023-10-01", "2025-03-31", freq="D")
    k = np.arange(len(days))
    vals = {"A": 30 + 40 * np.isin(days.month, [11, 12, 1, 2]) + k % 7,
            "B": 20 + k % 5 + 0.01 * k, "C": 25.0 + (k % 11) * 1.5}
    readings = _daily(["A", "B", "C"], vals, start="2023-10-01", days=len(days))
    r = ph.run({"stations": _three_stations(), "readings": readings},
               ph.Params(period=kind, stations_only=True, h3_resolution=7, top_n=3,
                         max_distance_km=5.0))
    cells = r.layers["cells"]
    a_cell = h3.latlng_to_cell(35.4, 116.0, 7)
    got = cells[cells["h3_cell"] == a_cell].set_index("period")["value"]
    if kind == "quarter":
        # 2023Q4 … 2025Q1: six quarters, all complete
        labels = ["2023Q4", "2024Q1", "2024Q2", "2024Q3", "2024Q4", "2025Q1"]
        masks = [days.to_period("Q").astype(str) == lab for lab in labels]
    elif kind == "season":
        # October–March only: 2023/2024 (183 days) and 2024/2025 (182); April–September out
        labels = ["2023/2024秋冬", "2024/2025秋冬"]
        first = [pd.Timestamp("2023-10-01"), pd.Timestamp("2024-10-01")]
        masks = [(days >= f) & (days < f + pd.DateOffset(months=6)) for f in first]
        assert [int(m.sum()) for m in masks] == [183, 182]
        off = int(((days.month >= 4) & (days.month <= 9)).sum())  # 183 days × 3 stations
        assert any(s.startswith(f"{3 * off} valid readings of April–September")
                   for s in r.summary)
    else:
        # 2023 has 92 of 365 days and 2025 90: below completeness 0.75; only 2024 is a value
        labels = ["2024"]
        masks = [days.year == 2024]
    assert list(got.index) == labels
    np.testing.assert_allclose(got.to_numpy(),
                               [round(vals["A"][m].mean(), 3) for m in masks], atol=1e-9)
    yoy, mom = r.tables["worst_yoy"], r.tables["worst_mom"]
    if kind == "quarter":  # 同比: 2024Q4 with 2023Q4, 2025Q1 with 2024Q1; 环比: the one before
        assert sorted(set(zip(yoy["period"], yoy["compared_with"], strict=True))) == \
            [("2024Q4", "2023Q4"), ("2025Q1", "2024Q1")]
        assert sorted(set(zip(mom["period"], mom["compared_with"], strict=True))) == \
            list(zip(labels[1:], labels[:-1], strict=True))
        row = mom[(mom["period"] == "2024Q2") & (mom["h3_cell"] == a_cell)].iloc[0]
        want = vals["A"][masks[2]].mean() - vals["A"][masks[1]].mean()
        assert row["change"] == pytest.approx(want, abs=2e-3)
    elif kind == "season":  # both compare with the season a year earlier
        for t in (yoy, mom):
            assert set(zip(t["period"], t["compared_with"], strict=True)) == \
                {("2024/2025秋冬", "2023/2024秋冬")}
        row = yoy[yoy["h3_cell"] == a_cell].iloc[0]
        want = vals["A"][masks[1]].mean() - vals["A"][masks[0]].mean()
        assert row["change"] == pytest.approx(want, abs=2e-3)
    else:
        assert yoy.empty and mom.empty
    top = r.tables["top_value"]
    assert list(dict.fromkeys(top["period"])) == labels
    assert (top.groupby("period").size() == 3).all()
    assert set(r.layers["cells"]["period"]) == set(labels)  # Gi* and exceedance per period


def test_more_periods_than_a_map_holds_become_one_map_per_year(tmp_path):
    months = [str(p) for p in pd.period_range("2024-01", "2025-02", freq="M")]
    r = ph.run({"rasters": _rasters(tmp_path, months)}, ph.Params())
    assert ph.map_years(r) == {}  # 14 periods <= 36: one map
    assert ph.map_years(r, 14) == {}
    years = ph.map_years(r, 13)
    assert list(years) == ["2024", "2025"]
    assert sorted(years["2024"].layers["cells"]["period"].unique()) == months[:12]
    assert sorted(years["2025"].layers["cells"]["period"].unique()) == months[12:]
    settings = {**runner.map_settings({"map": {"map_periods": 13}}, offline=True)}
    pages = runner.render_year_maps(ph, r, settings, "pollution-hotspots")
    assert sorted(pages) == ["pollution-hotspots.2024.html", "pollution-hotspots.2025.html",
                             "pollution-hotspots.html"]
    assert pages["pollution-hotspots.html"] == pages["pollution-hotspots.2025.html"]
    p24, p25 = pages["pollution-hotspots.2024.html"], pages["pollution-hotspots.2025.html"]
    # each holds its own year's periods and links to the other year
    assert re.search(r"\"periods\":\[\"2024-01\"[^\]]*\"2024-12\"\]", p24) and "2025-01" not in \
        re.search(r"\"periods\":\[[^\]]*\]", p24).group(0)
    assert re.search(r"\"periods\":\[\"2025-01\",\"2025-02\"\]", p25)
    assert 'href=\\"pollution-hotspots.2025.html\\"' in p24
    assert 'href=\\"pollution-hotspots.2024.html\\"' in p25
    with pytest.raises(InputError, match="map_periods"):
        config.map_options({"map_periods": 0})


def _value_edges(result) -> list[float]:
    leg = next(g for g in ph.symbology(result) if g.layer == "cells" and g.column == "value")
    return [leg.entries[0].lower] + [e.upper for e in leg.entries]


def test_year_maps_share_the_value_classes_of_the_run(tmp_path):
    # NO2 has no fixed classes: breaks from the values. The generator's hot block grows by
    # 3 a month, so 2024's cells alone (hot block up to ~97) would give other breaks than the
    # whole run's (up to ~103); every year's map must colour a concentration alike.
    months = [str(p) for p in pd.period_range("2024-01", "2025-02", freq="M")]
    r = ph.run({"rasters": _rasters(tmp_path, months)}, ph.Params(pollutant="no2"))
    years = ph.map_years(r, 13)
    e24, e25, run = _value_edges(years["2024"]), _value_edges(years["2025"]), _value_edges(r)
    assert e24 == e25 == run
    cells = r.layers["cells"]
    only_2024 = dataclasses.replace(r, layers={**r.layers, "cells": cells[
        cells["period"].str.startswith("2024")]})
    # 2024 on its own tops out lower (97 of 103 at the hot block): its own breaks would differ
    assert _value_edges(only_2024)[-1] < run[-1]
    # classes given by the user are used as they are, in every year's map
    mine = ph.Params(pollutant="no2", value_classes=[0, 40, 80, 180])
    r2 = dataclasses.replace(r, params=mine)
    assert _value_edges(ph.map_years(r2, 13)["2024"])[1:-1] == [40.0, 80.0]
    with pytest.raises(InputError, match="value_classes"):
        ph.Params(value_classes=[10, 5])
