"""Static figures for printed reports: a result's layers drawn with matplotlib, no tiles.

``draw(layers, title=..., style=[...], counties=...)`` returns a matplotlib Figure with a title,
a legend (Chinese labels, units), a north arrow and a scale bar in km; :func:`to_bytes` gives
PNG (150 dpi) or PDF bytes, which the runner writes atomically as ``maps/<analysis>.png`` and
``.pdf``. Layers are drawn in a metric CRS chosen for their extent
(:func:`spatial.coords.metric_crs`, a UTM zone), so the scale bar is exact at the map's centre
and north is up (UTM grid north differs from true north by under 2° in Shandong).

Chinese text is set in Noto Sans SC, which lantian installs as a Python dependency and
registers with matplotlib on first use (:mod:`spatial.fonts`); a system CJK font is used only if
that font cannot be loaded. A character missing from the font raises matplotlib's "Glyph ...
missing" warning rather than passing silently; without any CJK font the figure is still drawn
(Chinese shows as boxes) after one warning that says what to install.

How an analysis describes its figure: by default every polygon layer is drawn lightly and every
point layer is coloured by its ``category`` or ``status`` column if it has one; an analysis
module may define ``figure_spec(result) -> list[LayerStyle]`` to choose layers, colours and
labels (see ``analyses.heat_radius.figure_spec``).
"""

from __future__ import annotations

import io
import logging
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import shapely

from . import coords, fonts
from .errors import InputError

log = logging.getLogger(__name__)

DPI = 150
_PALETTE = ("#e41a1c", "#377eb8", "#4daf4a", "#984ea3", "#ff7f00", "#a65628", "#f781bf",
            "#1b9e77", "#d95f02", "#7570b3")


@dataclass
class LayerStyle:
    """How one layer is drawn and labelled in the legend.

    Parameters
    ----------
    layer
        Name of the layer in the result (used when ``data`` is None).
    label
        Legend label (Chinese), e.g. ``"30 km 供热半径"``; with ``column``, the legend title.
    color
        Colour of every feature (points: fill; polygons: outline) when ``column`` is not given.
    column, colors, labels
        Colour by category: ``colors`` maps values of ``column`` to colours, ``labels`` to
        legend text; values without a colour take palette colours.
    fill
        Polygons: fill colour (None: outline only); ``alpha`` its opacity.
    size
        Point marker area (points², matplotlib ``s``).
    data
        Frame to draw instead of ``layers[layer]`` (e.g. with a derived category column).
    text_column
        Polygons: a column whose text is written just below a point inside each feature
        (below the county name that :func:`draw` writes there), e.g. a rank.
    disjoint
        Polygons: the features never overlap (H3 cells), so each class's fill is drawn as one
        compound path instead of one path per polygon: the same area filled, a PDF of 30,000
        hexagons written ~10x faster and without hairline seams between neighbours. Leave it
        False where polygons may overlap (a compound path fills an overlap once, not twice).
    """

    layer: str
    label: str
    color: str = "#d7301f"
    column: str | None = None
    colors: Mapping = field(default_factory=dict)
    labels: Mapping = field(default_factory=dict)
    fill: str | None = None
    alpha: float = 0.15
    size: float = 14.0
    linewidth: float = 1.2
    data: gpd.GeoDataFrame | None = None
    text_column: str | None = None
    disjoint: bool = False


def cjk_font() -> str | None:
    """Family name of the CJK font figures use (bundled Noto Sans SC first), or None.

    See :func:`spatial.fonts.cjk_font`.
    """
    return fonts.cjk_font()


def default_style(layers: Mapping[str, gpd.GeoDataFrame]) -> list[LayerStyle]:
    """Polygon layers lightly (grey outline, faint fill), point layers by category/status."""
    polys, points = [], []
    for i, (name, gdf) in enumerate(layers.items()):
        if not len(gdf):
            continue
        kind = gdf.geometry.geom_type.dropna()
        if kind.str.contains("Point").all():
            col = next((c for c in ("category", "status") if c in gdf.columns), None)
            points.append(LayerStyle(name, name, color=_PALETTE[i % len(_PALETTE)], column=col))
        else:
            polys.append(LayerStyle(name, name, color="#636363", fill="#9ecae1", alpha=0.25,
                                    linewidth=0.6))
    return polys + points


