"""Read the tables and vector files analysts send, and turn them into validated WGS-84 frames.

Every reader returns a :class:`Table`: the usable rows (points as a GeoDataFrame in EPSG:4326,
x = lng, y = lat), the ``rejected`` rows with a reason each, and what was detected (encoding,
column mapping, declared CRS). Rows are never dropped silently. Problems that make a whole file
unusable (missing file or column, unreadable encoding, swapped coordinate columns) raise
:class:`~spatial.errors.InputError` naming the file, the column or rows, and the fix.

Encodings: UTF-8 (with or without BOM) first, then GB18030 (a superset of GBK/GB2312); a
Shapefile's ``.cpg`` is honoured, and a Shapefile without one is tried as UTF-8, then GB18030.
"""

from __future__ import annotations

import csv
import functools
import gzip
import io
import logging
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import coords, dedupe, headers, limits, progress, provenance, sources, textcheck
from .errors import InputError

log = logging.getLogger(__name__)

VECTOR_SUFFIXES = {".gpkg", ".shp", ".geojson", ".json", ".parquet", ".geoparquet", ".zip"}
TABLE_SUFFIXES = {".csv", ".txt", ".xlsx", ".xlsm", ".xls"}

TRUE_WORDS = {"true", "t", "yes", "y", "1", "是", "对", "√", "1.0"}
FALSE_WORDS = {"false", "f", "no", "n", "0", "否", "", "×", "0.0"}

# Headers recognised without a `columns` mapping, after normalisation (see `_norm_header`).
COMMON_ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("id", "编号", "代码", "序号", "站点编码", "监测点编码", "stationcode", "station_id"),
    # XZQMC/XZQDM: 行政区名称/代码 of land-survey (三调) and county GIS data
    "name": ("name", "名称", "单位名称", "企业名称", "站点名称", "监测点名称", "xzqmc",
             "行政区名称"),
    "lon": ("lon", "lng", "long", "longitude", "x", "经度", "东经"),
    "lat": ("lat", "latitude", "y", "纬度", "北纬"),
    "code": ("code", "adcode", "行政区划代码", "区划代码", "县区代码", "xzqdm", "行政区代码"),
    "county": ("county", "县区", "区县", "所属县区", "县(市、区)"),
}


@dataclass(frozen=True)
class Field:
    """One field an analysis reads from an input.

    Parameters
    ----------
    name
        Our field name (the README's input tables), e.g. ``"capacity_mw"``.
    kind
        ``"text"``, ``"float"``, ``"int"``, ``"bool"`` or ``"datetime"``.
    required
        Rows without a usable value are rejected; a file without the column is an error.
    aliases
        Headers recognised for it besides ``COMMON_ALIASES[name]``.
    """

    name: str
    kind: str = "text"
    required: bool = False
    aliases: tuple[str, ...] = ()


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


def sha256(path: Path) -> str:
    """Return the hex SHA-256 of a file (of every part of a Shapefile set, concatenated)."""
    return provenance.sha256(path)


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
        opts = dict(dtype=object, keep_default_na=False, na_values=[""], skipinitialspace=True,
                    engine="python")
        try:
            try:  # the separator is sniffed (comma, semicolon, tab)...
                df = pd.read_csv(io.StringIO(text), sep=None, **opts)
            except csv.Error:  # ...unless there is none to find (a one-column file)
                df = pd.read_csv(io.StringIO(text), sep=",", **opts)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error, UnicodeError,
                ValueError) as err:
            raise InputError(f"{path}: not a readable CSV table ({err}).") from None
        return df, enc
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


# --------------------------------------------------------------------------- columns


def _norm_header(h: object) -> str:
    s = unicodedata.normalize("NFKC", str(h)).strip().lower()
    return re.sub(r"\s+", "", s)


def _strip_unit(h: str) -> str:
    return re.sub(r"[(\[（].*?[)\]）]$", "", h)


def resolve_columns(headers: Sequence[object], fields: Sequence[Field],
                    mapping: Mapping[str, str] | None, *, path: Path | str, name: str
                    ) -> dict[str, str]:
    """Map our field names to the file's headers.

    A `mapping` entry (from the config's ``columns``) wins; otherwise the header is recognised
    from the field name, ``COMMON_ALIASES`` and the field's own aliases, case- and width-
    insensitively, ignoring a trailing unit in brackets (``装机容量(MW)``).

    Raises
    ------
    InputError
        A mapped header is absent, or a required field has no column.
    """
    mapping = dict(mapping or {})
    known = {f.name for f in fields}
    for key in mapping:
        if key not in known:
            raise InputError(
                f"{path}: `columns` maps unknown field '{key}' for input '{name}'; "
                f"known fields: {', '.join(sorted(known))}."
            )
    by_norm: dict[str, str] = {}
    for h in headers:
        by_norm.setdefault(_norm_header(h), str(h))
        by_norm.setdefault(_strip_unit(_norm_header(h)), str(h))
    found: dict[str, str] = {}
    for f in fields:
        if f.name in mapping:
            header = mapping[f.name]
            if header not in [str(h) for h in headers]:
                raise InputError(
                    f"{path}: column '{header}' (mapped to '{f.name}' in the config) is not in the "
                    f"file; its columns are: {', '.join(map(str, headers))}."
                )
            found[f.name] = header
            continue
        for alias in (f.name, *COMMON_ALIASES.get(f.name, ()), *f.aliases):
            hit = by_norm.get(_norm_header(alias))
            if hit is not None and hit not in found.values():
                found[f.name] = hit
                break
    missing = [f.name for f in fields if f.required and f.name not in found]
    if missing:
        example = ", ".join(f'{m} = "…"' for m in missing)
        raise InputError(
            f"{path}: input '{name}' has no column for required field(s) {', '.join(missing)}; "
            f"its columns are: {', '.join(map(str, headers))}. Name the columns in the config: "
            f"columns = {{ {example} }}."
        )
    return found


