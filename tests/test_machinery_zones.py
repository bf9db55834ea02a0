"""machinery-zones against hand-worked cases: corners, a buffered zone, stages, areas, cells.

References are independent of the code under test: distances by brute force with
``pyproj.Geod`` over a densely sampled zone boundary, areas in an equal-area (Albers)
projection, cell counts with ``h3.latlng_to_cell`` one point at a time.
"""

from collections import Counter

import geopandas as gpd
import h3
import numpy as np
import openpyxl
import pandas as pd
import pyproj
import pytest
import shapely
from pyproj import Geod

from analyses import cli
from analyses import machinery_zones as mz
from spatial import coords
from spatial.errors import InputError

GEOD = Geod(ellps="WGS84")
# a 0.02° × 0.02° square zone in 东昌府区 (about 1.8 km × 2.2 km)
W, S, E, N = 116.00, 36.40, 116.02, 36.42
SQUARE = shapely.box(W, S, E, N)


def _zone(*geoms):
    return gpd.GeoDataFrame({"name": [f"Z{i}" for i in range(len(geoms))]},
                            geometry=list(geoms), crs="EPSG:4326")


def _machines(lng, lat, stages=None, ids=None):
    n = len(lng)
    return pd.DataFrame({"id": ids or [f"M{i:03d}" for i in range(n)], "lon": lng, "lat": lat,
                         "stage": stages or ["国二"] * n, "kind": ["挖掘机"] * n})


def _albers_km2(geom):
    """Area by an equal-area projection of the densified polygon (independent of Geod)."""
    aea = pyproj.CRS.from_proj4("+proj=aea +lat_1=25 +lat_2=47 +lat_0=0 +lon_0=116 "
                                "+ellps=WGS84 +units=m")
    tr = pyproj.Transformer.from_crs("EPSG:4326", aea, always_xy=True)
    g = shapely.transform(shapely.segmentize(geom, 0.0005),
                          lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))
    return g.area / 1e6


def _brute_distance_m(lng, lat, poly, step_deg=0.00002):
    """Geodesic distance (m) from each point to the polygon (0 inside), by sampling its edge."""
    ring = shapely.segmentize(poly.exterior, step_deg)
    xy = shapely.get_coordinates(ring)
    out = np.zeros(len(lng))
    for i, (x, y) in enumerate(zip(lng, lat, strict=True)):
        if poly.covers(shapely.Point(x, y)):
            continue
        _, _, d = GEOD.inv(np.full(len(xy), x), np.full(len(xy), y), xy[:, 0], xy[:, 1])
        out[i] = d.min()
    return out


def test_a_machine_at_a_corner_or_on_an_edge_is_inside():
    lng = [E, W, (W + E) / 2, E + 1e-6, E, W - 1e-6]
    lat = [N, S, N, N + 1e-6, S, (S + N) / 2]
    r = mz.run({"zone": _zone(SQUARE), "machinery": _machines(lng, lat)},
               {"zone_source": "polygons"})
    got = r.layers["machines"].set_index("id")["in_zone"]
    # corners NE, SW and the north edge's midpoint are on the boundary: inside (decided and
    # documented: the ban applies on the zone's edge); 1e-6° (~0.1 m) beyond a corner or edge:
    # outside; the SE corner: inside
    assert got.tolist() == [True, True, True, False, True, False]
    assert r.layers["high_emission"]["id"].tolist() == ["M000", "M001", "M002", "M004"]


