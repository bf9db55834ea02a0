"""Tests for spatial.coords: GCJ-02/BD-09 transforms, declared CRSs, metric CRS, geodesic circles.

Reference pairs are published test vectors of independent implementations (cited per pair);
distances are measured with pyproj.Geod on the WGS-84 ellipsoid.
"""

import logging

import numpy as np
import pyproj
import pytest
import shapely

from spatial import coords, geobuffer
from spatial.errors import InputError

GEOD = pyproj.Geod(ellps="WGS84")


def _dist_m(lng1, lat1, lng2, lat2):
    lng1, lat1, lng2, lat2 = np.broadcast_arrays(*map(np.asarray, (lng1, lat1, lng2, lat2)))
    return GEOD.inv(lng1.ravel(), lat1.ravel(), lng2.ravel(), lat2.ravel())[2]


@pytest.fixture(scope="module")
def china_points():
    """20 000 random points in a box covering mainland China (seeded)."""
    rng = np.random.default_rng(20240501)
    return rng.uniform(73.5, 135.0, 20_000), rng.uniform(18.0, 53.5, 20_000)


# ---------------------------------------------------------------------------------------------
# forward transforms against published reference values

# (wgs_lng, wgs_lat, gcj_lng, gcj_lat)
WGS_GCJ_REFERENCE = [
    # wandergis/coordtransform, test/app.js: wgs84togcj02(116.404, 39.915)
    (116.404, 39.915, 116.41024449916938, 39.91640428150164),
    # googollee/eviltransform, python/test.py TESTS (given there as lat, lng): shanghai,
    # shenzhen, beijing
    (121.5272106, 31.1774276, 121.531541859215, 31.17530398364597),
    (113.912316, 22.543847, 113.9171764808363, 22.540796131694766),
    (116.377817, 39.911954, 116.38404722455657, 39.91334545536069),
]

# (gcj_lng, gcj_lat, bd_lng, bd_lat)
GCJ_BD_REFERENCE = [
    # wandergis/coordtransform, test/app.js: gcj02tobd09(116.404, 39.915)
    (116.404, 39.915, 116.41036949371029, 39.92133699351021),
    # Glatzel/pyxis, python/tests/test_crypto.py: gcj02 -> bd09 pair
    (121.09626935575027, 30.608604331756705, 121.10271732371203, 30.61484572185035),
]


@pytest.mark.parametrize(("wlng", "wlat", "glng", "glat"), WGS_GCJ_REFERENCE)
def test_wgs84_to_gcj02_matches_published_vectors(wlng, wlat, glng, glat):
    lng, lat = coords.wgs84_to_gcj02(wlng, wlat)
    assert lng == pytest.approx(glng, abs=1e-10)
    assert lat == pytest.approx(glat, abs=1e-10)


@pytest.mark.parametrize(("glng", "glat", "blng", "blat"), GCJ_BD_REFERENCE)
def test_gcj02_to_bd09_matches_published_vectors(glng, glat, blng, blat):
    lng, lat = coords.gcj02_to_bd09(glng, glat)
    assert lng == pytest.approx(blng, abs=1e-10)
    assert lat == pytest.approx(blat, abs=1e-10)


@pytest.mark.parametrize(("wlng", "wlat", "glng", "glat"), WGS_GCJ_REFERENCE)
def test_gcj02_to_wgs84_inverts_published_vectors(wlng, wlat, glng, glat):
    lng, lat = coords.gcj02_to_wgs84(glng, glat)
    assert _dist_m(lng, lat, wlng, wlat).max() < 1e-3


def test_bd09_inverse_agrees_with_published_closed_form():
    # wandergis/coordtransform, test/app.js: the closed-form bd09togcj02(116.404, 39.915) is
    # [116.39762729119315, 39.90865673957631]; it is approximate (~0.2 m at worst), ours is exact.
    lng, lat = coords.bd09_to_gcj02(116.404, 39.915)
    assert _dist_m(lng, lat, 116.39762729119315, 39.90865673957631)[0] < 0.25
    back = coords.gcj02_to_bd09(lng, lat)
    assert _dist_m(*back, 116.404, 39.915)[0] < 1e-4
    # ... and the one-step gcj02towgs84(116.404, 39.915) = [116.39775550083061, 39.91359571849836]
    # of the same file is within a few metres of the exact inverse.
    lng, lat = coords.gcj02_to_wgs84(116.404, 39.915)
    assert _dist_m(lng, lat, 116.39775550083061, 39.91359571849836)[0] < 5.0


