"""analyses.air_rankings: aq_stats per unit, rankings and 改善率, targets, dust, hot-cell lists."""

from types import SimpleNamespace

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from analyses import air_rankings as ar
from analyses import pollution_hotspots as ph
from spatial import h3grid

POLS = ("so2", "no2", "pm10", "pm25", "co", "o3")


def counties():
    """Two square counties of city 9900 (X west, Y east) and a third, Z, of city 9800."""
    boxes = [shapely.box(116.0, 35.0, 116.2, 35.2), shapely.box(116.2, 35.0, 116.4, 35.2),
             shapely.box(116.4, 35.0, 116.6, 35.2)]
    return gpd.GeoDataFrame({"code": ["990001", "990002", "980001"], "name": ["X县", "Y县", "Z县"],
                             "city_code": ["9900", "9900", "9800"],
                             "city_name": ["甲市", "甲市", "乙市"]}, geometry=boxes,
                            crs="EPSG:4326")


def stations():
    return pd.DataFrame({"id": ["N1", "P1", "M1", "C1", "Z1"],
                         "name": ["国1", "省1", "微1", "市1", "省Z"],
                         "type": ["national", "provincial", "micro", "city", "provincial"],
                         "lon": [116.05, 116.15, 116.10, 116.30, 116.50],
                         "lat": [35.10, 35.10, 35.10, 35.10, 35.10]})


def hourly(station_ids, days, level=1.0, seed=0):
    """Hourly readings of the six pollutants, every hour of `days` (local naive time)."""
    rng = np.random.default_rng(seed)
    t = pd.date_range(days[0], days[-1] + pd.Timedelta(hours=23), freq="h")
    base = {"so2": 10, "no2": 40, "pm10": 100, "pm25": 60, "co": 1.0, "o3": 80}
    rows = []
    for sid in station_ids:
        for p in POLS:
            v = base[p] * level * (1 + 0.2 * rng.standard_normal(len(t)))
            v = np.round(v, 1 if p == "co" else 0)
            rows.append(pd.DataFrame({"station_id": sid, "time": t, "pollutant": p, "value": v}))
    return pd.concat(rows, ignore_index=True)


def params(**kw):
    base = dict(aq_periods=("month",), assessment_types=("national", "provincial"),
                deduct_dust=False, bottom_n=20)
    return SimpleNamespace(**{**base, **kw})


def test_units_station_roles_and_units_without_station():
    jan = pd.date_range("2025-01-01", periods=31)
    h = hourly(["N1", "P1", "M1", "C1"], jan)
    aq = ar.build(h, stations(), counties(), None, None, None, params())
    s = aq.tables["aq_stats"]
    assert any("2 stations with hourly readings are not assessment stations (1 micro, 1 city)"
               in line for line in aq.summary)
    # no micro-sensor, no 市控; Z1 is an assessment station without readings
    assert set(s.loc[s["level"] == "station", "code"]) == {"N1", "P1", "Z1"}
    assert s.loc[s["code"] == "Z1", "reason"].tolist() == ["no hourly readings"]
    y = s[(s["level"] == "county") & (s["code"] == "990002")].iloc[0]
    assert not y["valid"] and y["reason"] == "no assessment station with hourly readings"
    z = s[(s["level"] == "city") & (s["code"] == "9800")].iloc[0]
    assert z["reason"] == "no assessment station with hourly readings"
    # the county is the hourly mean of N1 and P1: its PM2.5 is the mean of daily means
    uh = h[h["station_id"].isin(["N1", "P1"]) & (h["pollutant"] == "pm25")]
    hourly_mean = uh.groupby("time")["value"].mean()
    ref = hourly_mean.groupby(hourly_mean.index.normalize()).mean().mean()
    x = s[(s["level"] == "county") & (s["code"] == "990001")].iloc[0]
    assert x["valid"] and x["pm25"] == np.round(ref) and x["n_valid_days"] == 31
    # a station without readings in one of the periods is listed for it
    feb = pd.date_range("2025-02-01", periods=28)
    aq3 = ar.build(pd.concat([h, hourly(["N1"], feb, seed=1)]), stations(), counties(), None,
                   None, None, params())
    p1 = aq3.tables["aq_stats"].query("code == 'P1'").set_index("period")
    assert p1.loc["2025-01", "valid"] and not p1.loc["2025-02", "valid"]
    assert p1.loc["2025-02", "reason"] == "no hourly readings in this period"
    city = s[(s["level"] == "city") & (s["code"] == "9900")].iloc[0]
    assert city["pm25"] == x["pm25"] and city["name"] == "甲市"
    # with 市控 among the assessment types, C1 makes county Y assessable
    aq2 = ar.build(h, stations(), counties(), None, None, None,
                   params(assessment_types=("national", "provincial", "city")))
    s2 = aq2.tables["aq_stats"]
    assert s2[(s2["level"] == "county") & (s2["code"] == "990002")]["valid"].all()


