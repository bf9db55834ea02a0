"""Text and JSON that are safe in a lantian map page.

HTML escaping, JSON that cannot close a ``<script>`` element, colour checks, and the display
texts of attribute values (tooltips, popups, legends).
"""

from __future__ import annotations

import datetime as _dt
import html
import json
import re
from collections.abc import Mapping

import numpy as np
import pandas as pd

from . import labels as _labels
from .errors import InputError

MISSING_TEXT = "—"

_COLOR_RE = re.compile(
    r"^(#[0-9a-fA-F]{3}|#[0-9a-fA-F]{4}|#[0-9a-fA-F]{6}|#[0-9a-fA-F]{8}"
    r"|rgba?\(\s*[0-9.]+%?\s*,\s*[0-9.]+%?\s*,\s*[0-9.]+%?\s*(,\s*[0-9.]+%?\s*)?\)|[a-zA-Z]{3,20})$"
)


def escape(value: object) -> str:
    """HTML-escape ``str(value)`` (``&``, ``<``, ``>``, ``"`` and ``'``); None gives ``""``."""
    return "" if value is None else html.escape(str(value), quote=True)


def js_json(obj: object) -> str:
    r"""Serialize ``obj`` as JSON that is safe inside an HTML ``<script>`` element.

    ``<``, ``>`` (so neither ``</script>`` nor ``<!--`` can occur), ``$`` (so data never looks like
    jQuery use), U+2028 and U+2029 are written as ``\\uXXXX`` escapes; they occur only inside JSON
    strings, so the value is unchanged. Chinese text stays as UTF-8. NaN is refused.
    """
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return _js_safe(text)


def _js_safe(text: str) -> str:
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("$", "\\u0024")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def check_color(color: object, arg: str) -> str:
    """`color` stripped, if it is a CSS colour the maps accept; else InputError naming `arg`."""
    if not isinstance(color, str) or not _COLOR_RE.match(color.strip()):
        raise InputError(
            f"{arg}={color!r} is not a colour; give '#rrggbb', '#rgb', 'rgb(r, g, b)' or a CSS "
            "colour name such as 'red'."
        )
    return color.strip()


def is_na(v: object) -> bool:
    """Whether one value is missing as ``pd.isna`` says (NumPy NaN and NaT too); lists: no."""
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):  # list-like values
        return False


def format_value(v: object) -> str:
    """Format one attribute value as display text (not yet escaped).

    Missing values give ``—``; booleans 是/否; integral numbers without decimals; other numbers
    with 1-2 decimals (3 significant digits below 1); times as ``YYYY-MM-DD HH:MM``.
    """
    if v is None or is_na(v):
        return MISSING_TEXT
    if isinstance(v, bool | np.bool_):
        return "是" if v else "否"
    if isinstance(v, int | np.integer):
        return str(int(v))
    if isinstance(v, float | np.floating):
        x = float(v)
        if not np.isfinite(x):
            return MISSING_TEXT
        if x.is_integer() and abs(x) < 1e15:
            return str(int(x))
        a = abs(x)
        text = f"{x:.1f}" if a >= 100 else f"{x:.2f}" if a >= 1 else f"{x:.3g}"
        return text.rstrip("0").rstrip(".") if "." in text and "e" not in text else text
    if isinstance(v, pd.Timestamp | _dt.datetime):
        return v.strftime("%Y-%m-%d %H:%M") if (v.hour or v.minute) else v.strftime("%Y-%m-%d")
    if isinstance(v, _dt.date):
        return v.isoformat()
    return str(v)


def field_values(
    df: pd.DataFrame, fields: Mapping[str, str], *, arg: str = "tooltip"
) -> tuple[list[str], list[list[str]]]:
    """Escaped labels and, per row, escaped display values of the fields of a tooltip or popup.

    Parameters
    ----------
    df
        The rows.
    fields
        ``{column: label}``, in display order.
    arg
        Argument name used in error messages.

    Returns
    -------
    labels : list of str
        ``html.escape(label)`` per field.
    rows : list of list of str
        Per row, ``html.escape(format_value(value))`` per field.
    """
    if not isinstance(fields, Mapping) or not fields:
        raise InputError(
            f"{arg}={fields!r}: give a non-empty dict {{column: label}}, e.g. {{'name': '名称'}}."
        )
    missing = [c for c in fields if c not in df.columns]
    if missing:
        raise InputError(
            f"{arg}: column(s) {missing} not in the layer; its columns are {list(df.columns)}."
        )
    labels = [escape(label) for label in fields.values()]
    # codes as Chinese words, ratios as percentages (spatial.labels)
    cols = [[escape(format_value(_labels.display_value(col, v))) for v in df[col].tolist()]
            for col in fields]
    return labels, [list(row) for row in zip(*cols, strict=True)]
