"""Gi* z, p and FDR classes of many periods at once, as :func:`spatial.stats.gi_star` per period.

A province-year of daily values is 365 columns over the same cells and weights. Calling
:func:`spatial.stats.gi_star` per period drops the NaN cells from the weights (a sparse
submatrix) 365 times and runs 365 sparse products. Here the periods are grouped by their
pattern of cells with data (usually every day has the same cells), the weights are cut once
per pattern, and the group's columns go through one sparse-times-dense product; the sums,
means and variances are computed column by column on contiguous rows, in the same order of
operations as :func:`spatial.stats.gi_star`, and the Benjamini-Hochberg step of
:func:`spatial.stats.fdr_classes` runs on all columns with one sort. The results are
bit-identical to the per-period functions (tests compare them with ``np.array_equal``).
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.special import ndtr

from .errors import InputError

__all__ = ["fdr_columns", "gi_star_columns"]


def gi_star_columns(values: np.ndarray, weights) -> tuple[np.ndarray, np.ndarray]:
    """Gi* z and two-sided p of every column of ``values`` (binary weights, ``transform="B"``).

    ``values``: (n_cells, n_periods) float, NaN = no data in that period; ``weights``: (n, n)
    sparse, e.g. :func:`spatial.stats.ring_weights` (diagonal set to 1 if it is all zero, as
    gi_star does). Returns two float64 arrays of ``values.shape``; each column equals
    ``spatial.stats.gi_star(values[:, j], weights)``.
    """
    y_all = np.asarray(values, dtype=np.float64)
    if y_all.ndim != 2:
        raise InputError(f"`values` must be 2-D (cells, periods), got shape {y_all.shape}.")
    n, n_t = y_all.shape
    w0 = sparse.csr_array(weights, dtype=np.float64)
    if w0.shape != (n, n):
        raise InputError(f"`weights` has shape {w0.shape} but `values` has {n} cells; build "
                         "the weights on the same cells, in the same order.")
    z_out = np.full((n, n_t), np.nan)
    p_out = np.full((n, n_t), np.nan)
    if n == 0 or n_t == 0:
        return z_out, p_out
    if not w0.diagonal().any():
        w0 = (w0 + sparse.eye_array(n, format="csr")).tocsr()
    valid = np.isfinite(y_all)
    # periods with the same cells with data share one cut of the weights
    patterns, group = np.unique(np.packbits(valid, axis=0).T, axis=0, return_inverse=True)
    for g in range(len(patterns)):
        cols = np.flatnonzero(group.ravel() == g)
        ok = valid[:, cols[0]]
        idx = None if ok.all() else np.flatnonzero(ok)
        w = w0 if idx is None else w0[idx][:, idx]
        yt = np.ascontiguousarray((y_all[:, cols] if idx is None else y_all[idx][:, cols]).T)
        big_n = yt.shape[1]  # cells with data; yt is (periods of the group, cells)
        if big_n < 2:
            continue
        live = np.ptp(yt, axis=1) != 0
        if not live.any():
            continue
        cols, yt = cols[live], yt[live]
        y_sum = yt.sum(axis=1)  # per row: numpy's pairwise sum, as y.sum() of one period
        statistic = (w @ yt.T).T / y_sum[:, None]
        empirical_mean = y_sum / big_n
        mean_of_squares = (yt**2).sum(axis=1) / big_n
        empirical_variance = mean_of_squares - empirical_mean**2
        cardinality = np.asarray(w.sum(axis=1)).ravel()
        expected_value = cardinality / big_n
        base_var = cardinality * (big_n - cardinality)
        base_var /= big_n - 1
        base_var *= 1 / big_n**2
        with np.errstate(divide="ignore", invalid="ignore"):
            ev = base_var[None, :] * (empirical_variance / (empirical_mean**2))[:, None]
            good = np.isfinite(ev) & (ev > 0)
            z = np.full(ev.shape, np.nan)
            z[good] = ((statistic - expected_value[None, :])[good]) / np.sqrt(ev[good])
        p = 2.0 * ndtr(-np.abs(z))
        if idx is None:
            z_out[:, cols], p_out[:, cols] = z.T, p.T
        else:
            z_out[np.ix_(idx, cols)], p_out[np.ix_(idx, cols)] = z.T, p.T
    return z_out, p_out


def fdr_columns(z: np.ndarray, p: np.ndarray, *, alpha: float = 0.05) -> np.ndarray:
    """:func:`spatial.stats.fdr_classes` of every column (period): int8 +1 hot, -1 cold, 0.

    ``z``, ``p``: (n_cells, n_periods); NaN p (no data) is left out of that period's m.
    """
    z = np.asarray(z, dtype=np.float64)
    p = np.asarray(p, dtype=np.float64)
    if z.shape != p.shape or z.ndim != 2:
        raise InputError(f"`z` and `p` must be 2-D of one shape, got {z.shape} and {p.shape}.")
    if not 0.0 < float(alpha) < 1.0:
        raise InputError(f"`alpha` must lie in (0, 1), got {alpha!r} (0.05 is usual).")
    out = np.zeros(z.shape, dtype=np.int8)
    n, n_t = z.shape
    if n == 0 or n_t == 0:
        return out
    finite = np.isfinite(p)
    m = finite.sum(axis=0)
    p_sorted = np.sort(p, axis=0)  # NaN last
    rank = np.arange(1, n + 1)[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        passed = p_sorted <= alpha * rank / np.maximum(m, 1)[None, :]  # as alpha * k / m
    passed &= rank <= m[None, :]
    anyp = passed.any(axis=0)
    last = n - 1 - np.argmax(passed[::-1], axis=0)
    cutoff = np.where(anyp, p_sorted[last, np.arange(n_t)], -np.inf)
    sig = finite & (p <= cutoff[None, :])
    out[sig & (z > 0)] = 1
    out[sig & (z < 0)] = -1
    return out
