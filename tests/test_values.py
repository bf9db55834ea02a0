"""Distinct values taken apart exactly (spatial.values.factorize_exact)."""

import numpy as np

from spatial.values import factorize_exact


def test_factorize_exact_keeps_negative_zero_apart():
    """Checked against a dict keyed by each float's bits (NaN of any payload: missing)."""
    rng = np.random.default_rng(11)
    pool = np.array([0.0, -0.0, 1.5, -1.5, np.nan, np.inf, -np.inf, 1e-300])
    other_nan = np.array([0x7FF8000000000001], dtype=np.int64).view(np.float64)
    vals = np.concatenate([pool[rng.integers(0, len(pool), 400)], other_nan])
    for sentinel in (True, False):
        codes, uniq = factorize_exact(vals, use_na_sentinel=sentinel)
        seen: dict = {}
        for v in vals.tolist():
            key = "nan" if np.isnan(v) else np.float64(v).tobytes()
            if not (sentinel and key == "nan"):
                seen.setdefault(key, len(seen))
        want = [-1 if sentinel and np.isnan(v) else
                seen["nan" if np.isnan(v) else np.float64(v).tobytes()] for v in vals.tolist()]
        assert codes.tolist() == want
        assert [str(u) for u in uniq.tolist()] == [str(np.frombuffer(k, np.float64)[0])
                                                   if k != "nan" else "nan" for k in seen]
    codes, uniq = factorize_exact(np.array(["a", "b", "a"], dtype=object))
    assert codes.tolist() == [0, 1, 0] and list(uniq) == ["a", "b"]


def test_factorize_exact_of_times_is_pandas_factorize():
    """Zoned and naive times, NaT among them: pd.factorize's codes and values (and dtype)."""
    import pandas as pd

    rng = np.random.default_rng(12)
    base = pd.to_datetime(rng.integers(0, 50, 2000) * 60, unit="s", utc=True)
    zoned = pd.Series(base).dt.tz_convert("Asia/Shanghai")
    zoned[rng.random(2000) < 0.1] = pd.NaT
    for s in (zoned, zoned.dt.tz_localize(None), zoned - zoned.iloc[0]):
        for sentinel in (True, False):
            codes, uniq = factorize_exact(s, use_na_sentinel=sentinel)
            want_codes, want_uniq = pd.factorize(s, use_na_sentinel=sentinel)
            assert codes.tolist() == want_codes.tolist()
            assert pd.Series(uniq).equals(pd.Series(want_uniq))  # NaT where pandas has it
            assert uniq.dtype == want_uniq.dtype and len(uniq) == len(want_uniq)
