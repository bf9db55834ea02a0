"""no-burn-zones policy: zone classes by hand, 洁净型煤, county split, township mode (issue 11)."""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from conftest import points_frame
from h3.api import basic_int as h3i
from pyproj import Geod

from analyses import no_burn_zones as nbz
from analyses import vocab
from spatial import h3grid

RES = 9
GEOD = Geod(ellps="WGS84")
CENTRE = int(h3grid.points_to_cells([36.45], [115.98], resolution=RES)[0])


def area_km2(g):
    return abs(GEOD.geometry_area_perimeter(shapely.orient_polygons(g))[0]) / 1e6


def villages(cells, converted=True, **kw):
    lat, lng = h3grid.cell_centers(np.asarray(sorted(cells), dtype=np.uint64))
    conv = np.broadcast_to(converted, lat.shape)
    return [{"id": f"V{i}", "name": f"村{i}", "lon": x, "lat": y, "households": 100.0,
             "converted_households": 100.0 if c else 0.0, **kw}
            for i, (x, y, c) in enumerate(zip(lng, lat, conv, strict=True))]


# ------------------------------------------------------------------------------ zone classes
DISK = sorted(h3i.grid_disk(CENTRE, 3))
FAC = [  # id, kind, fuel, t/h, sulphur %, ash %, dedicated boiler, status
    ("F1", "锅炉", "燃煤", 10, 0.8, 8, None, "在用"),
    ("F2", "锅炉", "燃煤", 10, 0.3, 8, None, "在用"),
    ("F3", "锅炉", "燃煤", 35, 1.0, 20, None, "在用"),
    ("F4", "锅炉", "燃煤", 10, None, None, None, "在用"),
    ("F5", "茶水炉", "型煤", None, 0.6, None, None, "停用"),
    ("F6", "锅炉", "重油", 40, None, None, None, "在用"),
    ("F7", "散煤经营点", None, None, None, None, None, "在营"),
    ("F8", "锅炉", "生物质成型燃料", 4, None, None, False, "在用"),
    ("F9", "锅炉", "生物质成型燃料", 4, None, None, True, "在用"),
    ("F10", "锅炉", "天然气", 4, None, None, None, "在用"),
    ("F11", "锅炉", None, 4, None, None, None, "在用"),
    ("F12", "锅炉", "燃煤", None, 0.3, 5, None, "在用"),
    ("F13", "锅炉", "燃煤", 10, 0.8, 8, None, "已取缔"),
]
# worked out by hand from the catalogue's text (see analyses/noburn_rules.py)
EXPECTED = {
    "I": ({"F1", "F5", "F6", "F7"}, {"F4": "quality_unknown", "F11": "fuel_unknown"}),
    "II": ({"F1", "F2", "F4", "F5", "F6", "F7"},
           {"F11": "fuel_unknown", "F12": "capacity_unknown"}),
    "III": ({"F1", "F2", "F3", "F4", "F5", "F6", "F7", "F8", "F12"}, {"F11": "fuel_unknown"}),
}


def class_inputs():
    lat, lng = h3grid.cell_centers(np.asarray(DISK[:len(FAC)], dtype=np.uint64))
    fac = [{"id": i, "name": i, "kind": k, "fuel": f, "capacity_th": th, "sulfur_pct": s,
            "ash_pct": a, "dedicated_boiler": d, "status": st, "lon": x, "lat": y}
           for (i, k, f, th, s, a, d, st), x, y in zip(FAC, lng, lat, strict=True)]
    fac.append({**fac[0], "id": "F14", "lon": 116.5, "lat": 36.9})  # outside every zone
    return {"villages": points_frame(villages(DISK)), "facilities": points_frame(fac)}


@pytest.mark.parametrize("zone_class", ["I", "II", "III"])
def test_each_zone_class_gives_the_violations_worked_out_by_hand(zone_class):
    p = nbz.Params(zone_class=zone_class, point_radius_m=0.0, fill_m=0.0, min_part_km2=0.0)
    res = nbz.run(class_inputs(), p)
    viol = res.layers["violations"]
    want_v, want_r = EXPECTED[zone_class]
    assert set(viol["id"]) == want_v
    assert viol["rule"].notna().all()
    assert dict(zip(res.tables["facility_review"]["id"],
                    res.tables["facility_review"]["finding"], strict=True)) == want_r
    rules = viol.set_index("id")["rule"]
    assert "石油焦" in rules["F6"] and "销售" in rules["F7"]
    if zone_class == "I":
        assert "0.5%" in rules["F1"]
    assert any(f"Zone class {zone_class}" in s for s in res.summary)
    assert zone_class in res.title or {"I": "Ⅰ", "II": "Ⅱ", "III": "Ⅲ"}[zone_class] in res.title


