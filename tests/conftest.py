"""Shared fixtures: small in-memory inputs built like spatial.io's output.

Optional tools (chromium for the browser tests, distributed, esda/libpysal, h3ronpy) are skipped
where missing, with the reason printed once per reason at the end of the run. Under ``CI=true``
every skip is a failure instead: CI installs every tool, so a skip there means a test that did
not run.
"""

import os
import shutil
from collections import Counter
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parent.parent
TEST_DATA = ROOT / "tests" / "data"  # small real extracts, see tests/data/README.md


def in_ci() -> bool:
    """True when the environment variable CI is set to true/1/yes (GitHub, GitLab, .ci/run)."""
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def chromium() -> str | None:
    """Path of a headless-capable Chromium/Chrome binary on PATH, or None."""
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        if shutil.which(name):
            return shutil.which(name)
    return None


def optional_module(name: str):
    """Import an optional tool for a test, or skip it (a failure under CI=true)."""
    return pytest.importorskip(name, reason=f"optional tool missing: {name} is not installed")


def _skip_reason(report) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        reason = str(longrepr[2])
    else:
        reason = str(longrepr)
    return reason.removeprefix("Skipped: ")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.skipped and not hasattr(report, "wasxfail") and in_ci():
        report.outcome = "failed"
        report.longrepr = (f"CI=true: this test would be skipped ({_skip_reason(report)}); "
                           "CI must install every optional tool (see .ci/run).")


def pytest_terminal_summary(terminalreporter):
    reasons = Counter(_skip_reason(r) for r in terminalreporter.stats.get("skipped", [])
                      if not hasattr(r, "wasxfail"))
    if reasons:
        terminalreporter.section("skipped (fails under CI=true)")
        for reason, n in sorted(reasons.items()):
            terminalreporter.line(f"{n:4d} test(s): {reason}")


def points_frame(rows: list[dict]) -> gpd.GeoDataFrame:
    """A point GeoDataFrame (EPSG:4326) with lon/lat columns and a file row number."""
    df = pd.DataFrame(rows)
    df.insert(0, "row", range(2, len(df) + 2))
    return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["lon"], df["lat"]),
                            crs="EPSG:4326")


@pytest.fixture
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def demo_out(tmp_path_factory) -> Path:
    """One `lantian demo --out DIR` (offline maps) shared by the CLI, pack and browser tests."""
    from analyses import cli

    out = tmp_path_factory.mktemp("demo")
    assert cli.main(["demo", "--out", str(out), "-q"]) == 0
    return out


def workbook_cells(path: Path) -> dict:
    """Every cell value and number format of a workbook but the time of the run (说明 sheet)."""
    import openpyxl
    wb = openpyxl.load_workbook(path)
    return {(ws.title, c.coordinate): (c.value, c.number_format, c.data_type)
            for ws in wb.worksheets for row in ws.iter_rows() for c in row
            if not (ws.title == "说明" and ws.cell(c.row, 1).value == "运行时间（UTC）")}


def output_digest(path: Path) -> str:
    """SHA-256 of a written file; of its cells (:func:`workbook_cells`) for a workbook.

    A rerun gives the same digests: only ``manifest.json`` and the run-time cell of the
    workbooks' 说明 sheet carry the time of the run.
    """
    import hashlib
    if path.suffix == ".xlsx":
        return hashlib.sha256(repr(sorted(workbook_cells(path).items())).encode()).hexdigest()
    return hashlib.sha256(path.read_bytes()).hexdigest()
