"""heat-radius, heat-network coverage: coal boilers and loose-coal villages near operating pipes.

Policy (聊环发〔2023〕7号《聊城市减污降碳协同增效实施方案》三(三) 推进城乡建设协同增效):
"积极开展热力管网建设…淘汰管网覆盖范围内的燃煤锅炉和散煤" — coal boilers and loose coal
(散煤) within the coverage of the heat-supply pipe network are to be eliminated.

No seed text says how far a pipe "covers". *Coverage* here is the area within
``network_buffer_m`` (default 1,000 m, the practice the issue asks for, not a number of the
seeds) of an operating pipe, measured geodesically on the WGS-84 ellipsoid
(:func:`spatial.lines.distance_to_lines`); a site at exactly that distance is inside.

Inputs (optional, both)
-----------------------
heat_network
    Pipe lines (any CRS; a CGCS2000 Gauss-Krüger ``.prj`` is read as such): id, name,
    diameter_mm (管径, DN), status. Statuses go through :mod:`analyses.vocab` (blank =
    operating); an unknown word rejects the pipe (``rejected``), it is never guessed. Only
    operating pipes cover; pipes under construction or planned are drawn, not counted.
villages
    The village clean-heating list as no-burn-zones reads it (same reader, fields and
    converted rule, ``village_threshold``); unconverted villages (and those converted to
    洁净型煤) inside coverage are the loose-coal villages to connect (``network_villages``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from spatial import admin, frames, geodesy, io, lines
from spatial.errors import InputError
from spatial.export import COMMON_FIELDS, FieldMeta
from spatial.io import Field

from . import heat_lists as hl
from . import no_burn_zones as nbz
from . import vocab

PIPE_FIELDS = (
    Field("id", "text", False, ("管线编号", "管段编号", "编号")),
    Field("name", "text", False, ("管线名称", "管段名称", "名称")),
    Field("diameter_mm", "float", False, ("管径", "管径(mm)", "公称直径", "dn")),
    Field("status", "text", False, ("状态", "运行状态")),
)


def read_heat_network(cfg: dict[str, Any], spec: Any) -> io.Table:
    """Reader of the ``heat_network`` input: pipe lines in any CRS (:func:`lines.read_lines`)."""
    return lines.read_lines(cfg["path"], fields=spec.fields, name=spec.name, crs=cfg["crs"],
                            columns=cfg["columns"])


def heat_network_from_frame(frame: gpd.GeoDataFrame, spec: Any) -> io.Table:
    """The ``heat_network`` input given in Python as a GeoDataFrame of lines (with its CRS)."""
    if not isinstance(frame, gpd.GeoDataFrame) or frame.crs is None:
        raise InputError("input 'heat_network': give a GeoDataFrame of pipe lines with its CRS "
                         "(frame.set_crs(...)), or the path of a line file.")
    return lines.lines_from_raw(frame, None, path=frames.label(spec.name), fields=spec.fields,
                                name=spec.name)


#: statuses of pipes that cover (supply heat now)
COVERING = ("operating",)

FIELDS = {
    "in_network": FieldMeta("in_netw", "是否在管网覆盖范围内"),
    "network_distance_m": FieldMeta("netw_dist", "距最近运行管网距离", "m"),
    "nearest_pipe_id": FieldMeta("pipe_id", "最近管网编号"),
    "target_rule": FieldMeta("tgt_rule", "对象依据"),
    "diameter_mm": FieldMeta("dn_mm", "管径", "mm"),
    "length_km": FieldMeta("len_km", "长度", "km"),
    "covers": FieldMeta("covers", "是否计入覆盖范围"),
    "buffer_m": FieldMeta("buffer_m", "覆盖距离", "m"),
    "area_km2": FieldMeta("area_km2", "面积", "km²"),
    "n_pipes": FieldMeta("n_pipes", "运行管段数", "条"),
    "township": COMMON_FIELDS["township"],
    "county": COMMON_FIELDS["county"],
    "households": COMMON_FIELDS["households"],
    "converted_households": COMMON_FIELDS["converted_households"],
    "converted_ratio": FieldMeta("conv_ratio", "改造比例"),
    "method": FieldMeta("method", "改造方式"),
}



@dataclass
class Network:
    """The heat-network screen: pipes and coverage layers, per-boiler arrays, villages, notes."""

    pipes: gpd.GeoDataFrame
    coverage: gpd.GeoDataFrame
    in_network: np.ndarray
    distance_m: np.ndarray
    nearest_pipe: np.ndarray
    villages: gpd.GeoDataFrame | None
    rejected: pd.DataFrame
    summary: list[str] = field(default_factory=list)


def _empty_pipes() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"id": pd.Series(dtype=object), "name": pd.Series(dtype=object),
                             "diameter_mm": pd.Series(dtype=float),
                             "status": pd.Series(dtype=object),
                             "status_raw": pd.Series(dtype=object),
                             "covers": pd.Series(dtype=bool), "length_km": pd.Series(dtype=float),
                             "row": pd.Series(dtype=np.int64)},
                            geometry=gpd.GeoSeries([], crs="EPSG:4326"), crs="EPSG:4326")


def screen(pipes: gpd.GeoDataFrame | None, boilers: pd.DataFrame,
           villages: gpd.GeoDataFrame | None, counties: gpd.GeoDataFrame | None,
           params: Any) -> Network:
    """Measure boilers (lon/lat, WGS-84) and villages against the operating pipes.

    `params` has ``network_buffer_m`` (m) and ``village_threshold`` (0-1]. Boilers and
    villages at most ``network_buffer_m`` (geodesic) from an operating pipe are inside.
    Without pipes nothing is inside and the layers are empty.
    """
    n = len(boilers)
    if pipes is None:
        return Network(_empty_pipes(), _coverage(_empty_pipes(), params), np.zeros(n, bool),
                       np.full(n, np.nan), np.full(n, None, dtype=object), None,
                       io.empty_rejected())
    p = pipes.reset_index(drop=True).copy()
    if "id" not in p:
        p["id"] = None
    p["id"] = p["id"].where(p["id"].notna(), "row " + p["row"].astype(str))
    raw = p["status"] if "status" in p else pd.Series([None] * len(p), dtype=object)
    p["status_raw"] = raw.map(lambda v: None if pd.isna(v) or not str(v).strip()
                              else str(v).strip()).astype(object)
    p["status"] = vocab.status(raw).to_numpy(dtype=object)
    p, rejected = hl.reject_unknown(p, "heat_network", ("status",))
    p["covers"] = p["status"].isin(COVERING).to_numpy()
    p["length_km"] = np.round(lines.length_km(p.geometry.to_numpy()), 3)
    pipes_layer = gpd.GeoDataFrame(
        p.reindex(columns=["id", "name", "diameter_mm", "status", "status_raw", "covers",
                           "length_km", "row"]), geometry=p.geometry.to_numpy(), crs="EPSG:4326")
    cover = p[p["covers"].to_numpy()]
    cover_geoms = cover.geometry.to_numpy()
    pts = gpd.points_from_xy(boilers["lon"], boilers["lat"]).to_numpy() if n else np.zeros(0)
    dist, near = lines.distance_to_lines(pts, cover_geoms)
    inside = np.nan_to_num(dist, nan=np.inf) <= params.network_buffer_m
    near_id = np.full(n, None, dtype=object)
    near_id[near >= 0] = cover["id"].to_numpy(dtype=object)[near[near >= 0]]
    notes = [f"heat network: {len(p)} pipes read, {len(cover)} operating "
             f"({float(cover['length_km'].sum()):,.1f} km) cover {params.network_buffer_m:g} m "
             "each side (geodesic)."]
    if len(p) > len(cover):
        notes.append(f"{len(p) - len(cover)} pipes not operating (under construction, planned, "
                     "idle or retired) are drawn but do not cover.")
    vill = None
    if villages is not None:
        vill, rej_v = _villages(villages, cover_geoms, counties, params)
        rejected = pd.concat([rejected, rej_v], ignore_index=True)
    return Network(pipes_layer, _coverage(cover, params), inside, np.round(dist, 2), near_id,
                   vill, rejected, notes)


def _coverage(cover: gpd.GeoDataFrame, params: Any) -> gpd.GeoDataFrame:
    """One polygon: the area within network_buffer_m of the operating pipes (for drawing)."""
    if not len(cover):
        return gpd.GeoDataFrame({"buffer_m": pd.Series(dtype=float),
                                 "n_pipes": pd.Series(dtype=np.int64),
                                 "length_km": pd.Series(dtype=float),
                                 "area_km2": pd.Series(dtype=float)},
                                geometry=gpd.GeoSeries([], crs="EPSG:4326"), crs="EPSG:4326")
    area = lines.buffer_lines(cover.geometry.to_numpy(), params.network_buffer_m)
    return gpd.GeoDataFrame({"buffer_m": [float(params.network_buffer_m)],
                             "n_pipes": [len(cover)],
                             "length_km": [round(float(cover["length_km"].sum()), 3)],
                             "area_km2": np.round(geodesy.area_km2([area]), 3)},
                            geometry=[area], crs="EPSG:4326")


def _villages(villages: gpd.GeoDataFrame, cover_geoms: np.ndarray,
              counties: gpd.GeoDataFrame | None, params: Any
              ) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Unconverted villages within coverage, read and judged as no-burn-zones judges them."""
    # the converted rule of no-burn-zones (threshold, completed flag, 洁净型煤 not clean)
    v, rejected = nbz.judge_villages(villages, threshold=params.village_threshold)
    dist, _ = lines.distance_to_lines(v.geometry.to_numpy(), cover_geoms)
    inside = np.nan_to_num(dist, nan=np.inf) <= params.network_buffer_m
    sel = v[inside & ~v["converted"].to_numpy(dtype=bool)].copy()
    sel["network_distance_m"] = np.round(dist[inside & ~v["converted"].to_numpy(dtype=bool)], 2)
    sel = admin.attach(sel, sel["lon"].to_numpy(dtype=float), sel["lat"].to_numpy(dtype=float),
                       counties, level="county", fallback="county")
    sel["converted_ratio"] = sel["ratio"]
    sel["method"] = sel["method_code"]  # the code; tables and maps show its Chinese label
    cols = ["id", "name", "township", "county", "households", "converted_households",
            "converted_ratio",
            "method", "network_distance_m", "lon", "lat", "county_code", "county_name", "row"]
    out = gpd.GeoDataFrame(sel.reindex(columns=cols), geometry=sel.geometry.to_numpy(),
                           crs="EPSG:4326")
    return out.sort_values(["county_code", "network_distance_m", "id"],
                           kind="stable").reset_index(drop=True), rejected


