"""pollution-hotspots: the per-period lists top_value, worst_yoy and worst_mom, all periods at once.

Policy: the high-value-area practice publishes, every period, the grids with the highest value
and those with the worst year-on-year and period-on-period change (see the module docstring of
:mod:`analyses.pollution_hotspots`). Each list holds the ``top_n`` cells of a period, ordered by
value (or change) descending, ties by cell id.

A daily year has 365 periods: instead of sorting all cells once per period and list, each
list's cells are chosen for all periods at once (``np.partition`` down each column gives the
``top_n``-th value; only the cells at or above it, a few per period, are sorted) and the rows
are built in one frame. Same rows, same order, same values as one sort per period (tests).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from spatial import admin, h3grid

COLS_TOP = ["period", "rank", "h3_cell", "value", "exceed_ratio", "fdr_class",
            "county_code", "county_name", "township_code", "township_name", "lon", "lat"]
COLS_CHG = ["period", "compared_with", "rank", "h3_cell", "value", "previous_value",
            "change", "change_ratio", "county_code", "county_name", "township_code",
            "township_name", "lon", "lat"]


def top_rows(score: np.ndarray, key: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray,
                                                                     np.ndarray]:
    """The `n` highest finite scores of every column, ordered by score descending, then key.

    ``score``: (n_cells, n_cols) float, NaN = not listed; ``key``: (n_cells,) int tie-break
    (ascending). Returns (col, cell, rank) arrays of the chosen entries, ordered by column then
    rank (1-based); a column without finite scores has none.
    """
    n_c, n_k = score.shape
    if n_c == 0 or n_k == 0:
        z = np.zeros(0, dtype=np.int64)
        return z, z.copy(), z.copy()
    neg = np.where(np.isfinite(score), -score, np.inf)
    kth = min(n, n_c) - 1
    cut = np.partition(neg, kth, axis=0)[kth]  # the n-th smallest -score of each column
    cell, col = np.nonzero((neg <= cut[None, :]) & np.isfinite(neg))  # ties at the cut too
    order = np.lexsort((key[cell], neg[cell, col], col))
    cell, col = cell[order], col[order]
    start = np.r_[0, np.flatnonzero(np.diff(col)) + 1] if col.size else np.zeros(0, np.int64)
    rank = np.arange(col.size) - np.repeat(start, np.diff(np.r_[start, col.size])) + 1
    keep = rank <= n
    return col[keep].astype(np.int64), cell[keep].astype(np.int64), rank[keep].astype(np.int64)


def lists(cells: np.ndarray, periods: list, values: np.ndarray, cls: np.ndarray,
          exceed: np.ndarray, loc: pd.DataFrame, clng: np.ndarray, clat: np.ndarray,
          params: Any) -> dict[str, pd.DataFrame]:
    """top_value, worst_yoy and worst_mom of every period (``params.top_n`` rows each).

    ``values``, ``cls``, ``exceed``: (n_cells, n_periods) in the order of ``cells`` (sorted
    uint64 H3 ids) and ``periods`` (:class:`spatial.periods.Period`, sorted); ``loc`` the
    county/township of each cell; ``clng``/``clat`` the cell centres (degrees). A change list
    compares a period with the same period a year before (yoy, ``Period.last_year``) or the
    period before of its type (mom, ``Period.previous``) when that is in ``periods``.
    """
    strs = h3grid.cells_to_str(cells)
    key = np.argsort(np.argsort(strs, kind="stable"), kind="stable")  # order of the id strings
    base = admin.cell_places(strs, loc, clng, clat)
    n = params.top_n
    labels = np.array([str(p) for p in periods], dtype=object)
    out = {"top_value": _top(base, values, exceed, cls, key, labels, n)}
    index = {p: j for j, p in enumerate(periods)}
    for name, before in (("worst_yoy", lambda p: p.last_year()),  # 同比
                         ("worst_mom", lambda p: p.previous())):  # 环比 (spatial.periods)
        pairs = [(j, index.get(before(p))) for j, p in enumerate(periods)]
        pairs = [(j, k) for j, k in pairs if k is not None]
        out[name] = _change(base, values, key, labels, pairs, n)
    return out


def _empty(cols: list[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})


def _top(base, values, exceed, cls, key, labels, n) -> pd.DataFrame:
    col, cell, rank = top_rows(values, key, n)
    if not col.size:
        return _empty(COLS_TOP)
    t = base.iloc[cell].reset_index(drop=True)
    t.insert(0, "rank", rank)
    t.insert(0, "period", labels[col])
    t["value"] = np.round(values[cell, col], 3)
    t["exceed_ratio"] = np.round(exceed[cell, col], 4)
    t["fdr_class"] = cls[cell, col].astype(np.int64)
    return t[COLS_TOP]


def _change(base, values, key, labels, pairs, n) -> pd.DataFrame:
    if not pairs or not len(values):
        return _empty(COLS_CHG)
    js = np.array([j for j, _ in pairs], dtype=np.int64)
    ks = np.array([k for _, k in pairs], dtype=np.int64)
    cur, prev = values[:, js], values[:, ks]
    d = cur - prev  # NaN unless both periods have a value
    c, cell, rank = top_rows(d, key, n)
    if not c.size:
        return _empty(COLS_CHG)
    t = base.iloc[cell].reset_index(drop=True)
    t.insert(0, "rank", rank)
    t.insert(0, "compared_with", labels[ks[c]])
    t.insert(0, "period", labels[js[c]])
    dv, pv = d[cell, c], prev[cell, c]
    t["value"] = np.round(cur[cell, c], 3)
    t["previous_value"] = np.round(pv, 3)
    t["change"] = np.round(dv, 3)
    with np.errstate(invalid="ignore", divide="ignore"):
        t["change_ratio"] = np.round(np.where(pv > 0, dv / pv, np.nan), 4)
    return t[COLS_CHG]
