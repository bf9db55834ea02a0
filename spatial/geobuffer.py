"""Geodesic circles and buffers of lng/lat geometries on the WGS-84 ellipsoid.

Circles around points (:func:`geodesic_circles`, e.g. the 30 km heat-supply radius) and zones
grown by a distance in metres (:func:`geodesic_buffer`).

A buffer drawn in degrees is wrong (a degree of longitude is ~90 km at 36°N, of latitude
~111 km); one drawn in a UTM or Gauss-Krüger zone is wrong outside that zone. Here the
geometry is projected to an azimuthal equidistant projection on the WGS-84 ellipsoid centred
on the geometry (distances from the centre exact, across it off by a relative (d/R)²/6: under
3 cm per km of buffer within 150 km of the centre, i.e. any county or city), buffered there
and projected back. Edges are first cut into short pieces (``max_segment_deg`` in degrees
before, ``max_segment_m`` in metres after) so that straight lines in either system stay
within millimetres of each other, and round corners get ``quad_segs`` segments per quarter
circle (64: a chord lies at most ``d · (1 − cos(π/256))`` ≈ 0.008 % of `d` inside the true
circle, 4 cm for 500 m).

Longitudes and latitudes in WGS-84 degrees (shapely's x = lng, y = lat).
"""

from __future__ import annotations

import math

import numpy as np
import pyproj
import shapely

from .errors import InputError
from .geodesy import GEOD

#: segments per quarter circle of a buffer's rounded corners
QUAD_SEGS = 64


def _aeqd(lng0: float, lat0: float) -> tuple[pyproj.Transformer, pyproj.Transformer]:
    crs = pyproj.CRS.from_proj4(f"+proj=aeqd +lat_0={lat0!r} +lon_0={lng0!r} +ellps=WGS84 "
                                "+units=m +no_defs")
    fwd = pyproj.Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    inv = pyproj.Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    return fwd, inv


def _apply(geom: shapely.Geometry, tr: pyproj.Transformer) -> shapely.Geometry:
    def f(xy: np.ndarray) -> np.ndarray:
        x, y = tr.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geom, f)


def geodesic_buffer(geom: shapely.Geometry, distance_m: float, *,
                    quad_segs: int = QUAD_SEGS, max_segment_deg: float = 0.002,
                    max_segment_m: float = 100.0) -> shapely.Geometry:
    """`geom` (lng/lat degrees) grown by `distance_m` metres on the WGS-84 ellipsoid.

    ``distance_m`` = 0 returns `geom` unchanged (same coordinates, so a point on its boundary
    stays on it). Negative or non-finite distances raise ``ValueError``. The result is a valid
    (Multi)Polygon in lng/lat degrees.
    """
    if not math.isfinite(distance_m) or distance_m < 0:
        raise ValueError(f"distance_m must be a finite number >= 0, not {distance_m!r}")
    if distance_m == 0 or geom is None or geom.is_empty:
        return geom
    minx, miny, maxx, maxy = geom.bounds
    fwd, inv = _aeqd((minx + maxx) / 2.0, (miny + maxy) / 2.0)
    flat = _apply(shapely.segmentize(geom, max_segment_deg), fwd)
    grown = shapely.buffer(flat, distance_m, quad_segs=quad_segs)
    back = _apply(shapely.segmentize(grown, max_segment_m), inv)
    return shapely.make_valid(back)


def _check_radius(radius_m) -> np.ndarray:
    r = np.asarray(radius_m, dtype=np.float64)
    if not np.all(np.isfinite(r) & (r > 0)):
        raise InputError(f"radius_m={radius_m!r}: expected a positive, finite distance in metres.")
    return r


def _check_n(n: int) -> None:
    if not isinstance(n, (int, np.integer)) or n < 3:
        raise InputError(f"n={n!r}: a circle needs an integer number of vertices >= 3 (e.g. 128).")


def geodesic_circles(lng, lat, radius_m, *, n: int = 128) -> np.ndarray:
    """Build geodesic circles (true radius on the WGS-84 ellipsoid) around many centres.

    Vertex ``k`` of each circle is the point at geodesic distance ``radius_m`` from the centre in
    azimuth ``-360 k / n`` degrees, computed by one :meth:`pyproj.Geod.fwd` call over all centres
    and azimuths; rings run counter-clockwise. Circles crossing the antimeridian or containing a
    pole are not handled.

    Parameters
    ----------
    lng, lat : array_like
        WGS-84 longitude and latitude of the centres in degrees, in that order (shapely ``x, y``),
        1-D of equal length.
    radius_m : float or array_like
        Radius in metres, one value or one per centre.
    n : int, default 128
        Number of vertices per circle.

    Returns
    -------
    numpy.ndarray
        Object array of :class:`shapely.Polygon` (x=lng, y=lat), one per centre; ``None`` where
        the centre is not finite.

    Raises
    ------
    InputError
        If ``radius_m`` is not positive and finite or ``n < 3``.
    """
    _check_n(n)
    x, y = np.broadcast_arrays(np.asarray(lng, dtype=np.float64), np.asarray(lat, dtype=np.float64))
    x, y = np.atleast_1d(x).ravel(), np.atleast_1d(y).ravel()
    r = _check_radius(radius_m)
    if r.ndim > 1 or r.size not in (1, x.size):
        raise InputError(
            f"radius_m has {r.size} values for {x.size} centres; give one radius or one per centre."
        )
    r = np.broadcast_to(r.ravel(), x.shape)
    m = x.size
    az = -360.0 * np.arange(n) / n
    lons = np.repeat(x, n)
    lats = np.repeat(y, n)
    dists = np.repeat(r, n)
    azs = np.tile(az, m)
    vx, vy, _ = GEOD.fwd(lons, lats, azs, dists)
    coords = np.stack([np.asarray(vx), np.asarray(vy)], axis=-1).reshape(m, n, 2)
    out = np.empty(m, dtype=object)
    good = np.isfinite(x) & np.isfinite(y)
    if good.any():
        out[good] = shapely.polygons(coords[good])
    return out


def geodesic_circle(lng: float, lat: float, radius_m: float, *, n: int = 128) -> shapely.Polygon:
    """Build one geodesic circle (true radius on the WGS-84 ellipsoid) as a polygon.

    Parameters
    ----------
    lng, lat : float
        WGS-84 longitude and latitude of the centre in degrees, in that order (shapely ``x, y``).
    radius_m : float
        Radius in metres.
    n : int, default 128
        Number of vertices.

    Returns
    -------
    shapely.Polygon
        Polygon with x=lng, y=lat whose ``n`` vertices lie at geodesic distance ``radius_m`` from
        the centre.

    Raises
    ------
    InputError
        If the centre is not finite, ``radius_m`` is not positive and finite or ``n < 3``.

    Examples
    --------
    >>> circle = geodesic_circle(116.0, 36.45, 30_000.0)
    >>> len(circle.exterior.coords)  # 128 vertices + closing point
    129
    """
    if not (np.isfinite(lng) and np.isfinite(lat)):
        raise InputError(f"geodesic_circle: centre ({lng!r}, {lat!r}) is not a finite lng, lat.")
    return geodesic_circles([lng], [lat], radius_m, n=n)[0]
