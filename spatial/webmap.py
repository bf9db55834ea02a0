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
"""

from __future__ import annotations

import base64
import contextlib
import contextvars
import datetime as _dt
import html
import json
import logging
import os
import re
from collections.abc import Hashable, Iterable, Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import MacroElement
from jinja2 import Template

from . import basemaps, coords
from . import labels as _labels
from .errors import InputError
from .export import write_text_atomic

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


ASSETS_DIR = Path(__file__).parent / "assets"
LEAFLET_VERSION = "1.9.4"
_LEAFLET_DIR = ASSETS_DIR / f"leaflet-{LEAFLET_VERSION}"

#: Decimal places kept in embedded coordinates (1e-6 degree is about 0.11 m).
COORD_DECIMALS = 6

#: Basemaps (see :mod:`spatial.basemaps`). ``"none"`` draws no tiles.
BASEMAPS = basemaps.BASEMAPS

#: Background of the map where no tile is drawn (``basemap="none"``, or tiles failing offline).
BACKGROUND = "#f4f3ef"

#: Colours for the status categories the analyses share (keys as written in the layers).
STATUS_COLORS: dict[str, str] = {
    "inside": "#d7301f",  # inside a radius / zone: to act on
    "outside": "#2b83ba",  # outside: no action
    "boundary": "#fdae61",  # on the edge / needs checking
    "unknown": "#969696",
}
#: Chinese labels for :data:`STATUS_COLORS`, for legends.
STATUS_LABELS: dict[str, str] = {
    "inside": "范围内",
    "outside": "范围外",
    "boundary": "边界附近",
    "unknown": "未知",
}
#: Qualitative palette (ColorBrewer Set1 without yellow, then Dark2) for other categories.
CATEGORY_PALETTE: tuple[str, ...] = (
    "#e41a1c", "#377eb8", "#4daf4a", "#984ea3", "#ff7f00", "#a65628", "#f781bf",
    "#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#666666",
)  # fmt: skip
#: Fill of choropleth cells without a value.
NO_DATA_COLOR = "#bdbdbd"
MISSING_TEXT = "—"

_COLOR_RE = re.compile(
    r"^(#[0-9a-fA-F]{3}|#[0-9a-fA-F]{4}|#[0-9a-fA-F]{6}|#[0-9a-fA-F]{8}"
    r"|rgba?\(\s*[0-9.]+%?\s*,\s*[0-9.]+%?\s*,\s*[0-9.]+%?\s*(,\s*[0-9.]+%?\s*)?\)|[a-zA-Z]{3,20})$"
)
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


# --------------------------------------------------------------------------- escaping, JSON


def escape(value: object) -> str:
    """HTML-escape ``str(value)`` (``&``, ``<``, ``>``, ``"`` and ``'``); None gives ``""``."""
    return "" if value is None else html.escape(str(value), quote=True)


def js_json(obj: object) -> str:
    r"""Serialize ``obj`` as JSON that is safe inside an HTML ``<script>`` element.

    ``<``, ``>`` (so neither ``</script>`` nor ``<!--`` can occur), ``$`` (so data never looks like
    jQuery use), U+2028 and U+2029 are written as ``\\uXXXX`` escapes; they occur only inside JSON
    strings, so the value is unchanged. Chinese text stays as UTF-8. NaN is refused.
    """
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return _js_safe(text)


def _js_safe(text: str) -> str:
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("$", "\\u0024")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def _check_color(color: object, arg: str) -> str:
    if not isinstance(color, str) or not _COLOR_RE.match(color.strip()):
        raise InputError(
            f"{arg}={color!r} is not a colour; give '#rrggbb', '#rgb', 'rgb(r, g, b)' or a CSS "
            "colour name such as 'red'."
        )
    return color.strip()


# --------------------------------------------------------------------------- colours


def category_colors(
    values: Iterable[Hashable], *, fixed: Mapping[Hashable, str] | None = None
) -> dict[Hashable, str]:
    """Map each distinct category to a colour.

    Parameters
    ----------
    values
        Category values (NaN/None are skipped). Categories are coloured in sorted order (by their
        text), so the same set of categories always gets the same colours.
    fixed
        Colours to use for given categories (e.g. :data:`STATUS_COLORS`); the others take
        :data:`CATEGORY_PALETTE` colours in turn, skipping those already used by ``fixed``.

    Returns
    -------
    dict
        ``{category: colour}``.
    """
    fixed = dict(fixed or {})
    cats = sorted({v for v in values if not _is_missing(v)}, key=str)
    used = set(fixed.values())
    palette = [c for c in CATEGORY_PALETTE if c not in used] or list(CATEGORY_PALETTE)
    out: dict[Hashable, str] = {}
    i = 0
    for cat in cats:
        if cat in fixed:
            out[cat] = _check_color(fixed[cat], f"fixed[{cat!r}]")
        else:
            out[cat] = palette[i % len(palette)]
            i += 1
    return out


def _is_missing(v: object) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):  # list-like values
        return False


def sequential_colors(n: int, *, cmap: str = "YlOrRd") -> list[str]:
    """``n`` colours from a matplotlib colormap, light to dark (sampled on [0.12, 0.95])."""
    if n < 1:
        raise InputError(f"n={n}: need at least one colour class.")
    import matplotlib
    from matplotlib.colors import to_hex

    try:
        cm = matplotlib.colormaps[cmap]
    except KeyError:
        raise InputError(
            f"cmap={cmap!r} is not a matplotlib colormap; try 'YlOrRd', 'Reds', 'viridis' "
            "or pass `colors=[...]`."
        ) from None
    pos = np.linspace(0.12, 0.95, n) if n > 1 else np.array([0.6])
    return [to_hex(c) for c in cm(pos)]


# --------------------------------------------------------------------------- map


