"""Basemaps (tile services) and map tools (full screen, distance measure) for lantian's maps.

:mod:`spatial.webmap` builds every map with these. Basemaps:

========================  ==========================================================  =========
name                      tiles                                                       coords
========================  ==========================================================  =========
``light`` (default)       CARTO Positron (OpenStreetMap data)                         WGS-84
``osm``                   OpenStreetMap standard tiles                                WGS-84
``tianditu-vec``          天地图 vector map ``vec_w`` + its annotation ``cva_w``        WGS-84
``tianditu-img``          天地图 imagery ``img_w`` + its annotation ``cia_w``            WGS-84
``amap`` / ``gaode``      高德地图 (Amap) road map, ``style=8``                        GCJ-02
``none``                  no tiles (plain background, no network)                     —
========================  ==========================================================  =========

Tianditu (the national platform of the Ministry of Natural Resources) requires a key
(``tk``): pass ``token=`` or set the ``TIANDITU_TOKEN`` environment variable; keys are free
for government users at https://console.tianditu.gov.cn. The key is written into the HTML
file (every tile URL carries it), so give maps with Tianditu tiles only to people who may use
the key. Tianditu tiles are in CGCS2000, treated as WGS-84 at map scales (as everywhere in
lantian). Their attribution carries the platform's map approval number, :data:`TIANDITU_GS`
(``GS(2024)0568号``, the number shown in the footer of map.tianditu.gov.cn when this was
written; check it there and update it when the platform renews its approval).

Amap tiles are drawn in GCJ-02, the offset system Chinese web maps must use; WGS-84 overlays
on them appear shifted by 300-600 m. A map whose basemap is GCJ-02 is flagged
(``m.lantian_gcj02 = True``) and :mod:`spatial.webmap` shifts every overlay to GCJ-02 *for
display only* (the written layers stay WGS-84).

Tools: the full-screen button (``leaflet.fullscreen``) and the distance measure
(``leaflet.polylinemeasure``, geodesic distances in m/km) are shipped in ``spatial/assets``
(see its README for versions, licences and checksums) and always inlined into the page, so
they work offline.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import re
import urllib.parse
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

from branca.element import MacroElement
from jinja2 import Template

from .errors import InputError
from .htmlsafe import js_json

ASSETS_DIR = Path(__file__).parent / "assets"
FULLSCREEN_DIR = ASSETS_DIR / "leaflet.fullscreen-5.3.3"
MEASURE_DIR = ASSETS_DIR / "leaflet.polylinemeasure-3.0.0"

#: Map approval number (审图号) of the Tianditu platform, shown in its tiles' attribution.
TIANDITU_GS = "GS(2024)0568号"
TIANDITU_ATTRIBUTION = (
    f'&copy; <a href="https://www.tianditu.gov.cn">天地图</a> 审图号：{TIANDITU_GS}'
)
_TIANDITU_URL = (
    "https://t{{s}}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
    "&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
    "&TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk={token}"
)
AMAP_ATTRIBUTION = '&copy; <a href="https://www.amap.com">高德地图</a> (GCJ-02)'

#: Basemaps: display name, tile URL template, attribution (HTML), subdomains, maximum zoom,
#: the annotation layer drawn above (Tianditu), whether the tiles are GCJ-02 and whether a
#: Tianditu key is needed. ``"none"`` draws no tiles.
BASEMAPS: dict[str, dict[str, Any] | None] = {
    "light": {
        "name": "浅色底图 (CARTO)",
        "url": "https://{s}.basemaps.cartocdn.com/light_all/{z}/{x}/{y}{r}.png",
        "attribution": '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap'
        '</a> contributors &copy; <a href="https://carto.com/attributions">CARTO</a>',
        "subdomains": "abcd",
        "max_zoom": 20,
    },
    "osm": {
        "name": "OpenStreetMap",
        "url": "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        "attribution": '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap'
        "</a> contributors",
        "subdomains": "abc",
        "max_zoom": 19,
    },
    "tianditu-vec": {
        "name": "天地图 矢量",
        "url": _TIANDITU_URL.format(layer="vec", token="{token}"),
        "annotation": _TIANDITU_URL.format(layer="cva", token="{token}"),
        "attribution": TIANDITU_ATTRIBUTION,
        "subdomains": "01234567",
        "max_zoom": 18,
        "token": True,
    },
    "tianditu-img": {
        "name": "天地图 影像",
        "url": _TIANDITU_URL.format(layer="img", token="{token}"),
        "annotation": _TIANDITU_URL.format(layer="cia", token="{token}"),
        "attribution": TIANDITU_ATTRIBUTION,
        "subdomains": "01234567",
        "max_zoom": 18,
        "token": True,
    },
    "amap": {
        "name": "高德地图",
        "url": "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8"
        "&x={x}&y={y}&z={z}",
        "attribution": AMAP_ATTRIBUTION,
        "subdomains": "1234",
        "max_zoom": 18,
        "gcj02": True,
    },
    "none": None,
}
BASEMAPS["gaode"] = BASEMAPS["amap"]

_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{8,128}$")


def check_basemap(name: str) -> str:
    """Return ``name`` if it is a known basemap, else raise :class:`InputError`."""
    if name not in BASEMAPS:
        raise InputError(f"basemap={name!r}: choose one of {', '.join(BASEMAPS)}.")
    return name


def is_gcj02(name: str) -> bool:
    """Whether basemap ``name`` draws GCJ-02 tiles (overlays must be shifted to match)."""
    spec = BASEMAPS[check_basemap(name)]
    return bool(spec and spec.get("gcj02"))


def tianditu_token(token: str | None = None) -> str:
    """The Tianditu key: ``token`` if given, else ``$TIANDITU_TOKEN``; InputError if neither."""
    tk = token if token else os.environ.get("TIANDITU_TOKEN", "")
    tk = tk.strip()
    if not tk:
        raise InputError(
            "the Tianditu basemaps need a key (tk): set `tianditu_token = \"…\"` in the config's "
            "[map] table, or the TIANDITU_TOKEN environment variable (free keys for government "
            "users at https://console.tianditu.gov.cn), or choose basemap light/osm/none."
        )
    if not _TOKEN_RE.match(tk):
        raise InputError(
            f"tianditu_token={tk[:4]}…: a Tianditu key is 8-128 letters, digits, '-' or '_'; "
            "copy it again from the Tianditu console."
        )
    return tk


def tile_layers(name: str, *, token: str | None = None) -> list[dict[str, Any]]:
    """Keyword arguments of the ``folium.TileLayer`` objects that draw basemap ``name``.

    Parameters
    ----------
    name
        A key of :data:`BASEMAPS`.
    token
        Tianditu key (only for ``tianditu-*``); default ``$TIANDITU_TOKEN``.

    Returns
    -------
    list of dict
        Empty for ``"none"``; the base layer (``overlay=False``, in the layer control) and, for
        Tianditu, its annotation layer (``overlay=True``, drawn above, not in the control).
    """
    spec = BASEMAPS[check_basemap(name)]
    if spec is None:
        return []
    fill = {}
    if spec.get("token"):
        fill["token"] = urllib.parse.quote(tianditu_token(token), safe="")
    common = {
        "attr": spec["attribution"],
        "subdomains": spec["subdomains"],
        "max_zoom": spec["max_zoom"],
        "max_native_zoom": spec["max_zoom"],
    }
    url = spec["url"].replace("{token}", fill["token"]) if fill else spec["url"]
    out = [{"tiles": url, "name": spec["name"], "overlay": False, "control": True, **common}]
    if spec.get("annotation"):
        out.append({
            "tiles": spec["annotation"].replace("{token}", fill["token"]),
            "name": spec["name"] + " 注记",
            "overlay": True,
            "control": False,
            **common,
        })
    return out


# --------------------------------------------------------------------------- run-wide choice

_OVERRIDE: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "lantian_basemap_override", default=None
)


@contextlib.contextmanager
def override(basemap: str | None = None, *, token: str | None = None) -> Iterator[None]:
    """Within the block, every :func:`spatial.webmap.new_map` uses this basemap and key.

    This is how a run's configuration (``[map] basemap``, ``--basemap``) chooses the basemap of
    every analysis's map without changing each ``build_map(result)``: the runner wraps the call
    in ``with basemaps.override("tianditu-vec", token=...)``. ``basemap=None`` keeps each map's
    own choice and only supplies the key. Checked on entry (unknown name, missing key).
    """
    if basemap is not None:
        check_basemap(basemap)
        tile_layers(basemap, token=token)  # a missing Tianditu key fails here, before the run
    handle = _OVERRIDE.set({"basemap": basemap, "token": token})
    try:
        yield
    finally:
        _OVERRIDE.reset(handle)


def effective(basemap: str, token: str | None) -> tuple[str, str | None]:
    """The basemap and key a new map uses: the active :func:`override` wins over arguments."""
    ov = _OVERRIDE.get()
    if ov is None:
        return basemap, token
    return (ov["basemap"] or basemap), (token or ov["token"])


# --------------------------------------------------------------------------- tools (plugins)


@cache
def _read(path: Path, closing: str) -> str:
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"\n//# sourceMappingURL=\S*\s*$", "\n", text)
    if closing in text.lower():
        raise RuntimeError(f"{path.name} contains {closing!r} and cannot be inlined")
    return text


def plugin_js() -> str:
    """The JavaScript of the shipped map tools (full screen, measure), to inline after Leaflet."""
    return (
        "/* inlined by lantian: leaflet.fullscreen 5.3.3 (MIT), spatial/assets */\n"
        + _read(FULLSCREEN_DIR / "Control.FullScreen.umd.js", "</script")
        + "\n/* inlined by lantian: Leaflet.PolylineMeasure 3.0.0 (BSD-2-Clause), "
        "spatial/assets */\n"
        + _read(MEASURE_DIR / "Leaflet.PolylineMeasure.js", "</script")
    )


def plugin_css() -> str:
    """The CSS of the shipped map tools (icons are inline SVG/Unicode: no files, no fonts)."""
    return _read(FULLSCREEN_DIR / "Control.FullScreen.css", "</style") + "\n" + _read(
        MEASURE_DIR / "Leaflet.PolylineMeasure.css", "</style"
    )


#: Chinese texts of the measure tool (PolylineMeasure options).
MEASURE_OPTIONS: dict[str, Any] = {
    "position": "topleft",
    "unit": "metres",
    "clearMeasurementsOnStop": False,
    "showClearControl": True,
    "showBearings": False,
    "measureControlTitleOn": "开始测距",
    "measureControlTitleOff": "结束测距",
    "clearControlTitle": "清除测量",
    "tooltipTextFinish": "单击<b>结束本段</b><br>",
    "tooltipTextDelete": "按住 Shift 单击<b>删除节点</b>",
    "tooltipTextMove": "拖动以<b>移动节点</b><br>",
    "tooltipTextResume": "<br>按住 Ctrl 单击<b>继续测量</b>",
    "tooltipTextAdd": "按住 Ctrl 单击<b>添加节点</b>",
    "unitControlLabel": {"metres": "米", "kilometres": "公里", "feet": "ft",
                         "landmiles": "mi", "nauticalmiles": "nm"},
}
FULLSCREEN_OPTIONS: dict[str, Any] = {
    "position": "topleft",
    "title": "全屏显示",
    "titleCancel": "退出全屏",
    "forceSeparateButton": True,
}


class MapTools(MacroElement):
    """Full-screen button and distance-measure tool, with their libraries inlined.

    The libraries go into the page header in a ``<script data-lantian-asset>`` element after
    Leaflet's; the controls are created in the map's script.
    """

    _template = Template(
        """
        {% macro header(this, kwargs) %}{{ this.head }}{% endmacro %}
        {% macro script(this, kwargs) %}
        new L.Control.FullScreen({{ this.fullscreen_json }}).addTo({{ this._parent.get_name() }});
        L.control.polylineMeasure({{ this.measure_json }}).addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self) -> None:
        super().__init__()
        self._name = "LantianMapTools"
        # branca compiles the header macro's output as a template again: keep it raw.
        head = (f"<style data-lantian-asset>{plugin_css()}</style>\n"
                f"<script data-lantian-asset>{plugin_js()}</script>")
        if "endraw" in head:  # pragma: no cover - the shipped files do not contain it
            raise RuntimeError("a map tool library contains 'endraw' and cannot be inlined")
        self.head = "{% raw %}" + head + "{% endraw %}"
        self.fullscreen_json = js_json(FULLSCREEN_OPTIONS)
        self.measure_json = js_json(MEASURE_OPTIONS)
