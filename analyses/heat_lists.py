"""heat-radius lists: screening sites, the 关停整合清单 and the review tables.

Screening one set of sites against the qualifying plants, the 关停整合清单 (``targets``), the
``new_coal`` and ``unknown_fuel`` tables, and vocabulary rejections.

Helpers of :mod:`analyses.heat_radius`; every distance is geodesic on the WGS-84 ellipsoid.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from spatial import geodesy, io

from . import vocab

#: 聊办字〔2017〕49号 item 9: "淘汰20蒸吨以下燃煤锅炉"; item 10: "保留的20蒸吨及以上
#: 燃煤锅炉…超低排放" — below the limit a target is to be shut down, at or above it integrated
#: into the CHP plant's heat network (parameter ``shutdown_below_th``)
ADVICE_SHUTDOWN, ADVICE_INTEGRATE = "关停", "整合"

#: which rule makes a boiler a target (``target_rule``) and its label (依据)
RULE_LABELS = {"radius": "供热半径", "network": "管网覆盖范围",
               "radius+network": "供热半径、管网覆盖范围"}

TARGET_COLUMNS = ["序号", "县（市、区）", "单位名称", "编号", "设备类型", "规模（蒸吨/小时或MW）",
                  "规模单位", "燃料", "状态", "最近电厂", "距离（公里）", "距运行管网（米）",
                  "依据", "建议（关停/整合）",
                  "county_code"]  # the county's adcode: `lantian export --by county` splits by it


@dataclass
class Screen:
    """Where each site lies against the qualifying plants' radius (arrays aligned with sites)."""

    in_radius: np.ndarray
    n_within: np.ndarray
    nearest_id: np.ndarray
    nearest_name: np.ndarray
    distance_km: np.ndarray
    pair_site: np.ndarray
    pair_plant: np.ndarray


def screen(lng: np.ndarray, lat: np.ndarray, own: np.ndarray | None, q: pd.DataFrame,
           radius_m: float) -> Screen:
    """Measure sites (lng, lat in degrees) against qualifying plants `q` (id, name, lon, lat).

    `own` holds each site's plant id (None if none): a plant's own units are not measured
    against that plant. Distances in km, rounded to the metre.
    """
    own_key = own if own is not None else np.full(len(lng), None, dtype=object)
    qlng, qlat = q["lon"].to_numpy(dtype=float), q["lat"].to_numpy(dtype=float)
    qid = q["id"].to_numpy(dtype=object)
    ia, ip, _ = geodesy.pairs_within(lng, lat, qlng, qlat, distance=radius_m)
    keep = ~(own_key[ia] == qid[ip])
    ia, ip = ia[keep], ip[keep]
    n_within = np.bincount(ia, minlength=len(lng))
    near_i, near_d = geodesy.nearest(lng, lat, qlng, qlat, a_key=own_key, b_key=qid)
    has = near_i >= 0
    ids = np.full(len(lng), None, dtype=object)
    names = np.full(len(lng), None, dtype=object)
    ids[has] = qid[near_i[has]]
    names[has] = q["name"].to_numpy(dtype=object)[near_i[has]]
    return Screen(n_within > 0, n_within, ids, names, np.round(near_d / 1000.0, 3), ia, ip)


