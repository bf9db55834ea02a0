"""fire-points rules on a hand-made season: accountability numbers, warnings, villages,
receptors, cropland, and the 核查 round trip (sheet written, filled as a township would, read back).
"""

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pytest
import shapely
from pyproj import Geod

from analyses import fire_accountability as acc
from analyses import fire_points as fp
from analyses import fire_verification as fv
from spatial import firms
from spatial.errors import InputError

GEOD = Geod(ellps="WGS84")
HEADER = ["latitude", "longitude", "bright_ti4", "scan", "track", "acq_date", "acq_time",
          "satellite", "confidence", "version", "bright_ti5", "frp", "daynight"]
# five fires, far apart (> 1 km) or more than 24 h apart: five events. UTC 05:00 = 13:00 local.
SEASON = [(116.10, 35.10, "2024-06-01 0500"),   # e1, T1 -> event 1
          (116.30, 35.30, "2024-06-02 0500"),   # e2, T1 -> event 2
          (116.40, 35.20, "2024-06-03 0500"),   # e3, T1 -> event 4
          (116.70, 35.20, "2024-06-02 0600"),   # e4, T2 -> event 3
          (116.20, 35.40, "2024-06-03 0510")]   # e5, T1 -> event 5
SECRETARY = acc.DEFAULT_RULES[1].split("=", 1)[1]
HEAD = acc.DEFAULT_RULES[0].split("=", 1)[1]


def viirs(rows):
    recs = [[str(lat), str(lon), "330", "0.4", "0.4", *t.split(), "N", "n", "2.0NRT", "290",
             "5.0", "D"] for lon, lat, t in rows]
    f, rej = firms.normalize(pd.DataFrame(recs, columns=HEADER, dtype=object), path="t.csv")
    assert len(rej) == 0
    return f


def polys(rows):
    return gpd.GeoDataFrame([{"code": c, "name": n, "geometry": shapely.box(*b)}
                             for c, n, b in rows], crs="EPSG:4326")


COUNTIES = polys([("370801", "甲县", (116.0, 35.0, 117.0, 35.5))])
TOWNS = polys([("370801001", "一镇", (116.0, 35.0, 116.5, 35.5)),
               ("370801002", "二镇", (116.5, 35.0, 117.0, 35.5))])


def run(rows=SEASON, **kw):
    inputs = {"fires": viirs(rows), "counties": COUNTIES, "townships": TOWNS}
    inputs.update(kw.pop("inputs", {}))
    return fp.run(inputs, fp.Params(**kw))


def test_township_event_numbers_and_levels():
    ev = run().layers["events"]
    assert ev["event_id"].tolist() == [1, 2, 3, 4, 5]
    assert ev["township_name"].tolist() == ["一镇", "一镇", "二镇", "一镇", "一镇"]
    # 一镇: events 1, 2, 4, 5 are its 1st..4th; 二镇: event 3 is its 1st (by hand)
    assert ev["township_event_no"].tolist() == [1, 2, 1, 3, 4]
    assert ev["accountability"].tolist() == [HEAD + acc.PENDING_NOTE] + [
        SECRETARY + acc.PENDING_NOTE, HEAD + acc.PENDING_NOTE, SECRETARY + acc.PENDING_NOTE,
        SECRETARY + acc.PENDING_NOTE]
    # custom rules: from the 3rd event "C"
    ev = run(accountability_rules=("1=A", "3=C")).layers["events"]
    assert [a.replace(acc.PENDING_NOTE, "") for a in ev["accountability"]] == [
        "A", "A", "A", "C", "C"]
    with pytest.raises(InputError, match="accountability_rules"):
        fp.Params(accountability_rules=("first=乡镇长",))


def test_numbers_restart_per_window():
    ev = run(windows=("2024-06-01/2024-06-02", "2024-06-03/2024-06-30")).layers["events"]
    # window 1: 一镇 events 1, 2; 二镇 event 3. window 2: 一镇 events 4, 5
    assert ev["township_event_no"].tolist() == [1, 2, 1, 1, 2]


