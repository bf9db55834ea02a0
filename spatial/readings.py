"""Air-quality readings: monitoring exports (long, wide or the national archive's day files).

The reader beside :mod:`spatial.firms` (fire detections): every file of an input to one long
frame (station_id, time, pollutant, value, file, row), rejected rows with a reason each, exact
repeats removed and reported. Split from :mod:`spatial.io` (which re-exports these names).
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from . import dedupe, progress
from .columns import Field, norm_header, resolve_columns, strip_unit
from .errors import InputError
from .rawfiles import read_raw
from .tables import MapFiles, Table, empty_rejected, file_rows, reject
from .values import parse_datetimes, parse_numbers, parse_text

log = logging.getLogger(__name__)

#: Pollutant columns of monitoring exports (national network: pm2_5, pm10, so2, no2, co, o3),
#: after header normalisation. ``*_24h`` / ``o3_8h`` rolling means are not matched.
POLLUTANT_ALIASES: dict[str, tuple[str, ...]] = {
    "pm25": ("pm25", "pm2_5", "pm2.5", "pm_2.5", "细颗粒物", "pm2.5浓度"),
    "pm10": ("pm10", "pm_10", "可吸入颗粒物", "pm10浓度"),
    "no2": ("no2", "二氧化氮"),
    "so2": ("so2", "二氧化硫"),
    "co": ("co", "一氧化碳"),
    "o3": ("o3", "臭氧", "o3_1h"),
}

READING_FIELDS = (
    Field("station_id", "text", True, ("stationcode", "station_code", "站点编码", "监测点编码",
                                       "站点编号", "station", "站点", "id", "编号", "设备编号")),
    Field("time", "text", False, ("timepoint", "datetime", "时间", "监测时间", "数据时间",
                                  "time_point", "采样时间")),
    Field("date", "text", False, ("日期", "day")),
    Field("hour", "float", False, ("小时", "时")),
    Field("pollutant", "text", False, ("污染物", "监测项目", "指标", "parameter", "item")),
    Field("value", "float", False, ("浓度", "监测值", "数值", "concentration", "值")),
    Field("lon", "float", False), Field("lat", "float", False),
)


def pollutant_key(label: object) -> str | None:
    """Our pollutant key (pm25, pm10, no2, so2, co, o3) for a column header or label, or None."""
    norm = strip_unit(norm_header(label))
    for key, aliases in POLLUTANT_ALIASES.items():
        if norm in {norm_header(a) for a in aliases}:
            return key
    return None


def _station_wide(raw: pd.DataFrame, path: Path, name: str, first_row: int = 2
                  ) -> pd.DataFrame | None:
    """The national archive's day files (``date, hour, type, 1001A, 1002A, …``) to long rows."""
    heads = {norm_header(c): c for c in raw.columns}
    if not {"date", "hour", "type"} <= set(heads):
        return None
    stations = [c for c in raw.columns if re.fullmatch(r"\d{4}A", str(c).strip())]
    if not stations:
        return None
    df = raw.rename(columns={heads["date"]: "_date", heads["hour"]: "_hour",
                             heads["type"]: "_type"})
    df["_row"] = file_rows(len(df), first_row)
    long = df.melt(id_vars=["_date", "_hour", "_type", "_row"], value_vars=stations,
                   var_name="station_id", value_name="value")
    return pd.DataFrame({"row": long["_row"].to_numpy(),
                         "station_id": long["station_id"].str.strip(),
                         "date": long["_date"], "hour": parse_numbers(long["_hour"]),
                         "pollutant": long["_type"], "value": long["value"]})


def _parse_times(values: pd.Series, *, tz: str) -> pd.Series:
    """ISO 8601 times fast, anything else through :func:`parse_datetimes`; local zone `tz`."""
    text = values.astype(object).where(values.notna(), None)
    fast = pd.to_datetime(text, errors="coerce", format="ISO8601")
    if getattr(fast.dt, "tz", None) is None:
        fast = fast.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
    else:
        fast = fast.dt.tz_convert(tz)
    todo = fast.isna() & text.notna()
    if todo.any():
        fast = fast.astype(object)
        fast[todo] = parse_datetimes(text[todo], tz=tz).dt.tz_convert(tz)
        fast = pd.to_datetime(fast).dt.tz_convert(tz)
    return fast


