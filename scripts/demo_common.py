"""Helpers shared by the seeded demo-data generators in scripts/."""

from __future__ import annotations

import numpy as np
import shapely


def random_points_in(poly: shapely.Geometry, n: int, rng: np.random.Generator, *,
                     oversample: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """n uniform random points (lng, lat) inside a polygon, by rejection sampling.

    Draws ``oversample * n`` candidates per round from the bounding box; the generators'
    committed outputs depend on this exact sequence of draws.
    """
    minx, miny, maxx, maxy = poly.bounds
    xs, ys = [], []
    while sum(map(len, xs)) < n:
        x = rng.uniform(minx, maxx, oversample * n)
        y = rng.uniform(miny, maxy, oversample * n)
        inside = shapely.contains_xy(poly, x, y)
        xs.append(x[inside])
        ys.append(y[inside])
    return np.concatenate(xs)[:n], np.concatenate(ys)[:n]
