"""Generate the illustrative pollution-hotspots demo data in data/raw/ (seeded, reproducible).

Writes
------
data/raw/air_stations.csv
    52 illustrative stations: 8 national (国控) in the two city centres, 19 provincial (省控),
    one per county, and a 5 x 5 micro-sensor (微站) grid (2 km spacing) around an industrial park.
data/raw/air_readings_daily.csv
    Daily PM2.5 and PM10 of every station for 2025 (Chinese headers), with ~3 % missing days,
    a provincial station offline for 12 days in March, and micro-sensor M07 failing (-999 for
    10 days in May, stuck at 0 from August to September).
data/raw/air_hourly_2024-2025_q1.csv.gz
    Hourly SO₂, NO₂, PM10, PM2.5, CO (mg/m³) and O₃ of the 27 national and provincial stations
    for January–March 2024 and January–March 2025 (gzip, UTF-8, Chinese headers), for the
    national statistics and rankings: ~2 % missing hours, a dust episode on 2025-03-14/15
    (PM10 x4), provincial station S370827 offline 2025-02-10 to 2025-02-16 (its February is
    invalid) and S371526 missing five hours of 2025-01-20 (no daily value that day).
data/raw/dust_days.csv, data/raw/aq_targets.csv
    The dust dates (per city) and the 2025 PM2.5 targets of the cities' action plans.
data/raw/pm25_YYYY-MM.tif
    13 monthly PM2.5 GeoTIFFs (2024-12 to 2025-12), float32 (whole µg/m³), deflate, nodata
    -9999, on a 0.01° grid in EPSG:4326, except 2025-06 on a 1 km grid in EPSG:32650
    (UTM 50N); cloud gaps (nodata) in 2025-03 and 2025-08.

The PM2.5 field: a north-south background (Liaocheng higher than Jining) times a seasonal cycle
(January x1.45, July x0.55), plus plumes around six sites: two steady industrial sites, an
industrial site that grows through the year, one that declines, and the two city centres.

Usage: ``python scripts/make_demo_hotspots.py [--seed 20261124]``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import rasterio
from affine import Affine

ROOT = Path(__file__).resolve().parent.parent
RAW = ROOT / "data" / "raw"

MONTHS = pd.period_range("2024-12", "2025-12", freq="M")
#: (lng, lat, amplitude µg/m³ at the first and last month, sigma km)
SITES = [
    (116.25, 36.58, 35.0, 35.0, 6.0),   # 茌平 industrial park (steady)
    (117.00, 35.40, 30.0, 30.0, 7.0),   # 邹城 industrial area (steady)
    (115.72, 36.84, 0.0, 45.0, 6.0),    # 临清: growing through the year
    (116.34, 35.42, 40.0, 0.0, 6.0),    # 嘉祥: declining
    (115.98, 36.45, 15.0, 15.0, 8.0),   # 聊城 centre
    (116.59, 35.41, 15.0, 15.0, 8.0),   # 济宁 centre
]
NODATA = -9999.0


def from_origin(west: float, north: float, xsize: float, ysize: float) -> Affine:
    """North-up transform of a grid whose top-left corner is (west, north)."""
    return Affine(xsize, 0.0, west, 0.0, -ysize, north)


def field(lng: np.ndarray, lat: np.ndarray, month: pd.Period) -> np.ndarray:
    """Noise-free monthly mean PM2.5 (µg/m³) at WGS-84 points (x = lng, y = lat)."""
    k = (month - MONTHS[0]).n / (len(MONTHS) - 1)  # 0 .. 1 through the series
    season = 1 + 0.45 * np.cos(2 * np.pi * (month.month - 1) / 12)
    base = 36 + 14 * (lat - 34.4) / 2.7 - 3 * (lng - 116.4)
    out = base * season
    for x0, y0, a0, a1, sig in SITES:
        dx = (lng - x0) * 111.32 * np.cos(np.radians(y0))
        dy = (lat - y0) * 110.57
        amp = (a0 + (a1 - a0) * k) * (0.7 + 0.3 * season)
        out = out + amp * np.exp(-(dx**2 + dy**2) / (2 * sig**2))
    return out


def write_tif(path: Path, values: np.ndarray, transform, crs: str) -> None:
    profile = {"driver": "GTiff", "height": values.shape[0], "width": values.shape[1],
               "count": 1, "dtype": "float32", "crs": crs, "transform": transform,
               "nodata": NODATA, "compress": "deflate", "predictor": 3, "zlevel": 9}
    with rasterio.open(path, "w", **profile) as ds:
        ds.write(values.astype(np.float32), 1)


def make_rasters(rng: np.random.Generator) -> None:
    out = RAW
    west, north, step = 115.20, 37.10, 0.01
    width, height = 245, 270
    cols = west + (np.arange(width) + 0.5) * step
    rows = north - (np.arange(height) + 0.5) * step
    lng_g, lat_g = np.meshgrid(cols, rows)
    to_utm = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:32650", always_xy=True)
    cx, cy = to_utm.transform([west, west + width * step, west, west + width * step],
                              [north, north, north - height * step, north - height * step])
    ux0, uy1 = np.floor(min(cx) / 1000) * 1000, np.ceil(max(cy) / 1000) * 1000
    uw = int(np.ceil((max(cx) - ux0) / 1000))
    uh = int(np.ceil((uy1 - min(cy)) / 1000))
    for month in MONTHS:
        if str(month) == "2025-06":
            ux = ux0 + (np.arange(uw) + 0.5) * 1000
            uy = uy1 - (np.arange(uh) + 0.5) * 1000
            gx, gy = np.meshgrid(ux, uy)
            lng, lat = to_utm.transform(gx, gy, direction="INVERSE")
            transform, crs = from_origin(ux0, uy1, 1000, 1000), "EPSG:32650"
        else:
            lng, lat = lng_g, lat_g
            transform, crs = from_origin(west, north, step, step), "EPSG:4326"
        v = field(lng, lat, month) + rng.normal(0, 1.0, lng.shape)
        v = np.round(np.maximum(v, 1.0))  # whole µg/m³: compresses well
        if str(month) in ("2025-03", "2025-08"):  # a cloud gap
            cx, cy = (116.9, 35.9) if str(month) == "2025-03" else (115.6, 36.3)
            v[(lng - cx) ** 2 + (lat - cy) ** 2 < 0.18**2] = NODATA
        write_tif(out / f"pm25_{month}.tif", v, transform, crs)


def make_stations(rng: np.random.Generator) -> pd.DataFrame:
    counties = gpd.read_file(RAW / "counties.gpkg")
    rows = []
    for i, (cx, cy) in enumerate([(115.98, 36.45)] * 4 + [(116.59, 35.41)] * 4):
        rows.append((f"8{i + 1:03d}A", f"国控点{i + 1}（示例）", "国控",
                     cx + rng.uniform(-0.03, 0.03), cy + rng.uniform(-0.03, 0.03)))
    pts = counties.geometry.representative_point()
    for code, name, p in zip(counties["code"], counties["name"], pts, strict=True):
        rows.append((f"S{code}", f"{name}省控点（示例）", "省控",
                     p.x + rng.uniform(-0.01, 0.01), p.y + rng.uniform(-0.01, 0.01)))
    x0, y0 = SITES[0][:2]
    k = 0
    for a in range(-2, 3):
        for b in range(-2, 3):
            k += 1
            rows.append((f"M{k:02d}", f"园区微站{k:02d}（示例）", "微站",
                         x0 + b * 2 / (111.32 * np.cos(np.radians(y0))), y0 + a * 2 / 110.57))
    st = pd.DataFrame(rows, columns=["站点编码", "站点名称", "类型", "经度", "纬度"])
    st["经度"] = st["经度"].round(5)
    st["纬度"] = st["纬度"].round(5)
    return st


def make_readings(st: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    days = pd.date_range("2025-01-01", "2025-12-31", freq="D")
    n_d, n_s = len(days), len(st)
    weather = np.zeros(n_d)
    for i in range(1, n_d):  # AR(1) log-factor shared by all stations (regional weather)
        weather[i] = 0.75 * weather[i - 1] + rng.normal(0, 0.25)
    months = days.to_period("M")
    lng, lat = st["经度"].to_numpy(), st["纬度"].to_numpy()
    mean = np.stack([field(lng, lat, m) for m in months])  # (days, stations)
    noise_sd = np.where(st["类型"] == "微站", 0.15, 0.05)
    pm25 = mean * np.exp(weather - 0.03)[:, None] * (1 + rng.normal(0, 1, (n_d, n_s)) * noise_sd)
    pm25 = np.round(np.maximum(pm25, 2.0), 1)
    pm10 = np.round(pm25 * rng.uniform(1.5, 1.9, (n_d, n_s)), 1)
    df = pd.DataFrame({"站点编码": np.tile(st["站点编码"].to_numpy(), n_d),
                       "日期": np.repeat(days.strftime("%Y-%m-%d"), n_s),
                       "PM2.5": pm25.ravel(), "PM10": pm10.ravel()})
    date = pd.to_datetime(df["日期"])
    sid = df["站点编码"]
    drop = rng.random(len(df)) < 0.03
    drop |= (sid == "S370826") & (date >= "2025-03-10") & (date <= "2025-03-21")  # offline
    fail = sid == "M07"
    neg = fail & (date >= "2025-05-05") & (date <= "2025-05-14")
    stuck = fail & (date >= "2025-08-01") & (date <= "2025-09-30")
    df.loc[neg, ["PM2.5", "PM10"]] = -999.0
    df.loc[stuck, ["PM2.5", "PM10"]] = 0.0
    drop &= ~(neg | stuck)
    return df[~drop].reset_index(drop=True)


HOURLY_MONTHS = ("2024-01", "2024-02", "2024-03", "2025-01", "2025-02", "2025-03")


def make_hourly(st: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Hourly readings of the six pollutants of the national and provincial stations."""
    st = st[st["类型"].isin(["国控", "省控"])].reset_index(drop=True)
    hours = pd.DatetimeIndex(np.concatenate([
        pd.date_range(pd.Period(m, "M").start_time, pd.Period(m, "M").end_time.floor("h"),
                      freq="h").to_numpy() for m in HOURLY_MONTHS]))
    n_h, n_s = len(hours), len(st)
    lng, lat = st["经度"].to_numpy(), st["纬度"].to_numpy()
    days = hours.normalize()
    uday, day_of = np.unique(days, return_inverse=True)
    weather = np.zeros(len(uday))
    for i in range(1, len(uday)):  # regional weather, one AR(1) log-factor per day
        weather[i] = 0.7 * weather[i - 1] + rng.normal(0, 0.3)
    month25 = [pd.Period(f"2025-{d.month:02d}", "M") for d in hours]
    cache = {m: field(lng, lat, m) for m in set(month25)}
    base = np.stack([cache[m] for m in month25])  # (hours, stations) 2025 monthly mean
    # 2024 was dirtier: each county improved by its own factor (改善率 differs by county)
    improve = rng.uniform(0.80, 1.05, n_s)
    is24 = (hours.year == 2024)[:, None]
    base = np.where(is24, base / improve[None, :], base)
    hod = hours.hour.to_numpy()[:, None]
    diurnal = 1 + 0.25 * np.cos(2 * np.pi * (hod - 22) / 24)
    smog = np.exp(weather[day_of])[:, None]
    noise = lambda sd: np.exp(rng.normal(0, sd, (n_h, n_s)))  # noqa: E731
    pm25 = base * smog * diurnal * noise(0.12)
    pm10 = pm25 * rng.uniform(1.55, 1.85, n_s)[None, :] * noise(0.08)
    so2 = (9 + 0.08 * base) * (1 + 0.3 * np.sin(2 * np.pi * (hod - 9) / 24)) * noise(0.15)
    rush = 1 + 0.35 * (np.exp(-((hod - 8) ** 2) / 4) + np.exp(-((hod - 19) ** 2) / 6))
    no2 = (22 + 0.25 * base) * rush * smog ** 0.5 * noise(0.12)
    co = (0.45 + 0.012 * pm25) * noise(0.08)
    month_no = hours.month.to_numpy()[:, None]
    o3_peak = np.where(month_no == 3, 125.0, np.where(month_no == 2, 95.0, 75.0))
    o3 = (12 + o3_peak * np.clip(np.sin(np.pi * (hod - 7) / 12), 0, None) ** 1.5) / smog ** 0.5
    o3 = o3 * noise(0.10)
    dust = (days >= "2025-03-14") & (days <= "2025-03-15")
    pm10[dust] *= 4.0
    pm25[dust] *= 1.6
    df = pd.DataFrame({
        "站点编码": np.tile(st["站点编码"].to_numpy(), n_h),
        "监测时间": np.repeat(hours.strftime("%Y-%m-%d %H:%M"), n_s),
        "PM2.5": np.round(pm25).ravel().astype(np.int64),
        "PM10": np.round(pm10).ravel().astype(np.int64),
        "SO2": np.round(so2).ravel().astype(np.int64),
        "NO2": np.round(no2).ravel().astype(np.int64),
        "CO": np.round(co, 2).ravel(),
        "O3": np.round(o3).ravel().astype(np.int64),
    })
    t = np.repeat(hours, n_s)
    sid = df["站点编码"].to_numpy()
    drop = rng.random(len(df)) < 0.02
    drop |= (sid == "S370827") & (t >= "2025-02-10") & (t < "2025-02-17")
    day = (sid == "S371526") & (t.normalize() == "2025-01-20")  # exactly 19 hours that day
    drop = (drop & ~day) | (day & (t >= "2025-01-20 03:00") & (t < "2025-01-20 08:00"))
    return df[~drop].reset_index(drop=True)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=20261124)
    args = ap.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    make_rasters(rng)
    st = make_stations(rng)
    st.to_csv(RAW / "air_stations.csv", index=False, encoding="utf-8")
    make_readings(st, rng).to_csv(RAW / "air_readings_daily.csv", index=False, encoding="utf-8")
    # the hourly file has its own generator, so the files above stay as they were
    hourly = make_hourly(st, np.random.default_rng(args.seed + 1))
    hourly.to_csv(RAW / "air_hourly_2024-2025_q1.csv.gz", index=False, encoding="utf-8",
                  compression={"method": "gzip", "mtime": 0, "compresslevel": 9})
    pd.DataFrame({"日期": ["2025-03-14", "2025-03-15", "2025-03-14", "2025-03-15"],
                  "行政区划代码": ["371500", "371500", "370800", "370800"],
                  "说明": ["沙尘（示例）"] * 4}).to_csv(RAW / "dust_days.csv", index=False,
                                                     encoding="utf-8")
    counties = gpd.read_file(RAW / "counties.gpkg")
    # 2025 PM2.5 targets of the action plans: 聊城 43 (聊政字〔2024〕15号), 济宁 42
    # (济宁市空气质量持续改善暨第三轮"四减四增"行动实施方案), 金乡 42 (金政字〔2024〕57号);
    # counties take their city's
    tg = pd.DataFrame({"code": counties["code"], "name": counties["name"],
                       "pm25": np.where(counties["city_code"] == "371500", 43.0, 42.0)})
    tg = pd.concat([tg, pd.DataFrame({"code": ["371500", "370800"], "name": ["聊城市", "济宁市"],
                                      "pm25": [43.0, 42.0]})], ignore_index=True)
    tg.rename(columns={"code": "行政区划代码", "name": "名称", "pm25": "PM2.5"}).to_csv(
        RAW / "aq_targets.csv", index=False, encoding="utf-8")
    print(f"wrote {len(st)} stations, readings and {len(MONTHS)} rasters to {RAW}")


if __name__ == "__main__":
    main()