class _MapStyle(MacroElement):
    """The stylesheet (header), title box (body) and metric scale bar of a lantian map."""

    _template = Template(
        """
        {% macro header(this, kwargs) %}<style>{{ this.css }}</style>{% endmacro %}
        {% macro html(this, kwargs) %}{{ this.title_html }}{% endmacro %}
        {% macro script(this, kwargs) %}
        L.control.scale({imperial: false, maxWidth: 160}).addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, css: str, title_html: str):
        super().__init__()
        self._name = "LantianMapStyle"
        self.css = css
        self.title_html = title_html


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


# --------------------------------------------------------------------------- GeoJSON layers


class _GeoJsonLayer(MacroElement):
    """Features drawn by ``L.geoJSON`` with per-feature style, tooltip, popup and radius.

    Feature properties: ``s`` style index into ``styles``, optional ``r`` circle radius (px),
    ``t`` tooltip values, ``p`` popup values: lists of escaped HTML strings shown in a table
    beside the layer's escaped ``tip_labels`` / ``pop_labels`` (or, without labels, one escaped
    string shown as is). Points are drawn as circle markers.
    """

    _template = Template(
        """
        {% macro header(this, kwargs) %}{% if this.css %}<style>{{ this.css }}</style>{% endif %}
        {% endmacro %}
        {% macro script(this, kwargs) %}
        (function () {
            var styles = {{ this.styles_json }};
            var tipLabels = {{ this.tip_labels_json }}, popLabels = {{ this.pop_labels_json }};
            var table = function (labels, vals) {
                if (!labels) { return vals; }
                var h = "<table>";
                for (var i = 0; i < labels.length; i++) {
                    h += "<tr><th>" + labels[i] + "</th><td>" + vals[i] + "</td></tr>";
                }
                return h + "</table>";
            };
            var data = {{ this.data_json }};
            {% if this.periods_json %}
            // one value per period: properties.ss (style index) and .v (tooltip value) per period
            var periods = {{ this.periods_json }}, cur = periods.length - 1;
            var styleOf = function (f) { return styles[f.properties.ss[cur]]; };
            {% else %}
            var styleOf = function (f) { return styles[f.properties.s]; };
            {% endif %}
            var map = {{ this.map_name }};
            var layer = L.geoJSON(data, {
                {% if this.filtered %}
                // shown when no value is picked in the map's filter (add_filter) or it matches
                filter: function (f) {
                    var v = map._lantianFilter;
                    return v == null || v === "" || f.properties.k === v;
                },
                {% endif %}
                style: styleOf,
                pointToLayer: function (f, ll) {
                    var o = Object.assign({}, styles[f.properties.s]);
                    if (f.properties.r != null) { o.radius = f.properties.r; }
                    return L.circleMarker(ll, o);
                },
                onEachFeature: function (f, l) {
                    var t = f.properties.t, p = f.properties.p, tip = null;
                    {% if this.periods_json %}
                    tip = function () {
                        var row = [periods[cur], f.properties.v[cur]];
                        return table(tipLabels, row.concat(t || []));
                    };
                    {% else %}
                    if (t != null) { tip = function () { return table(tipLabels, t); }; }
                    {% endif %}
                    if (tip) { l.bindTooltip(tip, {sticky: true, className: "lt-tip"}); }
                    // click/tap: the popup, or the tooltip's fields (touch panels have no hover)
                    if (p != null || tip) {
                        l.bindPopup(p != null ? function () { return table(popLabels, p); }
                                    : tip, {maxWidth: 360, className: "lt-tip"});
                    }
                }
            });
            {% if this.filtered %}
            map.on("lantian:filter", function () { layer.clearLayers(); layer.addData(data); });
            {% endif %}
            // One canvas draws every layer, in the order added; keep cells < polygons < outlines
            // < points whenever a layer is (re)added, e.g. switched on in the layer control.
            var reg = map._lantianLayers || (map._lantianLayers = []);
            reg.push({layer: layer, rank: {{ this.rank }}});
            layer.on("add", function () {
                reg.slice().sort(function (a, b) { return a.rank - b.rank; }).forEach(
                    function (d) { if (map.hasLayer(d.layer)) { d.layer.bringToFront(); } });
            });
            layer.addTo({{ this._parent.get_name() }});
            {% if this.periods_json %}
            // one period picker per map moves every period layer (same period labels)
            map.on("lantian:period", function (e) {
                var j = periods.indexOf(e.period);
                if (j >= 0) { cur = j; layer.setStyle(styleOf); }
            });
            if (map._lantianPicker) { return; }
            map._lantianPicker = true;
            var picker = L.control({position: "topleft"});
            picker.onAdd = function () {
                var div = L.DomUtil.create("div", "lt-legend lt-periods");
                var html = "<label>" + {{ this.periods_title_json }} + " <select>";
                periods.forEach(function (p, i) {
                    html += "<option value='" + i + "'" + (i === cur ? " selected" : "") + ">" +
                            p + "</option>";
                });
                div.innerHTML = html + "</select></label>";
                div.querySelector("select").addEventListener("change", function (e) {
                    map.fire("lantian:period", {period: periods[parseInt(e.target.value, 10)]});
                });
                L.DomEvent.disableClickPropagation(div);
                L.DomEvent.disableScrollPropagation(div);
                return div;
            };
            picker.addTo(map);
            {% endif %}
            {% if this.labels_json %}
            var labels = {{ this.labels_json }};
            labels.forEach(function (d) {
                new L.Marker([d[0], d[1]], {
                    icon: L.divIcon({className: "lt-label {{ this.label_class }}",
                                     html: "<span>" + d[2] + "</span>", iconSize: null}),
                    interactive: false, keyboard: false
                }).addTo({{ this._parent.get_name() }});
            });
            {% if this.label_min_zoom is not none %}
            var showLabels = function () {
                map.getContainer().classList.toggle(
                    "{{ this.label_class }}-hidden", map.getZoom() < {{ this.label_min_zoom }});
            };
            map.on("zoomend", showLabels);
            showLabels();
            {% endif %}
            {% endif %}
        })();
        {% endmacro %}
        """
    )

    def __init__(
        self,
        data_json: str,
        styles: list[dict],
        *,
        labels: list | None = None,
        tip_labels: list[str] | None = None,
        pop_labels: list[str] | None = None,
        label_min_zoom: int | None = None,
        map_name: str,
        rank: int,
        periods: list[str] | None = None,
        periods_title: str = "",
        filtered: bool = False,
    ):
        super().__init__()
        self._name = "LantianGeoJson"
        self.filtered = bool(filtered)
        self.data_json = data_json
        self.periods_json = js_json(periods) if periods else ""
        self.periods_title_json = js_json(periods_title)
        self.styles_json = js_json(styles)
        self.labels_json = js_json(labels) if labels else ""
        self.tip_labels_json = js_json(tip_labels)
        self.pop_labels_json = js_json(pop_labels)
        self.label_min_zoom = label_min_zoom
        self.map_name = map_name
        self.rank = int(rank)
        self.label_class = f"lt-label-{self.get_name()}"
        self.css = (
            f".{self.label_class}-hidden .{self.label_class} {{ display: none; }}"
            if labels and label_min_zoom is not None
            else ""
        )


#: Drawing order of the kinds of layer on the shared canvas (higher on top). Hit-testing picks the
#: topmost *interactive* feature, so hover-only outlines go at the bottom.
_RANK = {"outlines_hover": 0, "cells": 10, "polygons": 20, "outlines": 30, "points": 40}


def _to_wgs84(gdf: gpd.GeoDataFrame | gpd.GeoSeries, arg: str) -> gpd.GeoDataFrame:
    """Validate a layer, convert it to EPSG:4326, drop null and empty geometries."""
    if isinstance(gdf, gpd.GeoSeries):
        gdf = gpd.GeoDataFrame(geometry=gdf)
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise InputError(f"{arg}: expected a GeoDataFrame, got {type(gdf).__name__}.")
    if gdf.crs is None:
        b = gdf.geometry.bounds.dropna().to_numpy()
        in_range = np.all(np.abs(b[:, [0, 2]]) <= 180) and np.all(np.abs(b[:, [1, 3]]) <= 90)
        if len(b) and not in_range:
            raise InputError(
                f"{arg}: the layer has no CRS and coordinates outside longitude [-180, 180] / "
                "latitude [-90, 90]; set its CRS (gdf.set_crs(...)) so it can be converted to "
                "EPSG:4326."
            )
    elif not gdf.crs.equals("EPSG:4326"):
        gdf = gdf.to_crs("EPSG:4326")
    keep = ~(gdf.geometry.isna() | gdf.geometry.is_empty)
    if not keep.all():
        log.info("%s: skipped %d features without geometry", arg, int((~keep).sum()))
        gdf = gdf.loc[keep]
    return gdf


def _display(m: folium.Map, gdf: gpd.GeoDataFrame | gpd.GeoSeries, arg: str) -> gpd.GeoDataFrame:
    """:func:`_to_wgs84`, then shifted to GCJ-02 if the map's basemap is GCJ-02 (display only)."""
    gdf = _to_wgs84(gdf, arg)
    if getattr(m, "lantian_gcj02", False) and len(gdf):
        gdf = gdf.copy()
        gdf[gdf.geometry.name] = to_gcj02(gdf.geometry.array)
    return gdf