def test_invalid_month_has_reason_and_no_values():
    jan = pd.date_range("2025-01-01", periods=26)  # 26 days of January
    aq = ar.build(hourly(["N1"], jan), stations(), counties(), None, None, None, params())
    st = aq.tables["aq_stats"].query("level == 'station'").iloc[0]
    assert not st["valid"] and st["reason"] == "all six pollutants: 26 valid days < 27"
    assert np.isnan(st["pm25"]) and np.isnan(st["composite_index"])


def test_a_dust_day_changes_pm10_and_pm25_and_nothing_else():
    jan = pd.date_range("2025-01-01", periods=31)
    h = hourly(["N1", "P1"], jan)
    dusty = (h["time"].dt.normalize() == "2025-01-10") & h["pollutant"].isin(["pm10", "pm25"])
    h.loc[dusty, "value"] *= 5
    dust = pd.DataFrame({"date": [pd.Timestamp("2025-01-10")], "code": ["9900"]})
    off = ar.build(h, stations(), counties(), None, dust, None, params(deduct_dust=False))
    on = ar.build(h, stations(), counties(), None, dust, None, params(deduct_dust=True))
    a, b = (x.tables["aq_stats"].query("valid").set_index(["level", "code"])
            for x in (off, on))
    assert (b["dust_days"] == 1).all() and (a["dust_days"] == 0).all()
    assert (b["pm10"] < a["pm10"]).all() and (b["pm25"] < a["pm25"]).all()
    for c in ("so2", "no2", "co_p95", "o3_8h_p90", "good_days", "heavy_days", "n_valid_days"):
        assert a[c].equals(b[c]), c
    # the deducted PM2.5 of station N1 is the mean of its 30 other daily means
    n1 = h[(h["station_id"] == "N1") & (h["pollutant"] == "pm25")]
    daily = n1.groupby(n1["time"].dt.normalize())["value"].mean()
    assert b.loc[("station", "N1"), "pm25"] == np.round(daily.drop(pd.Timestamp("2025-01-10"))
                                                        .mean())


def stats_rows(rows):
    cols = ["level", "code", "name", "county_name", "period_type", "period", "composite_index",
            "pm25", "primary_pollutant", "valid"]
    return pd.DataFrame([dict(zip(cols, r, strict=True)) for r in rows])


