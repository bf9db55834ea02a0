"""Coal boilers and small coal CHP units within the heat-supply radius of large CHP plants.

Policy (Shandong action plan): "完成省下达30万千瓦及以上热电联产电厂30公里供热半径范围内的
燃煤锅炉和落后燃煤小热电机组（含自备电厂）关停或整合任务" — the coal boilers and backward
small coal CHP units (captive units included) within the 30 km heat-supply radius of CHP
plants of 300 MW and above are to be shut down or integrated.

Inputs
------
plants
    id, name, lon, lat, capacity_mw (MW; rows of one id are units and are summed), is_chp,
    fuel, status.
boilers
    id, lon, lat, name, capacity_th (t/h, 蒸吨), fuel, kind (boiler | small_chp | captive),
    status, county, plant_id (the plant a unit belongs to: a plant's own units are not its own
    targets).
counties
    polygons with code and name (optional: attribution only).

Outputs
-------
Layers ``plants`` (qualifying plants with n_boilers_inside, capacity_th_inside), ``radius``
(geodesic circles), ``boilers`` (every usable input boiler with in_radius, target,
nearest_plant_id, nearest_plant_name, distance_km, n_plants_within, county_code, county_name),
``cells`` (H3 cells covering the radius union, with targets and t/h inside); tables
``by_county``, ``by_plant``, ``rejected``.

A boiler is inside when its geodesic distance (WGS-84 ellipsoid) to a qualifying plant is at
most the radius; a *target* is a boiler inside whose fuel is in ``boiler_fuels``, whose kind is
in ``boiler_kinds`` and which is not retired.
"""

from __future__ import annotations

from dataclasses import dataclass

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

from spatial import admin, coords, figure, geodesy, h3grid, legend, mapparts, webmap
from spatial.errors import InputError
from spatial.export import FieldMeta
from spatial.io import Field

from . import vocab
from .base import InputSpec, Result

NAME = "heat-radius"

INPUTS = (
    InputSpec("plants", "points", (
        Field("id", "text", True), Field("name", "text", True),
        Field("capacity_mw", "float", True, ("装机容量", "装机容量(mw)", "容量", "capacity")),
        Field("is_chp", "bool", False, ("热电联产", "是否热电联产", "chp")),
        Field("fuel", "text", False, ("燃料", "燃料类型")),
        Field("status", "text", False, ("状态", "运行状态")),
    ), True, "power plants, one row per plant or per unit", unique_ids=False),
    InputSpec("boilers", "points", (
        Field("id", "text", True), Field("name", "text"),
        Field("capacity_th", "float", False, ("蒸吨", "容量", "规模", "额定蒸发量", "t/h")),
        Field("fuel", "text", False, ("燃料", "燃料类型")),
        Field("kind", "text", False, ("类型", "设施类型", "类别")),
        Field("status", "text", False, ("状态", "运行状态")),
        Field("county", "text"),
        Field("plant_id", "text", False, ("所属电厂", "所属电厂编号")),
    ), True, "coal boilers, small CHP units and captive units"),
    InputSpec("counties", "polygons", (Field("code", "text", True), Field("name", "text", True)),
              False, "county boundaries with code and name"),
)


@dataclass(frozen=True)
class Params:
    """Parameters of heat-radius, with the policy's values as defaults.

    Attributes
    ----------
    radius_km
        Heat-supply radius, km (geodesic).
    min_capacity_mw
        A plant qualifies at or above this total capacity, MW.
    chp_only
        Only combined heat and power plants qualify (needs the plants' is_chp column).
    boiler_fuels
        Fuels whose boilers are targets.
    boiler_kinds
        Kinds that are targets (boiler, small_chp, captive); units of unknown kind count.
    h3_resolution
        Resolution of the ``cells`` layer (7: ~5.2 km² cells).
    """

    radius_km: float = 30.0
    min_capacity_mw: float = 300.0
    chp_only: bool = True
    boiler_fuels: tuple[str, ...] = ("coal",)
    boiler_kinds: tuple[str, ...] = ("boiler", "small_chp", "captive")
    h3_resolution: int = 7

    def __post_init__(self) -> None:
        if not 0 < self.radius_km <= 500:
            raise InputError(f"params.radius_km must be in (0, 500] km, not {self.radius_km}.")
        if self.min_capacity_mw < 0:
            raise InputError(f"params.min_capacity_mw must be >= 0, not {self.min_capacity_mw}.")
        if not 0 <= self.h3_resolution <= 15:
            raise InputError(f"params.h3_resolution must be 0..15, not {self.h3_resolution}.")
        fuels = set(vocab.FUEL)
        bad = [f for f in self.boiler_fuels if f not in fuels]
        if bad:
            raise InputError(f"params.boiler_fuels: unknown fuel(s) {bad}; use {sorted(fuels)}.")


