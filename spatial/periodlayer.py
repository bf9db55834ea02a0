"""A compact hexagon layer with one value per period, picked in the page by a period drop-down.

A province-year of daily values (about 30,000 res-7 cells x 365 days, 11 M cell-days) must fit a
map file that opens in a meeting room, so the page holds:

* every cell's geometry once: vertices as integer micro-degrees (``round(x * 1e6)``, the
  :data:`~spatial.maplayers.COORD_DECIMALS` of every other layer), ``x = lng, y = lat``, each
  one written as the difference to the vertex before it (the closing vertex of a ring left out),
  little-endian int32;
* per period, one array of the cells' class (the style index: the legend class, or the 无数据
  style), packed ``bits`` = 1, 2, 4 or 8 to a byte, the first cell in the lowest bits;
* per period, one array of the cells' values as integers (``round(v * 10**d)``, ``d`` the
  decimals of ``value_format``, int16 or int32, a sentinel for no value) when they fit the
  layer's byte budget; otherwise the tooltip shows the value's legend class instead of the
  number (the values are *quantised to the legend classes*, and the tooltip's label says so).

Every array is zlib-compressed (level :data:`ZLIB_LEVEL`) and base64-encoded; the browser
inflates them with the standard ``DecompressionStream("deflate")`` (Chrome/Edge 80+, Firefox
113+, Safari 16.4+). A browser without it shows a message on the map instead of an empty layer.
"""

from __future__ import annotations

import base64
import re
import zlib

import numpy as np
import shapely
from branca.element import MacroElement
from jinja2 import Template

from .compactjs import DECODE_JS, INFLATE_JS, RANK_JS
from .errors import InputError
from .htmlsafe import js_json

#: Bytes (base64 text) the per-period value arrays of all period layers of a map may take; above
#: it a layer's tooltip shows the value's class instead (the colours are the same either way).
VALUE_BUDGET = 3_000_000

#: zlib level of the arrays. Measured on a province-year's daily arrays (30,332 cells, int16
#: values and 4-bit classes): level 3 compresses ~10x faster than 9 (0.11 s against 1.0 s of CPU
#: for 60 days' arrays) and the page is 2 % larger (values: level 3 is even a little smaller).
ZLIB_LEVEL = 3

_SCALE = 1_000_000  # micro-degrees: 6 decimals, as every other layer of the map
_FORMAT = re.compile(r"\{:(?P<plus>\+?)\.(?P<dec>\d)f\}")


def compressed_b64(a: np.ndarray) -> str:
    """zlib-compressed, base64-encoded bytes of an array (its dtype fixes the byte order)."""
    return base64.b64encode(zlib.compress(np.ascontiguousarray(a).tobytes(), ZLIB_LEVEL)
                            ).decode("ascii")


def class_bits(n_styles: int) -> int:
    """Bits per cell that hold a style index below ``n_styles``: 1, 2, 4 or 8."""
    return next(b for b in (1, 2, 4, 8) if n_styles <= 2**b)


def pack_classes(idx: np.ndarray, bits: int) -> str:
    """Style indices packed ``bits`` to a byte, zlib-compressed and base64-encoded.

    Cell ``i`` is in bits ``(i % per) * bits`` and up of byte ``i // per``, ``per = 8 // bits``.
    """
    return pack_class_table(np.asarray(idx).reshape(-1, 1), bits)[0]