# --------------------------------------------------------------------------- values

_DMS = re.compile(
    r"^\s*(?P<d>[-+]?\d+(?:\.\d+)?)\s*[°度d:]\s*(?:(?P<m>\d+(?:\.\d+)?)\s*['′分m:]?\s*)?"
    r"(?:(?P<s>\d+(?:\.\d+)?)\s*(?:\"|″|''|′′|秒|s)?\s*)?(?P<h>[NSEWnsew]?)\s*$"
)


def parse_numbers(values: pd.Series) -> pd.Series:
    """Parse text to floats, accepting the ways numbers are typed in office files.

    Full-width digits, thousands separators (1,234.5), a decimal comma (116,52341, but not
    116,523, which reads as thousands) and degrees-minutes-seconds text are accepted.

    Unparseable text becomes NaN (the caller decides whether that rejects the row).
    """
    if pd.api.types.is_numeric_dtype(values):
        return values.astype("float64")
    # fast path: plain numbers (the bulk of a large file) need none of the clean-up below
    fast = pd.to_numeric(values, errors="coerce").astype("float64")
    is_bool = values.map(lambda v: isinstance(v, (bool, np.bool_))).to_numpy(dtype=bool)
    fast[is_bool] = np.nan  # True is not a number
    slow = fast.isna().to_numpy() & values.notna().to_numpy()
    if not slow.any():
        return fast
    fast.loc[slow] = _parse_awkward_numbers(values[slow])
    return fast


def _parse_awkward_numbers(values: pd.Series) -> pd.Series:
    """:func:`parse_numbers` for values that are not plain numbers."""
    s = values.map(lambda v: v if v is None or isinstance(v, (int, float)) else
                   unicodedata.normalize("NFKC", str(v)).strip())
    text = s.astype(object).where(s.notna(), None)
    as_str = text.map(lambda v: None if v is None else str(v))
    cleaned = as_str.str.replace(r"^([-+]?\d{1,3}(?:,\d{3})+(?:\.\d+)?)$",
                                 lambda m: m.group(1).replace(",", ""), regex=True)
    # a decimal comma (116,52 or 36,4512): one comma not followed by exactly three digits
    cleaned = cleaned.str.replace(r"^([-+]?\d+),(\d{1,2}|\d{4,})$", r"\1.\2", regex=True)
    out = pd.to_numeric(cleaned, errors="coerce").astype("float64")
    todo = out.isna() & as_str.notna()
    if todo.any():
        parts = as_str[todo].str.extract(_DMS)
        deg = pd.to_numeric(parts["d"], errors="coerce")
        mins = pd.to_numeric(parts["m"], errors="coerce").fillna(0.0)
        secs = pd.to_numeric(parts["s"], errors="coerce").fillna(0.0)
        ok = deg.notna() & (mins < 60) & (secs < 60)
        val = np.sign(deg).where(deg != 0, 1.0) * (deg.abs() + mins / 60 + secs / 3600)
        val = val.where(~parts["h"].str.upper().isin(["S", "W"]), -val)
        out.loc[todo] = val.where(ok)
    return out


def _missing(v: object) -> bool:
    """None, NaN, pd.NA or NaT (typed frames given in Python hold the last two)."""
    return v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and np.isnan(v))


def parse_bools(values: pd.Series) -> pd.Series:
    """Parse true/false, yes/no, 是/否, Y/N, 1/0 to booleans; anything else becomes NA."""
    norm = values.map(lambda v: None if _missing(v)
                      else unicodedata.normalize("NFKC", str(v)).strip().lower())
    out = pd.Series(pd.NA, index=values.index, dtype="boolean")
    out[norm.isin(TRUE_WORDS)] = True
    out[norm.isin(FALSE_WORDS) & norm.notna()] = False
    return out


def parse_text(values: pd.Series) -> pd.Series:
    """Text as str, stripped; numbers read from Excel as 12.0 become '12'; empty becomes None."""

    def one(v: object) -> str | None:
        if v is None or (isinstance(v, float) and np.isnan(v)):
            return None
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        s = str(v).strip()
        return s or None

    return values.map(one).astype(object)


def parse_datetimes(values: pd.Series, *, tz: str = "Asia/Shanghai") -> pd.Series:
    """Parse times; values without a zone are taken as local time `tz`. Bad values become NaT."""
    out = pd.to_datetime(values, errors="coerce", format="mixed")
    if getattr(out.dt, "tz", None) is None:
        out = out.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
    return out


_PARSERS = {"float": parse_numbers, "int": parse_numbers, "bool": parse_bools,
            "text": parse_text, "datetime": parse_datetimes}


# --------------------------------------------------------------------------- readers


def _file_rows(n: int, offset: int) -> np.ndarray:
    return np.arange(n, dtype=np.int64) + offset


def _reject(name: str, path: Path, rows: np.ndarray, ids: pd.Series, reason: str) -> pd.DataFrame:
    return pd.DataFrame({"input": name, "file": str(path), "row": rows.astype(np.int64),
                         "id": ids.astype(object).to_numpy(), "reason": reason})


def _rows_text(rows: np.ndarray, limit: int = 8) -> str:
    shown = ", ".join(str(r) for r in rows[:limit])
    return shown + (f" and {len(rows) - limit} more" if len(rows) > limit else "")


@dataclass
class _Parsed:
    frame: pd.DataFrame
    mapping: dict[str, str]
    row: np.ndarray
    ids: pd.Series
    warnings: list[str]
    rejected: list[pd.DataFrame]
    bad: np.ndarray


