"""Excel workbooks for people, CSVs for scripts, and no formula from the data in either.

``tables.xlsx`` is what a county agency opens: one sheet per table with a Chinese name, Chinese
column headers with the unit (``距最近电厂距离（km）``), fitted widths, the header row frozen,
filters on, numbers formatted by unit (km to 0.001, t/h to 0.1, ratios as %), and a ``说明``
sheet (analysis, time of the run, inputs with SHA-256, parameters, rules applied). The CSVs
keep the machine names.

Formula injection (OWASP "CSV Injection"): a name typed as ``=HYPERLINK("http://…")`` must not
become a live formula. Every text cell of a workbook is written as a string cell (openpyxl
``data_type`` ``"s"``), and in CSVs a text value beginning with ``=``, ``+``, ``-``, ``@``, a
tab or a carriage return is prefixed with ``'`` (:func:`neutralize_csv`).
"""

from __future__ import annotations

import codecs
import datetime as dt
import re
import unicodedata
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import csvwrite, labels, textcheck
from .safepath import safe_name

#: Chinese sheet names of the tables the analyses write (others keep their name)
SHEET_NAMES = {
    "by_county": "按县区统计", "by_plant": "按电厂统计", "by_township": "按乡镇统计",
    "bulletin": "火点通报", "rejected": "未采用的记录", "top_value": "高值网格排名",
    "worst_mom": "环比恶化排名", "worst_yoy": "同比恶化排名",
    "unknown_fuel": "燃料待核实", "new_coal": "新建燃煤项目", "facility_review": "设施待核实",
    "accountability": "乡镇问责", "aq_stats": "空气质量统计", "ranking": "综合指数排名",
    "hot_cells": "年度高值网格", "hot_top_value": "高值网格月均值排名",
    "hot_worst_yoy": "高值网格同比恶化排名", "hot_worst_mom": "高值网格环比恶化排名",
    "ban_list": "区内高排放机械清单", "clear_list": "动态清零清单",
}
#: sheet names that depend on the analysis (one table name, two meanings)
ANALYSIS_SHEET_NAMES = {
    "heat-radius": {"targets": "关停整合清单", "biomass": "生物质锅炉清单",
                    "network_villages": "管网覆盖内散煤村庄"},
    "pollution-hotspots": {"targets": "目标差距"},
}
#: Chinese headers of table columns the analyses' FIELDS do not describe (label, unit)
TABLE_LABELS = {
    "input": ("输入", ""), "file": ("来源文件", ""), "row": ("原表行号", ""), "id": ("编号", ""),
    "reason": ("原因", ""), "rank": ("排名", ""), "period": ("时段", ""),
    "period_kind": ("时段类型", ""), "n_inside": ("半径内锅炉数", "台"),
    "n_outside": ("半径外锅炉数", "台"), "capacity_th_outside": ("半径外锅炉蒸吨", "t/h"),
    "compared_with": ("对比时段", ""), "previous_value": ("对比时段浓度", ""),
    "change": ("浓度变化", ""), "change_ratio": ("变化率", "%"), "n_cells": ("网格数", "个"),
    "last_period": ("最近时段", ""), "n_hot_last": ("最近时段热点网格数", "个"),
    "n_exceed_last": ("最近时段超均值网格数", "个"), "n_hot_patterns": ("时空热点网格数", "个"),
    "n_persistent": ("持续热点网格数", "个"),
}
#: the name of the sheet that describes the run
ABOUT_SHEET = "说明"
#: Most data rows a sheet of ``tables.xlsx`` holds. A longer table (a national season's
#: bulletin: ~900,000 detections) is no list a person reads in Excel, and through openpyxl it
#: takes minutes; its sheet then holds a note naming the table's CSV (every row, opens in Excel
#: up to 1,048,576 rows) instead of the rows, and the 说明 sheet says so (never cut silently).
SHEET_MAX_ROWS = 100_000

#: Excel number formats by unit (FieldMeta.unit)
UNIT_FORMATS = {"km": "0.000", "km²": "0.000", "t/h": "0.0", "MW": "0.0", "m": "0",
                "°": "0.000000", "台": "0", "座": "0", "个": "0", "户": "0", "家": "0",
                "%": '0.0"%"'}  # values already in percent (improve_index_pct -3.65): no ×100
#: columns holding a ratio (0.673) that people read as a percentage (67.3%): one list with the
#: tooltips and Shapefiles (spatial.labels)
PERCENT_COLUMNS = labels.PERCENT_COLUMNS

#: characters that make a spreadsheet read a cell as a formula (OWASP CSV injection)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def neutralize_csv(df: pd.DataFrame) -> pd.DataFrame:
    """Text values beginning with ``= + - @``, tab or CR get a leading ``'`` (OWASP).

    Only text (``str``) cells change; numbers, including negative ones, stay numbers.
    """
    out = df.copy(deep=False)  # columns replaced below, never changed in place
    for col in out.columns:
        s = out[col]
        if s.dtype != object and not pd.api.types.is_string_dtype(s.dtype):
            continue
        risky = pd.Series(textcheck.text_mask(s, lambda v: v.startswith(FORMULA_START)),
                          index=s.index)  # once per distinct text
        if risky.any():
            out[col] = s.where(~risky, "'" + s[risky].astype(str))
    return out