def test_a_machine_just_outside_a_buffered_zone():
    buf = 500.0
    # due east of the east edge's midpoint (a meridian: the geodesic at azimuth 90° is the
    # perpendicular), and diagonally off the NE corner (the rounded corner is a circle)
    pts = [GEOD.fwd(E, 36.41, 90, 495.0), GEOD.fwd(E, 36.41, 90, 505.0),
           GEOD.fwd(E, N, 45, 497.0), GEOD.fwd(E, N, 45, 503.0),
           GEOD.fwd(W, S, 225, 499.0), GEOD.fwd(W, S, 225, 501.0)]
    lng = [p[0] for p in pts]
    lat = [p[1] for p in pts]
    ref = _brute_distance_m(lng, lat, SQUARE)
    assert ref == pytest.approx([495, 505, 497, 503, 499, 501], abs=0.05)
    r = mz.run({"zone": _zone(SQUARE), "machinery": _machines(lng, lat)},
               {"zone_source": "polygons", "zone_buffer_m": buf})
    got = r.layers["machines"]["in_zone"].to_numpy()
    assert got.tolist() == (ref <= buf).tolist() == [True, False] * 3


def test_buffer_membership_matches_brute_force_geodesic_distance():
    rng = np.random.default_rng(7)
    buf = 1000.0
    # points around the square at 800-1200 m from random boundary points, any azimuth
    base = shapely.get_coordinates(shapely.segmentize(SQUARE.exterior, 0.001))
    pick = base[rng.integers(0, len(base), 80)]
    lng, lat, _ = GEOD.fwd(pick[:, 0], pick[:, 1], rng.uniform(0, 360, 80),
                           rng.uniform(800, 1200, 80))
    ref = _brute_distance_m(lng, lat, SQUARE)
    sure = np.abs(ref - buf) > 0.5  # the buffer is exact to centimetres; the sampling to ~1 m
    r = mz.run({"zone": _zone(SQUARE), "machinery": _machines(list(lng), list(lat))},
               {"zone_source": "polygons", "zone_buffer_m": buf})
    got = r.layers["machines"]["in_zone"].to_numpy()
    assert sure.sum() > 70 and (got[sure] == (ref[sure] <= buf)).all()
    assert 0 < got.sum() < len(got)


def test_zone_split_by_county_with_geodesic_areas():
    west = shapely.box(115.9, 36.3, 116.01, 36.5)
    east = shapely.box(116.01, 36.3, 116.1, 36.5)
    counties = gpd.GeoDataFrame({"code": ["371502", "371503"], "name": ["甲区", "乙区"]},
                                geometry=[west, east], crs="EPSG:4326")
    lng, lat = [116.005, 116.015, 116.015], [36.41, 36.41, 36.43]
    r = mz.run({"zone": _zone(SQUARE), "machinery": _machines(lng, lat, ["国二", "国四", "国一"]),
                "counties": counties}, {"zone_source": "polygons"})
    z = r.layers["zone"].set_index("county_code")
    assert z.index.tolist() == ["371502", "371503"]
    # the square is 0.01° in the west county, 0.01° in the east one: equal-area projection
    for code, part in (("371502", shapely.box(W, S, 116.01, N)),
                       ("371503", shapely.box(116.01, S, E, N))):
        assert z.loc[code, "area_km2"] == pytest.approx(_albers_km2(part), rel=1e-5)
    assert z["area_km2"].sum() == pytest.approx(_albers_km2(SQUARE), rel=1e-5)
    assert z["n_machines"].tolist() == [1, 1] and z["n_high"].tolist() == [1, 0]
    bc = r.tables["by_county"].set_index("county_code")
    # the 国一 machine lies outside the zone in the east county: to clear all the same
    assert bc.loc["371503", ["n_machines", "n_in_zone", "n_high_in_zone", "n_to_clear"]
                  ].tolist() == [2, 1, 0, 1]
    assert bc.loc["371502", ["n_machines", "n_in_zone", "n_high_in_zone", "n_to_clear"]
                  ].tolist() == [1, 1, 1, 0]
    assert r.tables["clear_list"]["id"].tolist() == ["M002"]
    assert r.tables["ban_list"]["county_code"].tolist() == ["371502"]


