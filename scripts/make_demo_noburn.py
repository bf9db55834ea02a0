"""Generate the illustrative no-burn-zones demo inputs in data/raw/ (seeded, reproducible).

Village clean-heating conversion lists, the zone in force and coal-facility inventories are
not public, so the demo runs on plausible made-up ones in the formats real files come in:

- ``villages.csv``: GBK CSV with Chinese headers (编号, 村名, 乡镇, 县区, 经度, 纬度, 总户数,
  已改造户数, 改造方式, 完成日期), about 2,400 villages over six demo counties; conversion
  progresses outward from each county seat (a logistic fall-off with distance), with a few
  unconverted villages left inside the converted core (they become gaps) and a few at exactly
  94-96 % converted (either side of the 95 % threshold). Conversion is pushed township by
  township: two thirds of the mostly converted townships are finished whole, and a few
  converted villages outside them switched to 洁净型煤 (not clean heating).
- ``current_zone.gpkg``: the zone in force, a hand-drawn-looking polygon (8-12 vertices) around
  each county seat.
- ``coal_facilities.csv``: GBK CSV of boilers, coal sellers (散煤销售点) and tea-water stoves
  (茶水炉) with fuel and status, denser near the seats.
- ``builtup_dongchangfu.osm``: a small OSM XML file with landuse=residential/commercial/
  industrial ways over part of 东昌府区's seat (plus a farmland way and a road, which are not
  built-up), read offline through osmnx.

Every name carries "（示例）": nothing here describes a real village, zone or facility.

Usage::

    python scripts/make_demo_noburn.py

Requires data/raw/counties.gpkg and data/raw/townships.gpkg (scripts/make_demo_townships.py).
"""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import quoteattr

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from demo_common import random_points_in
from pyproj import Geod

ROOT = Path(__file__).resolve().parent.parent
RAW = ROOT / "data" / "raw"
GEOD = Geod(ellps="WGS84")
SEED = 20261125

# county code -> (approximate seat lng, lat, converted radius km)
SEATS = {
    "371502": (115.985, 36.452, 16.0),   # 东昌府区
    "371503": (116.255, 36.580, 11.0),   # 茌平区
    "371525": (115.445, 36.484, 10.0),   # 冠县
    "370811": (116.595, 35.415, 14.0),   # 任城区
    "370828": (116.312, 35.068, 10.0),   # 金乡县
    "370829": (116.342, 35.408, 9.0),    # 嘉祥县
}
N_VILLAGES = 2400
METHODS = np.array(["气代煤", "电代煤", "集中供热"])




def seat_distance_km(code, x, y):
    sx, sy, _ = SEATS[code]
    _, _, d = GEOD.inv(np.full_like(x, sx), np.full_like(y, sy), x, y)
    return d / 1000.0


def make_villages(counties, towns, rng) -> pd.DataFrame:
    sel = counties[counties["code"].isin(SEATS)].reset_index(drop=True)
    area = sel.to_crs(32650).area.to_numpy()
    share = rng.multinomial(N_VILLAGES, area / area.sum())
    frames = []
    for geom, code, cname, k in zip(sel.geometry, sel["code"], sel["name"], share, strict=True):
        x, y = random_points_in(geom, int(k), rng)
        d = seat_distance_km(code, x, y)
        r0 = SEATS[code][2]
        p = 1.0 / (1.0 + np.exp((d - r0) / 2.5))
        conv = rng.random(len(x)) < p
        core_holdout = (d < 0.6 * r0) & (rng.random(len(x)) < 0.03)   # left behind in the core
        conv &= ~core_holdout
        hh = np.clip(rng.lognormal(np.log(260), 0.5, len(x)), 40, 1500).round().astype(int)
        ratio = np.where(conv, np.where(rng.random(len(x)) < 0.8, 1.0,
                                        rng.uniform(0.95, 1.0, len(x))),
                         rng.choice([0.0, 0.2, 0.5, 0.8], len(x)) * (rng.random(len(x)) < 0.6))
        edge = rng.random(len(x)) < 0.01
        ratio = np.where(edge, rng.choice([0.94, 0.96], len(x)), ratio)
        done = np.ceil(hh * ratio - 1e-9).astype(int)
        done = np.where(ratio >= 1.0, hh, np.minimum(done, hh))
        method = np.where(d < 0.35 * r0, "集中供热",
                          METHODS[(rng.random(len(x)) < 0.35).astype(int)])
        year = np.clip(2017 + (d / r0 * 5).astype(int) + rng.integers(0, 2, len(x)), 2017, 2024)
        date = [f"{yy}-{mm:02d}-{dd:02d}" if c > 0 else ""
                for yy, mm, dd, c in zip(year, rng.integers(9, 12, len(x)),
                                         rng.integers(1, 29, len(x)), done, strict=True)]
        frames.append(pd.DataFrame({"x": x, "y": y, "county": cname, "hh": hh, "done": done,
                                    "method": np.where(done > 0, method, ""), "date": date}))
    v = pd.concat(frames, ignore_index=True)
    tw = gpd.sjoin(gpd.GeoDataFrame(v, geometry=gpd.points_from_xy(v["x"], v["y"]),
                                    crs="EPSG:4326"), towns[["name", "geometry"]],
                   how="left", predicate="within")
    tw = tw[~tw.index.duplicated()]
    v["town"] = tw["name"].fillna("").to_numpy()
    v = _by_township(v)
    out = pd.DataFrame({
        "编号": [f"V{i:05d}" for i in range(1, len(v) + 1)],
        "村名": [f"示例{i}村（示例）" for i in range(1, len(v) + 1)],
        "乡镇": v["town"], "县区": v["county"],
        "经度": v["x"].round(6), "纬度": v["y"].round(6),
        "总户数": v["hh"].astype(str), "已改造户数": v["done"].astype(str),
        "改造方式": v["method"], "完成日期": v["date"],
    })
    # two rows for the rejected table: households missing, converted > households
    out.loc[5, "总户数"] = ""
    out.loc[9, "已改造户数"] = str(int(out.loc[9, "总户数"]) + 20)
    return out


