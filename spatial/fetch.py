"""Download NASA FIRMS active-fire detections into a dated cache (the FIRMS area API or files).

Two ways to get the detections of an area (bounding box ``west, south, east, north`` in WGS-84
degrees, **lng first** as FIRMS writes it):

- the **area API** ``{firms_url}/api/area/csv/{MAP_KEY}/{SOURCE}/{w,s,e,n}/{days}/{date}``
  (``days`` 1-5 from ``date`` on; longer ranges are split), with a free MAP_KEY from the
  environment variable ``FIRMS_MAP_KEY`` or the config's ``[fetch] map_key``. The key is never
  written into a file, a message or a log (URLs are shown with ``<MAP_KEY>``).
- without a key, the keyless **regional files** of the last 24 h, 48 h or 7 days
  (``{firms_url}/data/active_fire/…/{PREFIX}_{region}_{24h|48h|7d}.csv``), cut to the box.

Either way the rows are split by ``acq_date`` (UTC) into one file per source and day,
``{cache}/{SOURCE}/{SOURCE}_{w}_{s}_{e}_{n}_{YYYY-MM-DD}.csv``, exactly as FIRMS wrote them (a day
without detections is a header-only file: zero rows, said so). A cached day is not downloaded
again, except today and yesterday (UTC), whose near-real-time data may still be arriving.

Errors a user meets get one message (:class:`FetchError`, an ``InputError``): no network,
``Invalid MAP_KEY.``, no answer in time, a service error. The rate limit (5,000 transactions per
10 minutes) is waited out with a visible countdown and the request retried.
"""

from __future__ import annotations

import datetime as dt
import io as _io
import logging
import math
import os
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from .errors import InputError
from .export import write_bytes_atomic

log = logging.getLogger(__name__)

DEFAULT_FIRMS_URL = "https://firms.modaps.eosdis.nasa.gov"
DEFAULT_OVERPASS_URL = "https://overpass-api.de/api/interpreter"
#: near-real-time and standard-processing (science-quality, weeks later) products of the API
NRT_SOURCES = ("VIIRS_SNPP_NRT", "VIIRS_NOAA20_NRT", "VIIRS_NOAA21_NRT", "MODIS_NRT")
SP_SOURCES = ("VIIRS_SNPP_SP", "VIIRS_NOAA20_SP", "MODIS_SP")
SOURCES = NRT_SOURCES + SP_SOURCES
#: the area API answers at most this many days per request
MAX_DAYS = 5
#: keyless regional files per NRT source: folder and file prefix under /data/active_fire/
KEYLESS = {
    "VIIRS_SNPP_NRT": ("suomi-npp-viirs-c2/csv", "SUOMI_VIIRS_C2"),
    "VIIRS_NOAA20_NRT": ("noaa-20-viirs-c2/csv", "J1_VIIRS_C2"),
    "VIIRS_NOAA21_NRT": ("noaa-21-viirs-c2/csv", "J2_VIIRS_C2"),
    "MODIS_NRT": ("modis-c6.1/csv", "MODIS_C6_1"),
}
KEYLESS_PERIODS = ((1, "24h"), (2, "48h"), (7, "7d"))
FETCH_KEYS = {"firms_url": str, "overpass_url": str, "map_key": str, "sources": list,
              "margin_km": (int, float), "cache": str, "firms_region": str,
              "timeout_s": (int, float), "rate_wait_s": (int, float), "max_retries": int}
INVALID_KEY = "Invalid MAP_KEY"
RATE_LIMIT_TEXT = ("exceeding allowed transaction limit", "too many requests")


class FetchError(InputError):
    """A download failed for a reason the user can act on (network, key, service)."""


