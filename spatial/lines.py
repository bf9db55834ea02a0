"""Line inputs (pipes, roads) and geodesic distances and buffers around lines.

:func:`read_lines` reads a vector file of (Multi)LineStrings in any CRS (a ``.prj`` of
CGCS2000 / Gauss-Krüger, WGS-84, or declared ``gcj02``/``bd09``) into EPSG:4326, with the
rejection rules of :func:`spatial.io.read_polygons` (empty geometry, a geometry that is not a
line, an empty required field).

Distances and buffers are on the WGS-84 ellipsoid. The work is done in a local transverse
Mercator projection centred on the lines (scale 1 on its central meridian, conformal), where
the nearest point of a line to a feature is found; the distance itself is then the geodesic
(``pyproj.Geod.inv``) between that point and the feature's nearest point, both taken back to
WGS-84. Within ~100 km of the centre the projection's scale differs from 1 by less than
1.3e-4, so the nearest point moves by centimetres at most and the distance (second order in that
error) is exact to well under a centimetre at a 1 km range. A segment between two vertices is
straight in that projection (for segments of a few km the same, to millimetres, as a geodesic).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from . import coords, geobuffer, io, sources
from .errors import InputError
from .geodesy import GEOD
from .tables import reject as _reject

log = logging.getLogger(__name__)

LINE_TYPE_IDS = (1, 5)  # shapely.get_type_id of LineString, MultiLineString


def read_lines(path: Path | str, *, fields: Sequence[io.Field], name: str, crs: str = "wgs84",
               columns: Mapping[str, str] | None = None) -> io.Table:
    """Read a line input (e.g. heat-supply pipes) as a GeoDataFrame in EPSG:4326 (x = lng).

    A file without ``.prj`` is taken as WGS-84 (warned); ``crs`` = ``gcj02``/``bd09``
    declares shifted coordinates, converted vertex by vertex; an EPSG code declares the CRS of
    a file without ``.prj``. Empty geometries, geometries that are not lines and rows with an
    empty required field are rejected (``Table.rejected``), never dropped silently.
    """
    path = Path(path)
    crs_name = coords.normalize_crs_name(crs)
    raw, enc = io.read_raw(path, name=name)
    if not isinstance(raw, gpd.GeoDataFrame):
        raise InputError(
            f"{path}: input '{name}' must be a line file (GeoPackage, Shapefile, GeoJSON, "
            "GeoParquet) of the pipes as LineStrings, not a table.")
    return lines_from_raw(raw, enc, path=path, fields=fields, name=name, crs_name=crs_name,
                          columns=columns)


def lines_from_raw(raw: gpd.GeoDataFrame, enc: str | None, *, path: Path,
                   fields: Sequence[io.Field], name: str, crs_name: str = "wgs84",
                   columns: Mapping[str, str] | None = None) -> io.Table:
    """The lines :func:`read_lines` makes of a vector file's frame as read.

    Also used for a user's own GeoDataFrame (``analyses.api``); `path` names the source.
    """
    parsed = io.parse_attributes(raw, fields, columns, path=path, name=name,
                            skip_required=tuple(f.name for f in fields))
    out, row, warnings = parsed.frame, parsed.row, parsed.warnings
    crs_read = sources.crs_label(raw.crs)
    garr = io.vector_wgs84(raw, crs_name, path=path, warnings=warnings)
    n = len(raw)
    ids = out["id"] if "id" in out else pd.Series([None] * n, index=raw.index)
    rejected = [io.empty_rejected()]
    bad = pd.isna(garr) | shapely.is_empty(garr)
    bad = np.asarray(bad, dtype=bool).copy()
    if bad.any():
        rejected.append(_reject(name, path, row[bad], ids[bad], "empty geometry"))
    notline = ~bad & ~np.isin(shapely.get_type_id(garr), LINE_TYPE_IDS)
    if notline.any():
        rejected.append(_reject(name, path, row[notline], ids[notline],
                                "geometry is not a line (LineString/MultiLineString)"))
        bad |= notline
    bad = io.reject_empty_required(out, fields, bad, rejected, name=name, path=path, row=row,
                                   ids=ids)
    gdf = gpd.GeoDataFrame(out[~bad].reset_index(drop=True), geometry=list(garr[~bad]),
                           crs="EPSG:4326")
    rej = pd.concat(rejected, ignore_index=True).sort_values("row", kind="stable")
    log.info("Read %d %s lines from %s", len(gdf), name, path.name)
    return io.Table(name=name, path=path, frame=gdf, rejected=rej.reset_index(drop=True),
                    encoding=enc, columns=parsed.mapping, crs=crs_name, n_read=n,
                    warnings=warnings, source=sources.source_frame(raw, row), crs_read=crs_read)


def local_crs(geoms: np.ndarray) -> pyproj.CRS:
    """A transverse Mercator CRS (WGS-84, scale 1) centred on the bounds of WGS-84 `geoms`."""
    x0, y0, x1, y1 = shapely.total_bounds(geoms)
    if not np.isfinite([x0, y0, x1, y1]).all():
        raise InputError("lines: no finite coordinate to centre the local projection on.")
    return pyproj.CRS.from_proj4(
        f"+proj=tmerc +lat_0={(y0 + y1) / 2:.6f} +lon_0={(x0 + x1) / 2:.6f} +k=1 +x_0=0 "
        "+y_0=0 +ellps=WGS84 +units=m +no_defs")


def _project(geoms: np.ndarray, crs: pyproj.CRS, *, inverse: bool = False) -> np.ndarray:
    src, dst = ("EPSG:4326", crs) if not inverse else (crs, "EPSG:4326")
    t = pyproj.Transformer.from_crs(src, dst, always_xy=True)
    return shapely.transform(geoms, lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1])))


def distance_to_lines(geoms: np.ndarray, lines: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Geodesic distance (m, WGS-84) from each geometry to the nearest of `lines`.

    Parameters
    ----------
    geoms
        Shapely geometries in WGS-84 degrees (x = lng, y = lat): points or polygons (a polygon
        that touches or contains a line is at 0 m).
    lines
        Shapely (Multi)LineStrings in WGS-84 degrees.

    Returns
    -------
    distance_m, nearest
        Distance in metres (NaN where there is no line) and the position in `lines` of the
        nearest line (-1 where none).
    """
    geoms = np.asarray(geoms, dtype=object)
    lines = np.asarray(lines, dtype=object)
    dist = np.full(len(geoms), np.nan)
    near = np.full(len(geoms), -1, dtype=np.int64)
    if not len(geoms) or not len(lines):
        return dist, near
    crs = local_crs(lines)
    pg, pl = _project(geoms, crs), _project(lines, crs)
    tree = shapely.STRtree(pl)
    gi, li = tree.query_nearest(pg, all_matches=False)
    near[gi] = li
    seg = shapely.shortest_line(pg[gi], pl[li])  # from the geometry to the line, metres
    back = _project(seg, crs, inverse=True)
    xy = shapely.get_coordinates(back).reshape(-1, 2, 2)
    _, _, d = GEOD.inv(xy[:, 0, 0], xy[:, 0, 1], xy[:, 1, 0], xy[:, 1, 1])
    dist[gi] = np.asarray(d, dtype=float)
    return dist, near


