"""fire-points at national scale: display cells, compact events, the workbook's row limit.

The display cells are checked against a brute-force count with h3's own ``cell_to_parent``;
the compact events are decoded here from the page's arrays and compared with the events; the
map's byte limit is lowered so that a few thousand detections take the national path.
"""

import base64
import dataclasses
import json
import re
import zlib

import geopandas as gpd
import h3
import numpy as np
import openpyxl
import pandas as pd
import pytest
from shapely.geometry import Point

from analyses import fire_display, runner
from analyses import fire_points as fp
from analyses import fire_points_map as fpm
from bench.synthetic import viirs_season
from spatial import excel, export, multifile, pointlayer
from spatial.htmlsafe import escape, format_value


@pytest.fixture(scope="module")
def season(tmp_path_factory):
    csv = viirs_season(tmp_path_factory.mktemp("season") / "fire_nrt_J1V-C2_s.csv", n=4000)
    return fp.run(fp.read_inputs(fires=str(csv)), fp.Params())


def test_cell_parents_equal_h3():
    rng = np.random.default_rng(3)
    lat, lng = rng.uniform(-80, 80, 300), rng.uniform(-179, 179, 300)
    for res in (8, 11):
        cells = np.array([h3.str_to_int(h3.latlng_to_cell(a, b, res))
                          for a, b in zip(lat, lng, strict=True)], dtype=np.uint64)
        for r in range(res + 1):
            want = [h3.str_to_int(h3.cell_to_parent(h3.int_to_str(int(c)), r)) for c in cells]
            assert fire_display.cell_parents(cells, r).tolist() == want


def test_coarse_cells_against_brute_force(season):
    pts = season.layers["points"]
    kept = pts[pts["status"] == "kept"]
    res = season.params.h3_resolution
    for r in (res - 1, res - 3):
        got = fire_display.coarse_cells(pts, res, r).set_index("h3_cell")
        count, events, frp = {}, {}, {}
        for lat, lng, e, f in zip(kept["lat"], kept["lon"], kept["event_id"], kept["frp"],
                                  strict=True):
            p = h3.cell_to_parent(h3.latlng_to_cell(lat, lng, res), r)
            count[p] = count.get(p, 0) + 1
            if not pd.isna(e):
                events.setdefault(p, set()).add(int(e))
            frp[p] = frp.get(p, 0.0) + (0.0 if pd.isna(f) else f)  # pandas skips NaN
        assert sorted(got.index) == sorted(count)
        assert got["n_points"].to_dict() == count
        assert got["n_events"].to_dict() == {p: len(events.get(p, ())) for p in count}
        # rounded to 0.1 MW as the result's cells (a sum's last bits decide ties)
        assert np.allclose(got.loc[list(frp), "frp_sum"], list(frp.values()), rtol=0,
                           atol=0.05 + 1e-6)
        # the detections summed over the res-8 cells of the result agree too
        fine = season.layers["cells"]
        par = [h3.cell_to_parent(c, r) for c in fine["h3_cell"]]
        assert fine.groupby(par)["n_points"].sum().to_dict() == count


def _inflate(b64: str, dtype: str) -> np.ndarray:
    return np.frombuffer(zlib.decompress(base64.b64decode(b64)), dtype=dtype)


def test_compact_points_decode_to_the_input():
    lng = np.array([116.12345, 117.5, 90.00004, 116.12345])
    lat = np.array([36.5, 35.25, 40.00006, 36.5])
    tips = {"事件": pd.Series([1, 2, 3, 4]), "县区": pd.Series(["临清市", None, "<b>", "临清市"])}
    keys = pd.Series(["2025-06-01", None, "2025-06-02", "2025-06-01"])
    d = pointlayer.layer_data(lng, lat, radius=np.array([2.0, 3.5, 8.2, 2.0]), tooltip=tips,
                              keys=keys, decimals=4)
    xy = np.cumsum(_inflate(d["xy"], "<i4").reshape(-1, 2), axis=0) / d["div"]
    assert np.allclose(xy, np.column_stack([lng, lat]).round(4))
    assert _inflate(d["r"], "<u1").tolist() == [4, 7, 16, 4]  # half pixels
    size = {1: "<u1", 2: "<u2", 4: "<u4"}
    for j, (label, vals) in enumerate(tips.items()):
        t = d["tips"][j]
        idx = _inflate(t["idx"], size[t["size"]])
        assert d["tipLabels"][j] == escape(label)
        assert [t["texts"][i] for i in idx] == [escape(format_value(v)) for v in vals]
    k = _inflate(d["k"], size[d["kSize"]])
    assert [d["keys"][i] for i in k] == [None if pd.isna(v) else escape(v) for v in keys]


