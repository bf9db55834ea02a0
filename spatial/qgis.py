"""QGIS styles and projects for a result, built from the shared legend (:mod:`spatial.legend`).

For a result folder ``layers/<analysis>/`` :func:`write_qgis` writes

* each layer's style as QML into the GeoPackage's ``layer_styles`` table (the QGIS GeoPackage
  styling extension; ``useAsDefault`` = 1, so QGIS applies it when the layer is added),
* ``shp/<layer>.qml`` beside each Shapefile (QGIS loads a ``.qml`` of the same name by default),
  with the Shapefile's short field names,
* ``<analysis>.qgz``: a QGIS project with the layers in map order, grouped (administrative
  outlines on top, then the results, then an XYZ basemap entry that is off when the run is
  offline), labels where the map has them, the map title as the project title, relative paths.

Classes are written as a categorized renderer on an expression that computes the class the way
the web map does (``e_i <= v < e_(i+1)``, outer classes open), so a value on a class edge falls
in the same class in QGIS, in the figure and on the web map. The files carry no time and no
random ids: a rerun writes the same bytes.

Colours: ``#rrggbb`` → QGIS ``r,g,b,a``. Sizes: the web map's pixels at 96 dpi → millimetres.
"""

from __future__ import annotations

import logging
import sqlite3
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from pyproj import CRS, Transformer

from . import export
from .legend import LayerLegend

log = logging.getLogger(__name__)

#: QGIS version written into the files (the Debian 12 release the tests run against)
QGIS_VERSION = "3.22.16-Białowieża"
MM_PER_PX = 25.4 / 96
#: Font of labels: the CJK font the figures and maps prefer
LABEL_FONT = "Noto Sans CJK SC"
#: Geometry column of the GeoPackage layers pyogrio writes
GPKG_GEOMETRY = "geom"
PROJECT_CRS = "EPSG:3857"
#: context layers grouped as 行政区划 (on top of the project); other context layers (the zone
#: in force) go with the results
ADMIN_LAYERS = ("counties", "townships")
#: XYZ basemap entry of the project (a URL QGIS's "XYZ Tiles" provider reads)
OSM_XYZ = ("OpenStreetMap 底图", "https://tile.openstreetmap.org/{z}/{x}/{y}.png", 19)
_DOCTYPE = "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"


def rgba(color: str, alpha: float = 1.0) -> str:
    """``"#d7301f"`` (or ``#rgb``) → ``"215,48,31,255"`` with ``alpha`` in [0, 1]."""
    from matplotlib.colors import to_rgba

    r, g, b, a = to_rgba(color)
    return ",".join(str(int(round(x * 255))) for x in (r, g, b, a * alpha))


def quote_field(name: str) -> str:
    """A QGIS expression field reference: ``"name"`` with inner quotes doubled."""
    return '"' + name.replace('"', '""') + '"'


def _literal(v: object) -> str:
    if isinstance(v, bool | np.bool_):
        return "true" if v else "false"
    if isinstance(v, int | float | np.integer | np.floating):
        return repr(float(v)) if isinstance(v, float | np.floating) else str(int(v))
    return "'" + str(v).replace("'", "''") + "'"


def _number(x: float) -> str:
    return repr(float(x))


def class_expression(leg: LayerLegend, names: Mapping[str, str] | None = None) -> str | None:
    """The QGIS expression whose value is the category of a feature (None: single symbol).

    Graduated layers: the class index ``0 … n-1`` (``CASE WHEN v < e1 THEN 0 …``), NULL when
    the value is missing. Categorized layers: ``leg.expression`` (with ``{column}`` placeholders
    filled with the field names in ``names``) or the column itself.
    """
    names = names or {}
    if leg.column is None:
        return None
    if leg.graduated:
        f = quote_field(names.get(leg.column, leg.column))
        edges = leg.edges
        parts = [f"WHEN {f} IS NULL THEN NULL"]
        parts += [f"WHEN {f} < {_number(e)} THEN {i}" for i, e in enumerate(edges[1:-1])]
        return "CASE " + " ".join(parts) + f" ELSE {len(edges) - 2} END"
    if leg.expression:
        cols = _placeholders(leg.expression)
        return leg.expression.format(**{c: quote_field(names.get(c, c)) for c in cols})
    return quote_field(names.get(leg.column, leg.column))


