"""Benchmark: index random points over Shandong to H3 and aggregate per cell.

Fast path: ``spatial.h3grid.points_to_cells`` + ``spatial.h3grid.aggregate`` (count, mean).
Baseline, measured in the same run: a Python loop over ``h3.latlng_to_cell`` (the default string
API) + ``pandas.DataFrame.groupby(...).agg(["count", "mean"])``. Also times a loop over the integer
API (``h3.api.basic_int``) for the indexing step alone. Results are asserted equal.

Usage: ``PYTHONPATH=. python bench/bench_h3_points.py --n 5000000``
"""

import argparse
import resource
import sys
import time

import h3
import numpy as np
import pandas as pd
from h3.api import basic_int as h3i

from spatial import h3grid


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MB (Linux reports KiB)."""
    kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kib / 1024 if sys.platform != "darwin" else kib / 2**20


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5_000_000, help="number of points")
    parser.add_argument("--res", type=int, default=8, help="H3 resolution")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    rng = np.random.default_rng(args.seed)
    lat = rng.uniform(34.4, 38.4, args.n)
    lng = rng.uniform(114.8, 122.7, args.n)
    value = rng.gamma(2.0, 30.0, args.n)
    rss_data = peak_rss_mb()
    accel = "h3ronpy" if h3grid._h3ronpy is not None else "pure h3 fallback"
    print(f"{args.n:,} points over Shandong, res {args.res}; backend: {accel}")

    t0 = time.perf_counter()
    cells = h3grid.points_to_cells(lat, lng, resolution=args.res)
    t_index = time.perf_counter() - t0
    agg = h3grid.aggregate(cells, {"v": value}, how={"v": ["count", "mean"]})
    t_fast = time.perf_counter() - t0
    rss_fast = peak_rss_mb()

    t0 = time.perf_counter()
    strings = [
        h3.latlng_to_cell(a, b, args.res) for a, b in zip(lat.tolist(), lng.tolist(), strict=True)
    ]
    t_loop_index = time.perf_counter() - t0
    base = (
        pd.DataFrame({"h3_cell": strings, "v": value})
        .groupby("h3_cell")["v"]
        .agg(["count", "mean"])
    )
    t_base = time.perf_counter() - t0
    rss_base = peak_rss_mb()

    t0 = time.perf_counter()
    ints = np.fromiter(
        (
            h3i.latlng_to_cell(a, b, args.res)
            for a, b in zip(lat.tolist(), lng.tolist(), strict=True)
        ),
        dtype=np.uint64,
        count=args.n,
    )
    t_int_loop = time.perf_counter() - t0

    np.testing.assert_array_equal(cells, ints)
    assert h3grid.cells_to_str(agg.index.to_numpy()).tolist() == base.index.tolist()
    np.testing.assert_array_equal(agg["v_count"].to_numpy(), base["count"].to_numpy())
    np.testing.assert_allclose(agg["v_mean"].to_numpy(), base["mean"].to_numpy(), rtol=1e-12)
    print(f"results equal: {len(agg):,} cells")

    print(f"fast   points_to_cells {t_index:7.2f} s ({args.n / t_index / 1e6:.2f} M points/s)")
    print(f"fast   index+aggregate {t_fast:7.2f} s")
    print(
        f"loop   h3.latlng_to_cell (str) {t_loop_index:7.2f} s "
        f"({args.n / t_loop_index / 1e6:.2f} M points/s)"
    )
    print(f"loop   index+groupby   {t_base:7.2f} s")
    print(
        f"loop   basic_int.latlng_to_cell {t_int_loop:7.2f} s "
        f"({args.n / t_int_loop / 1e6:.2f} M points/s)"
    )
    print(f"ratio  index+aggregate vs loop+groupby: {t_base / t_fast:.2f}x")
    print(
        f"ratio  indexing vs str loop: {t_loop_index / t_index:.2f}x, "
        f"vs int loop: {t_int_loop / t_index:.2f}x"
    )
    print(
        f"peak RSS: after inputs {rss_data:.0f} MB, after fast path {rss_fast:.0f} MB "
        f"(+{rss_fast - rss_data:.0f}), after baseline {rss_base:.0f} MB "
        f"(+{rss_base - rss_fast:.0f})"
    )


if __name__ == "__main__":
    main()
