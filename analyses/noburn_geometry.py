"""Geometry of the no-burn zone: H3 disks and fill, exact dissolves, parts per county, changes.

Helpers of :mod:`analyses.no_burn_zones`. Longitude/latitude in WGS-84 degrees (shapely's x=lng,
y=lat; h3 takes lat, lng); areas are geodesic on the WGS-84 ellipsoid, km².
"""

from __future__ import annotations

import math
from typing import Any

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import shapely

from spatial import admin, h3grid, overlay
from spatial.geodesy import GEOD
from spatial.geodesy import area_km2 as geodesic_area_km2  # noqa: F401 (used by callers)


def disk_cells(lng: np.ndarray, lat: np.ndarray, radius_m: float, res: int
                ) -> tuple[np.ndarray, np.ndarray]:
    """(cell, point position) pairs: each point's own cell and cells with centre <= radius_m.

    Candidates are the grid disk of the point's cell with k = ceil(radius / (0.8 x centre
    spacing)) + 1 rings (enough for H3's distortion); their centres are tested geodesically.
    """
    centre = h3grid.points_to_cells(lat, lng, resolution=res)
    if radius_m <= 0 or centre.size == 0:
        return centre, np.arange(centre.size)
    spacing = h3.average_hexagon_edge_length(res, unit="m") * math.sqrt(3)
    k = int(math.ceil(radius_m / (0.8 * spacing))) + 1
    cells, owner = h3grid.grid_disks(centre, k)
    clat, clng = h3grid.cell_centers(cells)
    _, _, d = GEOD.inv(lng[owner], lat[owner], clng, clat)
    keep = (d <= radius_m) | (cells == centre[owner])
    return cells[keep], owner[keep]


def fill(labels: pd.Series, rings: int) -> pd.Series:
    """Grow labelled cells ring by ring; return only the newly labelled cells.

    An unlabelled cell takes the minimum label of the cells one ring in (0 = unconverted wins).
    """
    known = labels.copy()
    frontier = labels
    new_parts = []
    for _ in range(rings):
        if frontier.empty:
            break
        cells = frontier.index.to_numpy(dtype=np.uint64)
        nb, origin = h3grid.grid_disks(cells, 1)
        lab = frontier.to_numpy()[origin]
        fresh = ~pd.Index(nb).isin(known.index)
        if not fresh.any():
            break
        grown = pd.Series(lab[fresh], index=nb[fresh]).groupby(level=0).min()
        known = pd.concat([known, grown])
        new_parts.append(grown)
        frontier = grown
    if not new_parts:
        return pd.Series(dtype=np.int64)
    return pd.concat(new_parts)


