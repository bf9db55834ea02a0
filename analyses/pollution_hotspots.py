r"""Air-pollution high-value areas on H3 cells: Gi* hot spots, exceedance, trends, monthly lists.

Policy: "严格落实环境空气污染高值区管理" — cities split their area into ~3 km grids, estimate each
grid's PM2.5 every month and publish three lists (the highest grids, the worst year-on-year and
the worst month-on-month change); the hot grids are then inspected. This analysis does it on H3
cells (resolution 7 by default, ~5.2 km², close to the national 3 km grid).

Inputs (stations + readings, or rasters, or both)
-------------------------------------------------
stations
    id, name, lon, lat, type (national | provincial | micro; 国控 / 省控 / 微站 accepted).
readings
    station id, time, pollutant columns (pm25, pm10, no2, so2, co, o3), hourly or daily; wide
    or long; the national network's export (``timepoint, stationcode, longitude, latitude,
    pm2_5, …``) as is (its coordinates make ``stations`` optional). See
    :func:`spatial.io.read_readings`.
rasters
    GeoTIFFs, one per period (or several per period, averaged), any CRS, nodata respected;
    the period is parsed from the file name by ``raster_period_pattern`` or given in order by
    ``raster_periods``.
counties, townships
    Polygons with code and name (counties may carry city_code, city_name). The counties define
    the study area (cells whose centre is inside one) and the county of every cell.
hourly, dust_days, targets
    Optional: hourly readings of the six pollutants for the national statistics (default: the
    hourly stations of ``readings``), dust dates, and targets per county or city (see
    :mod:`analyses.air_rankings`).

Method
------
1. **Valid readings**: a value is invalid (failed sensor or missing-value code) when it is
   negative or above :data:`VALID_MAX` (PM2.5 1000 µg/m³), or when a station reports the same
   value ``stuck_run`` (24) or more times in a row. Invalid readings go to ``rejected`` (one row
   per station and reason, with the count and time span).
2. **Station values**: the mean of the valid readings of each station and period, kept when the
   readings cover at least ``completeness`` (75 %) of the period's hours (hourly data) or days
   (daily data: every reading of the station at midnight).
3. **Cell values**: from ``rasters`` (mean of the pixels whose centres fall in the cell, with
   pixel counts; several rasters of one period are averaged), or from stations by inverse-
   distance weighting to cell centres (power 2, great-circle distance, stations within
   ``max_distance_km`` only: farther cells stay empty with status ``beyond_range``), or with
   ``stations_only`` the mean of the stations inside each cell. ``source = "auto"`` uses the
   rasters when given, else the stations; the stations layer then still reports each station's
   own value beside its cell's value.
4. **Gi\\***: Getis-Ord Gi* per period on the cells with a value, binary k-ring weights with the
   cell itself (``k_ring`` 1; edge cells simply have fewer neighbours), two-sided p-values and a
   Benjamini-Hochberg FDR (``alpha`` 0.05): ``fdr_class`` +1 hot, -1 cold, 0 not significant.
5. **Exceedance**: ``exceed_ratio = value / mean - 1`` against the mean of the cells of the
   same city (counties' ``city_code``; the whole area without it) or county (``exceed_by``) in
   the period; ``exceed`` when ``>= exceed_threshold`` (+20 %).
6. **Across periods**: emerging-hot-spot category per cell (ArcGIS definitions, see
   :func:`spatial.stats.emerging_hotspot_categories`) with the Mann-Kendall trend of its Gi*
   z-scores, and the share of periods it was hot.

Outputs
-------
Layers ``cells`` (one row per cell and period: h3_cell, period, value, n_obs, gi_z, gi_p,
fdr_class, exceed_ratio, exceed, status, county; in the files one row per cell plus the table
``cell_values``, see :data:`PERIOD_LAYERS`), ``hotspots`` (one row per cell:
category, trend, share_hot, …), ``stations``; tables ``top_value``, ``worst_yoy``,
``worst_mom`` (per period, the top ``top_n`` cells with county and township), ``by_county``,
``rejected``; the national statistics ``aq_stats``, ``ranking``, ``targets`` and the hot-cell
lists ``hot_cells``, ``hot_top_value``, ``hot_worst_yoy``, ``hot_worst_mom``, with the layer
``unit_ranking`` (:mod:`analyses.air_rankings`, :mod:`spatial.airstats`). Periods are local
(Asia/Shanghai) days, months ("2025-01"), quarters ("2025Q1"), autumn–winter seasons
("2024/2025秋冬", October–March) or years (:mod:`spatial.periods`); 同比 compares with the same
period a year earlier, 环比 with the previous period of the type (for a season or a year: the
one a year earlier).
"""