def to_gcj02(geoms: np.ndarray) -> np.ndarray:
    """Shift WGS-84 geometries to GCJ-02 (every vertex, ``spatial.coords.from_wgs84``).

    Coordinates are ``x = lng, y = lat``; points outside China are left unchanged (as GCJ-02
    does). For display over GCJ-02 tiles (Amap) only: analyses stay in WGS-84.
    """

    def shift(xy: np.ndarray) -> np.ndarray:
        x, y = coords.from_wgs84(xy[:, 0], xy[:, 1], "gcj02")
        return np.column_stack([x, y])

    return shapely.transform(np.asarray(geoms, dtype=object), shift)


_LONG_DECIMAL = re.compile(rf"-?\d+\.\d{{{COORD_DECIMALS + 1},}}(?:[eE][-+]?\d+)?")


def geometries_to_json(geoms: np.ndarray | gpd.GeoSeries) -> list[str]:
    """GeoJSON geometry strings with coordinates rounded to :data:`COORD_DECIMALS` places.

    Coordinates stay in ``[lng, lat]`` order (GeoJSON, shapely ``x, y``).
    """
    arr = np.asarray(geoms, dtype=object)
    rounded = shapely.transform(arr, lambda c: np.round(c, COORD_DECIMALS))
    texts = shapely.to_geojson(rounded)
    # GEOS writes 17 significant digits (116.12345600000001); rewrite those as the shortest repr.
    joined = "\x00".join(texts.tolist())
    joined = _LONG_DECIMAL.sub(lambda mo: repr(round(float(mo.group()), COORD_DECIMALS)), joined)
    return joined.split("\x00") if len(arr) else []


def _feature_collection(geom_json: list[str], props: list[dict]) -> str:
    feats = [
        '{"type":"Feature","geometry":' + g + ',"properties":' + js_json(p) + "}"
        for g, p in zip(geom_json, props, strict=True)
    ]
    return '{"type":"FeatureCollection","features":[' + ",".join(feats) + "]}"


def format_value(v: object) -> str:
    """Format one attribute value as display text (not yet escaped).

    Missing values give ``—``; booleans 是/否; integral numbers without decimals; other numbers
    with 1-2 decimals (3 significant digits below 1); times as ``YYYY-MM-DD HH:MM``.
    """
    if v is None or _is_missing(v):
        return MISSING_TEXT
    if isinstance(v, bool | np.bool_):
        return "是" if v else "否"
    if isinstance(v, int | np.integer):
        return str(int(v))
    if isinstance(v, float | np.floating):
        x = float(v)
        if not np.isfinite(x):
            return MISSING_TEXT
        if x.is_integer() and abs(x) < 1e15:
            return str(int(x))
        a = abs(x)
        text = f"{x:.1f}" if a >= 100 else f"{x:.2f}" if a >= 1 else f"{x:.3g}"
        return text.rstrip("0").rstrip(".") if "." in text and "e" not in text else text
    if isinstance(v, pd.Timestamp | _dt.datetime):
        return v.strftime("%Y-%m-%d %H:%M") if (v.hour or v.minute) else v.strftime("%Y-%m-%d")
    if isinstance(v, _dt.date):
        return v.isoformat()
    return str(v)


def field_values(
    df: pd.DataFrame, fields: Mapping[str, str], *, arg: str = "tooltip"
) -> tuple[list[str], list[list[str]]]:
    """Escaped labels and, per row, escaped display values of the fields of a tooltip or popup.

    Parameters
    ----------
    df
        The rows.
    fields
        ``{column: label}``, in display order.
    arg
        Argument name used in error messages.

    Returns
    -------
    labels : list of str
        ``html.escape(label)`` per field.
    rows : list of list of str
        Per row, ``html.escape(format_value(value))`` per field.
    """
    if not isinstance(fields, Mapping) or not fields:
        raise InputError(
            f"{arg}={fields!r}: give a non-empty dict {{column: label}}, e.g. {{'name': '名称'}}."
        )
    missing = [c for c in fields if c not in df.columns]
    if missing:
        raise InputError(
            f"{arg}: column(s) {missing} not in the layer; its columns are {list(df.columns)}."
        )
    labels = [escape(label) for label in fields.values()]
    # codes as Chinese words, ratios as percentages (spatial.labels)
    cols = [[escape(format_value(_labels.display_value(col, v))) for v in df[col].tolist()]
            for col in fields]
    return labels, [list(row) for row in zip(*cols, strict=True)]


def _layer_name(m: folium.Map, name: str) -> str:
    """The escaped name of a new layer; checks that it is non-empty and unique in the map."""
    if not isinstance(name, str) or not name.strip():
        raise InputError(f"name={name!r}: every layer needs a non-empty name (shown in the map).")
    layer_name = escape(name)
    for child in m._children.values():
        if isinstance(child, folium.map.Layer) and child.layer_name == layer_name:
            raise InputError(f"name={name!r}: the map already has a layer of that name.")
    return layer_name


