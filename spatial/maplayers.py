"""Vector layers of a lantian map: points, polygons and administrative outlines.

Layers are taken in EPSG:4326 (converted otherwise; shifted to GCJ-02 for display over GCJ-02
tiles), their coordinates rounded to :data:`COORD_DECIMALS` places in ``[lng, lat]`` GeoJSON
order, and drawn by :class:`spatial.mapelements._GeoJsonLayer` on the map's canvas.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import coords
from .classes import STATUS_COLORS, category_colors
from .errors import InputError
from .htmlsafe import check_color, escape, field_values, format_value, is_na, js_json
from .mapelements import LAYER_RANK, _GeoJsonLayer

log = logging.getLogger(__name__)

#: Decimal places kept in embedded coordinates (1e-6 degree is about 0.11 m).
COORD_DECIMALS = 6


def _to_wgs84(gdf: gpd.GeoDataFrame | gpd.GeoSeries, arg: str) -> gpd.GeoDataFrame:
    """Validate a layer, convert it to EPSG:4326, drop null and empty geometries."""
    if isinstance(gdf, gpd.GeoSeries):
        gdf = gpd.GeoDataFrame(geometry=gdf)
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise InputError(f"{arg}: expected a GeoDataFrame, got {type(gdf).__name__}.")
    if gdf.crs is None:
        b = gdf.geometry.bounds.dropna().to_numpy()
        in_range = np.all(np.abs(b[:, [0, 2]]) <= 180) and np.all(np.abs(b[:, [1, 3]]) <= 90)
        if len(b) and not in_range:
            raise InputError(
                f"{arg}: the layer has no CRS and coordinates outside longitude [-180, 180] / "
                "latitude [-90, 90]; set its CRS (gdf.set_crs(...)) so it can be converted to "
                "EPSG:4326."
            )
    elif not gdf.crs.equals("EPSG:4326"):
        gdf = gdf.to_crs("EPSG:4326")
    keep = ~(gdf.geometry.isna() | gdf.geometry.is_empty)
    if not keep.all():
        log.info("%s: skipped %d features without geometry", arg, int((~keep).sum()))
        gdf = gdf.loc[keep]
    return gdf


def _display(m: folium.Map, gdf: gpd.GeoDataFrame | gpd.GeoSeries, arg: str) -> gpd.GeoDataFrame:
    """:func:`_to_wgs84`, then shifted to GCJ-02 if the map's basemap is GCJ-02 (display only)."""
    gdf = _to_wgs84(gdf, arg)
    if getattr(m, "lantian_gcj02", False) and len(gdf):
        gdf = gdf.copy()
        gdf[gdf.geometry.name] = to_gcj02(gdf.geometry.array)
    return gdf


def to_gcj02(geoms: np.ndarray) -> np.ndarray:
    """Shift WGS-84 geometries to GCJ-02 (every vertex, ``spatial.coords.from_wgs84``).

    Coordinates are ``x = lng, y = lat``; points outside China are left unchanged (as GCJ-02
    does). For display over GCJ-02 tiles (Amap) only: analyses stay in WGS-84.
    """

    def shift(xy: np.ndarray) -> np.ndarray:
        x, y = coords.from_wgs84(xy[:, 0], xy[:, 1], "gcj02")
        return np.column_stack([x, y])

    return shapely.transform(np.asarray(geoms, dtype=object), shift)


_LONG_DECIMAL = re.compile(rf"-?\d+\.\d{{{COORD_DECIMALS + 1},}}(?:[eE][-+]?\d+)?")


def geometries_to_json(geoms: np.ndarray | gpd.GeoSeries) -> list[str]:
    """GeoJSON geometry strings with coordinates rounded to :data:`COORD_DECIMALS` places.

    Coordinates stay in ``[lng, lat]`` order (GeoJSON, shapely ``x, y``).
    """
    arr = np.asarray(geoms, dtype=object)
    rounded = shapely.transform(arr, lambda c: np.round(c, COORD_DECIMALS))
    texts = shapely.to_geojson(rounded)
    # GEOS writes 17 significant digits (116.12345600000001); rewrite those as the shortest repr.
    joined = "\x00".join(texts.tolist())
    joined = _LONG_DECIMAL.sub(lambda mo: repr(round(float(mo.group()), COORD_DECIMALS)), joined)
    return joined.split("\x00") if len(arr) else []


def _feature_collection(geom_json: list[str], props: list[dict]) -> str:
    feats = [
        '{"type":"Feature","geometry":' + g + ',"properties":' + js_json(p) + "}"
        for g, p in zip(geom_json, props, strict=True)
    ]
    return '{"type":"FeatureCollection","features":[' + ",".join(feats) + "]}"


