"""Benchmark: a year of daily 1 km national rasters streamed to H3 res-7 cells in bounded memory.

Grid: China at 1 km in an Albers equal-area CRS (default 5000 x 4200 pixels, 21 M pixels, about
a fifth of them nodata outside an ellipse standing in for the border), float32, tiled GeoTIFF.
Writing 365 files of 84 MB would take 31 GB of disk, so ``--distinct`` files (default 4,
different values) are written and the ``--days`` (default 365) days cycle through them; every
day is a full windowed read and aggregation of a file (``spatial.raster.stream_cells``: the
pixel index built once from the first day, then one window of rows at a time and one
``np.bincount`` per window).

Per cell the run keeps only running sums: the mean of the daily means and the number of days
whose mean exceeds 75 ug/m3 (GB 3095-2012, 24-hour PM2.5 grade-II limit), so the memory held is
the index (4 bytes per pixel), one window and one day's result, whatever the number of days.
Printed: time of the index and per day, the process's resident memory after the first day and
after the last (``/proc/self/statm``), the high-water mark (``ru_maxrss``) and the peak of
Python/numpy allocations during the stream (``tracemalloc``).

Check: each distinct file read whole (``rasterio`` ``read(masked=True)``) and averaged per cell
with a pandas groupby on the pixel index; the streamed annual means and exceedance days must
equal the ones computed from those references with each file's number of days.

Usage: ``PYTHONPATH=. python -m bench.bench_raster_stream --days 365 --width 5000 --height 4200``
"""

import argparse
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
import rasterio
from affine import Affine
from rasterio.windows import Window

from spatial import raster

ALBERS = "+proj=aea +lat_1=25 +lat_2=47 +lon_0=105 +datum=WGS84 +units=m +no_defs"
NODATA = -9999.0
LIMIT = 75.0  # GB 3095-2012 table 2: PM2.5 24-hour mean, grade II, ug/m3


