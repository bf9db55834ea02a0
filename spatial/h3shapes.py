"""H3 (v4) and polygons: the cells of polygons, and a set of cells dissolved into one shape.

Same conventions as :mod:`spatial.h3grid` (cell ids ``np.uint64``; shapely ``x=lng, y=lat``;
h3 ``(lat, lng)``; WGS-84 degrees).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, Literal

import h3
import numpy as np
import shapely
from h3.api import basic_int as h3i

from .errors import InputError
from .h3grid import _as_cells, _check_resolution

__all__ = ["cells_to_shape", "polygons_to_cells"]

log = logging.getLogger(__name__)


# ------------------------------------------------------------------------- polygons to cells
def _ring_latlng(ring: shapely.LinearRing) -> list[tuple[float, float]]:
    xy = shapely.get_coordinates(ring)
    if len(xy) > 1 and (xy[0] == xy[-1]).all():
        xy = xy[:-1]
    return list(zip(xy[:, 1].tolist(), xy[:, 0].tolist(), strict=True))  # h3 wants (lat, lng)


def _to_h3shape(geom: shapely.Polygon | shapely.MultiPolygon) -> h3.H3Shape:
    def poly(p: shapely.Polygon) -> h3.LatLngPoly:
        return h3.LatLngPoly(_ring_latlng(p.exterior), *map(_ring_latlng, p.interiors))

    if isinstance(geom, shapely.Polygon):
        return poly(geom)
    return h3.LatLngMultiPoly(*(poly(p) for p in geom.geoms if not p.is_empty))


def polygons_to_cells(
    geoms: Any, *, resolution: int, mode: Literal["center", "overlap"] = "center"
) -> tuple[np.ndarray, np.ndarray]:
    """Cells of (Multi)Polygons, as (cell, polygon position) pairs.

    Parameters
    ----------
    geoms
        A GeoSeries, an array of shapely Polygons/MultiPolygons or one geometry, in WGS-84
        degrees (**x=lng, y=lat**; converted to h3's (lat, lng) here). Holes are respected.
        ``None`` and empty geometries get no cells.
    resolution
        H3 resolution, 0..15.
    mode
        ``"center"``: cells whose centre lies inside the polygon (``h3.h3shape_to_cells``); adjacent
        polygons get disjoint cells, but a polygon smaller than a cell may get none.
        ``"overlap"``: every cell whose hexagon overlaps the polygon
        (``h3shape_to_cells_experimental(..., contain="overlap")``); the cells cover the whole
        polygon, a polygon inside one cell gets that cell, and a cell can belong to several
        polygons. (A separate "cover" mode is not offered: "overlap" already covers.)

    Returns
    -------
    cells : numpy.ndarray
        ``uint64`` cell ids, sorted within each polygon.
    owner : numpy.ndarray
        ``int64`` position (0-based, not the index label) of the polygon each cell belongs to.
    """
    res = _check_resolution(resolution)
    if mode not in ("center", "overlap"):
        raise InputError(
            f"mode={mode!r} is not one of 'center', 'overlap' ('overlap' already returns cells "
            "covering the whole polygon, so it also serves as a 'cover' mode)."
        )
    crs = getattr(geoms, "crs", None)
    if crs is not None and not crs.equals("EPSG:4326") and not crs.equals("EPSG:4490"):
        raise InputError(
            f"geoms are in {crs.to_string()}; reproject to WGS-84 first with .to_crs(4326)."
        )
    if isinstance(geoms, shapely.Geometry):
        geoms = [geoms]
    arr = np.asarray(geoms, dtype=object)
    if arr.ndim != 1:
        raise InputError(f"geoms must be 1-D, got shape {arr.shape}.")
    cell_parts: list[np.ndarray] = []
    owner_parts: list[np.ndarray] = []
    for i, geom in enumerate(arr):
        if geom is None or geom.is_empty:
            continue
        if not isinstance(geom, shapely.Polygon | shapely.MultiPolygon):
            raise InputError(
                f"geoms[{i}] is a {geom.geom_type}; polygons_to_cells takes Polygons or "
                "MultiPolygons (index points with points_to_cells)."
            )
        minx, miny, maxx, maxy = geom.bounds
        if miny < -90 or maxy > 90 or minx < -180 or maxx > 180:
            raise InputError(
                f"geoms[{i}] has bounds {geom.bounds} outside lng [-180, 180], lat [-90, 90]; "
                "are its coordinates projected or swapped? Reproject to EPSG:4326 (x=lng, y=lat)."
            )
        shape = _to_h3shape(geom)
        if mode == "center":
            found = h3i.h3shape_to_cells(shape, res)
        else:
            found = h3i.h3shape_to_cells_experimental(shape, res, "overlap")
        cells = np.sort(np.asarray(found, dtype=np.uint64))
        cell_parts.append(cells)
        owner_parts.append(np.full(cells.size, i, dtype=np.int64))
    if not cell_parts:
        return np.empty(0, dtype=np.uint64), np.empty(0, dtype=np.int64)
    cells_out = np.concatenate(cell_parts)
    log.debug(
        "Filled %d polygons with %d H3 cells at res %d (%s)", arr.size, cells_out.size, res, mode
    )
    return cells_out, np.concatenate(owner_parts)


# ------------------------------------------------------------------------------- dissolve
def cells_to_shape(cells: Any) -> shapely.MultiPolygon:
    """Dissolve a set of cells into one exact (Multi)Polygon outline, holes included.

    Parameters
    ----------
    cells
        1-D array of ``uint64`` H3 cell ids of **one resolution** (duplicates are ignored).

    Returns
    -------
    shapely.MultiPolygon
        **x=lng, y=lat** degrees. One part per edge-connected group of cells; each part's
        exterior and holes follow the cells' own edges (``h3.cells_to_h3shape``), so there are
        no slivers and no repeated vertices, and the parts cover exactly the union of the
        hexagons of :func:`cells_to_polygons`. Empty MultiPolygon when there are no cells.
        Not meant for sets crossing the antimeridian or containing a pole.
    """
    arr = np.unique(_as_cells(cells))
    if arr.size == 0:
        return shapely.MultiPolygon()
    if not _same_resolution(arr):
        found = sorted(set(((arr >> np.uint64(52)) & np.uint64(15)).tolist()))
        raise InputError(
            f"cells mix resolutions {found}; cells_to_shape needs cells of one resolution "
            "(use h3.cell_to_parent / cell_to_children first)."
        )
    shape = h3i.cells_to_h3shape(arr.tolist(), tight=False)

    def ring(latlngs: Sequence[tuple[float, float]]) -> np.ndarray:
        xy = np.asarray(latlngs, dtype=np.float64)[:, ::-1]  # (lat, lng) -> (x=lng, y=lat)
        return np.vstack([xy, xy[:1]])

    polys = [shapely.Polygon(ring(p.outer), [ring(h) for h in p.holes]) for p in shape]
    return shapely.MultiPolygon(polys)


def _same_resolution(cells: np.ndarray) -> bool:
    """Whether every cell has the resolution of the first (bits 52..55 of the id)."""
    res = (cells >> np.uint64(52)) & np.uint64(15)
    return bool((res == res[0]).all())
