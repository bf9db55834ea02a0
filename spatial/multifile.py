"""Inputs made of several files: read each one, put the rows together, never keep the first only.

``[inputs.boilers] path = ["b1.csv", "b2.csv"]`` (or a glob) is read file by file with the
input's own reader; the rows are concatenated in the order of the files, each with ``file``
(the file's path as given, relative to the config's folder where possible) and ``row`` (its
row in that file). Rejected rows keep their own ``file``. The table's ``paths`` lists every
file, so ``lantian check`` and the manifest name them all.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

import geopandas as gpd
import pandas as pd

from .errors import InputError
from .io import Table


def display_path(path: Path | str, base: Path | str | None) -> str:
    """`path` relative to the folder `base` (the config's), POSIX separators.

    Tables written by a run (``rejected``, ``file`` columns) and the manifest use this, so the
    same run started from another current folder writes the same tables. A path on another
    drive (Windows) is kept absolute.
    """
    p = Path(path)
    if base is not None:
        try:
            return Path(os.path.relpath(os.path.abspath(p), os.path.abspath(base))).as_posix()
        except ValueError:  # another drive (Windows)
            pass
    return p.as_posix()


def combine(tables: Sequence[Table], *, name: str, base: Path | str | None = None) -> Table:
    """One Table of every row of `tables` (one per file), with ``file`` and ``row`` per row."""
    if len(tables) == 1:
        return tables[0]
    frames, crs = [], None
    for t in tables:
        f = t.frame.copy()
        f.insert(0, "file", display_path(t.path, base))
        frames.append(f)
        if isinstance(t.frame, gpd.GeoDataFrame) and t.frame.crs is not None:
            crs = crs or t.frame.crs
    geo = all(isinstance(t.frame, gpd.GeoDataFrame) for t in tables)
    frame = pd.concat(frames, ignore_index=True)
    if geo:
        frame = gpd.GeoDataFrame(frame, geometry=tables[0].frame.geometry.name, crs=crs)
    rejected = pd.concat([t.rejected for t in tables], ignore_index=True)
    encodings = list(dict.fromkeys(t.encoding for t in tables if t.encoding))
    columns: dict[str, str] = {}
    for t in tables:
        for k, v in t.columns.items():
            columns.setdefault(k, v)
    # the input's own columns (spatial.sources), keyed by file and row like the frame
    sources = [t.source.assign(file=display_path(t.path, base)) for t in tables
               if t.source is not None]
    return Table(name=name, path=tables[0].path, frame=frame, rejected=rejected,
                 encoding=", ".join(encodings) or None, columns=columns, crs=tables[0].crs,
                 n_read=sum(t.n_read for t in tables),
                 paths=[p for t in tables for p in (t.paths or [t.path])],
                 n_read_by_file={str(t.path): t.n_read for t in tables},
                 warnings=[w for t in tables for w in t.warnings],
                 sheet=tables[0].sheet, sheets=tables[0].sheets,
                 header_rows=tables[0].header_rows,
                 ignored=list(dict.fromkeys(c for t in tables for c in t.ignored)),
                 source=pd.concat(sources, ignore_index=True) if sources else None,
                 crs_read=tables[0].crs_read)


def read_each(read_one: Callable[[Path], Table], paths: Sequence[Path], *, name: str,
              base: Path | str | None = None) -> Table:
    """Read every file of `paths` with ``read_one(path)`` and :func:`combine` them."""
    return combine([read_one(Path(p)) for p in paths], name=name, base=base)


def refuse_many(paths: Sequence[Path], *, name: str, config: object) -> None:
    """Raise InputError if an input meant to be one file was given several."""
    if len(paths) > 1:
        shown = ", ".join(str(p) for p in paths[:4]) + (" …" if len(paths) > 4 else "")
        raise InputError(f"{config}: [inputs.{name}] takes one file, but its path names "
                         f"{len(paths)} ({shown}); give one file (merge them first).")
