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