def _by_township(v: pd.DataFrame) -> pd.DataFrame:
    """Conversion pushed township by township (聊办字〔2017〕49号 item 5), with no random draws.

    Townships whose villages are at least 80 % converted were finished by the campaign (every
    village converted), except every third of them (by name), where the core hold-outs stay
    unconverted. Every 41st other converted village switched to 洁净型煤, which is not clean
    heating (item 9): no-burn-zones counts it as unconverted.
    """
    v = v.copy()
    conv = v["done"] >= 0.95 * v["hh"]
    share = conv.groupby(v["town"]).mean()
    mostly = sorted(t for t, s in share.items() if t and s >= 0.8)
    finished = [t for i, t in enumerate(mostly) if i % 3 != 2]
    fill = v["town"].isin(finished).to_numpy() & ~conv.to_numpy()
    v.loc[fill, "done"] = v.loc[fill, "hh"]
    v.loc[fill, "method"] = np.where(np.arange(fill.sum()) % 2 == 0, "气代煤", "电代煤")
    v.loc[fill, "date"] = "2023-10-15"
    conv = v["done"] >= 0.95 * v["hh"]
    rest = np.flatnonzero(conv.to_numpy() & ~v["town"].isin(finished).to_numpy())
    v.loc[rest[::41], "method"] = "洁净型煤"
    return v


def octagon(cx, cy, r_km, rng, n=10):
    az = np.sort(rng.uniform(0, 360, n))
    r = r_km * 1000 * rng.uniform(0.75, 1.1, n)
    x, y, _ = GEOD.fwd(np.full(n, cx), np.full(n, cy), az, r)
    return shapely.Polygon(np.column_stack([np.round(x, 5), np.round(y, 5)]))


def make_current_zone(counties, rng) -> gpd.GeoDataFrame:
    rows = []
    for code, (sx, sy, r0) in SEATS.items():
        county = counties.loc[counties["code"] == code]
        g = shapely.intersection(octagon(sx, sy, 0.75 * r0, rng), county.geometry.iloc[0])
        rows.append({"name": f"{county['name'].iloc[0]}高污染燃料禁燃区（示例）",
                     "county": county["name"].iloc[0], "designated": "2021-10-01",
                     "geometry": shapely.make_valid(g)})
    return gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")


def make_facilities(counties, rng, n=360) -> pd.DataFrame:
    codes = list(SEATS)
    which = rng.integers(0, len(codes), n)
    rows = []
    kinds = np.array(["燃煤锅炉", "散煤销售点", "茶水炉", "锅炉"])
    fuels = np.array(["燃煤", "散煤", "天然气", "电", "生物质"])
    status = np.array(["在用", "在用", "在用", "已关停", "停用"])
    for i in range(n):
        code = codes[which[i]]
        sx, sy, r0 = SEATS[code]
        geom = counties.loc[counties["code"] == code].geometry.iloc[0]
        while True:
            az, r = rng.uniform(0, 360), abs(rng.normal(0, r0 * 0.8)) * 1000
            x, y, _ = GEOD.fwd(sx, sy, az, r)
            if shapely.contains_xy(geom, x, y):
                break
        kind = kinds[rng.integers(0, len(kinds))]
        fuel = "散煤" if kind == "散煤销售点" else fuels[rng.choice(5, p=[.35, .15, .25, .15, .1])]
        rows.append({"编号": f"F{i + 1:04d}", "名称": f"示例{kind}{i + 1}（示例）",
                     "经度": round(x, 6), "纬度": round(y, 6), "燃料类型": fuel, "类型": kind,
                     "状态": status[rng.integers(0, len(status))]})
    return pd.DataFrame(rows)