def _category_styles(
    gdf: gpd.GeoDataFrame,
    base: dict,
    *,
    color: str,
    color_col: str | None,
    colors: Mapping | None,
    keys: Sequence[str],
) -> tuple[list[dict], np.ndarray]:
    """Styles per colour category and each row's style index."""
    if color_col is None:
        style = dict(base)
        for k in keys:
            style[k] = _check_color(color, "color")
        return [style], np.zeros(len(gdf), dtype=np.int64)
    if color_col not in gdf.columns:
        raise InputError(
            f"color_col={color_col!r} is not a column of the layer; columns: {list(gdf.columns)}."
        )
    values = gdf[color_col]
    mapping = category_colors(values, fixed=colors)
    unmapped = (
        sorted({str(v) for v in values if not _is_missing(v)} - {str(k) for k in colors})
        if colors
        else []
    )
    if unmapped:
        log.warning(
            "%s values %s have no colour in `colors`; using palette colours",
            color_col,
            unmapped[:10],
        )
    cats = list(mapping)
    styles = []
    for c in cats:
        style = dict(base)
        for k in keys:
            style[k] = mapping[c]
        styles.append(style)
    missing = dict(base)
    for k in keys:
        missing[k] = STATUS_COLORS["unknown"]
    styles.append(missing)
    lookup = {c: i for i, c in enumerate(cats)}
    idx = np.array(
        [len(cats) if _is_missing(v) else lookup[v] for v in values.tolist()], dtype=np.int64
    )
    return styles, idx


def _add_features(
    m: folium.Map,
    gdf: gpd.GeoDataFrame,
    *,
    name: str,
    styles: list[dict],
    style_idx: np.ndarray,
    tooltip: Mapping[str, str] | None,
    popup: Mapping[str, str] | None,
    show: bool,
    radius: np.ndarray | None = None,
    tips: tuple[list[str] | None, list] | None = None,
    extra_props: Mapping[str, list] | None = None,
    **element_kw: Any,
) -> folium.FeatureGroup:
    """Add a layer; ``tips`` = (labels, per-row values) replaces ``tooltip`` when given.

    ``extra_props`` adds per-feature properties (lists aligned with the rows), e.g. the
    per-period style indices ``ss`` and values ``v`` of :func:`add_choropleth_periods`.
    """
    layer_name = _layer_name(m, name)
    tip_labels, tips_rows = (
        tips
        if tips is not None
        else (field_values(gdf, tooltip, arg="tooltip") if tooltip else (None, None))
    )
    pop_labels, pops = field_values(gdf, popup, arg="popup") if popup else (None, None)
    props: list[dict] = [{"s": int(s)} for s in style_idx.tolist()]
    if radius is not None:
        for p, r in zip(props, radius.tolist(), strict=True):
            p["r"] = r
    if tips_rows is not None:
        for p, t in zip(props, tips_rows, strict=True):
            p["t"] = t
    if pops is not None:
        for p, t in zip(props, pops, strict=True):
            p["p"] = t
    for key, vals in (extra_props or {}).items():
        for p, v in zip(props, vals, strict=True):
            p[key] = v
    interactive = tips_rows is not None or pops is not None or bool(extra_props)
    for s in styles:
        s.setdefault("interactive", interactive)
    data = _feature_collection(geometries_to_json(gdf.geometry.array), props)
    # the map is changed only now, when every argument has been checked
    group = folium.FeatureGroup(name=layer_name, show=show).add_to(m)
    group.add_child(
        _GeoJsonLayer(
            data,
            styles,
            tip_labels=tip_labels,
            pop_labels=pop_labels,
            map_name=m.get_name(),
            **element_kw,
        ),
        name=f"{name}_data",
    )
    log.info("Map layer %r: %d features", name, len(gdf))
    return group


def add_points(
    m: folium.Map,
    gdf: gpd.GeoDataFrame,
    *,
    name: str,
    color: str = "#d7301f",
    color_col: str | None = None,
    colors: Mapping[Hashable, str] | None = None,
    radius: float = 5.0,
    radius_col: str | None = None,
    radius_range: tuple[float, float] = (3.0, 14.0),
    tooltip: Mapping[str, str] | None = None,
    popup: Mapping[str, str] | None = None,
    show: bool = True,
    filter_col: str | None = None,
) -> folium.FeatureGroup:
    """Add points as canvas circle markers (no icons; thousands of points are fine).

    With ``filter_col``, the points follow the map's filter (:func:`add_filter`): only those
    whose value (as text) is the one picked are drawn.

    Parameters
    ----------
    m
        Map from :func:`new_map`.
    gdf
        Point layer (other geometry types are drawn as shapes). Converted to EPSG:4326.
    name
        Layer name in the layer control (escaped).
    color
        Fill colour of every point when ``color_col`` is not given.
    color_col, colors
        Colour points by the category in ``color_col``; ``colors`` maps categories to colours
        (e.g. :data:`STATUS_COLORS`), other categories take palette colours
        (:func:`category_colors`), missing values grey.
    radius
        Radius in screen pixels when ``radius_col`` is not given.
    radius_col, radius_range
        Scale the radius with a non-negative column so that the *area* is proportional to the
        value: ``r = max_r * sqrt(v / v_max)``, clipped to ``radius_range`` (pixels); missing
        values get the minimum.
    tooltip, popup
        ``{column: label}`` shown on hover / on click; values are formatted and HTML-escaped.
    show
        Whether the layer is on when the map opens.

    Returns
    -------
    folium.FeatureGroup
        The layer.
    """
    gdf = _display(m, gdf, f"add_points(name={name!r})")
    base = {
        "radius": float(radius),
        "weight": 1,
        "color": "#ffffff",
        "opacity": 0.9,
        "fillOpacity": 0.85,
    }
    styles, idx = _category_styles(
        gdf, base, color=color, color_col=color_col, colors=colors, keys=("fillColor",)
    )
    r = None
    if radius_col is not None:
        r = scale_radius(gdf, radius_col, radius_range=radius_range)
    return _add_features(
        m,
        gdf,
        name=name,
        styles=styles,
        style_idx=idx,
        tooltip=tooltip,
        popup=popup,
        show=show,
        rank=_RANK["points"],
        radius=r,
        **_filter_kw(gdf, filter_col),
    )


def scale_radius(
    gdf: pd.DataFrame, column: str, *, radius_range: tuple[float, float] = (3.0, 14.0)
) -> np.ndarray:
    """Circle radii (pixels, 1 decimal) with area proportional to ``gdf[column]``.

    ``r = r_max * sqrt(v / v_max)`` clipped to ``radius_range``; missing or negative values and
    an all-zero column give ``r_min``.
    """
    if column not in gdf.columns:
        raise InputError(
            f"radius_col={column!r} is not a column of the layer; columns: {list(gdf.columns)}."
        )
    rmin, rmax = (float(v) for v in radius_range)
    if not 0 < rmin <= rmax:
        raise InputError(f"radius_range={radius_range!r}: need 0 < min <= max (pixels).")
    v = pd.to_numeric(gdf[column], errors="coerce").to_numpy(dtype=float)
    v = np.where(np.isfinite(v) & (v > 0), v, 0.0)
    vmax = v.max() if len(v) else 0.0
    if vmax <= 0:
        return np.full(len(v), rmin)
    return np.round(np.clip(rmax * np.sqrt(v / vmax), rmin, rmax), 1)


