"""Pixel-to-H3 index of a raster grid by burning the hexagons (``rasterio.features.rasterize``).

Used by :func:`spatial.raster.pixel_index` when cells are several pixels wide. The result is
identical to looking up every pixel centre with ``h3.latlng_to_cell``:

1. Find the cells over the grid: one exact H3 lookup at the centre of each ``s x s`` block
   (``s`` about half a cell edge in pixels) and the 1-ring around each of those cells.
2. Build all their outlines at once (h3ronpy's WKB polygons, or ``h3.cell_to_boundary`` without
   it), transform the vertices to the raster's CRS (pyproj, vectorised) and then to pixel
   coordinates (the inverse affine transform), and burn cell numbers into an int32 grid with
   ``rasterio.features.rasterize`` (``all_touched=False``: a pixel takes the polygon containing
   its centre).
3. The burned outlines have straight edges in pixel space; the true H3 edges are great-circle
   arcs (straight in H3's gnomonic face projection), curved in the raster's CRS. For each edge
   the true midpoint (great-circle midpoint of the two vertices) is projected as well and its
   distance ``d`` to the straight chord's midpoint measured in pixels. Every pixel whose centre
   lies within ``2 d + 1e-4`` pixels of a chord (found by walking each edge column by column, or
   row by row for steep edges) is looked up exactly, as are pixels no polygon covered. Cells
   whose outline is not usable in pixel space (a vertex not transformable, above 80 degrees of
   latitude, an edge bent by more than ``MAX_BEND_PX``) are not burned: their pixels are looked
   up exactly too.

Rasters in longitude/latitude crossing the antimeridian work: each outline is unwrapped around
its own centre and shifted by 360 degrees to the raster's side. Rasters in any other CRS are
handled through the projected vertices and midpoints (no fallback needed); where the projection
bends edges by more than ``MAX_BEND_PX`` pixels the exact lookup takes over, cell by cell.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np
import pyproj
from affine import Affine

from . import h3grid

log = logging.getLogger(__name__)

#: Cells whose edges bend more than this (pixels) in the raster's CRS are looked up exactly.
MAX_BEND_PX = 0.1
#: Floor of the near-edge band (pixels): covers float rounding of transforms and GDAL.
EDGE_FLOOR_PX = 1e-4
#: Fast path only where every burned vertex lies within this latitude (degrees).
MAX_LAT = 80.0


def _boundaries(cells: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Boundary vertices of `cells`: ``lat``, ``lng`` (degrees, open rings) and ``counts``.

    Vertices of cell i are ``lat[start_i:start_i + counts[i]]`` (H3's order, pentagons and
    distortion vertices included). One pass through h3ronpy's WKB outlines when available.
    """
    if h3grid._h3ronpy_vector is not None and cells.size:
        import pyarrow as pa
        import shapely

        wkb = pa.array(h3grid._h3ronpy_vector.cells_to_wkb_polygons(cells))
        polys = shapely.from_wkb(wkb.to_numpy(zero_copy_only=False))
        xy, idx = shapely.get_coordinates(polys, return_index=True)
        closed = np.bincount(idx, minlength=cells.size)
        last = np.cumsum(closed) - 1
        keep = np.ones(len(xy), dtype=bool)
        keep[last] = False  # drop the closing vertex of each ring
        return xy[keep, 1].copy(), xy[keep, 0].copy(), closed - 1
    from itertools import chain

    from h3.api import basic_int as h3i

    bounds = list(map(h3i.cell_to_boundary, cells.tolist()))
    counts = np.fromiter(map(len, bounds), dtype=np.intp, count=cells.size)
    flat = np.fromiter(chain.from_iterable(chain.from_iterable(bounds)), dtype=np.float64,
                       count=2 * int(counts.sum())).reshape(-1, 2)
    return flat[:, 0].copy(), flat[:, 1].copy(), counts


