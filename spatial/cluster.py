"""Spatio-temporal DBSCAN: group point events (satellite fire detections) into events.

Two detections are *neighbours* when their great-circle distance on a sphere of radius
:data:`EARTH_RADIUS_M` (the IUGG mean Earth radius, 6,371,008.8 m) is at most ``eps_m``
metres **and** their times differ by at most ``eps_s`` seconds. Events are DBSCAN clusters of
that neighbour relation; with the default ``min_samples=1`` every detection is a core point and
the events are exactly the connected components of the neighbour graph.

Why a sphere and not the WGS-84 ellipsoid: at Shandong's latitudes (34-39 N) the haversine on the
mean radius differs from the WGS-84 geodesic distance by at most 0.25 % (2.5 m at 1 km; worst
anywhere 0.56 %, north-south at the equator), which is irrelevant for deciding which fire
detections belong to one burning event, and it makes the space-only partition identical to
scikit-learn's ``DBSCAN(metric="haversine", eps=eps_m / R)``.

Algorithm (exact; O(n log n + candidate pairs) time, O(n + chunk) memory):

1. Every point becomes a unit vector ``p = (cos lat cos lng, cos lat sin lng, sin lat)``. On the
   sphere, great-circle distance ``d`` and chord length ``c = |p_i - p_j|`` are related by
   ``c = 2 sin(d / 2R)``, a monotone function, so ``d <= eps_m`` is *exactly*
   ``c <= 2 sin(eps_m / 2R)`` (and ``c**2 / 4`` is the haversine ``hav(d / R)`` itself).
   No map projection and no local metric approximation: poles and the antimeridian need no
   special case, and a dataset spanning all of China is as exact as one county.
2. The unit vectors are expressed in a rotated orthonormal frame whose third axis points at the
   data's mean direction. No coordinate of a difference vector exceeds its length, so two
   neighbours differ by at most ``c_eps`` in every rotated coordinate. Bucketing the two tangent
   coordinates (plus the radial one when points lie more than 60 degrees from the centre, where
   the orthographic view folds) into cells of width ``c_eps * (1 + 1e-6) + 1e-12``, and time
   into bins of width ``eps_s * (1 + 1e-6) + 1e-3`` s, therefore puts every neighbour pair into
   adjacent cells (indices differing by at most 1 in each dimension). The margins exceed float
   rounding by orders of magnitude, so the bucketing is conservative. (If the integer cell key
   would overflow int64, cells are widened, which stays conservative.)
3. Points are sorted by cell key. The cells at offsets -1/0/+1 along the last key dimension have
   consecutive keys, so a point's candidates for one "row" of offsets are a contiguous range of
   the sorted array. Half of the rows are visited (each unordered pair once). Candidate pairs
   are expanded in chunks of about ``_CHUNK_PAIRS`` (one point's row is never split, so a chunk
   is also bounded by n) and decided by the exact chord (= haversine) and time test.
4. Accepted edges go to :func:`scipy.sparse.csgraph.connected_components`. When more than
   ``max(2 n, 2**24)`` edges are stored they are replaced by a spanning forest of the components
   found so far, so memory stays O(n) however dense the neighbour graph is.

With ``min_samples > 1`` (DBSCAN proper): core points have at least ``min_samples`` neighbours,
the point itself included (scikit-learn's convention); clusters are the connected components of
the core-core edges. A border point (not core, with a core neighbour) joins the cluster that
scikit-learn gives it: among the clusters of its core neighbours, the one whose smallest core
point (in input order) comes first -- scikit-learn expands clusters from seeds taken in input
order and a border point keeps the first label that reaches it. Other points are noise (-1).
Labels are renumbered 0..k-1 in order of first appearance in the input, so results do not depend
on internal ordering.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from itertools import product

import numpy as np
import pandas as pd
from scipy.sparse import coo_array
from scipy.sparse.csgraph import connected_components

from .errors import InputError
from .geodesy import EARTH_RADIUS_M  # the sphere the neighbour distance is measured on

log = logging.getLogger(__name__)


_CHUNK_PAIRS = 1 << 22  # candidate pairs decided per chunk (memory bound, ~200 MB of temporaries)
_MIN_EDGE_BUDGET = 1 << 24  # edges stored before compressing to a spanning forest (times 2 n)
_REL_MARGIN = 1e-6  # relative widening of bucket sizes (conservative bucketing)
_ABS_MARGIN_CHORD = 1e-12  # absolute widening, unit-sphere chord units (~6 micrometres)
_ABS_MARGIN_S = 1e-3  # absolute widening of time bins, seconds
_FOLD_COS = 0.5  # add the radial coordinate to the key when a point is > 60 deg from the centre


def st_dbscan(
    lat: np.ndarray,
    lng: np.ndarray,
    t: np.ndarray | None = None,
    *,
    eps_m: float = 1000.0,
    eps_s: float | None = 86400.0,
    min_samples: int = 1,
) -> np.ndarray:
    """Cluster point events in space and time (DBSCAN on haversine distance and time gap).

    Parameters
    ----------
    lat, lng
        Latitude and longitude in degrees (WGS-84), 1-D, same length; ``lat`` first (h3 order).
    t
        Times, same length: numbers in seconds (e.g. int64 Unix epoch seconds), or datetime64
        or pandas datetimes (naive or tz-aware; only differences matter). ``None`` clusters in
        space only.
    eps_m
        Neighbour distance in metres, measured along the great circle on a sphere of radius
        :data:`EARTH_RADIUS_M`; pairs at exactly ``eps_m`` are neighbours. Must be > 0.
    eps_s
        Neighbour time window in seconds (``|t_i - t_j| <= eps_s``); ``None`` ignores ``t``
        (space only). Must be >= 0.
    min_samples
        Neighbours (the point itself included) a point needs to be a core point. The default 1
        makes every detection a member of an event (the events are the connected components of the
        neighbour graph); larger values give DBSCAN noise (-1).

    Returns
    -------
    numpy.ndarray
        int64 labels, one per input point: 0..k-1 numbered in order of first appearance in the
        input, -1 for noise (only possible with ``min_samples > 1``).

    Raises
    ------
    InputError
        If the arrays differ in length, hold NaN/NaT or infinite values, latitudes lie outside
        [-90, 90], or a parameter is out of range.

    Notes
    -----
    The partition is exactly that of a brute-force O(n^2) evaluation of the neighbour relation
    (up to float rounding of the distance, about 1e-12 relative, i.e. nanometres at 1 km); see the
    module docstring for the algorithm and why the bucketing is conservative. Memory is O(n) plus
    fixed-size chunks of candidate pairs. Time grows with the number of candidate pairs, about
    four times the number of neighbour pairs: as for any exact DBSCAN, m detections at one spot
    within ``eps_s`` of each other cost m^2 / 2 pair tests (``min_samples > 1`` takes three
    passes over the pairs instead of one).

    Examples
    --------
    >>> lat = np.array([36.0, 36.0, 36.0])
    >>> lng = np.array([117.0, 117.01, 117.5])  # 0.01 deg of longitude at 36N is ~900 m
    >>> t = np.array([0, 3600, 0])
    >>> st_dbscan(lat, lng, t, eps_m=1000.0, eps_s=86400.0).tolist()
    [0, 0, 1]
    >>> st_dbscan(lat, lng, t, eps_m=1000.0, eps_s=600.0).tolist()
    [0, 1, 2]
    """
    lat, lng = _as_coords(lat, lng)
    n = lat.size
    eps_m = _check_positive("eps_m", eps_m, allow_zero=False)
    if isinstance(min_samples, bool) or not isinstance(min_samples, int | np.integer):
        raise InputError(f"min_samples must be an integer >= 1, got {min_samples!r}.")
    if min_samples < 1:
        raise InputError(f"min_samples must be >= 1, got {min_samples}; use 1 to keep every point.")
    tsec = None
    if t is not None and eps_s is not None:
        eps_s = _check_positive("eps_s", eps_s, allow_zero=True)
        tsec = _as_seconds(t, n)
    if n == 0:
        return np.empty(0, dtype=np.int64)
    if n == 1:
        return np.array([0 if min_samples <= 1 else -1], dtype=np.int64)

    grid = _Grid(lat, lng, tsec, eps_m=eps_m, eps_s=eps_s)
    if min_samples == 1:
        comp = _components(n, grid.neighbour_pairs())
        labels_sorted = comp
    else:
        labels_sorted = _dbscan_labels(grid, min_samples)
    labels = np.empty(n, dtype=np.int64)
    labels[grid.order] = labels_sorted
    labels = _renumber_first_appearance(labels)
    log.info(
        "Clustered %d points into %d clusters (eps %.1f m, %s, min_samples %d; "
        "%d candidate pairs, %d neighbour pairs)",
        n,
        int(labels.max()) + 1 if n else 0,
        eps_m,
        "space only" if tsec is None else f"window {eps_s:g} s",
        min_samples,
        grid.n_candidates,
        grid.n_neighbours,
    )
    return labels


# --------------------------------------------------------------------------------------------------
# input handling


def _as_coords(lat: np.ndarray, lng: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lat = np.asarray(lat, dtype=np.float64)
    lng = np.asarray(lng, dtype=np.float64)
    if lat.ndim != 1 or lng.ndim != 1 or lat.shape != lng.shape:
        raise InputError(
            f"lat and lng must be 1-D arrays of the same length, got shapes {lat.shape} and "
            f"{lng.shape}; pass one latitude and one longitude per point."
        )
    for name, arr in (("lat", lat), ("lng", lng)):
        bad = np.flatnonzero(~np.isfinite(arr))
        if bad.size:
            raise InputError(
                f"{name} has {bad.size} missing or infinite values (positions {bad[:5].tolist()}); "
                "drop or fix those points before clustering."
            )
    bad = np.flatnonzero(np.abs(lat) > 90.0)
    if bad.size:
        raise InputError(
            f"lat has {bad.size} values outside [-90, 90] (e.g. {lat[bad[0]]:g} at position "
            f"{bad[0]}); latitude and longitude look swapped — pass lat first, then lng."
        )
    return lat, lng


def _check_positive(name: str, value: float, *, allow_zero: bool) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a number, got {value!r}.") from None
    if not np.isfinite(v) or v < 0 or (v == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise InputError(f"{name} must be a finite number {bound}, got {value!r}.")
    return v


def _as_seconds(t: np.ndarray, n: int) -> np.ndarray:
    """Times as float64 seconds; datetimes relative to their minimum (whole seconds stay exact)."""
    if isinstance(t, pd.Series | pd.Index) and pd.api.types.is_datetime64_any_dtype(t.dtype):
        ns = np.asarray(pd.DatetimeIndex(t).as_unit("ns").asi8)
        missing = np.asarray(pd.isna(t))
    else:
        arr = np.asarray(t)
        if arr.dtype.kind == "M":
            missing = np.isnat(arr)
            ns = arr.astype("datetime64[ns]").astype(np.int64)
        elif arr.dtype.kind in "iuf":
            ns = None
            sec = arr.astype(np.float64)
            missing = ~np.isfinite(sec)
        else:
            raise InputError(
                f"t must be numbers in seconds or datetimes, got dtype {arr.dtype}; "
                "convert with pandas.to_datetime first."
            )
    if np.shape(missing) != (n,):
        raise InputError(
            f"t must have one value per point: got shape {np.shape(missing)}, expected ({n},)."
        )
    bad = np.flatnonzero(missing)
    if bad.size:
        raise InputError(
            f"t has {bad.size} missing or infinite values (positions {bad[:5].tolist()}); "
            "drop those points or pass t=None to cluster in space only."
        )
    if ns is not None:
        sec = (ns - ns.min()).astype(np.float64) / 1e9
    return sec


def _renumber_first_appearance(labels: np.ndarray) -> np.ndarray:
    """Relabel non-negative labels 0..k-1 in order of first appearance (O(n), no sort of n)."""
    keep = labels >= 0
    if not keep.any():
        return labels
    pos = np.flatnonzero(keep)
    kept = labels[pos]
    first = np.full(int(kept.max()) + 1, labels.size, dtype=np.int64)
    np.minimum.at(first, kept, pos)
    used = np.flatnonzero(first < labels.size)
    new = np.empty(first.size, dtype=np.int64)
    new[used[np.argsort(first[used])]] = np.arange(used.size)
    out = labels.copy()
    out[pos] = new[kept]
    return out


# --------------------------------------------------------------------------------------------------
# buckets and candidate pairs


class _Grid:
    """Points sorted by a conservative bucket key, and the exact neighbour test on them."""

    def __init__(
        self,
        lat: np.ndarray,
        lng: np.ndarray,
        tsec: np.ndarray | None,
        *,
        eps_m: float,
        eps_s: float | None,
    ) -> None:
        n = lat.size
        phi = np.radians(lat)
        lam = np.radians(lng)
        cphi = np.cos(phi)
        xyz = np.empty((3, n))  # rows x, y, z of the unit vectors
        np.multiply(cphi, np.cos(lam), out=xyz[0])
        np.multiply(cphi, np.sin(lam), out=xyz[1])
        np.sin(phi, out=xyz[2])
        del phi, lam, cphi
        half_angle = min(eps_m / (2.0 * EARTH_RADIUS_M), np.pi / 2)
        chord = 2.0 * np.sin(half_angle)
        self.chord2 = chord * chord
        self.eps_s = eps_s

        # rotated frame: e3 at the mean direction, e1/e2 tangent there
        centre = xyz.mean(axis=1)
        norm = np.linalg.norm(centre)
        e3 = centre / norm if norm > 1e-9 else np.array([0.0, 0.0, 1.0])
        helper = np.array([1.0, 0.0, 0.0]) if abs(e3[0]) < 0.9 else np.array([0.0, 1.0, 0.0])
        e1 = np.cross(e3, helper)
        e1 /= np.linalg.norm(e1)
        e2 = np.cross(e3, e1)
        cols = [e1 @ xyz, e2 @ xyz]
        radial = e3 @ xyz
        if radial.min() < _FOLD_COS:
            cols.append(radial)
        del radial
        width_c = chord * (1.0 + _REL_MARGIN) + _ABS_MARGIN_CHORD
        widths = [width_c] * len(cols)
        if tsec is not None:
            cols.insert(0, tsec)
            widths.insert(0, eps_s * (1.0 + _REL_MARGIN) + _ABS_MARGIN_S)

        idx, nbins = _bin(cols, widths)
        strides = [1] * len(idx)
        for d in range(len(idx) - 2, -1, -1):
            strides[d] = strides[d + 1] * nbins[d + 1]
        keys = idx[-1].copy()
        for d in range(len(idx) - 1):
            keys += idx[d] * strides[d]
        del idx, cols

        order = np.argsort(keys)
        keys = keys[order]
        self.order = order
        self.n = n
        self.xyz = xyz[:, order]  # (3, n), sorted
        self.t = None if tsec is None else tsec[order]
        new_cell = np.empty(n, dtype=bool)
        new_cell[0] = True
        np.not_equal(keys[1:], keys[:-1], out=new_cell[1:])
        starts = np.flatnonzero(new_cell)
        self.ukeys = keys[starts]
        self.bounds = np.append(starts, n)  # points of cell a: bounds[a]:bounds[a + 1]
        cell_dtype = np.int32 if starts.size < 2**31 else np.int64
        self.cell = (np.cumsum(new_cell, dtype=np.int64) - 1).astype(cell_dtype)
        del keys, new_cell
        # rows: offsets in all but the last key dimension; the last one spans 3 consecutive keys
        rows = set()
        for delta in product((-1, 0, 1), repeat=len(strides) - 1):
            rk = sum(dd * s for dd, s in zip(delta, strides[:-1], strict=True))
            if rk >= 0:
                rows.add(rk)
        self.rows = sorted(rows)
        self.n_candidates = 0
        self.n_neighbours = 0
        log.debug(
            "Bucketed %d points into %d cells (%d key dimensions, %d rows)",
            n,
            self.ukeys.size,
            len(strides),
            len(self.rows),
        )

    def neighbour_pairs(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield chunks ``(i, j)`` of neighbour pairs, indices into the sorted order, ``i != j``.

        Every unordered neighbour pair is yielded exactly once.
        """
        self.n_candidates = 0
        self.n_neighbours = 0
        n = self.n
        idx_dtype = np.int32 if n < 2**31 else np.int64
        for rk in self.rows:
            # points of the cells with keys in [key + rk - 1, key + rk + 1] form one range
            hi_cell = self.bounds[np.searchsorted(self.ukeys, self.ukeys + (rk + 1), side="right")]
            if rk == 0:
                lo_cell = None  # j > i: the previous cell's pairs come from its own row 0
                counts = hi_cell[self.cell] - np.arange(1, n + 1)
            else:
                lo_cell = self.bounds[
                    np.searchsorted(self.ukeys, self.ukeys + (rk - 1), side="left")
                ]
                counts = hi_cell[self.cell] - lo_cell[self.cell]
            cum = np.cumsum(counts)
            total = int(cum[-1])
            if total == 0:
                continue
            self.n_candidates += total
            p0 = 0
            done = 0
            while p0 < n:
                p1 = int(np.searchsorted(cum, done + _CHUNK_PAIRS, side="right"))
                p1 = max(p1, p0 + 1)
                c = counts[p0:p1]
                tot = int(cum[p1 - 1]) - done
                if tot:
                    if lo_cell is None:
                        lo = np.arange(p0 + 1, p1 + 1)
                    else:
                        lo = lo_cell[self.cell[p0:p1]]
                    # j = lo + (position within the point's run)
                    base = lo - (cum[p0:p1] - c - done)
                    j = np.repeat(base, c)
                    j += np.arange(tot)
                    j = j.astype(idx_dtype, copy=False)
                    keep = self._exact(p0, p1, c, j)
                    i = np.repeat(np.arange(p0, p1, dtype=idx_dtype), c)[keep]
                    j = j[keep]
                    self.n_neighbours += i.size
                    if i.size:
                        yield i, j
                done = int(cum[p1 - 1])
                p0 = p1

    def _exact(self, p0: int, p1: int, c: np.ndarray, j: np.ndarray) -> np.ndarray:
        """Exact test of the pairs (i, j), i = points p0..p1-1 each repeated c times.

        Neighbours: chord (equivalently haversine) distance and time gap within eps.
        """
        x = self.xyz
        d = np.repeat(x[0, p0:p1], c)  # the i side is a run: repeat instead of gather
        d -= x[0, j]
        d2 = d * d
        for axis in (1, 2):
            d = np.repeat(x[axis, p0:p1], c)
            d -= x[axis, j]
            d *= d
            d2 += d
        keep = d2 <= self.chord2
        if self.t is not None:
            d = np.repeat(self.t[p0:p1], c)
            d -= self.t[j]
            np.abs(d, out=d)
            keep &= d <= self.eps_s
        return keep


