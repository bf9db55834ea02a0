r"""Folium building blocks for lantian's maps, and an offline HTML writer.

Every analysis's ``build_map(result) -> folium.Map`` is made of these calls::

    m = webmap.new_map(bounds, title="30公里供热半径内燃煤锅炉", basemap="light")
    webmap.add_outlines(m, counties, name="县区界", label_col="name")
    webmap.add_polygons(m, radius, name="30公里供热半径", tooltip={"plant_name": "电厂"})
    webmap.add_points(m, boilers, name="燃煤锅炉", color_col="status", colors=webmap.STATUS_COLORS,
                      tooltip={"name": "名称", "distance_km": "距电厂(km)"})
    webmap.add_legend(m, title="锅炉", items=[(webmap.STATUS_COLORS["inside"], "半径内")])
    webmap.save_html(m, "maps/heat-radius.html")

The maps are shown in meeting rooms, often offline. So:

* overlays are drawn by Leaflet itself on a canvas (no icon fonts, no images, no jQuery); basemap
  tiles are the only network resource, and a map whose tiles fail still shows every overlay;
* :func:`save_html` / :func:`render_html` inline the Leaflet JS/CSS shipped in ``spatial/assets``
  (see its README) in place of folium's CDN links and drop the libraries the map does not use;
* every value taken from data (names in tooltips, popups, labels, legends, layer names) is
  HTML-escaped, and JSON embedded in ``<script>`` cannot close the tag (``<`` and ``>`` are written
  as ``\\u003c`` and ``\\u003e``);
* GeoJSON coordinates are rounded to 6 decimals (about 0.1 m).

Geometries are taken in EPSG:4326 (converted if the GeoDataFrame has another CRS); shapely's axis
order is ``x = longitude, y = latitude``, Leaflet's is ``[lat, lng]``.

This module makes the map (:func:`new_map`, :func:`finish`) and writes it (:func:`render_html`,
:func:`save_html`); the pieces live in their own modules and are re-exported here:
:mod:`spatial.htmlsafe` (escaping, script-safe JSON, display texts), :mod:`spatial.classes`
(colours and class breaks shared with the figures), :mod:`spatial.mapelements` (the Leaflet
elements and legends), :mod:`spatial.maplayers` (points, polygons, outlines),
:mod:`spatial.choropleth` (hexagon layers, per period) and :mod:`spatial.mapassets` (offline
assets, stable element ids).
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as _dt
import logging
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np

from . import basemaps, coords

# The pieces of a map live in their own modules; these names are re-exported so that
# ``webmap.add_points(...)`` etc. keep working.
from .choropleth import add_choropleth as add_choropleth
from .choropleth import add_choropleth_periods as add_choropleth_periods
from .classes import CATEGORY_PALETTE as CATEGORY_PALETTE
from .classes import NO_DATA_COLOR as NO_DATA_COLOR
from .classes import STATUS_COLORS as STATUS_COLORS
from .classes import STATUS_LABELS as STATUS_LABELS
from .classes import category_colors as category_colors
from .classes import class_breaks as class_breaks
from .classes import class_labels as class_labels
from .classes import classify as classify
from .classes import sequential_colors as sequential_colors
from .errors import InputError
from .export import write_text_atomic
from .htmlsafe import MISSING_TEXT as MISSING_TEXT
from .htmlsafe import escape as escape
from .htmlsafe import field_values as field_values
from .htmlsafe import format_value as format_value
from .htmlsafe import js_json as js_json
from .mapassets import ASSETS_DIR as ASSETS_DIR
from .mapassets import LEAFLET_VERSION as LEAFLET_VERSION
from .mapassets import _inline_assets
from .mapassets import leaflet_css as leaflet_css
from .mapassets import leaflet_js as leaflet_js
from .mapassets import stable_ids as stable_ids
from .mapelements import _MapStyle
from .mapelements import add_filter as add_filter
from .mapelements import add_legend as add_legend
from .mapelements import add_links as add_links
from .mapelements import legend_html as legend_html
from .maplayers import COORD_DECIMALS as COORD_DECIMALS
from .maplayers import OUTLINE_SIMPLIFY_DEG as OUTLINE_SIMPLIFY_DEG
from .maplayers import add_outlines as add_outlines
from .maplayers import add_points as add_points
from .maplayers import add_polygons as add_polygons
from .maplayers import geometries_to_json as geometries_to_json
from .maplayers import scale_radius as scale_radius
from .maplayers import to_gcj02 as to_gcj02

log = logging.getLogger(__name__)

_MAP_DATE: contextvars.ContextVar[tuple[str, str] | None] = contextvars.ContextVar(
    "lantian_map_date", default=None)


@contextlib.contextmanager
def map_date(date: str, *, label: str = "制图日期"):
    """Within the block, maps made without an explicit ``date`` show ``label：date``."""
    token = _MAP_DATE.set((label, date))
    try:
        yield
    finally:
        _MAP_DATE.reset(token)


#: Basemaps (see :mod:`spatial.basemaps`). ``"none"`` draws no tiles.
BASEMAPS = basemaps.BASEMAPS

#: Background of the map where no tile is drawn (``basemap="none"``, or tiles failing offline).
BACKGROUND = "#f4f3ef"

_FONTS = (
    '"Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC", '
    '"Hiragino Sans GB", "WenQuanYi Micro Hei", "Helvetica Neue", Arial, sans-serif'
)

_CSS = f"""
.leaflet-container {{ background: {BACKGROUND}; font-family: {_FONTS}; }}
.lt-title {{ position: absolute; top: 10px; left: 50%; transform: translateX(-50%);
  z-index: 1001; max-width: 56%; padding: 6px 16px; text-align: center; font-family: {_FONTS};
  background: rgba(255,255,255,0.92); border-radius: 4px; box-shadow: 0 1px 5px rgba(0,0,0,0.4);
  pointer-events: none; }}
