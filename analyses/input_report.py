"""What `lantian check` says it read: per input, the facts of the reading, not the declarations.

For each input: every file the config's path or glob matched (and whether it was read), rows
read, usable and rejected per file, the encoding, the sheet and the header rows used, the
coordinate system as read (a vector file's ``.prj``, e.g. ``EPSG:4547 (CGCS2000 / 3-degree
Gauss-Kruger CM 114E)``; a table's declared system), the columns recognised (field ← header)
and the columns present but not used.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from spatial import io


def _per_file(t: io.Table) -> list[tuple[str, int | None, int | None, int]]:
    """(file, rows read or None, usable rows or None, rejected rows) for each file read."""
    paths = [str(p) for p in (t.paths or [t.path])]
    rej = t.rejected
    frame = t.frame if isinstance(t.frame, pd.DataFrame) else pd.DataFrame()
    out = []
    for p in paths:
        if len(paths) == 1:
            read = t.n_read
            n_rej = int(rej[["file", "row"]].drop_duplicates().shape[0]) if len(rej) else 0
        else:
            read = t.n_read_by_file.get(p)
            mine = rej[rej["file"].astype(str) == p] if len(rej) else rej
            n_rej = int(mine[["file", "row"]].drop_duplicates().shape[0]) if len(mine) else 0
        usable: int | None
        if len(paths) == 1:
            usable = len(t.frame)
            if "file" in frame.columns and "row" in frame.columns and len(frame):
                usable = int(frame[["file", "row"]].drop_duplicates().shape[0])
        elif "file" in frame.columns and "row" in frame.columns:
            f = frame
            usable = int(f.loc[f["file"].astype(str) == p, "row"].nunique())
        else:
            usable = None
        out.append((p, read, usable, n_rej))
    return out


def _source_columns(t: io.Table) -> list[str]:
    if t.source is None:
        return []
    return [str(c) for c in t.source.columns
            if c != "row" and not str(c).startswith(("lon_", "lat_", "x_", "y_"))]


def describe(name: str, t: io.Table, cfg: Mapping[str, Any] | None = None) -> list[str]:
    """Lines of the check report for input `name` as read into `t`.

    `cfg` is the input's config entry (``paths``: every file its path or glob matched); a
    matched file the reader did not read is said so.
    """
    lines = [f"[{name}] {t.path}"]
    matched = [Path(p) for p in (cfg or {}).get("paths", [])]
    read = {str(p) for p in (t.paths or [t.path])}
    if len(matched) > 1 or (matched and str(matched[0]) not in read):
        lines.append(f"  files matched: {len(matched)}")
        for p in matched:
            flag = "" if str(p) in read else "   NOT READ"
            lines.append(f"    {p}{flag}")
    enc = t.encoding or "(binary format)"
    lines.append(f"  encoding {enc}")
    if t.sheet is not None:
        others = [s for s in t.sheets if s != t.sheet]
        more = f" (other sheets: {', '.join(others)})" if others else ""
        lines.append(f"  sheet '{t.sheet}'{more}")
    if t.header_rows:
        rows = " and ".join(map(str, t.header_rows))
        lines.append(f"  header on row{'s' if len(t.header_rows) > 1 else ''} {rows}; records "
                     f"from row {t.header_rows[-1] + 1}")
    crs_read = getattr(t, "crs_read", "") or ""
    if crs_read:  # a vector file: what its .prj says
        declared = f"; declared {t.crs}" if t.crs in ("gcj02", "bd09") else ""
        lines.append(f"  crs read from the file: {crs_read}{declared}")
    elif "lon" in t.columns or "lat" in t.columns:
        lines.append(f"  crs declared in the config: {t.crs} (a table has no .prj)")
    if t.columns:
        cols = ", ".join(f"{k} ← {v}" for k, v in t.columns.items())
        lines.append(f"  columns recognised: {cols}")
    ignored = list(t.ignored)
    if not ignored and t.source is not None and not t.header_rows:
        used = set(t.columns.values())
        ignored = [c for c in _source_columns(t) if c not in used]
    if ignored:
        lines.append(f"  columns not used: {', '.join(ignored)}")
    files = _per_file(t)
    usable = [u for _, _, u, _ in files]
    n_use = sum(usable) if None not in usable else len(t.frame)
    values = f" ({len(t.frame)} values)" if n_use != len(t.frame) else ""
    lines.append(f"  rows read {t.n_read}, usable {n_use}{values}, rejected {len(t.rejected)}")
    if len(files) > 1 and any(n is not None for _, n, _, _ in files):
        for p, n_read, usable, n_rej in files:
            r = "?" if n_read is None else str(n_read)
            u = "?" if usable is None else str(usable)
            lines.append(f"    {Path(p).name}: rows read {r}, usable {u}, rejected {n_rej}")
    if len(t.rejected):
        for reason, grp in t.rejected.groupby("reason", sort=False):
            rows = ", ".join(map(str, grp["row"].head(10)))
            more = f" and {len(grp) - 10} more" if len(grp) > 10 else ""
            lines.append(f"    {len(grp)} × {reason}: rows {rows}{more}")
    return lines


def rows_frame(tables: Mapping[str, io.Table]) -> pd.DataFrame:
    """One row per input file: input, file, rows read, usable, rejected (for scripts)."""
    recs = []
    for name, t in tables.items():
        for p, n_read, usable, n_rej in _per_file(t):
            recs.append({"input": name, "file": p, "rows_read": n_read, "rows_usable": usable,
                         "rows_rejected": n_rej})
    return pd.DataFrame(recs, columns=["input", "file", "rows_read", "rows_usable",
                                       "rows_rejected"])