def draw(layers: Mapping[str, gpd.GeoDataFrame], *, title: str,
         style: Sequence[LayerStyle] | None = None, counties: gpd.GeoDataFrame | None = None,
         subtitle: str | None = None, county_label: str = "name",
         figsize: tuple[float, float] = (10.0, 7.0), notes: Sequence[str] = ()):
    """Draw a static map of result layers.

    Parameters
    ----------
    layers
        Result layers by name (any CRS; drawn in a UTM CRS for their extent).
    title, subtitle
        Figure title (and second line).
    style
        Layers to draw, bottom to top (:class:`LayerStyle`); default :func:`default_style`.
    counties
        County polygons outlined in grey, with names from ``county_label`` (if a column).
    figsize
        Inches (default 10 x 7, landscape; the legend is right of the map).
    notes
        Lines written in the right margin under the legend (区域, 数据来源, 制图单位).

    Returns
    -------
    matplotlib.figure.Figure
        With title, legend, north arrow and a km scale bar; see :func:`to_bytes`.
    """
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    if not isinstance(title, str) or not title.strip():
        raise InputError(f"title={title!r}: a figure needs a non-empty title.")
    style = list(default_style(layers) if style is None else style)
    frames = []
    for s in style:
        gdf = s.data if s.data is not None else layers.get(s.layer)
        if gdf is None:
            raise InputError(f"style layer {s.layer!r} is not a result layer; layers: "
                             f"{list(layers)}.")
        frames.append(_wgs84(gdf))
    if counties is not None and len(counties):
        counties = _wgs84(counties)
    extent = [f for f in frames if len(f)] or ([counties] if counties is not None else [])
    if not extent:
        raise InputError("nothing to draw: every layer is empty and no counties were given.")
    b = np.array([f.total_bounds for f in extent])
    lng = [b[:, 0].min(), b[:, 2].max()]
    lat = [b[:, 1].min(), b[:, 3].max()]
    crs = coords.metric_crs(np.array(lng), np.array(lat))

    font = cjk_font()
    # names from the data are drawn as they are: "$…$" in a name is not mathtext
    rc = {"font.family": "sans-serif", "axes.unicode_minus": False, "text.parse_math": False}
    if font:
        rc["font.sans-serif"] = [font, "DejaVu Sans"]
    else:
        warnings.warn("no CJK font for matplotlib: the bundled Noto Sans SC (package "
                      "pylopdf-fonts-zh-cn) is not installed or unreadable, and no system CJK "
                      "font was found, so Chinese text in the figure will show as boxes; "
                      "reinstall lantian (pip install -e .) or install fonts-noto-cjk.",
                      UserWarning, stacklevel=2)
    import matplotlib

    with matplotlib.rc_context(rc), warnings.catch_warnings():
        if not font:  # warned once above; not once per character
            warnings.filterwarnings("ignore", message="Glyph .* missing from font")
        fig = Figure(figsize=figsize, dpi=DPI)
        ax = fig.add_axes((0.02, 0.03, 0.66, 0.86))
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
        handles: list = []
        if counties is not None and len(counties):
            cm = counties.to_crs(crs)
            cm.boundary.plot(ax=ax, color="#555555", linewidth=0.8, zorder=1)
            handles.append(Line2D([], [], color="#555555", linewidth=0.8, label="县区界"))
        symbols: list[np.ndarray] = []  # drawn point symbols (x, y), kept clear of labels
        drawn: list[np.ndarray] = []  # bounds of the drawn layers (metric CRS)
        for z, (s, gdf) in enumerate(zip(style, frames, strict=True), start=2):
            if not len(gdf):
                continue
            g = gdf.to_crs(crs)
            drawn.append(g.total_bounds)
            is_point = g.geometry.geom_type.str.contains("Point").all()
            is_line = g.geometry.geom_type.str.contains("LineString").all()
            groups = _groups(g, s)
            for sub, color, label in groups.values():
                if is_point:
                    ax.scatter(sub.geometry.x, sub.geometry.y, s=s.size, c=color,
                               edgecolors="white", linewidths=0.4, zorder=z + 10)
                    symbols.append(np.column_stack([sub.geometry.x, sub.geometry.y]))
                    handles.append(Line2D([], [], marker="o", linestyle="", markersize=6,
                                          markerfacecolor=color, markeredgecolor="white",
                                          label=label))
                elif is_line:  # a line's boundary is its end points: draw the line itself
                    lc = color if s.column else s.color
                    sub.plot(ax=ax, color=lc, linewidth=max(s.linewidth, 0.8), zorder=z)
                    handles.append(Line2D([], [], color=lc, linewidth=max(s.linewidth, 0.8),
                                          label=label))
                else:
                    fill = s.fill if s.column is None else color
                    _polygons(ax, sub.geometry.to_numpy(), fill=fill, alpha=s.alpha,
                              edge=color if s.column else s.color, linewidth=s.linewidth,
                              zorder=z, compound=s.disjoint)
                    handles.append(Patch(facecolor=fill if fill else "none",
                                         edgecolor=color if s.column else s.color,
                                         alpha=None, label=label))
            if s.text_column is not None and not is_point:
                pts = g.geometry.representative_point()
                for p, t in zip(pts, g[s.text_column].astype(str), strict=True):
                    ax.annotate(t, (p.x, p.y), xytext=(0, -5), textcoords="offset points",
                                ha="center", va="top", fontsize=7, color="#111111",
                                zorder=z + 20)
        x0, x1 = ax.get_xlim()
        y0, y1 = ax.get_ylim()
        zoom = counties is not None and len(counties) and _zoom_box(np.array(drawn),
                                                                    cm.total_bounds)
        if zoom:
            x0, y0, x1, y1 = zoom
        pad = 0.04 * max(x1 - x0, y1 - y0)
        ax.set_xlim(x0 - pad, x1 + pad)
        ax.set_ylim(y0 - pad, y1 + pad)
        ax.set_xlabel("")
        ax.set_ylabel("")
        if counties is not None and len(counties) and county_label in cm.columns:
            pts = np.concatenate(symbols) if symbols else np.zeros((0, 2))
            scale = max((x1 - x0 + 2 * pad) / (figsize[0] * 0.66 * 72),
                        (y1 - y0 + 2 * pad) / (figsize[1] * 0.86 * 72))  # metres per point
            shown = cm.geometry.to_numpy()
            if zoom:  # label the part of each county inside the frame (none if outside it)
                shown = shapely.intersection(shown, shapely.box(x0 - pad, y0 - pad, x1 + pad,
                                                                y1 + pad))
            keep = ~shapely.is_empty(shown)
            texts = cm[county_label].astype(str).to_numpy()[keep].tolist()
            for (x, y), t in zip(label_positions(shown[keep], texts, pts,
                                                 metres_per_pt=scale, fontsize=8), texts,
                                 strict=True):
                ax.annotate(t, (x, y), ha="center", va="center", fontsize=8, color="#333333",
                            zorder=40, path_effects=[_halo()])
        _scale_bar(ax)
        _north_arrow(ax)
        if handles:
            ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.02, 1.0),
                      fontsize=8, framealpha=0.9, title="图例", title_fontsize=9,
                      borderaxespad=0.0)
        if notes:
            fig.text(0.70, 0.04, "\n".join(notes), ha="left", va="bottom", fontsize=8,
                     color="#333333", linespacing=1.5)
        fig.suptitle(title, fontsize=15, y=0.975)
        if subtitle:
            fig.text(0.5, 0.915, subtitle, ha="center", fontsize=10, color="#333333")
    fig.lantian_rc = rc  # reused by to_bytes so text is laid out with the same font
    return fig


