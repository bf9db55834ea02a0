"""Local statistics on H3 cells: Getis-Ord Gi*, FDR classes, Mann-Kendall, emerging hot spots.

Everything here is vectorized over cells (numpy and ``scipy.sparse``); the only Python loops run
over k-ring distances or time lags, never over cells.

Typical use for one pollutant, one value per cell and period::

    w = ring_weights(cells, k=1)                  # binary, the cell itself included
    z, p = gi_star(values[:, t], w)               # per period t
    cls = fdr_classes(z, p, alpha=0.05)           # +1 hot, -1 cold, 0 not significant
    cat = emerging_hotspot_categories(z_all, cls_all)   # (n_cells, n_periods) inputs

Conventions
-----------
- Cells are H3 v4 cell ids as ``uint64`` (``h3.str_to_int``); rows and columns of every weights
  matrix follow the order of the ``cells`` argument.
- p-values are **two-sided** normal p-values, ``2 * Phi(-|z|)``, as ArcGIS Hot Spot Analysis
  reports them. esda's ``G_Local.p_norm`` is the one-sided ``Phi(-|z|)``, half of ours.
"""

from __future__ import annotations

import logging
from typing import NamedTuple

import numpy as np
from scipy import sparse
from scipy.special import ndtr

from . import h3grid, kendall
from .errors import InputError

try:  # h3ronpy validates cells vectorized (Rust, h3o); plain bit checks are the fallback.
    import h3ronpy as _h3ronpy
    import pyarrow as _pa
except ImportError:  # pragma: no cover - exercised only where h3ronpy is not installed
    _h3ronpy = None
    _pa = None

log = logging.getLogger(__name__)

__all__ = [
    "CATEGORIES",
    "CATEGORY_LABELS_ZH",
    "MannKendallResult",
    "emerging_hotspot_categories",
    "fdr_classes",
    "gi_star",
    "mann_kendall",
    "ring_weights",
]

# --------------------------------------------------------------------------------------------
# Weights
# --------------------------------------------------------------------------------------------

_H3_MODE_CELL = 1


def _check_cells(cells: np.ndarray) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """Validate H3 cells: 1-D integer ids, valid, unique, of one resolution.

    Returns the cells as uint64, the permutation that sorts them (None if already sorted) and
    the sorted cells.
    """
    arr = np.asarray(cells)
    if arr.ndim != 1:
        raise InputError(f"`cells` must be a 1-D array of H3 cell ids, got shape {arr.shape}.")
    if arr.dtype.kind in "OUS":
        raise InputError(
            "`cells` holds strings; pass integer H3 ids (uint64), e.g. "
            "`np.array([h3.str_to_int(c) for c in cells], dtype=np.uint64)`."
        )
    if arr.dtype.kind not in "iu":
        raise InputError(f"`cells` must hold integer H3 ids (uint64), got dtype {arr.dtype}.")
    arr = arr.astype(np.uint64, copy=False)
    if arr.size == 0:
        return arr, None, arr
    mode = (arr >> np.uint64(59)) & np.uint64(0xF)
    bad = np.flatnonzero(mode != _H3_MODE_CELL)
    if _h3ronpy is not None and bad.size == 0:
        valid = np.asarray(_pa.array(_h3ronpy.cells_valid(arr, booleanarray=True)))
        bad = np.flatnonzero(~valid)
    if bad.size:
        raise InputError(
            f"`cells` has {bad.size} invalid H3 cell ids (e.g. {int(arr[bad[0]])} at position "
            f"{int(bad[0])}); drop them or re-index the points with h3.latlng_to_cell."
        )
    res = np.unique((arr >> np.uint64(52)) & np.uint64(0xF))
    if res.size > 1:
        raise InputError(
            f"`cells` mixes H3 resolutions {res.tolist()}; k-ring neighbours are defined between "
            "cells of one resolution — convert with h3.cell_to_parent / cell_to_children first."
        )
    step = arr[1:] > arr[:-1]
    if step.all():
        return arr, None, arr
    order = np.argsort(arr, kind="stable")
    sorted_cells = arr[order]
    dup = sorted_cells[1:] == sorted_cells[:-1]
    if dup.any():
        raise InputError(
            f"`cells` has {int(dup.sum())} duplicate ids (e.g. {int(sorted_cells[1:][dup][0])}); "
            "aggregate to one row per cell before building weights."
        )
    return arr, order, sorted_cells