def _placeholders(expr: str) -> list[str]:
    import string

    return [f for _, f, _, _ in string.Formatter().parse(expr) if f]


def _symbol(leg: LayerLegend, color: str, name: str) -> ET.Element:
    kind = {"point": "marker", "polygon": "fill", "line": "fill"}[leg.geometry]
    sym = ET.Element("symbol", {"type": kind, "name": name, "alpha": "1", "clip_to_extent": "1",
                                "force_rhr": "0"})
    if leg.geometry == "point":
        props = {"name": "circle", "color": rgba(color), "outline_color": "255,255,255,255",
                 "outline_width": "0.2", "outline_width_unit": "MM",
                 "size": f"{2 * leg.size * MM_PER_PX:.2f}", "size_unit": "MM",
                 "scale_method": "diameter"}
        cls = "SimpleMarker"
    else:
        fill_alpha = 0.0 if leg.geometry == "line" else leg.fill_opacity
        props = {"color": rgba(color, fill_alpha),
                 "style": "solid" if fill_alpha > 0 else "no",
                 "outline_color": rgba(leg.outline or color),
                 "outline_style": "dash" if leg.dash else "solid",
                 "outline_width": f"{leg.width * MM_PER_PX:.2f}", "outline_width_unit": "MM",
                 "joinstyle": "round"}
        cls = "SimpleFill"
    layer = ET.SubElement(sym, "layer", {"class": cls, "enabled": "1", "locked": "0",
                                         "pass": "0"})
    for k, v in props.items():
        ET.SubElement(layer, "prop", {"k": k, "v": v})
    return sym


def renderer_element(leg: LayerLegend, names: Mapping[str, str] | None = None) -> ET.Element:
    """``<renderer-v2>`` of the layer.

    SingleSymbol, or categorizedSymbol on the class expression (see :func:`class_expression`).
    """
    expr = class_expression(leg, names)
    if expr is None:
        r = ET.Element("renderer-v2", {"type": "singleSymbol", "symbollevels": "0",
                                       "forceraster": "0", "enableorderby": "0"})
        ET.SubElement(r, "symbols").append(_symbol(leg, leg.entries[0].color, "0"))
        return r
    r = ET.Element("renderer-v2", {"type": "categorizedSymbol", "attr": expr,
                                   "symbollevels": "0", "forceraster": "0",
                                   "enableorderby": "0"})
    cats = ET.SubElement(r, "categories")
    syms = ET.SubElement(r, "symbols")
    for i, e in enumerate(leg.entries):
        value = str(i) if leg.graduated else _category_text(e.value)
        ET.SubElement(cats, "category", {"render": "true", "symbol": str(i), "value": value,
                                         "label": e.label, "type": _category_type(leg, e)})
        syms.append(_symbol(leg, e.color, str(i)))
    return r


def _category_text(v: object) -> str:
    if isinstance(v, bool | np.bool_):
        return "true" if v else "false"
    return str(v)


def _category_type(leg: LayerLegend, e) -> str:
    if leg.graduated or isinstance(e.value, int | np.integer) and not isinstance(e.value, bool):
        return "integer"
    if isinstance(e.value, float | np.floating):
        return "double"
    return "string"


