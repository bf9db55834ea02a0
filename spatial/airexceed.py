"""HJ 663-2013's exceedance allowance: an incomplete period that already exceeds the limit.

A period that fails the data-count rules (:func:`spatial.airstats.period_stats`: fewer daily
values than a month, a year … needs; a day with fewer than 20 hourly values) has no value: it
is never averaged from what arrived. HJ 663-2013 (数据统计的有效性规定) still lets such a
period be judged as **exceeding** when the data present already put it above the limit. lantian
applies this conservatively, as a separate flag next to the (empty) value: a period counts as
exceeding only when it exceeds *whatever the missing data were* — the lowest the statistic can
be, with every missing hour and day at 0 (:func:`lower_bounds`), is above the limit.

Limits (GB 3095-2012 Table 1, secondary): a **day** against the 24-h limits (SO₂ 150, NO₂ 80,
PM10 150, PM2.5 75 µg/m³, CO 4 mg/m³; O₃ MDA8 against the 8-h limit 160 µg/m³); a **year**
against the annual limits (SO₂ 60, NO₂ 40, PM10 70, PM2.5 35 µg/m³) and, as HJ 663's annual
assessment does, CO's 95th percentile against 4 mg/m³ and O₃'s 90th percentile against 160
µg/m³. GB 3095 sets no limit for a month, a quarter or a season: no flag there.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import airstats
from .periods import period_keys, period_length_days

#: GB 3095-2012 Table 1, secondary limits: 24-h means (O₃: 8-h) and annual means; CO mg/m³
LIMITS = {
    "day": {"so2": 150.0, "no2": 80.0, "pm10": 150.0, "pm25": 75.0, "co": 4.0, "o3": 160.0},
    "year": {"so2": 60.0, "no2": 40.0, "pm10": 70.0, "pm25": 35.0, "co": 4.0, "o3": 160.0},
}


def lower_bounds(daily: pd.DataFrame, period: str, *,
                 dust: pd.DataFrame | None = None) -> pd.DataFrame:
    """The lowest each period statistic can be, whatever the missing hours and days were.

    Every day of the period counts: a valid day with its value, an invalid day with its
    ``at_least`` (:func:`spatial.airstats.daily_values`), a day without readings as 0 (a
    concentration is never negative). Means: the sum over the period's days (less the known
    dust days, for PM10 and PM2.5) divided by their number; CO and O₃: the HJ 663 percentile
    of those values, the missing days as zeros. A lower bound, never an estimate.

    Returns
    -------
    pandas.DataFrame
        ``unit``, ``period``, ``pollutant``, ``at_least`` (unrounded).
    """
    cols = ["unit", "period", "pollutant", "at_least"]
    d = daily[np.isfinite(daily["at_least"].to_numpy(np.float64))].copy()
    if d.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
    label, start = period_keys(d["date"], period)
    d["period"], d["start"] = label.to_numpy(), start.to_numpy()
    d = d[d["period"].notna()]
    if dust is not None and len(dust):
        key = pd.MultiIndex.from_arrays([dust["unit"], pd.to_datetime(dust["date"])])
        hit = pd.MultiIndex.from_arrays([d["unit"], d["date"]]).isin(key)
        d = d[~(hit & d["pollutant"].isin(["pm10", "pm25"]).to_numpy())]
    keys = ["unit", "period", "pollutant"]
    g = d.groupby(keys, sort=True)
    out = g.agg(total=("at_least", "sum"), n=("at_least", "size"),
                start=("start", "first")).reset_index()
    n_dust = np.zeros(len(out), dtype=np.int64)
    if dust is not None and len(dust):
        dd = pd.DataFrame({"unit": dust["unit"].to_numpy(),
                           "date": pd.to_datetime(dust["date"]).to_numpy()})
        lab, _ = period_keys(dd["date"], period)
        dd["period"] = lab.to_numpy()
        per = dd.dropna().drop_duplicates().groupby(["unit", "period"]).size()
        pm = out["pollutant"].isin(["pm10", "pm25"]).to_numpy()
        got = per.reindex(pd.MultiIndex.from_frame(out[["unit", "period"]])).fillna(0)
        n_dust = np.where(pm, got.to_numpy(np.int64), 0)
    days = period_length_days(out["start"], period) - n_dust
    out["at_least"] = out["total"] / np.maximum(days, 1)
    for p, q in airstats.PERCENTILES.items():
        rows = np.flatnonzero((out["pollutant"] == p).to_numpy())
        if not len(rows):
            continue
        sub = d[d["pollutant"] == p]
        zeros = np.maximum(days[rows] - out["n"].to_numpy()[rows], 0)
        pad = out.iloc[np.repeat(rows, zeros)][keys]  # the missing days, as zeros
        allv = pd.concat([sub[keys].assign(v=sub["at_least"].to_numpy(np.float64)),
                          pad.assign(v=0.0)], ignore_index=True)
        pct = airstats.group_percentile(allv[keys], allv["v"].to_numpy(), q)
        out.loc[out.index[rows], "at_least"] = pct.reindex(
            pd.MultiIndex.from_frame(out.iloc[rows][keys])).to_numpy()
    return out[cols]


def flags(daily: pd.DataFrame, stats: pd.DataFrame, period: str, *,
          dust: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per unit and period, the pollutants whose invalid period already exceeds the limit.

    Parameters
    ----------
    daily
        :func:`spatial.airstats.daily_values`.
    stats
        :func:`spatial.airstats.period_stats` of the same `period` (a pollutant counts only
        where it has no valid value there).
    period
        Period type; only ``day`` and ``year`` have limits (:data:`LIMITS`).

    Returns
    -------
    pandas.DataFrame
        ``unit``, ``period``, ``exceed_incomplete``: e.g. ``"PM2.5 ≥ 36 > 35"`` (the lower
        bound rounded as reported, GB/T 8170; several joined by ``"; "``). Only rows with a flag.
    """
    cols = ["unit", "period", "exceed_incomplete"]
    limits = LIMITS.get(period)
    lb = lower_bounds(daily, period, dust=dust) if limits else None
    if lb is None or lb.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
    ok = stats[stats["valid"].astype(bool)]
    have = pd.MultiIndex.from_frame(ok[["unit", "period", "pollutant"]])
    lb = lb[~pd.MultiIndex.from_frame(lb[["unit", "period", "pollutant"]]).isin(have)].copy()
    dec = lb["pollutant"].map(airstats.DECIMALS).to_numpy(np.int64)
    x = lb["at_least"].to_numpy(np.float64)
    lb["shown"] = np.select([dec == k for k in (0, 1)],
                            [airstats.round_gbt8170(x, k) for k in (0, 1)], np.nan)
    lb["limit"] = lb["pollutant"].map(limits).to_numpy(np.float64)
    hit = lb[lb["shown"] > lb["limit"]].copy()
    if hit.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
    order = {p: i for i, p in enumerate(airstats.POLLUTANTS)}
    hit = hit.assign(_o=hit["pollutant"].map(order)).sort_values(["unit", "period", "_o"])
    hit["text"] = [f"{airstats.LABELS[p]} ≥ {v:g} > {lim:g}" for p, v, lim in
                   zip(hit["pollutant"], hit["shown"], hit["limit"], strict=True)]
    out = hit.groupby(["unit", "period"], sort=True)["text"].agg("; ".join).reset_index()
    return out.rename(columns={"text": "exceed_incomplete"})[cols]
