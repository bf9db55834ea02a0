"""pollution-hotspots' output layers ``cells`` and ``hotspots``, ``by_county`` and the summary.

All are built from the run's cell × period arrays.

Moved out of :mod:`analyses.pollution_hotspots`; what each column means is in that module's
docstring and ``FIELDS``.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from spatial import h3grid, stats
from spatial.engine import LocalEngine

from .hotspot_stations import UNITS


def cells_layer(cells, labels, values, n_obs, gz, gp, cls, exceed, status, loc, params
                 ) -> gpd.GeoDataFrame:
    n_c, n_t = values.shape
    polys = h3grid.cells_to_polygons(cells)
    strs = h3grid.cells_to_str(cells)
    of_cell = np.repeat(np.arange(n_c), n_t)  # row -> cell (cell-major)
    df = pd.DataFrame({
        "h3_cell": _taken(strs, of_cell),
        "period": _taken(np.array(labels, dtype=object), np.tile(np.arange(n_t), n_c)),
        "value": np.round(values.ravel(), 3),
        "n_obs": n_obs.ravel().astype(np.int64),
        "gi_z": gz.ravel(), "gi_p": gp.ravel(),
        "fdr_class": cls.ravel().astype(np.int64),
        "exceed_ratio": np.round(exceed.ravel(), 4),
        "exceed": (exceed.ravel() >= params.exceed_threshold),
        "status": status.ravel(),
    })
    for c in ("county_code", "county_name"):
        df[c] = _taken(loc[c].to_numpy(dtype=object), of_cell)
    return gpd.GeoDataFrame(df, geometry=np.repeat(polys, n_t), crs="EPSG:4326")


def _taken(base: np.ndarray, idx: np.ndarray):
    """``base[idx]`` as the column pandas makes of it (object array ``base``).

    Texts (missing values allowed) become pandas' ``str`` column through Arrow's ``take``
    from the few distinct rows, instead of pandas converting 11 M Python strings of a
    province-year one by one (~1 s per column); anything else is ``base[idx]`` as it was.
    """
    dtype = pd.Series(base).dtype  # what pandas infers (str for texts), from the few rows
    if isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow":
        import pyarrow as pa

        return pd.array(pa.array(base, type=pa.large_string(), from_pandas=True)
                        .take(pa.array(idx)), dtype=dtype)
    return base[idx]


def hotspots_layer(cells, values, gz, cls, loc, params, labels, *, engine=None):
    """One row per cell: emerging category and trend (on `engine`'s workers if given)."""
    n_c, n_t = values.shape
    present = np.isfinite(gz)
    if n_t >= 2 and n_c:
        mk, cat = (engine or LocalEngine()).emerging_hotspots(gz, cls, alpha=params.alpha)
        cat = cat.astype(object)
        tz_, tp = mk.z, mk.p
    else:
        cat = np.full(n_c, "no pattern detected", dtype=object)
        tz_, tp = np.full(n_c, np.nan), np.full(n_c, np.nan)
    cat = np.where(present.any(axis=1), cat, None)
    trend = np.where(tp <= params.alpha, np.where(tz_ > 0, "up", "down"), "none")
    n_per = present.sum(axis=1)
    n_hot = ((cls == 1) & present).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(n_per > 0, n_hot / np.maximum(n_per, 1), np.nan)
        mean = nanmean(values, axis=1)
    df = pd.DataFrame({
        "category": cat,
        "category_zh": [stats.CATEGORY_LABELS_ZH.get(c) if c else None for c in cat],
        "trend_z": np.round(tz_, 4), "trend_p": np.round(tp, 6), "trend": trend,
        "share_hot": np.round(share, 4), "n_hot": n_hot, "n_periods": n_per,
        "mean_value": np.round(mean, 3),
        "last_value": np.round(values[:, -1], 3) if n_t else np.nan,
    })
    for c in ("county_code", "county_name", "township_code", "township_name"):
        df[c] = loc[c].to_numpy(dtype=object)
    return h3grid.cells_to_gdf(cells, df), cat


HOT_PATTERNS = ("new hot spot", "consecutive hot spot", "intensifying hot spot",
                "persistent hot spot", "diminishing hot spot")


def by_county(loc, values, cls, exceed, cat, labels, params) -> pd.DataFrame:
    cols = ["rank", "county_code", "county_name", "n_cells", "mean_value", "last_period",
            "last_value", "n_hot_last", "n_exceed_last", "n_hot_patterns", "n_persistent"]
    if not len(loc) or not labels:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
    has = np.isfinite(values)
    with np.errstate(invalid="ignore"):
        cell_mean = np.where(has.any(axis=1), np.nansum(np.where(has, values, 0), axis=1)
                             / np.maximum(has.sum(axis=1), 1), np.nan)
    f = pd.DataFrame({
        "county_code": loc["county_code"].fillna("").to_numpy(object),
        "county_name": loc["county_name"].fillna("(县区不明)").to_numpy(object),
        "cell_mean": cell_mean, "last": values[:, -1],
        "hot_last": (cls[:, -1] == 1).astype(np.int64),
        "exceed_last": (exceed[:, -1] >= params.exceed_threshold).astype(np.int64),
        "hot_pat": np.isin(cat.astype(str), HOT_PATTERNS).astype(np.int64),
        "persistent": np.isin(cat.astype(str), ("persistent hot spot",
                                                 "intensifying hot spot")).astype(np.int64),
    })
    g = f.groupby(["county_code", "county_name"], as_index=False).agg(
        n_cells=("cell_mean", "size"), mean_value=("cell_mean", "mean"),
        last_value=("last", "mean"), n_hot_last=("hot_last", "sum"),
        n_exceed_last=("exceed_last", "sum"), n_hot_patterns=("hot_pat", "sum"),
        n_persistent=("persistent", "sum"))
    g["mean_value"] = g["mean_value"].round(3)
    g["last_value"] = g["last_value"].round(3)
    g["last_period"] = labels[-1]
    g = g.sort_values(["mean_value", "county_code"], ascending=[False, True],
                      na_position="last", kind="stable").reset_index(drop=True)
    g.insert(0, "rank", np.arange(1, len(g) + 1))
    return g[cols]


def summary(labels, values, cls, exceed, cat, lists, stations_layer, params) -> list[str]:
    out = []
    unit = UNITS[params.pollutant]
    if not labels:
        return ["No period has data."]
    out.append(f"{len(labels)} periods ({labels[0]} to {labels[-1]}), {values.shape[0]} cells.")
    last = values[:, -1]
    ok = np.isfinite(last)
    if ok.any():
        out.append(
            f"{labels[-1]}: mean {np.nanmean(last):.1f} {unit}; {int((cls[:, -1] == 1).sum())} "
            f"Gi* hot-spot cells and {int((cls[:, -1] == -1).sum())} cold (FDR "
            f"{params.alpha:g}); {int((exceed[:, -1] >= params.exceed_threshold).sum())} cells "
            f">= {params.exceed_threshold:+.0%} above their "
            f"{'city' if params.exceed_by == 'city' else 'county'} mean.")
    if values.shape[1] >= 2:
        c = pd.Series(cat).value_counts()
        hot = {k: int(c.get(k, 0)) for k in HOT_PATTERNS if c.get(k, 0)}
        out.append("Emerging hot spots: " + (", ".join(f"{v} {k}" for k, v in hot.items())
                                             or "none") + ".")
    else:
        out.append("Only one period: no emerging-hot-spot categories or trends.")
    if lists["worst_yoy"].empty:
        out.append("worst_yoy is empty: year-on-year needs the same period of the previous year "
                   "in the data.")
    if len(stations_layer):
        bad = stations_layer["status"].value_counts()
        out.append(f"{len(stations_layer)} stations: " + ", ".join(
            f"{int(v)} {k}" for k, v in bad.items()) + ".")
        d = (stations_layer["mean_value"] - stations_layer["cell_value"]).dropna()
        if len(d) and params.source != "stations":
            out.append(f"Stations minus their cell's value (same periods): mean {d.mean():+.1f} "
                       f"{unit} over {len(d)} stations.")
    return out


def nanmean(a: np.ndarray, *, axis: int) -> np.ndarray:
    """Mean over `axis` ignoring NaN; NaN (no warning) where nothing is finite."""
    ok = np.isfinite(a)
    n = ok.sum(axis=axis)
    total = np.where(ok, a, 0.0).sum(axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, total / np.maximum(n, 1), np.nan)
