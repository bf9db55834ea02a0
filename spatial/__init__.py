"""lantian's analysis-agnostic GIS library: one module per noun.

Modules are re-exported, not their functions, so the namespace reads like a table of contents:
``spatial.h3grid.points_to_cells``, ``spatial.coords.gcj02_to_wgs84``.
"""

from . import admin as admin
from . import airstats as airstats
from . import cluster as cluster
from . import config as config
from . import coords as coords
from . import export as export
from . import firms as firms
from . import geodesy as geodesy
from . import h3grid as h3grid
from . import interpolate as interpolate
from . import io as io
from . import landcover as landcover
from . import legend as legend
from . import mapparts as mapparts
from . import osm as osm
from . import qgis as qgis
from . import raster as raster
from . import stats as stats
from . import webmap as webmap
from .errors import InputError as InputError

__all__ = ["InputError", "admin", "airstats", "cluster", "config", "coords", "export", "firms",
           "geodesy", "h3grid", "interpolate", "io", "landcover", "legend", "mapparts", "osm",
           "qgis", "raster", "stats", "webmap"]
