"""Air-quality statistics per station, township, county and city, the rankings and hot-cell lists.

Called by :mod:`analyses.pollution_hotspots`; the statistics themselves are in
:mod:`spatial.airstats` (GB 3095-2012, HJ 663-2013, HJ 633-2012, the 2014 ranking rules).

Tables
------
aq_stats
    One row per unit (station / township / county / city) and period: n_valid_days (days with
    all six daily values), so2, no2, pm10, pm25 (means of daily values, µg/m³), co_p95
    (mg/m³), o3_8h_p90 (µg/m³), composite_index, primary_pollutant, good_days, heavy_days,
    dust_days (days deducted from PM10/PM2.5), valid and reason, exceed_incomplete (an invalid
    day or year that exceeds the limit whatever the missing data were, :mod:`spatial.airexceed`,
    HJ 663-2013). Units without an assessment
    station with readings are listed with reason "no assessment station with hourly
    readings" (stations without readings: "no hourly readings").
ranking
    Per period and level (county, township): rank by composite index and by PM2.5 (1 = lowest),
    改善率 (improvement against the same period a year earlier, % = (last − this) / last · 100)
    of the index and of PM2.5, rank by the index's 改善率 (1 = most improved), and flags for the
    bottom ``bottom_n`` by index, by 改善率, and for units on both lists.
targets
    Per unit with a target (``targets`` input, county or city code): value, target and gap.
hot_cells, hot_top_value, hot_worst_yoy, hot_worst_mom
    The annual hot-cell set (the top ``hot_share`` of cells by annual mean of the monthly cell
    values) and, restricted to it, the three monthly lists: highest monthly value, largest
    year-on-year rise in percent, largest month-on-month rise in percent.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from spatial import admin, airexceed, airstats, h3grid
from spatial.errors import InputError
from spatial.export import FieldMeta
from spatial.io import Field, Table, read_table

LEVELS = ("station", "township", "county", "city")
RANKED_LEVELS = ("county", "township")
STAT_COLS = {"so2": "so2", "no2": "no2", "pm10": "pm10", "pm25": "pm25", "co": "co_p95",
             "o3": "o3_8h_p90"}
AQ_COLS = ["level", "code", "name", "county_code", "county_name", "period_type", "period",
           "n_valid_days", "so2", "no2", "pm10", "pm25", "co_p95", "o3_8h_p90",
           "composite_index", "primary_pollutant", "good_days", "heavy_days", "dust_days",
           "aqi", "aqi_primary", "aqi_level", "aqi_category",
           "valid", "reason", "exceed_incomplete"]
NO_STATION = "no assessment station with hourly readings"
NO_READINGS = "no hourly readings"
NO_DATA_IN_PERIOD = "no hourly readings in this period"
TARGET_METRICS = ("pm25", "pm10", "no2", "so2", "co_p95", "o3_8h_p90", "composite_index",
                  "good_days")

# ----------------------------------------------------------------------------- inputs

DUST_FIELDS = (Field("date", "text", True, ("日期", "沙尘日期", "day")),
               Field("code", "text", False, ("行政区划代码", "区划代码", "adcode", "县区代码",
                                             "城市代码")))
TARGET_FIELDS = (Field("code", "text", True, ("行政区划代码", "adcode", "区划代码")),
                 Field("name", "text", False),
                 Field("pm25", "float", False, ("pm2.5", "pm2_5", "PM2.5目标")),
                 Field("pm10", "float", False), Field("no2", "float", False),
                 Field("so2", "float", False), Field("co_p95", "float", False, ("co",)),
                 Field("o3_8h_p90", "float", False, ("o3", "o3_8h")),
                 Field("composite_index", "float", False, ("综合指数",)),
                 Field("good_days", "float", False, ("优良天数",)))


def read_dust_days(cfg: dict[str, Any], spec: Any) -> Table:
    """Reader of ``dust_days``: a date per row, optionally the county or city code it applies to.

    Rows whose date cannot be read go to ``rejected``; ``date`` becomes a naive local day.
    """
    t = read_table(cfg["path"], fields=DUST_FIELDS, name=spec.name, columns=cfg.get("columns"),
                   sheet=cfg.get("sheet"))
    f = t.frame
    text = f["date"].astype(str).str.strip().str.replace(r"[年月]", "-", regex=True)
    day = pd.to_datetime(text.str.replace("日", "", regex=False), errors="coerce",
                         format="mixed")  # 2025-03-14, 2025/3/14, 2025年3月14日
    bad = day.isna().to_numpy()
    if bad.any():
        rej = pd.DataFrame({"input": spec.name, "file": str(t.path), "row": f["row"][bad],
                            "id": f["code"][bad],
                            "reason": [f"date {v!r} is not a date such as 2025-03-14"
                                       for v in f["date"][bad]]})
        t.rejected = pd.concat([t.rejected, rej], ignore_index=True)
    t.frame = f[~bad].assign(date=day[~bad].dt.normalize().to_numpy()).reset_index(drop=True)
    return t


def read_targets(cfg: dict[str, Any], spec: Any) -> Table:
    """Reader of ``targets``: code (county or city) and target values (e.g. pm25 = 43)."""
    return read_table(cfg["path"], fields=TARGET_FIELDS, name=spec.name,
                      columns=cfg.get("columns"), sheet=cfg.get("sheet"))


def check_params(p: Any) -> None:
    """Validate the parameters of the statistics (raise InputError naming the key)."""
    bad = [x for x in p.aq_periods if x not in airstats.PERIODS]
    if bad or not p.aq_periods:
        raise InputError(f"params.aq_periods {list(p.aq_periods)!r}: use some of "
                         f"{', '.join(airstats.PERIODS)}.")
    types = ("national", "provincial", "city", "micro")
    if not p.assessment_types or any(t not in types for t in p.assessment_types):
        raise InputError(f"params.assessment_types {list(p.assessment_types)!r}: use some of "
                         f"{', '.join(types)} (micro-sensors only feed the hot-cell screening).")
    if p.bottom_n < 1:
        raise InputError(f"params.bottom_n must be >= 1, not {p.bottom_n}.")
    if not 0 < p.hot_share <= 1:
        raise InputError(f"params.hot_share must be in (0, 1] (a share of cells), not "
                         f"{p.hot_share}.")


FIELDS = {
    "level": FieldMeta("level", "单元类别（站点/乡镇/县区/市）"),
    "code": FieldMeta("code", "编码"), "name": FieldMeta("name", "名称"),
    "period_type": FieldMeta("per_type", "时段类型"),
    "n_valid_days": FieldMeta("n_days", "有效天数"),
    "so2": FieldMeta("so2", "SO₂平均浓度", "µg/m³"),
    "no2": FieldMeta("no2", "NO₂平均浓度", "µg/m³"),
    "pm10": FieldMeta("pm10", "PM10平均浓度", "µg/m³"),
    "pm25": FieldMeta("pm25", "PM2.5平均浓度", "µg/m³"),
    "co_p95": FieldMeta("co_p95", "CO日均值第95百分位数", "mg/m³"),
    "o3_8h_p90": FieldMeta("o3_p90", "O₃日最大8小时第90百分位数", "µg/m³"),
    "composite_index": FieldMeta("comp_idx", "综合指数"),
    "primary_pollutant": FieldMeta("primary", "首要污染物"),
    "good_days": FieldMeta("good_days", "优良天数"),
    "heavy_days": FieldMeta("heavy_days", "重度及以上污染天数"),
    "dust_days": FieldMeta("dust_days", "扣除沙尘天数"),
    "aqi": FieldMeta("aqi", "空气质量指数AQI（日）"),
    "aqi_primary": FieldMeta("aqi_prim", "首要污染物（AQI）"),
    "aqi_level": FieldMeta("aqi_level", "空气质量指数级别"),
    "aqi_category": FieldMeta("aqi_cat", "空气质量指数类别"),
    "valid": FieldMeta("valid", "是否有效"), "reason": FieldMeta("reason", "无效原因"),
    "exceed_incomplete": FieldMeta("exc_incomp", "数据不足但已超标"),
    "rank_index": FieldMeta("rank_idx", "综合指数排名"),
    "rank_pm25": FieldMeta("rank_pm25", "PM2.5排名"),
    "last_index": FieldMeta("last_idx", "去年同期综合指数"),
    "last_pm25": FieldMeta("last_pm25", "去年同期PM2.5", "µg/m³"),
    "improve_index_pct": FieldMeta("imp_idx", "综合指数改善率", "%"),
    "improve_pm25_pct": FieldMeta("imp_pm25", "PM2.5改善率", "%"),
    "rank_improve": FieldMeta("rank_imp", "改善率排名"),
    "bottom_index": FieldMeta("bot_idx", "综合指数后位"),
    "bottom_improve": FieldMeta("bot_imp", "改善率后位"),
    "both_lists": FieldMeta("both", "双后位（约谈预警）"),
    "n_units": FieldMeta("n_units", "参与排名单元数"),
    "metric": FieldMeta("metric", "指标"), "target": FieldMeta("target", "目标值"),
    "gap": FieldMeta("gap", "与目标差距"), "meets": FieldMeta("meets", "是否达标"),
    "annual_mean": FieldMeta("ann_mean", "年均浓度"),
    "n_months": FieldMeta("n_months", "月份数"),
    "year": FieldMeta("year", "年份"),
    "change_pct": FieldMeta("chg_pct", "变化率", "%"),
    "rank": FieldMeta("rank", "排名"),
    "compared_with": FieldMeta("compared", "对比时段"),
    "previous_value": FieldMeta("prev_val", "对比时段浓度"),
}


# ----------------------------------------------------------------------------- units


def station_units(st: pd.DataFrame, counties: gpd.GeoDataFrame | None,
                  townships: gpd.GeoDataFrame | None, types: tuple[str, ...]
                  ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Assessment stations with their township, county and city; and every unit.

    Returns
    -------
    members, units
        ``members``: station_id, unit (one row per station and level it counts for);
        ``units``: unit, level, code, name, county_code, county_name (every county and
        township of the inputs, every city of the counties, every assessment station).
    """
    s = st[st["type"].isin(types)].reset_index(drop=True)
    lon, lat = s["lon"].to_numpy(np.float64), s["lat"].to_numpy(np.float64)
    s = admin.attach(s, lon, lat, counties, level="county")
    s = admin.attach(s, lon, lat, townships, level="township")
    city_code = None
    if counties is not None and len(counties) and "city_code" in counties:
        cmap = counties.drop_duplicates("code").set_index("code")
        city_code = cmap["city_code"].reindex(s["county_code"]).to_numpy(dtype=object)
    mem = [pd.DataFrame({"station_id": s["id"], "unit": "station:" + s["id"].astype(str)})]
    for lvl in ("township", "county"):
        has = s[f"{lvl}_code"].notna().to_numpy()
        mem.append(pd.DataFrame({"station_id": s["id"][has],
                                 "unit": f"{lvl}:" + s[f"{lvl}_code"][has].astype(str)}))
    if city_code is not None:
        has = pd.notna(city_code)
        mem.append(pd.DataFrame({"station_id": s["id"][has],
                                 "unit": "city:" + pd.Series(city_code[has]).astype(str)
                                 .to_numpy()}))
    members = pd.concat(mem, ignore_index=True)
    units = [pd.DataFrame({"unit": "station:" + s["id"].astype(str), "level": "station",
                           "code": s["id"].astype(str), "name": s["name"],
                           "county_code": s["county_code"], "county_name": s["county_name"]})]
    if townships is not None and len(townships):
        tw = townships.drop_duplicates("code")
        rep = tw.geometry.representative_point()
        tw = admin.attach(pd.DataFrame({"code": tw["code"].astype(str).to_numpy(),
                                        "name": tw["name"].to_numpy()}),
                          rep.x.to_numpy(), rep.y.to_numpy(), counties, level="county")
        units.append(tw.assign(unit="township:" + tw["code"], level="township"))
    if counties is not None and len(counties):
        c = counties.drop_duplicates("code")
        units.append(pd.DataFrame({"unit": "county:" + c["code"].astype(str), "level": "county",
                                   "code": c["code"].astype(str).to_numpy(),
                                   "name": c["name"].to_numpy(),
                                   "county_code": c["code"].astype(str).to_numpy(),
                                   "county_name": c["name"].to_numpy()}))
        if "city_code" in c and c["city_code"].notna().any():
            cc = c[c["city_code"].notna()].drop_duplicates("city_code")
            names = cc["city_name"] if "city_name" in cc else cc["city_code"]
            units.append(pd.DataFrame({"unit": "city:" + cc["city_code"].astype(str),
                                       "level": "city",
                                       "code": cc["city_code"].astype(str).to_numpy(),
                                       "name": names.to_numpy(), "county_code": None,
                                       "county_name": None}))
    cols = ["unit", "level", "code", "name", "county_code", "county_name"]
    units = pd.concat([u[cols] for u in units], ignore_index=True).drop_duplicates("unit")
    return members, units.reset_index(drop=True)


