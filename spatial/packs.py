"""County packs: each county's share of a run's result, as files a county agency can open.

``lantian export ANALYSIS --by county [--shp-encoding utf-8|gbk]`` reads the last run's
``layers/<analysis>/<analysis>.gpkg``, its tables (``<table>.csv``), its field dictionary
(``shp/fields.csv``) and the county outlines the run used (``context.gpkg``, layer
``counties``, written by the runner), and writes per county::

    layers/<analysis>/counties/<adcode>_<name>_<analysis>/shp/<layer>.shp (+ .cpg, .qml,
                                                                     fields.csv)
    layers/<analysis>/counties/<adcode>_<name>_<analysis>/tables.xlsx     rows of that county
    layers/<analysis>/counties/<adcode>_<name>_<analysis>/<values>.csv    per-period values
    layers/<analysis>/counties/<adcode>_<name>_<analysis>/<analysis>.html offline map
    layers/<analysis>/counties/<adcode>_<name>_<analysis>.zip             the folder, zipped

(the analysis in the name: packs of several analyses for one county unpack side by side).

A feature belongs to a county by its ``county_code`` column; features without one (H3 cells,
radius circles) by intersecting the county's polygon. Tables are filtered by ``county_code``;
tables without that column are not included. Counties without any feature get no pack.
A per-period layer (:mod:`spatial.periodstore`, pollution-hotspots' ``cells``) is joined back to its
values for the map, gets no Shapefile, and its county's rows go to ``<values>.csv``
(``cell_values.csv``: one row per cell and period with its county, without geometry).

With ``encoding="gbk"`` the Shapefile attributes are written in GBK (code page 936, ``.cpg``
holds ``936``) for old ArcGIS 10.x; a name GBK cannot encode is an InputError naming the layer,
feature and value, never a silent ``?``. The ``counties`` folder is built in a temporary
sibling and swapped in whole.
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from . import excel, export, periodstore, safepath, webmap
from .errors import InputError

log = logging.getLogger(__name__)


def _read_fields(layers_dir: Path) -> dict[str, export.FieldMeta]:
    path = layers_dir / "shp" / "fields.csv"
    if not path.exists():
        return {}
    df = pd.read_csv(path, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    return {r.full_name: export.FieldMeta(r.short_name, r.label, r.unit)
            for r in df.itertuples()}


def _safe(name: str) -> str:
    return safepath.safe_name(name, fallback="county")


def county_layers(layers: dict[str, gpd.GeoDataFrame], county: gpd.GeoSeries | None,
                  code: str) -> dict[str, gpd.GeoDataFrame]:
    """The features of one county: by ``county_code``, else by intersecting its polygon."""
    out = {}
    for name, gdf in layers.items():
        if "county_code" in gdf.columns:
            sub = gdf[gdf["county_code"].astype(str) == code]
        elif county is not None and len(gdf):
            idx = gdf.sindex.query(county.iloc[0], predicate="intersects")
            sub = gdf.iloc[sorted(idx)]
        else:
            continue
        out[name] = sub
    return out


def county_map(layers: dict[str, gpd.GeoDataFrame], county: gpd.GeoDataFrame | None, *,
               title: str, fields: dict[str, export.FieldMeta]) -> str:
    """A generic offline map of a county's layers: outline, polygons, points (escaped HTML)."""
    bounds = webmap.bounds_of(*layers.values(), county)
    m = webmap.new_map(bounds, title=title, basemap="none")
    if county is not None and len(county):
        webmap.add_outlines(m, county, name="县区界", label_col="name" if "name" in county
                            else None)
    for name, gdf in layers.items():
        if not len(gdf):
            continue
        cols = [c for c in gdf.columns if c != gdf.geometry.name][:8]
        tip = {c: (fields[c].label if c in fields and fields[c].label else c) for c in cols}
        label = name
        if gdf.geometry.geom_type.str.contains("Point").all():
            col = next((c for c in ("category", "status", "target") if c in gdf.columns), None)
            webmap.add_points(m, gdf, name=label, color_col=col, tooltip=tip or None, radius=4)
        else:
            webmap.add_polygons(m, gdf, name=label, tooltip=tip or None,
                                style={"color": "#d7301f", "weight": 1.5, "fillOpacity": 0.1})
    return webmap.render_html(m, offline=True)


