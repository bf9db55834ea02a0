"""Web-map parts built from the shared legend (:mod:`spatial.legend`).

layers, one legend box with an entry for every drawn layer, and the title block and credits a
meeting map needs.

``add_layer(m, leg, gdf, tooltip=...)`` draws a result layer with the colours, classes and
Chinese name of its :class:`~spatial.legend.LayerLegend`; :func:`add_legend` lists every layer
added that way (and the outlines) in one box; :func:`set_heading` puts ``[map] title`` and
``subtitle`` on the map and :func:`add_credits` the city, data source and producing unit
(制图单位). Everything shown is HTML-escaped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import folium
import geopandas as gpd
from branca.element import MacroElement
from jinja2 import Template

from . import webmap
from .errors import InputError
from .legend import LayerLegend, web_items

#: Where the legends drawn on a map are collected (attribute of the folium.Map)
_DRAWN = "lantian_legends"

_CSS = """
.lt-legend-sec { font-weight: bold; margin-top: 4px; }
.lt-legend-sub { padding-left: 10px; }
.lt-legend-gap { margin-top: 4px; }
.lt-credits { position: absolute; left: 10px; bottom: 26px; z-index: 1000; max-width: 60%;
  padding: 3px 8px; background: rgba(255,255,255,0.88); border-radius: 3px; font-size: 12px;
  color: #333; line-height: 17px; pointer-events: none; }
"""


def add_layer(m: folium.Map, leg: LayerLegend, gdf: gpd.GeoDataFrame, *,
              tooltip: Mapping[str, str] | None = None, **kw: Any) -> folium.FeatureGroup:
    """Draw ``gdf`` as the legend says and remember the layer for :func:`add_legend`.

    Points: :func:`spatial.webmap.add_points` (``kw`` may add ``radius_col``,
    ``filter_col``…); polygons and lines: :func:`spatial.webmap.add_polygons`; graduated
    layers: :func:`spatial.webmap.add_choropleth` with the legend's class edges and colours.
    A categorized layer needs ``leg.column`` in ``gdf`` (derive it before drawing). Popups
    show the tooltip's fields (see :mod:`spatial.webmap`).
    """
    if leg.column is not None and leg.column not in gdf.columns:
        raise InputError(f"layer {leg.layer!r}: column {leg.column!r} is not in the frame; "
                         f"columns: {list(gdf.columns)}.")
    name = leg.title
    show = kw.pop("show", leg.visible)
    if leg.graduated:
        label = kw.pop("label", leg.title)
        group = webmap.add_choropleth(
            m, gdf, column=leg.column, name=name, label=label, bins=list(leg.edges),
            colors=[e.color for e in leg.entries], opacity=leg.fill_opacity, tooltip=tooltip,
            legend=False, show=show, **kw)
    elif leg.geometry == "point":
        if leg.kind == "single":
            kw.setdefault("color", leg.entries[0].color)
        else:
            kw.update(color_col=leg.column, colors=leg.colors())
        group = webmap.add_points(m, gdf, name=name, radius=kw.pop("radius", leg.size),
                                  tooltip=tooltip, show=show, **kw)
    else:
        style = {"color": leg.outline or leg.entries[0].color, "weight": leg.width,
                 "fillOpacity": 0.0 if leg.geometry == "line" else leg.fill_opacity}
        if leg.geometry == "line" or leg.fill_opacity == 0:
            style["fill"] = False  # outlines: the features beneath stay clickable
        if leg.dash:
            style["dashArray"] = "6 4"
        if leg.kind == "single":
            style["fillColor"] = leg.entries[0].color
        else:
            kw.update(color_col=leg.column, colors=leg.colors())
        style.update(kw.pop("style", {}))
        group = webmap.add_polygons(m, gdf, name=name, style=style, tooltip=tooltip,
                                    show=show, **kw)
    drawn = getattr(m, _DRAWN, None)
    if drawn is None:
        drawn = []
        setattr(m, _DRAWN, drawn)
    drawn.append(leg)
    return group


def note_layer(m: folium.Map, leg: LayerLegend) -> None:
    """Register a layer drawn by other means (outlines, period layers) for :func:`add_legend`."""
    drawn = getattr(m, _DRAWN, None)
    if drawn is None:
        drawn = []
        setattr(m, _DRAWN, drawn)
    drawn.append(leg)


def legend_html(legends: Sequence[LayerLegend], *, title: str = "图例") -> str:
    """HTML of one legend box.

    A row per single-symbol layer, a heading and rows per class for the others, top layer first
    (as they are stacked on the map). A single row right after a group's rows is set apart by
    a margin, so it does not read as the group's last class.
    """
    rows = [f'<div class="lt-legend-title">{webmap.escape(title)}</div>']
    after_group = False  # a single row right after a group's rows is set apart from them
    for leg in reversed(list(legends)):
        items = web_items(leg)
        if leg.kind == "single":
            rows.append(_row(*items[0], gap=after_group))
            after_group = False
            continue
        rows.append(f'<div class="lt-legend-sec">{webmap.escape(leg.title)}</div>')
        rows += [_row(*it, sub=True) for it in items]
        after_group = True
    return "".join(rows)


def _row(color: str, label: str, shape: str, *, sub: bool = False, gap: bool = False) -> str:
    prop = "border-top-color" if shape == "line" else "background"
    names = [n for n, on in (("lt-legend-sub", sub), ("lt-legend-gap", gap)) if on]
    cls = f' class="{" ".join(names)}"' if names else ""
    return (f'<div{cls}><i class="lt-sw lt-sw-{shape}" style="{prop}:{webmap.escape(color)}">'
            f"</i>{webmap.escape(label)}</div>")


class _Box(MacroElement):
    _template = Template(
        """
        {% macro header(this, kwargs) %}<style>{{ this.css }}</style>{% endmacro %}
        {% macro script(this, kwargs) %}
        (function () {
            var box = L.control({position: {{ this.position_json }}});
            box.onAdd = function () {
                var div = L.DomUtil.create("div", {{ this.cls_json }});
                div.innerHTML = {{ this.html_json }};
                L.DomEvent.disableClickPropagation(div);
                L.DomEvent.disableScrollPropagation(div);
                return div;
            };
            box.addTo({{ this._parent.get_name() }});
        })();
        {% endmacro %}
        """
    )

    def __init__(self, html_text: str, *, position: str, cls: str):
        super().__init__()
        self._name = "LantianLegendBox"
        self.css = _CSS
        self.html_json = webmap.js_json(html_text)
        self.position_json = webmap.js_json(position)
        self.cls_json = webmap.js_json(cls)


def add_legend(m: folium.Map, *, title: str = "图例", position: str = "bottomright") -> None:
    """One legend box with an entry for every drawn layer.

    The layers are those added with :func:`add_layer` or :func:`note_layer`, and only those.
    """
    legends = getattr(m, _DRAWN, None) or []
    if not legends:
        return
    m.add_child(_Box(legend_html(legends, title=title), position=position, cls="lt-legend"),
                name="lantian_legend_box")


def add_note(m: folium.Map, text: str, *, position: str = "bottomleft") -> None:
    """A boxed note on the map (e.g. what was left out and why), styled like the legend."""
    m.add_child(_Box(f'<div style="max-width:22em;white-space:normal">{webmap.escape(text)}'
                     "</div>", position=position, cls="lt-legend lt-note"),
                name="lantian_note_box")


class _Credits(MacroElement):
    _template = Template(
        """
        {% macro header(this, kwargs) %}<style>{{ this.css }}</style>{% endmacro %}
        {% macro html(this, kwargs) %}{{ this.html }}{% endmacro %}
        """
    )

    def __init__(self, html_text: str):
        super().__init__()
        self._name = "LantianCredits"
        self.css = _CSS
        self.html = html_text


def credit_lines(*, city: str | None = None, source: str | None = None,
                 unit: str | None = None) -> list[str]:
    """The margin lines of a map or figure: 区域, 数据来源, 制图单位 (those given)."""
    out = []
    for label, value in (("区域", city), ("数据来源", source), ("制图单位", unit)):
        if value is not None and str(value).strip():
            out.append(f"{label}：{str(value).strip()}")
    return out


def add_credits(m: folium.Map, *, city: str | None = None, source: str | None = None,
                unit: str | None = None) -> None:
    """Write the city, the data source and the producing unit (制图单位) at the bottom left."""
    lines = credit_lines(city=city, source=source, unit=unit)
    if not lines:
        return
    body = "<br>".join(webmap.escape(t) for t in lines)
    m.add_child(_Credits(f'<div class="lt-credits">{body}</div>'), name="lantian_credits")


def set_heading(m: folium.Map, *, title: str | None = None,
                subtitle: str | None = None) -> None:
    """Replace the title (and subtitle) of a map from :func:`spatial.webmap.new_map`.

    The 制图日期 line stays; None keeps what the analysis wrote.
    """
    style = m._children.get("lantian_style")
    if style is None or (title is None and subtitle is None):
        return
    import re

    page = style.title_html
    if title is not None:
        if not str(title).strip():
            raise InputError("[map] title is empty: give the map's title or leave the key out.")
        page = re.sub(r'(<div class="lt-title-main">).*?(</div>)',
                      lambda mo: mo.group(1) + webmap.escape(title) + mo.group(2), page, count=1)
        m.get_root().title = webmap.escape(title)
    if subtitle is not None:
        sub = f'<div class="lt-title-sub">{webmap.escape(subtitle)}</div>'
        if 'class="lt-title-sub"' in page:
            page = re.sub(r'<div class="lt-title-sub">.*?</div>', lambda mo: sub, page, count=1)
        else:
            page = page.replace('<div class="lt-title-date">', sub +
                                '<div class="lt-title-date">', 1)
    style.title_html = page


def admin_legends(context: Mapping[str, gpd.GeoDataFrame | None]) -> list[LayerLegend]:
    """Legends of the outlines :func:`draw_admin` draws (townships, then counties on top).

    The county outlines are the ``counties`` layer of ``context.gpkg``, labelled by name.
    """
    from .legend import single

    out = []
    townships = context.get("townships")
    if townships is not None and len(townships):
        out.append(single("townships", "乡镇边界", "line", "#999999", width=0.8, dash=True,
                          context=True))
    counties = context.get("counties")
    if counties is not None and len(counties):
        out.append(single("counties", "县区边界", "line", "#555555", width=1.5,
                          label_col="name" if "name" in counties.columns else None,
                          context=True))
    return out


def start_map(context: Mapping[str, gpd.GeoDataFrame | None],
              *frames: gpd.GeoDataFrame | None, title: str,
              subtitle: str | None = None) -> folium.Map:
    """A new map: the first steps of every analysis's ``build_map``.

    Fitted to `frames` and the counties of `context`, titled, on the light basemap, with the
    county (and township) outlines drawn (:func:`draw_admin`).
    """
    bounds = webmap.bounds_of(*frames, context.get("counties"))
    m = webmap.new_map(bounds, title=title, basemap="light", subtitle=subtitle)
    draw_admin(m, context)
    return m


def draw_admin(m: folium.Map, context: Mapping[str, gpd.GeoDataFrame | None]) -> None:
    """Draw county (and township) outlines with names, noted for the legend.

    See :func:`spatial.webmap.add_admin`.
    """
    webmap.add_admin(m, context)
    for leg in admin_legends(context):
        note_layer(m, leg)
