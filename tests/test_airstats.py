"""spatial.airstats: validity rules, MDA8, HJ 663 percentiles, composite index, AQI, rounding.

References are worked by hand from the standards' text or computed by plain-Python loops
written here from that text (not by the functions under test).
"""

import math

import numpy as np
import pandas as pd
import pytest

from spatial import airstats as aq
from spatial.errors import InputError


def hours_frame(unit, day, hours, values, pollutant="pm25"):
    """Hourly rows of one unit: local naive times `day` + each hour."""
    t = pd.Timestamp(day) + pd.to_timedelta(np.asarray(hours), unit="h")
    return pd.DataFrame({"unit": unit, "time": t, "pollutant": pollutant,
                         "value": np.asarray(values, dtype=float)})


# ------------------------------------------------------------------------ validity rules


def test_19_hourly_values_make_no_day_20_do():
    a = hours_frame("A", "2025-01-05", range(19), np.arange(19) + 40.0)
    b = hours_frame("B", "2025-01-05", range(20), np.arange(20) + 40.0)
    d = aq.daily_values(pd.concat([a, b])).set_index("unit")
    assert not d.loc["A", "valid"] and np.isnan(d.loc["A", "value"])
    assert d.loc["A", "n"] == 19 and "19 hourly values < 20" in d.loc["A", "reason"]
    assert d.loc["B", "valid"] and d.loc["B", "value"] == pytest.approx(49.5)  # mean of 40..59


def test_tz_aware_times_are_beijing_days():
    # 2025-01-04 16:00 UTC .. 2025-01-05 15:00 UTC is the Beijing day 2025-01-05
    t = pd.date_range("2025-01-04 16:00", periods=24, freq="h", tz="UTC")
    f = pd.DataFrame({"unit": "A", "time": t, "pollutant": "no2", "value": 30.0})
    d = aq.daily_values(f)
    assert d["date"].tolist() == [pd.Timestamp("2025-01-05")] and d["n"].tolist() == [24]


def _daily(unit, days, pollutant="pm25", value=50.0):
    return pd.DataFrame({"unit": unit, "date": pd.DatetimeIndex(days), "pollutant": pollutant,
                         "value": value, "valid": True})


def test_26_days_make_no_month_27_do_february_25():
    jan = pd.date_range("2025-01-01", periods=31)
    feb = pd.date_range("2025-02-01", periods=28)
    d = pd.concat([_daily("A", jan[:26]), _daily("B", jan[:27]), _daily("C", feb[:24]),
                   _daily("D", feb[:25])])
    s = aq.period_stats(d, "month").set_index("unit")
    assert not s.loc["A", "valid"] and np.isnan(s.loc["A", "value"])
    assert s.loc["A", "reason"] == "26 valid days < 27"
    assert s.loc["B", "valid"] and s.loc["B", "value"] == 50.0
    assert not s.loc["C", "valid"] and s.loc["C", "n_required"] == 25
    assert s.loc["D", "valid"]


def test_year_needs_324_days_quarter_and_season_scaled():
    days = pd.date_range("2024-01-01", "2024-12-31")  # leap year
    d = pd.concat([_daily("A", days[:323]), _daily("B", days[:324])])
    s = aq.period_stats(d, "year").set_index("unit")
    assert not s.loc["A", "valid"] and s.loc["B", "valid"]
    # quarter Q1 2024: 91 days -> ceil(91 * 324 / 365) = ceil(80.78) = 81
    q = aq.period_stats(_daily("A", days[:80]), "quarter")
    assert q["n_required"].tolist() == [math.ceil(91 * 324 / 365)] and not q["valid"].iloc[0]
    lab, start = aq.period_keys(pd.Series(pd.to_datetime(["2024-10-01", "2025-03-31",
                                                          "2025-04-01"])), "season")
    assert lab.tolist()[:2] == ["2024/2025秋冬", "2024/2025秋冬"] and pd.isna(lab.iloc[2])
    assert aq.previous_year_label("2024/2025秋冬", "season") == "2023/2024秋冬"
    assert aq.previous_year_label("2025Q1", "quarter") == "2024Q1"
    assert aq.previous_year_label("2024-02-29", "day") == "2023-02-28"


