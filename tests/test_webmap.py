"""Tests of spatial.webmap: rendered HTML strings, and the offline page in headless Chromium."""

import datetime as dt
import hashlib
import json
import re
import subprocess
import tempfile

import folium
import geopandas as gpd
import h3
import numpy as np
import pyproj
import pytest
import shapely
from conftest import chromium
from shapely.geometry import Point, Polygon, box

from spatial import basemaps, coords, webmap
from spatial.errors import InputError

SCRIPT_PAYLOAD = "<script>alert(1)</script>"
IMG_PAYLOAD = "<img src=x onerror=\"document.body.setAttribute('data-xss','1')\">"
LAYERS = ["PM2.5 网格", "县区界", "供热半径", "燃煤锅炉", "热电厂"]


def _hexes() -> gpd.GeoDataFrame:
    cells = sorted(h3.grid_disk(h3.latlng_to_cell(36.45, 116.0, 7), 1))  # 7 cells
    polys = [Polygon([(lng, lat) for lat, lng in h3.cell_to_boundary(c)]) for c in cells]
    values = [10.0, 20.0, 30.0, 40.0, 50.0, 60.0, np.nan]
    return gpd.GeoDataFrame({"h3_cell": cells, "pm25": values}, geometry=polys, crs=4326)


def _points() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "name": [SCRIPT_PAYLOAD, IMG_PAYLOAD, "聊城锅炉厂"],
            "status": ["inside", "outside", "inside"],
            "capacity_th": [4.0, 16.0, np.nan],
        },
        geometry=[Point(116.123456789, 36.4444444449), Point(116.05, 36.42), Point(115.95, 36.5)],
        crs=4326,
    )


def _counties() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"name": ["东昌府区", IMG_PAYLOAD]},
        geometry=[box(115.8, 36.3, 116.05, 36.6), box(116.05, 36.3, 116.3, 36.6)],
        crs=4326,
    )


def _build(basemap: str = "none") -> folium.Map:
    counties = _counties()
    m = webmap.new_map(
        counties.total_bounds,
        title="30公里供热半径内燃煤锅炉",
        subtitle="示意数据",
        basemap=basemap,
        date=dt.date(2025, 5, 1),
    )
    webmap.add_choropleth(
        m,
        _hexes(),
        column="pm25",
        name=LAYERS[0],
        label="PM2.5 年均浓度",
        unit="μg/m³",
        bins=[0, 25, 45, 100],
        colors=["#ffffb2", "#fd8d3c", "#bd0026"],
        tooltip={"h3_cell": "网格"},
    )
    webmap.add_outlines(m, counties, name=LAYERS[1], label_col="name")
    plant = gpd.GeoDataFrame({"name": ["聊城热电"]}, geometry=[Point(116.0, 36.45)], crs=4326)
    circle = plant.to_crs(32650).buffer(5000).to_crs(4326)
    webmap.add_polygons(
        m,
        gpd.GeoDataFrame({"plant_name": ["聊城热电"]}, geometry=circle, crs=4326),
        name=LAYERS[2],
        style={"color": "#cb181d", "dashArray": "6 4"},
        tooltip={"plant_name": "电厂"},
    )
    webmap.add_points(
        m,
        _points(),
        name=LAYERS[3],
        color_col="status",
        colors=webmap.STATUS_COLORS,
        radius_col="capacity_th",
        tooltip={"name": "名称", "capacity_th": "蒸吨"},
    )
    webmap.add_points(m, plant, name=LAYERS[4], color="#000000", radius=8, popup={"name": "名称"})
    webmap.add_legend(
        m,
        title="锅炉状态",
        items=[(webmap.STATUS_COLORS["inside"], "半径内", "circle"), ("#cb181d", "半径", "line")],
    )
    return m


@pytest.fixture(scope="module")
def page() -> str:
    return webmap.render_html(_build(), offline=True)


def _data_blocks(page: str) -> list[dict]:
    """The FeatureCollections embedded by the add_* functions, parsed as JSON."""
    return [json.loads(t) for t in re.findall(r"var data = (\{.*?\});\n", page)]


# ----------------------------------------------------------------------------- offline page


