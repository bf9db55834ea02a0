"""fire-points as a daily operation: what is new since the last run, the notice and its workbook.

``lantian run fire-points --config X --date D`` (or ``--since last``) compares the detections
with the previous result in the same output folder (``layers/fire-points/fire-points.gpkg``,
layer ``points``): every detection carries ``first_reported`` (the run date that first saw it;
kept from the previous result, this run's date for the others) and ``is_new``. With ``--date D``
a detection is new when first reported on D, and detections after D (local) are left out, so
re-running a day gives the same result; with ``--since last`` new means not in the previous
result, so running twice reports nothing new the second time.

The run then writes, beside the layers, ``notice_<date>.docx`` (the daily notice) and
``notice_<date>.xlsx`` (the 核查 sheet of the new events); the notices of earlier days stay.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from spatial import export, io
from spatial.errors import InputError
from spatial.report import Report

from . import fire_accountability as acc
from . import fire_groups, fire_verification
from .base import Result

log = logging.getLogger(__name__)

NAME = "fire-points"
KEY_COLUMNS = ["instrument", "satellite", "lat", "lon", "utc_time"]


def detection_keys(frame: pd.DataFrame) -> np.ndarray:
    """Exact key of each detection: instrument, satellite, lat/lon (micro-degrees), UTC minute.

    ``frame`` has ``instrument``, ``satellite``, ``lat``, ``lon`` and ``utc_time`` as text
    ``YYYY-MM-DDTHH:MMZ`` (the points layer's format).
    """
    if len(frame) == 0:
        return np.zeros(0, dtype=object)
    lat = np.round(frame["lat"].to_numpy(float) * 1e6).astype(np.int64).astype(str)
    lon = np.round(frame["lon"].to_numpy(float) * 1e6).astype(np.int64).astype(str)
    key = (frame["instrument"].astype(str) + "|" + frame["satellite"].astype(str) + "|" + lat
           + "|" + lon + "|" + frame["utc_time"].astype(str))
    return key.to_numpy(dtype=object)


def read_previous(cfg: dict[str, Any], spec: Any) -> io.Table:
    """Reader of the ``previous`` input: the key columns and first_reported of a points layer."""
    path = cfg["path"]
    try:
        cols = pyogrio.read_info(path, layer="points")["fields"]
        want = [c for c in [*KEY_COLUMNS, "first_reported"] if c in cols]
        df = pyogrio.read_dataframe(path, layer="points", columns=want, read_geometry=False)
    except Exception as err:  # a damaged or foreign file
        raise InputError(f"{path}: cannot read the previous fire-points result ({err}); move it "
                         "away to start the season afresh.") from None
    if "first_reported" not in df:
        df["first_reported"] = None
    frame = pd.DataFrame({"key": detection_keys(df),
                          "first_reported": df["first_reported"].to_numpy(dtype=object)})
    return io.Table(name=spec.name, path=path, frame=frame, rejected=io.empty_rejected(),
                    encoding="utf-8", crs="wgs84", n_read=len(frame), paths=[path])


def first_reported(keys: np.ndarray, previous: pd.DataFrame | None, *, label: str | None,
                   since_last: bool) -> tuple[np.ndarray, np.ndarray]:
    """``first_reported`` and ``is_new`` of each detection key against the previous result.

    A detection keeps the ``first_reported`` of the previous result; others get `label`. New:
    first reported on `label`, or (`since_last`) not reported by an earlier run.
    """
    n = len(keys)
    first = np.full(n, label, dtype=object)
    seen = np.zeros(n, bool)
    if previous is not None and len(previous):
        prev = previous.drop_duplicates("key").set_index("key")["first_reported"]
        got = pd.Series(keys).map(prev)
        seen = pd.Series(keys).isin(prev.index).to_numpy()
        has = seen & got.notna().to_numpy()
        first[has] = got.to_numpy(dtype=object)[has]
        # a run that was not daily reported nothing: its detections are not "seen"
        seen = has
    is_new = ~seen if since_last else first == label
    return first, np.asarray(is_new, bool)


def apply_rules(events: gpd.GeoDataFrame, points: gpd.GeoDataFrame, inputs: dict[str, Any],
                params: Any, summary: list[str]) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Daily columns, cropland flags and the plans' rules (:mod:`.fire_accountability`)."""
    k = points[points["status"] == "kept"]
    g = k.groupby("event_id")
    ids = events["event_id"]
    off = (k["on_cropland"].astype("boolean") == False).fillna(False)  # noqa: E712
    events["n_off_cropland"] = ids.map(off.groupby(k["event_id"]).sum()).fillna(0).astype(
        np.int64).to_numpy()
    events["first_reported"] = ids.map(fire_groups.group_min_text(
        k["first_reported"], k["event_id"])).to_numpy(dtype=object)
    events["is_new"] = (ids.map(g["is_new"].all()).astype(bool).to_numpy()
                        if params.report_date else None)
    verif = inputs.get("verification")
    verdicts, rejected = None, io.empty_rejected()
    if verif is not None:
        known, rejected, n_later = fire_verification.unknown_codes(
            verif, events["event_code"], after=params.report_date or None)
        verdicts = pd.Series(known["result"].to_numpy(), index=known["event_code"].to_numpy())
        summary.append(f"Verification: {len(known)} answers read"
                       + (f", {len(rejected)} for unknown event codes rejected" if len(rejected)
                          else "")
                       + (f", {n_later} for events after {params.report_date} set aside"
                          if n_later else "") + ".")
    events = acc.annotate(events, rules=params.accountability_rules, tz=params.local_tz,
                          verdicts=verdicts, warnings=inputs.get("warnings"),
                          villages=inputs.get("villages"), village_max_km=params.village_max_km,
                          receptors=inputs.get("receptors"), receptor_km=params.receptor_km)
    n_off = int(off.sum())
    if params.require_cropland:
        summary.append(f"{int((points['status'] == 'off_cropland').sum())} detections off "
                       "cropland left out of the events (require_cropland).")
    elif n_off:
        summary.append(f"{n_off} kept detections lie off cropland (in "
                       f"{int((events['n_off_cropland'] > 0).sum())} events): kept and flagged "
                       "(on_cropland false); set require_cropland = true to leave them out.")
    if inputs.get("villages") is not None:
        summary.append(f"{int(events['village_name'].notna().sum())} of {len(events)} events have "
                       f"a village within {params.village_max_km:g} km (the others: none named).")
    if inputs.get("receptors") is not None:
        summary.append(f"{int((events['n_receptors'] > 0).sum())} events have sensitive receptors "
                       f"within {params.receptor_km:g} km.")
    if inputs.get("warnings") is not None:
        summary.append(f"{int(events['during_warning'].sum())} events during heavy-pollution "
                       "warnings (加重问责).")
    return events, rejected


def prepare(config: dict[str, Any], *, out: Path, date: str | None, since_last: bool,
            verification: list[Path] | None, tz: str = "Asia/Shanghai") -> dict[str, bytes]:
    """Set up a fire-points run in `config` (params and inputs); return the notices to keep.

    Called for every fire-points run of the CLI, so that earlier notices survive any run.

    Adds ``params.report_date`` / ``params.since_last``, the ``previous`` input (the last result
    in `out`, when there is one) and the ``verification`` input (`verification` workbooks).
    """
    from .fire_accountability import today_local

    layers = Path(out) / "layers" / NAME
    # the run replaces layers/fire-points/: the notices of earlier days are put back after it
    kept = {p.name: p.read_bytes() for p in sorted(layers.glob("notice_*.*"))}
    if verification:
        config["inputs"]["verification"] = _entry(*verification)
    gpkg = layers / f"{NAME}.gpkg"
    if gpkg.exists():  # first_reported is carried over by every run
        config["inputs"]["previous"] = _entry(gpkg)
    if date is None and not since_last:  # not a daily run: no notice
        return kept
    if date is not None:
        try:
            pd.Timestamp(date)
        except ValueError:
            raise InputError(f"--date {date!r}: expected YYYY-MM-DD.") from None
    config["params"]["report_date"] = date or today_local(tz)
    config["params"]["since_last"] = bool(since_last)
    return kept


def _entry(*paths: Path) -> dict[str, Any]:
    ps = [Path(p) for p in paths]
    return {"path": ps[0], "paths": ps, "crs": "wgs84", "columns": {}, "sheet": None}


def finish(output: Any, kept: dict[str, bytes]) -> list[Path]:
    """Write the notice and its workbook beside the layers and put the earlier notices back."""
    result: Result = output.result
    folder = Path(output.layers_dir)
    for name, data in kept.items():
        if not (folder / name).exists():
            export.write_bytes_atomic(folder / name, data)
    date = result.params.report_date
    if not date:
        return []
    figure = next((p for p in getattr(output, "figure_paths", ()) if p.suffix == ".png"), None)
    docx = folder / f"notice_{date}.docx"
    xlsx = folder / f"notice_{date}.xlsx"
    export.write_bytes_atomic(docx, notice_bytes(result, figure=figure))
    export.write_bytes_atomic(xlsx, workbook(result))
    return [docx, xlsx]


def new_events(result: Result) -> pd.DataFrame:
    """The events first reported in this run, with 度分秒 coordinates, by event id."""
    from .fire_tables import dms

    ev = result.layers["events"]
    e = pd.DataFrame(ev[ev["is_new"].fillna(False).astype(bool)].drop(columns="geometry"))
    e["lon_dms"], e["lat_dms"] = dms(e["lon"].to_numpy()), dms(e["lat"].to_numpy())
    return e.sort_values("event_id").reset_index(drop=True)


def workbook(result: Result) -> bytes:
    """The notice workbook: the 核查 sheet of the new events."""
    date = result.params.report_date
    from spatial.report import fixed_zip

    return fixed_zip(fire_verification.workbook_bytes(
        new_events(result), title=f"秸秆焚烧卫星火点核查表（{date}）"))


def counts(result: Result) -> dict[str, Any]:
    """The numbers the notice states (new, previous run, season), worked out from the layers."""
    pts, ev = result.layers["points"], result.layers["events"]
    kept = pts[pts["status"] == "kept"]
    date = result.params.report_date
    labels = sorted({x for x in kept["first_reported"].dropna() if x < date})
    prev = labels[-1] if labels else None
    new = ev[ev["is_new"].fillna(False).astype(bool)]
    return {
        "date": date, "previous": prev,
        "new_points": int(kept["is_new"].sum()),
        "previous_points": int((kept["first_reported"] == prev).sum()) if prev else 0,
        "new_events": len(new),
        "new_counties": int(new["county_code"].nunique()),
        "new_townships": int(new["township_code"].nunique()),
        "season_points": len(kept), "season_events": len(ev),
        "confirmed": int((ev["verification"] == "属实").sum()),
        "pending": int((ev["verification"] == "待核查").sum()),
        "refuted": int(ev["verification"].isin(["非秸秆焚烧", "工业热源", "未发现"]).sum()),
        "industrial": int((pts["status"] == "industrial").sum()),
        "during_warning": int(new["during_warning"].sum()),
        "with_receptors": int((new["n_receptors"] > 0).sum()),
    }


def notice_bytes(result: Result, *, figure: Path | None = None) -> bytes:
    """The daily notice (.docx): counts, the table by county and township, new events, map."""
    c = counts(result)
    new = new_events(result)
    r = Report(title="秸秆焚烧卫星遥感火点通报", date=f"{c['date']}（北京时间）")
    change = c["new_points"] - c["previous_points"]
    cmp = (f"，较上次通报（{c['previous']}）{'增加' if change > 0 else '减少'}{abs(change)}个"
           if c["previous"] and change else
           (f"，与上次通报（{c['previous']}）持平" if c["previous"] else ""))
    if c["new_points"]:
        r.paragraph(f"据 NASA FIRMS 卫星遥感监测，截至{c['date']}新监测到疑似秸秆焚烧火点"
                    f"{c['new_points']}个{cmp}，归并为火点事件{c['new_events']}起，涉及"
                    f"{c['new_counties']}个县（市、区）"
                    + (f"{c['new_townships']}个乡镇（街道）" if c["new_townships"] else "")
                    + "。")
    else:
        r.paragraph(f"据 NASA FIRMS 卫星遥感监测，截至{c['date']}未监测到新的疑似秸秆焚烧火点"
                    f"{cmp}。")
    r.paragraph(f"本季累计疑似秸秆焚烧火点{c['season_points']}个、火点事件{c['season_events']}起，"
                f"其中经乡镇核查属实{c['confirmed']}起，核查排除{c['refuted']}起，待核查"
                f"{c['pending']}起；已按工业热源排除卫星火点{c['industrial']}个。")
    if c["during_warning"]:
        r.paragraph(f"其中{c['during_warning']}起发生在重污染天气预警期间，按规定一律加重问责。")
    if c["with_receptors"]:
        names = "；".join(f"{row.event_code}：{row.receptors}"
                         for row in new.itertuples() if row.n_receptors > 0)
        r.paragraph(f"{c['with_receptors']}起新火点事件周边有学校、医院、养老机构等敏感点："
                    f"{names}。")
    r.heading("一、分县区、乡镇（街道）情况")
    r.table(_by_township(result), size=10, widths_cm=[2.0, 3.0, 1.5, 1.5, 1.2, 1.4, 2.8, 2.8])
    r.heading("二、新增火点事件清单")
    if len(new):
        r.table(_event_list(new), size=9,
                widths_cm=[2.3, 1.3, 1.7, 1.2, 1.6, 0.9, 1.7, 1.6, 0.9, 2.2, 0.8])
    else:
        r.paragraph("无。")
    if figure is not None and Path(figure).exists():
        r.heading("三、火点分布图")
        r.figure(Path(figure), width_cm=15.5, caption="图 秸秆焚烧卫星火点与火点事件分布")
    r.paragraph("请各县（市、区）、乡镇（街道）立即组织现场核查，于24小时内将核查表（notice_"
                f"{c['date']}.xlsx“核查”表）报回。依据《聊城市2017—2018年秋冬季大气污染综合治理"
                "攻坚行动方案》（聊办字〔2017〕49号）：发生秸秆焚烧的，每发现1起，对乡镇（街道、"
                "园区）长（主任）进行问责；发现2起，对乡镇（街道、园区）书记和有关县直部门有关"
                "负责人进行问责；重污染天气预警期间出现秸秆焚烧的，一律加重问责。")
    r.paragraph("数据来源：NASA FIRMS（VIIRS 375 m、MODIS 1 km），过境时间为北京时间；卫星火点"
                "为疑似火点，以现场核查为准。", size=11)
    return r.to_bytes()


def _by_township(result: Result) -> pd.DataFrame:
    """Townships (or counties, without townships) with new events; a 合计 row for the season."""
    ev = pd.DataFrame(result.layers["events"].drop(columns="geometry"))
    cols = ["县区", "乡镇（街道）", "新增事件", "累计事件", "属实", "待核查", "问责层级（已查实）",
            "问责层级（含待核查）"]
    key = ["county_name", "township_name"]
    e = ev.assign(county_name=ev["county_name"].fillna("—"),
                  township_name=ev["township_name"].fillna("—"),
                  new=ev["is_new"].fillna(False).astype(int),
                  conf=(ev["verification"] == "属实").astype(int),
                  pend=(ev["verification"] == "待核查").astype(int))
    g = e.groupby(key, sort=True)
    t = g[["new", "conf", "pend"]].sum().join(g.size().rename("n")).reset_index()
    acc_t = result.tables["accountability"]

    def levels(col: str) -> np.ndarray:
        if len(acc_t) == 0:
            return np.full(len(t), "", dtype=object)
        lv = acc_t.groupby(key)[col].agg(
            lambda s: "；".join(sorted({x for x in s if isinstance(x, str)})))
        return t.set_index(key).index.map(lv).fillna("").to_numpy(dtype=object)

    out = pd.DataFrame({"县区": t["county_name"], "乡镇（街道）": t["township_name"],
                        "新增事件": t["new"], "累计事件": t["n"], "属实": t["conf"],
                        "待核查": t["pend"], "问责层级（已查实）": levels("level_confirmed"),
                        "问责层级（含待核查）": levels("level")}, columns=cols)
    out = out[out["新增事件"] > 0].sort_values(["新增事件", "累计事件", "县区", "乡镇（街道）"],
                                             ascending=[False, False, True, True],
                                             kind="stable")
    units = (f"{len(out)}个乡镇（街道）" if ev["township_code"].notna().any()
             else f"{out['县区'].nunique()}个县（市、区）")
    total = pd.DataFrame([["合计", units, int(out["新增事件"].sum()),
                           len(ev), int(e["conf"].sum()), int(e["pend"].sum()), "", ""]],
                         columns=cols)
    return pd.concat([out, total], ignore_index=True)


def _event_list(new: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "事件编号": new["event_code"], "县区": new["county_name"], "乡镇": new["township_name"],
        "村": new["village_name"], "开始时间": new["start_time"], "火点数": new["n_points"],
        "经度": new["lon_dms"], "纬度": new["lat_dms"],
        "乡镇第几起": new["township_event_no"], "问责": new["accountability"],
        "敏感点数": new["n_receptors"].where(new["n_receptors"] > 0, None)})
