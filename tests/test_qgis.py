"""QGIS styles and projects of the demo results: the files themselves, and real QGIS opening them.

The second part runs ``tests/qgis_probe.py`` with the system Python that has PyQGIS (Debian's
``python3-qgis``, installed by ``.ci/run``) in a subprocess, headless: every project is read,
every layer must be valid and styled, the class QGIS gives each feature must be the class worked
out here by hand from the attributes, and the project is rendered to a PNG (the path is
printed; look at it). Without PyQGIS the test is skipped, except under ``CI=true``, where it
fails.
"""

import html
import json
import os
import re
import sqlite3
import subprocess
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest

ANALYSES = ("heat-radius", "no-burn-zones", "fire-points", "pollution-hotspots")
SYSTEM_PYTHON = "/usr/bin/python3"


def _has_qgis() -> bool:
    if not Path(SYSTEM_PYTHON).exists():
        return False
    proc = subprocess.run([SYSTEM_PYTHON, "-c", "import qgis.core"], capture_output=True,
                          timeout=120)
    return proc.returncode == 0


def test_every_layer_carries_its_style(demo_out):
    for a in ANALYSES:
        folder = demo_out / "layers" / a
        gpkg = folder / f"{a}.gpkg"
        con = sqlite3.connect(gpkg)
        try:
            layers = {r[0] for r in con.execute(
                "SELECT table_name FROM gpkg_contents WHERE data_type = 'features'")}
            rows = con.execute("SELECT f_table_name, f_geometry_column, useAsDefault, styleQML, "
                               "update_time FROM layer_styles").fetchall()
            registered = con.execute("SELECT data_type FROM gpkg_contents WHERE table_name = "
                                     "'layer_styles'").fetchall()
        finally:
            con.close()
        assert registered == [("attributes",)], a
        assert sorted(r[0] for r in rows) == sorted(layers), a  # one default style per layer
        for name, geom_col, default, qml, stamp in rows:
            assert geom_col == "geom" and default == 1 and stamp.startswith("2000-01-01"), name
            root = ET.fromstring(qml.split("\n", 1)[1])  # after the DOCTYPE line
            assert root.tag == "qgis" and root.find("renderer-v2") is not None, (a, name)
        shp = folder / "shp"
        assert sorted(p.stem for p in shp.glob("*.qml")) == sorted(p.stem for p in
                                                                     shp.glob("*.shp")), a
        with zipfile.ZipFile(folder / f"{a}.qgz") as z:
            assert z.namelist() == [f"{a}.qgs"]
            project = ET.fromstring(z.read(f"{a}.qgs").decode("utf-8").split("\n", 1)[1])
        assert project.findtext("title")
        assert not any(Path(ds.text).is_absolute() for ds in project.iter("datasource")
                       if not ds.text.startswith("type=xyz"))