@dataclass(frozen=True)
class Settings:
    """The ``[fetch]`` settings of a config, with the environment applied.

    ``LANTIAN_FIRMS_URL`` / ``LANTIAN_OVERPASS_URL`` override the service addresses (a mirror
    or a test server), ``FIRMS_MAP_KEY`` the key.
    """

    firms_url: str = DEFAULT_FIRMS_URL
    overpass_url: str = DEFAULT_OVERPASS_URL
    map_key: str | None = field(default=None, repr=False)
    sources: tuple[str, ...] = ("VIIRS_SNPP_NRT", "VIIRS_NOAA20_NRT", "MODIS_NRT")
    margin_km: float = 10.0
    cache: Path = Path("data/raw")
    firms_region: str = "Russia_Asia"
    timeout_s: float = 60.0
    rate_wait_s: float = 60.0
    max_retries: int = 3


def settings(config: Mapping[str, Any], *, environ: Mapping[str, str] | None = None) -> Settings:
    """Settings from a loaded config (``spatial.config.load``) and the environment.

    The cache folder ``[fetch] cache`` is relative to the config's folder; without it the cache
    is ``data/raw`` in the current folder.
    """
    env = os.environ if environ is None else environ
    table = dict(config.get("fetch") or {})
    where = config.get("path", "config")
    bad = sorted(set(table) - set(FETCH_KEYS))
    if bad:
        raise InputError(f"{where}: [fetch] has unknown key(s) {', '.join(bad)}; allowed: "
                         f"{', '.join(sorted(FETCH_KEYS))}.")
    for k, typ in FETCH_KEYS.items():
        if k in table and (not isinstance(table[k], typ) or isinstance(table[k], bool)):
            raise InputError(f"{where}: [fetch] {k} has the wrong type ({table[k]!r}).")
    sources = tuple(str(s).upper() for s in table.get("sources", Settings.sources))
    check_sources(sources)
    base = Path(config.get("base", "."))
    # [fetch] cache is relative to the config's folder (like input paths); default: ./data/raw
    cache = Path(table["cache"]) if "cache" in table else None
    return Settings(
        firms_url=(env.get("LANTIAN_FIRMS_URL") or table.get("firms_url")
                   or DEFAULT_FIRMS_URL).rstrip("/"),
        overpass_url=env.get("LANTIAN_OVERPASS_URL") or table.get("overpass_url")
        or DEFAULT_OVERPASS_URL,
        map_key=env.get("FIRMS_MAP_KEY") or table.get("map_key") or None,
        sources=sources, margin_km=float(table.get("margin_km", 10.0)),
        cache=Path("data/raw") if cache is None else cache if cache.is_absolute()
        else base / cache,
        firms_region=table.get("firms_region", "Russia_Asia"),
        timeout_s=float(table.get("timeout_s", 60.0)),
        rate_wait_s=float(table.get("rate_wait_s", 60.0)),
        max_retries=int(table.get("max_retries", 3)))


def check_sources(sources: Sequence[str]) -> None:
    """Raise InputError for a source FIRMS does not offer."""
    bad = [s for s in sources if s not in SOURCES]
    if bad or not sources:
        raise InputError(f"unknown FIRMS source(s) {', '.join(bad) or '(none)'}; the sources are: "
                         f"{', '.join(SOURCES)}.")


def bbox_of(bounds: Sequence[float], *, margin_km: float) -> tuple[float, float, float, float]:
    """``(west, south, east, north)`` degrees around `bounds` (minx, miny, maxx, maxy) + margin.

    The margin is converted at the box's central latitude and the box is rounded outwards to
    0.01° (the cache file names carry it).
    """
    w, s, e, n = (float(v) for v in bounds)
    dlat = margin_km / 111.32
    dlon = margin_km / (111.32 * max(math.cos(math.radians((s + n) / 2)), 0.01))
    return (math.floor((w - dlon) * 100) / 100, math.floor((s - dlat) * 100) / 100,
            math.ceil((e + dlon) * 100) / 100, math.ceil((n + dlat) * 100) / 100)


