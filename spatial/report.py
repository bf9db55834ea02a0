"""A generic Word (.docx) report builder for notices and per-analysis reports (python-docx).

Chinese official documents use 仿宋/宋体 for the body and 黑体 for headings. Word and WPS pick
the East-Asian font from ``w:eastAsia`` of ``w:rFonts``, not from the Latin font name, so every
style and run here sets both. Reports are deterministic: the document properties carry a fixed
date and the zip entries a fixed timestamp, so the same content gives the same bytes.

Examples
--------
>>> r = Report(title="秸秆焚烧火点通报", date="2024-06-01")
>>> r.paragraph("全市新监测到火点 3 个。")
>>> r.table(pd.DataFrame({"县区": ["东昌府区"], "火点数": [3]}))
>>> data = r.to_bytes()
>>> data[:2]
b'PK'
"""

from __future__ import annotations

import datetime as dt
import io as _io
import zipfile
from pathlib import Path

import pandas as pd
from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

BODY_FONT = "仿宋"
TABLE_FONT = "宋体"
HEADING_FONT = "黑体"
FIXED_DATE = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


def set_font(target, name: str, *, size: float | None = None, bold: bool | None = None) -> None:
    """Set the Latin and East-Asian font of a style or run (``w:rFonts w:eastAsia``)."""
    font = target.font
    font.name = name
    if size is not None:
        font.size = Pt(size)
    if bold is not None:
        font.bold = bold
    rpr = target.element.get_or_add_rPr()
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.insert(0, rfonts)
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        rfonts.set(qn(attr), name)


class Report:
    """A report: title, date line, headings, paragraphs, tables with Chinese headers, figures.

    Parameters
    ----------
    title
        Centred title (黑体, 22 pt).
    date
        Text under the title (e.g. ``2024-06-01``), or None.
    body_size
        Body text size, pt (三号 = 16, 四号 = 14).
    """

    def __init__(self, *, title: str, date: str | None = None, body_size: float = 14) -> None:
        self.doc = Document()
        self.body_size = body_size
        sec = self.doc.sections[0]
        sec.page_height, sec.page_width = Cm(29.7), Cm(21.0)  # A4
        sec.top_margin = sec.bottom_margin = Cm(2.5)
        sec.left_margin = sec.right_margin = Cm(2.4)
        set_font(self.doc.styles["Normal"], BODY_FONT, size=body_size)
        for lvl in (1, 2):
            st = self.doc.styles[f"Heading {lvl}"]
            set_font(st, HEADING_FONT, size=16 if lvl == 1 else body_size, bold=False)
            st.font.color.rgb = RGBColor(0, 0, 0)
        p = self.doc.add_paragraph()
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        set_font(p.add_run(title), HEADING_FONT, size=22)
        if date:
            d = self.doc.add_paragraph()
            d.alignment = WD_ALIGN_PARAGRAPH.CENTER
            set_font(d.add_run(date), BODY_FONT, size=body_size)
        self.doc.core_properties.title = title

    def heading(self, text: str, *, level: int = 1) -> None:
        """A heading (黑体)."""
        h = self.doc.add_heading(level=level)
        set_font(h.add_run(text), HEADING_FONT)

    def paragraph(self, text: str, *, indent: bool = True, bold: bool = False,
                  size: float | None = None) -> None:
        """A body paragraph (仿宋), first line indented two characters."""
        p = self.doc.add_paragraph()
        if indent:
            p.paragraph_format.first_line_indent = Pt(2 * (size or self.body_size))
        set_font(p.add_run(text), BODY_FONT, size=size, bold=bold)

    def table(self, df: pd.DataFrame, *, widths_cm: list[float] | None = None,
              size: float = 10.5, caption: str | None = None) -> None:
        """A table: the frame's column names are the (Chinese) header row; missing values blank."""
        if caption:
            c = self.doc.add_paragraph()
            c.alignment = WD_ALIGN_PARAGRAPH.CENTER
            set_font(c.add_run(caption), HEADING_FONT, size=size + 1)
        t = self.doc.add_table(rows=1, cols=len(df.columns))
        t.style = "Table Grid"
        t.alignment = WD_TABLE_ALIGNMENT.CENTER
        for cell, name in zip(t.rows[0].cells, df.columns, strict=True):
            set_font(cell.paragraphs[0].add_run(str(name)), HEADING_FONT, size=size)
            cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
        for row in df.itertuples(index=False):
            cells = t.add_row().cells
            for cell, v in zip(cells, row, strict=True):
                text = _text(v)
                set_font(cell.paragraphs[0].add_run(text), TABLE_FONT, size=size)
        if widths_cm:
            t.autofit = False
            for col, w in zip(t.columns, widths_cm, strict=False):
                col.width = Cm(w)
            for r in t.rows:
                for cell, w in zip(r.cells, widths_cm, strict=False):
                    cell.width = Cm(w)
        self.doc.add_paragraph()

    def figure(self, image: bytes | Path, *, width_cm: float = 15.0,
               caption: str | None = None) -> None:
        """A picture (PNG bytes or a file), centred, with an optional caption below."""
        src = _io.BytesIO(image) if isinstance(image, bytes) else str(image)
        self.doc.add_picture(src, width=Cm(width_cm))
        self.doc.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
        if caption:
            c = self.doc.add_paragraph()
            c.alignment = WD_ALIGN_PARAGRAPH.CENTER
            set_font(c.add_run(caption), BODY_FONT, size=12)

    def to_bytes(self) -> bytes:
        """The .docx bytes, with fixed document dates and zip timestamps (reproducible)."""
        cp = self.doc.core_properties
        cp.created = cp.modified = cp.last_printed = FIXED_DATE
        cp.author = cp.last_modified_by = "lantian"
        cp.revision = 1
        buf = _io.BytesIO()
        self.doc.save(buf)
        return fixed_zip(buf.getvalue())


def _text(v: object) -> str:
    """Cell text: blank for missing values, whole floats without ``.0``."""
    if v is None or (not isinstance(v, str) and pd.isna(v)):
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def fixed_zip(data: bytes) -> bytes:
    """Rewrite a zip (docx/xlsx) with every entry dated 1980-01-01, entries in the same order."""
    src = zipfile.ZipFile(_io.BytesIO(data))
    out = _io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            zi = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = info.external_attr
            dst.writestr(zi, src.read(info.filename))
    return out.getvalue()