def _readings_file(path: Path, *, name: str, columns: Mapping[str, str] | None,
                   sheet: str | int | None, tz: str
                   ) -> tuple[pd.DataFrame, list[pd.DataFrame], str | None, int]:
    """One file of :func:`read_readings`: (readings, rejected parts, encoding, rows read)."""
    raw, enc = read_raw(path, sheet=sheet, name=name)
    if isinstance(raw, gpd.GeoDataFrame):
        raw = pd.DataFrame(raw.drop(columns=raw.geometry.name))
    long, rejected = readings_from_raw(raw, path=path, name=name, columns=columns, tz=tz)
    return long, rejected, enc, len(raw)


def readings_from_raw(raw: pd.DataFrame, *, path: Path, name: str,
                      columns: Mapping[str, str] | None, tz: str, first_row: int = 2
                      ) -> tuple[pd.DataFrame, list[pd.DataFrame]]:
    """The readings (long rows) and rejected parts of one file's rows as read.

    Also used for a user's own DataFrame (:mod:`spatial.frames`, ``first_row`` 1; `path`
    names it in messages). Columns as :func:`read_readings` returns them.
    """
    rejected: list[pd.DataFrame] = []
    long = _station_wide(raw, path, name, first_row)
    mapping: dict[str, str] = {}
    if long is None:
        mapping = resolve_columns(list(raw.columns), READING_FIELDS, columns, path=path,
                                  name=name)
        row = file_rows(len(raw), first_row)
        base = pd.DataFrame({"row": row, "station_id": parse_text(raw[mapping["station_id"]])})
        for key in ("time", "date"):
            base[key] = raw[mapping[key]].to_numpy() if key in mapping else None
        base["hour"] = parse_numbers(raw[mapping["hour"]]) if "hour" in mapping else np.nan
        for key in ("lon", "lat"):
            base[key] = parse_numbers(raw[mapping[key]]).to_numpy() if key in mapping \
                else np.nan
        if "pollutant" in mapping and "value" in mapping:
            base["pollutant"] = raw[mapping["pollutant"]].to_numpy()
            base["value"] = raw[mapping["value"]].to_numpy()
            long = base
        else:
            used = set(mapping.values())
            pcols = {c: pollutant_key(c) for c in raw.columns if c not in used}
            pcols = {c: k for c, k in pcols.items() if k is not None}
            if not pcols:
                raise InputError(
                    f"{path}: input '{name}' has no pollutant column (pm25/pm2_5/PM2.5, "
                    f"pm10, no2, so2, co, o3) and no pollutant+value columns; its columns "
                    f"are: {', '.join(map(str, raw.columns))}."
                )
            parts = []
            for col, key in pcols.items():
                part = base.copy()
                part["pollutant"] = key
                part["value"] = raw[col].to_numpy()
                parts.append(part)
            long = pd.concat(parts, ignore_index=True)
        if "time" not in mapping and "date" not in mapping:
            raise InputError(
                f"{path}: input '{name}' has no time column (time, timepoint, 时间, or date "
                f"+ hour); its columns are: {', '.join(map(str, raw.columns))}. Name it in "
                'the config: columns = { time = "…" }.'
            )
    for key in ("lon", "lat"):
        if key not in long:
            long[key] = np.nan
    long = long.reset_index(drop=True)
    if long["time"].isna().all() if "time" in long else True:
        day = parse_datetimes(long["date"].astype(object), tz=tz)
        hour = pd.to_numeric(long["hour"], errors="coerce").fillna(0.0)
        bad_hour = (hour < 0) | (hour > 24)
        t = day + pd.to_timedelta(hour.where(~bad_hour), unit="h")
    else:
        t = _parse_times(long["time"], tz=tz)
    long["time"] = t
    labels = pd.unique(long["pollutant"].dropna())  # a few labels, many rows: map each once
    long["pollutant"] = long["pollutant"].map({v: pollutant_key(v) for v in labels})
    long["value"] = parse_numbers(long["value"].astype(object))
    long["file"] = str(path)
    no_id = long["station_id"].isna().to_numpy()
    no_t = long["time"].isna().to_numpy() & ~no_id
    for mask, reason in ((no_id, "station id empty"),
                         (no_t, "time missing or unreadable")):
        if mask.any():
            rows = long.loc[mask, ["row", "station_id"]].drop_duplicates("row")
            rejected.append(reject(name, path, rows["row"].to_numpy(), rows["station_id"],
                                    reason))
    keep = ~no_id & ~no_t & long["pollutant"].notna().to_numpy() & \
        long["value"].notna().to_numpy()
    return (long.loc[keep, ["station_id", "time", "pollutant", "value", "lon", "lat", "file",
                             "row"]], rejected)


