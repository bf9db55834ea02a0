"""Per-period layers stored once per cell: a geometry layer plus an attribute table of values.

An analysis's per-period layer (pollution-hotspots' ``cells``: one row per H3 cell and period)
repeats every cell's hexagon for every period: a year of days over one city made a 270 MB
GeoPackage and a 450 MB ``cells.dbf``. In the files it is stored instead as

* ``<layer>`` (e.g. ``cells``): one row per cell — the key (``h3_cell``), the columns that do
  not change with the period (``county_code``, ``county_name``) and the hexagon;
* ``<values>`` (e.g. ``cell_values``): a non-spatial table of the same GeoPackage with the key,
  the period and every per-period column, one row per cell and period, indexed on
  (period, key) so that one period is read without scanning the year;
* ``<layer>_by_period`` (``cells_by_period``): an SQL view joining the two, registered as a
  feature layer — the old per-period layer, without storing its geometry again. QGIS and GDAL
  open it like any layer (the QGIS project draws it filtered to one period).

The in-memory result (``Result.layers``) keeps the per-period layer as the analysis made it;
only the files change. :func:`merge` rebuilds the per-period layer from the two parts.

An analysis declares its per-period layers with the hook ``PERIOD_LAYERS``
(``{"cells": PeriodLayer("cell_values", per_cell=("county_code", "county_name"))}``); the
runner records them in ``manifest.json`` (``period_layers``) so readers of the folder
(``lantian export --by county``) can join them back.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely


@dataclass(frozen=True)
class PeriodLayer:
    """How a per-period layer is split: attribute table name, per-cell columns, key, period.

    ``values``: name of the attribute table (``cell_values``); ``per_cell``: columns that are
    the same for every period of a cell (kept with the geometry); ``key``: the cell id column;
    ``period``: the period column (text such as ``2025-01`` or ``2025-01-15``).
    """

    values: str
    per_cell: tuple[str, ...] = ()
    key: str = "h3_cell"
    period: str = "period"

    def view(self, layer: str) -> str:
        """Name of the SQL view that joins `layer` and its values (``cells_by_period``)."""
        return f"{layer}_by_period"

    def to_manifest(self, layer: str) -> dict[str, Any]:
        """The manifest entry of `layer` (``period_layers`` in ``manifest.json``)."""
        return {**asdict(self), "per_cell": list(self.per_cell), "view": self.view(layer)}

    @classmethod
    def from_manifest(cls, entry: Mapping[str, Any]) -> PeriodLayer:
        """The spec recorded by :meth:`to_manifest`."""
        return cls(values=str(entry["values"]), per_cell=tuple(entry.get("per_cell") or ()),
                   key=str(entry.get("key", "h3_cell")), period=str(entry.get("period",
                                                                              "period")))


def from_manifest(manifest: Mapping[str, Any]) -> dict[str, PeriodLayer]:
    """The per-period layers a result folder's manifest records (``{}`` for none)."""
    return {k: PeriodLayer.from_manifest(v)
            for k, v in (manifest.get("period_layers") or {}).items()}


