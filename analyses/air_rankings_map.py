"""The ranking view of pollution-hotspots: counties and townships by composite index.

On the web map (off when it opens; the cell values are the default view), in the QGIS styles
(one legend definition, :func:`ranking_legends`) and as its own figure
(``maps/pollution-hotspots.ranking.png``, each unit labelled with its rank: ``第3/19名 6.34``;
on the web map the rank is in each unit's tooltip and popup).
"""

from __future__ import annotations

import dataclasses

import folium
import geopandas as gpd
import numpy as np

from spatial import figure, legend, mapparts

from .base import Result

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
    """Draw the ranking layers of `legends` (from :func:`ranking_legends`).

    Each unit's tooltip and popup give its rank by composite index, by PM2.5 and by 改善率;
    the figure writes the rank on the map (:func:`extra_figures`).
    """
    rk = result.layers.get("unit_ranking")
    for leg in legends:
        if leg.layer != "unit_ranking" or rk is None:
            continue
        sub = rk[rk["level"] == leg.extra["level"]]
        sub = sub[np.isfinite(sub["composite_index"].to_numpy(np.float64))]
        if len(sub):
            sub = sub.assign(rank_text=rank_texts(sub))
            mapparts.add_layer(m, leg, sub, tooltip={"name": "名称", "rank_text": "排名",
                                                     **TOOLTIP}, value_format="{:.2f}")


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
