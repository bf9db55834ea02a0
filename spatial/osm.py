"""OpenStreetMap land use through osmnx: built-up areas from OSM XML files or place names.

Local OSM XML files are read offline; a place name is looked up only when a user asks for it
and a network is available.

Coordinates are WGS-84 degrees (EPSG:4326, x = lng, y = lat). Nothing here touches the network
unless :func:`landuse_from_place` is called.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from .errors import InputError

log = logging.getLogger(__name__)

#: OSM ``landuse`` values that make up a built-up (urban) area
BUILT_UP_LANDUSE: tuple[str, ...] = ("residential", "commercial", "industrial", "retail",
                                     "construction", "education", "institutional")

OSM_SUFFIXES = {".osm", ".xml"}


def _polygon_frame(features: gpd.GeoDataFrame, *, source: str) -> gpd.GeoDataFrame:
    """Keep the (Multi)Polygon features: columns id (``way/123``), landuse, name, geometry."""
    if len(features) == 0:
        return gpd.GeoDataFrame({"id": [], "landuse": [], "name": []},
                                geometry=gpd.GeoSeries([], crs="EPSG:4326"), crs="EPSG:4326")
    f = features.reset_index()
    poly = f.geometry.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()
    f = f[poly]
    ids = (f["element"].astype(str) + "/" + f["id"].astype(str)) if "element" in f else \
        f.index.astype(str)
    out = gpd.GeoDataFrame({
        "id": np.asarray(ids, dtype=object),
        "landuse": f["landuse"].astype(object).to_numpy() if "landuse" in f else None,
        "name": f["name"].astype(object).where(f["name"].notna(), None).to_numpy()
        if "name" in f else None,
    }, geometry=shapely.make_valid(f.geometry.to_numpy()), crs="EPSG:4326")
    log.info("OSM landuse from %s: %d polygons", source, len(out))
    return out.reset_index(drop=True)


def read_landuse(path: Path | str, *, landuse: Sequence[str] = BUILT_UP_LANDUSE
                 ) -> gpd.GeoDataFrame:
    """Read OSM ``landuse`` polygons from a local OSM XML file, offline (osmnx).

    Parameters
    ----------
    path
        An ``.osm``/``.xml`` file (as exported from openstreetmap.org, JOSM or osmnx).
    landuse
        ``landuse`` tag values to keep.

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326; columns ``id`` (``way/<osm id>`` or ``relation/<osm id>``), ``landuse``,
        ``name`` and polygon geometry (x = lng, y = lat). Closed ways become polygons,
        multipolygon relations multipolygons; lines and points are dropped.

    Raises
    ------
    InputError
        The file is missing or is not OSM XML.
    """
    import osmnx as ox

    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: OSM file not found; check `path` in the config.")
    try:
        with warnings.catch_warnings():
            # osmnx warns about its own settings/deprecations; the result is what we check
            warnings.simplefilter("ignore", category=FutureWarning)
            warnings.simplefilter("ignore", category=UserWarning)
            features = ox.features_from_xml(path, tags={"landuse": list(landuse)})
    except Exception as err:  # osmnx raises several types for bad files and empty results
        if type(err).__name__ == "InsufficientResponseError":
            log.warning("%s: no landuse=%s features", path, "/".join(landuse))
            return _polygon_frame(gpd.GeoDataFrame(), source=str(path))
        raise InputError(f"{path}: not a readable OSM XML file ({err}).") from None
    return _polygon_frame(features, source=str(path))


def landuse_from_place(place: str, *, landuse: Sequence[str] = BUILT_UP_LANDUSE
                       ) -> gpd.GeoDataFrame:
    """Download OSM ``landuse`` polygons for a place name (**needs a network**; Overpass API).

    Only called when a user asks for it explicitly; tests and the demo read local files with
    :func:`read_landuse`. Returns the same frame as :func:`read_landuse`.
    """
    import osmnx as ox

    log.info("Downloading OSM landuse for %r (network)", place)
    features = ox.features_from_place(place, tags={"landuse": list(landuse)})
    return _polygon_frame(features, source=place)

