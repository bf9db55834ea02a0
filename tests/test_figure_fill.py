"""Polygon fills of the static figure (spatial.figure): disjoint layers as one compound path.

H3 cells never overlap, so a class of 30,000 hexagons is filled as one path (the PDF writes
one path instead of 30,000). Checked here against an independent geometry: every pixel whose
centre lies well inside the union of the cells (shapely, in the figure's metric CRS) has the
fill colour exactly, also on the edges two cells share; drawn one path per cell, the
anti-aliased shared edges leave seams (the reason for the compound path).
"""

import geopandas as gpd
import h3
import matplotlib
import numpy as np
import shapely
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PathCollection
from shapely.geometry import Polygon

from spatial import coords, figure

RED = (215, 48, 31)  # "#d7301f"


def _cells() -> gpd.GeoDataFrame:
    cells = sorted(h3.grid_disk(h3.latlng_to_cell(36.45, 116.0, 7), 2))  # 19 cells
    polys = [Polygon([(lng, lat) for lat, lng in h3.cell_to_boundary(c)]) for c in cells]
    return gpd.GeoDataFrame({"cat": ["a"] * len(cells)}, geometry=polys, crs=4326)


def _draw(disjoint: bool):
    gdf = _cells()
    style = [figure.LayerStyle("cells", "网格", column="cat", colors={"a": "#d7301f"},
                               labels={"a": "甲"}, alpha=1.0, linewidth=0.0,
                               disjoint=disjoint)]
    fig = figure.draw({"cells": gdf}, title="测试", style=style)
    canvas = FigureCanvasAgg(fig)
    with matplotlib.rc_context(fig.lantian_rc):  # the figure's CJK font, as to_bytes
        canvas.draw()
    img = np.asarray(canvas.buffer_rgba())[..., :3].astype(int)
    return fig, gdf, img


def _inner_pixels(fig, gdf, img) -> np.ndarray:
    """Colours of the pixels whose centres lie > 2 px inside the union of the cells."""
    ax = fig.axes[0]
    b = gdf.total_bounds
    crs = coords.metric_crs(np.array([b[0], b[2]]), np.array([b[1], b[3]]))
    union = shapely.union_all(gdf.to_crs(crs).geometry.to_numpy())
    h, w = img.shape[:2]
    cols, rows = np.meshgrid(np.arange(w), np.arange(h))
    disp = np.column_stack([cols.ravel() + 0.5, h - (rows.ravel() + 0.5)])  # y up
    xy = ax.transData.inverted().transform(disp)
    (x0, _), (x1, _) = ax.transData.inverted().transform([(0, 0), (1, 0)])
    inner = shapely.buffer(union, -2 * abs(x1 - x0))  # 2 pixels in metres
    ok = shapely.contains_xy(inner, xy[:, 0], xy[:, 1])
    assert ok.sum() > 1000  # the test looks at a real area
    return img.reshape(-1, 3)[ok]


def test_disjoint_cells_are_one_path_and_filled_without_seams():
    fig, gdf, img = _draw(disjoint=True)
    fills = [c for c in fig.axes[0].collections if isinstance(c, PathCollection)]
    assert len(fills) == 1 and len(fills[0].get_paths()) == 1
    # the one path holds every ring: 6 vertices and a closing one per hexagon
    assert len(fills[0].get_paths()[0].vertices) == 19 * 7
    px = _inner_pixels(fig, gdf, img)
    assert (px == RED).all(axis=1).all(), np.unique(px, axis=0)[:5]


def test_one_path_per_cell_leaves_seams_on_shared_edges():
    fig, gdf, img = _draw(disjoint=False)
    fills = [c for c in fig.axes[0].collections if isinstance(c, PathCollection)]
    assert len(fills[0].get_paths()) == 19
    px = _inner_pixels(fig, gdf, img)
    assert not (px == RED).all(axis=1).all()
