"""Colours and value classes shared by the web maps and the figures.

Status and category colours, sequential palettes, class edges (given or quantile), the class of a
value and the legend text of each class. Used by :mod:`spatial.webmap`'s choropleths, by
:mod:`spatial.legend` (the shared legend definition behind figures and QGIS styles) and by the
analyses' maps.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence

import numpy as np

from .errors import InputError
from .htmlsafe import check_color, format_value, is_na

#: Colours for the status categories the analyses share (keys as written in the layers).
STATUS_COLORS: dict[str, str] = {
    "inside": "#d7301f",  # inside a radius / zone: to act on
    "outside": "#2b83ba",  # outside: no action
    "boundary": "#fdae61",  # on the edge / needs checking
    "unknown": "#969696",
}

#: Chinese labels for :data:`STATUS_COLORS`, for legends.
STATUS_LABELS: dict[str, str] = {
    "inside": "范围内",
    "outside": "范围外",
    "boundary": "边界附近",
    "unknown": "未知",
}

#: Qualitative palette (ColorBrewer Set1 without yellow, then Dark2) for other categories.
CATEGORY_PALETTE: tuple[str, ...] = (
    "#e41a1c", "#377eb8", "#4daf4a", "#984ea3", "#ff7f00", "#a65628", "#f781bf",
    "#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#666666",
)  # fmt: skip

#: Fill of choropleth cells without a value.
NO_DATA_COLOR = "#bdbdbd"


def category_colors(
    values: Iterable[Hashable], *, fixed: Mapping[Hashable, str] | None = None
) -> dict[Hashable, str]:
    """Map each distinct category to a colour.

    Parameters
    ----------
    values
        Category values (NaN/None are skipped). Categories are coloured in sorted order (by their
        text), so the same set of categories always gets the same colours.
    fixed
        Colours to use for given categories (e.g. :data:`STATUS_COLORS`); the others take
        :data:`CATEGORY_PALETTE` colours in turn, skipping those already used by ``fixed``.

    Returns
    -------
    dict
        ``{category: colour}``.
    """
    fixed = dict(fixed or {})
    cats = sorted({v for v in values if not is_na(v)}, key=str)
    used = set(fixed.values())
    palette = [c for c in CATEGORY_PALETTE if c not in used] or list(CATEGORY_PALETTE)
    out: dict[Hashable, str] = {}
    i = 0
    for cat in cats:
        if cat in fixed:
            out[cat] = check_color(fixed[cat], f"fixed[{cat!r}]")
        else:
            out[cat] = palette[i % len(palette)]
            i += 1
    return out


def sequential_colors(n: int, *, cmap: str = "YlOrRd") -> list[str]:
    """``n`` colours from a matplotlib colormap, light to dark (sampled on [0.12, 0.95])."""
    if n < 1:
        raise InputError(f"n={n}: need at least one colour class.")
    import matplotlib
    from matplotlib.colors import to_hex

    try:
        cm = matplotlib.colormaps[cmap]
    except KeyError:
        raise InputError(
            f"cmap={cmap!r} is not a matplotlib colormap; try 'YlOrRd', 'Reds', 'viridis' "
            "or pass `colors=[...]`."
        ) from None
    pos = np.linspace(0.12, 0.95, n) if n > 1 else np.array([0.6])
    return [to_hex(c) for c in cm(pos)]


def class_breaks(
    values: np.ndarray, *, bins: Sequence[float] | None = None, k: int = 5
) -> np.ndarray:
    """Class edges for a choropleth: ``bins`` checked, or ``k`` quantile classes.

    Returns increasing edges ``e0 < e1 < ... < en`` (n >= 1 classes). With quantiles, repeated
    edges (many equal values) are merged, so there may be fewer than ``k`` classes.
    """
    if bins is not None:
        e = np.asarray(bins, dtype=float)
        if e.ndim != 1 or len(e) < 2 or np.isnan(e).any() or not np.all(np.diff(e) > 0):
            raise InputError(
                f"bins={list(bins)!r}: give at least two strictly increasing class edges, "
                "e.g. [0, 35, 75, 115, 150, 250] (np.inf allowed at the end)."
            )
        return e
    if int(k) != k or k < 1:
        raise InputError(f"k={k!r}: the number of quantile classes must be a positive integer.")
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if len(v) == 0:
        return np.array([0.0, 1.0])
    e = np.unique(np.quantile(v, np.linspace(0.0, 1.0, int(k) + 1)))
    if len(e) == 1:
        e = np.array([e[0], e[0]])
    return e


def classify(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Class index of each value for class edges ``e0 < ... < en``.

    ``i`` for ``e_i <= v < e_(i+1)``; below ``e1`` gives 0 and ``>= e_(n-1)`` gives ``n-1`` (the
    outer classes are open); NaN gives ``-1``.
    """
    v = np.asarray(values, dtype=float)
    idx = np.searchsorted(np.asarray(edges, dtype=float)[1:-1], v, side="right")
    return np.where(np.isnan(v), -1, idx)


def class_labels(
    edges: np.ndarray, *, unit: str = "", value_format: str | None = None
) -> list[str]:
    """Legend text of each class of :func:`classify`: ``< e1``, ``e1 – e2``, ..., ``≥ e_(n-1)``."""
    fmt = (lambda x: value_format.format(x)) if value_format else format_value
    n = len(edges) - 1
    u = f" {unit}" if unit else ""
    if n == 1 or edges[0] == edges[-1]:
        if edges[0] == edges[-1]:
            return [f"{fmt(edges[0])}{u}"]
        return [f"{fmt(edges[0])} – {fmt(edges[1])}{u}"]
    out = [f"< {fmt(edges[1])}{u}"]
    out += [f"{fmt(edges[i])} – {fmt(edges[i + 1])}{u}" for i in range(1, n - 1)]
    out.append(f"≥ {fmt(edges[n - 1])}{u}")
    return out
