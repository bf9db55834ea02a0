"""Synthetic inputs shared by the end-to-end benchmarks: daily PM2.5 rasters and VIIRS fires.

Everything is generated with a fixed seed, so two runs of a bench see the same data.
"""

from __future__ import annotations

import resource
import sys
from pathlib import Path

import numpy as np

#: (west, south, east, north) degrees and the squared radius (in half-box units) of the ellipse
#: of valid pixels, chosen so that it holds about the region's number of res-7 cells (Shandong
#: ~30,000 cells of 5.16 km², 155,000 km²; China ~1.9 million, 9.6 million km²)
REGIONS = {"shandong": (114.8, 34.4, 122.7, 38.4, 0.44),
           "china": (73.5, 18.0, 135.0, 53.5, 0.57)}


def peak_rss_mb(children: bool = False) -> float:
    """Peak resident set size of this process so far, MB (Linux reports KiB).

    `children`: the largest peak of its finished child processes instead (the GeoPackage
    writer of :mod:`spatial.forked`; 0 if none). A forked child shares the parent's pages
    until either writes them, so the two peaks are not simply added.
    """
    who = resource.RUSAGE_CHILDREN if children else resource.RUSAGE_SELF
    kib = resource.getrusage(who).ru_maxrss
    return kib / 1024 if sys.platform != "darwin" else kib / 2**20


def folder_mb(folder: Path) -> tuple[float, list[tuple[str, float]]]:
    """Total size of the files under `folder` (MB) and the five largest (name, MB)."""
    files = [(str(p.relative_to(folder)), p.stat().st_size / 1e6)
             for p in Path(folder).rglob("*") if p.is_file()]
    return sum(s for _, s in files), sorted(files, key=lambda x: -x[1])[:5]


def daily_rasters(folder: Path, *, days: int, region: str = "shandong", pixel_deg: float = 0.01,
                  start: str = "2025-01-01", scale: float = 1.0, seed: int = 0) -> list[Path]:
    """One float32 GeoTIFF per day (``pm25_YYYY-MM-DD.tif``), all on one grid, EPSG:4326.

    ``pixel_deg`` 0.01° (about 1 km); pixels outside the region's ellipse are nodata (-9999).
    ``scale`` shrinks the box around its centre (quick runs). Values: a smooth seasonal PM2.5
    field (µg/m³) with drifting plumes and noise, always > 0.
    """
    import rasterio
    from affine import Affine

    w0, s0, e0, n0, share = REGIONS[region]
    cx, cy = (w0 + e0) / 2, (s0 + n0) / 2
    hw, hh = (e0 - w0) / 2 * scale, (n0 - s0) / 2 * scale
    width, height = int(round(2 * hw / pixel_deg)), int(round(2 * hh / pixel_deg))
    transform = Affine(pixel_deg, 0.0, cx - hw, 0.0, -pixel_deg, cy + hh)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    u, v = xx / width * 2 - 1, yy / height * 2 - 1
    outside = u**2 + v**2 > share  # valid: an ellipse of area pi / 4 * share of the box
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    day0 = np.datetime64(start, "D")
    paths = []
    for d in range(days):
        season = 1 + 0.6 * np.cos(2 * np.pi * d / 365.0)  # winter high
        px, py = 0.5 * np.sin(d / 9.0), 0.4 * np.cos(d / 13.0)  # a drifting plume
        a = 35 * season + 12 * u - 8 * v + 60 * season * np.exp(-((u - px)**2 + (v - py)**2) / 0.02)
        a = (a + rng.normal(0, 4, a.shape)).clip(1, None).astype(np.float32)
        a[outside] = -9999.0
        p = folder / f"pm25_{(day0 + d).astype(str)}.tif"
        with rasterio.open(p, "w", driver="GTiff", height=height, width=width, count=1,
                           dtype="float32", crs="EPSG:4326", transform=transform, nodata=-9999.0,
                           tiled=True, blockxsize=256, blockysize=256, compress="deflate") as ds:
            ds.write(a, 1)
        paths.append(p)
    return paths


def viirs_season(path: Path, *, n: int, seed: int = 0, start: str = "2025-05-20",
                 days: int = 45) -> Path:
    """A FIRMS VIIRS 375 m CSV of about `n` detections over eastern China's farmland.

    Shaped like a harvest season: fires (groups of 1-12 detections within ~400 m, one or two
    overpasses, day and night) scattered over the North China Plain and beyond, plus a few
    hundred persistent industrial hot spots seen on many dates. Columns as FIRMS writes them
    (latitude, longitude, bright_ti4, scan, track, acq_date, acq_time, satellite, confidence,
    version, bright_ti5, frp, daynight).
    """
    import pandas as pd

    rng = np.random.default_rng(seed)
    n_ind = n // 50  # detections at 300 industrial sites
    sites = np.c_[rng.uniform(110, 122, 300), rng.uniform(30, 41, 300)]
    size = rng.integers(1, 13, n)  # detections per fire
    n_fires = int(np.searchsorted(np.cumsum(size), n - n_ind))
    size = size[:n_fires]
    centre = np.c_[rng.normal(116.5, 3.0, n_fires), rng.normal(35.5, 2.5, n_fires)]
    day = rng.integers(0, days, n_fires)
    of = np.repeat(np.arange(n_fires), size)
    m = of.size
    lon = centre[of, 0] + rng.normal(0, 0.003, m)
    lat = centre[of, 1] + rng.normal(0, 0.003, m)
    d = day[of] + (rng.random(m) < 0.15)  # some burn into the next day
    night = rng.random(m) < 0.3
    site = rng.integers(0, 300, n_ind)
    lon = np.r_[lon, sites[site, 0] + rng.normal(0, 0.002, n_ind)]
    lat = np.r_[lat, sites[site, 1] + rng.normal(0, 0.002, n_ind)]
    d = np.r_[d, rng.integers(0, days, n_ind)]
    night = np.r_[night, rng.random(n_ind) < 0.5]
    k = lon.size
    hhmm = np.where(night, rng.choice([1736, 1818, 1900], k), rng.choice([418, 500, 542], k))
    date = (np.datetime64(start, "D") + d).astype(str)
    pd.DataFrame({
        "latitude": np.round(lat, 5), "longitude": np.round(lon, 5),
        "bright_ti4": np.round(rng.uniform(300, 367, k), 2), "scan": 0.4, "track": 0.4,
        "acq_date": date, "acq_time": hhmm,
        "satellite": rng.choice(["N", "1", "N21"], k),
        "confidence": rng.choice(["l", "n", "h"], k, p=[0.1, 0.7, 0.2]),
        "version": "2.0NRT", "bright_ti5": np.round(rng.uniform(270, 300, k), 2),
        "frp": np.round(rng.gamma(1.5, 4.0, k), 2), "daynight": np.where(night, "N", "D"),
    }).to_csv(path, index=False)
    return path
