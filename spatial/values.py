"""Cell values as analysts type them in office files, parsed to numbers, booleans, text, times.

Full-width digits, thousands separators, decimal commas, degrees-minutes-seconds, 是/否 and
Excel's 12.0 for a code are understood; what cannot be parsed becomes NaN/NA/None for the
reader to reject or report. Split from :mod:`spatial.io` (which re-exports these names).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

import numpy as np
import pandas as pd

TRUE_WORDS = {"true", "t", "yes", "y", "1", "是", "对", "√", "1.0"}
FALSE_WORDS = {"false", "f", "no", "n", "0", "否", "", "×", "0.0"}

_DMS = re.compile(
    r"^\s*(?P<d>[-+]?\d+(?:\.\d+)?)\s*[°度d:]\s*(?:(?P<m>\d+(?:\.\d+)?)\s*['′分m:]?\s*)?"
    r"(?:(?P<s>\d+(?:\.\d+)?)\s*(?:\"|″|''|′′|秒|s)?\s*)?(?P<h>[NSEWnsew]?)\s*$"
)


def parse_numbers(values: pd.Series) -> pd.Series:
    """Parse text to floats, accepting the ways numbers are typed in office files.

    Full-width digits, thousands separators (1,234.5), a decimal comma (116,52341, but not
    116,523, which reads as thousands) and degrees-minutes-seconds text are accepted.

    Unparseable text becomes NaN (the caller decides whether that rejects the row).
    """
    if pd.api.types.is_numeric_dtype(values):
        return values.astype("float64")
    # fast path: plain numbers (the bulk of a large file) need none of the clean-up below
    fast = pd.to_numeric(values, errors="coerce").astype("float64")
    if not _all_text(values):  # a CSV's columns are text: no value can be a bool
        is_bool = values.map(lambda v: isinstance(v, (bool, np.bool_))).to_numpy(dtype=bool)
        fast[is_bool] = np.nan  # True is not a number
    slow = fast.isna().to_numpy()
    if not slow.any():
        return fast
    slow = slow & values.notna().to_numpy()
    if not slow.any():
        return fast
    awkward = values[slow]
    fast.loc[slow] = (per_distinct(awkward, _parse_awkward_numbers)
                      if _all_text(awkward) else _parse_awkward_numbers(awkward))
    return fast


def _all_text(values: pd.Series) -> bool:
    """True when every value is a str or missing (a CSV's columns; checked in C, not per row).

    Only then may values be parsed once per distinct value: ``pd.factorize`` takes ``1``,
    ``1.0`` and ``True`` for the same value, which the parsers tell apart.
    """
    if pd.api.types.infer_dtype(values, skipna=True) not in ("string", "empty"):
        return False
    missing = values[values.isna().to_numpy()]  # None or NaN only (pd.NA reads as "<NA>")
    return set(map(type, missing)) <= {type(None), float}


def factorize_exact(values: pd.Series | np.ndarray, *, use_na_sentinel: bool = True
                    ) -> tuple[np.ndarray, np.ndarray | pd.Index]:
    """``pd.factorize``, but NumPy floats by their bits: ``-0.0`` and ``0.0`` stay two values.

    ``pd.factorize`` takes them for one (they compare equal), so a value formatted or mapped
    once per distinct value would print ``0.0`` for a ``-0.0`` that printf, ``str`` and GDAL
    write as ``-0.0``. NaN (any payload) is missing: code -1 with `use_na_sentinel`, else one
    value. Other dtypes go to ``pd.factorize`` as they are. Returns (codes, uniques) in order
    of first appearance, as ``pd.factorize``.
    """
    if isinstance(values, pd.Series) and values.dtype.kind in "mM":  # times, with a zone too
        return _factorize_times(values, use_na_sentinel)
    arr = values.to_numpy() if isinstance(values, pd.Series) else values
    if not (isinstance(arr, np.ndarray) and arr.dtype.kind == "f"
            and arr.dtype.itemsize in (2, 4, 8)):
        return pd.factorize(values, use_na_sentinel=use_na_sentinel)
    bits = arr.view(f"i{arr.dtype.itemsize}")
    nan = np.isnan(arr)
    if not nan.any():
        codes, ubits = pd.factorize(bits)
        return codes, ubits.view(arr.dtype)
    if use_na_sentinel:
        codes = np.full(len(arr), -1, dtype=np.intp)
        codes[~nan], ubits = pd.factorize(bits[~nan])
        return codes, ubits.view(arr.dtype)
    bits = bits.copy()
    bits[nan] = np.array([np.nan], dtype=arr.dtype).view(bits.dtype)[0]  # one NaN
    codes, ubits = pd.factorize(bits)
    return codes, ubits.view(arr.dtype)


def _factorize_times(values: pd.Series, use_na_sentinel: bool
                     ) -> tuple[np.ndarray, pd.api.extensions.ExtensionArray | np.ndarray]:
    """:func:`factorize_exact` of datetimes or timedeltas: by their integer ticks.

    ``pd.factorize`` of a zoned Series goes value by value (1.2 s for 1 M FIRMS times);
    the ticks are factorized in C and the distinct values taken from the Series itself, so
    they keep its unit and zone.
    """
    ticks = values.array.asi8 if hasattr(values.array, "asi8") else \
        values.to_numpy().view(np.int64)
    nat = values.isna().to_numpy()
    codes, _ = pd.factorize(ticks)  # NaT is one more tick value here
    first = np.unique(codes, return_index=True)[1]  # where each value occurs first
    uniques = values.array.take(first)
    if use_na_sentinel and nat.any():
        keep = ~nat[first]
        new_code = np.cumsum(keep) - 1
        codes = np.where(nat, -1, new_code[codes])
        uniques = uniques[keep]
    return codes.astype(np.intp, copy=False), uniques


def per_distinct(values: pd.Series | np.ndarray, func):
    """``func(pd.Series(values))``'s values, computed on each distinct value once.

    `func` is elementwise and takes a Series (of the values' dtype; missing values among the
    distinct ones, as they are). A season of a million FIRMS rows holds a few hundred distinct
    dates, times and classes. Returns an array of the rows: text results as pandas' text array
    (what a frame makes of str objects), anything else as a NumPy array of `func`'s dtype
    (objects when all of a text result is missing).
    """
    codes, uniques = factorize_exact(values, use_na_sentinel=False)
    done = func(pd.Series(uniques))
    if done.dtype == _STR and done.notna().any():
        return done.array.take(codes)
    return done.to_numpy(dtype=object if done.dtype == _STR else None)[codes]


#: pandas' text dtype (the dtype of a column of str objects)
_STR = pd.Series(["a"]).dtype


def text_values(s: pd.Series) -> Any:
    """A column's values for a new frame, as the frame would type them, without a copy.

    Text (the dtype a frame gives str objects) with a value: its own Arrow strings (a
    million of them are not turned into Python objects and back); all missing, or not text:
    objects, which a frame keeps as objects.
    """
    return s.array if s.dtype == _STR and s.notna().any() else s.to_numpy(dtype=object)


def map_per_value(values: pd.Series, fn) -> pd.Series:
    """``values.map(fn)``, with `fn` called once per distinct value: the same values and dtype.

    A national season's million detections hold a few thousand distinct texts per column.
    Taken when every value is text or missing (:func:`_all_text`) or the column is numeric
    (distinct values cannot merge there, as ``1``, ``1.0`` and ``True`` would in an object
    column); missing values are mapped as ``fn(None)`` or ``fn(nan)``, each kind once.
    Otherwise ``values.map(fn)`` row by row.
    """
    if not (values.dtype.kind in "iuf" or _all_text(values)):
        return values.map(fn)
    codes, uniques = factorize_exact(values)  # -1: missing; -0.0 apart from 0.0
    mapped = np.empty(len(uniques), dtype=object)
    mapped[:] = [fn(u) for u in uniques.tolist()]
    out = np.empty(len(values), dtype=object)
    ok = codes >= 0
    out[ok] = mapped[codes[ok]]
    if not ok.all():  # None or NaN only (_all_text, or a float column)
        none = np.equal(values.to_numpy(dtype=object)[~ok], None).astype(bool)
        fill = np.empty(len(none), dtype=object)
        if none.any():
            fill[none] = fn(None)
        if not none.all():
            fill[~none] = fn(float("nan"))
        out[~ok] = fill
    # pandas infers the dtype of the mapped values as Series.map does
    return pd.Series(out, index=values.index, name=values.name).infer_objects()


def _parse_awkward_numbers(values: pd.Series) -> pd.Series:
    """:func:`parse_numbers` for values that are not plain numbers."""
    s = values.map(lambda v: v if v is None or isinstance(v, (int, float)) else
                   unicodedata.normalize("NFKC", str(v)).strip())
    text = s.astype(object).where(s.notna(), None)
    as_str = text.map(lambda v: None if v is None else str(v))
    cleaned = as_str.str.replace(r"^([-+]?\d{1,3}(?:,\d{3})+(?:\.\d+)?)$",
                                 lambda m: m.group(1).replace(",", ""), regex=True)
    # a decimal comma (116,52 or 36,4512): one comma not followed by exactly three digits
    cleaned = cleaned.str.replace(r"^([-+]?\d+),(\d{1,2}|\d{4,})$", r"\1.\2", regex=True)
    out = pd.to_numeric(cleaned, errors="coerce").astype("float64")
    todo = out.isna() & as_str.notna()
    if todo.any():
        parts = as_str[todo].str.extract(_DMS)
        deg = pd.to_numeric(parts["d"], errors="coerce")
        mins = pd.to_numeric(parts["m"], errors="coerce").fillna(0.0)
        secs = pd.to_numeric(parts["s"], errors="coerce").fillna(0.0)
        ok = deg.notna() & (mins < 60) & (secs < 60)
        val = np.sign(deg).where(deg != 0, 1.0) * (deg.abs() + mins / 60 + secs / 3600)
        val = val.where(~parts["h"].str.upper().isin(["S", "W"]), -val)
        out.loc[todo] = val.where(ok)
    return out


def is_missing(v: object) -> bool:
    """None, NaN, pd.NA or NaT (typed frames given in Python hold the last two)."""
    return v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and np.isnan(v))


def parse_bools(values: pd.Series) -> pd.Series:
    """Parse true/false, yes/no, 是/否, Y/N, 1/0 to booleans; anything else becomes NA."""
    norm = values.map(lambda v: None if is_missing(v)
                      else unicodedata.normalize("NFKC", str(v)).strip().lower())
    out = pd.Series(pd.NA, index=values.index, dtype="boolean")
    out[norm.isin(TRUE_WORDS)] = True
    out[norm.isin(FALSE_WORDS) & norm.notna()] = False
    return out


def parse_text(values: pd.Series) -> pd.Series:
    """Text as str, stripped; numbers read from Excel as 12.0 become '12'; empty becomes None."""

    def one(v: object) -> str | None:
        if v is None or (isinstance(v, float) and np.isnan(v)):
            return None
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        s = str(v).strip()
        return s or None

    return map_per_value(values, one).astype(object)  # a CSV column: each text cleaned once


def parse_datetimes(values: pd.Series, *, tz: str = "Asia/Shanghai") -> pd.Series:
    """Parse times; values without a zone are taken as local time `tz`. Bad values become NaT."""
    out = pd.to_datetime(values, errors="coerce", format="mixed")
    if getattr(out.dt, "tz", None) is None:
        out = out.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
    return out


PARSERS = {"float": parse_numbers, "int": parse_numbers, "bool": parse_bools,
            "text": parse_text, "datetime": parse_datetimes}
