"""County packs, the [map] config table, static figures and the writers' encodings."""

import zipfile

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, box

from analyses import cli
from spatial import config, export, figure, packs
from spatial.errors import InputError


@pytest.mark.parametrize("encoding, cpg", [("utf-8", "UTF-8"), ("gbk", "936")])
def test_county_pack_round_trips_chinese_values(demo_out, tmp_path, encoding, cpg):
    import shutil

    out = tmp_path / "o"
    shutil.copytree(demo_out / "layers", out / "layers")
    zips = packs.export_by_county("heat-radius", out=out, encoding=encoding)
    assert zips and all(z.exists() for z in zips)
    full = gpd.read_file(out / "layers/heat-radius/heat-radius.gpkg", layer="boilers")
    full = full[full["county_code"].notna()]
    z = next(p for p in zips if "东昌府区" in p.name)
    code = z.name.split("_")[0]
    ex = tmp_path / "x"
    with zipfile.ZipFile(z) as zf:
        names = zf.namelist()
        zf.extractall(ex)
    stem = z.stem
    assert f"{stem}/shp/boilers.cpg" in names and f"{stem}/shp/fields.csv" in names
    assert f"{stem}/tables.xlsx" in names and f"{stem}/heat-radius.html" in names
    shp = ex / stem / "shp"
    assert (shp / "boilers.cpg").read_text() == cpg
    raw = (shp / "boilers.dbf").read_bytes()
    assert "东昌府区".encode("utf-8" if encoding == "utf-8" else "gbk") in raw
    back = gpd.read_file(shp / "boilers.shp")
    fields = pd.read_csv(shp / "fields.csv", encoding="utf-8-sig").query("layer == 'boilers'")
    short = dict(zip(fields["full_name"], fields["short_name"], strict=True))
    want = full[full["county_code"] == code].sort_values("id")
    back = back.sort_values(short["id"])
    assert len(back) == len(want) > 0
    for col in ("id", "name", "county_name", "nearest_plant_name"):
        assert back[short[col]].tolist() == want[col].tolist(), col
    assert set(back[short["county_code"]]) == {code}
    by_county = pd.read_excel(ex / stem / "tables.xlsx", sheet_name="按县区统计",
                              dtype={"县区代码": str})
    assert by_county["县区代码"].tolist() == [code]
    # cells (no county_code) are split by intersecting the county outline
    cells = gpd.read_file(shp / "cells.shp")
    outline = gpd.read_file(out / "layers/heat-radius/context.gpkg", layer="counties")
    poly = outline[outline["code"].astype(str) == code].geometry.iloc[0]
    assert len(cells) and cells.intersects(poly).all()
    html = (ex / stem / "heat-radius.html").read_text(encoding="utf-8")
    assert "东昌府区" in html and "<script src=" not in html and "L.tileLayer" not in html


def test_gbk_refuses_names_it_cannot_encode(tmp_path):
    gdf = gpd.GeoDataFrame({"id": ["A1", "B2"], "name": ["聊城", "𠀀锅炉厂"]},
                           geometry=[Point(116, 36), Point(116.1, 36.1)], crs=4326)
    with pytest.raises(InputError, match=r"layer 'boilers', feature id 'B2', column 'name'"):
        export.write_layers({"boilers": gdf}, tmp_path, stem="t", fields={}, encoding="gbk")
    gdf.loc[1, "name"] = "锅炉🔥"
    with pytest.raises(InputError, match="GBK cannot encode"):
        export.check_encodable(gdf, "gbk", layer="boilers")
    export.write_layers({"boilers": gdf}, tmp_path, stem="t", fields={}, encoding="utf-8")
    assert gpd.read_file(tmp_path / "shp/boilers.shp")["name"].tolist() == ["聊城", "锅炉🔥"]


def test_export_cli_needs_a_result(tmp_path, capsys):
    assert cli.main(["export", "heat-radius", "--by", "county", "--out", str(tmp_path)]) == 2
    assert "no result of heat-radius here" in capsys.readouterr().err


def test_map_table_in_config(tmp_path):
    p = tmp_path / "c.toml"
    p.write_text('[map]\nbasemap = "tianditu-img"\ntianditu_token = "abcdef012345"\n'
                 "offline = false\n", encoding="utf-8")
    assert config.load(p)["map"] == {"basemap": "tianditu-img", "tianditu_token": "abcdef012345",
                                     "offline": False}
    p.write_text('[map]\nbasemap = "google"\n', encoding="utf-8")
    with pytest.raises(InputError, match="google"):
        config.load(p)
    p.write_text("[map]\nzoom = 3\n", encoding="utf-8")
    with pytest.raises(InputError, match="unknown key"):
        config.load(p)


