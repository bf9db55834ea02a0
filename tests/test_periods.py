"""spatial.periods: labels, lengths, 同比/环比 of each period type, parsing; hand-worked cases."""

import pandas as pd
import pytest

from spatial import periods
from spatial.errors import InputError
from spatial.periods import Period


def ts(s):
    return pd.Timestamp(s)


def test_period_of_dates_by_hand():
    d = pd.Series([ts(x) for x in ("2024-09-30", "2024-10-01", "2025-02-28 23:00",
                                   "2025-03-31", "2025-04-01")])
    season = periods.of_dates(d, "season").tolist()
    # 30 September and 1 April are in no season; 1 October 2024 – 31 March 2025 in 2024/2025
    assert season[0] is None and season[4] is None
    assert [str(p) for p in season[1:4]] == ["2024/2025秋冬"] * 3
    assert season[1] is season[2]  # one object per distinct period
    q = periods.of_dates(d, "quarter").tolist()
    assert [str(p) for p in q] == ["2024Q3", "2024Q4", "2025Q1", "2025Q1", "2025Q2"]
    assert [str(p) for p in periods.of_dates(d, "year")] == ["2024", "2024", "2025", "2025",
                                                             "2025"]
    assert str(periods.of_dates(d, "day")[2]) == "2025-02-28"
    assert str(periods.of_dates(d, "month")[2]) == "2025-02"


def test_lengths_last_year_and_previous_by_hand():
    s = Period(ts("2024-10-01"), "season")
    # October 31 + November 30 + December 31 + January 31 + February 29 (2024/2025: 28) + March 31
    assert s.days == 31 + 30 + 31 + 31 + 28 + 31 == 182
    assert Period(ts("2023-10-01"), "season").days == 183  # February 2024 has 29 days
    assert str(s.last_year()) == "2023/2024秋冬" and s.previous() == s.last_year()
    q = Period(ts("2025-01-01"), "quarter")
    assert q.days == 90 and str(q.previous()) == "2024Q4" and str(q.last_year()) == "2024Q1"
    y = Period(ts("2024-01-01"), "year")
    assert y.days == 366 and str(y.previous()) == "2023" == str(y.last_year())
    m = Period(ts("2025-01-01"), "month")
    assert str(m - 1) == "2024-12" and str(m - 12) == "2024-01" and m.year == 2025
    d = Period(ts("2024-02-29"), "day")
    assert str(d.last_year()) == "2023-02-28" and str(d.previous()) == "2024-02-28"
    assert d.days == 1
    assert sorted([q, q.previous(), q.last_year()]) == [q.last_year(), q.previous(), q]


@pytest.mark.parametrize("text, kind, label", [
    ("2025-01-15", "day", "2025-01-15"), ("20250115", "day", "2025-01-15"),
    ("202501", "month", "2025-01"), ("2025Q1", "quarter", "2025Q1"),
    ("2025-q4", "quarter", "2025Q4"), ("2024/2025秋冬", "season", "2024/2025秋冬"),
    ("2024-2025", "season", "2024/2025秋冬"), ("2025", "year", "2025")])
def test_parse(text, kind, label):
    assert str(periods.parse(text, kind, what="raster x.tif")) == label


@pytest.mark.parametrize("text, kind", [("2025-13", "month"), ("2024/2026", "season"),
                                        ("2025Q5", "quarter"), ("2025-01", "year")])
def test_parse_refuses_other_text(text, kind):
    with pytest.raises(InputError, match="raster x.tif"):
        periods.parse(text, kind, what="raster x.tif")
    with pytest.raises(InputError, match="use one of day, month"):
        periods.check_kind("week")
