"""The records of a Shapefile's ``.dbf`` built in bulk, byte for byte as GDAL writes them.

GDAL writes a dBASE record field by field (~0.7 µs a field: ~30 s for a national season's
1 M detections with ~40 columns). Here each column is formatted once per distinct value into
a small matrix of cells (one row of ``width`` bytes per distinct value) and the records are
gathered from those matrices into one fixed-width byte array (dBASE III layout: a 32-byte
header, 32 bytes per field descriptor, ``0x0D``; then per record a blank deletion flag and
each field at its width; ``0x1A`` at the end). The header itself is GDAL's (written for the
same fields with no records, so field names, widths, language driver byte and date are
GDAL's); only its record count is set. Field formats, as GDAL's shapelib writes them:

- text (``C``): the value's bytes in the file's encoding, cut at a NUL, padded with blanks;
  a missing value is all blanks;
- numbers (``N``/``F``, width w, d decimals): C's ``%w.df`` (integers ``%wd``), right-aligned
  (``inf``, ``-inf`` too); a missing value or NaN is all ``*`` (dBASE's null).

Text columns come as :class:`Text` (distinct values and a code per row), so a column of 1 M
short texts is never 1 M Python strings. Anything else (another field type, a value wider
than its field, a text past the field's width) is not guessed: :func:`records` returns None
and the caller writes the file through GDAL.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from .values import factorize_exact

BLANK, STAR = 0x20, 0x2A
#: records filled per block (a few MB: one block stays in the CPU's cache)
BLOCK_ROWS = 4096


@dataclass(frozen=True)
class Text:
    """A text column: its distinct values and, per row, the position of its value.

    `codes`: one integer per row, -1 where the value is missing; `values`: the distinct
    texts (a list of ``str`` or an Arrow string array without nulls).
    """

    codes: np.ndarray
    values: list[str] | pa.Array

    @property
    def mask(self) -> np.ndarray:
        """True where the value is missing."""
        return self.codes < 0

    def strings(self, rows: slice = slice(None)) -> np.ndarray:
        """The rows' texts as an object array of ``str`` ("" where missing)."""
        codes = self.codes[rows]
        if not len(codes):
            return np.empty(0, dtype=object)
        values = self.values.to_pylist() if isinstance(self.values, pa.Array) else self.values
        table = np.array([*values, ""], dtype=object)
        return table[codes]  # code -1: the "" appended last


