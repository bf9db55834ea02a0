"""Tests of spatial.stats against esda/libpysal, scipy, brute force and hand computations."""

import warnings

import h3
import numpy as np
import pytest
from conftest import optional_module
from scipy import stats as sps

from spatial import h3grid, stats
from spatial.errors import InputError

esda = optional_module("esda")
libpysal = optional_module("libpysal")

JINING = h3.latlng_to_cell(35.41, 116.59, 9)  # h3 takes (lat, lng)


def _ints(cells):
    return np.array([h3.str_to_int(c) for c in cells], dtype=np.uint64)


@pytest.fixture(scope="module")
def patch():
    """~250 res-9 cells near Jining: a disk with a ragged edge, a hole, and one isolated cell."""
    keep = []
    for c in h3.grid_disk(JINING, 9):
        d = h3.grid_distance(JINING, c)
        v = h3.str_to_int(c)
        if (d == 9 and v % 3 == 0) or (d == 8 and v % 7 == 0) or (d == 2 and v % 2 == 0):
            continue
        keep.append(c)
    isolated = h3.grid_ring(JINING, 13)[0]
    cells = _ints(keep + [isolated])
    rng = np.random.default_rng(42)
    ll = np.array([h3.cell_to_latlng(h3.int_to_str(int(c))) for c in cells])
    field = 60 + 400 * (ll[:, 0] - 35.40) + 300 * (ll[:, 1] - 116.58)  # smooth PM2.5 gradient
    values = field + rng.normal(0, 4, cells.size)
    return cells, values


def _brute_neighbours(cells, k, self_weight=True):
    """Neighbour dict {row: [cols]} from h3.grid_disk per cell and a set lookup."""
    where = {int(c): i for i, c in enumerate(cells)}
    out = {}
    for i, c in enumerate(cells):
        disk = (h3.str_to_int(x) for x in h3.grid_disk(h3.int_to_str(int(c)), k))
        out[i] = sorted(where[d] for d in disk if d in where and (self_weight or where[d] != i))
    return out


def _esda_z(values, neighbours, transform):
    w = libpysal.weights.W(neighbours, silence_warnings=True)
    return esda.G_Local(values, w, transform=transform, star=True, permutations=0).Zs


# ---------------------------------------------------------------- ring_weights


def test_ring_weights_equal_brute_force_on_ragged_patch(patch):
    cells, _ = patch
    for k in (1, 2):
        w = stats.ring_weights(cells, k=k)
        got = {i: list(w.indices[w.indptr[i] : w.indptr[i + 1]]) for i in range(cells.size)}
        assert got == _brute_neighbours(cells, k)
        assert set(np.unique(w.data)) == {1.0}
        assert (w != w.T).nnz == 0
    w = stats.ring_weights(cells, k=1)
    counts = np.diff(w.indptr)
    assert counts[-1] == 1  # the isolated cell has only itself
    assert counts.max() == 7 and counts.min() == 1


def test_ring_weights_around_a_pentagon_and_without_self():
    pent = h3.get_pentagons(9)[0]
    cells = _ints(h3.grid_disk(pent, 3))[::-1]  # not sorted on purpose
    w = stats.ring_weights(cells, k=1, self_weight=False)
    got = {i: list(w.indices[w.indptr[i] : w.indptr[i + 1]]) for i in range(cells.size)}
    assert got == _brute_neighbours(cells, 1, self_weight=False)
    i_pent = int(np.flatnonzero(cells == h3.str_to_int(pent))[0])
    assert len(got[i_pent]) == 5
    assert w.diagonal().sum() == 0


def test_ring_weights_sorted_and_unsorted_input_agree(patch):
    cells, _ = patch
    order = np.argsort(cells)
    w_sorted = stats.ring_weights(cells[order], k=2)
    w = stats.ring_weights(cells, k=2)
    assert (w[order][:, order] != w_sorted).nnz == 0


