"""The demo maps as a meeting uses them, in headless Chromium (offline): a click on a feature of
every layer opens a popup with the tooltip's fields, the initial view holds every feature at
1024×768 and 1920×1080, the one period picker moves every period layer, and the legend lists
exactly the layers drawn.

The probe script is injected into a copy of each page and writes what it finds into the DOM
(``--dump-dom``). Skipped without Chromium; under ``CI=true`` a missing Chromium fails.
"""

import html
import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        if shutil.which(name):
            return shutil.which(name)
    return None


if _chromium() is None and os.environ.get("CI") == "true":  # CI installs it (.ci/run)
    raise RuntimeError("CI=true but no chromium binary: the browser tests cannot run")
pytestmark = pytest.mark.skipif(_chromium() is None, reason="no chromium binary found")

_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=127.0.0.1:9",
    "--proxy-bypass-list=<-loopback>", "--hide-scrollbars", "--virtual-time-budget=8000",
]  # fmt: skip

_HEAD = """<script>
window.__errs = [];
window.addEventListener("error", function (e) { window.__errs.push(String(e.message)); });
</script>"""

# Runs after the map's own scripts: finds the map and the layer control, then for every overlay
# checks the view, clicks one feature, reads popup and tooltip, and tries the period picker.
_PROBE = """<script>
window.addEventListener("load", function () {
  // period layers draw their cells once their arrays are inflated (asynchronous)
  var pending = [];
  Object.keys(window).forEach(function (k) {
    var v; try { v = window[k]; } catch (e) { return; }
    if (v instanceof L.Map && v._lantianPending) { pending = v._lantianPending; }
  });
  Promise.all(pending).then(function () {
  var out = {errors: window.__errs, size: [window.innerWidth, window.innerHeight],
             layers: [], legend: [], periods: null};
  try {
    var map = null, overlays = null;  // folium's layer control lists its layers in a global
    Object.keys(window).forEach(function (k) {
      var v; try { v = window[k]; } catch (e) { return; }
      if (v instanceof L.Map) { map = v; }
      if (/^layer_control_.*_layers$/.test(k) && v && v.overlays) { overlays = v.overlays; }
    });
    var view = map.getBounds();
    var text = function (sel) {
      var el = document.querySelector(sel); return el ? el.innerText.trim() : null;
    };
    Object.keys(overlays).forEach(function (name) {
      var d = {name: name, layer: overlays[name]};
      var feats = [];
      d.layer.eachLayer(function (g) {
        if (g.eachLayer) { g.eachLayer(function (f) { feats.push(f); }); } else { feats.push(g); }
      });
      var rec = {name: d.name, n: feats.length, outside: 0, popup: null, tooltip: null,
                 shown: map.hasLayer(d.layer)};
      feats.forEach(function (f) {
        var b = f.getLatLng ? L.latLngBounds([f.getLatLng(), f.getLatLng()]) : f.getBounds();
        if (!view.contains(b)) { rec.outside += 1; }
      });
      if (!rec.shown) { map.addLayer(d.layer); }
      var f = feats[0];
      if (f) {
        var ll = f.getLatLng ? f.getLatLng() : f.getBounds().getCenter();
        f.fire("click", {latlng: ll});
        rec.popup = text(".leaflet-popup-content");
        map.closePopup();
        if (f.getTooltip && f.getTooltip()) {
          f.openTooltip(ll); rec.tooltip = text(".leaflet-tooltip"); f.closeTooltip();
        }
      }
      if (!rec.shown) { map.removeLayer(d.layer); }
      out.layers.push(rec);
    });
    document.querySelectorAll(".lt-legend .lt-legend-sec").forEach(function (e) {
      out.legend.push(e.innerText.trim());
    });
    document.querySelectorAll(".lt-legend > div:not(.lt-legend-sub)").forEach(function (e) {
      if (e.querySelector("i.lt-sw")) { out.legend.push(e.innerText.trim()); }
    });
    var sel = document.querySelector(".lt-periods select");
    if (sel) {
      // colour of each style index, as drawn on the period the map opens on
      // every period layer, shown or not (a hidden one must be right when switched on)
      var layers = [];
      Object.keys(overlays).forEach(function (name) {
        overlays[name].eachLayer(function (g) {
          if (g.lantianPeriods) { layers.push(g); }
        });
      });
      var last = sel.options.length - 1, pick = 0;
      var cls = function (g, j, f) { return g.lantianPeriods.classOf(j, f.lantianIndex); };
      var before = layers.map(function (g) {
        var m = {};
        g.eachLayer(function (f) { m[cls(g, last, f)] = f.options.fillColor; });
        return m;
      });
      sel.value = String(pick);
      sel.dispatchEvent(new Event("change"));
      out.periods = {n: sel.options.length, layers: layers.map(function (g, i) {
        var changed = 0, wrong = 0, checked = 0;
        var fs = g.getLayers();
        fs.forEach(function (f) {
          var want = before[i][cls(g, pick, f)];
          if (cls(g, pick, f) !== cls(g, last, f)) { changed += 1; }
          if (want === undefined) { return; }
          checked += 1;
          if (f.options.fillColor !== want) { wrong += 1; }
        });
        return {features: fs.length, changed: changed, wrong: wrong, checked: checked};
      })};
    }
  } catch (e) { out.errors.push("probe: " + e.message); }
  document.documentElement.setAttribute("data-probe", JSON.stringify(out));
  });
});
</script>"""


