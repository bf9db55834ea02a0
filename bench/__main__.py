"""Run every benchmark with its defaults: ``python -m bench`` (``make bench``)."""

import importlib
import importlib.util
import sys

BENCHMARKS = [name for name in (
    "bench_h3_points",
    "bench_gistar",
    "bench_cluster",
    "bench_radius",
    "bench_raster",
    "bench_raster_stream",
    "bench_airstats",
    "bench_demo",
    "bench_province_year",
    "bench_fire_season",
    "bench_national_dask",
) if importlib.util.find_spec(f"bench.{name}") is not None]


def main() -> int:
    for name in BENCHMARKS:
        print(f"\n=== {name}", flush=True)
        importlib.import_module(f"bench.{name}").main([])
    return 0


if __name__ == "__main__":
    sys.exit(main())
