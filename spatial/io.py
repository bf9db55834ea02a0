"""Read the tables and vector files analysts send, and turn them into validated WGS-84 frames.

Every reader returns a :class:`Table`: the usable rows (points as a GeoDataFrame in EPSG:4326,
x = lng, y = lat), the ``rejected`` rows with a reason each, and what was detected (encoding,
column mapping, declared CRS). Rows are never dropped silently. Problems that make a whole file
unusable (missing file or column, unreadable encoding, swapped coordinate columns) raise
:class:`~spatial.errors.InputError` naming the file, the column or rows, and the fix.

The pieces live in their own modules and their names stay importable from here: raw files and
encodings :mod:`spatial.rawfiles`, header matching :mod:`spatial.columns`, cell values
:mod:`spatial.values`, the :class:`Table` :mod:`spatial.tables`, air readings
:mod:`spatial.readings`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import coords, headers, provenance, sources, textcheck
from .columns import COMMON_ALIASES as COMMON_ALIASES
from .columns import Field as Field
from .columns import resolve_columns
from .errors import InputError
from .rawfiles import TABLE_SUFFIXES as TABLE_SUFFIXES
from .rawfiles import VECTOR_SUFFIXES as VECTOR_SUFFIXES
from .rawfiles import decode_bytes as decode_bytes
from .rawfiles import read_raw as read_raw
from .rawfiles import read_records as read_records
from .readings import POLLUTANT_ALIASES as POLLUTANT_ALIASES
from .readings import READING_FIELDS as READING_FIELDS
from .readings import pollutant_key as pollutant_key
from .readings import read_readings as read_readings
from .readings import readings_from_raw as readings_from_raw
from .tables import REJECTED_COLUMNS as REJECTED_COLUMNS
from .tables import MapFiles as MapFiles
from .tables import Table as Table
from .tables import empty_rejected as empty_rejected
from .tables import file_rows, reject
from .values import FALSE_WORDS as FALSE_WORDS
from .values import PARSERS, is_missing
from .values import TRUE_WORDS as TRUE_WORDS
from .values import parse_bools as parse_bools
from .values import parse_datetimes as parse_datetimes
from .values import parse_numbers as parse_numbers
from .values import parse_text as parse_text

log = logging.getLogger(__name__)


def sha256(path: Path) -> str:
    """Return the hex SHA-256 of a file (of every part of a Shapefile set, concatenated)."""
    return provenance.sha256(path)


# --------------------------------------------------------------------------- readers


def _rows_text(rows: np.ndarray, limit: int = 8) -> str:
    shown = ", ".join(str(r) for r in rows[:limit])
    return shown + (f" and {len(rows) - limit} more" if len(rows) > limit else "")


@dataclass
class Parsed:
    """What :func:`parse_attributes` found in a file's attributes.

    The parsed frame (one column per field found), the field -> source column mapping, each
    row's file row number and id, warnings, the rejected rows' tables and the rows rejected
    (boolean, one per input row).
    """

    frame: pd.DataFrame
    mapping: dict[str, str]
    row: np.ndarray
    ids: pd.Series
    warnings: list[str]
    rejected: list[pd.DataFrame]
    bad: np.ndarray


def parse_attributes(raw: pd.DataFrame | headers.Header, fields: Sequence[Field],
                columns: Mapping[str, str] | None, *, path: Path, name: str,
                skip_required: tuple[str, ...] = ()) -> Parsed:
    """Find the columns of `fields` in `raw`, parse them, and reject rows missing required ones.

    `raw` is a vector file's frame (attribute names are the headers; first feature = row 1) or
    a table's :class:`~spatial.headers.Header` (found by :func:`read_records`; file row
    numbers as Excel shows them). Total rows (合计/小计) are rejected as such. Fields in
    `skip_required` are parsed but not checked here (coordinates are checked by the caller).
    Shared by the point, polygon, line and table readers (spatial.io, .frames, .lines).
    """
    total = None
    if isinstance(raw, gpd.GeoDataFrame):
        attrs = pd.DataFrame(raw.drop(columns=raw.geometry.name))
        mapping = resolve_columns(list(attrs.columns), fields, columns, path=path, name=name)
        row = file_rows(len(attrs), 1)
    else:
        attrs, mapping, row, total = raw.frame, raw.mapping, raw.rows, raw.total
    n = len(attrs)
    out = pd.DataFrame({"row": row}, index=attrs.index)
    warnings: list[str] = []
    for f in fields:
        src = attrs[mapping[f.name]] if f.name in mapping else pd.Series(
            [None] * n, index=attrs.index, dtype=object)
        out[f.name] = PARSERS[f.kind](src)
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
        rejected.append(reject(name, path, row[total], ids[total], "total row (合计/小计)"))
        bad |= total
    for f in fields:
        if f.required and f.name not in skip_required:
            miss = out[f.name].isna().to_numpy() & ~bad
            if miss.any():
                what = "empty" if f.kind == "text" else f"not a valid {f.kind}"
                rejected.append(reject(name, path, row[miss], ids[miss],
                                        f"{f.name} ({mapping.get(f.name, f.name)}) {what}"))
                bad |= miss
    return Parsed(out, mapping, row, ids, warnings, rejected, bad)


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
    parsed = parse_attributes(raw, want, columns, path=path, name=name,
                              skip_required=("lon", "lat"))
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
        rejected.append(reject(name, path, row[nan], ids[nan],
                                "missing or unreadable coordinates"))
        bad |= nan
    zero = (lon == 0) & (lat == 0) & ~bad
    if zero.any():
        rejected.append(reject(name, path, row[zero], ids[zero], "coordinates are 0, 0 (unknown)"))
        bad |= zero
    _check_swapped(lon[~bad], lat[~bad], row[~bad], crs_name, path=path, mapping=mapping)
    if not is_vector and crs_name not in ("wgs84", "cgcs2000", "gcj02", "bd09"):
        ok = ~bad
        lon_ok, lat_ok = coords.to_wgs84(lon[ok], lat[ok], crs_name)
        lon, lat = lon.copy(), lat.copy()
        lon[ok], lat[ok] = lon_ok, lat_ok
    rng = ((np.abs(lat) > 90) | (np.abs(lon) > 180)) & ~bad
    if rng.any():
        rejected.append(reject(name, path, row[rng], ids[rng],
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
    given = src.map(lambda v: not is_missing(v) and str(v).strip() != "").to_numpy(dtype=bool)
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


def vector_wgs84(raw: gpd.GeoDataFrame, crs_name: str, *, path: Path,
                 warnings: list[str]) -> np.ndarray:
    """The geometries of a vector file's frame in WGS-84 degrees (x = lng, y = lat).

    No ``.prj``: read as WGS-84, with a warning appended to `warnings`. A declared `crs_name`
    other than the named ones (e.g. ``"EPSG:4547"``) overrides a frame read as WGS-84;
    ``gcj02``/``bd09`` coordinates are converted (:func:`spatial.coords.to_wgs84`).
    """
    if raw.crs is None:
        warnings.append(f"{path}: no coordinate system (.prj); read as WGS-84 degrees.")
        raw = raw.set_crs("EPSG:4326")
    if crs_name not in ("wgs84", "cgcs2000", "gcj02", "bd09") and raw.crs.equals("EPSG:4326"):
        raw = raw.set_crs(crs_name, allow_override=True)
    geom = raw.geometry.to_crs("EPSG:4326") if not raw.crs.equals("EPSG:4326") else raw.geometry
    garr = geom.to_numpy()
    if crs_name in ("gcj02", "bd09"):
        garr = shapely.transform(garr, lambda xy: np.column_stack(
            coords.to_wgs84(xy[:, 0], xy[:, 1], crs_name)))
    return garr


def reject_empty_required(out: pd.DataFrame, fields: Sequence[Field], bad: np.ndarray,
                          rejected: list[pd.DataFrame], *, name: str, path: Path,
                          row: np.ndarray, ids: pd.Series) -> np.ndarray:
    """Rows (not already `bad`) with an empty required field: appended to `rejected`.

    Returns the mask of `bad` and those rows, one reason per field (``"<field> is empty"``).
    """
    bad = bad.copy()
    for f in fields:
        if f.required:
            miss = out[f.name].isna().to_numpy() & ~bad
            if miss.any():
                rejected.append(reject(name, path, row[miss], ids[miss], f"{f.name} is empty"))
                bad |= miss
    return bad


def polygons_from_raw(raw: gpd.GeoDataFrame, enc: str | None, *, path: Path,
                      fields: Sequence[Field], name: str, crs_name: str,
                      columns: Mapping[str, str] | None = None) -> Table:
    """The polygons :func:`read_polygons` makes of a vector file's frame as read.

    Also used for a user's own GeoDataFrame (:mod:`spatial.frames`); `path` names the source.
    """
    # attributes parsed as for points; the rejection reasons of polygons are decided below
    parsed = parse_attributes(raw, fields, columns, path=path, name=name,
                         skip_required=tuple(f.name for f in fields))
    out, mapping, row, warnings = parsed.frame, parsed.mapping, parsed.row, parsed.warnings
    crs_read = sources.crs_label(raw.crs)
    geom = gpd.GeoSeries(vector_wgs84(raw, crs_name, path=path, warnings=warnings),
                         index=raw.index, crs="EPSG:4326")
    n = len(raw)
    ids = out["code"] if "code" in out else (out["id"] if "id" in out else
                                               pd.Series([None] * n, index=raw.index))
    rejected = [empty_rejected()]
    bad = (geom.isna() | geom.is_empty).to_numpy().copy()  # a writable mask
    if bad.any():
        rejected.append(reject(name, path, row[bad], ids[bad], "empty geometry"))
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
        rejected.append(reject(name, path, row[notpoly], ids[notpoly],
                                "geometry is not a polygon"))
        bad |= notpoly
    bad |= reject_empty_required(out, fields, bad, rejected, name=name, path=path, row=row,
                                 ids=ids)
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
    parsed = parse_attributes(raw, fields, columns, path=path, name=name)
    out, mapping, rejected, bad, n = (parsed.frame, parsed.mapping, parsed.rejected, parsed.bad,
                                      len(parsed.frame))
    rej = pd.concat(rejected, ignore_index=True).sort_values("row", kind="stable")
    log.info("Read %d %s rows from %s (%s)", int((~bad).sum()), name, path.name, enc)
    return Table(name=name, path=path, frame=out[~bad].reset_index(drop=True),
                 rejected=rej.reset_index(drop=True), encoding=enc, columns=mapping, n_read=n,
                 warnings=parsed.warnings, source=sources.source_frame(raw, parsed.row),
                 **headers.layout(raw))
