"""The fire-points map, figure and QGIS styles: one legend definition (:func:`symbology`).

Kept from :mod:`analyses.fire_points` so that the analysis module holds the analysis. Colours
are chosen to stay apart: detections by status in red / purple / orange / grey / blue, known
heat sources black and derived ones magenta, fire-count cells in a blue ramp under them.
"""

from __future__ import annotations

import weakref

import folium
import geopandas as gpd
import numpy as np

from spatial import figure, legend, mapparts, pointlayer, webmap

from . import fire_display
from .base import Result

#: statuses in drawing order of the legend (kept on top)
STATUSES = ("kept", "off_cropland", "industrial", "outside_window", "low_confidence",
            "duplicate")
STATUS_COLORS = {"kept": "#d7301f", "off_cropland": "#fc9272", "industrial": "#6a3d9a",
                 "outside_window": "#fdae61", "low_confidence": "#bdbdbd",
                 "duplicate": "#1f78b4"}
STATUS_LABELS = {"kept": "秸秆焚烧火点（保留）", "off_cropland": "非耕地火点（排除）",
                 "industrial": "工业热源火点（排除）", "outside_window": "时段外火点",
                 "low_confidence": "低可信度火点", "duplicate": "重复火点"}
SOURCE_COLORS = {"known": "#000000", "derived": "#e7298a"}
SOURCE_LABELS = {"known": "已知工业热源", "derived": "持续热源（由检测推算）"}
EVENT_COLOR = "#b10026"
#: event fields of daily operation, shown where the run has them (analyses.fire_accountability)
EVENT_EXTRA = {"event_code": "事件编号", "township_event_no": "乡镇第几起",
               "accountability": "问责", "verification": "核查", "village_name": "最近村庄",
               "receptors": "周边敏感点"}


def symbology(result: Result) -> list[legend.LayerLegend]:
    """The drawn layers, bottom to top, with classes, colours and Chinese names.

    The one definition the web map, the figure and the QGIS styles use. ``points`` is one layer
    in the files (categorized by status) and one map layer per status (see
    :func:`status_layers`).
    """
    L = result.layers
    out = mapparts.admin_legends(result.context)
    cells = L["cells"]
    if len(cells):
        out.append(legend.graduated("cells", "H3 网格：火点数", "polygon", column="n_points",
                                    values=cells["n_points"].to_numpy(float), k=5,
                                    cmap="PuBu", unit="个", value_format="{:g}",
                                    fill_opacity=0.6))
    if len(L["events"]):
        out.append(legend.single("events", "火点事件", "polygon", EVENT_COLOR,
                                 fill_opacity=0.15, width=1.5))
    pts = L["points"]
    if len(pts):
        present = set(pts["status"].unique())
        order = [s for s in reversed(STATUSES) if s in present]  # bottom to top
        out.append(legend.categorized(
            "points", "卫星火点", "point", column="status",
            colors={s: STATUS_COLORS[s] for s in order},
            labels={s: STATUS_LABELS[s] for s in order}, size=3.5))
    if len(L["heat_sources"]):
        out.append(legend.categorized("heat_sources", "工业热源", "point", column="source",
                                      colors=SOURCE_COLORS, labels=SOURCE_LABELS,
                                      present=L["heat_sources"]["source"], size=7.0,
                                      label_col="name"))
    return out


def status_layers(leg: legend.LayerLegend) -> list[legend.LayerLegend]:
    """One single-symbol legend per status of the points legend (one map layer each)."""
    return [legend.single(leg.layer, e.label, "point", e.color, size=leg.size,
                          visible=e.value != "duplicate", extra={"status": e.value})
            for e in leg.entries]


#: size limit of the web map (bytes): the single detections are drawn only while the map's
#: estimated size stays under it (a national season of 1 M detections would make a map of
#: several hundred MB that no browser opens in a meeting); cells and events are always drawn
MAP_MAX_BYTES = 10_000_000
#: features of each layer rendered to measure its bytes per feature
SAMPLE = 200
#: below this many features in all the map is surely small: no estimate is rendered
#: (a feature of these layers takes well under 2 KB of HTML)
SMALL = MAP_MAX_BYTES // 2_000

