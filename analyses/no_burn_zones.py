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
4. The in-cells are dissolved exactly along cell edges (``spatial.h3grid.cells_to_shape``);
   parts smaller than ``min_part_km2`` are removed. Holes are kept: each is either an
   unconverted village (reported in ``gaps``, a priority target) or land no village touches.
5. The remaining parts are split by county (cells by centre) into ``zone`` polygons.

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
from pyproj import Geod

from spatial import admin, figure, h3grid, io, legend, mapparts, osm, webmap
from spatial.errors import InputError
from spatial.export import FieldMeta
from spatial.io import Field

from . import vocab
from .base import InputSpec, Result

log = logging.getLogger(__name__)

NAME = "no-burn-zones"
GEOD = Geod(ellps="WGS84")

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


def _read_villages(cfg: dict[str, Any], spec: InputSpec) -> io.Table:
    """Villages as points (tables, point files) or polygons (vector files)."""
    return io.read_features(cfg["path"], fields=spec.fields, name=spec.name, crs=cfg["crs"],
                            columns=cfg["columns"], sheet=cfg["sheet"])


def _read_built_up(cfg: dict[str, Any], spec: InputSpec) -> io.Table:
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
              "households or a completed flag", reader=_read_villages),
    InputSpec("built_up", "custom", (Field("id", "text"), Field("name", "text")), False,
              "urban built-up polygons (OSM XML read through osmnx, or a polygon file)",
              reader=_read_built_up),
    InputSpec("current_zone", "polygons", (Field("name", "text"),), False,
              "the no-burn zone in force"),
    InputSpec("facilities", "points", (
        Field("id", "text", True), Field("name", "text"),
        Field("fuel", "text", False, ("燃料", "燃料类型")),
        Field("kind", "text", False, ("类型", "设施类型", "类别")),
        Field("status", "text", False, ("状态", "运行状态")),
    ), False, "coal-using facilities: boilers, coal sellers, tea-water stoves"),
    InputSpec("counties", "polygons", (Field("code", "text", True), Field("name", "text", True)),
              False, "county boundaries with code and name"),
    InputSpec("townships", "polygons", (Field("code", "text", True),
                                        Field("name", "text", True)),
              False, "township boundaries with code and name"),
)


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
    coal_fuels
        Fuels that count as burning coal.
    coal_kinds
        Facility kinds that count as coal whatever the fuel (coal sellers).
    """

    threshold: float = 0.95
    h3_resolution: int = 9
    point_radius_m: float = 300.0
    include_built_up: bool = True
    min_part_km2: float = 1.0
    fill_m: float = 1000.0
    coal_fuels: tuple[str, ...] = ("coal",)
    coal_kinds: tuple[str, ...] = ("coal_seller",)

    def __post_init__(self) -> None:
        if not 0 < self.threshold <= 1:
            raise InputError(f"params.threshold must be in (0, 1], not {self.threshold} "
                             "(0.95 means 95 % of households converted).")
        if not 5 <= self.h3_resolution <= 12:
            raise InputError(f"params.h3_resolution must be 5..12, not {self.h3_resolution}.")
        if not 0 <= self.point_radius_m <= 5000:
            raise InputError(f"params.point_radius_m must be in [0, 5000] m, "
                             f"not {self.point_radius_m}.")
        if self.min_part_km2 < 0:
            raise InputError(f"params.min_part_km2 must be >= 0, not {self.min_part_km2}.")
        if not 0 <= self.fill_m <= 10000:
            raise InputError(f"params.fill_m must be in [0, 10000] m, not {self.fill_m}.")
        bad = [f for f in self.coal_fuels if f not in vocab.FUEL]
        if bad:
            raise InputError(f"params.coal_fuels: unknown fuel(s) {bad}; use {sorted(vocab.FUEL)}.")
        bad = [k for k in self.coal_kinds if k not in vocab.KIND]
        if bad:
            raise InputError(f"params.coal_kinds: unknown kind(s) {bad}; use {sorted(vocab.KIND)}.")


FIELDS = {
    "zone_id": FieldMeta("zone_id", "禁燃区图斑编号"),
    "area_km2": FieldMeta("area_km2", "面积", "km²"),
    "n_cells": FieldMeta("n_cells", "网格数", "个"),
    "n_villages": FieldMeta("n_vill", "村庄数", "个"),
    "n_converted": FieldMeta("n_conv", "已完成改造村庄数", "个"),
    "n_unconverted": FieldMeta("n_unconv", "未完成改造村庄数", "个"),
    "households": FieldMeta("hh", "总户数", "户"),
    "converted_households": FieldMeta("hh_conv", "已改造户数", "户"),
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
    "township": FieldMeta("township", "乡镇（原表）"),
    "county": FieldMeta("county", "县区（原表）"),
    "county_code": FieldMeta("cnty_code", "县区代码"),
    "county_name": FieldMeta("cnty_name", "县区名称"),
    "township_code": FieldMeta("town_code", "乡镇代码"),
    "township_name": FieldMeta("town_name", "乡镇名称"),
    "h3_cell": FieldMeta("h3_cell", "H3网格编号"),
    "status": FieldMeta("status", "状态"),
    "reason": FieldMeta("reason", "说明"),
    "change": FieldMeta("change", "变化类型"),
    "village_ids": FieldMeta("vill_ids", "涉及村庄编号"),
    "in_proposed": FieldMeta("in_prop", "是否在建议禁燃区内"),
    "in_current": FieldMeta("in_cur", "是否在现行禁燃区内"),
    "fuel": FieldMeta("fuel", "燃料"),
    "kind": FieldMeta("kind", "类型"),
    "name": FieldMeta("name", "名称"),
    "lon": FieldMeta("lon", "经度", "°"),
    "lat": FieldMeta("lat", "纬度", "°"),
    "row": FieldMeta("row", "原表行号"),
    "zone_km2": FieldMeta("zone_km2", "建议禁燃区面积", "km²"),
    "current_km2": FieldMeta("cur_km2", "现行禁燃区面积", "km²"),
    "added_km2": FieldMeta("add_km2", "新增面积", "km²"),
    "removed_km2": FieldMeta("rem_km2", "调出面积", "km²"),
    "n_violations": FieldMeta("n_viol", "建议区内燃煤设施数", "个"),
    "n_violations_current": FieldMeta("n_viol_cur", "现行区内燃煤设施数", "个"),
}

# cell statuses, in the order of precedence used in the cells layer
CELL_STATUS = {0: "unconverted", 1: "converted", 2: "built_up", 3: "fill_converted"}


# ------------------------------------------------------------------------------- helpers
def geodesic_area_km2(geoms: Any) -> np.ndarray:
    """Geodesic area (WGS-84 ellipsoid) of each (Multi)Polygon, km² (holes subtracted)."""
    arr = np.asarray(geoms, dtype=object)
    out = np.zeros(arr.size)
    for i, g in enumerate(arr):
        if g is not None and not g.is_empty:
            a, _ = GEOD.geometry_area_perimeter(shapely.orient_polygons(g))
            out[i] = abs(a) / 1e6
    return out


def _neighbours(cells: np.ndarray, k: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Cells within grid distance k (grid disk, self included) and the origin position of each."""
    try:
        import h3ronpy
        import pyarrow as pa

        lists = pa.array(h3ronpy.grid_disk(cells, k))
        nb = lists.flatten().to_numpy().astype(np.uint64, copy=False)
        origin = np.repeat(np.arange(cells.size), np.diff(lists.offsets.to_numpy()))
    except ImportError:  # pragma: no cover - h3ronpy is a dependency
        disks = [h3.api.basic_int.grid_disk(int(c), k) for c in cells.tolist()]
        nb = np.fromiter((c for d in disks for c in d), np.uint64)
        origin = np.repeat(np.arange(cells.size), [len(d) for d in disks])
    return nb, origin