def ring_weights(cells: np.ndarray, *, k: int = 1, self_weight: bool = True) -> sparse.csr_array:
    """Binary k-ring weights between the given H3 cells.

    ``W[i, j] = 1`` when ``cells[j]`` lies in ``grid_disk(cells[i], k)`` (grid distance <= k) and
    is present in ``cells``; cells missing from ``cells`` (no data, outside the study area) are
    simply not neighbours, so cells on an irregular edge get fewer neighbours and an isolated
    cell keeps only itself. The matrix is symmetric.

    Parameters
    ----------
    cells
        Unique H3 cell ids (uint64) of one resolution, shape (n,). Rows and columns of the
        result follow this order.
    k
        Grid distance of the neighbourhood, >= 1 (1: the 6 adjacent cells; pentagons have 5).
    self_weight
        Put 1 on the diagonal (the cell is its own neighbour, as Getis-Ord Gi* wants). With
        False the diagonal is 0 (plain Gi, or Moran's I).

    Returns
    -------
    scipy.sparse.csr_array
        Float64 (n, n) matrix of 0/1 weights with sorted column indices.

    Raises
    ------
    InputError
        If ``cells`` holds strings, invalid or duplicate ids, or several resolutions, or ``k < 1``.

    Notes
    -----
    The disks come from ``h3ronpy.grid_disk`` (vectorized) when h3ronpy is installed, else from
    ``h3.grid_disk`` per cell. Membership is one ``np.searchsorted`` on the sorted cells. Input
    already sorted by id (as after a pandas groupby) saves a final permutation (~0.15 s per 1e6
    cells).

    Examples
    --------
    >>> import h3, numpy as np
    >>> c = h3.str_to_int(h3.latlng_to_cell(35.41, 116.59, 9))  # (lat, lng)
    >>> ring = np.array([h3.str_to_int(x) for x in h3.grid_disk(h3.int_to_str(c), 1)], np.uint64)
    >>> w = ring_weights(ring)
    >>> int(w.sum()), w.shape
    (31, (7, 7))
    """
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise InputError(f"`k` must be an integer >= 1 (grid distance), got {k!r}.")
    arr, order, sorted_cells = _check_cells(cells)
    n = arr.size
    if n == 0:
        return sparse.csr_array((0, 0), dtype=np.float64)
    # Work in sorted order (neighbour look-ups then hit nearby memory), permute at the end.
    flat, rows = h3grid.grid_disks(sorted_cells, int(k))
    pos = h3grid.lookup(sorted_cells, flat)
    found = pos >= 0
    if not self_weight:
        found &= pos != rows
    cols = pos[found]
    counts = np.bincount(rows[found], minlength=n)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    w = sparse.csr_array((np.ones(cols.size), cols, indptr), shape=(n, n))
    if order is not None:
        inv = np.empty(n, dtype=np.int64)
        inv[order] = np.arange(n)
        w = w[inv][:, inv]
    w.sort_indices()
    log.debug("Built k=%d ring weights on %d cells (%d links)", k, n, cols.size)
    return w


# --------------------------------------------------------------------------------------------
# Getis-Ord Gi*
# --------------------------------------------------------------------------------------------


