"""Exact geodesic distance queries on the WGS-84 ellipsoid, fast.

Decisions ("is this boiler within 30 km of that plant?") use ``pyproj.Geod`` on the WGS-84
ellipsoid. To avoid computing every pair, candidates are found first with a k-d tree on
unit-sphere coordinates: a chord on the sphere is monotone in great-circle distance, and the
great-circle distance on the mean-radius sphere differs from the ellipsoidal geodesic by less
than 0.6 %, so a prefilter radius of ``d * (1 + SPHERE_MARGIN) + 1 m`` never misses a pair.
That prefilter is extent-independent (no projection zones to fall out of).

All functions take longitudes and latitudes in degrees, in that order (x = lng, y = lat).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely
from pyproj import Geod
from scipy.spatial import cKDTree

#: The one WGS-84 ellipsoid of the project: geodesic distances, circles and areas.
GEOD = Geod(ellps="WGS84")
#: Mean Earth radius R1 (IUGG), metres: the sphere of every great-circle shortcut (the k-d tree
#: prefilter here, DBSCAN neighbours in :mod:`spatial.cluster`, IDW in :mod:`spatial.interpolate`).
EARTH_RADIUS_M = 6_371_008.8
#: Radius of H3's authalic sphere (``EARTH_RADIUS_KM`` = 6371.007180918475 km in H3's
#: ``constants.h``, here to 0.1 m), metres. H3 measures its cells on this sphere, so an angle taken
#: from an H3 length (``h3.average_hexagon_edge_length``) divides by this radius, not by
#: :data:`EARTH_RADIUS_M` (they differ by 1.6 m, 0.26 ppm); used by :mod:`spatial.raster`.
H3_AUTHALIC_RADIUS_M = 6_371_007.2
SPHERE_MARGIN = 0.01  # relative; ellipsoid vs sphere distance differ by < 0.6 %
_K_NEAREST = 8


def unit_xyz(lng: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Points as (n, 3) unit vectors on the sphere (lng, lat in degrees)."""
    lam = np.radians(np.asarray(lng, dtype="float64"))
    phi = np.radians(np.asarray(lat, dtype="float64"))
    cphi = np.cos(phi)
    return np.column_stack([cphi * np.cos(lam), cphi * np.sin(lam), np.sin(phi)])


def _chord(sphere_m: np.ndarray | float) -> np.ndarray:
    """Chord length on the unit sphere for a great-circle distance in metres."""
    ang = np.minimum(np.asarray(sphere_m, dtype="float64") / EARTH_RADIUS_M, np.pi)
    return 2.0 * np.sin(ang / 2.0)


def _sphere_m(chord: np.ndarray) -> np.ndarray:
    return 2.0 * EARTH_RADIUS_M * np.arcsin(np.clip(np.asarray(chord) / 2.0, 0.0, 1.0))


def distance_m(lng1: np.ndarray, lat1: np.ndarray, lng2: np.ndarray, lat2: np.ndarray
               ) -> np.ndarray:
    """Geodesic distance in metres on the WGS-84 ellipsoid, element-wise."""
    if np.size(lng1) == 0:
        return np.zeros(0)
    return np.asarray(GEOD.inv(lng1, lat1, lng2, lat2)[2], dtype="float64")


