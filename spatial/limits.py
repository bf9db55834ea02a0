"""Bounded resources: estimate the work before doing it, refuse above a limit the config raises.

A run with ``h3_resolution = 13``, ``k_ring = 300``, a sparse 100000 × 100000 GeoTIFF or an
XLSX that inflates to gigabytes of XML would run for minutes and then die (MemoryError, or a
native abort that no handler catches). Each is estimated first from cheap facts — the extent
of the inputs and the mean H3 cell area, the size of an H3 disk, the raster's header, the zip
directory — and refused with an InputError (exit 2) that gives the estimate and the config
key that raises the limit::

    [limits]
    max_cells = 2_000_000            # H3 cells an analysis may create (extent / cell area)
    max_neighbours = 20_000_000      # cells × cells per disk (k_ring, persistent_k)
    max_raster_pixels = 250_000_000  # pixels of one raster band (width × height)
    max_xlsx_bytes = 300_000_000     # uncompressed size of an XLSX (its XML)
    max_dbf_bytes = 2_000_000_000    # size of one Shapefile's .dbf (the format's 2 GB limit)
    max_shp_bytes = 2_000_000_000    # size of one Shapefile's .shp (the format's 2 GB limit)

The limits in force are set by the runner (:func:`using`); outside a run the defaults apply.
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .errors import InputError

DEFAULTS: dict[str, int] = {
    "max_cells": 2_000_000,
    "max_neighbours": 20_000_000,
    "max_raster_pixels": 250_000_000,
    "max_xlsx_bytes": 300_000_000,
    # dBASE files address records with 32-bit offsets: GDAL stops (with only a warning) at 2 GB
    "max_dbf_bytes": 2_000_000_000,
    # the .shp addresses records in 16-bit words with 32-bit signed offsets: 2 GB in the
    # ESRI Shapefile Technical Description (1998); GDAL refuses to grow it past that
    "max_shp_bytes": 2_000_000_000,
}

_LIMITS: contextvars.ContextVar[dict[str, int]] = contextvars.ContextVar(
    "lantian_limits", default=DEFAULTS)


def from_config(table: Any, path: Path | str = "config") -> dict[str, int]:
    """Check a config's ``[limits]`` table; return the limits in force (defaults filled in)."""
    if table is None:
        return dict(DEFAULTS)
    if not isinstance(table, dict):
        raise InputError(f"{path}: [limits] must be a table, e.g. [limits]\nmax_cells = 5000000.")
    bad = sorted(set(table) - set(DEFAULTS))
    if bad:
        raise InputError(f"{path}: [limits] has unknown key(s) {', '.join(bad)}; allowed: "
                         f"{', '.join(DEFAULTS)}.")
    for k, v in table.items():
        if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
            raise InputError(f"{path}: [limits] {k} must be a positive whole number, not {v!r}.")
    return {**DEFAULTS, **table}


@contextlib.contextmanager
def using(limits: Mapping[str, int] | None) -> Iterator[None]:
    """Apply `limits` (from :func:`from_config`) within the block."""
    token = _LIMITS.set({**DEFAULTS, **(limits or {})})
    try:
        yield
    finally:
        _LIMITS.reset(token)


def get(key: str) -> int:
    """The limit `key` in force."""
    return _LIMITS.get()[key]


def _refuse(what: str, estimate: float, key: str, fix: str) -> None:
    limit = get(key)
    if estimate > limit:
        raise InputError(f"{what}: about {estimate:,.0f}, above the limit of {limit:,} "
                         f"([limits] {key}); {fix}, or raise {key} in the config's [limits] "
                         "if the machine has the memory and time.")


# ----------------------------------------------------------------------------- estimates


def bbox_area_km2(min_lng: float, min_lat: float, max_lng: float, max_lat: float, *,
                  buffer_km: float = 0.0) -> float:
    """Area (km²) of a lng/lat box grown by `buffer_km` on every side (spherical estimate)."""
    lat_mid = math.radians(max(min(abs((min_lat + max_lat) / 2), 89.0), 0.0))
    w = abs(max_lng - min_lng) * 111.32 * math.cos(lat_mid) + 2 * buffer_km
    h = abs(max_lat - min_lat) * 110.57 + 2 * buffer_km
    return max(w, 0.0) * max(h, 0.0)


def disk_size(k: int) -> int:
    """Cells in an H3 disk of radius `k` (the cell and its `k` rings): 3k(k+1) + 1."""
    return 3 * k * (k + 1) + 1


