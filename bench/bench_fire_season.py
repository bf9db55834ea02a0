"""Benchmark: a national season of 1,000,000 VIIRS-like detections through fire-points, end to end.

A synthetic FIRMS VIIRS CSV (:func:`bench.synthetic.viirs_season`: fires of 1-12 detections
over eastern China's farmland in a 45-day harvest season, plus persistent industrial sites)
is read by the FIRMS reader, classified, clustered into events, attributed and written as
``lantian run`` writes it (layers, tables, map, figure; ``Result.write``). Prints each stage's
time, the peak RSS, the outputs' size and the map's: the map draws cells and events, and the
single detections only while it stays under 10 MB
(:data:`analyses.fire_points_map.MAP_MAX_BYTES`, decided by an estimate before drawing).
Target (issue 16): < 60 s end to end. Checks: every detection has a status, the event sizes add
up to the kept detections in events, the map is under the limit (at national scale it draws the
cells at a coarser display resolution and the events as compact centroids,
:mod:`analyses.fire_display`).

Usage: ``PYTHONPATH=. python -m bench.bench_fire_season [--n 1000000] [--quick] [--no-write]``
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from bench.synthetic import folder_mb, peak_rss_mb, viirs_season


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000, help="detections (default 1e6)")
    ap.add_argument("--quick", action="store_true", help="5,000 detections (the test)")
    ap.add_argument("--no-write", action="store_true", help="stop after run (no files)")
    args = ap.parse_args(argv)
    n = 5_000 if args.quick else args.n

    from analyses import fire_points as fp
    from analyses import fire_points_map as fpm

    times: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="bench-fires-") as tmp:
        t = time.perf_counter()
        csv = viirs_season(Path(tmp, "fire_nrt_J1V-C2_season.csv"), n=n)
        print(f"made {n:,} detections in {time.perf_counter() - t:.1f} s "
              f"({csv.stat().st_size / 1e6:.0f} MB CSV; not part of the pipeline)")
        t0 = time.perf_counter()
        inputs = fp.read_inputs(fires=str(csv))
        times["read"] = time.perf_counter() - t0
        print(f"  read (FIRMS reader)  {times['read']:7.1f} s  RSS {peak_rss_mb():6.0f} MB")
        t = time.perf_counter()
        result = fp.run(inputs, fp.Params())
        times["run"] = time.perf_counter() - t
        print(f"  run (status, events) {times['run']:7.1f} s  RSS {peak_rss_mb():6.0f} MB")
        print(f"  {result!r}")
        pts, ev = result.layers["points"], result.layers["events"]
        n = len(inputs["fires"])  # the detections read (the generator aims at --n)
        assert len(pts) == n and pts["status"].notna().all()
        assert int(ev["n_points"].sum()) == int(pts["event_id"].notna().sum())
        draw, est = fpm.points_plan(result)
        print(f"  map estimate with the detections {est / 1e6:,.1f} MB: points "
              f"{'drawn' if draw else 'left out (note on the map, line in the summary)'}")
        if not args.no_write:
            t = time.perf_counter()
            out = result.write(Path(tmp, "out"), offline=True, report=False)
            times["write"] = time.perf_counter() - t
            size, top = folder_mb(Path(tmp, "out"))
            html = out.map_path.stat().st_size / 1e6
            print(f"  write (layers, map, figure) {times['write']:7.1f} s   peak RSS "
                  f"{peak_rss_mb():6.0f} MB")
            print(f"  outputs {size:,.0f} MB; map {html:.1f} MB; largest: "
                  + ", ".join(f"{k} {s:,.1f} MB" for k, s in top))
            plan = fpm.map_plan(result)
            if plan.national:
                cells = result.layers["cells"] if plan.cells is None else plan.cells
                res = plan.display_res or result.params.h3_resolution
                events = "as compact centroids" if plan.compact_events else "left out"
                print(f"  map at national scale: cells shown at H3 res {res} ({len(cells):,} "
                      f"cells), events {events} (cells and events as in the files: "
                      f"~{plan.full_bytes / 1e6:,.0f} MB)")
            # the plan keeps every map within the limit (analyses.fire_display)
            assert html * 1e6 <= fpm.MAP_MAX_BYTES, f"map {html:.1f} MB over the limit"
        total = time.perf_counter() - t0
    child = peak_rss_mb(children=True)
    print(f"fire season: {n:,} detections end to end {total:.1f} s (target < 60 s: "
          f"{'met' if total < 60 else 'NOT met'}); peak RSS {peak_rss_mb():,.0f} MB"
          + (f" (GeoPackage writer process: {child:,.0f} MB)" if child else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