from __future__ import annotations

import functools
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio

from spatial import (
    admin,
    frames,
    geobuffer,
    h3grid,
    h3shapes,
    interpolate,
    limits,
    overlay,
    receptors,
    stats,
)
from spatial import periods as ptypes  # (run() has a local `periods`)
from spatial.engine import LocalEngine, map_tasks
from spatial.errors import InputError
from spatial.export import COMMON_FIELDS, FieldMeta
from spatial.io import READING_FIELDS, Field, Table, empty_rejected, read_readings
from spatial.periodstore import PeriodLayer

from . import air_rankings, api, hotspot_layers, hotspot_lists, hotspot_stations, raster_checks

# the map, figure and QGIS styles share one legend definition: analyses/pollution_hotspots_map
from .air_rankings_map import extra_figures as extra_figures
from .base import InputSpec, Result, check_types
from .hotspot_layers import HOT_PATTERNS as HOT_PATTERNS
from .hotspot_rasters import RasterCells, params_key, prepare_run
from .hotspot_stations import LABELS, STATION_TYPES, TZ, UNITS, VALID_MAX  # noqa: F401 (re-exported)
from .hotspot_stations import station_period_values as station_period_values
from .hotspot_stations import station_types as station_types
from .hotspot_stations import validate_readings as validate_readings
from .pollution_hotspots_map import build_map as build_map
from .pollution_hotspots_map import figure_spec as figure_spec
from .pollution_hotspots_map import map_years as map_years
from .pollution_hotspots_map import symbology as symbology

log = logging.getLogger(__name__)

#: the counties are the study area (cells cover them): they count for spatial.limits' estimate
CONTEXT_INPUTS = ()
#: output layer -> input whose own columns (``src_<header>``) its rows carry
SOURCES = {"stations": "stations"}

NAME = "pollution-hotspots"
ENGINES = ("local", "dask")  # run(..., engine=) accepts a spatial.engine.DaskEngine

def _read_readings(cfg: dict[str, Any], spec: InputSpec, *, engine: Any = None) -> Table:
    """Reader of ``readings``; with a Dask `engine`, one task per file on the workers."""
    mapper = None if engine is None else functools.partial(map_tasks, engine)
    return read_readings(cfg.get("paths") or [cfg["path"]], name=spec.name,
                         columns=cfg.get("columns"), sheet=cfg.get("sheet"), map_files=mapper)


def _read_rasters(cfg: dict[str, Any], spec: InputSpec, *, engine: Any = None) -> Table:
    """Check every raster opens, note its grid (`engine` unused); prepare_run reads pixels."""
    paths = [Path(p) for p in (cfg.get("paths") or [cfg["path"]])]
    rows = []
    for p in paths:
        if not p.exists():
            raise InputError(f"{p}: raster not found (input '{spec.name}'); check `path`.")
        try:
            with rasterio.open(p) as ds:
                limits.check_pixels(p, ds.width, ds.height)  # refused before any pixel is read
                rows.append({"path": str(p), "file": p.name, "width": ds.width,
                             "height": ds.height, "crs": ds.crs.to_string() if ds.crs else "",
                             "nodata": ds.nodata, "bands": ds.count})
        except rasterio.errors.RasterioIOError as err:
            raise InputError(f"{p}: not a readable raster ({err}).") from None
    frame = pd.DataFrame(rows, columns=["path", "file", "width", "height", "crs", "nodata",
                                        "bands"])
    return Table(name=spec.name, path=paths[0], frame=frame, rejected=empty_rejected(),
                 encoding=None, n_read=len(paths), paths=paths)


UNIT_FIELDS = (Field("code", "text", True), Field("name", "text", True),
               Field("city_code", "text", False, ("地市代码", "市代码")),
               Field("city_name", "text", False, ("地市", "城市", "所属地市")))

