"""The input's own columns, carried through to the outputs so rows can be matched to the list.

County staff match output rows to their own list by its columns (序号, 乡镇（街道）, their own
county column) and paste coordinates into Amap as they typed them. Readers keep, per record
read, the file's columns as typed and, for points not given in WGS-84, the coordinates as given
(:func:`add_given_xy`); :func:`attach` joins them to an output layer or table by file row,
under a prefix (``src_``) so they cannot clash with the analysis's own columns.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from .h3grid import lookup

#: prefix of the input's own columns in outputs
PREFIX = "src_"
#: the column naming the file a row came from (its name, without folders)
FILE_COLUMN = "src_file"


def _as_text(v: Any) -> str | None:
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NaT:
        return None
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    s = str(v).strip()
    return s or None


def source_frame(raw: pd.DataFrame | Any, rows: np.ndarray) -> pd.DataFrame:
    """The columns of a read file, one row per record, with its file row number ``row``.

    `raw` is a vector file's frame (geometry dropped; values keep their types) or a table's
    :class:`~spatial.headers.Header` (values as text, as typed: ``12.0`` from Excel is
    ``"12"``). Columns without a name and without a value are left out.
    """
    if isinstance(raw, gpd.GeoDataFrame):
        attrs = pd.DataFrame(raw.drop(columns=raw.geometry.name)).reset_index(drop=True)
    elif isinstance(raw, pd.DataFrame):
        attrs = raw.reset_index(drop=True)
    else:  # a headers.Header
        frame = raw.frame.reset_index(drop=True)
        keep = [c for c in frame.columns
                if not (str(c).startswith("(column ") and frame[c].isna().all())]
        attrs = frame[keep].apply(lambda s: s.map(_as_text)).astype(object) if keep \
            else pd.DataFrame(index=frame.index)
    out = attrs.copy()
    out.insert(0, "row", np.asarray(rows, dtype=np.int64))
    return out


def crs_label(crs: pyproj.CRS | None) -> str:
    """``EPSG:4547 (CGCS2000 / 3-degree Gauss-Kruger CM 114E)``, or ``none (no .prj)``."""
    if crs is None:
        return "none (no .prj; read as WGS-84)"
    crs = pyproj.CRS.from_user_input(crs)
    code = crs.to_epsg()
    return f"EPSG:{code} ({crs.name})" if code else crs.name


def _coord_names(crs_name: str) -> tuple[str, str] | None:
    """Column names of coordinates given in `crs_name` (None for WGS-84)."""
    if crs_name == "wgs84":
        return None
    if crs_name in ("gcj02", "bd09", "cgcs2000"):
        return f"lon_{crs_name}", f"lat_{crs_name}"
    crs = pyproj.CRS.from_user_input(crs_name)
    tag = re.sub(r"[^0-9a-z]+", "", crs_name.lower())
    if crs.is_geographic:
        return f"lon_{tag}", f"lat_{tag}"
    return f"x_{tag}", f"y_{tag}"


def add_given_xy(source: pd.DataFrame, lon: np.ndarray, lat: np.ndarray, crs_name: str) -> None:
    """Add the coordinates as given (before conversion to WGS-84) to `source`, in place.

    ``lon``/``lat`` (x/y for projected systems) as parsed from the file; columns
    ``lon_gcj02``/``lat_gcj02`` (``lon_bd09``, ``lon_cgcs2000``, ``x_epsg4547``/``y_epsg4547``).
    Nothing is added for WGS-84 input.
    """
    names = _coord_names(crs_name)
    if names is None:
        return
    source[names[0]] = np.asarray(lon, dtype="float64")
    source[names[1]] = np.asarray(lat, dtype="float64")


def add_given_coords(source: pd.DataFrame, raw: gpd.GeoDataFrame, crs_name: str) -> None:
    """Add the coordinates of a vector file's points as given to `source`, in place.

    In the file's own CRS, or GCJ-02/BD-09 when the file is declared shifted. Polygons and
    WGS-84 files add nothing.
    """
    types = set(raw.geometry.geom_type.dropna())
    if not types or types - {"Point"}:
        return
    geom = raw.geometry.to_numpy()
    empty = shapely.is_missing(geom) | shapely.is_empty(geom)
    safe = np.where(empty, shapely.Point(0, 0), geom)
    x = np.where(empty, np.nan, shapely.get_x(safe))
    y = np.where(empty, np.nan, shapely.get_y(safe))
    if crs_name in ("gcj02", "bd09"):
        add_given_xy(source, x, y, crs_name)
    elif raw.crs is not None and not raw.crs.equals("EPSG:4326"):
        code = raw.crs.to_epsg()
        add_given_xy(source, x, y, f"EPSG:{code}" if code else "wgs84")


def _record_positions(source: pd.DataFrame, frame: pd.DataFrame, key: pd.Series,
                      by_file: bool) -> np.ndarray:
    """Position in `source` of each `frame` row's record (its first with that file and row).

    `key`: the frame's row numbers (``Int64``, NA: none). Files and rows are joined as one
    integer per record (file code, row), found by a sorted search: a national season's
    million detections, not a million-row MultiIndex. -1 where there is no such record.
    """
    src_row = pd.to_numeric(source["row"], errors="coerce").astype("Int64")
    ok_src = src_row.notna().to_numpy()
    ok = key.notna().to_numpy()
    src_r = src_row.fillna(-1).to_numpy(np.int64)
    r = key.fillna(-1).to_numpy(np.int64)
    if by_file:  # one code per distinct file name (a few), shared by both sides
        # (a missing file name is one more name, "\0", on both sides, as the join had it)
        src_f, src_names = pd.factorize(source["file"].astype(str).fillna("\0"))
        f, names = pd.factorize(frame["file"].astype(str).fillna("\0"))
        code = {name: i for i, name in enumerate(src_names)}
        f = np.array([code.get(name, -1) for name in names], dtype=np.int64)[f]
    else:
        src_f, f = np.zeros(len(source), np.int64), np.zeros(len(frame), np.int64)
    shift = np.int64(2**40)  # rows of a file stay below a trillion
    if (src_r >= shift).any() or (r >= shift).any():
        raise ValueError("row numbers past 2**40")  # not a file's rows: a caller's mistake
    ok_src = ok_src & (src_r >= 0)
    ok = ok & (r >= 0)
    none = np.iinfo(np.int64).min  # no row number: matches nothing (the two differ)
    src_k = np.where(ok_src, src_f * shift + src_r, none)
    k = np.where(ok, f * shift + r, none + 1)
    uniq, first = np.unique(src_k, return_index=True)  # each key's first record
    at = lookup(uniq, k)  # position among the sorted keys, -1: none
    return np.where(at >= 0, first[at], -1) if len(uniq) else at


def prefixed(source: pd.DataFrame, taken: set[str]) -> pd.DataFrame:
    """Return `source` with its columns renamed ``src_<header>``.

    Coordinates as given keep their names unless taken; ``row`` stays the join key.
    """
    ren = {}
    for c in source.columns:
        if c == "row":
            continue
        name = str(c)
        if not re.fullmatch(r"(lon|lat|x|y)_[0-9a-z]+", name) or name in taken:
            name = PREFIX + name
        if name == FILE_COLUMN:  # the input has a column named "file": keep both
            name += "_"
        ren[c] = name
    return source.rename(columns=ren)


def attach(frame: pd.DataFrame, source: pd.DataFrame, *, path: Path | str | None = None
           ) -> pd.DataFrame:
    """`frame` (an output layer or table with a ``row`` column) with the input's columns.

    Each output row gets the columns of the input record with the same file row number, and
    ``src_file`` (the input file's name). Rows of `frame` without a ``row`` value keep them
    empty. The order and the number of rows of `frame` are unchanged.
    """
    if "row" not in frame.columns or source is None or not len(source.columns):
        return frame
    # several files (spatial.multifile): rows are numbered per file, so match on both; a
    # frame that lost its file column cannot be matched (row 2 is in every file): left as is
    by_file = "file" in source.columns and "file" in frame.columns
    if "file" in source.columns and not by_file and source["file"].nunique() > 1:
        return frame
    src = prefixed(source.drop(columns="file") if by_file else source, set(frame.columns))
    src = src.drop(columns=[c for c in src.columns if c != "row" and c in frame.columns])
    key = pd.to_numeric(frame["row"], errors="coerce").astype("Int64")
    pos = _record_positions(source, frame, key, by_file)  # -1: no such record
    # each output row's record (-1 is no label of the RangeIndex: a missing value, as the
    # join of the (file, row) keys gave before)
    joined = src.drop(columns="row").reset_index(drop=True).reindex(pos)
    joined.index = frame.index
    out = frame.copy(deep=False)  # columns added below, none changed in place
    if path is not None and FILE_COLUMN not in out.columns:
        if by_file:  # once per distinct file, not per row (1 M detections of a few files)
            codes, files = pd.factorize(frame["file"].astype(str))
            names = np.array([Path(f).name for f in files], dtype=object)[codes]
        else:
            names = Path(path).name
        out[FILE_COLUMN] = np.where(key.notna().to_numpy(), names, None)
    for c in joined.columns:
        out[c] = joined[c].to_numpy()
    if isinstance(frame, gpd.GeoDataFrame):
        out = gpd.GeoDataFrame(out, geometry=frame.geometry.name, crs=frame.crs)
    return out


def field_labels(columns: list[str], given: Mapping[str, Any]) -> dict[str, tuple[str, str]]:
    """Chinese label and unit of source columns: ``src_企业名称`` -> ``企业名称（原表）``."""
    out = {}
    for c in columns:
        if c in given:
            continue
        if c == FILE_COLUMN:
            out[c] = ("来源文件", "")
        elif c.startswith(PREFIX):
            out[c] = (f"{c[len(PREFIX):]}（原表）", "")
        else:
            m = re.fullmatch(r"(lon|lat|x|y)_([0-9a-z]+)", c)
            if m:
                what = {"lon": "经度", "lat": "纬度", "x": "X", "y": "Y"}[m.group(1)]
                unit = "°" if m.group(1) in ("lon", "lat") else "m"
                sys = {"gcj02": "GCJ-02（高德）", "bd09": "BD-09（百度）",
                       "cgcs2000": "CGCS2000"}.get(m.group(2), m.group(2).upper())
                out[c] = (f"{what}（原表，{sys}）", unit)
    return out
