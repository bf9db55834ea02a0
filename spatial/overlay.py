"""The first match of each item: the first polygon containing a point, the first partner of a pair.

Longitudes and latitudes in WGS-84 degrees (shapely's x = lng, y = lat). "First" is the lowest
position in the list of candidates, so an answer never depends on the order of the points.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely


def first_per(a: np.ndarray, b: np.ndarray, n: int) -> np.ndarray:
    """For pairs ``(a[i], b[i])``, the smallest ``b`` paired with each ``a`` in ``range(n)``.

    Parameters
    ----------
    a, b
        Integer arrays of the same length (any order; ``a`` in ``[0, n)``).
    n
        Number of items ``a`` indexes.

    Returns
    -------
    numpy.ndarray
        ``int64`` of length ``n``: the smallest partner of each item, -1 where it has none.
    """
    out = np.full(int(n), -1, dtype=np.int64)
    a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
    if a.size:
        order = np.lexsort((b, a))
        a, b = a[order], b[order]
        first = np.r_[True, a[1:] != a[:-1]]
        out[a[first]] = b[first]
    return out


def first_containing(polys: Any, lng: np.ndarray, lat: np.ndarray, *,
                     border: bool) -> np.ndarray:
    """Position of the first polygon (in the order of `polys`) containing each point, -1 if none.

    Parameters
    ----------
    polys
        Sequence or array of shapely (Multi)Polygons in WGS-84 degrees (None allowed: no match).
    lng, lat
        Point coordinates in WGS-84 degrees (x = lng, y = lat).
    border
        True: a point on a polygon's boundary is in it (shapely ``intersects``); False: only a
        point in the interior is (``within``).

    Returns
    -------
    numpy.ndarray
        ``int64`` positions into `polys`, one per point.
    """
    lng = np.asarray(lng, dtype="float64")
    lat = np.asarray(lat, dtype="float64")
    polys = np.asarray(polys, dtype=object)
    if lng.size == 0 or polys.size == 0:
        return np.full(lng.size, -1, dtype=np.int64)
    p_idx, g_idx = shapely.STRtree(polys).query(shapely.points(lng, lat),
                                                predicate="intersects" if border else "within")
    return first_per(p_idx, g_idx, lng.size)