def _bin(cols: list[np.ndarray], widths: list[float]) -> tuple[list[np.ndarray], list[int]]:
    """Integer bins (1-based, one empty bin of padding each side) whose key product fits int64.

    When the bins' product would overflow, the widest dimension's bins are doubled, which keeps the
    bucketing conservative (bins only grow).
    """
    lows = [float(c.min()) for c in cols]
    spans = [float(c.max()) - lo for c, lo in zip(cols, lows, strict=True)]
    widths = list(widths)
    while True:
        nbins = [int(np.floor(s / w)) + 3 for s, w in zip(spans, widths, strict=True)]
        total = 1
        for b in nbins:
            total *= b
        if total < 2**62:
            break
        d = int(np.argmax(nbins))
        widths[d] *= 2.0
    idx = [
        np.floor((c - lo) / w).astype(np.int64) + 1
        for c, lo, w in zip(cols, lows, widths, strict=True)
    ]
    return idx, nbins


# --------------------------------------------------------------------------------------------------
# components


def _components(
    n: int,
    pairs: Iterator[tuple[np.ndarray, np.ndarray]],
    mask: np.ndarray | None = None,
) -> np.ndarray:
    """Connected-component labels of the graph on ``n`` nodes whose edges are ``pairs``.

    With ``mask``, only edges between masked nodes are used. Edges are compressed to a spanning
    forest whenever more than ``max(2 n, _MIN_EDGE_BUDGET)`` are stored.
    """
    budget = max(2 * n, _MIN_EDGE_BUDGET)
    parts_i: list[np.ndarray] = []
    parts_j: list[np.ndarray] = []
    stored = 0
    for i, j in pairs:
        if mask is not None:
            keep = mask[i] & mask[j]
            i = i[keep]
            j = j[keep]
        parts_i.append(i)
        parts_j.append(j)
        stored += i.size
        if stored > budget:
            labels = _cc(n, parts_i, parts_j)
            fi, fj = _spanning_forest(labels)
            parts_i, parts_j, stored = [fi], [fj], fi.size
            log.debug("Compressed neighbour edges to a spanning forest of %d edges", stored)
    return _cc(n, parts_i, parts_j)


