"""High-polluting-fuel no-burn zones proposed from village clean-heating conversion.

Policy (Shandong action plan): "依法将整体完成清洁取暖改造的地区划定为高污染燃料禁燃区" and
"及时依法调整高污染燃料禁燃区…防止散煤复烧" — areas where clean-heating conversion is complete
as a whole become no-burn zones (coal banned), adjusted as conversion proceeds, and loose coal
must not return. This analysis proposes the zone from the village conversion list, compares it
with the zone in force and lists the coal-burning facilities inside it.

Inputs
------
villages
    Points (CSV/XLSX with lon/lat, or a point file) or polygons (a vector file): id, name,
    township, county, households, converted_households and/or completed (a yes/no flag), method
    (气代煤 / 电代煤 / 集中供热 / other), completed_on.
built_up
    Optional urban built-up polygons: an OSM XML file (``.osm``/``.xml``, landuse read offline
    through osmnx) or any polygon file.
current_zone
    Optional: the zone in force (polygons).
facilities
    Optional coal-using facilities (points): id, name, fuel, kind (boiler / coal_seller /
    stove / other), status.
counties, townships
    Optional polygons with code and name (attribution; cells outside every county are dropped).

Method
------
1. A village is *converted* when its ``completed`` flag says so, or else when
   converted_households / households >= ``threshold``.
2. Village cells (H3, ``h3_resolution``): a polygon village gets every cell its polygon overlaps
   (so a village smaller than a cell still gets one); a point village gets the cell containing
   it plus every cell whose centre lies within ``point_radius_m`` (geodesic) of it.
3. A cell touched by any unconverted village is out; a cell touched only by converted villages
   is in. Cells touched by no village are out, except built-up cells (centre inside a built-up
   polygon) when ``include_built_up``, and — when ``fill_m`` > 0 — cells within ``fill_m``
   (counted in grid rings of the cell-centre spacing) of village cells, which take the status
   of the nearest village cells (ties: unconverted wins). Cells whose centre lies outside every
   county are dropped.
4. The in-cells are dissolved exactly along cell edges (``spatial.h3shapes.cells_to_shape``);
   holes are kept: each is either an
   unconverted village (reported in ``gaps``, a priority target) or land no village touches.
5. The parts are split by county (cells by centre) into ``zone`` polygons, and only then
   parts under ``min_part_km2`` are removed. The fill and built-up land never reach into a
   county that supplied no village rows.

With ``unit = "township"`` (townships input), a township whose villages have all converted
joins the zone whole instead (split by county, small parts removed). A village converted to
洁净型煤 (method ``clean_coal``) counts as unconverted. Facilities inside the proposed or
current zone are judged by ``zone_class`` (I/II/III of the 2017 catalogue,
:mod:`analyses.noburn_rules`): ``violations`` name the clause broken (``rule``); facilities that
cannot be judged go to the ``facility_review`` table.

Areas are geodesic, on the WGS-84 ellipsoid (``pyproj.Geod.geometry_area_perimeter``), km².

Outputs
-------
Layers ``zone`` (zone_id, county_code, county_name, area_km2, n_cells, n_villages, households,
converted_households, n_gaps, gap_households), ``cells`` (h3_cell, status, in_zone, n_villages,
n_unconverted, reason), ``villages`` (with converted, in_zone, is_gap, county and township),
``gaps`` (unconverted villages enclosed by the zone, with zone_id), ``changes`` (against
current_zone: change = added | removed, area_km2, villages involved), ``violations``
(coal-burning, not retired facilities inside the proposed or current zone: in_proposed,
in_current); tables ``by_county``, ``by_township``, ``rejected``.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

import folium
import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import shapely

from spatial import admin, figure, frames, h3grid, h3shapes, io, legend, mapparts, osm, webmap
from spatial.errors import InputError
from spatial.export import COMMON_FIELDS, FieldMeta
from spatial.io import Field

from . import api, vocab
from . import noburn_geometry as geo
from . import noburn_rules as rules
from . import noburn_units as units
from .base import InputSpec, Result, check_types

log = logging.getLogger(__name__)

NAME = "no-burn-zones"

VILLAGE_FIELDS = (
    Field("id", "text", True, ("村编号", "村代码", "社区编号")),
    Field("name", "text", False, ("村名", "村庄名称", "村(社区)", "村（社区）", "社区名称")),
    Field("township", "text", False, ("乡镇", "乡镇(街道)", "乡镇（街道）", "街道", "所属乡镇")),
    Field("county", "text"),
    Field("households", "float", False, ("总户数", "户数", "农户数", "总户")),
    Field("converted_households", "float", False,
          ("已改造户数", "改造户数", "完成户数", "已完成户数")),
    Field("completed", "bool", False, ("是否完成", "整村完成", "完成改造", "已完成")),
    Field("method", "text", False, ("改造方式", "改造类型", "取暖方式")),
    Field("completed_on", "datetime", False, ("完成日期", "完成时间", "改造完成时间")),
)


def read_villages(cfg: dict[str, Any], spec: InputSpec) -> io.Table:
    """Villages as points (tables, point files) or polygons (vector files)."""
    return io.read_features(cfg["path"], fields=spec.fields, name=spec.name, crs=cfg["crs"],
                            columns=cfg["columns"], sheet=cfg["sheet"],
                            header_row=cfg.get("header_row"))


def read_built_up(cfg: dict[str, Any], spec: InputSpec) -> io.Table:
    """Built-up polygons: OSM XML through osmnx (offline), or any polygon file."""
    path = cfg["path"]
    if path.suffix.lower() in osm.OSM_SUFFIXES:
        frame = osm.read_landuse(path)
        frame.insert(0, "row", np.arange(1, len(frame) + 1))
        return io.Table(name=spec.name, path=path, frame=frame, rejected=io.empty_rejected(),
                        encoding="utf-8", crs="wgs84", n_read=len(frame))
    return io.read_polygons(path, fields=spec.fields, name=spec.name, crs=cfg["crs"],
                            columns=cfg["columns"])


INPUTS = (
    InputSpec("villages", "custom", VILLAGE_FIELDS, True,
              "villages/communities (points or polygons) with households and converted "
              "households or a completed flag", reader=read_villages),
    InputSpec("built_up", "custom", (Field("id", "text"), Field("name", "text")), False,
              "urban built-up polygons (OSM XML read through osmnx, or a polygon file)",
              reader=read_built_up),
    InputSpec("current_zone", "polygons", (Field("name", "text"),), False,
              "the no-burn zone in force"),
    InputSpec("facilities", "points", (
        Field("id", "text", True), Field("name", "text"),
        Field("fuel", "text", False, ("燃料", "燃料类型")),
        Field("kind", "text", False, ("类型", "设施类型", "类别")),
        Field("status", "text", False, ("状态", "运行状态")),
        Field("capacity_th", "float", False, ("蒸吨", "额定蒸发量", "规模", "t/h")),
        Field("sulfur_pct", "float", False, ("硫分", "含硫量", "全硫", "硫分(%)")),
        Field("ash_pct", "float", False, ("灰分", "灰分(%)")),
        Field("dedicated_boiler", "bool", False, ("专用锅炉", "是否专用锅炉")),
    ), False, "coal-using facilities: boilers, coal sellers, tea-water stoves"),
    InputSpec("counties", "polygons", (Field("code", "text", True), Field("name", "text", True)),
              False, "county boundaries with code and name"),
    InputSpec("townships", "polygons", (Field("code", "text", True),
                                        Field("name", "text", True)),
              False, "township boundaries with code and name"),
)

#: inputs given as frames in Python that are read like their files (analyses.api)
FRAME_INPUTS = {
    "villages": lambda v, spec: frames.features_from_frame(v, fields=spec.fields, name=spec.name),
    "built_up": lambda v, spec: frames.polygons_from_frame(v, fields=spec.fields, name=spec.name),
}


#: output layer -> the input its rows come from (they get its own columns: spatial.sources)
SOURCES = {"villages": "villages", "gaps": "villages", "violations": "facilities"}


@dataclass(frozen=True)
class Params:
    """Parameters of no-burn-zones.

    Attributes
    ----------
    threshold
        A village is converted at converted_households / households >= threshold (0-1].
    h3_resolution
        H3 resolution of the cells (9: ~0.1 km² cells, centres ~300 m apart).
    point_radius_m
        Radius of a point village, m (geodesic, from the point to cell centres).
    include_built_up
        Built-up cells (centre inside a built-up polygon) join unless an unconverted village
        touches them.
    min_part_km2
        Zone parts smaller than this (km², geodesic) are removed.
    fill_m
        Cells touched by no village within this distance (m, counted in rings of cell-centre
        spacing) of village cells take the status of the nearest ones (unconverted wins a tie);
        0 leaves them out, so the zone is only the villages' own disks. The default (1 km, about
        half the spacing of Shandong's villages) joins neighbouring converted villages into
        one zone, as counties draw it.
    unit
        ``"cells"``: the zone is delineated on H3 cells around the villages; ``"township"``
        (needs townships): a township whose villages have all completed conversion joins the
        zone whole (聊办字〔2017〕49号 item 5: "以乡镇（街道）为单位，全行政区域整体推进").
    zone_class
        ``"I"``, ``"II"`` or ``"III"`` (一般/较严/严格) of 《高污染燃料目录》: what violates
        inside the zone (see :mod:`analyses.noburn_rules`).
    coal_fuels
        Fuel groups or words that count as coal and coal products (煤炭及其制品).
    coal_kinds
        Kind codes or words that sell or store coal: violations whatever the fuel.
    """

    threshold: float = 0.95
    h3_resolution: int = 9
    point_radius_m: float = 300.0
    include_built_up: bool = True
    min_part_km2: float = 1.0
    fill_m: float = 1000.0
    unit: str = "cells"
    zone_class: str = "III"
    coal_fuels: tuple[str, ...] = rules.COAL
    coal_kinds: tuple[str, ...] = rules.SELLER_KINDS

    def __post_init__(self) -> None:
        check_types(self)
        if not 0 < self.threshold <= 1:
            raise InputError(f"params.threshold must be in (0, 1], not {self.threshold} "
                             "(0.95 means 95 % of households converted).")
        if not 5 <= self.h3_resolution <= 12:
            raise InputError(f"params.h3_resolution must be 5..12, not {self.h3_resolution}.")
        if not 0 <= self.point_radius_m <= 5000:
            raise InputError(f"params.point_radius_m must be in [0, 5000] m, "
                             f"not {self.point_radius_m}.")
        if not (math.isfinite(self.min_part_km2) and self.min_part_km2 >= 0):
            raise InputError(f"params.min_part_km2 must be a finite number >= 0, not "
                             f"{self.min_part_km2}.")
        if not 0 <= self.fill_m <= 10000:
            raise InputError(f"params.fill_m must be in [0, 10000] m, not {self.fill_m}.")
        if self.unit not in ("cells", "township"):
            raise InputError(f'params.unit must be "cells" or "township", not {self.unit!r}.')
        if self.zone_class not in rules.ZONE_CLASSES:
            raise InputError(f'params.zone_class must be "I", "II" or "III" (一般/较严/严格 of '
                             f"the 2017 catalogue), not {self.zone_class!r}.")
        object.__setattr__(self, "coal_fuels",
                           vocab.selection("fuel", self.coal_fuels, param="coal_fuels"))
        object.__setattr__(self, "coal_kinds",
                           vocab.selection("kind", self.coal_kinds, param="coal_kinds"))


#: categorical columns checked against the vocabularies by `lantian check`
VOCAB_FIELDS = {"villages": ("method",), "facilities": ("fuel", "kind", "status")}


FIELDS = {
    "zone_id": FieldMeta("zone_id", "禁燃区图斑编号"),
    "area_km2": FieldMeta("area_km2", "面积", "km²"),
    "n_cells": COMMON_FIELDS["n_cells"],
    "n_villages": FieldMeta("n_vill", "村庄数", "个"),
    "n_converted": FieldMeta("n_conv", "已完成改造村庄数", "个"),
    "n_unconverted": FieldMeta("n_unconv", "未完成改造村庄数", "个"),
    "households": COMMON_FIELDS["households"],
    "converted_households": COMMON_FIELDS["converted_households"],
    "households_in_zone": FieldMeta("hh_zone", "禁燃区内户数", "户"),
    "ratio": FieldMeta("ratio", "改造比例"),
    "converted": FieldMeta("converted", "是否完成改造"),
    "completed": FieldMeta("completed", "完成标志"),
    "in_zone": FieldMeta("in_zone", "是否在建议禁燃区内"),
    "is_gap": FieldMeta("is_gap", "是否为禁燃区内未改造村"),
    "n_gaps": FieldMeta("n_gaps", "区内未改造村数", "个"),
    "gap_households": FieldMeta("gap_hh", "区内未改造村户数", "户"),
    "method": FieldMeta("method", "改造方式"),
    "completed_on": FieldMeta("done_on", "完成日期"),
    "township": COMMON_FIELDS["township"],
    "county": COMMON_FIELDS["county"],
    "county_code": COMMON_FIELDS["county_code"],
    "county_name": COMMON_FIELDS["county_name"],
    "township_code": COMMON_FIELDS["township_code"],
    "township_name": COMMON_FIELDS["township_name"],
    "h3_cell": COMMON_FIELDS["h3_cell"],
    "status": FieldMeta("status", "状态"),
    "reason": FieldMeta("reason", "说明"),
    "change": FieldMeta("change", "变化类型"),
    "village_ids": FieldMeta("vill_ids", "涉及村庄编号"),
    "in_proposed": FieldMeta("in_prop", "是否在建议禁燃区内"),
    "in_current": FieldMeta("in_cur", "是否在现行禁燃区内"),
    "fuel": COMMON_FIELDS["fuel"],
    "kind": COMMON_FIELDS["kind"],
    "name": FieldMeta("name", "名称"),
    "lon": COMMON_FIELDS["lon"],
    "lat": COMMON_FIELDS["lat"],
    "row": COMMON_FIELDS["row"],
    "zone_km2": FieldMeta("zone_km2", "建议禁燃区面积", "km²"),
    "current_km2": FieldMeta("cur_km2", "现行禁燃区面积", "km²"),
    "added_km2": FieldMeta("add_km2", "新增面积", "km²"),
    "removed_km2": FieldMeta("rem_km2", "调出面积", "km²"),
    "added_households": FieldMeta("add_hh", "新增区域户数", "户"),
    "removed_households": FieldMeta("rem_hh", "调出区域户数", "户"),
    "finding": FieldMeta("finding", "判定"),
    "rule": FieldMeta("rule", "违反条款（《高污染燃料目录》）"),
    "fuel_raw": COMMON_FIELDS["fuel_raw"],
    "capacity_th": COMMON_FIELDS["capacity_th"],
    "sulfur_pct": FieldMeta("sulfur", "含硫量", "%"),
    "ash_pct": FieldMeta("ash", "灰分", "%"),
    "method_code": FieldMeta("method_cd", "改造方式代码"),
    "clean_coal": FieldMeta("clean_coal", "改燃洁净型煤等（不计为完成）"),
    "n_violations": FieldMeta("n_viol", "建议区内燃煤设施数", "个"),
    "n_violations_current": FieldMeta("n_viol_cur", "现行区内燃煤设施数", "个"),
}

# cell statuses, in the order of precedence used in the cells layer
CELL_STATUS = {0: "unconverted", 1: "converted", 2: "built_up", 3: "fill_converted"}


# ----------------------------------------------------------------------------------- villages
def judge_villages(villages: gpd.GeoDataFrame, *, threshold: float
                   ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Converted flag and ratio per village; rows that cannot be judged are rejected.

    `threshold`: the converted share of households from which a village counts as converted
    (``params.threshold``; heat-radius' ``village_threshold``).
    """
    v = villages.reset_index(drop=True).copy()
    for col in ("households", "converted_households"):
        if col not in v:
            v[col] = np.nan
    if "completed" not in v:
        v["completed"] = pd.array([pd.NA] * len(v), dtype="boolean")
    hh = v["households"].to_numpy(dtype=float)
    done = v["converted_households"].to_numpy(dtype=float)
    flag = v["completed"].astype("boolean")
    if np.isnan(hh).all() and flag.isna().all():
        raise InputError(
            "villages: no households (总户数) and no completed flag (是否完成) values, so no "
            "village can be judged converted; add the columns or map them in the config: "
            'columns = { households = "…", converted_households = "…" }.')
    has_counts = ~np.isnan(hh) & ~np.isnan(done) & (hh > 0)
    reasons = np.full(len(v), None, dtype=object)
    no_basis = ~has_counts & flag.isna().to_numpy()
    reasons[no_basis] = "households/converted_households missing or not > 0, and no completed flag"
    over = has_counts & (done > hh)
    reasons[over] = "converted_households greater than households"
    neg = has_counts & (done < 0)
    reasons[neg] = "converted_households negative"
    bad = pd.notna(reasons)
    rejected = pd.DataFrame({"input": "villages", "file": "", "row": v["row"][bad].to_numpy(),
                             "id": v["id"][bad].to_numpy(dtype=object),
                             "reason": reasons[bad]}) if bad.any() else io.empty_rejected()
    v = v[~bad].reset_index(drop=True)
    hh, done = hh[~bad], done[~bad]
    flag = flag[~bad].reset_index(drop=True)
    ratio = np.where((hh > 0) & ~np.isnan(done), done / np.where(hh > 0, hh, 1.0), np.nan)
    by_ratio = np.nan_to_num(ratio, nan=-1.0) >= threshold - 1e-12
    v["ratio"] = np.round(ratio, 4)
    v["converted"] = np.where(flag.notna().to_numpy(), flag.fillna(False).to_numpy(dtype=bool),
                              by_ratio)
    # 聊办字〔2017〕49号 item 9: clean heating "不包括改燃洁净型煤、水煤浆、无烟煤、兰炭、绿焦、
    # 原油等" — a village converted to 洁净型煤 (method) has not completed clean-heating conversion
    v["method_code"] = vocab.method(v["method"] if "method" in v else [None] * len(v)).to_numpy()
    v["clean_coal"] = v["converted"].to_numpy(dtype=bool) & (v["method_code"] == "clean_coal")
    v["converted"] = v["converted"].to_numpy(dtype=bool) & ~v["clean_coal"].to_numpy()
    return v, rejected


