"""The bureau's words in the outputs people read; codes beside them and in the files for scripts."""

import geopandas as gpd
import openpyxl
import pandas as pd
import pyogrio
import shapely

from analyses import heat_radius as hr
from spatial import export, labels, webmap


def boilers():
    return gpd.GeoDataFrame({
        "id": ["B1", "B2", "B3"], "fuel": ["coal", "gas", "peat"],
        "status": ["operating", "retired", None], "kind": ["boiler", "captive", "boiler"],
        "ratio": [0.673, 1.0, None],
    }, geometry=[shapely.Point(116, 36), shapely.Point(116.1, 36.1), shapely.Point(116.2, 36)],
        crs="EPSG:4326")


def test_shapefile_attributes_in_chinese_with_codes_beside(tmp_path):
    export.write_layers({"boilers": boilers()}, tmp_path, stem="t", fields=hr.FIELDS)
    shp = pyogrio.read_dataframe(tmp_path / "shp" / "boilers.shp")
    fields = pd.read_csv(tmp_path / "shp" / "fields.csv", encoding="utf-8-sig")
    short = dict(zip(fields["full_name"], fields["short_name"], strict=True))
    assert shp[short["fuel"]].tolist() == ["燃煤", "燃气", "peat"]  # unknown: as typed
    assert shp[short["fuel_code"]].tolist() == ["coal", "gas", "peat"]
    assert shp[short["status"]].tolist()[:2] == ["在用", "关停/取缔"]  # analyses.vocab's words
    assert shp[short["kind"]].tolist() == ["锅炉", "自备电厂", "锅炉"]
    label = dict(zip(fields["full_name"], fields["label"], strict=True))
    assert label["fuel_code"] == "燃料类别（代码）"
    # the GeoPackage, for scripts and maps, keeps the codes
    gpkg = gpd.read_file(tmp_path / "t.gpkg", layer="boilers")
    assert gpkg["fuel"].tolist() == ["coal", "gas", "peat"] and "fuel_code" not in gpkg


def test_excel_values_in_chinese_csv_codes(tmp_path):
    df = pd.DataFrame(boilers().drop(columns="geometry"))
    export.write_tables({"by_county": df}, tmp_path, fields=hr.FIELDS)
    ws = openpyxl.load_workbook(tmp_path / "tables.xlsx")["按县区统计"]
    heads = [c.value for c in ws[1]]
    col = {h: i for i, h in enumerate(heads)}
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=2)]
    assert [r[col["燃料类别"]] for r in rows] == ["燃煤", "燃气", "peat"]
    assert [r[col["燃料类别（代码）"]] for r in rows] == ["coal", "gas", "peat"]
    csv = pd.read_csv(tmp_path / "by_county.csv", encoding="utf-8-sig")
    assert csv["fuel"].tolist() == ["coal", "gas", "peat"] and "fuel_code" not in csv


def test_tooltips_show_words_and_percentages():
    _, rows = webmap.field_values(pd.DataFrame(boilers()),
                                  {"fuel": "燃料", "status": "状态", "ratio": "改造比例"})
    assert rows[0] == ["燃煤", "在用", "67.3%"]
    assert rows[1] == ["燃气", "关停/取缔", "100.0%"]
    assert rows[2] == ["peat", "—", "—"]


def test_viirs_confidence_is_its_class_never_a_number():
    pts = pd.DataFrame({"instrument": ["VIIRS", "MODIS"], "confidence": [55.0, 72.0],
                        "conf_class": ["n", "n"]})
    out = labels.label_frame(pts)
    assert pd.isna(out["confidence"].iloc[0]) and out["confidence"].iloc[1] == 72.0
    assert out["conf_class"].tolist() == ["标称", "标称"]
    assert out["conf_class_code"].tolist() == ["n", "n"]


def test_a_given_label_table_replaces_the_seed():
    vocab_labels = {"fuel": {"coal": "煤炭"}}
    out = labels.label_frame(pd.DataFrame({"fuel": ["coal"], "status": ["kept"]}),
                             vocab_labels)
    assert out["fuel"].tolist() == ["煤炭"] and out["status"].tolist() == ["kept"]
