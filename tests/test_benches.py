"""Every end-to-end benchmark runs in its quick mode, so that none of them rots.

No timing is asserted: the benches assert their own results (cell means against a pixel-by-pixel
H3 index, event sizes, the map limit, Dask equal to in-process) and these tests check that they
finish and print their figures.
"""

import pytest

from bench import bench_fire_season, bench_national_dask, bench_province_year


def test_province_year_quick(capsys):
    assert bench_province_year.main(["--quick"]) == 0
    out = capsys.readouterr().out
    assert "equal to a pixel-by-pixel h3 index" in out and "cell-days" in out
    assert "outputs" in out and "peak RSS" in out


def test_fire_season_quick(capsys):
    assert bench_fire_season.main(["--quick"]) == 0
    out = capsys.readouterr().out
    assert "points drawn" in out and "map" in out and "end to end" in out


def test_national_dask_quick(capsys):
    pytest.importorskip("distributed")
    assert bench_national_dask.main(["--quick"]) == 0
    out = capsys.readouterr().out
    assert "results identical on both engines" in out and "per cell-day" in out