def _attributes(raw: pd.DataFrame | headers.Header, fields: Sequence[Field],
                columns: Mapping[str, str] | None, *, path: Path, name: str,
                skip_required: tuple[str, ...] = ()) -> _Parsed:
    """Find the columns of `fields` in `raw`, parse them, and reject rows missing required ones.

    `raw` is a vector file's frame (attribute names are the headers; first feature = row 1) or
    a table's :class:`~spatial.headers.Header` (found by :func:`read_records`; file row
    numbers as Excel shows them). Total rows (合计/小计) are rejected as such. Fields in
    `skip_required` are parsed but not checked here (coordinates are checked by the caller).
    """
    total = None
    if isinstance(raw, gpd.GeoDataFrame):
        attrs = pd.DataFrame(raw.drop(columns=raw.geometry.name))
        mapping = resolve_columns(list(attrs.columns), fields, columns, path=path, name=name)
        row = _file_rows(len(attrs), 1)
    else:
        attrs, mapping, row, total = raw.frame, raw.mapping, raw.rows, raw.total
    n = len(attrs)
    out = pd.DataFrame({"row": row}, index=attrs.index)
    warnings: list[str] = []
    for f in fields:
        src = attrs[mapping[f.name]] if f.name in mapping else pd.Series(
            [None] * n, index=attrs.index, dtype=object)
        out[f.name] = _PARSERS[f.kind](src)
        if f.kind == "text" and f.name in mapping:
            out[f.name], ctl = textcheck.replace_controls(out[f.name])
            if ctl.any():
                warnings.append(
                    f"{path}: column {mapping[f.name]!r}, rows {_rows_text(row[ctl])}: control "
                    "characters (e.g. NUL) that XLSX, GeoPackage and Shapefiles cannot hold "
                    "were replaced by '\ufffd'; correct them in the file.")
        if f.name in mapping and f.kind in ("float", "int", "bool", "datetime"):
            keep = ~total if total is not None else slice(None)
            note = _unparsed(src[keep], out[f.name][keep], row[keep], f, mapping[f.name],
                             path=path)
            if note:
                warnings.append(note)
    ids = out["id"] if "id" in out else pd.Series([None] * n, index=attrs.index)
    rejected = [empty_rejected()]
    bad = np.zeros(n, dtype=bool)
    if total is not None and total.any():
        # a 合计/小计 row sums the rows above it: it is not a record
        rejected.append(_reject(name, path, row[total], ids[total], "total row (合计/小计)"))
        bad |= total
    for f in fields:
        if f.required and f.name not in skip_required:
            miss = out[f.name].isna().to_numpy() & ~bad
            if miss.any():
                what = "empty" if f.kind == "text" else f"not a valid {f.kind}"
                rejected.append(_reject(name, path, row[miss], ids[miss],
                                        f"{f.name} ({mapping.get(f.name, f.name)}) {what}"))
                bad |= miss
    return _Parsed(out, mapping, row, ids, warnings, rejected, bad)


def read_points(path: Path | str, *, fields: Sequence[Field], name: str, crs: str = "wgs84",
                columns: Mapping[str, str] | None = None, sheet: str | int | None = None,
                header_row: int | Sequence[int] | None = None) -> Table:
    """Read a point input (CSV/XLSX with lon/lat columns, or a vector file of points).

    Parameters
    ----------
    path
        The file.
    fields
        The fields the analysis uses; ``lon``/``lat`` are added for tables.
    name
        Input name (``"boilers"``), used in messages and the ``rejected`` table.
    crs
        Declared coordinate system of lon/lat columns: ``wgs84``, ``cgcs2000``, ``gcj02``,
        ``bd09`` or an EPSG code. For vector files, their own CRS is used, and ``gcj02``/``bd09``
        declares that their (EPSG:4326-labelled) coordinates are in fact shifted.
    columns
        Config mapping from our field names to the file's headers.
    sheet
        XLSX sheet.
    header_row
        File row number of the header (or its two rows), when it cannot be found.

    Returns
    -------
    Table
        ``frame`` is a GeoDataFrame in EPSG:4326 (x = lng, y = lat) with our field names, a
        ``row`` column (file row number as Excel shows it: header = row 1 unless title rows
        come first; first feature = 1 for vector files), and ``lon``/``lat`` in WGS-84 degrees.
        ``source`` holds the file's own columns and, unless the input was WGS-84, the
        coordinates as given (``lon_gcj02``/``lat_gcj02``, ``x_epsg4547``/``y_epsg4547``, …).
    """
    path = Path(path)
    crs_name = coords.normalize_crs_name(crs)
    is_vector = path.suffix.lower() in VECTOR_SUFFIXES
    want = list(fields)
    names = {f.name for f in want}
    if not is_vector:
        for extra in (Field("lon", "float", True), Field("lat", "float", True)):
            if extra.name not in names:
                want.append(extra)
        raw, enc = read_records(path, fields=want, name=name, columns=columns, sheet=sheet,
                                header_row=header_row)
    else:
        headers.no_table_keys(path, name, header_row)
        raw, enc = read_raw(path, sheet=sheet, name=name)
    return points_from_raw(raw, enc, path=path, fields=want, name=name, crs_name=crs_name,
                           columns=columns, is_vector=is_vector)


