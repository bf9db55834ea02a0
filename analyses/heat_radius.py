"""Coal boilers and small coal CHP units within the heat-supply radius of large CHP plants.

Besides the radius: coal boilers and loose-coal villages within the heat network's coverage
(:mod:`analyses.heat_network`) and biomass boilers against the built-up area
(:mod:`analyses.biomass`), with the optional inputs heat_network, villages and built_up.

Fuels, kinds and statuses go through :mod:`analyses.vocab` (the fuel groups of the 2017
high-polluting fuel catalogue); blank or unknown fuels are listed in ``unknown_fuel``, never
taken as clean; unknown statuses or kinds are rejected rows. Plants of the ``plants`` input
that do not qualify themselves and are smaller than ``min_capacity_mw`` are screened like
boilers (kind ``small_chp``). Tables ``targets`` (关停整合清单, Chinese headers), ``unknown_fuel``
and ``new_coal`` (coal boilers under construction or planned) are written besides the layers.

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
heat_network, villages, built_up
    optional: pipe lines (any CRS), the village clean-heating list and the built-up polygons
    (both as no-burn-zones reads them).

Outputs
-------
Layers ``plants`` (qualifying plants with n_boilers_inside, capacity_th_inside), ``radius``
(geodesic circles), ``boilers`` (every usable input boiler with in_radius, target,
nearest_plant_id, nearest_plant_name, distance_km, n_plants_within, county_code, county_name),
``cells`` (H3 cells covering the radius union, with targets and t/h inside), ``biomass``,
and with a heat network ``heat_network``, ``coverage``, ``network_villages``; tables
``by_county``, ``by_plant``, ``biomass``, ``network_villages``, ``rejected``.

A boiler is inside when its geodesic distance (WGS-84 ellipsoid) to a qualifying plant is at
most the radius; a *target* is a boiler inside whose fuel is in ``boiler_fuels``, whose kind is
in ``boiler_kinds`` and which is not retired.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

from spatial import admin, figure, geobuffer, h3grid, h3shapes, legend, mapparts, webmap
from spatial.errors import InputError
from spatial.export import COMMON_FIELDS, FieldMeta
from spatial.io import Field

from . import api, biomass, vocab
from . import heat_lists as hl
from . import heat_network as hn
from . import heat_radius_map as hmap
from . import no_burn_zones as nbz
from .base import InputSpec, Result, check_types

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
        Field("ultra_low", "bool", False, ("超低排放", "是否超低排放", "是否完成超低排放改造")),
    ), True, "coal boilers, small CHP units and captive units"),
    InputSpec("counties", "polygons", (Field("code", "text", True), Field("name", "text", True)),
              False, "county boundaries with code and name"),
    InputSpec("heat_network", "custom", hn.PIPE_FIELDS, False,
              "heat-supply pipe lines (any CRS) with diameter and status",
              reader=hn.read_heat_network),
    InputSpec("villages", "custom", nbz.VILLAGE_FIELDS, False,
              "villages with clean-heating conversion (as no-burn-zones reads them)",
              reader=nbz.read_villages),
    InputSpec("built_up", "custom", (Field("id", "text"), Field("name", "text")), False,
              "urban built-up polygons (OSM XML or a polygon file), for biomass boilers",
              reader=nbz.read_built_up),
)

#: inputs given as frames in Python that are read like their files (analyses.api)
FRAME_INPUTS = {
    "villages": nbz.FRAME_INPUTS["villages"], "built_up": nbz.FRAME_INPUTS["built_up"],
    "heat_network": hn.heat_network_from_frame,
}


#: output layer -> the input its rows come from (they get its own columns: spatial.sources)
SOURCES = {"plants": "plants", "boilers": "boilers", "biomass": "boilers",
           "heat_network": "heat_network", "network_villages": "villages"}


@dataclass(frozen=True)
class Params:
    """Parameters of heat-radius, with the policy's values as defaults.

    Attributes
    ----------
    radius_km
        Heat-supply radius, km (geodesic).
    min_capacity_mw
        A plant qualifies at or above this capacity, MW (summed or per unit: `qualify_by`).
    chp_only
        Only combined heat and power plants qualify (needs the plants' is_chp column).
    qualify_by
        ``"plant"``: the plant's summed units reach `min_capacity_mw` (30万千瓦及以上热电联产
        电厂); ``"unit"``: one unit does (30万千瓦及以上热电联产机组, as other provinces read it).
    boiler_fuels
        Fuel groups (``coal``, ``coal_product``, ``producer_gas``, …) or fuel words (``无烟煤``)
        whose boilers and small CHP plants are targets; a word selects the rows typed with it.
    boiler_kinds
        Kind codes or words that are targets (boiler, small_chp, captive); blank kinds count.
    shutdown_below_th
        Targets below this capacity (t/h) are to be shut down (关停), larger ones integrated
        (整合) into the CHP heat network; idle boilers and small CHP units are shut down.
    h3_resolution
        Resolution of the ``cells`` layer (7: ~5.2 km² cells).
    network_buffer_m
        Coverage of the heat network: geodesic distance from an operating pipe, m (with a
        ``heat_network`` input; :mod:`analyses.heat_network`).
    village_threshold
        A village is converted at converted_households / households >= this (0-1], as in
        no-burn-zones (with a ``villages`` input).
    small_biomass_th
        Biomass boilers outside the built-up area below this capacity (t/h) are to be
        integrated (:mod:`analyses.biomass`).
    """

    radius_km: float = 30.0
    min_capacity_mw: float = 300.0
    chp_only: bool = True
    qualify_by: str = "plant"
    boiler_fuels: tuple[str, ...] = vocab.COAL_GROUPS
    boiler_kinds: tuple[str, ...] = ("boiler", "small_chp", "captive")
    shutdown_below_th: float = 20.0
    h3_resolution: int = 7
    network_buffer_m: float = 1000.0
    village_threshold: float = 0.95
    small_biomass_th: float = 10.0

    def __post_init__(self) -> None:
        check_types(self)
        for key, hi in (("network_buffer_m", 50000.0), ("small_biomass_th", 10000.0)):
            v = getattr(self, key)
            if not (math.isfinite(v) and 0 < v <= hi):
                raise InputError(f"params.{key} must be in (0, {hi:g}], not {v}.")
        if not (math.isfinite(self.village_threshold) and 0 < self.village_threshold <= 1):
            raise InputError(f"params.village_threshold must be in (0, 1], not "
                             f"{self.village_threshold}.")
        if not (math.isfinite(self.radius_km) and 0 < self.radius_km <= 500):
            raise InputError(f"params.radius_km must be in (0, 500] km, not {self.radius_km}.")
        if not (math.isfinite(self.min_capacity_mw) and self.min_capacity_mw >= 0):
            raise InputError(f"params.min_capacity_mw must be a finite number >= 0 (MW), not "
                             f"{self.min_capacity_mw}.")
        if not (math.isfinite(self.shutdown_below_th) and self.shutdown_below_th >= 0):
            raise InputError(f"params.shutdown_below_th must be a finite number >= 0 (t/h), "
                             f"not {self.shutdown_below_th}.")
        if self.qualify_by not in ("plant", "unit"):
            raise InputError(f'params.qualify_by must be "plant" or "unit", not '
                             f"{self.qualify_by!r}.")
        if not 0 <= self.h3_resolution <= 15:
            raise InputError(f"params.h3_resolution must be 0..15, not {self.h3_resolution}.")
        object.__setattr__(self, "boiler_fuels",
                           vocab.selection("fuel", self.boiler_fuels, param="boiler_fuels"))
        object.__setattr__(self, "boiler_kinds",
                           vocab.selection("kind", self.boiler_kinds, param="boiler_kinds"))


#: categorical columns checked against the vocabularies by `lantian check`
VOCAB_FIELDS = {"plants": ("fuel", "status"), "boilers": ("fuel", "kind", "status"),
                "heat_network": ("status",), "villages": ("method",)}

#: statuses whose coal boilers are due for shutdown or integration (idle: 停用/备用 included)
ACTIVE = ("operating", "idle")
#: statuses of new coal boilers (聊政字〔2024〕15号 二(二)3: "全市范围原则上不再新建燃煤锅炉")
NEW = ("construction", "planned")
#: fuel groups listed in ``unknown_fuel`` for the analyst to resolve (never silently clean)
REVIEW_FUELS = (vocab.UNKNOWN, "coal_gas")

FIELDS = {
    "n_boilers_inside": FieldMeta("n_inside", "半径内目标锅炉数", "台"),
    "capacity_th_inside": FieldMeta("th_inside", "半径内目标锅炉蒸吨", "t/h"),
    "capacity_mw": FieldMeta("cap_mw", "装机容量", "MW"),
    "capacity_th": COMMON_FIELDS["capacity_th"],
    "is_chp": FieldMeta("is_chp", "是否热电联产"),
    "n_units": FieldMeta("n_units", "机组数", "台"),
    "in_radius": FieldMeta("in_radius", "是否在供热半径内"),
    "target": FieldMeta("target", "是否关停整合对象"),
    "nearest_plant_id": FieldMeta("near_id", "最近电厂编号"),
    "nearest_plant_name": FieldMeta("near_name", "最近电厂名称"),
    "distance_km": FieldMeta("dist_km", "距最近电厂距离", "km"),
    "n_plants_within": FieldMeta("n_plants", "半径内电厂数", "座"),
    "county_code": COMMON_FIELDS["county_code"],
    "county_name": COMMON_FIELDS["county_name"],
    "plant_id": FieldMeta("plant_id", "电厂编号"),
    "plant_name": FieldMeta("plant_name", "电厂名称"),
    "radius_km": FieldMeta("radius_km", "供热半径", "km"),
    "h3_cell": COMMON_FIELDS["h3_cell"],
    "n_targets": FieldMeta("n_targets", "目标锅炉数", "台"),
    "capacity_th_targets": FieldMeta("th_targets", "目标锅炉蒸吨", "t/h"),
    "name": FieldMeta("name", "名称"),
    "fuel": COMMON_FIELDS["fuel"],
    "fuel_raw": COMMON_FIELDS["fuel_raw"],
    "max_unit_mw": FieldMeta("max_unit", "最大单机容量", "MW"),
    "n_small_chp_inside": FieldMeta("n_smallchp", "半径内落后燃煤小热电数", "座"),
    "kind": COMMON_FIELDS["kind"],
    "status": FieldMeta("status", "状态"),
    "lon": COMMON_FIELDS["lon"],
    "lat": COMMON_FIELDS["lat"],
    "row": COMMON_FIELDS["row"],
    **hn.FIELDS, **biomass.FIELDS,
}


def _code(frame: pd.DataFrame, field: str) -> pd.DataFrame:
    """Add ``<field>_raw`` (as typed, stripped) and the vocabulary code in ``<field>``."""
    raw = frame[field] if field in frame else pd.Series([None] * len(frame), index=frame.index)
    frame[f"{field}_raw"] = raw.map(lambda v: None if pd.isna(v) or not str(v).strip()
                                    else str(v).strip()).astype(object)
    frame[field] = getattr(vocab, field)(raw).to_numpy(dtype=object)
    return frame


def merge_units(plants: pd.DataFrame) -> pd.DataFrame:
    """One row per plant id: capacity summed over its unit rows, location of the first row.

    ``max_unit_mw`` is the largest unit; ``is_chp`` is true when any unit is CHP; ``status``
    is operating when any unit operates, else the first unit's. Statuses and fuels are coded
    here unless already coded (``status_raw`` present).
    """
    p = plants.copy()
    if "status_raw" not in p:
        p = _code(_code(p, "status"), "fuel")
    p["_operating"] = p["status"] == "operating"
    g = p.groupby("id", sort=False)
    out = g.agg(name=("name", "first"), lon=("lon", "first"), lat=("lat", "first"),
                capacity_mw=("capacity_mw", "sum"), max_unit_mw=("capacity_mw", "max"),
                n_units=("id", "size"), fuel=("fuel", "first"), fuel_raw=("fuel_raw", "first"),
                row=("row", "first"), _operating=("_operating", "any")).reset_index()
    chp = p["is_chp"].astype("boolean")
    out["is_chp"] = chp.groupby(p["id"], sort=False).agg(
        lambda s: pd.NA if s.isna().all() else bool(s.fillna(False).any())
    ).reindex(out["id"]).to_numpy()
    out["status"] = np.where(out.pop("_operating"), "operating",
                             g["status"].first().reindex(out["id"]).to_numpy())
    return out


def _size(plants: pd.DataFrame, params: Params) -> np.ndarray:
    """The capacity compared with min_capacity_mw: summed (plant) or largest unit (unit), MW."""
    col = "capacity_mw" if params.qualify_by == "plant" else "max_unit_mw"
    return plants[col].to_numpy(dtype=float)


def qualifying(plants: pd.DataFrame, params: Params) -> np.ndarray:
    """Boolean mask of merged plants that qualify (operating, CHP if asked, >= threshold)."""
    ok = (plants["status"] == "operating").to_numpy() & (_size(plants, params)
                                                         >= params.min_capacity_mw)
    if params.chp_only:
        ok &= plants["is_chp"].fillna(False).astype(bool).to_numpy()
    return ok


#: read this analysis's input files as `lantian run` does (analyses.api.read_inputs)
read_inputs = api.module_reader(__name__)


@api.entry
def run(inputs: dict[str, gpd.GeoDataFrame], params: Params) -> Result:
    """Screen boilers and small coal CHP plants against the radius of qualifying CHP plants.

    Parameters
    ----------
    inputs
        ``plants``, ``boilers`` (and optional ``counties``) as read by ``spatial.io``:
        GeoDataFrames in EPSG:4326 with lantian's field names and ``lon``/``lat`` columns.
        Fuels, kinds and statuses are read through :mod:`analyses.vocab` (with the words of
        an active ``vocab.extended`` block).
    params
        See :class:`Params`.
    """
    raw_plants = inputs["plants"].reset_index(drop=True).copy()
    boilers = inputs["boilers"].reset_index(drop=True)
    counties = inputs.get("counties")
    if params.chp_only and len(raw_plants) and raw_plants["is_chp"].isna().all():
        raise InputError(
            "plants: no is_chp values (热电联产 yes/no), so no plant can qualify as a CHP plant; "
            "add an is_chp column or run with --set params.chp_only=false."
        )
    raw_plants, rej_p = hl.reject_unknown(_code(_code(raw_plants, "status"), "fuel"), "plants",
                                          ("status",))
    plants = merge_units(raw_plants)
    q_mask = qualifying(plants, params)
    q = plants[q_mask].reset_index(drop=True)
    radius_m = params.radius_km * 1000.0

    b = boilers.copy()
    for f in ("fuel", "kind", "status"):
        b = _code(b, f)
    b, rej_b = hl.reject_unknown(b, "boilers", ("status", "kind"))
    blng, blat = b["lon"].to_numpy(dtype=float), b["lat"].to_numpy(dtype=float)
    sc = hl.screen(blng, blat, b["plant_id"].to_numpy(dtype=object) if "plant_id" in b
                   else None, q, radius_m)
    b["in_radius"] = sc.in_radius
    fuel_ok = vocab.matches(b["fuel"], vocab.words(b["fuel_raw"]), params.boiler_fuels)
    kind_ok = b["kind"].isna().to_numpy() | vocab.matches(
        b["kind"], vocab.words(b["kind_raw"]), params.boiler_kinds)
    active = b["status"].isin(ACTIVE).to_numpy()
    screened = fuel_ok & kind_ok & active
    net = hn.screen(inputs.get("heat_network"), b, inputs.get("villages"), counties, params)
    # the network rule names 燃煤锅炉: boilers (kind boiler or blank), not CHP/captive units
    is_boiler = b["kind"].isna().to_numpy() | (b["kind"] == "boiler").to_numpy()
    net_target = net.in_network & fuel_ok & active & is_boiler
    radius_target = sc.in_radius & screened  # the 30 km rule (plants, cells, by_county)
    b["target"] = radius_target | net_target
    b["target_rule"] = hn.target_rule(sc.in_radius & screened, net_target)
    b["in_network"], b["network_distance_m"] = net.in_network, net.distance_m
    b["nearest_pipe_id"] = net.nearest_pipe
    b["nearest_plant_id"], b["nearest_plant_name"] = sc.nearest_id, sc.nearest_name
    b["distance_km"] = sc.distance_km
    b["n_plants_within"] = sc.n_within
    b = admin.attach(b, blng, blat, counties, level="county", fallback="county")

    # small coal CHP plants and units that do not qualify themselves: screened like boilers
    small = plants[~q_mask & plants["status"].isin(ACTIVE).to_numpy()
                   & (_size(plants, params) < params.min_capacity_mw)].reset_index(drop=True)
    slng, slat = small["lon"].to_numpy(dtype=float), small["lat"].to_numpy(dtype=float)
    ss = hl.screen(slng, slat, None, q, radius_m)
    small["kind"] = "small_chp"
    small["in_radius"] = ss.in_radius
    small_fuel_ok = vocab.matches(small["fuel"], vocab.words(small["fuel_raw"]),
                                  params.boiler_fuels)
    small["target"] = ss.in_radius & small_fuel_ok & ("small_chp" in params.boiler_kinds)
    small["target_rule"] = np.where(small["target"], "radius", None)
    small["nearest_plant_id"], small["nearest_plant_name"] = ss.nearest_id, ss.nearest_name
    small["distance_km"], small["n_plants_within"] = ss.distance_km, ss.n_within
    small = admin.attach(small, slng, slat, counties, level="county")

    # per plant: targets within its radius (a target may count for several plants)
    tgt_pair = radius_target[sc.pair_site]
    cap = b["capacity_th"].fillna(0.0).to_numpy()
    q["n_boilers_inside"] = np.bincount(sc.pair_plant[tgt_pair], minlength=len(q))
    q["capacity_th_inside"] = np.round(np.bincount(
        sc.pair_plant[tgt_pair], weights=cap[sc.pair_site[tgt_pair]], minlength=len(q)), 2)
    stgt = small["target"].to_numpy()[ss.pair_site]
    q["n_small_chp_inside"] = np.bincount(ss.pair_plant[stgt], minlength=len(q))
    q = admin.attach(q, q["lon"].to_numpy(), q["lat"].to_numpy(), counties, level="county")

    circles = geobuffer.geodesic_circles(q["lon"].to_numpy(), q["lat"].to_numpy(), radius_m)
    radius = gpd.GeoDataFrame({"plant_id": q["id"], "plant_name": q["name"],
                               "radius_km": params.radius_km,
                               "n_boilers_inside": q["n_boilers_inside"]},
                              geometry=list(circles), crs="EPSG:4326")
    cells = _cells(radius, b[radius_target], params)
    plants_layer = gpd.GeoDataFrame(
        q[["id", "name", "capacity_mw", "max_unit_mw", "n_units", "is_chp", "fuel", "fuel_raw",
           "status", "lon", "lat", "county_code", "county_name", "n_boilers_inside",
           "capacity_th_inside", "n_small_chp_inside", "row"]],
        geometry=gpd.points_from_xy(q["lon"], q["lat"]), crs="EPSG:4326")
    boiler_cols = ["id", "name", "capacity_th", "fuel", "fuel_raw", "kind", "status", "plant_id",
                   "lon", "lat", "in_radius", "target", "nearest_plant_id", "nearest_plant_name",
                   "distance_km", "n_plants_within", "target_rule", "in_network",
                   "network_distance_m", "nearest_pipe_id", "ultra_low", "county_code",
                   "county_name", "row",
                   *(["file"] if "file" in b.columns else [])]  # several files: file and row
    boilers_layer = gpd.GeoDataFrame(b.reindex(columns=boiler_cols),
                                     geometry=b.geometry.to_numpy(), crs="EPSG:4326")
    small_cols = ["id", "name", "kind", "capacity_mw", "max_unit_mw", "n_units", "is_chp", "fuel",
                  "fuel_raw", "status", "lon", "lat", "in_radius", "target", "nearest_plant_id",
                  "nearest_plant_name", "distance_km", "n_plants_within", "county_code",
                  "county_name", "row"]
    small_layer = gpd.GeoDataFrame(small[small_cols],
                                   geometry=gpd.points_from_xy(small["lon"], small["lat"]),
                                   crs="EPSG:4326")
    by_county = _by_county(b, screened)
    by_plant = q[["id", "name", "capacity_mw", "county_name", "n_boilers_inside",
                  "capacity_th_inside", "n_small_chp_inside"]].rename(
        columns={"id": "plant_id", "name": "plant_name"})
    by_plant = by_plant.sort_values(["n_boilers_inside", "plant_id"], ascending=[False, True])

    review_b = b["fuel"].isin(REVIEW_FUELS).to_numpy() & kind_ok & active
    review_p = small["fuel"].isin(REVIEW_FUELS).to_numpy()
    unknown_fuel = hl.listing(b, small, review_b, review_p)
    new_b = fuel_ok & b["status"].isin(NEW).to_numpy()
    new_plants = plants[plants["status"].isin(NEW).to_numpy()
                        & vocab.matches(plants["fuel"], vocab.words(plants["fuel_raw"]),
                                        params.boiler_fuels)].copy()
    ns = hl.screen(new_plants["lon"].to_numpy(dtype=float),
                   new_plants["lat"].to_numpy(dtype=float), None, q, radius_m)
    new_plants = new_plants.assign(kind="plant", in_radius=ns.in_radius,
                                   nearest_plant_name=ns.nearest_name,
                                   distance_km=ns.distance_km)
    new_plants = admin.attach(new_plants, new_plants["lon"].to_numpy(),
                              new_plants["lat"].to_numpy(), counties, level="county")
    new_coal = hl.listing(b, new_plants, new_b, np.ones(len(new_plants), dtype=bool))
    targets = hl.targets_table(b, small, params.shutdown_below_th)
    rejected = pd.concat([rej_p, rej_b, hn.name_files(net.rejected, getattr(inputs, "tables",
                                                                               None))],
                         ignore_index=True)
    bio = biomass.screen(b, inputs.get("built_up"), active, params, counties)

    summary = _summary(plants, q, b, small, screened, unknown_fuel, new_coal, params)
    summary[-1:-1] = _screens_summary(net, b["target_rule"], bio, inputs, params)
    layers = {"plants": plants_layer, "radius": radius, "boilers": boilers_layer,
              "small_chp": small_layer, "cells": cells, "biomass": bio}
    tables = {"targets": targets, "by_county": by_county,
              "by_plant": by_plant.reset_index(drop=True), "unknown_fuel": unknown_fuel,
              "new_coal": new_coal, "biomass": biomass.table(bio)}
    if inputs.get("heat_network") is not None:
        layers.update(heat_network=net.pipes, coverage=net.coverage)
        if net.villages is not None:
            layers["network_villages"] = net.villages
    tables["network_villages"] = hn.villages_table(net.villages)  # empty without the inputs
    tables["rejected"] = rejected
    return Result(
        analysis=NAME, params=params, layers=layers, tables=tables,
        summary=summary, fields=FIELDS,
        title=f"{params.radius_km:g} 公里供热半径内燃煤锅炉和落后燃煤小热电筛查",
        context={"counties": counties} if counties is not None else {},
    )


def _cells(radius: gpd.GeoDataFrame, tgt: pd.DataFrame, params: Params) -> gpd.GeoDataFrame:
    """H3 cells over the radius union with the targets `tgt` (of the radius rule) inside."""
    res = params.h3_resolution
    if len(radius):
        cells, _ = h3shapes.polygons_to_cells(radius.geometry.to_numpy(), resolution=res,
                                            mode="overlap")
        cells = np.unique(cells)
    else:
        cells = np.zeros(0, dtype=np.uint64)
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


def rules(params: Params) -> list[str]:
    """The rule set applied, each with its source (recorded in the summary and the manifest)."""
    size = "summed units" if params.qualify_by == "plant" else "one unit"
    src = "聊政字〔2024〕15号, 济宁市 2024 二(二)3, 金政字〔2024〕57号 二(二)7"
    return [
        f"qualifying plant: operating{', CHP' if params.chp_only else ''}, {size} >= "
        f"{params.min_capacity_mw:g} MW ({src}: 30万千瓦及以上热电联产电厂)",
        f"target: {'/'.join(params.boiler_fuels)} boiler or small CHP unit, operating or idle, "
        f"within {params.radius_km:g} km geodesic ({src}: 30公里供热半径范围内的燃煤锅炉"
        "和落后燃煤小热电机组（含自备电厂）关停或整合)",
        "fuel groups: 《高污染燃料目录》(国环规大气〔2017〕2号) 煤炭及其制品; 发生炉煤气 as coal "
        "(聊政字〔2024〕15号 二(二)3)",
        f"advice: < {params.shutdown_below_th:g} t/h 关停, otherwise 整合 "
        "(聊办字〔2017〕49号 items 9-10)",
        "new coal boilers listed (聊政字〔2024〕15号 二(二)3: 全市范围原则上不再新建燃煤锅炉)",
        *hn.rules(params), *biomass.rules(params),
    ]


def _screens_summary(net: hn.Network, rule: pd.Series, bio: gpd.GeoDataFrame,
                     inputs: dict[str, Any], params: Params) -> list[str]:
    """Summary lines of the heat-network and biomass screens (`rule`: boilers' target_rule)."""
    lines = list(net.summary)
    if inputs.get("heat_network") is not None:
        n_net = int(rule.isin(["network", "radius+network"]).sum())
        lines.append(f"{int(net.in_network.sum())} boilers lie within {params.network_buffer_m:g} "
                     f"m of an operating pipe: {n_net} coal boilers among them are targets to "
                     f"shut down (依据 管网覆盖范围), {int((rule == 'network').sum())} of them "
                     "outside every heat-supply radius.")
        if net.villages is not None:
            lines.append(f"{len(net.villages)} villages not converted lie within the network's "
                         "coverage: loose-coal villages to connect (network_villages table).")
        else:
            lines.append("No villages input: loose-coal villages in the coverage are not listed.")
    return lines + biomass.summary(bio, params, inputs.get("built_up") is not None)


def _summary(plants: pd.DataFrame, q: pd.DataFrame, b: pd.DataFrame, small: pd.DataFrame,
             screened: np.ndarray, unknown_fuel: pd.DataFrame, new_coal: pd.DataFrame,
             params: Params) -> list[str]:
    by = "summed units" if params.qualify_by == "plant" else "a single unit"
    lines = [f"{len(q)} of {len(plants)} plants qualify (operating"
             f"{', CHP' if params.chp_only else ''}, {by} >= {params.min_capacity_mw:g} MW; "
             f"qualify_by = {params.qualify_by})."]
    if len(q) == 0:
        lines.append("No plant qualifies, so no boiler is inside a heat-supply radius; the "
                     "layers are written empty. Check the plants' capacity_mw, is_chp and status.")
    t = b["target_rule"].isin(["radius", "radius+network"]).to_numpy()
    th = float(b.loc[t, "capacity_th"].fillna(0).sum())
    n_idle = int((t & (b["status"] == "idle").to_numpy()).sum())
    lines.append(f"{int(t.sum())} of {int(screened.sum())} screened boilers "
                 f"({'/'.join(params.boiler_fuels)}, operating or idle) lie within "
                 f"{params.radius_km:g} km: {th:,.1f} t/h to shut down or integrate "
                 f"({n_idle} of them idle: 停用/备用).")
    st = small["target"].to_numpy(dtype=bool)
    mw = float(small.loc[st, "capacity_mw"].sum())
    lines.append(f"{int(st.sum())} small coal CHP plants/units ({mw:,.0f} MW) that do not "
                 "qualify themselves lie within the radius: targets of kind small_chp.")
    for code, what in ((vocab.UNKNOWN, "a blank or unknown fuel"),
                       ("coal_gas", "fuel 煤气 (producer gas from coal on site counts as coal)")):
        sel = unknown_fuel[unknown_fuel["fuel"] == code]
        if len(sel):
            ids = ", ".join(map(str, sel["id"].head(8)))
            lines.append(f"{len(sel)} boilers/plants ({int(sel['in_radius'].sum())} inside the "
                         f"radius) have {what}: resolve them in the unknown_fuel table "
                         f"(e.g. {ids}); they are not counted as targets.")
    if len(new_coal):
        lines.append(f"{len(new_coal)} coal boilers/plants under construction or planned "
                     "(全市范围原则上不再新建燃煤锅炉): see the new_coal table.")
    lines.append("Rules: " + "; ".join(rules(params)) + ".")
    return lines


STATUS_COLORS = {"target": "#d7301f", "network_target": "#67001f", "inside_other": "#fdae61",
                 "outside": "#4575b4"}
STATUS_LABELS = {"target": "半径内燃煤（关停/整合对象）",
                 "network_target": "半径外、管网覆盖范围内燃煤（淘汰对象）",
                 "inside_other": "半径内其他燃料/已关停/燃料待核实",
                 "outside": "半径外"}
SMALL_CHP_LABELS = {"target": "半径内燃煤小热电（关停/整合对象）",
                    "network_target": "管网覆盖范围内燃煤（淘汰对象）",
                    "inside_other": "半径内其他燃料/已关停", "outside": "半径外"}
#: the boiler category of the map, figure and QGIS style, from the layer's boolean columns
_CATEGORY_EXPR = ("CASE WHEN {target} AND NOT {in_radius} THEN 'network_target' "
                  "WHEN {target} THEN 'target' WHEN {in_radius} THEN 'inside_other' "
                  "ELSE 'outside' END")


def _boiler_category(b: pd.DataFrame) -> np.ndarray:
    """Map class of each boiler: target, network_target (outside every radius), and the rest."""
    t, r = b["target"].to_numpy(dtype=bool), b["in_radius"].to_numpy(dtype=bool)
    return np.select([t & ~r, t, r], ["network_target", "target", "inside_other"], "outside")


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
        *hmap.under_boilers(result),
        legend.categorized("boilers", "锅炉", "point", column="category",
                           colors=STATUS_COLORS, labels=STATUS_LABELS,
                           present=_boiler_category(b) if len(b) else [],
                           expression=_CATEGORY_EXPR),
    ]
    small = L.get("small_chp")
    if small is not None and len(small):  # plants below the threshold, screened like boilers
        out.append(legend.categorized(
            "small_chp", "落后燃煤小热电（不达标电厂）", "point", column="category",
            colors=STATUS_COLORS, labels=SMALL_CHP_LABELS, present=_boiler_category(small),
            expression=_CATEGORY_EXPR, size=7.0))
    out += hmap.over_boilers(result)
    out.append(legend.single("plants", f"热电联产电厂（≥{p.min_capacity_mw:g} MW）", "point",
                             "#000000", size=8.0, label_col="name"))
    return out