def test_wgs84_to_bd09_composes_the_two_steps():
    # pyxis' wgs84 (121.0917077, 30.6107779) -> bd09 pair was made with a GCJ variant using
    # a = 6378137 m; it agrees with the standard a = 6378245 m formula to ~1 cm.
    lng, lat = coords.wgs84_to_bd09(121.0917077, 30.6107779)
    assert _dist_m(lng, lat, 121.10271732371203, 30.61484572185035)[0] < 0.02
    g = coords.wgs84_to_gcj02(121.0917077, 30.6107779)
    assert np.array_equal(np.array((lng, lat)), np.array(coords.gcj02_to_bd09(*g)))


# ---------------------------------------------------------------------------------------------
# round trips


def test_gcj02_round_trips_under_1cm(china_points):
    lng, lat = china_points
    g = coords.wgs84_to_gcj02(lng, lat)
    shift = _dist_m(lng, lat, *g)
    assert shift.min() > 1.0 and shift.max() < 1000.0  # the offset really is applied
    w = coords.gcj02_to_wgs84(*g)
    assert _dist_m(lng, lat, *w).max() < 0.01
    # the other direction: a GCJ-02 point taken to WGS-84 and back
    g2 = coords.wgs84_to_gcj02(*coords.gcj02_to_wgs84(lng, lat))
    assert _dist_m(lng, lat, *g2).max() < 0.01


def test_bd09_round_trips_under_1cm(china_points):
    lng, lat = china_points
    b = coords.gcj02_to_bd09(lng, lat)
    assert _dist_m(lng, lat, *b).min() > 100.0
    assert _dist_m(lng, lat, *coords.bd09_to_gcj02(*b)).max() < 0.01
    bw = coords.wgs84_to_bd09(lng, lat)
    assert _dist_m(lng, lat, *coords.bd09_to_wgs84(*bw)).max() < 0.01
    b2 = coords.wgs84_to_bd09(*coords.bd09_to_wgs84(lng, lat))
    assert _dist_m(lng, lat, *b2).max() < 0.01


def test_inverse_with_too_few_iterations_warns_and_is_coarse(caplog):
    g = coords.wgs84_to_gcj02(116.0, 36.5)
    with caplog.at_level(logging.WARNING, logger="spatial.coords"):
        w = coords.gcj02_to_wgs84(*g, iterations=1)
    assert "residual" in caplog.text
    err = _dist_m(*w, 116.0, 36.5)[0]
    assert 1e-3 < err < 50.0
    with pytest.raises(InputError, match="iterations"):
        coords.gcj02_to_wgs84(*g, iterations=0)


# ---------------------------------------------------------------------------------------------
# outside China, shapes, NaN


def test_gcj02_is_identity_outside_china():
    lng = np.array([2.3522, -74.006, 139.6917, 71.9, 100.0, 100.0])  # Paris, NYC, Tokyo, W, S, N
    lat = np.array([48.8566, 40.7128, 35.6895, 39.0, 0.5, 56.0])
    for f in (coords.wgs84_to_gcj02, coords.gcj02_to_wgs84):
        out_lng, out_lat = f(lng, lat)
        np.testing.assert_array_equal(out_lng, lng)
        np.testing.assert_array_equal(out_lat, lat)
    # just inside the box the offset applies
    assert coords.wgs84_to_gcj02(72.1, 39.0)[0] != 72.1
    # BD-09 = GCJ-02 + the Baidu step, which applies everywhere
    np.testing.assert_array_equal(
        np.array(coords.wgs84_to_bd09(lng, lat)), np.array(coords.gcj02_to_bd09(lng, lat))
    )


def test_shapes_dtypes_and_nan():
    lng, lat = coords.wgs84_to_gcj02(116, 36)  # ints
    assert lng.shape == () and lng.dtype == np.float64
    grid_lng, grid_lat = np.meshgrid(np.linspace(115, 117, 4), np.linspace(35, 37, 3))
    for f in (coords.wgs84_to_gcj02, coords.gcj02_to_wgs84, coords.gcj02_to_bd09,
              coords.bd09_to_gcj02, coords.wgs84_to_bd09, coords.bd09_to_wgs84):
        out = f(grid_lng, grid_lat)
        assert out[0].shape == (3, 4) and out[1].shape == (3, 4)
    # broadcasting a scalar latitude
    assert coords.wgs84_to_gcj02([116.0, 117.0], 36.0)[1].shape == (2,)
    # NaN stays NaN and does not disturb the others
    w = coords.gcj02_to_wgs84([116.0, np.nan], [36.0, 36.0])
    assert np.isnan(w[0][1]) and np.isfinite(w[0][0])
    assert w[0][0] == coords.gcj02_to_wgs84(116.0, 36.0)[0]
    # inputs are not modified
    a = np.array([116.0, 117.0])
    coords.gcj02_to_wgs84(a, a / 3)
    np.testing.assert_array_equal(a, [116.0, 117.0])


