"""Controlled vocabularies of the inventories: fuel, facility kind, status (Chinese and English).

Values are normalised to the English codes of FORMATS.md; unknown values are kept as typed
(lower-cased) so that they stay visible in outputs rather than being guessed.
"""

from __future__ import annotations

import unicodedata

import pandas as pd

FUEL = {
    "coal": ("coal", "燃煤", "煤", "煤炭", "原煤", "散煤", "型煤", "洁净型煤", "兰炭", "煤粉"),
    "gas": ("gas", "natural gas", "燃气", "天然气", "煤气", "液化气", "lng", "cng", "lpg"),
    "biomass": ("biomass", "生物质", "秸秆", "生物质成型燃料"),
    "oil": ("oil", "燃油", "柴油", "重油", "油"),
    "electric": ("electric", "electricity", "电", "电力", "电锅炉", "电能"),
}

KIND = {
    "boiler": ("boiler", "锅炉", "燃煤锅炉", "工业锅炉", "供暖锅炉"),
    "small_chp": ("small_chp", "small chp", "小热电", "热电机组", "小热电机组", "燃煤小热电"),
    "captive": ("captive", "自备电厂", "自备", "自备机组"),
    "coal_seller": ("coal_seller", "散煤销售点", "煤炭销售点", "售煤点"),
    "stove": ("stove", "茶炉", "茶水炉", "炉灶", "大灶"),
    "other": ("other", "其他"),
}

STATUS = {
    "operating": ("operating", "在运", "运行", "在用", "正常", "投运", "运营", "生产"),
    "retired": ("retired", "关停", "已关停", "拆除", "已拆除", "淘汰", "已淘汰", "停用", "closed"),
    "construction": ("construction", "在建", "建设中", "拟建", "planned"),
}


def _lookup(table: dict[str, tuple[str, ...]]) -> dict[str, str]:
    return {unicodedata.normalize("NFKC", v).lower(): code
            for code, values in table.items() for v in values}


_FUEL, _KIND, _STATUS = _lookup(FUEL), _lookup(KIND), _lookup(STATUS)


def _normalise(values: pd.Series, table: dict[str, str]) -> pd.Series:
    norm = values.map(lambda v: None if pd.isna(v) else
                      unicodedata.normalize("NFKC", str(v)).strip().lower())
    return norm.map(lambda v: None if v is None else table.get(v, v)).astype(object)


def fuel(values: pd.Series) -> pd.Series:
    """Normalise fuel names (燃煤 -> coal, 天然气 -> gas, ...)."""
    return _normalise(values, _FUEL)


def kind(values: pd.Series) -> pd.Series:
    """Normalise facility kinds (锅炉 -> boiler, 自备电厂 -> captive, ...)."""
    return _normalise(values, _KIND)


def status(values: pd.Series) -> pd.Series:
    """Normalise statuses (在运 -> operating, 关停 -> retired, ...); empty means operating."""
    out = _normalise(values, _STATUS)
    return out.where(out.notna(), "operating")
