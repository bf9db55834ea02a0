"""heat-radius map layers of the heat-network and biomass screens (legends, web map, figure).

The heat network's coverage and pipes are drawn under the boilers; the loose-coal villages to
connect and the biomass boilers above them. :func:`legends` is the one definition the web map,
the figure and the QGIS styles use (through ``heat_radius.symbology``).
"""

from __future__ import annotations

import folium
import geopandas as gpd
import numpy as np

from spatial import legend, mapparts

from . import biomass
from .base import Result

PIPE_COLORS = {"operating": "#b2182b", "other": "#969696"}
PIPE_LABELS = {"operating": "运行中的供热管网", "other": "在建/规划/停用管网（不计覆盖）"}
#: the pipe category from the layer's boolean column (QGIS expression)
PIPE_EXPR = "CASE WHEN {covers} THEN 'operating' ELSE 'other' END"


def pipe_category(pipes: gpd.GeoDataFrame) -> np.ndarray:
    """``operating`` for pipes that cover, ``other`` for the rest."""
    return np.where(pipes["covers"].to_numpy(dtype=bool), "operating", "other")


def under_boilers(result: Result) -> list[legend.LayerLegend]:
    """Legends of the coverage polygon and the pipes (drawn under the boilers)."""
    L, p = result.layers, result.params
    out = []
    if "coverage" in L:
        out.append(legend.single("coverage", f"供热管网覆盖范围（{p.network_buffer_m:g} 米）",
                                 "polygon", "#f4a582", fill_opacity=0.25, outline="#d6604d",
                                 width=1.0))
    if "heat_network" in L:
        pipes = L["heat_network"]
        out.append(legend.categorized("heat_network", "供热管网", "line", column="category",
                                      colors=PIPE_COLORS, labels=PIPE_LABELS,
                                      present=pipe_category(pipes) if len(pipes) else [],
                                      expression=PIPE_EXPR, width=3.0))
    return out


def over_boilers(result: Result) -> list[legend.LayerLegend]:
    """Legends of the loose-coal villages to connect and the biomass boilers."""
    L, p = result.layers, result.params
    out = []
    vill = L.get("network_villages")
    if vill is not None:
        out.append(legend.single("network_villages", "管网覆盖范围内未改造村庄（散煤待接入）",
                                 "point", "#762a83", size=5.0))
    bio = L.get("biomass")
    if bio is not None and len(bio):
        out.append(legend.categorized(
            "biomass", "生物质锅炉", "point",
            column="biomass_class", colors=biomass.CATEGORY_COLORS,
            labels={**biomass.CATEGORY_LABELS,
                    "integrate": f"小型生物质锅炉（< {p.small_biomass_th:g} t/h，整合）"},
            present=bio["biomass_class"], size=6.0))
    return out


def add_under(m: folium.Map, result: Result, legs: dict[str, legend.LayerLegend]) -> None:
    """Draw the coverage and the pipes."""
    L = result.layers
    if "coverage" in legs and len(L["coverage"]):
        mapparts.add_layer(m, legs["coverage"], L["coverage"],
                           tooltip={"buffer_m": "覆盖距离 (米)", "n_pipes": "运行管段数",
                                    "length_km": "运行管网长度 (km)", "area_km2": "面积 (km²)"})
    if "heat_network" in legs and len(L["heat_network"]):
        pipes = L["heat_network"]
        mapparts.add_layer(m, legs["heat_network"], pipes.assign(category=pipe_category(pipes)),
                           tooltip={"id": "编号", "name": "名称", "diameter_mm": "管径 (mm)",
                                    "status_raw": "状态", "length_km": "长度 (km)"})


def add_over(m: folium.Map, result: Result, legs: dict[str, legend.LayerLegend]) -> None:
    """Draw the loose-coal villages to connect and the biomass boilers."""
    L = result.layers
    vill = L.get("network_villages")
    if "network_villages" in legs and vill is not None and len(vill):
        pts = vill.set_geometry(gpd.points_from_xy(vill["lon"], vill["lat"]), crs="EPSG:4326")
        mapparts.add_layer(m, legs["network_villages"], pts,
                           tooltip={"name": "村庄", "township": "乡镇", "households": "总户数",
                                    "converted_households": "已改造户数",
                                    "network_distance_m": "距运行管网 (米)",
                                    "county_name": "县区"})
    if "biomass" in legs:
        mapparts.add_layer(m, legs["biomass"], L["biomass"],
                           tooltip={"name": "名称", "id": "编号", "capacity_th": "蒸吨 (t/h)",
                                    "ultra_low": "是否超低排放", "advice": "建议",
                                    "county_name": "县区"})


def figure_data(result: Result) -> dict[str, gpd.GeoDataFrame]:
    """The frames the figure draws for these layers (with their derived category)."""
    L = result.layers
    out = {}
    if "heat_network" in L:
        out["heat_network"] = L["heat_network"].assign(
            category=pipe_category(L["heat_network"]))
    vill = L.get("network_villages")
    if vill is not None:
        out["network_villages"] = vill.set_geometry(
            gpd.points_from_xy(vill["lon"], vill["lat"]), crs="EPSG:4326")
    return out
