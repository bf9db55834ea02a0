"""Controlled vocabularies of the inventories: fuel, facility kind, status, conversion method.

Every categorical column goes through one vocabulary that maps the words offices type (Chinese
or English) to a code. Matching is exact after NFKC normalisation (full-width to half-width),
stripping and lower-casing: a word the vocabulary does not know is never put into a group by a
substring guess (``某某煤`` is not ``coal`` unless the config says so).

- fuel: the groups of the national 《高污染燃料目录》 (国环规大气〔2017〕2号), see :data:`FUEL`.
  A blank or unknown fuel is ``unknown``, never clean.
- status: ``operating``, ``idle`` (停用/备用: still a shutdown target), ``retired``,
  ``construction``, ``planned``; blank means ``operating``; an unknown word is ``unknown``.
- kind: ``boiler``, ``small_chp``, ``captive``, ``coal_seller``, ``coal_store``, ``stove``,
  ``gas_producer``, ``other``; blank stays blank (None); an unknown word is ``unknown``.
- method (village clean-heating conversion): ``gas``, ``electricity``, ``central_heating``,
  ``heat_pump``, ``geothermal``, ``solar``, ``biomass``, ``clean_coal``; ``clean_coal``
  (改燃洁净型煤、水煤浆、无烟煤、兰炭…) is not clean heating.
- stage (national emission stage of a non-road mobile machine, GB 20891): ``stage0`` (国〇:
  before 国一), ``stage1`` … ``stage4`` (国一 … 国四), ``electric`` (电动/新能源: no engine
  exhaust); blank or unknown is ``unknown``, never guessed (:data:`STAGE_ORDER` ranks them).

A config extends any vocabulary (``[vocab.fuel] "某某煤" = "coal"``): the runner wraps a run in
:func:`extended`. Each code has a Chinese label (:func:`label`) for display.

Examples
--------
>>> import pandas as pd
>>> list(fuel(pd.Series(["无烟煤", " 燃煤 ", "焦炭", None, "煤气", "某某煤"])))
['coal', 'coal', 'coal_product', 'unknown', 'coal_gas', 'unknown']
>>> with extended({"fuel": {"某某煤": "coal"}}):
...     list(fuel(pd.Series(["某某煤"])))
['coal']
>>> label("status", "idle")
'停用/备用'
"""

from __future__ import annotations

import contextlib
import contextvars
import types
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import numpy as np
import pandas as pd

from spatial.errors import InputError

UNKNOWN = "unknown"

