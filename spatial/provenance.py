"""Provenance: the SHA-256 of the bytes a run read, taken when it read them.

The runner opens a :func:`recording` around a run. Readers call :func:`note_bytes` with the
bytes they decoded (CSV files are read whole, so their hash is exactly what was parsed) or
:func:`note_file` just before a library (GDAL, openpyxl, rasterio) opens a file; files listed
in the config are noted before reading starts, so files read elsewhere (on Dask workers) are
covered too. At the end :func:`changed` lists the files whose size or modification time moved
since: they changed during the run, and the run reports it (the manifest keeps the hash of
what was read, never of what the file became).
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Noted:
    """A file as read: hash of its bytes, size and modification time then, and when."""

    sha256: str
    size: int
    mtime_ns: int
    read_utc: str


_REC: contextvars.ContextVar[dict[str, Noted] | None] = contextvars.ContextVar(
    "lantian_provenance", default=None)


def _parts(path: Path) -> list[Path]:
    """A file and, for a Shapefile, every sidecar of its set (sorted)."""
    if path.suffix.lower() == ".shp":
        return sorted(p for p in path.parent.glob(path.stem + ".*") if p.is_file())
    return [path]


def sha256(path: Path | str) -> str:
    """Hex SHA-256 of a file (of every part of a Shapefile set, concatenated)."""
    h = hashlib.sha256()
    for p in _parts(Path(path)):
        with open(p, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()


def _stat(path: Path) -> tuple[int, int]:
    size, mtime = 0, 0
    for p in _parts(path):
        st = p.stat()
        size += st.st_size
        mtime = max(mtime, st.st_mtime_ns)
    return size, mtime


def _key(path: Path | str) -> str:
    return str(Path(path).absolute())


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


@contextlib.contextmanager
def recording() -> Iterator[dict[str, Noted]]:
    """Record, within the block, the hashes of the files readers note."""
    token = _REC.set({})
    try:
        yield _REC.get()
    finally:
        _REC.reset(token)


def note_bytes(path: Path | str, data: bytes) -> None:
    """Note the bytes a reader read from `path` (replaces an earlier note of the file)."""
    rec = _REC.get()
    if rec is None:
        return
    size, mtime = _stat(Path(path))
    rec[_key(path)] = Noted(hashlib.sha256(data).hexdigest(), size, mtime, _now())


def note_file(path: Path | str, *, again: bool = False) -> None:
    """Hash `path` now, before a library reads it (kept if already noted, unless `again`)."""
    rec = _REC.get()
    p = Path(path)
    if rec is None or not p.is_file() or (_key(p) in rec and not again):
        return
    before = _stat(p)
    digest = sha256(p)
    after = _stat(p)
    if after != before:  # written to while hashed: hash what is there now
        digest = sha256(p)
    rec[_key(p)] = Noted(digest, *after, _now())


def note_files(paths: Iterable[Path | str]) -> None:
    """:func:`note_file` for each path."""
    for p in paths:
        note_file(p)


def digest(path: Path | str) -> str:
    """The noted hash of `path`, else its hash now."""
    rec = _REC.get() or {}
    noted = rec.get(_key(path))
    return noted.sha256 if noted is not None else sha256(path)


def changed() -> list[str]:
    """The noted files whose size or modification time differs now (or that are gone)."""
    out = []
    for key, noted in (_REC.get() or {}).items():
        try:
            now = _stat(Path(key))
        except OSError:
            out.append(key)
            continue
        if now != (noted.size, noted.mtime_ns):
            out.append(key)
    return sorted(out)
