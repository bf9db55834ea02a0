"""Benchmark: daily values and O₃ MDA8 of a year of hourly readings, lantian vs a Python loop.

Ours:      spatial.airstats.daily_values (one day x 24-hour array, bincount, cumulative sums).
Baseline:  pandas groupby per station and day, then a Python loop over the 17 8-hour windows of
           each day (the standard's text written out, as in tests/test_airstats.py).

Both on the same readings: ``--stations`` stations x 365 days x 24 hours of O₃ with ~5 % of
hours missing at random (seeded). The script asserts that the MDA8 values and their validity
agree, then prints both times and the ratio.

Run:  PYTHONPATH=. python -m bench.bench_airstats [--stations 100]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd


def make_readings(n_stations: int, *, seed: int = 0) -> pd.DataFrame:
    """Hourly O₃ (µg/m³) of `n_stations` for 2025, local naive time, ~5 % of hours missing."""
    rng = np.random.default_rng(seed)
    t = pd.date_range("2025-01-01", "2025-12-31 23:00", freq="h")
    hod = t.hour.to_numpy()
    shape = 20 + 100 * np.clip(np.sin(np.pi * (hod - 7) / 12), 0, None)
    v = shape[None, :] * rng.lognormal(0, 0.2, (n_stations, len(t)))
    keep = rng.random(v.shape) > 0.05
    sid = np.repeat(np.array([f"S{i:04d}" for i in range(n_stations)], dtype=object), len(t))
    f = pd.DataFrame({"unit": sid, "time": np.tile(t.to_numpy(), n_stations), "pollutant": "o3",
                      "value": np.round(v.ravel())})
    return f[keep.ravel()].reset_index(drop=True)


def baseline(f: pd.DataFrame) -> dict[tuple[str, pd.Timestamp], float]:
    """MDA8 per station and day by a loop over days and windows (NaN when < 14 valid)."""
    out = {}
    day = f["time"].dt.normalize()
    hour = f["time"].dt.hour
    for (unit, d), g in f.assign(day=day, hour=hour).groupby(["unit", "day"], sort=False):
        hours = dict(zip(g["hour"].tolist(), g["value"].tolist(), strict=True))
        best, n = None, 0
        for end in range(7, 24):
            vals = [hours[h] for h in range(end - 7, end + 1) if h in hours]
            if len(vals) >= 6:
                n += 1
                m = sum(vals) / len(vals)
                best = m if best is None or m > best else best
        out[(unit, d)] = best if n >= 14 else float("nan")
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--stations", type=int, default=100)
    args = ap.parse_args(argv)
    from spatial import airstats

    f = make_readings(args.stations)
    t0 = time.perf_counter()
    d = airstats.daily_values(f)
    ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    ref = baseline(f)
    base = time.perf_counter() - t0
    got = d.set_index(["unit", "date"])["value"]
    want = pd.Series(ref).reindex(got.index)
    assert len(ref) == len(got)
    assert np.array_equal(np.isnan(got.to_numpy()), np.isnan(want.to_numpy()))
    ok = np.isfinite(want.to_numpy())
    assert np.allclose(got.to_numpy()[ok], want.to_numpy()[ok], rtol=0, atol=1e-9)
    print(f"{len(f):,} hourly O3 readings, {len(got):,} station-days "
          f"({int(ok.sum()):,} with a valid MDA8)")
    print(f"lantian  daily_values: {ours:.2f} s")
    print(f"baseline Python loop : {base:.2f} s")
    print(f"ratio: {base / ours:.1f}x (same MDA8 and validity)")


if __name__ == "__main__":
    main()
