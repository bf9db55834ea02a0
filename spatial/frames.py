"""A user's own (Geo)DataFrames as inputs, normalised exactly as the file readers do.

An analyst in a notebook passes frames instead of files: their columns are recognised by the
same names and aliases as file headers (:func:`spatial.io.resolve_columns`), parsed by the same
parsers, rows without a required value or usable coordinates go to ``rejected``, and a missing
required column is an :class:`~spatial.errors.InputError` naming it. The result is a
:class:`spatial.io.Table` like a reader's, its ``encoding`` :data:`FRAME_ENCODING` (no file:
no hash, no file rows; ``row`` is the frame's ``row`` column if it has one, else 1, 2, …).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import coords, io
from .errors import InputError

#: the ``encoding`` of a Table made from a frame (the manifest shows it; no file to hash)
FRAME_ENCODING = "(in-memory frame)"


def label(name: str) -> Path:
    """The stand-in "path" that names frame `name` in messages and the ``rejected`` table."""
    return Path(f"({name}: in-memory frame)")


def is_frame_table(t: io.Table) -> bool:
    """True when `t` was made from a frame (:func:`points_from_frame` and friends)."""
    return t.encoding == FRAME_ENCODING


def _user_rows(table: io.Table, frame: pd.DataFrame) -> io.Table:
    """Use the frame's own ``row`` column (when given) as the row numbers of `table`."""
    if "row" not in frame.columns:
        return table
    given = pd.to_numeric(frame["row"], errors="coerce")
    if given.isna().any() or given.duplicated().any():
        raise InputError(f"input '{table.name}': column 'row' must hold a distinct whole number "
                         "per row (the row in your source table); drop the column to have the "
                         "rows numbered 1, 2, ….")
    mapping = dict(zip(np.arange(1, len(frame) + 1), given.astype("int64"), strict=True))
    t = table
    t.frame["row"] = t.frame["row"].map(mapping).astype("int64")
    if len(t.rejected):
        t.rejected["row"] = t.rejected["row"].map(mapping)
    if t.source is not None and "row" in t.source.columns:
        t.source["row"] = t.source["row"].map(mapping)
    return t


def _vector(frame: pd.DataFrame, *, name: str, crs: str) -> tuple[gpd.GeoDataFrame, str]:
    """`frame` as a GeoDataFrame with point geometry (its own, or from its lon/lat columns)."""
    if isinstance(frame, gpd.GeoDataFrame) and frame.geometry.name in frame.columns:
        if frame.crs is None:
            raise InputError(f"input '{name}': the GeoDataFrame has no CRS; set it first "
                             "(frame.set_crs('EPSG:4326') for longitude/latitude degrees).")
        return frame, crs
    ll = (io.Field("lon", "float", True), io.Field("lat", "float", True))
    cols = io.resolve_columns(list(frame.columns), ll, None, path=label(name), name=name)
    lon = io.parse_numbers(frame[cols["lon"]]).to_numpy("float64")
    lat = io.parse_numbers(frame[cols["lat"]]).to_numpy("float64")
    crs_name = coords.normalize_crs_name(crs)
    if crs_name not in ("wgs84", "cgcs2000", "gcj02", "bd09"):
        ok = ~(np.isnan(lon) | np.isnan(lat))
        lon, lat = lon.copy(), lat.copy()
        lon[ok], lat[ok] = coords.to_wgs84(lon[ok], lat[ok], crs_name)
        crs_name = "wgs84"  # converted here: the vector path only knows shifted degrees
    attrs = pd.DataFrame(frame).drop(columns=[c for c in ("geometry",) if c in frame.columns])
    geom = gpd.points_from_xy(lon, lat)
    return gpd.GeoDataFrame(attrs.reset_index(drop=True), geometry=geom,
                            crs="EPSG:4326"), crs_name


