"""Air-quality statistics as the national standards define them.

GB 3095-2012, HJ 663-2013, HJ 633-2012 and the 2014 city ranking rules.

From hourly concentrations of one monitoring unit (a station, or the hourly mean of the stations
of a township, county or city) to:

- **daily values** (:func:`daily_values`): the 24-hour mean of SO₂, NO₂, PM10, PM2.5, CO from
  at least 20 hourly values of the natural day (Beijing time), and O₃'s daily maximum 8-hour
  moving average (MDA8) from at least 14 valid 8-hour averages, each of them from at least 6
  hourly values (GB 3095-2012 Table 4 / HJ 663-2013 data validity);
- **period statistics** (:func:`period_stats`) for a day, month, quarter, the autumn–winter
  season (October–March) or a year: the mean of daily values (SO₂, NO₂, PM10, PM2.5), the 95th
  percentile of daily CO and the 90th percentile of O₃ MDA8 (HJ 663-2013 5.x, percentile by
  its own formula, :func:`hj663_percentile`), valid only with enough daily values (month ≥ 27,
  February ≥ 25, year ≥ 324); invalid periods carry the reason and no value;
- the **composite index** (综合指数, :func:`composite_index`, the 2014 city ranking rules) and
  the **daily AQI** (:func:`iaqi`, :func:`daily_aqi`, HJ 633-2012 Table 1 breakpoints) with the
  primary pollutant, quality level, good days (AQI ≤ 100) and heavily polluted days (AQI > 200);
- **rounding** by GB/T 8170 (round half to even, :func:`round_gbt8170`): concentrations to
  integers (µg/m³), CO to one decimal (mg/m³), the composite index to two decimals.

Hours: a reading's local (Asia/Shanghai) time labels the hour it starts, so the natural day
holds the hours labelled 00:00 … 23:00. The 8-hour moving average labelled h is the mean of the
hours h-7 … h; a day's MDA8 is the largest of the 17 averages labelled 07:00 … 23:00 (the
averages of 8:00 to 24:00 of HJ 663's definition), so every window lies inside the day.

All frames are long: one row per unit, time (or day) and pollutant. Everything is vectorized
(pandas groupby and a day × 24-hour array), no Python loops over readings.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .errors import InputError

# the periods (labels, lengths, 同比 labels) have one definition: spatial.periods
from .periods import PERIODS as PERIODS
from .periods import period_keys as period_keys
from .periods import period_length_days as period_length_days
from .periods import previous_year_label as previous_year_label

TZ = "Asia/Shanghai"
POLLUTANTS = ("so2", "no2", "pm10", "pm25", "co", "o3")
LABELS = {"so2": "SO₂", "no2": "NO₂", "pm10": "PM10", "pm25": "PM2.5", "co": "CO", "o3": "O₃"}

# --- validity (GB 3095-2012 Table 4 "污染物浓度数据有效性的最低要求"; HJ 663-2013 data rules)
#: a 24-h mean needs at least this many hourly values of the natural day (GB 3095-2012 Table 4)
DAILY_MIN_HOURS = 20
#: an O₃ 8-h moving average needs at least this many hourly values in its 8 hours (GB 3095 Table 4)
O3_8H_MIN_HOURS = 6
#: a day's O₃ MDA8 needs at least this many valid 8-h averages (HJ 663-2013, 8:00–24:00)
MDA8_MIN_WINDOWS = 14
#: first and last label hour of the 8-h averages that make a day's MDA8 (17 windows)
MDA8_FIRST_HOUR, MDA8_LAST_HOUR = 7, 23
#: a month needs 27 daily values (February 25), a year 324 (GB 3095-2012 Table 4)
MONTH_MIN_DAYS, FEBRUARY_MIN_DAYS, YEAR_MIN_DAYS = 27, 25, 324

# --- period statistics (HJ 663-2013: CO 24-h 95th percentile, O₃ MDA8 90th percentile)
PERCENTILES = {"co": 95.0, "o3": 90.0}

# --- composite index: annual secondary limits of GB 3095-2012 Table 1 (CO 24-h, O₃ 8-h), as
# used by the 2014 city ranking rules (城市环境空气质量排名技术规定): I = Σ Cᵢ/Sᵢ
INDEX_LIMITS = {"so2": 60.0, "no2": 40.0, "pm10": 70.0, "pm25": 35.0, "co": 4.0, "o3": 160.0}

# --- reporting precision (HJ 663-2013: µg/m³ as integers, CO mg/m³ one decimal; index 2)
DECIMALS = {"so2": 0, "no2": 0, "pm10": 0, "pm25": 0, "co": 1, "o3": 0}
INDEX_DECIMALS = 2

# --- HJ 633-2012 Table 1: IAQI breakpoints (24-h means; O₃ 1-h and 8-h)
IAQI_STEPS = np.array([0, 50, 100, 150, 200, 300, 400, 500], dtype=np.float64)
BREAKPOINTS = {
    "so2": (0, 50, 150, 475, 800, 1600, 2100, 2620),
    "no2": (0, 40, 80, 180, 280, 565, 750, 940),
    "pm10": (0, 50, 150, 250, 350, 420, 500, 600),
    "co": (0, 2, 4, 14, 24, 36, 48, 60),
    "pm25": (0, 35, 75, 115, 150, 250, 350, 500),
    "o3_1h": (0, 160, 200, 300, 400, 800, 1000, 1200),
    "o3_8h": (0, 100, 160, 215, 265, 800),  # above 800 the 1-h IAQI is reported (note 3)
}
#: HJ 633-2012 Table 2: AQI classes (upper bound, level, category)
AQI_LEVELS = ((50, "一级", "优"), (100, "二级", "良"), (150, "三级", "轻度污染"),
              (200, "四级", "中度污染"), (300, "五级", "重度污染"), (np.inf, "六级", "严重污染"))
GOOD_MAX_AQI = 100   # 优良天: AQI ≤ 100 (HJ 633-2012 levels 1 and 2)
HEAVY_MIN_AQI = 200  # 重度及以上污染天: AQI > 200 (levels 5 and 6)


# ----------------------------------------------------------------------------- rounding


def round_gbt8170(values: np.ndarray | float, decimals: int = 0) -> np.ndarray:
    """Round to `decimals` places by GB/T 8170-2008 (四舍六入五成双: half to even).

    Binary floating point stores 2.5 exactly but 0.125 or 2.675 not; a value within 1e-9
    (relative to the scaled value) of a half is treated as the decimal half it stands for.

    Examples
    --------
    >>> round_gbt8170([0.5, 1.5, 2.5, 2.51, -2.5], 0).tolist()
    [0.0, 2.0, 2.0, 3.0, -2.0]
    >>> round_gbt8170([1.25, 1.35, 1.251], 1).tolist()
    [1.2, 1.4, 1.3]
    """
    x = np.asarray(values, dtype=np.float64) * 10.0 ** decimals
    lo = np.floor(x)
    frac = x - lo
    half = np.abs(frac - 0.5) <= 1e-9 * np.maximum(1.0, np.abs(x))
    up = np.where(half, (lo % 2) == 1, frac > 0.5)
    return (lo + up) / 10.0 ** decimals


def round_concentrations(frame: pd.DataFrame) -> pd.DataFrame:
    """Copy of a wide frame with pollutant columns rounded by GB/T 8170 (CO 1 place)."""
    out = frame.copy()
    for p in POLLUTANTS:
        if p in out:
            out[p] = round_gbt8170(out[p].to_numpy(np.float64), DECIMALS[p])
    return out


# ----------------------------------------------------------------------------- percentiles


def hj663_percentile(values: np.ndarray, p: float) -> float:
    """The p-th percentile of HJ 663-2013: k = 1 + (n-1)·p/100, linear between order statistics.

    With X(1) ≤ … ≤ X(n) the sorted values, s the integer part of k:
    mₚ = X(s) + (X(s+1) - X(s))·(k - s). NaN for no values.
    """
    x = np.sort(np.asarray(values, dtype=np.float64)[np.isfinite(values)])
    if not len(x):
        return float("nan")
    k = 1 + (len(x) - 1) * p / 100.0
    s = int(np.floor(k))
    if s >= len(x):
        return float(x[-1])
    return float(x[s - 1] + (x[s] - x[s - 1]) * (k - s))


def group_percentile(keys: pd.DataFrame, values: np.ndarray, p: float) -> pd.Series:
    """HJ 663 percentile of `values` within each group of `keys` (vectorized).

    Parameters
    ----------
    keys
        One row per value; the group key columns.
    values
        Finite values aligned with `keys`.
    p
        Percentile, 0–100.

    Returns
    -------
    pandas.Series
        Indexed by the group keys (a MultiIndex for several columns).
    """
    cols = list(keys.columns)
    f = keys.reset_index(drop=True).assign(_v=np.asarray(values, dtype=np.float64))
    f = f.sort_values(cols + ["_v"], kind="stable").reset_index(drop=True)
    g = f.groupby(cols, sort=False)
    n = g["_v"].transform("size").to_numpy()
    rank = g.cumcount().to_numpy()  # 0-based order statistic
    start = np.arange(len(f)) - rank
    k = 1 + (n - 1) * p / 100.0
    s = np.floor(k).astype(np.int64)  # 1-based
    v = f["_v"].to_numpy()
    lo = v[start + s - 1]
    hi = v[start + np.minimum(s, n - 1)]
    res = lo + (hi - lo) * (k - s)
    first = rank == 0
    out = f.loc[first, cols].assign(value=res[first])
    return out.set_index(cols)["value"]


# ----------------------------------------------------------------------------- daily values


def daily_values(hourly: pd.DataFrame) -> pd.DataFrame:
    """Daily values of each unit and pollutant from hourly concentrations.

    Parameters
    ----------
    hourly
        Long frame: ``unit`` (any hashable key), ``time`` (tz-aware, or naive local time),
        ``pollutant`` (so2, no2, pm10, pm25, co, o3), ``value`` (µg/m³; CO mg/m³). Only
        valid readings: several readings of one unit and hour are averaged.

    Returns
    -------
    pandas.DataFrame
        One row per unit, day and pollutant (``date`` a naive midnight Timestamp, local day):
        ``value`` (24-h mean, or O₃ MDA8; NaN when invalid), ``n`` (hourly values, or for O₃
        valid 8-h averages), ``valid``, ``reason`` (empty when valid) and, for O₃ only,
        ``o3_1h_max`` (the day's highest hourly value, for the IAQI above 800 µg/m³);
        ``at_least``: the value itself, or for an invalid day the lowest its full value can be
        whatever the missing hours were (the hours present / 24; O₃: the largest sum of the
        hours present in one 8-h window / 8), for HJ 663's exceedance allowance
        (:mod:`spatial.airexceed`).
    """
    cols = ["unit", "date", "pollutant", "value", "n", "valid", "reason", "o3_1h_max",
            "at_least"]
    v = hourly["value"].to_numpy(np.float64)
    h = hourly[np.isfinite(v)]
    if h.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
    pol = pd.Index(POLLUTANTS).get_indexer(h["pollutant"])
    if (pol < 0).any():
        unknown = sorted(set(h["pollutant"][pol < 0].astype(str)))
        raise InputError(f"hourly readings: unknown pollutant(s) {', '.join(unknown)}; "
                         f"use {', '.join(POLLUTANTS)}.")
    t = pd.to_datetime(h["time"])
    if getattr(t.dt, "tz", None) is not None:
        t = t.dt.tz_convert(TZ).dt.tz_localize(None)
    ns = t.to_numpy("datetime64[h]").astype(np.int64)  # hours since 1970, local
    day, hour = np.divmod(ns, 24)
    ucode, uniq = pd.factorize(h["unit"], sort=True)
    # one row per unit, day and pollutant; 24 hour columns (NaN where no value)
    d0 = day.min()
    n_days = int(day.max() - d0 + 1)
    key = (ucode.astype(np.int64) * n_days + (day - d0)) * len(POLLUTANTS) + pol
    rows, row_id = np.unique(key, return_inverse=True)
    flat = row_id * 24 + hour
    size = len(rows) * 24
    sums = np.bincount(flat, weights=h["value"].to_numpy(np.float64), minlength=size)
    cnts = np.bincount(flat, minlength=size)
    with np.errstate(invalid="ignore", divide="ignore"):
        a = np.where(cnts > 0, sums / np.maximum(cnts, 1), np.nan).reshape(len(rows), 24)
    rest, p_idx = np.divmod(rows, len(POLLUTANTS))
    u_idx, d_idx = np.divmod(rest, n_days)
    idx = pd.DataFrame({"unit": np.asarray(uniq, dtype=object)[u_idx],
                        "date": ((d_idx + d0) * 86400 * 10**9).astype("datetime64[ns]"),
                        "pollutant": np.array(POLLUTANTS, dtype=object)[p_idx]})
    have = np.isfinite(a)
    n_hours = have.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean24 = np.where(n_hours > 0, np.where(have, a, 0.0).sum(axis=1)
                          / np.maximum(n_hours, 1), np.nan)
    # GB 3095-2012 Table 4: 24-h mean needs >= 20 hourly values
    ok24 = n_hours >= DAILY_MIN_HOURS
    value = np.where(ok24, mean24, np.nan)
    n = n_hours.astype(np.int64)
    # missing hours are >= 0: the mean over 24 hours is at least (sum of those present) / 24
    at_least = np.where(ok24, mean24, np.where(have, a, 0.0).sum(axis=1) / 24.0)
    reason = np.where(ok24, "", np.char.add(n_hours.astype(str),
                                            f" hourly values < {DAILY_MIN_HOURS}"))
    o3 = (idx["pollutant"] == "o3").to_numpy()
    o3max = np.full(len(a), np.nan)
    if o3.any():
        m8, n8, hi1 = mda8(a[o3])
        ok8 = n8 >= MDA8_MIN_WINDOWS
        value[o3] = np.where(ok8, m8, np.nan)
        n[o3] = n8
        reason = reason.astype(object)
        reason[o3] = np.where(ok8, "", np.char.add(n8.astype(str),
                                                   f" valid 8-h averages < {MDA8_MIN_WINDOWS}"))
        o3max[o3] = hi1
        # MDA8 >= every 8-h average >= (sum of the hours present in that window) / 8
        x = np.where(np.isfinite(a[o3]), a[o3], 0.0)
        cs = np.concatenate([np.zeros((len(x), 1)), np.cumsum(x, axis=1)], axis=1)
        ends = np.arange(MDA8_FIRST_HOUR, MDA8_LAST_HOUR + 1) + 1
        at_least[o3] = np.where(ok8, m8, (cs[:, ends] - cs[:, ends - 8]).max(axis=1) / 8.0)
    out = idx.assign(value=value, n=n, valid=np.isfinite(value), reason=reason.astype(object),
                     o3_1h_max=o3max, at_least=at_least)
    return out[cols].reset_index(drop=True)


def moving_8h(day_hours: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """8-hour moving averages inside each day: labels 7 … 23 (17 windows).

    Parameters
    ----------
    day_hours
        (n_days, 24) hourly values, NaN where missing.

    Returns
    -------
    means, counts
        (n_days, 17): the mean of the hourly values of hours h-7 … h for h = 7 … 23 (NaN when
        fewer than :data:`O3_8H_MIN_HOURS` of the 8 are present), and how many were present.
    """
    have = np.isfinite(day_hours)
    csum = np.concatenate([np.zeros((len(day_hours), 1)),
                           np.cumsum(np.where(have, day_hours, 0.0), axis=1)], axis=1)
    ccnt = np.concatenate([np.zeros((len(day_hours), 1), dtype=np.int64),
                           np.cumsum(have, axis=1)], axis=1)
    ends = np.arange(MDA8_FIRST_HOUR, MDA8_LAST_HOUR + 1) + 1  # exclusive end index
    s = csum[:, ends] - csum[:, ends - 8]
    c = ccnt[:, ends] - ccnt[:, ends - 8]
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.where(c >= O3_8H_MIN_HOURS, s / np.maximum(c, 1), np.nan)
    return means, c


def mda8(day_hours: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Daily maximum 8-h average of O₃ per row of (n_days, 24) hourly values.

    Returns
    -------
    mda8, n_valid, max_1h
        The largest valid 8-h average (NaN if none), the number of valid 8-h averages (the
        caller applies :data:`MDA8_MIN_WINDOWS`) and the day's highest hourly value.
    """
    means, _ = moving_8h(day_hours)
    valid = np.isfinite(means)
    n_valid = valid.sum(axis=1).astype(np.int64)
    m = np.where(n_valid > 0, np.max(np.where(valid, means, -np.inf), axis=1), np.nan)
    have = np.isfinite(day_hours)
    hi = np.where(have.any(axis=1), np.max(np.where(have, day_hours, -np.inf), axis=1), np.nan)
    return m, n_valid, hi


# ----------------------------------------------------------------------------- periods


def min_days(start: pd.Series, period: str) -> np.ndarray:
    """Daily values a period needs (GB 3095-2012 Table 4; scaled for quarter and season).

    day 1; month 27 (February 25); year 324. GB 3095 sets no rule for a quarter or the
    autumn–winter season: lantian asks for the year's share, ceil(days × 324 / 365).
    """
    s = pd.to_datetime(start)
    if period == "day":
        return np.ones(len(s), dtype=np.int64)
    if period == "month":
        return np.where(s.dt.month == 2, FEBRUARY_MIN_DAYS, MONTH_MIN_DAYS).astype(np.int64)
    if period == "year":
        return np.full(len(s), YEAR_MIN_DAYS, dtype=np.int64)
    return np.ceil(period_length_days(s, period) * YEAR_MIN_DAYS / 365 - 1e-9).astype(np.int64)


def unit_hourly(hourly: pd.DataFrame, members: pd.DataFrame) -> pd.DataFrame:
    """Hourly values of units as the mean of their stations' valid values (HJ 663-2013).

    Parameters
    ----------
    hourly
        ``station_id``, ``time``, ``pollutant``, ``value`` (valid readings only).
    members
        ``station_id``, ``unit``: which stations make each unit (a station may be in several
        units: itself, its township, county and city).

    Returns
    -------
    pandas.DataFrame
        ``unit``, ``time``, ``pollutant``, ``value``: per hour, the mean over the unit's
        stations that have a value that hour.
    """
    sid = pd.Index(pd.unique(hourly["station_id"]))
    s_code = sid.get_indexer(hourly["station_id"])
    pol = pd.Index(POLLUTANTS).get_indexer(hourly["pollutant"])
    if (pol < 0).any():
        raise InputError("hourly readings: unknown pollutant(s) "
                         f"{', '.join(sorted(set(hourly['pollutant'][pol < 0].astype(str))))}.")
    t = pd.to_datetime(hourly["time"])
    if getattr(t.dt, "tz", None) is not None:
        t = t.dt.tz_convert(TZ).dt.tz_localize(None)
    v = hourly["value"].to_numpy(np.float64)
    ok = np.isfinite(v)
    t_code, t_uni = pd.factorize(t.to_numpy("datetime64[ns]")[ok])
    n_t, n_p = max(len(t_uni), 1), len(POLLUTANTS)
    # station-hour means (several readings of one station and hour are averaged first)
    k = (s_code[ok].astype(np.int64) * n_t + t_code) * n_p + pol[ok]
    sk, inv = np.unique(k, return_inverse=True)
    sv = np.bincount(inv, weights=v[ok]) / np.bincount(inv)
    rest, p_k = np.divmod(sk, n_p)
    s_k, t_k = np.divmod(rest, n_t)
    # every station-hour value goes to each unit the station is a member of
    m_s = sid.get_indexer(members["station_id"])
    u_code, units = pd.factorize(members["unit"].to_numpy(dtype=object))
    keep = m_s >= 0
    m_s, u_code = m_s[keep], u_code[keep]
    order = np.argsort(m_s, kind="stable")
    m_s, u_code = m_s[order], u_code[order]
    per_s = np.bincount(m_s, minlength=len(sid))
    first = np.concatenate([[0], np.cumsum(per_s)[:-1]])
    rep = per_s[s_k]
    row = np.repeat(np.arange(len(sk)), rep)
    pos = np.arange(len(row)) - np.repeat(np.cumsum(rep) - rep, rep)
    u_row = u_code[first[s_k[row]] + pos]
    uk = (u_row.astype(np.int64) * n_t + t_k[row]) * n_p + p_k[row]
    uu, uinv = np.unique(uk, return_inverse=True)
    uv = np.bincount(uinv, weights=sv[row]) / np.bincount(uinv)
    rest, p_u = np.divmod(uu, n_p)
    u_u, t_u = np.divmod(rest, n_t)
    return pd.DataFrame({"unit": np.asarray(units, dtype=object)[u_u],
                         "time": np.asarray(t_uni)[t_u],
                         "pollutant": np.array(POLLUTANTS, dtype=object)[p_u],
                         "value": uv})


def period_stats(daily: pd.DataFrame, period: str, *,
                 dust: pd.DataFrame | None = None) -> pd.DataFrame:
    """Period statistics of each unit and pollutant from :func:`daily_values`.

    SO₂, NO₂, PM10, PM2.5: mean of the daily values; CO: 95th and O₃: 90th percentile of
    the daily values (MDA8) by :func:`hj663_percentile`. A period is valid when it has at
    least :func:`min_days` valid daily values; otherwise its value is NaN and ``reason`` says
    why. Values are not rounded here (see :func:`round_gbt8170`).

    Parameters
    ----------
    daily
        Output of :func:`daily_values` (``unit``, ``date``, ``pollutant``, ``value``, ``valid``).
    period
        day, month, quarter, season (October–March) or year.
    dust
        Optional ``unit``, ``date`` rows: dust days removed from PM10 and PM2.5 only (the
        national monthly report's 扣沙 practice). Validity is judged on the valid days before
        the deduction; the mean is over the remaining days.

    Returns
    -------
    pandas.DataFrame
        One row per unit, period and pollutant: ``period`` label, ``period_start``,
        ``value``, ``n_days`` (valid daily values), ``n_required``, ``n_dust`` (dust days
        deducted), ``valid``, ``reason``.
    """
    cols = ["unit", "period", "period_start", "pollutant", "value", "n_days", "n_required",
            "n_dust", "valid", "reason"]
    d = daily[daily["valid"].astype(bool)].copy()
    if d.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
    label, start = period_keys(d["date"], period)
    d["period"] = label.to_numpy()
    d["period_start"] = start.to_numpy()
    d = d[d["period"].notna()]
    d["dust"] = False
    if dust is not None and len(dust):
        key = pd.MultiIndex.from_arrays([dust["unit"], pd.to_datetime(dust["date"])])
        hit = pd.MultiIndex.from_arrays([d["unit"], d["date"]]).isin(key)
        d["dust"] = hit & d["pollutant"].isin(["pm10", "pm25"]).to_numpy()
    keys = ["unit", "period", "period_start", "pollutant"]
    g = d.groupby(keys, sort=True)
    out = g.agg(n_days=("value", "size"), n_dust=("dust", "sum")).reset_index()
    kept = d[~d["dust"]]
    mean = kept.groupby(keys)["value"].mean()
    out["value"] = mean.reindex(pd.MultiIndex.from_frame(out[keys])).to_numpy()
    for p, q in PERCENTILES.items():
        sub = kept[kept["pollutant"] == p]
        if len(sub):
            pct = group_percentile(sub[keys], sub["value"].to_numpy(), q)
            rows = (out["pollutant"] == p).to_numpy()
            out.loc[rows, "value"] = pct.reindex(
                pd.MultiIndex.from_frame(out.loc[rows, keys])).to_numpy()
    out["n_required"] = min_days(out["period_start"], period)
    enough = out["n_days"] >= out["n_required"]
    all_dust = enough & (out["n_dust"] >= out["n_days"])
    out["valid"] = enough & ~all_dust
    out["reason"] = np.where(enough, "", out["n_days"].astype(str) + " valid days < "
                             + out["n_required"].astype(str)).astype(object)
    out.loc[all_dust, "reason"] = "every valid day is a deducted dust day"
    out.loc[~out["valid"], "value"] = np.nan
    out["n_dust"] = out["n_dust"].astype(np.int64)
    return out[cols]


# ----------------------------------------------------------------------------- indices


def composite_index(values: pd.DataFrame) -> pd.DataFrame:
    """Composite index Σ Cᵢ/Sᵢ and primary pollutant of rows of six period values.

    Parameters
    ----------
    values
        Wide frame with columns so2, no2, pm10, pm25 (µg/m³), co (mg/m³, the 95th percentile),
        o3 (µg/m³, the MDA8 90th percentile), already rounded as reported.

    Returns
    -------
    pandas.DataFrame
        ``i_<pollutant>`` single indices, ``composite_index`` (rounded to 2 places, NaN unless
        all six are present) and ``primary_pollutant`` (largest single index; ties joined by
        ``,``).
    """
    out = pd.DataFrame(index=values.index)
    ii = np.column_stack([values[p].to_numpy(np.float64) / INDEX_LIMITS[p] for p in POLLUTANTS])
    for j, p in enumerate(POLLUTANTS):
        out[f"i_{p}"] = np.round(ii[:, j], 4)
    full = np.isfinite(ii).all(axis=1)
    total = np.where(full, ii.sum(axis=1), np.nan)
    out["composite_index"] = round_gbt8170(total, INDEX_DECIMALS)
    out["primary_pollutant"] = _argmax_names(ii, full)
    return out


def _argmax_names(scores: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """Names (POLLUTANTS order) of the largest score per row, ties joined; None where not ok."""
    safe = np.where(np.isfinite(scores), scores, -np.inf)
    top = safe.max(axis=1, initial=-np.inf)
    is_top = np.isclose(safe, top[:, None], rtol=0, atol=1e-12) & np.isfinite(safe)
    names = np.array([LABELS[p] for p in POLLUTANTS], dtype=object)
    out = np.full(len(scores), None, dtype=object)
    for j in range(len(POLLUTANTS)):  # six columns, not a loop over rows
        add = is_top[:, j] & ok
        out[add] = np.where(pd.isna(out[add]), names[j], out[add].astype(str) + "," + names[j])
    return out


def iaqi(pollutant: str, conc: np.ndarray) -> np.ndarray:
    """Individual AQI of concentrations by HJ 633-2012 (5.1, Table 1), rounded up.

    IAQI = (IAQI_hi - IAQI_lo) / (BP_hi - BP_lo) · (C - BP_lo) + IAQI_lo, computed results
    rounded up to an integer (HJ 633-2012 5.3). `pollutant`: so2, no2, pm10, pm25, co (24-h
    means), o3_8h or o3_1h. Concentrations above the table's last breakpoint get 500 (for
    o3_8h above 800 the value is NaN: report the 1-h IAQI, HJ 633-2012 Table 1 note 3).
    """
    bp = np.asarray(BREAKPOINTS[pollutant], dtype=np.float64)
    steps = IAQI_STEPS[:len(bp)]
    c = np.asarray(conc, dtype=np.float64)
    seg = np.clip(np.searchsorted(bp, c, side="left"), 1, len(bp) - 1)
    lo, hi = bp[seg - 1], bp[seg]
    val = (steps[seg] - steps[seg - 1]) / (hi - lo) * (c - lo) + steps[seg - 1]
    val = np.ceil(np.round(val, 9))
    val = np.where(c > bp[-1], np.nan if pollutant == "o3_8h" else 500.0, val)
    return np.where(np.isfinite(c), val, np.nan)


def daily_aqi(wide: pd.DataFrame) -> pd.DataFrame:
    """Daily AQI per row: IAQI of each pollutant, AQI, primary pollutant, level, good, heavy.

    Parameters
    ----------
    wide
        One row per unit and day with so2, no2, pm10, pm25, co (24-h means) and o3 (MDA8),
        already rounded as reported, and ``o3_1h_max`` (used when MDA8 > 800 µg/m³).

    Returns
    -------
    pandas.DataFrame
        ``iaqi_<pollutant>``, ``aqi`` (NaN unless all six daily values are present),
        ``primary_pollutant`` (largest IAQI when AQI > 50, HJ 633-2012 5.4; ties joined),
        ``level``, ``category``, ``good`` (AQI ≤ 100), ``heavy`` (AQI > 200).
    """
    out = pd.DataFrame(index=wide.index)
    sub = {p: iaqi(p, wide[p].to_numpy()) for p in ("so2", "no2", "pm10", "pm25", "co")}
    o3 = iaqi("o3_8h", wide["o3"].to_numpy())
    above = wide["o3"].to_numpy(np.float64) > 800
    o3_1h = wide["o3_1h_max"].to_numpy(np.float64) if "o3_1h_max" in wide \
        else np.full(len(wide), np.nan)
    sub["o3"] = np.where(above, iaqi("o3_1h", round_gbt8170(o3_1h, 0)), o3)
    m = np.column_stack([sub[p] for p in POLLUTANTS])
    full = np.isfinite(m).all(axis=1)
    for j, p in enumerate(POLLUTANTS):
        out[f"iaqi_{p}"] = m[:, j]
    aqi = np.where(full, np.max(np.where(np.isfinite(m), m, -np.inf), axis=1), np.nan)
    out["aqi"] = aqi
    out["primary_pollutant"] = _argmax_names(m, full & (aqi > 50))
    level = np.full(len(aqi), None, dtype=object)
    cat = np.full(len(aqi), None, dtype=object)
    lo = -np.inf
    for hi, lv, ct in AQI_LEVELS:  # six classes
        sel = full & (aqi > lo) & (aqi <= hi)
        level[sel], cat[sel] = lv, ct
        lo = hi
    out["level"], out["category"] = level, cat
    out["good"] = full & (aqi <= GOOD_MAX_AQI)
    out["heavy"] = full & (aqi > HEAVY_MIN_AQI)
    return out