INPUTS = (
    InputSpec("stations", "points", (
        Field("id", "text", True), Field("name", "text"),
        Field("type", "text", False, ("类型", "站点类型", "站点类别", "category", "级别")),
    ), False, "monitoring stations (national, provincial, micro-sensors)"),
    InputSpec("readings", "custom", READING_FIELDS, False,
              "station readings, hourly or daily, long or wide (national export accepted)",
              reader=_read_readings, files="many"),
    InputSpec("rasters", "custom", (), False, "GeoTIFFs, one per period, any CRS",
              reader=_read_rasters, files="many"),
    InputSpec("counties", "polygons", UNIT_FIELDS, False,
              "county boundaries with code and name (the study area)"),
    InputSpec("townships", "polygons", UNIT_FIELDS[:2], False,
              "township boundaries with code and name"),
    InputSpec("receptors", "points", receptors.RECEPTOR_FIELDS, False,
              "sensitive receptors: schools, hospitals, care homes (listed near hot spots)",
              check_extent=False),
    InputSpec("hourly", "custom", READING_FIELDS, False,
              "hourly readings of the six pollutants for the national statistics (default: the "
              "hourly stations of `readings`)", reader=_read_readings),
    InputSpec("dust_days", "custom", air_rankings.DUST_FIELDS, False,
              "dust days (date, optional county or city code) deducted from PM10/PM2.5",
              reader=air_rankings.read_dust_days),
    InputSpec("targets", "custom", air_rankings.TARGET_FIELDS, False,
              "targets per county or city code (pm25, composite_index, good_days, …)",
              reader=air_rankings.read_targets),
)

#: inputs given as frames in Python: read like their files (analyses.api)
FRAME_INPUTS = {k: lambda v, spec: frames.readings_from_frame(v, name=spec.name)
                for k in ("readings", "hourly")}


@dataclass(frozen=True)
class Params:
    """Parameters of pollution-hotspots (defaults: the national high-value-area practice).

    Attributes
    ----------
    pollutant
        pm25, pm10, no2, so2, co or o3.
    period
        ``"day"``, ``"month"``, ``"quarter"``, ``"season"`` (October–March) or ``"year"``
        (local time, Asia/Shanghai; :mod:`spatial.periods`).
    h3_resolution
        Resolution of the cells (7: ~5.2 km², about the national 3 km grid).
    source
        ``"auto"`` (rasters when given, else stations), ``"stations"`` or ``"rasters"``.
    completeness
        Share of the period's hours (or days, for daily readings) a station must cover.
    idw_power
        Exponent of inverse-distance weighting.
    max_distance_km
        Stations farther than this from a cell centre do not count (great-circle, km).
    stations_only
        Value only the cells that contain a station (mean of their stations), no IDW.
    k_ring
        Gi* neighbourhood: grid distance (1: the cell and its 6 neighbours).
    alpha
        False discovery rate of the Gi* classes, and significance of the trend.
    exceed_threshold
        ``exceed`` when the value is at least this much above the city/county mean (0.2 = 20 %).
    exceed_by
        ``"city"`` (counties' city_code; the whole area without it) or ``"county"``.
    top_n
        Rows per period in top_value, worst_yoy and worst_mom.
    stuck_run
        This many identical consecutive readings of a station are a stuck sensor.
    raster_period_pattern
        Regular expression with a named group ``period`` finding the period in a raster's file
        name (2025-01, 202501, 2025-01-15, 20250115).
    raster_periods
        Periods of the rasters, in the order of the files (instead of the pattern).
    raster_band
        Band read from each raster (1-based).
    receptor_km
        Sensitive receptors within this distance (geodesic) of a hot-spot cell's centre are
        listed in the hotspots layer, km.
    aq_periods
        Periods of the national statistics (``aq_stats``, ``ranking``): any of day, month,
        quarter, season (October–March), year.
    assessment_types
        Station types that make the assessment units (national, provincial, city); micro-sensors
        only feed the cells.
    deduct_dust
        Leave the ``dust_days`` out of PM10 and PM2.5.
    bottom_n
        Length of the bottom lists of the ranking (by composite index and by 改善率).
    hot_share
        Share of the cells, by annual mean, that form the year's hot-cell set.
    value_classes
        Class breaks of the value maps and figure, ascending, in the pollutant's unit (e.g.
        ``[0, 35, 75, 115, 150, 250]`` for PM2.5); empty: the GB 3095 classes for PM2.5, else
        breaks of the run's values (the same in every year's map when the maps are per year).
    """

    pollutant: str = "pm25"
    period: str = "month"
    h3_resolution: int = 7
    source: str = "auto"
    completeness: float = 0.75
    idw_power: float = 2.0
    max_distance_km: float = 15.0
    stations_only: bool = False
    k_ring: int = 1
    alpha: float = 0.05
    exceed_threshold: float = 0.2
    exceed_by: str = "city"
    top_n: int = 20
    stuck_run: int = 24
    raster_period_pattern: str = r"(?P<period>\d{4}-?\d{2}(?:-?\d{2})?)"
    raster_periods: tuple[str, ...] = ()
    raster_band: int = 1
    receptor_km: float = 3.0
    aq_periods: tuple[str, ...] = ("month", "quarter", "season", "year")
    assessment_types: tuple[str, ...] = ("national", "provincial")
    deduct_dust: bool = False
    bottom_n: int = 20
    hot_share: float = 0.1
    value_classes: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        check_types(self)
        vc = np.asarray(self.value_classes, dtype=np.float64)
        if len(vc) and (len(vc) < 2 or np.isnan(vc).any() or (np.diff(vc) <= 0).any()):
            raise InputError(f"params.value_classes {list(self.value_classes)}: give at least two "
                             "class breaks in ascending order, e.g. [0, 35, 75, 115].")
        if not 0 <= self.receptor_km <= 50:
            raise InputError(f"params.receptor_km must be in [0, 50] km, not {self.receptor_km}.")
        if self.pollutant not in VALID_MAX:
            raise InputError(f"params.pollutant {self.pollutant!r}: use one of "
                             f"{', '.join(VALID_MAX)}.")
        ptypes.check_kind(self.period, what="params.period")
        if not 0 <= self.h3_resolution <= 15:
            raise InputError(f"params.h3_resolution must be 0..15, not {self.h3_resolution}.")
        if self.source not in ("auto", "stations", "rasters"):
            raise InputError(f'params.source {self.source!r}: use "auto", "stations" or '
                             '"rasters".')
        if not 0 <= self.completeness <= 1:
            raise InputError(f"params.completeness must be in [0, 1] (a share), not "
                             f"{self.completeness}.")
        if not self.idw_power > 0:
            raise InputError(f"params.idw_power must be > 0, not {self.idw_power}.")
        if not 0 < self.max_distance_km <= 500:
            raise InputError(f"params.max_distance_km must be in (0, 500], not "
                             f"{self.max_distance_km}.")
        if self.k_ring < 1:
            raise InputError(f"params.k_ring must be >= 1, not {self.k_ring}.")
        if not 0 < self.alpha < 1:
            raise InputError(f"params.alpha must be in (0, 1), not {self.alpha}.")
        if self.exceed_by not in ("city", "county"):
            raise InputError(f'params.exceed_by {self.exceed_by!r}: use "city" or "county".')
        if self.top_n < 1:
            raise InputError(f"params.top_n must be >= 1, not {self.top_n}.")
        if self.stuck_run < 2:
            raise InputError(f"params.stuck_run must be >= 2, not {self.stuck_run}.")
        try:
            pat = re.compile(self.raster_period_pattern)
        except re.error as err:
            raise InputError(
                f"params.raster_period_pattern is not a valid regex ({err}).") from None
        if "period" not in pat.groupindex:
            raise InputError("params.raster_period_pattern needs a named group (?P<period>…).")
        air_rankings.check_params(self)