def add_polygons(
    m: folium.Map,
    gdf: gpd.GeoDataFrame,
    *,
    name: str,
    style: Mapping[str, Any] | None = None,
    color_col: str | None = None,
    colors: Mapping[Hashable, str] | None = None,
    tooltip: Mapping[str, str] | None = None,
    popup: Mapping[str, str] | None = None,
    show: bool = True,
    filter_col: str | None = None,
) -> folium.FeatureGroup:
    """Add polygons (radius circles, zones, gaps) with one style or a colour per category.

    ``filter_col``: as for :func:`add_points`.

    Parameters
    ----------
    m
        Map from :func:`new_map`.
    gdf
        Polygon (or line) layer; converted to EPSG:4326.
    name
        Layer name in the layer control (escaped).
    style
        Leaflet path options, e.g. ``{"color": "#d7301f", "weight": 2, "fillOpacity": 0.1,
        "dashArray": "6 4"}``; defaults to a red outline with a faint fill.
    color_col, colors
        Colour outline and fill by category, as in :func:`add_points`.
    tooltip, popup
        ``{column: label}`` shown on hover / on click; values are formatted and HTML-escaped.
    show
        Whether the layer is on when the map opens.
    """
    gdf = _display(m, gdf, f"add_polygons(name={name!r})")
    base = {"color": "#d7301f", "weight": 2, "opacity": 0.9, "fillOpacity": 0.08}
    base.update(style or {})
    for k in ("color", "fillColor"):
        if k in base:
            _check_color(base[k], f"style[{k!r}]")
    styles, idx = _category_styles(
        gdf,
        base,
        color=base["color"],
        color_col=color_col,
        colors=colors,
        keys=("color", "fillColor") if color_col else ("color",),
    )
    return _add_features(
        m,
        gdf,
        name=name,
        styles=styles,
        style_idx=idx,
        tooltip=tooltip,
        popup=popup,
        show=show,
        rank=_RANK["polygons"],
        **_filter_kw(gdf, filter_col),
    )


def _filter_kw(gdf: gpd.GeoDataFrame, filter_col: str | None) -> dict[str, Any]:
    """Keyword arguments of :func:`_add_features` for a layer that follows the map's filter."""
    if filter_col is None:
        return {}
    if filter_col not in gdf.columns:
        raise InputError(f"filter_col={filter_col!r} is not a column of the layer; columns: "
                         f"{list(gdf.columns)}.")
    keys = [None if _is_missing(v) else escape(v) for v in gdf[filter_col].tolist()]
    return {"extra_props": {"k": keys}, "filtered": True}


class _Filter(MacroElement):
    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var map = {{ this._parent.get_name() }};
            var values = {{ this.values_json }};
            var box = L.control({position: {{ this.position_json }}});
            box.onAdd = function () {
                var div = L.DomUtil.create("div", "lt-legend lt-filter");
                var html = "<label>" + {{ this.label_json }} + " <select><option value=''>" +
                           {{ this.all_json }} + "</option>";
                values.forEach(function (v) { html += "<option>" + v + "</option>"; });
                div.innerHTML = html + "</select></label>";
                div.querySelector("select").addEventListener("change", function (e) {
                    var i = e.target.selectedIndex;
                    map._lantianFilter = i > 0 ? values[i - 1] : "";
                    map.fire("lantian:filter");
                });
                L.DomEvent.disableClickPropagation(div);
                L.DomEvent.disableScrollPropagation(div);
                return div;
            };
            box.addTo(map);
        })();
        {% endmacro %}
        """
    )

    def __init__(self, label: str, values: list[str], all_text: str, position: str):
        super().__init__()
        self._name = "LantianFilter"
        self.label_json = js_json(label)
        self.values_json = js_json(values)
        self.all_json = js_json(all_text)
        self.position_json = js_json(position)


def add_filter(m: folium.Map, *, label: str, values: Sequence[object], all_text: str = "全部",
               position: str = "topleft") -> None:
    """A drop-down that shows only the features of one value (e.g. one local day).

    Layers added with ``filter_col`` follow it: picking a value draws only their features whose
    ``filter_col`` equals it; the first entry (`all_text`) draws them all. Values and labels
    are escaped.
    """
    if position not in ("topleft", "topright", "bottomleft", "bottomright"):
        raise InputError(f"position={position!r}: use topleft, topright, bottomleft or "
                         "bottomright.")
    vals = [escape(v) for v in dict.fromkeys(values) if not _is_missing(v)]
    m.add_child(_Filter(escape(label), vals, escape(all_text), position))


#: Simplification of drawn outlines, degrees (~5 m): invisible at county and township zooms
OUTLINE_SIMPLIFY_DEG = 5e-5

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


def add_outlines(
    m: folium.Map,
    gdf: gpd.GeoDataFrame,
    *,
    name: str,
    label_col: str | None = None,
    color: str = "#555555",
    weight: float = 1.5,
    dash: str | None = None,
    labels: str = "permanent",
    label_min_zoom: int | None = None,
    show: bool = True,
    simplify_deg: float = OUTLINE_SIMPLIFY_DEG,
) -> folium.FeatureGroup:
    """Add administrative outlines (counties, townships) with their names.

    Parameters
    ----------
    m
        Map from :func:`new_map`.
    gdf
        Polygons; converted to EPSG:4326.
    name
        Layer name in the layer control (escaped).
    label_col
        Column with the names (e.g. ``county_name``); escaped.
    color, weight, dash
        Outline colour, width (px) and Leaflet ``dashArray`` (e.g. ``"4 4"``).
    labels
        ``"permanent"``: names written at a point inside each polygon (shapely
        ``point_on_surface``), toggled with the layer; ``"tooltip"``: names shown when hovering
        over a polygon.
    label_min_zoom
        With permanent labels, hide them below this zoom level (e.g. 10 for townships).
    show
        Whether the layer is on when the map opens.
    simplify_deg
        Douglas-Peucker tolerance in degrees (topology kept), applied to the drawn outline
        only: outlines carry no value to read, and the default (about 5 m) is below a pixel
        at every zoom a county or township is looked at. 0 draws every vertex.
    """
    gdf = _display(m, gdf, f"add_outlines(name={name!r})")
    if simplify_deg > 0 and len(gdf):
        gdf = gdf.copy()
        gdf[gdf.geometry.name] = shapely.simplify(gdf.geometry.array, simplify_deg,
                                                  preserve_topology=True)
    if labels not in ("permanent", "tooltip"):
        raise InputError(f"labels={labels!r}: choose 'permanent' or 'tooltip'.")
    style: dict[str, Any] = {
        "color": _check_color(color, "color"),
        "weight": float(weight),
        "opacity": 0.9,
        "fill": False,
        "interactive": False,
    }
    if dash:
        style["dashArray"] = str(dash)
    label_data = None
    tips = None
    if label_col is not None:
        if label_col not in gdf.columns:
            raise InputError(
                f"label_col={label_col!r} is not a column of the layer; "
                f"columns: {list(gdf.columns)}."
            )
        texts = [escape(format_value(v)) for v in gdf[label_col].tolist()]
        if labels == "permanent":
            pts = shapely.point_on_surface(gdf.geometry.array)
            lat = np.round(shapely.get_y(pts), COORD_DECIMALS).tolist()
            lng = np.round(shapely.get_x(pts), COORD_DECIMALS).tolist()
            label_data = [[a, b, t] for a, b, t in zip(lat, lng, texts, strict=True)]
        else:
            style.update(fill=True, fillOpacity=0.0, interactive=True)
            tips = (None, texts)
    return _add_features(
        m,
        gdf,
        name=name,
        styles=[style],
        style_idx=np.zeros(len(gdf), dtype=np.int64),
        tooltip=None,
        popup=None,
        show=show,
        tips=tips,
        labels=label_data,
        label_min_zoom=label_min_zoom,
        rank=_RANK["outlines"] if labels == "permanent" else _RANK["outlines_hover"],
    )


def class_breaks(
    values: np.ndarray, *, bins: Sequence[float] | None = None, k: int = 5
) -> np.ndarray:
    """Class edges for a choropleth: ``bins`` checked, or ``k`` quantile classes.

    Returns increasing edges ``e0 < e1 < ... < en`` (n >= 1 classes). With quantiles, repeated
    edges (many equal values) are merged, so there may be fewer than ``k`` classes.
    """
    if bins is not None:
        e = np.asarray(bins, dtype=float)
        if e.ndim != 1 or len(e) < 2 or np.isnan(e).any() or not np.all(np.diff(e) > 0):
            raise InputError(
                f"bins={list(bins)!r}: give at least two strictly increasing class edges, "
                "e.g. [0, 35, 75, 115, 150, 250] (np.inf allowed at the end)."
            )
        return e
    if int(k) != k or k < 1:
        raise InputError(f"k={k!r}: the number of quantile classes must be a positive integer.")
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if len(v) == 0:
        return np.array([0.0, 1.0])
    e = np.unique(np.quantile(v, np.linspace(0.0, 1.0, int(k) + 1)))
    if len(e) == 1:
        e = np.array([e[0], e[0]])
    return e


def classify(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Class index of each value for class edges ``e0 < ... < en``.

    ``i`` for ``e_i <= v < e_(i+1)``; below ``e1`` gives 0 and ``>= e_(n-1)`` gives ``n-1`` (the
    outer classes are open); NaN gives ``-1``.
    """
    v = np.asarray(values, dtype=float)
    idx = np.searchsorted(np.asarray(edges, dtype=float)[1:-1], v, side="right")
    return np.where(np.isnan(v), -1, idx)