def build_map(result: Result, *,
              legends: list[legend.LayerLegend] | None = None) -> folium.Map:
    """Interactive map: plants sized by MW, radius circles, boilers by status, H3 cells.

    ``legends``: the legend definitions to draw with (default :func:`symbology` of
    the result); a county pack passes those of the whole run, so its classes are the map's.
    """
    L = result.layers
    legs = {leg.layer: leg for leg in (legends or symbology(result))}
    m = mapparts.start_map(result.context, L["boilers"], L["radius"], L["plants"],
                           title=result.title or NAME)
    cells = L["cells"][L["cells"]["n_targets"] > 0]
    if len(cells):
        mapparts.add_layer(m, legs["cells"], cells, label="目标锅炉蒸吨",
                           tooltip={"h3_cell": "网格", "n_targets": "目标锅炉数",
                                    "capacity_th_targets": "蒸吨 (t/h)"})
    mapparts.add_layer(m, legs["radius"], L["radius"],
                       tooltip={"plant_name": "电厂", "radius_km": "半径 (km)",
                                "n_boilers_inside": "半径内目标锅炉数"})
    hmap.add_under(m, result, legs)
    b = L["boilers"].copy()
    b["category"] = _boiler_category(b)
    mapparts.add_layer(m, legs["boilers"], b,
                       tooltip={"name": "名称", "id": "编号", "capacity_th": "蒸吨 (t/h)",
                                "fuel": "燃料类别", "fuel_raw": "燃料（原表）",
                                "nearest_plant_name": "最近电厂", "distance_km": "距离 (km)",
                                "county_name": "县区"})
    small = L.get("small_chp")
    if "small_chp" in legs and small is not None and len(small):
        mapparts.add_layer(m, legs["small_chp"], small.assign(category=_boiler_category(small)),
                           tooltip={"name": "电厂", "capacity_mw": "装机 (MW)",
                                    "fuel_raw": "燃料", "nearest_plant_name": "最近电厂",
                                    "distance_km": "距离 (km)", "county_name": "县区"})
    hmap.add_over(m, result, legs)
    mapparts.add_layer(m, legs["plants"], L["plants"], radius_col="capacity_mw",
                       radius_range=(6.0, 16.0),
                       tooltip={"name": "电厂", "capacity_mw": "装机 (MW)",
                                "n_boilers_inside": "半径内目标锅炉数",
                                "capacity_th_inside": "目标蒸吨 (t/h)"})
    mapparts.add_legend(m)
    webmap.finish(m)
    return m


def figure_spec(result: Result, *,
                legends: list[legend.LayerLegend] | None = None) -> list[figure.LayerStyle]:
    """Static figure: the layers of :func:`symbology` (outlines are drawn by the figure)."""
    L = result.layers
    cells = L["cells"]
    data = {"cells": cells[cells["n_targets"] > 0] if len(cells) else cells,
            "boilers": L["boilers"].assign(category=_boiler_category(L["boilers"]))}
    small = L.get("small_chp")
    if small is not None and len(small):
        data["small_chp"] = small.assign(category=_boiler_category(small))
    data.update(hmap.figure_data(result))
    return [legend.figure_style(leg, data.get(leg.layer))
            for leg in (legends or symbology(result)) if not leg.context]
