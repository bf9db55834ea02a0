"""The ranking view of pollution-hotspots: counties and townships by composite index.

On the web map (off when it opens; the cell values are the default view), in the QGIS styles
(one legend definition, :func:`ranking_legends`) and as its own figure
(``maps/pollution-hotspots.ranking.png``), each unit with its rank: ``第3/19名 6.34``.
"""

from __future__ import annotations

import dataclasses

import folium
import geopandas as gpd
import numpy as np
import shapely

from spatial import figure, legend, mapparts, webmap

from .base import Result

#: rank labels sit this far (degrees of latitude, ~5 km) south of the unit's name on the map
LABEL_DROP_DEG = 0.045
LEVELS = (("county", "县区"), ("township", "乡镇"))
TOOLTIP = {"name": "名称", "composite_index": "综合指数", "rank_index": "综合指数排名",
           "pm25": "PM2.5 (µg/m³)", "rank_pm25": "PM2.5排名",
           "improve_index_pct": "改善率 (%)", "rank_improve": "改善率排名",
           "both_lists": "双后位"}


def rank_texts(rk: gpd.GeoDataFrame) -> np.ndarray:
    """``第3/19名 6.34`` per ranked unit: its rank by composite index of n, and the index."""
    rank = rk["rank_index"].astype("Int64").astype(str).to_numpy(dtype=object)
    n = rk["n_units"].astype("Int64").astype(str).to_numpy(dtype=object)
    idx = rk["composite_index"].map(lambda v: f"{v:.2f}").to_numpy(dtype=object)
    return "第" + rank + "/" + n + "名 " + idx


def ranking_legends(result: Result) -> list[legend.LayerLegend]:
    """One graduated legend per level of ``unit_ranking`` (5 classes of the composite index)."""
    rk = result.layers.get("unit_ranking")
    if rk is None or not len(rk):
        return []
    period = f"{rk['period'].iloc[0]}"
    out = []
    for lvl, zh in LEVELS:
        sub = rk[rk["level"] == lvl]
        vals = sub["composite_index"].to_numpy(np.float64)
        if not np.isfinite(vals).any():
            continue
        out.append(legend.graduated(
            "unit_ranking", f"{zh}综合指数排名（{period}）", "polygon",
            column="composite_index", values=vals[np.isfinite(vals)], k=5,
            value_format="{:.2f}", fill_opacity=0.6, width=1.0, visible=False,
            subset=f"\"level\" = '{lvl}'", extra={"level": lvl}))
    return out


def add_ranking(m: folium.Map, result: Result, legends: list[legend.LayerLegend]) -> None:
    """Draw the ranking layers of `legends` (from :func:`ranking_legends`) with rank labels."""
    rk = result.layers.get("unit_ranking")
    for leg in legends:
        if leg.layer != "unit_ranking" or rk is None:
            continue
        sub = rk[rk["level"] == leg.extra["level"]]
        sub = sub[np.isfinite(sub["composite_index"].to_numpy(np.float64))]
        if not len(sub):
            continue
        mapparts.add_layer(m, leg, sub, tooltip=TOOLTIP, value_format="{:.2f}")
        webmap.add_outlines(m, _label_anchors(sub), name=f"{leg.title} 名次",
                            label_col="label", color="#333333", weight=0, show=False,
                            label_min_zoom=10 if leg.extra["level"] == "township" else None,
                            simplify_deg=0)


def _label_anchors(sub: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Tiny invisible squares :data:`LABEL_DROP_DEG` below each unit's name, with its rank."""
    pts = shapely.point_on_surface(sub.geometry.array)
    x, y = shapely.get_x(pts), shapely.get_y(pts) - LABEL_DROP_DEG
    boxes = shapely.box(x - 1e-5, y - 1e-5, x + 1e-5, y + 1e-5)
    return gpd.GeoDataFrame({"label": rank_texts(sub)}, geometry=boxes, crs="EPSG:4326")


def extra_figures(result: Result) -> dict[str, tuple[str, list[figure.LayerStyle]]]:
    """The ranking figure: counties by composite-index class with their rank, latest period.

    Units on both bottom lists (by index and by 改善率) are outlined in black.
    """
    legs = [g for g in ranking_legends(result) if g.extra["level"] == "county"] \
        or ranking_legends(result)
    if not legs:
        return {}
    leg = legs[0]
    rk = result.layers["unit_ranking"]
    data = rk[rk["level"] == leg.extra["level"]]
    data = data[np.isfinite(data["composite_index"].to_numpy(np.float64))]
    data = data.assign(label=rank_texts(data))  # the county name is written by figure.draw
    style = [dataclasses.replace(legend.figure_style(leg, data), text_column="label",
                                 linewidth=0.6)]
    both = data[data["both_lists"].astype(bool)]
    if len(both):
        style.append(figure.LayerStyle("unit_ranking", "综合指数与改善率双后位", color="#000000",
                                       linewidth=2.2, data=both))
    period = data["period"].iloc[0]
    return {"ranking": (f"环境空气质量综合指数排名（{period}）", style)}
