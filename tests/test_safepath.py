"""Paths built from data stay under --out; paths GDAL reads specially are refused (issue 18, 1)."""

import os
from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import Point, box

from analyses import cli
from spatial import config, safepath
from spatial.errors import InputError

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(("text", "want"), [
    ("临清市!", "临清市"),
    ("../../etc/passwd", "etc_passwd"),
    ("/vsizip/a.zip", "vsizip_a.zip"),
    ("a\x00b", "a_b"),
    ("a/b\\c:d*e?f\"g<h>i|j", "a_b_c_d_e_f_g_h_i_j"),
    ("..", "unnamed"),
    ("", "unnamed"),
    ("CON", "unnamed_CON"),
    ("371581_临清市", "371581_临清市"),
])
def test_safe_name(text, want):
    assert safepath.safe_name(text) == want


def test_within_refuses_escapes(tmp_path):
    assert safepath.within(tmp_path, tmp_path / "a" / "b") == (tmp_path / "a" / "b").resolve()
    with pytest.raises(InputError, match="outside"):
        safepath.within(tmp_path / "a", tmp_path / "a" / ".." / "b")
    (tmp_path / "a").mkdir()
    os.symlink("/", tmp_path / "a" / "link")
    with pytest.raises(InputError, match="outside"):
        safepath.within(tmp_path / "a", tmp_path / "a" / "link" / "etc")


def _result_with_county(out: Path, name: str) -> None:
    """A minimal last-run result whose only county is called `name`."""
    layers = out / "layers" / "heat-radius"
    layers.mkdir(parents=True)
    gdf = gpd.GeoDataFrame({"id": ["B1"], "county_code": ["371581"], "county_name": [name]},
                           geometry=[Point(115.7, 36.8)], crs="EPSG:4326")
    gdf.to_file(layers / "heat-radius.gpkg", layer="boilers", engine="pyogrio")
    gpd.GeoDataFrame({"code": ["371581"], "name": [name]},
                     geometry=[box(115.5, 36.6, 116.0, 37.0)], crs="EPSG:4326").to_file(
        layers / "context.gpkg", layer="counties", engine="pyogrio")


def _files(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()}


def test_bang_county_stays_under_out(tmp_path, monkeypatch):
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)  # the old code wrote relative to here (or to /shp/)
    out = tmp_path / "out"
    _result_with_county(out, "临清市!")
    before = _files(tmp_path)
    assert cli.main(["export", "heat-radius", "--by", "county", "--out", str(out), "-q"]) == 0
    new = _files(tmp_path) - before
    assert new and all(out in p.parents for p in new)
    pack = out / "layers" / "heat-radius" / "counties" / "371581_临清市_heat-radius"
    assert (pack / "shp" / "boilers.shp").is_file() and (pack / "shp" / "boilers.dbf").is_file()
    assert (pack.parent / "371581_临清市_heat-radius.zip").is_file()
    # the name itself is kept, only the file name is reduced
    got = gpd.read_file(pack / "shp" / "boilers.shp")
    assert "临清市!" in got.drop(columns="geometry").to_numpy().ravel().tolist()


def test_bang_in_out_and_vsi_inputs_are_refused(tmp_path, capsys):
    cfg = ROOT / "configs" / "heat-radius.toml"
    assert cli.main(["run", "heat-radius", "--config", str(cfg), "--out",
                     str(tmp_path / "a!b"), "--offline", "-q"]) == 2
    assert "'!'" in capsys.readouterr().err
    assert not (tmp_path / "a!b").exists()
    bad = tmp_path / "bad.toml"
    bad.write_text('[inputs.plants]\npath = "/vsizip/x.zip/plants.csv"\n'
                   '[inputs.boilers]\npath = "b.csv"\n', encoding="utf-8")
    with pytest.raises(InputError, match="/vsi"):
        config.load(bad)