def cells_in_area(area_km2: float, resolution: int, *, lat: float | None = None,
                  lng: float | None = None) -> float:
    """Expected number of H3 cells at `resolution` covering `area_km2`.

    H3 cells differ in area by up to a factor of two over the globe: with `lat`/`lng` (degrees)
    the area of the cell there is used, else the global mean.
    """
    import h3

    if lat is not None and lng is not None:
        cell = h3.latlng_to_cell(max(min(lat, 89.9), -89.9), ((lng + 180) % 360) - 180,
                                 resolution)
        return area_km2 / h3.cell_area(cell, unit="km^2") + 1
    return area_km2 / h3.average_hexagon_area(resolution, unit="km^2") + 1


def frames_bounds(frames: Mapping[str, Any]) -> tuple[float, float, float, float] | None:
    """Lng/lat bounds (min_lng, min_lat, max_lng, max_lat) of every frame with a geometry."""
    boxes = []
    for f in frames.values():
        geom = getattr(f, "geometry", None)
        if geom is None or not len(f) or getattr(f, "crs", None) is None:
            continue
        b = np.asarray(geom.total_bounds, dtype="float64")
        if np.isfinite(b).all():
            boxes.append(b)
    if not boxes:
        return None
    arr = np.vstack(boxes)
    return (float(arr[:, 0].min()), float(arr[:, 1].min()), float(arr[:, 2].max()),
            float(arr[:, 3].max()))


def n_points(frames: Mapping[str, Any]) -> int:
    """Rows of the point frames (an upper bound of the cells points can fall in)."""
    n = 0
    for f in frames.values():
        geom = getattr(f, "geometry", None)
        if geom is not None and len(f) and geom.geom_type.isin(["Point"]).all():
            n += len(f)
    return n


def check_work(analysis: str, frames: Mapping[str, Any], params: Any, *,
               cells_from: str = "area", context: tuple[str, ...] = ()) -> dict[str, float]:
    """Estimate the H3 cells and neighbour pairs a run of `params` creates; refuse above limits.

    The extent is the box around every input (grown by the run's distance parameters:
    ``radius_km``, ``max_distance_km``, ``point_radius_m``, ``fill_m``); the cells are that
    area over the mean cell area at ``h3_resolution`` (and ``persistent_resolution``); the
    neighbour pairs are the cells times the disk of ``k_ring`` (``persistent_k``). With
    ``cells_from="points"`` (an analysis that makes cells only where its points are, such as
    fire-points) the cells are at most the number of points. Inputs named in `context`
    (boundaries only drawn and used for attribution) do not count for the extent unless they
    are all there is. Returns the estimates (for the log).
    """
    core = {k: v for k, v in frames.items() if k not in context}
    bounds = frames_bounds(core) or frames_bounds(frames)
    if bounds is None:
        return {}
    buffer_km = max(float(getattr(params, "radius_km", 0) or 0),
                    float(getattr(params, "max_distance_km", 0) or 0),
                    float(getattr(params, "point_radius_m", 0) or 0) / 1000
                    + float(getattr(params, "fill_m", 0) or 0) / 1000)
    if not math.isfinite(buffer_km):
        buffer_km = 0.0
    area = bbox_area_km2(*bounds, buffer_km=buffer_km)
    out: dict[str, float] = {"area_km2": area}
    for res_key, k_key in (("h3_resolution", "k_ring"), ("persistent_resolution", "persistent_k")):
        res = getattr(params, res_key, None)
        if not isinstance(res, int) or isinstance(res, bool) or not 0 <= res <= 15:
            continue
        cells = cells_in_area(area, res, lat=(bounds[1] + bounds[3]) / 2,
                              lng=(bounds[0] + bounds[2]) / 2)
        if cells_from == "points" or res_key == "persistent_resolution":
            cells = min(cells, n_points(frames) + 1)  # only cells holding points
        out[f"cells_{res_key}"] = cells
        _refuse(f"{analysis}: {res_key} = {res} over the inputs' extent ({area:,.0f} km²) makes "
                "H3 cells", cells, "max_cells", f"use a coarser {res_key} (each step down "
                "divides the cells by 7)")
        k = getattr(params, k_key, None)
        if isinstance(k, int) and not isinstance(k, bool) and k >= 0:
            pairs = cells * disk_size(k)
            out[f"pairs_{k_key}"] = pairs
            _refuse(f"{analysis}: {k_key} = {k} ({disk_size(k):,} cells per disk) over "
                    f"{cells:,.0f} cells makes neighbour pairs", pairs, "max_neighbours",
                    f"use a smaller {k_key}")
    return out


def check_pixels(path: Path | str, width: int, height: int, *, bands: int = 1) -> None:
    """Refuse a raster whose band (width × height pixels) is above ``max_raster_pixels``."""
    _refuse(f"{path}: the raster is {width:,} × {height:,} pixels" +
            (f" × {bands} bands" if bands > 1 else "") + ", pixels to read",
            float(width) * float(height), "max_raster_pixels",
            "clip the raster to the area (gdalwarp -te …) or resample it coarser")