# 《高污染燃料目录》 (原环境保护部, 国环规大气〔2017〕2号): 注 "煤炭及其制品" = 原煤、散煤、
# 煤矸石、煤泥、煤粉、水煤浆、型煤、焦炭、兰炭等; item (二) of every class = 石油焦、油页岩、
# 原油、重油、渣油、煤焦油; class III (三) = 生物质成型燃料. The other groups: words offices
# type.
FUEL: dict[str, tuple[str, ...]] = {
    # raw coal (catalogue: 原煤、散煤、煤矸石、煤泥) and coal by rank or size
    "coal": ("coal", "燃煤", "煤", "煤炭", "原煤", "散煤", "煤矸石", "粉煤", "煤泥", "无烟煤",
             "烟煤", "褐煤", "块煤", "末煤", "混煤", "洗煤", "精煤"),
    # coal products (catalogue: 煤粉、水煤浆、型煤、焦炭、兰炭); 洁净型煤 is a 型煤 (2017 plan,
    # 聊办字〔2017〕49号 item 9: "不包括改燃洁净型煤、水煤浆、无烟煤、兰炭…")
    "coal_product": ("coal_product", "焦炭", "兰炭", "半焦", "型煤", "洁净型煤", "民用型煤",
                     "水煤浆", "蜂窝煤", "煤球", "煤粉"),
    # catalogue item (二): 石油焦、油页岩、原油、重油、渣油、煤焦油; 油母页岩 = 油页岩
    # (金政字〔2024〕57号); 绿焦 = green (raw) petroleum coke (聊办字〔2017〕49号 item 9);
    # 燃料油 = residual fuel oil (GB 17411)
    "heavy_oil": ("heavy_oil", "石油焦", "油页岩", "油母页岩", "原油", "重油", "渣油", "煤焦油",
                  "燃料油", "绿焦"),
    "light_oil": ("light_oil", "柴油", "轻柴油", "轻油", "轻质油", "煤油", "汽油", "diesel"),
    "gas": ("gas", "natural gas", "燃气", "天然气", "管道天然气", "压缩天然气", "液化天然气",
            "液化石油气", "液化气", "lng", "cng", "lpg", "沼气", "生物天然气"),
    # gas made from coal on site: counts as coal (聊政字〔2024〕15号 二(二)3: "不再新增燃料类
    # 煤气发生炉")
    "producer_gas": ("producer_gas", "发生炉煤气", "煤气发生炉", "水煤气"),
    # a bare 煤气 may be producer gas or piped town gas: its own group, for review
    "coal_gas": ("coal_gas", "煤气", "焦炉煤气", "人工煤气"),
    "electricity": ("electricity", "electric", "电", "电力", "电能", "电锅炉", "电加热"),
    # catalogue class III (三): 生物质成型燃料; a bare 生物质 in a boiler inventory is a
    # biomass (pellet) boiler
    "biomass_pellet": ("biomass_pellet", "生物质成型燃料", "成型燃料", "生物质颗粒", "生物质压块",
                       "生物质"),
    "raw_biomass": ("raw_biomass", "直接燃用的生物质", "秸秆", "树枝", "锯末", "稻壳", "木屑",
                    "薪柴", "木柴", "柴草", "玉米芯", "果壳"),
    "waste": ("waste", "各种可燃废物", "可燃废物", "垃圾", "生活垃圾", "废弃物", "废轮胎",
              "废塑料"),
    "alcohol": ("alcohol", "醇基燃料", "醇基液体燃料", "甲醇", "甲醇燃料"),
}

STATUS: dict[str, tuple[str, ...]] = {
    "operating": ("operating", "在用", "在营", "在运", "运行", "正常", "投运", "运营", "生产",
                  "在产", "正常生产", "正常运行"),
    "idle": ("idle", "停用", "备用", "停产", "停运", "闲置", "临时停用"),
    "retired": ("retired", "closed", "关停", "已关停", "取缔", "已取缔", "拆除", "已拆除", "淘汰",
                "已淘汰", "关闭", "已关闭", "注销", "已注销"),
    "construction": ("construction", "在建", "建设中", "施工中"),
    "planned": ("planned", "拟建", "规划", "计划建设", "筹建"),
}

KIND: dict[str, tuple[str, ...]] = {
    "boiler": ("boiler", "锅炉", "燃煤锅炉", "工业锅炉", "供暖锅炉", "采暖锅炉", "蒸汽锅炉",
               "热水锅炉", "导热油炉"),
    "small_chp": ("small_chp", "small chp", "小热电", "热电机组", "小热电机组", "燃煤小热电",
                  "落后燃煤小热电", "燃煤机组"),
    "captive": ("captive", "自备电厂", "自备", "自备机组", "自备燃煤机组"),
    "coal_seller": ("coal_seller", "散煤销售点", "散煤经营点", "型煤配送点", "型煤销售点",
                    "煤炭销售点", "煤炭经营点", "售煤点"),
    "coal_store": ("coal_store", "储煤场", "煤场", "储煤点", "煤炭堆场"),
    "stove": ("stove", "茶炉", "茶水炉", "炉灶", "大灶", "经营性炉灶", "民用炉具"),
    "gas_producer": ("gas_producer", "煤气发生炉", "一段式煤气发生炉"),
    "other": ("other", "其他", "其它"),
}

METHOD: dict[str, tuple[str, ...]] = {
    "gas": ("gas", "气代煤", "煤改气", "以气代煤"),
    "electricity": ("electricity", "电代煤", "煤改电", "以电代煤"),
    "central_heating": ("central_heating", "集中供热", "热电联产集中供热"),
    "heat_pump": ("heat_pump", "热泵", "空气源热泵", "地源热泵"),
    "geothermal": ("geothermal", "地热"),
    "solar": ("solar", "太阳能"),
    "biomass": ("biomass", "生物质", "生物质能"),
    # 2017 plan (聊办字〔2017〕49号 item 9): clean-heating conversion "不包括改燃洁净型煤、水煤浆、
    # 无烟煤、兰炭、绿焦、原油等"
    "clean_coal": ("clean_coal", "洁净型煤", "改燃洁净型煤", "型煤", "水煤浆", "无烟煤", "兰炭",
                   "绿焦", "原油"),
}