def test_national_map_fits_and_says_what_it_shows(season, monkeypatch):
    small = fpm.map_plan(season)
    assert not small.national  # 4,000 detections: the map as for a county
    assert fpm.national_summary(season) is None
    monkeypatch.setattr(fpm, "MAP_MAX_BYTES", 400_000)
    assert "coarser display resolution" in fpm.national_summary(season)
    plan = fpm.map_plan(season, fpm.symbology(season))
    assert plan.national and not plan.points and plan.compact_events
    assert plan.display_res is not None and plan.display_res < season.params.h3_resolution
    assert plan.full_bytes > fpm.MAP_MAX_BYTES
    html = runner.render_map(fp, season, runner.map_settings({}, offline=True))
    assert len(html.encode()) <= fpm.MAP_MAX_BYTES
    assert f"H3 网格（显示为 {plan.display_res} 级）：火点数" in html
    assert f"网格按 H3 {plan.display_res} 级显示（{len(plan.cells):,} 个" in html
    # heat sources as small circles, not size 7 over the display cells (one added by hand:
    # 4,000 synthetic detections hold no persistent source)
    src = gpd.GeoDataFrame({"id": ["H1"], "name": ["某钢厂"], "kind": ["steel"], "n_dates": [9],
                            "n_excluded": [9], "source": ["known"]},
                           geometry=[Point(116.0, 36.4)], crs=4326)
    with_src = dataclasses.replace(season, layers={**season.layers, "heat_sources": src})
    src_html = runner.render_map(fp, with_src, runner.map_settings({}, offline=True))
    assert '"radius":3.0' in src_html and '"radius":7.0' not in src_html
    # the compact events: one marker per event at its centroid
    data = json.loads(re.search(r"var style = \{.*?\}, d = (\{.*?\});\n", html).group(1))
    assert data["n"] == len(season.layers["events"])
    xy = np.cumsum(_inflate(data["xy"], "<i4").reshape(-1, 2), axis=0) / data["div"]
    ev = season.layers["events"]
    assert np.allclose(xy, ev[["lon", "lat"]].to_numpy().round(4))
    # a coarser display resolution than the finest that fits would be chosen wrongly
    finer = fire_display.coarse_cells(season.layers["points"], season.params.h3_resolution,
                                      plan.display_res + 1)
    assert len(finer) > len(plan.cells)
    # the figure draws the display cells, not the single events and detections
    spec = fpm.figure_spec(season)
    assert {s.layer for s in spec} == {"cells", "heat_sources"} & set(
        k for k, v in season.layers.items() if len(v))
    cells_style = next(s for s in spec if s.layer == "cells")
    assert f"显示为 {plan.display_res} 级" in cells_style.label


def test_workbook_sheet_past_the_row_limit_holds_a_note(tmp_path):
    big = pd.DataFrame({"x": np.arange(7), "name": list("abcdefg")})
    small = pd.DataFrame({"x": [1, 2]})
    path = tmp_path / "t.xlsx"
    excel.write_workbook({"bulletin": big, "by_county": small}, path,
                         about={"analysis": "fire-points", "summary": ["s"]}, max_rows=5)
    wb = openpyxl.load_workbook(path)
    note = excel.too_long_text("bulletin", 7, 5)
    assert [[c.value for c in r] for r in wb["火点通报"].iter_rows()] == [["说明"], [note]]
    assert "bulletin.csv" in note and "7 行" in note
    assert wb["按县区统计"].max_row == 3  # header and two rows
    about = [[c.value for c in r] for r in wb["说明"].iter_rows()]
    assert ["未写入工作簿：火点通报", note] in about


