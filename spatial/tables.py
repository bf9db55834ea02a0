"""What a reader returns: an input's :class:`Table` and its table of rejected rows.

Split from :mod:`spatial.io` (which re-exports these names).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


@dataclass
class Table:
    """An input as read: usable rows, rejected rows and what was detected."""

    name: str
    path: Path
    frame: pd.DataFrame
    rejected: pd.DataFrame
    encoding: str | None = None
    columns: dict[str, str] = field(default_factory=dict)
    crs: str = "wgs84"
    n_read: int = 0
    #: every file read, when an input is several files (FIRMS downloads, rasters)
    paths: list[Path] = field(default_factory=list)
    #: rows read from each file (str path -> rows), when an input is several files
    n_read_by_file: dict[str, int] = field(default_factory=dict)
    #: things read that look wrong but did not stop the reading (shown by `lantian check`)
    warnings: list[str] = field(default_factory=list)
    #: workbooks: the sheet read and every sheet of the workbook
    sheet: str | None = None
    sheets: list[str] = field(default_factory=list)
    #: tables: file row number(s) of the header (two for a two-row header)
    header_rows: tuple[int, ...] = ()
    #: headers of columns with values that no field uses
    ignored: list[str] = field(default_factory=list)
    #: the input's own columns, as typed, one row per record read (``row`` = file row; for
    #: points declared gcj02/bd09/cgcs2000/EPSG also the coordinates as given, e.g.
    #: ``lon_gcj02``/``lat_gcj02``): see :mod:`spatial.sources`
    source: pd.DataFrame | None = None
    #: the coordinate system as read: the .prj of a vector file (``EPSG:4547 (CGCS2000 /
    #: 3-degree Gauss-Kruger CM 114E)``), else the declared one
    crs_read: str = ""


REJECTED_COLUMNS = ["input", "file", "row", "id", "reason"]

#: ``map_files(func, items) -> [func(x) for x in items]``, possibly run elsewhere (Dask tasks)
MapFiles = Callable[[Callable[[Any], Any], Sequence[Any]], list[Any]]


def empty_rejected() -> pd.DataFrame:
    """Return an empty ``rejected`` table with its columns."""
    return pd.DataFrame({c: pd.Series(dtype="object") for c in REJECTED_COLUMNS})



def file_rows(n: int, offset: int) -> np.ndarray:
    """File row numbers of `n` rows, the first being `offset`."""
    return np.arange(n, dtype=np.int64) + offset


def reject(name: str, path: Path, rows: np.ndarray, ids: pd.Series, reason: str) -> pd.DataFrame:
    """Rejected rows of input `name` (one `reason` for all), in :data:`REJECTED_COLUMNS`."""
    return pd.DataFrame({"input": name, "file": str(path), "row": rows.astype(np.int64),
                         "id": ids.astype(object).to_numpy(), "reason": reason})
