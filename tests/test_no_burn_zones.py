"""no-burn-zones: hand-computed zones and gaps, independent checks of changes and violations."""

import socket

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from conftest import points_frame
from h3.api import basic_int as h3i
from pyproj import Geod

from analyses import no_burn_zones as nbz
from analyses import noburn_geometry as geo
from spatial import coords, h3grid, h3shapes, io, osm
from spatial.errors import InputError

RES = 9
GEOD = Geod(ellps="WGS84")
CENTRE = int(h3grid.points_to_cells([36.45], [115.98], resolution=RES)[0])


def village_rows(cells, converted, *, start=0):
    lat, lng = h3grid.cell_centers(np.asarray(cells, dtype=np.uint64))
    return [{"id": f"V{start + i}", "name": f"村{start + i}", "township": "甲镇",
             "county": "东昌府区", "lon": x, "lat": y, "households": 100.0,
             "converted_households": 100.0 if c else 10.0}
            for i, (x, y, c) in enumerate(zip(lng, lat, converted, strict=True))]


def geod_area_km2(g):
    a, _ = GEOD.geometry_area_perimeter(shapely.orient_polygons(g))
    return abs(a) / 1e6


def ring_case(open_ring=False, **params):
    ring = sorted(set(h3i.grid_disk(CENTRE, 1)) - {CENTRE})
    conv = [True] * 6
    if open_ring:
        conv[0] = False
    rows = village_rows([CENTRE], [False]) + village_rows(ring, conv, start=1)
    p = nbz.Params(**{"point_radius_m": 0.0, "min_part_km2": 0.0, "fill_m": 0.0, **params})
    return nbz.run({"villages": points_frame(rows)}, p), ring


def test_ring_around_unconverted_village_gives_a_gap_not_a_filled_zone():
    result, ring = ring_case()
    zone = result.layers["zone"]
    assert len(zone) == 1
    poly = zone.geometry.iloc[0]
    assert len(poly.interiors) == 1
    hexes = h3grid.cells_to_polygons(np.array(ring, dtype=np.uint64))
    expected = sum(geod_area_km2(h) for h in hexes)           # six hexagons, by hand
    assert zone["area_km2"].iloc[0] == pytest.approx(expected, rel=1e-6)
    hole = shapely.Polygon(poly.interiors[0])
    centre_hex = h3grid.cells_to_polygons(np.array([CENTRE], dtype=np.uint64))[0]
    assert shapely.symmetric_difference(hole, centre_hex).area < 1e-12
    v = result.layers["villages"].set_index("id")
    assert not v.loc["V0", "in_zone"] and v.loc["V0", "is_gap"] and not v.loc["V0", "converted"]
    assert v.loc[[f"V{i}" for i in range(1, 7)], "in_zone"].all()
    gaps = result.layers["gaps"]
    assert gaps["id"].tolist() == ["V0"] and gaps["households"].tolist() == [100.0]
    assert gaps["zone_id"].tolist() == [zone["zone_id"].iloc[0]]
    assert zone["n_gaps"].iloc[0] == 1 and zone["households"].iloc[0] == 600
    cells = result.layers["cells"].set_index("h3_cell")
    assert not cells.loc[h3i.int_to_str(CENTRE), "in_zone"]
    assert cells["in_zone"].sum() == 6


def test_open_ring_is_no_gap():
    result, _ = ring_case(open_ring=True)
    assert len(result.layers["gaps"]) == 0
    assert all(len(p.interiors) == 0 for p in result.layers["zone"].geometry)


def test_small_parts_are_removed():
    result, ring = ring_case(min_part_km2=0.0)
    area = result.layers["zone"]["area_km2"].sum()   # ~0.63 km² at res 9
    rows = village_rows([CENTRE], [False]) + village_rows(ring, [True] * 6, start=1)
    big = nbz.run({"villages": points_frame(rows)},
                  nbz.Params(point_radius_m=0.0, min_part_km2=area + 0.01, fill_m=0.0))
    assert len(big.layers["zone"]) == 0 and len(big.layers["gaps"]) == 0
    reasons = set(big.layers["cells"]["reason"])
    assert reasons == {"unconverted village", f"part < {area + 0.01:g} km²"}