def test_warning_periods():
    warnings = pd.DataFrame({"start": ["2024-06-02 00:00", "2024-06-03"],
                             "end": ["2024-06-02", "2024-06-03 23:00"],
                             "level": ["橙色", "红色"], "area": ["370801", "其他县"]})
    r = run(inputs={"warnings": warnings})
    ev = r.layers["events"]
    # events 2 and 3 start on 06-02 (13:00, 14:00 local) in county 370801; the 06-03 warning
    # is for another county
    assert ev["during_warning"].tolist() == [False, True, True, False, False]
    assert ev["warning_level"].fillna("").tolist() == ["", "橙色", "橙色", "", ""]
    assert ev["accountability"][1].startswith(SECRETARY + acc.WARNING_NOTE)
    assert any("2 events during heavy-pollution warnings" in s for s in r.summary)


def test_nearest_village_and_receptors():
    x, y, _ = GEOD.fwd(116.10, 35.10, 90, 500)       # 0.5 km east of e1
    fx, fy, _ = GEOD.fwd(116.40, 35.20, 0, 5000)     # 5 km north of e3: beyond 2 km
    villages = gpd.GeoDataFrame({"name": ["东村", "北村"], "township": ["一镇", "一镇"],
                                 "keeper": ["张三", "李四"], "lon": [x, fx], "lat": [y, fy]},
                                geometry=gpd.points_from_xy([x, fx], [y, fy]), crs="EPSG:4326")
    rec = []
    for name, kind, d in (("第一小学", "school", 1000), ("人民医院", "hospital", 2500),
                          ("敬老院", "care_home", 4000)):
        rx, ry, _ = GEOD.fwd(116.70, 35.20, 45, d)
        rec.append({"name": name, "kind": kind, "lon": rx, "lat": ry})
    ev = run(inputs={"villages": villages, "receptors": pd.DataFrame(rec)}).layers["events"]
    assert ev["village_name"].fillna("").tolist()[:2] == ["东村", ""]
    assert ev["keeper"][0] == "张三" and ev["village_km"][0] == pytest.approx(0.5, abs=0.005)
    assert pd.isna(ev["village_name"][3])  # e3: the only village nearby is 5 km away
    assert ev["receptors"][2] == "第一小学（school，1.00 km）；人民医院（hospital，2.50 km）"
    assert ev["n_receptors"].tolist() == [0, 0, 2, 0, 0]


def test_cropland_flag_or_require():
    crop = gpd.GeoDataFrame({"name": ["耕地"]}, crs="EPSG:4326", geometry=[
        shapely.box(116.0, 35.0, 117.0, 35.35)])  # e5 (35.40) lies off cropland
    r = run(inputs={"cropland": crop})
    assert r.layers["points"]["status"].tolist() == ["kept"] * 5
    assert r.layers["events"]["n_off_cropland"].tolist() == [0, 0, 0, 0, 1]
    assert any("1 kept detections lie off cropland (in 1 events)" in s for s in r.summary)
    r = run(inputs={"cropland": crop}, require_cropland=True)
    assert r.layers["points"]["status"].tolist() == ["kept"] * 4 + ["off_cropland"]
    assert len(r.layers["events"]) == 4
    with pytest.raises(InputError, match="needs \\[inputs.cropland\\]"):
        run(require_cropland=True)


def _events_for_sheet(r):
    e = pd.DataFrame(r.layers["events"].drop(columns="geometry"))
    e["lon_dms"], e["lat_dms"] = fp.dms(e["lon"].to_numpy()), fp.dms(e["lat"].to_numpy())
    return e