def gi_star(values: np.ndarray, weights, *, transform: str = "B") -> tuple[np.ndarray, np.ndarray]:
    """Getis-Ord Gi* z-scores and two-sided p-values, one per cell.

    Reproduces ``esda.G_Local(values, w, transform=transform, star=True, permutations=0).Zs``
    for the same weights (with the diagonal included), vectorized on a sparse matrix:

    ``G_i = sum_j w_ij y_j / sum_j y_j``, ``E[G_i] = W_i / N``,
    ``Var[G_i] = W_i (N - W_i) / (N - 1) / N**2 * s**2 / ybar**2``, ``z_i = (G_i - E) / sqrt(Var)``

    with ``W_i = sum_j w_ij`` (after the transform), ``ybar`` the mean and ``s**2`` the population
    variance (divisor N) of the N cells with data.

    Parameters
    ----------
    values
        Value per cell, shape (n,), in the row order of ``weights`` (e.g. mean PM2.5 in ug/m3 of
        one period). NaN marks a cell without data: it is dropped together with its row and
        column of weights before anything is computed (so it neither counts as a zero nor
        poisons its neighbours) and gets NaN z and p. Gi* assumes non-negative values.
    weights
        Spatial weights, (n, n), sparse or dense, e.g. from :func:`ring_weights`. If the whole
        diagonal is zero it is set to 1 (the cell is its own neighbour), as esda does for binary
        weights with ``star=True``; otherwise the given diagonal is used.
    transform
        ``"B"`` binary weights as given (the ArcGIS Hot Spot Analysis statistic), or ``"R"``
        row-standardized (each row divided by its sum after the NaN cells are dropped).

    Returns
    -------
    z : numpy.ndarray
        Gi* z-scores, float64, shape (n,). NaN for cells without data, and for every cell when
        fewer than 2 cells have data, when all values are equal (zero variance) or their mean is
        0; NaN also where ``Var[G_i]`` is 0 (a neighbourhood that covers every cell).
    p : numpy.ndarray
        Two-sided normal p-values ``2 * Phi(-|z|)``, float64, shape (n,); NaN where z is NaN.
        esda's ``p_norm`` is one-sided (``Phi(-|z|)``), i.e. half of this.

    Raises
    ------
    InputError
        If the shapes disagree or ``transform`` is not "B"/"R".

    Notes
    -----
    With ``transform="R"`` this reproduces esda, whose variance uses the binary-weights formula
    with ``W_i = 1``: the z-score then reduces to ``(local mean - ybar) / s`` and does **not**
    scale with the neighbourhood size, so it is not standard normal under the null and its
    p-values are conservative. Prefer the default ``"B"``; with binary weights and the self
    included, ArcGIS's general formula gives the same z for "B" and "R".
    """
    tr = str(transform).upper()
    if tr not in ("B", "R"):
        raise InputError(
            f'`transform` must be "B" (binary) or "R" (row-standardized), got {transform!r}.'
        )
    # One contiguous, aligned buffer, whatever the caller's: numpy sums an unaligned buffer
    # (as a Dask worker receives a pickled argument) in 8192-value chunks and an aligned one
    # pairwise as a whole, which changes the last bits of the sums below and so of every z.
    # With this copy the in-process and Dask engines do the same operations in the same order.
    y = np.require(np.asarray(values, dtype=np.float64), requirements=["C", "A"])
    if y.ndim != 1:
        raise InputError(f"`values` must be 1-D (one value per cell), got shape {y.shape}.")
    n = y.size
    w = sparse.csr_array(weights, dtype=np.float64)
    if w.shape != (n, n):
        raise InputError(
            f"`weights` has shape {w.shape} but `values` has {n} cells; build the weights on the "
            "same cells, in the same order."
        )
    z_out = np.full(n, np.nan)
    p_out = np.full(n, np.nan)
    if n == 0:
        return z_out, p_out
    if not w.diagonal().any():
        w = (w + sparse.eye_array(n, format="csr")).tocsr()

    valid = np.isfinite(y)
    if not valid.all():
        idx = np.flatnonzero(valid)
        w = w[idx][:, idx]
        y = y[idx]
    else:
        idx = None
    big_n = y.size
    if big_n < 2 or np.ptp(y) == 0:
        log.info(
            "Gi*: %d cells with data, %s; z set to NaN",
            big_n,
            "too few" if big_n < 2 else "all values equal",
        )
        return z_out, p_out
    if tr == "R":
        row_sums = w.sum(axis=1)
        scale = np.divide(1.0, row_sums, out=np.zeros_like(row_sums), where=row_sums != 0)
        w = (sparse.diags_array(scale) @ w).tocsr()

    # Same order of operations as esda.G_Local.calc with star=True.
    y_sum = y.sum()
    statistic = (w @ y) / y_sum
    empirical_mean = y_sum / big_n
    mean_of_squares = (y**2).sum() / big_n
    empirical_variance = mean_of_squares - empirical_mean**2
    cardinality = np.asarray(w.sum(axis=1)).ravel()
    expected_value = cardinality / big_n
    expected_variance = cardinality * (big_n - cardinality)
    expected_variance /= big_n - 1
    expected_variance *= 1 / big_n**2
    with np.errstate(divide="ignore", invalid="ignore"):
        expected_variance *= empirical_variance / (empirical_mean**2)
        ok = np.isfinite(expected_variance) & (expected_variance > 0)
        z = np.full(big_n, np.nan)
        z[ok] = (statistic[ok] - expected_value[ok]) / np.sqrt(expected_variance[ok])
    p = 2.0 * ndtr(-np.abs(z))
    if idx is None:
        z_out, p_out = z, p
    else:
        z_out[idx] = z
        p_out[idx] = p
    log.debug("Gi* on %d cells (%d with data), transform %s", n, big_n, tr)
    return z_out, p_out


