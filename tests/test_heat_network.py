"""heat-radius, heat-network coverage (issue 17): geodesic distances to pipes, rules, villages.

References are independent of the code under test: points placed with ``pyproj.Geod.fwd``
perpendicular to a pipe segment, a brute-force minimum over a pipe densified every metre with
``Geod.npts``, and the area of a stadium (2·r·L + π·r²) for the coverage polygon.
"""

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from conftest import points_frame
from pyproj import Geod

from analyses import heat_radius as hr
from spatial import lines

G = Geod(ellps="WGS84")
PLANT = (116.0, 36.4)  # a 700 MW CHP plant; the pipe below lies ~70 km away (outside 30 km)
A, B = (116.50, 36.90), (116.52, 36.91)  # a ~2.1 km pipe segment


def plants():
    return points_frame([{"id": "P", "name": "P热电", "lon": PLANT[0], "lat": PLANT[1],
                          "capacity_mw": 700.0, "is_chp": True, "fuel": "燃煤",
                          "status": "在运"}])


def boiler(bid, lon, lat, **kw):
    return {"id": bid, "name": f"单位{bid}", "lon": lon, "lat": lat, "capacity_th": 30.0,
            "fuel": "燃煤", "kind": "锅炉", "status": "在用", "plant_id": None, **kw}


def across(frac, side, d):
    """A point `d` m from segment A-B, perpendicular at fraction `frac` of it (side +1/-1)."""
    az, _, length = G.inv(*A, *B)
    mx, my, baz = G.fwd(*A, az, length * frac)
    x, y, _ = G.fwd(mx, my, baz + 180.0 + 90.0 * side, d)
    return x, y


def pipes(rows, crs="EPSG:4326"):
    """A GeoDataFrame of pipe lines (WGS-84 vertices), optionally in another CRS."""
    df = pd.DataFrame([{k: v for k, v in r.items() if k != "xy"} for r in rows])
    g = gpd.GeoDataFrame(df, geometry=[shapely.LineString(r["xy"]) for r in rows],
                         crs="EPSG:4326")
    return g.to_crs(crs)


def run(boilers, pipe_rows, crs="EPSG:4326", **kw):
    inputs = {"plants": plants(), "boilers": points_frame(boilers),
              "heat_network": pipes(pipe_rows, crs), **kw}
    return hr.run(inputs, hr.Params())


PIPE = [{"id": "HN1", "name": "管线1", "diameter_mm": 500.0, "status": "在用", "xy": [A, B]}]


@pytest.mark.parametrize("crs", ["EPSG:4326", "EPSG:4548"])  # WGS-84; CGCS2000 GK CM 117E
def test_999_m_in_1001_m_out(crs):
    rows = []
    for frac in (0.25, 0.5, 0.8):
        for side in (1, -1):
            for d in (999.0, 1001.0):
                rows.append(boiler(f"B{frac}_{side}_{d:g}", *across(frac, side, d)))
    res = run(rows, PIPE, crs)
    b = res.layers["boilers"].set_index("id")
    assert not b["in_radius"].any()  # ~70 km from the plant
    want = {r["id"]: r["id"].endswith("_999") for r in rows}
    assert b["in_network"].to_dict() == want
    assert b["target"].to_dict() == want
    d = b["network_distance_m"]
    expect = np.where(d.index.str.endswith("_999"), 999.0, 1001.0)
    assert np.abs(d.to_numpy() - expect).max() < 0.05
    assert set(b.loc[b["target"], "target_rule"]) == {"network"}
    assert set(b.loc[b["target"], "nearest_pipe_id"]) == {"HN1"}
    t = res.tables["targets"]
    assert set(t["依据"]) == {"管网覆盖范围"}
    assert set(t["建议（关停/整合）"]) == {"关停"}  # 30 t/h: the radius rule would say 整合
    assert len(t) == 6


