"""lantian check: the report, undeclared GCJ-02/BD-09 detection, --strict, inference."""

import pandas as pd
import pytest

from analyses import cli
from spatial import coords


def config(tmp_path, root, boilers, crs="wgs84", extra=""):
    p = tmp_path / "c.toml"
    p.write_text(
        f'[inputs.plants]\npath = "{root / "data/raw/plants.csv"}"\n'
        f'[inputs.boilers]\npath = "{boilers}"\ncrs = "{crs}"\n'
        f'[inputs.counties]\npath = "{root / "data/raw/counties.gpkg"}"\n' + extra,
        encoding="utf-8")
    return p


def shifted_boilers(tmp_path, root, to):
    df = pd.read_csv(root / "data/raw/boilers.csv", encoding="gbk", dtype=str)
    ok = pd.to_numeric(df["经度"], errors="coerce").notna() & df["纬度"].notna()
    lng = pd.to_numeric(df.loc[ok, "经度"]).to_numpy()
    lat = pd.to_numeric(df.loc[ok, "纬度"]).to_numpy()
    x, y = coords.from_wgs84(lng, lat, to)
    df.loc[ok, "经度"], df.loc[ok, "纬度"] = x.round(7).astype(str), y.round(7).astype(str)
    p = tmp_path / f"boilers_{to}.csv"
    df.to_csv(p, index=False, encoding="gbk")
    return p


def run(args, capsys):
    code = cli.main(args)
    cap = capsys.readouterr()
    return code, cap.out, cap.err


def test_report_lists_detection_and_rejections(tmp_path, root, capsys):
    code, out, _ = run(["check", "--config", str(config(tmp_path, root,
                                                          root / "data/raw/boilers.csv"))], capsys)
    assert code == 0
    assert "== heat-radius" in out  # inferred from the input names
    assert "encoding gb18030" in out and "lon ← 经度" in out
    assert "rows read 443, usable 441, rejected 2" in out
    assert "missing or unreadable coordinates: rows 436, 437" in out
    assert "(blank) × 1" in out  # GLV04: a blank fuel is reported
    assert "look like" not in out


@pytest.mark.parametrize("crs", ["gcj02", "bd09"])
def test_undeclared_shifted_coordinates_are_flagged(tmp_path, root, capsys, crs):
    p = shifted_boilers(tmp_path, root, crs)
    code, out, _ = run(["check", "heat-radius", "--config", str(config(tmp_path, root, p))],
                       capsys)
    assert code == 0
    assert f"look like {crs.upper()}" in out and f'set crs = "{crs}"' in out
    # declared correctly: no warning
    code, out, _ = run(["check", "--config", str(config(tmp_path, root, p, crs=crs))], capsys)
    assert "look like" not in out
    # --strict makes the warning an error
    code, out, err = run(["check", "--strict", "--config", str(config(tmp_path, root, p))],
                         capsys)
    assert code == 2 and "look like" in err and "Traceback" not in err


def test_wrongly_declared_gcj02_is_flagged(tmp_path, root, capsys):
    cfg = config(tmp_path, root, root / "data/raw/boilers.csv", crs="gcj02")
    code, out, _ = run(["check", "--config", str(cfg)], capsys)
    assert "look like WGS84, not GCJ02" in out


def test_duplicate_ids_warned(tmp_path, root, capsys):
    df = pd.read_csv(root / "data/raw/boilers.csv", encoding="gbk", dtype=str)
    df.loc[5, "编号"] = df.loc[4, "编号"]
    p = tmp_path / "dup.csv"
    df.to_csv(p, index=False, encoding="gbk")
    code, out, _ = run(["check", "--config", str(config(tmp_path, root, p))], capsys)
    assert "1 ids appear more than once in 'boilers' (e.g. GL0005)" in out


def test_run_records_warnings_in_manifest(tmp_path, root, capsys):
    import json
    p = shifted_boilers(tmp_path, root, "gcj02")
    code, out, _ = run(["run", "heat-radius", "--config", str(config(tmp_path, root, p)),
                        "--out", str(tmp_path)], capsys)
    assert code == 0 and "input warning(s)" in out
    man = json.loads((tmp_path / "layers/heat-radius/manifest.json").read_text("utf-8"))
    assert any("look like GCJ02" in w for w in man["warnings"])


def test_cannot_infer(tmp_path, root, capsys):
    p = tmp_path / "c.toml"
    p.write_text(f'[inputs.boundaries]\npath = "{root / "data/raw/counties.gpkg"}"\n')
    code, _, err = run(["check", "--config", str(p)], capsys)
    assert code == 2 and "cannot tell which analysis" in err