def points_from_frame(frame: pd.DataFrame, *, fields: Sequence[io.Field], name: str,
                      crs: str = "wgs84") -> io.Table:
    """A point input from a DataFrame with lon/lat columns or a GeoDataFrame of points.

    ``crs`` is the coordinate system of a DataFrame's lon/lat columns (``wgs84``,
    ``cgcs2000``, ``gcj02``, ``bd09`` or ``"EPSG:…"``); for a GeoDataFrame its own CRS is used
    and ``gcj02``/``bd09`` declares EPSG:4326-labelled coordinates that are in fact shifted.
    The Table's frame is EPSG:4326 with ``lon``/``lat`` (WGS-84 degrees), every field of
    `fields` (absent optional ones empty) and ``row``.
    """
    if not isinstance(frame, pd.DataFrame):
        raise InputError(f"input '{name}': expected a DataFrame or GeoDataFrame, not "
                         f"{type(frame).__name__}.")
    gdf, crs_name = _vector(frame.drop(columns=["row"], errors="ignore"), name=name, crs=crs)
    user = [f for f in fields if f.name not in ("lon", "lat")]
    t = io.points_from_raw(gdf.reset_index(drop=True), FRAME_ENCODING, path=label(name),
                           fields=user, name=name, crs_name=crs_name, is_vector=True)
    t.paths = []
    return _user_rows(t, frame)


def polygons_from_frame(frame: gpd.GeoDataFrame, *, fields: Sequence[io.Field], name: str,
                        crs: str = "wgs84") -> io.Table:
    """A polygon input from a GeoDataFrame (any CRS; reprojected to EPSG:4326)."""
    if not isinstance(frame, gpd.GeoDataFrame):
        raise InputError(f"input '{name}': polygons must be a GeoDataFrame, not "
                         f"{type(frame).__name__}.")
    if frame.crs is None:
        raise InputError(f"input '{name}': the GeoDataFrame has no CRS; set it first "
                         "(frame.set_crs('EPSG:4326') for longitude/latitude degrees).")
    t = io.polygons_from_raw(frame.drop(columns=["row"], errors="ignore").reset_index(drop=True),
                             FRAME_ENCODING, path=label(name),
                             fields=fields, name=name,
                             crs_name=coords.normalize_crs_name(crs))
    t.paths = []
    return _user_rows(t, frame)


def table_from_frame(frame: pd.DataFrame, *, fields: Sequence[io.Field], name: str
                     ) -> io.Table:
    """A table input without coordinates (warning periods, targets…) from a DataFrame."""
    if not isinstance(frame, pd.DataFrame):
        raise InputError(f"input '{name}': expected a DataFrame, not {type(frame).__name__}.")
    attrs = pd.DataFrame(frame).drop(columns=["row"], errors="ignore").reset_index(drop=True)
    raw = gpd.GeoDataFrame(attrs, geometry=gpd.GeoSeries([None] * len(attrs)))
    parsed = io.parse_attributes(raw, list(fields), None, path=label(name), name=name)
    kept = parsed.frame[~parsed.bad].reset_index(drop=True)
    rej = pd.concat(parsed.rejected, ignore_index=True)
    t = io.Table(name=name, path=label(name), frame=kept, rejected=rej,
                 encoding=FRAME_ENCODING, columns=parsed.mapping, n_read=len(attrs),
                 warnings=parsed.warnings)
    return _user_rows(t, frame)


def as_is(frame: object, *, name: str) -> io.Table:
    """A prepared input (a raster, a reader's frame) kept as given, in a Table."""
    n = len(frame) if hasattr(frame, "__len__") else 0
    return io.Table(name=name, path=label(name), frame=frame, rejected=io.empty_rejected(),
                    encoding=FRAME_ENCODING, n_read=n)