_TIPS = {
    "cells": {"h3_cell": "网格", "n_points": "火点数", "n_events": "火点事件数",
              "frp_sum": "FRP 合计 (MW)"},
    "events": {"event_id": "事件", "start_time": "开始", "end_time": "结束",
               "n_points": "火点数", "county_name": "县区", "township_name": "乡镇",
               "first_in_township": "乡镇首个"},
    "points": {"local_time": "过境时间", "satellite": "卫星", "conf_class": "可信度",
               "frp": "FRP (MW)", "status": "判定", "event_id": "事件", "county_name": "县区",
               "township_name": "乡镇", "heat_source": "热源"},
}


_SOURCE_TIPS = {"id": "编号", "name": "名称", "kind": "类型", "n_dates": "检测日期数",
                "n_excluded": "排除检测数"}


def _draw(m: folium.Map, legs: dict[str, legend.LayerLegend], L: dict) -> None:
    """Cells, events and points (one layer per status) of ``L`` that have a legend."""
    if "cells" in legs and "cells" in L:
        mapparts.add_layer(m, legs["cells"], L["cells"], label="网格内火点数",
                           tooltip=_TIPS["cells"])
    if "events" in legs and "events" in L:
        mapparts.add_layer(m, legs["events"], L["events"],
                           tooltip={**_TIPS["events"],
                                    **{k: v for k, v in EVENT_EXTRA.items()
                                       if k in L["events"].columns}},
                           filter_col="start_date")
    if "points" in legs and "points" in L:
        pts = L["points"]
        for leg in status_layers(legs["points"]):
            sub = pts[pts["status"] == leg.extra["status"]]
            mapparts.add_layer(m, leg, sub, filter_col="local_date", tooltip=_TIPS["points"])


def _bytes_per_feature(legs: dict[str, legend.LayerLegend], name: str, layer) -> float:
    """HTML bytes one feature of `layer` adds to a map: a sample drawn and rendered."""
    k = min(SAMPLE, len(layer))
    if k == 0:
        return 0.0
    sample = layer.iloc[np.linspace(0, len(layer) - 1, k).round().astype(np.int64)]
    sizes = []
    for part in ({}, {name: sample}):
        m = folium.Map(location=[35.0, 117.0], zoom_start=6, tiles=None)
        _draw(m, legs, part)
        sizes.append(len(m.get_root().render()))
    return (sizes[1] - sizes[0]) / k


def _layer_bytes(result: Result, legs: dict[str, legend.LayerLegend]) -> dict[str, float]:
    """Estimated HTML bytes of cells, events and points drawn feature by feature."""
    L = result.layers
    return {k: _bytes_per_feature(legs, k, L[k]) * len(L[k])
            for k in ("cells", "events", "points")}


def points_plan(result: Result, legends: list[legend.LayerLegend] | None = None
                ) -> tuple[bool, float]:
    """Whether the map draws the single detections, and its estimated size with them (bytes).

    Decided before drawing: the bytes per feature of cells, events and points are measured on
    a sample of each (:data:`SAMPLE` features rendered) and scaled to the layers' sizes; the
    points are drawn when the total stays within :data:`MAP_MAX_BYTES`. Small results (under
    :data:`SMALL` features) are drawn without measuring.
    """
    L = result.layers
    n = {k: len(L[k]) for k in ("cells", "events", "points")}
    if sum(n.values()) <= SMALL:
        return True, 0.0
    legs = {leg.layer: leg for leg in (legends or symbology(result))}
    est = sum(_layer_bytes(result, legs).values())
    return est <= MAP_MAX_BYTES, est


def _page_bytes(result: Result, legs: dict[str, legend.LayerLegend]) -> int:
    """Bytes of the map without cells, events and points (page, outlines, heat sources)."""
    m = mapparts.start_map(result.context, result.layers["points"],
                           title=result.title or "fire-points")
    if "heat_sources" in legs:
        mapparts.add_layer(m, legs["heat_sources"], result.layers["heat_sources"],
                           tooltip=_SOURCE_TIPS)
    mapparts.add_legend(m)
    return len(webmap.render_html(m, offline=True, inline=True)) + 20_000  # notes, picker


