"""heat-radius: decisions against a pyproj.Geod brute force, unit merging, edge cases."""

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import pytest
import shapely
from conftest import points_frame
from pyproj import Geod

from analyses import heat_radius as hr
from spatial import webmap
from spatial.errors import InputError

G = Geod(ellps="WGS84")
PLANT_COLS = dict(is_chp=True, fuel="coal", status="operating")


def plant(pid, name, lon, lat, mw, **kw):
    return {"id": pid, "name": name, "lon": lon, "lat": lat, "capacity_mw": mw,
            **{**PLANT_COLS, **kw}}


def boiler(bid, lon, lat, **kw):
    base = {"id": bid, "name": f"锅炉{bid}", "capacity_th": 10.0, "fuel": "coal", "kind": "boiler",
            "status": "operating", "county": None, "plant_id": None}
    return {**base, "lon": lon, "lat": lat, **kw}


def make_inputs(seed=3):
    plants = [
        plant("A", "甲热电", 116.00, 36.40, 350), plant("A", "甲热电", 116.00, 36.40, 350),
        plant("B", "乙热电", 116.30, 36.55, 150), plant("B", "乙热电", 116.30, 36.55, 150),
        plant("C", "丙热电", 116.20, 36.20, 140), plant("C", "丙热电", 116.20, 36.20, 140),
        plant("D", "丁电厂", 116.10, 36.50, 1200, is_chp=False),
        plant("E", "戊热电", 116.40, 36.30, 600, status="retired"),
    ]
    rng = np.random.default_rng(seed)
    boilers = [boiler(f"R{i}", x, y, fuel=rng.choice(["coal", "gas"], p=[0.7, 0.3]))
               for i, (x, y) in enumerate(zip(rng.uniform(115.5, 116.9, 600),
                                              rng.uniform(35.9, 36.9, 600), strict=False))]
    for j, d in enumerate([29_990.0, 30_010.0, 29_999.0, 30_001.0]):
        x, y, _ = G.fwd(116.00, 36.40, 200 + 30 * j, d)  # away from B
        boilers.append(boiler(f"E{j}", x, y))
    boilers.append(boiler("OWN", 116.001, 36.40, plant_id="A", kind="captive"))
    return {"plants": points_frame(plants), "boilers": points_frame(boilers)}


def test_decisions_equal_geod_brute_force():
    inputs = make_inputs()
    res = hr.run(inputs, hr.Params())
    b = res.layers["boilers"].set_index("id")
    q = {"A": (116.00, 36.40), "B": (116.30, 36.55)}  # qualifying: A 700 MW, B exactly 300 MW
    assert sorted(res.layers["plants"]["id"]) == ["A", "B"]
    ids = [i for i in b.index]
    dist = np.column_stack([G.inv(b.loc[ids, "lon"], b.loc[ids, "lat"],
                                  np.full(len(ids), x), np.full(len(ids), y))[2]
                            for x, y in q.values()])
    own = np.array([i == "OWN" for i in ids])
    dist[own, 0] = np.inf  # A's own unit is not measured against A
    within = dist <= 30_000.0
    np.testing.assert_array_equal(b.loc[ids, "in_radius"].to_numpy(), within.any(axis=1))
    np.testing.assert_array_equal(b.loc[ids, "n_plants_within"].to_numpy(), within.sum(axis=1))
    np.testing.assert_allclose(b.loc[ids, "distance_km"].to_numpy(),
                               np.round(dist.min(axis=1) / 1000, 3), atol=1e-9)
    names = np.array(list(q))[dist.argmin(axis=1)]
    np.testing.assert_array_equal(b.loc[ids, "nearest_plant_id"].to_numpy(), names)
    # boilers metres either side of the 30 km line of A
    assert b.loc["E0", "in_radius"] and not b.loc["E1", "in_radius"]
    assert b.loc["E2", "in_radius"] and not b.loc["E3", "in_radius"]
    # targets: coal, inside
    want_target = within.any(axis=1) & (b.loc[ids, "fuel"] == "coal").to_numpy()
    np.testing.assert_array_equal(b.loc[ids, "target"].to_numpy(), want_target)
    # per-plant counts: targets within each plant's own radius
    p = res.layers["plants"].set_index("id")
    for k, pid in enumerate(q):
        assert p.loc[pid, "n_boilers_inside"] == int((within[:, k] & want_target).sum())
        assert p.loc[pid, "capacity_th_inside"] == pytest.approx(
            10.0 * (within[:, k] & want_target).sum())