def points_from_raw(raw: gpd.GeoDataFrame | headers.Header, enc: str | None, *, path: Path,
                    fields: Sequence[Field], name: str, crs_name: str,
                    columns: Mapping[str, str] | None = None, is_vector: bool | None = None
                    ) -> Table:
    """The points :func:`read_points` makes of a file's rows as read (vector frame or header).

    Also used for a user's own GeoDataFrame (:mod:`spatial.frames`); `path` names the source
    in messages. `fields` include ``lon``/``lat`` for tables; `crs_name` is normalised.
    """
    if is_vector is None:
        is_vector = isinstance(raw, gpd.GeoDataFrame)
    want = list(fields)
    parsed = _attributes(raw, want, columns, path=path, name=name, skip_required=("lon", "lat"))
    out, mapping, row, ids = parsed.frame, parsed.mapping, parsed.row, parsed.ids
    warnings, rejected, bad, n = parsed.warnings, parsed.rejected, parsed.bad, len(parsed.frame)
    source = sources.source_frame(raw, row)
    crs_read = ""
    if is_vector:
        crs_read = sources.crs_label(raw.crs)
        if raw.crs is None:
            warnings.append(f"{path}: no coordinate system (.prj); read as WGS-84 degrees.")
        sources.add_given_coords(source, raw, crs_name)
        out["lon"], out["lat"] = _vector_point_coords(raw, path=path, name=name)
    lon = out["lon"].to_numpy(dtype="float64")
    lat = out["lat"].to_numpy(dtype="float64")
    if not is_vector:
        sources.add_given_xy(source, lon, lat, crs_name)
    nan = (np.isnan(lon) | np.isnan(lat)) & ~bad
    if nan.any():
        rejected.append(_reject(name, path, row[nan], ids[nan],
                                "missing or unreadable coordinates"))
        bad |= nan
    zero = (lon == 0) & (lat == 0) & ~bad
    if zero.any():
        rejected.append(_reject(name, path, row[zero], ids[zero], "coordinates are 0, 0 (unknown)"))
        bad |= zero
    _check_swapped(lon[~bad], lat[~bad], row[~bad], crs_name, path=path, mapping=mapping)
    if not is_vector and crs_name not in ("wgs84", "cgcs2000", "gcj02", "bd09"):
        ok = ~bad
        lon_ok, lat_ok = coords.to_wgs84(lon[ok], lat[ok], crs_name)
        lon, lat = lon.copy(), lat.copy()
        lon[ok], lat[ok] = lon_ok, lat_ok
    rng = ((np.abs(lat) > 90) | (np.abs(lon) > 180)) & ~bad
    if rng.any():
        rejected.append(_reject(name, path, row[rng], ids[rng],
                                "coordinates out of range (longitude ±180, latitude ±90)"))
        bad |= rng
    good = ~bad
    if crs_name in ("gcj02", "bd09"):
        lon_g, lat_g = coords.to_wgs84(lon[good], lat[good], crs_name)
        lon, lat = lon.copy(), lat.copy()
        lon[good], lat[good] = lon_g, lat_g
    out["lon"], out["lat"] = lon, lat
    kept = out[good].reset_index(drop=True)
    gdf = gpd.GeoDataFrame(kept, geometry=gpd.points_from_xy(kept["lon"], kept["lat"]),
                           crs="EPSG:4326")
    rej = pd.concat(rejected, ignore_index=True).sort_values("row", kind="stable")
    if len(rej):
        log.info("%s: %d of %d rows rejected (see the rejected table)", path, len(rej), n)
    log.info("Read %d %s from %s (%s, crs %s)", len(gdf), name, path.name, enc, crs_name)
    return Table(name=name, path=path, frame=gdf, rejected=rej.reset_index(drop=True),
                 encoding=enc, columns=mapping, crs=crs_name, n_read=n, warnings=warnings,
                 source=source, crs_read=crs_read, **headers.layout(raw))


def _unparsed(src: pd.Series, parsed: pd.Series, row: np.ndarray, f: Field, header: str, *,
              path: Path) -> str | None:
    """Check a parsed column: mostly unreadable is an error; some unreadable is a warning.

    Unreadable values of a required field reject their rows (the caller does that), so they
    get no warning of their own.
    """
    given = src.map(lambda v: not _missing(v) and str(v).strip() != "").to_numpy(dtype=bool)
    bad = given & parsed.isna().to_numpy()
    if not bad.any():
        return None
    examples = ", ".join(repr(str(v)) for v in pd.unique(src[bad])[:3])
    if given.sum() >= 4 and bad.sum() > given.sum() / 2:
        raise InputError(
            f"{path}: column '{header}' ({f.name}) should hold a {f.kind} but {bad.sum()} of "
            f"{given.sum()} values cannot be read (e.g. {examples}); check that the config's "
            f"columns mapping names the right column, or clean the column."
        )
    if f.required:  # those rows are in the rejected table, with the reason
        return None
    return (f"{path}: column '{header}' ({f.name}): rows {_rows_text(row[bad])} are not a valid "
            f"{f.kind} (e.g. {examples}); read as empty.")


def _vector_point_coords(raw: gpd.GeoDataFrame, *, path: Path, name: str
                         ) -> tuple[np.ndarray, np.ndarray]:
    geom = raw.geometry
    if raw.crs is None:
        log.warning("%s has no CRS (.prj); assuming WGS-84 longitude/latitude", path)
    elif not raw.crs.equals("EPSG:4326"):
        geom = geom.to_crs("EPSG:4326")
    types = set(geom.geom_type.dropna())
    if types - {"Point"}:
        if types <= {"Point", "MultiPoint", "Polygon", "MultiPolygon"}:
            geom = geom.representative_point() if types - {"Point", "MultiPoint"} else geom.centroid
        else:
            raise InputError(f"{path}: input '{name}' must hold points; found {sorted(types)}.")
    empty = geom.isna() | geom.is_empty
    x = np.where(empty, np.nan, shapely.get_x(geom.where(~empty, shapely.Point(0, 0))))
    y = np.where(empty, np.nan, shapely.get_y(geom.where(~empty, shapely.Point(0, 0))))
    return x.astype("float64"), y.astype("float64")


