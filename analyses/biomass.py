"""heat-radius, biomass boilers: in the urban built-up area to retrofit, small ones outside.

Policy (聊政字〔2024〕15号 二(五)2 and 济宁市 2024 二(五)2 加强重点行业深度治理):
"推进整合小型生物质锅炉，引导城市建成区内生物质锅炉（含电力）超低排放改造" — small biomass
boilers are to be integrated, and biomass boilers (power units included) in the urban built-up
area guided to ultra-low-emission retrofit.

Boilers whose fuel is in :data:`analyses.vocab.BIOMASS_GROUPS` (生物质成型燃料, biomass burned
directly), operating or idle, are screened against the ``built_up`` polygons (the input
no-burn-zones reads, through its reader: OSM XML or a polygon file). A boiler *on* the edge of
a built-up polygon counts as inside (shapely ``intersects``: the boundary belongs to the
polygon). Advice (``advice``):

- in the built-up area, ``ultra_low`` not yes: 超低排放改造 (blank ultra_low says so: 待核实);
- in the built-up area, ultra_low yes: 已超低排放;
- outside, below ``small_biomass_th`` t/h (default 10: the issue's practice, the seeds say only
  小型): 整合; a blank capacity is 规模不明，待核实;
- outside, at or above the limit: none (保留);
- in a county where the built_up input has no polygon (with a counties input): not judged
  outside (``in_built_up`` blank): 该县区未提供建成区，位置待核实 (small ones: 整合 and that).

Without a built_up input no boiler can be placed: advice 未提供建成区，位置待核实, said in the
summary.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from spatial import admin
from spatial.export import FieldMeta

from . import vocab

RETROFIT, DONE = "超低排放改造", "已超低排放"
RETROFIT_CHECK = "超低排放改造（是否已超低排放待核实）"
INTEGRATE, SIZE_UNKNOWN, KEEP = "整合", "整合（规模不明，待核实）", "保留"
NO_BUILT_UP = "未提供建成区，位置待核实"
NOT_COVERED = "该县区未提供建成区，位置待核实"

FIELDS = {
    "ultra_low": FieldMeta("ultra_low", "是否超低排放"),
    "in_built_up": FieldMeta("in_bltup", "是否在建成区内"),
    "advice": FieldMeta("advice", "建议"),
    "biomass_class": FieldMeta("bio_class", "类别"),
}

#: the category of the map, figure and QGIS style
CATEGORY_COLORS = {"retrofit": "#e7298a", "ultra_low": "#1b9e77", "integrate": "#d95f02",
                   "other": "#7570b3"}
CATEGORY_LABELS = {"retrofit": "建成区内生物质锅炉（超低排放改造）",
                   "ultra_low": "建成区内生物质锅炉（已超低排放）",
                   "integrate": "小型生物质锅炉（整合）",
                   "other": "其他生物质锅炉"}
COLUMNS = ["id", "name", "capacity_th", "fuel", "fuel_raw", "status", "ultra_low",
           "in_built_up", "advice", "biomass_class", "lon", "lat", "county_code", "county_name",
           "row"]


def in_built_up(lng: np.ndarray, lat: np.ndarray, built_up: gpd.GeoDataFrame) -> np.ndarray:
    """Points (WGS-84 degrees, x = lng) inside or on the edge of any built-up polygon."""
    out = np.zeros(len(lng), dtype=bool)
    if not len(lng) or not len(built_up):
        return out
    tree = shapely.STRtree(built_up.geometry.to_numpy())
    hit, _ = tree.query(shapely.points(lng, lat), predicate="intersects")
    out[np.unique(hit)] = True
    return out


def covered(f: pd.DataFrame, built_up: gpd.GeoDataFrame,
            counties: gpd.GeoDataFrame | None) -> np.ndarray:
    """Rows whose county holds a built-up polygon (all rows without a counties input).

    A boiler in a county the built-up input does not reach cannot be said to be outside the
    built-up area (as no-burn-zones never extends into a county without data).
    """
    if counties is None or not len(counties) or not len(built_up):
        return np.ones(len(f), dtype=bool)
    rep = built_up.geometry.representative_point()
    pos = admin.locate(shapely.get_x(rep.to_numpy()), shapely.get_y(rep.to_numpy()), counties)
    codes = set(counties["code"].to_numpy(dtype=object)[pos[pos >= 0]])
    return f["county_code"].isin(codes).to_numpy()


def screen(b: pd.DataFrame, built_up: gpd.GeoDataFrame | None, active: np.ndarray,
           params: Any, counties: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """The biomass boilers of `b` (coded fuel, status; lon/lat; county) with their advice.

    `active` marks the operating or idle rows; `params` has ``small_biomass_th`` (t/h).
    Boilers in a county without any built-up polygon (`counties` given) are not judged
    outside: ``in_built_up`` blank and the advice says so.
    """
    sel = vocab.matches(b["fuel"], vocab.words(b["fuel_raw"]), vocab.BIOMASS_GROUPS) & active
    f = b[sel].copy()
    if "ultra_low" not in f:
        f["ultra_low"] = pd.array([pd.NA] * len(f), dtype="boolean")
    f["ultra_low"] = f["ultra_low"].astype("boolean")
    lng, lat = f["lon"].to_numpy(dtype=float), f["lat"].to_numpy(dtype=float)
    th = f["capacity_th"].to_numpy(dtype=float)
    ul = f["ultra_low"]
    if built_up is None:
        f["in_built_up"] = pd.array([pd.NA] * len(f), dtype="boolean")
        f["advice"] = NO_BUILT_UP
        f["biomass_class"] = "other"
    else:
        inside = in_built_up(lng, lat, built_up)
        known = covered(f, built_up, counties)
        f["in_built_up"] = pd.array(np.where(known | inside, inside, None), dtype="boolean")
        advice = np.full(len(f), KEEP, dtype=object)
        small = th < params.small_biomass_th
        advice[~inside & small] = INTEGRATE
        advice[~inside & np.isnan(th)] = SIZE_UNKNOWN
        advice[~inside & ~known & ~small] = NOT_COVERED
        advice[~inside & ~known & small] = INTEGRATE + "（" + NOT_COVERED + "）"
        yes = ul.fillna(False).to_numpy(dtype=bool)
        advice[inside & ~yes] = RETROFIT
        advice[inside & ul.isna().to_numpy()] = RETROFIT_CHECK
        advice[inside & yes] = DONE
        f["advice"] = advice
        f["biomass_class"] = np.select([inside & ~yes, inside & yes,
                                   ~inside & (small | np.isnan(th))],
                                  ["retrofit", "ultra_low", "integrate"], "other")
    f = f.sort_values(["county_code", "id"], kind="stable", na_position="last")
    return gpd.GeoDataFrame(f.reindex(columns=COLUMNS), geometry=gpd.points_from_xy(
        f["lon"], f["lat"]), crs="EPSG:4326").reset_index(drop=True)


def table(layer: gpd.GeoDataFrame) -> pd.DataFrame:
    """生物质锅炉清单: the layer without geometry (nor its map class), retrofit rows first.

    ``ultra_low`` and ``in_built_up`` read 是/否, a blank 未填报/待核实 (never taken as 否).
    """
    order = {"retrofit": 0, "integrate": 1, "ultra_low": 2, "other": 3}
    t = pd.DataFrame(layer.drop(columns="geometry"))
    t = t.assign(_o=t["biomass_class"].map(order)).sort_values(["_o", "county_code", "id"],
                                                         kind="stable")
    for col, blank in (("ultra_low", "未填报"), ("in_built_up", "待核实")):
        t[col] = t[col].map(lambda v, b=blank: b if pd.isna(v) else ("是" if v else "否"))
    return t.drop(columns=["_o", "biomass_class"]).reset_index(drop=True)  # advice says it


def summary(layer: gpd.GeoDataFrame, params: Any, has_built_up: bool) -> list[str]:
    """Summary lines of the biomass screen."""
    if not len(layer):
        return ["No operating or idle biomass boiler in the boilers input."]
    if not has_built_up:
        return [f"{len(layer)} biomass boilers listed (biomass table), but no built_up input: "
                "add [inputs.built_up] to tell those in the urban built-up area (to retrofit) "
                "from small ones outside (to integrate)."]
    c = layer["biomass_class"]
    th = layer["capacity_th"].fillna(0.0)
    return [f"{len(layer)} biomass boilers: {int((c == 'retrofit').sum())} in the built-up area "
            f"to retrofit to ultra-low emission ({float(th[c == 'retrofit'].sum()):,.1f} t/h; "
            f"{int((layer['advice'] == RETROFIT_CHECK).sum())} without an ultra_low value), "
            f"{int((c == 'ultra_low').sum())} there already ultra-low, "
            f"{int((c == 'integrate').sum())} small ones (< {params.small_biomass_th:g} t/h or "
            "size unknown) outside to integrate: see the biomass table."] + (
        [f"{n_open} of them lie in counties the built_up input does not reach: not judged "
         "outside (in_built_up blank); add those counties' built-up areas."]
        if (n_open := int(layer["in_built_up"].isna().sum())) else [])


def rules(params: Any) -> list[str]:
    """The biomass rule with its source, for the summary and the 说明 sheet."""
    return [f"biomass: boilers of fuel {'/'.join(vocab.BIOMASS_GROUPS)}, operating or idle; in "
            "the built-up area (on the edge = inside) 超低排放改造 unless ultra_low; outside and "
            f"< {params.small_biomass_th:g} t/h 整合 (聊政字〔2024〕15号 二(五)2, 济宁市 2024 "
            "二(五)2: 推进整合小型生物质锅炉，引导城市建成区内生物质锅炉（含电力）超低排放改造; "
            f"{params.small_biomass_th:g} t/h is the issue's practice, the seeds say 小型)"]