FIELDS = {
    "n_boilers_inside": FieldMeta("n_inside", "半径内目标锅炉数", "台"),
    "capacity_th_inside": FieldMeta("th_inside", "半径内目标锅炉蒸吨", "t/h"),
    "capacity_mw": FieldMeta("cap_mw", "装机容量", "MW"),
    "capacity_th": FieldMeta("cap_th", "额定蒸吨", "t/h"),
    "is_chp": FieldMeta("is_chp", "是否热电联产"),
    "n_units": FieldMeta("n_units", "机组数", "台"),
    "in_radius": FieldMeta("in_radius", "是否在供热半径内"),
    "target": FieldMeta("target", "是否关停整合对象"),
    "nearest_plant_id": FieldMeta("near_id", "最近电厂编号"),
    "nearest_plant_name": FieldMeta("near_name", "最近电厂名称"),
    "distance_km": FieldMeta("dist_km", "距最近电厂距离", "km"),
    "n_plants_within": FieldMeta("n_plants", "半径内电厂数", "座"),
    "county_code": FieldMeta("cnty_code", "县区代码"),
    "county_name": FieldMeta("cnty_name", "县区名称"),
    "plant_id": FieldMeta("plant_id", "电厂编号"),
    "plant_name": FieldMeta("plant_name", "电厂名称"),
    "radius_km": FieldMeta("radius_km", "供热半径", "km"),
    "h3_cell": FieldMeta("h3_cell", "H3网格编号"),
    "n_targets": FieldMeta("n_targets", "目标锅炉数", "台"),
    "capacity_th_targets": FieldMeta("th_targets", "目标锅炉蒸吨", "t/h"),
    "name": FieldMeta("name", "名称"),
    "fuel": FieldMeta("fuel", "燃料"),
    "kind": FieldMeta("kind", "类型"),
    "status": FieldMeta("status", "状态"),
    "lon": FieldMeta("lon", "经度", "°"),
    "lat": FieldMeta("lat", "纬度", "°"),
    "row": FieldMeta("row", "原表行号"),
}


def merge_units(plants: pd.DataFrame) -> pd.DataFrame:
    """One row per plant id: capacity summed over its unit rows, location of the first row.

    ``is_chp`` is true when any unit is CHP; ``status`` is operating when any unit operates.
    """
    p = plants.copy()
    p["status"] = vocab.status(p["status"])
    p["fuel"] = vocab.fuel(p["fuel"])
    p["_operating"] = p["status"] == "operating"
    g = p.groupby("id", sort=False)
    out = g.agg(name=("name", "first"), lon=("lon", "first"), lat=("lat", "first"),
                capacity_mw=("capacity_mw", "sum"), n_units=("id", "size"),
                fuel=("fuel", "first"), row=("row", "first"),
                _operating=("_operating", "any")).reset_index()
    chp = p["is_chp"].astype("boolean")
    out["is_chp"] = chp.groupby(p["id"], sort=False).agg(
        lambda s: pd.NA if s.isna().all() else bool(s.fillna(False).any())
    ).reindex(out["id"]).to_numpy()
    out["status"] = np.where(out.pop("_operating"), "operating",
                             g["status"].first().reindex(out["id"]).to_numpy())
    return out


def qualifying(plants: pd.DataFrame, params: Params) -> np.ndarray:
    """Boolean mask of merged plants that qualify (operating, CHP if asked, >= threshold)."""
    ok = (plants["status"] == "operating").to_numpy() & (
        plants["capacity_mw"].to_numpy() >= params.min_capacity_mw)
    if params.chp_only:
        ok &= plants["is_chp"].fillna(False).astype(bool).to_numpy()
    return ok


