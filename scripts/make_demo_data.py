"""Generate the illustrative demo inventories in data/raw/ (seeded, reproducible).

The bureaus' inventories are not public, so the demo runs on plausible made-up ones, written
in the formats real files come in (a per-unit plant list in UTF-8, a boiler inventory exported
from an office system as GBK CSV with Chinese headers). Every name carries "（示例）": nothing
here describes a real facility.

Usage::

    python scripts/make_demo_data.py            # rewrites data/raw/plants.csv, boilers.csv

Requires data/raw/counties.gpkg (see scripts/extract_counties.py).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from demo_common import random_points_in
from pyproj import Geod

ROOT = Path(__file__).resolve().parent.parent
RAW = ROOT / "data" / "raw"
GEOD = Geod(ellps="WGS84")

# id, name, county code, units (MW each), is_chp, fuel, status
PLANTS = [
    ("P01", "东昌府热电厂（示例）", "371502", [350, 350], "是", "煤", "在运"),
    ("P02", "临清热电厂（示例）", "371581", [150, 150], "是", "煤", "在运"),       # exactly 300 MW
    ("P03", "茌平热电厂（示例）", "371503", [135], "是", "煤", "在运"),            # too small
    ("P04", "任城热电厂（示例）", "370811", [330, 330], "是", "煤", "在运"),
    ("P05", "邹城发电厂（示例）", "370883", [600, 600, 600, 600], "否", "煤", "在运"),  # not CHP
    ("P06", "嘉祥热电厂（示例）", "370829", [350], "是", "煤", "关停"),             # retired
    ("P07", "金乡热电厂（示例）", "370828", [200, 200], "是", "天然气", "在建"),     # building
    ("P08", "曲阜热电厂（示例）", "370881", [350], "是", "煤", "在运"),
]
QUALIFYING = ("P01", "P02", "P04", "P08")




def make_plants(counties: gpd.GeoDataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Per-unit plant rows (one row per generating unit), UTF-8 with English headers."""
    rows = []
    by_code = counties.set_index("code").geometry
    for pid, name, code, units, chp, fuel, status in PLANTS:
        poly = by_code[code]
        c = poly.representative_point()
        lng, lat = random_points_in(poly.intersection(c.buffer(0.08)), 1, rng)
        for k, mw in enumerate(units, 1):
            rows.append({"id": pid, "name": name, "unit": f"#{k}", "lon": round(lng[0], 6),
                         "lat": round(lat[0], 6), "capacity_mw": mw, "is_chp": chp,
                         "fuel": fuel, "status": status})
    return pd.DataFrame(rows)


def make_boilers(counties: gpd.GeoDataFrame, plants: pd.DataFrame, rng: np.random.Generator,
                 n: int = 420) -> pd.DataFrame:
    """A boiler inventory as exported by a county system (Chinese headers, GBK)."""
    area = counties.to_crs(32650).area.to_numpy()
    share = rng.multinomial(n, area / area.sum())
    lng, lat, county = [], [], []
    for geom, k, name in zip(counties.geometry, share, counties["name"], strict=True):
        x, y = random_points_in(geom, int(k), rng)
        lng.append(x)
        lat.append(y)
        county += [name] * int(k)
    lng, lat = np.concatenate(lng), np.concatenate(lat)
    n = len(lng)
    fuel = rng.choice(["燃煤", "天然气", "生物质", "电"], n, p=[0.6, 0.25, 0.1, 0.05])
    kind = rng.choice(["锅炉", "小热电机组", "自备电厂"], n, p=[0.85, 0.1, 0.05])
    th = rng.choice([1, 2, 4, 6, 10, 15, 20, 35, 75], n,
                    p=[0.12, 0.15, 0.2, 0.15, 0.15, 0.08, 0.08, 0.05, 0.02]).astype(float)
    th[kind != "锅炉"] *= 4
    status = rng.choice(["在用", "关停", "在建"], n, p=[0.86, 0.1, 0.04])
    df = pd.DataFrame({
        "编号": [f"GL{i:04d}" for i in range(1, n + 1)],
        "单位名称": [f"{c}示例企业{i:03d}（示例）" for i, c in enumerate(county, 1)],
        "经度": np.round(lng, 6), "纬度": np.round(lat, 6), "蒸吨": th, "燃料类型": fuel,
        "类型": kind, "状态": status, "县区": county, "所属电厂编号": "",
    })
    # Boilers metres from the 30 km line of qualifying plants, for the boundary checks.
    p = plants.drop_duplicates("id").set_index("id")
    edge = []
    for j, (pid, d_km) in enumerate([("P01", 29.99), ("P01", 30.01), ("P04", 29.999),
                                     ("P04", 30.001), ("P08", 29.995), ("P02", 30.005)]):
        az = 37.0 + 71.0 * j
        x, y, _ = GEOD.fwd(p.at[pid, "lon"], p.at[pid, "lat"], az, d_km * 1000.0)
        edge.append({"编号": f"GLE{j + 1:02d}",
                     "单位名称": f"边界测试锅炉{j + 1}（示例，距{pid} {d_km} km）",
                     "经度": round(x, 7), "纬度": round(y, 7), "蒸吨": 10.0, "燃料类型": "燃煤",
                     "类型": "锅炉", "状态": "在用", "县区": "", "所属电厂编号": ""})
    # The captive units of a qualifying plant itself: not its own targets.
    for k in (1, 2):
        edge.append({"编号": f"GLP01-{k}", "单位名称": f"东昌府热电厂自备机组{k}（示例）",
                     "经度": round(p.at["P01", "lon"] + 0.002 * k, 6),
                     "纬度": round(p.at["P01", "lat"], 6), "蒸吨": 130.0, "燃料类型": "燃煤",
                     "类型": "自备电厂", "状态": "在用", "县区": "", "所属电厂编号": "P01"})
    # Words offices type (issue 11, the 2017 catalogue): coal and coal products, a blank fuel,
    # a bare 煤气 (to review), idle (停用/备用) and 在营 boilers, 5-7 km from P01.
    for j, (fuel, status) in enumerate([("无烟煤", "在用"), ("焦炭", "在营"), ("水煤浆", "停用"),
                                        ("", "在用"), ("煤气", "在用"), ("型煤", "备用")]):
        x, y, _ = GEOD.fwd(p.at["P01", "lon"], p.at["P01", "lat"], 15.0 + 60.0 * j,
                           5000.0 + 400.0 * j)
        edge.append({"编号": f"GLV{j + 1:02d}", "单位名称": f"燃料示例企业{j + 1}（示例）",
                     "经度": round(x, 7), "纬度": round(y, 7), "蒸吨": 6.0, "燃料类型": fuel,
                     "类型": "锅炉", "状态": status, "县区": "", "所属电厂编号": ""})
    # Rows an office export really contains: no coordinates, text in a number column.
    edge.append({"编号": "GL9998", "单位名称": "坐标待补充企业（示例）", "经度": None, "纬度": None,
                 "蒸吨": 4.0, "燃料类型": "燃煤", "类型": "锅炉", "状态": "在用", "县区": "莘县",
                 "所属电厂编号": ""})
    edge.append({"编号": "GL9999", "单位名称": "坐标填写错误企业（示例）", "经度": "不详",
                 "纬度": "36.5", "蒸吨": 2.0, "燃料类型": "燃煤", "类型": "锅炉", "状态": "在用",
                 "县区": "冠县", "所属电厂编号": ""})
    out = pd.concat([df, pd.DataFrame(edge)], ignore_index=True)
    return add_biomass(out, plants)


