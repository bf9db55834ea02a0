"""Generate the illustrative machinery-zones demo inputs in data/raw/ (seeded, reproducible).

Machinery registers and spot-check records are not public, so the demo runs on small
made-up ones (SYNTHETIC) in the formats the registration system and the inspectors export:

- ``machinery.csv``: GBK CSV with Chinese headers (环保登记编号, 机械类型, 排放阶段, 使用单位,
  使用地点, 经度, 纬度, 登记日期), coordinates in GCJ-02 (picked on an Amap map), 48 machines on
  building sites of 东昌府区: 24 inside the built-up area of builtup_dongchangfu.osm, 8 within
  200 m outside it (inside the demo's buffered zone), 16 farther out. Stages are typed the
  ways offices type them (国二, 国Ⅱ, 国2, 国III, 未达国一, 纯电动…); one row has 国五 (no such
  non-road stage: rejected) and one has no stage (rejected).
- ``machinery_checks.csv``: UTF-8 CSV of 12 spot-check records (抽检编号, 环保登记编号, 机械类型,
  排放阶段, 被检单位, 使用地点, 检测结果, 抽检日期, 经度, 纬度), GCJ-02, on the same sites.

Every name carries "（示例）": nothing here describes a real machine, owner or site.

Usage::

    python scripts/make_demo_machinery.py

Requires data/raw/builtup_dongchangfu.osm (scripts/make_demo_noburn.py).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from demo_common import random_points_in
from pyproj import Geod

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from spatial import coords, geobuffer, osm  # noqa: E402

RAW = ROOT / "data" / "raw"
SEED = 20261129
GEOD = Geod(ellps="WGS84")

KINDS = ["挖掘机", "装载机", "叉车", "压路机", "平地机", "摊铺机", "起重机", "推土机"]
#: (stage as typed, count) of the register: 国〇/国一/国二 are below 国三
STAGES = [("未达国一", 2), ("国一", 2), ("国Ⅰ", 1), ("国二", 5), ("国Ⅱ", 3), ("国2", 2),
          ("国三", 10), ("国III", 4), ("国3", 3), ("国四", 7), ("国Ⅳ", 3), ("纯电动", 3),
          ("新能源", 1), ("国五", 1), ("", 1)]
SITES = ["城区道路改造工程（示例）", "安置房项目一期（示例）", "商业综合体工地（示例）",
         "污水管网工程（示例）", "物流园仓储区（示例）", "学校扩建工程（示例）"]


def _points(rng: np.random.Generator, zone: shapely.Geometry, n_in: int, n_near: int,
            n_far: int) -> tuple[np.ndarray, np.ndarray]:
    """Points inside the built-up area, 20-180 m outside it, and 400-3000 m outside it."""
    lng, lat = [], []
    x, y = random_points_in(zone, n_in, rng)
    lng.append(x)
    lat.append(y)
    ring = shapely.get_exterior_ring(max(shapely.get_parts(zone), key=lambda p: p.area))
    near = geobuffer.geodesic_buffer(zone, 180.0)
    clear = geobuffer.geodesic_buffer(zone, 300.0)
    for n, lo, hi, ok in ((n_near, 20.0, 180.0, lambda q: near.covers(q) and not zone.covers(q)),
                          (n_far, 400.0, 3000.0, lambda q: not clear.covers(q))):
        got_x, got_y = [], []
        while len(got_x) < n:
            p = ring.interpolate(rng.uniform(0, ring.length))
            qx, qy, _ = GEOD.fwd(p.x, p.y, rng.uniform(0, 360), rng.uniform(lo, hi))
            if ok(shapely.Point(qx, qy)):  # outside the built-up area, at the intended distance
                got_x.append(qx)
                got_y.append(qy)
        lng.append(np.array(got_x))
        lat.append(np.array(got_y))
    return np.concatenate(lng), np.concatenate(lat)


def make_register(rng: np.random.Generator, zone: shapely.Geometry) -> pd.DataFrame:
    stages = [s for s, k in STAGES for _ in range(k)]
    n = len(stages)
    order = rng.permutation(n)
    lng, lat = _points(rng, zone, 24, 8, n - 32)
    glng, glat = coords.wgs84_to_gcj02(lng, lat)
    days = rng.integers(0, 700, n)
    return pd.DataFrame({
        "环保登记编号": [f"LC371502{i:04d}" for i in range(1, n + 1)],
        "机械类型": [KINDS[i] for i in rng.integers(0, len(KINDS), n)],
        "排放阶段": [stages[i] for i in order],
        "使用单位": [f"示例建设工程有限公司{k}（示例）" for k in rng.integers(1, 9, n)],
        "使用地点": [SITES[i] for i in rng.integers(0, len(SITES), n)],
        "经度": np.round(glng, 6), "纬度": np.round(glat, 6),
        "登记日期": (pd.Timestamp("2023-03-01") + pd.to_timedelta(days, unit="D")).strftime(
            "%Y-%m-%d"),
    })


def make_checks(rng: np.random.Generator, register: pd.DataFrame) -> pd.DataFrame:
    """12 spot checks on registered machines, with the stage the inspector read off the plate."""
    pick = rng.choice(len(register), 12, replace=False)
    r = register.iloc[pick].reset_index(drop=True)
    stage = r["排放阶段"].replace({"": "国三", "国五": "国四"})
    days = rng.integers(0, 60, len(r))
    return pd.DataFrame({
        "抽检编号": [f"CJ2025{i:03d}" for i in range(1, len(r) + 1)],
        "环保登记编号": r["环保登记编号"], "机械类型": r["机械类型"], "排放阶段": stage,
        "被检单位": r["使用单位"], "使用地点": r["使用地点"],
        "检测结果": np.where(stage.isin(["未达国一", "国一", "国Ⅰ"]), "不合格", "合格"),
        "抽检日期": (pd.Timestamp("2025-10-01") + pd.to_timedelta(days, unit="D")).strftime(
            "%Y-%m-%d"),
        "经度": r["经度"], "纬度": r["纬度"],
    })


def main() -> None:
    rng = np.random.default_rng(SEED)
    built = osm.read_landuse(RAW / "builtup_dongchangfu.osm")
    zone = shapely.union_all(built.geometry.to_numpy())
    register = make_register(rng, zone)
    with open(RAW / "machinery.csv", "w", encoding="gbk", newline="") as f:
        register.to_csv(f, index=False, lineterminator="\r\n")
    checks = make_checks(rng, register)
    checks.to_csv(RAW / "machinery_checks.csv", index=False, encoding="utf-8",
                  lineterminator="\n")
    print(f"machinery.csv: {len(register)} rows; machinery_checks.csv: {len(checks)} rows")


if __name__ == "__main__":
    main()