def dust_by_unit(dust: pd.DataFrame | None, units: pd.DataFrame, counties) -> pd.DataFrame:
    """Dust days per unit (``unit``, ``date``).

    A row without code applies everywhere; a city code to the city and everything in it; a
    county code to the county, its townships and stations.
    """
    if dust is None or not len(dust):
        return pd.DataFrame(columns=["unit", "date"])
    city_of = {}
    if counties is not None and "city_code" in counties:
        city_of = dict(zip(counties["code"].astype(str), counties["city_code"].astype(str),
                           strict=True))
    u = units.assign(city=units["county_code"].map(city_of))
    u.loc[u["level"] == "city", "city"] = u["code"]
    code = dust["code"].astype(object).where(dust["code"].notna(), None) if "code" in dust \
        else pd.Series(None, index=dust.index, dtype=object)
    pairs = []
    for c, days in dust.assign(_c=code.fillna("")).groupby("_c")["date"]:
        if c == "":
            hit = np.ones(len(u), dtype=bool)
        else:
            hit = ((u["county_code"] == c) | (u["city"] == c)).to_numpy()
        pairs.append(pd.MultiIndex.from_product([u["unit"][hit], pd.to_datetime(days)
                                                 .unique()]).to_frame(index=False,
                                                                      name=["unit", "date"]))
    return pd.concat(pairs, ignore_index=True).drop_duplicates()


