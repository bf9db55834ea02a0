"""spatial.airexceed: HJ 663-2013's allowance for incomplete periods, hand-worked cases."""

import numpy as np
import pandas as pd

from spatial import airexceed, airstats


def hours(unit, days, hrs, value, pollutant):
    """Hourly rows: every day of `days` (naive local) × every hour of `hrs`, one value."""
    t = (pd.DatetimeIndex(days).repeat(len(hrs))
         + pd.to_timedelta(np.tile(np.asarray(hrs), len(days)), unit="h"))
    v = value if np.ndim(value) else np.full(len(t), float(value))
    return pd.DataFrame({"unit": unit, "time": t, "pollutant": pollutant, "value": v})


def run(hourly, period, dust=None):
    daily = airstats.daily_values(hourly)
    ps = airstats.period_stats(daily, period, dust=dust)
    return daily, ps, airexceed.flags(daily, ps, period, dust=dust).set_index("unit")


def test_incomplete_year_exceeds_only_when_the_days_present_already_do():
    days300 = pd.date_range("2025-01-01", periods=300, freq="D")  # < 324: no annual value
    a = hours("A", days300, range(24), 50.0, "pm25")  # 300 × 50 / 365 = 41.1 -> 41 > 35
    b = hours("B", days300, range(24), 40.0, "pm25")  # 300 × 40 / 365 = 32.9 -> 33: not
    # CO: 30 days at 10 and 270 at 1 mg/m³; with the 65 missing days as 0 the 95th percentile
    # is k = 1 + 364 × 0.95 = 346.8: X(346) = X(347) = 10 (66–335 are 1, 336–365 are 10)
    co = np.r_[np.full(30 * 24, 10.0), np.full(270 * 24, 1.0)]
    c = hours("A", days300, range(24), co, "co")
    full = hours("C", pd.date_range("2025-01-01", "2025-12-31"), range(24), 50.0, "pm25")
    daily, ps, f = run(pd.concat([a, b, c, full]), "year")
    assert not ps.set_index("unit").loc["A", "valid"].any()  # the year is invalid, no value
    assert f.loc["A", "exceed_incomplete"] == "PM2.5 ≥ 41 > 35; CO ≥ 10 > 4"
    assert "B" not in f.index  # the mean of what arrived (40) would exceed: not used
    assert "C" not in f.index  # a valid year (50 > 35) is judged on its value, not flagged
    # the lower bound by hand: the sum of the days present over the year's 365 days
    lb = airexceed.lower_bounds(daily, "year").set_index(["unit", "pollutant"])
    assert lb.loc[("A", "pm25"), "at_least"] == 300 * 50 / 365
    assert lb.loc[("A", "co"), "at_least"] == 10.0


def test_incomplete_day_by_its_hours_and_o3_by_its_8h_window():
    d = ["2025-01-05"]
    a = hours("A", d, range(15), 150.0, "pm25")  # 15 × 150 / 24 = 93.75 -> 94 > 75
    b = hours("B", d, range(10), 150.0, "pm25")  # 10 × 150 / 24 = 62.5 -> 62 (half even): not
    # O₃: four hours 14–17 at 400: no 8-h average has 6 values (no MDA8); the window of
    # 10–17 holds all four: 1600 / 8 = 200 > 160
    o = hours("A", d, range(14, 18), 400.0, "o3")
    daily, ps, f = run(pd.concat([a, b, o]), "day")
    assert not daily["valid"].any()
    assert f.loc["A", "exceed_incomplete"] == "PM2.5 ≥ 94 > 75; O₃ ≥ 200 > 160"
    assert "B" not in f.index
    at = daily.set_index(["unit", "pollutant"])["at_least"]
    assert at[("A", "pm25")] == 93.75 and at[("B", "pm25")] == 62.5 and at[("A", "o3")] == 200


def test_month_has_no_limit_and_dust_days_leave_the_bound():
    days = pd.date_range("2025-01-01", periods=20, freq="D")  # < 27: no month value
    a = hours("A", days, range(24), 500.0, "pm25")
    assert run(a, "month")[2].empty  # GB 3095 has no monthly limit
    # a year of 300 days at 50 with 100 of them dust days: (200 × 50) / (365 − 100) = 37.7
    # -> 38 > 35; without the deduction 41 (above)
    days300 = pd.date_range("2025-01-01", periods=300, freq="D")
    dust = pd.DataFrame({"unit": "A", "date": days300[:100]})
    f = run(hours("A", days300, range(24), 50.0, "pm25"), "year", dust=dust)[2]
    assert f.loc["A", "exceed_incomplete"] == "PM2.5 ≥ 38 > 35"
