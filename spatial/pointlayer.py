"""A compact point layer: many circle markers from a few compressed arrays instead of GeoJSON.

A national fire season has ~150,000 fire events; one GeoJSON feature each (geometry, style,
tooltip texts) takes ~150 bytes of HTML, 20 MB in all. The page here holds instead:

* the points' positions as integers ``round(v * 10**decimals)``, ``x = lng, y = lat``, each
  the difference to the point before it, little-endian int32 (x then y per point);
* the circle radius in half pixels (uint8), when the radius varies;
* per tooltip field, the index of each point's value (uint8/uint16/uint32) into that field's
  list of distinct display texts (formatted by :func:`spatial.htmlsafe.format_value` and
  HTML-escaped once per distinct value, not per point);
* with a filter column, the index of each point's filter value into its list
  (:func:`spatial.webmap.add_filter`; index 0 is "no value").

Every array is zlib-compressed and base64-encoded, inflated in the browser with
``DecompressionStream("deflate")`` as the period layer's (:mod:`spatial.periodlayer`); a
browser without it shows a message on the map.
"""

from __future__ import annotations

from collections.abc import Mapping

import folium
import numpy as np
import pandas as pd
from branca.element import MacroElement
from jinja2 import Template

from .compactjs import DECODE_JS, INFLATE_JS, RANK_JS
from .errors import InputError
from .htmlsafe import check_color, escape, format_value, js_json
from .mapelements import LAYER_RANK
from .periodlayer import compressed_b64
from .values import factorize_exact


def _index_dtype(n: int) -> str:
    return "<u1" if n <= 2**8 else "<u2" if n <= 2**16 else "<u4"


def encode_texts(values: pd.Series) -> tuple[list[str], str, int]:
    """Distinct display texts of `values` and each value's index into them.

    Returns the escaped texts (in order of first appearance), the indices as a base64 zlib
    array and its bytes per index (1, 2 or 4). Missing values show as ``—``.
    """
    codes, uniques = factorize_exact(values)
    texts = [escape(format_value(u)) for u in uniques]
    if (codes < 0).any():  # missing: one more text
        codes = np.where(codes < 0, len(texts), codes)
        texts.append(escape(format_value(None)))
    dtype = _index_dtype(len(texts))
    return texts, compressed_b64(codes.astype(dtype)), np.dtype(dtype).itemsize


def encode_positions(lng: np.ndarray, lat: np.ndarray, decimals: int) -> str:
    """``round(v * 10**decimals)`` of lng and lat, as deltas, int32 (x, y per point), b64 zlib."""
    q = np.round(np.column_stack([lng, lat]) * 10.0**decimals).astype(np.int64)
    d = np.diff(q, axis=0, prepend=np.zeros((1, 2), np.int64))
    return compressed_b64(d.astype("<i4").ravel())


def compact_data(lng: np.ndarray, lat: np.ndarray, *, radius: np.ndarray | None,
                 tips: pd.DataFrame | None, keys: pd.Series | None,
                 decimals: int = 4) -> dict:
    """The arrays and lists of one compact layer (see the module docstring)."""
    lng = np.asarray(lng, dtype=float)
    lat = np.asarray(lat, dtype=float)
    if not (np.isfinite(lng).all() and np.isfinite(lat).all()):
        raise InputError("add_compact_points: every point needs a finite lng and lat.")
    data: dict = {"n": len(lng), "div": 10**decimals, "xy": encode_positions(lng, lat, decimals)}
    if radius is not None:
        half = np.clip(np.round(np.asarray(radius, dtype=float) * 2), 0, 255)
        data["r"] = compressed_b64(half.astype("<u1"))
    if tips is not None:
        data["tipLabels"], data["tips"] = [], []
        for col in tips.columns:
            texts, arr, size = encode_texts(tips[col])
            data["tipLabels"].append(escape(col))
            data["tips"].append({"texts": texts, "idx": arr, "size": size})
    if keys is not None:
        codes, uniques = pd.factorize(keys, use_na_sentinel=True)
        data["keys"] = [None, *[escape(u) for u in uniques]]
        data["k"] = compressed_b64((codes + 1).astype(_index_dtype(len(uniques) + 1)))
        data["kSize"] = np.dtype(_index_dtype(len(uniques) + 1)).itemsize
    return data