def test_offline_page_has_no_external_scripts_or_styles(page):
    assert not re.search(r"<script[^>]*\bsrc\s*=", page, re.I)
    assert not re.search(r"<link[^>]*stylesheet", page, re.I)
    tags = re.findall(r"<(?:script|link|img|iframe|object|embed)\b[^>]*>", page, re.I)
    assert not [t for t in tags if re.search(r"(src|href)\s*=\s*[\"']?(https?:)?//", t, re.I)]
    # Leaflet is inlined (its version banner, its CSS), the unused libraries are gone.
    assert "Leaflet 1.9.4, a JS library for interactive maps" in page
    assert ".leaflet-pane" in page
    assert "sourceMappingURL" not in page
    assert 'url("data:image/png;base64,' in page  # layers.png of the layer control
    for lib in ("jquery", "bootstrap", "fontawesome", "awesome-markers", "AwesomeMarkers"):
        assert lib.lower() not in page.lower()
    assert page.count("<script") == page.count("</script>")
    assert '<html lang="zh-CN">' in page


def test_online_page_keeps_folium_links():
    page = webmap.render_html(_build(), offline=False)
    assert re.search(r'<script src="https://[^"]*leaflet[^"]*\.js"', page)
    assert "Leaflet 1.9.4, a JS library" not in page


def test_shipped_assets_match_readme_sums():
    readme = (webmap.ASSETS_DIR / "README.md").read_text(encoding="utf-8")
    sums = re.findall(r"^([0-9a-f]{64})  (\S+)$", readme, re.M)
    assert len(sums) == 14
    for digest, rel in sums:
        assert hashlib.sha256((webmap.ASSETS_DIR / rel).read_bytes()).hexdigest() == digest, rel
    shipped = {str(p.relative_to(webmap.ASSETS_DIR)) for p in webmap.ASSETS_DIR.rglob("*")}
    shipped = {p for p in shipped if not (webmap.ASSETS_DIR / p).is_dir()}
    assert shipped == {rel for _, rel in sums} | {"README.md"}


def test_values_from_data_are_escaped(page):
    assert SCRIPT_PAYLOAD not in page
    assert "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=&quot;document.body.setAttribute(&#x27;data-xss" in page
    # the escaped text is what the tooltips and labels carry, after JSON decoding too
    points = next(d for d in _data_blocks(page) if d["features"][0]["properties"].get("r"))
    names = [f["properties"]["t"][0] for f in points["features"]]
    assert names[0] == "&lt;script&gt;alert(1)&lt;/script&gt;"
    assert names[2] == "聊城锅炉厂"


def test_json_in_script_cannot_close_the_tag():
    s = webmap.js_json({"t": "</script><script>alert(1)</script><!--", "u": "$(x) \u2028"})
    assert "<" not in s and ">" not in s and "$" not in s and "\u2028" not in s
    assert json.loads(s) == {"t": "</script><script>alert(1)</script><!--", "u": "$(x) \u2028"}


def test_coordinates_are_rounded_to_6_decimals(page):
    blocks = _data_blocks(page)
    text = json.dumps([b["features"] for b in blocks])
    assert "116.123457" in text and "36.444444" in text
    assert "116.1234567" not in text
    raw = "".join(re.findall(r"var data = (\{.*?\});\n", page))
    coords = "".join(re.findall(r'"coordinates":(\[[-\d\[\],.eE]*\])', raw))
    decimals = [len(d) for d in re.findall(r"\.(\d+)", coords)]
    assert decimals and max(decimals) <= 6
    # every coordinate equals its correctly rounded value (Python's round, an independent path)
    for feats in blocks:
        for f in feats["features"]:
            coords = shapely.get_coordinates(shapely.from_geojson(json.dumps(f["geometry"])))
            assert np.array_equal(coords, np.vectorize(lambda v: round(v, 6))(coords))


def test_geometries_to_json_writes_shortest_decimals():
    # GEOS writes 17 significant digits (e.g. 62.962255999999996); we must not.
    rng = np.random.default_rng(0)
    xy = rng.uniform(-90, 90, (2000, 2))
    out = webmap.geometries_to_json(shapely.points(xy))
    got = np.array([json.loads(g)["coordinates"] for g in out])
    assert np.array_equal(got, np.round(xy, 6))
    assert max(len(d) for g in out for d in re.findall(r"\.(\d+)", g)) <= 6