def pairs_within(a_lng: np.ndarray, a_lat: np.ndarray, b_lng: np.ndarray, b_lat: np.ndarray,
                 *, distance: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All pairs (i of a, j of b) with geodesic distance <= `distance` metres.

    Returns
    -------
    ia, ib, dist_m
        Index arrays into a and b, and the geodesic distances, sorted by (ia, ib).
    """
    empty = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))
    if len(a_lng) == 0 or len(b_lng) == 0:
        return empty
    ta, tb = cKDTree(unit_xyz(a_lng, a_lat)), cKDTree(unit_xyz(b_lng, b_lat))
    r = float(_chord(distance * (1 + SPHERE_MARGIN) + 1.0))
    pairs = ta.sparse_distance_matrix(tb, r, output_type="ndarray")  # keeps zero distances
    order = np.lexsort((pairs["j"], pairs["i"]))
    ia, ib = pairs["i"][order].astype(np.int64), pairs["j"][order].astype(np.int64)
    d = distance_m(np.asarray(a_lng)[ia], np.asarray(a_lat)[ia], np.asarray(b_lng)[ib],
                   np.asarray(b_lat)[ib])
    keep = d <= distance
    return ia[keep], ib[keep], d[keep]


def nearest(a_lng: np.ndarray, a_lat: np.ndarray, b_lng: np.ndarray, b_lat: np.ndarray,
            *, a_key: np.ndarray | None = None, b_key: np.ndarray | None = None
            ) -> tuple[np.ndarray, np.ndarray]:
    """For each point of a, the geodesically nearest point of b (exact).

    Parameters
    ----------
    a_key, b_key
        Optional keys: a pair with ``a_key[i] == b_key[j]`` (both not None) is not a candidate
        (e.g. a plant's own boiler is not measured against that plant).

    Returns
    -------
    ib, dist_m
        Index into b (-1 when b is empty or every candidate is excluded) and distance (NaN then).
    """
    na, nb = len(a_lng), len(b_lng)
    ib = np.full(na, -1, dtype=np.int64)
    dist = np.full(na, np.nan)
    if na == 0 or nb == 0:
        return ib, dist
    a_lng, a_lat = np.asarray(a_lng, "float64"), np.asarray(a_lat, "float64")
    b_lng, b_lat = np.asarray(b_lng, "float64"), np.asarray(b_lat, "float64")
    k = min(nb, _K_NEAREST)
    chord, cand = cKDTree(unit_xyz(b_lng, b_lat)).query(unit_xyz(a_lng, a_lat), k=k)
    chord, cand = chord.reshape(na, k), cand.reshape(na, k)
    d = distance_m(np.repeat(a_lng, k), np.repeat(a_lat, k), b_lng[cand.ravel()],
                   b_lat[cand.ravel()]).reshape(na, k)
    if a_key is not None and b_key is not None:
        ak = np.asarray(a_key, dtype=object)
        bk = np.asarray(b_key, dtype=object)
        excluded = (ak[:, None] == bk[cand]) & ~_isnull(ak)[:, None]
        d = np.where(excluded, np.inf, d)
    best = np.argmin(d, axis=1)
    dbest = d[np.arange(na), best]
    ib[:] = cand[np.arange(na), best]
    dist[:] = dbest
    # Exact unless a point of b beyond the k-th candidate could still be nearer.
    unsure = (k < nb) & ~(_sphere_m(chord[:, -1]) > dbest * (1 + SPHERE_MARGIN) + 1.0)
    for i in np.flatnonzero(unsure):  # rare: only where the k nearest are all excluded or tied
        di = distance_m(np.full(nb, a_lng[i]), np.full(nb, a_lat[i]), b_lng, b_lat)
        if a_key is not None and b_key is not None and not _isnull(np.array([a_key[i]]))[0]:
            di = np.where(np.asarray(b_key, dtype=object) == a_key[i], np.inf, di)
        j = int(np.argmin(di))
        ib[i], dist[i] = j, di[j]
    none = ~np.isfinite(dist)
    ib[none], dist[none] = -1, np.nan
    return ib, dist


def _isnull(a: np.ndarray) -> np.ndarray:
    return pd.isna(np.asarray(a, dtype=object))


def area_km2(geoms) -> np.ndarray:
    """Geodesic area (WGS-84 ellipsoid) of each (Multi)Polygon in degrees (x = lng), km².

    Holes are subtracted; None or an empty geometry has area 0.
    """
    arr = np.asarray(geoms, dtype=object).ravel()
    out = np.zeros(arr.size)
    for i, g in enumerate(arr):
        if g is not None and not g.is_empty:
            a, _ = GEOD.geometry_area_perimeter(shapely.orient_polygons(g))
            out[i] = abs(a) / 1e6
    return out
