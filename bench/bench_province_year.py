"""Benchmark: a province-year of daily 1 km PM2.5 rasters through pollution-hotspots, end to end.

365 synthetic daily rasters over Shandong (0.01°, ~790 x 400 pixels, one grid; ~30,000 res-7
cells) -> cell means per day (:mod:`analyses.hotspot_rasters`) -> Gi* + FDR per day, emerging
hot spots, exceedance, the per-day lists (``pollution_hotspots.run``) -> the writer of
``lantian run`` (layers, tables, map, figure, report: ``Result.write``). Prints the time of each
stage, the process's peak RSS after each stage and the size of the outputs. Targets (issue 16):
< 60 s end to end on 2 cores, peak RSS < 4 GB, outputs < 500 MB. It also checks a few numbers of
the result against an independent computation (the cell means against a pixel-by-pixel
``h3.latlng_to_cell`` on one day, the emerging categories' count equals the cells).

Usage: ``PYTHONPATH=. python -m bench.bench_province_year [--days 365] [--quick] [--no-write]``
(``--quick``: 6 days on a small part of the province, for the test that keeps it running).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.synthetic import daily_rasters, folder_mb, peak_rss_mb


def _check_one_day(path: Path, cells: np.ndarray, values: np.ndarray) -> int:
    """Cell means of one raster by a pixel loop's definition (h3 per pixel centre); returns the
    number of cells compared (all must agree to 1e-9 after rounding to 3 decimals)."""
    import h3.api.numpy_int as h3n
    import rasterio

    with rasterio.open(path) as ds:
        a = ds.read(1).astype(np.float64)
        t = ds.transform
        ok = a != ds.nodata
    rows, cols = np.nonzero(ok)
    lng = t.c + (cols + 0.5) * t.a
    lat = t.f + (rows + 0.5) * t.e
    c = np.array([h3n.latlng_to_cell(y, x, 7) for y, x in zip(lat, lng, strict=True)],
                 dtype=np.uint64)
    u, inv = np.unique(c, return_inverse=True)
    mean = np.bincount(inv, weights=a[ok]) / np.bincount(inv)
    pos = np.searchsorted(cells, u)
    assert np.array_equal(cells[pos], u), "cells differ from the pixel-by-pixel index"
    assert np.allclose(values[pos], np.round(mean, 3), atol=1e-9, rtol=0), "cell means differ"
    return len(u)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--quick", action="store_true", help="6 days on a small area (the test)")
    ap.add_argument("--no-write", action="store_true", help="stop after run (no files)")
    ap.add_argument("--report", action="store_true", help="also write report.docx")
    args = ap.parse_args(argv)
    days, scale = (6, 0.15) if args.quick else (args.days, 1.0)

    from analyses import pollution_hotspots as ph

    times: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="bench-province-") as tmp:
        t = time.perf_counter()
        paths = daily_rasters(Path(tmp, "rasters"), days=days, scale=scale)
        print(f"made {len(paths)} daily rasters in {time.perf_counter() - t:.1f} s "
              f"({folder_mb(Path(tmp, 'rasters'))[0]:.0f} MB; not part of the pipeline)")
        params = ph.Params(period="day")
        t0 = time.perf_counter()
        inputs = ph.read_inputs(rasters=[str(p) for p in paths], params=params)
        times["read rasters -> cells"] = time.perf_counter() - t0
        print(f"  read + rasters to cells  {times['read rasters -> cells']:7.1f} s   "
              f"peak RSS {peak_rss_mb():6.0f} MB")
        t = time.perf_counter()
        result = ph.run(inputs, params)
        times["run"] = time.perf_counter() - t
        print(f"  run (Gi*, trends, lists) {times['run']:7.1f} s  RSS {peak_rss_mb():6.0f} MB")
        print(f"  {result!r}")
        hs = result.layers["hotspots"]
        rc = inputs["rasters"]
        n_cells, n_days = rc.values.shape
        assert len(hs) == n_cells and n_days == days, (len(hs), n_cells, n_days)
        if args.quick:  # the cell means of day 1 by the definition
            print(f"  day 1: {_check_one_day(paths[0], rc.cells, np.round(rc.values[:, 0], 3))}"
                  " cells equal to a pixel-by-pixel h3 index")
        if not args.no_write:
            t = time.perf_counter()
            result.write(Path(tmp, "out"), offline=True, report=args.report)
            times["write"] = time.perf_counter() - t
            size, top = folder_mb(Path(tmp, "out"))
            print(f"  write (layers, map, figure{', report' if args.report else ''}) "
                  f"{times['write']:7.1f} s   peak RSS {peak_rss_mb():6.0f} MB")
            print(f"  outputs {size:,.0f} MB; largest: " +
                  ", ".join(f"{n} {s:,.1f} MB" for n, s in top))
        total = time.perf_counter() - t0
    print(f"province-year: {n_cells:,} cells x {n_days} days = {n_cells * n_days:,} cell-days; "
          f"end to end {total:.1f} s (target < 60 s: {'met' if total < 60 else 'NOT met'}); "
          f"peak RSS {peak_rss_mb():,.0f} MB (target < 4,000)"
          + (f"; GeoPackage writer process {child:,.0f} MB" if (child := peak_rss_mb(True))
             else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
