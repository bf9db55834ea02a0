"""The 核查 (ground-check) round trip of fire events: the sheet sent out and the answers read back.

聊办字〔2017〕49号, 21: "凡发生秸秆焚烧的，一经查实，严格追究…责任" — a satellite event counts
for accountability once the township has checked it on the ground. The notice workbook's 核查
sheet lists one row per new event (code, county, township, village, time, coordinates in degrees
and in 度分秒) with an empty 核查结果 column (drop-down 属实 / 非秸秆焚烧 / 工业热源 / 未发现) and
备注. :func:`read_verification` reads the returned workbooks: any number of files and sheets, in
any order; a sheet is one whose header row holds 事件编号 and 核查结果.

工业热源 answers become known heat sources (``source = verified``) for detections on later local
dates (:func:`verified_sources`): the answered event stays as it was, so codes already sent out
keep their meaning.
"""

from __future__ import annotations

import io as _io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pandas as pd
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.worksheet.datavalidation import DataValidation

from spatial import geodesy, io, overlay
from spatial.errors import InputError

from .fire_accountability import ANSWERS

SHEET = "核查"
#: the 核查 sheet's columns: (header, events column or None for the blanks the township fills)
COLUMNS = (("事件编号", "event_code"), ("县区", "county_name"), ("乡镇", "township_name"),
           ("村", "village_name"), ("网格员", "keeper"), ("开始时间（北京时间）", "start_time"),
           ("火点数", "n_points"), ("经度", "lon"), ("纬度", "lat"), ("经度（度分秒）", "lon_dms"),
           ("纬度（度分秒）", "lat_dms"), ("周边敏感点", "receptors"), ("核查结果", None),
           ("备注", None))
WIDTHS = (20, 10, 18, 20, 10, 18, 7, 11, 11, 14, 14, 30, 14, 30)


def workbook_bytes(events: pd.DataFrame, *, title: str) -> bytes:
    """The notice workbook (``.xlsx`` bytes): a 核查 sheet with a drop-down, and a 说明 sheet.

    `events` are the events to check (columns of the events layer plus ``lon_dms``/``lat_dms``).
    Document dates are fixed so the same events give the same bytes.
    """
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = SHEET
    ws.append([h for h, _ in COLUMNS])
    for row in events.itertuples(index=False):
        r = row._asdict()
        ws.append([_cell(r.get(c)) if c else None for _, c in COLUMNS])
    head = Font(bold=True, name="黑体")
    for i, w in enumerate(WIDTHS, start=1):
        c = ws.cell(row=1, column=i)
        c.font, c.alignment = head, Alignment(horizontal="center", wrap_text=True)
        ws.column_dimensions[openpyxl.utils.get_column_letter(i)].width = w
    ans = [i for i, (h, _) in enumerate(COLUMNS, start=1) if h == "核查结果"][0]
    letter = openpyxl.utils.get_column_letter(ans)
    last = max(ws.max_row, 2)
    dv = DataValidation(type="list", formula1='"' + ",".join(ANSWERS) + '"', allow_blank=True,
                        showErrorMessage=True, errorTitle="核查结果",
                        error="请选择：" + "、".join(ANSWERS))
    dv.add(f"{letter}2:{letter}{last}")
    ws.add_data_validation(dv)
    fill = PatternFill("solid", fgColor="FFF2CC")
    for r in range(2, ws.max_row + 1):
        for col in (ans, ans + 1):
            ws.cell(row=r, column=col).fill = fill
    ws.freeze_panes = "B2"
    side = Side(style="thin", color="808080")
    for row in ws.iter_rows(min_row=1, max_row=ws.max_row, max_col=len(COLUMNS)):
        for c in row:
            c.border = Border(left=side, right=side, top=side, bottom=side)
    # printed on A4 landscape, one page wide, the header row on every page
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = "1:1"
    info = wb.create_sheet("说明")
    for line in (title,
                 "请各乡镇（街道）对“核查”表中每个火点事件进行现场核查，在“核查结果”列选择：",
                 "属实 — 现场确认为秸秆（农作物废弃物）露天焚烧；",
                 "非秸秆焚烧 — 其他火情（如垃圾、杂草以外的非农作物燃烧）；",
                 "工业热源 — 工矿企业等固定热源（今后该位置的卫星火点将按工业热源排除）；",
                 "未发现 — 现场未发现燃烧痕迹。",
                 "请勿修改“事件编号”；可在“备注”列说明情况。填好后将本表报回。"):
        info.append([line])
    info.column_dimensions["A"].width = 90
    fixed = pd.Timestamp("2000-01-01").to_pydatetime()
    wb.properties.created = wb.properties.modified = fixed
    wb.properties.creator = "lantian"
    buf = _io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _cell(v: Any) -> Any:
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
        return None
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating,)):
        return float(v)
    return v


