"""spatial.kendall (Kendall's S and tie sums) against a pair loop and scipy.stats.kendalltau."""

import numpy as np
import pytest
from scipy import stats as sps

from spatial import kendall, stats


def _pairs(row):
    """S and tie sums by the definition: every pair, every tie group, in plain Python."""
    v = [float(a) for a in row if np.isfinite(a)]
    s = sum((v[j] > v[i]) - (v[j] < v[i]) for i in range(len(v)) for j in range(i + 1, len(v)))
    groups = {}
    for a in v:
        groups[a] = groups.get(a, 0) + 1
    term = sum(t * (t - 1) * (2 * t + 5) for t in groups.values())
    pairs = sum(t * (t - 1) for t in groups.values())
    return s, len(v), term, pairs


@pytest.mark.parametrize("shape", [(40, 30), (7, 400), (12, 2), (3, 1), (0, 5)])
def test_s_and_ties_equal_the_pair_loop(shape):
    rng = np.random.default_rng(sum(shape))
    x = np.round(rng.normal(size=shape), 1)  # many ties
    x[rng.random(shape) < 0.15] = np.nan
    if shape[0] > 2:
        x[0] = np.nan  # all missing
        x[1] = 1.5  # all tied
    s = kendall.kendall_s(x, chunk=5)  # several blocks
    n, term, pairs = kendall.tie_sums(x)
    for i in range(shape[0]):
        assert (s[i], n[i], term[i], pairs[i]) == _pairs(x[i]), i


def test_mann_kendall_tau_is_scipy_tau_b():
    rng = np.random.default_rng(3)
    x = np.round(rng.normal(size=(25, 60)) + np.linspace(0, 1, 60), 1)
    x[rng.random(x.shape) < 0.1] = np.nan
    res = stats.mann_kendall(x)
    for i in range(len(x)):
        ok = np.isfinite(x[i])
        tau, _ = sps.kendalltau(np.flatnonzero(ok), x[i, ok])
        assert res.tau[i] == pytest.approx(tau, abs=1e-12)


def test_emerging_categories_take_the_callers_trend():
    rng = np.random.default_rng(5)
    z = rng.normal(size=(50, 20)) + np.linspace(-1, 3, 20)
    cls = np.where(z > 1.96, 1, np.where(z < -1.96, -1, 0)).astype(np.int8)
    mk = stats.mann_kendall(z)
    a = stats.emerging_hotspot_categories(z, cls)
    b = stats.emerging_hotspot_categories(z, cls, trend=mk)
    assert a.tolist() == b.tolist()
