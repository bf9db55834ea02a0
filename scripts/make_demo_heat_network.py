"""Generate the illustrative demo heat-supply network data/raw/heat_network.gpkg (synthetic).

Pipe networks of heat companies are not public, so the demo runs on a made-up one around the
demo's CHP plants of 聊城 (P01 东昌府热电厂, P02 临清热电厂 of scripts/make_demo_data.py): a
trunk and branches through the seat of 东昌府区, a long-distance line from P01 west to the seat
of 冠县 (远距离供热, 聊环发〔2023〕7号 三(三)) that reaches beyond the 30 km heat-supply radius,
a line from P02 into 临清, and pipes under construction (在建) and planned (规划), which do not
cover. Written as offices keep such files: Chinese attribute names (编号, 名称, 管径, 状态) in
CGCS2000 / 3-degree Gauss-Krüger zone 39 (CM 117°E, EPSG:4548, x with the zone number).
Every name carries "（示例）": nothing here describes a real pipe.

Usage::

    python scripts/make_demo_heat_network.py
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import shapely
from make_demo_data import HN05

ROOT = Path(__file__).resolve().parent.parent
RAW = ROOT / "data" / "raw"
P01 = (115.927083, 36.490634)
P02 = (115.848775, 36.802739)

# id, name, diameter (DN, mm), status, vertices (lng, lat, WGS-84)
PIPES = [
    ("HN01", "东昌府热电厂—城区主干线（示例）", 1000, "在用",
     [P01, (115.960, 36.470), (115.990, 36.455), (116.020, 36.445)]),
    ("HN02", "城区东支线（示例）", 500, "在用", [(115.990, 36.455), (116.000, 36.430)]),
    ("HN03", "城北支线（示例）", 400, "在用", [(115.960, 36.470), (115.975, 36.500)]),
    ("HN04", "东昌府—冠县长输供热管线（示例）", 1200, "在用",
     [P01, (115.800, 36.490), (115.620, 36.487), HN05[0]]),
    ("HN05", "冠县城区支线（示例）", 400, "在用", [*HN05, (115.430, 36.490)]),
    ("HN06", "临清热电厂—城区管线（示例）", 600, "在用",
     [P02, (115.760, 36.830), (115.705, 36.840)]),
    ("HN07", "开发区支线（示例）", 300, "在建", [(116.020, 36.445), (116.060, 36.430)]),
    ("HN08", "冠县北部规划管线（示例）", 300, "规划", [(115.620, 36.487), (115.600, 36.530)]),
]


def main() -> None:
    frame = gpd.GeoDataFrame(
        {"编号": [p[0] for p in PIPES], "名称": [p[1] for p in PIPES],
         "管径": [p[2] for p in PIPES], "状态": [p[3] for p in PIPES]},
        geometry=[shapely.LineString(p[4]) for p in PIPES], crs="EPSG:4326").to_crs(4548)
    out = RAW / "heat_network.gpkg"
    out.unlink(missing_ok=True)
    frame.to_file(out, layer="heat_network", driver="GPKG")
    print(f"wrote {len(frame)} pipes to {out}")


if __name__ == "__main__":
    main()
