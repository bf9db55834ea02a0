"""Map and figure of pollution-hotspots.

Cell values per period, Gi* classes, emerging hot spots, stations, and the ranking view
(counties and townships coloured by composite index, with their rank).
"""

from __future__ import annotations

import folium
import geopandas as gpd
import numpy as np

from spatial import figure, stats, webmap

from .base import Result
from .pollution_hotspots import LABELS, NAME, UNITS, Params

CLASS_COLORS = {1: "#b2182b", -1: "#2166ac"}
CLASS_LABELS = {1: "热点 (Gi* 显著偏高)", -1: "冷点 (Gi* 显著偏低)"}
PATTERN_COLORS = {"persistent hot spot": "#67001f", "intensifying hot spot": "#e7298a",
                  "consecutive hot spot": "#ff7f00", "new hot spot": "#ffd92f",
                  "diminishing hot spot": "#8c6bb1"}
TYPE_COLORS = {"national": "#000000", "provincial": "#1b7837", "city": "#e08214",
               "micro": "#7570b3"}
PM25_BINS = [0, 25, 35, 45, 55, 75, 115, np.inf]


def build_map(result: Result) -> folium.Map:
    """Value choropleth per period (the last shown), Gi* classes, hot-spot outlines, stations."""
    p: Params = result.params
    L = result.layers
    cells = L["cells"]
    unit = UNITS[p.pollutant]
    bbox = webmap.bounds_of(cells, L["stations"], result.context.get("counties"))
    m = webmap.new_map(bbox, title=result.title or NAME, basemap="light",
                       subtitle="H3 网格月均浓度、Gi* 热点（FDR 校正）与时空热点")
    webmap.add_admin(m, result.context)
    periods = list(dict.fromkeys(cells["period"])) if len(cells) else []
    vals = cells["value"].to_numpy(np.float64) if len(cells) else np.zeros(0)
    bins = PM25_BINS if p.pollutant == "pm25" else list(
        webmap.class_breaks(vals, k=6)) if np.isfinite(vals).any() else None
    hs_all = L["hotspots"]
    if len(hs_all) and hs_all["mean_value"].notna().any():
        webmap.add_choropleth(m, hs_all[hs_all["mean_value"].notna()], column="mean_value",
                              name=f"{LABELS[p.pollutant]} 各时段均值", label="各时段均值",
                              unit=unit,
                              bins=bins, legend=False, show=False,
                              tooltip={"h3_cell": "网格", "mean_value": f"均值 ({unit})",
                                       "category_zh": "时空热点类型", "county_name": "县区",
                                       "township_name": "乡镇"})
    if periods and cells["value"].notna().any():
        # every period in one layer with a period selector (the hexagons are drawn once)
        wide = cells.pivot(index="h3_cell", columns="period", values="value")
        wide = wide.reindex(columns=periods)[wide.notna().any(axis=1)]
        first = cells.drop_duplicates("h3_cell").set_index("h3_cell").loc[wide.index]
        hexes = gpd.GeoDataFrame({"h3_cell": wide.index.to_numpy(),
                                  "county_name": first["county_name"].to_numpy()},
                                 geometry=first.geometry.to_numpy(), crs=cells.crs)
        webmap.add_choropleth_periods(
            m, hexes, wide.reset_index(drop=True), name=f"{LABELS[p.pollutant]} 浓度（按时段）",
            label=f"{LABELS[p.pollutant]} 浓度", unit=unit, bins=bins,
            tooltip={"h3_cell": "网格", "county_name": "县区"}, value_format="{:.0f}",
            period_label="时段")
    if periods:
        lastp = cells[(cells["period"] == periods[-1]) & (cells["fdr_class"] != 0)]
        if len(lastp):
            webmap.add_polygons(m, lastp.assign(cls=lastp["fdr_class"].astype(int)),
                                name=f"Gi* 热点/冷点 {periods[-1]}", color_col="cls",
                                colors=CLASS_COLORS,
                                style={"weight": 0.5, "fillOpacity": 0.55},
                                tooltip={"h3_cell": "网格", "gi_z": "Gi* z", "gi_p": "p",
                                         "value": f"浓度 ({unit})", "county_name": "县区"},
                                show=False)
    hs = L["hotspots"]
    hs = hs[hs["category"].isin(list(PATTERN_COLORS))]
    if len(hs):  # one outline per category and patch, not one per cell
        patches = hs.assign(n_cells=1).dissolve(
            by="category", aggfunc={"category_zh": "first", "n_cells": "sum"}).reset_index()
        patches = patches.explode(index_parts=False).reset_index(drop=True)
        webmap.add_polygons(m, patches, name="时空热点（持续/加剧/连续/新增/减弱）",
                            color_col="category", colors=PATTERN_COLORS,
                            style={"weight": 2.5, "fill": False},
                            tooltip={"category_zh": "时空热点类型", "n_cells": "该类网格数"})
        webmap.add_legend(m, title="时空热点", position="bottomleft",
                          items=[(c, stats.CATEGORY_LABELS_ZH[k])
                                 for k, c in PATTERN_COLORS.items()])
    st = L["stations"]
    if len(st):
        st = st.assign(kind=st["type"].where(st["type"].isin(list(TYPE_COLORS)), "other"))
        webmap.add_points(m, st, name="监测站点", color_col="kind",
                          colors={**TYPE_COLORS, "other": "#999999"}, radius=4,
                          tooltip={"name": "站点", "id": "编号", "type": "类型",
                                   "mean_value": f"时段均值 ({unit})",
                                   "last_value": f"最近时段 ({unit})",
                                   "cell_value": f"所在网格 ({unit})",
                                   "completeness": "完整率", "status": "状态"})
    webmap.finish(m)
    return m


def figure_spec(result: Result) -> list[figure.LayerStyle]:
    """Static figure: mean value per cell by class, emerging hot spots outlined, stations."""
    p: Params = result.params
    hs = result.layers["hotspots"]
    hs = hs[hs["mean_value"].notna()].copy()
    specs = []
    if len(hs):
        vals = hs["mean_value"].to_numpy(np.float64)
        bins = PM25_BINS if p.pollutant == "pm25" else list(webmap.class_breaks(vals, k=6))
        edges = np.asarray(bins, dtype=float)
        names = webmap.class_labels(edges, value_format="{:.0f}")
        palette = webmap.sequential_colors(len(names))
        hs["band"] = np.asarray(names, dtype=object)[np.clip(webmap.classify(vals, edges), 0,
                                                               len(names) - 1)]
        order = {n: i for i, n in enumerate(names)}
        hs = hs.sort_values("band", key=lambda s: s.map(order), kind="stable")
        specs.append(figure.LayerStyle(
            "hotspots", f"{LABELS[p.pollutant]} 各时段均值（{UNITS[p.pollutant]}）",
            column="band", colors=dict(zip(names, palette, strict=True)), alpha=0.85,
            linewidth=0.0, data=hs))
        patterns = hs[hs["category"].isin(list(PATTERN_COLORS))]
        if len(patterns):
            patches = patterns.dissolve(by="category").reset_index()
            specs.append(figure.LayerStyle(
                "hotspots", "时空热点", column="category", colors=PATTERN_COLORS,
                labels=stats.CATEGORY_LABELS_ZH, linewidth=1.6, data=patches))
    if len(result.layers["stations"]):
        specs.append(figure.LayerStyle("stations", "监测站点", color="#000000", size=8))
    return specs
