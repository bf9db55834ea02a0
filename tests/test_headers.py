"""Office-style tables: title and info rows, two-row merged headers, total rows, header_row, sheets.

The workbooks are built here with openpyxl, merged cells and all, the way office systems export
them; the expected values are the ones typed into the cells.
"""

import numpy as np
import openpyxl
import pytest

from analyses import heat_radius as hr
from spatial import io
from spatial.errors import InputError

PLANT_FIELDS = hr.INPUTS[0].fields
#: records typed into the test workbooks:
#: 序号, 企业名称, 经度, 纬度, 装机容量, 燃料, 热电联产, 乡镇
RECORDS = [(1, "聊城信发热电", 115.98, 36.45, 350, "燃煤", "是", "信发街道"),
           (2, "茌平华信电厂", 116.25, 36.58, 660, "燃煤", "是", "振兴街道"),
           (3, "阳谷祥光自备", 115.79, 36.11, 50, "天然气", "否", "博济桥街道"),
           (4, "高唐时风热电", 116.23, 36.86, 300, "燃煤", "是", "鱼邱湖街道")]


def plants_workbook(path, *, total=True, title=True):
    """A plants list as offices export it.

    Row 1 a title merged over A:H, row 2 an info row merged over A:H, rows 3-4 the header:
    序号, 企业名称, 热电联产, 所属乡镇 merged down both rows; 坐标 over 经度/纬度 and 机组 over
    装机容量(MW)/燃料 merged across; records from row 5; a 合计 row (merged A:B) at the bottom.
    """
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "机组清单"
    if title:
        ws["A1"] = "聊城市火电（热电）机组清单"
        ws.merge_cells("A1:H1")
        ws["A2"] = "填报单位：聊城市生态环境局    填报日期：2026年3月1日"
        ws.merge_cells("A2:H2")
    top = 3 if title else 1
    for col, text in (("A", "序号"), ("B", "企业名称"), ("G", "是否热电联产"),
                      ("H", "所属乡镇")):
        ws[f"{col}{top}"] = text
        ws.merge_cells(f"{col}{top}:{col}{top + 1}")
    ws[f"C{top}"] = "坐标"
    ws.merge_cells(f"C{top}:D{top}")
    ws[f"E{top}"] = "机组"
    ws.merge_cells(f"E{top}:F{top}")
    for col, text in zip("CDEF", ("经度", "纬度", "装机容量(MW)", "燃料"), strict=True):
        ws[f"{col}{top + 1}"] = text
    for r in RECORDS:
        ws.append(list(r[:4]) + [r[4], r[5], r[6], r[7]])
    if total:
        last = ws.max_row + 1
        ws[f"A{last}"] = "合计"
        ws.merge_cells(f"A{last}:B{last}")
        ws[f"E{last}"] = sum(r[4] for r in RECORDS)
    wb.save(path)
    return path


def test_two_row_merged_header_under_title_and_info_rows(tmp_path):
    p = plants_workbook(tmp_path / "机组清单.xlsx")
    t = io.read_points(p, fields=PLANT_FIELDS, name="plants")
    assert t.header_rows == (3, 4)
    assert t.sheet == "机组清单"
    assert t.columns == {"id": "序号", "name": "企业名称", "capacity_mw": "装机容量(MW)",
                         "is_chp": "是否热电联产", "fuel": "燃料", "lon": "经度", "lat": "纬度"}
    f = t.frame
    assert f["row"].tolist() == [5, 6, 7, 8]
    assert f["id"].tolist() == ["1", "2", "3", "4"]
    assert f["name"].tolist() == [r[1] for r in RECORDS]
    np.testing.assert_allclose(f["lon"], [r[2] for r in RECORDS])
    np.testing.assert_allclose(f["lat"], [r[3] for r in RECORDS])
    assert f["capacity_mw"].tolist() == [350.0, 660.0, 50.0, 300.0]
    assert f["is_chp"].tolist() == [True, True, False, True]
    # the 合计 row is rejected as a total row, with its file row number
    assert t.rejected[["row", "reason"]].values.tolist() == [[9, "total row (合计/小计)"]]
    assert t.n_read == 5 and len(f) + len(t.rejected) == t.n_read
    # the column no field uses is reported, and kept with the source columns
    assert t.ignored == ["所属乡镇"]
    assert t.source.set_index("row").loc[[5, 8], "所属乡镇"].tolist() == ["信发街道",
                                                                         "鱼邱湖街道"]


