"""H3 (v4) helpers: points to cells, cells to strings, centres, hexagons, neighbours, sums.

Polygons to cells and cells back to one shape are in :mod:`spatial.h3shapes`.

Conventions
-----------
- Inside the library a cell id is an ``np.uint64`` (the H3 integer id). In output tables it is the
  15-character lowercase hexadecimal string in a column ``h3_cell`` (:func:`cells_to_str`).
- h3 takes and returns coordinates as ``(lat, lng)``; shapely geometries are ``x=lng, y=lat``.
  Every function here says which order it uses. Coordinates are WGS-84 degrees (EPSG:4326).
- Heavy paths are vectorized: :func:`points_to_cells`, validation and :func:`grid_disk_pairs` use
  ``h3ronpy`` (Rust, releases the GIL) when it is installed and fall back to a loop over ``h3``
  otherwise, with identical results. Boundaries and centres always come from ``h3`` itself.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from itertools import chain
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from h3.api import basic_int as h3i

from .errors import InputError

try:  # optional accelerator; results are identical without it
    import h3ronpy as _h3ronpy
    import h3ronpy.vector as _h3ronpy_vector
except ImportError:  # pragma: no cover - exercised by monkeypatching in tests
    _h3ronpy = None
    _h3ronpy_vector = None

__all__ = [
    "aggregate",
    "cell_centers",
    "cells_to_gdf",
    "cells_to_polygons",
    "cells_to_str",
    "grid_disk_pairs",
    "grid_disks",
    "points_to_cells",
    "str_to_cells",
]

log = logging.getLogger(__name__)

CELL_COLUMN = "h3_cell"
AGGREGATIONS = ("count", "sum", "mean", "max", "min")

_HEX_DIGITS = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_HEX_VALUES = np.full(256, 255, dtype=np.uint8)
_HEX_VALUES[np.frombuffer(b"0123456789", np.uint8)] = np.arange(10)
_HEX_VALUES[np.frombuffer(b"abcdef", np.uint8)] = np.arange(10, 16)
_HEX_VALUES[np.frombuffer(b"ABCDEF", np.uint8)] = np.arange(10, 16)
_NIBBLE_SHIFTS = np.arange(56, -1, -4, dtype=np.uint64)  # 15 hex digits of a cell id
_MIN_THREAD_CHUNK = 250_000


# --------------------------------------------------------------------------------------- checks
def _check_resolution(resolution: Any) -> int:
    if isinstance(resolution, bool) or not isinstance(resolution, int | np.integer):
        raise InputError(f"resolution={resolution!r} must be an integer from 0 to 15.")
    if not 0 <= int(resolution) <= 15:
        raise InputError(f"resolution={resolution} is outside the H3 range 0..15.")
    return int(resolution)


def _as_cells(cells: Any, *, name: str = "cells", validate: bool = True) -> np.ndarray:
    """Return ``cells`` as a 1-D ``uint64`` array, raising InputError for invalid ids."""
    arr = np.asarray(cells)
    if arr.ndim != 1:
        raise InputError(f"{name} must be a 1-D array of H3 integer ids, got shape {arr.shape}.")
    if arr.size == 0:
        return np.empty(0, dtype=np.uint64)
    if arr.dtype.kind in "US" or arr.dtype == object:
        raise InputError(
            f"{name} holds {arr.dtype} values; these functions take integer ids — "
            "convert strings with spatial.h3grid.str_to_cells first."
        )
    if arr.dtype.kind == "i" and arr.size and arr.min() < 0:
        raise InputError(f"{name} holds negative values (e.g. {arr.min()}); H3 ids are unsigned.")
    if arr.dtype.kind not in "iu":
        raise InputError(f"{name} must hold integer H3 ids, got dtype {arr.dtype}.")
    arr = arr.astype(np.uint64, copy=False)
    if validate and arr.size:
        bad = ~_valid_mask(arr)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InputError(
                f"{name}: {int(bad.sum())} of {arr.size} values are not valid H3 cells; first at "
                f"position {i}: {int(arr[i])} (hex {int(arr[i]):x})."
            )
    return arr


def _valid_mask(cells: np.ndarray) -> np.ndarray:
    """Boolean mask of valid H3 cells in a ``uint64`` array."""
    if _h3ronpy is not None:
        return np.asarray(_h3ronpy.cells_valid(cells, booleanarray=True), dtype=bool)
    return np.fromiter(map(h3i.is_valid_cell, cells.tolist()), dtype=bool, count=cells.size)


# ------------------------------------------------------------------------------- points to cells
def points_to_cells(
    lat: Any, lng: Any, *, resolution: int, threads: int | None = None
) -> np.ndarray:
    """Index points to H3 cells, vectorized.

    Parameters
    ----------
    lat, lng
        Latitudes and longitudes in WGS-84 degrees, 1-D array-likes of equal length
        (**lat first**, as in h3).
    resolution
        H3 resolution, 0..15.
    threads
        Number of threads for large inputs (the h3ronpy kernel releases the GIL).
        Default: the number of CPUs, at most 4. Use 1 inside a worker that is already parallel.

    Returns
    -------
    numpy.ndarray
        ``uint64`` cell ids, equal to ``h3.latlng_to_cell(lat, lng, resolution)`` element-wise.

    Raises
    ------
    InputError
        If any coordinate is NaN/infinite, a latitude is outside [-90, 90] or a longitude outside
        [-180, 180] (h3 would silently wrap these). Drop or fix such rows first; the message gives
        their number and the first one.

    Examples
    --------
    >>> points_to_cells([36.651], [117.12], resolution=8)
    array([613362091736170495], dtype=uint64)
    """
    res = _check_resolution(resolution)
    lat = np.ascontiguousarray(lat, dtype=np.float64)
    lng = np.ascontiguousarray(lng, dtype=np.float64)
    if lat.ndim != 1 or lat.shape != lng.shape:
        raise InputError(
            f"lat and lng must be 1-D arrays of the same length, got shapes {lat.shape} and "
            f"{lng.shape}."
        )
    bad = ~(np.isfinite(lat) & np.isfinite(lng) & (np.abs(lat) <= 90) & (np.abs(lng) <= 180))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(
            f"{int(bad.sum())} of {lat.size} points have missing or out-of-range coordinates; "
            f"first at row {i}: lat={lat[i]}, lng={lng[i]}. Expected finite lat in [-90, 90] and "
            "lng in [-180, 180]; drop those rows (or check for swapped lat/lng columns)."
        )
    n = lat.size
    out = np.empty(n, dtype=np.uint64)
    if n == 0:
        return out
    if _h3ronpy_vector is None:
        pairs = zip(lat.tolist(), lng.tolist(), strict=True)
        out[:] = np.fromiter((h3i.latlng_to_cell(a, b, res) for a, b in pairs), np.uint64, n)
        return out

    def run(s: slice) -> None:
        out[s] = np.asarray(_h3ronpy_vector.coordinates_to_cells(lat[s], lng[s], res))

    if threads is None:
        threads = min(os.cpu_count() or 1, 4)
    n_chunks = max(1, min(int(threads), n // _MIN_THREAD_CHUNK))
    if n_chunks == 1:
        run(slice(0, n))
    else:
        bounds = np.linspace(0, n, n_chunks + 1).astype(int)
        with ThreadPoolExecutor(max_workers=n_chunks) as pool:
            list(pool.map(run, [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]))
    log.debug("Indexed %d points to H3 res %d in %d chunk(s)", n, res, n_chunks)
    return out


# ------------------------------------------------------------------------------------ strings
def cells_to_str(cells: Any) -> np.ndarray:
    """Format H3 integer ids as their 15-character lowercase hex strings.

    Parameters
    ----------
    cells
        1-D array of ``uint64`` H3 cell ids.

    Returns
    -------
    numpy.ndarray
        ``object`` array of ``str``, equal to ``h3.int_to_str`` element-wise
        (e.g. ``'882d8d9a3bfffff'``).

    Raises
    ------
    InputError
        If a value is not a valid H3 cell.
    """
    arr = _as_cells(cells)
    digits = np.empty((arr.size, _NIBBLE_SHIFTS.size), dtype=np.uint8)
    for j, shift in enumerate(_NIBBLE_SHIFTS):
        digits[:, j] = _HEX_DIGITS[((arr >> shift) & np.uint64(15)).astype(np.intp)]
    return digits.view("S15").ravel().astype("U15").astype(object)


def str_to_cells(strings: Any) -> np.ndarray:
    """Parse H3 hex strings (as in a ``h3_cell`` column) into ``uint64`` ids.

    Parameters
    ----------
    strings
        1-D array-like of 15-character hexadecimal H3 cell strings (upper or lower case).

    Returns
    -------
    numpy.ndarray
        ``uint64`` ids, equal to ``h3.str_to_int`` element-wise.

    Raises
    ------
    InputError
        If a value is not the string of a valid H3 cell; the message names the first one.
    """
    arr = np.asarray(strings)
    if arr.ndim != 1:
        raise InputError(f"strings must be 1-D, got shape {arr.shape}.")
    arr = arr.astype(str)
    n = arr.size
    if n == 0:
        return np.empty(0, dtype=np.uint64)
    ok = np.char.str_len(arr) == 15
    try:
        raw = arr.astype("S15")  # longer strings are truncated here but flagged by `ok`
    except UnicodeEncodeError:  # rare: find the non-ASCII values in a loop
        ascii_only = np.fromiter((s.isascii() for s in arr.tolist()), dtype=bool, count=n)
        ok &= ascii_only
        raw = np.where(ascii_only, arr, "").astype("S15")
    values = _HEX_VALUES[raw.view(np.uint8).reshape(n, 15)]
    ok &= (values != 255).all(axis=1)
    cells = np.zeros(n, dtype=np.uint64)
    for j, shift in enumerate(_NIBBLE_SHIFTS):
        cells |= values[:, j].astype(np.uint64) << shift
    cells[~ok] = 0
    ok &= _valid_mask(cells)
    if not ok.all():
        i = int(np.flatnonzero(~ok)[0])
        raise InputError(
            f"strings: {int((~ok).sum())} of {n} values are not valid H3 cell ids; first at "
            f"position {i}: {str(arr[i])!r} (expected 15 hexadecimal characters such as "
            "'882d8d9a3bfffff')."
        )
    return cells


# ----------------------------------------------------------------------------- geometry
def cell_centers(cells: Any) -> tuple[np.ndarray, np.ndarray]:
    """Centres of H3 cells.

    Parameters
    ----------
    cells
        1-D array of ``uint64`` H3 cell ids.

    Returns
    -------
    lat, lng : numpy.ndarray
        ``float64`` degrees (**lat first**), equal to ``h3.cell_to_latlng`` element-wise.
    """
    arr = _as_cells(cells)
    flat = np.fromiter(
        chain.from_iterable(map(h3i.cell_to_latlng, arr.tolist())),
        dtype=np.float64,
        count=2 * arr.size,
    ).reshape(arr.size, 2)
    return flat[:, 0].copy(), flat[:, 1].copy()


def lookup(sorted_cells: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Position of each `query` cell in the sorted array `sorted_cells`, -1 when absent.

    Vectorized membership test (one ``np.searchsorted``) for ``uint64`` cell ids, or any
    sorted integer keys (:func:`spatial.sources.attach` joins records by them).
    """
    query = np.asarray(query)
    if len(sorted_cells) == 0:
        return np.full(query.shape, -1, dtype=np.int64)
    pos = np.minimum(np.searchsorted(sorted_cells, query), len(sorted_cells) - 1)
    return np.where(sorted_cells[pos] == query, pos, -1).astype(np.int64)


