"""fire-points: per-event aggregates of text columns without a Python call per event.

pandas falls back to one Python call per group for ``min``/``max`` of object (text) columns and
for ``agg(lambda …)``: a national season with 100,000+ events spent most of its run there.
Here the texts are factorized once (codes in sorted order) and the groups reduce integer codes,
which gives the same values as the pandas calls they replace (tests).
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def group_min_text(values: pd.Series, keys: pd.Series) -> pd.Series:
    """``values.groupby(keys).min()`` for text values (NaN for groups with only missing ones).

    Indexed by the sorted distinct keys, object dtype; missing values (None/NaN) are skipped as
    pandas skips them.
    """
    codes, uniques = pd.factorize(values, sort=True)  # -1 for missing
    big = np.iinfo(np.int64).max
    c = pd.Series(np.where(codes >= 0, codes, big), index=values.index)
    m = c.groupby(keys, sort=True).min()
    text = np.asarray(uniques, dtype=object)
    out = np.where(m.to_numpy() == big, np.nan, None).astype(object)
    has = m.to_numpy() != big
    out[has] = text[m.to_numpy()[has]]
    return pd.Series(out, index=m.index, dtype=object)


def joined_sorted_unique(values: np.ndarray, group: np.ndarray, n_groups: int, *,
                         sep: str = "/") -> np.ndarray:
    """Per group 0..n_groups-1: ``sep.join(sorted(set(values in the group)))`` (object array).

    ``values`` text (few distinct, e.g. instrument names), ``group`` int per value.
    """
    codes, uniques = pd.factorize(values, sort=True)
    uniques = [str(u) for u in uniques]
    if not uniques:
        return np.full(n_groups, "", dtype=object)
    present = np.zeros((n_groups, len(uniques)), dtype=bool)
    present[group, codes] = True
    masks, inv = np.unique(present, axis=0, return_inverse=True)  # few distinct combinations
    words = np.array([sep.join(u for u, p in zip(uniques, row, strict=True) if p)
                      for row in masks], dtype=object)
    return words[inv.ravel()]