def test_ranking_and_improvement_on_a_hand_made_set():
    s = stats_rows([
        ("county", "A", "甲", "甲", "month", "2025-01", 5.00, 60, "PM2.5", True),
        ("county", "B", "乙", "乙", "month", "2025-01", 6.00, 70, "PM2.5", True),
        ("county", "C", "丙", "丙", "month", "2025-01", 6.00, 65, "PM2.5", True),
        ("county", "D", "丁", "丁", "month", "2025-01", 4.00, 50, "PM2.5", False),  # invalid
        ("county", "A", "甲", "甲", "month", "2024-01", 5.50, 66, "PM2.5", True),
        ("county", "B", "乙", "乙", "month", "2024-01", 5.00, 70, "PM2.5", True),
        ("county", "C", "丙", "丙", "month", "2024-01", 8.00, 80, "PM2.5", True),
        ("city", "Q", "市", None, "month", "2025-01", 5.5, 64, "PM2.5", True),  # not ranked
    ])
    r = ar.ranking(s, bottom_n=1).query("period == '2025-01'").set_index("code")
    assert list(r.index) == ["A", "B", "C"] or list(r.index) == ["A", "C", "B"]
    assert r["rank_index"].tolist()[0] == 1 and r.loc["B", "rank_index"] == 2 \
        and r.loc["C", "rank_index"] == 2  # equal indices share a rank
    assert r.loc["A", "rank_pm25"] == 1 and r.loc["C", "rank_pm25"] == 2 \
        and r.loc["B", "rank_pm25"] == 3
    # 改善率 = (last - this) / last * 100: A (5.5-5)/5.5 = 9.09 %, B -20 %, C 25 %
    assert r.loc["A", "improve_index_pct"] == 9.09
    assert r.loc["B", "improve_index_pct"] == -20.0 and r.loc["C", "improve_index_pct"] == 25.0
    assert r.loc["A", "improve_pm25_pct"] == pytest.approx(round(6 / 66 * 100, 2))
    assert (r.loc["C", "rank_improve"], r.loc["A", "rank_improve"],
            r.loc["B", "rank_improve"]) == (1, 2, 3)
    # bottom 1 by index: B and C tie for the worst; bottom 1 by 改善率: B; both lists: B
    assert r["bottom_index"].to_dict() == {"A": False, "B": True, "C": True}
    assert r["bottom_improve"].to_dict() == {"A": False, "B": True, "C": False}
    assert r["both_lists"].to_dict() == {"A": False, "B": True, "C": False}
    assert (r["n_units"] == 3).all()
    last = ar.ranking(s, bottom_n=1).query("period == '2024-01'")
    assert last["improve_index_pct"].isna().all()  # no 2023 to compare with


def test_targets_gap():
    s = stats_rows([("county", "A", "甲", "甲", "year", "2025", 5.0, 47.0, "PM2.5", True),
                    ("city", "Q", "市", None, "year", "2025", 4.8, 41.0, "PM2.5", True)])
    t = ar.targets_table(s, pd.DataFrame({"code": ["A", "Q"], "pm25": [43.0, 43.0]}))
    t = t.set_index("code")
    assert t.loc["A", "gap"] == 4.0 and not t.loc["A", "meets"]
    assert t.loc["Q", "gap"] == -2.0 and t.loc["Q", "meets"]
    with pytest.raises(ph.InputError, match="neither a county code nor a city code"):
        ar.targets_table(s, pd.DataFrame({"code": ["nope"], "pm25": [43.0]}))


def test_hot_cell_set_and_lists_by_percent():
    cells = np.sort(h3grid.points_to_cells(np.full(20, 35.1) + np.arange(20) * 0.05,
                                           np.full(20, 116.1), resolution=7))
    periods = list(pd.period_range("2024-01", "2025-02", freq="M"))
    rng = np.random.default_rng(1)
    values = rng.uniform(30, 60, (len(cells), len(periods)))
    values[3] += 40  # the hottest cell of both years
    values[7, 12] = np.nan  # a gap
    loc = pd.DataFrame({"county_code": "1", "county_name": "c", "township_code": None,
                        "township_name": None}, index=range(len(cells)))
    lat, lng = h3grid.cell_centers(cells)
    t = ar.hot_cell_tables(cells, periods, values, loc, lng, lat, hot_share=0.1, top_n=5)
    hot = t["hot_cells"]
    for year in (2024, 2025):
        cols = [j for j, p in enumerate(periods) if p.year == year]
        mean = np.nanmean(values[:, cols], axis=1)
        ref = np.argsort(-mean)[:2]  # ceil(0.1 * 20) = 2 cells
        got = hot[hot["year"] == year]["h3_cell"].tolist()
        assert got == h3grid.cells_to_str(cells[ref]).tolist()
    # 2025-01 year-on-year, restricted to the 2025 hot cells, by percent
    hot25 = hot[hot["year"] == 2025]["h3_cell"].tolist()
    idx = [h3grid.cells_to_str(cells).tolist().index(c) for c in hot25]
    j, k = periods.index(pd.Period("2025-01", "M")), periods.index(pd.Period("2024-01", "M"))
    pct = {c: (values[i, j] - values[i, k]) / values[i, k] * 100
           for c, i in zip(hot25, idx, strict=True)}
    yoy = t["hot_worst_yoy"].query("period == '2025-01'")
    assert yoy["h3_cell"].tolist() == sorted(pct, key=lambda c: -pct[c])
    assert yoy["change_pct"].tolist() == [round(pct[c], 2) for c in yoy["h3_cell"]]
    assert set(t["hot_top_value"]["h3_cell"]) <= set(hot["h3_cell"])
    assert t["hot_worst_mom"].query("period == '2024-01'").empty  # no 2023-12