def test_run_settings_precedence():
    from analyses.runner import map_settings

    cfg = {"map": {"basemap": "osm", "offline": False}}
    assert map_settings(cfg) == {"basemap": "osm", "tianditu_token": None, "offline": False,
                                 "title": None, "subtitle": None, "source": None,
                                 "unit": None, "city": None, "map_periods": None}
    assert map_settings({"map": {"map_periods": 12}})["map_periods"] == 12
    assert map_settings(cfg, basemap="amap")["basemap"] == "amap"
    assert map_settings(cfg, offline=True)["basemap"] == "none"  # offline: no tiles
    assert map_settings({}, default_offline=True)["offline"] is True
    assert map_settings({})["basemap"] is None  # each analysis's own


def test_figure_scale_bar_and_bytes():
    from matplotlib.patches import Rectangle

    # two points 0.5 degree of longitude apart at 36 N: about 45 km
    pts = gpd.GeoDataFrame({"status": ["inside", "outside"]},
                           geometry=[Point(116.0, 36.0), Point(116.5, 36.2)], crs=4326)
    counties = gpd.GeoDataFrame({"name": ["甲县"]}, geometry=[box(115.9, 35.9, 116.6, 36.3)],
                                crs=4326)
    fig = figure.draw({"p": pts}, title="测试图", counties=counties)
    ax = fig.axes[0]
    assert ax.lantian_scale_km == figure.nice_length_km(np.diff(ax.get_xlim())[0])
    bars = [p for p in ax.patches if isinstance(p, Rectangle)]
    assert sum(b.get_width() for b in bars) == pytest.approx(ax.lantian_scale_km * 1000)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["县区界", "p：inside", "p：outside"]
    texts = [t.get_text() for t in ax.texts]
    assert "甲县" in texts and f"{ax.lantian_scale_km:g} km" in texts
    assert any("北" in t.get_text() for t in ax.texts)
    png, pdf = figure.to_bytes(fig, "png"), figure.to_bytes(fig, "pdf")
    assert png.startswith(b"\x89PNG") and pdf.startswith(b"%PDF")
    assert figure.cjk_font() == "Noto Sans SC"  # the bundled font, on any machine
    assert [figure.nice_length_km(w) for w in (1_000, 60_000, 250_000)] == [0.2, 10, 50]


def test_packs_of_two_analyses_do_not_collide_and_keep_the_full_legends(demo_out, tmp_path):
    import re
    import shutil

    out = tmp_path / "o"
    shutil.copytree(demo_out / "layers", out / "layers")
    for a in ("heat-radius", "fire-points"):
        assert cli.main(["export", a, "--by", "county", "--out", str(out), "-q"]) == 0
    hr = sorted((out / "layers/heat-radius/counties").glob("*.zip"))
    fp = sorted((out / "layers/fire-points/counties").glob("*.zip"))
    assert hr and fp
    assert all(z.stem.endswith("_heat-radius") for z in hr)
    assert all(z.stem.endswith("_fire-points") for z in fp)
    # one county's packs unpack side by side
    ex = tmp_path / "x"
    for z in (hr[0], next(z for z in fp if z.name.split("_")[0] == hr[0].name.split("_")[0])):
        with zipfile.ZipFile(z) as zf:
            zf.extractall(ex)
    assert len([p for p in ex.iterdir() if p.is_dir()]) == 2
    # the pack map: Chinese title with the county, the full map's legend classes
    z = next(p for p in hr if "东昌府区" in p.name)
    with zipfile.ZipFile(z) as zf:
        page = zf.read(f"{z.stem}/heat-radius.html").decode("utf-8")
    assert "<title>东昌府区：30 公里供热半径内燃煤锅炉和落后燃煤小热电筛查</title>" in page
    full = (demo_out / "maps/heat-radius.html").read_text(encoding="utf-8")

    def rows(text: str) -> list[str]:  # the class rows of the legend box (a JSON string)
        import json

        boxes = [json.loads(m) for m in re.findall(r'div\.innerHTML = ("(?:[^"\\]|\\.)*");',
                                                   text)]
        (box,) = [b for b in boxes if "lt-legend-sec" in b]
        return re.findall(r'class="lt-legend-sub"><i[^>]*></i>([^<]*)<', box)

    pack_rows = rows(page)
    assert pack_rows and set(pack_rows) <= set(rows(full))
    assert any("t/h" in r for r in pack_rows)  # the cells' classes, as on the full map
