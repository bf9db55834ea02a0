"""Find the header of a table as office systems export it, and the records under it.

Office exports rarely start with the header: a title row (``聊城市火电（热电）机组清单``), an
info row (``填报单位：… 填报日期：…``), then a one- or two-row header in which a group cell
spans several columns (``坐标`` over ``经度``/``纬度``) and the ungrouped columns are merged
down both rows (``序号``, ``企业名称``). At the bottom there is often a ``合计``/``小计`` row.

:func:`read_grid` reads a CSV or a workbook sheet as it is (every cell, no header; merged
ranges of a workbook are filled with their value, as Excel shows them); :func:`locate` finds
the header rows and returns the records under them with file row numbers (the numbers Excel
or a text editor shows, 1-based), which rows are totals, and which columns were recognised.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .errors import InputError

log = logging.getLogger(__name__)

#: how many rows from the top are tried as the header when none is given (``header_row``)
MAX_HEADER_SEARCH = 12

#: a cell reading like this marks a total row (合计/小计/总计/共计, optionally followed by
#: punctuation or a bracket: ``合 计``, ``小计：``, ``合计（12家）``)
_TOTAL = re.compile(r"^(合计|小计|总计|共计)($|[\W_（(：:])")


@dataclass
class Grid:
    """A table as read, before the header is known.

    Attributes
    ----------
    cells
        Every cell (object; ``None`` for empty), one row per file row that has any value.
    rows
        The file row number of each row of `cells` (1-based, as Excel shows it; for a CSV the
        line on which the record starts).
    sheet
        The sheet read (workbooks), else None.
    sheets
        Every sheet of the workbook, in order (empty for CSV).
    merged_rows
        File row numbers touched by a merged range (workbooks).
    encoding
        Text encoding of a CSV (None for workbooks).
    """

    cells: pd.DataFrame
    rows: np.ndarray
    sheet: str | None = None
    sheets: list[str] = field(default_factory=list)
    merged_rows: set[int] = field(default_factory=set)
    encoding: str | None = None


@dataclass
class Header:
    """Where the header of a table is and what is under it.

    Attributes
    ----------
    frame
        The records under the header (object columns named by the header labels).
    rows
        File row number of each record.
    header_rows
        File row numbers of the header (one or two).
    labels
        The header label of every column (a two-row header: the lower cell, else the upper).
    mapping
        Our field name -> header label.
    total
        True for the records that are a 合计/小计 total row.
    sheet, sheets
        As in :class:`Grid`.
    """

    frame: pd.DataFrame
    rows: np.ndarray
    header_rows: tuple[int, ...]
    labels: list[str]
    mapping: dict[str, str]
    total: np.ndarray
    sheet: str | None = None
    sheets: list[str] = field(default_factory=list)

    @property
    def ignored(self) -> list[str]:
        """Labels of the columns with data that no field uses."""
        used = set(self.mapping.values())
        return [c for c in self.labels if c not in used and self.frame[c].notna().any()]


# --------------------------------------------------------------------------- reading


def _clean(v: Any) -> Any:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return None
    if isinstance(v, str):
        v = v.strip()
        return v or None
    return v


def _frame(records: list[list[Any]], rows: list[int]) -> tuple[pd.DataFrame, np.ndarray]:
    width = max((len(r) for r in records), default=0)
    cells = pd.DataFrame([r + [None] * (width - len(r)) for r in records], dtype=object)
    if width == 0:
        cells = pd.DataFrame(index=range(len(records)), dtype=object)
    keep = cells.notna().any(axis=1).to_numpy() if width else np.zeros(len(records), bool)
    cells = cells[keep].reset_index(drop=True)
    cells.columns = range(cells.shape[1])
    return cells, np.asarray(rows, dtype=np.int64)[keep]


def _sniff_delimiter(text: str) -> str:
    """The delimiter (comma, semicolon, tab, |) that splits the first lines into most fields."""
    sample = text.splitlines()[:30]
    best, best_n = ",", 0
    for delim in (",", ";", "\t", "|"):
        counts = [len(r) for r in csv.reader(sample, delimiter=delim)]
        n = int(np.median(counts)) if counts else 0
        if n > best_n:
            best, best_n = delim, n
    return best


def grid_from_text(text: str, *, encoding: str | None = None) -> Grid:
    """A CSV text as a :class:`Grid` (delimiter sniffed; ragged rows padded)."""
    reader = csv.reader(io.StringIO(text), delimiter=_sniff_delimiter(text))
    records: list[list[Any]] = []
    rows: list[int] = []
    start = 1
    try:
        for rec in reader:
            records.append([_clean(v) for v in rec])
            rows.append(start)
            start = reader.line_num + 1
    except csv.Error as err:
        raise InputError(f"not a readable CSV table (line {reader.line_num}: {err}).") from None
    cells, nums = _frame(records, rows)
    return Grid(cells, nums, encoding=encoding)


def read_records(path: Path, *, resolve: Any, decode: Any, sheet: str | int | None = None,
                 header_row: int | Sequence[int] | None = None, name: str = "input"
                 ) -> tuple[Header, str | None]:
    """Read a CSV or workbook table, find its header and return the records under it.

    Parameters
    ----------
    path
        The file (it exists; CSV/TXT or a workbook).
    resolve
        ``resolve(labels) -> {field: label}``, raising InputError when a required field has
        no column (see :func:`locate`).
    decode
        ``decode(bytes, path=…) -> (text, encoding)`` for CSVs (``spatial.io.decode_bytes``).
    sheet, header_row
        The config's ``sheet`` (workbooks only) and ``header_row``.

    Returns
    -------
    header, encoding
        ``header.frame`` holds the records, ``header.rows`` their file row numbers,
        ``header.total`` the total rows; the encoding of a CSV (None for workbooks).
    """
    text = enc = None
    if path.suffix.lower() in {".csv", ".txt"}:
        if sheet is not None:
            raise InputError(f"{path}: `sheet` = {sheet!r} is set for input '{name}', but a CSV "
                             "file has no sheets; remove `sheet` from the config.")
        text, enc = decode(path.read_bytes(), path=path)
        if not text.strip():
            raise InputError(f"{path}: the file has no header and no rows; export it again.")
    grid = read_grid(path, sheet=sheet, name=name, text=text, encoding=enc)
    return locate(grid, resolve, header_row=header_row, path=path, name=name), enc


def no_table_keys(path: Path, name: str, header_row: Any) -> None:
    """Raise InputError when `header_row` is given for a vector file (it has no header rows)."""
    if header_row is not None:
        raise InputError(f"{path}: `header_row` is set for input '{name}', but a vector file has "
                         "attribute names, not header rows; remove `header_row` from the config.")


def layout(raw: Any) -> dict[str, Any]:
    """Return the ``spatial.io.Table`` fields saying how a table was laid out.

    Sheet, header rows and ignored columns; empty for a vector file's frame.
    """
    if isinstance(raw, Header):
        return {"sheet": raw.sheet, "sheets": raw.sheets, "header_rows": raw.header_rows,
                "ignored": raw.ignored}
    return {}


def read_grid(path: Path | str, *, sheet: str | int | None = None, name: str = "input",
              text: str | None = None, encoding: str | None = None) -> Grid:
    """Read a CSV (give its decoded `text`) or a workbook sheet cell by cell.

    Parameters
    ----------
    path
        The file (``.csv``/``.txt`` need `text`; ``.xlsx``/``.xlsm`` are read with openpyxl,
        ``.xls`` with pandas).
    sheet
        Sheet name or 0-based index (default: the first sheet).
    name
        Input name, for messages.
    text, encoding
        Decoded CSV text and its encoding.
    """
    path = Path(path)
    if text is not None:
        try:
            return grid_from_text(text, encoding=encoding)
        except InputError as err:
            raise InputError(f"{path}: {err}") from None
    from . import limits, provenance

    provenance.note_file(path, again=True)  # hashed just before the library reads it
    limits.check_xlsx(path)  # a zip bomb is refused before openpyxl inflates it
    if path.suffix.lower() == ".xls":
        return _read_xls(path, sheet=sheet)
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, data_only=True)
    except Exception as err:  # openpyxl raises many types for corrupt files
        raise InputError(f"{path}: not a readable Excel workbook ({err}).") from None
    names = list(wb.sheetnames)
    ws = _pick_sheet(wb, names, sheet, path=path, name=name)
    values = [list(r) for r in ws.iter_rows(min_row=1, min_col=1, values_only=True)]
    merged: set[int] = set()
    for rng in ws.merged_cells.ranges:  # every cell of a merged range shows its value
        r0, c0, r1, c1 = rng.min_row - 1, rng.min_col - 1, rng.max_row - 1, rng.max_col - 1
        if r0 >= len(values):
            continue
        v = values[r0][c0] if c0 < len(values[r0]) else None
        for r in range(r0, min(r1, len(values) - 1) + 1):
            row = values[r]
            row.extend([None] * (c1 + 1 - len(row)))
            for c in range(c0, c1 + 1):
                row[c] = v
            merged.add(r + 1)
    records = [[_clean(v) for v in r] for r in values]
    cells, nums = _frame(records, list(range(1, len(records) + 1)))
    return Grid(cells, nums, sheet=ws.title, sheets=names, merged_rows=merged)


def _pick_sheet(wb: Any, names: list[str], sheet: str | int | None, *, path: Path, name: str
                ) -> Any:
    if sheet is None:
        return wb[names[0]]
    if isinstance(sheet, int) and not isinstance(sheet, bool):
        if 0 <= sheet < len(names):
            return wb[names[sheet]]
    elif str(sheet) in names:
        return wb[str(sheet)]
    raise InputError(
        f"{path}: cannot read sheet {sheet!r} (input '{name}'): the workbook's sheets are "
        f"{', '.join(repr(n) for n in names)}; set `sheet` to one of them (a name, or a number "
        "from 0)."
    )


def _read_xls(path: Path, *, sheet: str | int | None) -> Grid:
    try:
        book = pd.ExcelFile(path)
        names = [str(s) for s in book.sheet_names]
        df = book.parse(0 if sheet is None else sheet, header=None, dtype=object)
    except Exception as err:  # xlrd missing or a corrupt file
        raise InputError(f"{path}: not a readable Excel workbook ({err}); save it as .xlsx."
                         ) from None
    records = [[_clean(v) for v in r] for r in df.itertuples(index=False)]
    cells, nums = _frame(records, list(range(1, len(records) + 1)))
    title = names[sheet] if isinstance(sheet, int) else (sheet or names[0])
    return Grid(cells, nums, sheet=str(title), sheets=names)


# --------------------------------------------------------------------------- the header


def _text(v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return str(v).strip() or None  # as typed: headers are matched normalised elsewhere


def _looks_numeric(v: Any) -> bool:
    if isinstance(v, (int, float, np.number)) and not isinstance(v, bool):
        return True
    try:
        float(str(v).replace(",", ""))
    except ValueError:
        return False
    return True


def _unique(labels: list[str | None]) -> list[str]:
    """Header labels made unique (``备注``, ``备注.1``); empty ones named by column letter."""
    out: list[str] = []
    seen: dict[str, int] = {}
    for i, lab in enumerate(labels):
        lab = lab if lab else f"(column {_letter(i)})"
        if lab in seen:
            seen[lab] += 1
            lab = f"{lab}.{seen[lab]}"
        else:
            seen[lab] = 0
        out.append(lab)
    return out


def _letter(i: int) -> str:
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


def _labels_one(cells: pd.DataFrame, k: int) -> list[str]:
    return _unique([_text(v) for v in cells.iloc[k]])


def _labels_two(cells: pd.DataFrame, k: int) -> list[str] | None:
    """Labels of a two-row header at rows k, k+1: the lower cell, else the upper one.

    None when row k+1 cannot be a header row (it holds a number) or row k is empty. Where the
    lower labels repeat (``容量`` under two groups), the group is put in front (``2025年/容量``).
    """
    top = [_text(v) for v in cells.iloc[k]]
    sub_raw = list(cells.iloc[k + 1])
    if not any(top) or any(v is not None and _looks_numeric(v) for v in sub_raw):
        return None
    sub = [_text(v) for v in sub_raw]
    group, last = [], None
    for t, s in zip(top, sub, strict=True):  # a group cell not merged: it covers the next ones
        last = t if t else (last if s else None)
        group.append(last)
    labels = [s if s else t for s, t in zip(sub, top, strict=True)]
    counts = pd.Series([lab for lab in labels if lab]).value_counts()
    labels = [f"{g}/{s}" if s and counts.get(s, 0) > 1 and g and g != s else lab
              for lab, s, g in zip(labels, sub, group, strict=True)]
    return _unique(labels)


def _try(labels: list[str], resolve: Any) -> dict[str, str] | None:
    try:
        return resolve(labels)
    except InputError:
        return None


def locate(grid: Grid, resolve: Any, *, header_row: int | Sequence[int] | None = None,
           path: Path | str, name: str, fields_hint: str = "") -> Header:
    """Find the header of `grid` and return the records under it.

    Parameters
    ----------
    grid
        The table as read (:func:`read_grid`).
    resolve
        ``resolve(labels) -> {field: label}``; raises InputError when a required field has
        no column (``spatial.io.resolve_columns`` with the input's fields bound).
    header_row
        The header's file row number (``4``) or its two rows (``[3, 4]``), from the config;
        None: search the first :data:`MAX_HEADER_SEARCH` rows.
    path, name
        For messages.

    The search tries every row and every pair of adjacent rows among the first rows as the
    header and keeps the one under which the most fields are recognised (then the one with the
    most named columns; a single row before a pair, an earlier row before a later one, except
    that a pair whose upper row is merged into the lower one is preferred to the lower row
    alone). A pair is only tried when its lower row holds no number.
    """
    cells, nums = grid.cells, grid.rows
    where = f" of sheet '{grid.sheet}'" if grid.sheet is not None else ""
    if len(cells) == 0:
        raise InputError(f"{path}{where}: the table is empty (input '{name}').")
    if header_row is not None:
        wanted = [header_row] if isinstance(header_row, int) else list(header_row)
        pos = [int(np.flatnonzero(nums == r)[0]) if (nums == r).any() else -1 for r in wanted]
        if any(p < 0 for p in pos) or len(pos) not in (1, 2) or (
                len(pos) == 2 and pos[1] != pos[0] + 1):
            raise InputError(
                f"{path}{where}: header_row = {header_row!r} (input '{name}') is not one row or "
                f"two adjacent rows with values; the table has values on rows {nums[0]} … "
                f"{nums[-1]}.")
        labels = _labels_one(cells, pos[0]) if len(pos) == 1 else _labels_two(cells, pos[0])
        if labels is None:
            labels = _unique([_text(v) for v in cells.iloc[pos[1]]])
        mapping = resolve(labels)  # its message names the missing fields and the columns
        return _header(grid, pos[0], len(pos), labels, mapping)
    n = min(MAX_HEADER_SEARCH, len(cells))
    best: tuple[Any, ...] | None = None
    tried: list[tuple[int, list[str]]] = []
    for k in range(n):
        options: list[tuple[int, list[str] | None]] = [(1, _labels_one(cells, k))]
        if k + 1 < len(cells):
            options.append((2, _labels_two(cells, k)))
        for size, labels in options:
            if labels is None:
                continue
            mapping = _try(labels, resolve)
            if size == 1:
                tried.append((k, labels))
            if mapping is None:
                continue
            named = sum(1 for lab in labels if not lab.startswith("(column "))
            merged_pair = size == 2 and int(nums[k]) in grid.merged_rows
            # a pair whose upper row is merged into the lower one beats the lower row alone
            key = (-len(mapping), -named, 0 if merged_pair else size, k)
            if best is None or key < best[0]:
                best = (key, k, size, labels, mapping)
    if best is None:
        shown = ", ".join(str(nums[k]) for k, _ in tried)
        sheets = ""
        if len(grid.sheets) > 1:
            sheets = (f" The workbook has {len(grid.sheets)} sheets: "
                      f"{', '.join(repr(s) for s in grid.sheets)}; if the records are on "
                      f"another sheet, name it: sheet = \"{grid.sheets[1]}\".")
        # the closest row: most named cells, none a number; its message names what it lacks
        def named(k: int) -> int:
            vals = [v for v in cells.iloc[k] if v is not None]
            return -1 if any(_looks_numeric(v) for v in vals) else len(vals)

        k_best = max((k for k, _ in tried), key=lambda k: (named(k), -k))
        try:
            resolve(_labels_one(cells, k_best))
            reason = ""
        except InputError as err:
            reason = str(err).rstrip(".")
        raise InputError(
            f"{reason} (row {nums[k_best]}{where} read as the header). No header was found on "
            f"rows {shown}, each tried alone and with the row below it as a two-row header. "
            f"Point at the header in the config: header_row = {nums[k_best]} (the row number "
            f"Excel shows; header_row = [{nums[k_best]}, {nums[k_best] + 1}] for a two-row "
            f"header).{sheets}"
        )
    _, k, size, labels, mapping = best
    if k or size > 1:
        log.info("%s%s: header on row(s) %s", path, where,
                 ", ".join(str(nums[k + i]) for i in range(size)))
    return _header(grid, k, size, labels, mapping)


def _header(grid: Grid, k: int, size: int, labels: list[str], mapping: dict[str, str]
            ) -> Header:
    body = grid.cells.iloc[k + size:].copy()
    body.columns = labels
    rows = grid.rows[k + size:]
    total = total_rows(body)
    return Header(frame=body.reset_index(drop=True), rows=rows,
                  header_rows=tuple(int(grid.rows[k + i]) for i in range(size)),
                  labels=labels, mapping=mapping, total=total, sheet=grid.sheet,
                  sheets=list(grid.sheets))


def total_rows(body: pd.DataFrame) -> np.ndarray:
    """True for rows that have a cell reading 合计, 小计, 总计 or 共计 (a total row)."""
    out = np.zeros(len(body), dtype=bool)
    for col in body.columns:  # per column, vectorized over the rows
        s = body[col]
        if s.dtype != object:
            continue
        text = s.where(s.map(lambda v: isinstance(v, str))).str.replace(r"\s+", "", regex=True)
        out |= text.str.match(_TOTAL).fillna(False).to_numpy(dtype=bool)
    return out


def column_letters(mapping: Mapping[str, str], labels: list[str]) -> dict[str, str]:
    """Field -> 'label (column C)' for messages and the check report."""
    pos = {lab: i for i, lab in enumerate(labels)}
    return {f: f"{lab} (column {_letter(pos[lab])})" if lab in pos else lab
            for f, lab in mapping.items()}
