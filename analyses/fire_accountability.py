"""The plans' rules on fire events: accountability, warning periods, village grid, receptors.

Sources (``../README.md``, "Rules and their sources"):

- Accountability — 聊办字〔2017〕49号 (聊城市2017—2018年秋冬季大气污染综合治理攻坚行动方案),
  (十七) 二: "发生秸秆焚烧等情形，每项发现 1 起，对乡镇（街道、园区）长（主任）进行问责；发现 2 起，
  对乡镇（街道、园区）书记和有关县直部门有关负责人进行问责". Per township and window the 1st, 2nd, …
  event gets ``township_event_no``; ``accountability`` is the rule with the largest threshold not
  above it (``accountability_rules``, default as the plan says).
- Verification — the same plan, 21: "凡发生秸秆焚烧的，一经查实，严格追究…责任": events the
  townships report as not straw burning (非秸秆焚烧, 工业热源) or not found (未发现) do not count;
  pending ones count provisionally (marked 待核查).
- Warning periods — the same clause: "对重污染天气预警期间出现秸秆焚烧的，一律加重问责":
  ``during_warning`` when an event starts inside a warning of its area.
- Village grid — the same plan, 21 "建立网格化监管制度" and (十五) 网格化环境监管: the nearest
  village within ``village_max_km`` and its grid keeper (网格员).

Distances are geodesic on WGS-84 (metres inside, km in outputs). Coordinates lng/lat degrees.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from spatial import admin, geodesy
from spatial.errors import InputError
from spatial.io import Field
from spatial.receptors import receptors_near

#: 聊办字〔2017〕49号 (十七) 二: 1 起 -> 乡镇长, 2 起 -> 乡镇书记 and county departments
DEFAULT_RULES = ("1=乡镇（街道、园区）长（主任）",
                 "2=乡镇（街道、园区）书记和有关县直部门有关负责人")
WARNING_NOTE = "；预警期间，加重问责"
PENDING_NOTE = "（待核查）"
#: answers of the 核查 sheet and what they mean for accountability
CONFIRMED, REFUTED = ("属实",), ("非秸秆焚烧", "工业热源", "未发现")
ANSWERS = CONFIRMED + REFUTED
PENDING = "待核查"

WARNING_FIELDS = (
    Field("start", "text", True, ("开始时间", "开始", "发布时间", "启动时间", "start_time")),
    Field("end", "text", True, ("结束时间", "结束", "解除时间", "end_time")),
    Field("level", "text", False, ("级别", "预警级别", "等级")),
    Field("area", "text", False, ("区域", "范围", "县区", "地区", "county")),
)
VILLAGE_FIELDS = (
    Field("id", "text"), Field("name", "text", True, ("村名", "村庄", "村庄名称", "行政村")),
    Field("township", "text", False, ("乡镇", "所属乡镇", "镇街")),
    Field("keeper", "text", False, ("网格员", "网格长", "责任人", "联系人")),
    Field("phone", "text", False, ("电话", "联系电话", "手机")),
)
ALL_AREA = {"", "全市", "全域", "全部", "all"}


def parse_rules(rules: Sequence[str]) -> list[tuple[int, str]]:
    """``["1=乡镇长", "2=乡镇书记"]`` -> ``[(1, "乡镇长"), (2, "乡镇书记")]`` sorted by count."""
    out = []
    for r in rules:
        m = re.match(r"^\s*(\d+)\s*[=:：]\s*(.+?)\s*$", str(r))
        if not m or int(m.group(1)) < 1:
            raise InputError(f"params.accountability_rules: {r!r} is not 'N=who is answerable' "
                             f"with N >= 1, e.g. {DEFAULT_RULES[0]!r}.")
        out.append((int(m.group(1)), m.group(2)))
    if len({n for n, _ in out}) != len(out):
        raise InputError("params.accountability_rules: a count appears twice.")
    return sorted(out)


def level_for(counts: np.ndarray, rules: Sequence[tuple[int, str]]) -> np.ndarray:
    """The level reached at each count: the rule with the largest threshold <= count (or None)."""
    c = np.asarray(counts, dtype=np.int64)
    out = np.full(c.size, None, dtype=object)
    for n, who in rules:  # ascending: later (higher) rules overwrite
        out[c >= n] = who
    return out


def township_event_no(events: pd.DataFrame, counted: np.ndarray) -> pd.array:
    """1, 2, 3 … per (window, township_code) over `counted` events in event order; else NA."""
    n = len(events)
    out = pd.array([pd.NA] * n, dtype="Int64")
    sel = np.asarray(counted, bool) & events["township_code"].notna().to_numpy()
    if sel.any():
        sub = events[sel]
        order = sub.sort_values("event_id", kind="stable")
        no = order.groupby([order["window"].fillna(""), order["township_code"]],
                           sort=False).cumcount() + 1
        out[np.flatnonzero(sel)] = no.reindex(sub.index).to_numpy(np.int64)
    return out


def during_warning(start_local: Sequence[str], county_code: Sequence[Any],
                   county_name: Sequence[Any], warnings: pd.DataFrame | None, *, tz: str
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Events starting inside a heavy-pollution warning of their area.

    A warning applies to every county when its ``area`` is empty or 全市, else to the counties
    whose code or name appears in it (several separated by 、,，;). Warning start and end are
    local times (a date alone: the whole day), both inclusive.

    Returns
    -------
    flag, level
        bool per event and the (highest listed) warning level text, None outside warnings.
    """
    n = len(start_local)
    flag, level = np.zeros(n, bool), np.full(n, None, dtype=object)
    if warnings is None or len(warnings) == 0 or n == 0:
        return flag, level
    t = pd.to_datetime(pd.Series(start_local, dtype=object)).to_numpy("datetime64[m]")
    code = np.asarray(county_code, dtype=object)
    name = np.asarray(county_name, dtype=object)
    for _, w in warnings.iterrows():  # a season has a handful of warnings: loop over them
        a, b = _warning_bounds(w["start"], w["end"], tz=tz)
        area = str(w.get("area") or "").strip()
        parts = {p.strip() for p in re.split(r"[、,，;；\s]+", area) if p.strip()}
        if area.lower() in ALL_AREA or parts & ALL_AREA:
            mine = np.ones(n, bool)
        else:
            mine = np.isin(code.astype(str), list(parts)) | np.isin(name.astype(str), list(parts))
        hit = mine & (t >= a) & (t <= b)
        flag |= hit
        level[hit & pd.isna(level)] = w.get("level") or "预警"
    return flag, level


