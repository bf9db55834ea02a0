"""The CJK font of lantian's static figures, shipped as a Python dependency.

Figures (:mod:`spatial.figure`) label counties, legends and titles in Chinese, which needs a font
with Simplified Chinese glyphs. lantian depends on the PyPI package ``pylopdf-fonts-zh-cn``, a
data-only wheel holding ``NotoSansSC-Regular.otf`` (Noto Sans SC, the Simplified Chinese subset
of Noto Sans CJK from ``notofonts/noto-cjk``; SIL Open Font License 1.1). :func:`cjk_font`
registers that file with matplotlib's font manager in memory
(``matplotlib.font_manager.fontManager.addfont``), so a machine without any system CJK font
draws Chinese, and no font cache has to be rebuilt or deleted after installation.

A system CJK font (Noto Sans CJK SC, Source Han Sans SC, WenQuanYi, Microsoft YaHei, ...) is
used only when the bundled font cannot be loaded (a broken installation); without either the
figure is still drawn and :mod:`spatial.figure` warns that Chinese will show as boxes.
"""

from __future__ import annotations

import logging
from functools import cache
from pathlib import Path

log = logging.getLogger(__name__)

#: Family name of the bundled font (the ``name`` table of ``NotoSansSC-Regular.otf``).
BUNDLED_FAMILY = "Noto Sans SC"
#: System fonts with Simplified Chinese glyphs, most preferred first (fallback only).
SYSTEM_CJK_FAMILIES = ("Noto Sans CJK SC", "Source Han Sans SC", "Noto Sans SC",
                       "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "Microsoft YaHei", "SimHei",
                       "PingFang SC", "Noto Serif CJK SC")


def bundled_font_path() -> Path | None:
    """Path of the bundled ``NotoSansSC-Regular.otf``, or None if the package is not installed."""
    try:
        import pylopdf_fonts_zh_cn
    except ImportError:
        return None
    path = Path(pylopdf_fonts_zh_cn.sans_path())
    return path if path.is_file() else None


@cache
def cjk_font() -> str | None:
    """Family name of the CJK font figures use, registering the bundled one on first call.

    Returns
    -------
    str or None
        ``"Noto Sans SC"`` (the bundled font) when it loads; otherwise the first of
        :data:`SYSTEM_CJK_FAMILIES` matplotlib knows; None when there is no CJK font at all.
    """
    from matplotlib import font_manager

    path = bundled_font_path()
    if path is not None:
        known = {Path(f.fname).resolve() for f in font_manager.fontManager.ttflist}
        try:
            if path.resolve() not in known:
                font_manager.fontManager.addfont(path)
        except (OSError, RuntimeError, ValueError) as e:  # FreeType cannot read the file
            log.warning("bundled CJK font %s could not be loaded (%s); trying system fonts",
                        path, e)
        else:
            return BUNDLED_FAMILY
    names = {f.name for f in font_manager.fontManager.ttflist}
    return next((name for name in SYSTEM_CJK_FAMILIES if name in names), None)