def _village_cells(v: gpd.GeoDataFrame, params: Params) -> tuple[np.ndarray, np.ndarray]:
    """(cell, village position) pairs: polygons in overlap mode, points as geodesic disks."""
    res = params.h3_resolution
    poly = v.geometry.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()
    parts_c, parts_o = [], []
    if poly.any():
        c, o = h3shapes.polygons_to_cells(v.geometry.to_numpy()[poly], resolution=res,
                                        mode="overlap")
        parts_c.append(c)
        parts_o.append(np.flatnonzero(poly)[o])
    if (~poly).any():
        pos = np.flatnonzero(~poly)
        c, o = geo.disk_cells(v["lon"].to_numpy(dtype=float)[pos],
                           v["lat"].to_numpy(dtype=float)[pos], params.point_radius_m, res)
        parts_c.append(c)
        parts_o.append(pos[o])
    if not parts_c:
        return np.zeros(0, np.uint64), np.zeros(0, np.int64)
    return np.concatenate(parts_c), np.concatenate(parts_o)


# ---------------------------------------------------------------------------------------- run
#: read this analysis's input files as `lantian run` does (analyses.api.read_inputs)
read_inputs = api.module_reader(__name__)


@api.entry
def run(inputs: dict[str, gpd.GeoDataFrame], params: Params) -> Result:
    """Propose the no-burn zone, compare it with the zone in force and list violations.

    Parameters
    ----------
    inputs
        ``villages`` (points or polygons, with ``lon``/``lat``), optional ``built_up``,
        ``current_zone``, ``facilities``, ``counties``, ``townships``: GeoDataFrames in
        EPSG:4326 as read by ``spatial.io`` (lantian's field names). Fuels, kinds, statuses
        and methods are read through :mod:`analyses.vocab`.
    params
        See :class:`Params`.
    """
    res = params.h3_resolution
    counties = inputs.get("counties")
    townships = inputs.get("townships")
    if params.unit == "township" and (townships is None or not len(townships)):
        raise InputError('params.unit = "township" needs township boundaries: add '
                         '[inputs.townships] with path = "…", or use unit = "cells".')
    v, rejected = judge_villages(inputs["villages"], threshold=params.threshold)
    vlng, vlat = v["lon"].to_numpy(dtype=float), v["lat"].to_numpy(dtype=float)
    conv = v["converted"].to_numpy(dtype=bool)

    # 1. village cells and their status
    vc, vo = _village_cells(v, params)
    touched = pd.DataFrame({"cell": vc, "unconv": ~conv[vo]}).groupby("cell").agg(
        n_villages=("unconv", "size"), n_unconverted=("unconv", "sum"))
    label = pd.Series(np.where(touched["n_unconverted"].to_numpy() > 0, 0, 1),
                      index=touched.index.to_numpy(dtype=np.uint64))
    # 2. built-up cells (centre inside), unless an unconverted village touches them
    built_up = inputs.get("built_up")
    if params.include_built_up and built_up is not None and len(built_up):
        bc, _ = h3shapes.polygons_to_cells(built_up.geometry.to_numpy(), resolution=res,
                                         mode="center")
        bc = np.unique(bc)
        bc = bc[~pd.Index(bc).isin(label.index[label.to_numpy() == 0])]
        label = pd.concat([label[~label.index.isin(bc)], pd.Series(2, index=bc)])
    # 3. fill untouched cells near village cells
    if params.fill_m > 0 and len(label):
        spacing = h3.average_hexagon_edge_length(res, unit="m") * math.sqrt(3)
        rings = int(round(params.fill_m / spacing))
        grown = geo.fill(label.clip(upper=1), rings)
        label = pd.concat([label, grown[grown > 0] * 3])  # cells nearer unconverted stay out
    label = label.sort_index()
    cells = label.index.to_numpy(dtype=np.uint64)
    status = label.to_numpy()
    clat, clng = h3grid.cell_centers(cells)
    reason = np.full(cells.size, "", dtype=object)
    reason[status == 0] = "unconverted village"
    cand = status > 0
    cell_county = np.full(cells.size, -1, dtype=np.int64)
    data_counties = np.zeros(0, dtype=np.int64)
    if counties is not None and len(counties):
        cell_county = admin.locate(clng, clat, counties)
        outside = cand & (cell_county < 0)
        reason[outside] = "outside counties"
        cand &= ~outside
        # the fill and built-up land never reach into a county that supplied no village rows
        data_counties = _counties_with_villages(v, vlng, vlat, counties)
        no_data = cand & ~np.isin(cell_county, data_counties)
        reason[no_data] = "county without village data"
        cand &= ~no_data

    # 4. the zone: dissolved per county, then parts under min_part_km2 removed
    towns = None
    if params.unit == "cells":
        sel = cells[cand]
        parts, ppos = [], []
        for k in np.unique(cell_county[cand]):
            p = geo.polygon_parts(h3shapes.cells_to_shape(sel[cell_county[cand] == k]))
            parts.extend(p)
            ppos.extend([k] * len(p))
        zone, n_small, a_small = geo.zone_frame(
            np.asarray(parts, dtype=object), np.asarray(ppos, dtype=np.int64), counties,
            params.min_part_km2, sel)
    else:
        zone, n_small, a_small, towns = _township_zone(v, vlng, vlat, townships, counties,
                                                       cells, data_counties, params)
    zone_geoms = zone.geometry.to_numpy()
    in_part = geo.points_in(zone_geoms, clng, clat)
    # township mode: a cell is in when its centre is in a township that joined whole
    in_zone = (cand & (in_part >= 0)) if params.unit == "cells" else in_part >= 0
    reason[cand & ~in_zone] = (f"part < {params.min_part_km2:g} km²" if params.unit == "cells"
                               else "township not completely converted")
    log.info("%d zone cells in %d parts (%d parts < %g km² removed)", in_zone.sum(),
             len(zone), n_small, params.min_part_km2)

    # villages: county, township, in_zone, gaps
    v = admin.attach(v, vlng, vlat, counties, level="county", fallback="county")
    v = admin.attach(v, vlng, vlat, townships, level="township", fallback="township")
    v_zone = geo.points_in(zone_geoms, vlng, vlat)
    v["in_zone"] = v_zone >= 0
    gap_zone = geo.points_in(geo.shells(zone_geoms), vlng, vlat)
    v["is_gap"] = ~conv & (gap_zone >= 0) & ~v["in_zone"].to_numpy()
    v["zone_id"] = np.where(v["in_zone"], zone["zone_id"].to_numpy(dtype=object)[
        np.maximum(v_zone, 0)] if len(zone) else None, None)
    gz = v["is_gap"].to_numpy() & (gap_zone >= 0)
    if gz.any():
        v.loc[gz, "zone_id"] = zone["zone_id"].to_numpy(dtype=object)[gap_zone[gz]]
    zone = geo.zone_stats(zone, v, v_zone, gap_zone)

    # cells layer
    cells_layer = h3grid.cells_to_gdf(cells, {
        "status": np.vectorize(CELL_STATUS.get, otypes=[object])(status) if cells.size
        else np.zeros(0, object),
        "in_zone": in_zone,
        "n_villages": touched["n_villages"].reindex(cells).fillna(0).to_numpy(dtype=np.int64),
        "n_unconverted": touched["n_unconverted"].reindex(cells).fillna(0).to_numpy(
            dtype=np.int64),
        "reason": reason,
    })

    current = inputs.get("current_zone")
    cur_union = (shapely.make_valid(shapely.union_all(current.geometry.to_numpy()))
                 if current is not None and len(current) else None)
    changes = geo.changes(zone, cur_union, v, counties)
    violations, review, n_fac, rej_f = rules.screen_facilities(
        inputs.get("facilities"), zone, cur_union, counties, townships, params.zone_class,
        params.coal_fuels, params.coal_kinds)
    rejected = pd.concat([rejected, rej_f], ignore_index=True)

    villages_layer = _village_layer(v)
    gaps = villages_layer[villages_layer["is_gap"]].drop(columns=["in_zone", "is_gap"])
    by_county = units.by_county(zone, v, changes, violations, cur_union, counties)
    by_township = units.by_township(zone, v, violations, townships)
    summary = _summary(v, zone, changes, violations, review, n_fac, cur_union, params,
                       n_small=n_small, a_small=a_small, towns=towns)
    context = {k: g for k, g in (("counties", counties), ("townships", townships),
                                 ("current_zone", current)) if g is not None}
    return Result(
        analysis=NAME, params=params,
        layers={"zone": zone, "cells": cells_layer, "villages": villages_layer, "gaps": gaps,
                "changes": changes, "violations": violations},
        tables={"by_county": by_county, "by_township": by_township,
                "facility_review": review, "rejected": rejected},
        summary=summary, fields=FIELDS,
        title=f"高污染燃料禁燃区划定建议（{rules.CLASS_NAMES[params.zone_class]}）",
        context=context)


