"""GeoParquet copies of a result's layers, for scripts (``[output] parquet = true``).

``layers/<analysis>/parquet/<layer>.parquet`` holds each layer as GeoParquet (WKB geometry,
EPSG:4326, GeoParquet metadata by GeoPandas) and ``parquet/<values>.parquet`` each per-period
layer's attribute table (``cell_values``) as plain Parquet: the same split as the GeoPackage
(:mod:`spatial.periodstore`), so a year of days is stored with each hexagon once.

Read them with ``geopandas.read_parquet`` and ``pandas.read_parquet`` (pyarrow); join a
per-period layer back with ``values.merge(cells, on="h3_cell")``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
import pandas as pd

from . import safepath
from .periodstore import PeriodLayer
from .periodstore import split as period_split


def write_parquet(layers: Mapping[str, gpd.GeoDataFrame], folder: Path, *,
                  periods: Mapping[str, PeriodLayer] | None = None) -> list[Path]:
    """Write ``<folder>/<layer>.parquet`` per layer (+ ``<values>.parquet``); returns the paths.

    Layers are written in EPSG:4326 (a layer without a CRS is taken as such), without the
    frame index. Per-period layers (`periods`) are written split: one row per cell, and the
    values table.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, gdf in layers.items():
        spec = (periods or {}).get(name)
        values = None
        if spec is not None:
            gdf, values = period_split(gdf, spec, layer=name)
        gdf = gdf.set_crs("EPSG:4326") if gdf.crs is None else gdf.to_crs("EPSG:4326")
        path = safepath.within(folder, folder / f"{safepath.safe_name(name)}.parquet")
        gdf.to_parquet(path, index=False, compression="zstd")
        written.append(path)
        if values is not None:
            vpath = safepath.within(folder, folder / f"{safepath.safe_name(spec.values)}.parquet")
            pd.DataFrame(values).to_parquet(vpath, index=False, compression="zstd")
            written.append(vpath)
    return written