def _layer_name(m: folium.Map, name: str) -> str:
    """The escaped name of a new layer; checks that it is non-empty and unique in the map."""
    if not isinstance(name, str) or not name.strip():
        raise InputError(f"name={name!r}: every layer needs a non-empty name (shown in the map).")
    layer_name = escape(name)
    for child in m._children.values():
        if isinstance(child, folium.map.Layer) and child.layer_name == layer_name:
            raise InputError(f"name={name!r}: the map already has a layer of that name.")
    return layer_name


def _category_styles(
    gdf: gpd.GeoDataFrame,
    base: dict,
    *,
    color: str,
    color_col: str | None,
    colors: Mapping | None,
    keys: Sequence[str],
) -> tuple[list[dict], np.ndarray]:
    """Styles per colour category and each row's style index."""
    if color_col is None:
        style = dict(base)
        for k in keys:
            style[k] = check_color(color, "color")
        return [style], np.zeros(len(gdf), dtype=np.int64)
    if color_col not in gdf.columns:
        raise InputError(
            f"color_col={color_col!r} is not a column of the layer; columns: {list(gdf.columns)}."
        )
    values = gdf[color_col]
    mapping = category_colors(values, fixed=colors)
    unmapped = (
        sorted({str(v) for v in values if not is_na(v)} - {str(k) for k in colors})
        if colors
        else []
    )
    if unmapped:
        log.warning(
            "%s values %s have no colour in `colors`; using palette colours",
            color_col,
            unmapped[:10],
        )
    cats = list(mapping)
    styles = []
    for c in cats:
        style = dict(base)
        for k in keys:
            style[k] = mapping[c]
        styles.append(style)
    missing = dict(base)
    for k in keys:
        missing[k] = STATUS_COLORS["unknown"]
    styles.append(missing)
    lookup = {c: i for i, c in enumerate(cats)}
    idx = np.array(
        [len(cats) if is_na(v) else lookup[v] for v in values.tolist()], dtype=np.int64
    )
    return styles, idx


def _add_features(
    m: folium.Map,
    gdf: gpd.GeoDataFrame,
    *,
    name: str,
    styles: list[dict],
    style_idx: np.ndarray,
    tooltip: Mapping[str, str] | None,
    popup: Mapping[str, str] | None,
    show: bool,
    radius: np.ndarray | None = None,
    tips: tuple[list[str] | None, list] | None = None,
    extra_props: Mapping[str, list] | None = None,
    **element_kw: Any,
) -> folium.FeatureGroup:
    """Add a layer; ``tips`` = (labels, per-row values) replaces ``tooltip`` when given.

    ``extra_props`` adds per-feature properties (lists aligned with the rows), e.g. the
    filter keys ``k`` of a layer that follows the map's filter.
    """
    layer_name = _layer_name(m, name)
    tip_labels, tips_rows = (
        tips
        if tips is not None
        else (field_values(gdf, tooltip, arg="tooltip") if tooltip else (None, None))
    )
    pop_labels, pops = field_values(gdf, popup, arg="popup") if popup else (None, None)
    props: list[dict] = [{"s": int(s)} for s in style_idx.tolist()]
    if radius is not None:
        for p, r in zip(props, radius.tolist(), strict=True):
            p["r"] = r
    if tips_rows is not None:
        for p, t in zip(props, tips_rows, strict=True):
            p["t"] = t
    if pops is not None:
        for p, t in zip(props, pops, strict=True):
            p["p"] = t
    for key, vals in (extra_props or {}).items():
        for p, v in zip(props, vals, strict=True):
            p[key] = v
    interactive = tips_rows is not None or pops is not None or bool(extra_props)
    for s in styles:
        s.setdefault("interactive", interactive)
    data = _feature_collection(geometries_to_json(gdf.geometry.array), props)
    # the map is changed only now, when every argument has been checked
    group = folium.FeatureGroup(name=layer_name, show=show).add_to(m)
    group.add_child(
        _GeoJsonLayer(
            data,
            styles,
            tip_labels=tip_labels,
            pop_labels=pop_labels,
            map_name=m.get_name(),
            **element_kw,
        ),
        name=f"{name}_data",
    )
    log.info("Map layer %r: %d features", name, len(gdf))
    return group


