"""Benchmark: mean of a 4000 x 4000 float raster per H3 res-7 cell (~87k cells).

Fast path: ``spatial.raster.raster_to_cells`` (the cells' hexagons burned into the grid with
``rasterio.features.rasterize``, pixels near an edge looked up exactly -> ``np.bincount``), then
the same call with the index reused for a second raster of the same grid. The index is asserted
identical to the pixel-by-pixel lookup (``pixel_index(fast=False)``, timed). For a series of
rasters streamed in bounded memory see ``bench_raster_stream``.
Baseline, measured in the same run: ``rasterstats.zonal_stats`` over the cells' hexagons
(``all_touched=False``: pixels whose centre is in the polygon) on a random subset of cells
(default 2,000), scaled to all cells (rasterstats' time is per polygon). Results are compared on
the subset: pixel counts and means equal, except for pixels within centimetres of an edge, where
GDAL's straight-edge rasterization and H3's great-circle edges may disagree (reported).

Usage: ``PYTHONPATH=. python -m bench.bench_raster --size 4000 --res 7 --subset 2000``
"""

import argparse
import resource
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine

from spatial import h3grid, raster


def peak_rss_mb() -> float:
    kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kib / 1024 if sys.platform != "darwin" else kib / 2**20


def write(path: Path, values: np.ndarray, transform: Affine) -> None:
    with rasterio.open(path, "w", driver="GTiff", height=values.shape[0], width=values.shape[1],
                       count=1, dtype="float32", crs="EPSG:4326", transform=transform,
                       nodata=-9999.0, tiled=True, blockxsize=512, blockysize=512) as ds:
        ds.write(values, 1)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=4000, help="raster width = height, pixels")
    parser.add_argument("--res", type=int, default=7, help="H3 resolution")
    parser.add_argument("--subset", type=int, default=2000, help="cells timed with rasterstats")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    try:
        from rasterstats import zonal_stats
    except ImportError:
        zonal_stats = None

    n = args.size
    rng = np.random.default_rng(args.seed)
    # Shandong: 114.8-122.8 E, 34.4-38.4 N (8 x 4 degrees)
    transform = Affine(8.0 / n, 0.0, 114.8, 0.0, -4.0 / n, 38.4)
    with tempfile.TemporaryDirectory() as tmp:
        paths = [Path(tmp) / f"r{i}.tif" for i in range(2)]
        for p in paths:
            v = rng.gamma(2.0, 30.0, (n, n)).astype(np.float32)
            v[rng.random((n, n)) < 0.01] = -9999.0  # 1 % nodata
            write(p, v, transform)
        rss0 = peak_rss_mb()
        print(f"{n} x {n} float32 raster ({n * n / 1e6:.0f} M pixels) over Shandong, "
              f"res {args.res}")

        t0, c0 = time.perf_counter(), time.process_time()
        first = raster.raster_to_cells(paths[0], resolution=args.res)
        t_first, c_first = time.perf_counter() - t0, time.process_time() - c0
        t0, c0 = time.perf_counter(), time.process_time()
        second = raster.raster_to_cells(paths[1], index=first.index)
        t_reuse, c_reuse = time.perf_counter() - t0, time.process_time() - c0
        assert second.count.sum() > 0.98 * n * n
        rss_fast = peak_rss_mb()
        m = first.cells.size
        print(f"fast   index + mean       {t_first:7.2f} s ({m:,} cells; CPU {c_first:.2f} s)")
        print(f"fast   reuse index (2nd)  {t_reuse:7.2f} s (CPU {c_reuse:.2f} s)")

        t0 = time.perf_counter()
        exact = raster.pixel_index((n, n), transform, "EPSG:4326", resolution=args.res,
                                   fast=False)
        t_exact = time.perf_counter() - t0
        assert np.array_equal(exact.cells, first.index.cells)
        assert np.array_equal(exact.codes, first.index.codes)
        del exact
        print(f"check  pixel-by-pixel index {t_exact:5.2f} s: identical to the burned one")

        if zonal_stats is None:
            print("rasterstats not installed: no baseline (pip install rasterstats)")
            return
        k = min(args.subset, m)
        pick = np.sort(rng.choice(m, size=k, replace=False))
        polys = h3grid.cells_to_polygons(first.cells[pick])
        t0, c0 = time.perf_counter(), time.process_time()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            zs = zonal_stats(list(polys), str(paths[0]), stats=["mean", "count"],
                             all_touched=False, nodata=-9999.0)
        t_sub, c_sub = time.perf_counter() - t0, time.process_time() - c0
        rss_base = peak_rss_mb()
        t_base = t_sub * m / k
        cnt = np.array([z["count"] for z in zs])
        mean = np.array([np.nan if z["mean"] is None else z["mean"] for z in zs])
        same = cnt == first.count[pick]
        assert same.mean() > 0.99, f"only {same.mean():.2%} of cells have equal pixel counts"
        np.testing.assert_allclose(mean[same], first.mean[pick][same], rtol=1e-5)
        off = int(np.abs(cnt - first.count[pick]).sum())
        print(f"results equal on {same.sum()} of {k} cells ({off} pixel(s) on cell edges assigned "
              "differently by GDAL's straight edges; means equal to 1e-5, float32 sums)")
        print(f"base   rasterstats {k} cells {t_sub:7.2f} s ({k / t_sub:.0f} cells/s); "
              f"scaled to {m:,} cells: {t_base:7.1f} s (measured on a subset and scaled)")
        print(f"ratio  first raster vs rasterstats: {t_base / t_first:.1f}x (target >= 50x); "
              f"reused index {t_reuse:.2f} s (target <= 0.3 s)")
        print(f"CPU    time ratio (stable on a shared machine): {c_sub * m / k / c_first:.1f}x; "
              f"reused index CPU {c_reuse:.2f} s")
        print(f"peak RSS: inputs {rss0:.0f} MB, fast path {rss_fast:.0f} MB, "
              f"after baseline {rss_base:.0f} MB")


if __name__ == "__main__":
    main()
