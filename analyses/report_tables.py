"""Which tables each analysis's Word report shows (``layers/<analysis>/report.docx``).

:data:`REPORT_TABLES` maps an analysis to its key tables (:class:`spatial.report.KeyTable`):
the rows shown, their order, the columns and the number of rows (the rest is in
``tables.xlsx``; the report says how many more). An analysis module may declare its own
``REPORT_TABLES`` instead (:func:`analyses.result_report.key_tables`).
"""

from __future__ import annotations

import pandas as pd

from spatial.report import KeyTable


def _last(df: pd.DataFrame, *, period_type: str, levels: tuple[str, ...]) -> pd.DataFrame:
    """Rows of `levels` for the last period of `period_type` (``month``: ``2025-03``)."""
    rows = df[(df["period_type"] == period_type) & df["level"].isin(levels)]
    if not len(rows):
        return rows
    last = rows["period"].astype(str).max()
    return rows[rows["period"].astype(str) == last]


def _last_note(df: pd.DataFrame, *, period_type: str, levels: tuple[str, ...]) -> str:
    rows = _last(df, period_type=period_type, levels=levels)
    return f"最近月份：{rows['period'].iloc[0]}" if len(rows) else "无月度数据"


def _ranking(df: pd.DataFrame) -> pd.DataFrame:
    return _last(df, period_type="month", levels=("county",)).sort_values(
        ["rank_index", "name"], kind="stable")


def _aq(df: pd.DataFrame) -> pd.DataFrame:
    rows = _last(df, period_type="month", levels=("city", "county"))
    order = rows["level"].map({"city": 0, "county": 1})
    return rows.assign(_o=order).sort_values(["_o", "code"], kind="stable").drop(columns="_o")


def _top_value(df: pd.DataFrame) -> pd.DataFrame:
    last = df["period"].astype(str).max()
    return df[df["period"].astype(str) == last].sort_values("rank", kind="stable")


def _top_value_note(df: pd.DataFrame) -> str:
    return f"最近时段：{df['period'].astype(str).max()}" if len(df) else ""


def _window(df: pd.DataFrame) -> pd.DataFrame:
    """The whole burning-season rows (period_kind window), by rank."""
    return df[df["period_kind"] == "window"].sort_values(["period", "rank"], kind="stable")


def _violations(df: pd.DataFrame) -> pd.DataFrame:
    """Facilities breaking the zone's rule: inside the proposed zone first, by county."""
    key = df.assign(_p=~df["in_proposed"].fillna(False).astype(bool))
    return key.sort_values(["_p", "county_name", "township_name", "id"], kind="stable",
                           na_position="last").drop(columns="_p")


REPORT_TABLES: dict[str, tuple[KeyTable, ...]] = {
    "heat-radius": (
        KeyTable("targets", "供热半径内关停整合清单",
                 ("序号", "县（市、区）", "单位名称", "编号", "规模（蒸吨/小时或MW）", "燃料",
                  "最近电厂", "距离（公里）", "依据", "建议（关停/整合）"), max_rows=30),
        KeyTable("by_county", "按县区统计",
                 ("county_name", "n_inside", "capacity_th_inside", "n_outside",
                  "capacity_th_outside"), max_rows=30),
        KeyTable("network_villages", "供热管网覆盖范围内未改造村庄（散煤待接入）",
                 ("county_name", "township", "name", "households", "converted_households",
                  "network_distance_m"), max_rows=20),
        KeyTable("biomass", "生物质锅炉（建成区内超低排放改造、小型整合）",
                 ("county_name", "name", "capacity_th", "ultra_low", "in_built_up", "advice"),
                 max_rows=20),
    ),
    "no-burn-zones": (
        KeyTable("by_county", "按县区统计",
                 ("county_name", "n_villages", "n_converted", "households_in_zone", "zone_km2",
                  "added_km2", "removed_km2", "n_violations", "n_violations_current"),
                 max_rows=30),
        KeyTable("violations", "禁燃区内违规燃煤设施",
                 ("county_name", "township_name", "name", "kind", "fuel", "capacity_th",
                  "in_proposed", "in_current"), max_rows=30, select=_violations,
                 note="建议区内的在前", layer=True),
    ),
    "fire-points": (
        KeyTable("by_county", "按县区统计（全季）",
                 ("rank", "county_name", "n_events", "n_points", "frp_sum"), max_rows=30,
                 select=_window),
        KeyTable("by_township", "按乡镇统计（全季，前列）",
                 ("rank", "county_name", "township_name", "n_events", "n_points", "frp_sum"),
                 max_rows=20, select=_window),
    ),
    "pollution-hotspots": (
        KeyTable("ranking", "县区综合指数排名",
                 ("rank_index", "name", "composite_index", "primary_pollutant", "pm25",
                  "improve_index_pct", "rank_improve", "both_lists"), max_rows=30,
                 select=_ranking,
                 note=lambda df: _last_note(df, period_type="month", levels=("county",))),
        KeyTable("aq_stats", "市、县区空气质量统计（市在前）",
                 ("name", "n_valid_days", "pm25", "pm10", "no2", "o3_8h_p90",
                  "composite_index", "good_days"), max_rows=30, select=_aq,
                 note=lambda df: _last_note(df, period_type="month",
                                            levels=("city", "county"))),
        KeyTable("top_value", "高值网格排名",
                 ("rank", "county_name", "township_name", "value", "exceed_ratio", "h3_cell"),
                 max_rows=10, select=_top_value, note=_top_value_note),
    ),
}
