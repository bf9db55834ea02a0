"""The compact per-period hexagon layer (spatial.periodlayer via webmap.add_choropleth_periods).

The arrays in the page are decoded here independently (base64, zlib, numpy) and compared with
classes worked out by hand and with h3's own cell boundaries; a province-year (30,301 res-7
cells x 365 days) stays under 10 MB; in Chromium the period picker recolours the cells.
"""

import base64
import json
import re
import subprocess
import tempfile
import zlib

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import pytest
from conftest import chromium
from shapely.geometry import Polygon

from spatial import webmap


def _hexes(cells: list[str]) -> gpd.GeoDataFrame:
    polys = [Polygon([(lng, lat) for lat, lng in h3.cell_to_boundary(c)]) for c in cells]
    return gpd.GeoDataFrame({"h3_cell": cells}, geometry=polys, crs=4326)


def _small() -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    cells = sorted(h3.grid_disk(h3.latlng_to_cell(36.45, 116.0, 7), 1))  # 7 cells
    values = pd.DataFrame({"2025-01": [10.0, 20.0, 30.0, 40.0, 50.0, 60.0, np.nan],
                           "2025-02": [60.0, 50.0, 40.0, 30.0, 20.0, 10.0, 5.0]})
    return _hexes(cells), values


def _layer_data(page: str) -> tuple[list[dict], list[dict]]:
    """(styles, data) of every period layer in the page."""
    found = re.findall(r"var styles = (\[.*?\]), d = (\{.*?\});\n", page)
    return [json.loads(s) for s, _ in found], [json.loads(d) for _, d in found]


def _arr(b64: str, dtype: str) -> np.ndarray:
    return np.frombuffer(zlib.decompress(base64.b64decode(b64)), dtype=dtype)


