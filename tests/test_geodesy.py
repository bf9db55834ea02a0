"""Exact geodesic queries against pyproj.Geod brute force over all pairs."""

import numpy as np
import pytest
from pyproj import Geod

from spatial import geodesy

G = Geod(ellps="WGS84")


def brute(a_lng, a_lat, b_lng, b_lat):
    na, nb = len(a_lng), len(b_lng)
    return G.inv(np.repeat(a_lng, nb), np.repeat(a_lat, nb), np.tile(b_lng, na),
                 np.tile(b_lat, na))[2].reshape(na, nb)


@pytest.fixture
def points():
    rng = np.random.default_rng(7)
    b_lng, b_lat = rng.uniform(114.8, 122.7, 40), rng.uniform(34.4, 38.4, 40)
    a_lng, a_lat = rng.uniform(114.8, 122.7, 3000), rng.uniform(34.4, 38.4, 3000)
    # points placed metres either side of 30 km from b[0] and b[1], in many directions
    for j, d in enumerate([29_990.0, 30_010.0, 29_999.9, 30_000.1, 30_000.0]):
        for az in (0.0, 45.0, 90.0, 200.0, 315.0):
            x, y, _ = G.fwd(b_lng[j % 2], b_lat[j % 2], az, d)
            a_lng, a_lat = np.append(a_lng, x), np.append(a_lat, y)
    # a point exactly on a plant
    a_lng, a_lat = np.append(a_lng, b_lng[3]), np.append(a_lat, b_lat[3])
    return a_lng, a_lat, b_lng, b_lat


def test_pairs_within_equals_brute_force(points):
    a_lng, a_lat, b_lng, b_lat = points
    ia, ib, d = geodesy.pairs_within(a_lng, a_lat, b_lng, b_lat, distance=30_000.0)
    full = brute(a_lng, a_lat, b_lng, b_lat)
    want_a, want_b = np.nonzero(full <= 30_000.0)
    assert np.array_equal(ia, want_a) and np.array_equal(ib, want_b)
    np.testing.assert_allclose(d, full[want_a, want_b], rtol=0, atol=1e-6)
    assert len(ia) > 100  # the test is not vacuous


def test_nearest_equals_brute_force_with_exclusion(points):
    a_lng, a_lat, b_lng, b_lat = points
    full = brute(a_lng, a_lat, b_lng, b_lat)
    ib, d = geodesy.nearest(a_lng, a_lat, b_lng, b_lat)
    assert np.array_equal(ib, full.argmin(axis=1))
    np.testing.assert_allclose(d, full.min(axis=1), atol=1e-6)
    # exclude: point i may not be matched to b with the same key
    a_key = np.array([f"P{i % 40}" if i % 3 == 0 else None for i in range(len(a_lng))],
                     dtype=object)
    b_key = np.array([f"P{j}" for j in range(40)], dtype=object)
    masked = np.where(a_key[:, None] == b_key[None, :], np.inf, full)
    ib, d = geodesy.nearest(a_lng, a_lat, b_lng, b_lat, a_key=a_key, b_key=b_key)
    assert np.array_equal(ib, masked.argmin(axis=1))
    np.testing.assert_allclose(d, masked.min(axis=1), atol=1e-6)


def test_nearest_when_all_candidates_excluded():
    ib, d = geodesy.nearest(np.array([116.0]), np.array([35.0]), np.array([116.0]),
                            np.array([35.0]), a_key=np.array(["X"], dtype=object),
                            b_key=np.array(["X"], dtype=object))
    assert ib.tolist() == [-1] and np.isnan(d[0])


def test_empty_inputs():
    e = np.zeros(0)
    ia, ib, d = geodesy.pairs_within(e, e, np.array([1.0]), np.array([1.0]), distance=10)
    assert len(ia) == len(ib) == len(d) == 0
    ib, d = geodesy.nearest(np.array([1.0]), np.array([1.0]), e, e)
    assert ib.tolist() == [-1] and np.isnan(d).all()


def test_h3_authalic_radius_is_the_sphere_h3_measures_on():
    import h3

    from spatial import geodesy
    cell = h3.latlng_to_cell(35.4, 116.6, 5)  # any cell: H3 scales radians² by R² for m²
    r = (h3.cell_area(cell, unit="m^2") / h3.cell_area(cell, unit="rads^2")) ** 0.5
    assert abs(r - geodesy.H3_AUTHALIC_RADIUS_M) < 0.05
    assert geodesy.EARTH_RADIUS_M == 6_371_008.8  # IUGG mean radius R1 (Moritz 2000)