def labeling_element(field: str, geometry: str) -> ET.Element:
    """``<labeling>``.

    Names from ``field`` in dark grey with a white halo, over the point on the surface of
    polygons, around points.
    """
    lab = ET.Element("labeling", {"type": "simple"})
    st = ET.SubElement(lab, "settings", {"calloutType": "simple"})
    ts = ET.SubElement(st, "text-style", {
        "fieldName": field, "isExpression": "0", "fontFamily": LABEL_FONT, "fontSize": "9",
        "fontSizeUnit": "Point", "textColor": "51,51,51,255", "fontWeight": "50",
        "namedStyle": "Regular", "textOpacity": "1"})
    ET.SubElement(ts, "text-buffer", {"bufferDraw": "1", "bufferSize": "0.8",
                                      "bufferSizeUnits": "MM",
                                      "bufferColor": "255,255,255,255", "bufferOpacity": "1"})
    ET.SubElement(st, "placement", {"placement": "0" if geometry == "point" else "1",
                                    "dist": "1", "distUnits": "MM",
                                    "centroidInside": "1"})
    ET.SubElement(st, "rendering", {"obstacle": "1", "displayAll": "0", "upsidedownLabels": "0"})
    return lab


def _style_children(leg: LayerLegend, names: Mapping[str, str] | None) -> list[ET.Element]:
    out = [renderer_element(leg, names)]
    if leg.label_col:
        out.append(labeling_element((names or {}).get(leg.label_col, leg.label_col),
                                    leg.geometry))
    return out


def qml(leg: LayerLegend, names: Mapping[str, str] | None = None) -> str:
    """The QML document of the layer's style (renderer and labels), as text.

    ``names``: column → field name in the file (the Shapefile's short names); default the
    column names themselves (GeoPackage).
    """
    root = ET.Element("qgis", {"version": QGIS_VERSION, "styleCategories": "Symbology|Labeling",
                               "labelsEnabled": "1" if leg.label_col else "0"})
    root.extend(_style_children(leg, names))
    ET.indent(root)
    return _DOCTYPE + ET.tostring(root, encoding="unicode") + "\n"


# ------------------------------------------------------------------------------ GeoPackage


def write_gpkg_styles(gpkg: Path, legends: Sequence[LayerLegend]) -> None:
    """Put the QML of each legend's layer into ``gpkg``'s ``layer_styles`` table.

    Each is the layer's default style; lantian's earlier rows for those layers are replaced.
    Layers not in the file are skipped. The rows carry ``update_time`` = the fixed export
    timestamp (reproducible).
    """
    rows = list({leg.layer: leg for leg in reversed(legends) if not leg.context}.values())
    if not rows:  # the first legend of a layer drawn twice is its default style
        return
    con = sqlite3.connect(gpkg)
    try:
        have = {r[0] for r in con.execute("SELECT table_name FROM gpkg_contents")}
        con.execute(
            'CREATE TABLE IF NOT EXISTS "layer_styles" ("id" INTEGER PRIMARY KEY AUTOINCREMENT '
            'NOT NULL, "f_table_catalog" TEXT(256), "f_table_schema" TEXT(256), '
            '"f_table_name" TEXT(256), "f_geometry_column" TEXT(256), "styleName" TEXT(30), '
            '"styleQML" TEXT, "styleSLD" TEXT, "useAsDefault" BOOLEAN, "description" TEXT, '
            '"owner" TEXT(30), "ui" TEXT(30), "update_time" DATETIME)')
        if "layer_styles" not in have:  # registered as an attributes table, as QGIS does
            con.execute("INSERT INTO gpkg_contents (table_name, data_type, identifier, "
                        "last_change) VALUES ('layer_styles', 'attributes', 'layer_styles', "
                        "?)", (export.FIXED_TIMESTAMP.replace("Z", ".000Z"),))
        for leg in rows:
            if leg.layer not in have:
                continue
            con.execute("DELETE FROM layer_styles WHERE f_table_name = ? AND owner = 'lantian'",
                        (leg.layer,))
            con.execute(
                "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, "
                "f_geometry_column, styleName, styleQML, styleSLD, useAsDefault, description, "
                "owner, ui, update_time) VALUES ('', '', ?, ?, ?, ?, '', 1, ?, 'lantian', NULL, "
                "?)",
                (leg.layer, GPKG_GEOMETRY, leg.title, qml(leg), f"lantian: {leg.title}",
                 export.FIXED_TIMESTAMP.replace("Z", ".000Z")))
        con.commit()
    finally:
        con.close()