def _classes(d: dict, j: int, n: int) -> list[int]:
    """Period ``j``'s style indices of ``n`` cells, unpacked bit by bit from the page's bytes."""
    raw = _arr(d["classes"][j], "u1")
    bits = d["bits"]
    per = 8 // bits
    return [(int(raw[i // per]) >> ((i % per) * bits)) & (2**bits - 1) for i in range(n)]


def _rings(d: dict) -> list[list[np.ndarray]]:
    """Per feature, its rings as (n, 2) lng/lat arrays, decoded from the page's arrays."""
    xy = np.cumsum(_arr(d["xy"], "<i4").reshape(-1, 2).astype(np.int64), axis=0) / 1e6
    nverts, nrings = _arr(d["nverts"], "<u4"), _arr(d["nrings"], "<u4")
    nparts = _arr(d["nparts"], "<u4")
    starts = np.r_[0, np.cumsum(nverts)]
    rings = [xy[starts[i]:starts[i + 1]] for i in range(len(nverts))]
    ring_starts = np.r_[0, np.cumsum(nrings)]
    part_starts = np.r_[0, np.cumsum(nparts)]
    return [rings[ring_starts[part_starts[f]]:ring_starts[part_starts[f + 1]]]
            for f in range(len(nparts))]


def test_page_holds_each_cell_once_and_one_class_and_value_array_per_period():
    hexes, values = _small()
    m = webmap.new_map((115.9, 36.3, 116.1, 36.6), title="t", basemap="none")
    webmap.add_choropleth_periods(m, hexes, values, name="PM2.5 按时段", label="PM2.5",
                                  unit="μg/m³", bins=[0, 25, 45, np.inf],
                                  colors=["#ffffb2", "#fd8d3c", "#bd0026"],
                                  tooltip={"h3_cell": "网格"})
    page = webmap.render_html(m, offline=True)
    (styles,), (d,) = _layer_data(page)
    # by hand: classes [0,25) -> 0, [25,45) -> 1, >= 45 -> 2, missing -> 3 (无数据)
    assert d["bits"] == 2  # 4 styles
    assert _classes(d, 0, 7) == [0, 0, 1, 1, 2, 2, 3]
    assert _classes(d, 1, 7) == [2, 2, 1, 1, 0, 0, 0]
    assert [s["fillColor"] for s in styles] == ["#ffffb2", "#fd8d3c", "#bd0026", "#bdbdbd"]
    # whole numbers, no value_format: integers, the sentinel where there is none
    v0 = _arr(d["values"][0], "<i2")
    assert v0[:6].tolist() == [10, 20, 30, 40, 50, 60] and v0[6] == d["fmt"]["missing"]
    assert d["fmt"]["div"] == 1 and d["unit"] == " μg/m³"
    assert d["tips"] == [[c] for c in hexes["h3_cell"]]
    assert d["periods"] == ["2025-01", "2025-02"] and "lt-periods" in page
    # geometry once per cell, equal to h3's boundary within the 1e-6 degree rounding
    decoded = _rings(d)
    for feature, cell in zip(decoded, hexes["h3_cell"], strict=True):
        (ring,) = feature
        want = np.array([(lng, lat) for lat, lng in h3.cell_to_boundary(cell)])
        assert ring.shape == want.shape and np.abs(ring - want).max() <= 0.6e-6


def test_over_budget_values_are_quantised_to_the_legend_classes():
    hexes, values = _small()
    m = webmap.new_map((115.9, 36.3, 116.1, 36.6), title="t", basemap="none")
    webmap.add_choropleth_periods(m, hexes, values + 0.4, name="x", label="PM2.5", unit="μg/m³",
                                  bins=[0, 25, 45, np.inf], value_format="{:.1f}",
                                  value_budget=0)
    (_,), (d,) = _layer_data(webmap.render_html(m, offline=True))
    assert d["values"] is None and d["tipLabels"][1] == "PM2.5（分级）"
    assert d["classTexts"] == ["&lt; 25.0 μg/m³", "25.0 – 45.0 μg/m³", "≥ 45.0 μg/m³", "—"]
    # within the budget: one decimal kept, round(v * 10)
    m = webmap.new_map((115.9, 36.3, 116.1, 36.6), title="t", basemap="none")
    webmap.add_choropleth_periods(m, hexes, values + 0.44, name="x", label="PM2.5",
                                  bins=[0, 25, 45, np.inf], value_format="{:.1f}")
    (_,), (d,) = _layer_data(webmap.render_html(m, offline=True))
    assert _arr(d["values"][1], "<i2").tolist() == [604, 504, 404, 304, 204, 104, 54]
    assert d["fmt"]["div"] == 10 and d["fmt"]["dec"] == 1


def test_signed_classes_keep_their_sign():
    hexes, _ = _small()
    gi = pd.DataFrame({"p1": [-1, 0, 1, 1, 0, -1, np.nan]})
    m = webmap.new_map((115.9, 36.3, 116.1, 36.6), title="t", basemap="none")
    webmap.add_choropleth_periods(m, hexes, gi, name="gi", label="Gi*", bins=[-1, -0.5, 0.5, 1],
                                  colors=["#2166ac", "rgba(0,0,0,0)", "#b2182b"],
                                  value_format="{:+.0f}")
    (_,), (d,) = _layer_data(webmap.render_html(m, offline=True))
    assert d["fmt"]["plus"] is True
    assert _arr(d["values"][0], "<i2")[:6].tolist() == [-1, 0, 1, 1, 0, -1]
    assert _classes(d, 0, 7) == [0, 1, 2, 2, 1, 0, 3]


def test_a_province_year_at_res_7_stays_under_10_mb():
    # ~30,000 res-7 cells (Shandong's area / 5.16 km²) x 365 days. The concentrations are
    # independent noise, the hardest case to compress; the Gi* classes come in patches, as Gi*
    # (a sum over neighbours) makes them: a cell is hot (cold) within 15 km of one of the day's
    # plume centres (clean spots).
    cells = sorted(h3.grid_disk(h3.latlng_to_cell(36.4, 118.0, 7), 100))
    assert len(cells) == 30_301
    hexes = _hexes(cells).assign(county_name="某某县")
    rng = np.random.default_rng(7)
    days = [d.strftime("%Y-%m-%d") for d in pd.date_range("2025-01-01", periods=365)]
    table = rng.gamma(2.0, 20.0, size=(len(cells), len(days)))
    table[rng.random(table.shape) < 0.05] = np.nan
    values = pd.DataFrame(table, columns=days)
    c = hexes.geometry.to_crs(32650).centroid
    xy = np.column_stack([c.x, c.y])
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    gi = np.zeros(table.shape)
    for j in range(len(days)):
        for sign in (1.0, -1.0):
            centres = lo + rng.random((3, 2)) * (hi - lo)
            near = (np.hypot(*(xy[:, None, :] - centres[None]).transpose(2, 0, 1)) < 15e3)
            gi[near.any(axis=1), j] = sign
    gi_frame = pd.DataFrame(gi, columns=days)
    keep = (gi != 0).any(axis=1)
    m = webmap.new_map(hexes.total_bounds, title="山东省 PM2.5 日均浓度", basemap="none")
    webmap.add_choropleth_periods(m, hexes, values, name="PM2.5 浓度（按时段）", label="PM2.5",
                                  unit="μg/m³", bins=[0, 25, 35, 45, 55, 75, 115, np.inf],
                                  value_format="{:.0f}", tooltip={"h3_cell": "网格",
                                                                  "county_name": "县区"})
    webmap.add_choropleth_periods(m, hexes[keep], gi_frame[keep], name="Gi* 热点/冷点（按时段）",
                                  label="Gi*", bins=[-1, -0.5, 0.5, 1], value_format="{:+.0f}",
                                  colors=["#2166ac", "rgba(0,0,0,0)", "#b2182b"], show=False,
                                  tooltip={"h3_cell": "网格"})
    page = webmap.render_html(m, offline=True)
    size = len(page.encode("utf-8"))
    assert size < 10_000_000, size
    styles, data = _layer_data(page)
    assert [len(d["classes"]) for d in data] == [365, 365]
    # the classes of a day decode to those worked out with numpy's digitize
    want = np.digitize(table[:, 100], [25, 35, 45, 55, 75, 115])
    want[np.isnan(table[:, 100])] = 7
    assert _classes(data[0], 100, len(cells)) == want.tolist()
    assert _classes(data[1], 100, int(keep.sum())) == (gi[keep, 100] + 1).astype(int).tolist()
    print(f"province-year map: {size / 1e6:.1f} MB")


_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=127.0.0.1:9",
    "--proxy-bypass-list=<-loopback>", "--window-size=1000,800", "--hide-scrollbars",
    "--virtual-time-budget=8000",
]  # fmt: skip

_PROBE = """<script>
window.__errs = [];
window.addEventListener("error", function (e) { window.__errs.push(String(e.message)); });
window.addEventListener("load", function () {
  var map = null;
  Object.keys(window).forEach(function (k) {
    var v; try { v = window[k]; } catch (e) { return; }
    if (v instanceof L.Map) { map = v; }
  });
  Promise.all(map._lantianPending || []).then(function () {
    var cells = [];
    map.eachLayer(function (l) {
      if (l.lantianIndex !== undefined) { cells[l.lantianIndex] = l; }
    });
    var colours = function () { return cells.map(function (l) { return l.options.fillColor; }); };
    var tip = function () { cells[0].openTooltip(cells[0].getBounds().getCenter());
      var t = document.querySelector(".leaflet-tooltip").innerText; cells[0].closeTooltip();
      return t; };
    var out = {errors: window.__errs, opened: colours(), tipOpened: tip()};
    var sel = document.querySelector(".lt-periods select");
    out.options = [].map.call(sel.options, function (o) { return o.textContent; });
    sel.value = "0"; sel.dispatchEvent(new Event("change"));
    out.picked = colours(); out.tipPicked = tip();
    document.documentElement.setAttribute("data-probe", JSON.stringify(out));
  });
});
</script>"""


@pytest.mark.skipif(chromium() is None, reason="optional tool missing: no chromium binary on PATH")
def test_period_picker_recolours_the_cells_in_chromium(tmp_path):
    hexes, values = _small()
    m = webmap.new_map((115.9, 36.3, 116.1, 36.6), title="PM2.5 按时段", basemap="none")
    colors = ["#ffffb2", "#fd8d3c", "#bd0026"]
    webmap.add_choropleth_periods(m, hexes, values, name="PM2.5 按时段", label="PM2.5",
                                  unit="μg/m³", bins=[0, 25, 45, np.inf], colors=colors,
                                  tooltip={"h3_cell": "网格"})
    page = webmap.render_html(m, offline=True)
    html_path = tmp_path / "periods.html"
    html_path.write_text(page.replace("</body>", _PROBE + "</body>"), encoding="utf-8")
    with tempfile.TemporaryDirectory() as profile:
        proc = subprocess.run([chromium(), *_FLAGS, f"--user-data-dir={profile}", "--dump-dom",
                               html_path.as_uri()], capture_output=True, text=True, timeout=120)
        shot = tmp_path / "periods.png"
        subprocess.run([chromium(), *_FLAGS, f"--user-data-dir={profile}",
                        f"--screenshot={shot}", html_path.as_uri()],
                       capture_output=True, text=True, timeout=120)
    found = re.search(r'data-probe="([^"]*)"', proc.stdout)
    assert found, proc.stderr[-2000:]
    import html as _html

    out = json.loads(_html.unescape(found.group(1)))
    assert out["errors"] == []
    grey = "#bdbdbd"
    # by hand, as in the first test: last period (opened) then the first (picked)
    assert out["opened"] == [colors[i] for i in (2, 2, 1, 1, 0, 0, 0)]
    assert out["picked"] == [colors[0], colors[0], colors[1], colors[1], colors[2], colors[2],
                             grey]
    assert out["options"] == ["2025-01", "2025-02"]
    assert "2025-02" in out["tipOpened"] and "60 μg/m³" in out["tipOpened"]
    assert "2025-01" in out["tipPicked"] and "10 μg/m³" in out["tipPicked"]
    assert shot.exists() and shot.stat().st_size > 0
