"""Tests for spatial.cluster.st_dbscan against a brute-force reference and scikit-learn."""

from __future__ import annotations

import doctest
from collections import deque

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.cluster import DBSCAN

import spatial.cluster as cluster
from spatial.cluster import EARTH_RADIUS_M, st_dbscan
from spatial.errors import InputError

R = 6_371_008.8
DAY = 86_400


# --------------------------------------------------------------------------------------------------
# independent reference: O(n^2) haversine and time matrices, then scikit-learn's expansion order


def brute_force_st_dbscan(lat, lng, t=None, *, eps_m=1000.0, eps_s=86400.0, min_samples=1):
    """DBSCAN by brute force: haversine from lat/lng trigonometry, BFS from seeds in input order.

    A border point keeps the label of the first cluster that reaches it (scikit-learn's rule).
    """
    phi = np.radians(np.asarray(lat, dtype=float))
    lam = np.radians(np.asarray(lng, dtype=float))
    h = (
        np.sin((phi[:, None] - phi[None, :]) / 2) ** 2
        + np.cos(phi[:, None])
        * np.cos(phi[None, :])
        * np.sin((lam[:, None] - lam[None, :]) / 2) ** 2
    )
    dist = 2 * R * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))
    adj = dist <= eps_m
    if t is not None and eps_s is not None:
        tt = np.asarray(t)
        adj &= np.abs(tt[:, None] - tt[None, :]) <= eps_s
    n = len(phi)
    neighbours = [np.flatnonzero(adj[i]) for i in range(n)]
    core = adj.sum(axis=1) >= min_samples
    labels = np.full(n, -1, dtype=np.int64)
    current = 0
    for seed in range(n):
        if labels[seed] != -1 or not core[seed]:
            continue
        labels[seed] = current
        queue = deque([seed])
        while queue:
            p = queue.popleft()
            for q in neighbours[p]:
                if labels[q] == -1:
                    labels[q] = current
                    if core[q]:
                        queue.append(q)
        current += 1
    return labels


def partition(labels):
    """Clusters as a set of frozensets of point indices, and the noise set."""
    labels = np.asarray(labels)
    clusters = {
        frozenset(np.flatnonzero(labels == k).tolist()) for k in np.unique(labels) if k >= 0
    }
    return clusters, frozenset(np.flatnonzero(labels == -1).tolist())


def assert_same_partition(a, b):
    pa, pb = partition(a), partition(b)
    assert pa[1] == pb[1], "noise differs"
    assert pa[0] == pb[0], f"clusters differ: {len(pa[0])} vs {len(pb[0])}"


def assert_first_appearance_numbering(labels):
    kept = labels[labels >= 0]
    _, first = np.unique(kept, return_index=True)
    assert np.array_equal(kept[np.sort(first)], np.arange(first.size))


def destination(lat, lng, bearing_deg, dist_m):
    """Point at great-circle distance ``dist_m`` along ``bearing_deg`` on the sphere (lat, lng)."""
    phi1, lam1, th = np.radians(lat), np.radians(lng), np.radians(bearing_deg)
    delta = np.asarray(dist_m) / R
    phi2 = np.arcsin(np.sin(phi1) * np.cos(delta) + np.cos(phi1) * np.sin(delta) * np.cos(th))
    lam2 = lam1 + np.arctan2(
        np.sin(th) * np.sin(delta) * np.cos(phi1), np.cos(delta) - np.sin(phi1) * np.sin(phi2)
    )
    return np.degrees(phi2), (np.degrees(lam2) + 180.0) % 360.0 - 180.0


def uniform_set(rng, n, *, box=0.3, days=10):
    lat = rng.uniform(36.0, 36.0 + box, n)
    lng = rng.uniform(117.0, 117.0 + box, n)
    t = 1_717_200_000 + rng.integers(0, days * DAY, n)
    return lat, lng, t