def run(inputs: dict[str, gpd.GeoDataFrame], params: Params) -> Result:
    """Screen boilers against the heat-supply radius of qualifying CHP plants.

    Parameters
    ----------
    inputs
        ``plants``, ``boilers`` (and optional ``counties``) as read by ``spatial.io``:
        GeoDataFrames in EPSG:4326 with FORMATS.md field names and ``lon``/``lat`` columns.
    params
        See :class:`Params`.
    """
    raw_plants, boilers = inputs["plants"], inputs["boilers"].reset_index(drop=True)
    counties = inputs.get("counties")
    if params.chp_only and len(raw_plants) and raw_plants["is_chp"].isna().all():
        raise InputError(
            "plants: no is_chp values (热电联产 yes/no), so no plant can qualify as a CHP plant; "
            "add an is_chp column or run with --set params.chp_only=false."
        )
    plants = merge_units(raw_plants)
    q = plants[qualifying(plants, params)].reset_index(drop=True)
    radius_m = params.radius_km * 1000.0

    b = boilers.copy()
    b["fuel"] = vocab.fuel(b["fuel"])
    b["kind"] = vocab.kind(b["kind"])
    b["status"] = vocab.status(b["status"])
    blng, blat = b["lon"].to_numpy(), b["lat"].to_numpy()
    ia, ip, d = geodesy.pairs_within(blng, blat, q["lon"].to_numpy(), q["lat"].to_numpy(),
                                     distance=radius_m)
    own = b["plant_id"].to_numpy(dtype=object)[ia] == q["id"].to_numpy(dtype=object)[ip]
    ia, ip, d = ia[~own], ip[~own], d[~own]
    n_within = np.bincount(ia, minlength=len(b))
    near_i, near_d = geodesy.nearest(blng, blat, q["lon"].to_numpy(), q["lat"].to_numpy(),
                                     a_key=b["plant_id"].to_numpy(dtype=object),
                                     b_key=q["id"].to_numpy(dtype=object))
    b["in_radius"] = n_within > 0
    screened = (b["fuel"].isin(params.boiler_fuels)
                & (b["kind"].isna() | b["kind"].isin(params.boiler_kinds))
                & (b["status"] != "retired")).to_numpy()
    b["target"] = b["in_radius"].to_numpy() & screened
    has = near_i >= 0
    for col, src in (("nearest_plant_id", "id"), ("nearest_plant_name", "name")):
        vals = np.full(len(b), None, dtype=object)
        vals[has] = q[src].to_numpy(dtype=object)[near_i[has]]
        b[col] = vals
    b["distance_km"] = np.round(near_d / 1000.0, 3)
    b["n_plants_within"] = n_within
    b = admin.attach(b, blng, blat, counties, level="county", fallback="county")

    # per plant: targets within its radius (a boiler may count for several plants)
    tgt_pair = b["target"].to_numpy()[ia]
    cap = b["capacity_th"].fillna(0.0).to_numpy()
    q["n_boilers_inside"] = np.bincount(ip[tgt_pair], minlength=len(q))
    q["capacity_th_inside"] = np.round(
        np.bincount(ip[tgt_pair], weights=cap[ia[tgt_pair]], minlength=len(q)), 2)
    q = admin.attach(q, q["lon"].to_numpy(), q["lat"].to_numpy(), counties, level="county")

    circles = coords.geodesic_circles(q["lon"].to_numpy(), q["lat"].to_numpy(), radius_m)
    radius = gpd.GeoDataFrame({"plant_id": q["id"], "plant_name": q["name"],
                               "radius_km": params.radius_km,
                               "n_boilers_inside": q["n_boilers_inside"]},
                              geometry=list(circles), crs="EPSG:4326")
    cells = _cells(radius, b, params)
    plants_layer = gpd.GeoDataFrame(
        q[["id", "name", "capacity_mw", "n_units", "is_chp", "fuel", "status", "lon", "lat",
           "county_code", "county_name", "n_boilers_inside", "capacity_th_inside"]],
        geometry=gpd.points_from_xy(q["lon"], q["lat"]), crs="EPSG:4326")
    boiler_cols = ["id", "name", "capacity_th", "fuel", "kind", "status", "plant_id", "lon",
                   "lat", "in_radius", "target", "nearest_plant_id", "nearest_plant_name",
                   "distance_km", "n_plants_within", "county_code", "county_name", "row"]
    boilers_layer = gpd.GeoDataFrame(b[boiler_cols], geometry=b.geometry.to_numpy(),
                                     crs="EPSG:4326")
    by_county = _by_county(b, screened)
    by_plant = q[["id", "name", "capacity_mw", "county_name", "n_boilers_inside",
                  "capacity_th_inside"]].rename(columns={"id": "plant_id", "name": "plant_name"})
    by_plant = by_plant.sort_values(["n_boilers_inside", "plant_id"], ascending=[False, True])

    summary = _summary(plants, q, b, screened, params)
    return Result(
        analysis=NAME, params=params,
        layers={"plants": plants_layer, "radius": radius, "boilers": boilers_layer,
                "cells": cells},
        tables={"by_county": by_county, "by_plant": by_plant.reset_index(drop=True)},
        summary=summary, fields=FIELDS,
        title=f"{params.radius_km:g} 公里供热半径内燃煤锅炉筛查",
        context={"counties": counties} if counties is not None else {},
    )