def reject_unknown(frame: pd.DataFrame, input_name: str, fields: tuple[str, ...]
                   ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split off rows whose (already coded) `fields` are ``unknown``: (kept, rejected rows).

    The raw word is in ``<field>_raw``; the reason names it and the ``[vocab.<field>]`` fix.
    """
    reasons = pd.Series([None] * len(frame), index=frame.index, dtype=object)
    for f in fields:
        bad = (frame[f] == vocab.UNKNOWN).to_numpy()
        if bad.any():
            raw = frame.loc[bad, f"{f}_raw"].astype(str)
            msg = (f"unknown {f} '" + raw + f"': add it under [vocab.{f}] in the config "
                   f"(codes: {', '.join(vocab.VOCABS[f])})")
            reasons[bad] = reasons[bad].where(reasons[bad].notna(), msg)
    bad = reasons.notna().to_numpy()
    if not bad.any():
        return frame, io.empty_rejected()
    rej = pd.DataFrame({"input": input_name, "file": "", "row": frame["row"][bad].to_numpy(),
                        "id": frame["id"][bad].to_numpy(dtype=object),
                        "reason": reasons[bad].to_numpy(dtype=object)})
    return frame[~bad].reset_index(drop=True), rej


def advice(kind: pd.Series, status: pd.Series, capacity_th: pd.Series,
           shutdown_below_th: float) -> np.ndarray:
    """建议 per target: 关停 (idle, small CHP/captive units, boilers < limit), 整合 (>= limit)."""
    th = capacity_th.to_numpy(dtype=float)
    out = np.where(th >= shutdown_below_th, ADVICE_INTEGRATE, ADVICE_SHUTDOWN).astype(object)
    out[np.isnan(th)] = "关停或整合（规模不明，待核实）"
    out[kind.isin(["small_chp", "captive"]).to_numpy()] = ADVICE_SHUTDOWN
    out[(status == "idle").to_numpy()] = ADVICE_SHUTDOWN
    return out


def targets_table(boilers: pd.DataFrame, plants: pd.DataFrame, shutdown_below_th: float
                  ) -> pd.DataFrame:
    """关停整合清单: one row per target (boilers, then small CHP plants), Chinese headers.

    Both frames carry id, name, kind, fuel, status, county_name, nearest_plant_name,
    distance_km, target, target_rule (radius, network or radius+network: 依据);
    boilers ``capacity_th`` (t/h) and ``network_distance_m``, plants ``capacity_mw`` (MW).
    A target of the network rule is shut down (聊环发〔2023〕7号 三(三): 淘汰管网覆盖范围内的
    燃煤锅炉), whatever its size.
    """
    parts = []
    for frame, cap, unit in ((boilers, "capacity_th", "蒸吨/小时"), (plants, "capacity_mw", "MW")):
        t = frame[frame["target"].to_numpy(dtype=bool)]
        th = t[cap] if cap == "capacity_th" else pd.Series(np.nan, index=t.index)
        rule = t["target_rule"] if "target_rule" in t else pd.Series("radius", index=t.index)
        adv = advice(t["kind"].fillna("boiler"), t["status"], th, shutdown_below_th)
        adv[rule.isin(["network", "radius+network"]).to_numpy()] = ADVICE_SHUTDOWN
        dnet = (t["network_distance_m"].to_numpy(dtype=float) if "network_distance_m" in t
                else np.full(len(t), np.nan))
        parts.append(pd.DataFrame({
            "县（市、区）": t["county_name"].fillna("(县区不明)").to_numpy(dtype=object),
            "county_code": t["county_code"].to_numpy(dtype=object),
            "单位名称": t["name"].to_numpy(dtype=object),
            "编号": t["id"].to_numpy(dtype=object),
            "设备类型": vocab.labels("kind", t["kind"].fillna("boiler")).to_numpy(dtype=object),
            "规模（蒸吨/小时或MW）": t[cap].to_numpy(dtype=float),
            "规模单位": unit,
            "燃料": t["fuel_raw"].fillna("").to_numpy(dtype=object),
            "状态": vocab.labels("status", t["status"]).to_numpy(dtype=object),
            "最近电厂": t["nearest_plant_name"].to_numpy(dtype=object),
            "距离（公里）": t["distance_km"].to_numpy(dtype=float),
            "距运行管网（米）": dnet,
            "依据": rule.map(RULE_LABELS).to_numpy(dtype=object),
            "建议（关停/整合）": adv,
        }))
    out = pd.concat(parts, ignore_index=True)
    out = out.sort_values(["县（市、区）", "距离（公里）", "编号"],
                          kind="stable").reset_index(drop=True)
    out.insert(0, "序号", np.arange(1, len(out) + 1))
    return out[TARGET_COLUMNS]


LIST_COLUMNS = ["source", "id", "name", "kind", "capacity_th", "capacity_mw", "fuel_raw", "fuel",
                "status", "in_radius", "nearest_plant_name", "distance_km", "county_code",
                "county_name", "row"]


def listing(boilers: pd.DataFrame, plants: pd.DataFrame, mask_b: np.ndarray,
            mask_p: np.ndarray) -> pd.DataFrame:
    """Rows of boilers and plants selected by the masks, in :data:`LIST_COLUMNS`."""
    parts = []
    for src, frame, mask in (("boilers", boilers, mask_b), ("plants", plants, mask_p)):
        f = frame[mask]
        parts.append(pd.DataFrame({c: (f[c].to_numpy() if c in f else np.full(len(f), None))
                                   for c in LIST_COLUMNS if c != "source"}).assign(source=src))
    out = pd.concat(parts, ignore_index=True)[LIST_COLUMNS]
    for c in ("capacity_th", "capacity_mw", "distance_km"):
        out[c] = out[c].astype(float)
    out["in_radius"] = out["in_radius"].astype(bool)
    return out