def _polygons(ax, geoms: np.ndarray, *, fill: str | None, alpha: float, edge: str,
              linewidth: float, zorder: float, compound: bool = False) -> None:
    """Draw (multi)polygons as one filled collection and one collection of outlines.

    What geopandas' ``plot`` + ``boundary.plot`` drew (one patch per polygon part, holes
    cut out, every ring outlined), built from the coordinates in one pass instead of one
    matplotlib patch per polygon: 30,000 hexagons take a fraction of a second.
    Outlines of width 0 are not drawn (matplotlib strokes nothing at width 0 anyway).
    ``compound``: the fills as one path (polygons that never overlap, :class:`LayerStyle`'s
    ``disjoint``).
    """
    import shapely
    from matplotlib.collections import LineCollection, PathCollection
    from matplotlib.colors import to_rgba
    from matplotlib.path import Path

    parts = shapely.get_parts(geoms)
    parts = parts[shapely.get_type_id(parts) == 3]  # polygons (lines/points are not filled)
    parts = parts[~shapely.is_empty(parts)]
    if not len(parts):
        return
    _, xy, (ring_off, part_off) = shapely.to_ragged_array(parts, include_z=False)
    n = len(xy)
    codes = np.full(n, Path.LINETO, dtype=Path.code_type)
    codes[ring_off[:-1]] = Path.MOVETO
    codes[ring_off[1:] - 1] = Path.CLOSEPOLY
    if fill:
        starts = ring_off[part_off[1:-1]]  # first vertex of each polygon part
        paths = ([Path(xy, codes)] if compound else
                 [Path(v, c) for v, c in zip(np.split(xy, starts), np.split(codes, starts),
                                             strict=True)])
        ax.add_collection(PathCollection(paths, facecolors=[to_rgba(fill, alpha)],
                                         edgecolors="none", linewidths=0, zorder=zorder),
                          autolim=True)
    if linewidth > 0:
        ax.add_collection(LineCollection(np.split(xy, ring_off[1:-1]), colors=[edge],
                                         linewidths=linewidth, zorder=zorder), autolim=True)
    ax.autoscale_view()