def split(gdf: gpd.GeoDataFrame, spec: PeriodLayer, *, layer: str = "layer"
          ) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Split a per-period layer into (one row per cell with geometry, per-period values).

    Cells are in the order of their first row; values keep the layer's row order and every
    column but the geometry and ``spec.per_cell``. Raises ValueError if a ``per_cell``
    column or the geometry differs between the periods of one cell (splitting would lose it).
    """
    geom = gdf.geometry.name
    missing = [c for c in (spec.key, spec.period, *spec.per_cell) if c not in gdf.columns]
    if missing:
        raise ValueError(f"layer {layer!r}: per-period layer without column(s) {missing}")
    keys = gdf[spec.key]
    # cell of each row, cells numbered in the order of their first row (one hashing pass)
    pos, _ = pd.factorize(keys, use_na_sentinel=False)
    first = np.full(pos.max() + 1 if len(pos) else 0, len(pos), dtype=np.int64)
    np.minimum.at(first, pos, np.arange(len(pos)))  # each cell's first row
    cells = gdf.iloc[first][[spec.key, *spec.per_cell, geom]].reset_index(drop=True)
    # every row of a cell must carry the cell's own per-cell values and geometry: compared
    # as integer codes of the values (a missing value equal to a missing value)
    for col in spec.per_cell:
        code, _ = pd.factorize(gdf[col], use_na_sentinel=False)
        same = code == code[first][pos]
        if not same.all():
            raise ValueError(f"layer {layer!r}: column {col!r} differs between the periods "
                             f"of cell {keys.iloc[int((~same).argmax())]!r}")
    g = gdf.geometry.to_numpy()
    if not shapely.equals_exact(g, g[first][pos], tolerance=0.0).all():
        raise ValueError(f"layer {layer!r}: a cell's geometry differs between its periods")
    values = pd.DataFrame(gdf.drop(columns=[geom, *spec.per_cell])).reset_index(drop=True)
    return gpd.GeoDataFrame(cells, geometry=geom, crs=gdf.crs), values


def merge(cells: gpd.GeoDataFrame, values: pd.DataFrame, spec: PeriodLayer
          ) -> gpd.GeoDataFrame:
    """The per-period layer again: each values row with its cell's per-cell columns and geometry.

    Rows in the order of `values`; columns: the values' columns, then ``per_cell``, geometry.
    """
    geom = cells.geometry.name
    out = values.merge(pd.DataFrame(cells), on=spec.key, how="left", validate="many_to_one",
                       sort=False)
    return gpd.GeoDataFrame(out, geometry=geom, crs=cells.crs)


def period_rows(values: pd.DataFrame, spec: PeriodLayer) -> dict[str, np.ndarray]:
    """Row positions of `values` per period, periods in the order they first appear."""
    groups = values.groupby(values[spec.period].astype(str).to_numpy(), sort=False).indices
    return {str(p): np.asarray(idx) for p, idx in groups.items()}


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def index_and_view(gpkg: Path, layer: str, spec: PeriodLayer) -> None:
    """Index ``<values>`` on (period, key) and register the view ``<layer>_by_period``.

    `gpkg` already holds `layer` (features) and ``spec.values`` (attributes), both written by
    GDAL. The view is registered in ``gpkg_contents`` and ``gpkg_geometry_columns`` with the
    layer's coordinate system, geometry type, extent and ``last_change`` (the fixed time GDAL
    wrote, so that reruns are byte-identical).
    """
    v, c = spec.values, layer
    con = sqlite3.connect(gpkg)
    try:
        with con:
            vcols = [r[1] for r in con.execute(f"PRAGMA table_info({_q(v)})")]
            ccols = [r[1] for r in con.execute(f"PRAGMA table_info({_q(c)})")]
            geom_col, gtype, srs, z, m = con.execute(
                "SELECT column_name, geometry_type_name, srs_id, z, m FROM "
                "gpkg_geometry_columns WHERE table_name = ?", (c,)).fetchone()
            *bounds, stamp = con.execute("SELECT min_x, min_y, max_x, max_y, last_change FROM "
                                         "gpkg_contents WHERE table_name = ?", (c,)).fetchone()
            con.execute(f"CREATE INDEX {_q(f'{v}_{spec.period}_{spec.key}')} ON {_q(v)} "
                        f"({_q(spec.period)}, {_q(spec.key)})")
            con.execute(f"CREATE UNIQUE INDEX {_q(f'{c}_{spec.key}')} ON {_q(c)} "
                        f"({_q(spec.key)})")
            view = spec.view(layer)
            cols = ["v.fid AS fid"] + [f"v.{_q(x)}" for x in vcols if x != "fid"] + \
                   [f"c.{_q(x)}" for x in ccols if x in spec.per_cell] + \
                   [f"c.{_q(geom_col)} AS {_q(geom_col)}"]
            con.execute(f"CREATE VIEW {_q(view)} AS SELECT {', '.join(cols)} FROM {_q(v)} AS v "
                        f"JOIN {_q(c)} AS c ON c.{_q(spec.key)} = v.{_q(spec.key)}")
            con.execute("INSERT INTO gpkg_contents (table_name, data_type, identifier, "
                        "description, last_change, min_x, min_y, max_x, max_y, srs_id) "
                        "VALUES (?, 'features', ?, ?, ?, ?, ?, ?, ?, ?)",
                        (view, view, f"{layer} joined with {v}: one row per cell and period",
                         stamp, *bounds, srs))
            con.execute("INSERT INTO gpkg_geometry_columns (table_name, column_name, "
                        "geometry_type_name, srs_id, z, m) VALUES (?, ?, ?, ?, ?, ?)",
                        (view, geom_col, gtype, srs, z, m))
    finally:
        con.close()


def read_layers(gpkg: Path, specs: Mapping[str, PeriodLayer]) -> dict[str, gpd.GeoDataFrame]:
    """The layers of a result GeoPackage, each per-period layer joined back to its values.

    The views (``<layer>_by_period``) are not read (they are the joined layers); attribute
    tables (``layer_styles``, ``<values>``) are not layers.
    """
    import pyogrio

    views = {s.view(k) for k, s in specs.items()}
    out = {}
    for name, g in pyogrio.list_layers(gpkg):
        if g is None or name in views:
            continue
        layer = gpd.read_file(gpkg, layer=name, engine="pyogrio")
        spec = specs.get(name)
        if spec is not None:
            values = pyogrio.read_dataframe(gpkg, layer=spec.values, read_geometry=False)
            layer = merge(layer, values, spec)
        out[name] = layer
    return out
