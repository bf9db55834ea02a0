"""Land-cover class rasters (e.g. ESA WorldCover GeoTIFFs): read once, sample at points.

ESA WorldCover codes, for reference: 10 tree cover, 20 shrubland, 30 grassland, 40 cropland,
50 built-up, 60 bare, 70 snow/ice, 80 water, 90 wetland, 95 mangroves, 100 moss/lichen.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyproj
import rasterio
from affine import Affine

from . import limits
from .errors import InputError


@dataclass(frozen=True)
class ClassRaster:
    """A single-band class raster held in memory.

    Attributes
    ----------
    codes
        2-D integer array (rows, cols) of class codes.
    transform
        Affine transform from (col, row) to the raster CRS (x, y).
    crs
        The raster's CRS.
    nodata
        Nodata value, or None.
    path
        The file it came from (for messages).
    """

    codes: np.ndarray
    transform: Affine
    crs: pyproj.CRS
    nodata: float | None = None
    path: Path | None = None

    def __len__(self) -> int:
        return int(self.codes.size)


def read_class_raster(path: Path | str, *, band: int = 1) -> ClassRaster:
    """Read band `band` of a GeoTIFF of class codes (whole raster, in memory)."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: raster not found; check `path` in the config.")
    try:
        with rasterio.open(path) as src:
            if src.crs is None:
                raise InputError(f"{path}: the raster has no CRS; save it as a georeferenced "
                                 "GeoTIFF (e.g. EPSG:4326).")
            limits.check_pixels(path, src.width, src.height)
            codes = src.read(band)
            return ClassRaster(codes=codes, transform=src.transform,
                               crs=pyproj.CRS.from_user_input(src.crs.to_wkt()),
                               nodata=src.nodata, path=path)
    except rasterio.errors.RasterioIOError as err:
        raise InputError(f"{path}: not a readable raster ({err}).") from None


def sample(raster: ClassRaster, lng: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Class code of the pixel under each point; -1 outside the raster or on nodata.

    Parameters
    ----------
    raster
        From :func:`read_class_raster`.
    lng, lat
        WGS-84 degrees (x = lng, y = lat), 1-D of equal length.

    Returns
    -------
    numpy.ndarray
        int64 class codes.
    """
    lng = np.asarray(lng, dtype="float64")
    lat = np.asarray(lat, dtype="float64")
    out = np.full(lng.size, -1, dtype=np.int64)
    if lng.size == 0:
        return out
    if raster.crs.equals(pyproj.CRS.from_epsg(4326)):
        x, y = lng, lat
    else:
        tr = pyproj.Transformer.from_crs("EPSG:4326", raster.crs, always_xy=True)
        x, y = tr.transform(lng, lat)
    x, y = np.asarray(x, dtype="float64"), np.asarray(y, dtype="float64")
    inv = ~raster.transform
    col = np.floor(inv.a * x + inv.b * y + inv.c)
    row = np.floor(inv.d * x + inv.e * y + inv.f)
    ok = np.isfinite(col) & np.isfinite(row)
    col = np.where(ok, col, -1).astype(np.int64)
    row = np.where(ok, row, -1).astype(np.int64)
    h, w = raster.codes.shape
    inside = (row >= 0) & (row < h) & (col >= 0) & (col < w)
    vals = raster.codes[row[inside], col[inside]].astype(np.int64)
    if raster.nodata is not None:
        vals[vals == raster.nodata] = -1
    out[inside] = vals
    return out
