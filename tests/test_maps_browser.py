"""Every demo map in headless Chromium with networking disabled: no console errors, every layer
in the layer control, the tools present, and a screenshot that is not blank.

Skipped when no Chromium is installed (`.ci/run` installs Debian's `chromium`), except under
`CI=true`, where a missing Chromium fails. The screenshots
are kept under pytest's temporary folder (printed with -s) for a person to look at.
"""

import html
import json
import re
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pytest
from conftest import chromium

pytestmark = pytest.mark.skipif(chromium() is None,
                                reason="optional tool missing: no chromium binary on PATH")

# No network at all: every host name fails to resolve and any proxy use goes nowhere.
_OFFLINE_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=127.0.0.1:9",
    "--proxy-bypass-list=<-loopback>", "--window-size=1280,900", "--hide-scrollbars",
    "--virtual-time-budget=5000", "--enable-logging=stderr", "--v=0",
]  # fmt: skip

_PROBE_HEAD = """<script>
window.__errs = [];
window.addEventListener("error", function (e) { window.__errs.push(String(e.message)); });
var __ce = console.error;
console.error = function () { window.__errs.push([].join.call(arguments, " ")); };
</script>"""
_PROBE_TAIL = """<script>
window.addEventListener("load", function () {
  var names = [].map.call(document.querySelectorAll(".leaflet-control-layers label > span > span"),
                          function (s) { return s.textContent.trim(); });
  var root = document.documentElement;
  root.setAttribute("data-layers", JSON.stringify(names));
  root.setAttribute("data-errors", JSON.stringify(window.__errs));
  root.setAttribute("data-tools", [
    document.querySelectorAll(".leaflet-control-zoom-fullscreen, .leaflet-fullscreen-icon").length,
    document.querySelectorAll("#polyline-measure-control").length,
    document.querySelectorAll(".leaflet-control-scale").length,
    document.querySelectorAll(".lt-legend").length].join(","));
});
</script>"""


def _run(args: list[str]) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory() as profile:
        cmd = [chromium(), *_OFFLINE_FLAGS, f"--user-data-dir={profile}", *args]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def _png_colours(path: Path) -> int:
    """Distinct RGB colours in a PNG (Pillow, a matplotlib dependency, decodes it)."""
    from PIL import Image

    with Image.open(path) as im:
        px = np.asarray(im.convert("RGB")).reshape(-1, 3).astype(np.int64)
    return len(np.unique(px @ np.array([65536, 256, 1])))


def _control_names(page: str) -> list[str]:
    (block,) = re.findall(r"overlays\s*:\s*\{(.*?)\}", page, re.S)
    return [html.unescape(json.loads(k)) for k in re.findall(r'("(?:[^"\\]|\\.)*")\s*:', block)]


def _maps(demo_out: Path) -> list[Path]:
    maps = sorted((demo_out / "maps").glob("*.html"))
    assert maps, "the demo wrote no map"
    return maps


def test_every_demo_map_works_offline(demo_out, tmp_path):
    shots = tmp_path / "screenshots"
    shots.mkdir()
    for path in _maps(demo_out):
        page = path.read_text(encoding="utf-8")
        assert not re.search(r"<script[^>]*\bsrc\s*=|<link\b", page, re.I)
        assert "L.tileLayer" not in page  # the demo's maps are offline: no tiles
        expected = _control_names(page)
        assert expected, path.name
        probed = tmp_path / path.name
        probed.write_text(page.replace("<head>", "<head>" + _PROBE_HEAD, 1)
                          .replace("</html>", _PROBE_TAIL + "</html>"), encoding="utf-8")
        proc = _run(["--dump-dom", probed.as_uri()])
        dom, log = proc.stdout, proc.stderr
        assert proc.returncode == 0, log[-2000:]
        assert 'data-errors="[]"' in dom, re.search(r'data-errors="[^"]*"', dom)
        assert "Uncaught" not in log and not re.findall(r"CONSOLE.*", log), log[-2000:]
        layers = json.loads(html.unescape(re.search(r'data-layers="([^"]*)"', dom).group(1)))
        assert layers == expected, path.name
        tools = re.search(r'data-tools="([^"]*)"', dom).group(1).split(",")
        # full-screen button, measure tool, scale bar, legend
        assert all(int(t) >= 1 for t in tools), (path.name, tools)
        shot = shots / f"{path.stem}.png"
        proc = _run([f"--screenshot={shot}", path.as_uri()])
        assert proc.returncode == 0 and shot.exists(), proc.stderr[-2000:]
        assert _png_colours(shot) > 50, path.name  # not blank: outlines, points, legend, text
    print(f"\nscreenshots: {shots}")
