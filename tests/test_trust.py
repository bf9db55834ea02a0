"""Trust: reproducible runs, interrupted runs, and property tests of conversions and readers."""

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import workbook_cells
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyproj import Geod

from analyses import runner
from spatial import config, coords, h3grid, io
from spatial.errors import InputError

G = Geod(ellps="WGS84")


def digests(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_demo_twice_is_byte_identical(tmp_path, demo_out):
    from analyses import cli
    assert cli.main(["demo", "--out", str(tmp_path), "-q"]) == 0
    first, second = digests(demo_out), digests(tmp_path)
    manifests = {k for k in first if k.endswith("manifest.json")}
    from analyses import REGISTRY
    assert len(manifests) == len(REGISTRY)  # every analysis ran
    for k in manifests:  # the manifests carry the time of the run; nothing else may differ
        first.pop(k), second.pop(k, None)
    # the workbooks' 说明 sheet says when the run was: every other cell is the same
    books = {k for k in first if k.endswith("tables.xlsx") and "counties" not in k}
    assert len(books) == len(REGISTRY)
    for k in books:
        first.pop(k), second.pop(k, None)
        assert workbook_cells(demo_out / k) == workbook_cells(tmp_path / k)
    assert first == second and len(first) > 60


def test_killed_run_leaves_previous_outputs_intact(tmp_path, root):
    cfg = root / "configs" / "heat-radius.toml"
    cmd = [sys.executable, "-m", "analyses.cli", "run", "heat-radius", "--config", str(cfg),
           "--out", str(tmp_path), "-q"]
    env = {**os.environ, "PYTHONPATH": str(root)}
    assert subprocess.run(cmd, env=env, capture_output=True).returncode == 0
    layers = tmp_path / "layers" / "heat-radius"
    before = digests(layers)
    map_before = (tmp_path / "maps" / "heat-radius.html").read_bytes()
    killed = False
    for _ in range(5):  # catch the run while it writes its temporary folder
        proc = subprocess.Popen(cmd + ["--set", "params.radius_km=20"], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while proc.poll() is None and time.monotonic() < deadline:
            if list((tmp_path / ".lantian").glob("heat-radius.stage.*/layers/heat-radius/*")):
                proc.send_signal(signal.SIGKILL)
                killed = True
                break
            time.sleep(0.005)
        proc.wait()
        if killed:
            break
    assert killed, "the run finished before it could be killed"
    assert digests(layers) == before
    assert (tmp_path / "maps" / "heat-radius.html").read_bytes() == map_before
    # the next run cleans the stale temporary folder and writes normally
    assert subprocess.run(cmd, env=env, capture_output=True).returncode == 0
    assert not list((tmp_path / ".lantian").glob("heat-radius.stage.*"))


def test_failure_while_writing_keeps_previous_outputs(tmp_path, root, monkeypatch):
    from spatial import export
    conf = config.load(root / "configs" / "heat-radius.toml")
    runner.execute("heat-radius", conf, out=tmp_path, offline=True)
    layers = tmp_path / "layers" / "heat-radius"
    before = digests(layers)

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(export, "write_tables", full_disk)
    with pytest.raises(InputError, match="No space left on device.*previous results were left"):
        runner.execute("heat-radius", config.load(root / "configs" / "heat-radius.toml"),
                       out=tmp_path, offline=True)
    assert digests(layers) == before
    assert not list((tmp_path / ".lantian").glob("heat-radius.stage.*"))


# ---------------------------------------------------------------- properties

china = st.tuples(st.floats(73.7, 134.7), st.floats(18.2, 53.5))


@settings(max_examples=200, deadline=None)
@given(st.lists(china, min_size=1, max_size=50), st.sampled_from(["gcj02", "bd09"]))
def test_round_trip_under_1cm_inside_china(points, crs):
    lng, lat = np.array(points).T
    x, y = coords.from_wgs84(lng, lat, crs)
    back_lng, back_lat = coords.to_wgs84(x, y, crs)
    err = G.inv(lng, lat, back_lng, back_lat)[2]
    assert np.max(err) < 0.01


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.floats(34.4, 38.4), st.floats(114.8, 122.7),
                          st.floats(0, 500, allow_nan=False)), min_size=1, max_size=300),
       st.integers(4, 10))