def readings_from_frame(frame: pd.DataFrame, *, name: str = "readings",
                        tz: str = "Asia/Shanghai") -> io.Table:
    """Air-quality readings from a DataFrame, as :func:`spatial.io.read_readings` reads a file.

    Long (station_id, time or date + hour, pollutant, value), one column per pollutant, or
    the national archive's wide day layout; a frame ``read_readings`` returned passes as is.
    """
    from . import dedupe

    if not isinstance(frame, pd.DataFrame):
        raise InputError(f"input '{name}': expected a DataFrame, not {type(frame).__name__}.")
    done = {"station_id", "time", "pollutant", "value", "lon", "lat", "file", "row"}
    if done <= set(frame.columns) and isinstance(frame["time"].dtype, pd.DatetimeTZDtype):
        return io.Table(name=name, path=label(name), frame=frame, rejected=io.empty_rejected(),
                        encoding=FRAME_ENCODING, n_read=len(frame))
    raw = pd.DataFrame(frame).reset_index(drop=True)
    long, rejected = io.readings_from_raw(raw, path=label(name), name=name, columns=None, tz=tz,
                                          first_row=1)
    long = long.reset_index(drop=True)
    long["station_id"] = long["station_id"].astype(object)
    long, repeats = dedupe.repeated_readings(long, name=name)  # never counted twice
    rej = pd.concat([io.empty_rejected(), *rejected, repeats], ignore_index=True)
    return io.Table(name=name, path=label(name), frame=long, rejected=rej,
                    encoding=FRAME_ENCODING, n_read=len(raw))


def firms_from_frame(frame: pd.DataFrame, *, name: str = "fires",
                     tz: str = "Asia/Shanghai") -> io.Table:
    """FIRMS detections from a DataFrame of a FIRMS CSV (``pd.read_csv``) or a GeoDataFrame.

    Normalised by :func:`spatial.firms.normalize` as the file reader does (rows numbered 1, 2,
    …); a frame :func:`spatial.firms.read_firms` returned passes as is.
    """
    from . import firms

    if not isinstance(frame, pd.DataFrame):
        raise InputError(f"input '{name}': expected a DataFrame of FIRMS detections, not "
                         f"{type(frame).__name__}.")
    if {"local_time", "utc_time", "instrument"} <= set(frame.columns):
        return io.Table(name=name, path=label(name), frame=frame, rejected=io.empty_rejected(),
                        encoding=FRAME_ENCODING, n_read=len(frame))
    raw = frame.reset_index(drop=True)
    if not isinstance(raw, gpd.GeoDataFrame):  # as read from a CSV: text, like the reader's
        raw = raw.astype(object).where(raw.notna(), None)
        raw = raw.map(lambda v: v if v is None or isinstance(v, str) else str(v))
    f, rej = firms.normalize(raw, path=label(name), name=name, first_row=1, tz=tz)
    f = pd.concat([firms.empty_frame(tz=tz), f], ignore_index=True)
    f = gpd.GeoDataFrame(f, geometry="geometry", crs="EPSG:4326")
    return io.Table(name=name, path=label(name), frame=f, rejected=rej,
                    encoding=FRAME_ENCODING, n_read=len(raw))


def features_from_frame(frame: pd.DataFrame, *, fields: Sequence[io.Field], name: str,
                        crs: str = "wgs84") -> io.Table:
    """Points or polygons (villages, sites) from a frame, as :func:`spatial.io.read_features`.

    A GeoDataFrame with any polygon is read as polygons (``lon``/``lat`` their representative
    point), anything else as points.
    """
    if isinstance(frame, gpd.GeoDataFrame) and frame.geometry.name in frame.columns and (
            set(frame.geometry.geom_type.dropna()) & {"Polygon", "MultiPolygon"}):
        t = polygons_from_frame(frame, fields=fields, name=name, crs=crs)
        rep = t.frame.geometry.representative_point()
        t.frame["lon"] = shapely.get_x(rep.to_numpy())
        t.frame["lat"] = shapely.get_y(rep.to_numpy())
        return t
    return points_from_frame(frame, fields=fields, name=name, crs=crs)