#: node 1002 of data/raw/builtup_dongchangfu.osm, a corner of its residential way 1 (lng, lat)
BUILT_UP_CORNER = (115.9761942, 36.4485000)


def add_biomass(boilers: pd.DataFrame, plants: pd.DataFrame) -> pd.DataFrame:
    """Biomass boilers of the heat-radius screens (issue 17) and the 超低排放 column.

    The rows above keep their values (the column is appended, drawn from its own generator):
    biomass rows get 是/否/blank; then boilers by the built-up area of 东昌府区 (inside, on a
    corner of a built-up polygon, small and large ones outside) and the coal boilers 999 m and
    1,001 m from a pipe of the demo heat network (scripts/make_demo_heat_network.py).
    """
    rng = np.random.default_rng(20261129)
    bio = (boilers["燃料类型"] == "生物质").to_numpy()
    ul = np.full(len(boilers), "", dtype=object)
    ul[bio] = rng.choice(["是", "否", ""], int(bio.sum()), p=[0.3, 0.5, 0.2])
    boilers = boilers.assign(超低排放=ul)
    rows = []
    for j, (x, y, th, flag, what) in enumerate([
            (115.9750, 36.4550, 6.0, "否", "建成区内"), (*BUILT_UP_CORNER, 4.0, "", "建成区边上"),
            (116.0000, 36.4630, 15.0, "是", "建成区内，已超低"),
            (115.9300, 36.4200, 4.0, "否", "建成区外小型"),
            (115.9100, 36.4000, 20.0, "否", "建成区外")]):
        rows.append({"编号": f"GLB{j + 1:02d}",
                     "单位名称": f"生物质示例企业{j + 1}（示例，{what}）",
                     "经度": x, "纬度": y, "蒸吨": th, "燃料类型": "生物质成型燃料", "类型": "锅炉",
                     "状态": "在用", "县区": "东昌府区", "所属电厂编号": "", "超低排放": flag})
    # coal boilers either side of the 1,000 m coverage line of pipe HN05 (冠县), placed
    # perpendicular to its first segment from the segment's geodesic midpoint
    (x0, y0), (x1, y1) = HN05[0], HN05[1]
    az, _, length = GEOD.inv(x0, y0, x1, y1)
    mx, my, baz = GEOD.fwd(x0, y0, az, length / 2.0)
    for j, d in enumerate((999.0, 1001.0)):
        x, y, _ = GEOD.fwd(mx, my, baz + 180.0 - 90.0, d)
        rows.append({"编号": f"GLN{j + 1:02d}",
                     "单位名称": f"管网边界锅炉{j + 1}（示例，距管网{d:g}米）",
                     "经度": round(x, 8), "纬度": round(y, 8), "蒸吨": 4.0, "燃料类型": "燃煤",
                     "类型": "锅炉", "状态": "在用", "县区": "冠县", "所属电厂编号": "",
                     "超低排放": ""})
    return pd.concat([boilers, pd.DataFrame(rows)], ignore_index=True)


#: the first two vertices of pipe HN05 of the demo heat network (冠县城区支线), lng, lat
HN05 = ((115.4700, 36.4850), (115.4450, 36.4700))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=20261123)
    ap.add_argument("--out", type=Path, default=RAW)
    args = ap.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    counties = gpd.read_file(RAW / "counties.gpkg")
    plants = make_plants(counties, rng)
    boilers = make_boilers(counties, plants, rng)
    args.out.mkdir(parents=True, exist_ok=True)
    plants.to_csv(args.out / "plants.csv", index=False, encoding="utf-8", lineterminator="\n")
    boilers.to_csv(args.out / "boilers.csv", index=False, encoding="gbk", lineterminator="\r\n")
    print(f"wrote {len(plants)} plant unit rows and {len(boilers)} boilers to {args.out}")


if __name__ == "__main__":
    main()