def _gc_midpoints(lat0: np.ndarray, lng0: np.ndarray, lat1: np.ndarray, lng1: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Great-circle midpoints (lat, lng degrees) of the arcs between two point arrays."""
    p0, l0, p1, l1 = map(np.radians, (lat0, lng0, lat1, lng1))
    x = np.cos(p0) * np.cos(l0) + np.cos(p1) * np.cos(l1)
    y = np.cos(p0) * np.sin(l0) + np.cos(p1) * np.sin(l1)
    z = np.sin(p0) + np.sin(p1)
    return np.degrees(np.arctan2(z, np.hypot(x, y))), np.degrees(np.arctan2(y, x))


def burn_codes(lnglat: Callable, t: Affine, to_crs: pyproj.Transformer | None, height: int,
               width: int, res: int, s: int) -> tuple[np.ndarray, np.ndarray] | None:
    """Sorted cells and int32 pixel codes (row-major, -1: no WGS-84 position) of a grid.

    Parameters
    ----------
    lnglat
        ``spatial.raster._LngLat``: pixel (col, row) arrays -> WGS-84 (lng, lat, ok).
    t
        The grid's affine transform (pixel corner -> CRS x, y).
    to_crs
        WGS-84 (always_xy) -> the grid's CRS; None when the grid is in longitude/latitude.
    height, width, res, s
        Grid shape (pixels), H3 resolution, block side (pixels) for the sampled lookups.

    Returns
    -------
    (cells, codes) or None
        None when the sampled block centres leave the fast path's domain (no valid centre, or
        latitudes beyond ``MAX_LAT``); the caller then looks every pixel up.
    """
    from rasterio import features

    g = 2 * s  # seeds about one cell edge apart: every pixel's cell is in a seed's 1-ring
    nbr, nbc = -(-height // g), -(-width // g)
    sc = np.minimum(np.arange(nbc, dtype=np.float64) * g + s, width - 1)
    sr = np.minimum(np.arange(nbr, dtype=np.float64) * g + s, height - 1)
    sx, sy, sok = lnglat(sc[None, :], sr[:, None])
    sx, sy, sok = (np.broadcast_to(a, (nbr, nbc)).ravel() for a in (sx, sy, sok))
    if not sok.any() or np.abs(sy[sok]).max() > MAX_LAT:
        return None
    seeds = np.unique(h3grid.points_to_cells(sy[sok], sx[sok], resolution=res))
    nbrs, _ = h3grid.grid_disks(seeds, 1)
    cand = np.unique(nbrs)  # sorted candidate cells
    lat, lng, counts = _boundaries(cand)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    owner = np.repeat(np.arange(cand.size), counts)
    nxt = np.arange(lat.size) + 1
    nxt[starts + counts - 1] = starts  # the vertex after each one, ring-wise
    mlat, mlng = _gc_midpoints(lat, lng, lat[nxt], lng[nxt])  # true midpoint of edge i -> i+1
    # raster CRS coordinates of vertices and edge midpoints
    if to_crs is None:
        clat, clng = h3grid.cell_centers(cand)
        ref = t.a * width / 2.0 + t.b * height / 2.0 + t.c  # the raster's own longitudes
        shift = np.round((ref - clng) / 360.0) * 360.0 + clng  # centre moved to the raster side
        x = shift[owner] + (lng - clng[owner] + 180.0) % 360.0 - 180.0
        mx = shift[owner] + (mlng - clng[owner] + 180.0) % 360.0 - 180.0
        y, my = lat, mlat
    else:
        x, y = to_crs.transform(lng, lat)
        mx, my = to_crs.transform(mlng, mlat)
        x, y, mx, my = (np.asarray(a, dtype=np.float64) for a in (x, y, mx, my))
    inv = ~t
    px, py = inv.a * x + inv.b * y + inv.c, inv.d * x + inv.e * y + inv.f  # (col, row)
    qx, qy = inv.a * mx + inv.b * my + inv.c, inv.d * mx + inv.e * my + inv.f
    bend = np.hypot(qx - (px + px[nxt]) / 2.0, qy - (py + py[nxt]) / 2.0)  # pixels
    bad_v = ~(np.isfinite(px) & np.isfinite(py) & np.isfinite(bend)) | (np.abs(lat) > MAX_LAT) \
        | (bend > MAX_BEND_PX)
    usable = np.bincount(owner, weights=bad_v, minlength=cand.size) == 0
    ext = np.maximum(np.maximum.reduceat(px, starts) - np.minimum.reduceat(px, starts),
                     np.maximum.reduceat(py, starts) - np.minimum.reduceat(py, starts))
    usable &= np.isfinite(ext)
    if usable.any():  # a projection tearing an outline apart: far larger than its neighbours
        usable &= ext <= 4.0 * np.median(ext[usable]) + 2.0
    # 1. burn the usable outlines (value: position in cand), closed rings in pixel coordinates
    use = np.flatnonzero(usable)
    closed = np.arange(lat.size + cand.size) - np.repeat(np.arange(cand.size), counts + 1)
    closed[np.cumsum(counts + 1) - 1] = starts  # each ring's first vertex repeated at its end
    rings = np.split(np.column_stack([px, py])[closed], np.cumsum(counts + 1)[:-1])
    shapes = ({"type": "Polygon", "coordinates": [rings[i]]} for i in use.tolist())
    burned = features.rasterize(zip(shapes, use.tolist(), strict=True),
                                out_shape=(height, width), fill=-1, all_touched=False,
                                transform=Affine.identity(), dtype="int32").ravel()
    # 2. pixels near a burned chord, and pixels no outline covered: exact lookup
    edge = usable[owner]
    tol = 2.0 * bend[edge] + EDGE_FLOOR_PX
    near = _near_edges(px[edge], py[edge], px[nxt][edge], py[nxt][edge], tol, height, width)
    redo = np.flatnonzero(near | (burned < 0))
    codes, cells = burned, cand
    if redo.size:
        ex, ey, eok = lnglat((redo % width).astype(np.float64), (redo // width).astype(np.float64))
        exact = np.zeros(redo.size, dtype=np.uint64)
        if eok.any():
            exact[eok] = h3grid.points_to_cells(ey[eok], ex[eok], resolution=res)
        new = np.setdiff1d(exact[eok], cand)
        if new.size:
            cells = np.union1d(cand, new)
            codes = _remap(codes, np.searchsorted(cells, cand))
        codes[redo] = np.where(eok, np.searchsorted(cells, exact), -1)
    # 3. keep only the cells some pixel centre fell in
    used = np.bincount(codes + 1, minlength=cells.size + 1)[1:] > 0
    if not used.all():
        codes = _remap(codes, np.cumsum(used) - 1)
        cells = cells[used]
    log.debug("burned %d of %d cells; %d pixels looked up exactly", use.size, cand.size,
              redo.size)
    return cells.astype(np.uint64), codes.astype(np.int32, copy=False)


def _remap(codes: np.ndarray, new_pos: np.ndarray) -> np.ndarray:
    """``new_pos[codes]`` as int32, keeping -1 (one gather: -1 picks the appended -1)."""
    table = np.append(new_pos, -1).astype(np.int32)
    return table[codes]


def _near_edges(x0: np.ndarray, y0: np.ndarray, x1: np.ndarray, y1: np.ndarray, tol: np.ndarray,
                height: int, width: int) -> np.ndarray:
    """Mask (height * width,) of pixels whose centre lies within `tol` pixels of a segment.

    Segments in pixel coordinates (x = column, y = row, pixel centres at +0.5). Each segment is
    walked along its longer axis, one pixel centre line at a time, vectorised over all segments.
    Needs ``tol`` < 0.35 (at most one centre line within the band). A superset: the band is
    widened to the vertical (or horizontal) distance and extended by `tol` beyond the segment's
    ends, so every pixel centre within `tol` of it is marked.
    """
    near = np.zeros(height * width, dtype=bool)
    steep = np.abs(y1 - y0) > np.abs(x1 - x0)
    for is_steep in (False, True):  # shallow: walk columns; steep: walk rows
        k = steep == is_steep
        if not k.any():
            continue
        a0, b0, a1, b1, tk = x0[k], y0[k], x1[k], y1[k], tol[k]
        if is_steep:
            a0, b0, a1, b1 = b0, a0, b1, a1
        da = a1 - a0
        slope = np.divide(b1 - b0, da, out=np.zeros_like(da), where=da != 0)
        band = tk * np.sqrt(1.0 + slope * slope)
        lo = np.ceil(np.minimum(a0, a1) - tk - 0.5).astype(np.int64)
        hi = np.floor(np.maximum(a0, a1) + tk - 0.5).astype(np.int64)
        n = np.maximum(hi - lo + 1, 0)
        seg = np.repeat(np.arange(n.size), n)
        a = lo[seg] + (np.arange(seg.size) - np.repeat(np.cumsum(n) - n, n))
        b = b0[seg] + (a + 0.5 - a0[seg]) * slope[seg]  # the segment's line at centre a + 0.5
        bi = np.floor(b)  # nearest pixel-centre line (centres at i + 0.5)
        close = np.abs(b - (bi + 0.5)) <= band[seg]  # band < 0.5: no other line is that close
        a, bi = a[close], bi[close].astype(np.int64)
        col, row = (bi, a) if is_steep else (a, bi)
        inside = (col >= 0) & (col < width) & (row >= 0) & (row < height)
        near[row[inside] * width + col[inside]] = True
    return near
