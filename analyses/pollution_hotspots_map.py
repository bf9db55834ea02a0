"""The pollution-hotspots map, figure and QGIS styles: one legend definition (:func:`symbology`).

Kept from :mod:`analyses.pollution_hotspots` so that the analysis module holds the analysis.
The concentration classes (PM2.5: the bins below) and colours are shared by the web map (value
per period, with the period picker), the figure (mean over periods) and QGIS (last period).
"""

from __future__ import annotations

import dataclasses

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

from spatial import figure, legend, mapparts, stats, webmap

from .air_rankings_map import add_ranking, ranking_legends
from .base import Result


def _names(pollutant: str) -> tuple[str, str]:
    """(label, unit) of a pollutant, from the analysis module (imported late: it imports us)."""
    from .hotspot_stations import LABELS, UNITS

    return LABELS[pollutant], UNITS[pollutant]


CLASS_COLORS = {1: "#b2182b", -1: "#2166ac"}
CLASS_LABELS = {1: "热点 (Gi* 显著偏高)", -1: "冷点 (Gi* 显著偏低)"}
PATTERN_COLORS = {"persistent hot spot": "#67001f", "intensifying hot spot": "#e7298a",
                  "consecutive hot spot": "#ff7f00", "new hot spot": "#ffd92f",
                  "diminishing hot spot": "#8c6bb1", "sporadic hot spot": "#f4a582",
                  "oscillating hot spot": "#bf812d", "historical hot spot": "#7f7f7f",
                  "persistent cold spot": "#053061", "intensifying cold spot": "#2166ac",
                  "consecutive cold spot": "#4393c3", "new cold spot": "#92c5de",
                  "diminishing cold spot": "#35978f", "sporadic cold spot": "#c7eae5",
                  "oscillating cold spot": "#80cdc1", "historical cold spot": "#bababa"}
TYPE_COLORS = {"national": "#000000", "provincial": "#1b7837", "city": "#e08214",
               "micro": "#7570b3", "other": "#999999"}
TYPE_LABELS = {"national": "国控站", "provincial": "省控站", "city": "市控站", "micro": "微站",
               "other": "其他站点"}
PM25_BINS = [0, 25, 35, 45, 55, 75, 115, np.inf]


def _bins(p, values: np.ndarray) -> list[float] | None:
    if p.value_classes:
        return list(p.value_classes)
    if p.pollutant == "pm25":
        return PM25_BINS
    return list(webmap.class_breaks(values, k=6)) if np.isfinite(values).any() else None


def symbology(result: Result) -> list[legend.LayerLegend]:
    """The drawn layers, bottom to top, with classes, colours and Chinese names.

    The one definition the web map, the figure and the QGIS styles use: cell values by period
    (QGIS: the last period), Gi* classes by period, cells with an emerging-hot-spot pattern,
    stations by type.
    """
    p = result.params
    L = result.layers
    cells, hs, st = L["cells"], L["hotspots"], L["stations"]
    out = mapparts.admin_legends(result.context)
    vals = cells["value"].to_numpy(np.float64) if len(cells) else np.zeros(0)
    # the picker lists only the periods that hold values (in the order of the layer); one
    # factorize of the labels (a province-year: 11 M rows), not a groupby over strings
    codes, labels = pd.factorize(cells["period"])
    has = np.bincount(codes[np.isfinite(vals) & (codes >= 0)], minlength=len(labels)) > 0
    periods = [q for q, h in zip(labels, has, strict=True) if h]
    if periods and np.isfinite(vals).any():
        out.append(legend.graduated(
            "cells", f"{_names(p.pollutant)[0]} 浓度（按时段）", "polygon", column="value",
            values=vals, bins=_bins(p, vals), unit=_names(p.pollutant)[1], value_format="{:.0f}",
            fill_opacity=0.7, subset=f"\"period\" = '{periods[-1]}'"))
        gi = cells["fdr_class"].to_numpy(np.float64)
        out.append(legend.categorized(
            "cells", "Gi* 热点/冷点（按时段）", "polygon", column="fdr_class",
            colors=CLASS_COLORS, labels=CLASS_LABELS, present=gi[np.isfinite(gi)].astype(int),
            omit=(0,),
            fill_opacity=0.55, width=0.5, visible=False, extra={"periods": periods},
            subset=f"\"period\" = '{periods[-1]}'"))
    if len(hs):
        out.append(legend.categorized(
            "hotspots", "时空热点", "polygon", column="category", colors=PATTERN_COLORS,
            labels=stats.CATEGORY_LABELS_ZH, present=hs["category"], fill_opacity=0.0,
            omit=("no pattern detected",), width=2.5))
    if len(st):
        out.append(legend.categorized(
            "stations", "监测站点", "point", column="kind", colors=TYPE_COLORS,
            labels=TYPE_LABELS, present=_station_kind(st),
            expression="CASE WHEN {type} IN ('national', 'provincial', 'city', 'micro') "
                       "THEN {type} ELSE 'other' END"))
    return out + ranking_legends(result)


