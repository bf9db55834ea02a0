"""What burns illegally in a no-burn zone, by class of the 2017 high-polluting fuel catalogue.

《高污染燃料目录》 (原环境保护部, 国环规大气〔2017〕2号): a city chooses one class for its zone.

- 第Ⅰ类（一般）: (一) 单台出力小于20蒸吨/小时的锅炉和民用燃煤设备燃用的含硫量大于0.5%、灰分大于
  10%的煤炭及其制品; (二) 石油焦、油页岩、原油、重油、渣油、煤焦油.
- 第Ⅱ类（较严）: (一) 除单台出力大于等于20蒸吨/小时锅炉以外燃用的煤炭及其制品; (二) the same oils.
- 第Ⅲ类（严格）: (一) 煤炭及其制品; (二) the same oils; (三) 非专用锅炉或未配置高效除尘设施的
  专用锅炉燃用的生物质成型燃料.

《中华人民共和国大气污染防治法》 第三十八条: "在禁燃区内，禁止销售、燃用高污染燃料" — coal sellers
(散煤经营点) and coal stores inside the zone are violations in every class.

A facility the rules cannot judge is never taken as clean: its ``finding`` is
``quality_unknown`` (class I coal without sulphur/ash), ``capacity_unknown`` (a coal boiler
without t/h where the class depends on it), ``dedicated_unknown`` (class III pellets without
the dedicated-boiler flag) or ``fuel_unknown`` (blank, unknown or 煤气 fuel).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from spatial import admin, io

from . import noburn_geometry as geometry
from . import vocab

ZONE_CLASSES = ("I", "II", "III")
CLASS_NAMES = {"I": "Ⅰ类（一般）", "II": "Ⅱ类（较严）", "III": "Ⅲ类（严格）"}

#: coal and coal products (catalogue 注: 煤炭及其制品), with producer gas made from coal on site
COAL = ("coal", "coal_product", "producer_gas")
#: catalogue item (二) of every class
OILS = ("heavy_oil",)
#: kinds judged as boilers (the catalogue's 锅炉, by t/h); blank kinds count as boilers
BOILER_KINDS = ("boiler", "small_chp", "captive")
#: 民用燃煤设备 of class I
STOVE_KINDS = ("stove",)
#: selling or storing coal: violations in every class (大气污染防治法 第三十八条)
SELLER_KINDS = ("coal_seller", "coal_store")

RULES = {
    "seller": "大气污染防治法第三十八条：禁燃区内禁止销售、燃用高污染燃料（散煤经营点/储煤场）",
    "oil": "{cls}（二）：石油焦、油页岩、原油、重油、渣油、煤焦油",
    "I_coal": "Ⅰ类（一）：单台出力小于20蒸吨/小时的锅炉和民用燃煤设备燃用的含硫量大于0.5%、"
              "灰分大于10%的煤炭及其制品",
    "II_coal": "Ⅱ类（一）：除单台出力大于等于20蒸吨/小时锅炉以外燃用的煤炭及其制品",
    "III_coal": "Ⅲ类（一）：煤炭及其制品",
    "III_pellet": "Ⅲ类（三）：非专用锅炉或未配置高效除尘设施的专用锅炉燃用的生物质成型燃料",
    "fuel_unknown": "燃料不明或为煤气，无法按目录判断：请核实燃料",
    "quality_unknown": "Ⅰ类（一）：缺少含硫量/灰分，无法判断是否超过0.5%/10%：请补充煤质",
    "capacity_unknown": "{cls}：燃煤锅炉缺少蒸吨，无法判断是否小于20蒸吨/小时：请补充规模",
    "dedicated_unknown": "Ⅲ类（三）：缺少是否专用锅炉（配高效除尘），无法判断：请核实",
}


def judge(f: pd.DataFrame, zone_class: str, *, coal: np.ndarray | None = None,
          seller: np.ndarray | None = None, max_sulfur_pct: float = 0.5,
          max_ash_pct: float = 10.0, boiler_limit_th: float = 20.0
          ) -> tuple[np.ndarray, np.ndarray]:
    """Finding and rule of each facility as if it stood inside a zone of `zone_class`.

    Parameters
    ----------
    f
        Facilities with coded ``fuel``, ``kind`` (None = not given), and optional
        ``capacity_th`` (t/h), ``sulfur_pct``, ``ash_pct`` (%, as received), and
        ``dedicated_boiler`` (bool: a dedicated biomass boiler with efficient dust removal).
    zone_class
        ``"I"``, ``"II"`` or ``"III"``.
    coal, seller
        Rows burning coal or coal products (default: fuel in :data:`COAL`) and rows selling or
        storing coal (default: kind in :data:`SELLER_KINDS`), e.g. from the parameters.
    max_sulfur_pct, max_ash_pct, boiler_limit_th
        Class I limits of the catalogue: 0.5 % sulphur, 10 % ash, 20 t/h.

    Returns
    -------
    finding, rule
        Object arrays: finding is ``"violation"``, one of the ``*_unknown`` findings, or None
        (allowed); rule is the catalogue's wording (None where allowed).
    """
    n = len(f)
    finding = np.full(n, None, dtype=object)
    rule = np.full(n, None, dtype=object)
    cls = CLASS_NAMES[zone_class]

    def col(name: str) -> np.ndarray:
        return (pd.to_numeric(f[name], errors="coerce").to_numpy(dtype=float) if name in f
                else np.full(n, np.nan))

    fuel, kind = f["fuel"].to_numpy(dtype=object), f["kind"].to_numpy(dtype=object)
    th, sulfur, ash = col("capacity_th"), col("sulfur_pct"), col("ash_pct")
    dedicated = (f["dedicated_boiler"].astype("boolean") if "dedicated_boiler" in f
                 else pd.Series(pd.NA, index=f.index, dtype="boolean"))
    coal = np.isin(fuel, COAL) if coal is None else np.asarray(coal, dtype=bool)
    boiler = pd.isna(kind) | np.isin(kind, BOILER_KINDS)
    stove = np.isin(kind, STOVE_KINDS)
    seller = np.isin(kind, SELLER_KINDS) if seller is None else np.asarray(seller, dtype=bool)
    small = th < boiler_limit_th
    big = th >= boiler_limit_th
    no_th = np.isnan(th)

    def mark(mask: np.ndarray, what: str, text: str) -> None:
        free = mask & pd.isna(finding)
        finding[free] = what
        rule[free] = text.format(cls=cls)

    mark(seller, "violation", RULES["seller"])
    mark(np.isin(fuel, OILS), "violation", RULES["oil"])
    if zone_class == "I":
        scope = (boiler & small) | stove
        over = (sulfur > max_sulfur_pct) | (ash > max_ash_pct)
        known = ~np.isnan(sulfur) & ~np.isnan(ash)
        mark(coal & scope & over, "violation", RULES["I_coal"])
        mark(coal & scope & ~over & ~known, "quality_unknown", RULES["quality_unknown"])
        mark(coal & boiler & no_th & ~(known & ~over), "capacity_unknown",
             RULES["capacity_unknown"])
    elif zone_class == "II":
        mark(coal & ~(boiler & (big | no_th)), "violation", RULES["II_coal"])
        mark(coal & boiler & no_th, "capacity_unknown", RULES["capacity_unknown"])
    else:
        mark(coal, "violation", RULES["III_coal"])
        pellet = fuel == "biomass_pellet"
        ded_known = dedicated.notna().to_numpy()
        ded_yes = dedicated.fillna(False).to_numpy(dtype=bool)
        mark(pellet & ded_known & ~ded_yes, "violation", RULES["III_pellet"])
        mark(pellet & ~ded_known, "dedicated_unknown", RULES["dedicated_unknown"])
    mark(np.isin(fuel, (vocab.UNKNOWN, "coal_gas")), "fuel_unknown", RULES["fuel_unknown"])
    return finding, rule


def describe(zone_class: str) -> str:
    """One line for the summary and the manifest: the class and its source."""
    return (f"zone_class {zone_class} = {CLASS_NAMES[zone_class]} of 《高污染燃料目录》"
            "(国环规大气〔2017〕2号); sellers and stores: 大气污染防治法第三十八条")


def screen_facilities(fac: gpd.GeoDataFrame | None, zone: gpd.GeoDataFrame,
                      cur_union: shapely.Geometry | None, counties: gpd.GeoDataFrame | None,
                      townships: gpd.GeoDataFrame | None, zone_class: str,
                      coal_fuels: tuple[str, ...], coal_kinds: tuple[str, ...]
                      ) -> tuple[gpd.GeoDataFrame, pd.DataFrame, int, pd.DataFrame]:
    """Facilities (not retired) inside the proposed or current zone, judged by the zone class.

    Returns the ``violations`` layer (finding = violation, with the catalogue's ``rule``), the
    ``facility_review`` table (facilities the rules cannot judge: quality, capacity, dedicated
    boiler or fuel unknown), the number of active facilities judged, and rejected rows
    (unknown status or kind).
    """
    cols = ["id", "name", "kind", "fuel", "fuel_raw", "status", "capacity_th", "sulfur_pct",
            "ash_pct", "finding", "rule", "in_proposed", "in_current", "zone_id", "county_code",
            "county_name", "township_code", "township_name", "lon", "lat", "row"]
    if fac is None or len(fac) == 0:
        empty = gpd.GeoDataFrame({c: pd.Series(dtype=object) for c in cols},
                                 geometry=gpd.GeoSeries([], crs="EPSG:4326"), crs="EPSG:4326")
        return empty, pd.DataFrame(empty.drop(columns="geometry")), 0, io.empty_rejected()
    f = fac.reset_index(drop=True).copy()
    for c in ("fuel", "kind", "status", "name", "capacity_th", "sulfur_pct", "ash_pct"):
        if c not in f:
            f[c] = None
    f["fuel_raw"] = f["fuel"].map(lambda x: None if pd.isna(x) or not str(x).strip()
                                  else str(x).strip()).astype(object)
    words = {c: vocab.words(f[c]) for c in ("fuel", "kind", "status")}
    f["fuel"], f["kind"], f["status"] = (vocab.fuel(f["fuel"]), vocab.kind(f["kind"]),
                                         vocab.status(f["status"]))
    bad = (f["status"] == vocab.UNKNOWN) | (f["kind"] == vocab.UNKNOWN)
    rej = io.empty_rejected()
    if bad.any():
        what = np.where(f["status"][bad] == vocab.UNKNOWN,
                        "unknown status '" + words["status"][bad].astype(str) + "'",
                        "unknown kind '" + words["kind"][bad].astype(str) + "'")
        rej = pd.DataFrame({"input": "facilities", "file": "", "row": f["row"][bad].to_numpy(),
                            "id": f["id"][bad].to_numpy(dtype=object),
                            "reason": pd.Series(what).to_numpy(dtype=object)
                            + ": add it under [vocab.status] / [vocab.kind] in the config"})
        f, words = f[~bad].reset_index(drop=True), {
            k: w[~bad].reset_index(drop=True) for k, w in words.items()}
    lng, lat = f["lon"].to_numpy(dtype=float), f["lat"].to_numpy(dtype=float)
    coal = vocab.matches(f["fuel"], words["fuel"], coal_fuels)
    seller = vocab.matches(f["kind"], words["kind"], coal_kinds)
    f["finding"], f["rule"] = judge(f, zone_class, coal=coal, seller=seller)
    active = (f["status"] != "retired").to_numpy()
    zpos = geometry.points_in(zone.geometry.to_numpy(), lng, lat)
    f["in_proposed"] = zpos >= 0
    f["zone_id"] = np.where(zpos >= 0, zone["zone_id"].to_numpy(dtype=object)[
        np.maximum(zpos, 0)] if len(zone) else None, None)
    f["in_current"] = (shapely.contains_xy(cur_union, lng, lat)
                       | shapely.intersects_xy(shapely.boundary(cur_union), lng, lat)
                       if cur_union is not None else np.zeros(len(f), dtype=bool))
    inside = active & (f["in_proposed"].to_numpy() | f["in_current"].to_numpy())
    f = f[inside & f["finding"].notna().to_numpy()].reset_index(drop=True)
    f = admin.attach(f, f["lon"].to_numpy(), f["lat"].to_numpy(), counties, level="county")
    f = admin.attach(f, f["lon"].to_numpy(), f["lat"].to_numpy(), townships, level="township")
    viol = f[f["finding"] == "violation"]
    out = gpd.GeoDataFrame(viol[cols], geometry=gpd.points_from_xy(viol["lon"], viol["lat"]),
                           crs="EPSG:4326").reset_index(drop=True)
    review = pd.DataFrame(f.loc[f["finding"] != "violation", cols]).reset_index(drop=True)
    return out, review, int(active.sum()), rej