def _cc(n: int, parts_i: list[np.ndarray], parts_j: list[np.ndarray]) -> np.ndarray:
    if parts_i:
        i = np.concatenate(parts_i)
        j = np.concatenate(parts_j)
    else:
        i = j = np.empty(0, dtype=np.int32)
    graph = coo_array((np.ones(i.size, dtype=np.int8), (i, j)), shape=(n, n)).tocsr()
    del i, j
    _, labels = connected_components(graph, directed=False)
    return labels.astype(np.int64, copy=False)


def _spanning_forest(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Edges joining every node to the first node of its component (a star per component)."""
    first = np.full(int(labels.max()) + 1, labels.size, dtype=np.int64)
    np.minimum.at(first, labels, np.arange(labels.size))
    rep = first[labels]
    nodes = np.flatnonzero(rep != np.arange(labels.size))
    dtype = np.int32 if labels.size < 2**31 else np.int64
    return nodes.astype(dtype), rep[nodes].astype(dtype)


def _dbscan_labels(grid: _Grid, min_samples: int) -> np.ndarray:
    """DBSCAN labels in sorted order (clusters numbered arbitrarily, -1 noise); see module doc."""
    n = grid.n
    degree = np.ones(n, dtype=np.int64)  # the point itself
    for i, j in grid.neighbour_pairs():
        degree += np.bincount(i, minlength=n)
        degree += np.bincount(j, minlength=n)
    core = degree >= min_samples
    del degree
    comp = _components(n, grid.neighbour_pairs(), mask=core)
    # rank clusters as scikit-learn numbers them: by their smallest core point in input order
    sentinel = np.iinfo(np.int64).max
    seed = np.full(n, sentinel, dtype=np.int64)
    np.minimum.at(seed, comp[core], grid.order[core])
    rank = np.full(n, sentinel, dtype=np.int64)
    seeds_used = np.flatnonzero(seed < sentinel)
    rank[seeds_used[np.argsort(seed[seeds_used])]] = np.arange(seeds_used.size)
    labels = np.where(core, rank[comp], sentinel)
    # border points: the best-ranked cluster among their core neighbours
    for i, j in grid.neighbour_pairs():
        ci = core[i]
        cj = core[j]
        sel = ci & ~cj  # j border, i core
        np.minimum.at(labels, j[sel], rank[comp[i[sel]]])
        sel = cj & ~ci
        np.minimum.at(labels, i[sel], rank[comp[j[sel]]])
    labels[labels == sentinel] = -1
    return labels