def test_projected_input_is_converted_to_wgs84():
    pts = gpd.GeoDataFrame({"name": ["a"]}, geometry=[Point(500000.0, 4000000.0)], crs=32650)
    m = webmap.new_map((116, 36, 118, 37), title="t", basemap="none")
    webmap.add_points(m, pts, name="p")
    (block,) = _data_blocks(webmap.render_html(m))
    lng, lat = block["features"][0]["geometry"]["coordinates"]
    lng2, lat2 = pyproj.Transformer.from_crs(32650, 4326, always_xy=True).transform(5e5, 4e6)
    assert (lng, lat) == (round(lng2, 6), round(lat2, 6))


def _control_names(page: str, kind: str) -> list[str]:
    """Layer names in the layer control's `base_layers` or `overlays` (JSON-decoded keys)."""
    (block,) = re.findall(kind + r"\s*:\s*\{(.*?)\}", page, re.S)
    return [json.loads(k) for k in re.findall(r'("(?:[^"\\]|\\.)*")\s*:', block)]


def test_layer_control_lists_every_layer(page):
    assert _control_names(page, "overlays") == LAYERS
    assert _control_names(page, "base_layers") == []
    assert '"collapsed": false' in page
    light = webmap.render_html(_build("light"), offline=False, inline=True)
    assert _control_names(light, "base_layers") == ["浅色底图 (CARTO)"]
    assert "basemaps.cartocdn.com" in light  # the tile URL template is the one network resource


def test_layer_names_are_escaped_and_unique():
    m = webmap.new_map((116, 36, 117, 37), title="t", basemap="none")
    webmap.add_points(m, _points(), name="<b>锅炉</b>")
    page = webmap.render_html(m)
    assert _control_names(page, "overlays") == ["&lt;b&gt;锅炉&lt;/b&gt;"]
    with pytest.raises(InputError, match="already has a layer"):
        webmap.add_points(m, _points(), name="<b>锅炉</b>")


def test_choropleth_classes_colours_and_legend(page):
    assert "PM2.5 年均浓度（μg/m³）" in page
    for text in ("&lt; 25", "25 – 45", "≥ 45", "无数据"):
        assert text in page
    hexes = _hexes()
    block = next(d for d in _data_blocks(page) if len(d["features"]) == 7)
    styles = json.loads(re.findall(r"var styles = (\[.*?\]);", page)[0])
    fills = [styles[f["properties"]["s"]]["fillColor"] for f in block["features"]]
    # by hand: 10, 20 < 25; 30, 40 in [25, 45); 50, 60 >= 45; NaN no data
    expected = ["#ffffb2", "#ffffb2", "#fd8d3c", "#fd8d3c", "#bd0026", "#bd0026"]
    assert fills == expected + [webmap.NO_DATA_COLOR]
    tips = [f["properties"]["t"] for f in block["features"]]
    assert tips[0] == ["10 μg/m³", hexes.h3_cell[0]] and tips[6][0] == "—"


def test_outline_label_modes():
    m = webmap.new_map((115.8, 36.3, 116.3, 36.6), title="t", basemap="none")
    webmap.add_outlines(m, _counties(), name="县", label_col="name", label_min_zoom=9)
    webmap.add_outlines(m, _counties(), name="乡镇", label_col="name", labels="tooltip")
    page = webmap.render_html(m)
    (labels,) = re.findall(r"var labels = (\[.*?\]);", page)
    # one label per county, at a point inside it (lat, lng order for Leaflet)
    got = json.loads(labels)
    assert [t for _, _, t in got] == ["东昌府区", webmap.escape(IMG_PAYLOAD)]
    for (lat, lng, _), geom in zip(got, _counties().geometry, strict=True):
        assert geom.contains(Point(lng, lat))
    assert re.search(r"\.lt-label-\w+-hidden \.lt-label-\w+ \{ display: none; \}", page)
    assert "map.getZoom() < 9" in page
    hover = _data_blocks(page)[1]
    assert [f["properties"]["t"] for f in hover["features"]][0] == "东昌府区"
    with pytest.raises(InputError, match="labels"):
        webmap.add_outlines(m, _counties(), name="x", label_col="name", labels="always")


def test_class_breaks_quantiles_and_classify():
    v = np.array([5.0, 1, 2, 3, 4, 6, 7, 8, 9, 10, np.nan])
    edges = webmap.class_breaks(v, k=4)
    assert np.allclose(edges, np.nanquantile(v, [0, 0.25, 0.5, 0.75, 1]))
    idx = webmap.classify(v, edges)
    brute = [-1 if np.isnan(x) else sum(x >= e for e in edges[1:-1]) for x in v]
    assert idx.tolist() == brute
    assert webmap.class_breaks(np.full(5, 3.0)).tolist() == [3.0, 3.0]
    with pytest.raises(InputError, match="increasing"):
        webmap.class_breaks(v, bins=[0, 10, 5])