def clustered_set(rng, n, *, box=0.5, days=20, sigma_m=400.0):
    n_events = max(1, n // 4)
    c_lat = rng.uniform(36.0, 36.0 + box, n_events)
    c_lng = rng.uniform(117.0, 117.0 + box, n_events)
    c_t = rng.integers(0, days * DAY, n_events)
    ev = rng.integers(0, n_events, n)
    lat, lng = destination(
        c_lat[ev], c_lng[ev], rng.uniform(0, 360, n), np.abs(rng.normal(0, sigma_m, n))
    )
    t = 1_717_200_000 + c_t[ev] + rng.integers(-DAY, DAY, n)
    return lat, lng, t


def boundary_pairs(rng, n_pairs):
    """Pairs at 999.9 m / 1000.1 m and time gaps of 24 h - 1 s / 24 h / 24 h + 1 s.

    Returns lat, lng, t and a list of (a, b, expected_same_cluster); pairs lie > 20 km apart.
    """
    cases = [
        (999.9, 0, True),
        (1000.1, 0, False),
        (500.0, DAY - 1, True),
        (500.0, DAY, True),
        (500.0, DAY + 1, False),
        (999.9, DAY, True),
        (1000.1, DAY - 1, False),
    ]
    lat, lng, t, expect = [], [], [], []
    for k in range(n_pairs):
        d, dt, same = cases[k % len(cases)]
        a_lat = 34.5 + 0.25 * (k // 16)  # a 16 x m lattice of pairs with 0.25 deg spacing
        a_lng = 115.0 + 0.25 * (k % 16)
        b_lat, b_lng = destination(a_lat, a_lng, rng.uniform(0, 360), d)
        t0 = 1_717_200_000 + int(rng.integers(0, 30 * DAY))
        lat += [a_lat, float(b_lat)]
        lng += [a_lng, float(b_lng)]
        t += [t0, t0 + dt]
        expect.append((2 * k, 2 * k + 1, same))
    return np.array(lat), np.array(lng), np.array(t, dtype=np.int64), expect


# --------------------------------------------------------------------------------------------------
# spatio-temporal, min_samples = 1


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("kind", ["uniform", "clustered"])
def test_equals_brute_force_on_random_sets(seed, kind):
    rng = np.random.default_rng(seed)
    n = [400, 1200, 2000][seed]
    lat, lng, t = (uniform_set if kind == "uniform" else clustered_set)(rng, n)
    labels = st_dbscan(lat, lng, t, eps_m=1000.0, eps_s=86400.0)
    ref = brute_force_st_dbscan(lat, lng, t, eps_m=1000.0, eps_s=86400.0)
    assert labels.dtype == np.int64
    assert_same_partition(labels, ref)
    assert_first_appearance_numbering(labels)
    # the sets are neither all singletons nor one blob, so the comparison means something
    assert 1 < labels.max() + 1 < n


def test_boundary_distances_and_time_gaps():
    rng = np.random.default_rng(7)
    lat, lng, t, expect = boundary_pairs(rng, 70)
    # mix the boundary pairs into random clustered background far from the lattice... in time
    b_lat, b_lng, b_t = clustered_set(rng, 600, box=4.0)
    b_t = b_t + 400 * DAY
    lat, lng, t = np.r_[lat, b_lat], np.r_[lng, b_lng], np.r_[t, b_t]
    labels = st_dbscan(lat, lng, t)
    for a, b, same in expect:
        assert (labels[a] == labels[b]) == same, (a, b, same)
    assert_same_partition(labels, brute_force_st_dbscan(lat, lng, t))


def test_worked_example_by_hand():
    # 0.01 deg of longitude at 36 N: 0.01 * pi/180 * R * cos(36 deg) = 899.57 m (< 1 km);
    # 0.02 deg: 1799.1 m. Chain 0-1-2 along the parallel, 3 is 1 h + 24 h after 2, 4 is far.
    lat = np.full(5, 36.0)
    lng = np.array([117.0, 117.01, 117.02, 117.02, 117.5])
    t = np.array([0, 3600, 7200, 7200 + DAY + 1, 0])
    assert st_dbscan(lat, lng, t).tolist() == [0, 0, 0, 1, 2]
    assert st_dbscan(lat, lng, t, eps_s=None).tolist() == [0, 0, 0, 0, 1]
    assert st_dbscan(lat, lng, t, eps_m=800.0).tolist() == [0, 1, 2, 3, 4]


def test_docstring_examples():
    result = doctest.testmod(cluster, extraglobs={"np": np})
    assert result.attempted > 0 and result.failed == 0


def test_input_order_does_not_change_partition():
    rng = np.random.default_rng(11)
    lat, lng, t = clustered_set(rng, 800)
    labels = st_dbscan(lat, lng, t)
    perm = rng.permutation(lat.size)
    permuted = st_dbscan(lat[perm], lng[perm], t[perm])
    assert_same_partition(labels[perm], permuted)


def test_chunking_and_edge_compression(monkeypatch):
    # dense set: ~every pair within 1 km, so stored edges exceed 2 n and get compressed
    rng = np.random.default_rng(3)
    n = 300
    lat, lng = destination(36.5, 118.0, rng.uniform(0, 360, n), rng.uniform(0, 1500, n))
    t = rng.integers(0, 3 * DAY, n)
    monkeypatch.setattr(cluster, "_CHUNK_PAIRS", 97)
    monkeypatch.setattr(cluster, "_MIN_EDGE_BUDGET", 0)
    for ms in (1, 4, 40):
        labels = st_dbscan(lat, lng, t, min_samples=ms)
        assert_same_partition(labels, brute_force_st_dbscan(lat, lng, t, min_samples=ms))


@pytest.mark.parametrize("eps_s", [0.0, 3600.0, 30 * DAY])
def test_other_time_windows(eps_s):
    rng = np.random.default_rng(5)
    lat, lng, t = clustered_set(rng, 700)
    t = (t // 1800) * 1800  # ties in time, so eps_s = 0 links something
    labels = st_dbscan(lat, lng, t, eps_m=1500.0, eps_s=eps_s)
    assert_same_partition(labels, brute_force_st_dbscan(lat, lng, t, eps_m=1500.0, eps_s=eps_s))


def test_datetime_inputs_match_seconds():
    rng = np.random.default_rng(9)
    lat, lng, t = clustered_set(rng, 500)
    expected = st_dbscan(lat, lng, t)
    dt64 = t.astype("datetime64[s]")
    assert np.array_equal(st_dbscan(lat, lng, dt64), expected)
    aware = pd.Series(pd.to_datetime(t, unit="s", utc=True)).dt.tz_convert("Asia/Shanghai")
    assert np.array_equal(st_dbscan(lat, lng, aware), expected)
    assert np.array_equal(st_dbscan(lat, lng, t.astype(float)), expected)


# --------------------------------------------------------------------------------------------------
# space only, against scikit-learn


def sklearn_haversine(lat, lng, eps_m, min_samples):
    model = DBSCAN(
        eps=eps_m / R, min_samples=min_samples, metric="haversine", algorithm="ball_tree"
    ).fit(np.radians(np.column_stack([lat, lng])))
    core = np.zeros(len(lat), dtype=bool)
    core[model.core_sample_indices_] = True
    return model.labels_, core


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_space_only_equals_sklearn(seed):
    rng = np.random.default_rng(seed)
    maker = uniform_set if seed % 2 else clustered_set
    lat, lng, _ = maker(rng, 1500)
    labels = st_dbscan(lat, lng, None)
    sk, _ = sklearn_haversine(lat, lng, 1000.0, 1)
    assert_same_partition(labels, sk)
    # t given but eps_s=None is also space only
    assert np.array_equal(st_dbscan(lat, lng, np.arange(lat.size), eps_s=None), labels)


@pytest.mark.parametrize("min_samples", [2, 3, 5])
def test_min_samples_against_sklearn(min_samples):
    rng = np.random.default_rng(100 + min_samples)
    lat, lng, _ = uniform_set(rng, 1500, box=0.25)
    labels = st_dbscan(lat, lng, None, min_samples=min_samples)
    sk, core = sklearn_haversine(lat, lng, 1000.0, min_samples)
    assert (labels == -1).any() and (labels >= 0).any()
    # core points: same partition
    assert_same_partition(np.where(core, labels, -1), np.where(core, sk, -1))
    # noise: same points
    assert np.array_equal(labels == -1, sk == -1)
    # each border point's label is the label of one of its core neighbours
    phi, lam = np.radians(lat), np.radians(lng)
    for b in np.flatnonzero(~core & (labels >= 0)):
        h = (
            np.sin((phi - phi[b]) / 2) ** 2
            + np.cos(phi) * np.cos(phi[b]) * np.sin((lam - lam[b]) / 2) ** 2
        )
        near_core = (2 * R * np.arcsin(np.sqrt(h)) <= 1000.0) & core
        assert labels[b] in set(labels[near_core].tolist())
    # the documented tie rule reproduces scikit-learn's border assignment exactly
    assert_same_partition(labels, sk)


@pytest.mark.parametrize("min_samples", [2, 4])
def test_min_samples_spatio_temporal_equals_brute_force(min_samples):
    rng = np.random.default_rng(min_samples)
    lat, lng, t = clustered_set(rng, 1200, days=10)
    labels = st_dbscan(lat, lng, t, min_samples=min_samples)
    ref = brute_force_st_dbscan(lat, lng, t, min_samples=min_samples)
    assert (ref == -1).any()
    assert_same_partition(labels, ref)
    assert_first_appearance_numbering(labels)


# --------------------------------------------------------------------------------------------------
# geometry edge cases: antimeridian, poles, whole-globe spread, key overflow


def test_antimeridian():
    # 0.001 deg of longitude at the equator is 111 m: these two are neighbours across +-180
    assert st_dbscan([0.0, 0.0], [179.9995, -179.9995], [0, 0]).tolist() == [0, 0]
    rng = np.random.default_rng(21)
    n = 600
    lat, lng = destination(
        rng.uniform(-5, 5, n),
        rng.choice([179.95, -179.95], n),
        rng.uniform(0, 360, n),
        rng.uniform(0, 8000, n),
    )
    t = rng.integers(0, 5 * DAY, n)
    labels = st_dbscan(lat, lng, t)
    assert_same_partition(labels, brute_force_st_dbscan(lat, lng, t))


def test_near_pole():
    rng = np.random.default_rng(22)
    n = 500
    lat = rng.uniform(89.97, 90.0, n)
    lng = rng.uniform(-180, 180, n)
    t = rng.integers(0, 3 * DAY, n)
    labels = st_dbscan(lat, lng, t, eps_m=600.0)
    ref = brute_force_st_dbscan(lat, lng, t, eps_m=600.0)
    assert 1 < ref.max() + 1 < n
    assert_same_partition(labels, ref)


def test_whole_globe_spread():
    # points on all sides of the sphere: the orthographic key folds, so the radial axis is used
    rng = np.random.default_rng(23)
    n = 1500
    v = rng.normal(size=(n, 3))
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    lat, lng = np.degrees(np.arcsin(v[:, 2])), np.degrees(np.arctan2(v[:, 1], v[:, 0]))
    labels = st_dbscan(lat, lng, None, eps_m=300_000.0)
    ref = brute_force_st_dbscan(lat, lng, None, eps_m=300_000.0)
    assert 1 < ref.max() + 1 < n
    assert_same_partition(labels, ref)


def test_key_overflow_coarsens_buckets():
    # 1 m over the whole globe and a 1 s window over 30 years: the fine key would overflow int64
    rng = np.random.default_rng(24)
    n = 400
    lat = rng.uniform(-80, 80, n)
    lng = rng.uniform(-180, 180, n)
    t = rng.integers(0, 30 * 365 * DAY, n)
    lat[1::2], lng[1::2] = destination(lat[::2], lng[::2], 45.0, rng.uniform(0.5, 1.5, n // 2))
    t[1::2] = t[::2] + rng.integers(0, 3, n // 2)
    labels = st_dbscan(lat, lng, t, eps_m=1.0, eps_s=1.0)
    ref = brute_force_st_dbscan(lat, lng, t, eps_m=1.0, eps_s=1.0)
    assert 1 < ref.max() + 1 < n
    assert_same_partition(labels, ref)


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(2, 60),
    eps_m=st.floats(50.0, 3000.0),
    eps_s=st.sampled_from([0.0, 600.0, 86400.0]),
    min_samples=st.integers(1, 4),
)
def test_property_matches_brute_force(seed, n, eps_m, eps_s, min_samples):
    rng = np.random.default_rng(seed)
    lat, lng = destination(36.0, 117.0, rng.uniform(0, 360, n), rng.uniform(0, 4000, n))
    t = rng.integers(0, 4, n) * 600
    labels = st_dbscan(lat, lng, t, eps_m=eps_m, eps_s=eps_s, min_samples=min_samples)
    ref = brute_force_st_dbscan(lat, lng, t, eps_m=eps_m, eps_s=eps_s, min_samples=min_samples)
    assert_same_partition(labels, ref)
    assert_first_appearance_numbering(labels)


# --------------------------------------------------------------------------------------------------
# small and bad inputs


def test_empty_and_single():
    assert st_dbscan([], []).tolist() == []
    assert st_dbscan(np.array([]), np.array([]), np.array([], dtype=np.int64)).dtype == np.int64
    assert st_dbscan([36.0], [117.0], [0]).tolist() == [0]
    assert st_dbscan([36.0], [117.0], [0], min_samples=2).tolist() == [-1]
    assert st_dbscan([36.0, 36.0], [117.0, 117.0], [0, 0], min_samples=2).tolist() == [0, 0]
    assert st_dbscan([36.0, 36.0], [117.0, 117.0], [0, 0], min_samples=3).tolist() == [-1, -1]


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        (([36.0, 36.1], [117.0]), {}, "same length"),
        (([36.0, np.nan], [117.0, 117.0]), {}, "lat has 1 missing"),
        (([117.0, 36.0], [36.0, 117.0]), {}, "swapped"),
        (([36.0, 36.1], [117.0, 117.0], [0]), {}, "one value per point"),
        (([36.0, 36.1], [117.0, 117.0], [0.0, np.inf]), {}, "t has 1 missing"),
        (([36.0], [117.0], np.array(["NaT"], dtype="datetime64[s]")), {}, "t has 1 missing"),
        (([36.0], [117.0], ["a"]), {}, "dtype"),
        (([36.0], [117.0]), {"eps_m": 0.0}, "eps_m"),
        (([36.0], [117.0], [0]), {"eps_s": -1.0}, "eps_s"),
        (([36.0], [117.0]), {"min_samples": 0}, "min_samples"),
        (([36.0], [117.0]), {"min_samples": 1.5}, "min_samples"),
    ],
)
def test_bad_input_raises(args, kwargs, match):
    with pytest.raises(InputError, match=match):
        st_dbscan(*args, **kwargs)


def test_constant_is_mean_earth_radius():
    assert EARTH_RADIUS_M == R


def test_sphere_vs_wgs84_geodesic_as_documented():
    # the module docstring claims <= 0.25 % at Shandong's latitudes for 1 km distances
    from pyproj import Geod

    rng = np.random.default_rng(31)
    n = 2000
    lat0, lng0 = rng.uniform(34.4, 38.4, n), rng.uniform(114.8, 122.7, n)
    az = rng.uniform(0, 360, n)
    lng1, lat1, _ = Geod(ellps="WGS84").fwd(lng0, lat0, az, np.full(n, 1000.0))
    phi0, phi1 = np.radians(lat0), np.radians(lat1)
    h = (
        np.sin((phi1 - phi0) / 2) ** 2
        + np.cos(phi0) * np.cos(phi1) * np.sin(np.radians(lng1 - lng0) / 2) ** 2
    )
    rel = np.abs(2 * R * np.arcsin(np.sqrt(h)) - 1000.0) / 1000.0
    assert rel.max() <= 0.0025
    assert rel.max() > 0.0015  # the bound is not loose by an order of magnitude
