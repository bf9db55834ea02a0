"""Open lantian's QGIS projects and styled layers in real QGIS (headless) and report as JSON.

Run with the system Python that has PyQGIS (Debian's python3-qgis), not the project's venv:

    QT_QPA_PLATFORM=offscreen /usr/bin/python3 tests/qgis_probe.py OUT.json FOLDER [FOLDER …]

For each ``FOLDER`` (``layers/<analysis>/``): the project ``<analysis>.qgz`` (title, layer tree
order and groups, each layer's validity, renderer type, class count and labels, and the
category each feature gets from the renderer's expression), the GeoPackage layers opened on
their own (does QGIS apply the default style from ``layer_styles``?), the Shapefiles (does it
load the ``.qml`` beside them?), and a PNG rendering of the project (``<analysis>_qgis.png``
next to OUT.json).
"""

import json
import sys
from pathlib import Path

from qgis.core import (
    QgsApplication,
    QgsExpression,
    QgsExpressionContext,
    QgsExpressionContextUtils,
    QgsLayerTreeGroup,
    QgsLayerTreeLayer,
    QgsMapRendererParallelJob,
    QgsMapSettings,
    QgsProject,
    QgsRectangle,
    QgsVectorLayer,
)
from qgis.PyQt.QtCore import QSize
from qgis.PyQt.QtGui import QColor


def renderer_info(layer) -> dict:
    r = layer.renderer()
    if r is None:  # an empty layer has no geometry type: QGIS opens it as a table
        return {"type": None, "labels": False, "label_field": None, "classes": [],
                "attr": None, "symbols": [], "features": layer.featureCount()}
    out = {"type": r.type(), "labels": bool(layer.labelsEnabled() and layer.labeling()),
           "label_field": None, "classes": [], "attr": None, "symbols": []}
    if out["labels"]:
        out["label_field"] = layer.labeling().settings().fieldName
    if r.type() == "categorizedSymbol":
        out["attr"] = r.classAttribute()
        out["classes"] = [{"value": c.value(), "label": c.label(),
                           "color": c.symbol().color().name()} for c in r.categories()]
    elif r.type() == "singleSymbol":
        out["symbols"] = [r.symbol().color().name()]
    return out


def feature_classes(layer, attr: str) -> dict:
    """fid → value of the renderer's class expression (QGIS's expression engine)."""
    expr = QgsExpression(attr)
    ctx = QgsExpressionContext(QgsExpressionContextUtils.globalProjectLayerScopes(layer))
    expr.prepare(ctx)
    out = {}
    for f in layer.getFeatures():
        ctx.setFeature(f)
        v = expr.evaluate(ctx)
        out[str(f.id())] = None if v is None or str(v) == "NULL" else v
    return out


def tree(group) -> list:
    out = []
    for child in group.children():
        if isinstance(child, QgsLayerTreeGroup):
            out.append({"group": child.name(), "visible": child.isVisible(),
                        "children": tree(child)})
        elif isinstance(child, QgsLayerTreeLayer):
            out.append({"layer": child.name(), "visible": child.isVisible()})
    return out


def probe(folder: Path, png_dir: Path) -> dict:
    analysis = folder.name
    project = QgsProject.instance()
    project.clear()
    ok = project.read(str(folder / f"{analysis}.qgz"))
    res = {"read": ok, "title": project.title(), "tree": tree(project.layerTreeRoot()),
           "layers": {}, "gpkg": {}, "shp": {}}
    visible = []
    for lid, layer in project.mapLayers().items():
        info = {"name": layer.name(), "valid": layer.isValid(), "kind": layer.type().name
                if hasattr(layer.type(), "name") else str(layer.type()),
                "source": layer.source()}
        if isinstance(layer, QgsVectorLayer) and layer.isValid():
            info.update(renderer_info(layer))
            info["features"] = layer.featureCount()
            info["subset"] = layer.subsetString()
            info["field_types"] = {f.name(): f.typeName() for f in layer.fields()}
            if info["attr"]:
                info["feature_classes"] = feature_classes(layer, info["attr"])
        res["layers"][lid] = info
    for node in project.layerTreeRoot().findLayers():
        if node.isVisible() and node.layer() is not None:
            visible.append(node.layer())
    # render the project as it opens (visible layers, top of the tree drawn last)
    settings = QgsMapSettings()
    settings.setLayers(visible)
    settings.setDestinationCrs(project.crs())
    settings.setBackgroundColor(QColor(255, 255, 255))
    settings.setOutputSize(QSize(1200, 900))
    extent = QgsRectangle()
    for layer in visible:
        e = settings.layerExtentToOutputExtent(layer, layer.extent())
        extent.combineExtentWith(e)
    extent.scale(1.05)
    settings.setExtent(extent)
    job = QgsMapRendererParallelJob(settings)
    job.start()
    job.waitForFinished()
    png = png_dir / f"{analysis}_qgis.png"
    job.renderedImage().save(str(png), "png")
    res["png"] = str(png)
    res["render_errors"] = [e.message for e in job.errors()]
    # the GeoPackage layers on their own: QGIS applies the default style of layer_styles
    gpkg = folder / f"{analysis}.gpkg"
    whole = QgsVectorLayer(str(gpkg), "x", "ogr")
    for name in [lyr.split("!!::!!")[1] for lyr in whole.dataProvider().subLayers()]:
        if name == "layer_styles":
            continue
        layer = QgsVectorLayer(f"{gpkg}|layername={name}", name, "ogr")
        msg, loaded = layer.loadDefaultStyle()
        res["gpkg"][name] = {"valid": layer.isValid(), "style_loaded": loaded, "message": msg,
                             **renderer_info(layer)}
    for shp in sorted((folder / "shp").glob("*.shp")):
        layer = QgsVectorLayer(str(shp), shp.stem, "ogr")
        msg, loaded = layer.loadDefaultStyle()
        info = {"valid": layer.isValid(), "style_loaded": loaded, "message": msg,
                **renderer_info(layer)}
        if info["attr"]:
            info["feature_classes"] = feature_classes(layer, info["attr"])
        res["shp"][shp.stem] = info
    project.clear()
    return res


def main() -> None:
    out = Path(sys.argv[1])
    app = QgsApplication([], False)
    app.initQgis()
    try:
        result = {Path(f).name: probe(Path(f), out.parent) for f in sys.argv[2:]}
    finally:
        app.exitQgis()
    out.write_text(json.dumps(result, ensure_ascii=False, indent=1, default=str),
                   encoding="utf-8")


if __name__ == "__main__":
    main()
