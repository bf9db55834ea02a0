"""fire-points in daily operation through the CLI: --date, --since last, the notice read back."""

import docx
import geopandas as gpd
import openpyxl
import pandas as pd
import pyogrio
import shapely

from analyses import cli

HEADER = ("latitude,longitude,bright_ti4,scan,track,acq_date,acq_time,satellite,confidence,"
          "version,bright_ti5,frp,daynight")
# (lon, lat, UTC date, hhmm): 06-01 one fire; 06-02 two fires (one in each township);
# 06-03 two fires in 一镇. UTC 05:00 is 13:00 local (same date).
FIRES = [(116.10, 35.10, "2024-06-01", "0500"), (116.30, 35.30, "2024-06-02", "0500"),
         (116.70, 35.20, "2024-06-02", "0600"), (116.40, 35.20, "2024-06-03", "0500"),
         (116.20, 35.40, "2024-06-03", "0510")]


def _setup(tmp_path):
    rows = [f"{lat},{lon},330,0.4,0.4,{d},{t},N,n,2.0NRT,290,5.0,D" for lon, lat, d, t in FIRES]
    (tmp_path / "fires.csv").write_text(HEADER + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    for name, rows_ in (("counties", [("370801", "甲县", (116.0, 35.0, 117.0, 35.5))]),
                        ("townships", [("370801001", "一镇", (116.0, 35.0, 116.5, 35.5)),
                                       ("370801002", "二镇", (116.5, 35.0, 117.0, 35.5))])):
        gpd.GeoDataFrame([{"code": c, "name": n, "geometry": shapely.box(*b)}
                          for c, n, b in rows_], crs="EPSG:4326").to_file(
            tmp_path / f"{name}.gpkg", engine="pyogrio")
    cfg = tmp_path / "fires.toml"
    cfg.write_text('[inputs.fires]\npath = "fires.csv"\n[inputs.counties]\npath = '
                   '"counties.gpkg"\n[inputs.townships]\npath = "townships.gpkg"\n',
                   encoding="utf-8")
    return cfg


def _run(cfg, out, *extra):
    assert cli.main(["run", "fire-points", "--config", str(cfg), "--out", str(out), "-q",
                     "--offline", *extra]) == 0


def _points(out):
    return pyogrio.read_dataframe(out / "layers/fire-points/fire-points.gpkg", layer="points",
                                  read_geometry=False)


def _text(path):
    d = docx.Document(path)
    return "\n".join(p.text for p in d.paragraphs), d.tables


def test_daily_dates_notice_and_since_last(tmp_path):
    cfg, out = _setup(tmp_path), tmp_path / "out"
    _run(cfg, out, "--date", "2024-06-01")
    pts = _points(out)
    assert pts["first_reported"].tolist() == ["2024-06-01"]  # later days are left out
    _run(cfg, out, "--date", "2024-06-02")
    folder = out / "layers/fire-points"
    first_notice = (folder / "notice_2024-06-02.docx").read_bytes()
    pts = _points(out)
    assert pts["first_reported"].tolist() == ["2024-06-01", "2024-06-02", "2024-06-02"]
    assert pts["is_new"].tolist() == [False, True, True]
    bull = pd.read_csv(out / "layers/fire-points/bulletin.csv")
    assert bull["首次通报日期"].tolist() == ["2024-06-01", "2024-06-02", "2024-06-02"]
    assert bull["本次新增"].tolist() == ["否", "是", "是"]
    text, tables = _text(folder / "notice_2024-06-02.docx")
    # by hand: 2 new detections (1 the day before), 2 events, 1 county, 2 townships; season 3/3
    assert "新监测到疑似秸秆焚烧火点2个，较上次通报（2024-06-01）增加1个，归并为火点事件2起，" \
           "涉及1个县（市、区）2个乡镇（街道）" in text
    assert "本季累计疑似秸秆焚烧火点3个、火点事件3起" in text
    town = [[c.text for c in r.cells] for r in tables[0].rows]
    assert town[0][:4] == ["县区", "乡镇（街道）", "新增事件", "累计事件"]
    assert sorted(r[1:4] for r in town[1:-1]) == [["一镇", "1", "2"], ["二镇", "1", "1"]]
    assert town[-1][:4] == ["合计", "2个乡镇（街道）", "2", "3"]
    new = [[c.text for c in r.cells] for r in tables[1].rows]
    assert len(new) == 3 and new[0][0] == "事件编号"
    assert [r[2] for r in new[1:]] == ["一镇", "二镇"] and [r[8] for r in new[1:]] == ["2", "1"]
    sheet = openpyxl.load_workbook(folder / "notice_2024-06-02.xlsx")["核查"]
    assert [sheet.cell(row=i, column=1).value for i in (2, 3)] == [r[0] for r in new[1:]]
    # the same day again: the same result, byte for byte
    _run(cfg, out, "--date", "2024-06-02")
    assert (folder / "notice_2024-06-02.docx").read_bytes() == first_notice
    assert _points(out)["first_reported"].tolist() == pts["first_reported"].tolist()
    assert (folder / "notice_2024-06-01.docx").exists()  # earlier notices stay
    _run(cfg, out)  # a run that is not daily keeps them too
    assert (folder / "notice_2024-06-01.docx").exists()
    assert (folder / "notice_2024-06-02.docx").read_bytes() == first_notice
    # since last: the two fires of 06-03 are new, then nothing
    _run(cfg, out, "--since", "last")
    pts = _points(out)
    assert pts["is_new"].tolist() == [False, False, False, True, True]
    _run(cfg, out, "--since", "last")
    pts = _points(out)
    assert not pts["is_new"].any()
    date = pts["first_reported"].iloc[-1]
    text, tables = _text(folder / f"notice_{date}.docx")
    assert "未监测到新的疑似秸秆焚烧火点" in text
    assert "本季累计疑似秸秆焚烧火点5个、火点事件5起" in text


def test_daily_flags_are_for_fire_points(tmp_path, capsys):
    code = cli.main(["run", "heat-radius", "--config", "configs/heat-radius.toml", "--date",
                     "2024-06-01"])
    assert code == 2 and "for fire-points" in capsys.readouterr().err
    cfg = _setup(tmp_path)
    code = cli.main(["run", "fire-points", "--config", str(cfg), "--out", str(tmp_path),
                     "--date", "June 1"])
    assert code == 2 and "YYYY-MM-DD" in capsys.readouterr().err


def test_verification_flag_rejects_unknown_rows(tmp_path):
    cfg, out = _setup(tmp_path), tmp_path / "out"
    _run(cfg, out, "--date", "2024-06-02")
    sent = out / "layers/fire-points/notice_2024-06-02.xlsx"
    wb = openpyxl.load_workbook(sent)
    ws = wb["核查"]
    ws.cell(row=2, column=13).value = "属实"
    ws.append(["20990101-0000-ffff", None, None, None, None, None, None, None, None, None, None,
               None, "属实"])
    filled = tmp_path / "filled.xlsx"
    wb.save(filled)
    _run(cfg, out, "--date", "2024-06-02", "--verification", str(filled))
    rej = pd.read_csv(out / "layers/fire-points/rejected.csv")
    # the 2099 code is after the run's day: set aside, not rejected; nothing else is wrong
    assert len(rej) == 0
    ev = pyogrio.read_dataframe(out / "layers/fire-points/fire-points.gpkg", layer="events",
                                read_geometry=False)
    # a first run: every event is new and on the sheet; row 2 is event 1
    assert ev["verification"].tolist() == ["属实", "待核查", "待核查"]
    ws.cell(row=5, column=1).value = "20240602-0000-ffff"
    ws.append(["事件3", None, None, None, None, None, None, None, None, None, None, None, "属实"])
    wb.save(filled)
    _run(cfg, out, "--date", "2024-06-02", "--verification", str(filled))
    rej = pd.read_csv(out / "layers/fire-points/rejected.csv")
    assert rej[["row", "id"]].values.tolist() == [[5, "20240602-0000-ffff"], [6, "事件3"]]


def test_warnings_file_with_chinese_headers(tmp_path, capsys):
    cfg = _setup(tmp_path)
    (tmp_path / "warnings.csv").write_text(
        "开始时间,结束时间,预警级别,区域\n2024-06-02 12:00,2024-06-02 13:30,橙色,甲县\n",
        encoding="gbk")
    cfg.write_text(cfg.read_text(encoding="utf-8") + '[inputs.warnings]\npath = "warnings.csv"\n',
                   encoding="utf-8")
    out = tmp_path / "out"
    _run(cfg, out)
    ev = pyogrio.read_dataframe(out / "layers/fire-points/fire-points.gpkg", layer="events",
                                read_geometry=False)
    # 06-02 13:00 local (event 2) is inside 12:00-13:30; 14:00 (event 3) is not
    assert ev["during_warning"].tolist() == [False, True, False, False, False]
    (tmp_path / "warnings.csv").write_text(
        "开始时间,结束时间,预警级别,区域\n2024-06-02,6月2日,橙色,甲县\n", encoding="gbk")
    code = cli.main(["run", "fire-points", "--config", str(cfg), "--out", str(out), "-q"])
    err = capsys.readouterr().err
    assert code == 2 and "warnings.csv: rows 2 have a start or end" in err
