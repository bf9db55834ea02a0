"""Figures draw Chinese with the bundled font, also on a machine without any system CJK font."""

import json
import subprocess
import sys
import textwrap

import pytest
from matplotlib import font_manager

from spatial import figure, fonts

# Run in a fresh interpreter with an empty MPLCONFIGDIR (no font cache) and every font that is not
# matplotlib's own (DejaVu) removed from the font manager before lantian looks for one: what a
# new machine without fonts-noto-cjk sees. Prints JSON for the test to check.
HIDDEN_SYSTEM_FONTS = textwrap.dedent(r'''
    import json, sys, warnings
    from pathlib import Path

    import matplotlib
    from matplotlib import font_manager

    own = Path(matplotlib.get_data_path()).resolve()
    font_manager.fontManager.ttflist = [
        f for f in font_manager.fontManager.ttflist if Path(f.fname).resolve().is_relative_to(own)]
    visible = sorted({f.name for f in font_manager.fontManager.ttflist})

    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from spatial import figure, fonts

    def bitmap(text, family):
        fig = Figure(figsize=(0.5, 0.5), dpi=100)
        fig.text(0.5, 0.5, text, family=family, size=24, ha="center", va="center")
        canvas = FigureCanvasAgg(fig)
        canvas.draw()
        return np.asarray(canvas.buffer_rgba())[..., 0].copy()

    family = figure.cjk_font()
    text = sys.argv[1]
    with warnings.catch_warnings():
        warnings.simplefilter("error")            # "Glyph ... missing from font" fails the run
        glyphs = [bitmap(c, family) for c in text]
    blank = bitmap(" ", family)
    print(json.dumps({
        "visible": visible,
        "family": family,
        "bundled": str(fonts.bundled_font_path()),
        "registered": [f.fname for f in font_manager.fontManager.ttflist if f.name == family],
        "blank": [c for c, g in zip(text, glyphs) if np.array_equal(g, blank)],
        "distinct": len({g.tobytes() for g in glyphs}),
    }))
''')

# Characters of the figures' titles, legends and county labels (and of units), one of each.
CHINESE = "供热半径燃煤锅炉县区界图例北临清市东昌府区微山县禁燃区秸秆焚烧火点污染高值网格μg/m³≥"


def test_figures_draw_chinese_without_system_cjk_fonts(tmp_path):
    env = {"MPLCONFIGDIR": str(tmp_path / "mpl"), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", HIDDEN_SYSTEM_FONTS, CHINESE], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert not any("CJK" in n or "Han" in n or "Hei" in n for n in out["visible"]), out["visible"]
    assert out["family"] == fonts.BUNDLED_FAMILY == "Noto Sans SC"
    assert out["registered"] == [out["bundled"]]
    assert out["blank"] == []
    # a missing character is drawn as the same box (tofu) as every other missing one: with
    # DejaVu Sans alone, 供 and 热 give identical bitmaps; here every character differs
    assert out["distinct"] == len(set(CHINESE))


def test_bundled_font_has_every_character_of_the_figures():
    """Independently of matplotlib: the font's own cmap (fontTools) maps each character."""
    from fontTools.ttLib import TTFont

    path = fonts.bundled_font_path()
    assert path is not None and path.suffix == ".otf"
    font = TTFont(path)
    cmap = font.getBestCmap()
    assert [c for c in CHINESE if ord(c) not in cmap] == []
    names = {r.toUnicode() for r in font["name"].names if r.nameID == 1}
    assert fonts.BUNDLED_FAMILY in names


def without_cjk(monkeypatch):
    fonts.cjk_font.cache_clear()
    monkeypatch.setattr(fonts, "bundled_font_path", lambda: None)
    keep = [f for f in font_manager.fontManager.ttflist if f.name == "DejaVu Sans"]
    monkeypatch.setattr(font_manager.fontManager, "ttflist", keep)


@pytest.fixture
def restore_cache():
    yield
    fonts.cjk_font.cache_clear()


def test_system_font_only_when_bundled_is_missing(monkeypatch, restore_cache):
    without_cjk(monkeypatch)
    system = font_manager.FontEntry(fname="/nowhere/wqy-zenhei.ttc", name="WenQuanYi Zen Hei")
    monkeypatch.setattr(font_manager.fontManager, "ttflist",
                        font_manager.fontManager.ttflist + [system])
    assert fonts.cjk_font() == "WenQuanYi Zen Hei"


def test_no_cjk_font_at_all_warns_once(monkeypatch, restore_cache):
    import geopandas as gpd
    from shapely.geometry import Point

    without_cjk(monkeypatch)
    assert fonts.cjk_font() is None
    pts = gpd.GeoDataFrame({"status": ["甲"]}, geometry=[Point(116.0, 36.0)], crs=4326)
    with pytest.warns(UserWarning, match="no CJK font") as caught:
        fig = figure.draw({"p": pts}, title="测试")
        assert figure.to_bytes(fig, "png").startswith(b"\x89PNG")
    assert len(caught) == 1  # not one "Glyph missing" per character