def test_13_valid_8h_averages_make_no_mda8_14_do():
    # hours 0..17 present: windows ending 7..17 full (11), ending 18 (7 of 8) and 19 (6 of 8)
    # valid, ending 20 (5 of 8) not: 13 valid averages -> no MDA8
    a = hours_frame("A", "2025-07-01", range(18), np.full(18, 100.0), "o3")
    # hours 0..18: windows ending 7..18 (12) + 19 (7) + 20 (6) = 14 -> valid
    b = hours_frame("B", "2025-07-01", range(19), np.full(19, 100.0), "o3")
    d = aq.daily_values(pd.concat([a, b])).set_index("unit")
    assert d.loc["A", "n"] == 13 and not d.loc["A", "valid"]
    assert "13 valid 8-h averages < 14" in d.loc["A", "reason"]
    assert d.loc["B", "n"] == 14 and d.loc["B", "valid"] and d.loc["B", "value"] == 100.0


def mda8_reference(hours: dict[int, float]) -> tuple[float, int]:
    """MDA8 from the standard's text, one window at a time (HJ 663-2013 / GB 3095-2012)."""
    best, n_valid = None, 0
    for end in range(7, 24):  # the 8-h averages of 8:00 .. 24:00 (hours labelled by start)
        vals = [hours[h] for h in range(end - 7, end + 1) if h in hours]
        if len(vals) >= 6:  # at least 6 hourly values in the 8 hours
            n_valid += 1
            m = sum(vals) / len(vals)
            best = m if best is None or m > best else best
    return (best if n_valid >= 14 else float("nan")), n_valid


def test_mda8_matches_a_plain_loop_on_random_days():
    rng = np.random.default_rng(7)
    frames, ref = [], {}
    for i in range(60):
        present = np.flatnonzero(rng.random(24) > rng.uniform(0, 0.4))
        vals = np.round(rng.gamma(4, 30, len(present)))
        day = pd.Timestamp("2025-06-01") + pd.Timedelta(days=i)
        frames.append(hours_frame("S", day, present, vals, "o3"))
        ref[day] = mda8_reference(dict(zip(present.tolist(), vals.tolist(), strict=True)))
    d = aq.daily_values(pd.concat(frames)).set_index("date")
    for day, (m, n) in ref.items():
        assert d.loc[day, "n"] == n
        if np.isnan(m):
            assert not d.loc[day, "valid"]
        else:
            assert d.loc[day, "value"] == pytest.approx(m, rel=1e-12)
    assert 0 < d["valid"].sum() < 60  # both branches were exercised


# ------------------------------------------------------------------------ percentiles


def hj663_reference(values, p):
    """HJ 663-2013 percentile: sort ascending, k = 1 + (n-1)p/100, s = int(k),
    m = X(s) + (X(s+1) - X(s)) (k - s)."""
    x = sorted(values)
    k = 1 + (len(x) - 1) * p / 100
    s = int(k)
    if s == len(x):
        return x[-1]
    return x[s - 1] + (x[s] - x[s - 1]) * (k - s)