def class_labels(
    edges: np.ndarray, *, unit: str = "", value_format: str | None = None
) -> list[str]:
    """Legend text of each class of :func:`classify`: ``< e1``, ``e1 – e2``, ..., ``≥ e_(n-1)``."""
    fmt = (lambda x: value_format.format(x)) if value_format else format_value
    n = len(edges) - 1
    u = f" {unit}" if unit else ""
    if n == 1 or edges[0] == edges[-1]:
        if edges[0] == edges[-1]:
            return [f"{fmt(edges[0])}{u}"]
        return [f"{fmt(edges[0])} – {fmt(edges[1])}{u}"]
    out = [f"< {fmt(edges[1])}{u}"]
    out += [f"{fmt(edges[i])} – {fmt(edges[i + 1])}{u}" for i in range(1, n - 1)]
    out.append(f"≥ {fmt(edges[n - 1])}{u}")
    return out


def add_choropleth(
    m: folium.Map,
    gdf: gpd.GeoDataFrame,
    *,
    column: str,
    name: str,
    label: str,
    unit: str = "",
    bins: Sequence[float] | None = None,
    k: int = 5,
    colors: Sequence[str] | None = None,
    cmap: str = "YlOrRd",
    opacity: float = 0.7,
    tooltip: Mapping[str, str] | None = None,
    legend: bool = True,
    value_format: str | None = None,
    show: bool = True,
) -> folium.FeatureGroup:
    """Add H3 hexagons (or any polygons) coloured by class of a numeric column, with a legend.

    Parameters
    ----------
    m
        Map from :func:`new_map`.
    gdf
        Cell polygons (e.g. from the H3 cells of a result); converted to EPSG:4326.
    column
        Numeric column to colour by; missing values are drawn grey as 无数据.
    name
        Layer name in the layer control (escaped).
    label, unit
        What the value is and its unit, in Chinese (e.g. ``"PM2.5 年均浓度"``, ``"μg/m³"``): the
        legend title and the first tooltip row.
    bins
        Class edges (increasing; the first and last classes are open, ``< e1`` and
        ``≥ e_(n-1)``). Default: ``k`` quantile classes.
    k
        Number of quantile classes when ``bins`` is not given.
    colors, cmap
        One colour per class, light to dark; or a matplotlib colormap name to sample them from.
    opacity
        Fill opacity of the cells.
    tooltip
        Extra ``{column: label}`` rows after the value (e.g. ``{"h3_cell": "网格"}``).
    legend
        Add the legend box.
    value_format
        ``str.format`` pattern for numbers in the legend and tooltip, e.g. ``"{:.0f}"``.
    show
        Whether the layer is on when the map opens.
    """
    gdf = _display(m, gdf, f"add_choropleth(name={name!r})")
    if column not in gdf.columns:
        raise InputError(
            f"column={column!r} is not a column of the layer; columns: {list(gdf.columns)}."
        )
    values = pd.to_numeric(gdf[column], errors="coerce").to_numpy(dtype=float)
    values = np.where(np.isfinite(values), values, np.nan)
    edges, palette, styles = _class_styles(values, bins=bins, k=k, colors=colors, cmap=cmap,
                                           opacity=opacity)
    style_idx = _style_index(values, edges)
    first = _value_texts(values, unit=unit, value_format=value_format)
    tip_labels, rows = [escape(label)], [[v] for v in first]
    if tooltip:
        extra_labels, extra_rows = field_values(gdf, tooltip, arg="tooltip")
        tip_labels += extra_labels
        rows = [a + b for a, b in zip(rows, extra_rows, strict=True)]
    group = _add_features(
        m,
        gdf,
        name=name,
        styles=styles,
        style_idx=style_idx,
        tooltip=None,
        popup=None,
        show=show,
        rank=_RANK["cells"],
        tips=(tip_labels, rows),
    )
    if legend:
        _class_legend(m, values, edges, palette, bins=bins, label=label, unit=unit,
                      value_format=value_format)
    return group


