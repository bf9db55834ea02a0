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
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

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


def _fit_bytes(s: str, n: int) -> str:
    b = s.encode("utf-8")[:n]
    return b.decode("utf-8", errors="ignore")


def _shp_frame(gdf: gpd.GeoDataFrame, names: dict[str, str]) -> gpd.GeoDataFrame:
    """Shapefile-safe copy: short names; bools as 0/1; datetimes and lists as text."""
    out = gdf.copy()
    for col in out.columns:
        if col == out.geometry.name:
            continue
        s = out[col]
        if pd.api.types.is_bool_dtype(s):
            out[col] = s.astype("Int64").astype("float64").astype("Int32")
        elif pd.api.types.is_datetime64_any_dtype(s):
            out[col] = s.dt.strftime("%Y-%m-%d %H:%M:%S").astype(object)
        elif s.dtype == object:
            out[col] = s.map(lambda v: None if v is None or (isinstance(v, float) and np.isnan(v))
                             else (v if isinstance(v, (int, float, str)) else str(v)))
    return out.rename(columns=names)


def _table_for_excel(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for col in out.columns:
        if isinstance(out[col].dtype, pd.DatetimeTZDtype):
            out[col] = out[col].dt.tz_localize(None)
    return out


def write_layers(layers: Mapping[str, gpd.GeoDataFrame], folder: Path, *, stem: str,
                 fields: Mapping[str, Any]) -> None:
    """Write every layer to ``<folder>/<stem>.gpkg`` and ``<folder>/shp/<layer>.shp``."""
    gpkg = folder / f"{stem}.gpkg"
    shp_dir = folder / "shp"
    shp_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    for name, gdf in layers.items():
        gdf = gdf.to_crs("EPSG:4326") if gdf.crs is not None else gdf.set_crs("EPSG:4326")
        with _fixed_gdal_date():
            gdf.to_file(gpkg, layer=name, driver="GPKG", engine="pyogrio")
        cols = [c for c in gdf.columns if c != gdf.geometry.name]
        names = short_names(cols, fields)
        _shp_frame(gdf, names).to_file(shp_dir / f"{name}.shp", driver="ESRI Shapefile",
                                       engine="pyogrio", encoding="UTF-8",
                                       DBF_DATE_LAST_UPDATE=FIXED_TIMESTAMP[:10])
        cpg = shp_dir / f"{name}.cpg"
        if not cpg.exists():
            cpg.write_text("UTF-8", encoding="ascii")
        for col in cols:
            meta = fields.get(col)
            rows.append({"layer": name, "short_name": names[col], "full_name": col,
                         "label": getattr(meta, "label", ""), "unit": getattr(meta, "unit", "")})
    pd.DataFrame(rows, columns=["layer", "short_name", "full_name", "label", "unit"]).to_csv(
        shp_dir / "fields.csv", index=False, encoding="utf-8-sig")


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


def write_tables(tables: Mapping[str, pd.DataFrame], folder: Path) -> None:
    """Write tables to ``tables.xlsx`` (a sheet each) and ``<table>.csv`` (UTF-8 with BOM)."""
    folder.mkdir(parents=True, exist_ok=True)
    with pd.ExcelWriter(folder / "tables.xlsx", engine="openpyxl") as xw:
        for name, df in tables.items():
            _table_for_excel(df).to_excel(xw, sheet_name=name[:31], index=False)
    _fix_zip_timestamps(folder / "tables.xlsx")
    for name, df in tables.items():
        df.to_csv(folder / f"{name}.csv", index=False, encoding="utf-8-sig")


def write_result(*, analysis: str, layers: Mapping[str, gpd.GeoDataFrame],
                 tables: Mapping[str, pd.DataFrame], fields: Mapping[str, Any],
                 manifest: Mapping[str, Any], out: Path) -> Path:
    """Write a result atomically to ``<out>/layers/<analysis>/`` and return that folder.

    The folder is built in a temporary sibling and swapped in at the end; the previous
    results stay in place until then.
    """
    final = Path(out) / "layers" / analysis
    final.parent.mkdir(parents=True, exist_ok=True)
    for stale in final.parent.glob(f".{analysis}.*.tmp"):  # left by a killed run
        shutil.rmtree(stale, ignore_errors=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{analysis}.", suffix=".tmp", dir=final.parent))
    os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes 0700; results are meant to be shared
    try:
        write_layers(layers, tmp, stem=analysis, fields=fields)
        write_tables(tables, tmp)
        man = dict(manifest)
        man["layers"] = {k: len(v) for k, v in layers.items()}
        man["tables"] = {k: len(v) for k, v in tables.items()}
        (tmp / "manifest.json").write_text(
            json.dumps(man, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
        replace_dir(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    log.info("Wrote %d layers and %d tables to %s", len(layers), len(tables), final)
    return final


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
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
