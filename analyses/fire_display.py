"""fire-points at national scale on the map and figure: coarser display cells, compact events.

A national season (1 M detections, ~150,000 events, ~380,000 res-8 cells) drawn feature by
feature makes a web map of several hundred MB. :func:`plan` decides, before drawing, what the
map holds within :data:`analyses.fire_points_map.MAP_MAX_BYTES`:

1. everything as today (cells, event polygons, the detections) when it fits;
2. else cells and event polygons without the detections (as today) when those fit;
3. else the events as compact centroid points (:mod:`spatial.pointlayer`, size by detections)
   and the cells at the finest *display* resolution whose layer fits the rest of the budget:
   each res-8 cell's H3 parent at that resolution (:func:`cell_parents`), the detections and
   FRP summed, the events counted once per display cell (:func:`coarse_cells`). The legend's
   title and a note on the map say which resolution is shown and why.

The files (GeoPackage, Shapefiles) keep the result's own cells and events; only the drawing
changes. Small results (the demo) take step 1 and keep their map byte for byte.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from spatial import h3grid, legend

from .base import Result

#: share of the map's byte budget the compact events may take; more events than that are left
#: off the map too (the display cells count them)
EVENTS_SHARE = 0.5
#: coarsest display resolution tried (res 3: ~12,000 km² a cell)
MIN_DISPLAY_RES = 3

# H3 index layout (h3 v4, "H3 Index Representation"): resolution in bits 52-55, then 15
# digits of 3 bits, digit i in bits 3 * (15 - i) .. + 2; digits past the resolution are 7
_RES_SHIFT = np.uint64(52)
_RES_MASK = np.uint64(0xF) << _RES_SHIFT


def cell_parents(cells: np.ndarray, res: int) -> np.ndarray:
    """H3 parent at resolution `res` of each cell (``uint64``), vectorised.

    Equal to ``h3.cell_to_parent(c, res)`` element-wise; cells must be valid and at least
    resolution `res` (not checked here).
    """
    c = np.asarray(cells, dtype=np.uint64)
    unused = np.uint64((1 << (3 * (15 - res))) - 1)  # digits res+1..15: all ones (7)
    return (c & ~_RES_MASK & ~unused) | (np.uint64(res) << _RES_SHIFT) | unused


def kept_cells(points: pd.DataFrame, res: int) -> pd.DataFrame:
    """The kept detections' res-`res` cells (``c``, uint64), events (``e``) and FRP (``frp``).

    As :func:`analyses.fire_points._cells` indexes them (lat, lng of each kept detection).
    """
    k = points[points["status"] == "kept"]
    return pd.DataFrame({
        "c": h3grid.points_to_cells(k["lat"].to_numpy(), k["lon"].to_numpy(), resolution=res),
        "e": k["event_id"].to_numpy(), "frp": k["frp"].to_numpy()})


def coarse_cells(points: pd.DataFrame, res: int, display_res: int, *,
                 kept: pd.DataFrame | None = None) -> gpd.GeoDataFrame:
    """Display cells at `display_res` from the kept detections (cells of the layer at `res`).

    Columns ``h3_cell``, ``n_points`` (kept detections: the sum over the res-`res` cells in
    it), ``n_events`` (distinct events with a kept detection in it), ``frp_sum`` (MW, sum),
    geometry; one row per display cell with detections, sorted by cell id. `kept`:
    :func:`kept_cells` of `points` at `res`, when already made (several resolutions tried).
    """
    k = kept_cells(points, res) if kept is None else kept
    df = pd.DataFrame({"c": cell_parents(k["c"].to_numpy(), display_res),
                       "e": k["e"].to_numpy(), "frp": k["frp"].to_numpy()})
    g = df.groupby("c", sort=True)
    data = {"n_points": g.size().to_numpy(np.int64),
            "n_events": g["e"].nunique().to_numpy(np.int64),
            "frp_sum": g["frp"].sum().round(1).to_numpy("float64")}
    return h3grid.cells_to_gdf(np.asarray(g.size().index.to_numpy(), dtype=np.uint64), data)


def cells_legend(cells: gpd.GeoDataFrame, display_res: int | None) -> legend.LayerLegend:
    """The cells' graduated legend (fire-points' classes), titled with the display resolution."""
    title = ("H3 网格：火点数" if display_res is None else
             f"H3 网格（显示为 {display_res} 级）：火点数")
    return legend.graduated("cells", title, "polygon", column="n_points",
                            values=cells["n_points"].to_numpy(float), k=5, cmap="PuBu",
                            unit="个", value_format="{:g}", fill_opacity=0.6)


@dataclass
class MapPlan:
    """What the fire-points map draws (see the module docstring).

    ``points``: the detections are drawn; ``estimate``: the map's estimated bytes with them;
    ``display_res``: None for the result's cells, else the resolution of the display cells
    in ``cells``; ``compact_events``: the events as compact centroid points;
    ``events``: the events are drawn at all; ``full_bytes``: estimated bytes of cells and
    events drawn as in the files (step 2).
    """

    points: bool
    estimate: float
    display_res: int | None = None
    cells: gpd.GeoDataFrame | None = None
    compact_events: bool = False
    events: bool = True
    full_bytes: float = 0.0

    @property
    def national(self) -> bool:
        """Cells or events are drawn in a coarser form than the files hold."""
        return self.display_res is not None or self.compact_events or not self.events


#: the events' tooltip on the national map (compact layer): few fields, texts shared
EVENT_TIPS = {"event_id": "事件", "start_time": "开始", "n_points": "火点数",
              "county_name": "县区", "township_name": "乡镇"}
#: circle radius range of the compact events (pixels), area proportional to detections
EVENT_RADIUS = (2.0, 8.0)


def events_layer_data(events: gpd.GeoDataFrame) -> dict:
    """The keyword arguments of :func:`spatial.pointlayer.add_compact_points` for the events.

    Each event at its centroid (``lon``, ``lat``: mean of its detections), radius by
    ``n_points``, the tooltip of :data:`EVENT_TIPS`, the day filter on ``start_date``.
    """
    from spatial.maplayers import scale_radius

    tips = {label: events[col] for col, label in EVENT_TIPS.items() if col in events.columns}
    return {"lng": events["lon"].to_numpy(float), "lat": events["lat"].to_numpy(float),
            "radius": scale_radius(events, "n_points", radius_range=EVENT_RADIUS),
            "tooltip": tips, "keys": events["start_date"]}


def events_bytes(events: gpd.GeoDataFrame) -> int:
    """Bytes the compact events layer adds to the page (its data, as written)."""
    from spatial import pointlayer
    from spatial.htmlsafe import js_json

    data = pointlayer.layer_data(**events_layer_data(events))
    return len(js_json(data)) + 4_000  # the layer's script


def national_note(result: Result, plan: MapPlan, max_bytes: float) -> str:
    """The map's note (Chinese) on what is drawn coarser than the files, and why."""
    L = result.layers
    parts = [f"全部按文件绘制约 {plan.full_bytes / 1e6:,.0f} MB，超过网页地图 "
             f"{max_bytes / 1e6:g} MB 上限，故："]
    if plan.display_res is not None:
        parts.append(f"网格按 H3 {plan.display_res} 级显示（{len(plan.cells):,} 个；原 "
                     f"{result.params.h3_resolution} 级网格 {len(L['cells']):,} 个），火点数、"
                     "FRP 为其中各网格之和，事件数为网格内的不同事件；")
    if plan.compact_events:
        parts.append(f"{len(L['events']):,} 起火点事件以中心点显示（圆点大小示火点数；图层"
                     "默认关闭，在右上角图层列表中打开）；")
    elif not plan.events:
        parts.append(f"{len(L['events']):,} 起火点事件未逐个绘制（见网格的事件数）；")
    parts.append("原分辨率网格与事件范围见 GeoPackage / Shapefile。")
    return "".join(parts)