def _class_styles(values: np.ndarray, *, bins: Sequence[float] | None, k: int,
                  colors: Sequence[str] | None, cmap: str, opacity: float
                  ) -> tuple[np.ndarray, list[str], list[dict]]:
    """Class edges, one colour per class, and the styles (one per class, then 无数据)."""
    edges = class_breaks(values, bins=bins, k=k)
    n = len(edges) - 1
    if colors is None:
        palette = sequential_colors(n, cmap=cmap)
    else:
        palette = [_check_color(c, "colors") for c in colors]
        if len(palette) != n:
            raise InputError(
                f"colors: {len(palette)} colours given for {n} classes (edges {edges.tolist()}); "
                "give one colour per class."
            )
    base = {"color": "#ffffff", "weight": 0.5, "opacity": 0.6, "fillOpacity": float(opacity)}
    styles = [{**base, "fillColor": c} for c in palette]
    styles.append({**base, "fillColor": NO_DATA_COLOR, "fillOpacity": 0.35})
    return edges, palette, styles


def _style_index(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Class of each value; missing values get the last style (无数据)."""
    idx = classify(values, edges)
    return np.where(idx < 0, len(edges) - 1, idx)


def _value_texts(values: np.ndarray, *, unit: str, value_format: str | None) -> list[str]:
    """Escaped tooltip texts of numbers with their unit (无数据 where missing)."""
    fmt = (lambda x: value_format.format(x)) if value_format else format_value
    u = f" {escape(unit)}" if unit else ""
    return [escape(MISSING_TEXT) if np.isnan(v) else escape(fmt(v)) + u for v in values.tolist()]


def _class_legend(m: folium.Map, values: np.ndarray, edges: np.ndarray, palette: list[str], *,
                  bins: Sequence[float] | None, label: str, unit: str,
                  value_format: str | None) -> None:
    items = list(zip(palette, class_labels(edges, value_format=value_format), strict=True))
    if bins is None and np.isnan(values).all():  # no value: quantile classes are made up
        items = []
    if np.isnan(values).any() or not items:
        items.append((NO_DATA_COLOR, "无数据"))
    add_legend(m, title=f"{label}（{unit}）" if unit else label, items=items)


def add_choropleth_periods(
    m: folium.Map,
    gdf: gpd.GeoDataFrame,
    values: pd.DataFrame,
    *,
    name: str,
    label: str,
    unit: str = "",
    bins: Sequence[float] | None = None,
    k: int = 5,
    colors: Sequence[str] | None = None,
    cmap: str = "YlOrRd",
    opacity: float = 0.7,
    tooltip: Mapping[str, str] | None = None,
    legend: bool = True,
    value_format: str | None = None,
    show: bool = True,
    period_label: str = "时段",
) -> folium.FeatureGroup:
    """One hexagon layer with a period selector: the cells are drawn once, coloured by period.

    Parameters
    ----------
    gdf
        One row per cell (polygons; converted to EPSG:4326).
    values
        Numbers aligned with `gdf`'s rows, one column per period, in display order; the column
        names are the period labels (escaped). NaN is drawn grey as 无数据. The map opens on
        the last period; a drop-down in the top-left corner picks another.
    name, label, unit, bins, k, colors, cmap, opacity, tooltip, legend, value_format, show
        As for :func:`add_choropleth`; the classes (and legend) are computed over all periods,
        so colours compare across periods.
    period_label
        Caption of the drop-down and of the tooltip's first row.
    """
    gdf = _display(m, gdf, f"add_choropleth_periods(name={name!r})")
    if len(values) != len(gdf) or values.shape[1] == 0:
        raise InputError(f"values: {values.shape} does not fit {len(gdf)} cells; give one row "
                         "per cell and at least one period column.")
    table = values.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    table = np.where(np.isfinite(table), table, np.nan)
    edges, palette, styles = _class_styles(table.ravel(), bins=bins, k=k, colors=colors,
                                           cmap=cmap, opacity=opacity)
    per_period = _style_index(table.ravel(), edges).reshape(table.shape)
    texts = np.array(_value_texts(table.ravel(), unit=unit, value_format=value_format),
                     dtype=object).reshape(table.shape)
    tip_labels = [escape(period_label), escape(label)]
    static = [[] for _ in range(len(gdf))]
    if tooltip:
        extra_labels, static = field_values(gdf, tooltip, arg="tooltip")
        tip_labels += extra_labels
    periods = [escape(str(c)) for c in values.columns]
    group = _add_features(
        m, gdf, name=name, styles=styles, style_idx=per_period[:, -1], tooltip=None,
        popup=None, show=show, rank=_RANK["cells"], tips=(tip_labels, static),
        extra_props={"ss": per_period.tolist(), "v": texts.tolist()},
        periods=periods, periods_title=escape(period_label),
    )
    if legend:
        _class_legend(m, table.ravel(), edges, palette, bins=bins, label=label, unit=unit,
                      value_format=value_format)
    return group


# --------------------------------------------------------------------------- legend


class _Legend(MacroElement):
    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var legend = L.control({position: {{ this.position_json }}});
            legend.onAdd = function () {
                var div = L.DomUtil.create("div", "lt-legend");
                div.innerHTML = {{ this.html_json }};
                L.DomEvent.disableClickPropagation(div);
                L.DomEvent.disableScrollPropagation(div);
                return div;
            };
            legend.addTo({{ this._parent.get_name() }});
        })();
        {% endmacro %}
        """
    )

    def __init__(self, html_text: str, position: str):
        super().__init__()
        self._name = "LantianLegend"
        self.html_json = js_json(html_text)
        self.position_json = js_json(position)


def legend_html(title: str, items: Sequence[tuple]) -> str:
    """HTML of a legend box (escaped); see :func:`add_legend`."""
    rows = [f'<div class="lt-legend-title">{escape(title)}</div>']
    for i, item in enumerate(items):
        if not isinstance(item, tuple | list) or len(item) not in (2, 3):
            raise InputError(
                f"items[{i}]={item!r}: give (colour, label) or (colour, label, shape) tuples."
            )
        color = _check_color(item[0], f"items[{i}] colour")
        shape = item[2] if len(item) == 3 else "square"
        if shape not in ("square", "circle", "line"):
            raise InputError(f"items[{i}] shape={shape!r}: choose 'square', 'circle' or 'line'.")
        prop = "border-top-color" if shape == "line" else "background"
        rows.append(
            f'<div><i class="lt-sw lt-sw-{shape}" style="{prop}:{escape(color)}"></i>'
            f"{escape(item[1])}</div>"
        )
    return "".join(rows)


