"""Sensitive receptors (schools, hospitals, care homes) near fire events or polluted cells.

Receptors are points (WGS-84 degrees) with a name and a kind, from any point file or from
``lantian fetch osm --what receptors``. Distances are geodesic on the WGS-84 ellipsoid.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import geodesy
from .io import Field

#: fields of a receptors input (OSM's amenity values are accepted as kinds)
RECEPTOR_FIELDS = (
    Field("id", "text"), Field("name", "text", True),
    Field("kind", "text", False, ("类型", "类别", "amenity")),
)


def receptors_near(lng: np.ndarray, lat: np.ndarray, receptors: pd.DataFrame | None, *,
                   km: float) -> tuple[np.ndarray, np.ndarray]:
    """Sensitive receptors within `km` (geodesic) of each point, nearest first.

    Returns
    -------
    text, count
        ``"第一小学（school，0.84 km）；…"`` (None without any) and how many, per point.
    """
    n = len(lng)
    text, count = np.full(n, None, dtype=object), np.zeros(n, np.int64)
    if receptors is None or len(receptors) == 0 or n == 0:
        return text, count
    r = receptors.reset_index(drop=True)
    ia, ib, d = geodesy.pairs_within(lng, lat, r["lon"].to_numpy(float),
                                     r["lat"].to_numpy(float), distance=km * 1000.0)
    kind = r["kind"].to_numpy(dtype=object) if "kind" in r else np.full(len(r), None, object)
    df = pd.DataFrame({"a": ia, "d": d, "name": r["name"].to_numpy(dtype=object)[ib],
                       "kind": kind[ib]}).sort_values(["a", "d", "name"], kind="stable")
    df["t"] = [f"{nm}（{k + '，' if isinstance(k, str) and k else ''}{x / 1000:.2f} km）"
               for nm, k, x in zip(df["name"], df["kind"], df["d"], strict=True)]
    g = df.groupby("a")["t"]
    joined = g.agg("；".join)
    text[joined.index.to_numpy()] = joined.to_numpy(dtype=object)
    count[joined.index.to_numpy()] = g.size().to_numpy()
    return text, count


def attach(frame: pd.DataFrame, lng: np.ndarray, lat: np.ndarray,
           receptors: pd.DataFrame | None, *, km: float, where: np.ndarray | None = None
           ) -> pd.DataFrame:
    """`frame` with ``receptors`` and ``n_receptors`` for the rows `where` (default: all).

    `lng`, `lat` are the rows' points (e.g. cell centres), WGS-84 degrees.
    """
    out = frame.copy()
    text = np.full(len(out), None, dtype=object)
    count = np.zeros(len(out), np.int64)
    sel = np.ones(len(out), bool) if where is None else np.asarray(where, bool)
    t, c = receptors_near(np.asarray(lng)[sel], np.asarray(lat)[sel], receptors, km=km)
    text[sel], count[sel] = t, c
    out["receptors"], out["n_receptors"] = text, count
    return out
