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
import math
import unicodedata
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

from . import excel
from . import labels as _labels

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


@dataclass(frozen=True)
class KeyTable:
    """A table of a result that a report shows (an analysis's ``REPORT_TABLES``).

    Parameters
    ----------
    name
        The table (``<name>.csv`` beside ``tables.xlsx``), or with ``layer`` True the layer of
        ``<analysis>.gpkg`` (attributes only).
    caption
        Chinese caption above the table.
    columns
        The columns shown, in order (machine names; headers come from the fields' labels).
    max_rows
        At most this many rows are shown; a line below says how many more the file holds.
    select
        ``frame -> frame``: the rows shown and their order (e.g. the last period), or None.
    note
        What the selection is, said below the caption (e.g. ``最近时段（2025-03）``); a callable
        ``frame -> str`` gets the whole table.
    """

    name: str
    caption: str
    columns: tuple[str, ...]
    max_rows: int = 20
    select: Callable[[pd.DataFrame], pd.DataFrame] | None = None
    note: str | Callable[[pd.DataFrame], str] = ""
    layer: bool = False


def display_table(df: pd.DataFrame, fields: Mapping[str, Any], columns: tuple[str, ...]
                  ) -> pd.DataFrame:
    """`columns` of `df` as people read them: Chinese headers and labels, numbers formatted.

    Headers are :func:`spatial.excel.header_text` (label with unit), values the Chinese labels
    of :mod:`spatial.labels`; numbers get the decimals of their unit's Excel format
    (km 0.000, t/h 0.1, ratios as percentages with the header's ``（%）``); true/false as 是/否.
    Columns the table does not have are left out.
    """
    cols = [c for c in columns if c in df.columns]
    shown = _labels.label_frame(df[cols])
    out = {}
    for c in cols:
        meta = fields.get(c)
        head = excel.header_text(c, meta)
        fmt = excel.number_format(c, meta, df[c].dtype)
        ratio = c in excel.PERCENT_COLUMNS  # 0.673 -> 67.3 under a （%） header
        out[head] = [_cell(v, fmt, ratio=ratio) for v in shown[c]]
    return pd.DataFrame(out, columns=list(out))


def _cell(v: Any, fmt: str | None, *, ratio: bool = False) -> str:
    """Text of one value: `fmt` is an Excel number format (``0.000``, ``0.0%``) or None.

    `ratio`: the value is a ratio (0.673) shown as a percentage (67.3); other ``%`` columns
    already hold percentages (``improve_index_pct`` −3.65) and keep their value.
    """
    if v is None or (not isinstance(v, str) and pd.isna(v)):
        return ""
    if isinstance(v, (bool,)) or type(v).__name__ == "bool_":
        return "是" if v else "否"
    if isinstance(v, str):
        return v
    x = float(v)
    if ratio:
        return f"{x * 100:.1f}"
    if fmt == "0.0%":
        return f"{x:.1f}"
    if fmt is not None and fmt.startswith("0"):
        decimals = len(fmt.split(".")[1]) if "." in fmt else 0
        return f"{x:.{decimals}f}"
    if x.is_integer():
        return str(int(x))
    return f"{x:.3f}".rstrip("0").rstrip(".")  # 29.995 km stays 29.995, not 30


def fit_widths(df: pd.DataFrame, *, total_cm: float = 16.2, size: float = 9) -> list[float]:
    """Column widths (cm) of a table of `size`-pt text sharing `total_cm` (the A4 text width).

    Each column needs its longest value (CJK characters count two units of half a character
    height) or a third of its header (headers wrap to three lines). Short values (up to 12
    units: codes, numbers, dates) are never wrapped; when the needs do not fit, the long
    columns (names) share what is left in proportion to what they miss.
    """
    unit = size * 2.54 / 72 / 2 * 1.25  # cm per half-width character (Latin glyphs ~0.6 em)
    pad = 0.5  # cell margins and borders
    need, low = [], []
    for j, name in enumerate(df.columns):
        longest = max([_width(_text(v)) for v in df.iloc[:, j]] or [0])
        head = math.ceil(max(_width(w) for w in str(name).split()) / 3) if str(name) else 0
        n = max(longest, head, 2)
        need.append(pad + unit * n)
        low.append(pad + unit * (n if n <= 12 else max(8, head)))  # long values wrap
    if sum(need) <= total_cm:
        extra = (total_cm - sum(need)) / len(need)
        return [round(w + extra, 2) for w in need]
    if sum(low) >= total_cm:
        return [round(w * total_cm / sum(low), 2) for w in low]
    miss = [n - m for n, m in zip(need, low, strict=True)]
    room = total_cm - sum(low)
    return [round(m + room * x / sum(miss), 2) for m, x in zip(low, miss, strict=True)]


def _width(s: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in s)


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