def test_percentile_by_hand_and_against_the_text():
    assert aq.hj663_percentile(np.arange(1, 11, dtype=float), 95) == pytest.approx(9.55)
    assert aq.hj663_percentile(np.array([3.0]), 90) == 3.0
    rng = np.random.default_rng(3)
    keys, vals, ref = [], [], {}
    for g in range(40):
        n = int(rng.integers(1, 40))
        v = np.round(rng.gamma(3, 0.5, n), 1)
        keys += [g] * n
        vals.append(v)
        ref[g] = (hj663_reference(v.tolist(), 95), hj663_reference(v.tolist(), 90))
        assert aq.hj663_percentile(v, 95) == pytest.approx(ref[g][0], rel=1e-12)
    allv = np.concatenate(vals)
    perm = rng.permutation(len(allv))  # order of the rows must not matter
    for j, p in enumerate((95, 90)):
        got = aq.group_percentile(pd.DataFrame({"g": np.array(keys)[perm]}), allv[perm], p)
        for g, r in ref.items():
            assert got.loc[g] == pytest.approx(r[j], rel=1e-12)


def test_period_stats_co_p95_o3_p90_and_means():
    days = pd.date_range("2025-01-01", periods=31)
    co = np.round(np.linspace(0.4, 2.2, 31)[::-1], 2)
    o3 = np.arange(31) * 3.0 + 40
    pm = np.arange(31) + 60.0
    d = pd.concat([_daily("A", days, "co", co), _daily("A", days, "o3", o3),
                   _daily("A", days, "pm25", pm)])
    s = aq.period_stats(d, "month").set_index("pollutant")
    assert s.loc["co", "value"] == pytest.approx(hj663_reference(co.tolist(), 95))
    assert s.loc["o3", "value"] == pytest.approx(hj663_reference(o3.tolist(), 90))
    assert s.loc["pm25", "value"] == pytest.approx(sum(pm) / 31)


# ------------------------------------------------------------------------ rounding, indices


def test_gbt8170_round_half_even():
    got = aq.round_gbt8170([0.5, 1.5, 2.5, 3.5, 2.4999, 2.5001, -0.5, 12.35, 12.25, 12.251],
                           0)
    assert got.tolist() == [0, 2, 2, 4, 2, 3, -0, 12, 12, 12]
    assert aq.round_gbt8170([12.35, 12.25, 12.251, 1.05, 0.15], 1).tolist() == \
        [12.4, 12.2, 12.3, 1.0, 0.2]
    assert aq.round_gbt8170([0.125, 0.135, 5.285], 2).tolist() == [0.12, 0.14, 5.28]


def test_composite_index_by_hand():
    v = pd.DataFrame({"so2": [12.0], "no2": [40.0], "pm10": [84.0], "pm25": [50.0],
                      "co": [1.6], "o3": [170.0]})
    # 12/60 + 40/40 + 84/70 + 50/35 + 1.6/4 + 170/160 = 0.2 + 1 + 1.2 + 1.428571 + 0.4 + 1.0625
    c = aq.composite_index(v)
    assert c["composite_index"].iloc[0] == 5.29
    assert c["primary_pollutant"].iloc[0] == "PM2.5"
    assert c["i_o3"].iloc[0] == 1.0625
    v.loc[0, "pm25"] = np.nan
    assert np.isnan(aq.composite_index(v)["composite_index"].iloc[0])


def test_iaqi_breakpoints_of_hj633_by_hand():
    # PM2.5 24-h: 35 -> 50, 75 -> 100, 115 -> 150 (breakpoints); 80 -> 100 + 50/40*5 = 106.25 -> 107
    assert aq.iaqi("pm25", np.array([0, 35, 75, 115, 80, 36])).tolist() == \
        [0, 50, 100, 150, 107, 52]
    assert aq.iaqi("co", np.array([4.0, 14.0, 1.0])).tolist() == [100, 150, 25]
    assert aq.iaqi("so2", np.array([2620.0, 3000.0])).tolist() == [500, 500]
    assert np.isnan(aq.iaqi("o3_8h", np.array([801.0]))[0])