def read_readings(paths: Sequence[Path | str] | Path | str, *, name: str = "readings",
                  columns: Mapping[str, str] | None = None, sheet: str | int | None = None,
                  tz: str = "Asia/Shanghai", map_files: MapFiles | None = None) -> Table:
    """Read air-quality readings (hourly or daily), long or wide, into one long table.

    Each file is read on its own (``map_files(func, paths)``, e.g. one task per file on a Dask
    engine; default: in turn, here); the results are put together in the order of the files.

    Recognised layouts (per file, several files are concatenated):

    - **wide**: station id, time, one column per pollutant (``pm25``/``pm2_5``/``PM2.5``/
      ``细颗粒物``, ``pm10``, ``no2``, ``so2``, ``co``, ``o3``); the national network's export
      (``timepoint, stationcode, longitude, latitude, aqi, pm2_5, pm2_5_24h, pm10, …``) is
      read as is (its ``*_24h`` rolling means and ``aqi`` are ignored);
    - **long**: station id, time, pollutant, value;
    - **station-wide** day files of the national archive: ``date, hour, type, 1001A, …``.

    Time is a ``time`` column, or ``date`` plus ``hour`` (0-23); times without a zone are local
    (`tz`). Values that are empty or not numbers (``—``) are missing, not rejected.

    Parameters
    ----------
    paths
        One file or several (CSV/XLSX).
    name
        Input name for messages.
    columns
        Config mapping of our field names (station_id, time, date, hour, pollutant, value, lon,
        lat) to headers.
    sheet
        XLSX sheet.
    tz
        Zone of times written without one.

    Returns
    -------
    Table
        ``frame``: columns ``station_id`` (text), ``time`` (tz-aware), ``pollutant`` (our
        key), ``value`` (float, as in the file: µg/m³, CO mg/m³), ``lon``, ``lat`` (NaN when the
        file has none), ``file``, ``row``; one row per reading with a value. Rows with an
        unreadable time or without a station id are in ``rejected``.
    """
    plist = [Path(p) for p in ([paths] if isinstance(paths, (str, Path)) else paths)]
    if not plist:
        raise InputError(f"input '{name}': no file given.")
    read = functools.partial(_readings_file, name=name, columns=columns, sheet=sheet, tz=tz)
    parts = map_files(read, plist) if map_files is not None else [
        read(p) for p in progress.track(plist, f"reading {name} files")]
    frames = [f for f, _, _, _ in parts]
    rejected = [empty_rejected()] + [r for _, rs, _, _ in parts for r in rs]
    encs = [e for _, _, e, _ in parts]
    n_read = sum(n for _, _, _, n in parts)
    frame = pd.concat(frames, ignore_index=True)
    frame["station_id"] = frame["station_id"].astype(object)
    frame, repeats = dedupe.repeated_readings(frame, name=name)  # never counted twice
    rej = pd.concat([*rejected, repeats], ignore_index=True)
    log.info("Read %d readings (%s) from %d file(s)", len(frame),
             ", ".join(sorted(frame["pollutant"].unique())), len(plist))
    enc = encs[0] if len(set(encs)) == 1 else ",".join(map(str, encs))
    return Table(name=name, path=plist[0], frame=frame, rejected=rej.reset_index(drop=True),
                 encoding=enc, columns=dict(columns or {}), n_read=n_read, paths=plist,
                 n_read_by_file={str(p): n for p, (_, _, _, n) in zip(plist, parts,
                                                                     strict=True)})