def check_warnings(frame: pd.DataFrame, *, path: Any) -> None:
    """Raise InputError naming the rows whose start or end is not a time (or ends first)."""
    bad = []
    for i, (a, b) in enumerate(zip(frame["start"], frame["end"], strict=True)):
        try:
            ta, tb = _warning_bounds(a, b, tz="")
            if tb < ta:
                bad.append(int(frame["row"].iloc[i]))
        except InputError:
            bad.append(int(frame["row"].iloc[i]))
    if bad:
        raise InputError(f"{path}: rows {', '.join(map(str, bad[:8]))} have a start or end that is "
                         "not a local time (YYYY-MM-DD HH:MM, or a date for the whole day) or end "
                         "before they start; correct them or remove the rows.")


def _warning_bounds(start: Any, end: Any, *, tz: str) -> tuple[np.datetime64, np.datetime64]:
    a, b = str(start).strip(), str(end).strip()
    try:
        ta, tb = pd.Timestamp(a), pd.Timestamp(b)
        if pd.isna(ta) or pd.isna(tb):
            raise ValueError(a)
    except ValueError:
        raise InputError(f"warnings: {a!r} / {b!r} are not times (YYYY-MM-DD HH:MM, local)."
                         ) from None
    if len(b) <= 10:  # a date alone: through the end of that day
        tb = tb + pd.Timedelta(days=1) - pd.Timedelta(minutes=1)
    return (np.datetime64(ta.tz_localize(None) if ta.tzinfo else ta, "m"),
            np.datetime64(tb.tz_localize(None) if tb.tzinfo else tb, "m"))


def nearest_village(lng: np.ndarray, lat: np.ndarray, villages: gpd.GeoDataFrame | None, *,
                    max_km: float) -> dict[str, np.ndarray]:
    """The village of each event point: the polygon containing it, else the nearest village point.

    Polygons count as distance 0 when they contain the point; otherwise villages are measured
    from their point (``lon``/``lat``: for polygons a point inside). Only villages within
    `max_km` (geodesic) count.

    Returns
    -------
    dict
        ``village_name``, ``village_township``, ``keeper``, ``keeper_phone``, ``village_km``.
    """
    n = len(lng)
    out = {k: np.full(n, None, dtype=object) for k in
           ("village_name", "village_township", "keeper", "keeper_phone")}
    out["village_km"] = np.full(n, np.nan)
    if villages is None or len(villages) == 0 or n == 0:
        return out
    v = villages.reset_index(drop=True)
    ib, d = geodesy.nearest(lng, lat, v["lon"].to_numpy(float), v["lat"].to_numpy(float))
    polys = v.geometry.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()
    if polys.any():
        inside = admin.locate(lng, lat, v[polys])
        hit = inside >= 0
        ib[hit], d[hit] = np.flatnonzero(polys)[inside[hit]], 0.0
    ok = (ib >= 0) & (d <= max_km * 1000.0)
    for col, src in (("village_name", "name"), ("village_township", "township"),
                     ("keeper", "keeper"), ("keeper_phone", "phone")):
        if src in v:
            out[col][ok] = v[src].to_numpy(dtype=object)[ib[ok]]
    out["village_km"][ok] = np.round(d[ok] / 1000.0, 2)
    return out


