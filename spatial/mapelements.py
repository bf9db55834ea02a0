"""The Leaflet elements of a lantian map page (folium ``MacroElement`` s with their JavaScript).

The map's stylesheet, title and scale bar; the GeoJSON layer drawn on the shared canvas (styles,
tooltips, popups, labels and the filter); the filter drop-down; legend boxes. The period layer and
its picker are in :mod:`spatial.periodlayer`.
Every text handed to them is already HTML-escaped; JSON goes through
:func:`spatial.htmlsafe.js_json`.
"""

from __future__ import annotations

from collections.abc import Sequence

import folium
from branca.element import MacroElement
from jinja2 import Template

from .errors import InputError
from .htmlsafe import check_color, escape, is_na, js_json


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
            var styleOf = function (f) { return styles[f.properties.s]; };
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
                    if (t != null) { tip = function () { return table(tipLabels, t); }; }
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
        filtered: bool = False,
    ):
        super().__init__()
        self._name = "LantianGeoJson"
        self.filtered = bool(filtered)
        self.data_json = data_json
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
LAYER_RANK = {"outlines_hover": 0, "cells": 10, "polygons": 20, "outlines": 30, "points": 40}


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
    vals = [escape(v) for v in dict.fromkeys(values) if not is_na(v)]
    m.add_child(_Filter(escape(label), vals, escape(all_text), position))


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
        color = check_color(item[0], f"items[{i}] colour")
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


class _Links(MacroElement):
    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var box = L.control({position: "topleft"});
            box.onAdd = function () {
                var div = L.DomUtil.create("div", "lt-legend lt-links");
                div.innerHTML = {{ this.html_json }};
                L.DomEvent.disableClickPropagation(div);
                return div;
            };
            box.addTo({{ this._parent.get_name() }});
        })();
        {% endmacro %}
        """
    )

    def __init__(self, html_text: str):
        super().__init__()
        self._name = "LantianLinks"
        self.html_json = js_json(html_text)


def add_links(m: folium.Map, *, title: str, links: Sequence[tuple[str, str | None]]) -> None:
    """A box (top left) of links to sibling maps, e.g. the maps of the other years.

    ``links``: ``(text, href)`` in display order; ``href`` None marks the map itself (bold, no
    link). Hrefs are file names relative to the map's folder; texts and hrefs are escaped.
    """
    rows = []
    for text, href in links:
        rows.append(f"<b>{escape(text)}</b>" if href is None
                    else f'<a href="{escape(href)}">{escape(text)}</a>')
    m.add_child(_Links(f"{escape(title)}：" + " | ".join(rows)))
