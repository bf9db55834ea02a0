"""Per-period layers stored once per cell: a geometry layer plus an attribute table of values.

An analysis's per-period layer (pollution-hotspots' ``cells``: one row per H3 cell and period)
repeats every cell's hexagon for every period: a year of days over one city made a 270 MB
GeoPackage and a 450 MB ``cells.dbf``. In the files it is stored instead as

* ``<layer>`` (e.g. ``cells``): one row per cell — the key (``h3_cell``), the columns that do
  not change with the period (``county_code``, ``county_name``) and the hexagon;
* ``<values>`` (e.g. ``cell_values``): a non-spatial table of the same GeoPackage with every
  per-period column, one row per cell and period, and ``<values>_periods`` (one row per
  period). The row id of ``<values>`` is (period number − 1) × cells + cell number, so one
  period is a range of row ids, read without scanning the year and without a second index;
  values rounded to fixed decimals are stored as exact integers (:mod:`spatial.periodtable`
  has the layout and why);
* ``<layer>_by_period`` (``cells_by_period``): an SQL view joining them, registered as a
  feature layer — the old per-period layer (same columns, types and values), without storing
  its geometry again. QGIS and GDAL open it like any layer (the QGIS project draws it filtered
  to one period).

The in-memory result (``Result.layers``) keeps the per-period layer as the analysis made it;
only the files change. :func:`read_layers` rebuilds it from a GeoPackage, :func:`merge` from
the two parts.

An analysis declares its per-period layers with the hook ``PERIOD_LAYERS``
(``{"cells": PeriodLayer("cell_values", per_cell=("county_code", "county_name"),
decimals=(("value", 3),), codes=("status",))}``); the runner records them in
``manifest.json`` (``period_layers``) so readers of the folder (``lantian export --by county``)
can join them back.
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
    ``period``: the period column (text such as ``2025-01`` or ``2025-01-15``);
    ``decimals``: (column, decimals) of columns the analysis rounds to that many decimals
    (stored in the GeoPackage as exact scaled integers); ``codes``: text columns with a few
    distinct values (stored as small integer codes). Both change the storage only: every
    reader gets the same values back (:mod:`spatial.periodtable`).
    """

    values: str
    per_cell: tuple[str, ...] = ()
    key: str = "h3_cell"
    period: str = "period"
    decimals: tuple[tuple[str, int], ...] = ()
    codes: tuple[str, ...] = ()

    def view(self, layer: str) -> str:
        """Name of the SQL view that joins `layer` and its values (``cells_by_period``)."""
        return f"{layer}_by_period"

    def to_manifest(self, layer: str) -> dict[str, Any]:
        """The manifest entry of `layer` (``period_layers`` in ``manifest.json``).

        With the view, the periods table and how a row id of ``values`` is made (``fid``).
        """
        return {**asdict(self), "per_cell": list(self.per_cell), "view": self.view(layer),
                "decimals": dict(self.decimals), "codes": list(self.codes),
                "periods": f"{self.values}_periods",
                "fid": f"(fid of the period in {self.values}_periods - 1) * cells in {layer} "
                       f"+ fid of the cell in {layer}"}

    @classmethod
    def from_manifest(cls, entry: Mapping[str, Any]) -> PeriodLayer:
        """The spec recorded by :meth:`to_manifest`."""
        return cls(values=str(entry["values"]), per_cell=tuple(entry.get("per_cell") or ()),
                   key=str(entry.get("key", "h3_cell")),
                   period=str(entry.get("period", "period")),
                   decimals=tuple((str(k), int(d))
                                  for k, d in (entry.get("decimals") or {}).items()),
                   codes=tuple(entry.get("codes") or ()))


def from_manifest(manifest: Mapping[str, Any]) -> dict[str, PeriodLayer]:
    """The per-period layers a result folder's manifest records (``{}`` for none)."""
    return {k: PeriodLayer.from_manifest(v)
            for k, v in (manifest.get("period_layers") or {}).items()}