def length_km(lines: np.ndarray) -> np.ndarray:
    """Geodesic length (km, WGS-84) of each (Multi)LineString in degrees (x = lng)."""
    lines = np.asarray(lines, dtype=object)
    out = np.zeros(len(lines))
    if not len(lines):
        return out
    parts, owner = shapely.get_parts(lines, return_index=True)
    xy, seg_part = shapely.get_coordinates(parts, return_index=True)
    same = seg_part[1:] == seg_part[:-1]
    a, b = xy[:-1][same], xy[1:][same]
    _, _, d = GEOD.inv(a[:, 0], a[:, 1], b[:, 0], b[:, 1])
    per_part = np.bincount(seg_part[:-1][same], weights=np.asarray(d, float),
                           minlength=len(parts))
    return np.bincount(owner, weights=per_part, minlength=len(lines)) / 1000.0


def buffer_lines(lines: np.ndarray, distance_m: float) -> shapely.Geometry:
    """The area within `distance_m` of any of `lines` (WGS-84 degrees), one (Multi)Polygon.

    The geodesic buffer of :func:`spatial.geobuffer.geodesic_buffer` around the lines' union.
    For drawing and areas; which features are inside is decided by :func:`distance_to_lines`.
    An empty polygon when there is no line.
    """
    lines = np.asarray(lines, dtype=object)
    if not len(lines):
        return shapely.Polygon()
    return geobuffer.geodesic_buffer(shapely.union_all(lines), distance_m)
