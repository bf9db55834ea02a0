"""The field labels and the tables of fire-points: rankings, the national bulletin, 度分秒."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from spatial import labels
from spatial.export import COMMON_FIELDS, FieldMeta
from spatial.values import text_values

FIELDS = {
    "local_time": FieldMeta("local_time", "过境时间（北京时间）"),
    "local_date": FieldMeta("local_date", "日期（北京时间）"),
    "utc_time": FieldMeta("utc_time", "过境时间（UTC）"),
    "satellite": FieldMeta("satellite", "卫星"),
    "instrument": FieldMeta("instrument", "传感器"),
    "confidence": FieldMeta("conf", "MODIS可信度（0-100；VIIRS见可信度等级）"),
    "conf_class": FieldMeta("conf_class", "可信度等级（低/标称/高）"),
    "frp": FieldMeta("frp", "火辐射功率", "MW"),
    "brightness": FieldMeta("bright", "亮温（MODIS 21/22 或 VIIRS I4）", "K"),
    "bright_2": FieldMeta("bright_2", "亮温（MODIS 31 或 VIIRS I5）", "K"),
    "daynight": FieldMeta("daynight", "昼/夜"),
    "status": FieldMeta("status", "判定"),
    "event_id": FieldMeta("event_id", "火点事件编号"),
    "window": FieldMeta("window", "时段"),
    "heat_source": FieldMeta("heat_src", "所属工业热源"),
    "county_code": COMMON_FIELDS["county_code"],
    "county_name": COMMON_FIELDS["county_name"],
    "township_code": COMMON_FIELDS["township_code"],
    "township_name": COMMON_FIELDS["township_name"],
    "on_cropland": FieldMeta("cropland", "是否在耕地"),
    "file": FieldMeta("file", "来源文件"),
    "row": COMMON_FIELDS["row"],
    "lon": COMMON_FIELDS["lon"],
    "lat": COMMON_FIELDS["lat"],
    "start_time": FieldMeta("start", "开始时间（北京时间）"),
    "end_time": FieldMeta("end", "结束时间（北京时间）"),
    "start_date": FieldMeta("start_date", "开始日期（北京时间）"),
    "n_points": FieldMeta("n_points", "火点数", "个"),
    "frp_max": FieldMeta("frp_max", "最大火辐射功率", "MW"),
    "frp_sum": FieldMeta("frp_sum", "火辐射功率合计", "MW"),
    "instruments": FieldMeta("instrs", "传感器"),
    "first_in_township": FieldMeta("first_town", "本时段乡镇首个火点"),
    "h3_cell": COMMON_FIELDS["h3_cell"],
    "n_events": FieldMeta("n_events", "火点事件数", "个"),
    "first_date": FieldMeta("first_date", "首次日期"),
    "last_date": FieldMeta("last_date", "末次日期"),
    "source": FieldMeta("source", "来源（已知/推断）"),
    "id": FieldMeta("id", "编号"),
    "name": FieldMeta("name", "名称"),
    "kind": COMMON_FIELDS["kind"],
    "n_detections": FieldMeta("n_detect", "历史检测数", "个"),
    "n_dates": FieldMeta("n_dates", "检测日期数", "天"),
    "n_months": FieldMeta("n_months", "检测月份数", "个"),
    "n_cells": COMMON_FIELDS["n_cells"],
    "n_excluded": FieldMeta("n_excluded", "排除的检测数", "个"),
    "first_reported": FieldMeta("first_rep", "首次通报日期"),
    "is_new": FieldMeta("is_new", "本次新增"),
    "event_code": FieldMeta("ev_code", "事件编号（核查用）"),
    "n_off_cropland": FieldMeta("n_offcrop", "非耕地火点数", "个"),
    "verification": FieldMeta("verify", "核查结果"),
    "township_event_no": FieldMeta("town_evno", "本时段乡镇第几起"),
    "accountability": FieldMeta("account", "问责对象"),
    "during_warning": FieldMeta("in_warning", "重污染天气预警期间"),
    "warning_level": FieldMeta("warn_level", "预警级别"),
    "village_name": FieldMeta("village", "最近村庄"),
    "village_township": FieldMeta("vill_town", "村庄所属乡镇"),
    "keeper": FieldMeta("keeper", "网格员"),
    "keeper_phone": FieldMeta("keeper_tel", "网格员电话"),
    "village_km": FieldMeta("village_km", "距村庄", "km"),
    "receptors": COMMON_FIELDS["receptors"],
    "n_receptors": COMMON_FIELDS["n_receptors"],
}


def dms(values: np.ndarray) -> Any:
    """Degrees as degrees-minutes-seconds text with tenths of a second: ``116°30'15.2"``.

    Returns pandas' text array (what a frame makes of str objects).
    """
    v = np.asarray(values, dtype="float64")
    if v.size and np.isfinite(v).all() and np.abs(v).max() <= 360:
        return _dms_lookup(v)
    return _dms_rows(v)


def _dms_lookup(v: np.ndarray) -> Any:
    """:func:`dms` of finite degrees, the parts' texts made once each and joined per value.

    60 minute texts, 600 tenths-of-second texts and one per signed degree present.
    """
    tenths = np.round(np.abs(v) * 36000).astype(np.int64)
    d, rest = np.divmod(tenths, 36000)
    m, s10 = np.divmod(rest, 600)
    head_codes, heads = pd.factorize(np.where(v < 0, -1, 1) * (d + 1))  # sign and degrees
    head_text = np.array([("-" if h < 0 else "") + f"{abs(h) - 1}°" for h in heads],
                         dtype=object)
    minutes = np.array([f"{i:02d}'" for i in range(60)], dtype=object)
    seconds = np.array([f'{i // 10:02d}.{i % 10}"' for i in range(600)], dtype=object)
    text = (pd.Series(pd.array(head_text, dtype="str").take(head_codes))
            + pd.Series(pd.array(minutes, dtype="str").take(m))
            + pd.Series(pd.array(seconds, dtype="str").take(s10)))
    return text.array  # Arrow strings: a table's column as it is, not 1 M Python objects


def _dms_rows(v: np.ndarray) -> Any:
    """:func:`dms` formatted value by value (any input, NaN included)."""
    tenths = np.round(np.abs(v) * 36000).astype(np.int64)
    d, rest = np.divmod(tenths, 36000)
    m, s10 = np.divmod(rest, 600)
    sign = np.where(v < 0, "-", "")
    sec = pd.Series(s10 // 10).astype(str).str.zfill(2) + "." + pd.Series(s10 % 10).astype(str)
    text = (pd.Series(sign) + pd.Series(d).astype(str) + "°" + pd.Series(m).astype(str).str.zfill(2)
            + "'" + sec + '"')
    return text.array


def _class_names(conf_class: pd.Series) -> np.ndarray:
    """The confidence classes' names (标称/高), each distinct class looked up once."""
    codes, uniques = pd.factorize(conf_class, use_na_sentinel=False)
    return pd.Series(uniques).map(lambda c: labels.label_value("conf_class", c)).to_numpy(
        dtype=object)[codes]


