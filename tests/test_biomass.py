"""heat-radius, biomass boilers against the built-up area (issue 17).

Hand-made cases: a built-up square whose edges lie on round coordinates, so a boiler typed on
the edge or corner is exactly on it (the rule: on the edge = inside).
"""

import geopandas as gpd
import pandas as pd
import shapely
from conftest import points_frame

from analyses import biomass
from analyses import heat_radius as hr

SQUARE = shapely.box(116.00, 36.00, 116.01, 36.01)


def plants():
    return points_frame([{"id": "P", "name": "P热电", "lon": 117.0, "lat": 37.0,
                          "capacity_mw": 700.0, "is_chp": True, "fuel": "燃煤",
                          "status": "在运"}])


def boiler(bid, lon, lat, th=4.0, ultra_low=None, **kw):
    return {"id": bid, "name": f"单位{bid}", "lon": lon, "lat": lat, "capacity_th": th,
            "fuel": "生物质", "kind": "锅炉", "status": "在用", "plant_id": None,
            "ultra_low": ultra_low, **kw}


def built_up():
    return gpd.GeoDataFrame({"id": ["b1"], "name": ["城区"]}, geometry=[SQUARE],
                            crs="EPSG:4326")


ROWS = [
    boiler("EDGE", 116.01, 36.005, ultra_low=False),       # on the east edge
    boiler("CORNER", 116.00, 36.00),                       # on a corner, ultra_low blank
    boiler("IN_UL", 116.005, 36.005, th=20.0, ultra_low=True),
    boiler("OUT_SMALL", 116.0102, 36.005, th=4.0),         # ~18 m east of the edge
    boiler("OUT_BIG", 116.02, 36.005, th=10.0),            # exactly 10 t/h: not small
    boiler("OUT_NOSIZE", 116.02, 36.006, th=None),
    boiler("PELLET", 116.03, 36.005, th=2.0, fuel="生物质成型燃料"),
    boiler("STRAW", 116.03, 36.006, th=2.0, fuel="秸秆"),
    boiler("COAL", 116.005, 36.004, fuel="燃煤"),
    boiler("GONE", 116.005, 36.003, status="已关停"),
]


def run(rows=ROWS, **kw):
    return hr.run({"plants": plants(), "boilers": points_frame(rows), **kw}, hr.Params())


def test_edge_counts_as_inside_and_advice_by_rule():
    res = run(built_up=built_up())
    b = res.layers["biomass"].set_index("id")
    assert sorted(b.index) == sorted(["EDGE", "CORNER", "IN_UL", "OUT_SMALL", "OUT_BIG",
                                      "OUT_NOSIZE", "PELLET", "STRAW"])  # no coal, no retired
    inside = b["in_built_up"].astype(bool).to_dict()
    assert sorted(k for k, v in inside.items() if v) == ["CORNER", "EDGE", "IN_UL"]
    adv = b["advice"].to_dict()
    assert adv["EDGE"] == biomass.RETROFIT
    assert adv["CORNER"] == biomass.RETROFIT_CHECK
    assert adv["IN_UL"] == biomass.DONE
    assert adv["OUT_SMALL"] == biomass.INTEGRATE
    assert adv["OUT_BIG"] == biomass.KEEP  # 10 t/h is not below small_biomass_th = 10
    assert adv["OUT_NOSIZE"] == biomass.SIZE_UNKNOWN
    assert adv["PELLET"] == adv["STRAW"] == biomass.INTEGRATE
    t = res.tables["biomass"]
    assert set(t["id"][:2]) == {"CORNER", "EDGE"}  # those to retrofit first
    assert t.set_index("id").loc["IN_UL", "capacity_th"] == 20.0
    assert t.set_index("id").loc["CORNER", "ultra_low"] == "未填报"  # blank: never 否
    assert any("2 in the built-up area to retrofit" in s for s in res.summary)


def test_edge_rule_is_shapely_intersects_not_contains():
    """The same points with a polygon one float step smaller: the edge points fall out."""
    lng = [116.01, 116.00, 116.005]
    lat = [36.005, 36.00, 36.005]
    assert list(biomass.in_built_up(lng, lat, built_up())) == [True, True, True]
    shrunk = gpd.GeoDataFrame(geometry=[shapely.box(116.00001, 36.00001, 116.00999, 36.00999)],
                              crs="EPSG:4326")
    assert list(biomass.in_built_up(lng, lat, shrunk)) == [False, False, True]


def test_small_biomass_threshold_parameter():
    res = hr.run({"plants": plants(), "boilers": points_frame(ROWS),
                  "built_up": built_up()}, hr.Params(small_biomass_th=12.0))
    assert res.layers["biomass"].set_index("id").loc["OUT_BIG", "advice"] == biomass.INTEGRATE


def test_without_built_up_every_boiler_is_listed_unplaced():
    res = run()
    b = res.layers["biomass"]
    assert len(b) == 8 and set(b["advice"]) == {biomass.NO_BUILT_UP}
    assert b["in_built_up"].isna().all()
    assert any("no built_up input" in s for s in res.summary)


def test_county_without_built_up_is_not_judged_outside():
    counties = gpd.GeoDataFrame(
        {"code": ["370001", "370002"], "name": ["甲县", "乙县"]},
        geometry=[shapely.box(115.9, 35.9, 116.05, 36.1), shapely.box(116.05, 35.9, 116.2, 36.1)],
        crs="EPSG:4326")
    rows = [*ROWS[:4], boiler("FAR_SMALL", 116.10, 36.0, th=4.0),
            boiler("FAR_BIG", 116.10, 36.01, th=35.0)]
    res = run(rows, built_up=built_up(), counties=counties)
    b = res.layers["biomass"].set_index("id")
    assert pd.isna(b.loc["FAR_BIG", "in_built_up"]) and pd.isna(b.loc["FAR_SMALL", "in_built_up"])
    assert b.loc["FAR_BIG", "advice"] == biomass.NOT_COVERED
    assert b.loc["FAR_SMALL", "advice"].startswith(biomass.INTEGRATE)
    assert b.loc["OUT_SMALL", "in_built_up"] == False  # noqa: E712 (a county with built-up)
    assert any("do not reach" in s or "does not reach" in s for s in res.summary)