def test_pollution_hotspots_run_gives_the_tables_from_hourly_readings():
    jan = pd.date_range("2025-01-01", periods=31)
    h = hourly(["N1", "P1", "Z1"], jan)
    h["lon"], h["lat"], h["file"], h["row"] = np.nan, np.nan, "h.csv", np.arange(len(h)) + 2
    h["time"] = h["time"].dt.tz_localize("Asia/Shanghai")
    st = stations()
    st = gpd.GeoDataFrame(st, geometry=gpd.points_from_xy(st["lon"], st["lat"]),
                          crs="EPSG:4326")
    r = ph.run({"stations": st, "readings": h, "counties": counties()},
               ph.Params(max_distance_km=20, aq_periods=("month", "year"), bottom_n=1))
    s = r.tables["aq_stats"]
    assert set(s["period_type"]) == {"month", "year"}
    yr = s.query("period_type == 'year' and not reason.str.startswith('no ')")
    assert len(yr) and yr["reason"].str.contains("< 324").all()
    rank = r.tables["ranking"]
    assert len(rank) == 2 and set(rank["code"]) == {"990001", "980001"}
    assert rank["bottom_index"].sum() == 1
    assert len(r.layers["unit_ranking"]) == 2
    assert {"aq_stats", "ranking", "targets", "hot_cells", "hot_worst_yoy"} <= set(r.tables)
    # the ranking view on the map: a layer per level and rank labels
    import json
    html = ph.build_map(r).get_root().render()
    assert json.dumps("县区综合指数排名")[1:-1] in html
    best = rank.sort_values("rank_index").iloc[0]
    label = f"第1/2名 {best['composite_index']:.2f}"
    assert label in html or json.dumps(label)[1:-1] in html
    specs = ph.extra_figures(r)["ranking"][1]
    assert sorted(specs[0].data["label"]) == sorted(
        f"第{int(k)}/2名 {v:.2f}" for k, v in zip(rank["rank_index"], rank["composite_index"],
                                                  strict=True))


def test_excel_headers_from_fields_and_gzip_csv(tmp_path):
    from spatial import export, io
    fields = {**ar.FIELDS, "period": ph.FIELDS["period"]}
    df = pd.DataFrame({"pm25": [35.0], "composite_index": [4.1], "period": ["2025-01"],
                       "other": [1]})
    export.write_tables({"aq_stats": df, "targets": df}, tmp_path, fields=fields,
                        about={"analysis": "pollution-hotspots"})
    x = pd.read_excel(tmp_path / "tables.xlsx", sheet_name=None)
    assert list(x["空气质量统计"].columns) == ["PM2.5平均浓度（µg/m³）", "综合指数", "时段",
                                          "other"]
    assert "目标差距" in x  # pollution-hotspots' targets, not heat-radius' 关停整合清单
    assert list(pd.read_csv(tmp_path / "aq_stats.csv").columns) == list(df.columns)
    import gzip
    p = tmp_path / "h.csv.gz"
    p.write_bytes(gzip.compress("站点编码,监测时间,PM2.5,SO2\nA,2025-01-01 00:00,35,9\n"
                                .encode("gb18030")))
    t = io.read_readings(p)
    assert sorted(t.frame["pollutant"]) == ["pm25", "so2"] and t.encoding is not None
    bad = tmp_path / "bad.csv.gz"
    bad.write_bytes(b"not gzip at all")
    with pytest.raises(ph.InputError, match="not a readable gzip file"):
        io.read_readings(bad)