def _check_swapped(lon: np.ndarray, lat: np.ndarray, rows: np.ndarray, crs: str, *, path: Path,
                   mapping: Mapping[str, str]) -> None:
    """Raise when the lon/lat columns look swapped (most rows have |lat| > 90, lon in lat range)."""
    if crs not in ("wgs84", "cgcs2000", "gcj02", "bd09") or len(lon) == 0:
        return
    metres = (np.abs(lon) > 1000) & (np.abs(lat) > 1000)
    if metres.mean() > 0.5:
        idx = np.flatnonzero(metres)
        raise InputError(
            f"{path}: rows {_rows_text(rows[idx])} have coordinates like {lon[idx[0]]:.1f}, "
            f"{lat[idx[0]]:.1f}: these are projected metres, not degrees. Declare the "
            'coordinate system in the config, e.g. crs = "EPSG:4547" (CGCS2000 3-degree zone, '
            'CM 114°E) or "EPSG:32650" (UTM 50N).'
        )
    swapped = (np.abs(lat) > 90) & (np.abs(lon) <= 90)
    china_swap = (lat > 70) & (lat < 140) & (lon > 0) & (lon < 56)
    if swapped.mean() > 0.5 or china_swap.mean() > 0.5:
        idx = np.flatnonzero(swapped | china_swap)
        lon_h, lat_h = mapping.get("lon", "lon"), mapping.get("lat", "lat")
        raise InputError(
            f"{path}: rows {_rows_text(rows[idx])} have latitude ({lat_h}) "
            f"{lat[idx[0]]:g} and longitude ({lon_h}) {lon[idx[0]]:g}: the longitude and latitude "
            "columns look swapped. Map them in the config: "
            f'columns = {{ lon = "{lat_h}", lat = "{lon_h}" }}.'
        )


def read_polygons(path: Path | str, *, fields: Sequence[Field], name: str, crs: str = "wgs84",
                  columns: Mapping[str, str] | None = None) -> Table:
    """Read a polygon input (counties, townships, zones) as a GeoDataFrame in EPSG:4326.

    Invalid geometries are repaired with ``shapely.make_valid`` (logged); empty or non-polygon
    geometries are rejected. A file without ``.prj`` is taken as WGS-84 (warned). ``crs`` =
    ``gcj02``/``bd09`` declares shifted coordinates, converted vertex by vertex.
    """
    path = Path(path)
    crs_name = coords.normalize_crs_name(crs)
    raw, enc = read_raw(path, name=name)
    if not isinstance(raw, gpd.GeoDataFrame):
        raise InputError(
            f"{path}: input '{name}' must be a polygon file (GeoPackage, Shapefile, GeoJSON, "
            "GeoParquet), not a table."
        )
    return polygons_from_raw(raw, enc, path=path, fields=fields, name=name, crs_name=crs_name,
                             columns=columns)


def polygons_from_raw(raw: gpd.GeoDataFrame, enc: str | None, *, path: Path,
                      fields: Sequence[Field], name: str, crs_name: str,
                      columns: Mapping[str, str] | None = None) -> Table:
    """The polygons :func:`read_polygons` makes of a vector file's frame as read.

    Also used for a user's own GeoDataFrame (:mod:`spatial.frames`); `path` names the source.
    """
    # attributes parsed as for points; the rejection reasons of polygons are decided below
    parsed = _attributes(raw, fields, columns, path=path, name=name,
                         skip_required=tuple(f.name for f in fields))
    out, mapping, row, warnings = parsed.frame, parsed.mapping, parsed.row, parsed.warnings
    crs_read = sources.crs_label(raw.crs)
    if raw.crs is None:
        warnings.append(f"{path}: no coordinate system (.prj); read as WGS-84 degrees.")
        raw = raw.set_crs("EPSG:4326")
    if crs_name not in ("wgs84", "cgcs2000", "gcj02", "bd09") and raw.crs.equals("EPSG:4326"):
        raw = raw.set_crs(crs_name, allow_override=True)
    geom = raw.geometry.to_crs("EPSG:4326") if not raw.crs.equals("EPSG:4326") else raw.geometry
    geom = gpd.GeoSeries(geom.to_numpy(), index=raw.index, crs="EPSG:4326")
    if crs_name in ("gcj02", "bd09"):
        geom = gpd.GeoSeries(
            shapely.transform(geom.to_numpy(),
                              lambda xy: np.column_stack(coords.to_wgs84(xy[:, 0], xy[:, 1],
                                                                         crs_name))),
            index=raw.index, crs="EPSG:4326")
    n = len(raw)
    ids = out["code"] if "code" in out else (out["id"] if "id" in out else
                                               pd.Series([None] * n, index=raw.index))
    rejected = [empty_rejected()]
    bad = (geom.isna() | geom.is_empty).to_numpy().copy()  # a writable mask
    if bad.any():
        rejected.append(_reject(name, path, row[bad], ids[bad], "empty geometry"))
    invalid = ~bad & ~shapely.is_valid(geom.to_numpy())
    if invalid.any():
        warnings.append(f"{path}: {invalid.sum()} invalid geometries repaired "
                        f"(rows {_rows_text(row[invalid])}).")
        fixed = shapely.make_valid(geom.to_numpy()[invalid])
        geom = geom.copy()
        geom.iloc[np.flatnonzero(invalid)] = [_polygonal(g) for g in fixed]
    kind = geom.geom_type.to_numpy()
    notpoly = ~bad & ~np.isin(kind, ["Polygon", "MultiPolygon"])
    if notpoly.any():
        rejected.append(_reject(name, path, row[notpoly], ids[notpoly],
                                "geometry is not a polygon"))
        bad |= notpoly
    for f in fields:
        if f.required:
            miss = out[f.name].isna().to_numpy() & ~bad
            if miss.any():
                rejected.append(_reject(name, path, row[miss], ids[miss], f"{f.name} is empty"))
                bad |= miss
    gdf = gpd.GeoDataFrame(out[~bad].reset_index(drop=True),
                           geometry=geom[~bad].reset_index(drop=True), crs="EPSG:4326")
    rej = pd.concat(rejected, ignore_index=True).sort_values("row", kind="stable")
    log.info("Read %d %s polygons from %s", len(gdf), name, path.name)
    return Table(name=name, path=path, frame=gdf, rejected=rej.reset_index(drop=True),
                 encoding=enc, columns=mapping, crs=crs_name, n_read=n, warnings=warnings,
                 source=sources.source_frame(raw, row), crs_read=crs_read)