def map_plan(result: Result, legends: list[legend.LayerLegend] | None = None
             ) -> fire_display.MapPlan:
    """What the map draws within :data:`MAP_MAX_BYTES` (:mod:`analyses.fire_display`).

    Decided before drawing from estimates: every layer as in the files when that fits (the
    detections only then, :func:`points_plan`); else the cells and event polygons when those
    fit; else the events as compact centroid points and the cells at the finest display
    resolution (down to :data:`analyses.fire_display.MIN_DISPLAY_RES`) that fits the rest.
    """
    L = result.layers
    key = (tuple(id(L[k]) for k in ("points", "events", "cells"))
           + (len(L["points"]), MAP_MAX_BYTES))
    cached = _PLANS.get(key[0])
    if (cached is not None and cached[0]() is L["points"] and cached[1] == key
            and cached[2] == legends):
        return cached[3]  # the map and the figure of one result (same legends)
    plan = _map_plan(result, legends)  # seconds: sampled estimates, display cells
    if key[0] not in _PLANS:
        weakref.finalize(L["points"], _PLANS.pop, key[0], None)
    _PLANS[key[0]] = (weakref.ref(L["points"]), key, None if legends is None else
                      list(legends), plan)
    return plan


#: the plan of a result's map, reused by its figure:
#: {id(points): (ref, key, legends, plan)}, an entry dropped with its points frame
_PLANS: dict = {}


def _map_plan(result: Result, legends: list[legend.LayerLegend] | None
              ) -> fire_display.MapPlan:
    L = result.layers
    draw, est = points_plan(result, legends)
    if draw:
        return fire_display.MapPlan(points=True, estimate=est)
    legs = {leg.layer: leg for leg in (legends or symbology(result))}
    sizes = _layer_bytes(result, legs)
    full = sizes["cells"] + sizes["events"]
    if full <= MAP_MAX_BYTES:
        return fire_display.MapPlan(points=False, estimate=est, full_bytes=full)
    ev_bytes = fire_display.events_bytes(L["events"]) if len(L["events"]) else 0
    show_events = ev_bytes <= fire_display.EVENTS_SHARE * MAP_MAX_BYTES
    budget = MAP_MAX_BYTES - _page_bytes(result, legs) - (ev_bytes if show_events else 0)
    res = int(result.params.h3_resolution)
    if sizes["cells"] <= budget:  # the cells as they are, the events compact
        return fire_display.MapPlan(points=False, estimate=est, compact_events=show_events,
                                    events=show_events, full_bytes=full)
    r, cells = None, None  # a result at the coarsest resolution already: its own cells
    kept = fire_display.kept_cells(L["points"], res)
    for r in range(res - 1, fire_display.MIN_DISPLAY_RES - 1, -1):
        cells = fire_display.coarse_cells(L["points"], res, r, kept=kept)
        leg = fire_display.cells_legend(cells, r)
        if _bytes_per_feature({"cells": leg}, "cells", cells) * len(cells) <= budget:
            break
    return fire_display.MapPlan(points=False, estimate=est, display_res=r, cells=cells,
                                compact_events=show_events, events=show_events,
                                full_bytes=full)


def left_out_note(result: Result, estimate: float) -> str:
    """The map's note (Chinese) when the detections are not drawn, with the reason."""
    return (f"本图未逐个绘制卫星火点：{len(result.layers['points']):,} 个火点将使网页地图达约 "
            f"{estimate / 1e6:,.1f} MB（上限 {MAP_MAX_BYTES / 1e6:g} MB）。图中为 H3 网格火点数和"
            "火点事件；逐个火点见 points 图层（GeoPackage / Shapefile）。")


def national_summary(result: Result, legends: list[legend.LayerLegend] | None = None
                     ) -> str | None:
    """The summary line when cells and event polygons alone would pass the limit, else None.

    Said at the end of ``run``, from the same per-layer estimate the map uses (the display
    resolution is chosen when the map is drawn and named on the map). ``legends``: as
    :func:`symbology` gives them (made here when not given).
    """
    legs = {leg.layer: leg for leg in (legends or symbology(result))}
    sizes = _layer_bytes(result, legs)
    full = sizes["cells"] + sizes["events"]
    if full <= MAP_MAX_BYTES:
        return None
    return (f"The cells and event polygons alone would make a ~{full / 1e6:,.0f} MB map: it "
            "draws the cells at a coarser display resolution (detections summed; its legend "
            "and note name the resolution) and the events as points at their centroid; the "
            "GeoPackage and Shapefiles keep the cells and events as computed.")


def left_out_summary(result: Result, estimate: float) -> str:
    """The summary line when the map leaves the detections out."""
    return (f"The HTML map shows the cells and events but not the {len(result.layers['points'])}"
            f" single detections: with them it would be ~{estimate / 1e6:,.1f} MB, over the "
            f"{MAP_MAX_BYTES / 1e6:g} MB a browser opens in a meeting; they are in the points "
            "layer of the GeoPackage and Shapefiles.")


