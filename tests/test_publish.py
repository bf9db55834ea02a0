"""One output set published as a whole (issue 18 item 4) and one run per --out (item 5)."""

import os
import signal
import subprocess
import sys
import types
from pathlib import Path

import pytest
from conftest import output_digest

from analyses import cli, runner
from spatial import config, publish
from spatial.errors import InputError

ROOT = Path(__file__).resolve().parent.parent
CFG = ROOT / "configs" / "heat-radius.toml"


def output_set(out: Path, analysis: str = "heat-radius") -> dict[str, str]:
    """Digest of every published output of `analysis` (the manifest's run time left out)."""
    files = [p for p in sorted((out / "layers" / analysis).rglob("*")) if p.is_file()]
    files += [out / "maps" / f"{analysis}.{ext}" for ext in publish.MAP_SUFFIXES]
    return {str(p.relative_to(out)): output_digest(p)  # workbooks: their cells but the run time
            for p in files if p.exists() and p.name != "manifest.json"}


class Killed(BaseException):
    """Stands for SIGKILL: not an Exception, so no handler meant for errors catches it."""


def killing_os(at: int) -> tuple[types.SimpleNamespace, list]:
    """An ``os`` for spatial.publish whose `at`-th ``replace`` call never happens."""
    calls: list = []

    def replace(src, dst):
        calls.append((src, dst))
        if len(calls) == at:
            raise Killed(f"killed at rename {at}")
        return os.replace(src, dst)

    fake = types.SimpleNamespace(**{k: getattr(os, k) for k in dir(os) if not k.startswith("__")})
    fake.replace = replace
    return fake, calls


def fake_set(root: Path, tag: str) -> dict[str, bytes]:
    files = {"layers/heat-radius/heat-radius.gpkg": f"gpkg {tag}".encode(),
             "layers/heat-radius/shp/boilers.shp": f"shp {tag}".encode(),
             "maps/heat-radius.html": f"html {tag}".encode(),
             "maps/heat-radius.png": f"png {tag}".encode(),
             "maps/heat-radius.pdf": f"pdf {tag}".encode()}
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    return files


def current(out: Path) -> dict[str, bytes]:
    files = [p for p in sorted((out / "layers").rglob("*")) if p.is_file()]
    files += [p for p in sorted((out / "maps").glob("*")) if p.is_file()]
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in files}


def test_kill_at_every_rename_leaves_old_or_new_set(tmp_path, monkeypatch):
    n_renames = 1 + 2 * len(publish.targets("heat-radius"))  # commit record + aside/in each
    outcomes = set()
    for at in range(1, n_renames + 2):
        out = tmp_path / f"k{at}"
        old = fake_set(out, "old")
        with publish.lock(out, "heat-radius"):
            stage = publish.Staging(out, "heat-radius")
            new = fake_set(stage.stage, "new")
            fake, calls = killing_os(at)
            monkeypatch.setattr(publish, "os", fake)
            try:
                stage.publish()
            except Killed:
                pass
            monkeypatch.setattr(publish, "os", os)
        if at <= n_renames:
            assert len(calls) == at
        if at == 1:  # killed before the commit: the old set is there, untouched
            assert current(out) == old
        # the next start (taking the lock) completes or cleans what the kill left
        with publish.lock(out, "heat-radius"):
            pass
        state = current(out)
        assert state in (old, new), f"mixed set after a kill at rename {at}"
        outcomes.add("old" if state == old else "new")
        assert not list((out / publish.WORK_DIR).glob("heat-radius.stage.*"))
        assert not list((out / publish.WORK_DIR).glob("heat-radius.old.*"))
        assert not (out / publish.WORK_DIR / "heat-radius.publish.json").exists()
    assert outcomes == {"old", "new"}


def test_real_run_killed_at_third_rename_is_completed_at_next_start(tmp_path, monkeypatch):
    conf = config.load(CFG)
    runner.execute("heat-radius", conf, out=tmp_path, offline=True)
    ref = tmp_path / "ref"  # the new set, written by an uninterrupted run
    runner.execute("heat-radius", config.apply_overrides(config.load(CFG),
                                                         ["params.radius_km=20"]),
                   out=ref, offline=True)
    fake, _ = killing_os(3)  # the third rename: the old layers moved aside, the new not yet in
    monkeypatch.setattr(publish, "os", fake)
    with pytest.raises(Killed):
        runner.execute("heat-radius", config.apply_overrides(config.load(CFG),
                                                             ["params.radius_km=20"]),
                       out=tmp_path, offline=True)
    monkeypatch.setattr(publish, "os", os)
    assert not (tmp_path / "layers" / "heat-radius").exists()  # what the kill left
    assert cli.main(["check", "--config", str(CFG)]) == 0  # reads only: no recovery needed
    # any lantian command writing to that --out completes the publication first
    assert cli.main(["export", "heat-radius", "--by", "county", "--out", str(tmp_path),
                     "-q"]) == 0
    got, want = output_set(tmp_path), output_set(ref)
    got = {k: v for k, v in got.items() if "/counties" not in k}
    assert got == want and len(want) > 10