def ranked(points: pd.DataFrame, events: pd.DataFrame, keys: list[str], labels: list[str]
            ) -> pd.DataFrame:
    """Events and kept detections per unit, per window and per local day, ranked by events."""
    cols = ["period_kind", "period", "rank", *keys, "n_events", "n_points", "frp_sum"]
    parts = []
    p = pd.DataFrame({k: points[k].fillna("").to_numpy(dtype=object) for k in keys})
    p["window"], p["day"], p["frp"] = (points["window"].to_numpy(dtype=object),
                                       points["local_date"].to_numpy(dtype=object),
                                       points["frp"].to_numpy("float64"))
    e = pd.DataFrame({k: events[k].fillna("").to_numpy(dtype=object) for k in keys})
    e["window"], e["day"] = (events["window"].to_numpy(dtype=object),
                             events["start_date"].to_numpy(dtype=object))
    for kind, col in (("window", "window"), ("day", "day")):
        pp = p.dropna(subset=[col]).groupby([col, *keys], sort=True)
        a = pd.DataFrame({"n_points": pp.size(), "frp_sum": pp["frp"].sum().round(1)})
        b = e.dropna(subset=[col]).groupby([col, *keys], sort=True).size().rename("n_events")
        t = a.join(b, how="outer").fillna(0).reset_index().rename(columns={col: "period"})
        t["period_kind"] = kind
        parts.append(t)
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=cols)
    if len(out) == 0:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
    out[["n_events", "n_points"]] = out[["n_events", "n_points"]].astype(np.int64)
    out["rank"] = out.groupby(["period_kind", "period"])["n_events"].rank(
        method="min", ascending=False).astype(np.int64)
    for k in keys:
        out[k] = out[k].replace("", None)
    order = {"window": 0, "day": 1}
    out = out.sort_values(["period_kind", "period", "rank", "n_points", keys[0]],
                          key=lambda s: s.map(order) if s.name == "period_kind" else s,
                          ascending=[True, True, True, False, True], kind="stable")
    return out[cols].reset_index(drop=True)


def bulletin(points: pd.DataFrame, kept: np.ndarray, city: np.ndarray | None) -> pd.DataFrame:
    """The national bulletin's list: one row per kept detection, by local overpass time."""
    p = points.iloc[kept]
    city = city[kept] if city is not None else np.full(len(p), None, dtype=object)
    out = pd.DataFrame({
        "市": city, "县": p["county_name"].to_numpy(dtype=object),
        "乡镇": p["township_name"].to_numpy(dtype=object),
        "经度": p["lon"].round(4).to_numpy(), "纬度": p["lat"].round(4).to_numpy(),
        "经度（度分秒）": dms(p["lon"].to_numpy()), "纬度（度分秒）": dms(p["lat"].to_numpy()),
        "过境时间（北京时间）": text_values(p["local_time"]),
        "卫星": text_values(p["satellite"]),
        "传感器": text_values(p["instrument"]),
        "可信度": _class_names(p["conf_class"]),  # the class name (标称/高), never a number
        "火辐射功率（MW）": p["frp"].to_numpy(),
        "火点事件编号": p["event_id"].to_numpy(),
        "是否在耕地": np.array([None, "否", "是"], dtype=object)[
            pd.array(p["on_cropland"], dtype="boolean").astype("Int64").fillna(-1).to_numpy() + 1],
        "_utc": text_values(p["utc_time"]),
    })
    if p["first_reported"].notna().any():  # daily runs: when each was first reported
        out["首次通报日期"] = p["first_reported"].to_numpy(dtype=object)
        new = p["is_new"].to_numpy(dtype=object)
        out["本次新增"] = np.where(pd.isna(new), None, np.where(new == True, "是", "否"))  # noqa: E712
    out = out.sort_values(["_utc", "县", "经度", "纬度"], kind="stable").drop(columns="_utc")
    out.insert(0, "序号", np.arange(1, len(out) + 1))
    return out.reset_index(drop=True)