def write_csv(df: pd.DataFrame, path: Path) -> None:
    """A table as CSV (UTF-8 with BOM, machine column names), formula-neutralized.

    The bytes ``DataFrame.to_csv(index=False, encoding="utf-8-sig")`` writes, built in bulk
    where :func:`spatial.csvwrite.csv_text` covers the table (pandas writes the others).
    """
    neutral = neutralize_csv(df)
    data = csvwrite.csv_text(neutral)
    if data is None:
        neutral.to_csv(path, index=False, encoding="utf-8-sig")
    else:
        Path(path).write_bytes(codecs.BOM_UTF8 + data)


def sheet_name(name: str, used: set[str], analysis: str | None = None) -> str:
    """The Chinese sheet name of table `name`: at most 31 characters, unique, legal."""
    names = {**SHEET_NAMES, **ANALYSIS_SHEET_NAMES.get(analysis or "", {})}
    base = re.sub(r"[\[\]:*?/\\]", "_", names.get(name, name))[:31] or "表"
    cand, i = base, 2
    while cand.lower() in used:
        cand = f"{base[:28]}_{i}"
        i += 1
    used.add(cand.lower())
    return cand


def header_text(col: str, meta: Any) -> str:
    """``距最近电厂距离（km）``: the Chinese label with the unit, else the column name."""
    if meta is None and col in TABLE_LABELS:
        label, unit = TABLE_LABELS[col]
    else:
        label = getattr(meta, "label", "") or col
        unit = getattr(meta, "unit", "")
    if col in PERCENT_COLUMNS and not unit:
        unit = "%"
    return f"{label}（{unit}）" if unit and f"（{unit}）" not in label else label


def number_format(col: str, meta: Any, dtype: Any) -> str | None:
    """Excel number format of a column from its unit (and name, for ratios), or None."""
    if not (pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)):
        return None
    if col in PERCENT_COLUMNS:
        return "0.0%"
    if col == "row" or col.startswith(("n_", "row")):
        return "0"
    unit = getattr(meta, "unit", "") if meta is not None else TABLE_LABELS.get(col, ("", ""))[1]
    return UNIT_FORMATS.get(unit)


def _display_width(v: Any) -> int:
    s = "" if v is None else str(v)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in s)


def _cell_value(v: Any) -> Any:
    """A value openpyxl can write: NaN/NA empty, numpy scalars as Python, zones dropped."""
    if v is None or v is pd.NaT or v is pd.NA:
        return None
    if isinstance(v, float) and np.isnan(v):
        return None
    if isinstance(v, np.generic):
        v = v.item()
        if isinstance(v, float) and np.isnan(v):
            return None
    if isinstance(v, pd.Timestamp):
        v = v.to_pydatetime()
    if isinstance(v, dt.datetime) and v.tzinfo is not None:
        v = v.replace(tzinfo=None)  # the column header says which zone (北京时间)
    if isinstance(v, (list, tuple, set, dict)):
        v = str(v)
    if isinstance(v, str):
        v = _ILLEGAL.sub("\ufffd", v)  # control characters cannot be stored in XLSX
    return v


def _write_sheet(ws: Any, df: pd.DataFrame, fields: Mapping[str, Any]) -> None:
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    cols = list(df.columns)
    heads = [header_text(str(c), fields.get(c)) for c in cols]
    ws.append(heads)
    bold = Font(bold=True)
    for j in range(1, len(cols) + 1):
        cell = ws.cell(row=1, column=j)
        cell.font = bold
        cell.alignment = Alignment(wrap_text=False, vertical="center")
    formats = [number_format(str(c), fields.get(c), df[c].dtype) for c in cols]
    values = [[_cell_value(v) for v in row] for row in df.itertuples(index=False)]
    for i, row in enumerate(values, start=2):
        for j, v in enumerate(row, start=1):
            if v is None:
                continue
            cell = ws.cell(row=i, column=j)
            cell.value = v
            if isinstance(v, str):
                cell.data_type = "s"  # text, never a formula (even "=HYPERLINK(…)")
            elif formats[j - 1]:
                cell.number_format = formats[j - 1]
            elif isinstance(v, dt.datetime):
                cell.number_format = "yyyy-mm-dd hh:mm:ss"
            elif isinstance(v, dt.date):
                cell.number_format = "yyyy-mm-dd"
    for j, (head, col) in enumerate(zip(heads, cols, strict=True), start=1):
        sample = [_display_width(r[j - 1]) for r in values[:2000]]
        width = max([_display_width(head), *sample]) + 2
        if formats[j - 1] or pd.api.types.is_float_dtype(df[col].dtype):
            width = max(width, 10)
        ws.column_dimensions[get_column_letter(j)].width = min(max(width, 6), 60)
    ws.freeze_panes = "A2"
    if cols:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(cols))}{max(len(df) + 1, 1)}"