def test_ring_weights_slow_path_matches_fast_path(patch, monkeypatch):
    cells, _ = patch
    w_fast = stats.ring_weights(cells, k=2)
    monkeypatch.setattr(h3grid, "_h3ronpy", None)  # the disks of h3grid.grid_disks, plain h3
    w_slow = stats.ring_weights(cells, k=2)
    assert (w_fast != w_slow).nnz == 0
    assert {tuple(r) for r in np.argwhere(w_slow.toarray())} == {
        (i, j) for i in range(cells.size) for j in _brute_neighbours(cells, 2)[i]}


@pytest.mark.parametrize(
    "bad, match",
    [
        (np.array(["89283082837ffff"]), "strings"),
        (np.array([5, 6], dtype=np.uint64), "invalid"),
        (_ints([JINING, JINING]), "duplicate"),
        (_ints([JINING, h3.cell_to_parent(JINING, 8)]), "resolutions"),
    ],
)
def test_ring_weights_rejects_bad_cells(bad, match):
    with pytest.raises(InputError, match=match):
        stats.ring_weights(bad)


# ---------------------------------------------------------------- gi_star


@pytest.mark.parametrize("transform", ["B", "R"])
def test_gi_star_equals_esda(patch, transform):
    cells, values = patch
    w = stats.ring_weights(cells, k=1)
    z, p = stats.gi_star(values, w, transform=transform)
    ref = _esda_z(values, _brute_neighbours(cells, 1), transform)
    np.testing.assert_allclose(z, ref, rtol=0, atol=1e-9)
    assert np.isfinite(z).all()  # the isolated cell and the ragged edge included
    np.testing.assert_allclose(p, 2 * sps.norm.sf(np.abs(ref)), rtol=1e-12)  # two-sided


def test_gi_star_fills_an_all_zero_diagonal(patch):
    cells, values = patch
    z_self, _ = stats.gi_star(values, stats.ring_weights(cells, self_weight=True))
    z_noself, _ = stats.gi_star(values, stats.ring_weights(cells, self_weight=False))
    np.testing.assert_array_equal(z_self, z_noself)


def test_gi_star_row_standardized_is_local_mean_minus_mean_over_sd(patch):
    # documents what esda's "R" z-score reduces to (see the gi_star Notes)
    cells, values = patch
    w = stats.ring_weights(cells, k=1).toarray()
    z, _ = stats.gi_star(values, w, transform="R")
    local_mean = (w @ values) / w.sum(axis=1)
    np.testing.assert_allclose(z, (local_mean - values.mean()) / values.std(), atol=1e-9)


def test_gi_star_drops_nan_cells_like_esda_on_the_subset(patch):
    cells, values = patch
    y = values.copy()
    nan_rows = np.array([0, 5, 6, 50, 51, 52, 100, cells.size - 1])  # includes the isolated cell
    y[nan_rows] = np.nan
    z, p = stats.gi_star(y, stats.ring_weights(cells, k=1))
    keep = np.setdiff1d(np.arange(cells.size), nan_rows)
    ref = _esda_z(values[keep], _brute_neighbours(cells[keep], 1), "B")
    np.testing.assert_allclose(z[keep], ref, rtol=0, atol=1e-9)
    assert np.isnan(z[nan_rows]).all() and np.isnan(p[nan_rows]).all()


