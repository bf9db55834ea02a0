"""Choropleths: H3 hexagons (or any polygons) coloured by class of a value, with a legend.

One layer per value (:func:`add_choropleth`), or one layer with a value per period and a period
picker (:func:`add_choropleth_periods`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

from .classes import NO_DATA_COLOR, class_breaks, class_labels, classify, sequential_colors
from .errors import InputError
from .htmlsafe import MISSING_TEXT, check_color, escape, field_values, format_value
from .mapelements import LAYER_RANK, add_legend
from .maplayers import _add_features, _display, _layer_name
from .periodlayer import (
    VALUE_BUDGET,
    PeriodLayer,
    class_bits,
    encode_polygons,
    pack_class_table,
    value_arrays,
)

log = logging.getLogger(__name__)


def add_choropleth(
    m: folium.Map,
    gdf: gpd.GeoDataFrame,
    *,
    column: str,
    name: str,
    label: str,
    unit: str = "",
    bins: Sequence[float] | None = None,
    k: int = 5,
    colors: Sequence[str] | None = None,
    cmap: str = "YlOrRd",
    opacity: float = 0.7,
    tooltip: Mapping[str, str] | None = None,
    legend: bool = True,
    value_format: str | None = None,
    show: bool = True,
) -> folium.FeatureGroup:
    """Add H3 hexagons (or any polygons) coloured by class of a numeric column, with a legend.

    Parameters
    ----------
    m
        Map from :func:`new_map`.
    gdf
        Cell polygons (e.g. from the H3 cells of a result); converted to EPSG:4326.
    column
        Numeric column to colour by; missing values are drawn grey as 无数据.
    name
        Layer name in the layer control (escaped).
    label, unit
        What the value is and its unit, in Chinese (e.g. ``"PM2.5 年均浓度"``, ``"μg/m³"``): the
        legend title and the first tooltip row.
    bins
        Class edges (increasing; the first and last classes are open, ``< e1`` and
        ``≥ e_(n-1)``). Default: ``k`` quantile classes.
    k
        Number of quantile classes when ``bins`` is not given.
    colors, cmap
        One colour per class, light to dark; or a matplotlib colormap name to sample them from.
    opacity
        Fill opacity of the cells.
    tooltip
        Extra ``{column: label}`` rows after the value (e.g. ``{"h3_cell": "网格"}``).
    legend
        Add the legend box.
    value_format
        ``str.format`` pattern for numbers in the legend and tooltip, e.g. ``"{:.0f}"``.
    show
        Whether the layer is on when the map opens.
    """
    gdf = _display(m, gdf, f"add_choropleth(name={name!r})")
    if column not in gdf.columns:
        raise InputError(
            f"column={column!r} is not a column of the layer; columns: {list(gdf.columns)}."
        )
    values = pd.to_numeric(gdf[column], errors="coerce").to_numpy(dtype=float)
    values = np.where(np.isfinite(values), values, np.nan)
    edges, palette, styles = _class_styles(values, bins=bins, k=k, colors=colors, cmap=cmap,
                                           opacity=opacity)
    style_idx = _style_index(values, edges)
    first = _value_texts(values, unit=unit, value_format=value_format)
    tip_labels, rows = [escape(label)], [[v] for v in first]
    if tooltip:
        extra_labels, extra_rows = field_values(gdf, tooltip, arg="tooltip")
        tip_labels += extra_labels
        rows = [a + b for a, b in zip(rows, extra_rows, strict=True)]
    group = _add_features(
        m,
        gdf,
        name=name,
        styles=styles,
        style_idx=style_idx,
        tooltip=None,
        popup=None,
        show=show,
        rank=LAYER_RANK["cells"],
        tips=(tip_labels, rows),
    )
    if legend:
        _class_legend(m, values, edges, palette, bins=bins, label=label, unit=unit,
                      value_format=value_format)
    return group


def _class_styles(values: np.ndarray, *, bins: Sequence[float] | None, k: int,
                  colors: Sequence[str] | None, cmap: str, opacity: float
                  ) -> tuple[np.ndarray, list[str], list[dict]]:
    """Class edges, one colour per class, and the styles (one per class, then 无数据)."""
    edges = class_breaks(values, bins=bins, k=k)
    n = len(edges) - 1
    if colors is None:
        palette = sequential_colors(n, cmap=cmap)
    else:
        palette = [check_color(c, "colors") for c in colors]
        if len(palette) != n:
            raise InputError(
                f"colors: {len(palette)} colours given for {n} classes (edges {edges.tolist()}); "
                "give one colour per class."
            )
    base = {"color": "#ffffff", "weight": 0.5, "opacity": 0.6, "fillOpacity": float(opacity)}
    styles = [{**base, "fillColor": c} for c in palette]
    styles.append({**base, "fillColor": NO_DATA_COLOR, "fillOpacity": 0.35})
    return edges, palette, styles


def _style_index(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Class of each value; missing values get the last style (无数据)."""
    idx = classify(values, edges)
    return np.where(idx < 0, len(edges) - 1, idx)


def _value_texts(values: np.ndarray, *, unit: str, value_format: str | None) -> list[str]:
    """Escaped tooltip texts of numbers with their unit (无数据 where missing)."""
    fmt = (lambda x: value_format.format(x)) if value_format else format_value
    u = f" {escape(unit)}" if unit else ""
    return [escape(MISSING_TEXT) if np.isnan(v) else escape(fmt(v)) + u for v in values.tolist()]


