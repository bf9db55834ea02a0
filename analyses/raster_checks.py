"""Checks of pollution rasters that would otherwise lose or bend a period without a word.

- Two rasters of one period would be averaged silently: an error naming both files
  (:func:`check_periods`).
- A raster whose pixels are all nodata, NaN or ±inf, or whose valid pixels all fall outside
  the study area, leaves its period empty: a ``rejected`` row naming the file
  (:func:`screen`, :func:`outside_area`).
- Negative concentrations are not measurements (readings below 0 are rejected for the same
  reason: module docstring of ``analyses.pollution_hotspots``, "Readings below 0 … are
  rejected as failed-sensor data"): cells whose pixel mean is below 0 are left out and counted
  in a ``rejected`` row per raster.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from spatial.errors import InputError


def check_periods(files: pd.DataFrame, periods: Sequence[pd.Period]) -> None:
    """Raise InputError if two rasters have the same period (they would be averaged)."""
    seen: dict[pd.Period, str] = {}
    for name, p in zip(files["file"], periods, strict=True):
        if p in seen:
            raise InputError(f"rasters {seen[p]} and {name}: both are period {p}; a period "
                             "takes one raster. Remove one, or give params.raster_periods "
                             "(one period per file, in file order).")
        seen[p] = name


def _row(file: str, reason: str) -> dict:
    return {"input": "rasters", "file": file, "row": None, "id": None, "reason": reason}


def screen(files: pd.DataFrame, results: list) -> tuple[list, list[dict]]:
    """Leave out cells with a negative mean; report rasters without any valid pixel.

    `results` are ``spatial.raster.CellStats`` (one per file, in file order). Returns the
    results (negative cells with count 0 and mean NaN) and the rejected rows.
    """
    out, rejected = [], []
    for (_, f), s in zip(files.iterrows(), results, strict=True):
        has = s.count > 0
        if not has.any():
            rejected.append(_row(f["path"], "no valid pixel: every pixel is nodata, NaN or "
                                 "infinite (or has no position); its period has no raster value"))
            out.append(s)
            continue
        neg = has & (s.mean < 0)
        if neg.any():
            rejected.append(_row(f["path"], f"{int(neg.sum())} of {int(has.sum())} cells have a "
                                 "negative mean concentration; those cells are left out"))
            s = s._replace(mean=np.where(neg, np.nan, s.mean),
                           count=np.where(neg, 0, s.count))
        out.append(s)
    return out, rejected


def outside_area(files: pd.DataFrame, periods_of_files: Sequence[pd.Period],
                 periods: Sequence[pd.Period], values: np.ndarray, *,
                 reported: pd.DataFrame | None = None) -> list[dict]:
    """Rejected rows for the rasters of periods left without any value inside the study area.

    Rasters already in `reported` (rejected rows of input ``rasters``) are not repeated.
    """
    rows = []
    empty = {p for j, p in enumerate(periods) if not np.isfinite(values[:, j]).any()}
    seen = set() if reported is None else set(
        reported.loc[reported["input"] == "rasters", "file"])
    for name, p in zip(files["path"], periods_of_files, strict=True):
        if p in empty and name not in seen:
            rows.append(_row(name, f"no valid pixel inside the study area (the counties); "
                                   f"period {p} has no value"))
    return rows