def test_h3_aggregation_conserves_counts_and_sums(rows, res):
    lat, lng, v = (np.array(c) for c in zip(*rows, strict=True))
    cells = h3grid.points_to_cells(lat, lng, resolution=res)
    agg = h3grid.aggregate(cells, {"v": v}, how={"v": "sum"})
    assert agg["n"].sum() == len(rows)
    assert agg["v_sum"].sum() == pytest.approx(v.sum(), rel=1e-9, abs=1e-9)
    assert len(agg) == len(np.unique(cells))


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=400) | st.text(max_size=300).map(lambda t: t.encode("utf-8")))
def test_readers_never_crash_on_arbitrary_bytes(tmp_path, data):
    p = tmp_path / "any.csv"
    p.write_bytes(data)
    fields = (io.Field("id", "text", True), io.Field("capacity_th", "float"))
    try:
        t = io.read_points(p, fields=fields, name="boilers")
    except InputError:
        return
    assert len(t.frame) + len(t.rejected) == t.n_read


@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.text(max_size=8), st.text(max_size=12), st.text(max_size=12)),
                max_size=20))
def test_readers_never_lose_rows(tmp_path, rows):
    import csv as csvmod
    p = tmp_path / "rows.csv"
    with open(p, "w", encoding="utf-8", newline="") as f:
        w = csvmod.writer(f)
        w.writerow(["编号", "经度", "纬度"])
        w.writerows(rows)
    try:
        t = io.read_points(p, fields=(io.Field("id", "text", True),), name="boilers")
    except InputError:
        return
    assert len(t.frame) + len(t.rejected) == t.n_read


@st.composite
def boiler_rows(draw):
    """Rows of a boilers CSV: at least two thirds usable, the rest broken in a known way."""
    ident = st.text(alphabet="ABCXYZ0123456789甲乙丙锅炉-_", min_size=1, max_size=8)
    good = draw(st.lists(st.tuples(st.just("ok"), ident, st.floats(114.8, 122.7),
                                   st.floats(34.4, 38.4)), min_size=2, max_size=40))
    kinds = st.sampled_from(["no_lon", "text_lat", "lat_out_of_range", "blank_id"])
    bad = draw(st.lists(st.tuples(kinds, ident, st.floats(114.8, 122.7), st.floats(34.4, 38.4)),
                        max_size=len(good) // 2))
    return draw(st.permutations(good + bad))


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(boiler_rows())
def test_readers_conserve_rows_of_files_that_parse(tmp_path, rows):
    """Every data row is either in the frame or in `rejected`, with the reason it was broken."""
    lines = ["编号,经度,纬度"]
    for kind, ident, lon, lat in rows:
        lon_s, lat_s = f"{lon:.6f}", f"{lat:.6f}"
        if kind == "no_lon":
            lon_s = ""
        elif kind == "text_lat":
            lat_s = "不详"
        elif kind == "lat_out_of_range":
            lat_s = f"{lat + 60:.6f}"  # 94.4 .. 98.4
        lines.append(",".join(["" if kind == "blank_id" else ident, lon_s, lat_s]))
    p = tmp_path / "rows.csv"
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    t = io.read_points(p, fields=(io.Field("id", "text", True),), name="boilers")  # must parse
    file_row = np.arange(len(rows)) + 2  # header is row 1
    ok = np.array([kind == "ok" for kind, *_ in rows])
    assert t.n_read == len(rows)
    assert t.frame["row"].tolist() == file_row[ok].tolist()
    assert sorted(t.rejected["row"].tolist()) == file_row[~ok].tolist()
    assert t.frame["id"].tolist() == [r[1] for r in rows if r[0] == "ok"]
    np.testing.assert_allclose(t.frame["lon"], [round(r[2], 6) for r in rows if r[0] == "ok"])
    np.testing.assert_allclose(t.frame["lat"], [round(r[3], 6) for r in rows if r[0] == "ok"])
    reasons = dict(zip(t.rejected["row"], t.rejected["reason"], strict=True))
    for (kind, *_), row in zip(rows, file_row, strict=True):
        if kind in ("no_lon", "text_lat"):
            assert "coordinates" in reasons[row]
        elif kind == "lat_out_of_range":
            assert "out of range" in reasons[row]
        elif kind == "blank_id":
            assert "empty" in reasons[row]