def _class_legend(m: folium.Map, values: np.ndarray, edges: np.ndarray, palette: list[str], *,
                  bins: Sequence[float] | None, label: str, unit: str,
                  value_format: str | None) -> None:
    items = list(zip(palette, class_labels(edges, value_format=value_format), strict=True))
    if bins is None and np.isnan(values).all():  # no value: quantile classes are made up
        items = []
    if np.isnan(values).any() or not items:
        items.append((NO_DATA_COLOR, "无数据"))
    add_legend(m, title=f"{label}（{unit}）" if unit else label, items=items)


def add_choropleth_periods(
    m: folium.Map,
    gdf: gpd.GeoDataFrame,
    values: pd.DataFrame,
    *,
    name: str,
    label: str,
    unit: str = "",
    bins: Sequence[float] | None = None,
    k: int = 5,
    colors: Sequence[str] | None = None,
    cmap: str = "YlOrRd",
    opacity: float = 0.7,
    tooltip: Mapping[str, str] | None = None,
    legend: bool = True,
    value_format: str | None = None,
    show: bool = True,
    period_label: str = "时段",
    value_budget: int = VALUE_BUDGET,
) -> folium.FeatureGroup:
    """One hexagon layer with a period selector: the cells are drawn once, coloured by period.

    Parameters
    ----------
    gdf
        One row per cell (polygons; converted to EPSG:4326).
    values
        Numbers aligned with `gdf`'s rows, one column per period, in display order; the column
        names are the period labels (escaped). NaN is drawn grey as 无数据. The map opens on
        the last period; a drop-down in the top-left corner picks another.
    name, label, unit, bins, k, colors, cmap, opacity, tooltip, legend, value_format, show
        As for :func:`add_choropleth`; the classes (and legend) are computed over all periods,
        so colours compare across periods.
    period_label
        Caption of the drop-down and of the tooltip's first row.
    value_budget
        Bytes the per-period values of all period layers of the map may take in the page
        (:data:`spatial.periodlayer.VALUE_BUDGET`); the tooltip shows the value with
        ``value_format``'s decimals (whole numbers without one) when they fit, else its legend
        class (label ``…（分级）``).

    The page keeps each cell's geometry once and, per period, one array of classes and one of
    values (see :mod:`spatial.periodlayer`), so a province-year of daily values fits a map.
    """
    gdf = _display(m, gdf, f"add_choropleth_periods(name={name!r})")
    if len(values) != len(gdf) or values.shape[1] == 0:
        raise InputError(f"values: {values.shape} does not fit {len(gdf)} cells; give one row "
                         "per cell and at least one period column.")
    layer_name = _layer_name(m, name)
    numeric = all(isinstance(t, np.dtype) and t.kind in "iuf" for t in values.dtypes)
    table = (values.to_numpy(dtype=float) if numeric  # as below, without a pass per column
             else values.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float))
    table = np.where(np.isfinite(table), table, np.nan)
    edges, palette, styles = _class_styles(table.ravel(), bins=bins, k=k, colors=colors,
                                           cmap=cmap, opacity=opacity)
    if len(styles) > 255:
        raise InputError(f"add_choropleth_periods(name={name!r}): {len(styles) - 1} classes; "
                         "a period layer holds at most 254.")
    for s in styles:
        s["interactive"] = True
    per_period = _style_index(table.ravel(), edges).reshape(table.shape)
    bits = class_bits(len(styles))
    used = getattr(m, "lantian_period_value_bytes", 0)
    texts = value_arrays(table, value_format, budget=value_budget - used)
    if texts is not None and texts[0] is None:
        log.info("%s: the values of %d cells x %d periods would pass the map's budget of %d "
                 "bytes; the tooltip shows their class", name, *table.shape, value_budget)
        texts = None
    elif texts is not None:
        used += sum(len(a) for a in texts[0])
    tip_labels = [escape(period_label), escape(label if texts else f"{label}（分级）")]
    static = None
    if tooltip:
        extra_labels, static = field_values(gdf, tooltip, arg="tooltip")
        tip_labels += extra_labels
    class_texts = [escape(t) for t in class_labels(edges, unit=unit, value_format=value_format)]
    data = {
        "periods": [escape(str(c)) for c in values.columns],
        "periodsTitle": escape(period_label),
        **encode_polygons(gdf.geometry.array),
        "bits": bits,
        "classes": pack_class_table(per_period, bits),
        "values": texts[0] if texts else None,
        "fmt": texts[1] if texts else None,
        "unit": f" {escape(unit)}" if unit else "",
        "missingText": escape(MISSING_TEXT),
        "classTexts": [*class_texts, escape(MISSING_TEXT)],
        "tipLabels": tip_labels,
        "tips": static,
    }
    # the map is changed only now, when every argument has been checked
    m.lantian_period_value_bytes = used
    group = folium.FeatureGroup(name=layer_name, show=show).add_to(m)
    group.add_child(PeriodLayer(data, styles, map_name=m.get_name(), rank=LAYER_RANK["cells"]),
                    name=f"{name}_data")
    log.info("Map layer %r: %d cells x %d periods", name, *table.shape)
    if legend:
        _class_legend(m, table.ravel(), edges, palette, bins=bins, label=label, unit=unit,
                      value_format=value_format)
    return group