def _station_kind(st: pd.DataFrame) -> pd.Series:
    return st["type"].where(st["type"].isin(["national", "provincial", "city", "micro"]), "other")


def period_tables(cells: gpd.GeoDataFrame, columns: list[str], periods: list[str]
                  ) -> tuple[gpd.GeoDataFrame, dict[str, np.ndarray]]:
    """The cells layer (one row per cell and period) as one row per cell and a table per column.

    Returns the distinct cells (the first row of each, sorted by ``h3_cell``: their
    ``h3_cell``, ``county_name`` and geometry) and, per column, a float array of cells x
    `periods` (NaN where a cell has no row for the period). What ``cells.pivot(index="h3_cell",
    columns="period", values=column).reindex(columns=periods)`` gives, with the cells and
    periods factorized once for every column instead of once per pivot (a province-year's
    11 M rows: ~4 s less). Two rows of one cell and period raise, as the pivot does.
    """
    cell_codes, cell_ids = pd.factorize(cells["h3_cell"], sort=True)
    per_codes, per_ids = pd.factorize(cells["period"])
    col = pd.Index(periods).get_indexer(per_ids)[per_codes]
    n_c, n_p = len(cell_ids), len(periods)
    on = col >= 0
    flat = cell_codes[on].astype(np.int64) * n_p + col[on]
    if len(flat) and np.bincount(flat, minlength=n_c * n_p).max() > 1:
        raise ValueError("cells: more than one row for a cell and period")
    first = pd.Series(cell_codes).drop_duplicates()  # first row of each cell, by its code
    rows = np.empty(n_c, dtype=np.int64)
    rows[first.to_numpy()] = first.index.to_numpy()
    out = {}
    for c in columns:
        t = np.full(n_c * n_p, np.nan)
        t[flat] = cells[c].to_numpy(dtype=np.float64)[on]
        out[c] = t.reshape(n_c, n_p)
    one = cells.iloc[rows]
    distinct = gpd.GeoDataFrame({"h3_cell": np.asarray(cell_ids, dtype=object),
                                 "county_name": one["county_name"].to_numpy()},
                                geometry=one.geometry.to_numpy(), crs=cells.crs)
    return distinct, out


def build_map(result: Result, *,
              legends: list[legend.LayerLegend] | None = None) -> folium.Map:
    """Values and Gi* classes per period (one picker moves both), pattern cells, stations.

    ``legends``: the legend definitions to draw with (default :func:`symbology` of
    the result); a county pack passes those of the whole run, so its classes are the map's.
    """
    p = result.params
    L = result.layers
    cells = L["cells"]
    unit = _names(p.pollutant)[1]
    legs = legends or symbology(result)
    by = {(leg.layer, leg.column): leg for leg in legs}
    periods = by[("cells", "fdr_class")].extra["periods"] if ("cells", "value") in by else []
    distinct, table = period_tables(cells, ["value", "fdr_class"], periods)
    m = mapparts.start_map(result.context, distinct, L["stations"],
                           title=result.title or "pollution-hotspots",
                           subtitle="H3 网格月均浓度、Gi* 热点（FDR 校正）与时空热点")
    if ("cells", "value") in by:
        # every period in one layer; one period picker moves it and the Gi* layer
        vals = table["value"]
        keep = np.isfinite(vals).any(axis=1)
        hexes = distinct[keep].reset_index(drop=True)
        leg = by[("cells", "value")]
        webmap.add_choropleth_periods(
            m, hexes, pd.DataFrame(vals[keep], columns=periods), name=leg.title,
            label=f"{_names(p.pollutant)[0]} 浓度", unit=unit, bins=list(leg.edges),
            colors=[e.color for e in leg.entries], legend=False,
            tooltip={"h3_cell": "网格", "county_name": "县区"}, value_format="{:.0f}",
            period_label="时段")
        mapparts.note_layer(m, leg)
        gi = table["fdr_class"]
        keep = (np.nan_to_num(gi, nan=0.0) != 0).any(axis=1)
        if keep.any():
            leg = by[("cells", "fdr_class")]
            ghex = distinct.loc[keep, ["h3_cell", "geometry"]].reset_index(drop=True)
            # classes -1 / 0 / +1: cold, not significant (not drawn), hot
            webmap.add_choropleth_periods(
                m, ghex, pd.DataFrame(gi[keep], columns=periods), name=leg.title,
                label="Gi* 类别（1 热点，0 不显著，-1 冷点）", bins=[-1, -0.5, 0.5, 1],
                colors=[CLASS_COLORS[-1], "rgba(0,0,0,0)", CLASS_COLORS[1]], opacity=0.55,
                legend=False, show=False, value_format="{:+.0f}",
                tooltip={"h3_cell": "网格"}, period_label="时段")
            mapparts.note_layer(m, leg)
    hs = L["hotspots"]
    if ("hotspots", "category") in by:
        tip = {"h3_cell": "网格", "category_zh": "时空热点类型",
               "mean_value": f"各时段均值 ({unit})", "share_hot": "热点时段占比",
               "county_name": "县区", "township_name": "乡镇"}
        pattern = hs[hs["category"].isin(list(PATTERN_COLORS))]
        if len(pattern):  # one outline per category and patch, not one per cell
            patches = pattern.assign(n_cells=1).dissolve(
                by="category", aggfunc={"category_zh": "first", "n_cells": "sum"}).reset_index()
            mapparts.add_layer(m, by[("hotspots", "category")],
                               patches.explode(index_parts=False).reset_index(drop=True),
                               tooltip={"category_zh": "时空热点类型", "n_cells": "该类网格数"})
        rest = hs[~hs["category"].isin(list(PATTERN_COLORS))]
        if len(rest):  # behind a toggle: cells without a pattern
            mapparts.add_layer(m, legend.single("hotspots", "无显著时空模式的网格", "polygon",
                                                "#9e9e9e", fill_opacity=0.15, width=0.5,
                                                visible=False), rest, tooltip=tip)
    st = L["stations"]
    if ("stations", "kind") in by:
        mapparts.add_layer(m, by[("stations", "kind")], st.assign(kind=_station_kind(st)),
                           tooltip={"name": "站点", "id": "编号", "type": "类型",
                                    "mean_value": f"时段均值 ({unit})",
                                    "last_value": f"最近时段 ({unit})",
                                    "cell_value": f"所在网格 ({unit})",
                                    "completeness": "完整率", "status": "状态"})
    add_ranking(m, result, legs)
    mapparts.add_legend(m)
    webmap.finish(m)
    return m


