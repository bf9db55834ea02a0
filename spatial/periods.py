"""Periods of air-quality statistics: day, month, quarter, the autumn–winter season, year.

One definition of the periods lantian reports on (issue 12; GB 3095-2012 and HJ 663-2013 know
day, month, quarter and year; the autumn–winter season October–March is the period of the
秋冬季大气污染综合治理攻坚行动 plans). Used by the national statistics
(:mod:`spatial.airstats`) and by the hot-cell screening of pollution-hotspots.

Labels: day ``2025-01-05``, month ``2025-01``, quarter ``2025Q1``, season ``2024/2025秋冬``
(October 2024 to March 2025), year ``2025``. Days of April–September belong to no season.
All dates are naive local (Beijing) days.

:class:`Period` is one period as a value: sortable, hashable, printed as its label, with the
same period one year earlier (:meth:`Period.last_year`, 同比) and the previous period of the
same type (:meth:`Period.previous`, 环比; for a season or a year that is the one a year
earlier).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .errors import InputError

PERIODS = ("day", "month", "quarter", "season", "year")
#: months a period of each type spans (a day: none, see :meth:`Period.end`)
_MONTHS = {"month": 1, "quarter": 3, "season": 6, "year": 12}
#: the autumn–winter season: October to March (秋冬季攻坚, 10月1日—次年3月31日)
SEASON_FIRST_MONTH, SEASON_LAST_MONTH = 10, 3


def check_kind(kind: str, *, what: str = "period") -> None:
    """Raise InputError unless `kind` is one of :data:`PERIODS`."""
    if kind not in PERIODS:
        raise InputError(f"{what} {kind!r}: use one of {', '.join(PERIODS)}.")


def period_keys(dates: pd.Series, period: str) -> tuple[pd.Series, pd.Series]:
    """Label and first day of the period of each date (naive local days), vectorized.

    Returns two Series aligned with `dates` (index reset): the label (None for days of
    April–September with ``period = "season"``) and the first day (NaT there).
    """
    d = pd.to_datetime(pd.Series(dates)).reset_index(drop=True)
    check_kind(period)
    if period == "day":
        return d.dt.strftime("%Y-%m-%d"), d.dt.normalize()
    if period in ("month", "quarter", "year"):
        per = d.dt.to_period({"month": "M", "quarter": "Q", "year": "Y"}[period])
        return per.astype(str), per.dt.start_time
    y = np.where(d.dt.month >= SEASON_FIRST_MONTH, d.dt.year, d.dt.year - 1)
    inside = (d.dt.month >= SEASON_FIRST_MONTH) | (d.dt.month <= SEASON_LAST_MONTH)
    label = pd.Series([f"{a}/{a + 1}秋冬" for a in y], dtype=object).where(inside, None)
    start = pd.to_datetime(pd.Series([f"{a}-10-01" for a in y])).where(inside)
    return label, start


def period_length_days(start: pd.Series, period: str) -> np.ndarray:
    """Calendar days in each period beginning at `start`."""
    s = pd.to_datetime(start)
    step = pd.DateOffset(days=1) if period == "day" else pd.DateOffset(months=_MONTHS[period])
    return ((s + step) - s).dt.days.to_numpy()


def previous_year_label(label: str, period: str) -> str:
    """The label of the same period one year earlier (2025-01 → 2024-01, 2025Q1 → 2024Q1)."""
    if period == "season":
        a = int(label[:4])
        return f"{a - 1}/{a}秋冬"
    if period == "year":
        return str(int(label) - 1)
    if period == "day":  # 29 February → 28 February
        return (pd.Timestamp(label) - pd.DateOffset(years=1)).strftime("%Y-%m-%d")
    return str(int(label[:4]) - 1) + label[4:]


@dataclass(frozen=True, order=True)
class Period:
    """One period: its first local day and its type (day, month, quarter, season, year)."""

    start: pd.Timestamp
    kind: str

    def __str__(self) -> str:
        lab, _ = period_keys(pd.Series([self.start]), self.kind)
        return str(lab.iloc[0])

    @property
    def year(self) -> int:
        """Calendar year of the first day (a season: the year of its October)."""
        return int(self.start.year)

    @property
    def end(self) -> pd.Timestamp:
        """First day after the period."""
        if self.kind == "day":
            return self.start + pd.Timedelta(days=1)
        return self.start + pd.DateOffset(months=_MONTHS[self.kind])

    @property
    def days(self) -> int:
        """Calendar days in the period."""
        return int((self.end - self.start) / pd.Timedelta(days=1))

    def last_year(self) -> Period:
        """The same period one year earlier (同比; 29 February → 28 February)."""
        return Period(self.start - pd.DateOffset(years=1), self.kind)

    def previous(self, steps: int = 1) -> Period:
        """The period `steps` periods earlier of the same type (环比).

        Seasons follow each other a year apart: the previous season is last year's.
        """
        if self.kind == "day":
            return Period(self.start - pd.Timedelta(days=steps), self.kind)
        months = 12 if self.kind == "season" else _MONTHS[self.kind]
        return Period(self.start - pd.DateOffset(months=months * steps), self.kind)

    def __sub__(self, steps: int) -> Period:
        """``p - n``: :meth:`previous` (as for a pandas Period)."""
        return self.previous(int(steps))


def of_dates(dates: pd.Series, kind: str) -> pd.Series:
    """The :class:`Period` of each naive local date or time (None outside any season).

    Vectorized: the labels come from :func:`period_keys`; one object is made per distinct
    period, not per date.
    """
    _, start = period_keys(dates, kind)
    uniq = pd.unique(start.dropna())
    lut = {pd.Timestamp(s): Period(pd.Timestamp(s), kind) for s in uniq}
    out = start.map(lambda s: None if pd.isna(s) else lut[pd.Timestamp(s)])
    return out.astype(object)


_PATTERNS = {
    "day": (r"(\d{4})-?(\d{2})-?(\d{2})", "2025-01-15 or 20250115"),
    "month": (r"(\d{4})-?(\d{2})", "2025-01 or 202501"),
    "quarter": (r"(\d{4})-?Q([1-4])", "2025Q1 or 2025-Q1"),
    "season": (r"(\d{4})[/-](\d{4})(?:秋冬)?", "2024/2025秋冬 or 2024-2025"),
    "year": (r"(\d{4})", "2025"),
}


def parse(text: str, kind: str, *, what: str) -> Period:
    """A period of type `kind` from its label (see the module doc; compact forms allowed).

    Raises InputError naming `what` (e.g. the raster file) when `text` is not such a period.
    """
    check_kind(kind)
    s = str(text).strip()
    pat, example = _PATTERNS[kind]
    m = re.fullmatch(pat, s, flags=re.IGNORECASE)
    try:
        if m is None:
            raise ValueError
        g = [int(x) for x in m.groups()]
        if kind == "day":
            start = pd.Timestamp(g[0], g[1], g[2])
        elif kind == "month":
            start = pd.Timestamp(g[0], g[1], 1)
        elif kind == "quarter":
            start = pd.Timestamp(g[0], 3 * g[1] - 2, 1)
        elif kind == "season":
            if g[1] != g[0] + 1:
                raise ValueError
            start = pd.Timestamp(g[0], SEASON_FIRST_MONTH, 1)
        else:
            start = pd.Timestamp(g[0], 1, 1)
    except ValueError:
        raise InputError(f"{what}: {text!r} is not a {kind} such as {example} "
                         f"(params.period = {kind!r}); set params.raster_period_pattern or "
                         "params.raster_periods.") from None
    return Period(start, kind)