# National emission stages of non-road mobile machinery diesel engines: GB 20891-2007 (第一、
# 二阶段), GB 20891-2014 (第三、四阶段). Roman numerals (国Ⅲ) become 国iii after NFKC and
# lower-casing, so 国Ⅲ, 国III and 国iii are one word; 国〇/国0/国零 and 未达国一 are the machines
# built before 国一. 电动/新能源 machines have no engine exhaust (聊环发〔2023〕7号 四(一):
# "替换为新能源或国 III 及以上排放标准的非道路移动机械").
STAGE: dict[str, tuple[str, ...]] = {
    "stage0": ("stage0", "国0", "国〇", "国零", "国o", "国0阶段", "国零阶段", "未达国一", "未达国1",
               "国一以前", "国一前", "国i前", "国1前", "无排放阶段"),
    "stage1": ("stage1", "国1", "国一", "国i", "国一阶段", "国1阶段", "第一阶段", "国一标准"),
    "stage2": ("stage2", "国2", "国二", "国ii", "国二阶段", "国2阶段", "第二阶段", "国二标准"),
    "stage3": ("stage3", "国3", "国三", "国iii", "国三阶段", "国3阶段", "第三阶段", "国三标准"),
    "stage4": ("stage4", "国4", "国四", "国iv", "国四阶段", "国4阶段", "第四阶段", "国四标准"),
    "electric": ("electric", "电动", "纯电动", "新能源", "电力", "电", "锂电", "蓄电池",
                 "新能源（电动）"),
}
#: rank of each stage (a higher rank is cleaner): a machine is high-emission below ``min_stage``
STAGE_ORDER: dict[str, int] = {"stage0": 0, "stage1": 1, "stage2": 2, "stage3": 3, "stage4": 4,
                               "electric": 5}

VOCABS: dict[str, dict[str, tuple[str, ...]]] = {
    "fuel": FUEL, "status": STATUS, "kind": KIND, "method": METHOD, "stage": STAGE}

#: Chinese label of every code, for tables, tooltips and Shapefile attributes
LABELS: dict[str, dict[str, str]] = {
    "fuel": {"coal": "燃煤", "coal_product": "煤炭制品", "heavy_oil": "石油焦/重油类",
             "light_oil": "轻质燃油", "gas": "燃气", "producer_gas": "发生炉煤气",
             "coal_gas": "煤气（待核实）", "electricity": "电", "biomass_pellet": "生物质成型燃料",
             "raw_biomass": "直接燃用的生物质", "waste": "可燃废物", "alcohol": "醇基燃料",
             UNKNOWN: "燃料不明（待核实）"},
    "status": {"operating": "在用", "idle": "停用/备用", "retired": "关停/取缔",
               "construction": "在建", "planned": "拟建", UNKNOWN: "状态不明"},
    "kind": {"boiler": "锅炉", "small_chp": "落后燃煤小热电", "captive": "自备电厂",
             "coal_seller": "散煤经营点", "coal_store": "储煤场", "stove": "茶水炉/炉灶",
             "gas_producer": "煤气发生炉", "other": "其他", UNKNOWN: "类型不明"},
    "method": {"gas": "气代煤", "electricity": "电代煤", "central_heating": "集中供热",
               "heat_pump": "热泵", "geothermal": "地热", "solar": "太阳能", "biomass": "生物质",
               "clean_coal": "改燃洁净型煤等（不计为清洁取暖）", UNKNOWN: "方式不明"},
    "stage": {"stage0": "国〇（未达国一）", "stage1": "国一", "stage2": "国二", "stage3": "国三",
              "stage4": "国四", "electric": "电动/新能源", UNKNOWN: "排放阶段不明"},
}

