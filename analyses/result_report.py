"""The Word report of a result: ``layers/<analysis>/report.docx``, for every analysis.

Written by ``lantian run`` (unless ``--no-report``) into the staged layers folder, so it is
published with the layers, tables and maps as one set; rewritten by ``lantian report ANALYSIS
--out DIR`` from a published result, under the same lock. Both read the same files — the
folder's ``manifest.json`` (title, map date, summary, the labels of the table columns),
the key tables (``<table>.csv``, or layers of ``<analysis>.gpkg``) and the figure
``maps/<analysis>.png`` — so both give the same bytes.

Content: the title (the result's title and 分析报告), the date the maps show (数据日期 or
制图日期, :func:`analyses.runner.map_date`), 一、主要结果 (each line of the run's summary, with its
numbers), 二、主要表格 (the analysis's ``REPORT_TABLES``: Chinese headers and labels as in
``tables.xlsx``, each cut to its ``max_rows`` with a line saying how many more rows the file
holds), 三、分布图 (the figure), and the map's credits (city, data source, producing unit).
Built with :class:`spatial.report.Report` (仿宋/宋体 body, 黑体 headings, ``w:eastAsia`` set).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

import pandas as pd
import pyogrio

from spatial import excel, export, publish, safepath
from spatial.errors import InputError
from spatial.report import KeyTable, Report, display_table, fit_widths

from . import get
from .base import hook
from .report_findings import FINDINGS
from .report_tables import REPORT_TABLES

#: the report's file name in ``layers/<analysis>/``
REPORT_FILE = "report.docx"
SECTION_NUMBERS = "一二三四五六七八九十"


def key_tables(module: ModuleType) -> tuple[KeyTable, ...]:
    """The analysis's key tables (none declared: no table section).

    Its module's ``REPORT_TABLES``, else :data:`analyses.report_tables.REPORT_TABLES`.
    """
    own = hook(module, "REPORT_TABLES")
    return tuple(own if own is not None else REPORT_TABLES.get(module.NAME, ()))


def report_fields(module: ModuleType, fields: Mapping[str, Any]) -> dict[str, list[str]]:
    """``{column: [label, unit]}`` of the key tables' columns, for the manifest's ``fields``.

    `fields` is the result's column descriptions (``FieldMeta``); columns without one are
    left out (their header is the column name or :data:`spatial.excel.TABLE_LABELS`).
    """
    out: dict[str, list[str]] = {}
    for t in key_tables(module):
        for c in t.columns:
            meta = fields.get(c)
            if meta is not None:
                out[c] = [getattr(meta, "label", "") or "", getattr(meta, "unit", "") or ""]
    return out


def _read(folder: Path, analysis: str, t: KeyTable) -> pd.DataFrame:
    """The key table `t` as written in `folder` (CSV, or a GeoPackage layer's attributes)."""
    if t.layer:
        gpkg = folder / f"{safepath.safe_name(analysis)}.gpkg"
        layers = [str(n) for n, _ in pyogrio.list_layers(gpkg)] if gpkg.exists() else []
        if t.name not in layers:
            raise InputError(f"{gpkg}: layer {t.name} is missing; run `lantian run {analysis}` "
                             "again to write a complete result.")
        return pyogrio.read_dataframe(gpkg, layer=t.name, read_geometry=False)
    path = folder / f"{t.name}.csv"
    if not path.exists():
        raise InputError(f"{path}: table {t.name} is missing; run `lantian run {analysis}` "
                         "again to write a complete result.")
    return pd.read_csv(path, encoding="utf-8-sig", dtype={"county_code": str, "code": str,
                                                          "township_code": str})


def build(analysis: str, folder: Path, figure: Path | None) -> bytes:
    """The report.docx bytes of the result in `folder` (``layers/<analysis>/``).

    `figure` is the PNG (``maps/<analysis>.png``) or None when the run has none.
    """
    module = get(analysis)
    folder = Path(folder)
    man_path = folder / "manifest.json"
    try:
        man = json.loads(man_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise InputError(f"{man_path}: cannot read the result's manifest ({err}); run "
                         f"`lantian run {analysis}` first.") from None
    if "fields" not in man and key_tables(module):
        raise InputError(f"{man_path}: this result was written by an older lantian, without the "
                         f"column labels the report needs; run `lantian run {analysis}` again.")
    fields = {c: export.FieldMeta(c, *lu) for c, lu in (man.get("fields") or {}).items()}
    title = str(man.get("title") or analysis)
    date = " ".join(str((man.get("map") or {}).get("date") or "").split())
    r = Report(title=f"{title}分析报告", date=date.replace(" ", "：", 1) if date else None)
    n = iter(SECTION_NUMBERS)
    r.heading(f"{next(n)}、主要结果")
    findings = FINDINGS.get(analysis)
    if findings is not None:
        def read(name: str, layer: bool = False) -> pd.DataFrame:
            return _read(folder, analysis, KeyTable(name, "", (), layer=layer))

        for text in findings(read, man):
            r.paragraph(text)
    r.paragraph("运行摘要（与 manifest.json、tables.xlsx“说明”表相同）：", indent=False, size=12,
                bold=True)
    for line in man.get("summary") or ():
        text = str(line).strip()
        if text:
            r.paragraph(text, size=10.5, indent=not str(line).startswith(" "))
    tables = key_tables(module)
    if tables:
        r.heading(f"{next(n)}、主要表格")
    for i, t in enumerate(tables, start=1):
        _table(r, folder, analysis, t, fields, number=i)
    if figure is not None and Path(figure).exists():
        r.heading(f"{next(n)}、分布图")
        r.figure(Path(figure), width_cm=16.0, caption=f"图 {title}")
    credits = (man.get("map") or {}).get("credits") or []
    for line in credits:
        r.paragraph(str(line), indent=False, size=10.5)
    stem = safepath.safe_name(analysis)
    r.paragraph(f"完整结果见 layers/{stem}/ 下的 tables.xlsx（各表）、{stem}.gpkg（图层）与 "
                "manifest.json（输入文件、参数与规则）。", indent=False, size=10.5)
    return r.to_bytes()


def _table(r: Report, folder: Path, analysis: str, t: KeyTable, fields: Mapping[str, Any],
           *, number: int) -> None:
    df = _read(folder, analysis, t)
    sel = t.select(df) if t.select is not None and len(df) else df
    note = t.note(df) if callable(t.note) else t.note
    r.paragraph(f"（{SECTION_NUMBERS[number - 1]}）{t.caption}" + (f"（{note}）" if note else ""),
                indent=False, size=12, bold=True)
    if not len(sel):
        r.paragraph("无。", size=12)
        return
    shown = sel.head(t.max_rows)
    table = display_table(shown, fields, t.columns)
    r.table(table, size=9, widths_cm=fit_widths(table))
    more = len(sel) - len(shown)
    if more > 0:
        where = (f"{safepath.safe_name(analysis)}.gpkg 图层 {t.name}" if t.layer else
                 f"tables.xlsx“{excel.sheet_name(t.name, set(), analysis)}”表")
        r.paragraph(f"表中列出前 {len(shown)} 行，另有 {more} 行见 {where}。", indent=False,
                    size=10.5)


def write_staged(analysis: str, layers_dir: Path, maps_dir: Path) -> Path:
    """Write ``report.docx`` into a run's (staged) layers folder; return its path."""
    stem = safepath.safe_name(analysis)
    data = build(analysis, layers_dir, Path(maps_dir) / f"{stem}.png")
    path = Path(layers_dir) / REPORT_FILE
    export.write_bytes_atomic(path, data)
    return path


def rewrite(analysis: str, out: Path) -> Path:
    """``lantian report``: rewrite ``layers/<analysis>/report.docx`` of the result in `out`.

    Reads the published result; holds the lock of (`out`, `analysis`) that ``run`` and
    ``export`` hold, and replaces only report.docx (atomically).
    """
    get(analysis)
    stem = safepath.safe_name(analysis)
    layers_dir = Path(out) / "layers" / stem
    if not (layers_dir / "manifest.json").exists():
        raise InputError(f"{layers_dir}: no result of {analysis} here (manifest.json missing); "
                         f"run `lantian run {analysis} --config … --out {out}` first.")
    with publish.lock(out, analysis, command=f"lantian report {analysis}"):
        data = build(analysis, layers_dir, Path(out) / "maps" / f"{stem}.png")
        path = layers_dir / REPORT_FILE
        export.write_bytes_atomic(path, data)
    return path