def _counties_with_villages(v: pd.DataFrame, lng: np.ndarray, lat: np.ndarray,
                            counties: gpd.GeoDataFrame) -> np.ndarray:
    """Positions of the counties that hold a village (by location, else by the name typed)."""
    pos = admin.locate(lng, lat, counties)
    typed = v["county"].to_numpy(dtype=object) if "county" in v else np.full(len(v), None)
    names = counties["name"].to_numpy(dtype=object)
    by_name = np.flatnonzero(np.isin(names, typed[(pos < 0) & pd.notna(typed)]))
    return np.unique(np.concatenate([pos[pos >= 0], by_name]))


def _township_zone(v: pd.DataFrame, lng: np.ndarray, lat: np.ndarray,
                   townships: gpd.GeoDataFrame, counties: gpd.GeoDataFrame | None,
                   cells: np.ndarray, data_counties: np.ndarray, params: Params
                   ) -> tuple[gpd.GeoDataFrame, int, float, np.ndarray]:
    """Townships whose villages (by location, >= 1) are all converted join the zone whole.

    Seed 003 item 5: "以乡镇（街道）为单位，全行政区域整体推进以电代煤、以气代煤". The
    township polygons are split by county; parts under ``min_part_km2`` are removed.
    """
    tpos = admin.locate(lng, lat, townships)
    has = tpos >= 0
    n = len(townships)
    n_v = np.bincount(tpos[has], minlength=n)
    n_unconv = np.bincount(tpos[has & ~v["converted"].to_numpy(dtype=bool)], minlength=n)
    done = (n_v > 0) & (n_unconv == 0)
    log.info("%d of %d townships with villages are completely converted", done.sum(),
             (n_v > 0).sum())
    parts, cpos, town = [], [], []
    for t in np.flatnonzero(done):
        p, k = geo.by_county(townships.geometry.iloc[t], counties)
        parts.extend(p)
        cpos.extend(k)
        town.extend([t] * len(p))
    cpos, town = np.asarray(cpos, dtype=np.int64), np.asarray(town, dtype=np.int64)
    parts = np.asarray(parts, dtype=object)
    if counties is not None and len(counties):  # never into a county without village rows
        ok = np.isin(cpos, data_counties)
        parts, cpos, town = parts[ok], cpos[ok], town[ok]
    zone, n_small, a_small = geo.zone_frame(parts, cpos, counties, params.min_part_km2, cells,
                                            township=town, townships=townships)
    return zone, n_small, a_small, np.array([int(done.sum()), int((n_v > 0).sum())])