def cells_to_polygons(cells: Any) -> np.ndarray:
    """Hexagons (and pentagons) of H3 cells as shapely Polygons.

    Parameters
    ----------
    cells
        1-D array of ``uint64`` H3 cell ids.

    Returns
    -------
    numpy.ndarray
        ``object`` array of shapely Polygons, **x=lng, y=lat** (degrees), closed rings whose
        vertices are ``h3.cell_to_boundary`` with each pair swapped. Cells whose boundary crosses
        the antimeridian get their negative longitudes shifted by +360 so the polygon stays small
        (x may then exceed 180). The few cells containing a pole are returned as-is and are not
        meaningful polygons. Pentagons and cells with extra distortion vertices are handled.
    """
    arr = _as_cells(cells)
    n = arr.size
    out = np.empty(n, dtype=object)
    if n == 0:
        return out
    bounds = list(map(h3i.cell_to_boundary, arr.tolist()))
    counts = np.fromiter(map(len, bounds), dtype=np.intp, count=n)
    flat = np.fromiter(
        chain.from_iterable(chain.from_iterable(bounds)), dtype=np.float64, count=2 * counts.sum()
    ).reshape(-1, 2)[:, ::-1]  # (lat, lng) -> (x=lng, y=lat)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    # each ring closed: its vertices, then its first again
    closed_counts = counts + 1
    ring_off = np.concatenate([[0], np.cumsum(closed_counts)])
    pos = np.arange(ring_off[-1]) - np.repeat(ring_off[:-1], closed_counts)
    src = np.repeat(starts, closed_counts) + np.where(pos == np.repeat(counts, closed_counts),
                                                      0, pos)
    coords = flat[src]
    x = coords[:, 0]
    wraps = (np.maximum.reduceat(x, ring_off[:-1]) - np.minimum.reduceat(x, ring_off[:-1])) > 180
    if wraps.any():
        w = np.repeat(wraps, closed_counts) & (x < 0)
        x[w] += 360
    out[:] = shapely.from_ragged_array(shapely.GeometryType.POLYGON, coords,
                                       (ring_off, np.arange(n + 1)))
    return out