.lt-title-main {{ font-size: 20px; font-weight: bold; color: #222; }}
.lt-title-sub {{ font-size: 14px; color: #333; margin-top: 2px; }}
.lt-title-date {{ font-size: 12px; color: #666; margin-top: 2px; }}
.lt-legend {{ background: rgba(255,255,255,0.92); padding: 6px 10px; border-radius: 4px;
  box-shadow: 0 1px 5px rgba(0,0,0,0.4); font-size: 13px; line-height: 20px; color: #222;
  max-height: 45vh; overflow-y: auto; }}
.lt-legend-title {{ font-weight: bold; margin-bottom: 2px; }}
.lt-sw {{ display: inline-block; width: 14px; height: 14px; margin-right: 6px;
  vertical-align: -2px; border: 1px solid rgba(0,0,0,0.35); box-sizing: border-box; }}
.lt-sw-circle {{ border-radius: 50%; }}
.lt-sw-line {{ height: 0; border: 0; border-top: 3px solid; vertical-align: 4px; }}
.lt-tip table {{ border-collapse: collapse; }}
.lt-tip th {{ text-align: left; font-weight: normal; color: #555; padding: 0 8px 0 0; }}
.lt-tip td {{ padding: 0; }}
.lt-label {{ background: none; border: none; }}
.lt-label span {{ position: absolute; transform: translate(-50%, -50%); white-space: nowrap;
  font-size: 13px; color: #333; text-shadow: 0 0 3px #fff, 0 0 3px #fff, 0 0 2px #fff; }}
"""


def new_map(
    bounds: Sequence[float],
    *,
    title: str,
    subtitle: str | None = None,
    basemap: str = "light",
    date: _dt.date | str | None = None,
    tianditu_token: str | None = None,
) -> folium.Map:
    """Create a map with a title box, scale bar, full-screen and measure tools, canvas rendering.

    Parameters
    ----------
    bounds
        ``(min_lng, min_lat, max_lng, max_lat)`` in degrees (WGS-84), e.g. ``gdf.total_bounds``.
        The map opens fitted to them (:func:`finish` fits them again at the end).
    title
        Title shown at the top of the map and as the page title (plain text; escaped).
    subtitle
        Second line under the title (plain text; escaped).
    basemap
        ``"light"`` (CARTO Positron tiles), ``"osm"`` (OpenStreetMap), ``"tianditu-vec"`` /
        ``"tianditu-img"`` (天地图 vector / imagery with annotation; need a key),
        ``"amap"`` / ``"gaode"`` (高德, GCJ-02 tiles: overlays added later are shifted to
        GCJ-02 for display) or ``"none"`` (plain background, no network needed); see
        :mod:`spatial.basemaps`. Inside ``basemaps.override(...)`` (set by the runner from the
        config) the override wins. Tiles are the only network resource of a map; without them
        every overlay still shows, and ``render_html(offline=True)`` leaves them out.
    date
        Map date shown under the title as 制图日期; defaults to the date set by
        :func:`map_date` (the runner's: ``[map] date`` or the data's), else today.
    tianditu_token
        Tianditu key; default ``$TIANDITU_TOKEN``. InputError if a Tianditu basemap has none.

    Returns
    -------
    folium.Map
        Add layers with the ``add_*`` functions, then :func:`save_html`.
    """
    min_lng, min_lat, max_lng, max_lat = _check_bounds(bounds)
    basemap, tianditu_token = basemaps.effective(basemap, tianditu_token)
    tiles = basemaps.tile_layers(basemap, token=tianditu_token)  # checks name and key
    gcj02 = basemaps.is_gcj02(basemap)
    if not isinstance(title, str) or not title.strip():
        raise InputError(f"title={title!r}: a map needs a non-empty title.")
    if gcj02:
        (min_lng, max_lng), (min_lat, max_lat) = (
            np.round(a, COORD_DECIMALS).tolist()
            for a in coords.from_wgs84([min_lng, max_lng], [min_lat, max_lat], "gcj02")
        )
    m = folium.Map(
        location=[(min_lat + max_lat) / 2, (min_lng + max_lng) / 2],
        zoom_start=9,
        tiles=None,
        prefer_canvas=True,
        control_scale=False,  # a metric-only scale bar is added by _MapStyle
        zoom_snap=0.25,  # fit the study area tightly
    )
    for kw in tiles:
        folium.TileLayer(**kw).add_to(m)
    m.lantian_basemap = basemap
    m.lantian_gcj02 = gcj02  # read by _display(): overlays are shifted to GCJ-02
    m.add_child(basemaps.MapTools(), name="lantian_tools")
    label = "制图日期"
    if date is None and _MAP_DATE.get() is not None:
        label, date = _MAP_DATE.get()
    if date is None:
        date = _dt.date.today()
    date_text = date.isoformat() if isinstance(date, _dt.date) else str(date)
    parts = [f'<div class="lt-title-main">{escape(title)}</div>']
    if subtitle:
        parts.append(f'<div class="lt-title-sub">{escape(subtitle)}</div>')
    parts.append(f'<div class="lt-title-date">{escape(label)}：{escape(date_text)}</div>')
    title_html = '<div class="lt-title">' + "".join(parts) + "</div>"
    m.add_child(_MapStyle(_CSS, title_html), name="lantian_style")
    m.get_root().title = escape(title)
    m.lantian_bounds = (min_lng, min_lat, max_lng, max_lat)  # read by finish()
    m.add_child(
        folium.FitBounds([[min_lat, min_lng], [max_lat, max_lng]]), name="lantian_fit_bounds"
    )
    log.debug("New map %r, basemap %s, bounds %s", title, basemap, m.lantian_bounds)
    return m


def _check_bounds(bounds: Sequence[float]) -> tuple[float, float, float, float]:
    try:
        b = tuple(float(v) for v in bounds)
    except (TypeError, ValueError):
        b = ()
    if len(b) != 4 or not all(np.isfinite(b)):
        raise InputError(
            f"bounds={bounds!r}: give four finite numbers (min_lng, min_lat, max_lng, max_lat), "
            "e.g. gdf.total_bounds of the study area in EPSG:4326."
        )
    min_lng, min_lat, max_lng, max_lat = b
    if not (-180 <= min_lng <= max_lng <= 180 and -90 <= min_lat <= max_lat <= 90):
        raise InputError(
            f"bounds={bounds!r}: expected (min_lng, min_lat, max_lng, max_lat) in degrees with "
            "min <= max; were longitude and latitude swapped, or is the data projected?"
        )
    return min_lng, min_lat, max_lng, max_lat


def finish(m: folium.Map) -> folium.Map:
    """Add the layer control (expanded) and fit the map to its bounds; idempotent.

    Layers added after an earlier call are picked up: the control and the fit are moved to the end
    of the map's script, after every layer they refer to. :func:`render_html` calls this.
    """
    control = m._children.pop("lantian_layer_control", None)
    fit = m._children.pop("lantian_fit_bounds", None)
    has_layers = any(isinstance(c, folium.map.Layer) and c.control for c in m._children.values())
    if has_layers:
        control = control or folium.LayerControl(collapsed=False, position="topright")
        m.add_child(control, name="lantian_layer_control")
    bounds = getattr(m, "lantian_bounds", None)
    if bounds is not None:
        min_lng, min_lat, max_lng, max_lat = bounds
        fit = fit or folium.FitBounds([[min_lat, min_lng], [max_lat, max_lng]])
        m.add_child(fit, name="lantian_fit_bounds")
    return m


#: Liaocheng and Jining: where a map with nothing in it opens
DEFAULT_BOUNDS = (115.0, 34.5, 117.5, 37.0)


def bounds_of(*frames: gpd.GeoDataFrame | None,
              default: tuple[float, float, float, float] = DEFAULT_BOUNDS
              ) -> tuple[float, float, float, float]:
    """(min_lng, min_lat, max_lng, max_lat) over the non-empty frames, else `default`."""
    boxes = [f.to_crs("EPSG:4326").total_bounds if f.crs is not None else f.total_bounds
             for f in frames if f is not None and len(f)]
    boxes = [b for b in boxes if np.isfinite(b).all()]
    if not boxes:
        return default
    b = np.array(boxes)
    return (float(b[:, 0].min()), float(b[:, 1].min()), float(b[:, 2].max()), float(b[:, 3].max()))


def add_admin(m: folium.Map, context: Mapping[str, gpd.GeoDataFrame | None]) -> None:
    """County outlines with names and, where given, township outlines (dashed, named on hover).

    Parameters
    ----------
    context
        ``result.context`` of an analysis: ``counties`` and ``townships`` GeoDataFrames with a
        ``name`` column (either may be absent or None).
    """
    townships = context.get("townships")
    if townships is not None and len(townships):
        add_outlines(m, townships, name="乡镇边界", label_col="name", color="#999999",
                     weight=0.8, dash="3,3", labels="tooltip")
    counties = context.get("counties")
    if counties is not None and len(counties):
        add_outlines(m, counties, name="县区边界", label_col="name")


def render_html(m: folium.Map, *, offline: bool = True, inline: bool | None = None) -> str:
    """The map as one HTML document (calls :func:`finish` first).

    Parameters
    ----------
    m
        Map from :func:`new_map`.
    offline
        A page that needs no network at all: the basemap falls back to none (the tile layers
        are left out of the page; outlines and every overlay remain) and the libraries are
        inlined (``inline=True``). With False the basemap tiles are kept.
    inline
        Inline the shipped Leaflet JS/CSS instead of folium's CDN links and drop libraries the
        map does not use (jQuery, Bootstrap, Font Awesome, awesome-markers); raises ValueError if
        the map needs a library that is not shipped. Default: as ``offline``. With False,
        folium's CDN links are kept. The map tools (full screen, measure) are always inlined.

    Returns
    -------
    str
        The HTML text (``<html lang="zh-CN">``, UTF-8).
    """
    finish(m)
    if inline is None:
        inline = offline
    tiles = {}
    if offline:  # the basemap falls back to none: take the tile layers out while rendering
        tiles = {k: c for k, c in m._children.items() if isinstance(c, folium.TileLayer)}
        for k in tiles:
            del m._children[k]
    figure = m.get_root()
    # folium's render adds the page's pieces to the figure's header/html/script, some under
    # fresh names each time (layer "addTo" calls); undo that so a map renders the same twice.
    parts = (figure.header, figure.html, figure.script)
    before = [dict(p._children) for p in parts]
    kept_children = dict(m._children)
    try:
        page = figure.render()
    finally:
        for p, kept in zip(parts, before, strict=True):
            p._children.clear()
            p._children.update(kept)
        if tiles:  # restore the tile layers in their original order
            m._children.clear()
            m._children.update({**tiles, **kept_children})
    page = re.sub(r"<html>", '<html lang="zh-CN">', page, count=1)
    if inline:
        page = _inline_assets(page)
    return page


def save_html(
    m: folium.Map, path: str | os.PathLike, *, offline: bool = True, inline: bool | None = None
) -> Path:
    """Write the map as a self-contained HTML file, atomically (temporary file + rename).

    Parameters
    ----------
    m
        Map from :func:`new_map`.
    path
        Output file (``maps/<analysis>.html``); missing parent folders are created.
    offline, inline
        See :func:`render_html`.

    Returns
    -------
    Path
        The written file.
    """
    path = Path(path)
    text = render_html(m, offline=offline, inline=inline)
    write_text_atomic(path, text)
    log.info("Wrote map %s (%.0f KB)", path, len(text.encode("utf-8")) / 1024)
    return path