def _village_layer(v: pd.DataFrame) -> gpd.GeoDataFrame:
    cols = ["id", "name", "township", "county", "households", "converted_households", "ratio",
            "completed", "converted", "method", "method_code", "clean_coal", "completed_on",
            "in_zone", "is_gap", "zone_id",
            "county_code", "county_name", "township_code", "township_name", "lon", "lat", "row",
            *(["file"] if "file" in v else [])]  # several files: the record is file and row
    out = pd.DataFrame({c: v[c] if c in v else None for c in cols})
    out["completed_on"] = pd.to_datetime(out["completed_on"]).dt.strftime("%Y-%m-%d") \
        if out["completed_on"].notna().any() else None
    geom = v.geometry.to_numpy()
    if not shapely.is_valid(geom).all() or not np.isin(
            shapely.get_type_id(geom), [3, 6]).all():  # not all polygons: use the points
        geom = shapely.points(v["lon"].to_numpy(dtype=float), v["lat"].to_numpy(dtype=float))
    return gpd.GeoDataFrame(out, geometry=geom, crs="EPSG:4326")


def _summary(v, zone, changes, violations, review, n_fac, cur_union, params, *,
             n_small: int, a_small: float, towns: np.ndarray | None) -> list[str]:
    conv = v["converted"].to_numpy(dtype=bool)
    lines = [f"Zone class {params.zone_class}: {rules.CLASS_NAMES[params.zone_class]} of "
             "《高污染燃料目录》 (国环规大气〔2017〕2号); unit = "
             f"{params.unit}.",
             f"{int(conv.sum())} of {len(v)} villages converted (>= {params.threshold:.0%} of "
             "households, or flagged complete)."]
    n_cc = int(v["clean_coal"].sum())
    if n_cc:
        lines.append(f"{n_cc} villages converted to 洁净型煤 (or 水煤浆/无烟煤/兰炭…) count as "
                     "unconverted: not clean heating (聊办字〔2017〕49号 item 9).")
    if towns is not None:
        lines.append(f"{towns[0]} of {towns[1]} townships with villages are completely "
                     "converted and join the zone whole (以乡镇（街道）为单位整体推进).")
    lines += [f"Proposed zone: {len(zone)} parts, {zone['area_km2'].sum():,.1f} km², "
              f"{int(zone['households'].sum()):,} households; {n_small} parts under "
              f"{params.min_part_km2:g} km² ({a_small:,.2f} km²) removed after the split by "
              "county.",
              f"{int(v['is_gap'].sum())} unconverted villages "
              f"({int(v.loc[v['is_gap'], 'households'].fillna(0).sum()):,} households) lie "
              "enclosed by the zone (gaps: priority targets)."]
    if cur_union is not None:
        a = changes.loc[changes["change"] == "added", "area_km2"].sum()
        r = changes.loc[changes["change"] == "removed", "area_km2"].sum()
        lines.append(f"Against the current zone: {a:,.1f} km² added, {r:,.1f} km² removed.")
        per = changes.assign(county=changes["county_name"].fillna("(县区不明)")).groupby(
            ["county", "change"], sort=True)[["area_km2", "households"]].sum()
        for county in per.index.get_level_values(0).unique():
            parts = []
            for kind, sign in (("added", "+"), ("removed", "−")):
                if (county, kind) in per.index:
                    km2, hh = per.loc[(county, kind)]
                    parts.append(f"{sign}{km2:,.2f} km² ({int(hh):,} households)")
            lines.append(f"  {county}: {', '.join(parts)}")
    if n_fac:
        lines.append(f"{int(violations['in_proposed'].sum())} of {n_fac} active facilities "
                     f"violate zone class {params.zone_class} inside the proposed zone, "
                     f"{int(violations['in_current'].sum())} inside the current zone "
                     "(rule column: the catalogue's wording).")
    if len(review):
        counts = review["finding"].value_counts().sort_index()
        lines.append(f"{len(review)} facilities inside a zone cannot be judged ("
                     + ", ".join(f"{k} {n}" for k, n in counts.items())
                     + "): see the facility_review table; they are not counted as clean.")
    unit = ("township whole when all its villages converted (聊办字〔2017〕49号 item 5)"
            if params.unit == "township" else "H3 cells of converted villages")
    lines.append(
        f"Rules: zone = {unit}, converted >= {params.threshold:.0%} of households "
        "(济宁市 2024 二(二)4, 金政字〔2024〕57号 二(二)8: 整体完成清洁取暖改造的地区); "
        "洁净型煤 not clean heating (聊办字〔2017〕49号 item 9); "
        f"{rules.describe(params.zone_class)}; parts < {params.min_part_km2:g} km² removed "
        "after the split by county.")
    return lines


