"""OpenStreetMap through osmnx: built-up areas, roads and sensitive receptors.

Local OSM XML files are read offline (:func:`read_landuse`). ``lantian fetch osm`` downloads
the features of an area from Overpass (:func:`download_features`, osmnx ``features_from_polygon``
with ``osmnx.settings.overpass_url`` set from ``[fetch] overpass_url`` or
``LANTIAN_OVERPASS_URL``) into a GeoPackage cache whose layer metadata records the query, the
server and the date; a failed download says why and leaves the cache as it was.

Coordinates are WGS-84 degrees (EPSG:4326, x = lng, y = lat). Nothing here touches the network
unless :func:`landuse_from_place` or :func:`download_features` is called.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import tempfile
import urllib.error
import urllib.request
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
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



#: what ``lantian fetch osm --what`` downloads: the osmnx tags and the geometry kept
OSM_QUERIES: dict[str, tuple[dict[str, list[str]], str]] = {
    "built_up": ({"landuse": list(BUILT_UP_LANDUSE)}, "polygons"),
    "roads": ({"highway": ["motorway", "trunk", "primary", "secondary", "tertiary"]}, "lines"),
    "receptors": ({"amenity": ["school", "kindergarten", "hospital", "clinic", "nursing_home"],
                   "social_facility": ["nursing_home", "assisted_living"]}, "points"),
}
#: receptor kinds from OSM tag values
RECEPTOR_KINDS = {"school": "school", "kindergarten": "school", "hospital": "hospital",
                  "clinic": "hospital", "nursing_home": "care_home",
                  "assisted_living": "care_home"}


@contextlib.contextmanager
def _osmnx_settings(overpass_url: str, timeout_s: float) -> Iterator[None]:
    """Set osmnx settings for one download (endpoint, timeout, no osmnx cache); restore after."""
    import osmnx as ox

    keys = {"overpass_url": overpass_url.rstrip("/").removesuffix("/interpreter"),
            "requests_timeout": timeout_s, "use_cache": False, "log_console": False}
    old = {k: getattr(ox.settings, k) for k in keys}
    for k, v in keys.items():
        setattr(ox.settings, k, v)
    try:
        yield
    finally:
        for k, v in old.items():
            setattr(ox.settings, k, v)


def download_features(what: str, polygon: shapely.Geometry, *, overpass_url: str, cache: Path,
                      timeout_s: float = 180.0) -> tuple[Path, int]:
    """Download OSM features of `what` inside `polygon` into ``{cache}/osm/{what}.gpkg``.

    Parameters
    ----------
    what
        A key of :data:`OSM_QUERIES`: ``built_up`` (landuse polygons), ``roads`` (lines) or
        ``receptors`` (schools, hospitals, care homes as points: polygons become a point inside).
    polygon
        Area, WGS-84 degrees (x = lng, y = lat).
    overpass_url
        Overpass API base (``https://overpass-api.de/api``; a trailing ``/interpreter`` is
        dropped).
    cache
        Cache folder; the file is replaced only when the download succeeded.

    Returns
    -------
    path, n
        The GeoPackage (layer ``features``: ``id``, ``name``, ``kind``, geometry; layer metadata
        ``query``, ``overpass_url``, ``downloaded_utc``, ``bounds``) and its number of features.

    Raises
    ------
    spatial.fetch.FetchError
        No network, or Overpass busy or failing (the cache is left as it was).
    """
    import osmnx as ox
    import requests

    from .fetch import FetchError

    if what not in OSM_QUERIES:
        raise InputError(f"--what {what!r}: choose from {', '.join(OSM_QUERIES)}.")
    tags, geom_kind = OSM_QUERIES[what]
    base = overpass_url.rstrip("/").removesuffix("/interpreter")
    try:  # reachable at all? (osmnx would wait a minute per failed status check)
        with urllib.request.urlopen(base + "/status", timeout=timeout_s) as r:
            r.read()
    except urllib.error.HTTPError:
        pass  # a server that answers; osmnx gets its own answer below
    except (urllib.error.URLError, TimeoutError) as err:
        reason = getattr(err, "reason", err)
        raise FetchError(f"{base}: no network connection to Overpass ({reason}); the cache was "
                         "left as it was.") from None
    log.info("Downloading OSM %s from %s", what, base)
    try:
        with _osmnx_settings(base, timeout_s), warnings.catch_warnings():
            warnings.simplefilter("ignore", category=FutureWarning)
            warnings.simplefilter("ignore", category=UserWarning)
            features = ox.features_from_polygon(polygon, tags=tags)
    except ox._errors.InsufficientResponseError as err:
        if "No matching features" not in str(err):
            raise FetchError(f"{base}: Overpass gave no usable answer ({err}); the cache was "
                             "left as it was; try again later.") from None
        features = gpd.GeoDataFrame(geometry=gpd.GeoSeries([], crs="EPSG:4326"))
    except ox._errors.ResponseStatusCodeError as err:
        raise FetchError(f"{base}: Overpass is busy or failed ({str(err)[:200]}); the cache was "
                         "left as it was; try again later.") from None
    except requests.exceptions.RequestException as err:
        raise FetchError(f"{base}: the Overpass download failed ({err}); the cache was left as "
                         "it was.") from None
    frame = _feature_frame(features, tags, geom_kind)
    folder = Path(cache) / "osm"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{what}.gpkg"
    fd, tmp = tempfile.mkstemp(prefix=f".{what}.", suffix=".gpkg", dir=folder)
    os.close(fd)
    os.unlink(tmp)
    try:
        meta = {"query": json.dumps(tags, ensure_ascii=False), "overpass_url": base,
                "downloaded_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "bounds": ",".join(f"{v:.5f}" for v in polygon.bounds)}
        frame.to_file(tmp, layer="features", driver="GPKG", engine="pyogrio",
                      layer_metadata=meta)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    log.info("OSM %s: %d features -> %s", what, len(frame), path)
    return path, len(frame)


def _feature_frame(features: gpd.GeoDataFrame, tags: dict[str, list[str]], geom_kind: str
                   ) -> gpd.GeoDataFrame:
    """``id``, ``name``, ``kind`` and the geometry kept for `geom_kind`."""
    if geom_kind == "polygons":
        out = _polygon_frame(features, source="Overpass")
        return out.rename(columns={"landuse": "kind"})
    if len(features) == 0:
        return gpd.GeoDataFrame({"id": [], "name": [], "kind": []},
                                geometry=gpd.GeoSeries([], crs="EPSG:4326"), crs="EPSG:4326")
    f = features.reset_index()
    kind = np.full(len(f), None, dtype=object)
    for key, values in tags.items():
        if key in f:
            v = f[key].astype(object).to_numpy()
            hit = pd.isna(kind) & np.isin(v, values)
            kind[hit] = v[hit]
    geom = f.geometry.to_numpy()
    if geom_kind == "points":
        geom = shapely.point_on_surface(geom)
        kind = pd.Series(kind, dtype=object).replace(RECEPTOR_KINDS).to_numpy(dtype=object)
    else:
        line = np.isin(shapely.get_type_id(geom), [1, 5])  # LineString, MultiLineString
        f, geom, kind = f[line], geom[line], kind[line]
    return gpd.GeoDataFrame({
        "id": (f["element"].astype(str) + "/" + f["id"].astype(str)).to_numpy(dtype=object),
        "name": f["name"].astype(object).where(f["name"].notna(), None).to_numpy()
        if "name" in f else None,
        "kind": kind}, geometry=geom, crs="EPSG:4326").reset_index(drop=True)