def read_verification(paths: Sequence[Path], *, name: str = "verification") -> io.Table:
    """Read returned 核查 workbooks: every sheet with 事件编号 and 核查结果 headers.

    Rows without an answer are pending (not listed); answers other than
    属实 / 非秸秆焚烧 / 工业热源 / 未发现, and a second, different answer for an event already
    answered, are rejected with file, sheet and row. A workbook without such a sheet is an error.

    Returns
    -------
    spatial.io.Table
        ``frame``: ``event_code``, ``result``, ``remark``, ``lon``, ``lat``, ``start_time``,
        ``file``, ``sheet``, ``row`` (the sheet's row number, header = 1).
    """
    frames, rejected, n_read = [], [io.empty_rejected()], 0
    for path in paths:
        path = Path(path)
        if not path.exists():
            raise InputError(f"{path}: verification workbook not found.")
        try:
            wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except Exception as err:  # openpyxl raises many types for other files
            raise InputError(f"{path}: not a readable .xlsx workbook ({err}).") from None
        found = 0
        for ws in wb.worksheets:
            rows = list(ws.iter_rows(values_only=True))
            if not rows:
                continue
            head = [str(h).strip() if h is not None else "" for h in rows[0]]
            if "事件编号" not in head or "核查结果" not in head:
                continue
            found += 1
            df = pd.DataFrame(rows[1:], columns=head, dtype=object)
            df["_row"] = np.arange(2, len(df) + 2)
            code = io.parse_text(df["事件编号"])
            keep = code.notna().to_numpy()
            n_read += int(keep.sum())
            frames.append(pd.DataFrame({
                "event_code": code.to_numpy(dtype=object),
                "result": io.parse_text(df["核查结果"]).to_numpy(dtype=object),
                "remark": io.parse_text(df["备注"]).to_numpy(dtype=object)
                if "备注" in df else None,
                "lon": io.parse_numbers(df["经度"]).to_numpy() if "经度" in df else np.nan,
                "lat": io.parse_numbers(df["纬度"]).to_numpy() if "纬度" in df else np.nan,
                "start_time": io.parse_text(df["开始时间（北京时间）"]).to_numpy(dtype=object)
                if "开始时间（北京时间）" in df else None,
                "file": str(path), "sheet": ws.title, "row": df["_row"].to_numpy()})[keep])
        wb.close()
        if not found:
            raise InputError(f"{path}: no sheet with the headers 事件编号 and 核查结果; return the "
                             "核查 sheet of the notice workbook with its header row unchanged.")
    cols = ["event_code", "result", "remark", "lon", "lat", "start_time", "file", "sheet", "row"]
    f = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=cols)
    f = f[f["result"].notna()].reset_index(drop=True)
    bad = ~f["result"].isin(ANSWERS).to_numpy()
    valid = f[~bad]
    first_answer = valid.groupby("event_code")["result"].transform("first")
    conflict = np.zeros(len(f), bool)
    same = np.zeros(len(f), bool)
    conflict[valid.index.to_numpy()] = (valid["result"] != first_answer).to_numpy()
    same[valid.index.to_numpy()] = (valid.duplicated("event_code", keep="first")
                                    & (valid["result"] == first_answer)).to_numpy()
    for mask, reason in ((bad, "核查结果 must be one of " + "/".join(ANSWERS)),
                         (conflict, "a different 核查结果 for an event answered before")):
        if mask.any():
            r = f[mask]
            rejected.append(pd.DataFrame({"input": name,
                                          "file": (r["file"] + " [" + r["sheet"] + "]").values,
                                          "row": r["row"].values, "id": r["event_code"].values,
                                          "reason": reason}))
    out = f[~bad & ~conflict & ~same].reset_index(drop=True)
    rej = pd.concat(rejected, ignore_index=True)
    return io.Table(name=name, path=Path(paths[0]), frame=out, rejected=rej, encoding=None,
                    columns={}, crs="wgs84", n_read=n_read, paths=[Path(p) for p in paths])