def test_unknown_facility_status_rejected_and_config_kind_honoured():
    inputs = class_inputs()
    inputs["facilities"].loc[0, "status"] = "待核查"
    inputs["facilities"].loc[1, "kind"] = "煤炭零售点"
    p = nbz.Params(point_radius_m=0.0, fill_m=0.0, min_part_km2=0.0)
    res = nbz.run(inputs, p)
    rej = res.tables["rejected"].set_index("id")
    assert "unknown status '待核查'" in rej.loc["F1", "reason"]
    assert "unknown kind '煤炭零售点'" in rej.loc["F2", "reason"]
    with vocab.extended({"kind": {"煤炭零售点": "coal_seller"}}):
        res = nbz.run(inputs, p)
    assert "F2" in set(res.layers["violations"]["id"])


def test_clean_coal_village_counts_as_unconverted():
    ring = sorted(set(h3i.grid_disk(CENTRE, 1)) - {CENTRE})
    rows = villages([CENTRE], method="洁净型煤") + [
        {**r, "id": f"R{i}"} for i, r in enumerate(villages(ring, method="气代煤"))]
    p = nbz.Params(point_radius_m=0.0, fill_m=0.0, min_part_km2=0.0)
    res = nbz.run({"villages": points_frame(rows)}, p)
    v = res.layers["villages"].set_index("id")
    assert not v.loc["V0", "converted"] and v.loc["V0", "is_gap"]   # 100 % by counts, yet out
    assert v.loc[[f"R{i}" for i in range(6)], "converted"].all()
    assert any("洁净型煤" in s and s.startswith("1 villages") for s in res.summary)


# ------------------------------------------------------------------------------ counties
def two_counties(x_split):
    return gpd.GeoDataFrame({"code": ["A", "B"], "name": ["甲县", "乙县"]},
                            geometry=[shapely.box(115.8, 36.3, x_split, 36.6),
                                      shapely.box(x_split, 36.3, 116.2, 36.6)], crs=4326)


def test_fill_never_reaches_a_county_without_village_rows():
    disk = sorted(h3i.grid_disk(CENTRE, 2))
    lat, lng = h3grid.cell_centers(np.asarray(disk, dtype=np.uint64))
    counties = two_counties(float(lng.max()) + 0.004)   # B starts ~400 m east of the villages
    p = nbz.Params(point_radius_m=0.0, fill_m=2000.0, min_part_km2=0.0)
    res = nbz.run({"villages": points_frame(villages(disk)), "counties": counties}, p)
    cells = res.layers["cells"]
    cc = shapely.centroid(cells.geometry.to_numpy())
    in_b = shapely.contains(counties.geometry.iloc[1], cc)
    assert in_b.any()                                  # the fill did reach B's cells …
    assert not (cells["in_zone"].to_numpy() & in_b).any()   # … but none joined the zone
    assert (cells.loc[in_b, "reason"] == "county without village data").all()
    assert set(res.layers["zone"]["county_name"]) == {"甲县"}


def test_no_part_under_the_minimum_after_the_split_by_county():
    disk = sorted(h3i.grid_disk(CENTRE, 6))            # ~2.9 km across
    lat, lng = h3grid.cell_centers(np.asarray(disk, dtype=np.uint64))
    split = float(np.quantile(lng, 0.95))              # B holds a thin eastern strip
    counties = two_counties(split)
    rows = villages(disk)
    p = nbz.Params(point_radius_m=0.0, fill_m=0.0, min_part_km2=1.0)
    res = nbz.run({"villages": points_frame(rows), "counties": counties}, p)
    zone = res.layers["zone"]
    # B's strip of cells (by centre), measured independently, is under the minimum
    in_b = lng > split
    strip = shapely.union_all(h3grid.cells_to_polygons(np.asarray(disk, np.uint64)[in_b]))
    assert 0 < area_km2(strip) < 1.0
    assert set(zone["county_name"]) == {"甲县"}
    for g in zone.geometry:
        assert area_km2(g) >= 1.0
    assert any("parts under 1 km²" in s and not s.split(";")[1].startswith(" 0 parts")
               for s in res.summary)


