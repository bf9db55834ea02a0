"""The shared legend definition and what is built from it: web-map legend and texts, figure
styles and label placement, QGIS QML, and the [map] texts of a config."""

import re
import xml.etree.ElementTree as ET

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import Point, box

from analyses import runner
from spatial import config, figure, legend, mapparts, qgis, webmap
from spatial.errors import InputError


def test_graduated_classes_match_a_brute_force_count():
    rng = np.random.default_rng(3)
    bins = [0, 25, 35, 45, 55, 75, 115, np.inf]
    values = np.r_[rng.uniform(0, 200, 500), [0, 25, 35, 114.999, 115, 300, np.nan]]
    leg = legend.graduated("cells", "PM2.5", "polygon", column="value", values=values,
                           bins=bins, unit="µg/m³", value_format="{:.0f}")
    assert len(leg.entries) == 7 and leg.kind == "graduated"
    assert [e.label for e in leg.entries][:2] == ["< 25 µg/m³", "25 – 35 µg/m³"]
    assert leg.entries[-1].label == "≥ 115 µg/m³"
    # by hand: the number of inner edges at or below the value (outer classes open)
    want = [-1 if np.isnan(v) else sum(1 for e in bins[1:-1] if v >= e) for v in values]
    assert leg.class_of(values).tolist() == want


def test_categorized_lists_what_is_drawn_and_refuses_a_value_without_colour():
    colors = {"a": "#ff0000", "b": "#00ff00", "c": "#0000ff"}
    labels = {"a": "甲", "b": "乙", "c": "丙"}
    leg = legend.categorized("x", "类别", "point", column="k", colors=colors, labels=labels,
                             present=["c", "a", "a"])
    assert [(e.value, e.label) for e in leg.entries] == [("a", "甲"), ("c", "丙")]
    assert leg.class_of(["c", "a", "b", None]).tolist() == [1, 0, -1, -1]
    with pytest.raises(InputError, match="'d'"):
        legend.categorized("x", "类别", "point", column="k", colors=colors, labels=labels,
                           present=["a", "d"])
    ok = legend.categorized("x", "类别", "point", column="k", colors=colors, labels=labels,
                            present=["a", "d"], omit=["d"])
    assert [e.value for e in ok.entries] == ["a"]
    with pytest.raises(InputError, match="no Chinese label"):
        legend.categorized("x", "类别", "point", column="k", colors=colors, labels={"a": "甲"})


def test_figure_style_and_web_items_use_the_same_colours_and_labels():
    gdf = gpd.GeoDataFrame({"v": [1.0, 5.0, 9.0]},
                           geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1), box(2, 0, 3, 1)],
                           crs="EPSG:4326")
    leg = legend.graduated("cells", "网格", "polygon", column="v", values=gdf["v"],
                           bins=[0, 4, 8, 12])
    style = legend.figure_style(leg, gdf)
    assert style.data["_class"].tolist() == [0, 1, 2]
    assert [style.colors[i] for i in range(3)] == [e.color for e in leg.entries]
    assert [style.labels[i] for i in range(3)] == [e.label for e in leg.entries]
    assert legend.web_items(leg) == [(e.color, e.label, "square") for e in leg.entries]
    outline = legend.single("r", "半径", "polygon", "#e31a1c", fill_opacity=0)
    assert legend.web_items(outline) == [("#e31a1c", "半径", "line")]


def test_qml_uses_the_shapefile_names_and_escapes_text():
    leg = legend.categorized("boilers", "锅炉", "point", column="category",
                             colors={"t": "#d7301f", "o": "#4575b4"},
                             labels={"t": "对象 <甲>", "o": "其他"},
                             expression="CASE WHEN {target} THEN 't' ELSE 'o' END",
                             label_col="name")
    doc = qgis.qml(leg, {"target": "tgt", "name": "nm"})
    root = ET.fromstring(doc.split("\n", 1)[1])
    r = root.find("renderer-v2")
    assert r.get("type") == "categorizedSymbol"
    assert r.get("attr") == "CASE WHEN \"tgt\" THEN 't' ELSE 'o' END"
    assert [c.get("label") for c in r.iter("category")] == ["对象 <甲>", "其他"]
    assert [p.get("v") for p in r.iter("prop") if p.get("k") == "color"] == [
        "215,48,31,255", "69,117,180,255"]
    assert root.find("labeling/settings/text-style").get("fieldName") == "nm"
    grad = legend.graduated("cells", "网格", "polygon", column="v", values=[1, 2],
                            bins=[0, 2, 4, 8])
    assert qgis.class_expression(grad, {"v": "val"}) == (
        'CASE WHEN "val" IS NULL THEN NULL WHEN "val" < 2.0 THEN 0 WHEN "val" < 4.0 THEN 1 '
        "ELSE 2 END")