def split(gdf: gpd.GeoDataFrame, spec: PeriodLayer, *, layer: str = "layer",
          positions: bool = False) -> tuple:
    """Split a per-period layer into (one row per cell with geometry, per-period values).

    Cells are in the order of their first row; values keep the layer's row order and every
    column but the geometry and ``spec.per_cell``. With `positions`, a third item: each
    values row's cell as a position in the cells (int64). Raises ValueError if a
    ``per_cell`` column or the geometry differs between the periods of one cell (splitting
    would lose it).
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
    cells = gpd.GeoDataFrame(cells, geometry=geom, crs=gdf.crs)
    return (cells, values, pos.astype(np.int64)) if positions else (cells, values)


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


def store(gpkg: Path, layer: str, cells: gpd.GeoDataFrame, values: pd.DataFrame,
          spec: PeriodLayer, *, cell_no: np.ndarray | None = None) -> None:
    """Write `values` into `gpkg` beside `layer` and register the view ``<layer>_by_period``.

    `gpkg` already holds `layer` (the cells part of :func:`split`, written by GDAL;
    `cell_no` the positions ``split(..., positions=True)`` gives, or None). Writes
    ``spec.values`` and its periods table (:func:`spatial.periodtable.write`), a unique index
    on the cells' key, and the view, registered in ``gpkg_contents`` and
    ``gpkg_geometry_columns`` with the layer's coordinate system, geometry type, extent and
    ``last_change`` (the fixed time GDAL wrote, so that reruns are byte-identical).
    """
    from . import periodtable

    c = layer
    con = sqlite3.connect(gpkg)
    try:
        geom_col, gtype, srs, z, m = con.execute(
            "SELECT column_name, geometry_type_name, srs_id, z, m FROM "
            "gpkg_geometry_columns WHERE table_name = ?", (c,)).fetchone()
        *bounds, stamp = con.execute("SELECT min_x, min_y, max_x, max_y, last_change FROM "
                                     "gpkg_contents WHERE table_name = ?", (c,)).fetchone()
    finally:
        con.close()
    periodtable.write(gpkg, layer, values, spec, cell_keys=cells[spec.key].to_numpy(),
                      stamp=stamp, cell_no=cell_no)
    con = sqlite3.connect(gpkg)
    try:
        with con:
            con.execute(f"CREATE UNIQUE INDEX {_q(f'{c}_{spec.key}')} ON {_q(c)} "
                        f"({_q(spec.key)})")
            view = spec.view(layer)
            con.execute(periodtable.view_sql(gpkg, layer, spec, list(values.columns)))
            con.execute("INSERT INTO gpkg_contents (table_name, data_type, identifier, "
                        "description, last_change, min_x, min_y, max_x, max_y, srs_id) "
                        "VALUES (?, 'features', ?, ?, ?, ?, ?, ?, ?, ?)",
                        (view, view, f"{layer} joined with {spec.values}: one row per cell "
                         "and period", stamp, *bounds, srs))
            con.execute("INSERT INTO gpkg_geometry_columns (table_name, column_name, "
                        "geometry_type_name, srs_id, z, m) VALUES (?, ?, ?, ?, ?, ?)",
                        (view, geom_col, gtype, srs, z, m))
    finally:
        con.close()


def read_layers(gpkg: Path, specs: Mapping[str, PeriodLayer]) -> dict[str, gpd.GeoDataFrame]:
    """The layers of a result GeoPackage, each per-period layer joined back to its values.

    The views (``<layer>_by_period``) are not read (they are the joined layers); attribute
    tables (``layer_styles``, ``<values>``, ``<values>_periods``) are not layers. A per-period
    layer comes back as the analysis made it (rows cell by cell, the same columns and values;
    a ``-0.0`` reads as ``0.0``, as SQLite stores it).
    """
    import pyogrio

    from . import periodtable

    views = {s.view(k) for k, s in specs.items()}
    out = {}
    for name, g in pyogrio.list_layers(gpkg):
        if g is None or name in views:
            continue
        layer = gpd.read_file(gpkg, layer=name, engine="pyogrio")
        spec = specs.get(name)
        if spec is not None:
            values = periodtable.read(gpkg, name, spec)
            layer = merge(layer, values, spec)
        out[name] = layer
    return out
