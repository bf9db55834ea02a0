"""Checks of an analysis's inputs as read: what was detected, what was rejected, what looks wrong.

``lantian check`` prints :func:`report`; every ``lantian run`` runs :func:`warnings_for` too and
records the warnings in the summary and the manifest. With ``--strict`` warnings are errors.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import ModuleType
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from spatial import admin, coords, io

from . import input_report, vocab
from .base import hook

#: how many more points a shifted reading must put inside the counties before we say so
_SHIFT_MIN_GAIN = 3


def _boundaries(tables: Mapping[str, io.Table]) -> gpd.GeoDataFrame | None:
    for key in ("counties", "townships"):
        if key in tables and len(tables[key].frame):
            return tables[key].frame
    return None


def _fit(lng: np.ndarray, lat: np.ndarray, units: gpd.GeoDataFrame, typed: np.ndarray | None
         ) -> np.ndarray:
    """Per point: 1 if inside a boundary, +1 if that unit's name equals the county typed in."""
    idx = admin.locate(lng, lat, units)
    score = (idx >= 0).astype(np.int64)
    if typed is not None:
        names = np.where(idx >= 0, units["name"].to_numpy(dtype=object)[np.maximum(idx, 0)], None)
        score += (names == typed) & pd.notna(typed)
    return score


def _shift_warning(name: str, t: io.Table, units: gpd.GeoDataFrame) -> str | None:
    """Warn when reading the points as GCJ-02/BD-09 (or as WGS-84) fits the boundaries better.

    The fit of a reading counts the points inside a boundary polygon and, where the inventory
    has a ``county`` column, the points whose polygon has the county name typed in. A ~500 m
    GCJ-02 shift shows at borders: points near them change side.
    """
    f = t.frame
    lng, lat = f["lon"].to_numpy(), f["lat"].to_numpy()
    typed = f["county"].to_numpy(dtype=object) if "county" in f else None
    inside = _fit(lng, lat, units, typed)
    if t.crs in ("gcj02", "bd09"):  # undo the declared conversion: were they WGS-84 after all?
        alt_lng, alt_lat = coords.from_wgs84(lng, lat, t.crs)
        alternatives = {"wgs84": (alt_lng, alt_lat)}
    elif t.crs in ("wgs84", "cgcs2000"):
        alternatives = {c: coords.to_wgs84(lng, lat, c) for c in ("gcj02", "bd09")}
    else:
        return None
    best = None
    for crs, (x, y) in alternatives.items():
        alt = _fit(x, y, units, typed)
        gained, lost = int((alt > inside).sum()), int((alt < inside).sum())
        if gained >= _SHIFT_MIN_GAIN and gained >= 3 * max(lost, 1) and (
                best is None or gained - lost > best[1] - best[2]):
            best = (crs, gained, lost)
    if best is not None:
        crs, gained, lost = best
        return (
            f"{t.path}: read as {crs}, {gained} points fit the boundaries better "
            f"(and {lost} worse): the coordinates look like {crs.upper()}, not "
            f"{t.crs.upper()} as declared. If they were copied from "
            f"{'Amap/高德' if crs == 'gcj02' else 'Baidu/百度' if crs == 'bd09' else 'GPS'}, "
            f'set crs = "{crs}" in [inputs.{name}].'
        )
    return None


def warnings_for(module: ModuleType, tables: Mapping[str, io.Table]) -> list[str]:
    """Warnings about inputs that were read but look wrong (not errors: the run goes on)."""
    out: list[str] = unknown_vocab(module, tables)
    units = _boundaries(tables)
    specs = {s.name: s for s in module.INPUTS}
    for name, t in tables.items():
        out.extend(t.warnings)
        f = t.frame
        if not isinstance(f, pd.DataFrame):  # e.g. a land-cover raster
            continue
        if len(f) == 0:
            out.append(f"{t.path}: input '{name}' has no usable rows.")
            continue
        spec = specs.get(name)
        # points and custom inputs with ids (villages): a repeated id is warned about
        if spec is not None and spec.kind != "polygons" and "id" in f and spec.unique_ids:
            dup = f["id"][f["id"].duplicated(keep=False) & f["id"].notna()]
            if len(dup):
                ids = ", ".join(map(str, pd.unique(dup)[:5]))
                out.append(f"{t.path}: {dup.nunique()} ids appear more than once in '{name}' "
                           f"(e.g. {ids}); each row is kept as a separate record.")
        if (units is not None and name not in ("counties", "townships") and {"lon", "lat"} <= set(f)
                and isinstance(f, gpd.GeoDataFrame) and (spec is None or spec.check_extent)):
            located = np.isfinite(f["lon"].to_numpy(float)) & np.isfinite(f["lat"].to_numpy(float))
            inside = (admin.locate(f["lon"].to_numpy(), f["lat"].to_numpy(), units) >= 0) | ~located
            n_out = int((~inside).sum())
            if n_out:
                rows = ", ".join(map(str, f.loc[~inside, "row"].head(8)))
                out.append(f"{t.path}: {n_out} of {len(f)} points of '{name}' fall outside every "
                           f"boundary polygon (rows {rows}{' …' if n_out > 8 else ''}).")
            shift = _shift_warning(name, t, units)
            if shift:
                out.append(shift)
    return out


