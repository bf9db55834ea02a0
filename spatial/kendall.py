"""Kendall's S and tie counts of many series at once (the Mann-Kendall test's heavy part).

The Mann-Kendall test (:func:`spatial.stats.mann_kendall`) needs, per series,
``S = sum_{i<j} sign(x_j - x_i)`` over the non-NaN values and the sizes of the groups of tied
values. A province-year of daily Gi* z-scores (30,000 cells x 365 days) has 2e9 pairs. Here the
values are first replaced by their dense rank within the series (int16: ties share a rank, so
every pair's sign is unchanged), then the pairs are counted lag by lag on the time-major
(periods x series) rank array, a few thousand series at a time so that it stays in the CPU
cache: one subtraction, sign and sum of small integers per pair instead of float comparisons
and tie arrays. NaN gets rank 0; the pairs that involve one NaN are then taken out exactly with
a cumulative count. The tie sums come from the sorted rows. Everything is integer, so S and the
tie sums equal those of the pairwise definition (tests compare with a pair loop and
``scipy.stats.kendalltau``).
"""

from __future__ import annotations

import numpy as np

__all__ = ["dense_ranks", "kendall_s", "tie_sums"]


def dense_ranks(x: np.ndarray) -> np.ndarray:
    """Dense rank (1 = smallest, tied values share a rank) of each value within its row.

    ``x``: float array (n_series, n_periods), NaN = missing. Returns int16 ranks (int32 beyond
    32,766 periods) of the same shape, 0 where ``x`` is NaN.
    """
    x = np.asarray(x, dtype=np.float64)
    dtype = np.int16 if x.shape[1] < 2**15 - 1 else np.int32
    order = np.argsort(x, axis=1)  # NaN sort last; tied values get one rank whatever their order
    xs = np.take_along_axis(x, order, axis=1)
    new = np.ones(xs.shape, dtype=dtype)
    if xs.shape[1] > 1:
        new[:, 1:] = xs[:, 1:] != xs[:, :-1]
    ranks = np.empty(x.shape, dtype=dtype)
    np.put_along_axis(ranks, order, np.cumsum(new, axis=1, dtype=dtype), axis=1)
    ranks[~np.isfinite(x)] = 0
    return ranks


def kendall_s(x: np.ndarray, *, chunk: int = 4096) -> np.ndarray:
    """Kendall's S of each row: ``sum_{i<j} sign(x[:, j] - x[:, i])`` over non-NaN pairs.

    ``x``: (n_series, n_periods), periods in time order along axis 1 (NaN = missing). Returns
    int64 (n_series,). ``chunk``: series per pass (a cache-sized block of ranks).
    """
    ranks = dense_ranks(x)
    n_s, n_t = ranks.shape
    s = np.zeros(n_s, dtype=np.int64)
    if n_s == 0 or n_t < 2:
        return s
    for a in range(0, n_s, chunk):
        rt = np.ascontiguousarray(ranks[a:a + chunk].T)  # (periods, series)
        buf = np.empty_like(rt)
        acc = np.zeros(rt.shape[1], dtype=np.int64)
        for lag in range(1, n_t):
            d = buf[:n_t - lag]
            np.subtract(rt[lag:], rt[:-lag], out=d)
            np.sign(d, out=d)
            acc += d.sum(axis=0, dtype=np.int64)
        s[a:a + chunk] = acc
    # NaN has rank 0: a pair (NaN earlier, value later) counted +1, (value, NaN later) -1
    valid = ranks > 0
    nan = ~valid
    nan_before = np.cumsum(nan, axis=1) - nan
    nan_after = nan.sum(axis=1, keepdims=True) - np.cumsum(nan, axis=1)
    s -= (nan_before * valid).sum(axis=1)
    s += (nan_after * valid).sum(axis=1)
    return s


def tie_sums(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row, over the groups of t tied non-NaN values.

    Returns ``(n, sum t(t-1)(2t+5), sum t(t-1))`` as int64 arrays (n_series,): the number of
    non-NaN values and the two tie sums of the Mann-Kendall variance and Kendall's tau-b
    (a value without ties is a group of 1 and adds 0).
    """
    x = np.asarray(x, dtype=np.float64)
    n_s, n_t = x.shape
    finite = np.isfinite(x)
    n = finite.sum(axis=1).astype(np.int64)
    if n_s == 0 or n_t == 0:
        zero = np.zeros(n_s, dtype=np.int64)
        return n, zero, zero.copy()
    xs = np.sort(x, axis=1)  # NaN last
    start = np.isfinite(xs)
    if n_t > 1:
        start[:, 1:] &= xs[:, 1:] != xs[:, :-1]
    group = np.cumsum(start.ravel()) - 1  # group of each value; NaN ones are not counted
    t = np.bincount(group[np.isfinite(xs).ravel()], minlength=int(start.sum())).astype(np.int64)
    row = np.repeat(np.arange(n_s), start.sum(axis=1))  # row of each group
    term = np.zeros(n_s, dtype=np.int64)
    pairs = np.zeros(n_s, dtype=np.int64)
    np.add.at(term, row, t * (t - 1) * (2 * t + 5))
    np.add.at(pairs, row, t * (t - 1))
    return n, term, pairs
