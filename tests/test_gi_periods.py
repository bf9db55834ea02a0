"""spatial.gi_periods: all periods at once, bit-identical to gi_star and fdr_classes per period."""

import h3.api.basic_int as h3i
import numpy as np
import pytest

from spatial import gi_periods, stats


def _case(n_t, seed):
    centre = h3i.latlng_to_cell(36.45, 115.98, 7)  # (lat, lng), Liaocheng
    cells = np.array(sorted(h3i.grid_disk(centre, 12)), dtype=np.uint64)
    rng = np.random.default_rng(seed)
    v = np.round(rng.gamma(4, 12, size=(len(cells), n_t)), 3)
    v[:40, 3] += 80  # a hot blob in one period
    v[rng.random(v.shape) < 0.02] = np.nan  # scattered gaps: many NaN patterns
    v[:, 5] = np.nan  # an empty period
    v[:, 6] = 42.0  # all equal: NaN z
    v[1:, 7] = np.nan  # one cell only
    v[200:, 8:12] = np.nan  # a shared pattern of several periods
    return cells, v


@pytest.mark.parametrize("seed", [0, 1])
def test_columns_equal_one_call_per_period(seed):
    cells, v = _case(20, seed)
    w = stats.ring_weights(cells, k=1)
    z, p = gi_periods.gi_star_columns(v, w)
    cls = gi_periods.fdr_columns(z, p, alpha=0.05)
    for j in range(v.shape[1]):
        zj, pj = stats.gi_star(v[:, j], w)
        assert np.array_equal(z[:, j], zj, equal_nan=True), j
        assert np.array_equal(p[:, j], pj, equal_nan=True), j
        assert np.array_equal(cls[:, j], stats.fdr_classes(zj, pj, alpha=0.05)), j
    assert (cls[:, 3] == 1).sum() > 10  # the blob is found


def test_engine_uses_it_with_the_same_results():
    from spatial.engine import LocalEngine

    cells, v = _case(9, 2)
    w = stats.ring_weights(cells, k=1)
    z, p, cls = LocalEngine().gi_star_periods(v, w, alpha=0.1)
    for j in range(v.shape[1]):
        zj, pj = stats.gi_star(v[:, j], w)
        assert np.array_equal(z[:, j], zj, equal_nan=True)
        assert np.array_equal(cls[:, j], stats.fdr_classes(zj, pj, alpha=0.1))
