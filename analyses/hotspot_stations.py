"""pollution-hotspots' stations: types, validity of readings, values per period, the layer.

The ``stations`` output layer is built here too.

Moved out of :mod:`analyses.pollution_hotspots` (which re-exports the public names); the rules
are described in that module's docstring (steps 1–2) and the README's rules section.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from spatial import admin, h3grid
from spatial import periods as ptypes
from spatial.io import empty_rejected

#: local time of the readings' natural days (Beijing time, GB 3095-2012 Table 4)
TZ = "Asia/Shanghai"

UNITS = {"pm25": "µg/m³", "pm10": "µg/m³", "no2": "µg/m³", "so2": "µg/m³", "co": "mg/m³",
         "o3": "µg/m³"}
LABELS = {"pm25": "PM2.5", "pm10": "PM10", "no2": "NO₂", "so2": "SO₂", "co": "CO", "o3": "O₃"}

#: Upper limit of a plausible reading (µg/m³; CO mg/m³). Above it, or below 0, a value is a
#: failed sensor or a missing-value code (-99, -999, 9999) and is rejected.
VALID_MAX = {"pm25": 1000.0, "pm10": 3000.0, "no2": 1000.0, "so2": 2000.0, "co": 50.0,
             "o3": 1000.0}
STATION_TYPES = {"national": ("national", "国控", "国控点", "国家", "国家站"),
                 "provincial": ("provincial", "省控", "省控点", "省级"),
                 "city": ("city", "市控", "市控点", "城市站"),
                 "micro": ("micro", "微站", "小微站", "微型站", "传感器", "sensor")}


def station_types(values: pd.Series) -> pd.Series:
    """National / provincial / micro from English or Chinese labels; others kept as given."""
    lut = {a.lower(): k for k, al in STATION_TYPES.items() for a in al}
    return values.map(lambda v: None if v is None or (isinstance(v, float) and np.isnan(v))
                      else lut.get(str(v).strip().lower(), str(v).strip()))


def validate_readings(r: pd.DataFrame, *, pollutant: str, stuck_run: int
                      ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Split readings of one pollutant into valid ones and ``rejected`` rows (see module doc).

    Returns
    -------
    good, rejected, counts
        The valid readings (one per station and time: duplicates averaged), one rejected row
        per station and reason, and per station the number of readings (``size``) and of
        invalid ones (``sum``).
    """
    r = r[r["pollutant"] == pollutant]
    r = r.sort_values(["station_id", "time"], kind="stable").reset_index(drop=True)
    v = r["value"].to_numpy()
    hi = VALID_MAX[pollutant]
    out_range = (v < 0) | (v > hi)
    sid = r["station_id"].to_numpy(dtype=object)
    change = np.ones(len(r), dtype=bool)
    if len(r) > 1:
        change[1:] = (v[1:] != v[:-1]) | (sid[1:] != sid[:-1])
    run_id = np.cumsum(change)
    run_len = np.bincount(run_id)[run_id] if len(r) else np.zeros(0, dtype=np.int64)
    stuck = (run_len >= stuck_run) & ~out_range
    rej = []
    for mask, what in ((out_range, f"outside the valid range [0, {hi:g}] {UNITS[pollutant]} "
                                   "(failed sensor or missing-value code)"),
                       (stuck, f"the same value {stuck_run}+ times in a row (stuck sensor)")):
        if mask.any():
            g = r[mask].groupby("station_id", sort=True)
            agg = g.agg(file=("file", "first"), row=("row", "first"), n=("value", "size"),
                        t0=("time", "min"), t1=("time", "max"), v=("value", "first"))
            for st, a in agg.iterrows():
                rej.append({"input": "readings", "file": a["file"], "row": int(a["row"]),
                            "id": st, "reason": (
                                f"{pollutant} {a['n']} readings {what}, e.g. {a['v']:g}, "
                                f"{a['t0']:%Y-%m-%d %H:%M} to {a['t1']:%Y-%m-%d %H:%M}")})
    good = r[~out_range & ~stuck]
    good = good.groupby(["station_id", "time"], sort=False, as_index=False).agg(
        value=("value", "mean"), lon=("lon", "first"), lat=("lat", "first"))
    r["invalid"] = out_range | stuck
    rejected = pd.DataFrame(rej, columns=empty_rejected().columns) if rej else empty_rejected()
    return good, rejected, r.groupby("station_id")["invalid"].agg(["size", "sum"])