def annotate(events: gpd.GeoDataFrame, *, rules: Sequence[str], tz: str,
             verdicts: pd.Series | None = None, warnings: pd.DataFrame | None = None,
             villages: gpd.GeoDataFrame | None = None, village_max_km: float = 2.0,
             receptors: pd.DataFrame | None = None, receptor_km: float = 3.0
             ) -> gpd.GeoDataFrame:
    """Add the rule columns to the events layer (a copy).

    ``verification`` (属实 / 非秸秆焚烧 / 工业热源 / 未发现 / 待核查, from `verdicts` indexed by
    ``event_code``), ``township_event_no``, ``accountability``, ``during_warning``,
    ``warning_level``, the village columns and ``receptors``/``n_receptors``.
    """
    ev = events.copy()
    n = len(ev)
    verdict = np.full(n, PENDING, dtype=object)
    if verdicts is not None and len(verdicts) and n:
        got = ev["event_code"].map(verdicts)
        verdict = np.where(got.notna(), got, PENDING).astype(object)
    ev["verification"] = verdict
    # 聊办字〔2017〕49号 21 "一经查实": events the township refuted do not count
    counted = ~np.isin(verdict, REFUTED)
    no = township_event_no(ev, counted)
    ev["township_event_no"] = no
    flag, wlevel = during_warning(ev["start_time"].to_numpy(dtype=object),
                                  ev["county_code"].to_numpy(dtype=object),
                                  ev["county_name"].to_numpy(dtype=object), warnings, tz=tz)
    who = level_for(np.asarray(no.fillna(0), dtype=np.int64), parse_rules(rules))
    acc = pd.Series(who, dtype=object)
    has = acc.notna().to_numpy()
    # 聊办字〔2017〕49号 21: "对重污染天气预警期间出现秸秆焚烧的，一律加重问责"
    acc[has & flag] = acc[has & flag] + WARNING_NOTE
    acc[has & (verdict == PENDING)] = acc[has & (verdict == PENDING)] + PENDING_NOTE
    ev["accountability"] = acc.to_numpy(dtype=object)
    ev["during_warning"] = flag
    ev["warning_level"] = wlevel
    lng, lat = ev["lon"].to_numpy(float), ev["lat"].to_numpy(float)
    for k, v in nearest_village(lng, lat, villages, max_km=village_max_km).items():
        ev[k] = v
    ev["receptors"], ev["n_receptors"] = receptors_near(lng, lat, receptors, km=receptor_km)
    return ev


def township_table(events: pd.DataFrame, rules: Sequence[str]) -> pd.DataFrame:
    """Per window and township: events, confirmed / refuted / pending, and the level reached.

    ``level_confirmed`` counts 属实 events only (一经查实); ``level`` counts confirmed and
    pending ones (what is reached if the pending ones are confirmed).
    """
    cols = ["window", "county_code", "county_name", "township_code", "township_name",
            "n_events", "n_confirmed", "n_not_straw", "n_industrial", "n_not_found",
            "n_pending", "n_during_warning", "level_confirmed", "level"]
    e = events[events["township_code"].notna()]
    if len(e) == 0:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
    v = e["verification"].to_numpy(dtype=object)
    df = pd.DataFrame({"window": e["window"].fillna("").to_numpy(dtype=object),
                       "county_code": e["county_code"].fillna("").to_numpy(dtype=object),
                       "county_name": e["county_name"].fillna("").to_numpy(dtype=object),
                       "township_code": e["township_code"].to_numpy(dtype=object),
                       "township_name": e["township_name"].fillna("").to_numpy(dtype=object),
                       "n_events": 1, "n_confirmed": (v == "属实").astype(int),
                       "n_not_straw": (v == "非秸秆焚烧").astype(int),
                       "n_industrial": (v == "工业热源").astype(int),
                       "n_not_found": (v == "未发现").astype(int),
                       "n_pending": (v == PENDING).astype(int),
                       "n_during_warning": e["during_warning"].to_numpy(bool).astype(int)})
    keys = ["window", "county_code", "county_name", "township_code", "township_name"]
    t = df.groupby(keys, sort=True).sum().reset_index()
    r = parse_rules(rules)
    t["level_confirmed"] = level_for(t["n_confirmed"].to_numpy(), r)
    t["level"] = level_for((t["n_confirmed"] + t["n_pending"]).to_numpy(), r)
    t = t.sort_values(["window", "n_confirmed", "n_events", "township_code"],
                      ascending=[True, False, False, True], kind="stable")
    return t[cols].reset_index(drop=True)


def event_codes(start_local: Sequence[str], keys: Sequence[str]) -> np.ndarray:
    """Stable event codes ``YYYYMMDD-HHMM-xxxx`` from the start time and the earliest detection.

    ``xxxx`` is 4 hex digits of a hash of the earliest detection's exact key (instrument,
    satellite, lat, lon, UTC time), so the code does not change when other events come and go
    (townships answer by this code).
    """
    import hashlib

    out = []
    for t, k in zip(start_local, keys, strict=True):
        h = hashlib.sha1(str(k).encode("utf-8")).hexdigest()[:4]
        out.append(f"{str(t)[:10].replace('-', '')}-{str(t)[11:16].replace(':', '')}-{h}")
    return np.asarray(out, dtype=object)


def today_local(tz: str) -> str:
    """Today's date in `tz` as ``YYYY-MM-DD``."""
    return pd.Timestamp(dt.datetime.now(dt.UTC)).tz_convert(tz).date().isoformat()