@pytest.mark.parametrize("word, code, high", [
    ("国0", "stage0", True), ("国〇", "stage0", True), ("国零", "stage0", True),
    ("未达国一", "stage0", True), ("国一", "stage1", True), ("国Ⅰ", "stage1", True),
    ("国I", "stage1", True), ("国1", "stage1", True), ("国二", "stage2", True),
    ("国Ⅱ", "stage2", True), ("国 II", None, None), ("国三", "stage3", False),
    ("国Ⅲ", "stage3", False), ("国III", "stage3", False), ("国３", "stage3", False),
    ("国四", "stage4", False), ("国Ⅳ", "stage4", False), ("电动", "electric", False),
    ("新能源", "electric", False), ("国五", None, None), ("三", None, None)])
def test_stages_by_vocabulary_unknown_rejected(word, code, high):
    r = mz.run({"zone": _zone(SQUARE), "machinery": _machines([116.01], [36.41], [word])},
               {"zone_source": "polygons"})
    m, rej = r.layers["machines"], r.tables["rejected"]
    if code is None:  # never guessed: rejected, the reason names the word and the fix
        assert len(m) == 0 and len(rej) == 1
        assert f"'{word}'" in rej["reason"].iloc[0] and "[vocab.stage]" in rej["reason"].iloc[0]
    else:
        assert m["stage"].tolist() == [code] and m["high_emission"].tolist() == [high]
        assert len(rej) == 0


def test_min_stage_moves_the_line():
    stages = ["国一", "国二", "国三", "国四", "电动"]
    lng = [116.01] * 5
    lat = [36.405, 36.408, 36.411, 36.414, 36.417]
    for min_stage, expect in (("国三", [1, 1, 0, 0, 0]), ("国四", [1, 1, 1, 0, 0]),
                              ("国二", [1, 0, 0, 0, 0])):
        r = mz.run({"zone": _zone(SQUARE), "machinery": _machines(lng, lat, stages)},
                   {"zone_source": "polygons", "min_stage": min_stage})
        assert r.layers["machines"]["high_emission"].astype(int).tolist() == expect


def test_cells_count_records_like_h3_point_by_point():
    rng = np.random.default_rng(3)
    lng, lat = rng.uniform(115.99, 116.03, 60), rng.uniform(36.39, 36.43, 60)
    stages = list(rng.choice(["国一", "国二", "国三", "国四"], 60))
    r = mz.run({"zone": _zone(SQUARE), "machinery": _machines(list(lng), list(lat), stages)},
               {"zone_source": "polygons", "h3_resolution": 9})
    cells = r.layers["cells"].set_index("h3_cell")
    ref = Counter(h3.latlng_to_cell(y, x, 9) for x, y in zip(lng, lat, strict=True))
    assert cells["n_machines"].to_dict() == dict(ref)
    inside = SQUARE.covers(shapely.points(lng, lat))
    high = np.isin(stages, ["国一", "国二"])
    ref_hi = Counter(h3.latlng_to_cell(y, x, 9) for x, y, k in zip(lng, lat, high & inside,
                                                                     strict=True) if k)
    assert cells.loc[cells["n_high_in_zone"] > 0, "n_high_in_zone"].to_dict() == dict(ref_hi)


def test_zone_source_needs_its_input_and_params_check_themselves():
    with pytest.raises(InputError, match="built_up"):
        mz.run({"machinery": _machines([116.01], [36.41])})  # default: the built-up area
    with pytest.raises(InputError, match="min_stage"):
        mz.Params(min_stage="国五")
    with pytest.raises(InputError, match="zone_buffer_m"):
        mz.Params(zone_buffer_m=-1)
    with pytest.raises(InputError, match="zone_source"):
        mz.Params(zone_source="county")
    assert mz.Params(min_stage="国Ⅳ").min_stage == "stage4"