# ---------------------------------------------------------------------------------------------
# declared coordinate systems


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("WGS84", "wgs84"), ("wgs-84", "wgs84"), ("WGS 84", "wgs84"), ("EPSG:4326", "wgs84"),
        ("epsg:4326", "wgs84"), (4326, "wgs84"), (pyproj.CRS.from_epsg(4326), "wgs84"),
        ("GCJ02", "gcj02"), ("gcj-02", "gcj02"), ("GCJ_02", "gcj02"), ("火星坐标", "gcj02"),
        ("BD09", "bd09"), ("bd-09", "bd09"), ("BD09LL", "bd09"),
        ("CGCS2000", "cgcs2000"), ("EPSG:4490", "cgcs2000"), (4490, "cgcs2000"),
        ("EPSG:4547", "EPSG:4547"), (4547, "EPSG:4547"),
        ("+proj=utm +zone=50 +datum=WGS84 +units=m", "EPSG:32650"),
    ],
)
def test_normalize_crs_name(given, expected):
    assert coords.normalize_crs_name(given) == expected


@pytest.mark.parametrize("bad", ["gcj-03", "mercator-ish", "", None, 3.5])
def test_unknown_crs_raises_input_error_naming_it(bad):
    with pytest.raises(InputError) as info:
        coords.to_wgs84(116.0, 36.0, bad)
    msg = str(info.value)
    assert repr(bad) in msg
    assert "gcj02" in msg and "bd09" in msg and "cgcs2000" in msg and "EPSG:" in msg
    assert isinstance(info.value, ValueError)
    with pytest.raises(InputError):
        coords.from_wgs84(116.0, 36.0, bad)


def test_to_and_from_wgs84_dispatch():
    lng, lat = np.array([116.0, 118.5]), np.array([36.4, 35.1])
    for name in ("wgs84", "cgcs2000", "EPSG:4490"):
        np.testing.assert_array_equal(coords.to_wgs84(lng, lat, name)[0], lng)
        np.testing.assert_array_equal(coords.from_wgs84(lng, lat, name)[1], lat)
    np.testing.assert_array_equal(
        np.array(coords.to_wgs84(lng, lat, "GCJ-02")), np.array(coords.gcj02_to_wgs84(lng, lat))
    )
    np.testing.assert_array_equal(
        np.array(coords.to_wgs84(lng, lat, "baidu")), np.array(coords.bd09_to_wgs84(lng, lat))
    )
    np.testing.assert_array_equal(
        np.array(coords.from_wgs84(lng, lat, "gcj02")), np.array(coords.wgs84_to_gcj02(lng, lat))
    )
    np.testing.assert_array_equal(
        np.array(coords.from_wgs84(lng, lat, "bd09")), np.array(coords.wgs84_to_bd09(lng, lat))
    )


def _meridian_arc_m(lat_deg, a=6378137.0, f=1 / 298.257222101, n=20001):
    """Meridian arc length from the equator (CGCS2000 ellipsoid), by Simpson's rule."""
    e2 = f * (2 - f)
    phi = np.linspace(0.0, np.radians(lat_deg), n)
    integrand = a * (1 - e2) / (1 - e2 * np.sin(phi) ** 2) ** 1.5
    h = phi[1] - phi[0]
    return h / 3 * (integrand[0] + integrand[-1] + 4 * integrand[1:-1:2].sum()
                    + 2 * integrand[2:-1:2].sum())


def test_epsg4547_known_points_and_round_trip():
    # EPSG:4547 = CGCS2000 / 3-degree Gauss-Kruger CM 114E: k0 = 1, false easting 500 000 m,
    # no false northing. On the central meridian, easting is 500 000 m and northing is the
    # meridian arc, computed here independently of PROJ.
    for lat in (0.0, 34.5, 36.0, 38.0):
        x, y = coords.from_wgs84(114.0, lat, "EPSG:4547")
        assert x == pytest.approx(500_000.0, abs=1e-3)
        assert y == pytest.approx(_meridian_arc_m(lat), abs=1e-3)
        lng2, lat2 = coords.to_wgs84(500_000.0, _meridian_arc_m(lat), "EPSG:4547")
        assert _dist_m(lng2, lat2, 114.0, lat)[0] < 1e-3
    # off the meridian: easting grows eastwards, and the round trip closes to < 1 mm
    lng = np.array([115.5, 116.0, 116.9, 113.2])
    lat = np.array([36.4, 35.4, 36.9, 35.0])
    x, y = coords.from_wgs84(lng, lat, 4547)
    assert np.all((x > 500_000) == (lng > 114.0))
    assert _dist_m(lng, lat, *coords.to_wgs84(x, y, "EPSG:4547")).max() < 1e-3