#: groups that count as burning coal (heat-radius targets; the catalogue's 煤炭及其制品, and
#: producer gas made from coal on site)
COAL_GROUPS = ("coal", "coal_product", "producer_gas")
#: groups that are biomass boilers' fuel (the catalogue's class III 生物质成型燃料 and biomass
#: burned directly): the boilers heat-radius screens against the built-up area (analyses.biomass)
BIOMASS_GROUPS = ("biomass_pellet", "raw_biomass")

_NO_EXTRA: Mapping[str, Mapping[str, str]] = types.MappingProxyType({})
_EXTRA: contextvars.ContextVar[Mapping[str, Mapping[str, str]]] = contextvars.ContextVar(
    "lantian_vocab_extra", default=_NO_EXTRA)


def normalise(value: Any) -> str | None:
    """One word as matched: NFKC (full-width to half-width), stripped, lower-case; blank -> None."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    text = unicodedata.normalize("NFKC", str(value)).strip().lower()
    return text or None


def check_extension(table: Any, where: str = "config") -> dict[str, dict[str, str]]:
    """Check a config's ``[vocab]`` table and return it normalised ({field: {word: code}}).

    Each field must be one of :data:`VOCABS` and each code one of that vocabulary's codes.
    """
    if table is None:
        return {}
    if not isinstance(table, Mapping):
        raise InputError(f'{where}: [vocab] must be a table, e.g. [vocab.fuel]\n"某某煤" = "coal".')
    out: dict[str, dict[str, str]] = {}
    for field, words in table.items():
        if field not in VOCABS:
            raise InputError(f"{where}: [vocab.{field}] is not a vocabulary; the vocabularies are "
                             f"{', '.join(VOCABS)}.")
        if not isinstance(words, Mapping):
            raise InputError(f'{where}: [vocab.{field}] must map words to codes, e.g. '
                             f'"某某煤" = "coal".')
        for word, code in words.items():
            if not isinstance(code, str) or code not in VOCABS[field]:
                raise InputError(f"{where}: [vocab.{field}] {word!r} = {code!r}: not a {field} "
                                 f"code; use one of {', '.join(VOCABS[field])}.")
            key = normalise(word)
            if key is None:
                raise InputError(f"{where}: [vocab.{field}] has a blank word.")
            out.setdefault(field, {})[key] = code
    return out


@contextlib.contextmanager
def extended(extra: Any, where: str = "config") -> Iterator[dict[str, dict[str, str]]]:
    """Within the block, the vocabularies also know the config's words (``[vocab.<field>]``)."""
    checked = check_extension(extra, where)
    token = _EXTRA.set(checked)
    try:
        yield checked
    finally:
        _EXTRA.reset(token)


def extension() -> dict[str, dict[str, str]]:
    """The words added by the active :func:`extended` block ({} outside one)."""
    return {k: dict(v) for k, v in _EXTRA.get().items()}


def table(field: str) -> dict[str, str]:
    """Normalised word -> code of vocabulary `field`, config words included (they win)."""
    base = {normalise(w): code for code, words in VOCABS[field].items() for w in words}
    base.update(_EXTRA.get().get(field, {}))
    return base  # type: ignore[return-value]


def words(values: Iterable[Any]) -> pd.Series:
    """The normalised words of `values` (None where blank), as an object Series."""
    s = (values if isinstance(values, pd.Series) else pd.Series(list(values))).astype(object)
    m = {u: normalise(u) for u in pd.unique(s[s.notna()])}  # each distinct value once
    out = s.map(m)
    return out.astype(object).where(out.notna(), None)


def codes(values: Iterable[Any], field: str, *, blank: str | None = UNKNOWN) -> pd.Series:
    """Codes of `values` in vocabulary `field`: unknown words -> "unknown", blanks -> `blank`."""
    w = words(values)
    out = w.map(table(field)).astype(object)
    out = out.where(out.notna(), UNKNOWN)
    out[w.isna().to_numpy()] = blank
    return out.where(out.notna(), None)