def export_by_county(analysis: str, *, out: Path | str = ".", encoding: str = "utf-8",
                     title: str | None = None, map_builder=None) -> list[Path]:
    """Write the county packs of the last run of ``analysis`` under ``<out>/layers/<analysis>/``.

    Parameters
    ----------
    analysis
        Analysis name (``heat-radius``); its result must exist under ``<out>/layers/``.
    out
        The run's output folder (the one holding ``layers/``).
    encoding
        Shapefile attribute encoding, ``"utf-8"`` or ``"gbk"`` (see module docstring).
    title
        Map title after the county's name (default: the run's title from the manifest, else
        the analysis name): ``<county>：<title>``.
    map_builder
        ``build(layers, outline, title) -> html`` drawing a county's layers with the legends
        of the full map (``analyses.runner.county_map_builder``); default a generic map.

    Returns
    -------
    list of Path
        The zip files written, one per county, sorted by code.
    """
    layers_dir = Path(out) / "layers" / analysis
    gpkg = layers_dir / f"{analysis}.gpkg"
    if not gpkg.exists():
        raise InputError(f"{gpkg}: no result of {analysis} here; run `lantian run {analysis} "
                         f"--config … --out {out}` first (or give --out).")
    if encoding.lower() not in export.SHP_ENCODINGS:
        raise InputError(f"--shp-encoding {encoding!r}: choose utf-8 or gbk.")
    manifest = layers_dir / "manifest.json"
    man = json.loads(manifest.read_text(encoding="utf-8")) if manifest.exists() else {}
    specs = periodstore.from_manifest(man)  # per-period layers joined back to their values
    layers = periodstore.read_layers(gpkg, specs)  # not layer_styles
    fields = _read_fields(layers_dir)
    run_title = man.get("title")
    counties = None
    ctx = layers_dir / "context.gpkg"
    if ctx.exists() and "counties" in {n for n, _ in pyogrio.list_layers(ctx)}:
        counties = gpd.read_file(ctx, layer="counties", engine="pyogrio").to_crs(4326)
        counties["code"] = counties["code"].astype(str)
    tables = {}
    for csv in sorted(layers_dir.glob("*.csv")):
        df = pd.read_csv(csv, encoding="utf-8-sig", dtype={"county_code": str})
        if "county_code" in df.columns:
            tables[csv.stem] = df
    # the counties in the results: by code, with names from the outlines or the features
    names: dict[str, str] = {}
    for gdf in layers.values():
        if {"county_code", "county_name"} <= set(gdf.columns):
            for c, n in zip(gdf["county_code"], gdf["county_name"], strict=True):
                if isinstance(c, str) and c:
                    names.setdefault(c, n if isinstance(n, str) else "")
    if counties is not None:
        for c, n in zip(counties["code"], counties["name"], strict=True):
            names.setdefault(c, n)
    if not names:
        raise InputError(f"{gpkg}: no county in the result (no county_code column and no "
                         "counties in context.gpkg); give the run a `counties` input.")
    dest = layers_dir / "counties"
    tmp = Path(tempfile.mkdtemp(prefix=".counties.", suffix=".tmp", dir=layers_dir))
    written = []
    try:
        for code in sorted(names):
            outline = counties[counties["code"] == code] if counties is not None else None
            geom = outline.geometry if outline is not None and len(outline) else None
            sub = county_layers(layers, geom, code)
            if not any(len(g) for g in sub.values()):
                continue
            stem = f"{_safe(code)}_{_safe(names[code])}_{_safe(analysis)}"  # packs never collide
            folder = safepath.within(tmp, tmp / stem)
            export.write_layers(sub, folder, stem=analysis, fields=fields, encoding=encoding,
                                gpkg=False, periods=specs)
            for lname, spec in specs.items():  # per-period values: a table, not Shapefiles
                if lname in sub:
                    excel.write_csv(pd.DataFrame(sub[lname].drop(columns=sub[lname]
                                                                 .geometry.name)),
                                    folder / f"{_safe(spec.values)}.csv")
            for qml in sorted((layers_dir / "shp").glob("*.qml")):  # the QGIS styles
                if (folder / "shp" / f"{qml.stem}.shp").exists():
                    shutil.copyfile(qml, folder / "shp" / qml.name)
            sub_tables = {k: df[df["county_code"].astype(str) == code]
                          for k, df in tables.items()}
            if sub_tables:
                excel.write_workbook(sub_tables, folder / "tables.xlsx", fields=fields,
                                     analysis=analysis)
            map_title = f"{names[code]}：{title or run_title or analysis}"
            html = (map_builder(sub, outline, map_title) if map_builder is not None
                    else county_map(sub, outline, title=map_title, fields=fields))
            (folder / f"{analysis}.html").write_text(html, encoding="utf-8")
            with zipfile.ZipFile(tmp / f"{stem}.zip", "w", zipfile.ZIP_DEFLATED) as zf:
                for f in sorted(folder.rglob("*")):
                    if f.is_file():
                        zf.write(f, f"{stem}/{f.relative_to(folder).as_posix()}")
            written.append(dest / f"{stem}.zip")
        export.replace_dir(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    log.info("Wrote %d county packs to %s", len(written), dest)
    return written