def test_distance_matches_brute_force_over_a_densified_pipe():
    """Geodesic distance to a 3-vertex pipe equals the minimum over its points every ~1 m."""
    C = (116.53, 36.93)
    rng = np.random.default_rng(7)
    lng = rng.uniform(116.48, 116.55, 40)
    lat = rng.uniform(36.88, 36.95, 40)
    got, near = lines.distance_to_lines(shapely.points(lng, lat),
                                        np.array([shapely.LineString([A, B, C])]))
    assert (near == 0).all()
    pts = []
    for p, q in ((A, B), (B, C)):
        n = int(G.inv(*p, *q)[2])  # ~1 m apart, along the geodesic
        pts += [p, *G.npts(*p, *q, n), q]
    px, py = np.array(pts).T
    for i in range(len(lng)):
        _, _, d = G.inv(np.full(len(px), lng[i]), np.full(len(px), lat[i]), px, py)
        assert got[i] == pytest.approx(d.min(), abs=0.5)  # spacing ~1 m: within 0.5 m
        assert got[i] <= d.min() + 1e-3  # never farther than a point of the pipe (1 mm)


def test_only_operating_pipes_cover_and_unknown_status_is_rejected():
    x, y = across(0.5, 1, 300.0)
    rows = [boiler("B1", x, y)]
    pipe_rows = [{**PIPE[0], "status": "在建"}, {**PIPE[0], "id": "HN2", "status": "待核实"},
                 {**PIPE[0], "id": "HN3", "status": "规划"}]
    res = run(rows, pipe_rows)
    b = res.layers["boilers"].set_index("id")
    assert not b.loc["B1", "in_network"] and not b.loc["B1", "target"]
    rej = res.tables["rejected"]
    bad = rej[rej["input"] == "heat_network"]
    assert list(bad["id"]) == ["HN2"] and "待核实" in bad["reason"].iloc[0]
    layer = res.layers["heat_network"].set_index("id")
    assert sorted(layer.index) == ["HN1", "HN3"] and not layer["covers"].any()
    assert len(res.layers["coverage"]) == 0


def test_blank_status_is_operating_and_idle_boiler_counts_small_chp_does_not():
    x, y = across(0.5, -1, 500.0)
    rows = [boiler("IDLE", x, y, status="备用"), boiler("CHP", x, y, kind="小热电机组"),
            boiler("GAS", x, y, fuel="天然气"), boiler("OFF", x, y, status="已关停")]
    res = run(rows, [{**PIPE[0], "status": None}])
    b = res.layers["boilers"].set_index("id")
    assert b["in_network"].all()
    assert b["target"].to_dict() == {"IDLE": True, "CHP": False, "GAS": False, "OFF": False}


def test_radius_and_network_together():
    """A coal boiler inside the 30 km radius and near a pipe: both rules name it."""
    near_plant = G.fwd(*PLANT, 90.0, 5000.0)[:2]
    far_end = G.fwd(*PLANT, 90.0, 8000.0)[:2]
    x, y, _ = G.fwd(*near_plant, 0.0, 400.0)
    rows = [boiler("RN", x, y), boiler("R", *G.fwd(*PLANT, 180.0, 10000.0)[:2])]
    res = run(rows, [{**PIPE[0], "xy": [near_plant, far_end]}])
    b = res.layers["boilers"].set_index("id")
    assert b["target_rule"].to_dict() == {"RN": "radius+network", "R": "radius"}
    t = res.tables["targets"].set_index("编号")
    assert t.loc["RN", "依据"] == "供热半径、管网覆盖范围" and t.loc["R", "依据"] == "供热半径"
    assert t.loc["RN", "建议（关停/整合）"] == "关停" and t.loc["R", "建议（关停/整合）"] == "整合"


def test_coverage_polygon_is_a_stadium_of_the_buffer():
    res = run([boiler("B", *across(0.5, 1, 5000.0))], PIPE)
    cov = res.layers["coverage"]
    length_km = G.inv(*A, *B)[2] / 1000.0
    r = 1.0
    assert cov["area_km2"].iloc[0] == pytest.approx(2 * r * length_km + math.pi * r * r,
                                                    rel=2e-3)
    assert res.layers["heat_network"]["length_km"].iloc[0] == pytest.approx(length_km, abs=1e-3)
    # the polygon agrees with the distance rule: 999 m inside, 1,001 m outside
    poly = cov.geometry.iloc[0]
    assert poly.contains(shapely.Point(across(0.5, 1, 995.0)))
    assert not poly.contains(shapely.Point(across(0.5, 1, 1005.0)))