def add_points(
    m: folium.Map,
    gdf: gpd.GeoDataFrame,
    *,
    name: str,
    color: str = "#d7301f",
    color_col: str | None = None,
    colors: Mapping[Hashable, str] | None = None,
    radius: float = 5.0,
    radius_col: str | None = None,
    radius_range: tuple[float, float] = (3.0, 14.0),
    tooltip: Mapping[str, str] | None = None,
    popup: Mapping[str, str] | None = None,
    show: bool = True,
    filter_col: str | None = None,
) -> folium.FeatureGroup:
    """Add points as canvas circle markers (no icons; thousands of points are fine).

    With ``filter_col``, the points follow the map's filter (:func:`add_filter`): only those
    whose value (as text) is the one picked are drawn.

    Parameters
    ----------
    m
        Map from :func:`new_map`.
    gdf
        Point layer (other geometry types are drawn as shapes). Converted to EPSG:4326.
    name
        Layer name in the layer control (escaped).
    color
        Fill colour of every point when ``color_col`` is not given.
    color_col, colors
        Colour points by the category in ``color_col``; ``colors`` maps categories to colours
        (e.g. :data:`STATUS_COLORS`), other categories take palette colours
        (:func:`category_colors`), missing values grey.
    radius
        Radius in screen pixels when ``radius_col`` is not given.
    radius_col, radius_range
        Scale the radius with a non-negative column so that the *area* is proportional to the
        value: ``r = max_r * sqrt(v / v_max)``, clipped to ``radius_range`` (pixels); missing
        values get the minimum.
    tooltip, popup
        ``{column: label}`` shown on hover / on click; values are formatted and HTML-escaped.
    show
        Whether the layer is on when the map opens.

    Returns
    -------
    folium.FeatureGroup
        The layer.
    """
    gdf = _display(m, gdf, f"add_points(name={name!r})")
    base = {
        "radius": float(radius),
        "weight": 1,
        "color": "#ffffff",
        "opacity": 0.9,
        "fillOpacity": 0.85,
    }
    styles, idx = _category_styles(
        gdf, base, color=color, color_col=color_col, colors=colors, keys=("fillColor",)
    )
    r = None
    if radius_col is not None:
        r = scale_radius(gdf, radius_col, radius_range=radius_range)
    return _add_features(
        m,
        gdf,
        name=name,
        styles=styles,
        style_idx=idx,
        tooltip=tooltip,
        popup=popup,
        show=show,
        rank=LAYER_RANK["points"],
        radius=r,
        **_filter_kw(gdf, filter_col),
    )


def scale_radius(
    gdf: pd.DataFrame, column: str, *, radius_range: tuple[float, float] = (3.0, 14.0)
) -> np.ndarray:
    """Circle radii (pixels, 1 decimal) with area proportional to ``gdf[column]``.

    ``r = r_max * sqrt(v / v_max)`` clipped to ``radius_range``; missing or negative values and
    an all-zero column give ``r_min``.
    """
    if column not in gdf.columns:
        raise InputError(
            f"radius_col={column!r} is not a column of the layer; columns: {list(gdf.columns)}."
        )
    rmin, rmax = (float(v) for v in radius_range)
    if not 0 < rmin <= rmax:
        raise InputError(f"radius_range={radius_range!r}: need 0 < min <= max (pixels).")
    v = pd.to_numeric(gdf[column], errors="coerce").to_numpy(dtype=float)
    v = np.where(np.isfinite(v) & (v > 0), v, 0.0)
    vmax = v.max() if len(v) else 0.0
    if vmax <= 0:
        return np.full(len(v), rmin)
    return np.round(np.clip(rmax * np.sqrt(v / vmax), rmin, rmax), 1)


def add_polygons(
    m: folium.Map,
    gdf: gpd.GeoDataFrame,
    *,
    name: str,
    style: Mapping[str, Any] | None = None,
    color_col: str | None = None,
    colors: Mapping[Hashable, str] | None = None,
    tooltip: Mapping[str, str] | None = None,
    popup: Mapping[str, str] | None = None,
    show: bool = True,
    filter_col: str | None = None,
) -> folium.FeatureGroup:
    """Add polygons (radius circles, zones, gaps) with one style or a colour per category.

    ``filter_col``: as for :func:`add_points`.

    Parameters
    ----------
    m
        Map from :func:`new_map`.
    gdf
        Polygon (or line) layer; converted to EPSG:4326.
    name
        Layer name in the layer control (escaped).
    style
        Leaflet path options, e.g. ``{"color": "#d7301f", "weight": 2, "fillOpacity": 0.1,
        "dashArray": "6 4"}``; defaults to a red outline with a faint fill.
    color_col, colors
        Colour outline and fill by category, as in :func:`add_points`.
    tooltip, popup
        ``{column: label}`` shown on hover / on click; values are formatted and HTML-escaped.
    show
        Whether the layer is on when the map opens.
    """
    gdf = _display(m, gdf, f"add_polygons(name={name!r})")
    base = {"color": "#d7301f", "weight": 2, "opacity": 0.9, "fillOpacity": 0.08}
    base.update(style or {})
    for k in ("color", "fillColor"):
        if k in base:
            check_color(base[k], f"style[{k!r}]")
    styles, idx = _category_styles(
        gdf,
        base,
        color=base["color"],
        color_col=color_col,
        colors=colors,
        keys=("color", "fillColor") if color_col else ("color",),
    )
    return _add_features(
        m,
        gdf,
        name=name,
        styles=styles,
        style_idx=idx,
        tooltip=tooltip,
        popup=popup,
        show=show,
        rank=LAYER_RANK["polygons"],
        **_filter_kw(gdf, filter_col),
    )


