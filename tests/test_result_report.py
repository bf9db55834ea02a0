"""The Word report of each analysis (layers/<analysis>/report.docx), read back with python-docx."""

import json
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import docx
import openpyxl
import pandas as pd
import pytest
from docx.oxml.ns import qn

from analyses import REGISTRY, cli
from spatial import publish
from spatial.report import _cell, display_table, fit_widths

ANALYSES = list(REGISTRY)
CJK = re.compile(r"[\u4e00-\u9fff]")


def _doc(path: Path) -> docx.Document:
    return docx.Document(str(path))


def _rows(table) -> list[list[str]]:
    return [[c.text for c in row.cells] for row in table.rows]


def _xlsx_headers(path: Path, sheet: str) -> list[str]:
    wb = openpyxl.load_workbook(path, read_only=True)
    return [c for c in next(wb[sheet].iter_rows(max_row=1, values_only=True))]


@pytest.mark.parametrize("name", ANALYSES)
def test_report_title_date_summary_figure_fonts(demo_out, name):
    folder = demo_out / "layers" / name
    man = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    d = _doc(folder / "report.docx")
    texts = [p.text for p in d.paragraphs]
    assert texts[0] == f"{man['title']}分析报告"
    label, date = man["map"]["date"].split(" ")  # 数据日期 2025-12-31, as the map shows it
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", date) and texts[1] == f"{label}：{date}"
    for line in man["summary"]:  # every summary line, with its numbers
        assert line.strip() in texts
    assert "一、主要结果" in texts and "二、主要表格" in texts and "三、分布图" in texts
    # the figure is the run's PNG, byte for byte
    assert len(d.inline_shapes) == 1
    z = zipfile.ZipFile(folder / "report.docx")
    media = [n for n in z.namelist() if n.startswith("word/media/")]
    assert [z.read(n) for n in media] == [(demo_out / "maps" / f"{name}.png").read_bytes()]
    # Chinese fonts: every run names its East-Asian font; headings and table headers 黑体
    runs = [r for p in d.paragraphs for r in p.runs]
    runs += [r for t in d.tables for row in t.rows for c in row.cells
             for p in c.paragraphs for r in p.runs]
    fonts = {r._element.rPr.rFonts.get(qn("w:eastAsia")) for r in runs if r.text}
    assert fonts <= {"仿宋", "宋体", "黑体"} and None not in fonts
    heads = [p for p in d.paragraphs if p.text in ("一、主要结果", "二、主要表格")]
    assert all(p.runs[0]._element.rPr.rFonts.get(qn("w:eastAsia")) == "黑体" for p in heads)
    for t in d.tables:
        head = t.rows[0].cells[0].paragraphs[0].runs[0]
        assert head._element.rPr.rFonts.get(qn("w:eastAsia")) == "黑体"
    assert d.styles["Normal"].element.rPr.rFonts.get(qn("w:eastAsia")) == "仿宋"
    assert d.core_properties.created.year == 2000  # fixed: reruns give the same bytes


def test_heat_radius_tables_match_the_workbook_and_summary(demo_out):
    folder = demo_out / "layers" / "heat-radius"
    d = _doc(folder / "report.docx")
    targets, by_county, villages, bio = (_rows(t) for t in d.tables)
    # headers: the workbook's headers of the same sheets (written by the Excel writer)
    xt = _xlsx_headers(folder / "tables.xlsx", "关停整合清单")
    xc = _xlsx_headers(folder / "tables.xlsx", "按县区统计")
    assert set(targets[0]) <= set(xt) and set(by_county[0]) <= set(xc)
    assert set(villages[0]) <= set(_xlsx_headers(folder / "tables.xlsx", "管网覆盖内散煤村庄"))
    assert set(bio[0]) <= set(_xlsx_headers(folder / "tables.xlsx", "生物质锅炉清单"))
    assert by_county[0][:3] == ["县区名称", "半径内锅炉数（台）", "半径内目标锅炉蒸吨（t/h）"]
    assert all(CJK.search(h) for h in targets[0] + by_county[0])
    # the long list is cut at 30 rows, and the report says how many more the workbook holds
    n_targets = len(pd.read_csv(folder / "targets.csv", encoding="utf-8-sig"))
    assert len(targets) == 1 + 30
    texts = [p.text for p in d.paragraphs]
    assert f"表中列出前 30 行，另有 {n_targets - 30} 行见 tables.xlsx“关停整合清单”表。" in texts
    # the county table adds up to the summary's boilers and t/h inside the radius
    summary = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["summary"]
    m = re.search(r"(\d+) of \d+ screened boilers .* within 30 km: ([\d,.]+) t/h", summary[1])
    assert sum(int(r[1]) for r in by_county[1:]) == int(m.group(1))
    assert sum(float(r[2]) for r in by_county[1:]) == pytest.approx(
        float(m.group(2).replace(",", "")))
    # the boundary boiler at 29.995 km keeps its decimals
    dist = targets[0].index("距离（公里）")
    assert "29.995" in [r[dist] for r in targets[1:]]