def test_gi_star_degenerate_inputs_give_nan_without_warnings(patch):
    cells, _ = patch
    w = stats.ring_weights(cells, k=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        z, p = stats.gi_star(np.full(cells.size, 37.5), w)  # zero variance
        assert np.isnan(z).all() and np.isnan(p).all()
        y = np.full(cells.size, np.nan)
        y[3] = 10.0
        z, _ = stats.gi_star(y, w)  # a single cell with data
        assert np.isnan(z).all()
        z, _ = stats.gi_star(np.array([1.0, 3.0]), np.ones((2, 2)))  # neighbourhood = everything
        assert np.isnan(z).all()
    with pytest.raises(InputError, match="shape"):
        stats.gi_star(np.ones(3), w)
    with pytest.raises(InputError, match="transform"):
        stats.gi_star(np.ones(cells.size), w, transform="V")


# ---------------------------------------------------------------- fdr_classes


def test_fdr_classes_hand_computation():
    # Benjamini-Hochberg by hand, m = 10 finite p-values, alpha = 0.05, threshold k * 0.005:
    #   rank k : 1      2      3      4      5      6      7      8      9      10
    #   p_(k)  : 0.004  0.013  0.014  0.190  0.350  0.500  0.630  0.670  0.750  0.810
    #   k*.005 : 0.005  0.010  0.015  0.020  0.025  0.030  0.035  0.040  0.045  0.050
    #   p<=thr : yes    no     yes    no     no     no     no     no     no     no
    # the LARGEST passing rank is 3 -> the three smallest p are significant (step-up: rank 2
    # fails its own comparison but is still rejected). The NaN is not counted in m.
    p = np.array([0.500, 0.014, 0.810, 0.004, np.nan, 0.190, 0.013, 0.630, 0.350, 0.750, 0.670])
    z = np.array([0.67, -2.46, 0.24, 2.88, 1.0, 1.31, 2.48, -0.48, 0.93, -0.32, 0.43])
    expected = np.array([0, -1, 0, 1, 0, 0, 1, 0, 0, 0, 0], dtype=np.int8)
    got = stats.fdr_classes(z, p, alpha=0.05)
    assert got.dtype == np.int8
    np.testing.assert_array_equal(got, expected)
    # independent check: scipy's BH-adjusted p-values <= alpha
    finite = np.isfinite(p)
    adj = sps.false_discovery_control(p[finite], method="bh")
    np.testing.assert_array_equal(got[finite] != 0, adj <= 0.05)
    # alpha 0.01 (thresholds k * 0.001): 0.004 > 0.001, 0.013 > 0.002, 0.014 > 0.003, ... -> none
    assert not stats.fdr_classes(z, p, alpha=0.01).any()
    # alpha 0.045 (k * 0.0045): 0.004 <= 0.0045 yes, 0.013 > 0.009, 0.014 > 0.0135, 0.19 > 0.018
    # ... -> only rank 1, the cell at position 3
    got = stats.fdr_classes(z, p, alpha=0.045)
    np.testing.assert_array_equal(np.flatnonzero(got), [3])


def test_fdr_classes_input_errors():
    with pytest.raises(InputError, match="alpha"):
        stats.fdr_classes(np.ones(3), np.ones(3), alpha=5)
    with pytest.raises(InputError, match="shape"):
        stats.fdr_classes(np.ones(3), np.ones(4))


# ---------------------------------------------------------------- mann_kendall


def _mk_brute(x):
    x = x[np.isfinite(x)]
    n = x.size
    s = sum(np.sign(x[j] - x[i]) for i in range(n) for j in range(i + 1, n))
    _, t = np.unique(x, return_counts=True)
    var = (n * (n - 1) * (2 * n + 5) - (t * (t - 1) * (2 * t + 5)).sum()) / 18
    z = 0.0 if s == 0 else (s - np.sign(s)) / np.sqrt(var)
    return s, var, z, 2 * sps.norm.sf(abs(z))


def test_mann_kendall_equals_brute_force_and_scipy():
    rng = np.random.default_rng(7)
    trend = np.linspace(0, 3, 14) * rng.choice([-1, 0, 1], (40, 1))
    x = np.round(rng.normal(0, 1.5, (40, 14)) + trend)  # rounded: many ties
    x[3, [2, 9]] = np.nan  # a few gaps
    x[8, 0] = np.nan
    res = stats.mann_kendall(x)
    for i in range(x.shape[0]):
        s, var, z, p = _mk_brute(x[i])
        assert res.s[i] == s
        assert res.var_s[i] == pytest.approx(var, rel=1e-12)
        assert res.z[i] == pytest.approx(z, rel=1e-12, abs=1e-15)
        assert res.p[i] == pytest.approx(p, rel=1e-9)
        ok = np.isfinite(x[i])
        kt = sps.kendalltau(np.arange(x.shape[1])[ok], x[i][ok], method="asymptotic")
        assert res.tau[i] == pytest.approx(kt.statistic, rel=1e-12)
        # scipy's asymptotic p has no continuity correction: S / sqrt(var)
        assert 2 * sps.norm.sf(abs(res.s[i]) / np.sqrt(res.var_s[i])) == pytest.approx(
            kt.pvalue, rel=1e-9
        )


def test_mann_kendall_degenerate_series():
    x = np.array([[2.0, 2.0, 2.0, 2.0], [1.0, np.nan, np.nan, np.nan]])
    res = stats.mann_kendall(x)
    assert np.isnan(res.z).all() and np.isnan(res.p).all()
    with pytest.raises(InputError, match="2-D"):
        stats.mann_kendall(np.arange(5.0))


# ---------------------------------------------------------------- emerging hot spots

N_T = 10
UP = np.linspace(2.5, 6.0, N_T)  # significant rising trend (Mann-Kendall S = 45)
FLAT = np.array([3.0, 4.0, 5.0, 4.5, 3.5, 3.5, 4.5, 5.0, 4.0, 3.0])  # palindrome: S = 0


def _case(cls, z=None):
    cls = np.asarray(cls, dtype=np.int8)
    if z is None:  # |z| 3 where significant, 0.5 elsewhere, sign from the class
        z = np.where(cls != 0, 3.0 * cls, 0.5)
    return np.asarray(z, dtype=float), cls


HOT_CASES = {
    "new hot spot": _case([0] * 9 + [1]),
    "consecutive hot spot": _case([0] * 7 + [1] * 3),
    "intensifying hot spot": _case([1] * N_T, UP),
    "persistent hot spot": _case([1] * N_T, FLAT),
    "diminishing hot spot": _case([1] * N_T, UP[::-1]),
    "sporadic hot spot": _case([0, 1, 0, 0, 1, 1, 0, 0, 1, 0]),
    "oscillating hot spot": _case([-1, -1, 0, 0, 1, 0, 0, 0, 0, 1]),
    "historical hot spot": _case([1] * 9 + [0], [4.0] * 9 + [0.5]),
}


def _cold(z, cls):
    return -z, (-cls).astype(np.int8)


CASES = dict(HOT_CASES)
CASES.update({k.replace("hot", "cold"): _cold(*v) for k, v in HOT_CASES.items()})
CASES["no pattern detected"] = _case([0] * N_T)
EXTRA = {  # further hand-built series and the category the definitions give them
    "sporadic, final period hot": (_case([1, 0, 0, 1, 0, 0, 0, 1, 1, 1]), "sporadic hot spot"),
    "hot then cold, neither at the end": (_case([1, 0, -1] + [0] * 7), "no pattern detected"),
    "8 of 9 hot in one final run": (_case([0, 1, 1, 1, 1, 1, 1, 1, 1]), "consecutive hot spot"),
    "9 of 10 hot, no trend": (_case([1, 0] + [1] * 8), "persistent hot spot"),
    "cold before, first hot at the end": (_case([-1] + [0] * 8 + [1]), "oscillating hot spot"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_emerging_category_per_definition(name):
    z, cls = CASES[name]
    got = stats.emerging_hotspot_categories(z[None, :], cls[None, :])
    assert got.tolist() == [name]


@pytest.mark.parametrize("label", list(EXTRA))
def test_emerging_category_edge_cases(label):
    (z, cls), expected = EXTRA[label]
    assert stats.emerging_hotspot_categories(z[None, :], cls[None, :]).tolist() == [expected]


def test_emerging_categories_vectorized_and_labelled():
    names = list(CASES)
    z = np.stack([CASES[k][0] for k in names])
    cls = np.stack([CASES[k][1] for k in names])
    got = stats.emerging_hotspot_categories(z, cls)
    assert got.tolist() == names
    assert set(names) == set(stats.CATEGORIES) == set(stats.CATEGORY_LABELS_ZH)
    assert stats.CATEGORY_LABELS_ZH["intensifying hot spot"] == "加剧热点"
    # the trend decides between intensifying / persistent / diminishing: check it independently
    assert sps.kendalltau(np.arange(N_T), UP).pvalue < 0.05
    assert sps.kendalltau(np.arange(N_T), FLAT).statistic == 0


def test_emerging_categories_input_errors():
    with pytest.raises(InputError, match="periods"):
        stats.emerging_hotspot_categories(np.zeros((3, 1)), np.zeros((3, 1), np.int8))
    with pytest.raises(InputError, match="shape"):
        stats.emerging_hotspot_categories(np.zeros((3, 4)), np.zeros((3, 5), np.int8))
