"""Chinese words for the codes the analyses write, for the outputs people read.

Scripts read codes (``coal``, ``kept``, ``beyond_range``); people read 燃煤, 保留, 超出插值范围.
The GeoPackage and the CSVs keep the codes. Tables in Excel, Shapefile attributes, map tooltips
and popups show the Chinese word, with the code kept beside it in ``<column>_code``
(:func:`label_frame`); a code without a label is shown as it is (never dropped or guessed).
Ratios a person reads (``ratio`` 0.673) are shown as percentages (67.3%).

Every function takes the label table as a ``{field: {code: label}}`` mapping; :data:`LABELS`
seeds it for the codes of the analyses' results; the controlled vocabularies of the inventories
(fuel, kind, status, method: ``analyses.vocab``) add their own labels to it when imported.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from .values import map_per_value

#: {field (column name): {code: Chinese label}} for the codes the analyses write today
LABELS: dict[str, dict[str, str]] = {
    "fuel": {"coal": "燃煤", "gas": "燃气", "biomass": "生物质", "oil": "燃油",
             "electric": "电"},
    "kind": {"boiler": "锅炉", "small_chp": "小热电机组", "captive": "自备电厂",
             "coal_seller": "散煤销售点", "stove": "茶炉大灶", "other": "其他"},
    "status": {
        # facilities (heat-radius, no-burn-zones)
        "operating": "在用", "idle": "停用（备用）", "retired": "关停", "construction": "在建",
        # fire detections (fire-points)
        "kept": "保留（秸秆焚烧）", "industrial": "工业热源", "outside_window": "时段外",
        "low_confidence": "低可信度", "duplicate": "重复", "off_cropland": "非耕地",
        # cells and stations (pollution-hotspots), cells (no-burn-zones)
        "ok": "正常", "beyond_range": "超出插值范围", "no_pixels": "无有效像元",
        "incomplete": "数据不完整", "no readings": "无监测数据", "failed sensor": "设备故障",
        "faulty readings": "部分数据异常", "unconverted": "未完成改造",
        "converted": "已完成改造", "built_up": "建成区", "fill_converted": "邻近已改造",
    },
    "change": {"added": "新增", "removed": "调出"},
    "type": {"national": "国控", "provincial": "省控", "micro": "微站"},
    "conf_class": {"l": "低", "n": "标称", "h": "高"},
    "source": {"known": "已知热源", "derived": "推断热源",
               # machinery records (machinery-zones)
               "register": "登记", "spot_check": "抽检"},
    "daynight": {"D": "白天", "N": "夜间"},
    "trend": {"up": "上升", "down": "下降", "none": "无显著趋势"},
    "period_kind": {"window": "禁烧时段", "day": "日"},
}

#: columns holding a ratio (0.673) that people read as a percentage (67.3%)
PERCENT_COLUMNS = frozenset({"ratio", "exceed_ratio", "share_hot", "completeness",
                             "converted_ratio", "share", "threshold", "change_ratio"})
#: suffix of the column that keeps the codes beside a labelled one
CODE_SUFFIX = "_code"


def label_value(column: str, value: Any, labels: Mapping[str, Mapping[str, str]] | None = None
                ) -> Any:
    """The Chinese label of `value` in `column`, or `value` itself when it has none."""
    table = (LABELS if labels is None else labels).get(column)
    if table is None or not isinstance(value, str):
        return value
    return table.get(value, value)


def percent_text(value: Any) -> Any:
    """``0.673`` -> ``"67.3%"``; missing values stay missing."""
    if value is None or isinstance(value, bool):
        return value
    try:
        x = float(value)
    except (TypeError, ValueError):
        return value
    if not np.isfinite(x):
        return None
    return f"{x * 100:.1f}%"


def display_value(column: str, value: Any,
                  labels: Mapping[str, Mapping[str, str]] | None = None) -> Any:
    """What a person sees for `value` in `column`: its label, or a ratio as a percentage."""
    if column in PERCENT_COLUMNS:
        return percent_text(value)
    return label_value(column, value, labels)


def labelled_columns(frame: pd.DataFrame,
                     labels: Mapping[str, Mapping[str, str]] | None = None) -> list[str]:
    """The columns of `frame` that have a label table and hold text."""
    table = LABELS if labels is None else labels
    return [c for c in frame.columns if c in table
            and (frame[c].dtype == object or pd.api.types.is_string_dtype(frame[c].dtype))
            and f"{c}{CODE_SUFFIX}" not in frame.columns]


def label_frame(frame: pd.DataFrame, labels: Mapping[str, Mapping[str, str]] | None = None
                ) -> pd.DataFrame:
    """A copy of `frame` with Chinese labels in the coded columns and the codes beside them.

    ``status`` = ``kept`` becomes ``status`` = ``保留（秸秆焚烧）`` and ``status_code`` =
    ``kept`` (placed right after it). Values without a label are kept as they are, in both
    columns. VIIRS detections (``conf_class`` given, ``instrument`` VIIRS) have no number in
    ``confidence``: their confidence is the class.
    """
    table = LABELS if labels is None else labels
    out = frame.copy()
    for col in labelled_columns(frame, table):
        codes = out[col]
        mapping = table[col]
        shown = map_per_value(codes, lambda v, m=mapping: m.get(v, v) if isinstance(v, str)
                              else v)
        pos = list(out.columns).index(col)
        out[col] = shown
        out.insert(pos + 1, f"{col}{CODE_SUFFIX}", codes)
    if {"instrument", "confidence"} <= set(out.columns):
        viirs = (frame["instrument"] == "VIIRS").to_numpy()
        if viirs.any():
            out["confidence"] = out["confidence"].astype("float64").where(~viirs)
    return out
