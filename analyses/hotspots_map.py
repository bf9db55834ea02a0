"""Map and figure of pollution-hotspots.

Cell values per period, Gi* classes, emerging hot spots, stations, and the ranking view
(counties and townships coloured by composite index, with their rank).
"""

from __future__ import annotations

import folium
import geopandas as gpd
import numpy as np
import shapely

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
    add_ranking(m, L.get("unit_ranking"))
    webmap.finish(m)
    return m


def ranking_texts(rk: gpd.GeoDataFrame) -> np.ndarray:
    """'东昌府区 第3/19名 6.34' per ranked unit: name, rank by composite index, the index."""
    rank = rk["rank_index"].astype("Int64").astype(str).to_numpy(dtype=object)
    n = rk["n_units"].astype("Int64").astype(str).to_numpy(dtype=object)
    idx = rk["composite_index"].map(lambda v: f"{v:.2f}").to_numpy(dtype=object)
    return rk["name"].astype(str).to_numpy(dtype=object) + " 第" + rank + "/" + n + "名 " + idx


def add_ranking(m: folium.Map, rk: gpd.GeoDataFrame | None, *, show: bool = False) -> None:
    """The ranking view: counties (and townships) coloured by composite index, rank labels.

    Off when the map opens unless `show` (the cell values are the default view); one legend
    for the index.
    """
    if rk is None or not len(rk):
        return
    period = f"{rk['period'].iloc[0]}"
    edges = webmap.class_breaks(rk["composite_index"].to_numpy(np.float64), k=5)
    for lvl, zh in (("county", "县区"), ("township", "乡镇")):
        sub = rk[rk["level"] == lvl]
        if not len(sub):
            continue
        sub = sub.assign(label=ranking_texts(sub))
        webmap.add_choropleth(
            m, sub, column="composite_index", name=f"{zh}综合指数排名 {period}",
            label=f"综合指数（{period}）", bins=list(edges), legend=lvl == "county",
            value_format="{:.2f}", show=show,
            tooltip={"name": zh, "composite_index": "综合指数", "rank_index": "综合指数排名",
                     "pm25": "PM2.5 (µg/m³)", "rank_pm25": "PM2.5排名",
                     "improve_index_pct": "改善率 (%)", "rank_improve": "改善率排名",
                     "both_lists": "双后位"})
        webmap.add_outlines(m, _label_anchors(sub), name=f"{zh}排名标注 {period}",
                            label_col="label", color="#333333", weight=0, show=show,
                            label_min_zoom=10 if lvl == "township" else None,
                            simplify_deg=0)


#: rank labels sit this far (degrees of latitude, ~5 km) south of the name add_admin writes
LABEL_DROP_DEG = 0.045


def _label_anchors(sub: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Tiny invisible squares below each unit's name point, carrying the rank labels.

    add_outlines writes labels at a point inside each polygon, where add_admin already writes
    the county name; the rank goes :data:`LABEL_DROP_DEG` south of it.
    """
    pts = shapely.point_on_surface(sub.geometry.array)
    x, y = shapely.get_x(pts), shapely.get_y(pts) - LABEL_DROP_DEG
    boxes = shapely.box(x - 1e-5, y - 1e-5, x + 1e-5, y + 1e-5)
    rank = sub["rank_index"].astype("Int64").astype(str) + "/" + sub["n_units"].astype(str)
    label = "第" + rank + "名 " + sub["composite_index"].map(lambda v: f"{v:.2f}")
    return gpd.GeoDataFrame({"label": label.to_numpy(dtype=object)}, geometry=boxes,
                            crs="EPSG:4326")


def extra_figures(result: Result) -> dict[str, tuple[str, list[figure.LayerStyle]]]:
    """The ranking figure, ``maps/pollution-hotspots.ranking.png``.

    Counties by composite-index class with '名称 第n/N名 指数' labels, latest ranked period;
    units on both bottom lists outlined in black.
    """
    rk = result.layers.get("unit_ranking")
    if rk is None or not len(rk):
        return {}
    rk = rk[rk["level"] == "county"] if (rk["level"] == "county").any() else rk
    vals = rk["composite_index"].to_numpy(np.float64)
    edges = np.asarray(webmap.class_breaks(vals, k=5), dtype=float)
    names = webmap.class_labels(edges, value_format="{:.2f}")
    palette = webmap.sequential_colors(len(names))
    band = np.asarray(names, dtype=object)[np.clip(webmap.classify(vals, edges), 0,
                                                   len(names) - 1)]
    order = {n: i for i, n in enumerate(names)}
    rank = rk["rank_index"].astype("Int64").astype(str) + "/" + rk["n_units"].astype(str)
    data = rk.assign(band=band, label="第" + rank + "名 " + rk["composite_index"].map(
        lambda v: f"{v:.2f}"))  # the county name is written above by figure.draw
    data = data.sort_values("band", key=lambda s: s.map(order), kind="stable")
    period = rk["period"].iloc[0]
    style = [figure.LayerStyle("unit_ranking", "综合指数", column="band",
                               colors=dict(zip(names, palette, strict=True)), alpha=0.85,
                               linewidth=0.6, data=data, text_column="label")]
    both = data[data["both_lists"].astype(bool)]
    if len(both):
        style.append(figure.LayerStyle("unit_ranking", "综合指数与改善率双后位", color="#000000",
                                       linewidth=2.2, data=both))
    return {"ranking": (f"环境空气质量综合指数排名（{period}）", style)}


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