def _polygonal(g: shapely.Geometry) -> shapely.Geometry:
    """Keep the polygonal part of a make_valid result (drops stray lines and points)."""
    if g.geom_type in ("Polygon", "MultiPolygon"):
        return g
    if g.geom_type == "GeometryCollection":
        polys = [p for p in shapely.get_parts(g) if p.geom_type in ("Polygon", "MultiPolygon")]
        if polys:
            return shapely.union_all(polys)
    return g


# --------------------------------------------------------------------------- points or polygons


def read_features(path: Path | str, *, fields: Sequence[Field], name: str, crs: str = "wgs84",
                  columns: Mapping[str, str] | None = None, sheet: str | int | None = None,
                  header_row: int | Sequence[int] | None = None) -> Table:
    """Read an input that may hold points or polygons (villages, communities, sites).

    CSV/XLSX tables and vector files of points are read by :func:`read_points`; vector files
    with any polygon are read by :func:`read_polygons` (same rejection rules: empty geometry,
    a point among polygons, an empty required field), and ``lon``/``lat`` are then set to each
    polygon's representative point (a point inside it, WGS-84 degrees).

    Parameters
    ----------
    path, fields, name, crs, columns, sheet, header_row
        As for :func:`read_points`.

    Returns
    -------
    Table
        ``frame`` is a GeoDataFrame in EPSG:4326 (x = lng, y = lat) with our field names,
        ``row``, ``lon``, ``lat``; its geometry is Points or (Multi)Polygons.
    """
    path = Path(path)
    if path.suffix.lower() not in VECTOR_SUFFIXES:
        return read_points(path, fields=fields, name=name, crs=crs, columns=columns, sheet=sheet,
                           header_row=header_row)
    headers.no_table_keys(path, name, header_row)
    raw, _ = read_raw(path, name=name)
    types = set(raw.geometry.geom_type.dropna())
    if not types & {"Polygon", "MultiPolygon"}:
        return read_points(path, fields=fields, name=name, crs=crs, columns=columns)
    table = read_polygons(path, fields=fields, name=name, crs=crs, columns=columns)
    rep = table.frame.geometry.representative_point()
    table.frame["lon"] = shapely.get_x(rep.to_numpy())
    table.frame["lat"] = shapely.get_y(rep.to_numpy())
    return table


# --------------------------------------------------------------------------- plain tables


def read_table(path: Path | str, *, fields: Sequence[Field], name: str,
               columns: Mapping[str, str] | None = None, sheet: str | int | None = None,
               header_row: int | Sequence[int] | None = None) -> Table:
    """Read a table without coordinates (CSV, XLSX, or a vector file's attributes).

    Parameters
    ----------
    path
        The file.
    fields
        The fields to read; required ones must have a column, and rows without a usable value
        for them are rejected.
    name
        Input name, for messages and the ``rejected`` table.
    columns
        Config mapping from our field names to the file's headers.
    sheet
        XLSX sheet.
    header_row
        File row number of the header (or its two rows), when it cannot be found.

    Returns
    -------
    Table
        ``frame`` is a plain DataFrame with a ``row`` column (file row number: header = 1) and
        one parsed column per field (absent optional fields are all-missing).
    """
    path = Path(path)
    if path.suffix.lower() in VECTOR_SUFFIXES:
        headers.no_table_keys(path, name, header_row)
        raw, enc = read_raw(path, sheet=sheet, name=name)
    else:
        raw, enc = read_records(path, fields=fields, name=name, columns=columns, sheet=sheet,
                                header_row=header_row)
    parsed = _attributes(raw, fields, columns, path=path, name=name)
    out, mapping, rejected, bad, n = (parsed.frame, parsed.mapping, parsed.rejected, parsed.bad,
                                      len(parsed.frame))
    rej = pd.concat(rejected, ignore_index=True).sort_values("row", kind="stable")
    log.info("Read %d %s rows from %s (%s)", int((~bad).sum()), name, path.name, enc)
    return Table(name=name, path=path, frame=out[~bad].reset_index(drop=True),
                 rejected=rej.reset_index(drop=True), encoding=enc, columns=mapping, n_read=n,
                 warnings=parsed.warnings, source=sources.source_frame(raw, parsed.row),
                 **headers.layout(raw))


# --------------------------------------------------------------------------- air readings

#: Pollutant columns of monitoring exports (national network: pm2_5, pm10, so2, no2, co, o3),
#: after header normalisation. ``*_24h`` / ``o3_8h`` rolling means are not matched.
POLLUTANT_ALIASES: dict[str, tuple[str, ...]] = {
    "pm25": ("pm25", "pm2_5", "pm2.5", "pm_2.5", "细颗粒物", "pm2.5浓度"),
    "pm10": ("pm10", "pm_10", "可吸入颗粒物", "pm10浓度"),
    "no2": ("no2", "二氧化氮"),
    "so2": ("so2", "二氧化硫"),
    "co": ("co", "一氧化碳"),
    "o3": ("o3", "臭氧", "o3_1h"),
}