#: Radius (px) of the heat-source circles on a national map (7 on a city's or province's)
NATIONAL_SOURCE_SIZE = 3.0


def build_map(result: Result, *,
              legends: list[legend.LayerLegend] | None = None) -> folium.Map:
    """Cells by fire count, event polygons, points by status, heat sources, outlines.

    A day picker listing the local days that have kept detections or events. The points are
    left out, with a note saying why, when the map would pass :data:`MAP_MAX_BYTES`
    (:func:`points_plan`).

    ``legends``: the legend definitions to draw with (default :func:`symbology` of
    the result); a county pack passes those of the whole run, so its classes are the map's.
    """
    L = result.layers
    legs = {leg.layer: leg for leg in (legends or symbology(result))}
    plan = map_plan(result, legends)
    m = mapparts.start_map(result.context, L["points"], title=result.title or "fire-points")
    if not plan.national:
        _draw(m, legs, {k: v for k, v in L.items() if plan.points or k != "points"})
    else:  # national scale: display cells, compact events (analyses.fire_display)
        if plan.display_res is None:
            _draw(m, legs, {"cells": L["cells"]})
        else:
            _draw(m, {"cells": fire_display.cells_legend(plan.cells, plan.display_res)},
                  {"cells": plan.cells})
        if plan.compact_events:
            # off when the map opens: at a national zoom ~150,000 circles hide the cells that
            # show where the fires are; one click in the layer control (or a day) shows them
            leg = legend.single("events", "火点事件（中心点，大小示火点数）", "point",
                                EVENT_COLOR, size=4.0, visible=False)
            pointlayer.add_compact_points(m, name=leg.title, color=EVENT_COLOR, show=False,
                                          **fire_display.events_layer_data(L["events"]))
            mapparts.note_layer(m, leg)
    if "heat_sources" in legs:
        src = legs["heat_sources"]
        if plan.national:  # at a national zoom size-7 circles would cover the display cells
            src = legend.with_(src, size=NATIONAL_SOURCE_SIZE)
        mapparts.add_layer(m, src, L["heat_sources"], tooltip=_SOURCE_TIPS)
    mapparts.add_legend(m)
    if not plan.points:
        note = left_out_note(result, plan.estimate)
        if plan.national:
            note += fire_display.national_note(result, plan, MAP_MAX_BYTES)
        mapparts.add_note(m, note)
    days = picker_days(result)
    if days:  # a day picker: the detections and events of one local day
        webmap.add_filter(m, label="日期（北京时间）", values=days)
    webmap.finish(m)
    return m


def picker_days(result: Result) -> list[str]:
    """Local days (sorted) that hold kept detections or fire events.

    The day picker's list (days with only excluded detections, e.g. heat sources outside the
    season, are left out).
    """
    pts, events = result.layers["points"], result.layers["events"]
    days = set()
    if len(pts):  # the distinct days first: a national season's million detections
        days |= {str(d) for d in pts.loc[pts["status"] == "kept", "local_date"].dropna()
                 .unique()}
    if len(events):
        days |= {str(d) for d in events["start_date"].dropna().unique()}
    return sorted(days)


def figure_spec(result: Result, *,
                legends: list[legend.LayerLegend] | None = None) -> list[figure.LayerStyle]:
    """Static figure.

    Cells, events, kept and excluded detections (not the duplicates), heat sources, with the
    legend's Chinese labels and colours. At national scale (:func:`map_plan`) as the map: the
    display cells and the heat sources, without the single events and detections.
    """
    L = result.layers
    plan = map_plan(result, legends)  # the map's plan (the same legends: computed once)
    out = []
    for leg in legends or symbology(result):
        if leg.context:
            continue
        data = L[leg.layer]
        if plan.national and leg.layer in ("points", "events"):
            continue  # as on the map: where the fires are is the cells (see the map's note)
        if plan.national and leg.layer == "cells" and plan.display_res is not None:
            leg, data = fire_display.cells_legend(plan.cells, plan.display_res), plan.cells
        if leg.layer == "points":
            data = data[data["status"] != "duplicate"]
            leg = legend.with_(leg, entries=tuple(e for e in leg.entries
                                                  if e.value != "duplicate") or leg.entries)
        out.append(legend.figure_style(leg, gpd.GeoDataFrame(data)))
    return out