def test_point_disk_cells_are_centres_within_radius():
    lng, lat = 115.9812, 36.4523
    cells, owner = geo.disk_cells(np.array([lng]), np.array([lat]), 300.0, RES)
    brute = []
    for c in h3i.grid_disk(int(h3grid.points_to_cells([lat], [lng], resolution=RES)[0]), 4):
        clat, clng = h3i.cell_to_latlng(c)
        if GEOD.inv(lng, lat, clng, clat)[2] <= 300.0:
            brute.append(c)
    own = h3i.latlng_to_cell(lat, lng, RES)
    assert set(cells.tolist()) == set(brute) | {own}
    assert (owner == 0).all()


def test_village_smaller_than_a_cell_still_gets_a_cell(tmp_path):
    lat, lng = h3i.cell_to_latlng(CENTRE)
    tiny = shapely.box(lng - 0.0001, lat - 0.0001, lng + 0.0001, lat + 0.0001)  # ~20 m square
    gdf = gpd.GeoDataFrame({"编号": ["P1"], "村名": ["小村"], "总户数": [30],
                            "已改造户数": [30]}, geometry=[tiny], crs="EPSG:4326")
    path = tmp_path / "villages.geojson"
    gdf.to_file(path, driver="GeoJSON")
    table = io.read_features(path, fields=nbz.VILLAGE_FIELDS, name="villages")
    assert table.frame.geometry.geom_type.tolist() == ["Polygon"]
    assert table.frame["lon"].iloc[0] == pytest.approx(lng, abs=2e-4)
    result = nbz.run({"villages": table.frame}, nbz.Params(min_part_km2=0.0, fill_m=0.0))
    cells = result.layers["cells"]
    assert cells["h3_cell"].tolist() == [h3i.int_to_str(CENTRE)] and cells["in_zone"].all()
    assert result.layers["villages"]["in_zone"].all()
    assert result.layers["villages"].geometry.geom_type.tolist() == ["Polygon"]


def test_read_features_points_from_gbk_csv(tmp_path):
    path = tmp_path / "v.csv"
    path.write_bytes("编号,村名,经度,纬度,总户数,已改造户数\nA,甲村,115.9,36.4,10,10\n"
                     "B,乙村,,36.4,10,5\n".encode("gbk"))
    t = io.read_features(path, fields=nbz.VILLAGE_FIELDS, name="villages")
    assert t.encoding == "gb18030" and t.frame["id"].tolist() == ["A"]
    assert t.rejected["id"].tolist() == ["B"]


def test_threshold_flag_and_rejections():
    rows = [{"id": "a", "lon": 116.0, "lat": 36.0, "households": 100.0,
             "converted_households": 95.0, "completed": pd.NA},
            {"id": "b", "lon": 116.1, "lat": 36.0, "households": 10000.0,
             "converted_households": 9499.0, "completed": pd.NA},
            {"id": "c", "lon": 116.2, "lat": 36.0, "households": np.nan,
             "converted_households": np.nan, "completed": True},
            {"id": "d", "lon": 116.3, "lat": 36.0, "households": 10.0,
             "converted_households": 10.0, "completed": False},
            {"id": "e", "lon": 116.4, "lat": 36.0, "households": 10.0,
             "converted_households": 12.0, "completed": pd.NA},
            {"id": "f", "lon": 116.5, "lat": 36.0, "households": np.nan,
             "converted_households": 3.0, "completed": pd.NA}]
    frame = points_frame(rows)
    frame["completed"] = frame["completed"].astype("boolean")
    result = nbz.run({"villages": frame}, nbz.Params(min_part_km2=0.0, fill_m=0.0))
    v = result.layers["villages"].set_index("id")
    assert v["converted"].to_dict() == {"a": True, "b": False, "c": True, "d": False}
    rej = result.tables["rejected"].set_index("id")
    assert set(rej.index) == {"e", "f"} and "greater" in rej.loc["e", "reason"]