def test_daily_aqi_example():
    w = pd.DataFrame({"so2": [10.0, 5], "no2": [50.0, 20], "pm10": [120.0, 40],
                      "pm25": [80.0, 20], "co": [1.0, 0.5], "o3": [120.0, 900],
                      "o3_1h_max": [150.0, 420]})
    a = aq.daily_aqi(w)
    # row 0: IAQI so2 10, no2 50 + 50/40*10 = 62.5 -> 63, pm10 50 + 50/100*70 = 85,
    # pm25 107, co 25, o3 50 + 50/60*20 = 66.7 -> 67: AQI 107, PM2.5, 三级 轻度污染
    assert a.loc[0, ["iaqi_so2", "iaqi_no2", "iaqi_pm10", "iaqi_pm25", "iaqi_co",
                     "iaqi_o3"]].tolist() == [10, 63, 85, 107, 25, 67]
    assert a.loc[0, "aqi"] == 107 and a.loc[0, "primary_pollutant"] == "PM2.5"
    assert a.loc[0, "level"] == "三级" and a.loc[0, "category"] == "轻度污染"
    assert not a.loc[0, "good"] and not a.loc[0, "heavy"]
    # row 1: O3 MDA8 900 > 800: the 1-h IAQI; 1-h breakpoints 400 -> 200, 800 -> 300:
    # 200 + 100/400*(420-400) = 205, 五级 重度污染 (> 200: a heavily polluted day)
    assert a.loc[1, "iaqi_o3"] == 205 and a.loc[1, "aqi"] == 205
    assert a.loc[1, "category"] == "重度污染" and a.loc[1, "heavy"]


def test_good_day_has_no_primary_pollutant_and_unknown_pollutant_is_an_error():
    w = pd.DataFrame({"so2": [5.0], "no2": [20.0], "pm10": [40.0], "pm25": [20.0],
                      "co": [0.5], "o3": [60.0]})
    a = aq.daily_aqi(w)
    assert a.loc[0, "aqi"] == 40 and a.loc[0, "primary_pollutant"] is None and a.loc[0, "good"]
    with pytest.raises(InputError, match="benzene"):
        aq.daily_values(hours_frame("A", "2025-01-01", range(24), np.ones(24), "benzene"))


def test_unit_hourly_is_the_mean_of_member_stations():
    a = hours_frame("x", "2025-01-01", [0, 1], [10.0, 20.0]).rename(columns={"unit": "station_id"})
    a["station_id"] = "A"
    b = a.assign(station_id="B", value=[30.0, np.nan])
    dup = a.iloc[[0]].assign(value=14.0)  # a repeated reading of A at 00:00: averaged first
    m = pd.DataFrame({"station_id": ["A", "B", "A"], "unit": ["county:1", "county:1", "st:A"]})
    u = aq.unit_hourly(pd.concat([a, b, dup]), m).set_index(["unit", "time"])["value"]
    t0, t1 = pd.Timestamp("2025-01-01 00:00"), pd.Timestamp("2025-01-01 01:00")
    assert u.loc[("county:1", t0)] == pytest.approx((12.0 + 30.0) / 2)
    assert u.loc[("county:1", t1)] == 20.0 and u.loc[("st:A", t0)] == 12.0


def test_dust_deduction_in_period_stats():
    days = pd.date_range("2025-03-01", periods=31)
    pm = np.arange(31) + 50.0
    d = pd.concat([_daily("A", days, "pm10", pm), _daily("A", days, "so2", pm)])
    dust = pd.DataFrame({"unit": "A", "date": days[[13, 14]]})
    s = aq.period_stats(d, "month", dust=dust).set_index("pollutant")
    assert s.loc["pm10", "value"] == pytest.approx(np.delete(pm, [13, 14]).mean())
    assert s.loc["pm10", "n_dust"] == 2 and s.loc["pm10", "n_days"] == 31  # judged before
    assert s.loc["so2", "value"] == pytest.approx(pm.mean()) and s.loc["so2", "n_dust"] == 0
    one = aq.period_stats(_daily("A", days[:1], "pm25"), "day",
                          dust=pd.DataFrame({"unit": "A", "date": days[:1]}))
    assert not one["valid"].iloc[0] and "dust" in one["reason"].iloc[0]


