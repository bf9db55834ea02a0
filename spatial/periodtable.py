"""The per-period values table of a GeoPackage, compact: (period, cell) is its row id.

A per-period layer (:mod:`spatial.periodstore`; pollution-hotspots' ``cells``) is stored as the
layer ``cells`` (one row per cell, with the hexagon) and the attribute table ``cell_values``
(one row per cell and period). A province-year of days is 11 M rows, so every byte of a row
counts: with the cell and the period as text, every double in 8 bytes and an index on (period,
cell), the table took ~116 bytes per row (1.3 GB for Shandong's 30,332 res-7 cells × 365 days).
Here it takes ~39 (442 MB):

* ``<values>_periods`` (``cell_values_periods``): one row per period — ``fid`` (the period's
  number, 1, 2, … in the order the layer's periods first appear), ``period`` (text, unique) and
  ``first_fid``/``last_fid``, the range of ``cell_values`` row ids that holds this period.
* ``<values>`` (``cell_values``): ``fid`` = (period ``fid`` − 1) × number of cells + the cell's
  ``fid`` in ``cells``. The table's INTEGER PRIMARY KEY thus *is* the (period, cell) index: one
  period is a range of row ids, read without scanning the year, and there is no second index
  to build or store (GeoPackage Requirement 119 wants the INTEGER PRIMARY KEY; GDAL cannot
  read ``WITHOUT ROWID`` tables). No text key or period is stored per row.
* Values the analysis already rounds to fixed decimals (``PeriodLayer.decimals``, e.g.
  ``value`` to 3) are stored exactly as scaled integers (``value_x1000``: 3 bytes instead of 8;
  SQLite stores every non-integral REAL in 8 bytes) beside a VIRTUAL generated column
  ``value REAL GENERATED ALWAYS AS (value_x1000 / 1000.0)``, which takes no space. SQLite's
  division is the IEEE division numpy's ``np.round(x, 3)`` ends with (``rint(x * 1000) / 1000``),
  so the double read back is bit-identical; the writer checks this for every value and keeps a
  column whose values are not all exact (or infinite) as REAL instead. A column computed in a
  view would have no declared type (GDAL 3.6 / QGIS 3.22 read it as String); a generated
  column declared REAL reads as Real everywhere.
* Text columns with few distinct values (``PeriodLayer.codes``, e.g. ``status``) are stored as
  a small integer (``status_code``: 0 and 1 take no bytes at all in SQLite's record format)
  beside a VIRTUAL generated ``status TEXT`` column (a ``CASE`` over the codes).
* The view ``<layer>_by_period`` (``cells_by_period``) joins the three and is registered as a
  feature layer: the old per-period layer, same columns, names, types and values.

Rows are written through ADBC's SQLite driver (``adbc_driver_sqlite``: Arrow columns bound in C),
in batches of :data:`CHUNK` rows: measured on 1.8 M rows, 1.9x faster than GDAL's Arrow writer
and 2.4x faster than Python's ``executemany``.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa

if TYPE_CHECKING:  # pragma: no cover
    from .periodstore import PeriodLayer

log = logging.getLogger(__name__)

#: at most this many distinct texts are stored as codes (a CASE per row reads them back)
MAX_CODES = 255
#: rows converted to Arrow at a time while writing (bounded memory for 11 M rows)
CHUNK = 1 << 20


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def periods_table(spec: PeriodLayer) -> str:
    """Name of the periods table of `spec` (``cell_values_periods``)."""
    return f"{spec.values}_periods"


def scaled_name(col: str, decimals: int) -> str:
    """Name of the stored integer column of a column kept to `decimals` (``value_x1000``)."""
    return f"{col}_x{10 ** decimals}"


def code_name(col: str) -> str:
    """Name of the stored code column of a coded text column (``status_code``)."""
    return f"{col}_code"


def _sql_type(s: pd.Series) -> str:
    """The column type GDAL declares for `s` (so that readers see the same field types)."""
    dt = s.dtype
    if pd.api.types.is_bool_dtype(dt):
        return "BOOLEAN"
    if pd.api.types.is_integer_dtype(dt):
        size = np.dtype(getattr(dt, "numpy_dtype", dt)).itemsize
        return {4: "MEDIUMINT", 2: "SMALLINT", 1: "SMALLINT"}.get(size, "INTEGER")
    if pd.api.types.is_float_dtype(dt):
        return "FLOAT" if np.dtype(getattr(dt, "numpy_dtype", dt)).itemsize == 4 else "REAL"
    if pd.api.types.is_string_dtype(dt) or pd.api.types.is_object_dtype(dt):
        return "TEXT"
    raise ValueError(f"column {s.name!r} ({dt}): not storable in a per-period values table "
                     "(numbers, booleans and text only)")


def _scale(x: np.ndarray, decimals: int) -> pa.Array:
    """``x × 10**decimals`` as an Arrow int64 array, NaN as null."""
    missing = np.isnan(x)
    with np.errstate(invalid="ignore"):
        k = np.rint(x * float(10 ** decimals))
    k[missing] = 0.0
    return pa.array(k.astype(np.int64), mask=missing)


def _exact(x: np.ndarray, decimals: int) -> bool:
    """Whether every value of `x` reads back identical from ``integer / 10**decimals``.

    That is SQLite's division of the stored integer, and numpy's: ``np.round(x, d)`` is
    ``rint(x * 10**d) / 10**d``, so a value the analysis rounded is the same double again
    (``-0.0`` counts as ``0.0``: SQLite has always stored a REAL ``-0.0`` as the integer 0).
    NaN is missing (NULL, as GDAL stores it); an infinity or a value past 2**52 units cannot
    be stored scaled. Checked in slices of :data:`CHUNK` rows (bounded memory).
    """
    f = float(10 ** decimals)
    for start in range(0, len(x), CHUNK):
        c = x[start:start + CHUNK]
        missing = np.isnan(c)
        if np.isinf(c).any():
            return False
        with np.errstate(invalid="ignore"):
            k = np.rint(c * f)
        k[missing] = 0.0
        if len(k) and np.abs(k).max() > 2.0 ** 52:
            return False
        if not ((k / f == c) | missing).all():
            return False
    return True


def _arrow(s: pd.Series) -> pa.Array:
    """`s` as one Arrow array (NaN and None as nulls)."""
    a = pa.array(s, from_pandas=True)
    return a.combine_chunks() if isinstance(a, pa.ChunkedArray) else a


def _row_order(fid: np.ndarray, n_cells: int, n_periods: int) -> np.ndarray | None:
    """Positions that put the rows in ascending `fid` (None if they are already)."""
    n = len(fid)
    if n == n_cells * n_periods:  # a full grid, cell by cell (pollution-hotspots): a transpose
        cell_major = np.arange(n, dtype=np.int64).reshape(n_cells, n_periods).T.ravel()
        if np.array_equal(fid[cell_major], np.arange(1, n + 1)):
            return cell_major
    if n < 2 or bool((np.diff(fid) > 0).all()):
        return None
    return np.argsort(fid, kind="stable")


def write(gpkg: Path, layer: str, values: pd.DataFrame, spec: PeriodLayer, *,
          cell_keys: np.ndarray, stamp: str, cell_no: np.ndarray | None = None) -> None:
    """Write ``spec.values`` and ``<values>_periods`` into `gpkg` (the layout of the module).

    Parameters
    ----------
    gpkg, layer
        The GeoPackage, which already holds `layer` (one row per cell, written by GDAL, fids
        1..n in the order of `cell_keys`).
    values
        The per-period values (:func:`spatial.periodstore.split`): key, period and value
        columns, one row per cell and period.
    cell_keys
        The cells' keys in the order of `layer`.
    cell_no
        Each row's cell as a position in `cell_keys` (from :func:`spatial.periodstore.split`
        with ``positions=True``); None: found from the key column.
    stamp
        ``last_change`` of the tables in ``gpkg_contents`` (fixed, so reruns are
        byte-identical).

    Raises ValueError if a cell and period has two rows, a key is not one of `cell_keys`, or
    a column cannot be stored.
    """
    import adbc_driver_sqlite.dbapi as adbc

    v, key, per = spec.values, spec.key, spec.period
    n_cells = len(cell_keys)
    if cell_no is None:  # cells are numbered in the order of their first row, as in split()
        cell_no, seen = pd.factorize(values[key], use_na_sentinel=False)
        if len(seen) != n_cells or not np.array_equal(np.asarray(seen, dtype=object),
                                                      np.asarray(cell_keys, dtype=object)):
            raise ValueError(f"{v}: the keys of the values are not the cells of layer "
                             f"{layer!r} in the order of their first row (see "
                             "periodstore.split)")
    elif len(cell_no) != len(values) or (n_cells and (cell_no.min() < 0 or
                                                       cell_no.max() >= n_cells)):
        raise ValueError(f"{v}: cell_no does not give a cell of layer {layer!r} per row")
    period_no, labels = pd.factorize(values[per], use_na_sentinel=False)
    labels = [str(p) for p in labels]
    fid = period_no.astype(np.int64) * n_cells + cell_no + 1
    order = _row_order(fid, n_cells, len(labels))
    sorted_fid = fid if order is None else fid[order]
    if len(sorted_fid) > 1 and not bool((np.diff(sorted_fid) > 0).all()):
        i = int((np.diff(sorted_fid) == 0).argmax())
        raise ValueError(f"{v}: two rows for cell {cell_keys[(sorted_fid[i] - 1) % n_cells]!r} "
                         f"and period {labels[(sorted_fid[i] - 1) // n_cells]!r}")
    del sorted_fid
    decimals, codes = dict(spec.decimals), set(spec.codes)
    names = set(values.columns)
    ddl = ['"fid" INTEGER PRIMARY KEY NOT NULL']
    # each stored column: its Arrow type and how to make the rows `idx` of it (in fid order)
    make = {"fid": (pa.int64(), lambda idx: pa.array(fid[idx]))}
    for col in values.columns:
        if col in (key, per):
            continue
        s = values[col]
        stored = None
        if col in decimals:
            x = s.to_numpy(dtype=np.float64, na_value=np.nan)
            if not _exact(x, decimals[col]):
                log.warning("%s.%s is not exactly %d-decimal: stored as REAL", v, col,
                            decimals[col])
            else:
                stored = scaled_name(col, decimals[col])
                make[stored] = (pa.int64(), lambda idx, x=x, d=decimals[col]: _scale(x[idx], d))
                expr = f"{_q(stored)} / {float(10 ** decimals[col])!r}"
                ddl += [f"{_q(stored)} INTEGER",
                        f"{_q(col)} REAL GENERATED ALWAYS AS ({expr}) VIRTUAL"]
        elif col in codes:
            code, cats = pd.factorize(s, use_na_sentinel=True)
            if 0 < len(cats) <= MAX_CODES and all(isinstance(c, str) for c in cats):
                stored = code_name(col)
                make[stored] = (pa.int64(), lambda idx, code=code: pa.array(
                    code[idx].astype(np.int64), mask=code[idx] < 0))
                case = " ".join(f"WHEN {i} THEN {_lit(c)}" for i, c in enumerate(cats))
                ddl += [f"{_q(stored)} INTEGER",
                        f"{_q(col)} TEXT GENERATED ALWAYS AS (CASE {_q(stored)} {case} END) "
                        "VIRTUAL"]
            elif len(cats):
                log.warning("%s.%s has %d distinct values or not only text: stored as text",
                            v, col, len(cats))
        if stored is None:
            stored, src = col, _arrow(s)
            make[col] = (src.type, lambda idx, src=src: src.take(pa.array(idx)))
            ddl.append(f"{_q(col)} {_sql_type(s)}")
        elif stored in names:
            raise ValueError(f"{v}: column {col!r} is stored as {stored!r}, which the layer "
                             "has already")
    schema = pa.schema([(k, t) for k, (t, _) in make.items()])

    def batches():  # CHUNK rows at a time in fid order: memory stays bounded
        for start in range(0, len(fid), CHUNK):
            idx = (np.arange(start, min(start + CHUNK, len(fid))) if order is None else
                   order[start:start + CHUNK])
            yield pa.record_batch([f(idx) for _, f in make.values()], schema=schema)

    pt = periods_table(spec)
    con = sqlite3.connect(gpkg)
    try:
        with con:
            got = con.execute(f"SELECT count(*), min(fid), max(fid) FROM {_q(layer)}").fetchone()
            if n_cells and tuple(got) != (n_cells, 1, n_cells):
                raise ValueError(f"{layer}: fids {got[1]}..{got[2]} of {got[0]} rows, not "
                                 f"1..{n_cells}")
            con.execute(f"CREATE TABLE {_q(pt)} (\"fid\" INTEGER PRIMARY KEY NOT NULL, "
                        f"{_q(per)} TEXT NOT NULL UNIQUE, \"first_fid\" INTEGER NOT NULL, "
                        "\"last_fid\" INTEGER NOT NULL)")
            con.executemany(f"INSERT INTO {_q(pt)} VALUES (?, ?, ?, ?)",
                            [(i + 1, p, i * n_cells + 1, (i + 1) * n_cells)
                             for i, p in enumerate(labels)])
            con.execute(f"CREATE TABLE {_q(v)} ({', '.join(ddl)})")
            for name, what in ((v, f"{layer}: one row per cell and period; fid = (period fid "
                                   f"in {pt} - 1) * {n_cells} + cell fid in {layer}"),
                               (pt, f"the periods of {v}: fid, text, its range of {v} fids")):
                con.execute("INSERT INTO gpkg_contents (table_name, data_type, identifier, "
                            "description, last_change) VALUES (?, 'attributes', ?, ?, ?)",
                            (name, name, what, stamp))
    finally:
        con.close()
    if len(fid):
        with adbc.connect(str(gpkg), autocommit=True) as db, db.cursor() as cur:
            # no journal, no fsync: the writer builds the folder beside the destination and
            # moves it into place only when complete (spatial.export)
            for pragma in ("journal_mode = OFF", "synchronous = OFF"):
                cur.execute(f"PRAGMA {pragma}")
                cur.fetchall()
            reader = pa.RecordBatchReader.from_batches(schema, batches())
            cur.adbc_ingest(v, reader, mode="append")  # one transaction, bound in C
    log.info("Wrote %s: %d rows (%d cells x %d periods), %s", v, len(fid), n_cells,
             len(labels), ", ".join(a for a in make if a != "fid"))


def view_sql(gpkg: Path, layer: str, spec: PeriodLayer, columns: Sequence[str]) -> str:
    """``CREATE VIEW <layer>_by_period``: the per-period layer's columns in `columns`' order.

    `columns`: the values frame's columns (key, period, values); then ``spec.per_cell`` and the
    geometry of `layer`. A filter on the period reads one range of row ids; one on the key one
    row id per period. The cell is joined by both ``c.fid = v.fid - first_fid + 1`` and
    ``v.fid = first_fid + c.fid - 1`` (the same condition) so that SQLite's planner can look
    rows up by row id from either side (``EXPLAIN QUERY PLAN`` in tests/test_periodtable.py).
    """
    v, pt = _q(spec.values), _q(periods_table(spec))
    con = sqlite3.connect(gpkg)
    try:
        geom = con.execute("SELECT column_name FROM gpkg_geometry_columns WHERE table_name = ?",
                           (layer,)).fetchone()[0]
    finally:
        con.close()
    src = {spec.key: "c", spec.period: "p"}
    cols = ["v.\"fid\" AS \"fid\""] + [f"{src.get(c, 'v')}.{_q(c)} AS {_q(c)}" for c in columns]
    cols += [f"c.{_q(c)} AS {_q(c)}" for c in spec.per_cell] + [f"c.{_q(geom)} AS {_q(geom)}"]
    return (f"CREATE VIEW {_q(spec.view(layer))} AS SELECT {', '.join(cols)} "
            f"FROM {pt} AS p JOIN {v} AS v ON v.\"fid\" BETWEEN p.\"first_fid\" AND "
            f"p.\"last_fid\" JOIN {_q(layer)} AS c ON c.\"fid\" = v.\"fid\" - p.\"first_fid\" + 1 "
            f"AND v.\"fid\" = p.\"first_fid\" + c.\"fid\" - 1")


def read(gpkg: Path, layer: str, spec: PeriodLayer) -> pd.DataFrame:
    """The values frame :func:`write` stored: key, period and value columns, as written.

    Rows cell by cell (cells in the order of `layer`), each cell's periods in the order of the
    periods table: the order of a layer that was written cell by cell (pollution-hotspots').
    Value columns are read through GDAL from the logical (generated) columns, so they have the
    types GDAL gives the view.
    """
    import pyogrio

    con = sqlite3.connect(f"file:{Path(gpkg).as_posix()}?mode=ro", uri=True)
    try:
        keys = np.array([r[0] for r in con.execute(
            f"SELECT {_q(spec.key)} FROM {_q(layer)} ORDER BY fid")], dtype=object)
        per = con.execute(f"SELECT {_q(spec.period)}, first_fid FROM "
                          f"{_q(periods_table(spec))} ORDER BY fid").fetchall()
        view_cols = [r[1] for r in con.execute(f"PRAGMA table_info({_q(spec.view(layer))})")]
    finally:
        con.close()
    skip = {"fid", *spec.per_cell}
    columns = [c for c in view_cols[:-1] if c not in skip]  # the last is the geometry
    stored = [c for c in columns if c not in (spec.key, spec.period)]
    df = pyogrio.read_dataframe(gpkg, layer=spec.values, columns=stored, read_geometry=False,
                                fid_as_index=True, use_arrow=True)
    fid = df.index.to_numpy(dtype=np.int64)
    first = np.array([p[1] for p in per], dtype=np.int64)
    labels = np.array([p[0] for p in per], dtype=object)
    p_no = np.searchsorted(first, fid, side="right") - 1
    c_no = fid - first[p_no]
    order = np.argsort(c_no * max(len(per), 1) + p_no, kind="stable")
    out = df.iloc[order].reset_index(drop=True)
    out.insert(0, spec.key, pd.array(keys[c_no[order]], dtype=_text_dtype(df)))
    out.insert(1, spec.period, pd.array(labels[p_no[order]], dtype=_text_dtype(df)))
    return out[columns]


def _text_dtype(df: pd.DataFrame):
    """The dtype GDAL's reader gives text columns (``str`` under pandas 3, else object)."""
    for c in df.columns:
        if pd.api.types.is_string_dtype(df[c].dtype) and df[c].dtype != object:
            return df[c].dtype
    return pd.Series(["a"]).dtype