def _halo():
    from matplotlib import patheffects

    return patheffects.withStroke(linewidth=2.5, foreground="white")


def label_positions(polygons: np.ndarray, texts: Sequence[str], symbols: np.ndarray, *,
                    metres_per_pt: float, fontsize: float = 8.0,
                    steps: int = 9) -> list[tuple[float, float]]:
    """Where to write each polygon's label so that it covers as few point symbols as possible.

    Candidates are the polygon's representative point and the points of a ``steps`` x
    ``steps`` grid over its bounds that lie inside it, far enough from the edge for the label;
    the chosen one covers the fewest ``symbols`` (x, y in the polygons' metric CRS) with the
    label's box (about ``fontsize`` points per character, 1.4 lines high, plus a symbol's
    radius), ties going to the candidate nearest the representative point.

    Returns
    -------
    list of (x, y)
        One position per polygon, in the polygons' CRS.
    """
    import shapely

    out = []
    pts = np.asarray(symbols, dtype=float).reshape(-1, 2)
    for geom, text in zip(polygons, texts, strict=True):
        rep = shapely.point_on_surface(geom)
        half_w = (len(text) * fontsize / 2 + 3) * metres_per_pt
        half_h = (fontsize * 0.7 + 3) * metres_per_pt
        bx0, by0, bx1, by1 = geom.bounds
        gx, gy = np.meshgrid(np.linspace(bx0, bx1, steps + 2)[1:-1],
                             np.linspace(by0, by1, steps + 2)[1:-1])
        cand = np.column_stack([np.r_[rep.x, gx.ravel()], np.r_[rep.y, gy.ravel()]])
        inner = shapely.buffer(geom, -min(half_w, half_h))
        ok = shapely.contains_xy(inner, cand[:, 0], cand[:, 1]) if not inner.is_empty \
            else np.zeros(len(cand), dtype=bool)
        ok[0] = True  # the representative point is always a candidate
        cand = cand[ok]
        if len(pts):
            inside = ((np.abs(pts[None, :, 0] - cand[:, None, 0]) < half_w) &
                      (np.abs(pts[None, :, 1] - cand[:, None, 1]) < half_h))
            covered = inside.sum(axis=1)
        else:
            covered = np.zeros(len(cand), dtype=np.int64)
        dist = np.hypot(cand[:, 0] - rep.x, cand[:, 1] - rep.y)
        best = np.lexsort((dist, covered))[0]
        out.append((float(cand[best, 0]), float(cand[best, 1])))
    return out


#: The figure zooms to its layers when they span less than this share of the counties' extent
#: both ways (a built-up zone in a large county): the county outlines run out of the frame.
ZOOM_SHARE = 0.25


def _zoom_box(drawn: np.ndarray, county_bounds: np.ndarray) -> tuple[float, ...] | None:
    """The layers' box padded by a quarter of its size, if it is small beside the counties.

    The box is widened (or heightened) to the counties' width-to-height ratio.
    `drawn`: one (minx, miny, maxx, maxy) row per drawn layer, `county_bounds` the counties'
    (metres, the figure's CRS). None when the figure should show the whole counties.
    """
    if not len(drawn):
        return None
    lx0, ly0 = drawn[:, 0].min(), drawn[:, 1].min()
    lx1, ly1 = drawn[:, 2].max(), drawn[:, 3].max()
    cx0, cy0, cx1, cy1 = county_bounds
    if not (lx1 - lx0 < ZOOM_SHARE * (cx1 - cx0) and ly1 - ly0 < ZOOM_SHARE * (cy1 - cy0)):
        return None
    pad = 0.25 * max(lx1 - lx0, ly1 - ly0, 2000.0)  # at least 500 m round a point or two
    x0, y0, x1, y1 = lx0 - pad, ly0 - pad, lx1 + pad, ly1 + pad
    # the frame keeps the shape the counties give it (the legend beside it is laid out for it)
    aspect = (cx1 - cx0) / (cy1 - cy0) if cy1 > cy0 else 1.0
    w, h = x1 - x0, y1 - y0
    if w / h < aspect:
        x0, x1 = (x0 + x1 - h * aspect) / 2, (x0 + x1 + h * aspect) / 2
    else:
        y0, y1 = (y0 + y1 - w / aspect) / 2, (y0 + y1 + w / aspect) / 2
    return x0, y0, x1, y1