def cells_to_gdf(
    cells: Any, data: Mapping[str, Any] | pd.DataFrame | None = None
) -> gpd.GeoDataFrame:
    """Build a hexagon layer: ``h3_cell`` string column, then ``data``, geometry last.

    Parameters
    ----------
    cells
        1-D array of ``uint64`` H3 cell ids, one row each.
    data
        Columns aligned **by position** with ``cells`` (a dict of arrays or a DataFrame — e.g. the
        result of :func:`aggregate`, whose index is ignored). Must not contain ``h3_cell`` or
        ``geometry``.

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326, geometry = :func:`cells_to_polygons` (x=lng, y=lat), RangeIndex.
    """
    arr = _as_cells(cells)
    columns: dict[str, Any] = {CELL_COLUMN: cells_to_str(arr)}
    if data is not None:
        frame = pd.DataFrame(data) if not isinstance(data, pd.DataFrame) else data
        if len(frame) != arr.size:
            raise InputError(f"data has {len(frame)} rows but cells has {arr.size}.")
        clash = {CELL_COLUMN, "geometry"} & set(map(str, frame.columns))
        if clash:
            raise InputError(f"data must not contain the column(s) {sorted(clash)}; rename them.")
        for name in frame.columns:
            columns[name] = frame[name].to_numpy()
    return gpd.GeoDataFrame(columns, geometry=cells_to_polygons(arr), crs="EPSG:4326")