def _filter_kw(gdf: gpd.GeoDataFrame, filter_col: str | None) -> dict[str, Any]:
    """Keyword arguments of :func:`_add_features` for a layer that follows the map's filter."""
    if filter_col is None:
        return {}
    if filter_col not in gdf.columns:
        raise InputError(f"filter_col={filter_col!r} is not a column of the layer; columns: "
                         f"{list(gdf.columns)}.")
    keys = [None if is_na(v) else escape(v) for v in gdf[filter_col].tolist()]
    return {"extra_props": {"k": keys}, "filtered": True}


#: Simplification of drawn outlines, degrees (~5 m): invisible at county and township zooms
OUTLINE_SIMPLIFY_DEG = 5e-5


def add_outlines(
    m: folium.Map,
    gdf: gpd.GeoDataFrame,
    *,
    name: str,
    label_col: str | None = None,
    color: str = "#555555",
    weight: float = 1.5,
    dash: str | None = None,
    labels: str = "permanent",
    label_min_zoom: int | None = None,
    show: bool = True,
    simplify_deg: float = OUTLINE_SIMPLIFY_DEG,
) -> folium.FeatureGroup:
    """Add administrative outlines (counties, townships) with their names.

    Parameters
    ----------
    m
        Map from :func:`new_map`.
    gdf
        Polygons; converted to EPSG:4326.
    name
        Layer name in the layer control (escaped).
    label_col
        Column with the names (e.g. ``county_name``); escaped.
    color, weight, dash
        Outline colour, width (px) and Leaflet ``dashArray`` (e.g. ``"4 4"``).
    labels
        ``"permanent"``: names written at a point inside each polygon (shapely
        ``point_on_surface``), toggled with the layer; ``"tooltip"``: names shown when hovering
        over a polygon.
    label_min_zoom
        With permanent labels, hide them below this zoom level (e.g. 10 for townships).
    show
        Whether the layer is on when the map opens.
    simplify_deg
        Douglas-Peucker tolerance in degrees (topology kept), applied to the drawn outline
        only: outlines carry no value to read, and the default (about 5 m) is below a pixel
        at every zoom a county or township is looked at. 0 draws every vertex.
    """
    gdf = _display(m, gdf, f"add_outlines(name={name!r})")
    if simplify_deg > 0 and len(gdf):
        gdf = gdf.copy()
        gdf[gdf.geometry.name] = shapely.simplify(gdf.geometry.array, simplify_deg,
                                                  preserve_topology=True)
    if labels not in ("permanent", "tooltip"):
        raise InputError(f"labels={labels!r}: choose 'permanent' or 'tooltip'.")
    style: dict[str, Any] = {
        "color": check_color(color, "color"),
        "weight": float(weight),
        "opacity": 0.9,
        "fill": False,
        "interactive": False,
    }
    if dash:
        style["dashArray"] = str(dash)
    label_data = None
    tips = None
    if label_col is not None:
        if label_col not in gdf.columns:
            raise InputError(
                f"label_col={label_col!r} is not a column of the layer; "
                f"columns: {list(gdf.columns)}."
            )
        texts = [escape(format_value(v)) for v in gdf[label_col].tolist()]
        if labels == "permanent":
            pts = shapely.point_on_surface(gdf.geometry.array)
            lat = np.round(shapely.get_y(pts), COORD_DECIMALS).tolist()
            lng = np.round(shapely.get_x(pts), COORD_DECIMALS).tolist()
            label_data = [[a, b, t] for a, b, t in zip(lat, lng, texts, strict=True)]
        else:
            style.update(fill=True, fillOpacity=0.0, interactive=True)
            tips = (None, texts)
    return _add_features(
        m,
        gdf,
        name=name,
        styles=[style],
        style_idx=np.zeros(len(gdf), dtype=np.int64),
        tooltip=None,
        popup=None,
        show=show,
        tips=tips,
        labels=label_data,
        label_min_zoom=label_min_zoom,
        rank=LAYER_RANK["outlines"] if labels == "permanent" else LAYER_RANK["outlines_hover"],
    )