def write_shp_styles(shp_dir: Path, legends: Sequence[LayerLegend],
                     fields: Mapping[str, object], *, gpkg: Path) -> list[Path]:
    """Write ``<layer>.qml`` beside each ``<layer>.shp``.

    Fields are named by the Shapefile's short names (``spatial.export.short_names`` of the
    layer's columns, as the writer chose them); ``gpkg`` is the GeoPackage written with the
    Shapefiles (its columns are the Shapefiles' columns before shortening).
    """
    out = []
    seen = set()
    for leg in legends:
        shp = shp_dir / f"{leg.layer}.shp"
        if leg.context or not shp.exists() or leg.layer in seen:
            continue  # the first legend of a layer drawn twice is its style
        seen.add(leg.layer)
        import pyogrio

        cols = [str(c) for c in pyogrio.read_info(gpkg, layer=leg.layer)["fields"]]
        names = export.short_names(list(cols), fields)
        path = shp.with_suffix(".qml")
        path.write_text(qml(leg, names), encoding="utf-8")
        out.append(path)
    return out


# ------------------------------------------------------------------------------ project


def _srs(crs: str) -> ET.Element:
    c = CRS.from_user_input(crs)
    srs = ET.Element("spatialrefsys")
    ET.SubElement(srs, "wkt").text = c.to_wkt()
    ET.SubElement(srs, "authid").text = crs
    ET.SubElement(srs, "description").text = c.name
    return srs


def _layer_id(leg_or_name: LayerLegend | str, index: int = 0) -> str:
    """A stable layer id: ``lantian_<index>_<layer>`` (a layer may be drawn twice)."""
    if isinstance(leg_or_name, str):
        return f"lantian_{leg_or_name}"
    name = ("context_" if leg_or_name.context else "") + leg_or_name.layer
    return f"lantian_{index:02d}_" + "".join(ch if ch.isascii() and ch.isalnum() else "_"
                                             for ch in name)


