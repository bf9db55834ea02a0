"""One legend definition per drawn layer, shared by the web map, the static figure and QGIS.

An analysis describes each layer it draws once, as a :class:`LayerLegend`: its Chinese title,
geometry kind, and either one symbol or classes (categories of a column, or numeric ranges
with their class breaks), each with a colour and a Chinese label. From that one definition:

* the web map draws the layer and its legend entries (:mod:`spatial.mapparts`),
* the static figure draws it (:func:`figure_style` gives a :class:`spatial.figure.LayerStyle`),
* the QGIS style of the GeoPackage layer and of the Shapefile is written (:mod:`spatial.qgis`).

So the class breaks, colours and labels cannot differ between the three.

Examples
--------
>>> leg = graduated("cells", "网格内火点数", "polygon", column="n_points",
...                 values=[1, 2, 3, 10], bins=[0, 2, 5, 20], unit="个")
>>> [e.label for e in leg.entries]
['< 2 个', '2 – 5 个', '≥ 5 个']
>>> leg.class_of([1, 2, 10]).tolist()
[0, 1, 2]
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from . import classes
from .errors import InputError

GEOMETRIES = ("point", "polygon", "line")


@dataclass(frozen=True)
class Entry:
    """One legend row: a colour and a Chinese label.

    ``value`` is the category (categorized layers); ``lower``/``upper`` the class range
    ``lower <= v < upper`` (graduated layers; the outer classes are open, see
    :meth:`LayerLegend.class_of`).
    """

    label: str
    color: str
    value: object = None
    lower: float | None = None
    upper: float | None = None


@dataclass(frozen=True)
class LayerLegend:
    """How one layer is drawn and named on the web map, the figure and in QGIS.

    Parameters
    ----------
    layer
        Layer name in the result (and in ``<analysis>.gpkg``), or in ``context.gpkg`` when
        ``context`` is true (county outlines).
    title
        Chinese name of the layer: web-map layer control, legend heading, QGIS layer name.
    geometry
        ``"point"``, ``"polygon"`` or ``"line"`` (polygons drawn as outlines only).
    entries
        One :class:`Entry` per symbol: one for a single-symbol layer, one per category or class.
    column
        The column the classes are of (None: single symbol).
    graduated
        Classes are numeric ranges of ``column`` (else categories).
    expression
        QGIS expression that gives ``column``'s values when the column is derived in Python
        and not written to the layer (e.g. a category from two boolean columns).
    fill_opacity
        Polygon fill opacity (0: outline only); points are always filled.
    outline
        Polygon outline colour (None: the entry's colour).
    size
        Point radius in screen pixels (web map); the figure and QGIS scale it.
    width
        Line and outline width in screen pixels.
    dash
        Dashed outline (current zone, townships).
    label_col
        Column whose text labels the features in QGIS (county, plant names).
    context
        The layer is in ``context.gpkg`` (the outlines the run used), not in the result.
    subset
        QGIS subset (an SQL ``WHERE`` clause) of the layer drawn, e.g. one period.
    visible
        On when the map or project opens.
    """

    layer: str
    title: str
    geometry: str
    entries: tuple[Entry, ...]
    column: str | None = None
    graduated: bool = False
    expression: str | None = None
    fill_opacity: float = 0.35
    outline: str | None = None
    size: float = 4.0
    width: float = 1.5
    dash: bool = False
    label_col: str | None = None
    context: bool = False
    subset: str | None = None
    visible: bool = True
    extra: dict = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        if self.geometry not in GEOMETRIES:
            raise InputError(f"geometry={self.geometry!r}: choose one of {GEOMETRIES}.")
        if not self.entries:
            raise InputError(f"layer {self.layer!r}: a legend needs at least one entry.")
        if self.column is None and len(self.entries) != 1:
            raise InputError(f"layer {self.layer!r}: several entries need a `column`.")

    @property
    def kind(self) -> str:
        """``"single"``, ``"categorized"`` or ``"graduated"``."""
        if self.column is None:
            return "single"
        return "graduated" if self.graduated else "categorized"

    @property
    def edges(self) -> np.ndarray:
        """Class edges ``e0 < e1 < … < en`` of a graduated layer."""
        if not self.graduated:
            raise ValueError(f"layer {self.layer!r} is not graduated")
        return np.array([self.entries[0].lower] + [e.upper for e in self.entries], dtype=float)

    def class_of(self, values: Sequence[float] | np.ndarray) -> np.ndarray:
        """Entry index of each value.

        Categories by equality, ranges as the web map classes them (``e_i <= v < e_(i+1)``,
        below ``e1`` is class 0, at or above ``e_(n-1)`` the last); -1 where a value is
        missing or has no entry.
        """
        if self.column is None:
            return np.zeros(len(values), dtype=np.int64)
        if self.graduated:
            v = pd.to_numeric(pd.Series(np.asarray(values, dtype=object)),
                              errors="coerce").to_numpy(dtype=float)
            idx = np.searchsorted(self.edges[1:-1], v, side="right")
            return np.where(np.isnan(v), -1, idx).astype(np.int64)
        lookup = {_key(e.value): i for i, e in enumerate(self.entries)}
        inv, uniq = pd.factorize(_as_array(values), use_na_sentinel=True)  # each distinct once
        per = np.array([lookup.get(_key(u), -1) for u in uniq] + [lookup.get(None, -1)],
                       dtype=np.int64)
        return per[inv]  # inv -1 (missing) picks the last: the entry of None, if any

    def colors(self) -> dict:
        """``{category: colour}`` of a categorized layer."""
        return {e.value: e.color for e in self.entries}

    def labels(self) -> dict:
        """``{category: label}`` of a categorized layer."""
        return {e.value: e.label for e in self.entries}


def _as_array(values: Iterable) -> np.ndarray | pd.Series:
    """`values` as an array pandas can factorize (arrays and Series as they are)."""
    if isinstance(values, (np.ndarray, pd.Series, pd.Index)):
        return values
    return np.asarray(list(values), dtype=object)


def _distinct(values: Iterable) -> set:
    """The distinct values (:func:`_key` of each), found without a Python loop over rows."""
    if isinstance(values, (set, frozenset)):
        return {_key(v) for v in values}
    uniq = pd.unique(_as_array(values))
    return {_key(v) for v in uniq}


def _key(v: object) -> object:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return None
    if isinstance(v, np.generic):
        return v.item()
    return v


def single(layer: str, title: str, geometry: str, color: str, **kw) -> LayerLegend:
    """A layer drawn with one symbol; its legend row is ``title``."""
    return LayerLegend(layer, title, geometry, (Entry(title, color),), **kw)


def categorized(layer: str, title: str, geometry: str, *, column: str,
                colors: Mapping, labels: Mapping, present: Iterable | None = None,
                omit: Iterable = (), **kw) -> LayerLegend:
    """Categories of ``column`` in the order of ``colors``.

    ``labels`` gives each its Chinese text. With ``present``, only the categories that occur in
    it get an entry (a legend lists only what is drawn); a value of ``present`` without a
    colour is an InputError unless it is in ``omit`` (categories deliberately not drawn).
    Every category needs a label (InputError otherwise).
    """
    keep = None if present is None else _distinct(present)
    missing = [k for k in colors if k not in labels]
    if missing:
        raise InputError(f"layer {layer!r}: categories {missing} have no Chinese label.")
    stray = sorted((keep or set()) - {_key(k) for k in colors} - {_key(k) for k in omit}
                   - {None}, key=str)
    if stray:  # a category would not be drawn: say so rather than leave features out
        raise InputError(f"layer {layer!r}, column {column!r}: values {stray[:10]} have no "
                         "colour; add them to the legend's colours (or to `omit`).")
    entries = tuple(Entry(str(labels[k]), colors[k], value=k) for k in colors
                    if keep is None or _key(k) in keep)
    if not entries:  # nothing drawn: keep one row so the layer still has an entry
        k = next(iter(colors))
        entries = (Entry(str(labels[k]), colors[k], value=k),)
    return LayerLegend(layer, title, geometry, entries, column=column, **kw)


def graduated(layer: str, title: str, geometry: str, *, column: str,
              values: Sequence[float] | np.ndarray, bins: Sequence[float] | None = None,
              k: int = 5, cmap: str = "YlOrRd", colors: Sequence[str] | None = None,
              unit: str = "", value_format: str | None = None, **kw) -> LayerLegend:
    """Numeric classes of ``column``.

    ``bins`` (class edges) or ``k`` quantile classes of ``values``, colours from ``cmap`` light
    to dark (or ``colors``), labels ``< e1``, ``e1 – e2``, …, ``≥ e_(n-1)`` with the unit.
    Infinite outer edges are kept for the classes and replaced by the data's range for QGIS
    (see :mod:`spatial.qgis`).
    """
    edges = classes.class_breaks(np.asarray(values, dtype=float), bins=bins, k=k)
    n = len(edges) - 1
    if n == 1 and edges[0] == edges[-1]:
        edges = np.array([edges[0], edges[0] + 1.0])  # one value: a class around it
    palette = list(colors) if colors is not None else classes.sequential_colors(n, cmap=cmap)
    if len(palette) != n:
        raise InputError(f"layer {layer!r}: {len(palette)} colours for {n} classes.")
    texts = classes.class_labels(edges, unit=unit, value_format=value_format)
    entries = tuple(Entry(t, c, lower=float(edges[i]), upper=float(edges[i + 1]))
                    for i, (t, c) in enumerate(zip(texts, palette, strict=True)))
    return LayerLegend(layer, title, geometry, entries, column=column, graduated=True, **kw)


def web_items(leg: LayerLegend) -> list[tuple[str, str, str]]:
    """``(colour, label, shape)`` rows of a web-map legend for the layer."""
    shape = {"point": "circle", "polygon": "square", "line": "line"}[leg.geometry]
    if leg.geometry == "polygon" and leg.fill_opacity == 0:
        shape = "line"
    return [(e.color, e.label, shape) for e in leg.entries]


def figure_style(leg: LayerLegend, data=None):
    """The :class:`spatial.figure.LayerStyle` of the layer (same colours and labels).

    ``data``: the frame to draw (needed when the class column is derived, or for graduated
    layers, whose class is added as a column ``_class``).
    """
    from . import figure

    size = float(0.6 * leg.size ** 2)  # marker area (points²): the map's dots on paper
    if leg.kind == "single":
        e = leg.entries[0]
        if leg.geometry == "point":
            return figure.LayerStyle(leg.layer, leg.title, color=e.color, size=size, data=data)
        fill = None if leg.fill_opacity == 0 or leg.geometry == "line" else e.color
        return figure.LayerStyle(leg.layer, leg.title, color=leg.outline or e.color, fill=fill,
                                 alpha=max(leg.fill_opacity, 0.15), linewidth=leg.width * 0.6,
                                 data=data)
    if leg.graduated:
        if data is None:
            raise InputError(f"layer {leg.layer!r}: a graduated figure style needs `data`.")
        idx = leg.class_of(data[leg.column].to_numpy())
        data = data.assign(_class=idx)
        data = data[idx >= 0].sort_values("_class", kind="stable")
        colors = {i: e.color for i, e in enumerate(leg.entries)}
        labels = {i: e.label for i, e in enumerate(leg.entries)}
        return figure.LayerStyle(leg.layer, leg.title, column="_class", colors=colors,
                                 labels=labels, alpha=0.85, linewidth=0.0, data=data)
    return figure.LayerStyle(leg.layer, leg.title, column=leg.column, colors=leg.colors(),
                             labels=leg.labels(), alpha=leg.fill_opacity, size=size,
                             linewidth=leg.width * 0.6, data=data)


def with_(leg: LayerLegend, **changes) -> LayerLegend:
    """A copy of ``leg`` with some fields changed (``dataclasses.replace``)."""
    return replace(leg, **changes)
