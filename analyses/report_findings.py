"""The findings paragraph (主要结果) of each analysis's Word report, in Chinese.

Each function reads the published tables of a result (``read(name)`` gives ``<name>.csv``,
``read(name, layer=True)`` a layer of ``<analysis>.gpkg`` without geometry) and its manifest,
and states the numbers of the run's summary in Chinese: the same counts, worked out again
from the tables a reader can open (the tests compare them with the summary). The summary
lines themselves follow in the report, as the run wrote them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from . import vocab

Reader = Callable[..., pd.DataFrame]


def _n(x: float) -> str:
    """Whole numbers with thousands separators (55,726)."""
    return f"{int(round(float(x))):,}"


def heat_radius(read: Reader, man: dict[str, Any]) -> list[str]:
    """Qualifying plants, target boilers and their t/h, advice, small CHP, open cases."""
    p = man.get("params") or {}
    plants, targets = read("by_plant"), read("targets")
    if "依据" in targets:  # targets of the network rule alone: in _heat_screens
        targets = targets[targets["依据"].fillna("供热半径").str.contains("供热半径")]
    boilers = targets[targets["规模单位"] == "蒸吨/小时"]
    units = targets[targets["规模单位"] == "MW"]
    advice = targets["建议（关停/整合）"].value_counts()
    out = [f"筛查范围内符合条件的热电联产电厂（{_n(p.get('min_capacity_mw', 300))} MW 及以上）"
           f"{len(plants)} 座，其 {p.get('radius_km', 30):g} 公里供热半径内需关停或整合的燃煤锅炉"
           f"{len(boilers)} 台，合计 {boilers['规模（蒸吨/小时或MW）'].sum():,.1f} 蒸吨/小时"
           + (f"；落后燃煤小热电机组 {len(units)} 台（{units['规模（蒸吨/小时或MW）'].sum():g} MW）"
              if len(units) else "")
           + f"。以上 {len(targets)} 台（套）按规模建议关停 {int(advice.get('关停', 0))} 台、"
           f"整合 {int(advice.get('整合', 0))} 台。"]
    unknown, new = read("unknown_fuel"), read("new_coal")
    extra = []
    if len(unknown):
        extra.append(f"燃料不明或待核实的 {len(unknown)} 台未计入，需在“燃料待核实”表中核实")
    if len(new):  # 聊政字〔2024〕15号 二(二)3: 全市范围原则上不再新建燃煤锅炉 (the new_coal table)
        extra.append(f"在建或拟建燃煤锅炉 {len(new)} 台（全市范围原则上不再新建燃煤锅炉），"
                     "见“新建燃煤项目”表")
    if extra:
        out.append("；".join(extra) + "。")
    return out + _heat_screens(read, man)


def _heat_screens(read: Reader, man: dict[str, Any]) -> list[str]:
    """The lines of the heat-network and biomass screens (聊环发〔2023〕7号, 聊政字〔2024〕15号)."""
    p, given = man.get("params") or {}, man.get("inputs") or {}
    targets = read("targets")
    out = []
    if "heat_network" in given:
        rule = targets["依据"].fillna("")
        net = rule.str.contains("管网")
        only = rule == "管网覆盖范围"
        vill = read("network_villages")
        out.append(f"供热管网覆盖范围（运行管网两侧 {p.get('network_buffer_m', 1000):g} 米）内的"
                   f"燃煤锅炉 {int(net.sum())} 台列为淘汰对象，其中 {int(only.sum())} 台在供热半径"
                   "以外、仅因管网覆盖列入"
                   + (f"；管网覆盖范围内尚未完成清洁取暖改造的村庄 {len(vill)} 个，需接入集中供热、"
                      "淘汰散煤" if "villages" in given else "") + "。")
    bio = read("biomass")
    if len(bio) and "built_up" in given:
        adv = bio["advice"].fillna("")
        out.append(f"生物质锅炉 {len(bio)} 台：城市建成区内需超低排放改造 "
                   f"{int(adv.str.startswith('超低排放改造').sum())} 台，小型（"
                   f"{p.get('small_biomass_th', 10):g} 蒸吨/小时以下）需整合 "
                   f"{int(adv.str.startswith('整合').sum())} 台，见“生物质锅炉清单”表。")
    return out


def no_burn_zones(read: Reader, man: dict[str, Any]) -> list[str]:
    """Villages converted, the proposed zone against the current one, violations, review."""
    c = read("by_county")
    s = c[["n_villages", "n_converted", "zone_km2", "households_in_zone", "added_km2",
           "removed_km2", "n_violations", "n_violations_current"]].sum()
    review = read("facility_review")
    out = [f"区域内 {_n(s['n_villages'])} 个村庄中，已完成清洁取暖改造 {_n(s['n_converted'])} 个。"
           f"建议禁燃区面积 {s['zone_km2']:,.1f} 平方公里，涉及 {_n(s['households_in_zone'])} 户；"
           f"与现行禁燃区相比，新增 {s['added_km2']:,.1f} 平方公里、调出 "
           f"{s['removed_km2']:,.1f} 平方公里。",
           f"建议禁燃区内违反管控要求的燃用、销售高污染燃料设施 {_n(s['n_violations'])} 个，"
           f"现行禁燃区内 {_n(s['n_violations_current'])} 个"
           + (f"；另有 {len(review)} 个设施无法判定，需核实（“设施待核实”表）" if len(review)
              else "") + "。"]
    return out


def fire_points(read: Reader, man: dict[str, Any]) -> list[str]:
    """Kept detections, events and counties of the season; industrial heat sources left out."""
    c = read("by_county")
    w = c[c["period_kind"] == "window"]
    pts = read("points", layer=True)
    status = pts["status"].value_counts()
    out = [f"本季共监测到疑似秸秆焚烧火点 {_n(w['n_points'].sum())} 个，归并为火点事件 "
           f"{_n(w['n_events'].sum())} 起，涉及 {w['county_code'].nunique()} 个县（市、区）"]
    if len(w):
        top = w.sort_values(["n_events", "n_points"], ascending=False, kind="stable").iloc[0]
        out[0] += f"，火点事件最多的是{top['county_name']}（{int(top['n_events'])} 起）"
    out[0] += "。"
    # FIRMS detections are suspected fires until checked on site (the daily notice's wording,
    # analyses/fire_daily.py; 聊办字〔2017〕49号: townships verify and report back)
    out.append(f"已按工业热源排除卫星火点 {_n(status.get('industrial', 0))} 个，低可信度 "
               f"{_n(status.get('low_confidence', 0))} 个，重复 {_n(status.get('duplicate', 0))} "
               "个；卫星火点为疑似火点，以现场核查为准。")
    return out


def pollution_hotspots(read: Reader, man: dict[str, Any]) -> list[str]:
    """The last month's county ranking, its double-bottom counties, the highest cell."""
    fields = man.get("fields") or {}
    label, unit = (fields.get("value") or ["浓度", ""])[:2]
    out = []
    r = read("ranking")
    r = r[(r["period_type"] == "month") & (r["level"] == "county")]
    if len(r):
        month = r["period"].astype(str).max()
        r = r[r["period"].astype(str) == month].sort_values("rank_index", kind="stable")
        first, last = r.iloc[0], r.iloc[-1]
        both = r.loc[r["both_lists"].astype(bool), "name"].tolist()
        n = (man.get("params") or {})["bottom_n"]  # the params of the run that flagged them
        out.append(f"{month} 县区综合指数排名：最好为{first['name']}"
                   f"（{first['composite_index']:.2f}），最差为{last['name']}"
                   f"（{last['composite_index']:.2f}）；综合指数与改善率均居后 {n} 位的县区"
                   + (f" {len(both)} 个：{'、'.join(both)}。" if both else "无。"))
    tv = read("top_value")
    if len(tv):
        period = tv["period"].astype(str).max()
        top = tv[tv["period"].astype(str) == period].sort_values("rank", kind="stable").iloc[0]
        county, town = (x if isinstance(x, str) else "" for x in
                        (top["county_name"], top["township_name"]))
        where = town if county and town.startswith(county) else county + town
        out.append(f"{period} {label}最高的网格位于{where or '（县区不明）'}，"
                   f"为 {top['value']:.1f} {unit}，高于均值 {top['exceed_ratio'] * 100:.1f}%。")
    return out


