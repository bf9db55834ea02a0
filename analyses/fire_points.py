"""Straw-burning fire points from NASA FIRMS detections: events, townships, counties, hot cells.

Policy (Shandong action plan): straw burning is banned; "充分利用卫星遥感…提高秸秆焚烧火点监测
精准度" — use satellite remote sensing to make fire-point monitoring more precise. A township head
answers for each fire found in the township, and Shandong singles out each township's first fire
of the season.

Inputs
------
fires
    One or more FIRMS downloads (CSV or Shapefile; a list or a glob), MODIS and VIIRS mixed,
    read by :func:`spatial.firms.read_firms`. ``acq_date``/``acq_time`` are UTC.
counties
    Polygons with code and name (city_name optional, for the bulletin's 市). Detections outside
    every county are left out of every output when ``clip_to_counties`` (the summary counts them).
townships
    Optional polygons with code and name; without them township columns stay empty and
    ``first_in_township`` is missing.
cropland
    Optional: a land-cover GeoTIFF (classes ``cropland_classes``, e.g. ESA WorldCover 40) or
    cropland polygons. Detections off cropland are kept, with ``on_cropland`` false.
heat_sources
    Optional known industrial sites (steel, coking, power, chemical) as points.

Status of every detection, in order of precedence (the first that applies wins):

1. ``duplicate`` — an exact repeat (instrument, satellite, lat, lon, UTC time) of an earlier
   detection, as overlapping downloads produce; the first occurrence goes on.
2. ``low_confidence`` — VIIRS class not in ``viirs_classes`` [n, h]; MODIS confidence below
   ``modis_min_confidence`` [30].
3. ``outside_window`` — local date outside every harvest window, or day/night not chosen.
4. ``industrial`` — within ``heat_source_radius_km`` [1 km, geodesic] of a known source, or in
   a persistent-source H3 cell (below).
5. ``off_cropland`` — only with ``require_cropland``: off the cropland input.
6. ``kept`` — straw-burning candidate; only these form events.

Persistent sources: every non-duplicate, confident detection (all dates, day and night: the
history is the evidence) is indexed to H3 at ``persistent_resolution`` [9, ~0.1 km²]. A cell is
persistent when the detections in it *and its k = ``persistent_k`` [1] neighbours* (a ~0.5 km
disk, which absorbs the pixel jitter of repeated detections of one chimney) fall on at least
``persistent_min_dates`` [4] distinct local dates in at least ``persistent_min_months`` [2]
distinct months. Detections *in* persistent cells are industrial; adjacent persistent cells are
merged into one derived source.

Events: spatio-temporal DBSCAN (:func:`spatial.cluster.st_dbscan`, exact, O(n) memory) on kept
detections with ``eps_km`` [1 km, great circle] and ``eps_hours`` [24 h], ``min_samples`` [1:
every kept detection belongs to an event]. Event polygon: convex hull of its detections buffered
by half a pixel (VIIRS 187.5 m, MODIS 500 m; the larger when both), in a UTM CRS. An event
belongs to the county and township of its earliest detection (where the fire was first seen);
``first_in_township`` flags each township's earliest event in each window (whole run without
windows).

Rules of the plans (:mod:`.fire_accountability`): per township and window ``township_event_no``
and ``accountability`` (聊办字〔2017〕49号), ``during_warning`` (optional ``warnings`` input),
the nearest village and grid keeper (``villages``), sensitive receptors (``receptors``), the
township checks (``verification``, :mod:`.fire_verification`); daily runs
(:mod:`.fire_daily`) add ``first_reported``/``is_new``.

Outputs
-------
Layers ``points`` (every detection in the area, with status and attribution), ``events``,
``cells`` (H3 ``h3_resolution`` [8] with kept detections, events and FRP), ``heat_sources``
(known and derived); tables ``by_county``, ``by_township`` (per window and per local day,
ranked), ``bulletin`` (national bulletin shape, one row per kept detection), ``accountability``
(per window and township: events, confirmed / refuted / pending, level reached), ``rejected``.
Times in outputs are local (``local_tz``, Asia/Shanghai) text ``YYYY-MM-DD HH:MM``.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from spatial import (
    admin,
    coords,
    excel,
    firms,
    frames,
    geodesy,
    h3grid,
    io,
    landcover,
    overlay,
    receptors,
)
from spatial.engine import LocalEngine, map_tasks
from spatial.errors import InputError
from spatial.io import Field
from spatial.values import per_distinct, text_values

from . import api, fire_daily, fire_groups, fire_points_map, fire_verification
from . import fire_accountability as acc
from .base import InputSpec, Result, check_types
from .fire_sources import SOURCE_COLUMNS, derived_sources, persistent_cells
from .fire_tables import FIELDS, bulletin, dms, ranked

__all__ = ["FIELDS", "INPUTS", "NAME", "Params", "build_map", "derived_sources", "dms",
           "persistent_cells", "run"]

# the map, figure and QGIS styles share one legend definition: analyses/fire_points_map
from .fire_points_map import STATUS_COLORS as STATUS_COLORS
from .fire_points_map import STATUS_LABELS as STATUS_LABELS
from .fire_points_map import build_map as build_map
from .fire_points_map import figure_spec as figure_spec
from .fire_points_map import symbology as symbology

NAME = "fire-points"
ENGINES = ("local", "dask")  # run(..., engine=) accepts a spatial.engine.DaskEngine
STATUSES = ("kept", "off_cropland", "industrial", "outside_window", "low_confidence",
            "duplicate")
#: output layer -> input whose own columns (``src_<header>``: scan, track, version, bright_ti4 …
#: as the FIRMS file has them) its rows carry, with ``src_file`` (analyses.runner.attach_sources)
SOURCES = {"points": "fires"}
#: H3 cells are made only where detections are (for the estimate of spatial.limits.check_work)
CELLS_FROM = "points"
RASTER_SUFFIXES = {".tif", ".tiff", ".vrt", ".img"}


def read_fires(cfg: dict[str, Any], spec: InputSpec, *, engine: Any = None) -> io.Table:
    """Reader of the ``fires`` input: every file of the config's path, list or glob.

    With a Dask `engine`, each file is read and normalised in a task on the workers.
    """
    mapper = None if engine is None else functools.partial(map_tasks, engine)
    return firms.read_firms(cfg["paths"], name=spec.name, map_files=mapper)


def read_cropland(cfg: dict[str, Any], spec: InputSpec) -> io.Table:
    """Reader of the ``cropland`` input: a class GeoTIFF (kept in memory) or polygons."""
    path = cfg["paths"][0]
    if path.suffix.lower() in RASTER_SUFFIXES:
        raster = landcover.read_class_raster(path)
        return io.Table(name=spec.name, path=path, frame=raster, rejected=io.empty_rejected(),
                        crs=raster.crs.to_string(), n_read=len(raster), paths=[path])
    return io.read_polygons(path, fields=(), name=spec.name, crs=cfg["crs"],
                            columns=cfg["columns"])


def _read_warnings(cfg: dict[str, Any], spec: InputSpec) -> io.Table:
    """Reader of the ``warnings`` input: warning periods (no coordinates), times checked."""
    t = io.read_table(cfg["path"], fields=spec.fields, name=spec.name, columns=cfg["columns"],
                      sheet=cfg["sheet"])
    acc.check_warnings(t.frame, path=cfg["path"])
    return t


def _read_villages(cfg: dict[str, Any], spec: InputSpec) -> io.Table:
    """Reader of the ``villages`` input: points (tables, point files) or polygons."""
    return io.read_features(cfg["path"], fields=spec.fields, name=spec.name, crs=cfg["crs"],
                            columns=cfg["columns"], sheet=cfg["sheet"])


INPUTS = (
    InputSpec("fires", "custom", (), True,
              "NASA FIRMS MODIS/VIIRS downloads (CSV or Shapefile; list or glob)", read_fires,
              check_extent=False, files="many"),
    InputSpec("counties", "polygons", (
        Field("code", "text", True), Field("name", "text", True),
        Field("city_name", "text", False, ("市", "地级市", "所属市", "city")),
    ), False, "county boundaries with code and name (city_name for the bulletin)"),
    InputSpec("townships", "polygons", (Field("code", "text", True), Field("name", "text", True)),
              False, "township boundaries with code and name"),
    InputSpec("cropland", "custom", (), False,
              "land-cover GeoTIFF (crop classes as params.cropland_classes) or cropland polygons",
              read_cropland, files="one"),
    InputSpec("heat_sources", "points", (
        Field("id", "text"), Field("name", "text"),
        Field("kind", "text", False, ("类型", "行业", "类别")),
    ), False, "known industrial heat sources (steel, coking, power, chemical)"),
    InputSpec("warnings", "custom", acc.WARNING_FIELDS, False,
              "heavy-pollution warning periods: start, end (local), level, area", _read_warnings),
    InputSpec("villages", "custom", acc.VILLAGE_FIELDS, False,
              "villages (points or polygons) with name, township and grid keeper (网格员)",
              _read_villages),
    InputSpec("receptors", "points", receptors.RECEPTOR_FIELDS, False,
              "sensitive receptors: schools, hospitals, care homes (name, kind)",
              check_extent=False),
    InputSpec("verification", "custom", (), False,
              "returned 核查 workbooks (notice_<date>.xlsx filled by the townships)",
              fire_verification.read_verification_input, check_extent=False),
    InputSpec("previous", "custom", (), False,
              "the previous result's points (set by --date / --since last)",
              fire_daily.read_previous, check_extent=False),
)

#: inputs given as frames in Python that need their reader's own normalisation (analyses.api)
FRAME_INPUTS = {
    "fires": lambda v, spec: frames.firms_from_frame(v, name=spec.name),
    "villages": lambda v, spec: frames.features_from_frame(v, fields=spec.fields, name=spec.name),
    "warnings": lambda v, spec: _checked_warnings(
        frames.table_from_frame(v, fields=spec.fields, name=spec.name)),
}


def _checked_warnings(t: io.Table) -> io.Table:
    acc.check_warnings(t.frame, path=t.path)  # as the reader checks them
    return t

_WINDOW = re.compile(r"^\s*(\d{4}-\d{2}-\d{2})\s*(?:/|\.\.)\s*(\d{4}-\d{2}-\d{2})\s*$")


def parse_window(text: str) -> tuple[dt.date, dt.date]:
    """``"2024-05-25/2024-06-20"`` (or ``..``) -> (start, end) local dates, both inclusive."""
    m = _WINDOW.match(str(text))
    if not m:
        raise InputError(f"params.windows: {text!r} is not 'YYYY-MM-DD/YYYY-MM-DD' "
                         "(local dates, both inclusive), e.g. \"2024-05-25/2024-06-20\".")
    try:
        a, b = dt.date.fromisoformat(m.group(1)), dt.date.fromisoformat(m.group(2))
    except ValueError as err:
        raise InputError(f"params.windows: {text!r}: {err}.") from None
    if b < a:
        raise InputError(f"params.windows: {text!r} ends before it starts.")
    return a, b


@dataclass(frozen=True)
class Params:
    """Parameters of fire-points, with the issue's values as defaults.

    Attributes
    ----------
    windows
        Harvest windows as local date ranges ``"YYYY-MM-DD/YYYY-MM-DD"`` (inclusive); empty: no
        window (every date counts, and "first in township" is over the whole run).
    viirs_classes
        VIIRS confidence classes kept (``l``, ``n``, ``h``).
    modis_min_confidence
        MODIS detections below this confidence (0-100) are low confidence.
    daynight
        ``both``, ``day`` or ``night`` overpasses.
    heat_source_radius_km
        Detections within this geodesic distance of a known heat source are industrial, km.
    derive_persistent
        Derive persistent sources from the detections' history.
    persistent_resolution, persistent_k, persistent_min_dates, persistent_min_months
        H3 resolution, neighbour rings, distinct local dates and distinct months that make a
        cell a persistent (industrial) source.
    eps_km, eps_hours, min_samples
        Event clustering: neighbour distance (km, great circle), time window (h), DBSCAN
        min_samples (1: every kept detection is in an event).
    h3_resolution
        Resolution of the ``cells`` layer (8: ~0.74 km²).
    cropland_classes
        Class codes of the cropland raster that are cropland (ESA WorldCover: 40).
    clip_to_counties
        Leave out detections outside every county (when counties are given).
    local_tz
        Time zone of the output dates and times.
    accountability_rules
        ``"N=who"``: from the N-th event of a township in a window, ``who`` is answerable
        (聊办字〔2017〕49号 (十七) 二: 1 起 乡镇长, 2 起 乡镇书记).
    require_cropland
        Detections off cropland get status ``off_cropland`` and form no event (needs
        ``cropland``); default: kept and flagged, the summary counts them.
    village_max_km
        Nearest village (and its grid keeper) within this distance of an event, km.
    receptor_km
        Sensitive receptors within this distance of an event are listed, km.
    report_date
        Daily runs (``--date``/``--since last``): the run's local date; detections after it are
        left out and ``first_reported``/``is_new`` are filled. Empty: not a daily run.
    since_last
        New means "not in the previous result" (``--since last``) instead of "first reported on
        report_date".
    """

    windows: tuple[str, ...] = ()
    viirs_classes: tuple[str, ...] = ("n", "h")
    modis_min_confidence: float = 30.0
    daynight: str = "both"
    heat_source_radius_km: float = 1.0
    derive_persistent: bool = True
    persistent_resolution: int = 9
    persistent_k: int = 1
    persistent_min_dates: int = 4
    persistent_min_months: int = 2
    eps_km: float = 1.0
    eps_hours: float = 24.0
    min_samples: int = 1
    h3_resolution: int = 8
    cropland_classes: tuple[int, ...] = (40,)
    clip_to_counties: bool = True
    local_tz: str = firms.LOCAL_TZ
    accountability_rules: tuple[str, ...] = acc.DEFAULT_RULES
    require_cropland: bool = False
    village_max_km: float = 2.0
    receptor_km: float = 3.0
    report_date: str = ""
    since_last: bool = False

    def __post_init__(self) -> None:
        check_types(self)
        acc.parse_rules(self.accountability_rules)
        for key in ("village_max_km", "receptor_km"):
            if not 0 <= getattr(self, key) <= 50:
                raise InputError(f"params.{key} must be in [0, 50] km, not {getattr(self, key)}.")
        if self.report_date:
            try:
                dt.date.fromisoformat(self.report_date)
            except ValueError:
                raise InputError(f"params.report_date {self.report_date!r}: expected "
                                 "YYYY-MM-DD.") from None
        for w in self.windows:
            parse_window(w)
        bad = [c for c in self.viirs_classes if c not in ("l", "n", "h")]
        if bad:
            raise InputError(f"params.viirs_classes: unknown class(es) {bad}; use l, n, h.")
        if not 0 <= self.modis_min_confidence <= 100:
            raise InputError("params.modis_min_confidence must be in [0, 100], not "
                             f"{self.modis_min_confidence}.")
        if self.daynight not in ("both", "day", "night"):
            raise InputError(f"params.daynight must be both, day or night, not {self.daynight!r}.")
        if not 0 <= self.heat_source_radius_km <= 50:
            raise InputError("params.heat_source_radius_km must be in [0, 50] km, not "
                             f"{self.heat_source_radius_km}.")
        for key in ("persistent_resolution", "h3_resolution"):
            if not 0 <= getattr(self, key) <= 15:
                raise InputError(f"params.{key} must be 0..15, not {getattr(self, key)}.")
        for key in ("persistent_k", "persistent_min_dates", "persistent_min_months"):
            if getattr(self, key) < 0:
                raise InputError(f"params.{key} must be >= 0, not {getattr(self, key)}.")
        if not 0 < self.eps_km <= 100:
            raise InputError(f"params.eps_km must be in (0, 100] km, not {self.eps_km}.")
        if not 0 <= self.eps_hours <= 24 * 31:
            raise InputError(f"params.eps_hours must be in [0, 744] h, not {self.eps_hours}.")
        if self.min_samples < 1:
            raise InputError(f"params.min_samples must be >= 1, not {self.min_samples}.")
        try:
            pd.Timestamp("2024-01-01", tz=self.local_tz)
        except Exception:
            raise InputError(f"params.local_tz: unknown time zone {self.local_tz!r} "
                             "(e.g. Asia/Shanghai).") from None


POINT_COLUMNS = ["lon", "lat", "local_time", "local_date", "utc_time", "satellite", "instrument",
                 "confidence", "conf_class", "frp", "brightness", "bright_2", "daynight",
                 "status", "event_id", "window", "heat_source", "county_code", "county_name",
                 "township_code", "township_name", "on_cropland", "file", "row",
                 "first_reported", "is_new"]
EVENT_COLUMNS = ["event_id", "start_time", "end_time", "start_date", "window", "n_points",
                 "frp_max", "frp_sum", "instruments", "lon", "lat", "county_code", "county_name",
                 "township_code", "township_name", "first_in_township", "event_code"]


# ------------------------------------------------------------------------------ steps


def local_days(local_time: pd.Series) -> np.ndarray:
    """Local calendar day of tz-aware times as ``datetime64[D]`` (the wall-clock date)."""
    naive = local_time.dt.tz_localize(None)
    return naive.to_numpy().astype("datetime64[D]")


def window_index(days: np.ndarray, windows: list[tuple[dt.date, dt.date]]) -> np.ndarray:
    """Index of the first window containing each local day, -1 for none (no windows: all 0)."""
    out = np.full(days.size, -1 if windows else 0, dtype=np.int64)
    for i in range(len(windows) - 1, -1, -1):  # first window wins: assign in reverse
        a, b = (np.datetime64(d, "D") for d in windows[i])
        out[(days >= a) & (days <= b)] = i
    return out


def event_polygons(lng: np.ndarray, lat: np.ndarray, label: np.ndarray, half_pixel_m: np.ndarray,
                   n_events: int) -> np.ndarray:
    """Convex hull of each event's detections buffered by its largest half pixel (metres, UTM).

    ``label`` is the event index 0..n_events-1 of each detection (all >= 0).
    """
    if n_events == 0:
        return np.zeros(0, dtype=object)
    crs = coords.metric_crs(lng, lat)
    tr = pyproj.Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    x, y = tr.transform(lng, lat)
    order = np.argsort(label, kind="stable")
    mp = shapely.multipoints(np.column_stack([x, y])[order], indices=label[order])
    r = np.zeros(n_events)
    np.maximum.at(r, label, half_pixel_m)
    poly = shapely.buffer(shapely.convex_hull(mp), r, quad_segs=8)
    return gpd.GeoSeries(poly, crs=crs).to_crs("EPSG:4326").to_numpy()


def _utc_ns(t: pd.Series) -> np.ndarray:
    """tz-aware times as int64 nanoseconds since the Unix epoch (UTC)."""
    return t.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy().astype(
        "datetime64[ns]").astype(np.int64)


def _fmt_time(t: pd.Series) -> np.ndarray:
    """Local times as ``YYYY-MM-DD HH:MM`` text (object array)."""
    return per_distinct(t, lambda u: u.dt.strftime("%Y-%m-%d %H:%M"))


def _attach_units(lng: np.ndarray, lat: np.ndarray, units: gpd.GeoDataFrame | None,
                  cols: tuple[str, ...]) -> dict[str, np.ndarray]:
    out = {c: np.full(len(lng), None, dtype=object) for c in cols}
    if units is None or len(units) == 0:
        return out
    idx = admin.locate(lng, lat, units)
    hit = idx >= 0
    for c in cols:
        if c in units:
            out[c][hit] = units[c].to_numpy(dtype=object)[idx[hit]]
    return out


# ------------------------------------------------------------------------------ run


#: read this analysis's input files as `lantian run` does (analyses.api.read_inputs)
read_inputs = api.module_reader(__name__)


@api.entry
def run(inputs: dict[str, Any], params: Params, *,
        engine: LocalEngine | None = None) -> Result:
    """Classify FIRMS detections, cluster kept ones into events and attribute them.

    Parameters
    ----------
    inputs
        ``fires`` (a frame from :func:`spatial.firms.read_firms`), optional ``counties``,
        ``townships`` (polygons with code, name), ``cropland`` (a
        :class:`spatial.landcover.ClassRaster` or polygons), ``heat_sources`` (points with
        lon/lat), all EPSG:4326.
    params
        See :class:`Params`.
    engine
        Where the heavy steps run (H3 indexing, clustering): in process by default, or a
        :class:`spatial.engine.DaskEngine`; the results are the same.
    """
    eng = engine if engine is not None else LocalEngine()
    fires = inputs["fires"]
    counties, townships = inputs.get("counties"), inputs.get("townships")
    cropland, known = inputs.get("cropland"), inputs.get("heat_sources")
    tz = params.local_tz
    summary: list[str] = []
    f = fires.reset_index(drop=True)
    if len(f) and str(f["local_time"].dt.tz) != tz:
        f = f.assign(local_time=f["utc_time"].dt.tz_convert(tz))
    lng, lat = f["lon"].to_numpy("float64"), f["lat"].to_numpy("float64")

    cty = _attach_units(lng, lat, counties, ("code", "name", "city_name"))
    n_input = len(f)
    if counties is not None and params.clip_to_counties:
        inside = pd.notna(cty["code"])
        f = f[inside].reset_index(drop=True)
        cty = {k: v[inside] for k, v in cty.items()}
        lng, lat = lng[inside], lat[inside]
        summary.append(f"{len(f)} of {n_input} detections lie in the {len(counties)} counties "
                       f"({n_input - len(f)} outside are left out).")
    if params.report_date and len(f):
        later = local_days(f["local_time"]) > np.datetime64(params.report_date, "D")
        if later.any():
            f = f[~later].reset_index(drop=True)
            cty = {k: v[~later] for k, v in cty.items()}
            lng, lat = lng[~later], lat[~later]
            summary.append(f"{int(later.sum())} detections after {params.report_date} (local) "
                           "are left out of the run for that day.")
    n = len(f)
    twn = _attach_units(lng, lat, townships, ("code", "name"))

    days = local_days(f["local_time"]) if n else np.zeros(0, "datetime64[D]")
    windows = [parse_window(w) for w in params.windows]
    labels = [f"{a}/{b}" for a, b in windows] or ["all"]
    win = window_index(days, windows)

    dup = firms.duplicated(f)
    inst = f["instrument"].to_numpy(dtype=object)
    conf = f["confidence"].to_numpy("float64")
    confident = np.where(inst == "VIIRS", np.isin(f["conf_class"].to_numpy(dtype=object),
                                                  list(params.viirs_classes)),
                         conf >= params.modis_min_confidence)
    dn = f["daynight"].to_numpy(dtype=object)
    in_time = win >= 0
    if params.daynight != "both":
        in_time &= dn == ("D" if params.daynight == "day" else "N")

    # industrial: known sources within the radius, and derived persistent cells
    heat_source = np.full(n, None, dtype=object)
    known_rows = pd.DataFrame(columns=SOURCE_COLUMNS)
    if known is not None and len(known) and params.heat_source_radius_km > 0:
        k = known.reset_index(drop=True)
        kid = k["id"].fillna(pd.Series([f"HS{i + 1:02d}" for i in range(len(k))])).to_numpy(
            dtype=object)
        ia, ib, _ = geodesy.pairs_within(lng, lat, k["lon"].to_numpy(), k["lat"].to_numpy(),
                                         distance=params.heat_source_radius_km * 1000.0)
        j = overlay.first_per(ia, ib, n)
        heat_source[j >= 0] = kid[j[j >= 0]]
        known_rows = pd.DataFrame({"source": "known", "id": kid, "name": k["name"].to_numpy(),
                                   "kind": k["kind"].to_numpy(), "lon": k["lon"].to_numpy(),
                                   "lat": k["lat"].to_numpy()})
    verif = inputs.get("verification")
    vsrc = fire_verification.verified_sources(verif) if verif is not None else None
    if vsrc is not None and len(vsrc):  # 工业热源 answers: sources for later local dates
        vhit = fire_verification.match_verified(lng, lat, days, vsrc,
                                                radius_km=max(params.heat_source_radius_km, 0))
        miss = pd.isna(heat_source) & pd.notna(vhit)
        heat_source[miss] = vhit[miss]
        known_rows = pd.concat([d for d in (known_rows, vsrc.drop(columns="after")) if len(d)],
                               ignore_index=True).reindex(columns=SOURCE_COLUMNS)
    evidence = ~dup & confident
    derived = pd.DataFrame(columns=SOURCE_COLUMNS)
    if params.derive_persistent and n:
        all_cells = eng.points_to_cells(lat, lng, resolution=params.persistent_resolution)
        _, _, zone = persistent_cells(
            lat[evidence], lng[evidence], days[evidence], resolution=params.persistent_resolution,
            k=params.persistent_k, min_dates=params.persistent_min_dates,
            min_months=params.persistent_min_months)
        derived, src_of = derived_sources(zone, all_cells, lat, lng, days, evidence)
        ids = derived["id"].to_numpy(dtype=object)
        if len(derived) and len(known_rows):
            # a derived source at a known one is that known source (not listed twice)
            ia, ib, _ = geodesy.pairs_within(
                derived["lon"].to_numpy(float), derived["lat"].to_numpy(float),
                known_rows["lon"].to_numpy(float), known_rows["lat"].to_numpy(float),
                distance=params.heat_source_radius_km * 1000.0)
            j = overlay.first_per(ia, ib, len(derived))
            ids = ids.copy()
            ids[j >= 0] = known_rows["id"].to_numpy(dtype=object)[j[j >= 0]]
            keep = ~np.isin(np.arange(len(derived)), ia)
            renum = np.array([f"PS{i + 1:02d}" for i in range(int(keep.sum()))], dtype=object)
            ids[keep] = renum
            derived = derived[keep].reset_index(drop=True)
            derived["id"] = renum
        dmask = (src_of >= 0) & pd.isna(heat_source)
        heat_source[dmask] = ids[src_of[dmask]]

    on_crop = _on_cropland(cropland, lng, lat, params)
    if params.require_cropland and cropland is None:
        raise InputError("params.require_cropland = true needs [inputs.cropland] (a land-cover "
                         "GeoTIFF or cropland polygons).")
    off_crop = np.asarray(pd.array(on_crop, dtype="boolean").fillna(True)) == False  # noqa: E712
    status = np.select([dup, ~confident, ~in_time, pd.notna(heat_source),
                        off_crop & params.require_cropland],
                       ["duplicate", "low_confidence", "outside_window", "industrial",
                        "off_cropland"], default="kept").astype(object)
    heat_source[status != "industrial"] = None

    # events
    kept = np.flatnonzero(status == "kept")
    lab = eng.st_dbscan(lat[kept], lng[kept], f["utc_time"].iloc[kept],
                            eps_m=params.eps_km * 1000.0, eps_s=params.eps_hours * 3600.0,
                            min_samples=params.min_samples) if kept.size else np.zeros(0, np.int64)
    in_ev = lab >= 0
    n_ev = int(lab.max()) + 1 if in_ev.any() else 0
    utc_ns = _utc_ns(f["utc_time"].iloc[kept])
    start = np.full(n_ev, np.iinfo(np.int64).max)
    np.minimum.at(start, lab[in_ev], utc_ns[in_ev])
    ev_rank = np.empty(n_ev, dtype=np.int64)
    ev_rank[np.lexsort((np.arange(n_ev), start))] = np.arange(n_ev)  # ids by start time
    event_id = pd.array([pd.NA] * n, dtype="Int64")
    ev_of_kept = np.where(in_ev, ev_rank[np.maximum(lab, 0)], -1)
    if kept.size:
        ids = pd.array(np.where(in_ev, ev_of_kept + 1, 0), dtype="Int64")
        ids[~in_ev] = pd.NA
        event_id[kept] = ids

    # the events' outlines (GEOS and PROJ, which release the GIL) are drawn in a thread while
    # the detections' frame and the cells are built here: the same outlines, ~3 s sooner
    with ThreadPoolExecutor(max_workers=1) as pool:
        in_event = ev_of_kept >= 0
        rows = kept[in_event]
        half = np.where(inst[rows] == "MODIS", firms.PIXEL_M["MODIS"],
                        firms.PIXEL_M["VIIRS"]) / 2.0
        outlines = pool.submit(event_polygons, lng[rows], lat[rows], ev_of_kept[in_event],
                               half, n_ev)
        pts = pd.DataFrame({
            "lon": lng, "lat": lat, "local_time": _fmt_time(f["local_time"]),
            "local_date": per_distinct(days, lambda u: u.astype(str)) if n else [],
            "utc_time": per_distinct(f["utc_time"], lambda u: u.dt.strftime("%Y-%m-%dT%H:%MZ")),
            "satellite": text_values(f["satellite"]), "instrument": text_values(f["instrument"]),
            "confidence": conf, "conf_class": text_values(f["conf_class"]),
            "frp": f["frp"].to_numpy("float64"), "brightness": f["brightness"].to_numpy("float64"),
            "bright_2": f["bright_2"].to_numpy("float64"), "daynight": dn, "status": status,
            "event_id": event_id,
            "window": np.where(win >= 0, np.array(labels, dtype=object)[np.maximum(win, 0)], None),
            "heat_source": heat_source, "county_code": cty["code"], "county_name": cty["name"],
            "township_code": twn["code"], "township_name": twn["name"], "on_cropland": on_crop,
            # the file as read (the runner writes it relative to the config's folder)
            "file": f["file"].astype(str).to_numpy(dtype=object) if n else [],
            "row": f["row"].to_numpy(np.int64), "first_reported": None, "is_new": None,
        }, columns=POINT_COLUMNS)
        prev = inputs.get("previous")
        if params.report_date or prev is not None:  # daily runs; others carry the history over
            first, new = fire_daily.first_reported(
                fire_daily.detection_keys(pts), prev, label=params.report_date or None,
                since_last=params.since_last)
            pts["first_reported"] = first
            pts["is_new"] = new if params.report_date else None
        points = gpd.GeoDataFrame(pts, geometry=gpd.points_from_xy(lng, lat), crs="EPSG:4326")

        cells = _cells(points, params)
        events = _events(points, f, kept, ev_of_kept, n_ev, townships is not None, labels,
                         outlines.result())
    events, rejected = fire_daily.apply_rules(events, points, inputs, params, summary)
    sources = pd.concat([d for d in (known_rows, derived) if len(d)] or
                        [pd.DataFrame(columns=SOURCE_COLUMNS)], ignore_index=True
                        ).reindex(columns=SOURCE_COLUMNS)
    sources["n_excluded"] = sources["id"].map(
        pd.Series(heat_source).value_counts()).fillna(0).astype(np.int64)
    for c in ("n_detections", "n_dates", "n_months"):
        sources[c] = pd.array(sources[c], dtype="Int64") if len(sources) else \
            pd.array([], dtype="Int64")
    src_layer = gpd.GeoDataFrame(
        sources[SOURCE_COLUMNS], crs="EPSG:4326",
        geometry=gpd.points_from_xy(sources["lon"].astype(float), sources["lat"].astype(float)))

    kept_pts = points.iloc[kept]
    tables = {
        "by_county": ranked(kept_pts, events, ["county_code", "county_name"], labels),
        "by_township": (ranked(kept_pts, events, ["county_code", "county_name", "township_code",
                                                   "township_name"], labels)
                        if townships is not None else ranked(kept_pts.iloc[:0], events.iloc[:0], [
                            "county_code", "county_name", "township_code", "township_name"],
                            labels)),
        "bulletin": bulletin(points, kept, cty.get("city_name")),
        "accountability": acc.township_table(events, params.accountability_rules),
        "rejected": rejected,
    }
    summary += _summary(points, events, derived, known_rows, params, townships is not None,
                        n_input)
    title = "秸秆焚烧卫星火点" + (f"（{'，'.join(labels)}）" if windows else "")
    ctx = {k: v for k, v in (("counties", counties), ("townships", townships)) if v is not None}
    result = Result(analysis=NAME, params=params,
                    layers={"points": points, "events": events, "cells": cells,
                            "heat_sources": src_layer},
                    tables=tables, summary=summary, fields=FIELDS, title=title, context=ctx)
    # the map's decision, said here too (the legends made once for both estimates)
    big = sum(len(result.layers[k]) for k in ("cells", "events", "points")) > \
        fire_points_map.SMALL
    legs = fire_points_map.symbology(result) if big else None
    draw, estimate = fire_points_map.points_plan(result, legs)
    if not draw:
        result.summary.append(fire_points_map.left_out_summary(result, estimate))
        national = fire_points_map.national_summary(result, legs)
        if national:
            result.summary.append(national)
    for name, table in tables.items():  # a national season: the bulletin is CSV only
        if len(table) > excel.SHEET_MAX_ROWS:
            result.summary.append(f"The {name} table has {len(table):,} rows, more than the "
                           f"{excel.SHEET_MAX_ROWS:,} a sheet of tables.xlsx holds: its sheet "
                           f"says so and the rows are in {name}.csv.")
    return result


def _on_cropland(cropland: Any, lng: np.ndarray, lat: np.ndarray, params: Params) -> Any:
    if cropland is None:
        return np.full(len(lng), None, dtype=object)
    if isinstance(cropland, landcover.ClassRaster):
        codes = landcover.sample(cropland, lng, lat)
        on = np.isin(codes, list(params.cropland_classes))
    else:
        on = admin.locate(lng, lat, cropland) >= 0
    return pd.array(on, dtype="boolean")


def _events(points: gpd.GeoDataFrame, f: pd.DataFrame, kept: np.ndarray, ev: np.ndarray,
            n_ev: int, has_townships: bool, labels: list[str],
            geom: np.ndarray) -> gpd.GeoDataFrame:
    """The events layer; `geom`: their outlines (:func:`event_polygons`), by event index."""
    sel = ev >= 0
    idx = kept[sel]
    e = ev[sel]
    p = pd.DataFrame(points[["local_time", "lon", "lat", "frp", "instrument"]]).iloc[idx]
    utc = f["utc_time"].iloc[idx]
    df = pd.DataFrame({"e": e, "utc": _utc_ns(utc), "local": p["local_time"].to_numpy(),
                       "lon": p["lon"].to_numpy(), "lat": p["lat"].to_numpy(),
                       "frp": p["frp"].to_numpy(), "inst": p["instrument"].to_numpy(),
                       "pos": np.arange(len(idx))})
    df = df.sort_values(["e", "utc", "pos"], kind="stable")
    g = df.groupby("e", sort=True)
    origin = idx[g["pos"].first().to_numpy()] if n_ev else np.zeros(0, np.int64)
    o = points.iloc[origin]
    out = pd.DataFrame({
        "event_id": np.arange(1, n_ev + 1, dtype=np.int64),
        "start_time": g["local"].first().to_numpy(dtype=object) if n_ev else [],
        "end_time": g["local"].max().to_numpy(dtype=object) if n_ev else [],
        "start_date": o["local_date"].to_numpy(dtype=object),
        "window": o["window"].to_numpy(dtype=object),
        "n_points": g.size().to_numpy(np.int64) if n_ev else np.zeros(0, np.int64),
        "frp_max": g["frp"].max().to_numpy("float64") if n_ev else [],
        "frp_sum": g["frp"].sum().round(1).to_numpy("float64") if n_ev else [],
        "instruments": fire_groups.joined_sorted_unique(df["inst"].to_numpy(object),
                                                        df["e"].to_numpy(), n_ev)
        if n_ev else [],
        "lon": g["lon"].mean().round(5).to_numpy() if n_ev else [],
        "lat": g["lat"].mean().round(5).to_numpy() if n_ev else [],
        "county_code": o["county_code"].to_numpy(dtype=object),
        "county_name": o["county_name"].to_numpy(dtype=object),
        "township_code": o["township_code"].to_numpy(dtype=object),
        "township_name": o["township_name"].to_numpy(dtype=object),
    })
    out["event_code"] = acc.event_codes(out["start_time"], fire_daily.detection_keys(o))
    first = pd.array([pd.NA] * n_ev, dtype="boolean")
    if has_townships and n_ev:
        known = out["township_code"].notna().to_numpy()
        # events are numbered by start time, so the first per (window, township) is the min id
        firsts = out[known].groupby(["window", "township_code"])["event_id"].transform("min")
        first[:] = False
        first[np.flatnonzero(known)] = (firsts == out.loc[known, "event_id"]).to_numpy()
    out["first_in_township"] = first
    return gpd.GeoDataFrame(out[EVENT_COLUMNS], geometry=list(geom) if n_ev else [],
                            crs="EPSG:4326")


def _cells(points: gpd.GeoDataFrame, params: Params) -> gpd.GeoDataFrame:
    k = points[points["status"] == "kept"]
    cells = h3grid.points_to_cells(k["lat"].to_numpy(), k["lon"].to_numpy(),
                                   resolution=params.h3_resolution)
    df = pd.DataFrame({"c": cells, "e": k["event_id"].to_numpy(), "frp": k["frp"].to_numpy(),
                       "d": k["local_date"].to_numpy()})
    g = df.groupby("c", sort=True)
    data = {"n_points": g.size().to_numpy(np.int64),
            "n_events": g["e"].nunique().to_numpy(np.int64),
            "frp_sum": g["frp"].sum().round(1).to_numpy("float64"),
            "first_date": g["d"].min().to_numpy(dtype=object),
            "last_date": g["d"].max().to_numpy(dtype=object)}
    ucells = np.asarray(g.size().index.to_numpy(), dtype=np.uint64)
    return h3grid.cells_to_gdf(ucells, data)


def _summary(points: pd.DataFrame, events: pd.DataFrame, derived: pd.DataFrame,
             known: pd.DataFrame, params: Params, has_townships: bool, n_input: int
             ) -> list[str]:
    n = len(points)
    if n == 0:
        return [f"No FIRMS detection {'in the counties' if params.clip_to_counties else ''} "
                f"({n_input} in the files): the layers and tables are written empty. Check that "
                "the downloads cover the counties and the dates you meant."]
    counts = points["status"].value_counts()
    lines = [", ".join(f"{s} {int(counts.get(s, 0))}" for s in STATUSES) +
             f" of {n} detections."]
    lines.append(f"{len(events)} fire events (eps {params.eps_km:g} km, {params.eps_hours:g} h)"
                 f"; {int((points['status'] == 'kept').sum())} kept detections in "
                 f"{events['county_code'].nunique()} counties.")
    lines.append(f"Industrial heat sources: {len(known)} known, {len(derived)} derived "
                 f"(>= {params.persistent_min_dates} dates in >= {params.persistent_min_months} "
                 "months).")
    if has_townships:
        lines.append(f"{int(events['first_in_township'].fillna(False).sum())} first events in "
                     "a township (per window).")
    else:
        lines.append("No township layer: township columns are empty and first_in_township is "
                     "missing; add [inputs.townships] for the township heads' lists.")
    return lines
