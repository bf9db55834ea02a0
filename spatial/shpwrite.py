"""Shapefiles whose text fields are as wide as their longest value, not GDAL's default 80 bytes.

GDAL creates a DBF text field without a given width 80 bytes wide (and widens it up to 254
for longer values), so a layer of many short texts (a national season's 1 M detections with
~25 text columns: ``kept``, ``2025-06-01``…) writes ~2,000 bytes a record and passes the
format's 2 GB. Here each text field gets the width of its longest value in the file's
encoding (UTF-8 or GBK bytes; at least 1, at most :data:`MAX_TEXT_BYTES`): pyogrio creates a
string field as wide as a fixed-width NumPy ``U<n>`` array's ``n``. Numbers keep GDAL's widths
(reals 24, 64-bit integers 18, smaller 9); geometry, ``.prj`` and ``.shx`` are written as
``GeoDataFrame.to_file`` writes them (the same pyogrio call with the same geometry type and
CRS). :func:`text_widths` is what :func:`spatial.limits.dbf_record_bytes` counts.
"""

from __future__ import annotations

import struct
import tempfile
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyogrio
import shapely
from geopandas.array import to_wkb
from pandas.arrays import BooleanArray, FloatingArray, IntegerArray

from . import dbfwrite

#: widest DBF text field GDAL writes (bytes); longer values are cut there, as by GDAL itself
MAX_TEXT_BYTES = 254


def is_text(s: pd.Series) -> bool:
    """A column written as a DBF text field: text (or object) dtype; values written as str."""
    return s.dtype == object or pd.api.types.is_string_dtype(s.dtype)


def text_bytes(s: pd.Series, encoding: str = "utf-8") -> int:
    """Bytes of the longest value of text column `s` in `encoding` (0 if none)."""
    if encoding.lower().replace("_", "-") in ("utf-8", "utf8"):  # vectorised: Arrow
        if isinstance(s.dtype, pd.StringDtype) and s.dtype.storage == "pyarrow":
            arr = pa.array(s.array)  # the column's own Arrow strings, not copied to objects
            top = pc.max(pc.binary_length(arr)).as_py() if len(arr) else None
            return int(top or 0)
        vals = s.to_numpy(dtype=object)
        try:  # texts and missing values (None, NaN) as they are
            arr = pa.array(vals, type=pa.string(), from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError):  # other values: as text
            arr = pa.array(s.dropna().astype(str).to_numpy(dtype=object), type=pa.string())
        top = pc.max(pc.binary_length(arr)).as_py() if len(arr) else None
        return int(top or 0)
    vals = s.dropna()
    uniq = pd.unique(vals.astype(str).to_numpy(dtype=object))  # once per distinct value
    return max((len(u.encode(encoding, errors="replace")) for u in uniq), default=0)


def text_widths(frame: pd.DataFrame, encoding: str = "utf-8") -> dict[str, int]:
    """DBF width (bytes) of each text column of `frame`: its longest value, 1..254.

    A column with a longer value is left to GDAL, which widens the field to 254 bytes and cuts
    the value there with a warning (as for every Shapefile before this writer).
    """
    return {c: min(max(n, 1), MAX_TEXT_BYTES) for c, n in _text_bytes(frame, encoding).items()}


def _text_bytes(frame: pd.DataFrame, encoding: str) -> dict[str, int]:
    return {c: text_bytes(frame[c], encoding) for c in frame.columns if is_text(frame[c])}


def _geometry_type(geom: gpd.GeoSeries) -> str:
    """The layer geometry type pyogrio's ``write_dataframe`` gives a Shapefile."""
    kinds = pd.Series(geom.geom_type.unique()).dropna().to_numpy()
    kind = kinds[0] if len(kinds) == 1 else "Unknown"
    arr = geom.to_numpy()
    solid = geom[~(shapely.is_missing(arr) | shapely.is_empty(arr))]
    return f"{kind} Z" if kind != "Unknown" and len(solid) and solid.has_z.any() else kind