_LOC = {k: COMMON_FIELDS[k] for k in ("county_code", "county_name", "township_code",
                                       "township_name")}


#: ``cells`` is one row per cell and period: in the files one row per cell (with its county)
#: plus the attribute table ``cell_values`` (spatial.periodstore). ``value`` (rounded to 3
#: decimals in run) and ``exceed_ratio`` (4, hotspot_layers.cells_layer) are stored there as
#: exact scaled integers, ``status`` as codes (spatial.periodtable): same values, 1/3 the bytes
PERIOD_LAYERS = {"cells": PeriodLayer("cell_values", per_cell=("county_code", "county_name"),
                                      decimals=(("value", 3), ("exceed_ratio", 4)),
                                      codes=("status",))}

FIELDS = {
    "row": COMMON_FIELDS["row"],
    "receptors": COMMON_FIELDS["receptors"],
    "n_receptors": COMMON_FIELDS["n_receptors"],
    "h3_cell": COMMON_FIELDS["h3_cell"],
    "period": FieldMeta("period", "时段"),
    "value": FieldMeta("value", "浓度均值"),
    "n_obs": FieldMeta("n_obs", "观测数（站点数或像元数）"),
    "gi_z": FieldMeta("gi_z", "Gi*统计量z值"),
    "gi_p": FieldMeta("gi_p", "Gi*双侧p值"),
    "fdr_class": FieldMeta("fdr_class", "热点类别（1热点/-1冷点/0不显著）"),
    "exceed_ratio": FieldMeta("exceed_r", "高于均值比例"),
    "exceed": FieldMeta("exceed", "是否高值"),
    "status": FieldMeta("status", "状态"),
    "category": FieldMeta("category", "时空热点类型"),
    "category_zh": FieldMeta("cat_zh", "时空热点类型（中文）"),
    "trend_z": FieldMeta("trend_z", "趋势检验z值"),
    "trend_p": FieldMeta("trend_p", "趋势检验p值"),
    "trend": FieldMeta("trend", "趋势"),
    "share_hot": FieldMeta("share_hot", "热点时段占比"),
    "n_hot": FieldMeta("n_hot", "热点时段数"),
    "n_periods": FieldMeta("n_periods", "有数据时段数"),
    "mean_value": FieldMeta("mean_val", "各时段均值"),
    "last_value": FieldMeta("last_val", "最近时段浓度"),
    "cell_value": FieldMeta("cell_val", "所在网格浓度"),
    "id": FieldMeta("id", "站点编号"),
    "name": FieldMeta("name", "站点名称"),
    "type": FieldMeta("type", "站点类型"),
    "n_readings": FieldMeta("n_read", "读数"),
    "n_invalid": FieldMeta("n_invalid", "无效读数"),
    "n_periods_valid": FieldMeta("n_per_ok", "有效时段数"),
    "completeness": FieldMeta("complete", "数据完整率"),
    "lon": COMMON_FIELDS["lon"],
    "lat": COMMON_FIELDS["lat"],
    **_LOC,
}