def test_pollution_hotspots_last_month_and_cut(demo_out):
    folder = demo_out / "layers" / "pollution-hotspots"
    d = _doc(folder / "report.docx")
    texts = [p.text for p in d.paragraphs]
    aq = pd.read_csv(folder / "aq_stats.csv", encoding="utf-8-sig", dtype={"code": str})
    month = aq[aq["period_type"] == "month"]["period"].max()
    assert any(t.startswith("（一）县区综合指数排名") and month in t for t in texts)
    ranking, stats, top = (_rows(t) for t in d.tables)
    rk = pd.read_csv(folder / "ranking.csv", encoding="utf-8-sig")
    rk = rk[(rk["period"] == month) & (rk["level"] == "county")].sort_values("rank_index")
    assert [r[1] for r in ranking[1:]] == rk["name"].tolist()[:30]
    # city first, then the counties of that month
    want = aq[(aq["period"] == month) & aq["level"].isin(["city", "county"])]
    assert len(stats) - 1 == len(want)
    cities = set(want.loc[want["level"] == "city", "name"])
    assert {r[0] for r in stats[1:len(cities) + 1]} == cities
    # exceed_ratio is a ratio (0.52) shown as a percentage under a （%） header
    tv = pd.read_csv(folder / "top_value.csv", encoding="utf-8-sig")
    last = tv[tv["period"] == tv["period"].max()].sort_values("rank")
    col = [h for h in top[0] if "（%）" in h]
    assert len(col) == 1
    j = top[0].index(col[0])
    assert [float(r[j]) for r in top[1:]] == pytest.approx(
        (last["exceed_ratio"] * 100).round(1).tolist()[:10])
    assert len(top) == 1 + 10 and len(last) > 10
    assert f"表中列出前 10 行，另有 {len(last) - 10} 行见 tables.xlsx“高值网格排名”表。" in texts


def test_no_burn_violations_from_the_layer(demo_out):
    import pyogrio

    folder = demo_out / "layers" / "no-burn-zones"
    d = _doc(folder / "report.docx")
    v = pyogrio.read_dataframe(folder / "no-burn-zones.gpkg", layer="violations",
                               read_geometry=False)
    rows = _rows(d.tables[1])
    assert len(rows) - 1 == min(30, len(v))
    inside = rows[0].index([h for h in rows[0] if "建议" in h][0])
    # those inside the proposed zone come first
    n_in = int(v["in_proposed"].sum())
    shown = [r[inside] for r in rows[1:]]
    assert shown[:min(n_in, 30)] == ["是"] * min(n_in, 30)
    texts = [p.text for p in d.paragraphs]
    if len(v) > 30:
        line = f"表中列出前 30 行，另有 {len(v) - 30} 行见 no-burn-zones.gpkg 图层 violations。"
        assert line in texts


def test_no_report_flag_and_report_command_same_bytes(tmp_path, root, capsys):
    cfg = str(root / "configs" / "heat-radius.toml")
    a, b = tmp_path / "a", tmp_path / "b"
    assert cli.main(["run", "heat-radius", "--config", cfg, "--out", str(a), "--offline",
                     "--no-report", "-q"]) == 0
    assert (a / "layers" / "heat-radius" / "tables.xlsx").exists()
    assert not (a / "layers" / "heat-radius" / "report.docx").exists()
    assert cli.main(["run", "heat-radius", "--config", cfg, "--out", str(b), "--offline",
                     "-q"]) == 0
    path = b / "layers" / "heat-radius" / "report.docx"
    first = path.read_bytes()
    path.unlink()
    assert cli.main(["report", "heat-radius", "--out", str(b)]) == 0
    assert path.read_bytes() == first
    assert "report" in capsys.readouterr().out
    # `lantian report` on the result written without one writes it too
    assert cli.main(["report", "heat-radius", "--out", str(a), "-q"]) == 0
    assert (a / "layers" / "heat-radius" / "report.docx").read_bytes() == first
    # only report.docx changes; nothing is left behind
    assert not [p for p in (b / "layers" / "heat-radius").iterdir() if p.name.startswith(".")]
    # a run holding the lock: report waits for nobody and exits 2 naming the holder
    with publish.lock(b, "heat-radius", command="lantian run heat-radius"):
        capsys.readouterr()
        assert cli.main(["report", "heat-radius", "--out", str(b)]) == 2
    err = capsys.readouterr().err
    assert "being written there" in err and "Traceback" not in err
    assert path.read_bytes() == first