def test_radius_scales_area_with_value():
    df = gpd.GeoDataFrame({"v": [0.0, 1.0, 4.0, 16.0, np.nan, -3.0]})
    r = webmap.scale_radius(df, "v", radius_range=(2.0, 12.0))
    assert r.tolist() == [2.0, 3.0, 6.0, 12.0, 2.0, 2.0]  # 12 * sqrt(v / 16), floor 2


def test_legend_escapes_and_checks_colours():
    html_text = webmap.legend_html("图例<i>", [("#ff0000", "<b>范围内</b>")])
    assert "图例&lt;i&gt;" in html_text and "&lt;b&gt;范围内&lt;/b&gt;" in html_text
    with pytest.raises(InputError, match="not a colour"):
        webmap.legend_html("t", [("red;background:url(http://x)", "a")])


def test_format_value():
    assert webmap.format_value(np.nan) == "—"
    assert webmap.format_value(None) == "—"
    assert webmap.format_value(True) == "是"
    assert webmap.format_value(np.int64(12)) == "12"
    assert webmap.format_value(12.0) == "12"
    assert webmap.format_value(12.3456) == "12.35"
    assert webmap.format_value(1234.56) == "1234.6"
    assert webmap.format_value(0.0012345) == "0.00123"
    assert webmap.format_value(dt.date(2025, 1, 2)) == "2025-01-02"


def test_category_colors_are_stable():
    got = webmap.category_colors(["b", "a", None, "inside"], fixed=webmap.STATUS_COLORS)
    assert got["inside"] == webmap.STATUS_COLORS["inside"]
    assert got["a"] == webmap.CATEGORY_PALETTE[0] and got["b"] == webmap.CATEGORY_PALETTE[1]
    assert None not in got


def test_finish_is_idempotent_and_control_follows_late_layers():
    m = webmap.new_map((116, 36, 117, 37), title="t", basemap="none")
    webmap.add_points(m, _points(), name="a")
    webmap.finish(m)
    webmap.finish(m)
    webmap.add_points(m, _points(), name="b")
    page = webmap.render_html(m)
    assert page.count("L.control.layers(") == 1
    assert page.count(f"{m.get_name()}.fitBounds(") == 1
    last_group = max(mo.start() for mo in re.finditer(r"var feature_group_\w+ = ", page))
    assert page.index("L.control.layers(") > last_group
    assert re.search(r"fitBounds\(\s*\[\[36\.0, 116\.0\], \[37\.0, 117\.0\]\]", page)


def test_save_html_writes_atomically(tmp_path):
    m = _build()
    out = webmap.save_html(m, tmp_path / "maps" / "demo.html")
    assert out.read_text(encoding="utf-8") == webmap.render_html(m)
    assert [p.name for p in out.parent.iterdir()] == ["demo.html"]


def test_bad_input_raises_input_error():
    with pytest.raises(InputError, match="swapped"):
        webmap.new_map((36, 116, 37, 117), title="t")
    with pytest.raises(InputError, match="basemap"):
        webmap.new_map((116, 36, 117, 37), title="t", basemap="satellite")
    m = webmap.new_map((116, 36, 117, 37), title="t", basemap="none")
    with pytest.raises(InputError, match="not in the layer"):
        webmap.add_points(m, _points(), name="p", tooltip={"nope": "x"})
    with pytest.raises(InputError, match="not a colour"):
        webmap.add_points(m, _points(), name="q", color="red;x:url(y)")
    with pytest.raises(InputError, match="one colour per class"):
        webmap.add_choropleth(m, _hexes(), column="pm25", name="h", label="x", colors=["red"])
    no_crs = gpd.GeoDataFrame(geometry=[Point(500000.0, 4000000.0)])
    with pytest.raises(InputError, match="no CRS"):
        webmap.add_points(m, no_crs, name="r")
    # nothing was half-added by the calls that failed
    assert not [c for c in m._children.values() if isinstance(c, folium.FeatureGroup)]


