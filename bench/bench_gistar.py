"""Benchmark: Gi* with FDR on ~1,000,000 res-9 H3 cells, lantian vs esda/libpysal.

Ours:      spatial.stats.ring_weights (vectorized k=1 grid disks, CSR) + gi_star + fdr_classes.
Baseline:  neighbour dict from h3.grid_disk per cell -> libpysal.weights.W ->
           esda.G_Local(y, w, transform="B", star=True, permutations=0) -> esda.fdr.

Both run on the same cells (a contiguous grid disk around Jining, 35.41N 116.59E, sorted by id as
a pandas groupby returns them) and the same values (a smooth PM2.5-like field plus noise). Our
time on the same cells in unsorted (grid-disk) order is printed too. The script asserts that
the z-scores agree to 1e-12 and the hot/cold classes are identical, then prints both times,
the ratio, and memory.

Run:  PYTHONPATH=. python bench/bench_gistar.py [--n 1000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
import tracemalloc

import numpy as np


def _rss_mib() -> float:
    """Peak resident set size of this process so far, MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def make_patch(n: int, *, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The first ``n`` cells of a res-9 grid disk around Jining and a value per cell.

    Returns cells (uint64, in grid-disk order: rings outwards, so any prefix is contiguous)
    and values (float64, ug/m3-like: 55 + smooth gradient + a blob + noise, all positive).
    """
    import h3
    import h3.api.basic_int as h3i

    centre = h3i.latlng_to_cell(35.41, 116.59, 9)  # (lat, lng)
    k = 0
    while 1 + 3 * k * (k + 1) < n:
        k += 1
    cells = np.array(h3i.grid_disk(centre, k), dtype=np.uint64)[:n]
    try:
        import pyarrow as pa
        from h3ronpy.vector import cells_to_coordinates

        coords = pa.record_batch(cells_to_coordinates(cells))
        lat = coords.column("lat").to_numpy()
        lng = coords.column("lng").to_numpy()
    except ImportError:
        ll = np.array([h3.cell_to_latlng(h3.int_to_str(int(c))) for c in cells])
        lat, lng = ll[:, 0], ll[:, 1]
    rng = np.random.default_rng(seed)
    dlat, dlng = lat - 35.41, lng - 116.59
    field = 55 + 40 * dlat + 25 * dlng + 30 * np.exp(-((dlat - 0.05) ** 2 + dlng**2) / 0.01)
    values = field + rng.normal(0, 5, n)
    return cells, np.clip(values, 1, None)


def run_ours(cells: np.ndarray, values: np.ndarray):
    from spatial import stats

    t0 = time.perf_counter()
    w = stats.ring_weights(cells, k=1)
    t1 = time.perf_counter()
    z, p = stats.gi_star(values, w, transform="B")
    cls = stats.fdr_classes(z, p, alpha=0.05)
    t2 = time.perf_counter()
    return z, cls, t1 - t0, t2 - t1


def run_baseline(cells: np.ndarray, values: np.ndarray):
    import esda
    import h3.api.basic_int as h3i
    import libpysal

    t0 = time.perf_counter()
    index = {int(c): i for i, c in enumerate(cells)}
    neighbours = {}
    for i, c in enumerate(cells.tolist()):
        neighbours[i] = [index[d] for d in h3i.grid_disk(c, 1) if d in index]
    w = libpysal.weights.W(neighbours, silence_warnings=True)
    t1 = time.perf_counter()
    g = esda.G_Local(values, w, transform="B", star=True, permutations=0)
    p = 2 * g.p_norm  # esda's p_norm is one-sided
    cut = esda.fdr(p, 0.05)
    cls = (np.sign(g.Zs) * (p < cut)).astype(np.int8)
    t2 = time.perf_counter()
    return g.Zs, cls, t1 - t0, t2 - t1


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000, help="number of cells (default 1e6)")
    ap.add_argument("--repeat", type=int, default=3, help="runs of ours; the best is reported")
    args = ap.parse_args(argv)

    cells_disk, values_disk = make_patch(args.n)
    order = np.argsort(cells_disk)
    cells, values = cells_disk[order], values_disk[order]
    print(f"cells: {cells.size:,} res-9 H3 cells around Jining (grid-disk patch, sorted by id)")
    print(f"RSS after building the patch: {_rss_mib():,.0f} MiB")

    runs = [run_ours(cells, values) for _ in range(max(1, args.repeat))]
    z, cls, tw, tg = min(runs, key=lambda r: r[2] + r[3])
    rss_ours = _rss_mib()
    tracemalloc.start()  # one more run, traced (tracing slows it, so it is not timed)
    run_ours(cells, values)
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"ours:     weights {tw:7.3f} s + Gi*/FDR {tg:7.3f} s = {tw + tg:7.3f} s")
    print(
        f"          peak traced (numpy) memory {traced_peak / 2**20:,.0f} MiB; "
        f"process RSS peak so far {rss_ours:,.0f} MiB"
    )
    runs_u = [run_ours(cells_disk, values_disk) for _ in range(max(1, args.repeat))]
    zu, _, tuw, tug = min(runs_u, key=lambda r: r[2] + r[3])
    assert np.nanmax(np.abs(zu[order] - z)) <= 1e-12, "unsorted input gave other z-scores"
    print(f"ours, unsorted input: weights {tuw:7.3f} s + Gi*/FDR {tug:7.3f} s")

    zb, clsb, bw, bg = run_baseline(cells, values)
    print(f"baseline: weights {bw:7.3f} s + Gi*/FDR {bg:7.3f} s = {bw + bg:7.3f} s")
    print(f"          process RSS peak after baseline {_rss_mib():,.0f} MiB")

    dz = float(np.nanmax(np.abs(z - zb)))
    assert np.array_equal(np.isnan(z), np.isnan(zb)), "NaN patterns differ"
    assert dz <= 1e-12, f"z differs from esda by {dz:.3e}"
    assert np.array_equal(cls, clsb), f"{int((cls != clsb).sum())} FDR classes differ"
    print(
        f"max |z - z_esda| = {dz:.2e}; FDR classes identical "
        f"({int((cls == 1).sum()):,} hot, {int((cls == -1).sum()):,} cold)"
    )
    print(
        f"ratio (baseline / ours): weights {bw / tw:6.1f}x, Gi*/FDR {bg / tg:6.1f}x, "
        f"total {(bw + bg) / (tw + tg):6.1f}x"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