def _dump(probed: Path, size: tuple[int, int]) -> dict:
    with tempfile.TemporaryDirectory() as profile:
        proc = subprocess.run([_chromium(), *_FLAGS, f"--window-size={size[0]},{size[1]}",
                               f"--user-data-dir={profile}", "--dump-dom", probed.as_uri()],
                              capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-2000:]
    found = re.search(r'data-probe="([^"]*)"', proc.stdout)
    assert found, proc.stderr[-2000:]
    out = json.loads(html.unescape(found.group(1)))
    for rec in out["layers"]:
        rec["name"] = html.unescape(rec["name"])  # layer control keys are escaped HTML
    return out


def _probe(page: Path, tmp: Path, size: tuple[int, int]) -> dict:
    """Probe a page with a viewport of `size` (the window is grown by what the browser's own
    frame takes, measured on a first run)."""
    text = page.read_text(encoding="utf-8")
    probed = tmp / f"{page.stem}_{size[0]}.html"
    probed.write_text(text.replace("<head>", "<head>" + _HEAD, 1)
                      .replace("</html>", _PROBE + "</html>"), encoding="utf-8")
    dw, dh = _FRAME.get("delta", (0, 0))
    out = _dump(probed, (size[0] + dw, size[1] + dh))
    if tuple(out["size"]) != size:  # measure the frame once, then ask for a bigger window
        dw, dh = dw + size[0] - out["size"][0], dh + size[1] - out["size"][1]
        _FRAME["delta"] = (dw, dh)
        out = _dump(probed, (size[0] + dw, size[1] + dh))
    return out


_FRAME: dict[str, tuple[int, int]] = {}


@pytest.fixture(scope="module")
def probes(demo_out, tmp_path_factory) -> dict:
    tmp = tmp_path_factory.mktemp("probe")
    out = {}
    for page in sorted((demo_out / "maps").glob("*.html")):
        for size in ((1024, 768), (1920, 1080)):
            out[(page.stem, size)] = _probe(page, tmp, size)
    from analyses import REGISTRY
    assert {k[0] for k in out} == set(REGISTRY)  # every analysis's map
    return out


def test_no_errors_and_the_window_sizes_hold(probes):
    for (name, size), p in probes.items():
        assert p["errors"] == [], (name, p["errors"])
        assert tuple(p["size"]) == size, (name, p["size"])


def test_initial_view_contains_every_feature(probes):
    for (name, size), p in probes.items():
        for rec in p["layers"]:
            assert rec["n"] > 0, (name, rec["name"])
            assert rec["outside"] == 0, (name, size, rec["name"], rec["outside"], rec["n"])


def test_a_click_opens_a_popup_with_the_tooltip_fields(probes):
    for (name, size), p in probes.items():
        if size != (1024, 768):
            continue
        for rec in p["layers"]:
            if rec["name"] == "县区边界":  # outlines with written names: nothing to click
                continue
            assert rec["tooltip"], (name, rec["name"])
            assert rec["popup"] == rec["tooltip"], (name, rec["name"], rec["popup"])


def test_legend_entries_equal_the_layers_drawn(probes):
    for (name, _), p in probes.items():
        drawn = sorted(rec["name"] for rec in p["layers"])
        assert sorted(p["legend"]) == drawn, name


def test_the_period_picker_moves_every_period_layer(probes):
    p = probes[("pollution-hotspots", (1024, 768))]
    per = p["periods"]
    assert per is not None and per["n"] >= 2
    assert len(per["layers"]) == 2  # concentrations and Gi* classes
    for layer in per["layers"]:
        assert layer["changed"] > 0, layer  # the first period differs from the last somewhere
        assert layer["checked"] > 0 and layer["wrong"] == 0, layer
    for (name, _), q in probes.items():  # one picker at most, and only where periods exist
        assert (q["periods"] is not None) == (name == "pollution-hotspots"), name