# ------------------------------------------------------------------------------ township mode
def test_township_mode_on_hand_drawn_townships():
    towns = gpd.GeoDataFrame(
        {"code": ["T1", "T2", "T3"], "name": ["一镇", "二镇", "三镇"]},
        geometry=[shapely.box(116.00, 36.40, 116.05, 36.45), shapely.box(116.05, 36.40, 116.10,
                                                                          36.45),
                  shapely.box(116.10, 36.40, 116.15, 36.45)], crs=4326)
    rows = [{"id": f"A{i}", "lon": 116.01 + 0.01 * i, "lat": 36.42, "households": 50.0,
             "converted_households": 50.0} for i in range(3)]
    rows += [{"id": "B0", "lon": 116.06, "lat": 36.42, "households": 50.0,
              "converted_households": 50.0},
             {"id": "B1", "lon": 116.08, "lat": 36.43, "households": 80.0,
              "converted_households": 10.0}]
    p = nbz.Params(unit="township", min_part_km2=1.0)
    res = nbz.run({"villages": points_frame(rows), "townships": towns}, p)
    zone = res.layers["zone"]
    assert list(zone["township_name"]) == ["一镇"]          # 二镇 has one unconverted village,
    assert zone["area_km2"].iloc[0] == pytest.approx(      # 三镇 has no village rows
        area_km2(towns.geometry.iloc[0]), abs=1e-6)
    assert zone.geometry.iloc[0].equals(towns.geometry.iloc[0])
    assert zone["households"].iloc[0] == 150
    v = res.layers["villages"].set_index("id")
    assert v.loc[["A0", "A1", "A2"], "in_zone"].all() and not v.loc[["B0", "B1"], "in_zone"].any()
    assert any("1 of 2 townships" in s for s in res.summary)
    with pytest.raises(Exception, match="townships"):
        nbz.run({"villages": points_frame(rows)}, p)


def test_changes_per_county_with_households():
    disk = sorted(h3i.grid_disk(CENTRE, 4))
    lat, lng = h3grid.cell_centers(np.asarray(disk, dtype=np.uint64))
    mid = float(np.median(lng))
    counties = two_counties(mid)
    current = gpd.GeoDataFrame({"name": ["现行"]}, geometry=[shapely.box(
        mid - 0.05, 36.30, mid + 0.05, float(np.median(lat)))], crs=4326)
    rows = villages(disk)
    p = nbz.Params(point_radius_m=0.0, fill_m=0.0, min_part_km2=0.0)
    res = nbz.run({"villages": points_frame(rows), "counties": counties,
                   "current_zone": current}, p)
    ch = res.layers["changes"]
    zone = res.layers["zone"]
    assert set(ch["change"]) == {"added", "removed"}
    for r in ch.itertuples():   # removed: inside its county; added: inside its county's zone
        where = (counties.set_index("name").geometry[r.county_name] if r.change == "removed"
                 else shapely.union_all(zone.loc[zone["county_name"] == r.county_name,
                                                 "geometry"].to_numpy()))
        assert shapely.covers(where.buffer(1e-9), r.geometry)
    bc = res.tables["by_county"].set_index("county_name")
    pts = shapely.points(lng, lat)
    cur = current.geometry.iloc[0]
    for name, g in counties.set_index("name").geometry.items():
        # households of villages joining the zone in this county, brute force
        want = 100 * int((shapely.contains(g, pts) & ~shapely.covers(cur, pts)).sum())
        assert bc.loc[name, "added_households"] == want
    assert any(s.strip().startswith("甲县:") for s in res.summary)


@pytest.mark.parametrize("kw, match", [
    ({"coal_kinds": ("coal_sellr",)}, "coal_kinds"), ({"coal_fuels": ()}, "coal_fuels"),
    ({"min_part_km2": float("nan")}, "min_part_km2"), ({"zone_class": "IV"}, "zone_class"),
    ({"unit": "county"}, "unit"), ({"fill_m": float("inf")}, "fill_m")])
def test_bad_params_name_the_parameter(kw, match):
    with pytest.raises(ValueError, match=match):
        nbz.Params(**kw)
    assert nbz.Params(coal_fuels=("coal", "无烟煤")).coal_fuels == ("coal", "无烟煤")


def test_demo_zone_stays_in_counties_with_villages_and_no_small_part(demo_out, root):
    d = demo_out / "layers" / "no-burn-zones" / "no-burn-zones.gpkg"
    zone = gpd.read_file(d, layer="zone")
    villages_csv = pd.read_csv(root / "data/raw/villages.csv", encoding="gbk", dtype=str)
    assert len(zone) and set(zone["county_name"]) <= set(villages_csv["县区"])
    assert zone["township_name"].notna().all()            # the demo runs in township mode
    for g in zone.geometry:
        assert area_km2(g) >= 1.0
    changes = gpd.read_file(d, layer="changes")
    added = changes[changes["change"] == "added"]
    assert set(added["county_name"]) <= set(villages_csv["县区"])