def fdr_classes(z: np.ndarray, p: np.ndarray, *, alpha: float = 0.05) -> np.ndarray:
    """Hot/cold classes after a Benjamini-Hochberg false-discovery-rate correction.

    The m finite p-values are sorted, ``p_(1) <= ... <= p_(m)``; k is the largest rank with
    ``p_(k) <= k / m * alpha``; every cell with ``p <= p_(k)`` is significant (step-up: a cell may
    pass although its own rank test failed). A significant cell is +1 (hot) when ``z > 0`` and
    -1 (cold) when ``z < 0``.

    Parameters
    ----------
    z
        Z-scores, shape (n,) (e.g. from :func:`gi_star`); only their sign is used.
    p
        Two-sided p-values, shape (n,). NaN (cells without data) is excluded from m and gets 0.
    alpha
        False discovery rate, in (0, 1).

    Returns
    -------
    numpy.ndarray
        int8 array, shape (n,): +1 hot spot, -1 cold spot, 0 not significant.

    Raises
    ------
    InputError
        If the shapes differ or ``alpha`` is outside (0, 1).
    """
    z = np.asarray(z, dtype=np.float64)
    p = np.asarray(p, dtype=np.float64)
    if z.shape != p.shape or z.ndim != 1:
        raise InputError(f"`z` and `p` must be 1-D of the same shape, got {z.shape} and {p.shape}.")
    if not 0.0 < float(alpha) < 1.0:
        raise InputError(f"`alpha` must lie in (0, 1), got {alpha!r} (0.05 is usual).")
    out = np.zeros(z.shape, dtype=np.int8)
    finite = np.isfinite(p)
    m = int(finite.sum())
    if m == 0:
        return out
    p_sorted = np.sort(p[finite])
    passed = np.flatnonzero(p_sorted <= alpha * np.arange(1, m + 1) / m)
    if passed.size == 0:
        return out
    cutoff = p_sorted[passed[-1]]
    sig = finite & (p <= cutoff)
    out[sig & (z > 0)] = 1
    out[sig & (z < 0)] = -1
    return out


# --------------------------------------------------------------------------------------------
# Mann-Kendall trend
# --------------------------------------------------------------------------------------------


class MannKendallResult(NamedTuple):
    """Mann-Kendall trend test per series (each field has shape (n_series,)).

    Attributes
    ----------
    s
        Kendall's S, ``sum_{i<j} sign(x_j - x_i)`` over the non-NaN values (int64).
    var_s
        Variance of S under no trend, tie-corrected:
        ``(n(n-1)(2n+5) - sum_t t(t-1)(2t+5)) / 18`` over the groups of t tied values.
    z
        Standard normal score with continuity correction: ``(S - sign(S)) / sqrt(var_s)``, 0 when
        S is 0; NaN when ``var_s`` is 0 (fewer than 2 values, or all tied).
    p
        Two-sided p-value ``2 * Phi(-|z|)``.
    tau
        Kendall's tau-b between time and value, ``S / sqrt(n0 (n0 - n1))`` with
        ``n0 = n(n-1)/2`` and ``n1 = sum_t t(t-1)/2`` (as R's Kendall::MannKendall and
        ``scipy.stats.kendalltau`` report it).
    n
        Number of non-NaN values per series.
    """

    s: np.ndarray
    var_s: np.ndarray
    z: np.ndarray
    p: np.ndarray
    tau: np.ndarray
    n: np.ndarray