def test_tables_keep_every_row_in_the_csv(tmp_path, monkeypatch):
    monkeypatch.setattr(excel, "SHEET_MAX_ROWS", 3)
    monkeypatch.setattr(excel.write_workbook, "__kwdefaults__", {
        **excel.write_workbook.__kwdefaults__, "max_rows": 3})
    df = pd.DataFrame({"a": np.arange(10)})
    export.write_tables({"bulletin": df}, tmp_path)
    assert pd.read_csv(tmp_path / "bulletin.csv", encoding="utf-8-sig")["a"].tolist() == \
        list(range(10))
    wb = openpyxl.load_workbook(tmp_path / "tables.xlsx")
    assert wb["火点通报"]["A2"].value == excel.too_long_text("bulletin", 10, 3)


def test_relative_files_once_per_distinct_path(tmp_path):
    files = [str(tmp_path / "a" / "x.csv"), None, str(tmp_path / "b.csv"), "",
             str(tmp_path / "a" / "x.csv"), float("nan")]
    df = pd.DataFrame({"file": files, "row": range(6)})
    got = runner._relative_files(df, tmp_path)["file"].tolist()
    want = [multifile.display_path(v, tmp_path) if isinstance(v, str) and v else v
            for v in df["file"]]  # the per-row version it replaces
    assert got[0] == "a/x.csv" and got[2] == "b.csv"
    assert all(a == b or (a is b) or (pd.isna(a) and pd.isna(b))
               for a, b in zip(got, want, strict=True))
    assert df["file"].tolist()[0] == files[0]  # the input is not changed


_PROBE = """<script>
window.addEventListener("load", function () {
  var root = document.documentElement;
  var map = Object.keys(window).map(function (k) { return window[k]; }).filter(function (v) {
    return v instanceof L.Map; })[0];
  Promise.all(map._lantianPending || []).then(function () {
    var group = null;  // in its layer-control group, which is off when the map opens
    Object.keys(window).forEach(function (k) {
      var v = window[k];
      if (v instanceof L.LayerGroup) {
        v.eachLayer(function (l) { if (l.lantianCount != null) { group = l; } });
      }
    });
    root.setAttribute("data-built", group ? group.lantianCount : -1);
    root.setAttribute("data-shown", group ? group.getLayers().length : -1);
    map._lantianFilter = DAY;
    map.fire("lantian:filter");
    root.setAttribute("data-day", group ? group.getLayers().length : -1);
    root.setAttribute("data-errors", JSON.stringify(window.__errs));
  });
});
</script>"""


@pytest.mark.skipif(__import__("conftest").chromium() is None, reason="no chromium binary")
def test_compact_events_in_the_browser(season, monkeypatch, tmp_path):
    """The events layer is built in the page (one marker per event) and follows the day."""
    from test_maps_browser import _PROBE_HEAD, _run

    monkeypatch.setattr(fpm, "MAP_MAX_BYTES", 400_000)
    html = runner.render_map(fp, season, runner.map_settings({}, offline=True))
    ev = season.layers["events"]
    day = ev["start_date"].value_counts().index[0]
    page = tmp_path / "m.html"
    page.write_text(html.replace("<head>", "<head>" + _PROBE_HEAD, 1).replace(
        "</html>", _PROBE.replace("DAY", json.dumps(day)) + "</html>"), encoding="utf-8")
    proc = _run(["--dump-dom", page.as_uri()])
    dom = proc.stdout
    assert 'data-errors="[]"' in dom, proc.stderr[-2000:]
    assert f'data-built="{len(ev)}"' in dom
    assert f'data-shown="{len(ev)}"' in dom  # no day picked: every event
    assert f'data-day="{int((ev["start_date"] == day).sum())}"' in dom
