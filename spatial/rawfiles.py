"""Raw file reading: CSV/XLSX/vector files as they are, and their text encodings.

Encodings: UTF-8 (with or without BOM) first, then GB18030 (a superset of GBK/GB2312); a
Shapefile's ``.cpg`` is honoured, and a Shapefile without one is tried as UTF-8, then GB18030.
Nothing is parsed here. Split from :mod:`spatial.io` (which re-exports these names).
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Mapping, Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from . import headers, limits, provenance
from .columns import Field, resolve_columns
from .errors import InputError

VECTOR_SUFFIXES = {".gpkg", ".shp", ".geojson", ".json", ".parquet", ".geoparquet", ".zip"}
TABLE_SUFFIXES = {".csv", ".txt", ".xlsx", ".xlsm", ".xls"}


# --------------------------------------------------------------------------- encodings


def decode_bytes(data: bytes, *, path: Path | str) -> tuple[str, str]:
    """Decode file bytes as UTF-8 (BOM stripped) or else GB18030.

    Returns
    -------
    text, encoding
        ``encoding`` is ``"utf-8-sig"``, ``"utf-8"`` or ``"gb18030"``.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError as err:
        raise InputError(
            f"{path}: cannot decode the file as UTF-8 or GBK/GB18030 (byte {err.start}); "
            "save it from Excel as 'CSV UTF-8' and try again."
        ) from None


def _shp_encoding(path: Path) -> str | None:
    cpg = path.with_suffix(".cpg")
    if not cpg.exists():
        cpg = path.with_suffix(".CPG")
    if cpg.exists():
        text = cpg.read_text(encoding="ascii", errors="ignore").strip().lower()
        aliases = {"utf8": "utf-8", "utf-8": "utf-8", "65001": "utf-8", "gbk": "gbk", "936": "gbk",
                   "cp936": "gbk", "gb2312": "gbk", "gb18030": "gb18030"}
        return aliases.get(text, text or None)
    return None


# --------------------------------------------------------------------------- raw readers


def read_raw(path: Path | str, *, sheet: str | int | None = None, name: str = "input"
             ) -> tuple[pd.DataFrame, str | None]:
    """Read a CSV, XLSX or vector file as it is: text columns, geometry if it has one.

    Parameters
    ----------
    path
        The file. Vector files keep their own CRS (``frame.crs``).
    sheet
        XLSX sheet name or index (default: the first).
    name
        The input's name, for messages.

    Returns
    -------
    frame, encoding
        CSV/XLSX columns are strings (``object``), nothing is parsed yet.
    """
    path = Path(path)
    _check_file(path, name)
    suffix = path.suffix.lower()
    if path.stat().st_size == 0:
        raise InputError(f"{path}: the file is empty (0 bytes); export the {name} again.")
    gz = suffix == ".gz" and Path(path.stem).suffix.lower() in {".csv", ".txt"}  # table.csv.gz
    if suffix in {".csv", ".txt"} or gz:
        data = path.read_bytes()
        provenance.note_bytes(path, data)  # the hash of exactly the bytes read
        if gz:
            try:
                data = gzip.decompress(data)
            except (OSError, EOFError) as err:
                raise InputError(f"{path}: not a readable gzip file ({err}); compress it "
                                 "again or give the plain CSV.") from None
        text, enc = decode_bytes(data, path=path)
        if not text.strip():
            raise InputError(f"{path}: the file has no header and no rows; export it again.")
        return _csv_frame(text, path=path), enc
    provenance.note_file(path, again=True)  # hashed just before the library reads it
    if suffix in {".xlsx", ".xlsm", ".xls"}:
        limits.check_xlsx(path)
        try:
            df = pd.read_excel(path, sheet_name=0 if sheet is None else sheet, dtype=object)
        except ValueError as err:
            if sheet is not None and "worksheet" in str(err).lower():
                raise InputError(f"{path}: cannot read sheet {sheet!r}: {err}") from None
            raise InputError(f"{path}: not a readable Excel workbook ({err}).") from None
        except Exception as err:  # openpyxl raises many types for corrupt files
            raise InputError(f"{path}: not a readable Excel workbook ({err}).") from None
        df = df.map(lambda v: None if v is None or (isinstance(v, float) and np.isnan(v)) else v)
        return df, None
    if suffix in VECTOR_SUFFIXES:
        return _read_vector(path, name=name)
    raise InputError(
        f"{path}: unsupported file type '{suffix}' for input '{name}'; use CSV, XLSX, GeoPackage, "
        "Shapefile, GeoJSON or GeoParquet."
    )