def mann_kendall(series: np.ndarray) -> MannKendallResult:
    """Mann-Kendall monotonic-trend test of many series at once.

    Parameters
    ----------
    series
        Values, shape (n_series, n_periods), periods in time order along axis 1 (e.g. the
        Gi* z-score of each cell in each period). NaN marks a missing period: pairs involving it
        are skipped and n counts only the values present, so a few gaps are tolerated.

    Returns
    -------
    MannKendallResult
        S, its tie-corrected variance, z (continuity-corrected), two-sided p, tau-b and n.

    Raises
    ------
    InputError
        If ``series`` is not 2-D.

    Notes
    -----
    Vectorized over series (:mod:`spatial.kendall`: integer ranks, cache-sized blocks).
    """
    x = np.asarray(series, dtype=np.float64)
    if x.ndim != 2:
        raise InputError(
            f"`series` must be 2-D (n_series, n_periods), got shape {x.shape}; "
            "use series.reshape(1, -1) for a single series."
        )
    s = kendall.kendall_s(x)  # exact integer pair counts, O(n_periods) passes (spatial.kendall)
    n, tie_term, tie_pairs = kendall.tie_sums(x)  # sums over the groups of t tied values
    var_s = (n * (n - 1) * (2 * n + 5) - tie_term) / 18.0
    n0 = n * (n - 1) / 2.0
    n1 = tie_pairs / 2.0
    with np.errstate(divide="ignore", invalid="ignore"):
        sd = np.sqrt(var_s)
        z = np.where(var_s > 0, (s - np.sign(s)) / sd, np.nan)
        tau = np.where(n0 * (n0 - n1) > 0, s / np.sqrt(n0 * (n0 - n1)), np.nan)
    p = 2.0 * ndtr(-np.abs(z))
    return MannKendallResult(s=s, var_s=var_s, z=z, p=p, tau=tau, n=n)


# --------------------------------------------------------------------------------------------
# Emerging hot spots
# --------------------------------------------------------------------------------------------

CATEGORIES: tuple[str, ...] = (
    "new hot spot",
    "consecutive hot spot",
    "intensifying hot spot",
    "persistent hot spot",
    "diminishing hot spot",
    "sporadic hot spot",
    "oscillating hot spot",
    "historical hot spot",
    "new cold spot",
    "consecutive cold spot",
    "intensifying cold spot",
    "persistent cold spot",
    "diminishing cold spot",
    "sporadic cold spot",
    "oscillating cold spot",
    "historical cold spot",
    "no pattern detected",
)
"""Emerging-hot-spot categories, in the words of ArcGIS Emerging Hot Spot Analysis."""

CATEGORY_LABELS_ZH: dict[str, str] = {
    "new hot spot": "新增热点",
    "consecutive hot spot": "连续热点",
    "intensifying hot spot": "加剧热点",
    "persistent hot spot": "持续热点",
    "diminishing hot spot": "减弱热点",
    "sporadic hot spot": "零星热点",
    "oscillating hot spot": "振荡热点",
    "historical hot spot": "历史热点",
    "new cold spot": "新增冷点",
    "consecutive cold spot": "连续冷点",
    "intensifying cold spot": "加剧冷点",
    "persistent cold spot": "持续冷点",
    "diminishing cold spot": "减弱冷点",
    "sporadic cold spot": "零星冷点",
    "oscillating cold spot": "振荡冷点",
    "historical cold spot": "历史冷点",
    "no pattern detected": "无显著模式",
}
"""Chinese label of each category in :data:`CATEGORIES`."""


def _side_conditions(
    own: np.ndarray, other: np.ndarray, n: np.ndarray, rising: np.ndarray, falling: np.ndarray
) -> dict[str, np.ndarray]:
    """Conditions of the eight patterns of one side (hot: own=hot, other=cold; or reverse)."""
    n_t = own.shape[1]
    count = own.sum(axis=1)
    other_count = other.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(n > 0, count / np.maximum(n, 1), 0.0)
    mostly = share >= 0.9
    last = own[:, -1]
    rev = own[:, ::-1]
    final_run = np.where(rev.all(axis=1), n_t, np.argmin(rev, axis=1))
    return {
        "new": last & (count == 1) & (other_count == 0),
        "consecutive": last
        & (count == final_run)
        & (final_run >= 2)
        & ~mostly
        & (other_count == 0),
        "intensifying": last & mostly & rising,
        "persistent": last & mostly & ~rising & ~falling,
        "diminishing": last & mostly & falling,
        "oscillating": last & ~mostly & (other_count > 0),
        "historical": ~last & mostly,
        "sporadic": (count >= 1) & ~mostly & (other_count == 0),
    }