def coded_text(s: pd.Series) -> dbfwrite.Text:
    """Text column `s` as its distinct values and a code per row (-1 where missing).

    Arrow-backed strings are dictionary-encoded by Arrow (no Python object per row); other
    columns are factorized, values that are not ``str`` turned into text each on its own (as
    ``astype(str)``: ``1`` and ``1.0`` stay two texts).
    """
    if isinstance(s.dtype, pd.StringDtype) and s.dtype.storage == "pyarrow":
        arr = pa.array(s.array)
        arr = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
        enc = pc.dictionary_encode(arr)
        codes = pc.fill_null(enc.indices, -1).to_numpy(zero_copy_only=False)
        return dbfwrite.Text(codes.astype(np.intp, copy=False), enc.dictionary)
    vals = s.to_numpy(dtype=object)
    codes, uniq = pd.factorize(vals)
    if all(isinstance(v, str) for v in uniq):
        return dbfwrite.Text(codes.astype(np.intp, copy=False), list(uniq))
    miss = s.isna().to_numpy()
    text = s.astype(object).where(~miss, "").astype(str).to_numpy(dtype=object)
    codes, uniq = pd.factorize(text)
    codes[miss] = -1
    return dbfwrite.Text(codes.astype(np.intp, copy=False), list(uniq))


def _fields(frame: pd.DataFrame, encoding: str) -> tuple[list, list, dict] | None:
    """Field columns, masks and text widths; None: a dtype not covered.

    Text columns are :class:`spatial.dbfwrite.Text` and ``widths[i]`` their field width in
    bytes (None past :data:`MAX_TEXT_BYTES`: then the values as they are, an object array,
    for GDAL to cut); :func:`_for_gdal` makes them what pyogrio takes.
    """
    longest = _text_bytes(frame, encoding)
    data, masks, widths = [], [], {}
    for i, col in enumerate(frame.columns):
        s = frame[col]
        if col in longest:
            if longest[col] > MAX_TEXT_BYTES:  # GDAL widens to 254, cuts, warns
                miss = s.isna().to_numpy()
                data.append(s.astype(object).where(~miss, None).to_numpy(dtype=object))
                masks.append(None)
                widths[i] = None
                continue
            text = coded_text(s)
            data.append(text)
            masks.append(text.mask if text.mask.any() else None)
            widths[i] = max(longest[col], 1)
        elif isinstance(s.array, IntegerArray | FloatingArray | BooleanArray):
            data.append(s.array._data)
            masks.append(s.array._mask)
        elif isinstance(s.dtype, np.dtype) and s.dtype.kind in "iufb":
            data.append(s.to_numpy())
            masks.append(None)
        else:
            return None
    return data, masks, widths


def _for_gdal(data: list, widths: dict, rows: slice = slice(None)) -> list:
    """The arrays pyogrio writes: text as ``U<width>`` (pyogrio makes the field that wide)."""
    out = []
    for i, a in enumerate(data):
        if isinstance(a, dbfwrite.Text):
            a = a.strings(rows)
        else:
            a = a[rows]
        out.append(a.astype(f"U{widths[i]}") if widths.get(i) else a)
    return out