@pytest.fixture(scope="module")
def probe(demo_out, tmp_path_factory) -> dict:
    if not _has_qgis():
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but PyQGIS is missing: install python3-qgis (.ci/run does)")
        pytest.skip("no PyQGIS for /usr/bin/python3 (apt-get install python3-qgis)")
    out = tmp_path_factory.mktemp("qgis") / "probe.json"
    script = Path(__file__).with_name("qgis_probe.py")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": ""}
    proc = subprocess.run([SYSTEM_PYTHON, str(script), str(out),
                           *[str(demo_out / "layers" / a) for a in ANALYSES]],
                          capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(out.read_text(encoding="utf-8"))


def _layer(p: dict, name: str) -> dict:
    (hit,) = [v for v in p["layers"].values() if v["name"] == name]
    return hit


def _classes(info: dict) -> dict[int, object]:
    return {int(k): v for k, v in info["feature_classes"].items()}


def test_projects_open_valid_styled_and_grouped(probe, demo_out):
    for a in ANALYSES:
        p = probe[a]
        assert p["read"], a
        page = (demo_out / "maps" / f"{a}.html").read_text(encoding="utf-8")
        title = html.unescape(re.search(r"<title>(.*?)</title>", page, re.S).group(1).strip())
        assert p["title"] == title and title, a  # the project is titled as the map
        assert [g["group"] for g in p["tree"]] == ["行政区划", "分析结果", "底图"], a
        assert p["tree"][0]["children"][0]["layer"] == "县区边界"  # county outlines on top
        assert p["tree"][2]["visible"] is False  # the demo is offline: basemap off
        for lid, info in p["layers"].items():
            assert info["valid"], (a, lid, info["source"])
            if lid == "lantian_basemap":
                assert "type=xyz" in info["source"]
                continue
            assert info["type"] in ("singleSymbol", "categorizedSymbol"), (a, info["name"])
            assert info["features"] > 0, (a, info["name"])
            if info["type"] == "categorizedSymbol":
                assert len(info["classes"]) >= 1 and all(c["label"] for c in info["classes"])
        counties = _layer(p, "县区边界")
        assert counties["labels"] and counties["label_field"] == "name"
        man = json.loads((demo_out / "layers" / a / "manifest.json").read_text(encoding="utf-8"))
        tables = {t for e in (man.get("period_layers") or {}).values()
                  for t in (e["values"], e["periods"])}  # attribute tables of a split layer
        for name, info in {**p["gpkg"], **p["shp"]}.items():
            if info["type"] is None:  # only an empty layer or a table opens without a renderer
                assert info["features"] == 0 or (name in tables and info["valid"]), (a, name)
                continue
            assert info["valid"] and info["style_loaded"], (a, name, info["message"])
        assert p["render_errors"] == [], a


def test_qgis_classes_match_the_attributes(probe, demo_out):
    # heat-radius: boilers by hand from target / in_radius; cells by quantiles worked out here
    folder = demo_out / "layers" / "heat-radius"
    gpkg = folder / "heat-radius.gpkg"
    boilers = gpd.read_file(gpkg, layer="boilers", fid_as_index=True)
    want = {int(f): ("network_target" if t and not i else "target" if t else
                     "inside_other" if i else "outside")
            for f, t, i in zip(boilers.index, boilers["target"], boilers["in_radius"],
                               strict=True)}
    info = _layer(probe["heat-radius"], "锅炉")
    assert _classes(info) == want
    assert [c["value"] for c in info["classes"]] == ["target", "network_target", "inside_other",
                                                     "outside"]
    shp = probe["heat-radius"]["shp"]["boilers"]  # short field names, fids from 0
    assert [v for _, v in sorted(_classes(shp).items())] == [want[k] for k in sorted(want)]

    cells = gpd.read_file(gpkg, layer="cells", fid_as_index=True)
    cells = cells[cells["n_targets"] > 0]
    v = cells["capacity_th_targets"].to_numpy(float)
    edges = np.unique(np.quantile(v, np.linspace(0, 1, 6)))
    by_hand = {int(f): sum(1 for e in edges[1:-1] if x >= e) for f, x in zip(cells.index, v,
                                                                               strict=True)}
    got = _classes(_layer(probe["heat-radius"], "H3 网格：目标锅炉蒸吨"))
    assert {k: int(x) for k, x in got.items()} == by_hand

    # pollution-hotspots: the last period's PM2.5 in the national-style classes
    gpkg = demo_out / "layers" / "pollution-hotspots" / "pollution-hotspots.gpkg"
    # drawn from the view joining the cells with cell_values (one row per cell and period)
    cells = gpd.read_file(gpkg, layer="cells_by_period", fid_as_index=True)
    last = sorted(cells["period"].unique())[-1]
    cells = cells[cells["period"] == last]
    bins = [25, 35, 45, 55, 75, 115]  # PM2.5 class edges (µg/m³) of the map
    by_hand = {int(f): (None if np.isnan(x) else sum(1 for e in bins if x >= e))
               for f, x in zip(cells.index, cells["value"].astype(float), strict=True)}
    info = [v for v in probe["pollution-hotspots"]["layers"].values()
            if v["name"].startswith("PM2.5")][0]
    assert info["subset"] == f"\"period\" = '{last}'"
    # QGIS types the view's columns as the old layer's: value (stored as an integer of
    # thousandths behind a generated REAL column) is Real, status (codes) is String
    types = info["field_types"]
    assert types["value"] == types["gi_z"] == types["exceed_ratio"] == "Real", types
    assert types["status"] == types["period"] == types["h3_cell"] == "String", types
    assert types["n_obs"] == "Integer64" and types["exceed"] in ("Integer", "Boolean"), types
    got = _classes(info)
    assert {k: (None if x is None else int(x)) for k, x in got.items()} == by_hand

    # fire-points: points by status, every status present gets a class with a Chinese label
    pts = gpd.read_file(demo_out / "layers" / "fire-points" / "fire-points.gpkg",
                        layer="points", fid_as_index=True)
    info = _layer(probe["fire-points"], "卫星火点")
    assert _classes(info) == {int(f): s for f, s in zip(pts.index, pts["status"], strict=True)}
    assert {c["value"] for c in info["classes"]} == set(pts["status"])


def test_rendered_project_is_not_blank(probe):
    from PIL import Image

    for a in ANALYSES:
        with Image.open(probe[a]["png"]) as im:
            px = np.asarray(im.convert("RGB")).reshape(-1, 3).astype(np.int64)
        assert len(np.unique(px @ np.array([65536, 256, 1]))) > 50, a
    print("\nQGIS renderings:", *[probe[a]["png"] for a in ANALYSES], sep="\n  ")