def points_in(polys: Any, lng: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Position of the polygon whose interior holds each point (first one), -1 when none."""
    return overlay.first_containing(polys, lng, lat, border=False)


def shells(polys: Any) -> np.ndarray:
    """Polygons with their holes filled."""
    return np.asarray([shapely.Polygon(p.exterior) for p in polys], dtype=object)


def polygon_parts(geom: shapely.Geometry) -> np.ndarray:
    """The Polygon parts of any geometry (lines and points from overlays dropped)."""
    parts = shapely.get_parts(geom)
    return np.asarray([p for p in parts if p.geom_type == "Polygon" and not p.is_empty],
                      dtype=object)


ZONE_COLUMNS = ["zone_id", "county_code", "county_name", "township_code", "township_name",
                "area_km2", "n_cells"]


def by_county(geoms: Any, counties: gpd.GeoDataFrame | None
              ) -> tuple[np.ndarray, np.ndarray]:
    """Split (Multi)Polygons along county boundaries: (Polygon parts, county position or -1).

    Land outside every county keeps position -1; without counties nothing is split.
    """
    geoms = [g for g in np.atleast_1d(np.asarray(geoms, dtype=object))
             if g is not None and not g.is_empty]
    parts: list[Any] = []
    pos: list[int] = []
    for g in geoms:
        if counties is None or not len(counties):
            pieces = [(-1, g)]
        else:
            cg = counties.geometry.to_numpy()
            inter = shapely.intersection(cg, g)
            pieces = list(enumerate(inter))
            pieces.append((-1, shapely.difference(g, shapely.union_all(cg))))
        for k, piece in pieces:
            for q in polygon_parts(piece):
                parts.append(q)
                pos.append(k)
    return np.asarray(parts, dtype=object), np.asarray(pos, dtype=np.int64)


def zone_frame(parts: np.ndarray, county_pos: np.ndarray, counties: gpd.GeoDataFrame | None,
               min_km2: float, cells: np.ndarray, *, township: np.ndarray | None = None,
               townships: gpd.GeoDataFrame | None = None
               ) -> tuple[gpd.GeoDataFrame, int, float]:
    """Zone polygons from parts already split by county: parts under `min_km2` are dropped.

    `cells` (H3 ids) count into ``n_cells`` by centre. Returns the zone, the number of parts
    dropped and their area (km², geodesic).
    """
    area = geodesic_area_km2(parts) if len(parts) else np.zeros(0)
    keep = area >= min_km2
    n_drop, a_drop = int((~keep).sum()), float(area[~keep].sum())
    parts, county_pos, area = parts[keep], county_pos[keep], area[keep]
    if not len(parts):
        empty = gpd.GeoDataFrame({c: pd.Series(dtype=object) for c in ZONE_COLUMNS},
                                 geometry=gpd.GeoSeries([], crs="EPSG:4326"), crs="EPSG:4326")
        return empty, n_drop, a_drop

    def pick(units: gpd.GeoDataFrame | None, pos: np.ndarray | None, col: str) -> np.ndarray:
        out = np.full(len(parts), None, dtype=object)
        if units is not None and pos is not None:
            hit = pos >= 0
            out[hit] = units[col].to_numpy(dtype=object)[pos[hit]]
        return out

    tpos = township[keep] if township is not None else None
    z = gpd.GeoDataFrame({
        "county_code": pick(counties, county_pos, "code"),
        "county_name": pick(counties, county_pos, "name"),
        "township_code": pick(townships, tpos, "code"),
        "township_name": pick(townships, tpos, "name"),
        "area_km2": np.round(area, 6)}, geometry=list(parts), crs="EPSG:4326")
    clat, clng = h3grid.cell_centers(cells)
    part = points_in(z.geometry.to_numpy(), clng, clat)
    z["n_cells"] = np.bincount(part[part >= 0], minlength=len(z))
    z = z.sort_values(["county_code", "area_km2"], ascending=[True, False],
                      na_position="last", kind="stable").reset_index(drop=True)
    z.insert(0, "zone_id", [f"Z{i:04d}" for i in range(1, len(z) + 1)])
    return z[[*ZONE_COLUMNS, "geometry"]], n_drop, a_drop


def zone_stats(zone: gpd.GeoDataFrame, v: pd.DataFrame, v_zone: np.ndarray,
                gap_zone: np.ndarray) -> gpd.GeoDataFrame:
    n = len(zone)
    hh = v["households"].fillna(0).to_numpy(dtype=float)
    done = v["converted_households"].fillna(0).to_numpy(dtype=float)
    inz = v_zone >= 0
    gap = v["is_gap"].to_numpy(dtype=bool) & (gap_zone >= 0)
    zone = zone.copy()
    zone["n_villages"] = np.bincount(v_zone[inz], minlength=n)
    zone["households"] = np.bincount(v_zone[inz], weights=hh[inz], minlength=n).astype(np.int64)
    zone["converted_households"] = np.bincount(v_zone[inz], weights=done[inz],
                                               minlength=n).astype(np.int64)
    zone["n_gaps"] = np.bincount(gap_zone[gap], minlength=n)
    zone["gap_households"] = np.bincount(gap_zone[gap], weights=hh[gap],
                                         minlength=n).astype(np.int64)
    geom = zone.pop("geometry")
    return gpd.GeoDataFrame(zone, geometry=geom.to_numpy(), crs="EPSG:4326")


def changes(zone: gpd.GeoDataFrame, cur_union: shapely.Geometry | None,
            v: pd.DataFrame, counties: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame:
    """Added (proposed, not current) and removed (current, not proposed) pieces, per county.

    Added pieces are cut from each zone part and keep its county; removed pieces are split
    along county boundaries. ``households`` are those of the villages inside a piece (added:
    households joining the zone; removed: leaving it).
    """
    cols = ["change", "area_km2", "county_code", "county_name", "n_villages", "n_converted",
            "n_unconverted", "households", "village_ids"]
    if cur_union is None:
        return gpd.GeoDataFrame({c: pd.Series(dtype=object) for c in cols},
                                geometry=gpd.GeoSeries([], crs="EPSG:4326"), crs="EPSG:4326")
    zone_union = shapely.union_all(zone.geometry.to_numpy()) if len(zone) else shapely.Polygon()
    zpos = np.full(len(zone), -1, dtype=np.int64)
    if counties is not None and len(counties) and len(zone):
        lookup = {c: i for i, c in enumerate(counties["code"].to_numpy(dtype=object))}
        zpos = np.array([lookup.get(c, -1) for c in zone["county_code"]], dtype=np.int64)
    added, a_pos = [], []
    for g, k in zip(shapely.difference(zone.geometry.to_numpy(), cur_union), zpos,
                    strict=True):
        p = polygon_parts(g)
        added.extend(p)
        a_pos.extend([k] * len(p))
    added, a_pos = np.asarray(added, dtype=object), np.asarray(a_pos, dtype=np.int64)
    removed, r_pos = by_county(shapely.difference(cur_union, zone_union), counties)
    geoms = np.concatenate([added, removed]).astype(object)
    cpos = np.concatenate([a_pos, r_pos])
    kind = np.array(["added"] * len(added) + ["removed"] * len(removed), dtype=object)
    out = pd.DataFrame({"change": kind, "area_km2": np.round(geodesic_area_km2(geoms), 6)})
    out["county_code"], out["county_name"] = admin.code_name(counties, cpos)
    pos = points_in(geoms, v["lon"].to_numpy(dtype=float), v["lat"].to_numpy(dtype=float))
    has = pos >= 0
    n = len(geoms)
    conv = v["converted"].to_numpy(dtype=bool)
    out["n_villages"] = np.bincount(pos[has], minlength=n)
    out["n_converted"] = np.bincount(pos[has & conv], minlength=n)
    out["n_unconverted"] = out["n_villages"] - out["n_converted"]
    out["households"] = np.bincount(pos[has], weights=v["households"].fillna(0).to_numpy()[has],
                                    minlength=n).astype(np.int64)
    ids = pd.Series(v["id"].to_numpy(dtype=object)[has]).groupby(pos[has]).agg(id_list)
    out["village_ids"] = ids.reindex(range(n)).to_numpy(dtype=object)
    out = gpd.GeoDataFrame(out[cols], geometry=geoms, crs="EPSG:4326")
    return out.sort_values(["change", "area_km2"], ascending=[True, False],
                           kind="stable").reset_index(drop=True)


def id_list(ids: pd.Series, limit: int = 200) -> str:
    """Comma-joined ids, cut to about `limit` characters (Shapefile text holds 254 bytes)."""
    text = ",".join(map(str, ids))
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(",", 1)[0]
    return f"{cut},…(共{len(ids)}个)"