def test_report_without_a_result_exits_2(tmp_path, capsys):
    assert cli.main(["report", "heat-radius", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "manifest.json missing" in err and "lantian run heat-radius" in err
    assert not (tmp_path / "layers" / "heat-radius" / "report.docx").exists()


def test_report_of_an_older_result_exits_2(tmp_path, demo_out, capsys):
    out = tmp_path / "old"
    shutil.copytree(demo_out / "layers" / "fire-points", out / "layers" / "fire-points")
    man_path = out / "layers" / "fire-points" / "manifest.json"
    man = json.loads(man_path.read_text(encoding="utf-8"))
    del man["fields"]
    man_path.write_text(json.dumps(man, ensure_ascii=False), encoding="utf-8")
    before = (out / "layers" / "fire-points" / "report.docx").read_bytes()
    assert cli.main(["report", "fire-points", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "older lantian" in err and "lantian run fire-points" in err
    assert (out / "layers" / "fire-points" / "report.docx").read_bytes() == before


def test_display_values():
    from spatial.export import FieldMeta

    df = pd.DataFrame({"exceed_ratio": [0.5216, None], "dist_km": [29.995, 0.5],
                       "capacity_th": [10.0, 2.26], "flag": [True, False],
                       "fuel": ["coal", "unknownword"], "n_points": [3.0, 4.0]})
    fields = {"dist_km": FieldMeta("d", "距离", "km"), "capacity_th": FieldMeta("c", "蒸吨", "t/h"),
              "fuel": FieldMeta("f", "燃料类别"), "n_points": FieldMeta("n", "火点数", "个")}
    out = display_table(df, fields, ("exceed_ratio", "dist_km", "capacity_th", "flag", "fuel",
                                     "n_points", "absent"))
    assert list(out.columns) == ["exceed_ratio（%）", "距离（km）", "蒸吨（t/h）", "flag",
                                 "燃料类别", "火点数（个）"]
    assert out.values.tolist() == [["52.2", "29.995", "10.0", "是", "燃煤", "3"],
                                   ["", "0.500", "2.3", "否", "unknownword", "4"]]
    # a column already in percent keeps its value (−3.65 %, not −365 %)
    assert _cell(-3.64, "0.0%") == "-3.6"
    assert _cell(0.673, "0.0%", ratio=True) == "67.3"
    assert _cell(62.73456, None) == "62.735" and _cell(57.0, None) == "57"


def test_fit_widths():
    df = pd.DataFrame({"序号": ["1", "10"], "单位名称": ["东昌府区示例企业275（示例）" * 3] * 2,
                       "编号": ["GL0275", "GLE05"]})
    w = fit_widths(df, total_cm=16.2, size=9)
    assert sum(w) == pytest.approx(16.2, abs=0.05)
    unit = 9 * 2.54 / 72 / 2 * 1.25
    assert w[2] >= 0.5 + 6 * unit - 0.01  # the code fits on one line
    assert w[1] == max(w)
    small = fit_widths(pd.DataFrame({"a": ["1"], "b": ["2"]}), total_cm=10)
    assert small == [5.0, 5.0]


@pytest.mark.skipif(shutil.which("soffice") is None or shutil.which("pdftotext") is None,
                    reason="optional tool missing: LibreOffice (soffice) or poppler-utils "
                    "(pdftotext) is not installed")
def test_libreoffice_opens_the_report(demo_out, tmp_path):
    src = demo_out / "layers" / "no-burn-zones" / "report.docx"
    shutil.copy(src, tmp_path / "report.docx")
    subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path}/lo",
                    "--convert-to", "pdf", "--outdir", str(tmp_path),
                    str(tmp_path / "report.docx")], check=True, capture_output=True,
                   timeout=300)
    pdf = tmp_path / "report.pdf"
    assert pdf.exists() and pdf.read_bytes()[:5] == b"%PDF-"
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True,
                          capture_output=True, text=True).stdout
    title = json.loads((demo_out / "layers" / "no-burn-zones" / "manifest.json")
                       .read_text(encoding="utf-8"))["title"]
    squeezed = re.sub(r"\s+", "", text)
    assert re.sub(r"\s+", "", title) in squeezed and "主要表格" in squeezed
    assert "按县区统计" in squeezed and "分布图" in squeezed
    pages = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    assert int(re.search(r"Pages:\s+(\d+)", pages).group(1)) >= 2