def add_legend(
    m: folium.Map,
    *,
    title: str,
    items: Sequence[tuple],
    position: str = "bottomright",
) -> None:
    """Add a categorical legend box.

    Parameters
    ----------
    m
        Map from :func:`new_map`.
    title
        Legend title (escaped).
    items
        ``(colour, label)`` or ``(colour, label, shape)`` with shape ``"square"`` (default),
        ``"circle"`` (points) or ``"line"`` (outlines); labels are escaped.
    position
        Leaflet corner: ``"bottomright"``, ``"bottomleft"``, ``"topright"`` or ``"topleft"``.
        Legends in one corner stack.
    """
    if position not in ("bottomright", "bottomleft", "topright", "topleft"):
        raise InputError(
            f"position={position!r}: choose bottomright, bottomleft, topright or topleft."
        )
    m.add_child(_Legend(legend_html(title, items), position))


# --------------------------------------------------------------------------- HTML output


@cache
def _asset_text(name: str) -> str:
    return (_LEAFLET_DIR / name).read_text(encoding="utf-8")


def _data_uri(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


@cache
def leaflet_js() -> str:
    """Shipped Leaflet JS, without its source-map comment (there is no map file offline)."""
    text = re.sub(r"\n//# sourceMappingURL=\S*\s*$", "\n", _asset_text("leaflet.js"))
    if "</script" in text.lower():
        raise RuntimeError("leaflet.js contains '</script' and cannot be inlined")
    return text


@cache
def leaflet_css() -> str:
    """Shipped Leaflet CSS with its images (``url(images/*.png)``) inlined as data: URIs."""

    def repl(mo: re.Match) -> str:
        return f'url("{_data_uri(_LEAFLET_DIR / "images" / mo.group(1))}")'

    pattern = r"url\(\s*['\"]?images/([\w.-]+\.png)['\"]?\s*\)"
    text = re.sub(pattern, repl, _asset_text("leaflet.css"))
    if "</style" in text.lower():
        raise RuntimeError("leaflet.css contains '</style' and cannot be inlined")
    return text


@cache
def _marker_icon_js() -> str:
    img = _LEAFLET_DIR / "images"
    opts = {
        "iconUrl": _data_uri(img / "marker-icon.png"),
        "iconRetinaUrl": _data_uri(img / "marker-icon-2x.png"),
        "shadowUrl": _data_uri(img / "marker-shadow.png"),
    }
    return f"L.Icon.Default.imagePath = '';\nL.Icon.Default.mergeOptions({js_json(opts)});\n"


_SCRIPT_SRC = re.compile(
    r"<script\b[^>]*?\bsrc\s*=\s*([\"'])(?P<url>[^\"']+)\1[^>]*>\s*</script>", re.IGNORECASE
)
_LINK = re.compile(r"<link\b[^>]*>", re.IGNORECASE)
_HREF = re.compile(r"\bhref\s*=\s*([\"'])(?P<url>[^\"']+)\1", re.IGNORECASE)
_REL_STYLESHEET = re.compile(r"\brel\s*=\s*([\"'])[^\"']*stylesheet[^\"']*\1", re.IGNORECASE)

# Libraries folium links by default that lantian's maps do not need.
_DROPPABLE = re.compile(
    r"jquery[\w.-]*\.js$|bootstrap[\w.-]*\.(js|css)$|bootstrap-glyphicons\.css$"
    r"|leaflet\.awesome-markers\.(js|css)$|fontawesome[^/]*/css/all(\.min)?\.css$"
    r"|leaflet\.awesome\.rotate(\.min)?\.css$",
    re.IGNORECASE,
)
_LEAFLET_JS = re.compile(r"(^|/)leaflet\.js$", re.IGNORECASE)
_LEAFLET_CSS = re.compile(r"(^|/)leaflet\.css$", re.IGNORECASE)
_BANNER = f"/* inlined by lantian: Leaflet {LEAFLET_VERSION} (BSD-2-Clause), spatial/assets */"


_OWN_ASSETS = re.compile(
    r"<(script|style) data-lantian-asset>.*?</\1>", re.IGNORECASE | re.DOTALL
)


def _inline_assets(page: str) -> str:
    """Replace folium's CDN ``<script src>``/stylesheet links by shipped assets, drop the rest."""
    # What the map's own code uses, judged without the library tags themselves.
    own = _LINK.sub("", _SCRIPT_SRC.sub("", _OWN_ASSETS.sub("", page)))
    uses_jquery = re.search(r"\$\(|\$\.|\bjQuery\b", own) is not None
    uses_awesome = "L.AwesomeMarkers" in own
    uses_default_marker = re.search(r"\bL\.marker\(", own) is not None
    unknown: list[str] = []

    def script(mo: re.Match) -> str:
        url = mo.group("url")
        if _LEAFLET_JS.search(url):
            extra = _marker_icon_js() if uses_default_marker else ""
            return f"<script>{_BANNER}\n{leaflet_js()}\n{extra}</script>"
        if _DROPPABLE.search(url):
            if (uses_jquery and "jquery" in url.lower()) or (
                uses_awesome and "awesome" in url.lower()
            ):
                unknown.append(url)
            return ""
        unknown.append(url)
        return mo.group(0)

    def link(mo: re.Match) -> str:
        tag = mo.group(0)
        href = _HREF.search(tag)
        if not _REL_STYLESHEET.search(tag) or href is None:
            return tag
        url = href.group("url")
        if _LEAFLET_CSS.search(url):
            return f"<style>{_BANNER}\n{leaflet_css()}</style>"
        if _DROPPABLE.search(url):
            if uses_awesome and ("awesome" in url.lower() or "fontawesome" in url.lower()):
                unknown.append(url)
            return ""
        unknown.append(url)
        return tag

    page = _SCRIPT_SRC.sub(script, page)
    page = _LINK.sub(link, page)
    if unknown:
        raise ValueError(
            "The map uses resources that are not shipped in spatial/assets and cannot be inlined "
            f"for an offline map: {unknown}. Build it with spatial.webmap's add_* functions "
            "(folium.Marker icons, folium.Popup and plugins need online libraries), or render "
            "with offline=False."
        )
    leftover = re.findall(r"<script\b[^>]*\bsrc\s*=\s*[\"']?(?:https?:)?//[^>]*>", page, re.I)
    leftover += [t for t in _LINK.findall(page) if re.search(r"href\s*=\s*[\"']?(https?:)?//", t)]
    if leftover:  # pragma: no cover - defensive: the substitutions above cover folium's tags
        raise ValueError(f"external resources left in an offline map: {leftover}")
    return page


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


_ELEMENT_ID = re.compile(r"(?<=_)[0-9a-f]{32}(?![0-9a-f])")


def stable_ids(page: str) -> str:
    """Replace folium's random element ids (32 hex digits) by sequence numbers.

    The same map then renders to the same bytes on every run. Apply it to a finished page:
    the names of the map's elements in Python (``m.get_name()``) no longer match.
    """
    ids: dict[str, str] = {}

    def number(match: re.Match[str]) -> str:
        return ids.setdefault(match.group(0), f"{len(ids) + 1:032d}")

    return _ELEMENT_ID.sub(number, page)


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
