"""Benchmark: fire-event clustering (spatial.cluster.st_dbscan) against scikit-learn DBSCAN.

Synthetic FIRMS-like detections over Shandong's bounding box (34.4-38.4 N, 114.8-122.7 E): many
small fire events of a few detections within ~1 km, spread over ~120 days. Runs

* ``st_dbscan`` spatio-temporally (1 km / 24 h, min_samples 1) -- the fire-points analysis path;
* ``st_dbscan`` in space only (1 km);
* scikit-learn ``DBSCAN(metric="haversine", algorithm="ball_tree", min_samples=1)`` in space only on
  the same points (the baseline), and asserts that the space-only partitions are identical;

and prints times, the ratio (scikit-learn / ours) and the process's peak resident memory
(``resource.getrusage(...).ru_maxrss``, which includes the input arrays).

    python bench/bench_cluster.py                          # 1,000,000 detections, with baseline
    python bench/bench_cluster.py --n 10000000 --skip-baseline   # memory figure at 10 M
    python bench/bench_cluster.py --n 10000000 --skip-baseline --skip-space-only --tracemalloc
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
import tracemalloc

import numpy as np

from spatial.cluster import EARTH_RADIUS_M, st_dbscan

LAT_RANGE = (34.4, 38.4)
LNG_RANGE = (114.8, 122.7)
DAYS = 120
START = 1_717_200_000  # 2024-06-01 00:00 UTC, epoch seconds


def synthetic_fires(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(lat, lng, t)`` of ``n`` detections: events of 1-15 detections (mean ~4) within ~1 km.

    Event centres are uniform over the box and over ``DAYS`` days; detections scatter around the
    centre with a 300 m standard deviation and within 12 h of the event's start (two overpasses).
    """
    rng = np.random.default_rng(seed)
    sizes = np.minimum(rng.geometric(0.25, size=n // 2 + 1), 15)
    sizes = sizes[: int(np.searchsorted(np.cumsum(sizes), n)) + 1]
    n_events = sizes.size
    c_lat = rng.uniform(*LAT_RANGE, n_events)
    c_lng = rng.uniform(*LNG_RANGE, n_events)
    c_t = START + rng.integers(0, DAYS * 86400, n_events)
    ev = np.repeat(np.arange(n_events), sizes)[:n]
    m_per_deg = np.pi * EARTH_RADIUS_M / 180.0
    lat = c_lat[ev] + rng.normal(0.0, 300.0, n) / m_per_deg
    lng = c_lng[ev] + rng.normal(0.0, 300.0, n) / (m_per_deg * np.cos(np.radians(c_lat[ev])))
    t = c_t[ev] + rng.integers(0, 12 * 3600, n)
    perm = rng.permutation(n)  # files are not ordered by event
    return lat[perm], lng[perm], t[perm].astype(np.int64)


def first_appearance(labels: np.ndarray) -> np.ndarray:
    """Relabel clusters 0..k-1 in order of first appearance: equal arrays <=> equal partitions."""
    uniq, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    rank = np.empty(uniq.size, dtype=np.int64)
    rank[np.argsort(first)] = np.arange(uniq.size)
    return rank[inverse]


def peak_rss_mb() -> float:
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kilobytes on Linux
    return kb / 1024.0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--n", type=int, default=1_000_000, help="detections (default 1,000,000)")
    ap.add_argument("--seed", type=int, default=20240601)
    ap.add_argument("--eps-m", type=float, default=1000.0)
    ap.add_argument("--eps-h", type=float, default=24.0)
    ap.add_argument("--skip-baseline", action="store_true", help="do not run scikit-learn")
    ap.add_argument("--skip-space-only", action="store_true", help="only the spatio-temporal run")
    ap.add_argument(
        "--tracemalloc",
        action="store_true",
        help="also report the traced peak allocation of the spatio-temporal run (slower)",
    )
    args = ap.parse_args(argv)

    lat, lng, t = synthetic_fires(args.n, args.seed)
    print(f"{args.n:,} synthetic detections over Shandong, {DAYS} days (seed {args.seed})")
    print(f"peak RSS after generating inputs: {peak_rss_mb():,.0f} MB")

    t0 = time.perf_counter()
    st = st_dbscan(lat, lng, t, eps_m=args.eps_m, eps_s=args.eps_h * 3600.0)
    t_st = time.perf_counter() - t0
    print(
        f"st_dbscan {args.eps_m:g} m / {args.eps_h:g} h: {t_st:.2f} s, {st.max() + 1:,} events; "
        f"peak RSS so far {peak_rss_mb():,.0f} MB"
    )

    if args.tracemalloc:
        tracemalloc.start()
        st_dbscan(lat, lng, t, eps_m=args.eps_m, eps_s=args.eps_h * 3600.0)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(
            "st_dbscan traced peak allocation (numpy + Python, inputs excluded): "
            f"{peak / 2**20:,.0f} MB"
        )

    if args.skip_space_only:
        return 0
    t0 = time.perf_counter()
    sp = st_dbscan(lat, lng, None, eps_m=args.eps_m)
    t_sp = time.perf_counter() - t0
    print(
        f"st_dbscan {args.eps_m:g} m, space only: {t_sp:.2f} s, {sp.max() + 1:,} clusters; "
        f"peak RSS so far {peak_rss_mb():,.0f} MB"
    )

    if args.skip_baseline:
        return 0
    from sklearn.cluster import DBSCAN

    x = np.radians(np.column_stack([lat, lng]))  # haversine metric takes [lat, lng] in radians
    t0 = time.perf_counter()
    sk = DBSCAN(
        eps=args.eps_m / EARTH_RADIUS_M, min_samples=1, metric="haversine", algorithm="ball_tree"
    ).fit_predict(x)
    t_sk = time.perf_counter() - t0
    same = np.array_equal(first_appearance(sk), first_appearance(sp))
    print(
        f"scikit-learn DBSCAN haversine ball_tree, space only: {t_sk:.2f} s, "
        f"{sk.max() + 1:,} clusters; peak RSS so far {peak_rss_mb():,.0f} MB"
    )
    assert same, "space-only partitions of st_dbscan and scikit-learn differ"
    print("space-only partitions identical: yes")
    print(f"ratio scikit-learn / st_dbscan (space only):        {t_sk / t_sp:.1f}x")
    print(f"ratio scikit-learn / st_dbscan (spatio-temporal):   {t_sk / t_st:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