def _page(m) -> str:
    return webmap.render_html(m, offline=True)


def test_map_legend_heading_and_credits():
    pts = gpd.GeoDataFrame({"k": ["a", "b"], "n": ["x<1>", "y"]},
                           geometry=[Point(116.0, 36.4), Point(116.1, 36.5)], crs="EPSG:4326")
    m = webmap.new_map(pts.total_bounds, title="原标题", basemap="none", date="2025-01-02")
    leg = legend.categorized("p", "站点", "point", column="k",
                             colors={"a": "#ff0000", "b": "#0000ff"},
                             labels={"a": "甲 <站>", "b": "乙"})
    mapparts.add_layer(m, leg, pts, tooltip={"n": "名称"})
    mapparts.add_layer(m, legend.single("q", "其他点", "point", "#00ff00"), pts,
                       tooltip={"n": "名称"})
    mapparts.add_legend(m)
    mapparts.set_heading(m, title="聊城市 <测试>", subtitle="副标题")
    mapparts.add_credits(m, city="聊城市", source="国家站点", unit="市生态环境局")
    page = _page(m)
    assert "聊城市 &lt;测试&gt;" in page and "原标题" not in page
    assert '<div class="lt-title-sub">副标题</div>' in page and "制图日期：2025-01-02" in page
    assert "区域：聊城市<br>数据来源：国家站点<br>制图单位：市生态环境局" in page
    box_html = mapparts.legend_html([leg, legend.single("q", "其他点", "point", "#00ff00")])
    # top layer first: the single-symbol row, then the classed layer's heading and rows
    assert re.findall(r">([^<>]+)</div>", box_html) == ["图例", "其他点", "站点", "甲 &lt;站&gt;",
                                                        "乙"]
    # a single row right after a group is set apart (a margin), one before it is not
    below = mapparts.legend_html([legend.single("q", "其他点", "point", "#00ff00"), leg])
    assert re.findall(r'<div( class="[^"]*")?><i[^>]*></i>其他点</div>', below) == [
        ' class="lt-legend-gap"']
    assert 'lt-legend-gap' not in box_html and ".lt-legend-gap { margin-top" in page
    assert mapparts.credit_lines(city=" ", source="卫星", unit=None) == ["数据来源：卫星"]


def test_map_texts_in_config(tmp_path):
    def load(text: str):
        p = tmp_path / "c.toml"
        p.write_text(text, encoding="utf-8")
        return config.load(p)

    c = load('title = "聊城市锅炉"\n[map]\nsource = "环统数据"\nunit = "聊城市生态环境局"\n')
    assert c["map"] == {"title": "聊城市锅炉", "source": "环统数据", "unit": "聊城市生态环境局"}
    s = runner.map_settings(c)
    assert (s["title"], s["source"], s["unit"], s["subtitle"]) == (
        "聊城市锅炉", "环统数据", "聊城市生态环境局", None)
    with pytest.raises(InputError, match="differ"):
        load('title = "甲"\n[map]\ntitle = "乙"\n')
    with pytest.raises(InputError, match=r"\[map\] unit is empty"):
        load('[map]\nunit = "  "\n')
    with pytest.raises(InputError, match=r"\[map\] city must be text"):
        load("[map]\ncity = 3\n")


def test_label_positions_keep_clear_of_symbols():
    square = box(0, 0, 20_000, 20_000)  # metres
    rng = np.random.default_rng(7)
    dots = rng.normal(10_000, 1_500, size=(300, 2))  # a cluster on the centre
    (x, y), = figure.label_positions(np.array([square]), ["东昌府区"], dots, metres_per_pt=100)
    half_w, half_h = (4 * 8 / 2 + 3) * 100, (8 * 0.7 + 3) * 100
    covered = sum(1 for px, py in dots if abs(px - x) < half_w and abs(py - y) < half_h)
    assert covered == 0
    assert shapely.contains_xy(square, x, y)
    # nothing to avoid: the representative point
    (x0, y0), = figure.label_positions(np.array([square]), ["县"], np.zeros((0, 2)),
                                       metres_per_pt=100)
    rep = shapely.point_on_surface(square)
    assert (x0, y0) == (rep.x, rep.y)


def test_figure_notes_in_the_margin():
    pts = gpd.GeoDataFrame(geometry=[Point(116.0, 36.4), Point(116.2, 36.6)], crs="EPSG:4326")
    fig = figure.draw({"p": pts}, title="图", notes=["区域：聊城市", "制图单位：局"])
    assert "区域：聊城市\n制图单位：局" in [t.get_text() for t in fig.texts]
