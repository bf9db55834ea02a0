"""Repeated records that would be counted twice: readings of one station, time and pollutant.

Overlapping exports (the same day downloaded twice, a file listed twice in a glob) repeat
readings; averaged as they are, they weigh that hour double (a station mean went from 61.7 to
530.3 µg/m³ in one hostile test, status "ok"). The first reading is kept and every repeat is a
``rejected`` row naming its file and row, so the summary and ``lantian check`` show them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

READING_KEY = ("station_id", "time", "pollutant")


def repeated_readings(frame: pd.DataFrame, *, name: str = "readings"
                      ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split `frame` (``spatial.io.read_readings``) into (first readings, rejected repeats).

    A repeat has the ``station_id``, ``time`` and ``pollutant`` of an earlier row (in file
    order). The rejected table has the columns of ``spatial.io.REJECTED_COLUMNS``; its reason
    says whether the repeated value differs from the kept one.
    """
    key = list(READING_KEY)
    if not len(frame) or not set(key) <= set(frame.columns):
        return frame, pd.DataFrame(columns=["input", "file", "row", "id", "reason"])
    dup = frame.duplicated(key, keep="first").to_numpy()
    if not dup.any():
        return frame, pd.DataFrame(columns=["input", "file", "row", "id", "reason"])
    first = frame[~dup].set_index(key)["value"]
    rep = frame[dup]
    kept_value = first.reindex(pd.MultiIndex.from_frame(rep[key])).to_numpy(dtype="float64")
    same = np.isclose(rep["value"].to_numpy(dtype="float64"), kept_value, equal_nan=True)
    reason = np.where(same, "repeated reading (same station, time and pollutant as an earlier "
                      "row); the first is kept",
                      "repeated reading with a different value (same station, time and "
                      "pollutant as an earlier row); the first is kept")
    rejected = pd.DataFrame({"input": name,
                             "file": rep["file"].to_numpy() if "file" in rep else "",
                             "row": rep["row"].to_numpy() if "row" in rep else -1,
                             "id": rep["station_id"].astype(object).to_numpy(),
                             "reason": reason})
    return frame[~dup].reset_index(drop=True), rejected