# -------------------------------------------------------------------------------- neighbours
def grid_disks(cells: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Grid disks (cells within grid distance ``k``, the cell itself included) of every cell.

    Parameters
    ----------
    cells
        1-D array of ``uint64`` H3 cell ids (repeats allowed; each gets its own disk).
    k
        Grid distance (rings), >= 0.

    Returns
    -------
    neighbours, origin : numpy.ndarray
        The disks one after the other (``uint64``), and for each entry the position in ``cells``
        of its disk's centre (``int64``, non-decreasing). Uses h3ronpy's vectorized
        ``grid_disk`` when installed, else one ``h3.grid_disk`` call per cell (same sets).
    """
    cells = np.asarray(cells, dtype=np.uint64)
    if _h3ronpy is not None:
        import pyarrow as pa

        lists = pa.array(_h3ronpy.grid_disk(cells, k))
        offsets = lists.offsets.to_numpy()
        neighbours = lists.flatten().to_numpy().astype(np.uint64, copy=False)
        counts = np.diff(offsets)
    else:
        disks = [h3i.grid_disk(c, k) for c in cells.tolist()]
        counts = np.fromiter(map(len, disks), dtype=np.intp, count=len(disks))
        neighbours = np.fromiter(chain.from_iterable(disks), dtype=np.uint64, count=counts.sum())
    return neighbours, np.repeat(np.arange(cells.size, dtype=np.int64), counts)


def grid_disk_pairs(
    cells: Any, k: int, *, chunk_size: int = 100_000
) -> tuple[np.ndarray, np.ndarray]:
    """All pairs of cells of ``cells`` within grid distance ``k`` of each other.

    Parameters
    ----------
    cells
        1-D array of **unique** ``uint64`` H3 cell ids (one resolution).
    k
        Grid distance (rings), >= 0. Each cell is paired with itself.
    chunk_size
        Cells per batch of ``grid_disk`` calls (bounds memory: about ``3 k^2`` ids per cell).

    Returns
    -------
    src, dst : numpy.ndarray
        ``int64`` positions into ``cells`` such that ``grid_distance(cells[src], cells[dst]) <= k``,
        sorted by ``src`` then ``dst``. The relation is symmetric.
    """
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 0:
        raise InputError(f"k={k!r} must be a non-negative integer number of grid rings.")
    arr = _as_cells(cells)
    order = np.argsort(arr, kind="stable")
    ordered = arr[order]
    if ordered.size > 1 and (ordered[1:] == ordered[:-1]).any():
        dup = ordered[1:][ordered[1:] == ordered[:-1]][0]
        raise InputError(
            f"cells must be unique for grid_disk_pairs; {int(dup):x} occurs more than once "
            "(aggregate first, or pass np.unique(cells))."
        )
    src_parts, dst_parts = [], []
    for start in range(0, arr.size, chunk_size):
        neighbours, src = grid_disks(arr[start : start + chunk_size], int(k))
        pos = lookup(ordered, neighbours)
        hit = pos >= 0
        src_parts.append(src[hit] + start)
        dst_parts.append(order[pos[hit]].astype(np.int64))
    if not src_parts:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    src_all, dst_all = np.concatenate(src_parts), np.concatenate(dst_parts)
    sort = np.lexsort((dst_all, src_all))
    return src_all[sort], dst_all[sort]


# ------------------------------------------------------------------------------- aggregation
def aggregate(
    cells: Any,
    values: Mapping[str, Any] | pd.DataFrame | None = None,
    *,
    how: Mapping[str, str | Sequence[str]] | None = None,
) -> pd.DataFrame:
    """Per-cell counts and statistics, vectorized (factorize + bincount).

    Parameters
    ----------
    cells
        1-D array of ``uint64`` cell ids, one per row (e.g. from :func:`points_to_cells`).
        Not validated as H3 ids.
    values
        Columns aligned with ``cells`` (dict of arrays or DataFrame), numeric or boolean.
    how
        ``{column: aggregation}`` or ``{column: [aggregations]}``, aggregations among
        ``count`` (non-missing values), ``sum``, ``mean``, ``max``, ``min``. Missing values (NaN)
        are skipped, as in pandas: ``sum`` of an all-missing cell is 0, the others NaN.

    Returns
    -------
    pandas.DataFrame
        Index ``cell``: the unique cells (``uint64``, ascending). Columns: ``n`` (rows per cell,
        int64), then ``{column}_{aggregation}`` in the order requested (``count`` int64, the
        others float64).

    Examples
    --------
    >>> agg = aggregate(np.array([5, 3, 5], dtype=np.uint64), {"pm25": [10.0, 4.0, 20.0]},
    ...                 how={"pm25": ["mean", "max"]})
    >>> agg.index.tolist(), agg["n"].tolist(), agg["pm25_mean"].tolist(), agg["pm25_max"].tolist()
    ([3, 5], [1, 2], [4.0, 15.0], [4.0, 20.0])
    """
    arr = np.asarray(cells)
    if arr.ndim != 1 or arr.dtype.kind not in "iu":
        raise InputError(
            f"cells must be a 1-D integer array of H3 ids, got dtype {arr.dtype}, shape "
            f"{arr.shape} (convert strings with str_to_cells)."
        )
    arr = arr.astype(np.uint64, copy=False)
    codes, uniques = pd.factorize(arr)  # hash-based; sort the (few) uniques afterwards
    uniques = np.asarray(uniques, dtype=np.uint64)
    order = np.argsort(uniques)
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    codes = rank[codes]
    m = uniques.size
    result: dict[str, np.ndarray] = {"n": np.bincount(codes, minlength=m).astype(np.int64)}
    for name, funcs in (how or {}).items():
        funcs = [funcs] if isinstance(funcs, str) else list(funcs)
        unknown = [f for f in funcs if f not in AGGREGATIONS]
        if unknown:
            raise InputError(
                f"how[{name!r}]: unknown aggregation(s) {unknown}; use some of {AGGREGATIONS}."
            )
        if values is None or name not in values:
            raise InputError(f"how names column {name!r}, which is not in values.")
        column = np.asarray(values[name])
        if column.shape != arr.shape:
            raise InputError(f"values[{name!r}] has {column.size} rows but cells has {arr.size}.")
        if column.dtype.kind not in "biuf":
            raise InputError(f"values[{name!r}] must be numeric or boolean, got {column.dtype}.")
        v = column.astype(np.float64)
        present = ~np.isnan(v)
        n_present = np.bincount(codes, weights=present, minlength=m)
        total = np.bincount(codes, weights=np.where(present, v, 0.0), minlength=m)
        for func in funcs:
            if func == "count":
                out = n_present.astype(np.int64)
            elif func == "sum":
                out = total
            elif func == "mean":
                out = np.full(m, np.nan)
                np.divide(total, n_present, out=out, where=n_present > 0)
            else:
                out = np.full(m, np.nan)
                (np.fmax if func == "max" else np.fmin).at(out, codes, v)
            result[f"{name}_{func}"] = out
    return pd.DataFrame(result, index=pd.Index(uniques[order], name="cell"))
