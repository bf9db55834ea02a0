"""No-burn zones per administrative unit: the by_county and by_township tables.

Helpers of :mod:`analyses.no_burn_zones`. Areas are geodesic on the WGS-84 ellipsoid, km²
(:func:`analyses.noburn_geometry.geodesic_area_km2`); households are counts.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from . import noburn_geometry as geo


def unit_keys(frame: pd.DataFrame, level: str) -> pd.DataFrame:
    """``<level>_code``/``<level>_name`` of each row (blank code, "(县区不明)" name if none)."""
    return pd.DataFrame({
        f"{level}_code": frame[f"{level}_code"].fillna("").to_numpy(dtype=object),
        f"{level}_name": frame[f"{level}_name"].fillna(f"({'县区' if level == 'county' else '乡镇'}"
                                                       "不明)").to_numpy(dtype=object)})


def village_counts(v: pd.DataFrame, level: str) -> pd.DataFrame:
    """Villages, converted villages, households (total, converted, in zone, gap) per unit."""
    keys = unit_keys(v, level)
    conv = v["converted"].to_numpy(dtype=bool)
    hh = v["households"].fillna(0).to_numpy(dtype=float)
    gap = v["is_gap"].to_numpy(dtype=bool)
    inz = v["in_zone"].to_numpy(dtype=bool)
    frame = keys.assign(
        n_villages=1, n_converted=conv.astype(np.int64),
        households=hh, converted_households=v["converted_households"].fillna(0).to_numpy(),
        households_in_zone=np.where(inz, hh, 0.0), n_gaps=gap.astype(np.int64),
        gap_households=np.where(gap, hh, 0.0))
    out = frame.groupby(list(keys.columns), as_index=False).sum()
    for c in ("households", "converted_households", "households_in_zone", "gap_households"):
        out[c] = out[c].round().astype(np.int64)
    return out


def by_county(zone, v, changes, violations, cur_union, counties) -> pd.DataFrame:
    """The by_county table: village counts, zone/added/removed/current km², violations."""
    out = village_counts(v, "county")
    key = ["county_code", "county_name"]
    z = unit_keys(zone, "county").assign(zone_km2=zone["area_km2"].to_numpy(dtype=float))
    z = z.groupby(key, as_index=False).sum()
    out = out.merge(z, on=key, how="outer")
    if len(changes):
        add = (changes["change"] == "added").to_numpy()
        hh = changes["households"].to_numpy(dtype=float)
        ch = unit_keys(changes, "county").assign(
            added_km2=np.where(add, changes["area_km2"], 0.0),
            removed_km2=np.where(~add, changes["area_km2"], 0.0),
            added_households=np.where(add, hh, 0.0), removed_households=np.where(~add, hh, 0.0))
        out = out.merge(ch.groupby(key, as_index=False).sum(), on=key, how="outer")
    if cur_union is not None and counties is not None and len(counties):
        cur = shapely.intersection(counties.geometry.to_numpy(), cur_union)
        cc = pd.DataFrame({"county_code": counties["code"].to_numpy(dtype=object),
                           "county_name": counties["name"].to_numpy(dtype=object),
                           "current_km2": geo.geodesic_area_km2(cur)})
        out = out.merge(cc[cc["current_km2"] > 0], on=key, how="outer")
    vk = unit_keys(violations, "county").assign(
        n_violations=violations["in_proposed"].to_numpy(dtype=bool).astype(np.int64),
        n_violations_current=violations["in_current"].to_numpy(dtype=bool).astype(np.int64))
    out = out.merge(vk.groupby(key, as_index=False).sum(), on=key, how="outer")
    num = [c for c in out.columns if c not in key]
    out[num] = out[num].fillna(0)
    for c in num:
        out[c] = out[c].round(4) if c.endswith("km2") else out[c].astype(np.int64)
    return out.sort_values(key, kind="stable").reset_index(drop=True)


def by_township(zone, v, violations, townships) -> pd.DataFrame:
    """The by_township table: village counts, zone km² (NaN without township boundaries)."""
    out = village_counts(v, "township")
    key = ["township_code", "township_name"]
    if townships is not None and len(townships) and len(zone):
        inter = shapely.intersection(townships.geometry.to_numpy()[:, None],
                                     zone.geometry.to_numpy()[None, :])
        area = geo.geodesic_area_km2(inter.ravel()).reshape(inter.shape).sum(axis=1)
        t = pd.DataFrame({"township_code": townships["code"].to_numpy(dtype=object),
                          "township_name": townships["name"].to_numpy(dtype=object),
                          "zone_km2": area})
        out = out.merge(t[t["zone_km2"] > 0], on=key, how="outer")
    else:
        out["zone_km2"] = np.nan  # no township boundaries: zone area cannot be split
    vk = unit_keys(violations, "township").assign(
        n_violations=violations["in_proposed"].to_numpy(dtype=bool).astype(np.int64))
    out = out.merge(vk.groupby(key, as_index=False).sum(), on=key, how="outer")
    for c in out.columns:
        if c not in key and c != "zone_km2":
            out[c] = out[c].fillna(0).astype(np.int64)
    out["zone_km2"] = out["zone_km2"].astype(float).round(4)
    if townships is not None:
        out["zone_km2"] = out["zone_km2"].fillna(0.0)
    return out.sort_values(key, kind="stable").reset_index(drop=True)