def report(tables: Mapping[str, io.Table], warnings: list[str],
           config: Mapping[str, Any] | None = None) -> str:
    """Human-readable report of every input, as read (:mod:`analyses.input_report`).

    Files, rows, sheet and header, the CRS as read, columns recognised and not used,
    rejections and extent. `config` (``spatial.config.load``) lets the report list every
    file a glob matched.
    """
    lines: list[str] = []
    inputs = (config or {}).get("inputs", {})
    for name, t in tables.items():
        lines += input_report.describe(name, t, inputs.get(name))
        if len(t.frame) and isinstance(t.frame, gpd.GeoDataFrame):
            x0, y0, x1, y1 = t.frame.total_bounds
            if np.isfinite([x0, y0, x1, y1]).all():
                lines.append(f"  extent lng {x0:.5f} … {x1:.5f}, lat {y0:.5f} … {y1:.5f} (WGS-84)")
    if warnings:
        lines.append("warnings:")
        lines += [f"  - {w}" for w in warnings]
    else:
        lines.append("no warnings.")
    return "\n".join(lines)


def unknown_vocab(module: ModuleType, tables: Mapping[str, io.Table]) -> list[str]:
    """One warning per input column whose words the vocabulary does not know, with row counts.

    The columns are the analysis's ``VOCAB_FIELDS`` ({input: (field, …)}); the config's
    ``[vocab.<field>]`` words count as known (the runner checks inside ``vocab.extended``).
    A blank fuel is reported too (it is never taken as clean); blank kinds and statuses have a
    documented meaning and are not.
    """
    out: list[str] = []
    for name, fields in hook(module, "VOCAB_FIELDS").items():
        t = tables.get(name)
        if t is None or not isinstance(t.frame, pd.DataFrame) or not len(t.frame):
            continue
        for field in fields:
            if field not in t.frame:
                continue
            col = t.frame[field]
            counts = vocab.unknown_values(col, field)
            blank = vocab.words(col).isna().to_numpy() if field == "fuel" else np.zeros(0, bool)
            n_blank = int(blank.sum())
            if not len(counts) and not n_blank:
                continue
            items = [f"'{w}' × {n}" for w, n in counts.head(12).items()]
            if len(counts) > 12:
                items.append(f"… {len(counts) - 12} more")
            if n_blank:
                rows = ", ".join(map(str, t.frame["row"][blank].head(8))) if "row" in t.frame \
                    else ""
                items.append(f"(blank) × {n_blank}" + (f" (rows {rows}"
                                                        f"{' …' if n_blank > 8 else ''})"
                                                        if rows else ""))
            header = t.columns.get(field, field) if t.columns else field
            effect = {"fuel": "these rows get fuel group 'unknown' (listed for review, never "
                              "treated as clean)",
                      "method": "these villages are judged by their household counts only"}.get(
                field, "`run` puts these rows in the rejected table")
            fix = (f'Map them in the config: [vocab.{field}] "{counts.index[0]}" = "<code>", '
                   f"with a code of {', '.join(vocab.VOCABS[field])}" if len(counts)
                   else f"Fill in the {field} in the inventory")
            out.append(f"{t.path}: column {header} ({name}.{field}) has values the {field} "
                       f"vocabulary does not know: {', '.join(items)}; {effect}. {fix}.")
    return out