# ---------------------------------------------------------------------------------------------
# metric CRS


def test_metric_crs_for_shandong_is_utm_50n():
    # Shandong's extent, roughly lng 114.8..122.7, lat 34.4..38.4: centre 118.75 E -> zone 50
    crs = coords.metric_crs([114.8, 122.7, 117.0], [34.4, 38.4, 36.6])
    assert crs.to_epsg() == 32650
    # the same answer from PROJ's own database for the centre point
    info = pyproj.database.query_utm_crs_info(
        datum_name="WGS 84",
        area_of_interest=pyproj.aoi.AreaOfInterest(118.75, 36.4, 118.75, 36.4),
    )
    assert crs.to_epsg() == int(info[0].code)
    # Liaocheng + Jining sit in zone 50 too; eastern Shandong alone is zone 51
    assert coords.metric_crs([115.2, 117.6], [34.6, 37.0]).to_epsg() == 32650
    assert coords.metric_crs([120.5, 122.7], [36.0, 37.5]).to_epsg() == 32651
    assert coords.metric_crs(-70.0, -30.0).to_epsg() == 32719
    assert coords.metric_crs([116.0, np.nan], [36.0, np.nan]).to_epsg() == 32650


def test_metric_crs_rejects_bad_input():
    with pytest.raises(InputError, match="finite"):
        coords.metric_crs([np.nan], [np.nan])
    with pytest.raises(InputError, match="swapped"):
        coords.metric_crs([36.0], [116.0])


# ---------------------------------------------------------------------------------------------
# geodesic circles


@pytest.mark.parametrize(("lng", "lat", "radius"), [(116.0, 36.45, 30_000.0),
                                                      (116.6, 35.4, 15_000.0),
                                                      (100.0, -60.0, 500.0)])
def test_geodesic_circle_vertices_at_radius(lng, lat, radius):
    poly = geobuffer.geodesic_circle(lng, lat, radius, n=64)
    assert isinstance(poly, shapely.Polygon) and poly.is_valid
    xy = np.asarray(poly.exterior.coords)[:-1]
    assert len(xy) == 64
    d = _dist_m(lng, lat, xy[:, 0], xy[:, 1])
    assert np.abs(d - radius).max() < 1e-3
    assert poly.exterior.is_ccw
    assert poly.contains(shapely.Point(lng, lat))
    # area close to a regular n-gon of circumradius r (planar formula; ellipsoid curvature is
    # negligible at these radii)
    area = abs(GEOD.geometry_area_perimeter(poly)[0])
    expected = 64 / 2 * radius**2 * np.sin(2 * np.pi / 64)
    assert area == pytest.approx(expected, rel=1e-4)


def test_geodesic_circles_vectorized_matches_single():
    lng = np.array([116.0, 116.6, 117.2, np.nan])
    lat = np.array([36.45, 35.4, 35.7, 36.0])
    radii = np.array([30_000.0, 1_000.0, 15_000.0, 5.0])
    polys = geobuffer.geodesic_circles(lng, lat, radii, n=32)
    assert polys.shape == (4,) and polys[3] is None
    for i in range(3):
        single = geobuffer.geodesic_circle(lng[i], lat[i], radii[i], n=32)
        assert shapely.equals_exact(polys[i], single, tolerance=0.0)
    one_radius = geobuffer.geodesic_circles(lng[:3], lat[:3], 2_000.0, n=16)
    for i, p in enumerate(one_radius):
        xy = np.asarray(p.exterior.coords)[:-1]
        assert np.abs(_dist_m(lng[i], lat[i], xy[:, 0], xy[:, 1]) - 2_000.0).max() < 1e-3


@pytest.mark.parametrize(("radius", "n"), [(0.0, 16), (-5.0, 16), (np.nan, 16), (100.0, 2)])
def test_geodesic_circle_rejects_bad_arguments(radius, n):
    with pytest.raises(InputError):
        geobuffer.geodesic_circle(116.0, 36.0, radius, n=n)


def test_geodesic_circles_radius_length_mismatch():
    with pytest.raises(InputError, match="radius_m"):
        geobuffer.geodesic_circles([116.0, 117.0, 118.0], [36.0, 36.0, 36.0], [1.0, 2.0])
