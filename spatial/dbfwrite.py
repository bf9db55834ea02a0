"""The records of a Shapefile's ``.dbf`` built in bulk, byte for byte as GDAL writes them.

GDAL writes a dBASE record field by field (~0.7 µs a field: ~30 s for a national season's
1 M detections with ~30 columns). Here each column is formatted once per distinct value and
the records are assembled as one fixed-width NumPy array (dBASE III layout: a 32-byte header,
32 bytes per field descriptor, ``0x0D``; then per record a blank deletion flag and each field
at its width; ``0x1A`` at the end). The header itself is GDAL's (written for the same fields
with no records, so field names, widths, language driver byte and date are GDAL's); only its
record count is set. Field formats, as GDAL's shapelib writes them:

- text (``C``): the value's bytes in the file's encoding, cut at a NUL, padded with blanks;
  a missing value is all blanks;
- numbers (``N``/``F``, width w, d decimals): C's ``%w.df`` (integers ``%wd``), right-aligned
  (``inf``, ``-inf`` too); a missing value or NaN is all ``*`` (dBASE's null).

Anything else (another field type, a value wider than its field, a text past the
field's width) is not guessed: :func:`records` returns None and the caller
writes the file through GDAL.
"""

from __future__ import annotations

import struct

import numpy as np
import pandas as pd


def fields_of(header: bytes) -> list[tuple[str, int, int]]:
    """(type letter, width, decimals) of each field descriptor of a dBASE III header."""
    header_len = struct.unpack("<H", header[8:10])[0]
    out = []
    for i in range((header_len - 33) // 32):
        d = header[32 + 32 * i: 64 + 32 * i]
        out.append((chr(d[11]), d[16], d[17]))
    return out


def _from_uniques(values: np.ndarray, mask: np.ndarray | None, width: int, fmt,
                  null: bytes) -> np.ndarray | None:
    """``S<width>`` cells: each distinct value formatted once by `fmt` (bytes per value).

    None if a formatted value is not exactly `width` bytes (wider than its field).
    """
    codes, uniq = pd.factorize(values, use_na_sentinel=False)
    if not len(values):
        return np.empty(0, dtype=f"S{width}")
    cells = fmt(uniq.tolist())
    # formatted numbers and padded texts are never shorter than the field: all exactly
    # `width` bytes iff their sum is (one C-level pass)
    if cells is None or sum(map(len, cells)) != width * len(cells):
        return None
    out = np.array(cells, dtype=f"S{width}")[codes]
    if mask is not None and mask.any():
        out[mask] = null
    return out


def _column(values: np.ndarray, mask: np.ndarray | None, kind: str, width: int, dec: int,
            encoding: str) -> np.ndarray | None:
    """One field's cells (``S<width>``) as GDAL writes them; None if not covered."""
    if kind == "C":
        if values.dtype.kind not in "UO":
            return None

        def fmt_text(uniq: list) -> list[bytes] | None:  # cut at a NUL as C's strncpy
            if not all(isinstance(v, str) for v in uniq):
                return None
            return [v.split("\0", 1)[0].encode(encoding).ljust(width, b" ") for v in uniq]
        return _from_uniques(values.astype(object), mask, width, fmt_text, b" " * width)
    if kind not in "NF" or values.dtype.kind not in "iuf":
        return None
    if values.dtype.kind in "iu":
        if dec:
            return None
        return _from_uniques(values, mask, width, lambda u: [b"%*d" % (width, v) for v in u],
                             b"*" * width)
    nan = np.isnan(values)  # GDAL writes NaN as a missing value; infinities as inf, -inf
    mask = nan if mask is None else (mask | nan)
    return _from_uniques(values.astype(np.float64), mask, width,
                         lambda u: [b"%*.*f" % (width, dec, v) for v in u], b"*" * width)


def records(header: bytes, data: list[np.ndarray], masks: list[np.ndarray | None],
            encoding: str) -> bytes | None:
    """The whole ``.dbf``: GDAL's `header` (fields, no records) with the records of `data`.

    `data`/`masks`: one array per field, in the header's order (text as NumPy ``U<n>`` or
    object arrays of ``str``, numbers as integer or float arrays; a mask True where the value
    is missing);
    `encoding`: Python codec of the text (``utf-8``, ``gbk``). None if a field or value is
    not covered (see the module docstring): then GDAL writes the file.
    """
    fields = fields_of(header)
    header_len, record_len = struct.unpack("<HH", header[8:12])
    if len(fields) != len(data) or record_len != 1 + sum(w for _, w, _ in fields):
        return None
    n = len(data[0]) if data else 0
    parts = []
    for (kind, width, dec), values, mask in zip(fields, data, masks, strict=True):
        if len(values) != n:
            return None
        col = _column(values, mask, kind, width, dec, encoding)
        if col is None:
            return None
        parts.append(col)
    rec = np.empty(n, dtype=[("_del", "S1")] + [(f"f{i}", f"S{w}")
                                                for i, (_, w, _) in enumerate(fields)])
    rec["_del"] = b" "
    for i, col in enumerate(parts):
        rec[f"f{i}"] = col
    return (header[:4] + struct.pack("<I", n) + header[8:header_len] + rec.tobytes()
            + b"\x1a")
