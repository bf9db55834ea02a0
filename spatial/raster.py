"""GeoTIFF rasters to H3 cells: mean of the pixels whose centres fall in each cell.

A pixel belongs to the H3 cell containing its **centre** (no area weighting): the centres are
computed from the raster's affine transform, transformed to WGS-84 longitude/latitude with
pyproj when the raster is in another CRS, and indexed with :func:`spatial.h3grid.points_to_cells`.
The pixel-to-cell assignment is kept in a :class:`PixelIndex`, so further rasters of the same
grid (same shape, transform and CRS: a monthly series) cost one read and one ``np.bincount``.

Rasters are read in windows of whole rows (``block_rows``, rounded to the file's own blocks), so
a large raster never has to fit in memory; only the index (one int32 per pixel) is held. Nodata
is respected through rasterio's masks (the ``nodata`` value, an internal mask or alpha band) and
NaN values. :func:`stream_cells` goes through a series of rasters one at a time (a year of daily
national grids in bounded memory: the index, one window and one result at a time).

Typical use::

    stats = raster_to_cells("pm25_2025-01.tif", resolution=7)       # builds the index
    for path in other_months:
        s = raster_to_cells(path, index=stats.index)                 # reuses it
    for path, s in stream_cells(daily_paths, resolution=7):          # the same, as a generator
        ...
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import NamedTuple

import h3
import numpy as np
import pandas as pd
import pyproj
import rasterio
from affine import Affine
from rasterio.windows import Window

from . import h3grid, limits, raster_burn
from .errors import InputError
from .geodesy import H3_AUTHALIC_RADIUS_M  # H3's sphere: angles from H3 edge lengths

log = logging.getLogger(__name__)

__all__ = ["CellStats", "PixelIndex", "aggregate_array", "pixel_index", "raster_to_cells",
           "stream_cells"]

#: Rows read per window by default (4000-pixel-wide float32 rows: ~16 MB per window).
BLOCK_ROWS = 1024


class PixelIndex(NamedTuple):
    """Which H3 cell each pixel centre of a raster grid falls in.

    Attributes
    ----------
    cells
        Sorted unique ``uint64`` H3 cells touched by at least one pixel centre, shape (m,).
    codes
        ``int32`` position in ``cells`` of each pixel, row-major, shape (height * width,);
        -1 for a pixel whose centre has no WGS-84 position (outside the CRS's domain).
    shape
        ``(height, width)`` of the grid, pixels.
    transform
        Affine transform of the grid (pixel corner -> CRS coordinates).
    crs
        The grid's CRS as WKT ("" when the file has none and WGS-84 was assumed).
    resolution
        H3 resolution of ``cells``.
    """

    cells: np.ndarray
    codes: np.ndarray
    shape: tuple[int, int]
    transform: Affine
    crs: str
    resolution: int

    def matches(self, shape: tuple[int, int], transform: Affine, crs: str) -> bool:
        """True when a raster of this shape, transform and CRS (WKT) is on the same grid."""
        if tuple(shape) != tuple(self.shape) or not self.transform.almost_equals(transform,
                                                                                 precision=1e-9):
            return False
        if self.crs == crs:
            return True
        if not self.crs or not crs:
            return False
        return pyproj.CRS.from_user_input(self.crs) == pyproj.CRS.from_user_input(crs)


class CellStats(NamedTuple):
    """Per-cell pixel means of one raster band.

    Attributes
    ----------
    cells
        ``uint64`` H3 cells, shape (m,) (all cells of ``index``, sorted).
    mean
        Mean of the valid pixels of each cell, float64, shape (m,); NaN where ``count`` is 0.
    count
        Number of valid (not nodata, not NaN) pixels per cell, int64, shape (m,).
    index
        The pixel index used (pass it to the next raster of the same grid); None in the results
        of :class:`spatial.engine.DaskEngine`, whose index stays on the workers.
    """

    cells: np.ndarray
    mean: np.ndarray
    count: np.ndarray
    index: PixelIndex | None


def _crs_wkt(crs: object) -> str:
    if crs is None:
        return ""
    return pyproj.CRS.from_user_input(crs).to_wkt()


def _is_wgs84_lnglat(crs_wkt: str) -> bool:
    """True when coordinates can be used as WGS-84 longitude/latitude without transforming."""
    if not crs_wkt:
        return True
    crs = pyproj.CRS.from_user_input(crs_wkt)
    return crs.equals("EPSG:4326", ignore_axis_order=True) or crs.equals(
        "OGC:CRS84", ignore_axis_order=True)


def pixel_index(shape: tuple[int, int], transform: Affine, crs: object, *, resolution: int,
                block_rows: int = BLOCK_ROWS, fast: bool = True) -> PixelIndex:
    """Assign every pixel centre of a raster grid to its H3 cell.

    Parameters
    ----------
    shape
        ``(height, width)`` in pixels.
    transform
        Affine transform (rasterio's ``dataset.transform``): pixel (col, row) corner -> (x, y).
    crs
        The grid's CRS (anything pyproj accepts: EPSG code, WKT, ``rasterio.crs.CRS``); None is
        taken as WGS-84 longitude/latitude. x = easting/longitude, y = northing/latitude.
    resolution
        H3 resolution of the cells (7: ~5.2 km², about the national 3 km grid).
    block_rows
        Rows transformed per step (bounds the temporary memory).
    fast
        Burn the cells' outlines where cells are several pixels wide (see Notes); False looks
        up every pixel centre with :func:`spatial.h3grid.points_to_cells`. Both give the same
        index.

    Returns
    -------
    PixelIndex
        Cells sorted by id and one int32 code per pixel (row-major).

    Raises
    ------
    InputError
        If the resolution is invalid or the grid is empty.

    Notes
    -----
    Looking up 16 million pixel centres one by one costs about 8 s on two cores (H3's
    ``latLngToCell`` is ~0.5 microseconds). When cells are at least ~6 pixels across (block
    side ``s``, about half a cell edge in pixels, >= 3) the cells' outlines are burned into the
    grid with ``rasterio.features.rasterize`` (pixel-centre rule) and only the pixels whose
    centres lie within a float tolerance of an outline's straight edge (widened by how far the
    true great-circle edge bends away from it in the raster's CRS), or that no outline covered,
    are looked up exactly: see :mod:`spatial.raster_burn`. The result equals the
    pixel-by-pixel lookup (tests and ``bench_raster`` check this).
    """
    height, width = int(shape[0]), int(shape[1])
    if height <= 0 or width <= 0:
        raise InputError(f"raster shape {shape}: the grid has no pixels.")
    res = int(resolution)
    if not 0 <= res <= 15:
        raise InputError(f"resolution must be 0..15, got {resolution!r}.")
    wkt = _crs_wkt(crs)
    to_wgs84 = None if _is_wgs84_lnglat(wkt) else pyproj.Transformer.from_crs(
        pyproj.CRS.from_user_input(wkt), "EPSG:4326", always_xy=True)
    t = Affine(*tuple(transform)[:6])
    lnglat = _LngLat(t, to_wgs84)
    step = _block_size(lnglat, height, width, res) if fast else 1
    burned = None
    if step >= 3:  # cells several pixels wide: burn their outlines, exact near the edges
        from_wgs84 = None if to_wgs84 is None else pyproj.Transformer.from_crs(
            "EPSG:4326", pyproj.CRS.from_user_input(wkt), always_xy=True)
        burned = raster_burn.burn_codes(lnglat, t, from_wgs84, height, width, res, step)
    if burned is not None:
        cells, codes = burned
    else:
        cells, codes = _codes(*_cells_exact(lnglat, height, width, res, block_rows))
    log.info("Indexed %d x %d pixels to %d H3 cells at res %d", height, width, cells.size, res)
    return PixelIndex(cells=cells, codes=codes, shape=(height, width), transform=t, crs=wkt,
                      resolution=res)


class _LngLat:
    """Pixel (col, row) centres -> WGS-84 (lng, lat), wrapped to [-180, 180), with a valid mask."""

    def __init__(self, t: Affine, to_wgs84: pyproj.Transformer | None) -> None:
        self.t, self.to_wgs84 = t, to_wgs84

    def __call__(self, col: np.ndarray, row: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        t = self.t
        col_c, row_c = col + 0.5, row + 0.5
        if self.separable:  # x from the column, y from the row: keep the broadcast shapes
            x = t.a * col_c + t.c
            y = t.e * row_c + t.f
        else:
            x = t.a * col_c + t.b * row_c + t.c
            y = t.d * col_c + t.e * row_c + t.f
        if self.to_wgs84 is not None:
            x, y = self.to_wgs84.transform(x, y)
            x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
        else:
            # wrap only longitudes outside [-180, 180]: wrapping changes the last bits
            x = np.where(np.isfinite(x) & (np.abs(x) > 180.0), (x + 180.0) % 360.0 - 180.0, x)
        ok = np.isfinite(x) & np.isfinite(y) & (np.abs(y) <= 90) & (np.abs(x) <= 180)
        return x, y, ok

    @property
    def separable(self) -> bool:
        """True for a north-up grid in longitude/latitude (lng by column, lat by row)."""
        return self.to_wgs84 is None and self.t.b == 0 and self.t.d == 0


def _codes(all_cells: np.ndarray, ok_all: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted unique cells and each pixel's int32 position among them (-1 where not ok)."""
    codes = np.full(all_cells.size, -1, dtype=np.int32)
    if not ok_all.any():
        return np.zeros(0, dtype=np.uint64), codes
    fac, uniq = pd.factorize(all_cells[ok_all], sort=False)
    order = np.argsort(uniq, kind="stable")
    rank = np.empty(order.size, dtype=np.int32)
    rank[order] = np.arange(order.size, dtype=np.int32)
    codes[ok_all] = rank[fac]
    return np.asarray(uniq, dtype=np.uint64)[order], codes


def _cells_exact(lnglat: _LngLat, height: int, width: int, res: int, block_rows: int
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Every pixel centre looked up with points_to_cells (0 where not ok)."""
    n = height * width
    all_cells = np.zeros(n, dtype=np.uint64)
    ok_all = np.zeros(n, dtype=bool)
    col = np.arange(width, dtype=np.float64)[None, :]
    step = max(1, int(block_rows))
    for r0 in range(0, height, step):
        r1 = min(height, r0 + step)
        row = np.arange(r0, r1, dtype=np.float64)[:, None]
        x, y, ok = lnglat(col, row)
        shape = (r1 - r0, width)
        x, y, ok = (np.broadcast_to(a, shape).ravel() for a in (x, y, ok))
        sl = slice(r0 * width, r1 * width)
        if ok.any():
            block = np.zeros(x.size, dtype=np.uint64)
            block[ok] = h3grid.points_to_cells(y[ok], x[ok], resolution=res)
            all_cells[sl] = block
        ok_all[sl] = ok
    return all_cells, ok_all


def _block_size(lnglat: _LngLat, height: int, width: int, res: int) -> int:
    """Pixels per block side for the sampling shortcut: about half a cell edge (0: don't)."""
    col = np.array([0, 1, 0, width - 1, width - 2, width - 1, width // 2, width // 2 + 1,
                    width // 2], dtype=np.float64)
    row = np.array([0, 0, 1, height - 1, height - 1, height - 2, height // 2, height // 2,
                    height // 2 + 1], dtype=np.float64)
    x, y, ok = lnglat(col, row)
    if not ok.all() or np.abs(y).max() > 80:
        return 0
    lat0 = np.radians(y.reshape(3, 3)[:, :1])
    dx = np.radians(x.reshape(3, 3)[:, 1:] - x.reshape(3, 3)[:, :1])
    dy = np.radians(y.reshape(3, 3)[:, 1:] - y.reshape(3, 3)[:, :1])
    step_m = H3_AUTHALIC_RADIUS_M * np.hypot(dx * np.cos(lat0), dy)  # col and row steps, 3 places
    if not np.isfinite(step_m).all() or step_m.max() <= 0:
        return 0
    edge_m = h3.average_hexagon_edge_length(res, unit="m")
    return int(np.clip(edge_m / step_m.max() / 2.0, 0, 16))


def aggregate_array(values: np.ndarray, index: PixelIndex, *, nodata: float | None = None,
                    mask: np.ndarray | None = None) -> CellStats:
    """Per-cell mean and pixel count of an in-memory band on the grid of `index`.

    Parameters
    ----------
    values
        Band values, shape ``index.shape`` (rows = y, columns = x), any numeric dtype.
    index
        From :func:`pixel_index` (or a previous :class:`CellStats`).
    nodata
        Value marking missing pixels (in addition to NaN).
    mask
        Boolean array of ``index.shape``, True where a pixel is missing.

    Returns
    -------
    CellStats
    """
    arr = np.asarray(values)
    if arr.shape != tuple(index.shape):
        raise InputError(f"values have shape {arr.shape}, the index grid {index.shape}.")
    sums = np.zeros(index.cells.size)
    counts = np.zeros(index.cells.size, dtype=np.int64)
    _accumulate(arr.ravel(), index.codes, nodata, None if mask is None else mask.ravel(),
                sums, counts)
    return _stats(sums, counts, index)


def _accumulate(vals: np.ndarray, codes: np.ndarray, nodata: float | None,
                mask: np.ndarray | None, sums: np.ndarray, counts: np.ndarray) -> None:
    """Add the valid pixels' values and counts per cell (one or two bincounts, no float copy)."""
    good = np.isfinite(vals)
    if nodata is not None and np.isfinite(nodata):
        good &= vals != nodata
    if mask is not None:
        good &= ~mask
    if codes.size and codes.min() < 0:
        good &= codes >= 0
    m = sums.size
    if good.all():  # the common case: no masking copies, bincount reads the dtype as is
        sums += np.bincount(codes, weights=vals, minlength=m)
        counts += np.bincount(codes, minlength=m)
        return
    c = codes[good]
    sums += np.bincount(c, weights=vals[good], minlength=m)
    counts += np.bincount(c, minlength=m)


def _stats(sums: np.ndarray, counts: np.ndarray, index: PixelIndex) -> CellStats:
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    return CellStats(cells=index.cells, mean=mean, count=counts, index=index)


def raster_to_cells(path: Path | str, *, resolution: int | None = None,
                    index: PixelIndex | None = None, band: int = 1,
                    block_rows: int = BLOCK_ROWS) -> CellStats:
    """Mean of the pixels whose centres fall in each H3 cell, for one band of a GeoTIFF.

    Parameters
    ----------
    path
        The raster (GeoTIFF or anything GDAL reads), any CRS. A file without a CRS is taken as
        WGS-84 longitude/latitude (logged as a warning).
    resolution
        H3 resolution; needed when no `index` is given.
    index
        A :class:`PixelIndex` of the same grid (from an earlier call); built when None. A
        raster on another grid raises InputError (build a new index for it).
    band
        1-based band number.
    block_rows
        Rows read per window.

    Returns
    -------
    CellStats
        Every cell of the index with its pixel mean (NaN without valid pixels) and count.

    Raises
    ------
    InputError
        Unreadable file, missing band, or a grid that differs from `index`.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: raster file not found; check `path` in the config.")
    try:
        ds = rasterio.open(path)
    except rasterio.errors.RasterioIOError as err:
        raise InputError(f"{path}: not a readable raster ({err}).") from None
    with ds:
        if not 1 <= band <= ds.count:
            raise InputError(f"{path}: band {band} requested, the raster has {ds.count}.")
        wkt = _crs_wkt(ds.crs)
        if not wkt:
            log.warning("%s has no CRS; assuming WGS-84 longitude/latitude", path)
        shape = (ds.height, ds.width)
        limits.check_pixels(path, ds.width, ds.height)
        if index is None:
            if resolution is None:
                raise InputError("raster_to_cells needs `resolution` or an `index`.")
            index = pixel_index(shape, ds.transform, wkt or None, resolution=resolution,
                                block_rows=block_rows)
        elif not index.matches(shape, ds.transform, wkt):
            raise InputError(
                f"{path}: grid {shape} {tuple(ds.transform)[:6]} differs from the index's "
                f"{index.shape} {tuple(index.transform)[:6]} (or another CRS); build a new index "
                "for it (call raster_to_cells without `index`)."
            )
        elif resolution is not None and int(resolution) != index.resolution:
            raise InputError(f"resolution {resolution} differs from the index's "
                             f"{index.resolution}.")
        sums = np.zeros(index.cells.size)
        counts = np.zeros(index.cells.size, dtype=np.int64)
        height, width = shape
        flags = ds.mask_flag_enums[band - 1]
        plain = all(f in (rasterio.enums.MaskFlags.all_valid, rasterio.enums.MaskFlags.nodata)
                    for f in flags)
        block_h = ds.block_shapes[band - 1][0]  # whole rows of the file's blocks per window
        step = max(block_h, int(block_rows) // block_h * block_h) if block_h > 0 \
            else max(1, int(block_rows))
        for r0 in range(0, height, step):
            r1 = min(height, r0 + step)
            win = Window(0, r0, width, r1 - r0)
            codes = index.codes[r0 * width:r1 * width]
            if plain:  # no mask beyond nodata/NaN: skip rasterio's mask band
                arr = ds.read(band, window=win)
                _accumulate(arr.ravel(), codes, ds.nodatavals[band - 1], None, sums, counts)
            else:
                arr = ds.read(band, window=win, masked=True)
                _accumulate(np.ma.getdata(arr).ravel(), codes, None,
                            np.ma.getmaskarray(arr).ravel(), sums, counts)
    log.debug("%s: %d valid pixels in %d cells", path.name, counts.sum(), (counts > 0).sum())
    return _stats(sums, counts, index)


def stream_cells(paths: Iterable[Path | str], *, resolution: int | None = None,
                 index: PixelIndex | None = None, band: int = 1,
                 block_rows: int = BLOCK_ROWS) -> Iterator[tuple[Path, CellStats]]:
    """Per-cell pixel means of a series of rasters, one raster at a time (a generator).

    The pixel index is built from the first raster (unless `index` is given) and reused while
    the rasters stay on its grid; a raster on another grid gets a new index (logged). Each
    raster is read in windows (:func:`raster_to_cells`), so the memory held is the index (4
    bytes per pixel), one window and one :class:`CellStats`, whatever the number of rasters;
    keep only what you need of each result (e.g. running sums) to stay bounded.

    Parameters
    ----------
    paths
        Raster files, in the order wanted (e.g. one per day).
    resolution, band, block_rows
        As :func:`raster_to_cells`; `resolution` is needed unless `index` is given.
    index
        A :class:`PixelIndex` of the rasters' grid, when already built.

    Yields
    ------
    (path, CellStats)
        Each raster's path and its per-cell means and counts over ``stats.index.cells``.
    """
    for path in paths:
        path = Path(path)
        if index is not None and not index.matches(*_grid_of(path)):
            log.info("%s: another grid than the previous rasters; new pixel index", path)
            index = None
        s = raster_to_cells(path, resolution=resolution if index is None else None, index=index,
                            band=band, block_rows=block_rows)
        index = s.index
        yield path, s


def _grid_of(path: Path) -> tuple[tuple[int, int], Affine, str]:
    """(shape, transform, CRS WKT) of a raster file, InputError when missing or unreadable."""
    if not path.exists():
        raise InputError(f"{path}: raster file not found; check `path` in the config.")
    try:
        with rasterio.open(path) as ds:
            return (ds.height, ds.width), ds.transform, _crs_wkt(ds.crs)
    except rasterio.errors.RasterioIOError as err:
        raise InputError(f"{path}: not a readable raster ({err}).") from None