def rss_mb() -> float:
    """Current resident memory of this process (Linux), MB."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except OSError:
        return float("nan")
    return pages * resource.getpagesize() / 2**20


def peak_rss_mb() -> float:
    kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kib / 1024 if sys.platform != "darwin" else kib / 2**20


def write_day(path: Path, width: int, height: int, transform: Affine, seed: int) -> None:
    """A smooth PM2.5-like field plus noise, nodata outside an ellipse; written window-wise."""
    rng = np.random.default_rng(seed)
    cx, cy = rng.uniform(-1.5e6, 1.5e6), rng.uniform(3.0e6, 4.5e6)
    with rasterio.open(path, "w", driver="GTiff", height=height, width=width, count=1,
                       dtype="float32", crs=ALBERS, transform=transform, nodata=NODATA,
                       tiled=True, blockxsize=512, blockysize=512) as ds:
        x = transform.c + transform.a * (np.arange(width) + 0.5)
        for r0 in range(0, height, 512):
            r1 = min(height, r0 + 512)
            y = (transform.f + transform.e * (np.arange(r0, r1) + 0.5))[:, None]
            d2 = ((x - cx) / 1.2e6) ** 2 + ((y - cy) / 0.8e6) ** 2
            v = (25.0 + 90.0 * np.exp(-d2) + rng.gamma(2.0, 8.0, (r1 - r0, width)))
            v[(x / 2.5e6) ** 2 + ((y - 3.9e6) / 2.1e6) ** 2 > 1.0] = NODATA
            ds.write(v.astype(np.float32), 1, window=Window(0, r0, width, r1 - r0))


def reference(path: Path, index: raster.PixelIndex) -> pd.Series:
    """Per-cell mean of a whole-file read, by a pandas groupby over the pixel codes."""
    with rasterio.open(path) as ds:
        band = ds.read(1, masked=True)
    vals = np.ma.getdata(band).ravel().astype(np.float64)
    good = ~np.ma.getmaskarray(band).ravel() & (index.codes >= 0)
    return pd.Series(vals[good]).groupby(index.codes[good]).mean()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=365, help="daily rasters streamed")
    parser.add_argument("--distinct", type=int, default=4, help="different files written")
    parser.add_argument("--width", type=int, default=5000, help="pixels (1 km each)")
    parser.add_argument("--height", type=int, default=4200, help="pixels (1 km each)")
    parser.add_argument("--res", type=int, default=7, help="H3 resolution")
    args = parser.parse_args(argv)
    w, h, k = args.width, args.height, max(1, min(args.distinct, args.days))
    transform = Affine(1000.0, 0.0, -2_700_000.0, 0.0, -1000.0, 6_000_000.0)
    with tempfile.TemporaryDirectory() as tmp:
        files = [Path(tmp) / f"pm25_{i}.tif" for i in range(k)]
        t0 = time.perf_counter()
        for i, p in enumerate(files):
            write_day(p, w, h, transform, seed=i)
        print(f"{k} distinct {w} x {h} float32 rasters (1 km, Albers, {w * h / 1e6:.0f} M pixels,"
              f" {files[0].stat().st_size / 2**20:.0f} MB each) written in "
              f"{time.perf_counter() - t0:.1f} s; streaming {args.days} days, res {args.res}",
              flush=True)
        days = [files[d % k] for d in range(args.days)]
        rss_start = rss_mb()

        sums = ndays = over = None
        t_index = t_first = 0.0
        tracing = False
        t0 = time.perf_counter()
        for d, (_, s) in enumerate(raster.stream_cells(days, resolution=args.res)):
            if d == 0:
                t_first = time.perf_counter() - t0
                t_index = t_first
                m = s.cells.size
                sums, ndays, over = np.zeros(m), np.zeros(m, np.int32), np.zeros(m, np.int32)
                rss_day1 = rss_mb()
                tracemalloc.start()
                tracing = True
                t1, cpu1 = time.perf_counter(), time.process_time()
            has = s.count > 0
            sums[has] += s.mean[has]
            ndays += has
            over += has & (s.mean > LIMIT)
            if d and d % max(1, args.days // 5) == 0:
                print(f"       day {d + 1:3d}: {time.perf_counter() - t1:7.1f} s, RSS "
                      f"{rss_mb():.0f} MB", flush=True)
        t_stream, cpu_stream = time.perf_counter() - t1, time.process_time() - cpu1
        _, traced_peak = tracemalloc.get_traced_memory() if tracing else (0, 0)
        tracemalloc.stop()
        rss_end = rss_mb()
        per_day = t_stream / max(1, args.days - 1)
        print(f"index  first day (pixel index + mean)   {t_index:7.2f} s ({m:,} cells)")
        print(f"stream {args.days - 1} further days {t_stream:7.2f} s = {per_day:.3f} s/day "
              f"({w * h / per_day / 1e6:.0f} M pixels/s); CPU time "
              f"{cpu_stream / max(1, args.days - 1):.3f} s/day (the machine may be shared)")
        print(f"memory RSS before {rss_start:.0f} MB, after day 1 {rss_day1:.0f} MB, after day "
              f"{args.days} {rss_end:.0f} MB (growth {rss_end - rss_day1:+.0f} MB); "
              f"traced peak during the stream {traced_peak / 2**20:.0f} MiB; "
              f"high-water {peak_rss_mb():.0f} MB")

        index = s.index
        ref_sum = np.zeros(m)
        ref_days = np.zeros(m, np.int64)
        ref_over = np.zeros(m, np.int64)
        for i, p in enumerate(files):
            times = len(range(i, args.days, k))
            r = reference(p, index)
            pos = r.index.to_numpy()
            ref_sum[pos] += times * r.to_numpy()
            ref_days[pos] += times
            ref_over[pos] += times * (r.to_numpy() > LIMIT)
        assert np.array_equal(ref_days, ndays) and np.array_equal(ref_over, over)
        np.testing.assert_allclose(sums, ref_sum, rtol=1e-9)
        print(f"check  annual means and days over {LIMIT:.0f} equal a whole-file read + pandas "
              f"groupby per distinct file ({(ndays > 0).sum():,} cells with data)")


if __name__ == "__main__":
    main()