def make_osm(rng) -> str:
    """A small OSM XML (API 0.6 format) over part of 东昌府区's seat."""
    ways = [  # (landuse, name, centre lng, lat, half-width km, half-height km)
        ("residential", "示例小区一（示例）", 115.975, 36.455, 0.9, 0.7),
        ("residential", "示例小区二（示例）", 115.995, 36.462, 0.7, 0.6),
        ("commercial", "示例商业区（示例）", 115.985, 36.447, 0.5, 0.4),
        ("industrial", "示例工业园（示例）", 116.012, 36.440, 1.2, 0.8),
        ("residential", "示例小区三（示例）", 115.958, 36.438, 0.8, 0.6),
        ("farmland", "示例农田（示例）", 115.940, 36.470, 1.0, 1.0),
    ]
    nodes, way_xml, nid = [], [], 1000
    for k, (lu, name, cx, cy, hw, hh) in enumerate(ways, 1):
        dx = hw / (111.32 * np.cos(np.radians(cy)))
        dy = hh / 110.57
        jitter = rng.uniform(-0.15, 0.15, (6, 2)) * [dx, dy]
        ring = np.array([[cx - dx, cy - dy], [cx, cy - dy], [cx + dx, cy - dy],
                         [cx + dx, cy + dy], [cx, cy + dy], [cx - dx, cy + dy]]) + jitter
        refs = []
        for x, y in ring:
            nid += 1
            nodes.append(f'  <node id="{nid}" version="1" lat="{y:.7f}" lon="{x:.7f}"/>')
            refs.append(nid)
        nd = "".join(f'\n    <nd ref="{r}"/>' for r in [*refs, refs[0]])
        way_xml.append(f'  <way id="{k}" version="1">{nd}\n    <tag k="landuse" v="{lu}"/>'
                       f"\n    <tag k=\"name\" v={quoteattr(name)}/>\n  </way>")
    # a road (not a polygon, not landuse)
    nodes.append('  <node id="9001" version="1" lat="36.4300000" lon="115.9500000"/>')
    nodes.append('  <node id="9002" version="1" lat="36.4700000" lon="116.0200000"/>')
    way_xml.append('  <way id="90" version="1">\n    <nd ref="9001"/>\n    <nd ref="9002"/>'
                   '\n    <tag k="highway" v="primary"/>\n  </way>')
    return ("<?xml version='1.0' encoding='UTF-8'?>\n"
            '<osm version="0.6" generator="lantian scripts/make_demo_noburn.py (illustrative)">\n'
            '  <bounds minlat="36.42" minlon="115.92" maxlat="36.49" maxlon="116.04"/>\n'
            + "\n".join(nodes) + "\n" + "\n".join(way_xml) + "\n</osm>\n")


def main() -> None:
    rng = np.random.default_rng(SEED)
    counties = gpd.read_file(RAW / "counties.gpkg", layer="counties")
    counties["code"] = counties["code"].astype(str)
    towns = gpd.read_file(RAW / "townships.gpkg", layer="townships")
    villages = make_villages(counties, towns, rng)
    with open(RAW / "villages.csv", "w", encoding="gbk", newline="") as f:
        villages.to_csv(f, index=False, lineterminator="\r\n")
    zone = make_current_zone(counties, rng)
    path = RAW / "current_zone.gpkg"
    path.unlink(missing_ok=True)
    zone.to_file(path, layer="current_zone", driver="GPKG")
    fac = make_facilities(counties, rng)
    with open(RAW / "coal_facilities.csv", "w", encoding="gbk", newline="") as f:
        fac.to_csv(f, index=False, lineterminator="\r\n")
    (RAW / "builtup_dongchangfu.osm").write_text(make_osm(rng), encoding="utf-8")
    for name in ("villages.csv", "current_zone.gpkg", "coal_facilities.csv",
                 "builtup_dongchangfu.osm"):
        print(f"wrote data/raw/{name} ({(RAW / name).stat().st_size / 1024:.0f} KB)")


if __name__ == "__main__":
    main()