def test_offline_refuses_libraries_it_does_not_ship():
    m = webmap.new_map((116, 36, 117, 37), title="t", basemap="none")
    folium.Marker([36.5, 116.5], icon=folium.Icon(color="red")).add_to(m)
    with pytest.raises(ValueError, match="not shipped"):
        webmap.render_html(m)
    assert "leaflet.awesome-markers" in webmap.render_html(m, offline=False)


def test_offline_default_marker_gets_inlined_icons():
    m = webmap.new_map((116, 36, 117, 37), title="t", basemap="none")
    folium.Marker([36.5, 116.5]).add_to(m)
    page = webmap.render_html(m)
    assert "L.Icon.Default.mergeOptions" in page
    assert "L.Icon.Default.mergeOptions" not in webmap.render_html(_build())


# ----------------------------------------------------------------------------- basemaps, tools

TOKEN = "0123456789abcdef0123456789abcdef"


def _tile_urls(page: str) -> list[str]:
    return [json.loads(u) for u in re.findall(r"L\.tileLayer\(\s*(\"[^\"]*\")", page)]


def test_tianditu_tile_urls_carry_the_token_and_annotation(monkeypatch):
    monkeypatch.delenv("TIANDITU_TOKEN", raising=False)
    for name, base, note in (("tianditu-vec", "vec", "cva"), ("tianditu-img", "img", "cia")):
        m = webmap.new_map((116, 36, 117, 37), title="t", basemap=name, tianditu_token=TOKEN)
        page = webmap.render_html(m, offline=False, inline=True)
        urls = _tile_urls(page)
        assert urls == [
            f"https://t{{s}}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile"
            f"&VERSION=1.0.0&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
            f"&TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk={TOKEN}"
            for layer in (base, note)
        ]
        assert '"subdomains": "01234567"' in page
        attrs = [json.loads(a) for a in re.findall(r'"attribution": ("(?:[^"\\]|\\.)*")', page)]
        assert len(attrs) == 2 and all("天地图" in a and basemaps.TIANDITU_GS in a for a in attrs)
        assert not m.lantian_gcj02
    # the key from the environment; none at all is an InputError naming the fix
    monkeypatch.setenv("TIANDITU_TOKEN", TOKEN)
    m = webmap.new_map((116, 36, 117, 37), title="t", basemap="tianditu-vec")
    assert all(u.endswith(f"tk={TOKEN}") for u in _tile_urls(webmap.render_html(m, offline=False)))
    monkeypatch.delenv("TIANDITU_TOKEN")
    with pytest.raises(InputError, match="TIANDITU_TOKEN"):
        webmap.new_map((116, 36, 117, 37), title="t", basemap="tianditu-img")
    with pytest.raises(InputError, match="Tianditu key"):
        webmap.new_map((116, 36, 117, 37), title="t", basemap="tianditu-img",
                       tianditu_token="x\" onerror=1")


def _first_point(page: str) -> list[float]:
    blocks = _data_blocks(page)
    return blocks[-1]["features"][0]["geometry"]["coordinates"]


def test_amap_tiles_and_gcj02_display_shift():
    for name in ("amap", "gaode"):
        m = webmap.new_map((116, 36, 117, 37), title="t", basemap=name)
        assert m.lantian_gcj02
        pt = gpd.GeoDataFrame({"name": ["a"]}, geometry=[Point(116.123456, 36.456789)], crs=4326)
        webmap.add_points(m, pt, name="p")
        webmap.add_outlines(m, _counties(), name="o", label_col="name")
        page = webmap.render_html(m, offline=False)
        assert _tile_urls(page) == [
            "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8"
            "&x={x}&y={y}&z={z}"
        ]
        gx, gy = coords.wgs84_to_gcj02(np.array([116.123456]), np.array([36.456789]))
        blocks = _data_blocks(page)
        assert blocks[0]["features"][0]["geometry"]["coordinates"] == pytest.approx(
            [gx[0], gy[0]], abs=1e-6)
        assert abs(gx[0] - 116.123456) > 1e-3  # a real shift (hundreds of metres)
        corners = np.array(blocks[1]["features"][0]["geometry"]["coordinates"][0])
        cx, cy = coords.wgs84_to_gcj02(np.array([115.8]), np.array([36.3]))
        assert np.abs(corners - [cx[0], cy[0]]).sum(axis=1).min() < 1e-6  # outlines shift too
    # the same layers on a WGS-84 basemap are not shifted; the input frame is not changed
    m = webmap.new_map((116, 36, 117, 37), title="t", basemap="none")
    webmap.add_points(m, pt, name="p")
    assert _first_point(webmap.render_html(m)) == [116.123456, 36.456789]
    assert pt.geometry.iloc[0].x == 116.123456