def test_both_sources_and_a_zone_without_machines():
    other = shapely.box(116.05, 36.40, 116.06, 36.41)
    built = gpd.GeoDataFrame({"id": ["b"], "name": ["x"]}, geometry=[other], crs="EPSG:4326")
    r = mz.run({"zone": _zone(SQUARE), "built_up": built}, {"zone_source": "both"})
    assert r.layers["zone"]["area_km2"].sum() == pytest.approx(
        _albers_km2(SQUARE) + _albers_km2(other), rel=1e-5)
    assert len(r.layers["machines"]) == 0 and len(r.layers["cells"]) == 0


def test_register_file_gbk_chinese_headers_gcj02(tmp_path):
    wgs = np.array([[116.01, 36.41], [116.03, 36.41], [116.015, 36.415]])
    glng, glat = coords.wgs84_to_gcj02(wgs[:, 0], wgs[:, 1])
    path = tmp_path / "非道路移动机械登记.csv"
    pd.DataFrame({"环保登记编号": ["A1", "A2", "A3"], "机械类型": ["叉车", "挖掘机", "装载机"],
                  "排放阶段": ["国Ⅱ", "国二", ""], "经度": glng, "纬度": glat}).to_csv(
        path, index=False, encoding="gbk")
    inputs = mz.read_inputs(machinery=(path, {"crs": "gcj02"}), zone=_zone(SQUARE))
    r = mz.run(inputs, {"zone_source": "polygons"})
    m = r.layers["machines"].set_index("id")
    # the GCJ-02 offset (~500 m here) is removed: positions within 1 cm of the WGS-84 truth
    _, _, d = GEOD.inv(m["lon"].to_numpy(), m["lat"].to_numpy(), wgs[:2, 0], wgs[:2, 1])
    assert (d < 0.01).all()
    assert m["in_zone"].tolist() == [True, False] and m["kind"].tolist() == ["叉车", "挖掘机"]
    rej = inputs.tables["machinery"].rejected  # the blank stage: rejected by the reader
    assert rej["id"].tolist() == ["A3"] and rej["row"].tolist() == [4]


def test_demo_outputs(demo_out, tmp_path):
    d = demo_out / "layers" / "machinery-zones"
    wb = openpyxl.load_workbook(d / "tables.xlsx", read_only=True)
    assert {"区内高排放机械清单", "动态清零清单", "按县区统计", "未采用的记录", "说明"} <= set(
        wb.sheetnames)
    ban = pd.read_csv(d / "ban_list.csv", encoding="utf-8-sig", dtype={"county_code": str})
    assert len(ban) > 0 and set(ban["stage"]) <= {"stage0", "stage1", "stage2"}
    assert ban["in_zone"].all()
    rej = pd.read_csv(d / "rejected.csv", encoding="utf-8-sig")
    assert sorted(rej["reason"].str.contains("国五")) == [False, True]  # blank + unknown
    assert (demo_out / "maps" / "machinery-zones.html").stat().st_size > 10_000
    out = tmp_path / "o"
    import shutil
    shutil.copytree(demo_out / "layers" / "machinery-zones", out / "layers" / "machinery-zones")
    assert cli.main(["export", "machinery-zones", "--by", "county", "--out", str(out),
                     "-q"]) == 0
    packs = sorted(p.name for p in (out / "layers" / "machinery-zones" / "counties").glob("*"))
    assert "371502_东昌府区_machinery-zones.zip" in packs


def test_report_findings_state_the_lists_counts(demo_out):
    import docx
    d = demo_out / "layers" / "machinery-zones"
    text = "\n".join(p.text for p in docx.Document(str(d / "report.docx")).paragraphs)
    ban = pd.read_csv(d / "ban_list.csv", encoding="utf-8-sig")
    clear = pd.read_csv(d / "clear_list.csv", encoding="utf-8-sig")
    zone = pd.read_csv(d / "by_county.csv", encoding="utf-8-sig")
    assert f"高排放机械 {len(ban)} 条" in text and f"国一及以下排放标准机械 {len(clear)} 条" in text
    assert f"控制区面积 {zone['zone_km2'].sum():,.2f} 平方公里" in text
