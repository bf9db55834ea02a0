"""A table as CSV text, byte for byte as ``DataFrame.to_csv(index=False)`` writes it, in bulk.

pandas writes a CSV row by row through Python's csv module (3.7 s for a national season's
880,000-row bulletin of 15 columns). Here each column is turned into text as pandas turns it
(floats once per distinct value by NumPy's ``astype(str)``, which is what pandas calls;
integers by Arrow's cast, the digits ``str`` gives; booleans by ``str``; text as it is; a
missing value empty), quoted as the csv module quotes with pandas' settings
(``QUOTE_MINIMAL``: a field holding the delimiter, the quote character or a character of the
line terminator is enclosed in quotes, its quotes doubled; which characters trigger it is
asked of the running Python's csv module, once), and the rows are joined by Arrow
(``binary_join_element_wise``), not a Python object per row. A table with a column of another
kind (dates, categories, objects that are not all text…) or a single column (the csv module
writes an empty lone field as ``""``) is not guessed: :func:`csv_text` returns None and
pandas writes it.
"""

from __future__ import annotations

import csv
import functools
import io
import os
import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .values import factorize_exact

DELIMITER, QUOTE = ",", '"'


@functools.cache
def _triggers(lineterminator: str) -> frozenset[str]:
    """The characters that make the csv module quote a field (pandas' dialect)."""
    out = set()
    for ch in {DELIMITER, QUOTE, "\r", "\n", *lineterminator}:
        buf = io.StringIO()
        csv.writer(buf, lineterminator=lineterminator, delimiter=DELIMITER,
                   quoting=csv.QUOTE_MINIMAL, doublequote=True, escapechar=None,
                   quotechar=QUOTE).writerow([f"a{ch}b", "c"])
        if buf.getvalue().startswith(QUOTE):
            out.add(ch)
    return frozenset(out)


def _quoted(texts: pa.Array, triggers: frozenset[str]) -> pa.Array:
    """Each text as a CSV field: quoted (quotes doubled) if it holds a trigger character."""
    pattern = "[" + re.escape("".join(sorted(triggers))) + "]"
    risky = pc.match_substring_regex(texts, pattern)
    if not pc.any(risky).as_py():
        return texts
    quote = pa.scalar(QUOTE, texts.type)
    quoted = pc.binary_join_element_wise(
        quote, pc.replace_substring(texts, QUOTE, QUOTE * 2), quote, pa.scalar("", texts.type))
    return pc.if_else(risky, quoted, texts)


def _field_texts(s: pd.Series, triggers: frozenset[str]) -> pa.Array | None:
    """Column `s` as Arrow strings, each its CSV field as pandas writes it; None: other."""
    dtype = s.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "iu":  # Arrow's digits are str()'s
        return pc.cast(pa.array(s.to_numpy()), pa.string())
    if isinstance(dtype, np.dtype) and dtype.kind in "bf":
        codes, uniq = factorize_exact(s.to_numpy())  # NaN: code -1, written empty
        texts = uniq.astype(str) if dtype.kind == "f" else [str(v) for v in uniq.tolist()]
        # (NumPy's text of a float is what pandas writes; Arrow's differs, e.g. 1e+16)
        table = pa.array([*texts, ""], type=pa.string())
        return table.take(pa.array(np.where(codes < 0, len(table) - 1, codes)))
    if isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow":
        arr = pa.array(s.array)
    elif dtype == np.dtype(object):
        if not all(type(v) is str for v in pd.unique(s.dropna().to_numpy())):
            return None  # numbers, dates…: pandas turns each into text its own way
        arr = pa.array(s.to_numpy(), type=pa.string(), from_pandas=True)
    else:
        return None
    arr = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
    return pc.fill_null(_quoted(arr, triggers), "")


def csv_text(df: pd.DataFrame, *, lineterminator: str = os.linesep) -> bytes | None:
    """``df.to_csv(index=False, lineterminator=...)`` as UTF-8 bytes, or None (not covered).

    `lineterminator`: pandas' default, ``os.linesep``. See the module docstring for what is
    covered; None means: let pandas write it.
    """
    if df.shape[1] < 2 or not all(isinstance(c, str) for c in df.columns) \
            or not df.columns.is_unique:
        return None
    triggers = _triggers(lineterminator)
    columns = []
    for name in df.columns:
        fields = _field_texts(df[name], triggers)
        if fields is None:
            return None
        columns.append(fields.cast(pa.large_string()))
    header = _quoted(pa.array(list(df.columns), type=pa.string()), triggers).to_pylist()
    head = (DELIMITER.join(header) + lineterminator).encode("utf-8")
    if not len(df):
        return head
    # each row its fields joined, then the line terminator: one buffer of the whole body
    rows = pc.binary_join_element_wise(*columns, pa.scalar(DELIMITER, pa.large_string()))
    lines = pc.binary_join_element_wise(rows, pa.scalar("", pa.large_string()),
                                        pa.scalar(lineterminator, pa.large_string()))
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int64)
    body = lines.buffers()[2]
    return head + body.to_pybytes()[offsets[lines.offset]:offsets[lines.offset + len(lines)]]