def day_range(*, days: int | None = None, start: str | None = None, end: str | None = None,
              today: dt.date) -> list[dt.date]:
    """The UTC days to fetch: the last `days` days up to `today`, or `start`..`end` inclusive."""
    if start or end:
        if days:
            raise InputError("give either --days or --start/--end, not both.")
        try:
            a = dt.date.fromisoformat(start or end or "")
            b = dt.date.fromisoformat(end or start or "")
        except ValueError:
            raise InputError(f"--start/--end must be dates YYYY-MM-DD, not {start!r}/{end!r}."
                             ) from None
        if b < a:
            raise InputError(f"--end {b} is before --start {a}.")
        if b > today:
            raise InputError(f"--end {b} is in the future (today is {today} UTC).")
    else:
        n = 1 if days is None else days
        if n < 1:
            raise InputError(f"--days must be at least 1, not {n}.")
        a, b = today - dt.timedelta(days=n - 1), today
    return [a + dt.timedelta(days=i) for i in range((b - a).days + 1)]


def chunks(days: Sequence[dt.date], *, size: int = MAX_DAYS) -> list[tuple[dt.date, int]]:
    """Group days into requests ``(first day, n days)`` of consecutive days, at most `size` each."""
    out: list[tuple[dt.date, int]] = []
    for d in sorted(days):
        if out and d == out[-1][0] + dt.timedelta(days=out[-1][1]) and out[-1][1] < size:
            out[-1] = (out[-1][0], out[-1][1] + 1)
        else:
            out.append((d, 1))
    return out


def cache_path(cache: Path, source: str, bbox: Sequence[float], day: dt.date) -> Path:
    """File of one source, box and UTC day in the cache."""
    tag = "_".join(f"{v:.2f}" for v in bbox)
    return Path(cache) / "firms" / source / f"{source}_{tag}_{day.isoformat()}.csv"


@dataclass
class DayReport:
    """What happened to one source and day: ``downloaded``, ``cached`` or ``empty``."""

    source: str
    day: dt.date
    rows: int
    status: str
    path: Path

    def line(self) -> str:
        what = {"downloaded": "downloaded", "cached": "cached, not downloaded again",
                "empty": "no detection in the area that day (zero rows)"}[self.status]
        if self.status == "empty" and self.source.endswith("_SP"):
            what += ("; standard-processing (SP) data appear weeks to months later: use NRT "
                     "for recent days")
        return f"{self.source:17s} {self.day}  {self.rows:6d} rows  {what}"


def countdown(seconds: float, message: str, *, sleep: Callable[[float], Any] = time.sleep,
              stream: Any = None) -> None:
    """Wait `seconds`, showing ``message … N s`` once a second on `stream` (stderr)."""
    out = sys.stderr if stream is None else stream
    left = int(math.ceil(seconds))
    while left > 0:
        out.write(f"\r{message}: retrying in {left:3d} s ")
        out.flush()
        step = min(1, left)
        sleep(step)
        left -= step
    out.write("\r" + " " * (len(message) + 24) + "\r")
    out.flush()


