"""analyses.fire_groups: the vectorized per-event text aggregates equal pandas' own calls."""

import numpy as np
import pandas as pd

from analyses import fire_groups


def test_group_min_text_is_pandas_min():
    keys = pd.Series(pd.array([3, 1, 1, 2, 3, None, 2, 5], dtype="Int64"))
    for vals in ([None] * 8,
                 ["2025-06-02", None, "2025-06-01", None, "2025-05-30", "x", None, "b"]):
        v = pd.Series(vals, dtype=object)
        want = v.groupby(keys).min()
        got = fire_groups.group_min_text(v, keys)
        assert list(got.index) == list(want.index)
        assert [None if pd.isna(x) else x for x in got] == \
               [None if pd.isna(x) else x for x in want]
        assert got.isna().tolist() == want.isna().tolist()


def test_joined_sorted_unique_is_the_lambda():
    rng = np.random.default_rng(0)
    g = rng.integers(0, 40, 300)
    g[:40] = np.arange(40)  # every group present
    v = rng.choice(["VIIRS", "MODIS", "AVHRR"], 300).astype(object)
    want = pd.Series(v).groupby(g).agg(lambda s: "/".join(sorted(set(s))))
    got = fire_groups.joined_sorted_unique(v, g, 40)
    assert got.tolist() == want.tolist()