def name_files(rejected: pd.DataFrame, tables: Any) -> pd.DataFrame:
    """Rejected rows of heat_network and villages found here get their input's file."""
    rej = rejected.copy()
    for name in ("heat_network", "villages"):
        t = (tables or {}).get(name)
        blank = (rej["input"] == name).to_numpy() & (rej["file"].fillna("") == "").to_numpy()
        if t is not None and blank.any() and not frames.is_frame_table(t):
            rej.loc[blank, "file"] = str(t.path)
    return rej


def target_rule(in_radius_target: np.ndarray, in_network_target: np.ndarray) -> np.ndarray:
    """Which rule makes each target one: radius, network, radius+network (None if neither)."""
    out = np.full(len(in_radius_target), None, dtype=object)
    out[in_radius_target] = "radius"
    out[in_network_target] = "network"
    out[in_radius_target & in_network_target] = "radius+network"
    return out


def villages_table(vill: gpd.GeoDataFrame | None) -> pd.DataFrame:
    """管网覆盖范围内未改造村庄（散煤待接入）: the villages layer without geometry."""
    cols = ["county_code", "county_name", "township", "id", "name", "households",
            "converted_households", "converted_ratio", "method", "network_distance_m", "lon", "lat",
            "row"]
    if vill is None:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
    return pd.DataFrame(vill[cols]).reset_index(drop=True)


def rules(params: Any) -> list[str]:
    """The network rule with its source, for the summary and the 说明 sheet."""
    return [f"network: coal boilers (kind boiler or blank) operating or idle, and villages not "
            f"converted, within {params.network_buffer_m:g} m geodesic of an operating pipe "
            "(聊环发〔2023〕7号 三(三): 淘汰管网覆盖范围内的燃煤锅炉和散煤; the distance is the "
            "issue's practice, no seed gives one); network targets are shut down (淘汰)"]


def _register_display_labels() -> None:
    """The Chinese words of ``target_rule`` in tables, tooltips and Shapefiles."""
    from spatial import labels as display

    display.LABELS["target_rule"] = dict(hl.RULE_LABELS)


_register_display_labels()
