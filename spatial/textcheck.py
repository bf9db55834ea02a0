"""Text that files cannot hold: control characters (NUL, BEL, ESC, …) in names and ids.

A NUL byte cuts a name short in GeoPackage and Shapefile attributes, and openpyxl refuses
control characters in an XLSX cell (after the whole run). Readers replace them by U+FFFD (�),
so the damage is visible, and warn naming the rows (:func:`replace_controls`); the XLSX writer
refuses whatever still holds one, naming the table, column and row (:func:`check_cells`).
Tab, line feed and carriage return are kept (Excel and GIS attributes hold them).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

from .errors import InputError

#: C0 controls but tab, LF, CR; DEL and the C1 controls (what XML 1.0 and DBF text cannot hold)
CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
REPLACEMENT = "\ufffd"


def text_mask(values: pd.Series, test: Callable[[str], bool]) -> np.ndarray:
    """Per value: True if it is text (``str``) and `test` holds for it.

    `test` runs once per distinct value (a national season's 1 M detections hold a few
    thousand distinct texts per column), not once per cell; missing values are False.
    """
    try:
        codes, uniq = pd.factorize(values, use_na_sentinel=True)
    except TypeError:  # unhashable values (lists): each cell
        return np.array([isinstance(v, str) and bool(test(v)) for v in values.tolist()],
                        dtype=bool)
    hits = np.array([isinstance(u, str) and bool(test(u)) for u in uniq.tolist()] + [False],
                    dtype=bool)
    return hits[codes]  # code -1 (missing) takes the appended False


def control_mask(values: pd.Series) -> np.ndarray:
    """Per value: True if it is text holding a control character."""
    return text_mask(values, lambda v: CONTROLS.search(v) is not None)


def replace_controls(values: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """(values with control characters replaced by U+FFFD, mask of the values changed)."""
    mask = control_mask(values)
    if not mask.any():
        return values, mask
    out = values.copy()
    out[mask] = values[mask].map(lambda v: CONTROLS.sub(REPLACEMENT, v))
    return out, mask


def check_cells(tables: Mapping[str, pd.DataFrame]) -> None:
    """Raise InputError naming table, column and row if a text cell holds a control character."""
    for name, df in tables.items():
        for col in df.columns:
            s = df[col]
            if not (s.dtype == object or pd.api.types.is_string_dtype(s.dtype)):
                continue
            mask = control_mask(s)
            if mask.any():
                i = int(np.flatnonzero(mask)[0])
                raise InputError(
                    f"table {name!r}, column {col!r}, row {i + 2}: the text {s.iloc[i]!r} holds "
                    "a control character, which an XLSX cell cannot hold; remove it from the "
                    "input (it came from there).")