# ------------------------------------------------------------------ published and table values


def test_composite_index_of_a_published_bulletin():
    """淄博市文昌湖区《2023年5月份环境空气质量情况通报》(发布日期 2023-06-20, 文昌湖区安全生产监管和
    环境保护局, http://www.sdwenchanghu.gov.cn/gongkai/site_wchqaqscjghhjbhj/channel_c_5f9f6ab8c69c9a8abe96818f_n_1605682744.4951/doc_64a22924527a1572e86adebd.html):
    全市 SO₂ 12, NO₂ 27, PM10 65, PM2.5 29 µg/m³, CO 0.8 mg/m³, O₃ 191 µg/m³, 综合指数 4.03.
    """
    v = pd.DataFrame({"so2": [12.0], "no2": [27.0], "pm10": [65.0], "pm25": [29.0],
                      "co": [0.8], "o3": [191.0]})
    c = aq.composite_index(v)
    assert c["composite_index"].iloc[0] == 4.03  # the bulletin's number
    # O₃ 191/160 = 1.194 is the largest single index (PM10 65/70 = 0.929 next)
    assert c["primary_pollutant"].iloc[0] == "O₃"


#: HJ 633-2012 Table 1, copied here from the standard's text (IAQI 0, 50, … 500)
HJ633_TABLE = {
    "so2": [0, 50, 150, 475, 800, 1600, 2100, 2620],
    "no2": [0, 40, 80, 180, 280, 565, 750, 940],
    "pm10": [0, 50, 150, 250, 350, 420, 500, 600],
    "co": [0, 2, 4, 14, 24, 36, 48, 60],
    "pm25": [0, 35, 75, 115, 150, 250, 350, 500],
    "o3_1h": [0, 160, 200, 300, 400, 800, 1000, 1200],
    "o3_8h": [0, 100, 160, 215, 265, 800],
}
HJ633_IAQI = [0, 50, 100, 150, 200, 300, 400, 500]


def _iaqi_by_hand(table, c):
    """HJ 633-2012 formula (1), written from the text with a plain loop, rounded up (5.3)."""
    for i in range(1, len(table)):
        if c <= table[i]:
            lo, hi = table[i - 1], table[i]
            v = (HJ633_IAQI[i] - HJ633_IAQI[i - 1]) / (hi - lo) * (c - lo) + HJ633_IAQI[i - 1]
            return math.ceil(round(v, 9))
    return None


@pytest.mark.parametrize("pollutant", sorted(HJ633_TABLE))
def test_iaqi_at_and_between_every_breakpoint_of_hj633_table1(pollutant):
    """No published daily AQI with all six concentrations could be found offline: the test uses
    HJ 633-2012 Table 1 itself. At a breakpoint the IAQI is exactly the table's 0/50/100/…; at
    the midpoint of each segment it is halfway between the segment's IAQIs (25, 75, …, 250, 350,
    450: by hand); at
    quarter points the loop above (the formula of HJ 633-2012 5.1, rounded up)."""
    bp = HJ633_TABLE[pollutant]
    got = aq.iaqi(pollutant, np.array(bp, dtype=float))
    assert got.tolist() == HJ633_IAQI[:len(bp)]
    mids = [(a + b) / 2 for a, b in zip(bp[:-1], bp[1:], strict=False)]
    assert aq.iaqi(pollutant, np.array(mids)).tolist() == \
        [(HJ633_IAQI[i] + HJ633_IAQI[i + 1]) / 2 for i in range(len(mids))]
    quarters = [a + (b - a) * f for a, b in zip(bp[:-1], bp[1:], strict=False)
                for f in (0.1, 0.25, 0.73)]
    assert aq.iaqi(pollutant, np.array(quarters)).tolist() == \
        [_iaqi_by_hand(bp, c) for c in quarters]