def emerging_hotspot_categories(
    z: np.ndarray, cls: np.ndarray, *, alpha: float = 0.05, trend: MannKendallResult | None = None
) -> np.ndarray:
    """Emerging-hot-spot category of each cell from its per-period Gi* results.

    Follows the pattern definitions of ArcGIS Emerging Hot Spot Analysis ("hot" = a period in
    which the cell is a significant hot spot, ``cls == +1``; "90 percent" = at least 90 % of the
    periods with data; the trend is a Mann-Kendall test of the cell's Gi* z-scores over time,
    significant when its two-sided p <= ``alpha``):

    - new: hot in the final period and never hot (nor cold) before;
    - consecutive: a single uninterrupted run of >= 2 hot periods at the end, never hot before it,
      < 90 % of periods hot;
    - intensifying: >= 90 % of periods hot, including the final one, significant upward trend;
    - persistent: >= 90 % hot, final one included, no significant trend;
    - diminishing: >= 90 % hot, final one included, significant downward trend;
    - sporadic: on-again off-again hot, < 90 % hot, never cold (final period hot or not);
    - oscillating: hot in the final period, cold in some earlier period, < 90 % hot;
    - historical: not hot in the final period, but >= 90 % of periods hot;

    and the mirror images for cold spots (``cls == -1``; "intensifying" cold means z trending
    down, "diminishing" cold z trending up); everything else is "no pattern detected".

    Parameters
    ----------
    z
        Gi* z-scores, shape (n_cells, n_periods), periods in time order; NaN = no data.
    cls
        Classes from :func:`fdr_classes` per period, int, same shape (+1 hot, -1 cold, 0 none).
    alpha
        Significance level of the Mann-Kendall trend, in (0, 1).
    trend
        ``mann_kendall(z)`` when the caller has it already (it is not computed again).

    Returns
    -------
    numpy.ndarray
        Category names from :data:`CATEGORIES` (str), shape (n_cells,). Map them to Chinese with
        :data:`CATEGORY_LABELS_ZH`.

    Raises
    ------
    InputError
        If the shapes differ, arrays are not 2-D, there are fewer than 2 periods, or ``alpha`` is
        outside (0, 1).

    Notes
    -----
    Rules where the published definitions overlap or are silent (ArcGIS' code is not public):
    a cell hot in the final period that was cold earlier is *oscillating* even if it was never hot
    before or was >= 90 % cold (rather than *new* hot / *historical* cold); a *new* or
    *consecutive* spot has no opposite-sign period. ArcGIS requires at least 10 time steps; with
    fewer, "90 percent" means every period.
    """
    z = np.asarray(z, dtype=np.float64)
    c = np.asarray(cls)
    if z.ndim != 2 or z.shape != c.shape:
        raise InputError(
            f"`z` and `cls` must be 2-D (n_cells, n_periods) of one shape, got {z.shape} and "
            f"{c.shape}."
        )
    if z.shape[1] < 2:
        raise InputError(f"need at least 2 periods for trends, got {z.shape[1]}.")
    if not 0.0 < float(alpha) < 1.0:
        raise InputError(f"`alpha` must lie in (0, 1), got {alpha!r}.")
    present = np.isfinite(z)
    hot = (c == 1) & present
    cold = (c == -1) & present
    n = present.sum(axis=1)
    mk = mann_kendall(z) if trend is None else trend  # the caller's mann_kendall(z), if given
    sig = mk.p <= alpha
    up = sig & (mk.z > 0)
    down = sig & (mk.z < 0)
    h = _side_conditions(hot, cold, n, rising=up, falling=down)
    k = _side_conditions(cold, hot, n, rising=down, falling=up)
    order = (
        "new",
        "consecutive",
        "intensifying",
        "persistent",
        "diminishing",
        "oscillating",
        "historical",
        "sporadic",
    )
    conds, names = [], []
    for key in order:
        conds += [h[key], k[key]]
        names += [f"{key} hot spot", f"{key} cold spot"]
    width = max(len(x) for x in CATEGORIES)
    out = np.select(conds, np.array(names, dtype=f"<U{width}"), default="no pattern detected")
    log.debug("Emerging hot spots on %d cells x %d periods", z.shape[0], z.shape[1])
    return out