def project_xml(analysis: str, legends: Sequence[LayerLegend], *, title: str,
                bounds: Sequence[float], offline: bool,
                geometry_types: Mapping[str, str]) -> str:
    """The ``.qgs`` document of the project (see :func:`write_qgis`)."""
    q = ET.Element("qgis", {"projectname": title, "version": QGIS_VERSION})
    ET.SubElement(q, "title").text = title
    ET.SubElement(ET.SubElement(q, "projectCrs"), "spatialrefsys").extend(
        list(_srs(PROJECT_CRS)))
    tree = ET.SubElement(q, "layer-tree-group")
    ET.SubElement(tree, "customproperties")
    is_admin = [leg.context and leg.layer in ADMIN_LAYERS for leg in legends]
    admin = [(i, leg) for i, leg in enumerate(legends) if is_admin[i]]
    results = [(i, leg) for i, leg in enumerate(legends) if not is_admin[i]]
    groups = [("行政区划", admin[::-1]), ("分析结果", results[::-1])]
    for gname, members in groups:
        if not members:
            continue
        g = ET.SubElement(tree, "layer-tree-group", {"name": gname, "checked": "Qt::Checked",
                                                     "expanded": "1"})
        ET.SubElement(g, "customproperties")
        for i, leg in members:
            ET.SubElement(g, "layer-tree-layer", {
                "id": _layer_id(leg, i), "name": leg.title, "providerKey": "ogr",
                "source": _source(analysis, leg),
                "checked": "Qt::Checked" if leg.visible else "Qt::Unchecked",
                "expanded": "1"})
    bg = ET.SubElement(tree, "layer-tree-group", {"name": "底图", "expanded": "1",
                                                  "checked": "Qt::Unchecked" if offline
                                                  else "Qt::Checked"})
    ET.SubElement(bg, "customproperties")
    ET.SubElement(bg, "layer-tree-layer", {
        "id": _layer_id("basemap"), "name": OSM_XYZ[0], "providerKey": "wms",
        "source": _xyz_source(), "expanded": "0",
        "checked": "Qt::Unchecked" if offline else "Qt::Checked"})

    canvas = ET.SubElement(q, "mapcanvas", {"name": "theMapCanvas", "annotationsVisible": "1"})
    ET.SubElement(canvas, "units").text = "meters"
    tr = Transformer.from_crs("EPSG:4326", PROJECT_CRS, always_xy=True)
    x0, y0, x1, y1 = tr.transform_bounds(*bounds)
    ext = ET.SubElement(canvas, "extent")
    for k, v in zip(("xmin", "ymin", "xmax", "ymax"), (x0, y0, x1, y1), strict=True):
        ET.SubElement(ext, k).text = f"{v:.1f}"
    ET.SubElement(ET.SubElement(canvas, "destinationsrs"), "spatialrefsys").extend(
        list(_srs(PROJECT_CRS)))

    layers = ET.SubElement(q, "projectlayers")
    for i, leg in enumerate(legends):
        geom = geometry_types.get(_layer_id(leg, i), "Polygon")
        ml = ET.SubElement(layers, "maplayer", {
            "type": "vector", "geometry": geom, "labelsEnabled": "1" if leg.label_col else "0",
            "hasScaleBasedVisibilityFlag": "0", "readOnly": "0", "autoRefreshEnabled": "0"})
        ET.SubElement(ml, "id").text = _layer_id(leg, i)
        ET.SubElement(ml, "datasource").text = _source(analysis, leg)
        ET.SubElement(ml, "layername").text = leg.title
        ET.SubElement(ET.SubElement(ml, "srs"), "spatialrefsys").extend(list(_srs("EPSG:4326")))
        ET.SubElement(ml, "provider", {"encoding": "UTF-8"}).text = "ogr"
        ml.extend(_style_children(leg, None))
    ml = ET.SubElement(layers, "maplayer", {"type": "raster", "hasScaleBasedVisibilityFlag": "0",
                                            "autoRefreshEnabled": "0"})
    ET.SubElement(ml, "id").text = _layer_id("basemap")
    ET.SubElement(ml, "datasource").text = _xyz_source()
    ET.SubElement(ml, "layername").text = OSM_XYZ[0]
    ET.SubElement(ET.SubElement(ml, "srs"), "spatialrefsys").extend(list(_srs("EPSG:3857")))
    ET.SubElement(ml, "provider").text = "wms"

    props = ET.SubElement(q, "properties")
    paths = ET.SubElement(props, "Paths")
    ET.SubElement(paths, "Absolute", {"type": "bool"}).text = "false"
    meta = ET.SubElement(q, "projectMetadata")
    ET.SubElement(meta, "title").text = title
    ET.indent(q)
    return _DOCTYPE + ET.tostring(q, encoding="unicode") + "\n"


def _source(analysis: str, leg: LayerLegend) -> str:
    file = "context.gpkg" if leg.context else f"{analysis}.gpkg"
    src = f"./{file}|layername={leg.layer}"
    if leg.subset:
        src += f"|subset={leg.subset}"
    return src


def _xyz_source() -> str:
    from urllib.parse import quote

    url = quote(OSM_XYZ[1], safe=":/.")
    return f"type=xyz&url={url}&zmax={OSM_XYZ[2]}&zmin=0"