READING_FIELDS = (
    Field("station_id", "text", True, ("stationcode", "station_code", "站点编码", "监测点编码",
                                       "站点编号", "station", "站点", "id", "编号", "设备编号")),
    Field("time", "text", False, ("timepoint", "datetime", "时间", "监测时间", "数据时间",
                                  "time_point", "采样时间")),
    Field("date", "text", False, ("日期", "day")),
    Field("hour", "float", False, ("小时", "时")),
    Field("pollutant", "text", False, ("污染物", "监测项目", "指标", "parameter", "item")),
    Field("value", "float", False, ("浓度", "监测值", "数值", "concentration", "值")),
    Field("lon", "float", False), Field("lat", "float", False),
)


def pollutant_key(label: object) -> str | None:
    """Our pollutant key (pm25, pm10, no2, so2, co, o3) for a column header or label, or None."""
    norm = _strip_unit(_norm_header(label))
    for key, aliases in POLLUTANT_ALIASES.items():
        if norm in {_norm_header(a) for a in aliases}:
            return key
    return None


def _station_wide(raw: pd.DataFrame, path: Path, name: str, first_row: int = 2
                  ) -> pd.DataFrame | None:
    """The national archive's day files (``date, hour, type, 1001A, 1002A, …``) to long rows."""
    heads = {_norm_header(c): c for c in raw.columns}
    if not {"date", "hour", "type"} <= set(heads):
        return None
    stations = [c for c in raw.columns if re.fullmatch(r"\d{4}A", str(c).strip())]
    if not stations:
        return None
    df = raw.rename(columns={heads["date"]: "_date", heads["hour"]: "_hour",
                             heads["type"]: "_type"})
    df["_row"] = _file_rows(len(df), first_row)
    long = df.melt(id_vars=["_date", "_hour", "_type", "_row"], value_vars=stations,
                   var_name="station_id", value_name="value")
    return pd.DataFrame({"row": long["_row"].to_numpy(),
                         "station_id": long["station_id"].str.strip(),
                         "date": long["_date"], "hour": parse_numbers(long["_hour"]),
                         "pollutant": long["_type"], "value": long["value"]})


def _parse_times(values: pd.Series, *, tz: str) -> pd.Series:
    """ISO 8601 times fast, anything else through :func:`parse_datetimes`; local zone `tz`."""
    text = values.astype(object).where(values.notna(), None)
    fast = pd.to_datetime(text, errors="coerce", format="ISO8601")
    if getattr(fast.dt, "tz", None) is None:
        fast = fast.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
    else:
        fast = fast.dt.tz_convert(tz)
    todo = fast.isna() & text.notna()
    if todo.any():
        fast = fast.astype(object)
        fast[todo] = parse_datetimes(text[todo], tz=tz).dt.tz_convert(tz)
        fast = pd.to_datetime(fast).dt.tz_convert(tz)
    return fast


def _readings_file(path: Path, *, name: str, columns: Mapping[str, str] | None,
                   sheet: str | int | None, tz: str
                   ) -> tuple[pd.DataFrame, list[pd.DataFrame], str | None, int]:
    """One file of :func:`read_readings`: (readings, rejected parts, encoding, rows read)."""
    raw, enc = read_raw(path, sheet=sheet, name=name)
    if isinstance(raw, gpd.GeoDataFrame):
        raw = pd.DataFrame(raw.drop(columns=raw.geometry.name))
    long, rejected = readings_from_raw(raw, path=path, name=name, columns=columns, tz=tz)
    return long, rejected, enc, len(raw)