class CompactPoints(MacroElement):
    """Circle markers of :func:`compact_data` drawn on the map's canvas (see the module doc).

    For tests, the layer group carries ``lantianCount`` (markers built) once the arrays are
    inflated; ``map._lantianPending`` holds the promises of that.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var map = {{ this.map_name }};
            var style = {{ this.style_json }}, d = {{ this.data_json }};
            var group = L.featureGroup(), markers = [], keyOf = null;
""" + INFLATE_JS + """\
            var view = function (buf, size) {
                return size === 1 ? new Uint8Array(buf) :
                       size === 2 ? new Uint16Array(buf) : new Uint32Array(buf);
            };
            var shown = function (i) {
                var v = map._lantianFilter;
                return !keyOf || v == null || v === "" || d.keys[keyOf[i]] === v;
            };
            var refill = function () {
                group.clearLayers();
                for (var i = 0; i < markers.length; i++) {
                    if (shown(i)) { group.addLayer(markers[i]); }
                }
            };
            var build = function (bufs) {
                var xy = new Int32Array(bufs[0]), r = d.r ? new Uint8Array(bufs[1]) : null;
                var at = d.r ? 2 : 1, tips = (d.tips || []).map(function (t, j) {
                    return view(bufs[at + j], t.size);
                });
                if (d.k) { keyOf = view(bufs[at + tips.length], d.kSize); }
                var x = 0, y = 0;
                for (var i = 0; i < d.n; i++) {
                    x += xy[2 * i]; y += xy[2 * i + 1];
                    var o = Object.assign({}, style);
                    if (r) { o.radius = r[i] / 2; }
                    var l = L.circleMarker([y / d.div, x / d.div], o);
                    if (tips.length) {
                        var tip = (function (i) {
                            return function () {
                                var h = "<table>";
                                for (var j = 0; j < tips.length; j++) {
                                    h += "<tr><th>" + d.tipLabels[j] + "</th><td>" +
                                         d.tips[j].texts[tips[j][i]] + "</td></tr>";
                                }
                                return h + "</table>";
                            };
                        })(i);
                        l.bindTooltip(tip, {sticky: true, className: "lt-tip"});
                        l.bindPopup(tip, {maxWidth: 360, className: "lt-tip"});
                    }
                    markers.push(l);
                }
                refill();
                group.lantianCount = markers.length;
                if (map.hasLayer(group)) { group.fire("add"); }
            };
            var arrays = [d.xy].concat(d.r ? [d.r] : [], (d.tips || []).map(function (t) {
                return t.idx; }), d.k ? [d.k] : []);
""" + DECODE_JS + """\
            map.on("lantian:filter", function () { if (markers.length) { refill(); } });
""" + RANK_JS + """\
        })();
        {% endmacro %}
        """
    )

    def __init__(self, data: dict, style: dict, *, map_name: str, rank: int):
        super().__init__()
        self._name = "LantianCompactPoints"
        self.data_json = js_json(data)
        self.style_json = js_json(style)
        self.map_name = map_name
        self.rank = int(rank)
        self.error_json = js_json("此浏览器无法解开压缩的点数据（缺少 DecompressionStream）；"
                                  "请用新版 Chrome、Edge 或 Firefox 打开本地图。")


def layer_data(lng: np.ndarray, lat: np.ndarray, *, radius: np.ndarray | None = None,
               tooltip: Mapping[str, pd.Series] | None = None,
               keys: pd.Series | None = None, decimals: int = 4) -> dict:
    """The page data of :func:`add_compact_points` (its arguments), checked and encoded."""
    n = len(lng)
    for label, vals in (tooltip or {}).items():
        if len(vals) != n:
            raise InputError(f"add_compact_points: tooltip field {label!r} has {len(vals)} "
                             f"values for {n} points.")
    tips = (pd.DataFrame({k: pd.Series(v).reset_index(drop=True)
                          for k, v in tooltip.items()}) if tooltip else None)
    if keys is not None:
        keys = pd.Series(keys).reset_index(drop=True).astype(object)
        keys = keys.where(keys.notna(), None).map(lambda v: v if v is None else str(v))
    return compact_data(lng, lat, radius=radius, tips=tips, keys=keys, decimals=decimals)


def add_compact_points(m: folium.Map, lng: np.ndarray, lat: np.ndarray, *, name: str,
                       color: str, radius: np.ndarray | None = None, size: float = 4.0,
                       tooltip: Mapping[str, pd.Series] | None = None,
                       keys: pd.Series | None = None, show: bool = True,
                       decimals: int = 4) -> folium.FeatureGroup:
    """Add points (WGS-84 ``lng``, ``lat`` degrees) as one compact layer of circle markers.

    ``radius``: per point, pixels (kept to half pixels, at most 127.5), else ``size`` for all;
    ``tooltip``: ``{label: values}`` aligned with the points, shown on hover and click;
    ``keys``: per point the value the map's filter (:func:`spatial.webmap.add_filter`) picks
    (text), or None to ignore the filter; ``decimals``: of the positions (4: ~11 m).
    """
    from .maplayers import _layer_name

    layer_name = _layer_name(m, name)
    data = layer_data(lng, lat, radius=radius, tooltip=tooltip, keys=keys, decimals=decimals)
    style = {"radius": float(size), "weight": 1, "color": "#ffffff", "opacity": 0.9,
             "fillColor": check_color(color, "color"), "fillOpacity": 0.85,
             "interactive": bool(tooltip)}
    group = folium.FeatureGroup(name=layer_name, show=show).add_to(m)
    group.add_child(CompactPoints(data, style, map_name=m.get_name(), rank=LAYER_RANK["points"]),
                    name=f"{name}_data")
    return group