def _disk_cells(lng: np.ndarray, lat: np.ndarray, radius_m: float, res: int
                ) -> tuple[np.ndarray, np.ndarray]:
    """(cell, point position) pairs: each point's own cell and cells with centre <= radius_m.

    Candidates are the grid disk of the point's cell with k = ceil(radius / (0.8 x centre
    spacing)) + 1 rings (enough for H3's distortion); their centres are tested geodesically.
    """
    centre = h3grid.points_to_cells(lat, lng, resolution=res)
    if radius_m <= 0 or centre.size == 0:
        return centre, np.arange(centre.size)
    spacing = h3.average_hexagon_edge_length(res, unit="m") * math.sqrt(3)
    k = int(math.ceil(radius_m / (0.8 * spacing))) + 1
    cells, owner = _neighbours(centre, k)
    clat, clng = h3grid.cell_centers(cells)
    _, _, d = GEOD.inv(lng[owner], lat[owner], clng, clat)
    keep = (d <= radius_m) | (cells == centre[owner])
    return cells[keep], owner[keep]


def _fill(labels: pd.Series, rings: int) -> pd.Series:
    """Grow labelled cells ring by ring; return only the newly labelled cells.

    An unlabelled cell takes the minimum label of the cells one ring in (0 = unconverted wins).
    """
    known = labels.copy()
    frontier = labels
    new_parts = []
    for _ in range(rings):
        if frontier.empty:
            break
        cells = frontier.index.to_numpy(dtype=np.uint64)
        nb, origin = _neighbours(cells)
        lab = frontier.to_numpy()[origin]
        fresh = ~pd.Index(nb).isin(known.index)
        if not fresh.any():
            break
        grown = pd.Series(lab[fresh], index=nb[fresh]).groupby(level=0).min()
        known = pd.concat([known, grown])
        new_parts.append(grown)
        frontier = grown
    if not new_parts:
        return pd.Series(dtype=np.int64)
    return pd.concat(new_parts)


