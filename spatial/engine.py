"""Execution engines: the heavy steps of an analysis, in process or on a Dask cluster.

An analysis calls the engine's methods for its heavy paths (H3 indexing, clustering, Gi* per
period, rasters to cells); :class:`LocalEngine` (the default) runs them in this process with
:mod:`spatial.h3grid`, :mod:`spatial.cluster`, :mod:`spatial.stats` and :mod:`spatial.raster`.
:class:`DaskEngine` runs the same functions on the workers of a ``distributed`` cluster and gives
**the same results** (the same partition of events, bit-identical z-scores and cell means):

- ``points_to_cells``: one task per chunk of points (H3 indexing is per point).
- ``gi_star_periods``: one task per period; the weights matrix is sent to every worker once.
  z and p are bit-identical to the in-process ones at any size: a worker receives each column
  inside a pickled task, at an address numpy may see as unaligned, and numpy sums an unaligned
  buffer in 8192-value chunks but an aligned one pairwise as a whole (different last bits in
  the sum, the mean and the variance, so in ~all z); :func:`spatial.stats.gi_star` therefore
  works on its own contiguous, aligned copy, so both engines add the same numbers in the same
  order (``tests/test_engine.py`` reproduces the difference with an unaligned buffer).
- ``emerging_hotspots``: the Mann-Kendall trend of each cell's Gi* z-scores and its
  emerging-hot-spot category, one task per block of cells (all periods of those cells: both
  are per cell, so the blocks' results are those of the whole array, bit for bit); the client
  gathers only the per-cell results, and the work (cells x periods², the pair count) and its
  temporaries (ranks, sort orders) are divided among the workers.
- ``rasters_to_cells``: one task per raster file; the pixel index of a grid is built by one task
  and reused by the tasks of the other files on that grid. The index stays on the workers: the
  results the client gathers have ``index`` None (gathered with each result it was one copy of
  4 bytes a pixel per raster in the client: 87 MB per national 1 km raster, 32 GB for a year).
- ``st_dbscan``: the detections are cut into space-time tiles (latitude bands x time slabs,
  edges at quantiles of the data) extended by halos; each tile is clustered on a worker with
  :func:`spatial.cluster.st_dbscan`; the tiles' labels are merged with a union-find over the
  points that several tiles share (connected components of points and (tile, label) groups).

  Why the merge is exact (``min_samples=1``, where events are the connected components of the
  neighbour relation): two neighbours ``i, j`` are within ``eps_m`` on the sphere, so their
  latitudes differ by at most ``eps_m / R`` radians (a great-circle arc is at least as long as
  its change of latitude times R), and their times by at most ``eps_s``. A tile holds every
  point within a halo of ``h_lat = eps_m / R`` (in degrees, widened by 1e-6 relative + 1e-9 deg)
  and ``h_t = eps_s`` (+1e-6 relative + 1 ms) of its core box in latitude and time, and ``i`` lies
  in some tile's core, so ``j`` is in that tile too: every neighbour pair falls wholly inside at
  least one tile. Clustering a subset only finds true neighbour pairs (the pair test is exact
  and depends only on the two points), so each tile's clusters are subsets of true events and
  the union of all tiles' pairs is every neighbour pair: the merged components are exactly the
  in-process events. Longitude is not split (no antimeridian case, no longitude halo to bound).
  Labels are renumbered by first appearance in the input, as in-process. Times are converted
  to seconds once, before tiling, so every tile decides ``|t_i - t_j| <= eps_s`` on the same
  numbers as the in-process run. With ``min_samples > 1`` (core and border points) the engine
  runs :func:`spatial.cluster.st_dbscan` in one task on a worker.

Building blocks for data larger than memory: :func:`read_partitions` (many CSV/Parquet files as
one Dask DataFrame) and :func:`aggregate_partitions` (H3 indexing and per-cell/per-period count,
sum, mean, min, max in ``map_partitions`` with a tree reduction; equal to
:func:`spatial.h3grid.aggregate` on the whole table: counts, min and max exactly, sums and means
up to float summation order, ~1e-15 relative).

Dask is optional (``pip install lantian[dask]``) and imported only when a DaskEngine is made.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from . import cluster, geodesy, h3grid, progress, raster, stats
from .errors import InputError

log = logging.getLogger(__name__)

__all__ = ["DaskEngine", "LocalEngine", "aggregate_partitions", "get_engine", "read_partitions"]

ENGINES = ("local", "dask")
_REL = 1e-6


class LocalEngine:
    """Heavy steps in this process (the default engine); see the module docstring."""

    name = "local"

    def __enter__(self) -> LocalEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release resources (nothing in process)."""

    def points_to_cells(self, lat: np.ndarray, lng: np.ndarray, *, resolution: int
                        ) -> np.ndarray:
        """:func:`spatial.h3grid.points_to_cells` (lat first, degrees) -> ``uint64`` cells."""
        return h3grid.points_to_cells(lat, lng, resolution=resolution)

    def st_dbscan(self, lat: np.ndarray, lng: np.ndarray, t: Any = None, *,
                  eps_m: float = 1000.0, eps_s: float | None = 86400.0,
                  min_samples: int = 1) -> np.ndarray:
        """:func:`spatial.cluster.st_dbscan`: int64 event labels (lat, lng degrees; t seconds)."""
        return cluster.st_dbscan(lat, lng, t, eps_m=eps_m, eps_s=eps_s, min_samples=min_samples)

    def gi_star_periods(self, values: np.ndarray, weights: sparse.csr_array, *,
                        alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Gi* z, p and FDR classes of each column (period) of ``values`` (cells x periods).

        Returns arrays of ``values.shape``: float64 z, float64 p, int8 classes (+1 hot, -1 cold).
        """
        values = np.asarray(values, dtype=np.float64)
        out = [_gi_fdr(values[:, j], weights, alpha)
               for j in progress.track(range(values.shape[1]), "Gi* per period")]
        return _stack_gi(out, values.shape)

    def emerging_hotspots(self, z: np.ndarray, cls: np.ndarray, *, alpha: float = 0.05
                          ) -> tuple[stats.MannKendallResult, np.ndarray]:
        """Mann-Kendall trend and emerging-hot-spot category of each cell.

        ``z``: Gi* z-scores (cells x periods, periods in time order, NaN = no data); ``cls``:
        their FDR classes (int, same shape). Returns :func:`spatial.stats.mann_kendall` of ``z``
        (each field shape (n_cells,)) and :func:`spatial.stats.emerging_hotspot_categories`
        (str, shape (n_cells,)) with that trend.
        """
        mk = stats.mann_kendall(z)
        return mk, stats.emerging_hotspot_categories(z, cls, alpha=alpha, trend=mk)

    def rasters_to_cells(self, paths: Sequence[str | Path], *, resolution: int, band: int = 1
                         ) -> list[raster.CellStats]:
        """:func:`spatial.raster.raster_to_cells` of each file; a grid's index built once."""
        indexes: dict[tuple, raster.PixelIndex] = {}
        results = []
        for path in progress.track(paths, "reading rasters"):
            key = _grid_key(path)
            s = raster.raster_to_cells(path, resolution=resolution, index=indexes.get(key),
                                       band=band)
            indexes[key] = s.index
            results.append(s)
        return results


def _gi_fdr(col: np.ndarray, weights: sparse.csr_array, alpha: float
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    z, p = stats.gi_star(col, weights)
    return z, p, stats.fdr_classes(z, p, alpha=alpha)


def _stack_gi(parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]], shape: tuple[int, int]
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    z = np.full(shape, np.nan)
    p = np.full(shape, np.nan)
    cls = np.zeros(shape, dtype=np.int8)
    for j, (zj, pj, cj) in enumerate(parts):
        z[:, j], p[:, j], cls[:, j] = zj, pj, cj
    return z, p, cls


def _grid_key(path: str | Path) -> tuple:
    import rasterio

    try:
        with rasterio.open(path) as ds:
            return (ds.height, ds.width, tuple(ds.transform)[:6],
                    ds.crs.to_wkt() if ds.crs else "")
    except rasterio.errors.RasterioIOError:
        return ("unreadable", str(path))  # raster_to_cells raises the InputError


# ------------------------------------------------------------------------------ dask engine
def _import_dask() -> Any:
    try:
        import dask  # noqa: F401
        import distributed
    except ImportError:
        raise InputError("--engine dask needs Dask: pip install 'lantian[dask]' (dask[dataframe] "
                         "and distributed), or leave out --engine to run in process.") from None
    return distributed


class DaskEngine(LocalEngine):
    """Heavy steps on a Dask ``distributed`` cluster, with the in-process results.

    Parameters
    ----------
    scheduler
        Address of a running scheduler (``tcp://host:8786``), or a ``distributed.Client``.
        None starts a LocalCluster (closed by :meth:`close`).
    n_workers, threads_per_worker, processes
        The LocalCluster's shape when no scheduler is given. Worker processes (the default) are
        what a real cluster does: every argument and result crosses a process boundary, so a
        run on one machine exercises the same serialization; they also sidestep the GIL for
        the pure-Python parts of the tasks.
    chunk_points
        Points per task for H3 indexing.
    tile_points
        Target detections per clustering tile (cores; halos add a few).
    block_cell_days
        Largest block of cells x periods per emerging-hot-spot task (the block's z is 8 bytes
        per cell-day; the task's temporaries a few times that). There are at least two blocks
        per worker, so that every worker has work.
    """

    name = "dask"

    def __init__(self, scheduler: Any = None, *, n_workers: int = 2, threads_per_worker: int = 1,
                 processes: bool = True, chunk_points: int = 1_000_000,
                 tile_points: int = 250_000, block_cell_days: int = 8_000_000) -> None:
        distributed = _import_dask()
        self._cluster = None
        self._own_client = True
        if isinstance(scheduler, distributed.Client):
            self.client, self._own_client = scheduler, False
        elif scheduler:
            try:
                self.client = distributed.Client(scheduler, timeout="20s")
            except OSError as err:
                raise InputError(f"--scheduler {scheduler}: cannot reach the Dask scheduler "
                                 f"({err}); start it with `dask scheduler` and check the "
                                 "address.") from None
        else:
            self._cluster = distributed.LocalCluster(
                n_workers=n_workers, threads_per_worker=threads_per_worker, processes=processes,
                dashboard_address=None)
            self.client = distributed.Client(self._cluster)
        self.chunk_points = int(chunk_points)
        self.tile_points = int(tile_points)
        self.block_cell_days = int(block_cell_days)
        log.info("Dask engine on %s", self.client.scheduler.address if self.client.scheduler
                 else scheduler)

    def close(self) -> None:
        """Close the client, and the LocalCluster if this engine started it."""
        if self._own_client:
            self.client.close()
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None

    def points_to_cells(self, lat: np.ndarray, lng: np.ndarray, *, resolution: int
                        ) -> np.ndarray:
        lat = np.asarray(lat, dtype=np.float64)
        lng = np.asarray(lng, dtype=np.float64)
        if lat.size <= self.chunk_points:
            return h3grid.points_to_cells(lat, lng, resolution=resolution)
        bounds = range(0, lat.size, self.chunk_points)
        futs = [self.client.submit(_cells_task, lat[a:a + self.chunk_points],
                                   lng[a:a + self.chunk_points], resolution, pure=False)
                for a in bounds]
        return np.concatenate(self.client.gather(futs))

    def gi_star_periods(self, values: np.ndarray, weights: sparse.csr_array, *,
                        alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        values = np.asarray(values, dtype=np.float64)
        if values.shape[1] == 0:
            return _stack_gi([], values.shape)
        w = self.client.scatter(weights, broadcast=True)
        futs = [self.client.submit(_gi_fdr, values[:, j].copy(), w, alpha, pure=False)
                for j in range(values.shape[1])]
        return _stack_gi(self.client.gather(futs), values.shape)

    def emerging_hotspots(self, z: np.ndarray, cls: np.ndarray, *, alpha: float = 0.05
                          ) -> tuple[stats.MannKendallResult, np.ndarray]:
        z = np.asarray(z, dtype=np.float64)
        cls = np.asarray(cls)
        if (z.ndim != 2 or z.shape != cls.shape or z.shape[1] < 2 or z.shape[0] == 0
                or not 0.0 < float(alpha) < 1.0):  # the InputError in the client, or no cells
            return super().emerging_hotspots(z, cls, alpha=alpha)
        n_c, n_t = z.shape
        n_workers = max(1, len(self.client.scheduler_info().get("workers", {})))
        n_blocks = min(n_c, max(2 * n_workers, -(-n_c * n_t // self.block_cell_days)))
        edges = np.linspace(0, n_c, n_blocks + 1).round().astype(np.int64)
        blocks = [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:], strict=True) if b > a]
        zs = self.client.scatter([np.ascontiguousarray(z[a:b]) for a, b in blocks], hash=False)
        cs = self.client.scatter([np.ascontiguousarray(cls[a:b]) for a, b in blocks],
                                 hash=False)
        futs = [self.client.submit(_emerging_task, zf, cf, float(alpha), pure=False)
                for zf, cf in zip(zs, cs, strict=True)]
        parts = self.client.gather(futs)
        mk = stats.MannKendallResult(*(np.concatenate([p[0][i] for p in parts])
                                       for i in range(len(stats.MannKendallResult._fields))))
        return mk, np.concatenate([p[1] for p in parts])

    def rasters_to_cells(self, paths: Sequence[str | Path], *, resolution: int, band: int = 1
                         ) -> list[raster.CellStats]:
        """As in process (equal cells, mean, count), but ``index`` None: it stays on workers."""
        firsts: dict[tuple, Any] = {}
        futs = []
        for path in paths:  # the first file of each grid builds the index, the others wait
            key = _grid_key(path)
            if key not in firsts:
                firsts[key] = self.client.submit(raster.raster_to_cells, str(path),
                                                 resolution=resolution, band=band, pure=False)
                futs.append(self.client.submit(_without_index, firsts[key], pure=False))
            else:
                futs.append(self.client.submit(_raster_with_index, str(path), firsts[key],
                                               resolution, band, pure=False))
        return self.client.gather(futs)

    def st_dbscan(self, lat: np.ndarray, lng: np.ndarray, t: Any = None, *,
                  eps_m: float = 1000.0, eps_s: float | None = 86400.0,
                  min_samples: int = 1) -> np.ndarray:
        lat, lng = cluster._as_coords(lat, lng)  # noqa: SLF001 - same validation as in process
        n = lat.size
        eps_m = cluster._check_positive("eps_m", eps_m, allow_zero=False)
        tsec = None
        if t is not None and eps_s is not None:
            eps_s = cluster._check_positive("eps_s", eps_s, allow_zero=True)
            tsec = cluster._as_seconds(t, n)
        if min_samples != 1 or n <= self.tile_points:
            fut = self.client.submit(cluster.st_dbscan, lat, lng, tsec, eps_m=eps_m,
                                     eps_s=eps_s if tsec is not None else None,
                                     min_samples=min_samples, pure=False)
            return fut.result()
        members, tiles = tile_members(lat, tsec, eps_m=eps_m, eps_s=eps_s,
                                      n_tiles=max(1, round(n / self.tile_points)))
        futs = [self.client.submit(_tile_task, lat[m], lng[m],
                                   None if tsec is None else tsec[m], eps_m, eps_s, pure=False)
                for m in members]
        labels = self.client.gather(futs)
        log.info("Clustered %d detections in %d tiles on Dask", n, tiles)
        return merge_tile_labels(n, members, labels)


def _cells_task(lat: np.ndarray, lng: np.ndarray, resolution: int) -> np.ndarray:
    return h3grid.points_to_cells(lat, lng, resolution=resolution, threads=1)


def _emerging_task(z: np.ndarray, cls: np.ndarray, alpha: float
                   ) -> tuple[tuple[np.ndarray, ...], np.ndarray]:
    mk = stats.mann_kendall(z)
    return tuple(mk), stats.emerging_hotspot_categories(z, cls, alpha=alpha, trend=mk)


def _raster_with_index(path: str, first: raster.CellStats, resolution: int, band: int
                       ) -> raster.CellStats:
    return _without_index(raster.raster_to_cells(path, resolution=resolution, index=first.index,
                                                 band=band))


def _without_index(s: raster.CellStats) -> raster.CellStats:
    """The result the client gathers: the pixel index (4 bytes a pixel) stays on the workers."""
    return s._replace(index=None)


def _tile_task(lat: np.ndarray, lng: np.ndarray, tsec: np.ndarray | None, eps_m: float,
               eps_s: float | None) -> np.ndarray:
    return cluster.st_dbscan(lat, lng, tsec, eps_m=eps_m,
                             eps_s=eps_s if tsec is not None else None, min_samples=1)


# --------------------------------------------------------------------------- tiles and merge
def _slab_edges(v: np.ndarray, k: int, min_width: float) -> np.ndarray:
    """Inner edges of k slabs at quantiles of v, at least ``min_width`` apart."""
    if k <= 1 or v.size == 0:
        return np.zeros(0)
    q = np.unique(np.quantile(v, np.linspace(0, 1, k + 1)[1:-1]))
    keep = []
    last = -np.inf
    for e in q.tolist():  # k values at most
        if e - last >= min_width and e - v.min() >= min_width and v.max() - e >= min_width:
            keep.append(e)
            last = e
    return np.asarray(keep, dtype=np.float64)


def _slab_ranges(v: np.ndarray, edges: np.ndarray, halo: float) -> tuple[np.ndarray, np.ndarray]:
    """First and last slab whose core extended by ``halo`` contains each value.

    Slab a is ``[e_{a-1}, e_a)`` with ``e_{-1} = -inf`` and ``e_K = +inf``; its extended range is
    ``[e_{a-1} - halo, e_a + halo]``.
    """
    lo = np.searchsorted(edges + halo, v, side="left")  # first a with e_a + halo >= v
    hi = np.searchsorted(edges - halo, v, side="right")  # last a with e_{a-1} - halo <= v
    return lo, hi


def tile_members(lat: np.ndarray, tsec: np.ndarray | None, *, eps_m: float,
                 eps_s: float | None, n_tiles: int) -> tuple[list[np.ndarray], int]:
    """Space-time tiles (latitude bands x time slabs) with halos; see the module docstring.

    Parameters
    ----------
    lat
        Latitudes, degrees, shape (n,).
    tsec
        Times in seconds, shape (n,), or None (tiles in latitude only).
    eps_m, eps_s
        The clustering's neighbour distance (metres, on the sphere of
        :data:`spatial.geodesy.EARTH_RADIUS_M`) and time window (seconds).
    n_tiles
        Target number of tiles.

    Returns
    -------
    members, n
        Sorted point indices of each non-empty tile (a point is in its own tile and in any tile
        whose core lies within the halo), and the number of tiles.
    """
    h_lat = np.degrees(eps_m / geodesy.EARTH_RADIUS_M) * (1 + _REL) + 1e-9
    dims = [(lat, h_lat)]
    if tsec is not None:
        dims.append((tsec, float(eps_s) * (1 + _REL) + 1e-3))
    n_tiles = max(1, int(n_tiles))
    k_lat = max(1, int(round(n_tiles ** 0.5))) if len(dims) == 2 else n_tiles
    counts = [k_lat, -(-n_tiles // k_lat)][:len(dims)]
    ranges, sizes = [], []
    for (v, h), k in zip(dims, counts, strict=True):
        edges = _slab_edges(v, k, 4 * h)
        ranges.append(_slab_ranges(v, edges, h))
        sizes.append(edges.size + 1)
    n = lat.size
    idx = np.arange(n)
    tile = np.zeros(n, dtype=np.int64)
    for (lo, hi), size in zip(ranges, sizes, strict=True):  # expand memberships dim by dim
        cnt = hi[idx] - lo[idx] + 1
        rep = np.repeat(np.arange(idx.size), cnt)
        offs = np.arange(rep.size) - np.repeat(np.cumsum(cnt) - cnt, cnt)
        tile = tile[rep] * size + lo[idx][rep] + offs
        idx = idx[rep]
    order = np.lexsort((idx, tile))
    tile, idx = tile[order], idx[order]
    cut = np.flatnonzero(np.diff(tile)) + 1
    members = np.split(idx, cut)
    return [m for m in members if m.size], int(np.prod(sizes))


def merge_tile_labels(n: int, members: Sequence[np.ndarray], labels: Sequence[np.ndarray]
                      ) -> np.ndarray:
    """Merge per-tile cluster labels into one partition (union-find on shared points).

    Parameters
    ----------
    n
        Number of points.
    members
        Point indices of each tile.
    labels
        Labels (>= 0) of the tile's points, aligned with ``members``.

    Returns
    -------
    numpy.ndarray
        int64 labels 0..k-1 numbered by first appearance: the connected components of the graph
        linking each point to its (tile, label) groups.
    """
    offsets = np.cumsum([0] + [int(lab.max()) + 1 if lab.size else 0 for lab in labels])
    pts = np.concatenate(members) if members else np.zeros(0, np.int64)
    grp = np.concatenate([lab + off for lab, off in zip(labels, offsets[:-1], strict=True)]) \
        if labels else np.zeros(0, np.int64)
    g = int(offsets[-1])
    graph = sparse.coo_array((np.ones(pts.size, dtype=np.int8), (pts, n + grp)),
                             shape=(n + g, n + g)).tocsr()
    _, comp = connected_components(graph, directed=False)
    return cluster._renumber_first_appearance(comp[:n].astype(np.int64))  # noqa: SLF001


# --------------------------------------------------------------------------- partitioned data
def read_partitions(paths: str | Path | Sequence[str | Path], *, columns: Sequence[str] | None
                    = None, **kwargs: Any) -> Any:
    """Many CSV or Parquet files (a glob, a folder of Parquet, or a list) as one Dask DataFrame.

    Parameters
    ----------
    paths
        File paths or glob patterns; all ``.parquet``/``.pq`` or all CSV. Paths must be visible
        to the workers (a shared disk or object storage) when a remote scheduler is used.
    columns
        Columns to read (all when None).
    **kwargs
        Passed to ``dask.dataframe.read_csv`` / ``read_parquet``.

    Returns
    -------
    dask.dataframe.DataFrame
        One partition per file (CSV files larger than Dask's blocksize are split).
    """
    _import_dask()
    import dask.dataframe as dd

    items = [str(p) for p in ([paths] if isinstance(paths, str | Path) else paths)]
    if not items:
        raise InputError("read_partitions: no paths given.")
    if all(p.lower().endswith((".parquet", ".pq")) or Path(p).is_dir() for p in items):
        return dd.read_parquet(items if len(items) > 1 else items[0], columns=columns, **kwargs)
    return dd.read_csv(items, usecols=columns, **kwargs)


_PART_FUNCS = ("count", "sum", "min", "max")


def _partial(df: pd.DataFrame, lat: str, lng: str, resolution: int, period: str | None,
             freq: str | None, cols: Sequence[str]) -> pd.DataFrame:
    """Per (cell[, period]) partial results of one partition: n, and count/sum/min/max."""
    cells = h3grid.points_to_cells(df[lat].to_numpy(np.float64), df[lng].to_numpy(np.float64),
                                   resolution=resolution, threads=1)
    keys = {"cell": cells}
    if period is not None:
        keys["period"] = pd.to_datetime(df[period]).dt.to_period(freq).astype(str).to_numpy()
    frame = pd.DataFrame({**keys, **{c: df[c].to_numpy(np.float64) for c in cols}})
    g = frame.groupby(list(keys), sort=False)
    out = g.size().rename("n").to_frame()
    for c in cols:
        out[f"{c}_count"] = g[c].count()
        out[f"{c}_sum"] = g[c].sum()
        out[f"{c}_min"] = g[c].min()
        out[f"{c}_max"] = g[c].max()
    return out


def _combine(parts: list[pd.DataFrame]) -> pd.DataFrame:
    frame = pd.concat(parts)
    if frame.empty:
        return frame
    g = frame.groupby(level=list(range(frame.index.nlevels)), sort=False)
    agg = {c: ("min" if c.endswith("_min") else "max" if c.endswith("_max") else "sum")
           for c in frame.columns}
    return g.agg(agg)


def aggregate_partitions(ddf: Any, *, lat: str, lng: str, resolution: int,
                         how: dict[str, str | Sequence[str]] | None = None,
                         period: str | None = None, freq: str = "M",
                         split_every: int = 8) -> pd.DataFrame:
    """H3 cells and per-cell (per-period) statistics of a Dask DataFrame, on the workers.

    Each partition is indexed (``lat``, ``lng`` columns, WGS-84 degrees, lat first in h3) and
    reduced to per-cell partial counts, sums, minima and maxima; partials are combined in a tree
    (``split_every`` at a time) and finished on the client.

    Parameters
    ----------
    ddf
        Dask DataFrame (e.g. from :func:`read_partitions`).
    lat, lng
        Coordinate columns.
    resolution
        H3 resolution.
    how
        ``{column: aggregation(s)}`` as in :func:`spatial.h3grid.aggregate` (count, sum, mean,
        max, min; NaN skipped).
    period
        Optional datetime column: statistics per cell and period (``freq``, a pandas period
        alias such as "M" or "D").
    split_every
        Fan-in of the tree reduction.

    Returns
    -------
    pandas.DataFrame
        Index ``cell`` (uint64, ascending) or (``cell``, ``period`` string) sorted; columns ``n``
        then ``{column}_{aggregation}``, as :func:`spatial.h3grid.aggregate`.
    """
    _import_dask()
    import dask

    how = {k: [v] if isinstance(v, str) else list(v) for k, v in (how or {}).items()}
    for name, funcs in how.items():
        bad = [f for f in funcs if f not in h3grid.AGGREGATIONS]
        if bad:
            raise InputError(f"how[{name!r}]: unknown aggregation(s) {bad}; use some of "
                             f"{h3grid.AGGREGATIONS}.")
        if name not in ddf.columns:
            raise InputError(f"how names column {name!r}, which is not in the data.")
    cols = list(how)
    parts = [dask.delayed(_partial)(p, lat, lng, int(resolution), period, freq, cols)
             for p in ddf.to_delayed()]
    while len(parts) > 1:
        parts = [dask.delayed(_combine)(parts[i:i + split_every])
                 for i in range(0, len(parts), split_every)]
    frame = _combine([parts[0].compute()]) if parts else pd.DataFrame()
    frame = frame.sort_index()
    out = pd.DataFrame({"n": frame["n"].to_numpy(np.int64)}, index=frame.index)
    for c, funcs in how.items():
        for f in funcs:
            if f == "count":
                out[f"{c}_count"] = frame[f"{c}_count"].to_numpy(np.int64)
            elif f == "sum":
                out[f"{c}_sum"] = frame[f"{c}_sum"].to_numpy(np.float64)
            elif f == "mean":
                cnt = frame[f"{c}_count"].to_numpy(np.float64)
                tot = frame[f"{c}_sum"].to_numpy(np.float64)
                m = np.full(cnt.size, np.nan)
                np.divide(tot, cnt, out=m, where=cnt > 0)
                out[f"{c}_mean"] = m
            else:
                out[f"{c}_{f}"] = frame[f"{c}_{f}"].to_numpy(np.float64)
    if period is None:
        out.index = pd.Index(np.asarray(out.index, dtype=np.uint64), name="cell")
    else:
        out.index = pd.MultiIndex.from_arrays(
            [np.asarray(out.index.get_level_values(0), dtype=np.uint64),
             out.index.get_level_values(1)], names=["cell", "period"])
    return out


# --------------------------------------------------------------------------- choosing
def get_engine(name: str = "local", *, scheduler: str | None = None, **kwargs: Any
               ) -> LocalEngine:
    """The engine called `name` ("local" or "dask"); `scheduler` only with "dask".

    Raises
    ------
    InputError
        Unknown engine, a scheduler without ``dask``, or Dask not installed.
    """
    if name == "local":
        if scheduler:
            raise InputError("--scheduler needs --engine dask.")
        return LocalEngine()
    if name == "dask":
        return DaskEngine(scheduler, **kwargs)
    raise InputError(f"--engine {name!r}: use one of {', '.join(ENGINES)}.")


def map_tasks(engine: LocalEngine, func: Callable[..., Any], items: Sequence[Any]) -> list[Any]:
    """``[func(x) for x in items]``, one task per item on a Dask engine."""
    if isinstance(engine, DaskEngine):
        return engine.client.gather([engine.client.submit(func, x, pure=False) for x in items])
    return [func(x) for x in items]
