"""spatial.report: a generic .docx report read back with python-docx (fonts, tables, figure)."""

import io as _io
import zipfile

import docx
import matplotlib
import pandas as pd
from docx.oxml.ns import qn

from spatial.report import Report

matplotlib.use("Agg")


def _png() -> bytes:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(2, 1))
    ax.plot([0, 1], [0, 1])
    buf = _io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def _build(png):
    r = Report(title="测试报告", date="2024-06-01")
    r.heading("一、情况")
    r.paragraph("正文一段。")
    r.table(pd.DataFrame({"县区": ["甲县", "乙县"], "火点数": [3, None]}), caption="表1")
    r.figure(png, width_cm=8, caption="图1")
    return r.to_bytes()


def test_report_reads_back_with_chinese_fonts():
    png = _png()
    data = _build(png)
    d = docx.Document(_io.BytesIO(data))
    texts = [p.text for p in d.paragraphs]
    assert texts[:2] == ["测试报告", "2024-06-01"] and "正文一段。" in texts
    assert "表1" in texts and "图1" in texts
    # East-Asian fonts: 黑体 for the title and headings, 仿宋 for the body
    runs = {p.text: p.runs[0] for p in d.paragraphs if p.runs and p.text}
    ea = {t: r._element.rPr.rFonts.get(qn("w:eastAsia")) for t, r in runs.items()}
    assert ea["测试报告"] == "黑体" and ea["一、情况"] == "黑体" and ea["正文一段。"] == "仿宋"
    normal = d.styles["Normal"].element.rPr.rFonts.get(qn("w:eastAsia"))
    assert normal == "仿宋"
    t = d.tables[0]
    assert [[c.text for c in row.cells] for row in t.rows] == [["县区", "火点数"], ["甲县", "3"],
                                                                ["乙县", ""]]
    assert len(d.inline_shapes) == 1
    media = [n for n in zipfile.ZipFile(_io.BytesIO(data)).namelist() if n.startswith("word/media")]
    assert len(media) == 1 and zipfile.ZipFile(_io.BytesIO(data)).read(media[0]) == png


def test_report_bytes_are_reproducible():
    png = _png()
    assert _build(png) == _build(png)
    info = zipfile.ZipFile(_io.BytesIO(_build(png))).infolist()
    assert {i.date_time for i in info} == {(1980, 1, 1, 0, 0, 0)}
