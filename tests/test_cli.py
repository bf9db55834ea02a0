"""The lantian command end to end: demo outputs, the writer's contract, bad input exits 2."""

import json
import re
import shutil

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
from pyproj import Geod

from analyses import cli


def test_demo_writes_every_output(demo_out):
    d = demo_out / "layers" / "heat-radius"
    assert sorted(n for n, _ in pyogrio.list_layers(d / "heat-radius.gpkg")) == [
        "biomass", "boilers", "cells", "coverage", "heat_network", "layer_styles",
        "network_villages", "plants", "radius", "small_chp"]  # + QGIS styles
    for layer in ("plants", "radius", "boilers", "cells"):
        assert (d / "shp" / f"{layer}.shp").exists()
        assert (d / "shp" / f"{layer}.cpg").read_text().strip().upper() == "UTF-8"
    assert (demo_out / "maps" / "heat-radius.html").stat().st_size > 10_000
    tables = pd.read_excel(d / "tables.xlsx", sheet_name=None)
    assert set(tables) == {"关停整合清单", "按县区统计", "按电厂统计", "燃料待核实", "新建燃煤项目",
                           "生物质锅炉清单", "管网覆盖内散煤村庄", "未采用的记录",
                           "说明"}  # Chinese sheets
    assert (d / "by_county.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    man = json.loads((d / "manifest.json").read_text(encoding="utf-8"))
    assert len(man["inputs"]["boilers"]["sha256"]) == 64
    assert man["params"]["radius_km"] == 30.0
    rej = tables["未采用的记录"]  # the boilers' 2 and the demo villages' 2 (rows 7 and 11)
    assert man["inputs"]["boilers"]["rows_rejected"] == 2
    assert len(rej) == 2 + 2 and rej.iloc[:, 0].value_counts().to_dict() == {
        "boilers": 2, "villages": 2}
    assert not list((demo_out / "layers").glob(".*tmp"))  # no temporary folder left


def test_demo_boundary_boilers(demo_out):
    b = gpd.read_file(demo_out / "layers" / "heat-radius" / "heat-radius.gpkg", layer="boilers")
    b = b.set_index("id")
    assert b.loc["GLE01", "in_radius"] and not b.loc["GLE02", "in_radius"]   # 29.99 / 30.01 km
    assert b.loc["GLE03", "in_radius"] and not b.loc["GLE04", "in_radius"]   # 29.999 / 30.001
    # a plant's own units (plant_id P01, 0.18 km from P01) are not measured against P01: the
    # nearest other qualifying plant is P02 (临清, plants.csv 115.848775 E 36.802739 N), over 35 km
    geod = Geod(ellps="WGS84")
    for unit in ("GLP01-1", "GLP01-2"):
        row = b.loc[unit]
        _, _, d = geod.inv(row["lon"], row["lat"], 115.848775, 36.802739)
        assert row["plant_id"] == "P01" and row["nearest_plant_id"] == "P02"
        assert row["distance_km"] == pytest.approx(d / 1000, abs=0.001) and d > 35_000
        assert not row["in_radius"] and not row["target"] and row["n_plants_within"] == 0
    # the six fuel words of issue 11 (GLV01-06): four coal targets (two idle), two for review
    assert sorted(b.index[b["target"] & b.index.str.startswith("GLV")]) == [
        "GLV01", "GLV02", "GLV03", "GLV06"]
    assert b.loc[["GLV03", "GLV06"], "status"].tolist() == ["idle", "idle"]
    d = demo_out / "layers" / "heat-radius"
    review = pd.read_csv(d / "unknown_fuel.csv", encoding="utf-8-sig").set_index("id")
    assert review.loc[["GLV04", "GLV05"], "fuel"].tolist() == ["unknown", "coal_gas"]
    # the 135 MW 茌平热电厂 (P03), 16.8 km from P01, is a small coal CHP target
    small = gpd.read_file(d / "heat-radius.gpkg", layer="small_chp").set_index("id")
    assert small.loc["P03", "target"] and abs(small.loc["P03", "distance_km"] - 16.8) < 0.1
    targets = pd.read_csv(d / "targets.csv", encoding="utf-8-sig")
    assert targets.set_index("编号").loc["P03", "规模单位"] == "MW"


def test_shapefiles_short_names_and_chinese_values(demo_out):
    shp = demo_out / "layers" / "heat-radius" / "shp"
    gpkg = gpd.read_file(shp.parent / "heat-radius.gpkg", layer="boilers")
    back = gpd.read_file(shp / "boilers.shp")
    assert all(len(c.encode()) <= 10 for c in back.columns)
    fields = pd.read_csv(shp / "fields.csv", encoding="utf-8-sig")
    rows = fields[fields["layer"] == "boilers"].set_index("full_name")
    assert rows.loc["nearest_plant_name", "label"] == "最近电厂名称"
    short = rows.loc["nearest_plant_name", "short_name"]
    assert back[short].tolist() == gpkg["nearest_plant_name"].tolist()
    assert back[rows.loc["name", "short_name"]].tolist() == gpkg["name"].tolist()
    assert any("（示例）" in n for n in back[rows.loc["name", "short_name"]])


def run(args, capsys):
    code = cli.main(args)
    cap = capsys.readouterr()
    return code, cap.out + cap.err


def write_config(tmp_path, root, **over):
    cfg = {"plants": root / "data/raw/plants.csv", "boilers": root / "data/raw/boilers.csv"}
    cfg.update(over)
    text = "".join(f'[inputs.{k}]\npath = "{v}"\n' for k, v in cfg.items())
    text += '[inputs.boilers.columns]\ncapacity_th = "蒸吨"\n' if "boilers" in cfg else ""
    p = tmp_path / "c.toml"
    p.write_text(text, encoding="utf-8")
    return p


def test_run_with_override(tmp_path, root, capsys):
    cfg = write_config(tmp_path, root)
    code, out = run(["run", "heat-radius", "--config", str(cfg), "--out", str(tmp_path),
                     "--set", "params.radius_km=15"], capsys)
    assert code == 0, out
    man = json.loads((tmp_path / "layers/heat-radius/manifest.json").read_text("utf-8"))
    assert man["params"]["radius_km"] == 15.0


@pytest.mark.parametrize("case,pattern", [
    ("missing_file", r"nope\.csv: file not found"),
    ("unknown_param", r"unknown parameter\(s\) params\.radius"),
    ("bad_param_type", r"params\.radius_km must be a number"),
    ("swapped", r"swapped"),
    ("missing_column", r"required field\(s\) capacity_mw"),
    ("unknown_analysis", r"unknown analysis 'heat'"),
    ("bad_toml", r"not valid TOML"),
])
def test_bad_input_exits_2_without_traceback(tmp_path, root, capsys, case, pattern):
    args_extra = []
    name = "heat-radius"
    if case == "missing_file":
        cfg = write_config(tmp_path, root, plants=tmp_path / "nope.csv")
    elif case == "unknown_param":
        cfg = write_config(tmp_path, root)
        args_extra = ["--set", "params.radius=15"]
    elif case == "bad_param_type":
        cfg = write_config(tmp_path, root)
        args_extra = ["--set", "params.radius_km='far'"]
    elif case == "swapped":
        src = pd.read_csv(root / "data/raw/plants.csv")
        src = src.rename(columns={"lon": "lat", "lat": "lon"})
        src.to_csv(tmp_path / "p.csv", index=False)
        cfg = write_config(tmp_path, root, plants=tmp_path / "p.csv")
    elif case == "missing_column":
        src = pd.read_csv(root / "data/raw/plants.csv").drop(columns="capacity_mw")
        src.to_csv(tmp_path / "p.csv", index=False)
        cfg = write_config(tmp_path, root, plants=tmp_path / "p.csv")
    elif case == "unknown_analysis":
        cfg = write_config(tmp_path, root)
        name = "heat"
    else:
        cfg = tmp_path / "c.toml"
        cfg.write_text("[inputs\n", encoding="utf-8")
    code, out = run(["run", name, "--config", str(cfg), "--out", str(tmp_path / "o")]
                    + args_extra, capsys)
    assert code == 2
    assert "Traceback" not in out
    assert re.search(pattern, out), out
    out_dir = tmp_path / "o"
    written = list(out_dir.rglob("*")) if out_dir.exists() else []
    # nothing half-written: only lantian's own work folder (the run's lock) may exist
    assert [p for p in written if ".lantian" not in p.relative_to(out_dir).parts] == []


def test_failed_run_keeps_previous_outputs(tmp_path, root, capsys):
    cfg = write_config(tmp_path, root)
    assert run(["run", "heat-radius", "--config", str(cfg), "--out", str(tmp_path)], capsys)[0] == 0

    def files():
        return {p.relative_to(tmp_path): p.read_bytes() for p in sorted(tmp_path.rglob("*"))
                if p.is_file() and p.name != "c.toml"}

    before = files()
    assert len(before) > 10
    code, out = run(["run", "heat-radius", "--config", str(cfg), "--out", str(tmp_path),
                     "--set", "params.radius_km=-3"], capsys)
    assert code == 2 and "radius_km" in out
    assert files() == before  # every output byte for byte, and nothing added


def test_list(capsys):
    code, out = run(["list"], capsys)
    assert code == 0
    names = [line.split()[0] for line in out.splitlines() if line.strip()]
    assert names == ["heat-radius", "no-burn-zones", "fire-points", "pollution-hotspots",
                     "machinery-zones"]
    assert all(len(line.split(None, 1)) == 2 for line in out.splitlines() if line.strip())


def test_inputs_are_not_modified(tmp_path, root, capsys):
    src = tmp_path / "in"
    shutil.copytree(root / "data/raw", src)
    before = {p.name: p.read_bytes() for p in src.iterdir()}
    cfg = write_config(tmp_path, root, plants=src / "plants.csv", boilers=src / "boilers.csv")
    assert run(["run", "heat-radius", "--config", str(cfg), "--out", str(tmp_path)], capsys)[0] == 0
    assert {p.name: p.read_bytes() for p in src.iterdir()} == before


def test_version_and_verbosity_before_or_after_the_command(capsys, monkeypatch):
    import importlib.metadata

    with pytest.raises(SystemExit) as exc:
        cli.main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"lantian {importlib.metadata.version('lantian')}"
    seen = []
    monkeypatch.setattr(cli, "_setup_logging", lambda v, q: seen.append((v, q)))
    for argv in (["-q", "list"], ["list", "-q"], ["-v", "-v", "list"], ["list", "-vv"],
                 ["list"]):
        assert cli.main(argv) == 0
    assert seen == [(0, 2), (0, 2), (2, 1), (2, 1), (0, 1)]


def test_progress_lines_off_a_terminal_and_quiet(capsys):
    from spatial import progress

    calls = []
    old = progress.set_reporter(lambda d, i, n: calls.append((d, i, n)))
    try:
        assert list(progress.track(["a", "b", "c"], "files")) == ["a", "b", "c"]
        with progress.step("writing"):
            pass
    finally:
        progress.set_reporter(old)
    assert calls == [("files", 0, 3), ("files", 1, 3), ("files", 2, 3), ("files", 3, 3),
                     ("writing", 0, 1), ("writing", 1, 1)]
    lines = progress.Lines()
    for i in range(3):
        lines("reading rasters", i, 2)
    err = capsys.readouterr().err.splitlines()
    assert [e.split(" ", 1)[1] for e in err] == ["reading rasters (1/2)", "reading rasters (2/2)"]
    import io as stdio
    buf = stdio.StringIO()
    bar = progress.Bar(buf, width=10)
    bar("Gi* per period", 5, 10)
    bar("Gi* per period", 10, 10)
    assert buf.getvalue() == ("\rGi* per period [#####-----] 5/10"
                              "\rGi* per period [##########] 10/10\n")