# ---------------------------------------------------------------------------------------- map
VILLAGE_COLORS = {"converted": "#1a9641", "unconverted": "#fdae61", "gap": "#7b3294"}
VILLAGE_LABELS = {"converted": "已完成改造村", "unconverted": "未完成改造村",
                  "gap": "禁燃区内未改造村（缺口）"}
CHANGE_COLORS = {"added": "#2b83ba", "removed": "#d7191c"}
CHANGE_LABELS = {"added": "新增区域", "removed": "调出区域"}
ZONE_COLOR = "#66bd63"
CELL_COLORS = {"converted": "#1a9641", "fill_converted": "#a6d96a", "built_up": "#878787",
               "unconverted": "#fdae61"}
CELL_LABELS = {"converted": "已改造村庄网格", "fill_converted": "填充（邻近已改造村）",
               "built_up": "建成区网格", "unconverted": "未改造村庄网格"}


#: the village category of the map, figure and QGIS style, from the layer's boolean columns
_VILLAGE_EXPR = ("CASE WHEN {is_gap} THEN 'gap' WHEN {converted} THEN 'converted' "
                 "ELSE 'unconverted' END")


def _village_category(v: pd.DataFrame) -> np.ndarray:
    return np.where(v["is_gap"], "gap", np.where(v["converted"], "converted", "unconverted"))


