"""Benchmark: the pollution-hotspots pipeline over China on a local Dask cluster (2 workers).

Synthetic daily 1 km PM2.5 rasters over China (0.01°, ~6150 x 3550 pixels, one grid; valid
pixels in an ellipse holding ~1.9 million res-7 cells) for a slice of days go through the
pipeline's heavy steps on a ``distributed.LocalCluster`` of 2 worker processes
(:class:`spatial.engine.DaskEngine`): rasters to cell means (one task per raster; the grid's
pixel index built once and reused), then Gi* + FDR per day (blocks of days, weights sent once);
then, in the client process as in ``pollution_hotspots.run``, the emerging-hot-spot categories
(Mann-Kendall) and the per-day lists. The same steps run in process (:class:`LocalEngine`) and
the bench asserts identical results (cells, values, pixel counts, FDR classes, categories,
lists; z and p bit-identical or within 1e-12, the count of differing last bits printed). Prints each
step's time on both engines, the time per cell-day and per worker, and the peak RSS.

``bench/README.md`` projects a national year on N workers from these figures.

Usage: ``PYTHONPATH=. python -m bench.bench_national_dask [--days 4] [--workers 2] [--quick]``
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.synthetic import daily_rasters, peak_rss_mb


def pipeline(files, params, engine) -> tuple[dict, dict]:
    """The heavy steps on `engine`; returns (arrays, seconds per step)."""
    from analyses import hotspot_lists, hotspot_rasters
    from spatial import h3grid, stats

    t: dict[str, float] = {}
    s = time.perf_counter()
    periods, cells, values, counts = hotspot_rasters.raster_values(files, params, engine)
    values = np.round(values, 3)
    t["rasters -> cells"] = time.perf_counter() - s
    s = time.perf_counter()
    w = stats.ring_weights(cells, k=params.k_ring)
    t["weights (client)"] = time.perf_counter() - s
    s = time.perf_counter()
    z, p, cls = engine.gi_star_periods(values, w, alpha=params.alpha)
    t["Gi* + FDR"] = time.perf_counter() - s
    s = time.perf_counter()
    mk = stats.mann_kendall(z)
    cat = stats.emerging_hotspot_categories(z, cls, alpha=params.alpha, trend=mk)
    t["emerging (client)"] = time.perf_counter() - s
    s = time.perf_counter()
    import pandas as pd

    clat, clng = h3grid.cell_centers(cells)
    loc = pd.DataFrame({"county_code": None, "county_name": None, "township_code": None,
                        "township_name": None}, index=range(len(cells)))
    exceed = values / np.nanmean(values, axis=0)[None, :] - 1.0
    lists = hotspot_lists.lists(cells, periods, values, cls, exceed, loc, clng, clat, params)
    t["lists (client)"] = time.perf_counter() - s
    return {"cells": cells, "values": values, "counts": counts, "z": z, "p": p, "cls": cls,
            "cat": cat, "top": lists["top_value"]}, t


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=int, default=4, help="days in the slice (default 4)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--quick", action="store_true", help="3 days on a small box (the test)")
    args = ap.parse_args(argv)
    days, scale = (3, 0.06) if args.quick else (args.days, 1.0)

    from analyses import pollution_hotspots as ph
    from spatial.engine import DaskEngine, LocalEngine

    params = ph.Params(period="day")
    with tempfile.TemporaryDirectory(prefix="bench-national-") as tmp:
        t = time.perf_counter()
        paths = daily_rasters(Path(tmp), days=days, region="china", scale=scale)
        print(f"made {days} daily rasters over China in {time.perf_counter() - t:.1f} s "
              "(not part of the pipeline)")
        files = ph.read_inputs(rasters=[str(p) for p in paths])["rasters"]
        t0 = time.perf_counter()
        with DaskEngine(n_workers=args.workers, threads_per_worker=1, processes=True) as eng:
            start = time.perf_counter() - t0
            dask_out, dask_t = pipeline(files, params, eng)
        print(f"Dask LocalCluster of {args.workers} worker processes started in {start:.1f} s")
        local_out, local_t = pipeline(files, params, LocalEngine())
        rss = peak_rss_mb()
    for k in ("cells", "counts", "cls", "cat"):
        assert np.array_equal(dask_out[k], local_out[k]), f"{k} differ between the engines"
    assert np.array_equal(dask_out["values"], local_out["values"], equal_nan=True), "values"
    for k in ("z", "p"):  # same cells with a value; the numbers equal or within 1e-12
        a, b = dask_out[k], local_out[k]
        assert np.array_equal(np.isnan(a), np.isnan(b)), f"{k}: other cells without a value"
        diff = np.abs(a - b)[~np.isnan(a)]
        n_diff = int((diff > 0).sum())
        print(f"{k}: {n_diff:,} of {diff.size:,} differ in the last bits (max {diff.max():.1e})"
              if n_diff else f"{k}: bit-identical")
        assert not n_diff or diff.max() <= 1e-12, f"{k} differ by {diff.max():.2e}"
    assert dask_out["top"].equals(local_out["top"]), "top_value lists differ"
    n_c, n_t = local_out["values"].shape
    cd = n_c * n_t
    print(f"{n_c:,} res-7 cells x {n_t} days = {cd:,} cell-days; results identical on both "
          "engines (cells, values, counts, classes, categories, lists; z and p as above)")
    print(f"  {'step':20s} {'dask':>8s} {'local':>8s}   dask per cell-day   x workers")
    for k in dask_t:
        per = dask_t[k] / cd * 1e6
        print(f"  {k:20s} {dask_t[k]:7.2f}s {local_t[k]:7.2f}s   {per:8.3f} µs        "
              f"{per * args.workers:8.3f} µs")
    tot_d, tot_l = sum(dask_t.values()), sum(local_t.values())
    print(f"  {'total':20s} {tot_d:7.2f}s {tot_l:7.2f}s   {tot_d / cd * 1e6:8.3f} µs        "
          f"{tot_d / cd * 1e6 * args.workers:8.3f} µs")
    print(f"client peak RSS {rss:,.0f} MB (the workers' own memory is not included)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