def test_params_validate():
    with pytest.raises(InputError, match="threshold"):
        nbz.Params(threshold=0)
    with pytest.raises(InputError, match="coal_fuels"):
        nbz.Params(coal_fuels=("peat",))


# ------------------------------------------------------------------ a synthetic county
@pytest.fixture(scope="module")
def synthetic():
    rng = np.random.default_rng(7)
    n = 400
    lng = 116.0 + rng.uniform(-0.12, 0.12, n)
    lat = 36.0 + rng.uniform(-0.1, 0.1, n)
    d = np.hypot((lng - 116.0) * 90, (lat - 36.0) * 111)     # km, roughly
    conv = rng.random(n) < 1 / (1 + np.exp(d - 6))
    rows = [{"id": f"V{i}", "name": f"村{i}", "township": "乙镇", "county": "示例县",
             "lon": lng[i], "lat": lat[i], "households": 200.0,
             "converted_households": 200.0 if conv[i] else 50.0} for i in range(n)]
    county = gpd.GeoDataFrame({"code": ["370000"], "name": ["示例县"]},
                              geometry=[shapely.box(115.85, 35.87, 116.15, 36.13)],
                              crs="EPSG:4326")
    current = gpd.GeoDataFrame({"name": ["现行区"]},
                               geometry=[shapely.Point(116.02, 36.01).buffer(0.05)],
                               crs="EPSG:4326")
    built = gpd.GeoDataFrame({"id": ["b"]}, geometry=[shapely.box(115.99, 35.99, 116.01,
                                                                 36.01)], crs="EPSG:4326")
    fac = points_frame([{"id": f"F{i}", "name": f"设施{i}",
                         "lon": 116.0 + rng.uniform(-0.12, 0.12),
                         "lat": 36.0 + rng.uniform(-0.1, 0.1),
                         "fuel": ["燃煤", "天然气", None, "散煤"][i % 4],
                         "kind": ["锅炉", "散煤销售点", "茶水炉", "锅炉"][i % 4],
                         "status": ["在用", "在用", "已关停", "在用"][i % 3]} for i in range(300)])
    inputs = {"villages": points_frame(rows), "counties": county, "current_zone": current,
              "built_up": built, "facilities": fac}
    return inputs, nbz.run(inputs, nbz.Params(fill_m=1000.0))


def test_changes_equal_independent_symmetric_difference(synthetic):
    inputs, result = synthetic
    zone_u = shapely.union_all(result.layers["zone"].geometry.to_numpy())
    cur_u = inputs["current_zone"].geometry.iloc[0]
    crs = coords.metric_crs(116.0, 36.0)
    sym = gpd.GeoSeries([shapely.symmetric_difference(zone_u, cur_u)], crs=4326).to_crs(crs)
    ch = result.layers["changes"]
    assert set(ch["change"]) == {"added", "removed"}
    assert ch["area_km2"].sum() == pytest.approx(sym.area.iloc[0] / 1e6, rel=2e-3)
    added = ch[ch["change"] == "added"].to_crs(crs)
    want_added = gpd.GeoSeries([shapely.difference(zone_u, cur_u)], crs=4326).to_crs(crs)
    assert added.area.sum() == pytest.approx(want_added.area.iloc[0], rel=1e-6)
    # villages involved: brute force over pieces
    v = inputs["villages"]
    for _, piece in ch.head(5).iterrows():
        inside = [r.id for r in v.itertuples() if piece.geometry.contains(shapely.Point(r.lon,
                                                                                       r.lat))]
        assert piece["n_villages"] == len(inside)