def _cells(radius: gpd.GeoDataFrame, b: pd.DataFrame, params: Params) -> gpd.GeoDataFrame:
    res = params.h3_resolution
    if len(radius):
        cells, _ = h3grid.polygons_to_cells(radius.geometry.to_numpy(), resolution=res,
                                            mode="overlap")
        cells = np.unique(cells)
    else:
        cells = np.zeros(0, dtype=np.uint64)
    tgt = b[b["target"]]
    n = np.zeros(len(cells), dtype=np.int64)
    th = np.zeros(len(cells))
    if len(tgt) and len(cells):
        bc = h3grid.points_to_cells(tgt["lat"].to_numpy(), tgt["lon"].to_numpy(),
                                    resolution=res)
        pos = h3grid.lookup(cells, bc)
        hit = pos >= 0
        n = np.bincount(pos[hit], minlength=len(cells))
        th = np.bincount(pos[hit], weights=tgt["capacity_th"].fillna(0.0).to_numpy()[hit],
                         minlength=len(cells))
    return h3grid.cells_to_gdf(cells, {"n_targets": n, "capacity_th_targets": np.round(th, 2)})


def _by_county(b: pd.DataFrame, screened: np.ndarray) -> pd.DataFrame:
    """Screened boilers (fuel and kind as in params, not retired) inside/outside per county."""
    s = b[screened]
    inside = s["in_radius"].to_numpy(dtype=bool)
    th = s["capacity_th"].fillna(0.0).to_numpy()
    frame = pd.DataFrame({
        "county_code": s["county_code"].fillna("").to_numpy(dtype=object),
        "county_name": s["county_name"].fillna("(县区不明)").to_numpy(dtype=object),
        "n_inside": inside.astype(np.int64), "capacity_th_inside": np.where(inside, th, 0.0),
        "n_outside": (~inside).astype(np.int64), "capacity_th_outside": np.where(inside, 0.0, th),
    })
    out = frame.groupby(["county_code", "county_name"], sort=True, as_index=False).sum()
    for c in ("capacity_th_inside", "capacity_th_outside"):
        out[c] = out[c].round(2)
    return out.sort_values(["n_inside", "county_code"], ascending=[False, True],
                           kind="stable").reset_index(drop=True)


def _summary(plants: pd.DataFrame, q: pd.DataFrame, b: pd.DataFrame, screened: np.ndarray,
             params: Params) -> list[str]:
    lines = [f"{len(q)} of {len(plants)} plants qualify (operating"
             f"{', CHP' if params.chp_only else ''}, >= {params.min_capacity_mw:g} MW)."]
    if len(q) == 0:
        lines.append("No plant qualifies, so no boiler is inside a heat-supply radius; the "
                     "layers are written empty. Check the plants' capacity_mw, is_chp and status.")
    n_t = int(b["target"].sum())
    th = float(b.loc[b["target"], "capacity_th"].fillna(0).sum())
    lines.append(f"{n_t} of {int(screened.sum())} screened boilers "
                 f"({'/'.join(params.boiler_fuels)}, not retired) lie within "
                 f"{params.radius_km:g} km: {th:,.1f} t/h to shut down or integrate.")
    return lines


STATUS_COLORS = {"target": "#d7301f", "inside_other": "#fdae61", "outside": "#4575b4"}
STATUS_LABELS = {"target": "半径内燃煤（关停/整合对象）", "inside_other": "半径内其他燃料/已关停",
                 "outside": "半径外"}
