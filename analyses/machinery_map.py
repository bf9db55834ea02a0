"""The machinery-zones map, figure and QGIS styles: one legend definition (:func:`symbology`).

Helpers of :mod:`analyses.machinery_zones`: the zone by county, the machinery records by
category (high-emission inside the zone, high-emission outside, others inside, others
outside), the H3 cells with their counts (off when the map opens).
"""

from __future__ import annotations

import folium
import numpy as np
import pandas as pd

from spatial import figure, legend, mapparts, webmap

from .base import Result

ZONE_COLOR = "#3182bd"
MACHINE_COLORS = {"high_in_zone": "#d7301f", "high_outside": "#fdae61",
                  "ok_in_zone": "#1a9850", "ok_outside": "#969696"}
MACHINE_LABELS = {"high_in_zone": "区内高排放机械（禁用）", "high_outside": "区外高排放机械",
                  "ok_in_zone": "区内达标机械", "ok_outside": "区外达标机械"}
#: the record category of the map, figure and QGIS style, from the layer's boolean columns
_CATEGORY_EXPR = ("CASE WHEN {high_emission} AND {in_zone} THEN 'high_in_zone' "
                  "WHEN {high_emission} THEN 'high_outside' WHEN {in_zone} THEN 'ok_in_zone' "
                  "ELSE 'ok_outside' END")


def category(m: pd.DataFrame) -> np.ndarray:
    """The category of each record (keys of :data:`MACHINE_COLORS`)."""
    high = m["high_emission"].to_numpy(dtype=bool)
    inz = m["in_zone"].to_numpy(dtype=bool)
    return np.where(high, np.where(inz, "high_in_zone", "high_outside"),
                    np.where(inz, "ok_in_zone", "ok_outside"))


def symbology(result: Result) -> list[legend.LayerLegend]:
    """The drawn layers, bottom to top, with their colours and Chinese names.

    The one definition the web map, the figure and the QGIS styles use.
    """
    L = result.layers
    out = mapparts.admin_legends(result.context)
    if len(L["cells"]):
        out.append(legend.graduated("cells", "H3 网格：机械记录数", "polygon",
                                    column="n_machines",
                                    values=L["cells"]["n_machines"].to_numpy(float), k=4,
                                    unit="台", value_format="{:.0f}", fill_opacity=0.5,
                                    width=0.3, visible=False))
    out.append(legend.single("zone", "非道路移动机械低排放控制区", "polygon", ZONE_COLOR,
                             outline="#08519c", width=1.5, fill_opacity=0.25))
    m = L["machines"]
    out.append(legend.categorized("machines", "非道路移动机械（登记/抽检）", "point",
                                  column="category", colors=MACHINE_COLORS,
                                  labels=MACHINE_LABELS,
                                  present=category(m) if len(m) else [],
                                  expression=_CATEGORY_EXPR, size=4.0))
    if len(L["high_emission"]):  # also a category of the machines: its own layer for QGIS
        out.append(legend.single("high_emission", MACHINE_LABELS["high_in_zone"], "point",
                                 MACHINE_COLORS["high_in_zone"], size=6.0, label_col="id",
                                 visible=False))
    return out


def build_map(result: Result, *,
              legends: list[legend.LayerLegend] | None = None) -> folium.Map:
    """The zone by county, the machinery records by category, the H3 cells (off).

    ``legends``: the legend definitions to draw with (default :func:`symbology` of the
    result); a county pack passes those of the whole run, so its classes are the map's.
    """
    L = result.layers
    legs = {leg.layer: leg for leg in (legends or symbology(result))}
    m = mapparts.start_map(result.context, L["zone"], L["machines"],
                           title=result.title or "machinery-zones")
    if "cells" in legs and len(L["cells"]):
        mapparts.add_layer(m, legs["cells"], L["cells"], label="机械记录数",
                           tooltip={"h3_cell": "网格", "n_machines": "机械记录数",
                                    "n_high": "高排放", "n_high_in_zone": "区内高排放",
                                    "n_registered": "登记", "n_checked": "抽检"})
    mapparts.add_layer(m, legs["zone"], L["zone"],
                       tooltip={"zone_id": "图斑", "county_name": "县区",
                                "area_km2": "面积 (km²)", "n_machines": "区内机械记录",
                                "n_high": "区内高排放"})
    mach = L["machines"]
    mapparts.add_layer(m, legs["machines"], mach.assign(category=category(mach)),
                       tooltip={"id": "编号", "source": "来源", "kind": "机械类型",
                                "stage": "排放阶段", "name": "使用单位", "site": "使用地点",
                                "date": "日期", "county_name": "县区"})
    mapparts.add_legend(m)
    webmap.finish(m)
    return m


def figure_spec(result: Result, *,
                legends: list[legend.LayerLegend] | None = None) -> list[figure.LayerStyle]:
    """Static figure: the zone and the records by category (:func:`symbology`); no cells."""
    mach = result.layers["machines"]
    data = {"machines": mach.assign(category=category(mach))}
    return [legend.figure_style(leg, data.get(leg.layer)) for leg in (legends or symbology(result))
            if not leg.context and leg.layer in ("zone", "machines")]
