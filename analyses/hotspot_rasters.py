"""pollution-hotspots: the GeoTIFFs summarised on H3 cells before ``run`` (pixels read here).

``run`` stays pure: the ``rasters`` input (the reader's list of files) is turned into
:class:`RasterCells` by :func:`prepare_run`, which ``pollution_hotspots.run`` (the decorated
public function, :func:`analyses.api.entry`) calls before the analysis, with the run's engine
(in process, or one Dask task per raster). Give ``read_inputs(..., params=Params(...))`` to do
it once for several runs with the same raster parameters.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from spatial import h3grid
from spatial.engine import LocalEngine
from spatial.errors import InputError
from spatial.io import empty_rejected

from . import raster_checks

log = logging.getLogger(__name__)


def params_key(params: Any) -> tuple:
    """The parameters the cell values depend on (a prepared input fits runs that share them)."""
    return (params.h3_resolution, params.raster_band, params.raster_period_pattern,
            tuple(params.raster_periods), params.period)


@dataclass(frozen=True)
class RasterCells:
    """The rasters as ``run`` uses them: cell means per period and what was found reading.

    ``files``: the reader's frame (one row per GeoTIFF: path, file, width, height, crs…);
    ``file_periods``: the period of each file; ``periods`` sorted; ``cells`` sorted H3 cells
    (uint64) with a valid pixel in some raster; ``values`` (n_cells, n_periods) the mean of the
    rasters' cell means in a period (NaN: no valid pixel); ``counts`` valid pixels per cell and
    period; ``rejected`` rasters left out (empty, negative values) as rejected rows; ``key``
    the :func:`params_key` it was made with.
    """

    files: pd.DataFrame
    file_periods: list
    periods: list
    cells: np.ndarray
    values: np.ndarray
    counts: np.ndarray
    rejected: pd.DataFrame
    key: tuple

    def __len__(self) -> int:
        return len(self.files)


def raster_values(files: pd.DataFrame, params: Any, engine: LocalEngine | None = None, *,
                  rejected: list | None = None
                  ) -> tuple[list[pd.Period], np.ndarray, np.ndarray, np.ndarray]:
    """Cell means of every raster, grouped by period.

    Returns
    -------
    periods, cells, values, counts
        Sorted periods; sorted cells with at least one valid pixel in some raster;
        ``values`` (n_cells, n_periods) mean of the rasters' cell means in the period (NaN:
        no valid pixel); ``counts`` valid pixels summed over the period's rasters.
    """
    from .pollution_hotspots import raster_periods  # (that module imports this one)

    per = raster_periods(files, params)
    raster_checks.check_periods(files, per)  # two rasters of a period: an error
    eng = engine if engine is not None else LocalEngine()
    results = eng.rasters_to_cells(list(files["path"]), resolution=params.h3_resolution,
                                   band=params.raster_band)
    results, bad = raster_checks.screen(files, results)  # empty rasters, negative cells
    if rejected is not None and bad:
        rejected.append(pd.DataFrame(bad, columns=empty_rejected().columns))
    periods = sorted(set(per))
    cells = np.unique(np.concatenate([s.cells[s.count > 0] for s in results])) if results \
        else np.zeros(0, np.uint64)
    sums = np.zeros((len(cells), len(periods)))
    nr = np.zeros((len(cells), len(periods)))
    counts = np.zeros((len(cells), len(periods)), dtype=np.int64)
    for s, p in zip(results, per, strict=True):
        j = periods.index(p)
        has = s.count > 0
        pos = h3grid.lookup(cells, s.cells[has])
        sums[pos, j] += s.mean[has]
        nr[pos, j] += 1
        counts[pos, j] += s.count[has]
    with np.errstate(invalid="ignore", divide="ignore"):
        values = np.where(nr > 0, sums / np.maximum(nr, 1), np.nan)
    log.info("Rasters: %d files, %d periods, %d cells with pixels", len(files), len(periods),
             len(cells))
    return periods, cells, values, counts



def prepare_run(inputs: Any, params: Any, *, engine: LocalEngine | None = None) -> Any:
    """Return `inputs` with ``rasters`` as :class:`RasterCells` when the run uses them.

    The rasters are used when ``params.source`` is ``"rasters"``, or ``"auto"`` and rasters
    are given (else they are left as they are: no pixel is read). An input prepared with
    other raster parameters (``h3_resolution``, ``raster_band``, the period pattern or list,
    ``period``) is an InputError.
    """
    files = inputs.get("rasters")
    if files is None or not len(files) or params.source == "stations":
        return inputs
    if isinstance(files, RasterCells):
        if files.key != params_key(params):
            raise InputError("rasters: prepared with other parameters (h3_resolution, "
                             "raster_band, raster_period_pattern/raster_periods, period) than "
                             "this run's; read them again with these Params.")
        return inputs
    from .pollution_hotspots import raster_periods

    rejected: list[pd.DataFrame] = []
    periods, cells, values, counts = raster_values(files, params, engine, rejected=rejected)
    rc = RasterCells(files=files, file_periods=raster_periods(files, params), periods=periods,
                     cells=cells, values=values, counts=counts,
                     rejected=pd.concat(rejected, ignore_index=True) if rejected
                     else empty_rejected(), key=params_key(params))
    out = type(inputs)(inputs.tables, inputs.warnings, base=inputs.base) \
        if hasattr(inputs, "tables") else dict(inputs)
    out["rasters"] = rc
    return out