#: the boiler category of the map, figure and QGIS style, from the layer's boolean columns
_CATEGORY_EXPR = ("CASE WHEN {target} THEN 'target' WHEN {in_radius} THEN 'inside_other' "
                  "ELSE 'outside' END")


def _boiler_category(b: pd.DataFrame) -> np.ndarray:
    return np.where(b["target"], "target", np.where(b["in_radius"], "inside_other", "outside"))


def symbology(result: Result) -> list[legend.LayerLegend]:
    """The drawn layers, bottom to top, with their classes, colours and Chinese names.

    The one definition the web map, the figure and the QGIS styles use.
    """
    L, p = result.layers, result.params
    cells = L["cells"]
    targets = cells[cells["n_targets"] > 0] if len(cells) else cells
    b = L["boilers"]
    out = mapparts.admin_legends(result.context)
    out += [
        legend.graduated("cells", "H3 网格：目标锅炉蒸吨", "polygon",
                         column="capacity_th_targets",
                         values=targets["capacity_th_targets"].to_numpy(float), k=5,
                         unit="t/h", value_format="{:.1f}", fill_opacity=0.7,
                         subset='"n_targets" > 0'),
        legend.single("radius", f"{p.radius_km:g} km 供热半径", "polygon", "#e31a1c",
                      fill_opacity=0.0, width=2.0),
        legend.categorized("boilers", "锅炉", "point", column="category",
                           colors=STATUS_COLORS, labels=STATUS_LABELS,
                           present=_boiler_category(b) if len(b) else [],
                           expression=_CATEGORY_EXPR),
        legend.single("plants", f"热电联产电厂（≥{p.min_capacity_mw:g} MW）", "point",
                      "#000000", size=8.0, label_col="name"),
    ]
    return out


def build_map(result: Result, *,
              legends: list[legend.LayerLegend] | None = None) -> folium.Map:
    """Interactive map: plants sized by MW, radius circles, boilers by status, H3 cells.

    ``legends``: the legend definitions to draw with (default :func:`symbology` of
    the result); a county pack passes those of the whole run, so its classes are the map's.
    """
    L = result.layers
    legs = {leg.layer: leg for leg in (legends or symbology(result))}
    bounds = webmap.bounds_of(L["boilers"], L["radius"], L["plants"],
                              result.context.get("counties"))
    m = webmap.new_map(bounds, title=result.title or NAME, basemap="light")
    mapparts.draw_admin(m, result.context)
    cells = L["cells"][L["cells"]["n_targets"] > 0]
    if len(cells):
        mapparts.add_layer(m, legs["cells"], cells, label="目标锅炉蒸吨",
                           tooltip={"h3_cell": "网格", "n_targets": "目标锅炉数",
                                    "capacity_th_targets": "蒸吨 (t/h)"})
    mapparts.add_layer(m, legs["radius"], L["radius"],
                       tooltip={"plant_name": "电厂", "radius_km": "半径 (km)",
                                "n_boilers_inside": "半径内目标锅炉数"})
    b = L["boilers"].copy()
    b["category"] = _boiler_category(b)
    mapparts.add_layer(m, legs["boilers"], b,
                       tooltip={"name": "名称", "id": "编号", "capacity_th": "蒸吨 (t/h)",
                                "fuel": "燃料", "nearest_plant_name": "最近电厂",
                                "distance_km": "距离 (km)", "county_name": "县区"})
    mapparts.add_layer(m, legs["plants"], L["plants"], radius_col="capacity_mw",
                       radius_range=(6.0, 16.0),
                       tooltip={"name": "电厂", "capacity_mw": "装机 (MW)",
                                "n_boilers_inside": "半径内目标锅炉数",
                                "capacity_th_inside": "目标蒸吨 (t/h)"})
    mapparts.add_legend(m)
    webmap.finish(m)
    return m


def figure_spec(result: Result) -> list[figure.LayerStyle]:
    """Static figure: the layers of :func:`symbology` (outlines are drawn by the figure)."""
    L = result.layers
    cells = L["cells"]
    data = {"cells": cells[cells["n_targets"] > 0] if len(cells) else cells,
            "boilers": L["boilers"].assign(category=_boiler_category(L["boilers"]))}
    return [legend.figure_style(leg, data.get(leg.layer)) for leg in symbology(result)
            if not leg.context]
