"""Generate the illustrative fire-points demo inputs in data/raw/ (seeded, reproducible).

Real FIRMS downloads for the demo counties hold too few detections to show the analysis, and
bureaus' known-heat-source lists are not public, so the demo runs on made-up data written
exactly in FIRMS's CSV formats:

- ``firms_viirs_2024.csv``: VIIRS 375 m (Suomi-NPP ``N``, NOAA-20 ``1``), 2024-03-01..11-30;
- ``firms_viirs_2024-06-07_7d.csv``: a second, overlapping 7-day VIIRS download (every row also
  in the first file: duplicates to drop);
- ``firms_modis_2024.csv``: MODIS 1 km (Terra ``T``, Aqua ``A``), same period;
- ``heat_sources.csv``: three known industrial sites (UTF-8, Chinese headers);
- ``cropland_demo.tif``: a coarse land-cover raster (ESA WorldCover codes 10 tree, 40 cropland,
  50 built-up), ~0.004 degrees, deflate.

Fires: farmland burning events clustered in the summer (wheat, 2024-05-28..06-20) and autumn
(maize, 2024-09-25..10-31) harvest windows, mostly on cropland; a few outside the windows; day
overpasses around 13:30 local and night overpasses around 01:30 local (17:30 UTC of the previous
day, so the local date is the next UTC date); five industrial sources (three known, two not)
firing on many dates through the year. Every name carries "（示例）".

Usage::

    python scripts/make_demo_fires.py      # rewrites the files above in data/raw/
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import shapely
from affine import Affine
from demo_common import random_points_in
from pyproj import Geod

ROOT = Path(__file__).resolve().parent.parent
RAW = ROOT / "data" / "raw"
GEOD = Geod(ellps="WGS84")
SEED = 20261124

WINDOWS = [(dt.date(2024, 5, 28), dt.date(2024, 6, 20)),
           (dt.date(2024, 9, 25), dt.date(2024, 10, 31))]
PERIOD = (dt.date(2024, 3, 1), dt.date(2024, 11, 30))
# id, name, kind, county, known?  (location drawn inside the county)
SOURCES = [("HS01", "聊城钢铁厂（示例）", "steel", "371502", True),
           ("HS02", "邹城焦化厂（示例）", "coking", "370883", True),
           ("HS03", "嘉祥发电厂（示例）", "power", "370829", True),
           ("", "", "chemical", "371581", False),    # not in the known list: to be derived
           ("", "", "steel", "370811", False)]
RASTER_RES = 0.004  # degrees (~400 m)
RASTER_BOUNDS = (115.20, 34.40, 117.65, 37.10)




def jitter(lng: np.ndarray, lat: np.ndarray, sigma_m: float, rng: np.random.Generator
           ) -> tuple[np.ndarray, np.ndarray]:
    """Move points by a random distance (Rayleigh, sigma metres) in a random direction."""
    d = rng.rayleigh(sigma_m, len(lng))
    az = rng.uniform(0, 360, len(lng))
    x, y, _ = GEOD.fwd(lng, lat, az, d)
    return np.asarray(x), np.asarray(y)


def make_landcover(counties: gpd.GeoDataFrame, sources: pd.DataFrame,
                   rng: np.random.Generator) -> tuple[np.ndarray, object]:
    """Class raster: cropland everywhere, built-up towns and sites, tree patches."""
    x0, y0, x1, y1 = RASTER_BOUNDS
    w, h = round((x1 - x0) / RASTER_RES), round((y1 - y0) / RASTER_RES)
    cls = np.full((h, w), 40, dtype=np.uint8)
    cx = x0 + (np.arange(w) + 0.5) * RASTER_RES
    cy = y1 - (np.arange(h) + 0.5) * RASTER_RES
    gx, gy = np.meshgrid(cx, cy)
    union = shapely.union_all(counties.geometry.to_numpy())

    def blobs(n: int, rmin: float, rmax: float, code: int, centres=None) -> None:
        if centres is None:
            centres = np.column_stack(random_points_in(union, n, rng))
        for (bx, by), r in zip(centres, rng.uniform(rmin, rmax, len(centres)), strict=True):
            i0 = max(int((y1 - by - r) / RASTER_RES), 0)
            i1 = min(int((y1 - by + r) / RASTER_RES) + 1, h)
            j0 = max(int((bx - r - x0) / RASTER_RES), 0)
            j1 = min(int((bx + r - x0) / RASTER_RES) + 1, w)
            sub = (gx[i0:i1, j0:j1] - bx) ** 2 + ((gy[i0:i1, j0:j1] - by) * 1.2) ** 2 <= r * r
            cls[i0:i1, j0:j1][sub] = code

    blobs(120, 0.006, 0.02, 10)          # tree patches
    blobs(220, 0.005, 0.018, 50)         # villages and towns
    centres = counties.geometry.representative_point()
    blobs(0, 0.03, 0.05, 50, np.column_stack([centres.x, centres.y]))   # county towns
    blobs(0, 0.008, 0.008, 50, sources[["lon", "lat"]].to_numpy())      # industrial sites
    return cls, Affine(RASTER_RES, 0, x0, 0, -RASTER_RES, y1)


def overpass(day: dt.date, kind: str, rng: np.random.Generator, n: int) -> pd.Series:
    """UTC times of an overpass on local day `day`: ``day`` (~13:30 / 12:40 / 10:30 local)
    or ``night`` (~01:30 local, i.e. 17:30 UTC of the previous date)."""
    base = {"npp_day": (5, 30), "n20_day": (4, 40), "terra_day": (2, 30), "aqua_day": (5, 20),
            "npp_night": (17, 30), "n20_night": (18, 20), "aqua_night": (17, 40)}[kind]
    utc_day = day - dt.timedelta(days=1) if kind.endswith("night") else day
    t0 = pd.Timestamp(utc_day) + pd.Timedelta(hours=base[0], minutes=base[1])
    return pd.Series([t0 + pd.Timedelta(minutes=int(m)) for m in rng.integers(-40, 41, n)])


def detections(lng: float, lat: float, day: dt.date, rng: np.random.Generator, *, sigma_m: float,
               industrial: bool = False) -> list[dict]:
    """The VIIRS and MODIS detections of one burning (local) day at one place."""
    rows = []
    passes = [("npp_day", "VIIRS", "N", 0.8), ("n20_day", "VIIRS", "1", 0.7),
              ("aqua_day", "MODIS", "A", 0.35), ("terra_day", "MODIS", "T", 0.2)]
    if industrial or rng.random() < 0.25:
        passes += [("npp_night", "VIIRS", "N", 0.7), ("n20_night", "VIIRS", "1", 0.6),
                   ("aqua_night", "MODIS", "A", 0.3)]
    for kind, inst, sat, p in passes:
        if rng.random() > p:
            continue
        if inst == "VIIRS":
            k = int(rng.integers(1, 4 if industrial else 6))
        else:
            k = int(rng.integers(1, 3))
        t = overpass(day, kind, rng, 1).iloc[0]
        x, y = jitter(np.full(k, lng), np.full(k, lat), sigma_m if inst == "VIIRS" else 2 * sigma_m,
                      rng)
        for xi, yi in zip(x, y, strict=True):
            rows.append({"inst": inst, "sat": sat, "lon": xi, "lat": yi, "t": t,
                         "night": kind.endswith("night"), "industrial": industrial})
    return rows


def firms_frame(df: pd.DataFrame, inst: str, rng: np.random.Generator) -> pd.DataFrame:
    """Rows in FIRMS CSV columns and formats."""
    n = len(df)
    night = df["night"].to_numpy()
    ind = df["industrial"].to_numpy()
    if inst == "VIIRS":
        conf = rng.choice(["l", "n", "h"], n, p=[0.08, 0.77, 0.15])
        conf = np.where(ind & (rng.random(n) < 0.5), "h", conf)
        frp = np.round(rng.lognormal(1.2 + 1.0 * ind, 0.7, n), 2)
        out = pd.DataFrame({
            "latitude": df["lat"].round(5), "longitude": df["lon"].round(5),
            "bright_ti4": np.round(np.where(night, 300, 325) + rng.gamma(2, 8, n), 2),
            "scan": np.round(rng.uniform(0.39, 0.6, n), 2),
            "track": np.round(rng.uniform(0.36, 0.55, n), 2)})
        two = ("bright_ti5", np.round(np.where(night, 275, 290) + rng.normal(5, 3, n), 2))
        version = "2.0NRT"
    else:
        conf = np.clip(np.round(rng.normal(62, 20, n)), 0, 100).astype(int)
        frp = np.round(rng.lognormal(2.2 + 0.8 * ind, 0.6, n), 1)
        out = pd.DataFrame({
            "latitude": df["lat"].round(4), "longitude": df["lon"].round(4),
            "brightness": np.round(np.where(night, 298, 312) + rng.gamma(2, 5, n), 1),
            "scan": np.round(rng.uniform(1.0, 2.4, n), 1),
            "track": np.round(rng.uniform(1.0, 1.5, n), 1)})
        two = ("bright_t31", np.round(np.where(night, 280, 295) + rng.normal(4, 3, n), 1))
        version = "6.1NRT"
    t = pd.to_datetime(df["t"])
    out["acq_date"] = t.dt.strftime("%Y-%m-%d").to_numpy()
    out["acq_time"] = t.dt.strftime("%H%M").to_numpy()
    out["satellite"] = df["sat"].to_numpy()
    out["confidence"] = conf
    out["version"] = version
    out[two[0]] = two[1]
    out["frp"] = frp
    out["daynight"] = np.where(night, "N", "D")
    out = out.sort_values(["acq_date", "acq_time", "latitude"], kind="stable")
    return out.reset_index(drop=True)


def main() -> None:
    rng = np.random.default_rng(SEED)
    counties = gpd.read_file(RAW / "counties.gpkg")
    by_code = counties.set_index("code").geometry

    src = []
    for sid, name, kind, county, known in SOURCES:
        x, y = random_points_in(by_code[county].buffer(-0.03), 1, rng)
        src.append({"id": sid, "name": name, "kind": kind, "lon": round(x[0], 5),
                    "lat": round(y[0], 5), "known": known})
    src = pd.DataFrame(src)
    cls, transform = make_landcover(counties, src, rng)

    union = shapely.union_all(counties.geometry.to_numpy())
    rows: list[dict] = []
    plans = [(WINDOWS[0], 230), (WINDOWS[1], 150),
             ((dt.date(2024, 3, 5), dt.date(2024, 4, 20)), 15),      # outside the windows
             ((dt.date(2024, 11, 5), dt.date(2024, 11, 28)), 15)]
    crop_rows = 0
    for (a, b), n in plans:
        lng, lat = random_points_in(union, 3 * n, rng)
        col = ((lng - RASTER_BOUNDS[0]) / RASTER_RES).astype(int)
        row = ((RASTER_BOUNDS[3] - lat) / RASTER_RES).astype(int)
        on_crop = cls[row, col] == 40
        n_crop = int(n * 0.92)
        pick = np.r_[np.flatnonzero(on_crop)[:n_crop], np.flatnonzero(~on_crop)[: n - n_crop]]
        crop_rows += int(on_crop[pick].sum())
        span = (b - a).days
        for x, y in zip(lng[pick], lat[pick], strict=True):
            day = a + dt.timedelta(days=int(rng.integers(0, span + 1)))
            for extra in range(int(rng.choice([1, 1, 1, 2, 3]))):   # some burn for days
                cx, cy = jitter(np.array([x]), np.array([y]), 400.0, rng) if extra else (x, y)
                rows += detections(float(np.atleast_1d(cx)[0]), float(np.atleast_1d(cy)[0]),
                                   day + dt.timedelta(days=extra), rng, sigma_m=180.0)
    period_days = (PERIOD[1] - PERIOD[0]).days
    for s in src.itertuples():
        days = sorted(set(int(d) for d in rng.integers(0, period_days + 1, 45)))
        for d in days:
            rows += detections(s.lon, s.lat, PERIOD[0] + dt.timedelta(days=d), rng,
                               sigma_m=150.0, industrial=True)
    det = pd.DataFrame(rows)
    viirs = firms_frame(det[det["inst"] == "VIIRS"], "VIIRS", rng)
    modis = firms_frame(det[det["inst"] == "MODIS"], "MODIS", rng)
    viirs.to_csv(RAW / "firms_viirs_2024.csv", index=False, lineterminator="\n")
    modis.to_csv(RAW / "firms_modis_2024.csv", index=False, lineterminator="\n")
    week = viirs[(viirs["acq_date"] >= "2024-06-07") & (viirs["acq_date"] <= "2024-06-13")]
    week.to_csv(RAW / "firms_viirs_2024-06-07_7d.csv", index=False, lineterminator="\n")

    known = src[src["known"]]
    pd.DataFrame({"编号": known["id"], "名称": known["name"], "类型": known["kind"],
                  "经度": known["lon"], "纬度": known["lat"]}).to_csv(
        RAW / "heat_sources.csv", index=False, encoding="utf-8", lineterminator="\n")
    with rasterio.open(RAW / "cropland_demo.tif", "w", driver="GTiff", width=cls.shape[1],
                       height=cls.shape[0], count=1, dtype="uint8", crs="EPSG:4326",
                       transform=transform, nodata=0, compress="deflate", predictor=2,
                       tiled=True, blockxsize=256, blockysize=256) as dst:
        dst.write(cls, 1)
    print(f"VIIRS {len(viirs)} rows (+{len(week)} in the 7-day file), MODIS {len(modis)} rows; "
          f"sources {len(src)} ({len(known)} known); raster {cls.shape}")


if __name__ == "__main__":
    main()