#: Most periods one map holds unless ``[map] map_periods`` says otherwise (issue 16): more
#: become one map per year, so a map stays small enough to open in a meeting room.
MAP_PERIODS = 36


def map_years(result: Result, max_periods: int = MAP_PERIODS) -> dict[str, Result]:
    """One result per year, when one map would hold too many periods.

    ``{year: result with the cells of that year's periods}`` when the cells have more than
    ``max_periods`` periods over more than one year; else ``{}`` (one map).
    Every period label begins with its year (``2025-01``, ``2025-01-05``, ``2025Q1``, ``2025``,
    ``2024/2025秋冬`` for the season that begins in October 2024); the year is the label's first
    four characters. The other layers (patterns over all periods, stations,
    rankings) are the same in every year's map, and so are the value classes: those of the
    whole run (``params.value_classes`` set to them), so that a colour means the same
    concentration in every year's map.
    """
    cells = result.layers["cells"]
    labels = pd.Series(cells["period"].astype(str).unique())
    if len(labels) <= max_periods:
        return {}
    years = labels.str[:4]
    if years.nunique() < 2:
        return {}

    year_of = cells["period"].astype(str).str[:4]
    bins = _bins(result.params, cells["value"].to_numpy(np.float64))
    params = dataclasses.replace(result.params, value_classes=tuple(bins or ()))
    return {y: dataclasses.replace(result, params=params,
                                   layers={**result.layers,
                                           "cells": cells[year_of.to_numpy() == y]})
            for y in sorted(years.unique())}


def figure_spec(result: Result, *,
                legends: list[legend.LayerLegend] | None = None) -> list[figure.LayerStyle]:
    """Static figure: mean value per cell in the map's classes, pattern cells, stations."""
    p = result.params
    hs = result.layers["hotspots"]
    hs = hs[hs["mean_value"].notna()]
    by = {(leg.layer, leg.column): leg for leg in (legends or symbology(result))}
    specs = []
    if len(hs) and ("cells", "value") in by:
        leg = legend.with_(by[("cells", "value")], layer="hotspots", column="mean_value",
                           title=f"{_names(p.pollutant)[0]} 各时段均值（{_names(p.pollutant)[1]}）")
        # H3 cells never overlap: each class is filled as one path (spatial.figure)
        specs.append(dataclasses.replace(legend.figure_style(leg, hs), disjoint=True))
        pattern = hs[hs["category"].isin(list(PATTERN_COLORS))]
        if len(pattern):
            specs.append(legend.figure_style(by[("hotspots", "category")],
                                             pattern.dissolve(by="category").reset_index()))
    st = result.layers["stations"]
    if ("stations", "kind") in by:
        specs.append(legend.figure_style(by[("stations", "kind")],
                                         st.assign(kind=_station_kind(st))))
    return specs
