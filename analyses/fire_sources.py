"""Industrial heat sources found from the detections' own history (persistent H3 cells).

A chimney or a coking plant is seen by the satellites on many dates in many months; a field
burns on a few days of one harvest. :func:`persistent_cells` finds the cells that detect fire on
many distinct dates, :func:`derived_sources` merges adjacent ones into sources. Coordinates are
WGS-84 degrees; H3 calls take **lat first**.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.sparse import coo_array
from scipy.sparse.csgraph import connected_components

from spatial import h3grid

SOURCE_COLUMNS = ["source", "id", "name", "kind", "lon", "lat", "n_detections", "n_dates",
                  "n_months", "first_date", "last_date", "n_cells", "n_excluded"]


def persistent_cells(lat: np.ndarray, lng: np.ndarray, days: np.ndarray, *, resolution: int,
                     k: int, min_dates: int, min_months: int
                     ) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """Find H3 cells that detect fire on many distinct dates (industrial heat sources).

    A cell is *persistent* when its own detections fall on at least ``min_dates`` distinct
    local days in at least ``min_months`` distinct calendar months. The exclusion *zone* is the
    persistent cells and every cell within ``k`` rings of one (repeated detections of one
    chimney scatter by a pixel or so).

    Parameters
    ----------
    lat, lng
        Detections in WGS-84 degrees (**lat first**, h3 order).
    days
        Local day of each detection, ``datetime64[D]``.
    resolution
        H3 resolution of the cells.
    k
        Rings of neighbours added to the zone around each persistent cell.
    min_dates, min_months
        Thresholds of distinct days and distinct months.

    Returns
    -------
    cells, in_zone, zone
        ``cells``: uint64 cell of each detection; ``in_zone``: bool per detection;
        ``zone``: one row per zone cell holding detections (``cell`` sorted, ``persistent``,
        ``n_dates``, ``n_months`` of the cell's own detections).
    """
    cells = h3grid.points_to_cells(lat, lng, resolution=resolution)
    if len(cells) == 0:
        return cells, np.zeros(0, dtype=bool), pd.DataFrame(
            {"cell": np.zeros(0, np.uint64), "persistent": np.zeros(0, bool),
             "n_dates": np.zeros(0, np.int64), "n_months": np.zeros(0, np.int64)})
    ucells, inv = np.unique(cells, return_inverse=True)
    day = days.astype("datetime64[D]")
    cd = pd.DataFrame({"c": inv, "d": day.astype(np.int64),
                       "m": day.astype("datetime64[M]").astype(np.int64)})
    n_dates = cd.groupby("c")["d"].nunique().reindex(range(ucells.size)).to_numpy()
    n_months = cd.groupby("c")["m"].nunique().reindex(range(ucells.size)).to_numpy()
    pers = (n_dates >= min_dates) & (n_months >= min_months)
    zone = pers.copy()
    if k > 0 and pers.any():
        src, dst = h3grid.grid_disk_pairs(ucells, k)
        zone[dst[pers[src]]] = True
    table = pd.DataFrame({"cell": ucells[zone], "persistent": pers[zone],
                          "n_dates": n_dates[zone], "n_months": n_months[zone]})
    return cells, zone[inv], table


def derived_sources(zone: pd.DataFrame, cells: np.ndarray, lat: np.ndarray, lng: np.ndarray,
                    days: np.ndarray, evidence: np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
    """Merge adjacent zone cells (from :func:`persistent_cells`) into sources.

    Parameters
    ----------
    zone
        Zone cells, ``cell`` sorted ascending.
    cells
        Cell of every detection (same resolution).
    lat, lng, days
        Every detection (lat first), local day ``datetime64[D]``.
    evidence
        Detections counted in a source's statistics (non-duplicate, confident).

    Returns
    -------
    sources, source_of_point
        One row per source (id ``PS01``…, numbered by first evidence detection; location =
        mean of its evidence detections; detections, dates, months, first/last date, cells);
        the row of the source of each detection (-1 for none).
    """
    n = len(cells)
    of_point = np.full(n, -1, dtype=np.int64)
    if len(zone) == 0:
        return pd.DataFrame(columns=SOURCE_COLUMNS), of_point
    zc = zone["cell"].to_numpy(dtype=np.uint64)
    src, dst = h3grid.grid_disk_pairs(zc, 1)
    graph = coo_array((np.ones(src.size), (src, dst)), shape=(zc.size, zc.size))
    _, comp = connected_components(graph, directed=False)
    pos = h3grid.lookup(zc, cells)
    hit = pos >= 0
    ev = hit & evidence
    first = pd.Series(np.flatnonzero(ev)).groupby(comp[pos[ev]]).min().sort_values()
    rank = np.full(comp.max() + 1, -1, dtype=np.int64)
    rank[first.index.to_numpy()] = np.arange(len(first))
    of_point[hit] = rank[comp[pos[hit]]]
    sel = (of_point >= 0) & evidence
    df = pd.DataFrame({"s": of_point[sel], "lat": lat[sel], "lon": lng[sel], "d": days[sel],
                       "m": days[sel].astype("datetime64[M]")})
    g = df.groupby("s")
    out = pd.DataFrame({
        "lon": g["lon"].mean().round(5), "lat": g["lat"].mean().round(5),
        "n_detections": g.size(), "n_dates": g["d"].nunique(), "n_months": g["m"].nunique(),
        "first_date": g["d"].min().astype(str), "last_date": g["d"].max().astype(str)})
    zr = rank[comp]
    out["n_cells"] = pd.Series(zr[zr >= 0]).value_counts()
    out["source"] = "derived"
    out["id"] = [f"PS{i + 1:02d}" for i in out.index]
    out["name"] = "持续热源（由历史火点识别）"
    out["kind"] = "persistent"
    return out.reset_index(drop=True), of_point