def test_unconverted_villages_inside_coverage_are_listed():
    vill = []
    for vid, d, done, method in (("V1", 500.0, 0, None), ("V2", 500.0, 100, "气代煤"),
                                 ("V3", 1500.0, 0, None), ("V4", 800.0, 100, "洁净型煤"),
                                 ("V5", 200.0, 80, "电代煤")):
        x, y = across(0.5, 1, d)
        vill.append({"id": vid, "name": f"{vid}村", "lon": x, "lat": y, "households": 100.0,
                     "converted_households": float(done), "method": method})
    res = run([boiler("B", *across(0.5, 1, 5000.0))], PIPE,
              villages=pd.DataFrame(vill))
    v = res.tables["network_villages"].set_index("id")
    # V2 converted; V3 beyond 1 km; V4 converted to 洁净型煤 is not clean heating; V5 80 %
    assert sorted(v.index) == ["V1", "V4", "V5"]
    assert v.loc["V1", "network_distance_m"] == pytest.approx(500.0, abs=0.05)
    assert len(res.layers["network_villages"]) == 3


def test_line_file_in_gauss_kruger_is_read_back_to_wgs84(tmp_path):
    g = pipes(PIPE, "EPSG:4548")
    poly = gpd.GeoDataFrame({"id": ["X"], "name": ["面"], "diameter_mm": [1.0],
                             "status": ["在用"]},
                            geometry=[shapely.box(*g.total_bounds)], crs="EPSG:4548")
    path = tmp_path / "net.gpkg"
    pd.concat([g, poly], ignore_index=True).to_file(path, layer="net")
    t = lines.read_lines(path, fields=hr.hn.PIPE_FIELDS, name="heat_network")
    assert list(t.frame["id"]) == ["HN1"]
    assert np.abs(shapely.get_coordinates(t.frame.geometry.iloc[0]) - np.array([A, B])).max() \
        < 1e-8
    assert "not a line" in t.rejected["reason"].iloc[0] and t.rejected["row"].iloc[0] == 2
    assert "EPSG:4548" in t.crs_read


def test_without_heat_network_nothing_changes_but_the_columns():
    res = hr.run({"plants": plants(), "boilers": points_frame([boiler("B", *across(0.5, 1,
                                                                                    10.0))])},
                 hr.Params())
    assert "heat_network" not in res.layers and "coverage" not in res.layers
    b = res.layers["boilers"]
    assert not b["in_network"].any() and not b["target"].any()


def test_network_buffer_parameter_is_checked():
    from spatial.errors import InputError

    with pytest.raises(InputError, match="network_buffer_m"):
        hr.Params(network_buffer_m=0)
    x, y = across(0.5, 1, 1500.0)
    res = hr.run({"plants": plants(), "boilers": points_frame([boiler("B", x, y)]),
                  "heat_network": pipes(PIPE)}, hr.Params(network_buffer_m=2000.0))
    assert bool(res.layers["boilers"]["target"].iloc[0])


def test_demo_pipes_and_boilers(root):
    """The demo: boilers GLN01/GLN02 were placed 999 m and 1,001 m from pipe HN05 (冠县),
    ~41 km from the nearest qualifying plant; GLB02 sits on a corner of a built-up polygon."""
    from analyses import runner
    from spatial import config

    conf = config.load(root / "configs" / "heat-radius.toml")
    res = hr.run(runner.read_inputs(hr, conf), hr.Params(**conf["params"]))
    b = res.layers["boilers"].set_index("id")
    assert b.loc["GLN01", "target_rule"] == "network" and not b.loc["GLN02", "target"]
    assert b.loc["GLN01", "network_distance_m"] == pytest.approx(999.0, abs=0.05)
    assert b.loc["GLN02", "network_distance_m"] == pytest.approx(1001.0, abs=0.05)
    assert str(res.layers["heat_network"].crs) == "EPSG:4326"
    bio = res.layers["biomass"].set_index("id")
    assert bool(bio.loc["GLB02", "in_built_up"]) and len(res.tables["network_villages"])


def test_a_table_given_as_heat_network_is_an_input_error(tmp_path):
    from spatial.errors import InputError

    path = tmp_path / "pipes.csv"
    path.write_text("编号,经度,纬度\nHN1,116.5,36.9\n", encoding="utf-8")
    with pytest.raises(InputError, match="must be a line file"):
        lines.read_lines(path, fields=hr.hn.PIPE_FIELDS, name="heat_network")