def pack_class_table(idx: np.ndarray, bits: int) -> list[str]:
    """:func:`pack_classes` of every column of a cells x periods table of style indices.

    Packed for all periods in one pass (a province-year: 365 columns of 30,000 cells), then
    one base64 zlib array per period.
    """
    per = 8 // bits
    n, n_p = idx.shape
    a = np.zeros((-(-n // per) * per, n_p), dtype=np.uint8)
    a[:n] = idx
    shifts = (np.arange(per, dtype=np.uint8) * bits)[None, :, None]
    packed = np.bitwise_or.reduce(a.reshape(-1, per, n_p) << shifts, axis=1)
    rows = np.ascontiguousarray(packed.T)  # one row per period
    return [compressed_b64(r) for r in rows]


def encode_polygons(geoms: np.ndarray) -> dict[str, str]:
    """Polygons / MultiPolygons (``x = lng, y = lat``, degrees) as compact arrays.

    Returns base64 zlib arrays: ``xy`` (int32 vertex deltas in micro-degrees, x then y, rings
    without their closing vertex), ``nverts`` (uint32 vertices per ring), ``nrings`` (rings per
    polygon, the exterior first) and ``nparts`` (polygons per feature).
    """
    geoms = np.asarray(geoms, dtype=object)
    kinds = shapely.get_type_id(geoms)
    if not np.isin(kinds, (3, 6)).all():
        raise InputError("add_choropleth_periods: every cell must be a Polygon or MultiPolygon.")
    parts, part_of = shapely.get_parts(geoms, return_index=True)
    rings, ring_of = shapely.get_rings(parts, return_index=True)
    xy, vert_of = shapely.get_coordinates(rings, return_index=True)
    closing = np.r_[vert_of[1:] != vert_of[:-1], True] if len(vert_of) else np.zeros(0, bool)
    q = np.round(xy[~closing] * _SCALE).astype(np.int64)
    d = np.diff(q, axis=0, prepend=np.zeros((1, 2), np.int64))
    return {
        "xy": compressed_b64(d.astype("<i4").ravel()),
        "nverts": compressed_b64(np.bincount(vert_of[~closing],
                                             minlength=len(rings)).astype("<u4")),
        "nrings": compressed_b64(np.bincount(ring_of, minlength=len(parts)).astype("<u4")),
        "nparts": compressed_b64(np.bincount(part_of, minlength=len(geoms)).astype("<u4")),
    }


def value_arrays(table: np.ndarray, value_format: str | None, *, budget: float = np.inf
                 ) -> tuple[list[str] | None, dict] | None:
    """Per period, the values as base64 zlib integer arrays, or None if they cannot be integers.

    ``value_format`` ``"{:.Nf}"`` / ``"{:+.Nf}"`` keeps N decimals (``round(v * 10**N)``);
    without one the values must all be whole numbers. Returns the arrays and the decoding
    (``div``, ``dec``, ``plus``, ``int32`` and the ``missing`` sentinel). The arrays are None
    when together they would pass ``budget`` bytes of base64 text: compressing stops at the
    first period past it (a province-year's 365 arrays are not compressed to be dropped).
    """
    if value_format is None:
        finite = table[np.isfinite(table)]
        if not np.array_equal(finite, np.round(finite)):
            return None
        dec, plus = 0, False
    else:
        mo = _FORMAT.fullmatch(value_format)
        if mo is None:
            return None
        dec, plus = int(mo["dec"]), bool(mo["plus"])
    scaled = np.round(table * 10.0**dec)
    finite = scaled[np.isfinite(scaled)]
    top = float(np.abs(finite).max()) if len(finite) else 0.0
    if top < 2**15 - 1:
        dtype, missing = "<i2", -(2**15)
    elif top < 2**31 - 1:
        dtype, missing = "<i4", -(2**31)
    else:
        return None
    q = np.where(np.isfinite(scaled), scaled, missing).astype(dtype)
    fmt = {"div": 10**dec, "dec": dec, "plus": plus, "int32": dtype == "<i4", "missing": missing}
    arrays: list[str] | None = []
    size = 0
    for j in range(q.shape[1]):
        arrays.append(compressed_b64(q[:, j]))
        size += len(arrays[-1])
        if size > budget:
            arrays = None
            break
    return arrays, fmt


class PeriodLayer(MacroElement):
    """The cells of :func:`spatial.choropleth.add_choropleth_periods`, drawn from compact arrays.

    One period picker per map (top left) moves every period layer with the same period labels.
    For tests, the drawn layer group carries ``lantianPeriods`` (``classOf(period, cell)``) once
    the arrays are inflated; ``map._lantianPending`` holds the promises of that.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var map = {{ this.map_name }};
            var styles = {{ this.styles_json }}, d = {{ this.data_json }};
            var periods = d.periods, cur = periods.length - 1;
            var group = L.featureGroup();
            var table = function (labels, vals) {
                var h = "<table>";
                for (var i = 0; i < labels.length; i++) {
                    h += "<tr><th>" + labels[i] + "</th><td>" + vals[i] + "</td></tr>";
                }
                return h + "</table>";
            };
""" + INFLATE_JS + """\
            var cls = null, vals = null;
            var per = 8 / d.bits, lg = Math.log2(per), mask = (1 << d.bits) - 1;
            var classOf = function (j, i) {
                return (cls[j][i >> lg] >> ((i & (per - 1)) * d.bits)) & mask;
            };
            var styleOf = function (l) { return styles[classOf(cur, l.lantianIndex)]; };
            var text = function (i) {
                if (!vals) { return d.classTexts[classOf(cur, i)]; }
                var q = vals[cur][i];
                if (q === d.fmt.missing) { return d.missingText; }
                var x = q / d.fmt.div, s = x.toFixed(d.fmt.dec);
                return (d.fmt.plus && x >= 0 ? "+" + s : s) + d.unit;
            };
            var build = function (bufs) {
                var xy = new Int32Array(bufs[0]), nverts = new Uint32Array(bufs[1]);
                var nrings = new Uint32Array(bufs[2]), nparts = new Uint32Array(bufs[3]);
                var np = periods.length;
                cls = bufs.slice(4, 4 + np).map(function (b) { return new Uint8Array(b); });
                if (d.values) {
                    vals = bufs.slice(4 + np).map(function (b) {
                        return d.fmt.int32 ? new Int32Array(b) : new Int16Array(b);
                    });
                }
                var x = 0, y = 0, k = 0, r = 0, p = 0;
                var ring = function (n) {
                    var out = new Array(n);
                    for (var j = 0; j < n; j++) {
                        x += xy[k++]; y += xy[k++];
                        out[j] = [y / 1e6, x / 1e6];
                    }
                    return out;
                };
                for (var i = 0; i < nparts.length; i++) {
                    var polys = [];
                    for (var a = 0; a < nparts[i]; a++, p++) {
                        var rs = [];
                        for (var b = 0; b < nrings[p]; b++) { rs.push(ring(nverts[r++])); }
                        polys.push(rs);
                    }
                    var l = L.polygon(polys.length === 1 ? polys[0] : polys);
                    l.lantianIndex = i;
                    l.setStyle(styleOf(l));
                    var tip = (function (i) {
                        return function () {
                            return table(d.tipLabels,
                                         [periods[cur], text(i)].concat(d.tips ? d.tips[i] : []));
                        };
                    })(i);
                    l.bindTooltip(tip, {sticky: true, className: "lt-tip"});
                    l.bindPopup(tip, {maxWidth: 360, className: "lt-tip"});
                    group.addLayer(l);
                }
                group.lantianPeriods = {periods: periods, classOf: classOf};
                if (map.hasLayer(group)) { group.fire("add"); }
            };
            var arrays = [d.xy, d.nverts, d.nrings, d.nparts].concat(d.classes, d.values || []);
""" + DECODE_JS + """\
            // One canvas draws every layer, in the order added; keep cells < polygons < outlines
            // < points whenever a layer is (re)added, e.g. switched on in the layer control.
""" + RANK_JS + """\
            // one period picker per map moves every period layer (same period labels)
            map.on("lantian:period", function (e) {
                var j = periods.indexOf(e.period);
                if (j >= 0) {
                    cur = j;
                    if (cls) { group.eachLayer(function (l) { l.setStyle(styleOf(l)); }); }
                }
            });
            if (map._lantianPicker) { return; }
            map._lantianPicker = true;
            var picker = L.control({position: "topleft"});
            picker.onAdd = function () {
                var div = L.DomUtil.create("div", "lt-legend lt-periods");
                var html = "<label>" + d.periodsTitle + " <select>";
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
        })();
        {% endmacro %}
        """
    )

    def __init__(self, data: dict, styles: list[dict], *, map_name: str, rank: int):
        super().__init__()
        self._name = "LantianPeriodLayer"
        self.data_json = js_json(data)
        self.styles_json = js_json(styles)
        self.map_name = map_name
        self.rank = int(rank)
        self.error_json = js_json("此浏览器无法解开按时段的网格数据（缺少 DecompressionStream）；"
                                  "请用新版 Chrome、Edge 或 Firefox 打开本地图。")