_CSV_OPTS = dict(dtype=object, keep_default_na=False, na_values=[""], skipinitialspace=True)


def _csv_frame(text: str, *, path: Path) -> pd.DataFrame:
    """A decoded CSV's columns as text (``None``-free: empty cells are NaN), nothing parsed.

    The separator is sniffed from the first line (comma, semicolon, tab), a file without one
    is read as one column. The rules are pandas' python engine's (``sep=None``); a file
    without quote characters, where the engines cannot differ, is read by the C engine
    (5x faster: a national FIRMS season is a million rows), which falls back to the python
    engine on any parser error so that messages stay the same.
    """
    opts = dict(_CSV_OPTS, engine="python")
    try:
        if '"' not in text and "\r" not in text and "\x00" not in text:
            nl = text.find("\n")
            first = text if nl < 0 else text[:nl + 1]  # the line pandas sniffs (sep=None)
            try:
                sep = csv.Sniffer().sniff(first).delimiter
            except csv.Error:
                sep = ","
            if sep in (",", ";", "\t", "|"):
                try:
                    df = pd.read_csv(io.StringIO(text), sep=sep, engine="c", **_CSV_OPTS)
                except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError):
                    df = None  # read again below, for the python engine's own message
                # every line, the header's too, has all the fields: the python engine marks
                # the fields a short row lacks None (not NaN), so such a file is read by it
                if df is not None and isinstance(df.index, pd.RangeIndex) and \
                        text.count(sep) == (len(df.columns) - 1) * (len(df) + 1):
                    return df
        try:  # the separator is sniffed (comma, semicolon, tab)...
            return pd.read_csv(io.StringIO(text), sep=None, **opts)
        except csv.Error:  # ...unless there is none to find (a one-column file)
            return pd.read_csv(io.StringIO(text), sep=",", **opts)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error, UnicodeError,
            ValueError) as err:
        raise InputError(f"{path}: not a readable CSV table ({err}).") from None


def _check_file(path: Path, name: str) -> None:
    if not path.exists():
        raise InputError(f"{path}: file not found (input '{name}'); check `path` in the config.")
    if path.is_dir():
        raise InputError(f"{path}: is a folder, not a file (input '{name}').")
    gz_table = (path.suffix.lower() == ".gz"
                and Path(path.stem).suffix.lower() in {".csv", ".txt"})  # table.csv.gz
    if path.suffix.lower() not in TABLE_SUFFIXES | VECTOR_SUFFIXES and not gz_table:
        raise InputError(
            f"{path}: unsupported file type '{path.suffix.lower()}' for input '{name}'; use CSV "
            "(also .csv.gz), XLSX, GeoPackage, Shapefile, GeoJSON or GeoParquet."
        )
    if path.stat().st_size == 0:
        raise InputError(f"{path}: the file is empty (0 bytes); export the {name} again.")


def read_records(path: Path | str, *, fields: Sequence[Field], name: str,
                 columns: Mapping[str, str] | None = None, sheet: str | int | None = None,
                 header_row: int | Sequence[int] | None = None
                 ) -> tuple[headers.Header, str | None]:
    """Read a CSV or workbook table and return the records under its header.

    See :func:`spatial.headers.read_records` (title/info rows, two-row merged headers, 合计
    rows, `header_row`); the header is the row(s) under which `fields` are recognised.
    """
    path = Path(path)
    _check_file(path, name)

    def resolve(labels: list[str]) -> dict[str, str]:
        return resolve_columns(labels, fields, columns, path=path, name=name)

    return headers.read_records(path, resolve=resolve, decode=decode_bytes, sheet=sheet,
                                header_row=header_row, name=name)


def _read_vector(path: Path, *, name: str) -> tuple[gpd.GeoDataFrame, str | None]:
    suffix = path.suffix.lower()
    try:
        if suffix in {".parquet", ".geoparquet"}:
            return gpd.read_parquet(path), "utf-8"
        if suffix == ".shp":
            enc = _shp_encoding(path)
            if enc is not None:
                return gpd.read_file(path, encoding=enc), enc
            for enc in ("utf-8", "gb18030"):
                try:
                    return gpd.read_file(path, encoding=enc), enc
                except UnicodeDecodeError:
                    continue
            raise InputError(
                f"{path}: attribute text is neither UTF-8 nor GBK; add a .cpg file naming the "
                "encoding (e.g. a file with the single word GBK)."
            )
        return gpd.read_file(path), "utf-8"
    except InputError:
        raise
    except Exception as err:  # pyogrio/GDAL errors have many types
        raise InputError(f"{path}: cannot read this vector file ({err}).") from None