# ----------------------------------------------------------------------------------- periods


def parse_period(text: str, kind: str, *, what: str) -> ptypes.Period:
    """A period of type `kind` from text ('2025-01', '202501', '2025Q1', '2024/2025秋冬')."""
    s = str(text).strip()
    if kind == "day" and re.fullmatch(r"\d{4}-?\d{2}", s):
        raise InputError(f"{what}: period {text!r} is a month but params.period is 'day'.")
    return ptypes.parse(s, kind, what=what)


def raster_periods(files: pd.DataFrame, params: Params) -> list[ptypes.Period]:
    """The period of each raster: from ``raster_periods`` or the file name pattern."""
    if params.raster_periods:
        if len(params.raster_periods) != len(files):
            raise InputError(f"params.raster_periods lists {len(params.raster_periods)} periods "
                             f"for {len(files)} rasters; give one per file, in file order.")
        return [parse_period(p, params.period, what="params.raster_periods")
                for p in params.raster_periods]
    pat = re.compile(params.raster_period_pattern)
    out = []
    for name in files["file"]:
        m = pat.search(name)
        if m is None or m.group("period") is None:
            raise InputError(f"raster {name}: no period found by params.raster_period_pattern "
                             f"{params.raster_period_pattern!r}; rename the file (e.g. "
                             "pm25_2025-01.tif) or give params.raster_periods.")
        out.append(parse_period(m.group("period"), params.period, what=f"raster {name}"))
    return out


# ------------------------------------------------------------------------------------ cells


def area_cells(counties: gpd.GeoDataFrame | None, *, resolution: int) -> tuple[np.ndarray,
                                                                                np.ndarray]:
    """Cells whose centre lies in a county (sorted) and the county row of each (-1: none)."""
    cells, owner = h3shapes.polygons_to_cells(counties.geometry.to_numpy(), resolution=resolution,
                                            mode="center")
    uniq, inv = np.unique(cells, return_inverse=True)
    return uniq, overlay.first_per(inv, owner, uniq.size)


# ------------------------------------------------------------------------------------ run


#: read this analysis's input files as `lantian run` does (analyses.api.read_inputs)
read_inputs = api.module_reader(__name__)