def test_offline_drops_tiles_keeps_overlays_and_inlines_tools():
    m = _build("osm")
    online = webmap.render_html(m, offline=False, inline=True)
    offline = webmap.render_html(m)
    assert "tile.openstreetmap.org" in online and "L.tileLayer" in online
    assert "L.tileLayer" not in offline and "openstreetmap.org/{z}" not in offline
    assert _control_names(offline, "base_layers") == []
    assert _control_names(offline, "overlays") == LAYERS  # outlines and the rest remain
    assert "L.tileLayer" in webmap.render_html(m, offline=False)  # the map itself was kept
    # no http(s) references to scripts, styles or stylesheet resources
    assert not re.search(r"<script[^>]*\bsrc\s*=", offline, re.I)
    assert not re.search(r"<link\b", offline, re.I)
    assert not re.search(r"url\(\s*[\"']?(https?:)?//", offline, re.I)
    assert not re.search(r"@import", offline, re.I)
    # the tools are inlined and created, with Chinese titles
    for text in ("leaflet.fullscreen 5.3.3", "Leaflet.PolylineMeasure 3.0.0",
                 "new L.Control.FullScreen(", "L.control.polylineMeasure(", "全屏显示", "开始测距"):
        assert text in offline, text
    assert "L.control.polylineMeasure(" in online


def test_basemap_override_wins_for_every_new_map(monkeypatch):
    monkeypatch.delenv("TIANDITU_TOKEN", raising=False)
    with basemaps.override("amap"):
        m = webmap.new_map((116, 36, 117, 37), title="t", basemap="light")
    assert m.lantian_basemap == "amap" and m.lantian_gcj02
    with basemaps.override("tianditu-vec", token=TOKEN):
        m = webmap.new_map((116, 36, 117, 37), title="t", basemap="light")
    assert m.lantian_basemap == "tianditu-vec"
    assert webmap.new_map((116, 36, 117, 37), title="t").lantian_basemap == "light"
    with pytest.raises(InputError, match="TIANDITU_TOKEN"), basemaps.override("tianditu-img"):
        pass
    with pytest.raises(InputError, match="basemap='google'"), basemaps.override("google"):
        pass


# ----------------------------------------------------------------------------- in a browser


_PROBE_HEAD = """<script>
window.__errs = [];
window.addEventListener("error", function (e) { window.__errs.push(String(e.message)); });
var __ce = console.error;
console.error = function () {
    window.__errs.push([].join.call(arguments, " "));
    __ce.apply(console, arguments);
};
</script>"""
_PROBE_TAIL = """<script>
// switch the hexagon layer off and on, as in the layer control: points must stay on top
%(cells)s.remove();
%(cells)s.addTo(%(map)s);
document.documentElement.setAttribute(
    "data-top", %(map)s._renderer._drawLast.layer.feature.geometry.type);
%(map)s.eachLayer(function (l) {
    if (l.getTooltip && l.getTooltip()) { l.openTooltip(); }
});
%(map)s.eachLayer(function (l) { if (l.getPopup && l.getPopup()) { l.openPopup(); } });
document.documentElement.setAttribute("data-errors", JSON.stringify(window.__errs));
document.documentElement.setAttribute("data-canvas", document.querySelectorAll("canvas").length);
</script>"""


@pytest.mark.skipif(chromium() is None,
                    reason="optional tool missing: no chromium binary on PATH")