# ----------------------------------------------------------------------------- aq_stats


def aq_stats(hourly: pd.DataFrame, members: pd.DataFrame, units: pd.DataFrame,
             periods: tuple[str, ...], *, dust: pd.DataFrame | None = None) -> pd.DataFrame:
    """The ``aq_stats`` table (see the module docstring) from valid hourly station readings.

    Parameters
    ----------
    hourly
        ``station_id``, ``time``, ``pollutant``, ``value`` (valid readings).
    members, units
        From :func:`station_units`.
    periods
        Period types (day, month, quarter, season, year).
    dust
        ``unit``, ``date`` dust days to deduct from PM10 and PM2.5 (None: no deduction).
    """
    uh = airstats.unit_hourly(hourly, members)
    daily = airstats.daily_values(uh)
    wide = daily.pivot(index=["unit", "date"], columns="pollutant", values="value").reindex(
        columns=list(airstats.POLLUTANTS))
    o3max = daily[daily["pollutant"] == "o3"].set_index(["unit", "date"])["o3_1h_max"]
    wide = airstats.round_concentrations(wide)
    wide["o3_1h_max"] = o3max.reindex(wide.index).to_numpy()
    aqi = airstats.daily_aqi(wide).reset_index()
    out, exceed = [], []
    for period in periods:
        ps = airstats.period_stats(daily, period, dust=dust)
        # HJ 663-2013: an invalid period whose data present already exceed the limit
        exceed.append(airexceed.flags(daily, ps, period, dust=dust).assign(period_type=period))
        lab, _ = airstats.period_keys(aqi["date"], period)
        a = aqi.assign(period=lab.to_numpy())
        a = a[a["period"].notna()]
        days = a.groupby(["unit", "period"]).agg(n_valid_days=("aqi", "count"),
                                                 good_days=("good", "sum"),
                                                 heavy_days=("heavy", "sum"))
        # every unit with readings in the period gets a row, also when no day of it is valid
        dl, _ = airstats.period_keys(daily["date"], period)
        seen = pd.DataFrame({"unit": daily["unit"].to_numpy(), "period": dl.to_numpy()}).dropna()
        keys = pd.MultiIndex.from_frame(pd.concat([ps[["unit", "period"]], seen])).unique()
        base = pd.DataFrame(index=keys).reset_index()
        for p in airstats.POLLUTANTS:
            sub = ps[ps["pollutant"] == p].set_index(["unit", "period"])
            idx = pd.MultiIndex.from_frame(base[["unit", "period"]])
            base[STAT_COLS[p]] = airstats.round_gbt8170(
                sub["value"].reindex(idx).to_numpy(np.float64), airstats.DECIMALS[p])
            r = sub["reason"].reindex(idx)
            r = np.where(r.isna(), "no valid daily value", r.fillna("").to_numpy(object))
            base[f"_r_{p}"] = r.astype(str)
            if p == "pm25":
                base["dust_days"] = sub["n_dust"].reindex(idx).fillna(0).to_numpy(np.int64)
        ci = airstats.composite_index(base.rename(columns={v: k for k, v in STAT_COLS.items()}))
        base["composite_index"] = ci["composite_index"].to_numpy()
        base["primary_pollutant"] = ci["primary_pollutant"].to_numpy()
        d = days.reindex(pd.MultiIndex.from_frame(base[["unit", "period"]]))
        for c in ("n_valid_days", "good_days", "heavy_days"):
            base[c] = d[c].fillna(0).to_numpy(np.int64)
        rs = base[[f"_r_{p}" for p in airstats.POLLUTANTS]].to_numpy(dtype=object)
        reason = pd.Series(_join_reasons(rs), dtype=object)
        base["valid"] = (reason == "").to_numpy()
        base["reason"] = reason.to_numpy()
        base["period_type"] = period
        if period == "day":  # the day's AQI, primary pollutant and level (HJ 633-2012)
            day = aqi.assign(period=lab.to_numpy()).set_index(["unit", "period"])
            key = pd.MultiIndex.from_frame(base[["unit", "period"]])
            for col, src in (("aqi", "aqi"), ("aqi_primary", "primary_pollutant"),
                             ("aqi_level", "level"), ("aqi_category", "category")):
                base[col] = day[src].reindex(key).to_numpy()
        out.append(base.drop(columns=[f"_r_{p}" for p in airstats.POLLUTANTS]))
    stats = pd.concat(out, ignore_index=True) if out else pd.DataFrame(
        columns=["unit", "period", "period_type"])
    # every unit gets a row for every period that any unit has: units without an assessment
    # station, and units without readings in that period, are listed with the reason
    if len(stats):
        per = stats[["period_type", "period"]].drop_duplicates()
        full = units[["unit"]].merge(per, how="cross")
        have = pd.MultiIndex.from_frame(stats[["unit", "period_type", "period"]])
        empty = full[~pd.MultiIndex.from_frame(full).isin(have)].reset_index(drop=True)
        if len(empty):
            lvl = empty["unit"].str.split(":", n=1).str[0].to_numpy()
            known = empty["unit"].isin(set(members["unit"])).to_numpy()
            empty["valid"] = False
            empty["reason"] = np.where(known, NO_DATA_IN_PERIOD,
                                       np.where(lvl == "station", NO_READINGS, NO_STATION))
            for c in ("n_valid_days", "good_days", "heavy_days", "dust_days"):
                empty[c] = 0
            stats = pd.concat([stats, empty], ignore_index=True)
    if len(stats):
        ex = pd.concat(exceed, ignore_index=True).set_index(["unit", "period_type", "period"])
        key = pd.MultiIndex.from_frame(stats[["unit", "period_type", "period"]])
        stats["exceed_incomplete"] = ex["exceed_incomplete"].reindex(key).fillna("").to_numpy(
            dtype=object)
    stats = stats.merge(units, on="unit", how="left")
    order = {lv: i for i, lv in enumerate(("city", "county", "township", "station"))}
    ptype = {p: i for i, p in enumerate(airstats.PERIODS)}
    stats = stats.assign(_l=stats["level"].map(order), _p=stats["period_type"].map(ptype))
    stats = stats.sort_values(["_p", "period", "_l", "code"], kind="stable")
    for c in AQ_COLS:
        if c not in stats:
            stats[c] = np.nan
    return stats[AQ_COLS].reset_index(drop=True)


