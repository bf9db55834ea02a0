"""Non-road mobile machinery low-emission zone and the high-emission machines used inside it.

Policy: 聊办字〔2017〕49号 item 19 "划定并公布禁止使用高排放非道路移动机械的区域"
(聊城市城市建成区内禁止使用排放黑烟及可视污染物的非道路移动机械, 含挖掘机、装载机、平地机、
铺路机、压路机、叉车等);
济宁市 2024 二(三)3 and 金政字〔2024〕57号 二(三)11 "保持国一及以下排放标准非道路移动机械动态清零，
加强非道路移动机械排放控制区管控"; 聊环发〔2023〕7号 四(一) "鼓励将老旧非道路移动机械替换为
新能源或国 III 及以上排放标准的非道路移动机械". The zone is delineated from the rule the city
sets (the built-up area by default, or given polygons, optionally grown by a geodesic buffer),
split by county and published; registered machines and spot-check records are placed in it and
those below ``min_stage`` inside it are listed.

Inputs
------
built_up
    Urban built-up polygons: an OSM XML file (``lantian fetch osm``; landuse read offline
    through osmnx) or any polygon file — the same input as no-burn-zones.
zone
    Polygons the city set as the zone (``zone_source = "polygons"`` or ``"both"``).
machinery
    The machinery register (points of registered machines or their sites; CSV/XLSX as the
    registration system exports it, Chinese headers, GCJ-02 allowed): id, stage, kind, name,
    site, county, registered_on.
spot_checks
    Spot-check records (抽检) with coordinates: id, stage, kind, machine_id, site, result,
    checked_on.
counties, townships
    Polygons with code and name (the zone split by county; attribution).

Method
------
1. The zone is the union of the built-up polygons and/or the given polygons, grown by
   ``zone_buffer_m`` metres on the WGS-84 ellipsoid (:func:`spatial.geobuffer.geodesic_buffer`),
   split along county boundaries into one row per county; areas are geodesic, km².
2. A record is *in the zone* when its point lies inside the zone or on its boundary (a machine
   on the boundary line or at a corner is inside: the ban applies on the zone's edge).
3. Stages go through :mod:`analyses.vocab` (国〇/国一/国Ⅱ/国三/国Ⅳ/电动…); a blank or unknown
   stage goes to ``rejected`` with the reason, never guessed. A record is *high-emission* when
   its stage ranks below ``min_stage`` (default 国三: 国〇, 国一 and 国二 are high-emission;
   电动/新能源 never is), and *to clear* (动态清零) when at or below ``clear_max_stage`` (国一)
   wherever it is.
4. Records are counted on H3 cells (``h3_resolution``) by the cell containing each point.

Outputs
-------
Layers ``zone`` (zone_id, county_code, county_name, area_km2, n_machines, n_high),
``machines`` (every usable record: source register/spot_check, stage, high_emission, to_clear,
in_zone, zone_id, county/township), ``high_emission`` (high-emission records inside the zone),
``cells`` (h3_cell, n_machines, n_high, n_high_in_zone, n_registered, n_checked); tables
``ban_list`` (区内高排放机械清单), ``clear_list`` (动态清零清单), ``by_county``,
``rejected``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from spatial import admin, geobuffer, h3grid, io
from spatial.errors import InputError
from spatial.export import COMMON_FIELDS, FieldMeta
from spatial.io import Field
from spatial.report import KeyTable

from . import api, vocab
from . import no_burn_zones as nbz
from . import noburn_geometry as geo
from .base import InputSpec, Result, check_types
from .machinery_map import build_map, figure_spec, symbology  # noqa: F401 (the contract)

NAME = "machinery-zones"

STAGE_FIELD = Field("stage", "text", True, ("排放阶段", "排放标准", "排放标准阶段", "排放等级",
                                             "国标阶段"))
KIND_FIELD = Field("kind", "text", False, ("机械类型", "机械种类", "机械类别", "设备类型",
                                           "类型"))
SITE_FIELD = Field("site", "text", False, ("使用地点", "施工工地", "工地名称", "项目名称",
                                           "作业地点", "所在工地"))

INPUTS = (
    InputSpec("built_up", "custom", (Field("id", "text"), Field("name", "text")), False,
              "urban built-up polygons (OSM XML read through osmnx, or a polygon file)",
              reader=nbz.read_built_up),
    InputSpec("zone", "polygons", (Field("name", "text"),), False,
              "the zone polygons the city set (zone_source = polygons or both)"),
    InputSpec("machinery", "points", (
        Field("id", "text", True, ("环保登记编号", "登记编号", "环保编码", "机械环保代码",
                                   "环保信息标签编号")),
        STAGE_FIELD, KIND_FIELD, SITE_FIELD,
        Field("name", "text", False, ("使用单位", "所属单位", "机械所有人", "所有人")),
        Field("county", "text"),
        Field("registered_on", "datetime", False, ("登记日期", "登记时间", "编码登记日期")),
    ), False, "the non-road machinery register: registered machines or their sites"),
    InputSpec("spot_checks", "points", (
        Field("id", "text", True, ("抽检编号", "检查编号", "记录编号")),
        STAGE_FIELD, KIND_FIELD, SITE_FIELD,
        Field("machine_id", "text", False, ("环保登记编号", "登记编号", "环保编码",
                                            "机械环保代码")),
        Field("name", "text", False, ("使用单位", "所属单位", "被检单位")),
        Field("result", "text", False, ("检测结果", "抽检结果", "是否达标", "结论")),
        Field("checked_on", "datetime", False, ("抽检日期", "检查日期", "检测日期")),
    ), False, "spot-check records (抽检) of non-road machinery with coordinates",
        unique_ids=True),
    InputSpec("counties", "polygons", (Field("code", "text", True), Field("name", "text", True)),
              False, "county boundaries with code and name"),
    InputSpec("townships", "polygons", (Field("code", "text", True),
                                        Field("name", "text", True)),
              False, "township boundaries with code and name"),
)

#: inputs given as frames in Python that are read like their files (analyses.api)
FRAME_INPUTS = {"built_up": nbz.FRAME_INPUTS["built_up"]}
#: output layer -> the input its rows come from (they get its own columns: spatial.sources)
SOURCES: dict[str, str] = {}
#: categorical columns checked against the vocabularies by `lantian check`
VOCAB_FIELDS = {"machinery": ("stage",), "spot_checks": ("stage",)}

ZONE_SOURCES = ("built_up", "polygons", "both")


def _stage_code(value: str, param: str) -> str:
    code = vocab.stage([value]).iloc[0]
    if code == vocab.UNKNOWN:
        raise InputError(f"params.{param} = {value!r} is not an emission stage; use 国一, 国二, "
                         "国三, 国四 (or stage1…stage4, 国〇, 电动), or add the word under "
                         "[vocab.stage] in the config.")
    return str(code)


@dataclass(frozen=True)
class Params:
    """Parameters of machinery-zones.

    Attributes
    ----------
    zone_source
        ``"built_up"``: the zone is the built-up area (聊办字〔2017〕49号 item 19: 城市建成区);
        ``"polygons"``: the ``zone`` input; ``"both"``: their union.
    zone_buffer_m
        The zone grown by this many metres (geodesic, WGS-84); 0 keeps it as drawn.
    min_stage
        Machines of a lower national emission stage are high-emission (国三: 国〇/国一/国二
        are; stored as its code, ``stage3``).
    clear_max_stage
        Machines at or below this stage are to be cleared (动态清零) anywhere (国一).
    h3_resolution
        H3 resolution of the ``cells`` layer (8: ~0.74 km² cells).
    """

    zone_source: str = "built_up"
    zone_buffer_m: float = 0.0
    min_stage: str = "国三"
    clear_max_stage: str = "国一"
    h3_resolution: int = 8

    def __post_init__(self) -> None:
        check_types(self)
        if self.zone_source not in ZONE_SOURCES:
            raise InputError(f"params.zone_source must be one of {', '.join(ZONE_SOURCES)}, "
                             f"not {self.zone_source!r}.")
        if not (math.isfinite(self.zone_buffer_m) and 0 <= self.zone_buffer_m <= 20000):
            raise InputError(f"params.zone_buffer_m must be in [0, 20000] m, not "
                             f"{self.zone_buffer_m}.")
        if not 5 <= self.h3_resolution <= 12:
            raise InputError(f"params.h3_resolution must be 5..12, not {self.h3_resolution}.")
        object.__setattr__(self, "min_stage", _stage_code(self.min_stage, "min_stage"))
        object.__setattr__(self, "clear_max_stage",
                           _stage_code(self.clear_max_stage, "clear_max_stage"))


FIELDS = {
    "zone_id": FieldMeta("zone_id", "控制区图斑编号"),
    "area_km2": FieldMeta("area_km2", "面积", "km²"),
    "county_code": FieldMeta("cnty_code", "县区代码"),
    "county_name": FieldMeta("cnty_name", "县区名称"),
    "township_code": FieldMeta("town_code", "乡镇代码"),
    "township_name": FieldMeta("town_name", "乡镇名称"),
    "n_machines": FieldMeta("n_mach", "机械记录数", "台"),
    "n_high": FieldMeta("n_high", "高排放机械记录数", "台"),
    "n_high_in_zone": FieldMeta("n_high_in", "区内高排放机械记录数", "台"),
    "n_in_zone": FieldMeta("n_in_zone", "区内机械记录数", "台"),
    "n_to_clear": FieldMeta("n_clear", "动态清零对象记录数", "台"),
    "n_registered": FieldMeta("n_reg", "登记机械数", "台"),
    "n_checked": FieldMeta("n_chk", "抽检记录数", "条"),
    "zone_km2": FieldMeta("zone_km2", "控制区面积", "km²"),
    "source": FieldMeta("source", "记录来源"),
    "id": FieldMeta("id", "编号"),
    "machine_id": FieldMeta("mach_id", "环保登记编号"),
    "name": FieldMeta("name", "使用单位"),
    "kind": FieldMeta("kind", "机械类型"),
    "stage": FieldMeta("stage", "排放阶段"),
    "stage_raw": FieldMeta("stage_raw", "排放阶段（原表）"),
    "site": FieldMeta("site", "使用地点"),
    "county": FieldMeta("county", "县区（原表）"),
    "result": FieldMeta("result", "抽检结果"),
    "date": FieldMeta("date", "登记/抽检日期"),
    "high_emission": FieldMeta("high", "是否高排放"),
    "to_clear": FieldMeta("to_clear", "是否动态清零对象"),
    "in_zone": FieldMeta("in_zone", "是否在控制区内"),
    "h3_cell": COMMON_FIELDS["h3_cell"],
    "lon": COMMON_FIELDS["lon"],
    "lat": COMMON_FIELDS["lat"],
    "row": COMMON_FIELDS["row"],
}

MACHINE_COLUMNS = ["source", "id", "machine_id", "name", "kind", "stage", "stage_raw", "site",
                   "county", "result", "date", "high_emission", "to_clear", "in_zone", "zone_id",
                   "county_code", "county_name", "township_code", "township_name", "lon", "lat",
                   "row", "file"]
LIST_COLUMNS = ["county_code", "county_name", "township_name", "source", "id", "machine_id",
                "kind", "stage", "stage_raw", "name", "site", "date", "in_zone", "zone_id", "lon",
                "lat", "row"]


# ---------------------------------------------------------------------------------------- zone
def zone_geometry(built_up: gpd.GeoDataFrame | None, polygons: gpd.GeoDataFrame | None,
                  params: Params) -> shapely.Geometry:
    """The zone as one (Multi)Polygon in lng/lat degrees (union, then the geodesic buffer)."""
    need = {"built_up": ("built_up",), "polygons": ("zone",),
            "both": ("built_up", "zone")}[params.zone_source]
    given = {"built_up": built_up, "zone": polygons}
    for name in need:
        g = given[name]
        if g is None or not len(g):
            how = ('path = "…" (an OSM XML file from `lantian fetch osm`, or a polygon file)'
                   if name == "built_up" else 'path = "…" (the zone polygons)')
            raise InputError(f'params.zone_source = "{params.zone_source}" needs the {name} '
                             f"input: add [inputs.{name}] with {how}, or set zone_source to "
                             f"one of {', '.join(ZONE_SOURCES)} that fits your inputs.")
    geoms = np.concatenate([given[n].geometry.to_numpy() for n in need])
    union = shapely.make_valid(shapely.union_all(geoms))
    union = shapely.union_all(geo.polygon_parts(union))  # drop lines/points of the overlay
    return geobuffer.geodesic_buffer(union, params.zone_buffer_m)


def zone_frame(union: shapely.Geometry, counties: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame:
    """The zone split by county: one (Multi)Polygon row per county (land outside: one row)."""
    parts, pos = geo.by_county(union, counties)
    rows = []
    for k in np.unique(pos):
        g = shapely.union_all(parts[pos == k])
        code = counties["code"].iloc[k] if k >= 0 else None
        name = counties["name"].iloc[k] if k >= 0 else None
        rows.append((code, name, g))
    z = gpd.GeoDataFrame({"county_code": pd.Series([r[0] for r in rows], dtype=object),
                          "county_name": pd.Series([r[1] for r in rows], dtype=object)},
                         geometry=[r[2] for r in rows], crs="EPSG:4326")
    z["area_km2"] = np.round(geo.geodesic_area_km2(z.geometry.to_numpy()), 6)
    z = z.sort_values("county_code", na_position="last", kind="stable").reset_index(drop=True)
    z.insert(0, "zone_id", [f"MZ{i:02d}" for i in range(1, len(z) + 1)])
    return z


# ------------------------------------------------------------------------------------ machines
def _records(inputs: dict[str, Any]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Register rows and spot-check rows as one frame (source column), stages coded.

    A stage the vocabulary does not know is a rejected row naming the word and the fix.
    """
    parts = []
    for name, source in (("machinery", "register"), ("spot_checks", "spot_check")):
        f = inputs.get(name)
        if f is None:
            continue
        f = pd.DataFrame(f.drop(columns="geometry", errors="ignore")).reset_index(drop=True)
        date = "registered_on" if source == "register" else "checked_on"
        out = pd.DataFrame({c: f[c] if c in f else None for c in
                            ("id", "machine_id", "name", "kind", "stage", "site", "county",
                             "result", "lon", "lat", "row", "file")})
        out["date"] = (pd.to_datetime(f[date]).dt.strftime("%Y-%m-%d").astype(object)
                       if date in f and f[date].notna().any() else None)
        if source == "register":
            out["machine_id"] = out["id"]
        out.insert(0, "source", source)
        out["input"] = name
        parts.append(out)
    if not parts:
        return pd.DataFrame(columns=[*MACHINE_COLUMNS, "input"]), io.empty_rejected()
    m = pd.concat(parts, ignore_index=True)
    m["stage_raw"] = m["stage"].map(lambda v: None if pd.isna(v) or not str(v).strip()
                                    else str(v).strip()).astype(object)
    m["stage"] = vocab.stage(m["stage"]).to_numpy(dtype=object)
    bad = (m["stage"] == vocab.UNKNOWN).to_numpy()
    reason = ("emission stage '" + m["stage_raw"].fillna("").astype(str) + "' unknown: use "
              "国〇/国一/国二/国三/国四/电动, or add the word under [vocab.stage] in the config "
              f"(codes: {', '.join(vocab.STAGE)})")
    rej = pd.DataFrame({"input": m["input"][bad].to_numpy(dtype=object),
                        "file": m["file"][bad].fillna("").to_numpy(dtype=object),
                        "row": m["row"][bad].to_numpy(), "id": m["id"][bad].to_numpy(dtype=object),
                        "reason": reason[bad].to_numpy(dtype=object)})
    return m[~bad].reset_index(drop=True), rej if len(rej) else io.empty_rejected()


