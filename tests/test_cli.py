"""The lantian command end to end: demo outputs, the writer's contract, bad input exits 2."""

import json
import shutil

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest

from spatial import cli


def test_demo_writes_every_output(demo_out):
    d = demo_out / "layers" / "heat-radius"
    assert sorted(n for n, _ in pyogrio.list_layers(d / "heat-radius.gpkg")) == [
        "boilers", "cells", "layer_styles", "plants", "radius"]  # + the QGIS styles table
    for layer in ("plants", "radius", "boilers", "cells"):
        assert (d / "shp" / f"{layer}.shp").exists()
        assert (d / "shp" / f"{layer}.cpg").read_text().strip().upper() == "UTF-8"
    assert (demo_out / "maps" / "heat-radius.html").stat().st_size > 10_000
    tables = pd.read_excel(d / "tables.xlsx", sheet_name=None)
    assert set(tables) == {"by_county", "by_plant", "rejected"}
    assert (d / "by_county.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    man = json.loads((d / "manifest.json").read_text(encoding="utf-8"))
    assert len(man["inputs"]["boilers"]["sha256"]) == 64
    assert man["params"]["radius_km"] == 30.0
    assert man["inputs"]["boilers"]["rows_rejected"] == len(tables["rejected"]) == 2
    assert not list((demo_out / "layers").glob(".*tmp"))  # no temporary folder left


def test_demo_boundary_boilers(demo_out):
    b = gpd.read_file(demo_out / "layers" / "heat-radius" / "heat-radius.gpkg", layer="boilers")
    b = b.set_index("id")
    assert b.loc["GLE01", "in_radius"] and not b.loc["GLE02", "in_radius"]   # 29.99 / 30.01 km
    assert b.loc["GLE03", "in_radius"] and not b.loc["GLE04", "in_radius"]   # 29.999 / 30.001
    assert not b.loc["GLP01-1", "target"] or b.loc["GLP01-1", "nearest_plant_id"] != "P01"


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
    assert pytest.importorskip("re").search(pattern, out), out
    assert not (tmp_path / "o" / "layers" / "heat-radius").exists()  # nothing half-written


def test_failed_run_keeps_previous_outputs(tmp_path, root, capsys):
    cfg = write_config(tmp_path, root)
    assert run(["run", "heat-radius", "--config", str(cfg), "--out", str(tmp_path)], capsys)[0] == 0
    before = (tmp_path / "layers/heat-radius/manifest.json").read_bytes()
    code, _ = run(["run", "heat-radius", "--config", str(cfg), "--out", str(tmp_path),
                   "--set", "params.radius_km=-3"], capsys)
    assert code == 2
    assert (tmp_path / "layers/heat-radius/manifest.json").read_bytes() == before


def test_list(capsys):
    code, out = run(["list"], capsys)
    assert code == 0 and "heat-radius" in out


def test_inputs_are_not_modified(tmp_path, root, capsys):
    src = tmp_path / "in"
    shutil.copytree(root / "data/raw", src)
    before = {p.name: p.read_bytes() for p in src.iterdir()}
    cfg = write_config(tmp_path, root, plants=src / "plants.csv", boilers=src / "boilers.csv")
    assert run(["run", "heat-radius", "--config", str(cfg), "--out", str(tmp_path)], capsys)[0] == 0
    assert {p.name: p.read_bytes() for p in src.iterdir()} == before
