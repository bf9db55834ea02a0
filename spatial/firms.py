"""Read NASA FIRMS active-fire downloads (MODIS and VIIRS, CSV or Shapefile) into one schema.

FIRMS files come in two flavours that differ in columns and codes:

========== ================================ =====================================
           MODIS (1 km)                     VIIRS (375 m)
========== ================================ =====================================
brightness ``brightness`` (channel 21/22, K) ``bright_ti4`` (I-4, K)
second     ``bright_t31`` (K)               ``bright_ti5`` (K)
confidence 0-100                            ``l`` / ``n`` / ``h`` (low, nominal, high)
satellite  ``T`` Terra, ``A`` Aqua          ``N`` Suomi-NPP, ``1`` NOAA-20, ``2`` NOAA-21
========== ================================ =====================================

The flavour is recognised per file from its columns (``bright_ti4`` -> VIIRS, ``brightness`` ->
MODIS; an ``instrument`` column decides otherwise). Headers are matched case-insensitively, so
FIRMS Shapefiles (upper-case ``LATITUDE``, ``ACQ_DATE`` as a date field) read the same as CSVs.

``acq_date`` + ``acq_time`` (``hhmm``) are UTC; the schema carries the UTC time and the local
time (default Asia/Shanghai, UTC+8), so a night overpass at 18:30 UTC falls on the next local day.

Normalised confidence (0-100): MODIS keeps its value; VIIRS classes map to the middle of the
MODIS class ranges (low 0-29 -> 15, nominal 30-79 -> 55, high 80-100 -> 90). ``conf_class`` is
``l``/``n``/``h`` for both (MODIS: < 30 low, < 80 nominal, else high, as FIRMS documents).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from . import io, progress, sources
from .errors import InputError
from .values import per_distinct

log = logging.getLogger(__name__)

LOCAL_TZ = "Asia/Shanghai"

#: satellite codes as FIRMS writes them (upper-cased) -> our satellite names
SATELLITES = {
    "T": "Terra", "TERRA": "Terra", "A": "Aqua", "AQUA": "Aqua",
    "N": "Suomi-NPP", "NPP": "Suomi-NPP", "SNPP": "Suomi-NPP", "SUOMI-NPP": "Suomi-NPP",
    "SUOMI NPP": "Suomi-NPP", "1": "NOAA-20", "N20": "NOAA-20", "NOAA-20": "NOAA-20",
    "NOAA20": "NOAA-20", "J1": "NOAA-20", "2": "NOAA-21", "N21": "NOAA-21",
    "NOAA-21": "NOAA-21", "NOAA21": "NOAA-21", "J2": "NOAA-21",
}
VIIRS_CLASSES = {"l": 15.0, "low": 15.0, "n": 55.0, "nominal": 55.0, "h": 90.0, "high": 90.0}
#: nominal pixel size at nadir, metres
PIXEL_M = {"MODIS": 1000.0, "VIIRS": 375.0}

#: columns of the normalised frame, in order (geometry last)
COLUMNS = ["lon", "lat", "utc_time", "local_time", "satellite", "instrument", "confidence",
           "conf_class", "frp", "brightness", "bright_2", "scan", "track", "daynight",
           "version", "file", "row"]

_FLAVOURS = {
    "MODIS": {"brightness": "brightness", "bright_2": "bright_t31"},
    "VIIRS": {"brightness": "bright_ti4", "bright_2": "bright_ti5"},
}


def empty_frame(*, tz: str = LOCAL_TZ) -> gpd.GeoDataFrame:
    """A normalised frame with no rows (every column typed as :func:`read_firms` gives it)."""
    df = pd.DataFrame({c: pd.Series(dtype=object) for c in COLUMNS})
    for c in ("lon", "lat", "confidence", "frp", "brightness", "bright_2", "scan", "track"):
        df[c] = df[c].astype("float64")
    df["row"] = df["row"].astype("int64")
    df["utc_time"] = pd.Series(dtype="datetime64[ns, UTC]")
    df["local_time"] = pd.Series(dtype=f"datetime64[ns, {tz}]")
    return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy([], []), crs="EPSG:4326")


def instrument_of(columns: Sequence[str], *, path: Path | str) -> str | None:
    """Return ``"MODIS"`` or ``"VIIRS"`` from a file's (lower-cased) columns.

    None when an ``instrument`` column must decide row by row.
    """
    cols = set(columns)
    if "bright_ti4" in cols:
        return "VIIRS"
    if "brightness" in cols:
        return "MODIS"
    if "instrument" in cols:
        return None
    raise InputError(
        f"{path}: not a FIRMS fire file: no bright_ti4 (VIIRS) or brightness (MODIS) column; its "
        f"columns are: {', '.join(columns)}. Download the CSV or Shapefile from FIRMS unchanged."
    )


def _col(raw: pd.DataFrame, name: str) -> pd.Series:
    if name in raw.columns:
        return raw[name]
    return pd.Series([None] * len(raw), index=raw.index, dtype=object)


def _date_text(values: pd.Series) -> pd.Series:
    """acq_date as ``YYYY-MM-DD`` text (CSV text, or Shapefile date/datetime values)."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.dt.strftime("%Y-%m-%d")
    return _map_distinct(values, lambda v: None if v is None or (isinstance(v, float)
                                                                 and np.isnan(v))
                         else str(v).strip()[:10].replace("/", "-"))