def readings_from_raw(raw: pd.DataFrame, *, path: Path, name: str,
                      columns: Mapping[str, str] | None, tz: str, first_row: int = 2
                      ) -> tuple[pd.DataFrame, list[pd.DataFrame]]:
    """The readings (long rows) and rejected parts of one file's rows as read.

    Also used for a user's own DataFrame (:mod:`spatial.frames`, ``first_row`` 1; `path`
    names it in messages). Columns as :func:`read_readings` returns them.
    """
    rejected: list[pd.DataFrame] = []
    long = _station_wide(raw, path, name, first_row)
    mapping: dict[str, str] = {}
    if long is None:
        mapping = resolve_columns(list(raw.columns), READING_FIELDS, columns, path=path,
                                  name=name)
        row = _file_rows(len(raw), first_row)
        base = pd.DataFrame({"row": row, "station_id": parse_text(raw[mapping["station_id"]])})
        for key in ("time", "date"):
            base[key] = raw[mapping[key]].to_numpy() if key in mapping else None
        base["hour"] = parse_numbers(raw[mapping["hour"]]) if "hour" in mapping else np.nan
        for key in ("lon", "lat"):
            base[key] = parse_numbers(raw[mapping[key]]).to_numpy() if key in mapping \
                else np.nan
        if "pollutant" in mapping and "value" in mapping:
            base["pollutant"] = raw[mapping["pollutant"]].to_numpy()
            base["value"] = raw[mapping["value"]].to_numpy()
            long = base
        else:
            used = set(mapping.values())
            pcols = {c: pollutant_key(c) for c in raw.columns if c not in used}
            pcols = {c: k for c, k in pcols.items() if k is not None}
            if not pcols:
                raise InputError(
                    f"{path}: input '{name}' has no pollutant column (pm25/pm2_5/PM2.5, "
                    f"pm10, no2, so2, co, o3) and no pollutant+value columns; its columns "
                    f"are: {', '.join(map(str, raw.columns))}."
                )
            parts = []
            for col, key in pcols.items():
                part = base.copy()
                part["pollutant"] = key
                part["value"] = raw[col].to_numpy()
                parts.append(part)
            long = pd.concat(parts, ignore_index=True)
        if "time" not in mapping and "date" not in mapping:
            raise InputError(
                f"{path}: input '{name}' has no time column (time, timepoint, 时间, or date "
                f"+ hour); its columns are: {', '.join(map(str, raw.columns))}. Name it in "
                'the config: columns = { time = "…" }.'
            )
    for key in ("lon", "lat"):
        if key not in long:
            long[key] = np.nan
    long = long.reset_index(drop=True)
    if long["time"].isna().all() if "time" in long else True:
        day = parse_datetimes(long["date"].astype(object), tz=tz)
        hour = pd.to_numeric(long["hour"], errors="coerce").fillna(0.0)
        bad_hour = (hour < 0) | (hour > 24)
        t = day + pd.to_timedelta(hour.where(~bad_hour), unit="h")
    else:
        t = _parse_times(long["time"], tz=tz)
    long["time"] = t
    labels = pd.unique(long["pollutant"].dropna())  # a few labels, many rows: map each once
    long["pollutant"] = long["pollutant"].map({v: pollutant_key(v) for v in labels})
    long["value"] = parse_numbers(long["value"].astype(object))
    long["file"] = str(path)
    no_id = long["station_id"].isna().to_numpy()
    no_t = long["time"].isna().to_numpy() & ~no_id
    for mask, reason in ((no_id, "station id empty"),
                         (no_t, "time missing or unreadable")):
        if mask.any():
            rows = long.loc[mask, ["row", "station_id"]].drop_duplicates("row")
            rejected.append(_reject(name, path, rows["row"].to_numpy(), rows["station_id"],
                                    reason))
    keep = ~no_id & ~no_t & long["pollutant"].notna().to_numpy() & \
        long["value"].notna().to_numpy()
    return (long.loc[keep, ["station_id", "time", "pollutant", "value", "lon", "lat", "file",
                             "row"]], rejected)


def read_readings(paths: Sequence[Path | str] | Path | str, *, name: str = "readings",
                  columns: Mapping[str, str] | None = None, sheet: str | int | None = None,
                  tz: str = "Asia/Shanghai", map_files: MapFiles | None = None) -> Table:
    """Read air-quality readings (hourly or daily), long or wide, into one long table.

    Each file is read on its own (``map_files(func, paths)``, e.g. one task per file on a Dask
    engine; default: in turn, here); the results are put together in the order of the files.

    Recognised layouts (per file, several files are concatenated):

    - **wide**: station id, time, one column per pollutant (``pm25``/``pm2_5``/``PM2.5``/
      ``细颗粒物``, ``pm10``, ``no2``, ``so2``, ``co``, ``o3``); the national network's export
      (``timepoint, stationcode, longitude, latitude, aqi, pm2_5, pm2_5_24h, pm10, …``) is
      read as is (its ``*_24h`` rolling means and ``aqi`` are ignored);
    - **long**: station id, time, pollutant, value;
    - **station-wide** day files of the national archive: ``date, hour, type, 1001A, …``.

    Time is a ``time`` column, or ``date`` plus ``hour`` (0-23); times without a zone are local
    (`tz`). Values that are empty or not numbers (``—``) are missing, not rejected.

    Parameters
    ----------
    paths
        One file or several (CSV/XLSX).
    name
        Input name for messages.
    columns
        Config mapping of our field names (station_id, time, date, hour, pollutant, value, lon,
        lat) to headers.
    sheet
        XLSX sheet.
    tz
        Zone of times written without one.

    Returns
    -------
    Table
        ``frame``: columns ``station_id`` (text), ``time`` (tz-aware), ``pollutant`` (our
        key), ``value`` (float, as in the file: µg/m³, CO mg/m³), ``lon``, ``lat`` (NaN when the
        file has none), ``file``, ``row``; one row per reading with a value. Rows with an
        unreadable time or without a station id are in ``rejected``.
    """
    plist = [Path(p) for p in ([paths] if isinstance(paths, (str, Path)) else paths)]
    if not plist:
        raise InputError(f"input '{name}': no file given.")
    read = functools.partial(_readings_file, name=name, columns=columns, sheet=sheet, tz=tz)
    parts = map_files(read, plist) if map_files is not None else [
        read(p) for p in progress.track(plist, f"reading {name} files")]
    frames = [f for f, _, _, _ in parts]
    rejected = [empty_rejected()] + [r for _, rs, _, _ in parts for r in rs]
    encs = [e for _, _, e, _ in parts]
    n_read = sum(n for _, _, _, n in parts)
    frame = pd.concat(frames, ignore_index=True)
    frame["station_id"] = frame["station_id"].astype(object)
    frame, repeats = dedupe.repeated_readings(frame, name=name)  # never counted twice
    rej = pd.concat([*rejected, repeats], ignore_index=True)
    log.info("Read %d readings (%s) from %d file(s)", len(frame),
             ", ".join(sorted(frame["pollutant"].unique())), len(plist))
    enc = encs[0] if len(set(encs)) == 1 else ",".join(map(str, encs))
    return Table(name=name, path=plist[0], frame=frame, rejected=rej.reset_index(drop=True),
                 encoding=enc, columns=dict(columns or {}), n_read=n_read, paths=plist,
                 n_read_by_file={str(p): n for p, (_, _, _, n) in zip(plist, parts,
                                                                     strict=True)})