def read_verification_input(cfg: dict[str, Any], spec: Any) -> io.Table:
    """Reader of the ``verification`` input (a workbook, a list or a glob)."""
    return read_verification(cfg["paths"], name=spec.name)


def unknown_codes(verif: pd.DataFrame, codes: Sequence[str], *, name: str = "verification",
                  after: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """Split answers into known ones and rejected rows for event codes not in `codes`.

    Answers for events that start after `after` (``YYYY-MM-DD``, a run for an earlier day) are
    set aside (their count is returned), not rejected.
    """
    known = verif["event_code"].isin(set(codes)).to_numpy()
    later = np.zeros(len(verif), bool)
    if after:
        code = verif["event_code"].astype(str)
        later = (~known & code.str.fullmatch(r"\d{8}-\d{4}-[0-9a-f]{4}")
                 & (code.str[:8] > after.replace("-", "")))
        later = np.asarray(later, bool)
    bad = ~known & ~later
    r = verif[bad]
    rej = pd.DataFrame({"input": name, "file": (r["file"] + " [" + r["sheet"] + "]").values,
                        "row": r["row"].values, "id": r["event_code"].values,
                        "reason": "unknown event code (事件编号): not an event of this run"})
    return verif[known].reset_index(drop=True), rej, int(later.sum())


def verified_sources(verif: pd.DataFrame) -> pd.DataFrame:
    """Heat sources from 工业热源 answers, at the coordinates of the returned sheet.

    Returns ``source`` (verified), ``id`` (``V<code>``), ``name``, ``kind``, ``lon``, ``lat``,
    ``after`` (the event's start date from its code: detections on later local dates are
    measured against the source). Answers without coordinates give no source.
    """
    v = verif[(verif["result"] == "工业热源") & verif["lon"].notna() & verif["lat"].notna()]
    code = v["event_code"].astype(str)
    after = code.str[:4] + "-" + code.str[4:6] + "-" + code.str[6:8]
    return pd.DataFrame({"source": "verified", "id": ("V" + code).to_numpy(dtype=object),
                         "name": "工业热源（乡镇核查）", "kind": "verified",
                         "lon": v["lon"].to_numpy(float), "lat": v["lat"].to_numpy(float),
                         "after": after.to_numpy(dtype=object)})


def match_verified(lng: np.ndarray, lat: np.ndarray, days: np.ndarray, sources: pd.DataFrame,
                   *, radius_km: float) -> np.ndarray:
    """Id of the verified source within `radius_km` of each detection on a later day, or None."""
    out = np.full(len(lng), None, dtype=object)
    if len(sources) == 0 or len(lng) == 0:
        return out
    ia, ib, _ = geodesy.pairs_within(lng, lat, sources["lon"].to_numpy(float),
                                     sources["lat"].to_numpy(float),
                                     distance=radius_km * 1000.0)
    later = days[ia] > sources["after"].to_numpy(dtype="datetime64[D]")[ib]
    j = overlay.first_per(ia[later], ib[later], len(lng))
    out[j >= 0] = sources["id"].to_numpy(dtype=object)[j[j >= 0]]
    return out