def classify(stage: pd.Series | np.ndarray, params: Params) -> tuple[np.ndarray, np.ndarray]:
    """(high_emission, to_clear) of coded stages: rank below min_stage, at or below clear."""
    rank = pd.Series(np.asarray(stage, dtype=object)).map(vocab.STAGE_ORDER).to_numpy(float)
    high = rank < vocab.STAGE_ORDER[params.min_stage]
    clear = rank <= vocab.STAGE_ORDER[params.clear_max_stage]
    return high, clear


def in_zone(union: shapely.Geometry, lng: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """True where the point (lng, lat degrees) is inside the zone or on its boundary."""
    if union is None or union.is_empty or len(lng) == 0:
        return np.zeros(len(lng), dtype=bool)
    shapely.prepare(union)
    return shapely.intersects_xy(union, np.asarray(lng, float), np.asarray(lat, float))


# ----------------------------------------------------------------------------------------- run
#: read this analysis's input files as `lantian run` does (analyses.api.read_inputs)
read_inputs = api.module_reader(__name__)


@api.entry
def run(inputs: dict[str, gpd.GeoDataFrame], params: Params) -> Result:
    """Delineate the zone, place the machinery records in it and list the high-emission ones.

    Parameters
    ----------
    inputs
        ``built_up`` and/or ``zone`` (as ``zone_source`` needs), optional ``machinery``,
        ``spot_checks``, ``counties``, ``townships``: GeoDataFrames in EPSG:4326 (lon/lat
        columns for points) as read by ``spatial.io``. Stages are read through
        :mod:`analyses.vocab`.
    params
        See :class:`Params`.
    """
    counties, townships = inputs.get("counties"), inputs.get("townships")
    union = zone_geometry(inputs.get("built_up"), inputs.get("zone"), params)
    zone = zone_frame(union, counties)
    m, rejected = _records(inputs)
    lng, lat = m["lon"].to_numpy(dtype=float), m["lat"].to_numpy(dtype=float)
    m["high_emission"], m["to_clear"] = classify(m["stage"], params)
    m["in_zone"] = in_zone(union, lng, lat)
    zpos = admin.locate(lng, lat, zone) if len(zone) else np.full(len(m), -1)
    zpos = np.where(m["in_zone"].to_numpy(), zpos, -1)
    m["zone_id"] = np.where(zpos >= 0, zone["zone_id"].to_numpy(dtype=object)[
        np.maximum(zpos, 0)] if len(zone) else None, None)
    m = admin.attach(m, lng, lat, counties, level="county", fallback="county")
    m = admin.attach(m, lng, lat, townships, level="township")
    high_in = (m["high_emission"] & m["in_zone"]).to_numpy(dtype=bool)
    n = len(zone)
    has = zpos >= 0
    zone["n_machines"] = np.bincount(zpos[has], minlength=n)
    zone["n_high"] = np.bincount(zpos[has & high_in], minlength=n)
    zone = gpd.GeoDataFrame(zone.drop(columns="geometry"), geometry=zone.geometry.to_numpy(),
                            crs="EPSG:4326")
    machines = gpd.GeoDataFrame(m.reindex(columns=MACHINE_COLUMNS),
                                geometry=gpd.points_from_xy(lng, lat), crs="EPSG:4326")
    if machines["file"].isna().all():
        machines = machines.drop(columns="file")
    high_layer = machines[high_in].reset_index(drop=True)
    order = ["county_code", "township_name", "source", "id"]
    ban = _listing(machines[high_in], order)
    clear = _listing(machines[m["to_clear"].to_numpy(dtype=bool)], order)
    cells = _cells(m, high_in, params.h3_resolution)
    by_county = _by_county(zone, m, high_in)
    summary = _summary(zone, m, high_in, rejected, inputs, params)
    context = _context(zone, m, counties, townships)
    return Result(
        analysis=NAME, params=params,
        layers={"zone": zone, "machines": machines, "high_emission": high_layer,
                "cells": cells},
        tables={"ban_list": ban, "clear_list": clear, "by_county": by_county,
                "rejected": rejected},
        summary=summary, fields=FIELDS,
        title=("非道路移动机械低排放控制区及区内高排放机械（低于"
               f"{vocab.label('stage', params.min_stage)}）"),
        context=context)


def _context(zone: gpd.GeoDataFrame, m: pd.DataFrame, counties: gpd.GeoDataFrame | None,
             townships: gpd.GeoDataFrame | None) -> dict[str, gpd.GeoDataFrame]:
    """The outlines drawn (and packed): counties with part of the zone or a record, and theirs.

    Their townships too, so the map and the figure show the city's zone, not the province.
    """
    out: dict[str, gpd.GeoDataFrame] = {}
    if counties is None:
        return out if townships is None else {"townships": townships}
    codes = set(zone["county_code"].dropna()) | set(m["county_code"].dropna())
    keep = counties["code"].isin(codes).to_numpy()
    out["counties"] = counties[keep] if keep.any() else counties
    if townships is not None:
        pt = townships.geometry.representative_point()
        pos = admin.locate(pt.x.to_numpy(), pt.y.to_numpy(), out["counties"])
        out["townships"] = townships[pos >= 0]
    return out


def _listing(frame: pd.DataFrame, order: list[str]) -> pd.DataFrame:
    out = pd.DataFrame(frame.drop(columns="geometry")).reindex(columns=LIST_COLUMNS)
    return out.sort_values(order, na_position="last", kind="stable").reset_index(drop=True)


def _cells(m: pd.DataFrame, high_in: np.ndarray, res: int) -> gpd.GeoDataFrame:
    """Records counted on the H3 cell containing each point (cells with a record only)."""
    if not len(m):
        return h3grid.cells_to_gdf(np.zeros(0, np.uint64), {
            c: np.zeros(0, np.int64) for c in ("n_machines", "n_high", "n_high_in_zone",
                                                "n_registered", "n_checked")})
    c = h3grid.points_to_cells(m["lat"].to_numpy(float), m["lon"].to_numpy(float),
                               resolution=res)
    cells, pos = np.unique(c, return_inverse=True)
    k = len(cells)
    high = m["high_emission"].to_numpy(dtype=bool)
    reg = (m["source"] == "register").to_numpy()
    return h3grid.cells_to_gdf(cells, {
        "n_machines": np.bincount(pos, minlength=k),
        "n_high": np.bincount(pos[high], minlength=k),
        "n_high_in_zone": np.bincount(pos[high_in], minlength=k),
        "n_registered": np.bincount(pos[reg], minlength=k),
        "n_checked": np.bincount(pos[~reg], minlength=k)})


def _by_county(zone: gpd.GeoDataFrame, m: pd.DataFrame, high_in: np.ndarray) -> pd.DataFrame:
    key = ["county_code", "county_name"]
    z = pd.DataFrame({"county_code": zone["county_code"].fillna("").to_numpy(dtype=object),
                      "county_name": zone["county_name"].fillna("(县区不明)").to_numpy(
                          dtype=object),
                      "zone_km2": zone["area_km2"].to_numpy(dtype=float)})
    inz = m["in_zone"].to_numpy(dtype=bool)
    f = pd.DataFrame({
        "county_code": m["county_code"].fillna("").to_numpy(dtype=object),
        "county_name": m["county_name"].fillna("(县区不明)").to_numpy(dtype=object),
        "n_machines": 1, "n_in_zone": inz.astype(np.int64),
        "n_high": m["high_emission"].to_numpy(dtype=bool).astype(np.int64),
        "n_high_in_zone": high_in.astype(np.int64),
        "n_to_clear": m["to_clear"].to_numpy(dtype=bool).astype(np.int64),
        "n_registered": (m["source"] == "register").to_numpy().astype(np.int64),
        "n_checked": (m["source"] == "spot_check").to_numpy().astype(np.int64)})
    out = z.groupby(key, as_index=False).sum().merge(
        f.groupby(key, as_index=False).sum(), on=key, how="outer")
    num = [c for c in out.columns if c not in key]
    out[num] = out[num].fillna(0)
    for c in num:
        out[c] = out[c].round(4) if c == "zone_km2" else out[c].astype(np.int64)
    out["county_code"] = out["county_code"].replace("", None)
    return out.sort_values(key, na_position="last", kind="stable").reset_index(drop=True)


def rules(params: Params) -> list[str]:
    """The rules applied, each with its source (the summary, the manifest, the 说明 sheet)."""
    src = {"built_up": "the built-up area", "polygons": "the given zone polygons",
           "both": "the built-up area and the given zone polygons"}[params.zone_source]
    lo = vocab.label("stage", params.min_stage)
    return [
        f"zone = {src}, grown by {params.zone_buffer_m:g} m (geodesic, WGS-84) (聊办字〔2017〕"
        "49号 item 19: 划定并公布禁止使用高排放非道路移动机械的区域, 城市建成区内禁止使用…非道路"
        "移动机械; 济宁市 2024 二(三)3, 金政字〔2024〕57号 二(三)11: 加强非道路移动机械排放"
        "控制区管控)",
        "a machine on the zone's boundary or at its corner is inside",
        f"high-emission: national stage below {lo} (聊环发〔2023〕7号 四(一): 替换为新能源或国 III "
        "及以上排放标准的非道路移动机械); 电动/新能源 never",
        f"to clear anywhere: {vocab.label('stage', params.clear_max_stage)} and below (济宁市 "
        "2024 二(三)3, 金政字〔2024〕57号 二(三)11: 保持国一及以下排放标准非道路移动机械动态清零)",
        "a blank or unknown stage is rejected, never guessed",
    ]


def _summary(zone: gpd.GeoDataFrame, m: pd.DataFrame, high_in: np.ndarray,
             rejected: pd.DataFrame, inputs: dict[str, Any], params: Params) -> list[str]:
    lo = vocab.label("stage", params.min_stage)
    lines = [f"Zone: {zone['area_km2'].sum():,.2f} km² (geodesic) from {params.zone_source}, "
             f"grown by {params.zone_buffer_m:g} m, split into {len(zone)} county part(s)."]
    for r in zone.itertuples():
        lines.append(f"  {r.county_name or '(县区外)'}: {r.area_km2:,.2f} km², {r.n_machines} "
                     f"records inside, {r.n_high} high-emission.")
    if params.zone_source == "built_up" and inputs.get("zone") is not None:
        lines.append("The zone input is not used: zone_source = built_up (set \"polygons\" or "
                     "\"both\" to use it).")
    if params.zone_source == "polygons" and inputs.get("built_up") is not None:
        lines.append("The built_up input is not used: zone_source = polygons (set \"built_up\" "
                     "or \"both\" to use it).")
    reg = (m["source"] == "register").to_numpy()
    inz = m["in_zone"].to_numpy(dtype=bool)
    high = m["high_emission"].to_numpy(dtype=bool)
    for what, sel in (("registered machines", reg), ("spot-check records", ~reg)):
        if sel.any():
            lines.append(f"{int(sel.sum())} {what}: {int((sel & inz).sum())} inside the zone, "
                         f"{int((sel & high).sum())} below {lo}, {int((sel & high_in).sum())} "
                         "of them inside the zone (ban_list).")
    if not len(m):
        lines.append("No machinery register or spot-check records given: the zone only.")
    n_clear = int(m["to_clear"].sum()) if len(m) else 0
    lines.append(f"{n_clear} records at {vocab.label('stage', params.clear_max_stage)} or below "
                 "(动态清零) wherever they are: see clear_list.")
    if len(rejected):
        lines.append(f"{len(rejected)} records with an unknown emission stage are rejected "
                     "(see the rejected table); they are not counted.")
    lines.append("Rules: " + "; ".join(rules(params)) + ".")
    return lines


REPORT_TABLES = (
    KeyTable("by_county", "按县区统计",
             ("county_name", "zone_km2", "n_machines", "n_in_zone", "n_high_in_zone",
              "n_to_clear"), max_rows=30),
    KeyTable("ban_list", "控制区内高排放非道路移动机械清单",
             ("county_name", "township_name", "id", "kind", "stage", "name", "site"),
             max_rows=30),
)