def about_rows(about: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The rows of the 说明 sheet: (item, value) pairs from `about`.

    `about` keys: ``analysis``, ``title``, ``created_utc``, ``inputs`` ({name: {path,
    sha256}}), ``params`` ({name: value}), ``rules`` ([text, …]), ``summary`` ([text, …]).
    """
    rows: list[tuple[str, str]] = [("分析", str(about.get("analysis", "")))]
    if about.get("title"):
        rows.append(("标题", str(about["title"])))
    if about.get("created_utc"):
        rows.append(("运行时间（UTC）", str(about["created_utc"])))
    for name, spec in (about.get("inputs") or {}).items():
        sha = spec.get("sha256")
        shas = sha.items() if isinstance(sha, dict) else [(spec.get("path", ""), sha)]
        for path, digest in shas:
            rows.append((f"输入 {name}", f"{Path(str(path)).name}  SHA-256 {digest}"))
    for key, value in (about.get("params") or {}).items():
        text = ("（未设）" if value is None else ", ".join(map(str, value))
                if isinstance(value, (list, tuple)) else str(value))
        rows.append((f"参数 {key}", text))
    for text in about.get("rules") or ():
        rows.append(("规则", str(text)))
    for text in about.get("summary") or ():
        rows.append(("结果", str(text)))
    rows.append(("说明", "各表列名为中文（单位在括号内）；同名 CSV 文件保留英文字段名，供脚本使用。"
                         "以 = + - @ 开头的文字按文本保存，不作为公式。"))
    return rows


def too_long_text(name: str, n_rows: int, max_rows: int = SHEET_MAX_ROWS) -> str:
    """The note (Chinese) a sheet holds instead of the `n_rows` rows of table `name`."""
    return (f"本表共 {n_rows:,} 行，超过工作簿每表 {max_rows:,} 行的上限，未写入本工作簿；"
            f"完整的表见同一文件夹中的 {safe_name(name)}.csv（UTF-8，每行一条，可用 Excel 打开）。")


def write_workbook(tables: Mapping[str, pd.DataFrame], path: Path, *,
                   fields: Mapping[str, Any] | None = None,
                   about: Mapping[str, Any] | None = None,
                   analysis: str | None = None,
                   max_rows: int = SHEET_MAX_ROWS) -> None:
    """Write `tables` to an XLSX workbook for people (see the module docstring).

    Parameters
    ----------
    tables
        Table name -> frame (machine column names).
    path
        The ``.xlsx`` to write.
    fields
        Column name -> FieldMeta (label, unit) for the headers and number formats.
    about
        What goes on the 说明 sheet (:func:`about_rows`); None: no such sheet.
    analysis
        The analysis (for its own sheet names); default ``about["analysis"]``.
    max_rows
        A table with more rows gets a sheet with a note instead (:func:`too_long_text`;
        :data:`SHEET_MAX_ROWS`), also listed on the 说明 sheet; its CSV has every row.
    """
    import openpyxl
    from openpyxl.styles import Font

    from .export import code_fields

    fields = fields or {}
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    used: set[str] = set()
    if about is not None:
        used.add(ABOUT_SHEET)
    too_long = []  # (sheet, note) of the tables past max_rows
    for name, df in tables.items():
        ws = wb.create_sheet(sheet_name(name, used, analysis or (about or {}).get("analysis")))
        if len(df) > max_rows:
            too_long.append((ws.title, too_long_text(name, len(df), max_rows)))
            ws.append(["说明"])
            ws.append([too_long[-1][1]])
            ws["A1"].font = Font(bold=True)
            ws["A2"].data_type = "s"
            ws.column_dimensions["A"].width = 120
            continue
        shown = labels.label_frame(df)  # 燃煤 for people, the code beside it
        _write_sheet(ws, shown, {**fields, **code_fields(shown.columns, fields)})
    if about is not None:
        ws = wb.create_sheet(ABOUT_SHEET)
        ws.append(["项目", "内容"])
        rows = about_rows(about)
        rows[-1:-1] = [(f"未写入工作簿：{sheet}", note) for sheet, note in too_long]
        for item, value in rows:
            ws.append([item, None])
            cell = ws.cell(row=ws.max_row, column=2)
            cell.value = _cell_value(value)
            cell.data_type = "s"
        ws["A1"].font = ws["B1"].font = Font(bold=True)
        ws.column_dimensions["A"].width = 24
        ws.column_dimensions["B"].width = 100
        ws.freeze_panes = "A2"
    if not wb.sheetnames:
        wb.create_sheet("表")
    wb.save(path)