def write_shapefile(gdf: gpd.GeoDataFrame, path: Path, *, encoding: str,
                    **options: Any) -> None:
    """Write `gdf` to the Shapefile `path` with text fields as wide as their data.

    `encoding`: GDAL's name of the DBF encoding (``UTF-8``, ``CP936``); `options`: GDAL
    dataset and layer creation options (e.g. ``DBF_DATE_LAST_UPDATE``). A frame this writer
    does not cover (a named or non-integer index, a column neither number nor text) goes
    through ``GeoDataFrame.to_file`` as before.
    """
    geo = gdf.geometry.name
    attrs = pd.DataFrame(gdf.drop(columns=geo))
    gdal_to_py = {"UTF-8": "utf-8", "CP936": "gbk"}
    fields = _fields(attrs, gdal_to_py.get(encoding.upper(), encoding))
    plain_index = gdf.index.name is None and pd.api.types.is_integer_dtype(gdf.index.dtype)
    if fields is None or not plain_index or not gdf.columns.is_unique:
        gdf.to_file(path, driver="ESRI Shapefile", engine="pyogrio", encoding=encoding,
                    **options)
        return
    crs = None
    if gdf.crs:
        epsg = gdf.crs.to_epsg()
        crs = f"EPSG:{epsg}" if epsg else gdf.crs.to_wkt("WKT1_GDAL")
    shapes = geometry_files(gdf.geometry.values)  # .shp and .shx in bulk, or None: GDAL
    wkb = to_wkb(gdf.geometry.values[:0] if shapes else gdf.geometry.values)
    kw = dict(driver="ESRI Shapefile", geometry_type=_geometry_type(gdf.geometry), crs=crs,
              encoding=encoding, **options)
    names = list(attrs.columns)
    data, masks, widths = fields
    with tempfile.TemporaryDirectory(prefix="lantian-dbf-") as tmp:  # GDAL's header, no rows
        pyogrio.raw.write(str(Path(tmp, "h.shp")), wkb[:0], _for_gdal(data, widths, slice(0)),
                          names, field_mask=[None if m is None else m[:0] for m in masks], **kw)
        header = Path(tmp, "h.dbf").read_bytes()
    bulk = len(names) and None not in widths.values()
    dbf = dbfwrite.records(header, data, masks,
                           gdal_to_py.get(encoding.upper(), encoding)) if bulk else None
    if dbf is None:  # a field or value the bulk writer does not cover: GDAL writes it all
        if shapes:
            wkb = to_wkb(gdf.geometry.values)
        pyogrio.raw.write(str(path), wkb, _for_gdal(data, widths), names, field_mask=masks,
                          **kw)
        return
    # geometry (.shp, .shx, .prj) by GDAL as before, or points and polygons in bulk; the .dbf
    # in bulk
    pyogrio.raw.write(str(path), wkb, [], [], **kw)
    if shapes:
        Path(path).with_suffix(".shp").write_bytes(shapes[0])
        Path(path).with_suffix(".shx").write_bytes(shapes[1])
    Path(path).with_suffix(".dbf").write_bytes(dbf)


#: a point's record in the .shp: number and length (big-endian), type 1, x, y
_POINT_RECORD = np.dtype([("number", ">i4"), ("length", ">i4"), ("type", "<i4"),
                          ("x", "<f8"), ("y", "<f8")])
_INDEX_RECORD = np.dtype([("offset", ">i4"), ("length", ">i4")])