def test_two_row_header_in_a_gbk_csv_without_merges(tmp_path):
    lines = ["聊城市火电（热电）机组清单,,,,,,,", "序号,企业名称,坐标,,机组,,是否热电联产,所属乡镇",
             ",,经度,纬度,装机容量(MW),燃料,,"]
    lines += [",".join(map(str, r)) for r in RECORDS] + ["小计,,,,1360,,,"]
    p = tmp_path / "plants.csv"
    p.write_bytes(("\r\n".join(lines) + "\r\n").encode("gbk"))
    t = io.read_points(p, fields=PLANT_FIELDS, name="plants")
    assert t.header_rows == (2, 3)
    assert t.frame["row"].tolist() == [4, 5, 6, 7]
    assert t.frame["capacity_mw"].tolist() == [350.0, 660.0, 50.0, 300.0]
    assert t.rejected["row"].tolist() == [8]
    assert t.rejected["reason"].tolist() == ["total row (合计/小计)"]


def test_header_row_is_honoured_and_the_message_says_how(tmp_path):
    """15 lines of notes push the header below the rows searched: the message names the rows
    tried and `header_row`; with header_row = 16 the file reads."""
    notes = [f"说明{i}：本表数据来源于各县区上报,,,," for i in range(1, 16)]
    lines = notes + ["编号,单位名称,经度,纬度,蒸吨", "GL1,甲厂,115.98,36.45,10",
                     "GL2,乙厂,116.10,36.50,4"]
    p = tmp_path / "boilers.csv"
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    fields = hr.INPUTS[1].fields
    with pytest.raises(InputError, match=r"rows 1, 2, 3, .*12.*header_row = "):
        io.read_points(p, fields=fields, name="boilers")
    t = io.read_points(p, fields=fields, name="boilers", header_row=16)
    assert t.header_rows == (16,)
    assert t.frame["id"].tolist() == ["GL1", "GL2"]
    assert t.frame["row"].tolist() == [17, 18]
    with pytest.raises(InputError, match=r"header_row = 40 .*rows 1 … 18"):
        io.read_points(p, fields=fields, name="boilers", header_row=40)


def test_explicit_two_row_header_row(tmp_path):
    p = plants_workbook(tmp_path / "p.xlsx")
    t = io.read_points(p, fields=PLANT_FIELDS, name="plants", header_row=[3, 4])
    assert t.header_rows == (3, 4) and t.frame["row"].tolist() == [5, 6, 7, 8]


def test_summary_first_sheet_lists_the_sheets(tmp_path):
    p = tmp_path / "boilers.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "汇总"
    ws.append(["县区", "锅炉数"])
    ws.append(["东昌府区", 2])
    detail = wb.create_sheet("锅炉明细")
    detail.append(["编号", "单位名称", "经度", "纬度"])
    detail.append(["GL1", "甲厂", 115.98, 36.45])
    detail.append(["GL2", "乙厂", 116.10, 36.50])
    wb.save(p)
    fields = hr.INPUTS[1].fields
    with pytest.raises(InputError, match=r"sheet '汇总'.*2 sheets: '汇总', '锅炉明细'.*"
                                         r'sheet = "锅炉明细"'):
        io.read_points(p, fields=fields, name="boilers")
    t = io.read_points(p, fields=fields, name="boilers", sheet="锅炉明细")
    assert t.frame["id"].tolist() == ["GL1", "GL2"] and t.sheets == ["汇总", "锅炉明细"]
    with pytest.raises(InputError, match=r"sheet '明细'.*'汇总', '锅炉明细'"):
        io.read_points(p, fields=fields, name="boilers", sheet="明细")


def test_a_record_named_like_a_total_is_not_a_total():
    import pandas as pd

    from spatial.headers import total_rows
    body = pd.DataFrame({"a": ["合计", "合 计", "小计：", "合计（12家）", "合计村", "总计划", None],
                         "b": [1, 2, 3, 4, 5, 6, 7]}, dtype=object)
    assert total_rows(body).tolist() == [True, True, True, True, False, False, False]


def test_table_keys_on_the_wrong_kind_of_file(tmp_path):
    p = tmp_path / "b.csv"
    p.write_text("编号,经度,纬度\nGL1,115.98,36.45\n", encoding="utf-8")
    fields = (io.Field("id", "text", True),)
    with pytest.raises(InputError, match=r"b\.csv: `sheet` = '明细'.*CSV file has no sheets"):
        io.read_points(p, fields=fields, name="boilers", sheet="明细")
    t = io.read_points(p, fields=fields, name="boilers")
    g = tmp_path / "b.gpkg"
    t.frame.to_file(g)
    with pytest.raises(InputError, match=r"b\.gpkg: `header_row` is set"):
        io.read_points(g, fields=fields, name="boilers", header_row=3)
