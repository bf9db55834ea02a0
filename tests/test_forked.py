"""A writer in a forked child beside this process (spatial.forked) and the GeoPackage so written.

The child's outcome is checked here, in the parent: its files, its exception raised at the
end of the block, a child killed by a signal, a child stopped when the block fails; and the
GeoPackage written by a child is the same file, byte for byte, as the one written in process.
"""

import os
import signal
import time

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import Point

from spatial import export, forked
from spatial.errors import InputError

pytestmark = pytest.mark.skipif(not forked.available(), reason="fork: Linux only")


def _write_pid(path):
    path.write_text(str(os.getpid()))


def test_runs_in_a_child_beside_the_block(tmp_path):
    with forked.beside(_write_pid, tmp_path / "pid"):
        mine = os.getpid()
    assert int((tmp_path / "pid").read_text()) != mine  # written, by another process
    with forked.beside(_write_pid, tmp_path / "here", when=False):
        assert (tmp_path / "here").exists()  # run before the block, in this process
    assert int((tmp_path / "here").read_text()) == os.getpid()


def _fail():
    raise InputError("layer 'x': the child's message")


def test_the_childs_error_is_raised_after_the_block(tmp_path):
    done = []
    with pytest.raises(InputError, match="the child's message"):
        with forked.beside(_fail):
            done.append(True)
    assert done == [True]  # the block's own work went on


def _killed():
    os.kill(os.getpid(), signal.SIGKILL)


def test_a_child_killed_without_a_message():
    with pytest.raises(RuntimeError, match="signal 9.*incomplete"):
        with forked.beside(_killed):
            pass


def _sleep(path):
    path.write_text(str(os.getpid()))
    time.sleep(60)


def test_an_error_of_the_block_stops_the_child(tmp_path):
    t = time.perf_counter()
    with pytest.raises(ValueError, match="block"):
        with forked.beside(_sleep, tmp_path / "pid"):
            while not (tmp_path / "pid").exists() or not (tmp_path / "pid").read_text():
                time.sleep(0.01)
            raise ValueError("the block failed")
    assert time.perf_counter() - t < 30  # not waited for the sleep
    pid = int((tmp_path / "pid").read_text())
    with pytest.raises(ChildProcessError):  # reaped already: no zombie left
        os.waitpid(pid, os.WNOHANG)


def _layers(n=2000):
    rng = np.random.default_rng(2)
    pts = gpd.GeoDataFrame({"v": rng.random(n), "name": ["临清市", "ab"] * (n // 2)},
                           geometry=[Point(x, y) for x, y in rng.random((n, 2))],
                           crs="EPSG:4326")
    return {"points": pts, "more": pts.iloc[: n // 4].reset_index(drop=True)}


def test_geopackage_written_beside_is_the_same_file(tmp_path, monkeypatch):
    layers = _layers()
    monkeypatch.setattr(export, "FORK_ROWS", 10**12)
    export.write_layers(layers, tmp_path / "here", stem="t", fields={})
    monkeypatch.setattr(export, "FORK_ROWS", 1)
    export.write_layers(layers, tmp_path / "child", stem="t", fields={})
    for rel in ("t.gpkg", "shp/points.shp", "shp/points.dbf", "shp/more.dbf",
                "shp/fields.csv"):
        assert (tmp_path / "here" / rel).read_bytes() == (tmp_path / "child" / rel).read_bytes()


def test_geopackage_error_in_the_child_reaches_the_run(tmp_path, monkeypatch):
    monkeypatch.setattr(export, "FORK_ROWS", 1)

    def refuse(*args, **kwargs):
        if os.getpid() == parent:  # it must run in the child
            raise AssertionError("not forked")
        raise InputError("t.gpkg: disk quota (from the child)")

    parent = os.getpid()
    monkeypatch.setattr(export, "_write_gpkg", refuse)
    with pytest.raises(InputError, match="from the child"):
        export.write_layers(_layers(), tmp_path / "out", stem="t", fields={})


def test_no_process_left_writes_here(tmp_path, monkeypatch):
    def refuse():
        raise OSError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", refuse)
    with forked.beside(_write_pid, tmp_path / "pid"):
        pass
    assert int((tmp_path / "pid").read_text()) == os.getpid()  # written, here