def check_xlsx(path: Path | str) -> None:
    """Refuse an XLSX whose entries inflate above ``max_xlsx_bytes`` (read from the zip index).

    A file that is not a zip is left to the reader (which reports it).
    """
    try:
        with zipfile.ZipFile(path) as z:
            total = sum(i.file_size for i in z.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return
    _refuse(f"{path}: the workbook's XML inflates to bytes", total, "max_xlsx_bytes",
            "save the sheet as CSV (which is read as it is)")


def dbf_record_bytes(frame: pd.DataFrame) -> int:
    """Bytes of one DBF record GDAL writes for `frame`'s attributes (deletion flag included).

    Field widths as the Shapefile writer (:mod:`spatial.shpwrite`) makes them: text the
    longest value in UTF-8 bytes (1 to 254; GBK takes at most as many), and as GDAL chooses
    them: floats 24, 64-bit integers 18, smaller integers and booleans 9, dates as text.
    """
    from .shpwrite import MAX_TEXT_BYTES, text_bytes

    width = 1  # deletion flag
    for col in frame.columns:
        s = frame[col]
        if pd.api.types.is_float_dtype(s.dtype):
            width += 24
        elif pd.api.types.is_bool_dtype(s.dtype):
            width += 9
        elif pd.api.types.is_integer_dtype(s.dtype):
            width += 18 if s.dtype.itemsize >= 8 else 9
        elif pd.api.types.is_datetime64_any_dtype(s.dtype):
            width += 19  # written as text "YYYY-MM-DD HH:MM:SS" (spatial.export._shp_frame)
        else:
            width += int(min(max(text_bytes(s), 1), MAX_TEXT_BYTES))
    return width


def dbf_bytes(frame: pd.DataFrame, rows: int | None = None) -> float:
    """Estimated size (bytes) of the DBF GDAL writes for `frame`'s attributes.

    Header (32 bytes + 32 per field + 1), one record (:func:`dbf_record_bytes`) per row of
    `frame` (or `rows` records of that width: a file of some of its rows, an upper bound) and
    the end-of-file byte.
    """
    n = len(frame) if rows is None else rows
    return 34 + 32 * len(frame.columns) + float(dbf_record_bytes(frame)) * n


def shp_bytes(geoms: Any) -> float:
    """Size (bytes) of the ``.shp`` of `geoms` (shapely geometries), from the format's layout.

    ESRI Shapefile Technical Description (1998): a 100-byte header, then per record an 8-byte
    header and the content: points 20 bytes; lines and polygons 44 bytes + 4 per part (ring)
    + 16 per point (rings closed, as written); multipoints 40 + 16 per point. Null shapes 4.
    """
    import shapely

    g = np.asarray(geoms, dtype=object)
    if not len(g):
        return 100.0
    types = shapely.get_type_id(g)
    coords = shapely.get_num_coordinates(g).astype(np.float64)
    n_parts = np.ones(len(g))  # a line: one part; a polygon: its rings
    poly = types == 3
    n_parts[poly] = shapely.get_num_interior_rings(g[poly]) + 1
    multi = np.flatnonzero(types >= 5)  # multi-lines and -polygons, collections: their parts
    if len(multi):
        parts, idx = shapely.get_parts(g[multi], return_index=True)
        rings = np.where(shapely.get_type_id(parts) == 3,
                         shapely.get_num_interior_rings(parts) + 1, 1)
        n_parts[multi] = np.bincount(idx, weights=rings, minlength=len(multi))
    content = np.select([types == 0, types == 4, types < 0],
                        [20.0, 40.0 + 16 * coords, 4.0],
                        44.0 + 4 * n_parts + 16 * coords)
    return 100.0 + float((8.0 + content).sum())


def check_dbf(frame: pd.DataFrame, *, layer: str, rows: int | None = None) -> None:
    """Refuse writing a Shapefile whose DBF would pass ``max_dbf_bytes`` (2 GB by default).

    `rows`: the file holds that many rows of `frame` (see :func:`dbf_bytes`).
    """
    _refuse(f"layer {layer!r}: its Shapefile attribute table (.dbf) would be bytes",
            dbf_bytes(frame, rows), "max_dbf_bytes",
            "use the GeoPackage (no size limit) and a coarser resolution or fewer rows for "
            "Shapefiles")


def check_shp(geoms: Any, *, layer: str) -> None:
    """Refuse writing a Shapefile whose ``.shp`` would pass ``max_shp_bytes`` (2 GB)."""
    _refuse(f"layer {layer!r}: its Shapefile geometry file (.shp) would be bytes",
            shp_bytes(geoms), "max_shp_bytes",
            "use the GeoPackage (no size limit) and a coarser resolution or fewer rows for "
            "Shapefiles")