def _wgs84(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if gdf.crs is None:
        gdf = gdf.set_crs("EPSG:4326")
    gdf = gdf[~(gdf.geometry.isna() | gdf.geometry.is_empty)]
    return gdf.to_crs("EPSG:4326")


def _groups(g: gpd.GeoDataFrame, s: LayerStyle) -> dict:
    """``{value: (rows, colour, legend label)}`` of a layer, one group without a column."""
    if s.column is None:
        return {None: (g, s.color if s.fill is None else s.color, s.label)}
    if s.column not in g.columns:
        raise InputError(f"style column {s.column!r} is not a column of layer {s.layer!r}.")
    out = {}
    values = g[s.column].astype(object).where(g[s.column].notna(), "—")
    order = [v for v in s.colors if (values == v).any()]
    order += sorted({v for v in values if v not in s.colors}, key=str)
    for i, v in enumerate(order):
        color = s.colors.get(v, _PALETTE[i % len(_PALETTE)])
        label = s.labels.get(v, str(v))
        out[v] = (g[values == v], color, f"{s.label}：{label}" if s.label else label)
    return out


def nice_length_km(width_m: float) -> float:
    """A round scale-bar length (km) of about a fifth of ``width_m`` metres."""
    target = width_m / 5 / 1000
    for v in (0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 25, 50, 100, 200, 500, 1000):
        if v >= target * 0.7:
            return float(v)
    return 1000.0


def _scale_bar(ax) -> None:
    from matplotlib.patches import Rectangle

    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    km = nice_length_km(x1 - x0)
    length = km * 1000.0  # the axes are metres of a UTM CRS
    bx, by = x0 + 0.04 * (x1 - x0), y0 + 0.05 * (y1 - y0)
    h = 0.012 * (y1 - y0)
    for i in range(2):
        ax.add_patch(Rectangle(
            (bx + i * length / 2, by), length / 2, h, facecolor="black" if i == 0 else "white",
            edgecolor="black", linewidth=0.8, zorder=30))
    for frac, text in ((0, "0"), (0.5, f"{km / 2:g}"), (1, f"{km:g} km")):
        ax.text(bx + frac * length, by + 1.6 * h, text, ha="center", va="bottom", fontsize=8,
                zorder=30)
    ax.lantian_scale_km = km


def _north_arrow(ax) -> None:
    from matplotlib import patheffects

    # the bundled font has one weight: a thin outline in the text colour sets the label bold
    ax.annotate("北\nN", xy=(0.95, 0.95), xytext=(0.95, 0.83), xycoords="axes fraction",
                ha="center", va="center", fontsize=9,
                path_effects=[patheffects.withStroke(linewidth=0.7, foreground="black")],
                arrowprops={"facecolor": "black", "width": 4, "headwidth": 11,
                            "headlength": 10}, zorder=30)


def to_bytes(fig, fmt: str) -> bytes:
    """The figure as ``"png"`` (150 dpi) or ``"pdf"`` bytes (fonts embedded)."""
    import matplotlib

    if fmt not in ("png", "pdf"):
        raise InputError(f"fmt={fmt!r}: choose 'png' or 'pdf'.")
    buf = io.BytesIO()
    rc = getattr(fig, "lantian_rc", {})
    with matplotlib.rc_context(rc), warnings.catch_warnings():
        if "font.sans-serif" not in rc:  # drawn without a CJK font: warned once by draw
            warnings.filterwarnings("ignore", message="Glyph .* missing from font")
        # no creation date in the PDF, so that reruns give the same bytes
        fig.savefig(buf, format=fmt, dpi=DPI, metadata={"Creator": "lantian", "CreationDate": None}
                    if fmt == "pdf" else None)
    return buf.getvalue()
