"""Shared fixtures: small in-memory inputs built like spatial.io's output."""

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent
TEST_DATA = ROOT / "tests" / "data"  # small real extracts, see tests/data/README.md


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
    from spatial import cli

    out = tmp_path_factory.mktemp("demo")
    assert cli.main(["demo", "--out", str(out), "-q"]) == 0
    return out