def test_verification_round_trip(tmp_path):
    r = run()
    ev = r.layers["events"]
    codes = ev["event_code"].tolist()
    assert len(set(codes)) == 5 and codes[0].startswith("20240601-1300-")
    sent = tmp_path / "notice.xlsx"
    sent.write_bytes(fv.workbook_bytes(_events_for_sheet(r), title="核查表"))
    # what the township sees: one row per event, coordinates in degrees and 度分秒, a drop-down
    wb = openpyxl.load_workbook(sent)
    ws = wb["核查"]
    head = [c.value for c in ws[1]]
    assert head[:2] == ["事件编号", "县区"] and head[-2:] == ["核查结果", "备注"]
    assert [ws.cell(row=i, column=1).value for i in range(2, 7)] == codes
    assert ws.cell(row=2, column=head.index("纬度（度分秒）") + 1).value == "35°06'00.0\""
    dv = ws.data_validations.dataValidation[0]
    assert dv.formula1 == '"属实,非秸秆焚烧,工业热源,未发现"' and str(dv.sqref) == "M2:M6"
    # 一镇 fills two rows and sends the sheet back
    ans = head.index("核查结果") + 1
    ws.cell(row=2, column=ans).value = "属实"
    ws.cell(row=3, column=ans).value = "非秸秆焚烧"
    ws.cell(row=3, column=ans + 1).value = "烧垃圾"
    back1 = tmp_path / "一镇.xlsx"
    wb.save(back1)
    # 二镇 copies its row into a sheet of its own, columns reordered, plus two bad rows
    wb2 = openpyxl.Workbook()
    s2 = wb2.active
    s2.title = "返回"
    s2.append(["核查结果", "备注", "事件编号", "经度", "纬度"])
    s2.append(["工业热源", "砖厂", codes[2], 116.7, 35.2])
    s2.append(["属实", None, "20240601-0000-zzzz", None, None])   # row 3: unknown code
    s2.append(["是", None, codes[3], None, None])                   # row 4: not an answer
    back2 = tmp_path / "二镇.xlsx"
    wb2.save(back2)
    table = fv.read_verification([back2, back1])
    assert sorted(table.frame["result"]) == ["属实", "属实", "工业热源", "非秸秆焚烧"]
    assert table.rejected[["row", "id"]].values.tolist() == [[4, codes[3]]]
    # a later detection at 二镇's 工业热源 is industrial; codes of the other events stay
    later = [*SEASON, (116.70, 35.20, "2024-06-05 0500")]
    r2 = run(later, inputs={"verification": table.frame})
    ev2, pts2 = r2.layers["events"], r2.layers["points"]
    assert ev2["event_code"].tolist() == codes
    assert pts2["status"].tolist() == ["kept"] * 5 + ["industrial"]
    assert pts2["heat_source"].tolist()[-1] == "V" + codes[2]
    assert ev2["verification"].tolist() == ["属实", "非秸秆焚烧", "工业热源", "待核查", "待核查"]
    # 一镇: event 2 refuted, so events 1, 4, 5 are its 1st..3rd; 二镇's only event is refuted
    assert ev2["township_event_no"].isna().tolist() == [False, True, True, False, False]
    assert ev2["township_event_no"].dropna().tolist() == [1, 2, 3]
    rej = r2.tables["rejected"]
    assert rej[["row", "id"]].values.tolist() == [[3, "20240601-0000-zzzz"]]
    assert "unknown event code" in rej["reason"][0]
    t = r2.tables["accountability"].set_index("township_name")
    assert t.loc["一镇", ["n_events", "n_confirmed", "n_not_straw", "n_pending"]].tolist() == [
        4, 1, 1, 2]
    assert t.loc["一镇", "level_confirmed"] == HEAD and t.loc["一镇", "level"] == SECRETARY
    assert t.loc["二镇", "n_industrial"] == 1 and pd.isna(t.loc["二镇", "level"])
    hs = r2.layers["heat_sources"]
    assert hs.loc[hs["source"] == "verified", "id"].tolist() == ["V" + codes[2]]


def test_verification_workbook_without_sheet(tmp_path):
    wb = openpyxl.Workbook()
    wb.active.append(["编号", "结果"])
    p = tmp_path / "x.xlsx"
    wb.save(p)
    with pytest.raises(InputError, match="事件编号 and 核查结果"):
        fv.read_verification([p])


def test_level_for_by_hand():
    rules = acc.parse_rules(["2=B", "1=A", "5=E"])
    assert rules == [(1, "A"), (2, "B"), (5, "E")]
    assert acc.level_for(np.array([0, 1, 2, 4, 5, 9]), rules).tolist() == [
        None, "A", "B", "B", "E", "E"]
