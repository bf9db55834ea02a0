"""Write a result: GeoPackage, one Shapefile per layer, XLSX/CSV tables and a manifest.

Everything is written into a temporary folder beside the destination and moved into place only
when complete, so an interrupted run leaves the previous results intact.

Layout under ``<out>/layers/<analysis>/``::

    <analysis>.gpkg      every layer, EPSG:4326, UTF-8
    shp/<layer>.shp      one Shapefile per layer (+ .cpg), field names <= 10 bytes
    shp/fields.csv       short name, full name, Chinese label, unit (UTF-8 with BOM)
    tables.xlsx          one sheet per table
    <table>.csv          one CSV per table (UTF-8 with BOM, so Excel reads Chinese)
    manifest.json        inputs with sha256, parameters, versions, row counts, timings
    context.gpkg         the boundaries the run used (layer ``counties``), for county packs

Runs are reproducible: the same inputs and parameters give byte-identical layers and tables.
The timestamps that file formats embed (GeoPackage ``last_change``, DBF "last update", XLSX
document properties and zip entries) are set to :data:`FIXED_TIMESTAMP`; the run's real time
is in ``manifest.json``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from . import excel, forked, labels, limits, safepath, shpwrite, textcheck
from .errors import InputError
from .periodstore import PeriodLayer, period_rows, store
from .periodstore import split as period_split
from .values import map_per_value

log = logging.getLogger(__name__)

SHP_NAME_BYTES = 10
#: the timestamp embedded in written files, so that reruns are byte-identical
FIXED_TIMESTAMP = "2000-01-01T00:00:00Z"


@dataclass(frozen=True)
class FieldMeta:
    """Description of an output column: Shapefile short name, Chinese label, unit."""

    short: str
    label: str = ""
    unit: str = ""


#: Output columns several analyses write, one definition each (their ``FIELDS`` take these, so
#: a label cannot drift between analyses).
COMMON_FIELDS: dict[str, FieldMeta] = {
    "county_code": FieldMeta("cnty_code", "县区代码"),
    "county_name": FieldMeta("cnty_name", "县区名称"),
    "township_code": FieldMeta("town_code", "乡镇代码"),
    "township_name": FieldMeta("town_name", "乡镇名称"),
    "row": FieldMeta("row", "原表行号"),
    "lon": FieldMeta("lon", "经度", "°"),
    "lat": FieldMeta("lat", "纬度", "°"),
    "h3_cell": FieldMeta("h3_cell", "H3网格编号"),
    "kind": FieldMeta("kind", "类型"),
    "fuel_raw": FieldMeta("fuel_raw", "燃料（原表）"),
    "capacity_th": FieldMeta("cap_th", "额定蒸吨", "t/h"),
    "receptors": FieldMeta("receptors", "周边敏感点"),
    "n_receptors": FieldMeta("n_recept", "周边敏感点数", "个"),
    "fuel": FieldMeta("fuel", "燃料类别"),
    "n_cells": FieldMeta("n_cells", "H3网格数", "个"),
    "township": FieldMeta("township", "乡镇（原表）"),
    "county": FieldMeta("county", "县区（原表）"),
    "households": FieldMeta("hh", "总户数", "户"),
    "converted_households": FieldMeta("hh_conv", "已改造户数", "户"),
}


def short_names(columns: list[str], given: Mapping[str, Any]) -> dict[str, str]:
    """Choose unique Shapefile field names of at most 10 bytes (UTF-8) for `columns`.

    Names from `given` (objects with a ``short`` attribute) are used when they fit; other
    columns are truncated and de-duplicated with a numeric suffix.
    """
    out: dict[str, str] = {}
    used: set[str] = set()
    for col in columns:
        meta = given.get(col)
        cand = meta.short if meta is not None else col
        cand = _fit_bytes(re.sub(r"\s+", "_", cand), SHP_NAME_BYTES)
        base, i = cand, 1
        while cand.lower() in used:
            suffix = str(i)
            cand = _fit_bytes(base, SHP_NAME_BYTES - len(suffix)) + suffix
            i += 1
        used.add(cand.lower())
        out[col] = cand
    return out


def code_fields(columns: Any, fields: Mapping[str, Any]) -> dict[str, FieldMeta]:
    """Descriptions of the ``<column>_code`` columns :func:`spatial.labels.label_frame` adds."""
    out = {}
    for col in columns:
        base = str(col).removesuffix(labels.CODE_SUFFIX)
        if col == base or col in fields or base not in labels.LABELS:
            continue
        meta = fields.get(base)
        short = _fit_bytes(getattr(meta, "short", base), 7) + "_cd"
        label = getattr(meta, "label", "") or excel.TABLE_LABELS.get(base, (base, ""))[0]
        out[col] = FieldMeta(short, f"{label}（代码）")
    return out


def _fit_bytes(s: str, n: int) -> str:
    b = s.encode("utf-8")[:n]
    return b.decode("utf-8", errors="ignore")


def _shp_frame(gdf: gpd.GeoDataFrame, names: dict[str, str]) -> gpd.GeoDataFrame:
    """Shapefile-safe copy: short names; bools as 0/1; datetimes and lists as text."""
    out = gdf.copy(deep=False)  # columns replaced below, never changed in place
    for col in out.columns:
        if col == out.geometry.name:
            continue
        s = out[col]
        if pd.api.types.is_bool_dtype(s):
            out[col] = s.astype("Int64").astype("float64").astype("Int32")
        elif pd.api.types.is_datetime64_any_dtype(s):
            out[col] = s.dt.strftime("%Y-%m-%d %H:%M:%S").astype(object)
        elif s.dtype == object:
            out[col] = map_per_value(s, lambda v: None if v is None or (
                isinstance(v, float) and np.isnan(v)) else (v if isinstance(v, (int, float, str))
                                                             else str(v)))
    return out.rename(columns=names)


def _table_for_excel(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for col in out.columns:
        if isinstance(out[col].dtype, pd.DatetimeTZDtype):
            out[col] = out[col].dt.tz_localize(None)
    return out


#: Layers of at least this many rows go into the GeoPackage through pyogrio's Arrow path: the
#: same tables, rows and values, ~2x faster than feature by feature (200,000 detections: 0.9 s
#: against 2.0 s). Smaller layers keep the feature-by-feature path: the Arrow path commits a
#: different number of times for some layers, which changes the SQLite header's change counter
#: (bytes 24-27 and 92-95, nothing else), and a rerun of the demo stays byte-identical.
GPKG_ARROW_ROWS = 50_000

#: Layers of at least this many rows in all, and Shapefiles of as many: the GeoPackage is
#: written by a child process while this one writes the Shapefiles (:mod:`spatial.forked`;
#: same files, on Linux). A national season's 1.5 M features: ~8 s of GeoPackage beside
#: ~10 s of Shapefiles. (A province-year's 11 M cell-days have Shapefiles of 30,000 cells:
#: written in this process, as before.)
FORK_ROWS = 200_000

#: Shapefile attribute encodings: name -> (GDAL encoding, ``.cpg`` text). GBK is written as
#: code page 936 (CP936, a superset of GB2312), which ArcGIS 10.x, ArcGIS Pro and QGIS all read
#: from a ``.cpg`` holding ``936``.
SHP_ENCODINGS = {"utf-8": ("UTF-8", "UTF-8"), "gbk": ("CP936", "936")}


def check_encodable(gdf: pd.DataFrame, encoding: str, *, layer: str,
                    id_col: str | None = None) -> None:
    """Raise InputError naming the layer, feature and value if a text cannot be encoded.

    Shapefile writers replace unencodable characters by ``?`` or drop the value; a county
    agency would not notice. ``id_col`` (default ``id`` if present) names the feature, else the
    row position.
    """
    codec = {"utf-8": "utf-8", "gbk": "cp936"}.get(encoding.lower(), encoding)
    id_col = id_col or ("id" if "id" in gdf.columns else None)
    for col in gdf.columns:
        dtype = gdf[col].dtype
        if not (pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype)):
            continue
        for pos, v in enumerate(gdf[col].tolist()):
            if not isinstance(v, str):
                continue
            try:
                v.encode(codec)
            except UnicodeEncodeError as err:
                feature = (f"id {gdf[id_col].iloc[pos]!r}" if id_col else f"row {pos + 1}")
                raise InputError(
                    f"layer {layer!r}, feature {feature}, column {col!r}: the value {v!r} has "
                    f"{v[err.start:err.end]!r}, which {encoding.upper()} cannot encode; write "
                    "the Shapefiles in UTF-8 (--shp-encoding utf-8) or replace the character "
                    "in the input."
                ) from None


def write_layers(layers: Mapping[str, gpd.GeoDataFrame], folder: Path, *, stem: str,
                 fields: Mapping[str, Any], encoding: str = "utf-8",
                 gpkg: bool = True, crs: str = "EPSG:4326", shp_dir: str = "shp",
                 periods: Mapping[str, PeriodLayer] | None = None,
                 shp_periods: bool = False, left_out: list[str] | None = None) -> None:
    """Write every layer to ``<folder>/<stem>.gpkg`` and ``<folder>/<shp_dir>/<layer>.shp``.

    Parameters
    ----------
    layers, folder, stem, fields
        Layers by name; output folder; GeoPackage file stem; column descriptions.
    encoding
        Shapefile attribute encoding: ``"utf-8"`` (default; ``.cpg`` says ``UTF-8``) or
        ``"gbk"`` (code page 936; ``.cpg`` says ``936``) for old ArcGIS 10.x installations.
        With ``"gbk"``, a text GBK cannot encode raises InputError naming the feature (see
        :func:`check_encodable`). The GeoPackage is always UTF-8.
    gpkg
        Also write the GeoPackage.
    crs, shp_dir
        The coordinate system written (default WGS-84, EPSG:4326; e.g. ``"EPSG:4490"``
        CGCS2000 or ``"EPSG:4547"`` Gauss-Krüger) and the Shapefiles' folder.
    periods
        The per-period layers (:mod:`spatial.periodstore`): in the GeoPackage each is stored as
        one row per cell (the layer) plus its attribute table of values (``cell_values``,
        its row id made of period and cell, :mod:`spatial.periodtable`) and the view
        ``<layer>_by_period`` joining them. They get
        no Shapefile unless `shp_periods`: then one per period,
        ``<shp_dir>/<layer>_<period>.shp`` with that period's rows.

    Every Shapefile is estimated first (:func:`spatial.limits.check_dbf`,
    :func:`spatial.limits.check_shp`): one that would pass 2 GB is refused before anything is
    written.
    left_out
        A Shapefile whose ``.dbf`` or ``.shp`` would pass ``[limits] max_dbf_bytes`` /
        ``max_shp_bytes`` (2 GB, the format's limit) is refused before anything is written. With
        a list here, that layer's Shapefile is left out (the GeoPackage holds the layer) and
        the message is appended to the list; without one (None) it raises InputError.
    """
    key = encoding.lower().replace("_", "-")
    if key not in SHP_ENCODINGS:
        raise InputError(f"encoding={encoding!r}: choose one of {', '.join(SHP_ENCODINGS)}.")
    gdal_encoding, cpg_text = SHP_ENCODINGS[key]
    safepath.check_user_path(folder, option="output folder")  # GDAL must take it literally
    gpkg_path = safepath.within(folder, folder / f"{safepath.safe_name(stem)}.gpkg")
    shp_path = safepath.within(folder, folder / shp_dir)
    specs = {k: v for k, v in (periods or {}).items() if k in layers}
    parts = {k: period_split(layers[k], v, layer=k, positions=True)
             for k, v in specs.items()} if gpkg else {}
    by_period = {k: period_rows(pd.DataFrame(layers[k].drop(columns=layers[k].geometry.name)),
                                v) for k, v in specs.items()} if shp_periods else {}
    labelled = {}  # the frames the Shapefiles get (labels.label_frame), estimated first
    for name, gdf in layers.items():  # before writing anything: DBF and SHP stop at 2 GB
        if name in specs and name not in by_period:
            continue  # a per-period layer without --shp-periods: no Shapefile
        lab = labels.label_frame(gdf)  # Shapefiles are for people: 燃煤, with coal beside it
        attrs = pd.DataFrame(lab.drop(columns=lab.geometry.name))
        try:
            if name in specs:  # one file per period: its rows, each cell's hexagon once
                most = max((len(ix) for ix in by_period[name].values()), default=0)
                limits.check_dbf(attrs, layer=f"{name} (one period)", rows=most)
                cells = gdf.geometry[~gdf[specs[name].key].duplicated()]
                limits.check_shp(cells.to_numpy(), layer=f"{name} (one period)")
            else:
                limits.check_dbf(attrs, layer=name)
                limits.check_shp(gdf.geometry.to_numpy(), layer=name)
        except InputError as err:  # past the format's 2 GB: never written half
            if left_out is None:
                raise
            left_out.append(f"{shp_dir}/{name}.shp left out (the layer is in {stem}.gpkg): "
                            f"{err}")
            log.warning("%s", left_out[-1])
            continue
        labelled[name] = lab
    shp_path.mkdir(parents=True, exist_ok=True)
    rows = []
    # the GeoPackage in a child process while this one writes the Shapefiles (spatial.forked),
    # when both are big: a child beside a few small Shapefiles would only add its memory
    big = (gpkg and sum(map(len, layers.values())) >= FORK_ROWS
           and sum(map(len, labelled.values())) >= FORK_ROWS)
    with (forked.beside(_write_gpkg, layers, gpkg_path, specs, parts, crs, when=big) if gpkg
          else contextlib.nullcontext()):
        for name in labelled:
            spec = specs.get(name)
            lab = labelled[name]
            lab = (lab.set_crs("EPSG:4326") if lab.crs is None else lab).to_crs(crs)
            files = ({name: lab} if spec is None else  # each period's rows, only when asked
                     {f"{name}_{p}": lab.iloc[ix] for p, ix in by_period[name].items()})
            for file_name, frame in files.items():
                rows += _write_shp(frame, shp_path, file_name, fields, key=key,
                                   gdal_encoding=gdal_encoding, cpg_text=cpg_text, layer=name)
    pd.DataFrame(rows, columns=["layer", "short_name", "full_name", "label", "unit"]
                 ).drop_duplicates().to_csv(shp_path / "fields.csv", index=False,
                                            encoding="utf-8-sig")


def _write_gpkg(layers: Mapping[str, gpd.GeoDataFrame], gpkg_path: Path,
                specs: Mapping[str, PeriodLayer], parts: Mapping[str, tuple], crs: str) -> None:
    """Every layer into the GeoPackage `gpkg_path`, in `crs` (see :func:`write_layers`)."""
    for name, gdf in layers.items():
        spec = specs.get(name)
        part = parts[name][0] if spec is not None else gdf
        part = part.set_crs("EPSG:4326") if part.crs is None else part
        with _fixed_gdal_date():
            part.to_crs(crs).to_file(gpkg_path, layer=name, driver="GPKG", engine="pyogrio",
                                     use_arrow=len(part) >= GPKG_ARROW_ROWS)
        if spec is not None:  # millions of rows: compact, keyed by their row id
            store(gpkg_path, name, part, parts[name][1], spec, cell_no=parts[name][2])


def _write_shp(gdf: gpd.GeoDataFrame, shp_path: Path, file_name: str,
               fields: Mapping[str, Any], *, key: str, gdal_encoding: str, cpg_text: str,
               layer: str) -> list[dict[str, str]]:
    """Write ``<shp_path>/<file_name>.shp`` (+ ``.cpg``); return its rows of ``fields.csv``.

    `gdf` is labelled already (:func:`spatial.labels.label_frame`).
    """
    fields = {**fields, **code_fields(gdf.columns, fields)}
    cols = [c for c in gdf.columns if c != gdf.geometry.name]
    names = short_names(cols, fields)
    shp = _shp_frame(gdf, names)
    if key != "utf-8":
        check_encodable(gdf[cols], key, layer=file_name)
    shp_file = safepath.within(shp_path, shp_path / f"{safepath.safe_name(file_name)}.shp")
    # text fields as wide as their longest value (GDAL's default 80 bytes each would pass
    # 2 GB at a national season's 1 M detections)
    shpwrite.write_shapefile(shp, shp_file, encoding=gdal_encoding,
                             DBF_DATE_LAST_UPDATE=FIXED_TIMESTAMP[:10])
    shp_file.with_suffix(".cpg").write_text(cpg_text, encoding="ascii")
    out = []
    for col in cols:
        meta = fields.get(col)
        out.append({"layer": layer, "short_name": names[col], "full_name": col,
                    "label": getattr(meta, "label", ""), "unit": getattr(meta, "unit", "")})
    return out


@contextlib.contextmanager
def _fixed_gdal_date() -> Iterator[None]:
    """Make GDAL stamp GeoPackage metadata with FIXED_TIMESTAMP instead of the clock."""
    old = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": FIXED_TIMESTAMP})
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": old})


def _fix_zip_timestamps(path: Path) -> None:
    """Rewrite an XLSX (a zip) with fixed entry times and document dates."""
    stamp = FIXED_TIMESTAMP
    with zipfile.ZipFile(path) as zin:
        entries = [(info, zin.read(info)) for info in zin.infolist()]
    tmp = path.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zout:
        for info, data in entries:
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:(created|modified)[^>]*>)[^<]*", rb"\g<1>" +
                              stamp.encode(), data)
            fixed = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = info.external_attr
            zout.writestr(fixed, data)
    os.replace(tmp, path)


def write_tables(tables: Mapping[str, pd.DataFrame], folder: Path, *,
                 fields: Mapping[str, Any] | None = None,
                 about: Mapping[str, Any] | None = None) -> None:
    """Write tables to ``tables.xlsx`` and ``<table>.csv`` (UTF-8 with BOM).

    The workbook is for people (:func:`spatial.excel.write_workbook`: Chinese sheet names and
    headers from `fields`, units, formats, a 说明 sheet from `about`); the CSVs keep the
    machine names. In both, text is never a formula (see :mod:`spatial.excel`).
    """
    folder.mkdir(parents=True, exist_ok=True)
    textcheck.check_cells(tables)  # openpyxl would fail on the cell, after the whole run
    excel.write_workbook({k: _table_for_excel(v) for k, v in tables.items()},
                         folder / "tables.xlsx", fields=fields, about=about)
    _fix_zip_timestamps(folder / "tables.xlsx")
    for name, df in tables.items():
        excel.write_csv(df, safepath.within(folder, folder / f"{safepath.safe_name(name)}.csv"))


def crs_tag(crs: str) -> str:
    """File-name tag of an output CRS: ``cgcs2000`` for EPSG:4490, else ``epsg4547``."""
    return "cgcs2000" if crs.upper() == "EPSG:4490" else re.sub(r"[^0-9a-z]", "", crs.lower())


def write_result(*, analysis: str, layers: Mapping[str, gpd.GeoDataFrame],
                 tables: Mapping[str, pd.DataFrame], fields: Mapping[str, Any],
                 manifest: Mapping[str, Any], out: Path,
                 context: Mapping[str, gpd.GeoDataFrame] | None = None,
                 crs: str | None = None,
                 finish: Callable[[Path], None] | None = None,
                 periods: Mapping[str, PeriodLayer] | None = None,
                 shp_periods: bool = False, parquet: bool = False) -> Path:
    """Write a result atomically to ``<out>/layers/<analysis>/`` and return that folder.

    The folder is built in a temporary sibling and swapped in at the end; the previous
    results stay in place until then. ``context`` layers (the county outlines the run used)
    go to ``context.gpkg`` beside the result, for ``lantian export --by county``; they are
    not result layers (no Shapefiles). The runner publishes layers, maps and figures
    together instead (:mod:`spatial.publish`); this writes the layers alone. With `crs` (the
    config's ``[output] crs``, e.g. ``"EPSG:4490"``), the layers are also written in that
    system to ``<analysis>_<tag>.gpkg`` and ``shp_<tag>/`` (tag ``cgcs2000`` or ``epsg4547``).
    ``finish(folder)`` adds files to the folder before it is swapped in (the QGIS styles and
    project, :mod:`spatial.qgis`). `periods`, `shp_periods`, `parquet`: see
    :func:`write_result_files`.
    """
    final = Path(out) / "layers" / safepath.safe_name(analysis)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{analysis}.", suffix=".tmp", dir=final.parent))
    try:
        write_result_files(tmp, analysis=analysis, layers=layers, tables=tables, fields=fields,
                           manifest=manifest, context=context, crs=crs, finish=finish,
                           periods=periods, shp_periods=shp_periods, parquet=parquet)
        replace_dir(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def write_result_files(folder: Path, *, analysis: str,
                       layers: Mapping[str, gpd.GeoDataFrame],
                       tables: Mapping[str, pd.DataFrame], fields: Mapping[str, Any],
                       manifest: Mapping[str, Any],
                       context: Mapping[str, gpd.GeoDataFrame] | None = None,
                       crs: str | None = None,
                       finish: Callable[[Path], None] | None = None,
                       periods: Mapping[str, PeriodLayer] | None = None,
                       shp_periods: bool = False, parquet: bool = False,
                       left_out: list[str] | None = None) -> Path:
    """Write the files of ``layers/<analysis>/`` (see the module docstring) into `folder`.

    With `crs` (the config's ``[output] crs``) the layers are written in that system as well
    (see :func:`write_result`); ``tables.xlsx`` gets a 说明 sheet from `manifest`;
    ``finish(folder)`` then adds its files (the QGIS styles and project, :mod:`spatial.qgis`).
    `periods`: the per-period layers, stored once per cell plus an attribute table
    (:mod:`spatial.periodstore`; recorded in the manifest as ``period_layers``), with Shapefiles
    per period only with `shp_periods` (``[output] shp_periods``, ``--shp-periods``).
    `parquet` (``[output] parquet``): also ``parquet/<layer>.parquet`` (GeoParquet) and
    ``parquet/<values>.parquet`` (:mod:`spatial.geoparquet`).
    A Shapefile past the format's 2 GB is left out, not the run (:func:`write_layers`); its
    message goes to the manifest's ``warnings`` and, when given, to the list `left_out`.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o777 & ~_umask())  # mkdtemp makes 0700; results are meant to be shared
    specs = {k: v for k, v in (periods or {}).items() if k in layers}
    left_out = [] if left_out is None else left_out  # Shapefiles past 2 GB, reported
    write_layers(layers, folder, stem=analysis, fields=fields, periods=specs,
                 shp_periods=shp_periods, left_out=left_out)
    if crs is not None and crs.upper() != "EPSG:4326":
        tag = crs_tag(crs)
        write_layers(layers, folder, stem=f"{analysis}_{tag}", fields=fields, crs=crs,
                     shp_dir=f"shp_{tag}", periods=specs, shp_periods=shp_periods,
                     left_out=left_out)
    if left_out:
        manifest = {**manifest, "warnings": [*manifest.get("warnings", []), *left_out],
                    "left_out": list(left_out)}
    if parquet:
        from . import geoparquet

        geoparquet.write_parquet(layers, folder / "parquet", periods=specs)
    write_tables(tables, folder, fields=fields, about=manifest)
    for cname, cgdf in (context or {}).items():
        if cgdf is not None and len(cgdf):
            cgdf = cgdf.to_crs("EPSG:4326") if cgdf.crs is not None else cgdf
            with _fixed_gdal_date():
                cgdf.to_file(folder / "context.gpkg", layer=cname, driver="GPKG",
                             engine="pyogrio")
    if finish is not None:
        finish(folder)
    man = dict(manifest)
    man["layers"] = {k: len(v) for k, v in layers.items()}
    man["tables"] = {k: len(v) for k, v in tables.items()}
    if specs:  # rows of the per-period layers: cells in the layer, cell-periods in the table
        man["layers"].update({k: int(layers[k][v.key].nunique()) for k, v in specs.items()})
        man["period_layers"] = {k: {**v.to_manifest(k), "rows": len(layers[k])}
                                for k, v in specs.items()}
    (folder / "manifest.json").write_text(
        json.dumps(man, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    log.info("Wrote %d layers and %d tables to %s", len(layers), len(tables), folder)
    return folder


def replace_dir(src: Path, dst: Path) -> None:
    """Move folder `src` to `dst`, replacing `dst` (the old one is removed only afterwards)."""
    old = None
    if dst.exists():
        old = dst.with_name(f".{dst.name}.old")
        if old.exists():
            shutil.rmtree(old)
        os.replace(dst, old)
    os.replace(src, dst)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text_atomic(path: Path, text: str) -> None:
    """Write a text file (UTF-8) through a temporary file and ``os.replace``."""
    write_bytes_atomic(path, text.encode("utf-8"))


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write a file through a temporary file in the same folder and ``os.replace``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