def write_qgis(folder: Path, analysis: str, legends: Sequence[LayerLegend], *, title: str,
               fields: Mapping[str, object], offline: bool = True) -> Path:
    """Write the QGIS styles and the project of a result folder; returns the ``.qgz`` path.

    Parameters
    ----------
    folder
        ``layers/<analysis>/`` (or the temporary folder it is being written in) holding
        ``<analysis>.gpkg``, ``shp/`` and, for county outlines, ``context.gpkg``.
    legends
        The layers in map order, bottom to top (an analysis's ``symbology(result)``);
        layers missing from the files are left out of the project.
    title
        Project title (the map's title).
    fields
        The result's column descriptions (for the Shapefiles' short field names).
    offline
        The basemap entry is off (the run was offline); it is listed either way.
    """
    import pyogrio

    folder = Path(folder)
    gpkg = folder / f"{analysis}.gpkg"
    present: dict[str, str] = {}
    kept = []
    for leg in legends:
        f = folder / "context.gpkg" if leg.context else gpkg
        if not f.exists():
            continue
        names = {n: g for n, g in pyogrio.list_layers(f).tolist()}
        if leg.layer not in names:
            continue
        g = str(names[leg.layer] or "")
        present[_layer_id(leg, len(kept))] = ("Point" if "Point" in g else "Line" if "Line" in g
                                   else "Polygon")
        kept.append(leg)
    write_gpkg_styles(gpkg, kept)
    if (folder / "shp").is_dir():
        write_shp_styles(folder / "shp", kept, fields, gpkg=gpkg)
    # an empty layer has no geometry type in the file (QGIS opens it as a table without a
    # renderer): styled in the files, left out of the project
    shown = [(i, leg) for i, leg in enumerate(kept)
             if _layer_info(folder / "context.gpkg" if leg.context else gpkg,
                            leg.layer)["features"] != 0]
    present = {_layer_id(leg, j): present[_layer_id(leg, i)]
               for j, (i, leg) in enumerate(shown)}
    kept = [leg for _, leg in shown]
    bounds = _bounds(folder, analysis, kept)
    doc = project_xml(analysis, kept, title=title, bounds=bounds, offline=offline,
                      geometry_types=present)
    path = folder / f"{analysis}.qgz"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        info = zipfile.ZipInfo(f"{analysis}.qgs", date_time=(1980, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16
        z.writestr(info, doc.encode("utf-8"))
    log.info("Wrote QGIS project %s (%d layers)", path, len(kept))
    return path


def _layer_info(path: Path, layer: str, *, bounds: bool = False) -> dict:
    """``features`` (0 when empty) and ``total_bounds`` of a layer of a GeoPackage.

    :func:`pyogrio.read_info`, except for an SQL view (``<layer>_by_period`` of
    :mod:`spatial.periodstore`, millions of joined rows, which GDAL counts row by row): for a
    view ``features`` is 1 if it has a row, else 0, and ``total_bounds`` is the extent
    registered for it in ``gpkg_contents`` (the extent of its geometry layer).
    """
    import pyogrio

    con = sqlite3.connect(f"file:{Path(path).as_posix()}?mode=ro", uri=True)
    try:
        is_view = con.execute("SELECT 1 FROM sqlite_master WHERE type = 'view' AND name = ?",
                              (layer,)).fetchone() is not None
        if is_view:
            name = '"' + layer.replace('"', '""') + '"'
            has = con.execute(f"SELECT EXISTS (SELECT 1 FROM {name})").fetchone()[0]
            box = con.execute("SELECT min_x, min_y, max_x, max_y FROM gpkg_contents WHERE "
                              "table_name = ?", (layer,)).fetchone()
            return {"features": int(has),
                    "total_bounds": None if box is None or None in box else tuple(box)}
    finally:
        con.close()
    return pyogrio.read_info(path, layer=layer, force_total_bounds=bounds)


def _bounds(folder: Path, analysis: str, legends: Sequence[LayerLegend]) -> tuple:
    boxes = []
    for leg in legends:
        f = folder / ("context.gpkg" if leg.context else f"{analysis}.gpkg")
        info = _layer_info(f, leg.layer, bounds=True)
        b = info.get("total_bounds")
        if b is not None and info["features"] and np.isfinite(np.asarray(b, float)).all():
            boxes.append(b)
    if not boxes:
        from .webmap import DEFAULT_BOUNDS

        return DEFAULT_BOUNDS
    b = np.asarray(boxes, dtype=float)
    return (b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max())


def read_gpkg_styles(gpkg: Path) -> pd.DataFrame:
    """The ``layer_styles`` rows of a GeoPackage (empty frame if it has none)."""
    con = sqlite3.connect(gpkg)
    try:
        return pd.read_sql_query("SELECT * FROM layer_styles", con)
    except pd.errors.DatabaseError:
        return pd.DataFrame()
    finally:
        con.close()
