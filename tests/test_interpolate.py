"""spatial.interpolate.idw against a brute-force loop."""

import math

import numpy as np
import pyproj
import pytest

from spatial import interpolate
from spatial.errors import InputError

R = interpolate.EARTH_RADIUS_M


def haversine(lng1, lat1, lng2, lat2):
    p1, p2 = math.radians(lat1), math.radians(lat2)
    h = (math.sin((p2 - p1) / 2) ** 2
         + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lng2 - lng1) / 2) ** 2)
    return 2 * R * math.asin(math.sqrt(h))


def brute(sx, sy, v, dx, dy, power, dmax):
    est = np.full((len(dx), v.shape[1]), np.nan)
    used = np.zeros((len(dx), v.shape[1]), dtype=int)
    for i in range(len(dx)):
        for t in range(v.shape[1]):
            num = den = 0.0
            for j in range(len(sx)):
                d = haversine(dx[i], dy[i], sx[j], sy[j])
                if d <= dmax and not math.isnan(v[j, t]):
                    w = max(d, 1.0) ** -power
                    num += w * v[j, t]
                    den += w
                    used[i, t] += 1
            if den:
                est[i, t] = num / den
    return est, used


def test_idw_equals_brute_force():
    rng = np.random.default_rng(3)
    sx, sy = rng.uniform(116.0, 116.4, 25), rng.uniform(35.0, 35.3, 25)
    v = rng.uniform(20, 90, (25, 3))
    v[rng.random(v.shape) < 0.2] = np.nan
    dx, dy = rng.uniform(115.9, 116.5, 60), rng.uniform(34.9, 35.4, 60)
    dx[0], dy[0] = sx[4], sy[4]  # a target on a station ...
    v[4, 0] = 57.0               # ... that has a value in period 0 (NaN with this seed)
    for power, dmax in ((2.0, 15_000.0), (1.5, 8_000.0)):
        r = interpolate.idw(sx, sy, v, dx, dy, power=power, max_distance_m=dmax)
        est, used = brute(sx, sy, v, dx, dy, power, dmax)
        np.testing.assert_allclose(r.values, est, rtol=1e-11)
        np.testing.assert_array_equal(r.n_used, used)
        assert np.isnan(r.values[used == 0]).all() and (used == 0).any()
    # one period given as a 1-D array: the defaults (power 2, 15 km) against brute force
    one = interpolate.idw(sx, sy, v[:, 0], dx, dy)
    est, used = brute(sx, sy, v[:, [0]], dx, dy, 2.0, 15_000.0)
    assert one.values.shape == (len(dx),)
    np.testing.assert_allclose(one.values, est[:, 0], rtol=1e-11)
    # a co-located station dominates: weight 1 (distance clamped to 1 m) against < 1.3e-7
    # (power 2) for each of the 24 others, all over 2.8 km away with values in [20, 90]: the
    # estimate moves by less than 24 * 1.3e-7 * 70 < 1e-3 from the station's value
    others = [haversine(dx[0], dy[0], sx[j], sy[j]) for j in range(len(sx)) if j != 4]
    assert min(others) > 2_800.0
    assert abs(one.values[0] - 57.0) < 1e-3


def test_sphere_distance_close_to_geodesic():
    g = pyproj.Geod(ellps="WGS84")
    _, _, d = g.inv(116.0, 35.0, 116.12, 35.08)
    assert abs(interpolate.great_circle_m(116.0, 35.0, 116.12, 35.08) / d - 1) < 0.005


def test_idw_rejects_bad_input():
    with pytest.raises(InputError, match="coordinates"):
        interpolate.idw([116.0, np.nan], [35.0, 35.1], [1.0, 2.0], [116.0], [35.0])
    with pytest.raises(InputError, match="values must have shape"):
        interpolate.idw([116.0], [35.0], [1.0, 2.0], [116.0], [35.0])