def machinery_zones(read: Reader, man: dict[str, Any]) -> list[str]:
    """The zone's area by county, records inside it, high-emission ones to ban, ones to clear."""
    p = man.get("params") or {}
    c = read("by_county")
    s = c[["zone_km2", "n_machines", "n_in_zone", "n_high_in_zone", "n_to_clear",
           "n_registered", "n_checked"]].sum()
    parts = [f"{r.county_name}{r.zone_km2:,.2f} 平方公里" for r in c.itertuples()
             if r.zone_km2 > 0]
    lo = vocab.label("stage", p.get("min_stage", "stage3"))
    clear = vocab.label("stage", p.get("clear_max_stage", "stage1"))
    # 聊办字〔2017〕49号 item 19 (划定并公布禁止使用高排放非道路移动机械的区域); 济宁市 2024 二(三)3
    # (国一及以下动态清零, 排放控制区管控)
    return [f"非道路移动机械低排放控制区面积 {s['zone_km2']:,.2f} 平方公里"
            + (f"（{'、'.join(parts)}）" if parts else "") + "。"
            f"登记机械 {_n(s['n_registered'])} 台、抽检记录 {_n(s['n_checked'])} 条中，"
            f"位于控制区内的 {_n(s['n_in_zone'])} 条，其中排放阶段低于{lo}的高排放机械 "
            f"{_n(s['n_high_in_zone'])} 条（见“区内高排放机械清单”）。",
            f"{clear}及以下排放标准机械 {_n(s['n_to_clear'])} 条，应动态清零"
            "（见“动态清零清单”）。"]


#: analysis -> its findings function
FINDINGS: dict[str, Callable[[Reader, dict[str, Any]], list[str]]] = {
    "heat-radius": heat_radius, "no-burn-zones": no_burn_zones, "fire-points": fire_points,
    "pollution-hotspots": pollution_hotspots, "machinery-zones": machinery_zones,
}
