"""The fast read of large CSVs (issue 16): the same frames and values as the row-by-row rules.

References worked out another way: pandas' python CSV engine (the reader's rules before the
C engine was used) for the raw frames, and the parsers applied value by value (``Series.map``
of a one-row parse) for the per-distinct-value parsing.
"""

import csv
import io
import random
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from spatial import rawfiles, values
from spatial.errors import InputError


def _python_engine(text: str) -> pd.DataFrame | str:
    opts = dict(rawfiles._CSV_OPTS, engine="python")
    try:
        try:
            return pd.read_csv(io.StringIO(text), sep=None, **opts)
        except csv.Error:
            return pd.read_csv(io.StringIO(text), sep=",", **opts)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error, ValueError) as err:
        return f"error: {err}"


def _same(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    """Same columns, index, dtypes and values, None told from NaN (repr of every cell)."""
    return (list(a.columns) == list(b.columns) and a.index.equals(b.index)
            and list(a.dtypes) == list(b.dtypes)
            and all(a[c].map(repr).tolist() == b[c].map(repr).tolist() for c in a.columns))


AWKWARD = [
    "a,b,c\n1,2,3\n", "a,b,c\n1,2,3", "a;b;c\n1;2;3\n\n4;5;6\n", "a\tb\n1\t2\n", "a\n1\n2\n",
    "a,b,c\n1,2\n",  # a short row: None (python engine), not NaN
    "a,b,c\n1,2,3,4\n",  # a long row: an index column
    "a,b,c\n   \n1,2,3\n", "a,b,c\n,,\n1,2,3\n", "a, b ,c\n 1 , 2,3 \n", "a,b\n1,2\n\n\n",
    "\na,b\n1,2\n", "a,a,b\n1,2,3\n", "名称,经度\n张庄,116.5\n", "a,b,\n1,2,\n", "a|b\n1|2\n",
    "x y\n1 2\n", "a,b\n1,NA\nnull,2\n", "a,b\n#1,2\n", "a,b\n1,2\n3\n4,5,6\n", " a,b\n1,2\n",
    'a,b\n"1,5",2\n', "a,b\r\n1,2\r\n", "a,b\n\t1,2\n",
]


def test_csv_frames_match_the_python_engine():
    rng = random.Random(16)
    alpha = ["a", "1", " ", ",", ",", ",", "\n", "\n", ";", "\t", "", "x y", "2.5", "中", "#",
             "NA", "|", "  ", "\n\n", "\\", '"']
    texts = AWKWARD + ["".join(rng.choice(alpha) for _ in range(rng.randint(1, 60)))
                       for _ in range(1500)]
    for text in texts:
        want = _python_engine(text)
        if isinstance(want, str):
            with pytest.raises(InputError, match="not a readable CSV table"):
                rawfiles._csv_frame(text, path=Path("x.csv"))
            continue
        got = rawfiles._csv_frame(text, path=Path("x.csv"))
        assert _same(got, want), repr(text)


def test_firms_like_file_reads_as_the_python_engine():
    rng = np.random.default_rng(3)
    n = 2000
    df = pd.DataFrame({
        "latitude": rng.uniform(30, 40, n).round(5), "longitude": rng.uniform(110, 120, n).round(5),
        "acq_date": rng.choice(["2024-06-10", "2024-06-11"], n),
        "acq_time": rng.choice(["0512", "1830", "512"], n),
        "confidence": rng.choice(["n", "h", "l", ""], n), "frp": rng.uniform(0, 9, n).round(1),
    })
    text = df.to_csv(index=False)
    got = rawfiles._csv_frame(text, path=Path("x.csv"))
    assert _same(got, _python_engine(text))
    assert got["confidence"].isna().sum() == (df["confidence"] == "").sum()


def _row_by_row(func, s: pd.Series, monkeypatch) -> pd.Series:
    """`func` as it parses values that are not all text: row by row, no per-distinct step."""
    with monkeypatch.context() as m:
        m.setattr(values, "_all_text", lambda v: False)
        return func(s)


VALUES = ["1", " 2.5 ", "1,234.5", "116,52", "116,523", "３６．５", "36°30'N", "36度30分",
          "n", "h", "", None, np.nan, "12.0", "abc", " 0005 ", "-0", "1e3", "36,4512", "N"]


@pytest.mark.parametrize("func", [values.parse_numbers, values.parse_text])
def test_per_distinct_parsing_matches_row_by_row(func, monkeypatch):
    rng = np.random.default_rng(5)
    s = pd.Series(rng.choice(np.array(VALUES, dtype=object), 3000), dtype=object,
                  index=np.arange(3000) * 3 + 7, name="col")
    assert values._all_text(s)  # the per-distinct path is the one tested
    got = func(s)
    want = _row_by_row(func, s, monkeypatch)
    assert got.index.equals(s.index) and got.name == "col"
    if func is values.parse_numbers:
        assert got.dtype == "float64"
        np.testing.assert_array_equal(got.to_numpy(), want.to_numpy())
        assert np.isnan(got).sum() > 0 and got.notna().sum() > 1000
    else:  # None told from NaN
        assert got.dtype == want.dtype == object
        assert [repr(v) for v in got] == [repr(v) for v in want]


def test_mixed_values_keep_the_row_by_row_rules():
    # 1, 1.0 and True are one value to pd.factorize but not to the parsers
    s = pd.Series([1, 1.0, True, "1", None, pd.NA], dtype=object)
    assert not values._all_text(s)
    assert values.parse_text(s).tolist()[:4] == ["1", "1", "True", "1"]
    nums = values.parse_numbers(s)
    assert nums.iloc[[0, 1, 3]].tolist() == [1.0, 1.0, 1.0]
    assert np.isnan(nums.iloc[2]) and nums.iloc[4:].isna().all()  # True is not a number


def test_all_empty_text_stays_none(monkeypatch):
    s = pd.Series(["", " ", None, np.nan], dtype=object)
    got = values.parse_text(s)
    assert [repr(v) for v in got] == [repr(v) for v in _row_by_row(values.parse_text, s,
                                                                     monkeypatch)]


def test_times_formatted_once_per_value_as_strftime():
    # reference: pandas formatting every row (strftime / astype(str)), NaT included
    from analyses import fire_points as fp
    rng = np.random.default_rng(7)
    base = pd.Timestamp("2024-06-10 18:30", tz="UTC")
    t = pd.Series(base + pd.to_timedelta(rng.integers(0, 40, 500) * 97, unit="min"))
    t[rng.random(500) < 0.05] = pd.NaT
    local = t.dt.tz_convert("Asia/Shanghai")
    got = fp._fmt_time(local)
    want = local.dt.strftime("%Y-%m-%d %H:%M").to_numpy(dtype=object)
    assert [repr(v) for v in got] == [repr(v) for v in want]
    assert got[0][:4] == "2024" and pd.isna(got).sum() == t.isna().sum() > 0
    days = fp.local_days(local)
    assert [repr(v) for v in values.per_distinct(days, lambda u: u.astype(str))] == \
        [repr(v) for v in pd.Series(days).astype(str).to_numpy(dtype=object)]


def test_class_names_as_looked_up_row_by_row():
    from analyses import fire_tables
    from spatial import labels
    s = pd.Series(np.random.default_rng(2).choice(np.array(["l", "n", "h", None], dtype=object),
                                                  300))
    got = fire_tables._class_names(s)
    want = s.map(lambda c: labels.label_value("conf_class", c)).to_numpy(dtype=object)
    assert [repr(v) for v in got] == [repr(v) for v in want]
    assert {"低", "标称", "高"} <= set(got)


def test_dms_parts_joined_as_formatted_value_by_value():
    from analyses import fire_tables
    rng = np.random.default_rng(11)
    v = np.concatenate([rng.uniform(-180, 180, 20000),
                        [0.0, -0.0, -1e-9, 1e-9, 179.99999, -179.99999, 36.0, -0.5, 360.0,
                         1 / 72000, -1 / 72000, 0.999986111]])
    got = fire_tables.dms(v)
    assert got.tolist() == fire_tables._dms_rows(v).tolist()
    # by hand: 116.5042 deg = 116 deg 30' 15.1"; -0.5 deg = -0 deg 30' 00.0"
    assert fire_tables.dms(np.array([116.5042, -0.5])).tolist() == ["116°30'15.1\"",
                                                                    "-0°30'00.0\""]


def test_map_per_value_is_series_map():
    # Series.map row by row is the reference: same values and dtype, None and NaN kept apart
    from spatial.values import map_per_value

    names = {"kept": "保留", "x": "叉"}

    def label(v):
        return names.get(v, v) if isinstance(v, str) else v

    def shp(v):
        return None if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)

    def kind(v):
        return type(v).__name__

    cases = [pd.Series(["kept", "x", "y", None] * 3), pd.Series(["kept", "x", np.nan, "kept"]),
             pd.Series(["kept", None, np.nan], dtype=object), pd.Series([None, None], dtype=object),
             pd.Series([np.nan, np.nan], dtype=object), pd.Series([], dtype=object),
             pd.Series([None, np.nan, "x"], dtype=object, index=[5, 6, 7], name="n"),
             pd.Series(["1", 1, 1.0, True], dtype=object)]  # not all text: row by row
    for s in cases:
        for fn in (label, shp, kind):
            pd.testing.assert_series_equal(map_per_value(s, fn), s.map(fn))