class Client:
    """HTTP GET with the messages a user needs; `sleep` is injectable so tests do not wait."""

    def __init__(self, s: Settings, *, sleep: Callable[[float], Any] = time.sleep,
                 stream: Any = None) -> None:
        self.s, self.sleep, self.stream = s, sleep, stream
        self.requests = 0

    def redact(self, text: str) -> str:
        """`text` with the MAP_KEY replaced by ``<MAP_KEY>``."""
        return text.replace(self.s.map_key, "<MAP_KEY>") if self.s.map_key else text

    def get(self, url: str) -> str:
        """The body of `url` as text; rate limits are waited out, other failures raise."""
        shown = self.redact(url)
        for attempt in range(self.s.max_retries + 1):
            self.requests += 1
            try:
                req = urllib.request.Request(url, headers={"User-Agent": "lantian"})
                with urllib.request.urlopen(req, timeout=self.s.timeout_s) as r:
                    body = r.read().decode("utf-8", errors="replace")
                    status = r.status
            except urllib.error.HTTPError as err:
                body = err.read().decode("utf-8", errors="replace")
                status = err.code
            except TimeoutError:
                raise FetchError(f"{shown}: no answer within {self.s.timeout_s:g} s; the service "
                                 "is slow or unreachable. Nothing was written to the cache; try "
                                 "again later or raise [fetch] timeout_s.") from None
            except urllib.error.URLError as err:
                reason = err.reason
                if isinstance(reason, TimeoutError):
                    raise FetchError(f"{shown}: no answer within {self.s.timeout_s:g} s; try "
                                     "again later or raise [fetch] timeout_s.") from None
                raise FetchError(f"{shown}: no network connection ({self.redact(str(reason))}). "
                                 "The cache was left as it was; connect and run again, or use "
                                 "downloaded files in [inputs.fires].") from None
            text = body.strip()
            if INVALID_KEY.lower() in text[:200].lower():
                raise FetchError(f"{shown}: FIRMS answered \"Invalid MAP_KEY.\": set a valid key "
                                 "in the FIRMS_MAP_KEY environment variable or [fetch] map_key "
                                 "(free at https://firms.modaps.eosdis.nasa.gov/api/map_key/), "
                                 "or leave it out to use the keyless regional files.")
            if status == 429 or any(t in text[:300].lower() for t in RATE_LIMIT_TEXT):
                if attempt == self.s.max_retries:
                    raise FetchError(f"{shown}: FIRMS rate limit (5,000 transactions per 10 "
                                     f"minutes) still reached after {self.s.max_retries} "
                                     "retries; run again in 10 minutes (cached days are kept).")
                log.warning("FIRMS rate limit reached (request %d)", self.requests)
                countdown(self.s.rate_wait_s, "FIRMS rate limit (5,000 transactions per 10 min)",
                          sleep=self.sleep, stream=self.stream)
                continue
            if status >= 400:
                raise FetchError(f"{shown}: the service answered HTTP {status} "
                                 f"({self.redact(text[:160])!r}); try again later.")
            return body
        raise AssertionError("unreachable")  # pragma: no cover


def parse_csv(body: str, *, url: str) -> pd.DataFrame:
    """A FIRMS CSV answer as text columns; anything else (an HTML page, a message) raises."""
    first = body.lstrip().split("\n", 1)[0].lower()
    if "latitude" not in first or "acq_date" not in first:
        raise FetchError(f"{url}: the answer is not a FIRMS CSV (it begins "
                         f"{body.strip()[:120]!r}); check [fetch] firms_url and the source name.")
    return pd.read_csv(_io.StringIO(body), dtype=str, keep_default_na=False)


def _write_days(frame: pd.DataFrame, header: list[str], source: str,
                bbox: Sequence[float], days: Sequence[dt.date], cache: Path) -> list[DayReport]:
    """Split rows by acq_date into the days' cache files (header-only for a day without rows)."""
    out = []
    dates = frame["acq_date"].str.strip().str[:10] if len(frame) else pd.Series(dtype=str)
    for d in days:
        part = frame[dates == d.isoformat()] if len(frame) else frame
        path = cache_path(cache, source, bbox, d)
        text = part.to_csv(index=False, columns=header, lineterminator="\n")
        write_bytes_atomic(path, text.encode("utf-8"))
        out.append(DayReport(source, d, len(part), "downloaded" if len(part) else "empty", path))
    return out


def _in_box(frame: pd.DataFrame, bbox: Sequence[float]) -> pd.DataFrame:
    lat = pd.to_numeric(frame["latitude"], errors="coerce")
    lon = pd.to_numeric(frame["longitude"], errors="coerce")
    w, s, e, n = bbox
    return frame[(lon >= w) & (lon <= e) & (lat >= s) & (lat <= n)]


