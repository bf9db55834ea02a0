"""Administrative units: attach county/township codes and names to points."""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd

from . import overlay

log = logging.getLogger(__name__)


def locate(lng: np.ndarray, lat: np.ndarray, units: gpd.GeoDataFrame) -> np.ndarray:
    """Index (row position in `units`) of the polygon containing each point, -1 if none.

    Parameters
    ----------
    lng, lat
        Point coordinates in WGS-84 degrees (x = lng, y = lat).
    units
        Polygons in EPSG:4326. A point on a shared border goes to the unit that comes first
        in `units`, so the answer does not depend on the order of the points.
    """
    return overlay.first_containing(units.geometry.to_numpy(), lng, lat, border=True)


def code_name(units: gpd.GeoDataFrame | None, pos: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``code`` and ``name`` of the unit at each row position `pos` of `units` (None at -1).

    Returns two ``object`` arrays the length of `pos` (all None when `units` is None or empty).
    """
    pos = np.asarray(pos, dtype=np.int64)
    codes = np.full(len(pos), None, dtype=object)
    names = np.full(len(pos), None, dtype=object)
    if units is not None and len(units):
        hit = pos >= 0
        codes[hit] = units["code"].to_numpy(dtype=object)[pos[hit]]
        names[hit] = units["name"].to_numpy(dtype=object)[pos[hit]]
    return codes, names


def attach(frame: pd.DataFrame, lng: np.ndarray, lat: np.ndarray, units: gpd.GeoDataFrame | None,
           *, level: str = "county", fallback: str | None = None) -> pd.DataFrame:
    """Add ``<level>_code`` and ``<level>_name`` columns to `frame` by point in polygon.

    Parameters
    ----------
    frame
        Rows aligned with `lng`, `lat` (WGS-84 degrees).
    units
        Polygons with ``code`` and ``name`` columns (EPSG:4326), or None (columns stay empty).
    level
        ``"county"`` or ``"township"``: the column prefix.
    fallback
        Column of `frame` holding a name typed in the inventory, used as ``<level>_name`` for
        points outside every polygon.

    Returns
    -------
    pandas.DataFrame
        A copy of `frame` with the two columns (None where no polygon contains the point).
    """
    out = frame.copy()
    idx = np.full(len(out), -1, dtype=np.int64)
    if units is not None and len(units):
        idx = locate(lng, lat, units)
        if (idx < 0).any():
            log.info("%d of %d points fall outside every %s", (idx < 0).sum(), len(out), level)
    codes, names = code_name(units, idx)
    if fallback is not None and fallback in out:
        miss = pd.isna(names)
        names[miss] = out[fallback].to_numpy(dtype=object)[miss]
    out[f"{level}_code"] = codes
    out[f"{level}_name"] = names
    return out


def cell_places(cell_ids: np.ndarray, places: pd.DataFrame, lng: np.ndarray,
                lat: np.ndarray) -> pd.DataFrame:
    """One row per H3 cell with its county and township and its centre, for ranked lists.

    ``cell_ids`` are H3 cell id strings; ``places`` (rows aligned with them) holds
    ``county_code``, ``county_name``, ``township_code``, ``township_name``; ``lng``/``lat`` are
    the cell centres in WGS-84 degrees, written rounded to 1e-6° (about 0.1 m).
    """
    out = {"h3_cell": cell_ids}
    for c in ("county_code", "county_name", "township_code", "township_name"):
        out[c] = places[c].to_numpy(object)
    out["lon"], out["lat"] = np.round(lng, 6), np.round(lat, 6)
    return pd.DataFrame(out)