def _findings(demo_out, name):
    """The findings paragraphs (between 一、主要结果 and the 运行摘要 line) and the summary."""
    folder = demo_out / "layers" / name
    texts = [p.text for p in _doc(folder / "report.docx").paragraphs]
    i = texts.index("一、主要结果")
    j = [k for k, t in enumerate(texts) if t.startswith("运行摘要")][0]
    man = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    return "".join(texts[i + 1:j]), "\n".join(man["summary"])


def _num(pattern, text):
    m = re.search(pattern, text)
    assert m, (pattern, text)
    return [int(g.replace(",", "")) if g.replace(",", "").isdigit() else float(g.replace(",", ""))
            for g in m.groups()]


def test_findings_state_the_summary_numbers_in_chinese(demo_out):
    # heat-radius: the summary's numbers, worked out again from the tables
    f, s = _findings(demo_out, "heat-radius")
    plants, = _num(r"(\d+) of \d+ plants qualify", s)
    boilers, th = _num(r"(\d+) of \d+ screened boilers .* within 30 km: ([\d,.]+) t/h", s)
    small, mw = _num(r"(\d+) small coal CHP plants/units \((\d+) MW\)", s)
    new, = _num(r"(\d+) coal boilers/plants under construction", s)
    assert f"热电联产电厂（300 MW 及以上）{plants} 座" in f
    assert f"燃煤锅炉{boilers} 台，合计 {th:,.1f} 蒸吨/小时" in f
    assert f"落后燃煤小热电机组 {small} 台（{mw} MW）" in f and f"燃煤锅炉 {new} 台" in f
    # no-burn-zones
    f, s = _findings(demo_out, "no-burn-zones")
    conv, vil = _num(r"(\d+) of (\d+) villages converted", s)
    km2, hh = _num(r"Proposed zone: \d+ parts, ([\d.]+) km², ([\d,]+) households", s)
    add, rem = _num(r"([\d.]+) km² added, ([\d.]+) km² removed", s)
    viol, cur = _num(r"(\d+) of \d+ active facilities .* inside the proposed zone, (\d+) inside", s)
    review, = _num(r"(\d+) facilities inside a zone cannot be judged", s)
    assert f"{vil:,} 个村庄中，已完成清洁取暖改造 {conv:,} 个" in f
    assert f"建议禁燃区面积 {km2} 平方公里，涉及 {hh:,} 户" in f
    assert f"新增 {add} 平方公里、调出 {rem} 平方公里" in f
    assert f"设施 {viol} 个，现行禁燃区内 {cur} 个" in f and f"另有 {review} 个设施无法判定" in f
    # fire-points
    f, s = _findings(demo_out, "fire-points")
    events, kept, counties = _num(
        r"(\d+) fire events .*; (\d+) kept detections in (\d+) counties", s)
    ind, low, dup = _num(r"industrial (\d+), .*low_confidence (\d+), duplicate (\d+)", s)
    assert f"火点 {kept:,} 个，归并为火点事件 {events} 起，涉及 {counties} 个县" in f
    assert f"工业热源排除卫星火点 {ind:,} 个，低可信度 {low} 个，重复 {dup} 个" in f


def test_pollution_findings_from_the_ranking(demo_out):
    f, _ = _findings(demo_out, "pollution-hotspots")
    folder = demo_out / "layers" / "pollution-hotspots"
    r = pd.read_csv(folder / "ranking.csv", encoding="utf-8-sig")
    r = r[(r["level"] == "county") & (r["period_type"] == "month")]
    month = r["period"].max()
    r = r[r["period"] == month]
    best = r.loc[r["composite_index"].idxmin()]
    worst = r.loc[r["composite_index"].idxmax()]
    assert f"{month} 县区综合指数排名：最好为{best['name']}（{best['composite_index']:.2f}）" in f
    assert f"最差为{worst['name']}（{worst['composite_index']:.2f}）" in f
    both = r.loc[r["both_lists"], "name"].tolist()
    assert (f"{len(both)} 个：{'、'.join(both)}" in f) if both else "后 5 位的县区无" in f
    tv = pd.read_csv(folder / "top_value.csv", encoding="utf-8-sig")
    top = tv[tv["period"] == tv["period"].max()].nlargest(1, "value").iloc[0]
    assert f"为 {top['value']:.1f} µg/m³，高于均值 {top['exceed_ratio'] * 100:.1f}%" in f