def fuel(values: Iterable[Any]) -> pd.Series:
    """Fuel groups (燃煤 -> coal, 焦炭 -> coal_product, 煤气 -> coal_gas); blank -> unknown."""
    return codes(values, "fuel", blank=UNKNOWN)


def status(values: Iterable[Any]) -> pd.Series:
    """Statuses (在营 -> operating, 备用 -> idle, 已取缔 -> retired); blank -> operating."""
    return codes(values, "status", blank="operating")


def kind(values: Iterable[Any]) -> pd.Series:
    """Facility kinds (锅炉 -> boiler, 散煤经营点 -> coal_seller); blank -> None (not given)."""
    return codes(values, "kind", blank=None)


def method(values: Iterable[Any]) -> pd.Series:
    """Conversion methods (气代煤 -> gas, 洁净型煤 -> clean_coal); blank -> None."""
    return codes(values, "method", blank=None)


def stage(values: Iterable[Any]) -> pd.Series:
    """Emission stages (国Ⅱ -> stage2, 未达国一 -> stage0, 电动 -> electric); blank -> unknown."""
    return codes(values, "stage", blank=UNKNOWN)


def unknown_values(values: Iterable[Any], field: str) -> pd.Series:
    """Row counts of the distinct words (as typed, stripped) that vocabulary `field` does not know.

    Blanks are not counted here. Sorted by count, then word.
    """
    s = values if isinstance(values, pd.Series) else pd.Series(list(values), dtype=object)
    w = words(s)
    t = table(field)
    bad = w.notna() & ~w.isin(list(t))
    if not bad.any():
        return pd.Series(dtype=np.int64)
    shown = s[bad].map(lambda v: str(v).strip())
    counts = shown.value_counts()
    return counts.sort_index().sort_values(ascending=False, kind="stable")


def selection(field: str, items: Iterable[Any], *, param: str) -> tuple[str, ...]:
    """Check a parameter that names codes or words of vocabulary `field` (``boiler_fuels``).

    Each item is a code (``coal``) or a vocabulary word (``无烟煤``, config words included);
    returns them normalised. An empty list or an unknown item raises InputError naming
    ``params.<param>``.
    """
    items = list(items)
    if not items:
        raise InputError(f"params.{param} is empty; list at least one {field}, e.g. "
                         f"{list(VOCABS[field])[:2]}.")
    t = table(field)
    out, bad = [], []
    for it in items:
        key = normalise(it)
        if key is not None and (key in VOCABS[field] or key in t):
            out.append(key)
        else:
            bad.append(it)
    if bad:
        raise InputError(
            f"params.{param}: unknown {field}(s) {bad}; use a {field} code "
            f"({', '.join(VOCABS[field])}) or a word of the vocabulary (e.g. "
            f"{', '.join(list(VOCABS[field].values())[0][1:4])}), or add the word under "
            f"[vocab.{field}] in the config.")
    return tuple(dict.fromkeys(out))


def matches(code: pd.Series, word: pd.Series, chosen: Iterable[str]) -> np.ndarray:
    """Rows whose code, or whose normalised word, is one of `chosen` (see :func:`selection`)."""
    chosen = list(chosen)
    return (pd.Series(code).isin(chosen).to_numpy()
            | pd.Series(word).isin(chosen).to_numpy())


def label(field: str, code: Any) -> str:
    """Chinese label of a code (``label("fuel", "coal")`` -> 燃煤); the code itself if none."""
    if code is None or (isinstance(code, float) and np.isnan(code)):
        return ""
    return LABELS.get(field, {}).get(str(code), str(code))


def labels(field: str, values: Iterable[Any]) -> pd.Series:
    """Chinese labels of a Series of codes."""
    s = pd.Series(values, dtype=object) if not isinstance(values, pd.Series) else values
    return s.map(lambda c: label(field, c)).astype(object)


def _register_display_labels() -> None:
    """Make these labels the ones people see (:data:`spatial.labels.LABELS`).

    The library's display layer knows no vocabulary of the inventories; the application gives
    it the Chinese words of its codes once, at import (codes it does not know keep theirs).
    """
    from spatial import labels as display

    for field, table in LABELS.items():
        display.LABELS[field] = {**display.LABELS.get(field, {}), **table}


_register_display_labels()