def station_period_values(good: pd.DataFrame, params: Any
                          ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per station and period: mean of valid readings, count, expected count, completeness.

    A station whose every reading is at local midnight is daily (expected: days of the period),
    otherwise hourly (hours of the period).

    Returns
    -------
    table, wide
        ``table`` with station_id, period, value, n, expected, completeness, ok; ``wide`` the ok
        values as a (station x period) frame.
    """
    if good.empty:
        empty = pd.DataFrame(columns=["station_id", "period", "value", "n", "expected",
                                      "completeness", "ok"])
        return empty, pd.DataFrame()
    local = good["time"].dt.tz_convert(TZ).dt.tz_localize(None)
    g = good.assign(period=ptypes.of_dates(local, params.period).to_numpy(),
                    midnight=(local == local.dt.normalize()))
    daily = g.groupby("station_id")["midnight"].all()
    g = g[g["period"].notna()]  # a season leaves out April–September (spatial.periods)
    t = g.groupby(["station_id", "period"], as_index=False).agg(value=("value", "mean"),
                                                               n=("value", "size"))
    days = t["period"].map(lambda p: p.days).to_numpy(np.float64)  # one per station-period
    is_daily = daily.reindex(t["station_id"]).to_numpy()
    t["expected"] = np.where(is_daily, days, days * 24).astype(np.int64)
    t["completeness"] = np.minimum(t["n"] / t["expected"], 1.0)
    t["ok"] = t["completeness"] >= params.completeness - 1e-12
    wide = t[t["ok"]].pivot(index="station_id", columns="period", values="value")
    return t, wide


def stations_frame(stations: pd.DataFrame | None, good: pd.DataFrame, all_readings: pd.DataFrame
                    ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Stations with coordinates: the stations input, else positions in the readings.

    Returns the stations and rejected rows for readings of unknown stations.
    """
    rej = [empty_rejected()]
    if stations is not None and len(stations):
        st = pd.DataFrame({"id": stations["id"].astype(str).to_numpy(),
                           "name": stations["name"].to_numpy(dtype=object),
                           "type": station_types(stations["type"]).to_numpy(dtype=object),
                           "lon": stations["lon"].to_numpy(), "lat": stations["lat"].to_numpy(),
                           # the record in the stations list (the input's own columns follow it)
                           **({"file": stations["file"].to_numpy(dtype=object)}
                              if "file" in stations.columns else {}),
                           **({"row": pd.array(stations["row"], dtype="Int64")}
                              if "row" in stations.columns else {})})
        st = st.drop_duplicates("id").reset_index(drop=True)
    else:
        st = pd.DataFrame(columns=["id", "name", "type", "lon", "lat"])
    if len(all_readings):
        known = set(st["id"])
        pos = all_readings[all_readings["lon"].notna() & all_readings["lat"].notna()]
        pos = pos[~pos["station_id"].isin(known)]
        if len(pos):
            extra = pos.groupby("station_id", as_index=False).agg(lon=("lon", "median"),
                                                                 lat=("lat", "median"))
            extra = extra.rename(columns={"station_id": "id"})
            extra["name"], extra["type"] = None, None
            st = pd.concat([st, extra[["id", "name", "type", "lon", "lat"]]],
                           ignore_index=True)
        unknown = all_readings[~all_readings["station_id"].isin(set(st["id"]))]
        if len(unknown):
            g = unknown.groupby("station_id").agg(file=("file", "first"), row=("row", "first"),
                                                   n=("row", "size"))
            rej.append(pd.DataFrame({
                "input": "readings", "file": g["file"].to_numpy(), "row": g["row"].to_numpy(),
                "id": g.index.to_numpy(dtype=object),
                "reason": [f"{n} readings of a station not in `stations` and without "
                           "coordinates" for n in g["n"]]}))
    return st, pd.concat(rej, ignore_index=True)



def stations_layer(st, sp_table, inv, cells, values, periods, counties, townships, params):
    s = st.copy().reset_index(drop=True)
    n = len(s)
    s["n_readings"] = inv["size"].reindex(s["id"]).fillna(0).to_numpy(np.int64) if n else []
    s["n_invalid"] = inv["sum"].reindex(s["id"]).fillna(0).to_numpy(np.int64) if n else []
    if len(sp_table):
        g = sp_table.groupby("station_id")
        s["n_periods_valid"] = g["ok"].sum().reindex(s["id"]).fillna(0).to_numpy(np.int64)
        s["completeness"] = np.round(g["completeness"].mean().reindex(s["id"]).to_numpy(), 3)
        okt = sp_table[sp_table["ok"]]
        s["mean_value"] = np.round(okt.groupby("station_id")["value"].mean()
                                   .reindex(s["id"]).to_numpy(), 3)
        last = okt.sort_values("period").groupby("station_id").last()
        s["last_value"] = np.round(last["value"].reindex(s["id"]).to_numpy(), 3)
        s["period"] = last["period"].astype(str).reindex(s["id"]).to_numpy(dtype=object)
        # value of the station's cell over the station's valid periods
        cell_val = np.full(n, np.nan)
        if n and len(cells):
            sc = h3grid.points_to_cells(s["lat"].to_numpy(np.float64),
                                        s["lon"].to_numpy(np.float64),
                                        resolution=params.h3_resolution)
            pos = h3grid.lookup(cells, sc)
            pidx = {p: j for j, p in enumerate(periods)}
            okt = okt.assign(j=okt["period"].map(pidx))
            okt = okt[okt["j"].notna()]
            sid_pos = pd.Series(np.arange(n), index=s["id"])
            si = sid_pos.reindex(okt["station_id"]).to_numpy()
            cp = pos[si]
            has = cp >= 0
            cv = np.full(len(okt), np.nan)
            cv[has] = values[cp[has], okt["j"].to_numpy(np.int64)[has]]
            cell_val = pd.Series(cv).groupby(si).mean().reindex(range(n)).to_numpy()
        s["cell_value"] = np.round(cell_val, 3)
    else:
        for c in ("n_periods_valid", "completeness", "mean_value", "last_value", "cell_value"):
            s[c] = np.nan
        s["period"] = None
    s["status"] = np.select(
        [s["n_readings"] == 0, s["n_invalid"] > s["n_readings"] / 2,
         s["n_periods_valid"].fillna(0) == 0, s["n_invalid"] > 0],
        ["no readings", "failed sensor", "incomplete", "faulty readings"], "ok") if n else []
    lon = s["lon"].to_numpy(np.float64)
    lat = s["lat"].to_numpy(np.float64)
    s = admin.attach(s, lon, lat, counties, level="county")
    s = admin.attach(s, lon, lat, townships, level="township")
    s = s.rename(columns={"period": "last_period"})
    return gpd.GeoDataFrame(s, geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")