def test_unit_rows_are_summed_per_plant():
    merged = hr.merge_units(make_inputs()["plants"])
    assert merged.set_index("id")["capacity_mw"].to_dict() == {
        "A": 700.0, "B": 300.0, "C": 280.0, "D": 1200.0, "E": 600.0}
    assert merged.set_index("id")["n_units"]["A"] == 2


def test_radius_layer_is_geodesic():
    res = hr.run(make_inputs(), hr.Params(radius_km=15))
    ring = res.layers["radius"].set_index("plant_id").geometry["A"].exterior
    xy = np.asarray(ring.coords)
    d = G.inv(np.full(len(xy), 116.0), np.full(len(xy), 36.4), xy[:, 0], xy[:, 1])[2]
    np.testing.assert_allclose(d, 15_000.0, atol=0.01)


def test_cells_cover_radius_and_count_targets():
    res = hr.run(make_inputs(), hr.Params())
    cells = res.layers["cells"]
    b = res.layers["boilers"]
    t = b[b["target"]]
    assert cells["n_targets"].sum() == len(t)
    # reference: h3 itself, one target at a time (h3 takes lat, lng)
    want = pd.Series([h3.latlng_to_cell(la, ln, 7) for la, ln in zip(t["lat"], t["lon"],
                                                                      strict=True)])
    counts = cells.set_index("h3_cell")["n_targets"]
    assert counts[counts > 0].sort_index().to_dict() == want.value_counts().sort_index().to_dict()
    # every radius circle is covered by the cells
    union = shapely.union_all(cells.geometry.to_numpy())
    assert union.covers(res.layers["radius"].geometry.iloc[0].buffer(-0.01))


def test_no_qualifying_plant_gives_valid_empty_outputs():
    res = hr.run(make_inputs(), hr.Params(min_capacity_mw=5000))
    assert len(res.layers["plants"]) == 0 and len(res.layers["radius"]) == 0
    assert len(res.layers["cells"]) == 0
    assert not res.layers["boilers"]["in_radius"].any()
    assert res.layers["boilers"]["distance_km"].isna().all()
    assert any("No plant qualifies" in s for s in res.summary)
    html = webmap.render_html(hr.build_map(res), offline=True)
    assert "锅炉" in html


def test_chp_only_without_is_chp_column_is_an_error():
    inputs = make_inputs()
    inputs["plants"]["is_chp"] = None
    with pytest.raises(InputError, match="is_chp.*chp_only=false"):
        hr.run(inputs, hr.Params())
    res = hr.run(inputs, hr.Params(chp_only=False))
    assert "D" in set(res.layers["plants"]["id"])


def test_by_county_sums():
    inputs = make_inputs()
    counties = gpd.GeoDataFrame({"code": ["1", "2"], "name": ["西县", "东县"]},
                                geometry=[shapely.box(115, 35, 116.2, 37),
                                          shapely.box(116.2, 35, 117, 37)], crs=4326)
    inputs["counties"] = counties
    res = hr.run(inputs, hr.Params())
    b = res.layers["boilers"]
    t = res.tables["by_county"].set_index("county_name")
    coal = b[b["fuel"] == "coal"]
    for name in ["西县", "东县"]:
        sel = coal[coal["county_name"] == name]
        assert t.loc[name, "n_inside"] == sel["in_radius"].sum()
        assert t.loc[name, "n_outside"] == (~sel["in_radius"]).sum()
    assert t["n_inside"].sum() == b["target"].sum()


def test_params_validate():
    with pytest.raises(InputError, match="radius_km"):
        hr.Params(radius_km=-1)
    with pytest.raises(InputError, match="boiler_fuels"):
        hr.Params(boiler_fuels=("peat",))


def test_map_escapes_names():
    inputs = make_inputs()
    inputs["boilers"].loc[0, "name"] = "<script>alert('x')</script>"
    html = webmap.render_html(hr.build_map(hr.run(inputs, hr.Params())), offline=True)
    assert "<script>alert('x')</script>" not in html
    assert "&lt;script&gt;" in html