def _join_reasons(rs: np.ndarray) -> list[str]:
    """One reason text per row of (rows, 6) per-pollutant reasons ('' = valid).

    'PM2.5: …; O₃: …', or 'all six pollutants: …' when all fail for the same reason.
    """
    labels = np.array([airstats.LABELS[p] for p in airstats.POLLUTANTS], dtype=object)
    same = (rs == rs[:, :1]).all(axis=1) & (rs[:, 0] != "")
    out = []
    for row, s in zip(rs.tolist(), same.tolist(), strict=True):  # aggregated rows, not readings
        out.append(f"all six pollutants: {row[0]}" if s else
                   "; ".join(f"{lab}: {r}" for lab, r in zip(labels, row, strict=True) if r))
    return out


# ----------------------------------------------------------------------------- ranking


def _competition_rank(values: pd.Series, groups: pd.Series, *, ascending: bool) -> pd.Series:
    """1, 2, 2, 4 … within each group (equal values share a rank); NaN stays NaN."""
    return values.groupby(groups).rank(method="min", ascending=ascending)


def ranking(stats: pd.DataFrame, *, bottom_n: int) -> pd.DataFrame:
    """The ``ranking`` table from ``aq_stats``: valid county and township rows ranked.

    Monthly ranking of counties and townships with warnings for those whose improvement lags:
    聊办字〔2017〕49号 ("月调度、月排名、月考核"; "改善幅度达不到…的县（市、区）…和乡镇（街道）
    下发预警通知…公开约谈"). Rank 1 is the lowest composite index (or PM2.5), and the largest
    改善率. 改善率 = (last − this) / last · 100 against the same period one year earlier
    (same level, unit and period type); it needs a valid value a year earlier.
    ``bottom_index`` flags the ``bottom_n`` highest indices of the period and level,
    ``bottom_improve`` the ``bottom_n`` lowest 改善率, ``both_lists`` units on both (the
    warning-talk list).
    """
    cols = ["period_type", "period", "level", "rank_index", "code", "name", "county_code",
            "county_name",
            "composite_index", "primary_pollutant", "rank_pm25", "pm25", "last_index",
            "improve_index_pct", "rank_improve", "last_pm25", "improve_pm25_pct",
            "bottom_index", "bottom_improve", "both_lists", "n_units"]
    s = stats[stats["level"].isin(RANKED_LEVELS) & stats["valid"].astype(bool)].copy()
    if "county_code" not in s:
        s["county_code"] = None
    if s.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
    s["_prev"] = [airstats.previous_year_label(p, t) for p, t in
                  zip(s["period"], s["period_type"], strict=True)]
    prev = s.set_index(["period_type", "level", "code", "period"])
    key = pd.MultiIndex.from_arrays([s["period_type"], s["level"], s["code"], s["_prev"]])
    s["last_index"] = prev["composite_index"].reindex(key).to_numpy(np.float64)
    s["last_pm25"] = prev["pm25"].reindex(key).to_numpy(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        for col, last, this in (("improve_index_pct", "last_index", "composite_index"),
                                ("improve_pm25_pct", "last_pm25", "pm25")):
            lv, tv = s[last].to_numpy(np.float64), s[this].to_numpy(np.float64)
            s[col] = airstats.round_gbt8170(np.where(lv > 0, (lv - tv) / lv * 100, np.nan), 2)
    grp = s["period_type"] + "|" + s["period"] + "|" + s["level"]
    s["n_units"] = grp.map(grp.value_counts()).to_numpy(np.int64)
    s["rank_index"] = _competition_rank(s["composite_index"], grp, ascending=True)
    s["rank_pm25"] = _competition_rank(s["pm25"], grp, ascending=True)
    s["rank_improve"] = _competition_rank(s["improve_index_pct"], grp, ascending=False)
    worst_idx = _competition_rank(s["composite_index"], grp, ascending=False)
    worst_imp = _competition_rank(s["improve_index_pct"], grp, ascending=True)
    s["bottom_index"] = (worst_idx <= bottom_n).to_numpy()
    s["bottom_improve"] = (worst_imp <= bottom_n).fillna(False).to_numpy(bool)
    s["both_lists"] = s["bottom_index"] & s["bottom_improve"]
    for c in ("rank_index", "rank_pm25", "rank_improve"):
        s[c] = s[c].astype("Int64")
    ptype = {p: i for i, p in enumerate(airstats.PERIODS)}
    s = s.assign(_p=s["period_type"].map(ptype), _l=s["level"].map({"county": 0, "township": 1}))
    s = s.sort_values(["_p", "period", "_l", "rank_index", "code"], kind="stable")
    return s[cols].reset_index(drop=True)


def targets_table(stats: pd.DataFrame, targets: pd.DataFrame | None) -> pd.DataFrame:
    """Value against target per unit (county or city code), period and metric.

    gap = value − target (good_days: target − value); ``meets`` when the gap is ≤ 0.
    """
    cols = ["period_type", "period", "level", "code", "name", "metric", "target", "value",
            "gap", "meets", "reason"]
    if targets is None or not len(targets):
        return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
    t = targets.copy()
    t["code"] = t["code"].astype(str)
    metrics = [m for m in TARGET_METRICS if m in t and t[m].notna().any()]
    long = t.melt(id_vars=["code"], value_vars=metrics, var_name="metric",
                  value_name="target").dropna(subset=["target"])
    s = stats[stats["level"].isin(("county", "city"))]
    m = long.merge(s, on="code", how="left")
    unknown = m[m["level"].isna()]["code"].unique()
    if len(unknown):
        raise InputError(f"targets: code(s) {', '.join(map(str, unknown[:8]))} are neither a "
                         "county code nor a city code (city_code) of the counties; fix the "
                         "code column.")
    val = np.full(len(m), np.nan)
    for metric in metrics:
        rows = (m["metric"] == metric).to_numpy()
        val[rows] = m.loc[rows, metric].to_numpy(np.float64)
    m["value"] = val
    sign = np.where(m["metric"] == "good_days", -1.0, 1.0)
    m["gap"] = np.round(sign * (m["value"] - m["target"]), 2)
    m["meets"] = pd.array(np.where(np.isfinite(m["gap"]), m["gap"] <= 0, pd.NA), dtype="boolean")
    why = m["reason"].fillna("") if "reason" in m else pd.Series("", index=m.index)
    m["reason"] = np.where(np.isfinite(m["value"]), "", why)
    return m[cols].reset_index(drop=True)


# ----------------------------------------------------------------------------- hot cells


def hot_cell_tables(cells: np.ndarray, periods: list[pd.Period], values: np.ndarray,
                    loc: pd.DataFrame, clng: np.ndarray, clat: np.ndarray, *, hot_share: float,
                    top_n: int) -> dict[str, pd.DataFrame]:
    """The annual hot-cell set and the three monthly lists restricted to it (千里眼 practice).

    Parameters
    ----------
    cells, periods, values
        Sorted H3 cells, monthly periods and the (n_cells, n_periods) cell values.
    loc
        county/township code and name per cell.
    clng, clat
        Cell centres (WGS-84 degrees).
    hot_share
        Share of the cells with a value in the year that form its hot set (top by annual mean,
        the mean of the cell's monthly values; ceil(share · n)).
    top_n
        Rows per month in each list.
    """
    strs = h3grid.cells_to_str(cells)
    base = admin.cell_places(strs, loc, clng, clat)
    years = np.array([p.year for p in periods])
    hot_rows, lists = [], {"hot_top_value": [], "hot_worst_yoy": [], "hot_worst_mom": []}
    hot_of_year: dict[int, np.ndarray] = {}
    for y in sorted(set(years.tolist())):  # one pass per year
        v = values[:, years == y]
        n = np.isfinite(v).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(n > 0, np.nansum(np.where(np.isfinite(v), v, 0), axis=1)
                            / np.maximum(n, 1), np.nan)
        ok = np.flatnonzero(np.isfinite(mean))
        k = math.ceil(hot_share * len(ok) - 1e-9)
        order = ok[np.lexsort((strs[ok], -mean[ok]))][:k]
        hot_of_year[y] = order
        t = base.iloc[order].copy()
        t.insert(0, "rank", np.arange(1, len(order) + 1))
        t.insert(0, "year", int(y))
        t["annual_mean"] = np.round(mean[order], 3)
        t["n_months"] = n[order].astype(np.int64)
        hot_rows.append(t)
    index = {p: j for j, p in enumerate(periods)}
    for j, p in enumerate(periods):
        hot = hot_of_year[p.year]
        v = values[hot, j]
        okv = np.isfinite(v)
        if okv.any():
            o = hot[okv][np.lexsort((strs[hot[okv]], -v[okv]))][:top_n]
            t = base.iloc[o].copy()
            t.insert(0, "rank", np.arange(1, len(o) + 1))
            t.insert(0, "period", str(p))
            t["value"] = np.round(values[o, j], 3)
            lists["hot_top_value"].append(t)
        for other, name in ((p - 12, "hot_worst_yoy"), (p - 1, "hot_worst_mom")):
            k = index.get(other)
            if k is None:
                continue
            prev = values[hot, k]
            with np.errstate(invalid="ignore", divide="ignore"):
                pct = np.where(prev > 0, (v - prev) / prev * 100, np.nan)
            good = np.isfinite(pct)
            if not good.any():
                continue
            o = np.flatnonzero(good)[np.lexsort((strs[hot[good]], -pct[good]))][:top_n]
            t = base.iloc[hot[o]].copy()
            t.insert(0, "rank", np.arange(1, len(o) + 1))
            t.insert(0, "compared_with", str(other))
            t.insert(0, "period", str(p))
            t["value"] = np.round(v[o], 3)
            t["previous_value"] = np.round(prev[o], 3)
            t["change_pct"] = np.round(pct[o], 2)
            lists[name].append(t)
    cols_hot = ["year", "rank", "h3_cell", "annual_mean", "n_months", "county_code",
                "county_name", "township_code", "township_name", "lon", "lat"]
    cols_top = ["period", "rank", "h3_cell", "value", "county_code", "county_name",
                "township_code", "township_name", "lon", "lat"]
    cols_chg = ["period", "compared_with", "rank", "h3_cell", "value", "previous_value",
                "change_pct", "county_code", "county_name", "township_code", "township_name",
                "lon", "lat"]

    def cat(parts, cols):
        if not parts:
            return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
        return pd.concat(parts, ignore_index=True)[cols]

    return {"hot_cells": cat(hot_rows, cols_hot),
            "hot_top_value": cat(lists["hot_top_value"], cols_top),
            "hot_worst_yoy": cat(lists["hot_worst_yoy"], cols_chg),
            "hot_worst_mom": cat(lists["hot_worst_mom"], cols_chg)}


# ----------------------------------------------------------------------------- ranking layer


def ranking_layer(rank: pd.DataFrame, counties: gpd.GeoDataFrame | None,
                  townships: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame:
    """Polygons of the ranked counties and townships: the map's and figure's ranking view.

    The latest ranked month (else quarter, season, year, day): composite index, ranks, 改善率.
    """
    cols = ["level", "code", "name", "period_type", "period", "composite_index", "rank_index",
            "pm25", "rank_pm25", "improve_index_pct", "rank_improve", "both_lists", "n_units"]
    empty = gpd.GeoDataFrame({c: pd.Series(dtype=object) for c in cols},
                             geometry=gpd.GeoSeries([], crs="EPSG:4326"))
    if rank.empty:
        return empty
    types = list(dict.fromkeys(rank["period_type"]))
    first_type = next((t for t in ("month", "quarter", "season", "year") if t in types),
                      types[0])
    r = rank[rank["period_type"] == first_type]
    r = r[r["period"] == r["period"].max()]
    parts = []
    for lvl, polys in (("county", counties), ("township", townships)):
        if polys is None or not len(polys):
            continue
        sub = r[r["level"] == lvl]
        g = polys[["code", "geometry"]].assign(code=polys["code"].astype(str))
        g = g.drop_duplicates("code").merge(sub, on="code", how="inner")
        parts.append(g)
    if not parts:
        return empty
    out = pd.concat(parts, ignore_index=True)
    return gpd.GeoDataFrame(out[cols], geometry=out.geometry.to_numpy(), crs="EPSG:4326")


# ----------------------------------------------------------------------------- all together


@dataclass
class AirQuality:
    """What :func:`build` gives pollution-hotspots: tables, the ranking layer, summary lines."""

    tables: dict[str, pd.DataFrame]
    layer: gpd.GeoDataFrame
    summary: list[str]


def build(hourly: pd.DataFrame, stations: pd.DataFrame, counties: gpd.GeoDataFrame | None,
          townships: gpd.GeoDataFrame | None, dust_days: pd.DataFrame | None,
          targets: pd.DataFrame | None, params: Any) -> AirQuality:
    """aq_stats, ranking, targets and the ranking layer from valid hourly station readings.

    Parameters
    ----------
    hourly
        ``station_id``, ``time``, ``pollutant``, ``value``: valid hourly readings (empty: the
        tables are empty and the summary says why).
    stations
        ``id``, ``name``, ``type`` (national/provincial/city/micro), ``lon``, ``lat``.
    counties, townships
        Polygons with code and name (counties optionally city_code, city_name).
    dust_days
        ``date`` and optional ``code`` (see :func:`dust_by_unit`); used with
        ``params.deduct_dust``.
    targets
        ``code`` and target columns (see :data:`TARGET_FIELDS`).
    params
        pollution-hotspots parameters (aq_periods, assessment_types, deduct_dust, bottom_n).
    """
    summary: list[str] = []
    if hourly is None or not len(hourly):
        empty = pd.DataFrame({c: pd.Series(dtype=object) for c in AQ_COLS})
        summary.append("No hourly readings: aq_stats, ranking and targets are empty (the "
                       "national statistics need hourly values of the six pollutants).")
        rank = ranking(empty, bottom_n=params.bottom_n)
        return AirQuality({"aq_stats": empty, "ranking": rank,
                           "targets": targets_table(empty, None)},
                          ranking_layer(rank, counties, townships), summary)
    members, units = station_units(stations, counties, townships, tuple(params.assessment_types))
    with_data = pd.unique(hourly["station_id"])
    members = members[members["station_id"].isin(with_data)]
    other = stations[stations["id"].isin(with_data)
                     & ~stations["type"].isin(tuple(params.assessment_types))]
    if len(other):
        kinds = other["type"].fillna("(no type)").value_counts()
        summary.append(f"{len(other)} stations with hourly readings are not assessment stations ("
                       + ", ".join(f"{v} {k}" for k, v in kinds.items())
                       + "): not in aq_stats (params.assessment_types).")
    missing = sorted(set(airstats.POLLUTANTS) - set(pd.unique(hourly["pollutant"])))
    if missing:
        summary.append("Hourly readings lack " + ", ".join(airstats.LABELS[p] for p in missing)
                       + ": no composite index or AQI (those pollutants are invalid).")
    dust = None
    if params.deduct_dust and dust_days is not None and len(dust_days):
        dust = dust_by_unit(dust_days, units, counties)
        summary.append(f"Dust days deducted from PM10 and PM2.5: {dust_days['date'].nunique()} "
                       "dates (dust_days column of aq_stats).")
    elif dust_days is not None and len(dust_days):
        summary.append("dust_days given but params.deduct_dust is false: nothing deducted.")
    stats = aq_stats(hourly, members, units, tuple(params.aq_periods), dust=dust)
    rank = ranking(stats, bottom_n=params.bottom_n)
    n_st = int((units["level"] == "station").sum())
    none = stats[stats["reason"] == NO_STATION]
    summary.append(
        f"aq_stats: {n_st} assessment stations ({', '.join(params.assessment_types)}), "
        f"{len(stats)} unit-period rows, {int(stats['valid'].sum())} valid; "
        f"{none['code'].nunique()} counties/townships have no assessment station.")
    if len(rank):
        both = rank[rank["both_lists"]]
        summary.append(f"ranking: {len(rank)} rows; {len(both)} on both bottom-{params.bottom_n} "
                       "lists (composite index and 改善率).")
    return AirQuality({"aq_stats": stats, "ranking": rank,
                       "targets": targets_table(stats, targets)},
                      ranking_layer(rank, counties, townships), summary)