@api.entry
def run(inputs: dict[str, pd.DataFrame], params: Params, *,
        engine: LocalEngine | None = None) -> Result:
    """Cell values per period, Gi* hot spots, exceedance, emerging hot spots and the lists.

    Parameters
    ----------
    inputs
        Any of ``stations`` (GeoDataFrame from ``spatial.io.read_points``), ``readings`` (the
        long frame of :func:`spatial.io.read_readings`), ``rasters`` (one row per file with a
        ``path`` and ``file`` column, made :class:`RasterCells` by ``prepare_run`` first),
        ``counties``, ``townships`` (GeoDataFrames in EPSG:4326 with code and name).
    params
        See :class:`Params`.
    engine
        Where rasters-to-cells, Gi* per period and the emerging hot spots run: in process by
        default, or a :class:`spatial.engine.DaskEngine` (one task per raster, per period and
        per block of cells); same results.

    Raises
    ------
    InputError
        No usable source, or a source asked for is missing.
    """
    eng = engine if engine is not None else LocalEngine()
    counties = inputs.get("counties")
    townships = inputs.get("townships")
    rasters_in = inputs.get("rasters")
    readings = inputs.get("readings")
    stations_in = inputs.get("stations")
    have_rasters = rasters_in is not None and len(rasters_in) > 0
    have_readings = readings is not None and len(readings) > 0
    source = params.source
    if source == "auto":
        source = "rasters" if have_rasters else "stations"
    if source == "rasters" and not have_rasters:
        raise InputError("params.source = 'rasters' but no [inputs.rasters] given (or none "
                         "found by its path); add GeoTIFFs or use source = 'stations'.")
    if source == "stations" and not have_readings:
        raise InputError("no readings to work from: give [inputs.readings] (with [inputs."
                         "stations] unless the readings carry longitude/latitude) or "
                         "[inputs.rasters].")
    res = params.h3_resolution
    summary: list[str] = []
    rejected = [empty_rejected()]

    # stations and their period values (also when the cells come from rasters)
    st = pd.DataFrame(columns=["id", "name", "type", "lon", "lat"])
    sp_table = pd.DataFrame()
    wide = pd.DataFrame()
    inv = pd.DataFrame(columns=["size", "sum"])
    if have_readings:
        good, rej, inv = hotspot_stations.validate_readings(readings, pollutant=params.pollutant,
                                           stuck_run=params.stuck_run)
        rejected.append(rej)
        st, rej2 = hotspot_stations.stations_frame(stations_in, good, readings[readings["pollutant"]
                                                               == params.pollutant])
        rejected.append(rej2)
        good = good[good["station_id"].isin(set(st["id"]))]
        sp_table, wide = hotspot_stations.station_period_values(good, params)
        if params.period == "season":  # readings of April–September belong to no season
            off = ptypes.of_dates(good["time"].dt.tz_convert(TZ).dt.tz_localize(None),
                                   "season").isna().to_numpy()
            if off.any():
                summary.append(f"{int(off.sum())} valid readings of April–September are in no "
                               "autumn–winter season (October–March): left out.")
        if not (readings["pollutant"] == params.pollutant).any():
            raise InputError(f"readings hold no {params.pollutant} values (found: "
                             f"{', '.join(sorted(readings['pollutant'].unique()))}); set "
                             "params.pollutant.")
    elif stations_in is not None:
        st, _ = hotspot_stations.stations_frame(stations_in, pd.DataFrame(), pd.DataFrame())

    # area
    if counties is not None and len(counties):
        a_cells, a_owner = area_cells(counties, resolution=res)
    else:
        a_cells, a_owner = None, None

    status_extra = None
    if source == "rasters":
        if not isinstance(rasters_in, RasterCells):  # made by prepare_run, before run
            raise InputError("rasters: not prepared; give them to pollution_hotspots.run (the "
                             "public function prepares them) or to read_inputs(params=…).")
        if rasters_in.key != params_key(params):
            rasters_in = prepare_run({"rasters": rasters_in}, params)["rasters"]  # the error
        periods, cells, values, n_obs = (rasters_in.periods, rasters_in.cells,
                                         rasters_in.values, rasters_in.counts)
        if len(rasters_in.rejected):
            rejected.append(rasters_in.rejected)
        if a_cells is not None:
            pos = h3grid.lookup(cells, a_cells)
            has = pos >= 0
            cells = a_cells
            values2 = np.full((len(cells), len(periods)), np.nan)
            nobs2 = np.zeros((len(cells), len(periods)), dtype=np.int64)
            values2[has], nobs2[has] = values[pos[has]], n_obs[pos[has]]
            values, n_obs = values2, nobs2
            out_rows = raster_checks.outside_area(rasters_in.files, rasters_in.file_periods,
                                                  periods, values,
                                                  reported=pd.concat(rejected))
            if out_rows:
                rejected.append(pd.DataFrame(out_rows, columns=empty_rejected().columns))
        status_extra = np.where(np.isfinite(values), "ok", "no_pixels")
        summary.append(f"Cell values from {len(rasters_in)} rasters: mean of the pixels whose "
                       f"centres fall in each H3 res-{res} cell.")
    else:
        periods = sorted(wide.columns) if len(wide.columns) else []
        if not periods:
            raise InputError(f"no station reaches the completeness threshold "
                             f"({params.completeness:.0%} of the period's readings) in any "
                             "period; lower params.completeness or check the readings.")
        sw = wide.reindex(index=st["id"], columns=periods).to_numpy(dtype=np.float64)
        lon, lat = st["lon"].to_numpy(np.float64), st["lat"].to_numpy(np.float64)
        if params.stations_only:
            sc = h3grid.points_to_cells(lat, lon, resolution=res)
            cells = np.unique(sc)
            if a_cells is not None:
                cells = cells[h3grid.lookup(a_cells, cells) >= 0]
            pos = h3grid.lookup(cells, sc)
            k = pos >= 0
            valid = np.isfinite(sw[k])
            sums = np.zeros((len(cells), len(periods)))
            n_obs = np.zeros((len(cells), len(periods)), dtype=np.int64)
            np.add.at(sums, pos[k], np.where(valid, sw[k], 0.0))
            np.add.at(n_obs, pos[k], valid.astype(np.int64))
            with np.errstate(invalid="ignore", divide="ignore"):
                values = np.where(n_obs > 0, sums / np.maximum(n_obs, 1), np.nan)
            status_extra = np.where(n_obs > 0, "ok", "incomplete")
            summary.append(f"Cell values: mean of the stations in each of {len(cells)} "
                           f"H3 res-{res} cells (stations_only).")
        else:
            if a_cells is None:
                circles = geobuffer.geodesic_circles(lon, lat, params.max_distance_km * 1000.0)
                cc, _ = h3shapes.polygons_to_cells(np.asarray(circles), resolution=res,
                                                 mode="center")
                cells = np.unique(cc)
            else:
                cells = a_cells
            clat, clng = h3grid.cell_centers(cells)
            r = interpolate.idw(lon, lat, sw, clng, clat, power=params.idw_power,
                                max_distance_m=params.max_distance_km * 1000.0)
            values, n_obs = r.values, r.n_used
            status_extra = np.where(n_obs > 0, "ok", "beyond_range")
            n_beyond = int((r.nearest_m > params.max_distance_km * 1000).sum())
            summary.append(
                f"Cell values: inverse-distance weighting (power {params.idw_power:g}) of "
                f"{int(np.isfinite(sw).any(axis=1).sum())} stations to {len(cells)} H3 res-{res} "
                f"cells within {params.max_distance_km:g} km; {n_beyond} cells lie beyond "
                "that from every station and stay empty (status beyond_range).")
    if a_cells is not None:
        owner = a_owner[h3grid.lookup(a_cells, cells)] if len(cells) else np.zeros(0, np.int64)
    else:
        owner = np.full(len(cells), -1, dtype=np.int64)

    values = np.round(values, 3)  # as written: Gi*, exceedance and lists use these numbers
    n_c, n_t = values.shape
    labels = [str(p) for p in periods]

    # Gi*, FDR, exceedance per period
    w = stats.ring_weights(cells, k=params.k_ring) if n_c else None
    if n_c:
        gz, gp, cls = eng.gi_star_periods(values, w, alpha=params.alpha)
    else:
        gz, gp = np.full((n_c, n_t), np.nan), np.full((n_c, n_t), np.nan)
        cls = np.zeros((n_c, n_t), dtype=np.int8)
    clat, clng = h3grid.cell_centers(cells)
    loc = pd.DataFrame(index=range(n_c))
    loc = _attach_units(loc, clng, clat, counties, townships, owner)
    group = _exceed_groups(loc, counties, owner, params)
    exceed = np.full((n_c, n_t), np.nan)
    for gkey in np.unique(group):
        rows = group == gkey
        ref = hotspot_layers.nanmean(values[rows], axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            exceed[rows] = values[rows] / ref[None, :] - 1.0

    cells_layer = hotspot_layers.cells_layer(cells, labels, values, n_obs, gz, gp, cls, exceed,
                                             status_extra, loc, params)
    hotspots, cat = hotspot_layers.hotspots_layer(cells, values, gz, cls, loc, params, labels,
                                                  engine=eng)
    hotspots = receptors.attach(hotspots, clng, clat, inputs.get("receptors"),
                                km=params.receptor_km, where=np.isin(cat.astype(str), HOT_PATTERNS))
    lists = hotspot_lists.lists(cells, periods, values, cls, exceed, loc, clng, clat, params)
    stations_layer = hotspot_stations.stations_layer(st, sp_table, inv, cells, values, periods,
                                                     counties, townships, params)
    by_county = hotspot_layers.by_county(loc, values, cls, exceed, cat, labels, params)
    summary += hotspot_layers.summary(labels, values, cls, exceed, cat, lists, stations_layer,
                                      params)
    # national statistics, rankings and the hot-cell lists (analyses.air_rankings)
    hourly, rej3, raw_hourly = _hourly_readings(inputs, params)
    rejected.append(rej3)
    st_aq, rej4 = hotspot_stations.stations_frame(stations_in, hourly, raw_hourly)
    if inputs.get("hourly") is not None:  # else reported with the readings above
        rejected.append(rej4)
    aq = air_rankings.build(hourly, st_aq, counties, townships, inputs.get("dust_days"),
                            inputs.get("targets"), params)
    summary += aq.summary
    if params.period == "month" and n_c and n_t:
        hot = air_rankings.hot_cell_tables(cells, list(periods), values, loc, clng, clat,
                                           hot_share=params.hot_share, top_n=params.top_n)
    else:
        hot = air_rankings.hot_cell_tables(cells[:0], [], values[:0, :0], loc.iloc[:0],
                                           clng[:0], clat[:0], hot_share=params.hot_share,
                                           top_n=params.top_n)
        summary.append("Hot-cell lists need monthly cell values (params.period = 'month').")
    unit = UNITS[params.pollutant]
    return Result(
        analysis=NAME, params=params,
        layers={"cells": cells_layer, "hotspots": hotspots, "stations": stations_layer,
                "unit_ranking": aq.layer},
        tables={**lists, "by_county": by_county, **aq.tables, **hot,
                "rejected": pd.concat(rejected, ignore_index=True)},
        summary=summary,
        fields={**FIELDS, **air_rankings.FIELDS,
                "value": FieldMeta("value", f"{LABELS[params.pollutant]}浓度均值", unit)},
        title=f"{LABELS[params.pollutant]} 污染高值区（H3 网格）",
        context={k: v for k, v in (("counties", counties), ("townships", townships))
                 if v is not None},
    )


def _hourly_readings(inputs: dict[str, pd.DataFrame], params: Params
                     ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Valid hourly readings of each pollutant for the statistics, rejected rows, the source.

    From ``hourly`` when given, else from the stations of ``readings`` that report hourly (not
    every reading at local midnight). Readings are checked per pollutant like the cells' ones
    (range and stuck sensor, :func:`analyses.hotspot_stations.validate_readings`).
    """
    src = inputs.get("hourly")
    own = src is not None and len(src) > 0
    if not own:
        src = inputs.get("readings")
        if src is None or not len(src):
            empty = pd.DataFrame(columns=["station_id", "time", "pollutant", "value", "lon",
                                          "lat", "file", "row"])
            return empty, empty_rejected(), empty
        local = src["time"].dt.tz_convert(TZ)
        midnight = (local == local.dt.normalize()).groupby(src["station_id"]).transform("all")
        src = src[~midnight.to_numpy(bool)]
    good, rej = [], [empty_rejected()]
    for p in sorted(pd.unique(src["pollutant"])):
        g, r, _ = hotspot_stations.validate_readings(src, pollutant=p, stuck_run=params.stuck_run)
        good.append(g.assign(pollutant=p))
        if own or p != params.pollutant:  # the cells' pollutant is reported once
            rej.append(r)
    frame = pd.concat(good, ignore_index=True) if good else pd.DataFrame(
        columns=["station_id", "time", "pollutant", "value", "lon", "lat"])
    return frame, pd.concat(rej, ignore_index=True), src


def _attach_units(loc: pd.DataFrame, lng: np.ndarray, lat: np.ndarray,
                  counties: gpd.GeoDataFrame | None, townships: gpd.GeoDataFrame | None,
                  owner: np.ndarray) -> pd.DataFrame:
    """County (from the owning county polygon, else by centre) and township of each cell."""
    codes, names = admin.code_name(counties, owner)
    if counties is not None and len(counties):
        has = owner >= 0
        if (~has).any():
            extra = admin.attach(pd.DataFrame(index=range(int((~has).sum()))), lng[~has],
                                 lat[~has], counties, level="county")
            codes[~has] = extra["county_code"].to_numpy(dtype=object)
            names[~has] = extra["county_name"].to_numpy(dtype=object)
    loc = loc.copy()
    loc["county_code"], loc["county_name"] = codes, names
    loc = admin.attach(loc, lng, lat, townships, level="township")
    return loc


def _exceed_groups(loc: pd.DataFrame, counties: gpd.GeoDataFrame | None, owner: np.ndarray,
                   params: Params) -> np.ndarray:
    if params.exceed_by == "county":
        return loc["county_code"].fillna("(none)").to_numpy(dtype=str)
    if counties is not None and len(counties) and "city_code" in counties \
            and counties["city_code"].notna().all():
        city = np.full(len(loc), "(none)", dtype=object)
        has = owner >= 0
        city[has] = counties["city_code"].to_numpy(dtype=object)[owner[has]]
        return city.astype(str)
    return np.full(len(loc), "area", dtype=object).astype(str)