def test_failed_figure_leaves_old_layers_and_maps(tmp_path, monkeypatch):
    runner.execute("heat-radius", config.load(CFG), out=tmp_path, offline=True)
    before = output_set(tmp_path)

    def broken(*a, **k):
        raise InputError("figure failed")

    monkeypatch.setattr(runner, "render_figure", broken)
    with pytest.raises(InputError):
        runner.execute("heat-radius", config.apply_overrides(config.load(CFG),
                                                             ["params.radius_km=20"]),
                       out=tmp_path, offline=True)
    assert output_set(tmp_path) == before


def test_ctrl_c_messages_are_true(tmp_path, monkeypatch, capsys):
    assert cli.main(["run", "heat-radius", "--config", str(CFG), "--out", str(tmp_path),
                     "--offline", "-q"]) == 0
    before = output_set(tmp_path)
    publish.PUBLISHED.clear()
    publish.LEFT.clear()

    # interrupted while the analysis runs: nothing changed, and the message says so
    from analyses import heat_radius

    def interrupted(*a, **k):
        raise KeyboardInterrupt

    with monkeypatch.context() as m:
        m.setattr(heat_radius, "run", interrupted)
        assert cli.main(["run", "heat-radius", "--config", str(CFG), "--out", str(tmp_path),
                         "--offline", "-q", "--set", "params.radius_km=20"]) == 130
    err = capsys.readouterr().err
    assert "previous results of heat-radius were left as they were" in err
    assert "published" not in err
    assert output_set(tmp_path) == before

    # Ctrl-C in the middle of the renames: held back until the new set is in place
    publish.PUBLISHED.clear()
    publish.LEFT.clear()
    calls = []

    def replace(src, dst):
        calls.append(dst)
        if len(calls) == 3:
            os.kill(os.getpid(), signal.SIGINT)
        return os.replace(src, dst)

    fake = types.SimpleNamespace(**{k: getattr(os, k) for k in dir(os) if not k.startswith("__")})
    fake.replace = replace
    monkeypatch.setattr(publish, "os", fake)
    assert cli.main(["run", "heat-radius", "--config", str(CFG), "--out", str(tmp_path),
                     "--offline", "-q", "--set", "params.radius_km=20"]) == 130
    monkeypatch.setattr(publish, "os", os)
    err = capsys.readouterr().err
    assert "new results of heat-radius were published in full" in err
    assert "left as they were" not in err
    ref = tmp_path / "ref"
    runner.execute("heat-radius", config.apply_overrides(config.load(CFG),
                                                         ["params.radius_km=20"]),
                   out=ref, offline=True)
    assert output_set(tmp_path) == output_set(ref)


def test_second_run_on_same_out_exits_2_naming_the_holder(tmp_path, capsys):
    with publish.lock(tmp_path, "heat-radius", command="lantian run heat-radius"):
        assert cli.main(["run", "heat-radius", "--config", str(CFG), "--out", str(tmp_path),
                         "--offline", "-q"]) == 2
    err = capsys.readouterr().err
    assert f"pid {os.getpid()}" in err and "heat-radius is being written" in err
    assert not (tmp_path / "layers" / "heat-radius").exists()
    # another analysis into the same folder is not blocked; after release the run goes through
    assert cli.main(["run", "heat-radius", "--config", str(CFG), "--out", str(tmp_path),
                     "--offline", "-q"]) == 0


def test_two_concurrent_processes(tmp_path):
    cmd = [sys.executable, "-m", "analyses.cli", "run", "heat-radius", "--config", str(CFG),
           "--out", str(tmp_path), "--offline", "-q"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(2)]
    results = []
    for p in procs:
        _, err = p.communicate()
        results.append((p.returncode, err))
    codes = sorted(r[0] for r in results)
    assert codes in ([0, 0], [0, 2]), results
    for code, err in results:
        if code == 2:
            assert "is being written there by lantian pid" in err
        assert "Traceback" not in err
    ref = tmp_path / "ref"
    runner.execute("heat-radius", config.load(CFG), out=ref, offline=True)
    assert output_set(tmp_path) == output_set(ref)
    assert not list((tmp_path / publish.WORK_DIR).glob("heat-radius.stage.*"))


def test_an_output_missing_from_the_new_set_does_not_survive_from_the_old(tmp_path):
    fake_set(tmp_path, "old")
    with publish.lock(tmp_path, "heat-radius"):
        stage = publish.Staging(tmp_path, "heat-radius")
        new = fake_set(stage.stage, "new")
        (stage.stage / "maps" / "heat-radius.pdf").unlink()
        del new["maps/heat-radius.pdf"]
        stage.publish()
    assert current(tmp_path) == new