def test_demo_fills_every_statistics_table(demo_out):
    d = demo_out / "layers" / "pollution-hotspots"
    for name in ("aq_stats", "ranking", "targets", "hot_cells", "hot_top_value",
                 "hot_worst_yoy", "hot_worst_mom"):
        assert len(pd.read_csv(d / f"{name}.csv", encoding="utf-8-sig")) > 0, name
    s = pd.read_csv(d / "aq_stats.csv", encoding="utf-8-sig", dtype={"code": str})
    march = s.query("level == 'county' and period == '2025-03'")
    assert (march["dust_days"] == 2).all() and march["valid"].all()
    feb = s.query("level == 'station' and code == 'S370827' and period == '2025-02'")
    assert not feb["valid"].iloc[0] and "21 valid days < 25" in feb["reason"].iloc[0]
    rank = pd.read_csv(d / "ranking.csv", encoding="utf-8-sig")
    assert rank.query("period == '2025-01'")["improve_index_pct"].notna().all()
    x = pd.read_excel(d / "tables.xlsx", sheet_name="综合指数排名")
    assert "综合指数排名" in x.columns and "改善率排名" in x.columns
    assert (demo_out / "maps" / "pollution-hotspots.ranking.png").stat().st_size > 20_000


def test_day_rows_carry_the_daily_aqi():
    t = pd.date_range("2025-01-01", periods=48, freq="h")
    conc = {"so2": 10.0, "no2": 50.0, "pm10": 120.0, "pm25": 80.0, "co": 1.0, "o3": 120.0}
    h = pd.concat([pd.DataFrame({"station_id": "N1", "time": t, "pollutant": p, "value": v})
                   for p, v in conc.items()], ignore_index=True)
    h.loc[(h["pollutant"] == "pm25") & (h["time"] >= "2025-01-02"), "value"] = 20.0
    aq = ar.build(h, stations(), counties(), None, None, None, params(aq_periods=("day",)))
    s = aq.tables["aq_stats"].query("code == 'N1'").set_index("period")
    # worked by hand in tests/test_airstats.py::test_daily_aqi_example: AQI 107, PM2.5, 三级
    assert s.loc["2025-01-01", ["aqi", "aqi_primary", "aqi_level", "aqi_category"]].tolist() \
        == [107, "PM2.5", "三级", "轻度污染"]
    # day 2: PM2.5 20 -> IAQI 29; largest is PM10 50 + 50/100*70 = 85 -> 良, PM10
    assert s.loc["2025-01-02", ["aqi", "aqi_primary", "aqi_category"]].tolist() == \
        [85, "PM10", "良"]
    assert s.loc["2025-01-01", "good_days"] == 0 and s.loc["2025-01-02", "good_days"] == 1


def test_dust_days_reader_accepts_chinese_dates_and_rejects_bad_ones(tmp_path):
    p = tmp_path / "沙尘.csv"
    p.write_text("日期,行政区划代码\n2025年3月14日,371500\n2025/3/15,\n三月,371500\n",
                 encoding="gb18030")
    spec = next(s for s in ph.INPUTS if s.name == "dust_days")
    t = ar.read_dust_days({"path": p}, spec)
    assert t.frame["date"].tolist() == [pd.Timestamp("2025-03-14"), pd.Timestamp("2025-03-15")]
    assert t.rejected["row"].tolist() == [4] and "三月" in t.rejected["reason"].iloc[0]


def test_an_invalid_day_that_already_exceeds_is_flagged_in_aq_stats():
    """N1 reports 15 hours of 2025-01-05 (< 20: no daily value); its PM2.5 hours average 60 ×
    level 2.4 ≈ 144, so (sum of the 15 hours) / 24 is above 75 µg/m³ whatever the 9 missing
    hours were: exceed_incomplete names PM2.5 with that bound, by hand from the readings."""
    day = pd.date_range("2025-01-05", periods=1)
    h = hourly(["N1"], day, level=2.4, seed=3)
    h = h[h["time"].dt.hour < 15]
    aq = ar.build(h, stations(), counties(), None, None, None, params(aq_periods=("day",)))
    st = aq.tables["aq_stats"].query("level == 'station' and code == 'N1'").iloc[0]
    assert not st["valid"] and np.isnan(st["pm25"])
    pm = h[h["pollutant"] == "pm25"]["value"]
    assert len(pm) == 15
    want = pm.sum() / 24
    assert want > 75
    shown = f"PM2.5 ≥ {aq_round(want):g} > 75"
    assert shown in st["exceed_incomplete"]
    # the month of that single day has no limit: no flag
    aq_m = ar.build(h, stations(), counties(), None, None, None, params())
    assert (aq_m.tables["aq_stats"]["exceed_incomplete"] == "").all()


def aq_round(x):
    """GB/T 8170 to an integer, by hand: half to even (Python's round does exactly that)."""
    return round(x)
