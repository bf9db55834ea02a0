"""Benchmark: the pollution-hotspots pipeline over China on a local Dask cluster (2 workers).

Synthetic daily 1 km PM2.5 rasters over China (0.01°, ~6150 x 3550 pixels, one grid; valid
pixels in an ellipse holding ~1.9 million res-7 cells) for a slice of days go through the
pipeline's heavy steps on a ``distributed.LocalCluster`` of 2 worker processes
(:class:`spatial.engine.DaskEngine`): rasters to cell means (one task per raster; the grid's
pixel index built once and reused), Gi* + FDR per day (one task per day, weights sent once),
the emerging-hot-spot categories with their Mann-Kendall trends (one task per block of cells);
then, in the client process as in ``pollution_hotspots.run``, the weights and the per-day lists.
The same steps run in process (:class:`LocalEngine`) and the bench asserts identical results
(cells, values, pixel counts, z and p bit for bit, FDR classes, Mann-Kendall S/z/p/tau,
categories, lists). Prints each step's time on both engines, where it runs, the time per
cell-day and per worker, and the peak RSS of the client.

The slice has a few days, but Mann-Kendall's work per cell grows with the square of the number
of days: a second measurement runs the emerging-hot-spot step on both engines over a block of
cells x 365 days (Gi*-like z-scores with trends), whose time per cell-day is the one a national
year has; the projection printed at the end uses it.

``bench/README.md`` projects a national year on N workers from these figures.

Usage: ``PYTHONPATH=. python -m bench.bench_national_dask [--days 4] [--workers 2]
[--year-cells 40000] [--quick]``
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.synthetic import daily_rasters, peak_rss_mb

#: res-7 cells over China in the full-size slice and days in a year: the projection's size
NATIONAL_CELLS, YEAR_DAYS = 2_079_913, 365

#: step -> where it runs on the Dask engine
WHERE = {"rasters -> cells": "workers", "weights": "client", "Gi* + FDR": "workers",
         "emerging hot spots": "workers", "lists": "client"}


class Clock:
    """Wall seconds, the client's CPU seconds and the workers' CPU seconds (summed over the
    worker processes, asked of each with ``client.run``) since the last call. CPU seconds are
    what a loaded, shared machine still measures fairly: the work, not the wait."""

    def __init__(self, engine) -> None:
        self.client = getattr(engine, "client", None)
        self.last = self._now()

    def _now(self) -> tuple[float, float, float]:
        workers = sum(self.client.run(time.process_time).values()) if self.client else 0.0
        return time.perf_counter(), time.process_time(), workers

    def lap(self) -> tuple[float, float, float]:
        now = self._now()
        out = tuple(b - a for a, b in zip(self.last, now, strict=True))
        self.last = now
        return out


def pipeline(files, params, engine) -> tuple[dict, dict]:
    """The heavy steps on `engine`; returns (arrays, {step: (wall, client CPU, workers' CPU)})."""
    import pandas as pd

    from analyses import hotspot_lists, hotspot_rasters
    from spatial import h3grid, stats

    t: dict[str, tuple[float, float, float]] = {}
    clock = Clock(engine)
    periods, cells, values, counts = hotspot_rasters.raster_values(files, params, engine)
    values = np.round(values, 3)
    t["rasters -> cells"] = clock.lap()
    w = stats.ring_weights(cells, k=params.k_ring)
    t["weights"] = clock.lap()
    z, p, cls = engine.gi_star_periods(values, w, alpha=params.alpha)
    t["Gi* + FDR"] = clock.lap()
    mk, cat = engine.emerging_hotspots(z, cls, alpha=params.alpha)
    t["emerging hot spots"] = clock.lap()
    clat, clng = h3grid.cell_centers(cells)
    loc = pd.DataFrame({"county_code": None, "county_name": None, "township_code": None,
                        "township_name": None}, index=range(len(cells)))
    exceed = values / np.nanmean(values, axis=0)[None, :] - 1.0
    lists = hotspot_lists.lists(cells, periods, values, cls, exceed, loc, clng, clat, params)
    t["lists"] = clock.lap()
    return {"cells": cells, "values": values, "counts": counts, "z": z, "p": p, "cls": cls,
            **{f"mk_{k}": v for k, v in mk._asdict().items()}, "cat": cat,
            "top": lists["top_value"]}, t


def year_series(n_cells: int, *, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Gi*-like z-scores of `n_cells` cells x 365 days (smooth in time, some with a trend, a
    few gaps) and their classes at |z| >= 1.96: the input of the emerging-hot-spot step."""
    rng = np.random.default_rng(seed)
    days = np.arange(YEAR_DAYS)
    base = rng.normal(0, 1.5, (n_cells, 1)) + rng.normal(0, 0.02, (n_cells, 1)) * (days - 182)
    season = np.sin(2 * np.pi * days / 365.0 + rng.uniform(0, 6.3, (n_cells, 1)))
    z = base + season + rng.normal(0, 0.8, (n_cells, YEAR_DAYS))
    z[rng.random(z.shape) < 0.02] = np.nan
    cls = np.where(z >= 1.96, 1, np.where(z <= -1.96, -1, 0)).astype(np.int8)
    return z, cls


def time_year(engine, z: np.ndarray, cls: np.ndarray, alpha: float) -> tuple[tuple, tuple]:
    """(wall, client CPU, workers' CPU) seconds of the emerging-hot-spot step, and its result."""
    clock = Clock(engine)
    mk, cat = engine.emerging_hotspots(z, cls, alpha=alpha)
    return clock.lap(), (mk, cat)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=int, default=4, help="days in the slice (default 4)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--year-cells", type=int, default=40_000,
                    help="cells x 365 days for the emerging-hot-spot step (default 40,000)")
    ap.add_argument("--quick", action="store_true", help="3 days on a small box (the test)")
    args = ap.parse_args(argv)
    days, scale = (3, 0.06) if args.quick else (args.days, 1.0)
    year_cells = 3000 if args.quick else args.year_cells

    from analyses import pollution_hotspots as ph
    from spatial.engine import DaskEngine, LocalEngine

    params = ph.Params(period="day")
    yz, ycls = year_series(year_cells)
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
            year_d, year_dask = time_year(eng, yz, ycls, params.alpha)
        print(f"Dask LocalCluster of {args.workers} worker processes started in {start:.1f} s")
        local = LocalEngine()
        local_out, local_t = pipeline(files, params, local)
        year_l, year_local = time_year(local, yz, ycls, params.alpha)
        rss = peak_rss_mb()
    for k, a in local_out.items():  # every array bit for bit (NaN where NaN), the lists equal
        b = dask_out[k]
        if k == "top":
            assert b.equals(a), "top_value lists differ between the engines"
        else:
            assert b.dtype == a.dtype and np.array_equal(b, a, equal_nan=a.dtype.kind == "f"), \
                f"{k} differs between the engines"
    for a, b in zip(year_local, year_dask, strict=True):
        for x, y in zip(a, b, strict=True):
            assert np.array_equal(x, y, equal_nan=x.dtype.kind == "f"), "year trends differ"
    n_c, n_t = local_out["values"].shape
    cd = n_c * n_t
    print(f"{n_c:,} res-7 cells x {n_t} days = {cd:,} cell-days; results identical on both "
          "engines, bit for bit (cells, values, counts, z, p, classes, Mann-Kendall, "
          "categories, lists)")
    print("  seconds: wall on each engine; CPU of the Dask run's client and workers (summed); "
          "µs per cell-day: the Dask run's CPU where the step runs")
    print(f"  {'step':20s} {'where':8s} {'dask':>8s} {'local':>8s} {'client':>8s} "
          f"{'workers':>8s}   per cell-day")
    for k, (wall, ccpu, wcpu) in dask_t.items():
        per = (wcpu if WHERE[k] == "workers" else ccpu) / cd * 1e6
        print(f"  {k:20s} {WHERE[k]:8s} {wall:7.2f}s {local_t[k][0]:7.2f}s {ccpu:7.2f}s "
              f"{wcpu:7.2f}s   {per:8.3f} µs")
    tot = [sum(v[i] for v in dask_t.values()) for i in range(3)]
    print(f"  {'total':20s} {'':8s} {tot[0]:7.2f}s {sum(v[0] for v in local_t.values()):7.2f}s "
          f"{tot[1]:7.2f}s {tot[2]:7.2f}s   {(tot[1] + tot[2]) / cd * 1e6:8.3f} µs")
    ycd = year_cells * YEAR_DAYS
    print(f"emerging hot spots over a year ({year_cells:,} cells x {YEAR_DAYS} days = {ycd:,} "
          f"cell-days, identical on both engines): wall dask {year_d[0]:.2f} s, local "
          f"{year_l[0]:.2f} s; workers' CPU {year_d[2]:.2f} s = {year_d[2] / ycd * 1e6:.3f} µs "
          f"per cell-day (client CPU {year_d[1]:.2f} s)")
    # projection: the workers' CPU per cell-day of rasters and Gi* in the slice, and of the
    # emerging hot spots at a year's length, divided among N workers
    # (the pixel index, built once per grid, is in the rasters' figure: an upper bound); the
    # client's CPU (its share of every step; the weights once per run) is not divided
    work = (dask_t["rasters -> cells"][2] + dask_t["Gi* + FDR"][2]) / cd + year_d[2] / ycd
    w_cpu = dask_t["weights"][1]
    client = (tot[1] - dask_t["emerging hot spots"][1] - w_cpu) / cd + year_d[1] / ycd
    year_cd = NATIONAL_CELLS * YEAR_DAYS
    print(f"projected national year ({year_cd:,} cell-days): worker steps {work * 1e6:.2f} µs "
          f"CPU per cell-day = {work * year_cd:,.0f} worker-CPU-seconds: "
          + ", ".join(f"{work * year_cd / n / 60:,.0f} min on {n}" for n in (2, 16, 64))
          + f" workers; the client {client * 1e6:.2f} µs per cell-day + the weights once = "
          f"{(client * year_cd + w_cpu) / 60:,.0f} min, not divided")
    print(f"client peak RSS {rss:,.0f} MB (the workers' own memory is not included)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