def symbology(result: Result) -> list[legend.LayerLegend]:
    """The drawn layers, bottom to top, with their colours and Chinese names.

    The one definition the web map, the figure and the QGIS styles use.
    """
    L = result.layers
    out = mapparts.admin_legends(result.context)
    if len(L["cells"]):  # in the project and the files, off; not on the web map
        out.append(legend.categorized("cells", "H3 网格（按判定）", "polygon", column="status",
                                      colors=CELL_COLORS, labels=CELL_LABELS,
                                      present=L["cells"]["status"], fill_opacity=0.4,
                                      width=0.3, visible=False))
    if len(L["zone"]):
        out.append(legend.single("zone", "建议禁燃区", "polygon", ZONE_COLOR, outline="#1a9850",
                                 width=1.0, fill_opacity=0.35))
    if len(L["changes"]):
        out.append(legend.categorized("changes", "与现行禁燃区相比的变化", "polygon",
                                      column="change", colors=CHANGE_COLORS,
                                      labels=CHANGE_LABELS, present=L["changes"]["change"],
                                      fill_opacity=0.35, width=1.0))
    current = result.context.get("current_zone")
    if current is not None and len(current):
        out.append(legend.single("current_zone", "现行禁燃区", "polygon", "#252525",
                                 fill_opacity=0.0, width=2.0, dash=True, context=True))
    v = L["villages"]
    out.append(legend.categorized("villages", "村庄（按改造状态）", "point", column="category",
                                  colors=VILLAGE_COLORS, labels=VILLAGE_LABELS,
                                  present=_village_category(v) if len(v) else [],
                                  expression=_VILLAGE_EXPR, size=3.0))
    if len(L["gaps"]):  # the gap villages also show as a category of the villages
        out.append(legend.single("gaps", VILLAGE_LABELS["gap"], "point", VILLAGE_COLORS["gap"],
                                 size=5.0, label_col="name", visible=False))
    if len(L["violations"]):
        out.append(legend.single("violations", "区内燃煤设施", "point", "#000000", size=6.0))
    return out