def fetch_firms(s: Settings, *, bbox: Sequence[float], days: Sequence[dt.date],
                sources: Sequence[str] | None = None, today: dt.date | None = None,
                keyless: bool | None = None, sleep: Callable[[float], Any] = time.sleep,
                stream: Any = None) -> list[DayReport]:
    """Download the detections of `bbox` on `days` (UTC) into the cache, skipping cached days.

    Parameters
    ----------
    s
        Settings (:func:`settings`).
    bbox
        ``(west, south, east, north)`` degrees, lng first.
    days
        UTC dates.
    sources
        FIRMS source names (default ``s.sources``).
    today
        Today's UTC date (default: the clock); today and yesterday are always downloaded again.
    keyless
        Use the regional 24h/48h/7d files (default: when no MAP_KEY is set). NRT sources only.
    sleep, stream
        How the rate-limit countdown waits and where it is shown.

    Returns
    -------
    list of DayReport
        One per source and day, in source then date order.
    """
    today = today or dt.datetime.now(dt.UTC).date()
    sources = tuple(sources or s.sources)
    check_sources(sources)
    use_keyless = (s.map_key is None) if keyless is None else keyless
    if not use_keyless and not s.map_key:
        raise FetchError("no FIRMS MAP_KEY: set the FIRMS_MAP_KEY environment variable or "
                         "[fetch] map_key, or use the keyless regional files (--keyless).")
    fresh = {today, today - dt.timedelta(days=1)}
    client = Client(s, sleep=sleep, stream=stream)
    reports: list[DayReport] = []
    for source in sources:
        todo, done = [], []
        for d in days:
            p = cache_path(s.cache, source, bbox, d)
            if p.exists() and d not in fresh:
                n = max(sum(1 for line in p.read_text(encoding="utf-8").splitlines()
                            if line.strip()) - 1, 0)
                done.append(DayReport(source, d, n, "cached", p))
            else:
                todo.append(d)
        if todo and use_keyless:
            done += _fetch_keyless(client, s, source, bbox, todo, today)
        elif todo:
            for first, n in chunks(todo):
                bb = ",".join(f"{v:g}" for v in bbox)
                url = f"{s.firms_url}/api/area/csv/{s.map_key}/{source}/{bb}/{n}/{first}"
                frame = parse_csv(client.get(url), url=client.redact(url))
                span = [first + dt.timedelta(days=i) for i in range(n)]
                done += _write_days(frame, list(frame.columns), source, bbox, span, s.cache)
        reports += sorted(done, key=lambda r: r.day)
    for r in reports:
        log.info("%s", r.line())
    return reports


def _fetch_keyless(client: Client, s: Settings, source: str, bbox: Sequence[float],
                   days: Sequence[dt.date], today: dt.date) -> list[DayReport]:
    if source not in KEYLESS:
        raise FetchError(f"{source}: the keyless regional files hold near-real-time data only "
                         f"({', '.join(KEYLESS)}); standard-processing (SP) products need a "
                         "MAP_KEY (FIRMS_MAP_KEY).")
    back = (today - min(days)).days + 1
    period = next((p for n, p in KEYLESS_PERIODS if back <= n), None)
    if period is None:
        raise FetchError(f"the keyless regional files cover the last 7 days only, not "
                         f"{min(days)}; set a MAP_KEY (FIRMS_MAP_KEY) for older days.")
    folder, prefix = KEYLESS[source]
    url = f"{s.firms_url}/data/active_fire/{folder}/{prefix}_{s.firms_region}_{period}.csv"
    frame = parse_csv(client.get(url), url=url)
    boxed = _in_box(frame, bbox)
    if len(frame) and not len(boxed):
        log.warning("%s: %d detections in the %s file, none in the box %s; if the area is not "
                    "in %s, set [fetch] firms_region", url, len(frame), s.firms_region, bbox,
                    s.firms_region)
    return _write_days(boxed, list(frame.columns), source, bbox, days, s.cache)
