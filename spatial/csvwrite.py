"""A table as CSV, byte for byte as ``DataFrame.to_csv`` writes it, each distinct value once.

``to_csv`` formats and quotes every cell (a national season's bulletin: ~900,000 rows ×
15 columns, ~10 s). Here each column's distinct values are written once by ``to_csv``
itself (one column, the file's quoting) and the rows are joined from them, so the text is
the same: UTF-8 with BOM, machine column names, no index, ``os.linesep`` line ends.
Columns whose values format one by one are covered (text, integers, floats, booleans, the
nullable integer and boolean types; a float column is told apart by its bits, so
``-0.0`` stays ``-0.0``); any other dtype (datetimes, categories, …), a one-column table,
or text holding the record separator U+001E (used inside) is written by ``to_csv`` as before.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

_SEP = "\x1e"  # after each distinct value's line: fields never hold it (checked)


def _codes(s: pd.Series) -> tuple[np.ndarray, np.ndarray] | None:
    """(code per row, first row of each code) with equal codes only for identical text."""
    dtype = s.dtype
    if isinstance(dtype, np.dtype) and dtype.kind == "f":
        key = s.to_numpy().view(f"i{dtype.itemsize}")  # the bits: -0.0 apart from 0.0
    elif isinstance(dtype, np.dtype) and dtype.kind in "iub":
        key = s.to_numpy()
    elif isinstance(dtype, pd.Int64Dtype | pd.Int32Dtype | pd.BooleanDtype):
        key = s
    elif pd.api.types.is_string_dtype(dtype) and not (
            dtype is np.dtype(object) and pd.api.types.infer_dtype(s, skipna=True) not in
            ("string", "empty")):
        key = s  # text only (an object column of 1, 1.0 and True would share a code)
    else:
        return None
    codes, uniq = pd.factorize(key, use_na_sentinel=False)
    if any(isinstance(u, str) and _SEP in u for u in uniq.tolist()):
        return None
    first = np.unique(codes, return_index=True)[1]
    return codes, first


def csv_text(df: pd.DataFrame) -> str | None:
    """The text ``df.to_csv(index=False)`` writes; None when not covered (see module)."""
    if df.shape[1] < 2 or len(df) == 0 or not df.columns.is_unique:
        return None
    columns = []
    for i in range(df.shape[1]):
        s = df.iloc[:, i]
        got = _codes(s)
        if got is None:
            return None
        codes, first = got
        one = s.iloc[first].to_frame()
        end = os.linesep + _SEP  # the file's line end (quoting as in the file), then _SEP
        cells = one.to_csv(index=False, header=False, lineterminator=end).split(end)[:-1]
        if len(cells) != len(first):
            return None
        # one field alone on a line: csv writes an empty one as "" (in the table it is empty)
        cells = ["" if c == '""' else c for c in cells]
        columns.append(np.array(cells, dtype=object)[codes])
    header = df.iloc[:0].to_csv(index=False)
    return header + os.linesep.join(map(",".join, zip(*columns, strict=True))) + os.linesep


def write_csv(df: pd.DataFrame, path: Path) -> None:
    """``df`` as CSV (UTF-8 with BOM, no index), as ``to_csv`` writes it."""
    text = csv_text(df)
    if text is None:
        df.to_csv(path, index=False, encoding="utf-8-sig")
        return
    Path(path).write_bytes(text.encode("utf-8-sig"))