def _map_distinct(values: pd.Series, func) -> pd.Series:
    """``values.map(func)`` (object dtype) with one call per distinct value.

    A season has ~100 dates and a few overpass times among a million rows. Missing values
    (None, NaN) give None.
    """
    codes, uniques = pd.factorize(values)
    out = np.array([func(u) for u in uniques] + [None], dtype=object)
    return pd.Series(out[codes], index=values.index, dtype=object)


def _time_text(values: pd.Series) -> pd.Series:
    """acq_time as ``hhmm`` text: ``5`` -> ``0005``, ``05:10`` / ``510.0`` -> ``0510``."""
    def one(v: object) -> str | None:
        if v is None or (isinstance(v, float) and np.isnan(v)):
            return None
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        s = str(v).strip().replace(":", "")
        return s.zfill(4) if s.isdigit() and len(s) <= 4 else None
    return _map_distinct(values, one)


def utc_times(acq_date: pd.Series, acq_time: pd.Series) -> pd.Series:
    """Combine FIRMS ``acq_date`` and ``acq_time`` (hhmm, UTC) into tz-aware UTC datetimes.

    Unreadable values give NaT.
    """
    text = _date_text(acq_date) + " " + _time_text(acq_time)
    return pd.to_datetime(text, format="%Y-%m-%d %H%M", utc=True, errors="coerce")