def _main_header(shape_type: int, file_bytes: int, bbox: tuple[float, ...]) -> bytes:
    """The 100-byte header of a .shp or .shx (ESRI Shapefile technical description, 1998)."""
    return (struct.pack(">7i", 9994, 0, 0, 0, 0, 0, file_bytes // 2)
            + struct.pack("<2i4d4d", 1000, shape_type, *bbox, 0.0, 0.0, 0.0, 0.0))


def geometry_files(geom: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """The .shp and .shx of `geom` built in bulk, byte for byte as GDAL writes them.

    Points (:func:`point_files`) and simple polygons (:func:`polygon_files`); None: GDAL
    writes them.
    """
    return point_files(geom) or polygon_files(geom)


#: a polygon's record up to its points: number and content length (big-endian), type 5,
#: bounding box, 1 part, its number of points, the part's start 0 (little-endian)
_POLYGON_HEAD = np.dtype([("number", ">i4"), ("length", ">i4"), ("type", "<i4"),
                          ("box", "<f8", 4), ("parts", "<i4"), ("points", "<i4"),
                          ("start", "<i4")])


def _green_sums(x: np.ndarray, y: np.ndarray, starts: np.ndarray,
                counts: np.ndarray) -> np.ndarray:
    """Per ring ``x[0](y[1]-y[n-1]) + sum x[i](y[i+1]-y[i-1]) + x[n-1](y[0]-y[n-2])``.

    Summed in that order, one vertex position at a time for all rings, as GDAL sums it.
    """
    i = np.arange(len(x))
    pos = i - np.repeat(starts, counts)  # position within its ring
    first, last = np.repeat(starts, counts), np.repeat(starts + counts - 1, counts)
    prev = np.where(pos == 0, last, i - 1)
    nxt = np.where(i == last, first, i + 1)
    terms = x * (y[nxt] - y[prev])
    total = np.zeros(len(starts))
    for j in range(int(counts.max())):
        live = np.flatnonzero(counts > j)
        total[live] += terms[starts[live] + j]
    return total


#: GDAL's tolerance (degrees here) for a neighbour too close to the pivot vertex
_PIVOT_EPSILON = 1.0e-5


def _is_clockwise(xy: np.ndarray, starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Whether each closed ring is clockwise, decided exactly as GDAL's ``isClockwise``.

    GDAL (``OGRLineString::isClockwise``): the cross product of the edges at the lowest,
    then rightmost vertex (the first such, the closing vertex left out); its sign decides
    unless it is 0, that vertex occurs twice, or a neighbour lies within 1e-5 of it in both
    coordinates: then the sign of the sum of :func:`_green_sums` (negative: clockwise).
    """
    x, y = xy[:, 0], xy[:, 1]
    ring = np.repeat(np.arange(len(starts)), counts)
    closing = np.zeros(len(x), dtype=bool)
    closing[starts + counts - 1] = True  # left out of the search for the pivot
    # the lowest y, then the highest x among those, then the first such vertex
    low = np.minimum.reduceat(np.where(closing, np.inf, y), starts)
    at_low = ~closing & (y == low[ring])
    right = np.maximum.reduceat(np.where(at_low, x, -np.inf), starts)
    same = at_low & (x == right[ring])  # the pivot's coordinates (it may occur twice)
    idx = np.flatnonzero(same)
    first = np.r_[True, ring[idx][1:] != ring[idx][:-1]]
    v = idx[first]
    twice = np.bincount(ring[idx], minlength=len(starts)) > 1
    vx, vy = x[v], y[v]
    prev = np.where(v == starts, starts + counts - 2, v - 1)
    nxt = np.where(v + 1 >= starts + counts - 1, starts, v + 1)
    near = ((np.abs(x[prev] - vx) < _PIVOT_EPSILON) & (np.abs(y[prev] - vy) < _PIVOT_EPSILON)
            | (np.abs(x[nxt] - vx) < _PIVOT_EPSILON) & (np.abs(y[nxt] - vy) < _PIVOT_EPSILON))
    dx0, dy0 = x[prev] - vx, y[prev] - vy
    dx1, dy1 = x[nxt] - vx, y[nxt] - vy
    cross = dx1 * dy0 - dx0 * dy1
    fallback = np.flatnonzero(twice | near | (cross == 0))
    out = cross < 0
    if len(fallback):  # those rings' vertices alone, one after the other
        c = counts[fallback]
        sub = np.repeat(starts[fallback] - np.r_[0, np.cumsum(c)[:-1]], c) + np.arange(c.sum())
        out[fallback] = _green_sums(x[sub], y[sub], np.r_[0, np.cumsum(c)[:-1]], c) < 0
    return out


def _clockwise_rings(xy: np.ndarray, starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """`xy` (closed rings one after the other), each ring that is not clockwise reversed.

    GDAL's Shapefile writer reverses an outer ring that ``isClockwise`` finds
    counter-clockwise (:func:`_is_clockwise`), every vertex, the closing one included.
    """
    turn = np.repeat(~_is_clockwise(xy, starts, counts), counts)
    i = np.arange(len(xy))
    first, last = np.repeat(starts, counts), np.repeat(starts + counts - 1, counts)
    return xy[np.where(turn, first + last - i, i)]


def polygon_files(geom: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """The .shp and .shx of simple 2-D polygons, built in bulk, byte for byte as GDAL's.

    Each record: the 8-byte header (number from 1, content length in 16-bit words,
    big-endian), shape type 5, its bounding box, one part starting at 0, its number of
    points, then the ring's points (x, y little-endian doubles), clockwise
    (:func:`_clockwise_rings`). The index holds each record's offset and length in words.
    None (GDAL writes the geometry) unless every geometry is a non-empty 2-D Polygon without
    holes with finite coordinates (H3 cells, fire events).
    """
    arr = np.asarray(geom)
    n = len(arr)
    if not n or not (shapely.get_type_id(arr) == 3).all() or shapely.is_empty(arr).any() \
            or shapely.has_z(arr).any() or shapely.get_num_interior_rings(arr).any():
        return None
    xy = shapely.get_coordinates(arr)
    counts = shapely.get_num_coordinates(arr).astype(np.int64)
    if len(xy) != counts.sum() or not np.isfinite(xy).all() or (counts < 4).any():
        return None
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    xy = _clockwise_rings(xy, starts, counts)
    head = np.zeros(n, dtype=_POLYGON_HEAD)
    head["number"] = np.arange(1, n + 1)
    content = 48 + 16 * counts  # bytes after the record header
    head["length"] = content // 2
    head["type"] = 5
    box = np.column_stack([np.minimum.reduceat(xy[:, 0], starts),
                           np.minimum.reduceat(xy[:, 1], starts),
                           np.maximum.reduceat(xy[:, 0], starts),
                           np.maximum.reduceat(xy[:, 1], starts)])
    head["box"] = box
    head["parts"], head["points"] = 1, counts
    # records as 8-byte words: 7 of head, then 2 per point
    words = 7 + 2 * counts
    rec_start = np.concatenate([[0], np.cumsum(words)[:-1]])
    body = np.empty(int(words.sum()), dtype="V8")
    is_head = np.zeros(len(body), dtype=bool)
    is_head[(rec_start[:, None] + np.arange(7)).ravel()] = True
    body[is_head] = head.view("V8")  # in record order, as the points after them
    body[~is_head] = np.ascontiguousarray(xy).view("V8").ravel()
    bbox = (box[:, 0].min(), box[:, 1].min(), box[:, 2].max(), box[:, 3].max())
    shp_bytes = 100 + body.nbytes
    index = np.empty(n, dtype=_INDEX_RECORD)
    index["offset"] = (100 + 8 * rec_start) // 2
    index["length"] = head["length"]
    shp = np.concatenate([np.frombuffer(_main_header(5, shp_bytes, bbox), np.uint8),
                          body.view(np.uint8)])
    shx = np.concatenate([np.frombuffer(_main_header(5, 100 + index.nbytes, bbox), np.uint8),
                          index.view(np.uint8)])
    return shp, shx


def point_files(geom: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """The .shp and .shx of 2-D points, built in bulk, byte for byte as GDAL writes them.

    `geom`: a GeoPandas geometry array. Each record is 28 bytes (a 8-byte header: number from
    1 and content length in 16-bit words, big-endian; then shape type 1 and x, y as
    little-endian doubles); the index holds each record's offset and length in words; the
    headers hold the file length and the bounding box (Z and M ranges 0). None (GDAL writes
    the geometry) unless every geometry is a non-empty 2-D point with finite coordinates.
    """
    arr = np.asarray(geom)
    n = len(arr)
    if not n or not (shapely.get_type_id(arr) == 0).all() or shapely.is_empty(arr).any() \
            or shapely.has_z(arr).any():
        return None
    xy = shapely.get_coordinates(arr)
    if len(xy) != n or not np.isfinite(xy).all():
        return None
    rec = np.empty(n, dtype=_POINT_RECORD)
    rec["number"] = np.arange(1, n + 1)
    rec["length"] = (_POINT_RECORD.itemsize - 8) // 2
    rec["type"] = 1
    rec["x"], rec["y"] = xy[:, 0], xy[:, 1]
    index = np.empty(n, dtype=_INDEX_RECORD)
    index["offset"] = (100 + _POINT_RECORD.itemsize * np.arange(n)) // 2
    index["length"] = rec["length"]
    bbox = (xy[:, 0].min(), xy[:, 1].min(), xy[:, 0].max(), xy[:, 1].max())
    shp_bytes, shx_bytes = 100 + rec.nbytes, 100 + index.nbytes
    shp = np.concatenate([np.frombuffer(_main_header(1, shp_bytes, bbox), np.uint8),
                          rec.view(np.uint8)])
    shx = np.concatenate([np.frombuffer(_main_header(1, shx_bytes, bbox), np.uint8),
                          index.view(np.uint8)])
    return shp, shx