def fields_of(header: bytes) -> list[tuple[str, int, int]]:
    """(type letter, width, decimals) of each field descriptor of a dBASE III header."""
    header_len = struct.unpack("<H", header[8:10])[0]
    out = []
    for i in range((header_len - 33) // 32):
        d = header[32 + 32 * i: 64 + 32 * i]
        out.append((chr(d[11]), d[16], d[17]))
    return out


def _matrix(cells: list[bytes], width: int) -> np.ndarray | None:
    """Cells of exactly `width` bytes as a (len, width) byte matrix; None if one is not."""
    # formatted numbers and padded texts are never shorter than the field: all exactly
    # `width` bytes iff their sum is (one C-level pass)
    if sum(map(len, cells)) != width * len(cells):
        return None
    return np.array(cells, dtype=f"S{width}").view(np.uint8).reshape(len(cells), width)


def _utf8_matrix(values: pa.Array, width: int) -> np.ndarray | None:
    """Arrow strings as blank-padded UTF-8 cells, (len, width) bytes; None past `width`.

    The bytes are Arrow's own (UTF-8 already), scattered into the matrix without a Python
    object per value. None too if a value holds a NUL (cut there: the per-value path).
    """
    values = values.cast(pa.binary())
    k = len(values)
    offsets = np.frombuffer(values.buffers()[1], dtype=np.int32)[values.offset:
                                                                  values.offset + k + 1]
    start, stop = int(offsets[0]), int(offsets[-1])
    data = np.frombuffer(values.buffers()[2], dtype=np.uint8)[start:stop] if k else \
        np.empty(0, np.uint8)
    lengths = np.diff(offsets)
    if (lengths > width).any() or (data == 0).any():
        return None
    out = np.full((k, width), BLANK, dtype=np.uint8)
    rows = np.repeat(np.arange(k), lengths)
    cols = np.arange(len(data)) - np.repeat(offsets[:-1] - start, lengths)
    out[rows, cols] = data
    return out


def _text_cells(col: Text, width: int, encoding: str) -> np.ndarray | None:
    """The (distinct values, width) cells of a text column; None if a value is too wide."""
    values = col.values
    if isinstance(values, pa.Array):
        if encoding.lower().replace("_", "-") in ("utf-8", "utf8"):
            cells = _utf8_matrix(values, width)
            if cells is not None:
                return cells
        values = values.to_pylist()
    if not all(isinstance(v, str) for v in values):
        return None
    # cut at a NUL as C's strncpy
    return _matrix([v.split("\0", 1)[0].encode(encoding).ljust(width, b" ") for v in values],
                   width)


def _int_cells(values: np.ndarray, width: int) -> np.ndarray | None:
    """Integers as C's ``%<width>d`` cells, (len, width) bytes; None if one is wider.

    Digits by repeated division, all values at once (no Python call per value).
    """
    k = len(values)
    if values.dtype.kind == "u":
        neg, mag = np.zeros(k, dtype=bool), values.astype(np.uint64)
    else:  # magnitudes as unsigned: -2**63 too
        v = values.astype(np.int64)
        neg = v < 0
        mag = np.where(neg, (-(v + 1)).astype(np.uint64) + np.uint64(1), v.astype(np.uint64))
    digits = np.empty((20, k), dtype=np.uint8)  # a uint64 has at most 20 digits
    ndig = np.ones(k, dtype=np.int64)
    ten = np.uint64(10)
    for j in range(20):
        digits[j] = mag % ten
        mag //= ten
        if not mag.any():
            break
        ndig[mag > 0] = j + 2
    if (ndig + neg > width).any():
        return None
    out = np.full((k, width), BLANK, dtype=np.uint8)
    for j in range(int(ndig.max(initial=0))):
        sel = ndig > j
        out[sel, width - 1 - j] = digits[j][sel] + ord("0")
    out[neg, width - 1 - ndig[neg]] = ord("-")
    return out


def _number_cells(values: np.ndarray, mask: np.ndarray | None, kind: str, width: int,
                  dec: int) -> tuple[np.ndarray, np.ndarray] | None:
    """(codes, cells) of a numeric field: each distinct value formatted once, ``%w.df``."""
    if kind not in "NF" or values.dtype.kind not in "iuf":
        return None
    if values.dtype.kind in "iu":
        if dec:
            return None
        codes, uniq = pd.factorize(values)
        cells = _int_cells(uniq, width)
    else:
        nan = np.isnan(values)  # GDAL writes NaN as a missing value; infinities as inf, -inf
        mask = nan if mask is None else (mask | nan)
        # by bits: -0.0 is written -0.000…, as C's printf writes it
        codes, uniq = factorize_exact(values.astype(np.float64), use_na_sentinel=False)
        cells = _matrix([b"%*.*f" % (width, dec, v) for v in uniq.tolist()], width)
    if cells is None:
        return None
    if mask is not None and mask.any():
        codes = codes.copy()
        codes[mask] = -1
    return codes, cells


def records(header: bytes, data: list, masks: list[np.ndarray | None],
            encoding: str) -> np.ndarray | None:
    """The whole ``.dbf``: GDAL's `header` (fields, no records) with the records of `data`.

    `data`/`masks`: one column per field, in the header's order: text as :class:`Text`
    (its mask unused), numbers as integer or float arrays with a mask True where the value is
    missing (or None); `encoding`: Python codec of the text (``utf-8``, ``gbk``). Returns the
    file's bytes (a ``uint8`` array: ``Path.write_bytes`` takes it as it is), or None if a
    field or value is not covered (see the module docstring): then GDAL writes the file.
    """
    fields = fields_of(header)
    header_len, record_len = struct.unpack("<HH", header[8:12])
    if len(fields) != len(data) or record_len != 1 + sum(w for _, w, _ in fields):
        return None
    n = len(data[0].codes if isinstance(data[0], Text) else data[0]) if data else 0
    columns = []
    for (kind, width, dec), values, mask in zip(fields, data, masks, strict=True):
        if isinstance(values, Text):
            cells = _text_cells(values, width, encoding) if kind == "C" else None
            coded = None if cells is None else (values.codes, cells)
            null = BLANK
        else:
            coded = None if kind == "C" else _number_cells(values, mask, kind, width, dec)
            null = STAR
        if coded is None or len(coded[0]) != n:
            return None
        codes, cells = coded
        # a last row for the missing values: code -1 takes it
        columns.append((codes, np.vstack([cells, np.full((1, width), null, np.uint8)])))
    out = np.empty(header_len + n * record_len + 1, dtype=np.uint8)
    out[:header_len] = np.frombuffer(header[:4] + struct.pack("<I", n) + header[8:header_len],
                                     dtype=np.uint8)
    rec = out[header_len:-1].reshape(n, record_len)
    # gathered a block of records at a time: the block stays in the cache while its fields
    # are filled one column after the other (~2.5x faster than whole columns)
    for start in range(0, n, BLOCK_ROWS):
        block = rec[start:start + BLOCK_ROWS]
        block[:, 0] = BLANK  # not deleted
        pos = 1
        for codes, cells in columns:
            width = cells.shape[1]
            # "wrap": code -1 takes the last row, the missing value's
            np.take(cells, codes[start:start + BLOCK_ROWS], axis=0, mode="wrap",
                    out=block[:, pos:pos + width])
            pos += width
    out[-1] = 0x1A
    return out
