"""spatial.overlay against brute force (a Python loop over shapely predicates / the pairs)."""

import numpy as np
import shapely

from spatial import overlay


def test_first_per_equals_min_partner_by_loop():
    rng = np.random.default_rng(5)
    a = rng.integers(0, 40, 300)
    b = rng.integers(0, 25, 300)
    got = overlay.first_per(a, b, 50)
    assert got.dtype == np.int64 and got.size == 50
    for i in range(50):
        partners = b[a == i]
        assert got[i] == (partners.min() if partners.size else -1)
    assert overlay.first_per(np.zeros(0, int), np.zeros(0, int), 3).tolist() == [-1, -1, -1]


def test_first_containing_equals_loop_and_border_rule():
    rng = np.random.default_rng(8)
    polys = [shapely.box(x, y, x + w, y + h) for x, y, w, h in
             zip(rng.uniform(116, 117, 30), rng.uniform(36, 37, 30), rng.uniform(0.05, 0.4, 30),
                 rng.uniform(0.05, 0.4, 30), strict=True)]
    polys[3] = None  # a missing geometry matches nothing
    lng, lat = rng.uniform(115.9, 117.5, 2000), rng.uniform(35.9, 37.5, 2000)
    # points exactly on the corners of the first boxes: in only with border=True
    lng[:5] = [shapely.get_coordinates(p)[0][0] for p in polys[:3] + polys[4:6]]
    lat[:5] = [shapely.get_coordinates(p)[0][1] for p in polys[:3] + polys[4:6]]
    for border in (True, False):
        test = shapely.intersects if border else shapely.within
        expected = []
        for x, y in zip(lng, lat, strict=True):
            pt = shapely.Point(x, y)
            hits = [i for i, p in enumerate(polys)
                    if p is not None and (test(pt, p) if not border else test(p, pt))]
            expected.append(hits[0] if hits else -1)
        got = overlay.first_containing(polys, lng, lat, border=border)
        assert got.tolist() == expected
    on_corner = overlay.first_containing(polys, lng[:5], lat[:5], border=False)
    assert (overlay.first_containing(polys, lng[:5], lat[:5], border=True) >= 0).all()
    assert all(on_corner[i] != box for i, box in enumerate([0, 1, 2, 4, 5]))  # only touches it
    assert overlay.first_containing([], [1.0], [2.0], border=True).tolist() == [-1]


def test_code_name_by_position():
    import geopandas as gpd

    from spatial import admin

    units = gpd.GeoDataFrame({"code": ["370811", "370812"], "name": ["任城区", "兖州区"]},
                             geometry=[shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)],
                             crs="EPSG:4326")
    codes, names = admin.code_name(units, np.array([1, -1, 0]))
    assert codes.tolist() == ["370812", None, "370811"]
    assert names.tolist() == ["兖州区", None, "任城区"]
    assert admin.code_name(None, np.array([0, -1]))[0].tolist() == [None, None]