def build_map(result: Result, *,
              legends: list[legend.LayerLegend] | None = None) -> folium.Map:
    """Proposed zone, current zone outline, added/removed areas, villages, violations.

    ``legends``: the legend definitions to draw with (default :func:`symbology` of
    the result); a county pack passes those of the whole run, so its classes are the map's.
    """
    L = result.layers
    legs = {leg.layer: leg for leg in (legends or symbology(result))}
    m = mapparts.start_map(result.context, L["zone"], L["villages"], L["changes"],
                           title=result.title or NAME)
    if "zone" in legs:
        mapparts.add_layer(m, legs["zone"], L["zone"],
                           tooltip={"zone_id": "图斑", "county_name": "县区",
                                    **({"township_name": "乡镇"}
                                       if "township_name" in L["zone"] else {}),
                                    "area_km2": "面积 (km²)", "households": "户数",
                                    "n_gaps": "区内未改造村"})
    if "changes" in legs:
        mapparts.add_layer(m, legs["changes"], L["changes"],
                           tooltip={"change": "变化", "area_km2": "面积 (km²)",
                                    "county_name": "县区", "n_villages": "涉及村庄数",
                                    **({"households": "涉及户数"}
                                       if "households" in L["changes"] else {})})
    if "current_zone" in legs:
        current = result.context["current_zone"]
        mapparts.add_layer(m, legs["current_zone"], current,
                           tooltip={"name": "名称"} if "name" in current else None)
    v = L["villages"].copy()
    v["category"] = _village_category(v)
    if len(v) and v.geometry.geom_type.isin(["Polygon", "MultiPolygon"]).all():
        v = gpd.GeoDataFrame(v, geometry=gpd.points_from_xy(v["lon"], v["lat"]),
                             crs="EPSG:4326")
    mapparts.add_layer(m, legs["villages"], v,
                       tooltip={"name": "村名", "id": "编号", "township": "乡镇",
                                "households": "总户数", "converted_households": "已改造户数",
                                "ratio": "改造比例", "method": "改造方式"})
    if "violations" in legs:
        mapparts.add_layer(m, legs["violations"], L["violations"],
                           tooltip={"name": "名称", "kind": "类型", "fuel": "燃料",
                                    "status": "状态", "rule": "违反条款",
                                    "in_proposed": "在建议区内",
                                    "in_current": "在现行区内"})
    mapparts.add_legend(m)
    webmap.finish(m)
    return m


def figure_spec(result: Result, *,
                legends: list[legend.LayerLegend] | None = None) -> list[figure.LayerStyle]:
    """Static figure: zone, changes, zone in force, gap villages, facilities (:func:`symbology`).

    The thousands of villages and the cells stay on the web map: on paper they would hide the
    zone; the figure shows the gap villages instead.
    """
    data = {"current_zone": result.context.get("current_zone")}
    return [legend.figure_style(leg, data.get(leg.layer)) for leg in (legends or symbology(result))
            if leg.layer in ("zone", "changes", "current_zone", "gaps", "violations")]