def test_violations_equal_independent_point_in_polygon(synthetic):
    inputs, result = synthetic
    zone_u = shapely.union_all(result.layers["zone"].geometry.to_numpy())
    cur_u = inputs["current_zone"].geometry.iloc[0]
    want_prop, want_cur = set(), set()
    for r in inputs["facilities"].itertuples():
        coal = r.fuel in ("燃煤", "散煤") or r.kind == "散煤销售点"
        if not coal or r.status == "已关停":
            continue
        pt = shapely.Point(r.lon, r.lat)
        if zone_u.covers(pt):
            want_prop.add(r.id)
        if cur_u.covers(pt):
            want_cur.add(r.id)
    viol = result.layers["violations"]
    assert set(viol.loc[viol["in_proposed"], "id"]) == want_prop and want_prop
    assert set(viol.loc[viol["in_current"], "id"]) == want_cur and want_cur
    assert set(viol["id"]) == want_prop | want_cur
    assert not (viol["status"] == "retired").any()


def test_unconverted_villages_never_inside_and_gaps_enclosed(synthetic):
    _, result = synthetic
    v = result.layers["villages"]
    assert not (v["in_zone"] & ~v["converted"]).any()
    zone = result.layers["zone"]
    shells = shapely.union_all([shapely.Polygon(p.exterior) for p in zone.geometry])
    for g in result.layers["gaps"].itertuples():
        assert shells.contains(shapely.Point(g.lon, g.lat))


def test_every_output_geometry_is_valid(synthetic):
    _, result = synthetic
    assert len(result.layers["zone"]) and len(result.layers["cells"])
    for name, layer in result.layers.items():
        geom = layer.geometry.to_numpy()
        assert shapely.is_valid(geom).all(), name
        assert not shapely.is_empty(geom).any(), name
    for poly in result.layers["zone"].geometry:          # no repeated vertices in any ring
        for ring in [poly.exterior, *poly.interiors]:
            xy = shapely.get_coordinates(ring)[:-1]
            assert len(np.unique(xy, axis=0)) == len(xy)
    zone = result.layers["zone"]
    cells = result.layers["cells"]
    hexes = shapely.union_all(cells.loc[cells["in_zone"]].geometry.to_numpy())
    sym = shapely.symmetric_difference(shapely.union_all(zone.geometry.to_numpy()), hexes)
    assert sym.area < 1e-9                                # zone = union of its cells' hexagons
    html = nbz.build_map(result).get_root().render()
    assert "建议禁燃区" in html and "区内燃煤设施" in html


def test_by_county_totals(synthetic):
    _, result = synthetic
    bc = result.tables["by_county"]
    assert bc["zone_km2"].sum() == pytest.approx(result.layers["zone"]["area_km2"].sum())
    assert bc["n_gaps"].sum() == len(result.layers["gaps"])
    assert bc["n_violations"].sum() == result.layers["violations"]["in_proposed"].sum()


def test_cells_to_shape_matches_hexagon_union():
    cells = np.array(sorted(h3i.grid_disk(CENTRE, 3)), dtype=np.uint64)
    shape = h3shapes.cells_to_shape(np.concatenate([cells, cells[:5]]))
    union = shapely.union_all(h3grid.cells_to_polygons(cells))
    assert shape.is_valid and len(shape.geoms) == 1
    assert shapely.symmetric_difference(shape, union).area < 1e-12
    assert h3shapes.cells_to_shape(np.zeros(0, dtype=np.uint64)).is_empty
    with pytest.raises(InputError, match="resolution"):
        h3shapes.cells_to_shape(np.array([CENTRE, h3i.cell_to_parent(CENTRE, 8)], dtype=np.uint64))


def test_osmnx_reads_built_up_sample_offline(root, monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    b = osm.read_landuse(root / "data" / "raw" / "builtup_dongchangfu.osm")
    assert sorted(b["landuse"]) == ["commercial", "industrial", "residential", "residential",
                                    "residential"]                 # farmland and road dropped
    assert b.crs.equals("EPSG:4326") and b.geometry.is_valid.all()
    assert (b.geometry.geom_type == "Polygon").all()
    assert b.total_bounds[0] > 115.9 and b.total_bounds[3] < 36.5
    assert b["id"].str.startswith("way/").all()