def normalize(raw: pd.DataFrame, *, path: Path | str, name: str = "fires", first_row: int = 2,
              tz: str = LOCAL_TZ) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Normalise one FIRMS file as read by :func:`spatial.io.read_raw`.

    Parameters
    ----------
    raw
        The file's rows (text columns for CSV; typed columns and geometry for Shapefiles).
    path
        The file, for messages and the ``file`` column.
    name
        Input name for the ``rejected`` table.
    first_row
        File row number of the first record (2 for CSV: the header is row 1; 1 for vector files).
    tz
        Local time zone of ``local_time``.

    Returns
    -------
    frame, rejected
        ``frame``: a GeoDataFrame (EPSG:4326, x = lon, y = lat) with :data:`COLUMNS`;
        ``rejected``: rows without usable coordinates, time or confidence, with a reason each.
    """
    geom = raw.geometry if isinstance(raw, gpd.GeoDataFrame) else None
    attrs = raw.drop(columns=raw.geometry.name) if geom is not None else raw
    attrs = attrs.rename(columns=lambda c: str(c).strip().lower())
    flavour = instrument_of(list(attrs.columns), path=path)
    n = len(attrs)
    row = np.arange(n, dtype=np.int64) + first_row
    if flavour is None:
        instrument = per_distinct(io.parse_text(attrs["instrument"]),
                                  lambda u: u.str.upper()).astype(object)
    else:
        instrument = np.full(n, flavour, dtype=object)
    is_viirs = instrument == "VIIRS"
    lat = io.parse_numbers(_col(attrs, "latitude")).to_numpy()
    lon = io.parse_numbers(_col(attrs, "longitude")).to_numpy()
    if geom is not None and "latitude" not in attrs.columns:
        g = geom.to_crs("EPSG:4326") if geom.crs is not None and not geom.crs.equals(
            "EPSG:4326") else geom
        lon, lat = g.x.to_numpy(dtype="float64"), g.y.to_numpy(dtype="float64")
    utc = utc_times(_col(attrs, "acq_date"), _col(attrs, "acq_time"))

    conf_raw = io.parse_text(_col(attrs, "confidence"))
    conf_num = np.full(n, np.nan)  # MODIS rows: a number (VIIRS rows use their class)
    if not is_viirs.all():
        conf_num[~is_viirs] = io.parse_numbers(conf_raw[~is_viirs]).to_numpy()
    conf_cls = per_distinct(conf_raw, lambda u: u.str.lower().map(VIIRS_CLASSES)
                            ).astype("float64")
    confidence = np.where(is_viirs, conf_cls, conf_num)
    conf_class = np.select([confidence < 30, confidence < 80, confidence <= 100], ["l", "n", "h"],
                           default=None).astype(object)
    conf_class[np.isnan(confidence)] = None

    sat_text = io.parse_text(_col(attrs, "satellite"))
    sat = per_distinct(sat_text, lambda u: u.str.upper().map(SATELLITES).fillna(u)
                       ).astype(object)
    b1 = np.full(n, np.nan)
    b2 = np.full(n, np.nan)
    for inst, cols in _FLAVOURS.items():
        sel = instrument == inst
        if sel.any():
            b1[sel] = io.parse_numbers(_col(attrs, cols["brightness"])).to_numpy()[sel]
            b2[sel] = io.parse_numbers(_col(attrs, cols["bright_2"])).to_numpy()[sel]
    frame = pd.DataFrame({
        "lon": lon, "lat": lat, "utc_time": utc, "local_time": utc.dt.tz_convert(tz),
        "satellite": sat, "instrument": instrument, "confidence": confidence,
        "conf_class": conf_class, "frp": io.parse_numbers(_col(attrs, "frp")).to_numpy(),
        "brightness": b1, "bright_2": b2,
        "scan": io.parse_numbers(_col(attrs, "scan")).to_numpy(),
        "track": io.parse_numbers(_col(attrs, "track")).to_numpy(),
        "daynight": per_distinct(io.parse_text(_col(attrs, "daynight")),
                                 lambda u: u.str.upper()).astype(object),
        "version": io.parse_text(_col(attrs, "version")).to_numpy(dtype=object),
        "file": str(path), "row": row,
    })

    checks = [
        (np.isnan(lon) | np.isnan(lat), "missing or unreadable latitude/longitude"),
        ((np.abs(lat) > 90) | (np.abs(lon) > 180), "coordinates out of range"),
        (utc.isna().to_numpy(), "acq_date/acq_time unreadable (expected YYYY-MM-DD and hhmm UTC)"),
        (~np.isin(instrument, list(PIXEL_M)), "instrument is neither MODIS nor VIIRS"),
        (np.isnan(confidence) | (confidence < 0) | (confidence > 100),
         "confidence unreadable (MODIS 0-100, VIIRS l/n/h)"),
    ]
    bad = np.zeros(n, dtype=bool)
    rejected = [io.empty_rejected()]
    for mask, reason in checks:
        new = np.asarray(mask, dtype=bool) & ~bad
        if new.any():
            rejected.append(pd.DataFrame({"input": name, "file": str(path), "row": row[new],
                                          "id": None, "reason": reason}))
            bad |= new
    kept = frame[~bad].reset_index(drop=True)
    gdf = gpd.GeoDataFrame(kept, geometry=gpd.points_from_xy(kept["lon"], kept["lat"]),
                           crs="EPSG:4326")
    rej = pd.concat(rejected, ignore_index=True).sort_values("row", kind="stable")
    return gdf, rej.reset_index(drop=True)


def _read_file(path: Path, *, name: str, tz: str
               ) -> tuple[pd.DataFrame, pd.DataFrame, str | None, int, pd.DataFrame]:
    """One FIRMS file: (detections, rejected rows, encoding, rows read, the file's own columns).

    The last is :func:`spatial.sources.source_frame`: every column as the file has it
    (``scan``, ``track``, ``version``, ``bright_ti4`` …, ``confidence`` as ``n``/``h`` or 0-100),
    one row per record with its file row number ``row`` and the file in ``file`` (as the
    detections' ``file``).
    """
    raw, enc = io.read_raw(path, name=name)
    first = 1 if isinstance(raw, gpd.GeoDataFrame) else 2
    f, r = normalize(raw, path=path, name=name, first_row=first, tz=tz)
    src = sources.source_frame(raw, np.arange(len(raw), dtype=np.int64) + first)
    src.insert(0, "file", str(path))  # as the detections' file column: the join key with row
    log.info("Read %d %s detections from %s (%d rejected)", len(f),
             "/".join(sorted(set(f["instrument"].unique()))) or "no", path.name, len(r))
    return f, r, enc, len(raw), src


def read_firms(paths: Path | str | Sequence[Path | str], *, name: str = "fires",
               tz: str = LOCAL_TZ, map_files: io.MapFiles | None = None) -> io.Table:
    """Read one or many FIRMS files (CSV or Shapefile, MODIS and VIIRS mixed) into one frame.

    Each file is read on its own (``map_files(func, paths)``, e.g. one task per file on a Dask
    engine; default: in turn, here); the results are put together in the order of the files.

    Parameters
    ----------
    paths
        A file or a list of files (a config's glob is expanded by ``spatial.config``).
    name
        Input name for messages and the ``rejected`` table.
    tz
        Local time zone of ``local_time``.

    Returns
    -------
    spatial.io.Table
        ``frame``: every usable detection in file order (files in the order given), columns
        :data:`COLUMNS` and point geometry (EPSG:4326). Duplicates are *not* removed here (see
        :func:`duplicated`). ``rejected``: malformed rows with file, row and reason.
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    paths = [Path(p) for p in paths]
    if not paths:
        raise InputError(f"input '{name}': no FIRMS file given; set `path` to a file, list "
                         "or glob.")
    read = functools.partial(_read_file, name=name, tz=tz)
    parts = map_files(read, paths) if map_files is not None else [
        read(p) for p in progress.track(paths, f"reading {name} files")]
    frames = [f for f, _, _, _, _ in parts]
    rejected = [r for _, r, _, _, _ in parts]
    encs = {e for _, _, e, _, _ in parts}
    n_read = sum(n for _, _, _, n, _ in parts)
    # the files' own columns (spatial.sources), matched to output rows by file and row
    source = pd.concat([s for _, _, _, _, s in parts], ignore_index=True)
    frame = pd.concat([empty_frame(tz=tz), *frames], ignore_index=True) if frames else empty_frame()
    frame = gpd.GeoDataFrame(frame, geometry="geometry", crs="EPSG:4326")
    rej = pd.concat(rejected, ignore_index=True)
    return io.Table(name=name, path=paths[0], frame=frame, rejected=rej,
                    encoding="/".join(sorted(e for e in encs if e)) or None, columns={},
                    crs="wgs84", n_read=n_read, paths=paths,
                    n_read_by_file={str(p): n for p, (_, _, _, n, _) in zip(paths, parts,
                                                                           strict=True)},
                    source=source)


def duplicated(frame: pd.DataFrame) -> np.ndarray:
    """Flag exact repeats of an earlier detection, as overlapping downloads produce.

    Same instrument, satellite, lat, lon and UTC time: True for every repeat, False for the
    first occurrence (rows in file order, files in the order given).
    """
    if len(frame) == 0:
        return np.zeros(0, dtype=bool)
    key = ["instrument", "satellite", "lat", "lon", "utc_time"]
    return frame[key].duplicated(keep="first").to_numpy()
