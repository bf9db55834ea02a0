"""analyses.hotspot_lists (all periods at once) against one sort per period and list."""

from types import SimpleNamespace

import h3.api.basic_int as h3i
import numpy as np
import pandas as pd
import pytest

from analyses import hotspot_lists
from spatial import admin, h3grid
from spatial.periods import Period


def _before(p: pd.Period, *, years: int = 0, steps: int = 0) -> pd.Period:
    """The pandas period `years` years (same month or day) or `steps` periods before `p`."""
    if years:
        return pd.Period(p.to_timestamp() - pd.DateOffset(years=years), freq=p.freq)
    return p - steps


def _reference(cells, periods, values, cls, exceed, loc, clng, clat, n):
    """The lists by their definition: per period, sort the cells with a value (value desc, id)."""
    strs = h3grid.cells_to_str(cells)
    base = admin.cell_places(strs, loc, clng, clat)
    index = {p: j for j, p in enumerate(periods)}
    top, yoy, mom = [], [], []
    for j, p in enumerate(periods):
        v = values[:, j]
        rows = sorted((-v[i], strs[i], i) for i in range(len(v)) if np.isfinite(v[i]))[:n]
        for r, (_, _, i) in enumerate(rows, 1):
            top.append({"period": str(p), "rank": r, **base.iloc[i].to_dict(),
                        "value": round(v[i], 3), "exceed_ratio": round(exceed[i, j], 4),
                        "fdr_class": int(cls[i, j])})
        for other, out in ((_before(p, years=1), yoy), (_before(p, steps=1), mom)):
            k = index.get(other)
            if k is None:
                continue
            d = v - values[:, k]
            rows = sorted((-d[i], strs[i], i) for i in range(len(v)) if np.isfinite(d[i]))[:n]
            for r, (_, _, i) in enumerate(rows, 1):
                pv = values[i, k]
                out.append({"period": str(p), "compared_with": str(other), "rank": r,
                            **base.iloc[i].to_dict(), "value": round(v[i], 3),
                            "previous_value": round(pv, 3), "change": round(d[i], 3),
                            "change_ratio": round(d[i] / pv, 4) if pv > 0 else np.nan})
    return {"top_value": top, "worst_yoy": yoy, "worst_mom": mom}


@pytest.mark.parametrize("freq,n_t", [("M", 26), ("D", 400)])
def test_lists_equal_one_sort_per_period(freq, n_t):
    rng = np.random.default_rng(n_t)
    cells = np.array(sorted(h3i.grid_disk(h3i.latlng_to_cell(36.45, 115.98, 7), 5)), np.uint64)
    n_c = len(cells)
    periods = list(pd.period_range("2024-01-01" if freq == "D" else "2024-01", periods=n_t,
                                   freq=freq))
    values = np.round(rng.gamma(3, 15, size=(n_c, n_t)), 0)  # integers: many ties
    values[rng.random(values.shape) < 0.2] = np.nan
    values[:, 2] = np.nan  # an empty period
    values[3:, 4] = np.nan  # a period with fewer cells than top_n
    exceed = rng.normal(0, 0.2, values.shape)
    cls = rng.integers(-1, 2, values.shape).astype(np.int8)
    clat, clng = h3grid.cell_centers(cells)
    loc = pd.DataFrame({"county_code": "371502", "county_name": "东昌府区",
                        "township_code": None, "township_name": None}, index=range(n_c))
    kind = "day" if freq == "D" else "month"
    ours = [Period(p.to_timestamp(), kind) for p in periods]
    got = hotspot_lists.lists(cells, ours, values, cls, exceed, loc, clng, clat,
                              SimpleNamespace(top_n=7))
    want = _reference(cells, periods, values, cls, exceed, loc, clng, clat, 7)
    for name, rows in want.items():
        assert len(rows) > 0, name
        exp = pd.DataFrame(rows)[got[name].columns]
        pd.testing.assert_frame_equal(got[name].reset_index(drop=True), exp, check_dtype=False)