def test_offline_page_works_in_headless_chromium(tmp_path):
    m = _build("none")
    page = webmap.render_html(m)
    page = page.replace("<head>", "<head>" + _PROBE_HEAD, 1)
    cells = next(c for c in m._children.values() if getattr(c, "layer_name", "") == LAYERS[0])
    probe = _PROBE_TAIL % {"map": m.get_name(), "cells": cells.get_name()}
    page = page.replace("</html>", probe + "</html>")
    path = tmp_path / "map.html"
    path.write_text(page, encoding="utf-8")
    with tempfile.TemporaryDirectory() as profile:
        cmd = [
            chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", f"--user-data-dir={profile}", "--window-size=1280,900",
            "--virtual-time-budget=5000", "--enable-logging=stderr", "--v=0", "--dump-dom",
            path.as_uri(),
        ]  # fmt: skip
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    dom, log = proc.stdout, proc.stderr
    assert proc.returncode == 0, log[-2000:]
    assert re.search(r'data-errors="\[\]"', dom), re.search(r"data-errors=\"[^\"]*\"", dom)
    assert "Uncaught" not in log
    assert not re.findall(r"CONSOLE.*", log)
    assert 'data-canvas="1"' in dom  # one shared canvas renderer draws every overlay
    assert 'data-top="Point"' in dom  # drawn last (on top) after the cells were re-added
    assert "leaflet-container" in dom
    # title, layer control, legends, labels and tooltips are in the DOM, as text
    for text in [
        "30公里供热半径内燃煤锅炉",
        "制图日期：2025-05-01",
        *LAYERS,
        "锅炉状态",
        "东昌府区",
    ]:
        assert text in dom, text
    assert "聊城锅炉厂" in dom and "leaflet-tooltip" in dom and "leaflet-popup" in dom
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom  # shown as text in a tooltip
    assert "&lt;img src=x onerror=" in dom  # shown as text in a label and a tooltip
    assert 'data-xss="1"' not in dom
    assert '<img src="x"' not in dom


# ----------------------------------------------------------------------------- period selector


def test_choropleth_periods_escape_labels_and_check_the_table():
    import pandas as pd

    hexes = _hexes()
    values = pd.DataFrame({"2025-01": [10.0, 20.0, 30.0, 40.0, 50.0, 60.0, np.nan],
                           "<b>2025-02</b>": [60.0, 50.0, 40.0, 30.0, 20.0, 10.0, 5.0]})
    m = webmap.new_map((115.9, 36.3, 116.1, 36.6), title="t", basemap="none")
    webmap.add_choropleth_periods(m, hexes, values, name="PM2.5 按时段", label="PM2.5",
                                  unit="μg/m³", bins=[0, 25, 45, np.inf],
                                  colors=["#ffffb2", "#fd8d3c", "#bd0026"],
                                  tooltip={"h3_cell": "网格"})
    html = webmap.render_html(m, offline=True)
    # classes and values per period: tests/test_period_layer.py
    assert "&lt;b&gt;2025-02&lt;/b&gt;" in html and "<b>2025-02</b>" not in html
    assert "lt-periods" in html and "无数据" in html
    with pytest.raises(InputError, match="does not fit"):
        webmap.add_choropleth_periods(m, hexes, values.iloc[:3], name="x", label="x")


def test_outlines_are_simplified_within_tolerance(root):
    counties = gpd.read_file(root / "data/raw/counties.gpkg")
    m = webmap.new_map((115.2, 34.4, 117.6, 37.1), title="t", basemap="none")
    webmap.add_outlines(m, counties, name="县区边界", label_col="name")
    drawn = _data_blocks(webmap.render_html(m, offline=True))[-1]["features"]
    geoms = [shapely.geometry.shape(f["geometry"]) for f in drawn]
    n_in = shapely.get_num_coordinates(counties.geometry.array).sum()
    assert sum(shapely.get_num_coordinates(g) for g in geoms) < n_in
    for g, orig in zip(geoms, counties.geometry, strict=True):
        assert g.is_valid
        assert shapely.hausdorff_distance(g, orig) <= webmap.OUTLINE_SIMPLIFY_DEG + 1e-6


def test_day_filter_keys_and_control():
    pts = _points()
    pts["day"] = ["2024-06-01", "<b>x</b>"] + ["2024-06-02"] * (len(pts) - 2)
    m = webmap.new_map((115.9, 36.3, 116.1, 36.6), title="t", basemap="none")
    webmap.add_points(m, pts, name="火点", filter_col="day")
    webmap.add_filter(m, label="日期", values=sorted(pts["day"]))
    html = webmap.render_html(m, offline=True)
    feats = _data_blocks(html)[-1]["features"]
    assert [f["properties"]["k"] for f in feats] == ["2024-06-01", "&lt;b&gt;x&lt;/b&gt;"] + [
        "2024-06-02"] * (len(pts) - 2)
    assert "lt-filter" in html and 'map.on("lantian:filter"' in html
    assert "<b>x</b>" not in html
    with pytest.raises(InputError, match="filter_col='nope'"):
        webmap.add_points(m, pts, name="x2", filter_col="nope")