def _points_in(polys: Any, lng: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Position of the polygon containing each point (first one), -1 when none."""
    out = np.full(len(lng), -1, dtype=np.int64)
    polys = np.asarray(polys, dtype=object)
    if len(lng) == 0 or polys.size == 0:
        return out
    tree = shapely.STRtree(polys)
    p_idx, g_idx = tree.query(shapely.points(lng, lat), predicate="within")
    order = np.lexsort((g_idx, p_idx))
    p_idx, g_idx = p_idx[order], g_idx[order]
    first = np.r_[True, p_idx[1:] != p_idx[:-1]] if len(p_idx) else np.zeros(0, bool)
    out[p_idx[first]] = g_idx[first]
    return out


def _shells(polys: Any) -> np.ndarray:
    """Polygons with their holes filled."""
    return np.asarray([shapely.Polygon(p.exterior) for p in polys], dtype=object)


def _polygon_parts(geom: shapely.Geometry) -> np.ndarray:
    """The Polygon parts of any geometry (lines and points from overlays dropped)."""
    parts = shapely.get_parts(geom)
    return np.asarray([p for p in parts if p.geom_type == "Polygon" and not p.is_empty],
                      dtype=object)


# ----------------------------------------------------------------------------------- villages
def _villages(villages: gpd.GeoDataFrame, params: Params) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Converted flag and ratio per village; rows that cannot be judged are rejected."""
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
    by_ratio = np.nan_to_num(ratio, nan=-1.0) >= params.threshold - 1e-12
    v["ratio"] = np.round(ratio, 4)
    v["converted"] = np.where(flag.notna().to_numpy(), flag.fillna(False).to_numpy(dtype=bool),
                              by_ratio)
    return v, rejected


def _village_cells(v: gpd.GeoDataFrame, params: Params) -> tuple[np.ndarray, np.ndarray]:
    """(cell, village position) pairs: polygons in overlap mode, points as geodesic disks."""
    res = params.h3_resolution
    poly = v.geometry.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()
    parts_c, parts_o = [], []
    if poly.any():
        c, o = h3grid.polygons_to_cells(v.geometry.to_numpy()[poly], resolution=res,
                                        mode="overlap")
        parts_c.append(c)
        parts_o.append(np.flatnonzero(poly)[o])
    if (~poly).any():
        pos = np.flatnonzero(~poly)
        c, o = _disk_cells(v["lon"].to_numpy(dtype=float)[pos],
                           v["lat"].to_numpy(dtype=float)[pos], params.point_radius_m, res)
        parts_c.append(c)
        parts_o.append(pos[o])
    if not parts_c:
        return np.zeros(0, np.uint64), np.zeros(0, np.int64)
    return np.concatenate(parts_c), np.concatenate(parts_o)


# ---------------------------------------------------------------------------------------- run
def run(inputs: dict[str, gpd.GeoDataFrame], params: Params) -> Result:
    """Propose the no-burn zone, compare it with the zone in force and list violations.

    Parameters
    ----------
    inputs
        ``villages`` (points or polygons, with ``lon``/``lat``), optional ``built_up``,
        ``current_zone``, ``facilities``, ``counties``, ``townships``: GeoDataFrames in
        EPSG:4326 as read by ``spatial.io`` (FORMATS.md field names).
    params
        See :class:`Params`.
    """
    res = params.h3_resolution
    counties = inputs.get("counties")
    townships = inputs.get("townships")
    v, rejected = _villages(inputs["villages"], params)
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
        bc, _ = h3grid.polygons_to_cells(built_up.geometry.to_numpy(), resolution=res,
                                         mode="center")
        bc = np.unique(bc)
        bc = bc[~pd.Index(bc).isin(label.index[label.to_numpy() == 0])]
        label = pd.concat([label[~label.index.isin(bc)], pd.Series(2, index=bc)])
    # 3. fill untouched cells near village cells
    if params.fill_m > 0 and len(label):
        spacing = h3.average_hexagon_edge_length(res, unit="m") * math.sqrt(3)
        rings = int(round(params.fill_m / spacing))
        grown = _fill(label.clip(upper=1), rings)
        label = pd.concat([label, grown[grown > 0] * 3])  # cells nearer unconverted stay out
    label = label.sort_index()
    cells = label.index.to_numpy(dtype=np.uint64)
    status = label.to_numpy()
    clat, clng = h3grid.cell_centers(cells)
    reason = np.full(cells.size, "", dtype=object)
    reason[status == 0] = "unconverted village"
    cand = status > 0
    cell_county = np.full(cells.size, -1, dtype=np.int64)
    if counties is not None and len(counties):
        cell_county = admin.locate(clng, clat, counties)
        outside = cand & (cell_county < 0)
        reason[outside] = "outside counties"
        cand &= ~outside
    # 4. dissolve, drop small parts (cells by centre in kept parts)
    parts = _polygon_parts(h3grid.cells_to_shape(cells[cand]))
    part_area = geodesic_area_km2(parts)
    keep_part = part_area >= params.min_part_km2
    in_part = _points_in(parts, clng, clat)
    in_zone = cand & (in_part >= 0) & keep_part[np.maximum(in_part, 0)]
    reason[cand & ~in_zone] = f"part < {params.min_part_km2:g} km²"
    kept = parts[keep_part]
    log.info("%d zone cells in %d parts (%d parts < %g km² removed)", in_zone.sum(),
             keep_part.sum(), (~keep_part).sum(), params.min_part_km2)

    # 5. zone polygons per county
    zone = _zone_polygons(cells[in_zone], cell_county[in_zone], counties)
    zone_geoms = zone.geometry.to_numpy()

    # villages: county, township, in_zone, gaps
    v = admin.attach(v, vlng, vlat, counties, level="county", fallback="county")
    v = admin.attach(v, vlng, vlat, townships, level="township", fallback="township")
    v_zone = _points_in(zone_geoms, vlng, vlat)
    v["in_zone"] = v_zone >= 0
    v_shell = _points_in(_shells(kept), vlng, vlat)
    v["is_gap"] = ~conv & (v_shell >= 0) & ~v["in_zone"].to_numpy()
    gap_zone = _points_in(_shells(zone_geoms), vlng, vlat)
    v["zone_id"] = np.where(v["in_zone"], zone["zone_id"].to_numpy(dtype=object)[
        np.maximum(v_zone, 0)] if len(zone) else None, None)
    gz = v["is_gap"].to_numpy() & (gap_zone >= 0)
    if gz.any():
        v.loc[gz, "zone_id"] = zone["zone_id"].to_numpy(dtype=object)[gap_zone[gz]]
    zone = _zone_stats(zone, v, v_zone, gap_zone)

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
    zone_union = shapely.union_all(zone_geoms) if len(zone) else shapely.Polygon()
    changes = _changes(zone_union, cur_union, v, counties)
    violations, n_fac = _violations(inputs.get("facilities"), zone, cur_union, counties,
                                    townships, params)

    villages_layer = _village_layer(v)
    gaps = villages_layer[villages_layer["is_gap"]].drop(columns=["in_zone", "is_gap"])
    by_county = _by_county(zone, v, changes, violations, cur_union, counties)
    by_township = _by_township(zone, v, violations, townships)
    summary = _summary(v, zone, changes, violations, n_fac, cur_union, params)
    context = {k: g for k, g in (("counties", counties), ("townships", townships),
                                 ("current_zone", current)) if g is not None}
    return Result(
        analysis=NAME, params=params,
        layers={"zone": zone, "cells": cells_layer, "villages": villages_layer, "gaps": gaps,
                "changes": changes, "violations": violations},
        tables={"by_county": by_county, "by_township": by_township, "rejected": rejected},
        summary=summary, fields=FIELDS, title="高污染燃料禁燃区划定建议", context=context)


def _zone_polygons(cells: np.ndarray, county_pos: np.ndarray,
                   counties: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame:
    """Dissolve zone cells per county into Polygon parts with geodesic area."""
    rows: list[dict[str, Any]] = []
    for k in np.unique(county_pos):
        sel = cells[county_pos == k]
        code = name = None
        if k >= 0 and counties is not None:
            code, name = counties["code"].iloc[k], counties["name"].iloc[k]
        for p in _polygon_parts(h3grid.cells_to_shape(sel)):
            rows.append({"county_code": code, "county_name": name, "geometry": p})
    cols = ["zone_id", "county_code", "county_name", "area_km2", "n_cells"]
    if not rows:
        return gpd.GeoDataFrame({c: pd.Series(dtype=object) for c in cols},
                                geometry=gpd.GeoSeries([], crs="EPSG:4326"), crs="EPSG:4326")
    z = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")
    z["area_km2"] = np.round(geodesic_area_km2(z.geometry.to_numpy()), 6)
    clat, clng = h3grid.cell_centers(cells)
    part = _points_in(z.geometry.to_numpy(), clng, clat)
    z["n_cells"] = np.bincount(part[part >= 0], minlength=len(z))
    z = z.sort_values(["county_code", "area_km2"], ascending=[True, False],
                      na_position="last").reset_index(drop=True)
    z.insert(0, "zone_id", [f"Z{i:04d}" for i in range(1, len(z) + 1)])
    return z[[*cols, "geometry"]]


def _zone_stats(zone: gpd.GeoDataFrame, v: pd.DataFrame, v_zone: np.ndarray,
                gap_zone: np.ndarray) -> gpd.GeoDataFrame:
    n = len(zone)
    hh = v["households"].fillna(0).to_numpy(dtype=float)
    done = v["converted_households"].fillna(0).to_numpy(dtype=float)
    inz = v_zone >= 0
    gap = v["is_gap"].to_numpy(dtype=bool) & (gap_zone >= 0)
    zone = zone.copy()
    zone["n_villages"] = np.bincount(v_zone[inz], minlength=n)
    zone["households"] = np.bincount(v_zone[inz], weights=hh[inz], minlength=n).astype(np.int64)
    zone["converted_households"] = np.bincount(v_zone[inz], weights=done[inz],
                                               minlength=n).astype(np.int64)
    zone["n_gaps"] = np.bincount(gap_zone[gap], minlength=n)
    zone["gap_households"] = np.bincount(gap_zone[gap], weights=hh[gap],
                                         minlength=n).astype(np.int64)
    geom = zone.pop("geometry")
    return gpd.GeoDataFrame(zone, geometry=geom.to_numpy(), crs="EPSG:4326")


def _village_layer(v: pd.DataFrame) -> gpd.GeoDataFrame:
    cols = ["id", "name", "township", "county", "households", "converted_households", "ratio",
            "completed", "converted", "method", "completed_on", "in_zone", "is_gap", "zone_id",
            "county_code", "county_name", "township_code", "township_name", "lon", "lat", "row"]
    out = pd.DataFrame({c: v[c] if c in v else None for c in cols})
    out["completed_on"] = pd.to_datetime(out["completed_on"]).dt.strftime("%Y-%m-%d") \
        if out["completed_on"].notna().any() else None
    geom = v.geometry.to_numpy()
    if not shapely.is_valid(geom).all() or not np.isin(
            shapely.get_type_id(geom), [3, 6]).all():  # not all polygons: use the points
        geom = shapely.points(v["lon"].to_numpy(dtype=float), v["lat"].to_numpy(dtype=float))
    return gpd.GeoDataFrame(out, geometry=geom, crs="EPSG:4326")


def _changes(zone_union: shapely.Geometry, cur_union: shapely.Geometry | None,
             v: pd.DataFrame, counties: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame:
    """Added (proposed, not current) and removed (current, not proposed) pieces."""
    cols = ["change", "area_km2", "county_code", "county_name", "n_villages", "n_converted",
            "n_unconverted", "households", "village_ids"]
    if cur_union is None:
        return gpd.GeoDataFrame({c: pd.Series(dtype=object) for c in cols},
                                geometry=gpd.GeoSeries([], crs="EPSG:4326"), crs="EPSG:4326")
    added = _polygon_parts(shapely.difference(zone_union, cur_union))
    removed = _polygon_parts(shapely.difference(cur_union, zone_union))
    geoms = np.concatenate([added, removed]).astype(object)
    kind = np.array(["added"] * len(added) + ["removed"] * len(removed), dtype=object)
    rep = shapely.point_on_surface(geoms) if len(geoms) else np.zeros(0, object)
    out = pd.DataFrame({"change": kind, "area_km2": np.round(geodesic_area_km2(geoms), 6)})
    out = admin.attach(out, shapely.get_x(rep), shapely.get_y(rep), counties, level="county")
    pos = _points_in(geoms, v["lon"].to_numpy(dtype=float), v["lat"].to_numpy(dtype=float))
    has = pos >= 0
    n = len(geoms)
    conv = v["converted"].to_numpy(dtype=bool)
    out["n_villages"] = np.bincount(pos[has], minlength=n)
    out["n_converted"] = np.bincount(pos[has & conv], minlength=n)
    out["n_unconverted"] = out["n_villages"] - out["n_converted"]
    out["households"] = np.bincount(pos[has], weights=v["households"].fillna(0).to_numpy()[has],
                                    minlength=n).astype(np.int64)
    ids = pd.Series(v["id"].to_numpy(dtype=object)[has]).groupby(pos[has]).agg(_id_list)
    out["village_ids"] = ids.reindex(range(n)).to_numpy(dtype=object)
    out = gpd.GeoDataFrame(out[cols], geometry=geoms, crs="EPSG:4326")
    return out.sort_values(["change", "area_km2"], ascending=[True, False]).reset_index(drop=True)


def _id_list(ids: pd.Series, limit: int = 200) -> str:
    """Comma-joined ids, cut to about `limit` characters (Shapefile text holds 254 bytes)."""
    text = ",".join(map(str, ids))
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(",", 1)[0]
    return f"{cut},…(共{len(ids)}个)"


def _violations(fac: gpd.GeoDataFrame | None, zone: gpd.GeoDataFrame,
                cur_union: shapely.Geometry | None, counties: gpd.GeoDataFrame | None,
                townships: gpd.GeoDataFrame | None, params: Params
                ) -> tuple[gpd.GeoDataFrame, int]:
    """Coal-burning, not retired facilities inside the proposed or the current zone."""
    cols = ["id", "name", "kind", "fuel", "status", "in_proposed", "in_current", "zone_id",
            "county_code", "county_name", "township_code", "township_name", "lon", "lat", "row"]
    if fac is None or len(fac) == 0:
        return gpd.GeoDataFrame({c: pd.Series(dtype=object) for c in cols},
                                geometry=gpd.GeoSeries([], crs="EPSG:4326"),
                                crs="EPSG:4326"), 0
    f = fac.reset_index(drop=True).copy()
    for c in ("fuel", "kind", "status", "name"):
        if c not in f:
            f[c] = None
    f["fuel"], f["kind"], f["status"] = (vocab.fuel(f["fuel"]), vocab.kind(f["kind"]),
                                         vocab.status(f["status"]))
    lng, lat = f["lon"].to_numpy(dtype=float), f["lat"].to_numpy(dtype=float)
    coal = (f["fuel"].isin(params.coal_fuels) | f["kind"].isin(params.coal_kinds)).to_numpy()
    active = (f["status"] != "retired").to_numpy()
    zpos = _points_in(zone.geometry.to_numpy(), lng, lat)
    f["in_proposed"] = zpos >= 0
    f["zone_id"] = np.where(zpos >= 0, zone["zone_id"].to_numpy(dtype=object)[
        np.maximum(zpos, 0)] if len(zone) else None, None)
    f["in_current"] = (shapely.contains_xy(cur_union, lng, lat)
                       | shapely.intersects_xy(shapely.boundary(cur_union), lng, lat)
                       if cur_union is not None else np.zeros(len(f), dtype=bool))
    hit = coal & active & (f["in_proposed"].to_numpy() | f["in_current"].to_numpy())
    f = f[hit].reset_index(drop=True)
    f = admin.attach(f, f["lon"].to_numpy(), f["lat"].to_numpy(), counties, level="county")
    f = admin.attach(f, f["lon"].to_numpy(), f["lat"].to_numpy(), townships, level="township")
    out = gpd.GeoDataFrame(f[cols], geometry=gpd.points_from_xy(f["lon"], f["lat"]),
                           crs="EPSG:4326")
    return out, int((coal & active).sum())


def _unit_keys(frame: pd.DataFrame, level: str) -> pd.DataFrame:
    return pd.DataFrame({
        f"{level}_code": frame[f"{level}_code"].fillna("").to_numpy(dtype=object),
        f"{level}_name": frame[f"{level}_name"].fillna(f"({'县区' if level == 'county' else '乡镇'}"
                                                       "不明)").to_numpy(dtype=object)})


def _village_counts(v: pd.DataFrame, level: str) -> pd.DataFrame:
    keys = _unit_keys(v, level)
    conv = v["converted"].to_numpy(dtype=bool)
    hh = v["households"].fillna(0).to_numpy(dtype=float)
    gap = v["is_gap"].to_numpy(dtype=bool)
    inz = v["in_zone"].to_numpy(dtype=bool)
    frame = keys.assign(
        n_villages=1, n_converted=conv.astype(np.int64),
        households=hh, converted_households=v["converted_households"].fillna(0).to_numpy(),
        households_in_zone=np.where(inz, hh, 0.0), n_gaps=gap.astype(np.int64),
        gap_households=np.where(gap, hh, 0.0))
    out = frame.groupby(list(keys.columns), as_index=False).sum()
    for c in ("households", "converted_households", "households_in_zone", "gap_households"):
        out[c] = out[c].round().astype(np.int64)
    return out


def _by_county(zone, v, changes, violations, cur_union, counties) -> pd.DataFrame:
    out = _village_counts(v, "county")
    key = ["county_code", "county_name"]
    z = _unit_keys(zone, "county").assign(zone_km2=zone["area_km2"].to_numpy(dtype=float))
    z = z.groupby(key, as_index=False).sum()
    out = out.merge(z, on=key, how="outer")
    if len(changes):
        ch = _unit_keys(changes, "county").assign(
            added_km2=np.where(changes["change"] == "added", changes["area_km2"], 0.0),
            removed_km2=np.where(changes["change"] == "removed", changes["area_km2"], 0.0))
        out = out.merge(ch.groupby(key, as_index=False).sum(), on=key, how="outer")
    if cur_union is not None and counties is not None and len(counties):
        cur = shapely.intersection(counties.geometry.to_numpy(), cur_union)
        cc = pd.DataFrame({"county_code": counties["code"].to_numpy(dtype=object),
                           "county_name": counties["name"].to_numpy(dtype=object),
                           "current_km2": geodesic_area_km2(cur)})
        out = out.merge(cc[cc["current_km2"] > 0], on=key, how="outer")
    vk = _unit_keys(violations, "county").assign(
        n_violations=violations["in_proposed"].to_numpy(dtype=bool).astype(np.int64),
        n_violations_current=violations["in_current"].to_numpy(dtype=bool).astype(np.int64))
    out = out.merge(vk.groupby(key, as_index=False).sum(), on=key, how="outer")
    num = [c for c in out.columns if c not in key]
    out[num] = out[num].fillna(0)
    for c in num:
        out[c] = out[c].round(4) if c.endswith("km2") else out[c].astype(np.int64)
    return out.sort_values(key, kind="stable").reset_index(drop=True)


def _by_township(zone, v, violations, townships) -> pd.DataFrame:
    out = _village_counts(v, "township")
    key = ["township_code", "township_name"]
    if townships is not None and len(townships) and len(zone):
        inter = shapely.intersection(townships.geometry.to_numpy()[:, None],
                                     zone.geometry.to_numpy()[None, :])
        area = geodesic_area_km2(inter.ravel()).reshape(inter.shape).sum(axis=1)
        t = pd.DataFrame({"township_code": townships["code"].to_numpy(dtype=object),
                          "township_name": townships["name"].to_numpy(dtype=object),
                          "zone_km2": area})
        out = out.merge(t[t["zone_km2"] > 0], on=key, how="outer")
    else:
        out["zone_km2"] = np.nan  # no township boundaries: zone area cannot be split
    vk = _unit_keys(violations, "township").assign(
        n_violations=violations["in_proposed"].to_numpy(dtype=bool).astype(np.int64))
    out = out.merge(vk.groupby(key, as_index=False).sum(), on=key, how="outer")
    for c in out.columns:
        if c not in key and c != "zone_km2":
            out[c] = out[c].fillna(0).astype(np.int64)
    out["zone_km2"] = out["zone_km2"].astype(float).round(4)
    if townships is not None:
        out["zone_km2"] = out["zone_km2"].fillna(0.0)
    return out.sort_values(key, kind="stable").reset_index(drop=True)


def _summary(v, zone, changes, violations, n_fac, cur_union, params) -> list[str]:
    conv = v["converted"].to_numpy(dtype=bool)
    lines = [f"{int(conv.sum())} of {len(v)} villages converted (>= {params.threshold:.0%} of "
             "households, or flagged complete).",
             f"Proposed zone: {len(zone)} parts, {zone['area_km2'].sum():,.1f} km², "
             f"{int(zone['households'].sum()):,} households; parts under "
             f"{params.min_part_km2:g} km² removed.",
             f"{int(v['is_gap'].sum())} unconverted villages "
             f"({int(v.loc[v['is_gap'], 'households'].fillna(0).sum()):,} households) lie "
             "enclosed by the zone (gaps: priority targets)."]
    if cur_union is not None:
        a = changes.loc[changes["change"] == "added", "area_km2"].sum()
        r = changes.loc[changes["change"] == "removed", "area_km2"].sum()
        lines.append(f"Against the current zone: {a:,.1f} km² added, {r:,.1f} km² removed.")
    if n_fac:
        lines.append(f"{int(violations['in_proposed'].sum())} of {n_fac} active coal facilities "
                     f"lie inside the proposed zone, {int(violations['in_current'].sum())} "
                     "inside the current zone.")
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
    bounds = webmap.bounds_of(L["zone"], L["villages"], L["changes"],
                              result.context.get("counties"))
    m = webmap.new_map(bounds, title=result.title or NAME, basemap="light")
    mapparts.draw_admin(m, result.context)
    if "zone" in legs:
        mapparts.add_layer(m, legs["zone"], L["zone"],
                           tooltip={"zone_id": "图斑", "county_name": "县区",
                                    "area_km2": "面积 (km²)", "households": "户数",
                                    "n_gaps": "区内未改造村"})
    if "changes" in legs:
        mapparts.add_layer(m, legs["changes"], L["changes"],
                           tooltip={"change": "变化", "area_km2": "面积 (km²)",
                                    "county_name": "县区", "n_villages": "涉及村庄数"})
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
                                    "status": "状态", "in_proposed": "在建议区内",
                                    "in_current": "在现行区内"})
    mapparts.add_legend(m)
    webmap.finish(m)
    return m


def figure_spec(result: Result) -> list[figure.LayerStyle]:
    """Static figure: zone, changes, zone in force, gap villages, facilities (:func:`symbology`).

    The thousands of villages and the cells stay on the web map: on paper they would hide the
    zone; the figure shows the gap villages instead.
    """
    data = {"current_zone": result.context.get("current_zone")}
    return [legend.figure_style(leg, data.get(leg.layer)) for leg in symbology(result)
            if leg.layer in ("zone", "changes", "current_zone", "gaps", "violations")]
