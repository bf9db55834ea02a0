"""One output set per run, published as a whole, one run at a time per output folder.

A run's outputs (``layers/<analysis>/`` and ``maps/<analysis>.html/.png/.pdf``) are built in a
staging folder and published together; nobody ever sees new layers beside old maps. Layout of
the work folder under ``--out``::

    .lantian/<analysis>.lock              held (flock) by the run writing <analysis>; says who
    .lantian/<analysis>.stage.<token>/    the new set being built: layers/<analysis>/, maps/…
    .lantian/<analysis>.publish.json      the commit record: written (one rename) when the new
                                          set is complete, removed when it is in place
    .lantian/<analysis>.old.<token>/      the previous set, moved aside while publishing

Publishing writes the commit record with one ``os.replace`` — that rename is the commit point —
then moves each old output aside and the new one in, then removes the record and the old set.
A Ctrl-C during those renames is held back until they are done. If the process is killed
(power loss, SIGKILL), the next lantian command on that folder and analysis finishes the job:
with a commit record it completes the publication (the new set is complete in staging);
without one it removes the staging folder (the old set was never touched). So after any
interruption the folder holds either the whole previous set or the whole new one.

The lock (``fcntl.flock``; ``msvcrt.locking`` on Windows) is released by the system when the
process ends, however it ends; a second run on the same ``--out`` and analysis exits with
status 2 naming the holder (process id, host, start time, command).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import json
import logging
import os
import secrets
import shutil
import signal
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from . import safepath
from .errors import InputError

log = logging.getLogger(__name__)

WORK_DIR = ".lantian"
MAP_SUFFIXES = ("html", "png", "pdf")

#: analyses published (and interrupted) in this process, for the Ctrl-C message of the CLI
PUBLISHED: list[str] = []
LEFT: list[str] = []


def targets(analysis: str, *folders: Path) -> list[str]:
    """The paths (relative to ``--out``, POSIX) that make up the output set of `analysis`.

    Always ``layers/<analysis>`` and ``maps/<analysis>.html/.png/.pdf``; with `folders` (an
    ``--out`` or a staging folder) also every further ``maps/<analysis>.<name>.<ext>`` found
    there (extra figures such as pollution-hotspots' ``ranking.png``).
    """
    name = safepath.safe_name(analysis)
    out = [f"layers/{name}"] + [f"maps/{name}.{ext}" for ext in MAP_SUFFIXES]
    for folder in folders:
        maps = Path(folder) / "maps"
        if maps.is_dir():
            out += [f"maps/{p.name}" for p in sorted(maps.glob(f"{name}.*"))
                    if f"maps/{p.name}" not in out]
    return out


# ----------------------------------------------------------------------------------- lock


def _try_lock(f: IO[str]) -> bool:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        import msvcrt

        try:
            msvcrt.locking(f.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    try:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as err:
        if err.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
            return False
        raise
    return True


def prepare_out(out: Path | str) -> Path:
    """Check that `out` can hold results and create its work folder; return ``out/.lantian``.

    Refuses (InputError naming ``--out``) a path GDAL would not take literally, an existing
    file, and a folder this user cannot write — before any analysis runs.
    """
    out = safepath.check_user_path(Path(out), option="--out")
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out}: is an existing file, not a folder; give a folder "
                         "(it is created if missing).")
    for sub in ("layers", "maps"):
        p = out / sub
        if p.is_symlink() or (p.exists() and not p.is_dir()):
            what = "a symbolic link" if p.is_symlink() else "a file"
            raise InputError(f"--out {out}: {sub} is {what}; lantian writes a folder {sub}/ "
                             "there. Move it away or give another --out.")
    work = out / WORK_DIR
    try:
        work.mkdir(parents=True, exist_ok=True)
        probe = work / f".probe.{os.getpid()}"
        probe.write_bytes(b"x")
        probe.unlink()
    except OSError as err:
        raise InputError(f"--out {out}: cannot write there ({err.strerror or err}); give a "
                         "folder you can write to.") from None
    return work


@contextlib.contextmanager
def lock(out: Path | str, analysis: str, *, command: str = "") -> Iterator[Path]:
    """Hold the lock of (`out`, `analysis`) for the duration of the block; yield the work folder.

    Raises InputError (exit 2) naming the holder if another process holds it. On entry a
    half-published set left by a killed run is completed and stale staging folders removed
    (:func:`recover`).
    """
    work = prepare_out(out)
    for rel in targets(analysis):
        if (Path(out) / rel).is_symlink():
            raise InputError(f"--out {out}: {rel} is a symbolic link; lantian replaces it on "
                             "every run and will not follow a link out of the folder. Remove "
                             "the link (or copy what it points to) or give another --out.")
    path = work / f"{safepath.safe_name(analysis)}.lock"
    f = open(path, "a+", encoding="utf-8")  # noqa: SIM115 - held for the whole block
    locked = False
    try:
        if not _try_lock(f):
            f.seek(0)
            holder = f.read().strip() or "another process"
            raise InputError(f"--out {out}: {analysis} is being written there by {holder}; "
                             "wait until that run ends or give another --out.")
        f.seek(0)
        f.truncate()
        f.write(f"lantian pid {os.getpid()} on {socket.gethostname()}, started "
                f"{dt.datetime.now(dt.UTC).isoformat(timespec='seconds')}"
                + (f" ({command})" if command else ""))
        f.flush()
        locked = True
        recover(out, analysis)
        n_published = len(PUBLISHED)
        try:
            yield work
        except BaseException:
            if analysis not in PUBLISHED[n_published:]:
                LEFT.append(analysis)  # for the interrupt message: nothing of it was changed
            raise
    finally:
        if locked:  # the holder's line is cleared: an idle lock file is empty
            with contextlib.suppress(OSError):
                f.seek(0)
                f.truncate()
        f.close()  # releases the lock


# ----------------------------------------------------------------------------------- publish


def _record_path(work: Path, analysis: str) -> Path:
    return work / f"{safepath.safe_name(analysis)}.publish.json"


def _move_in(out: Path, stage: Path, old: Path, rel: str) -> None:
    """Move ``out/rel`` aside into `old` and ``stage/rel`` into its place (idempotent)."""
    new = stage / rel
    if not new.exists() and not new.is_symlink():
        return
    dst = out / rel
    dst.parent.mkdir(parents=True, exist_ok=True)
    if dst.exists() or dst.is_symlink():
        aside = old / rel
        aside.parent.mkdir(parents=True, exist_ok=True)
        if aside.exists():
            _remove(aside)
        os.replace(dst, aside)
    os.replace(new, dst)


def _remove(p: Path) -> None:
    if p.is_dir() and not p.is_symlink():
        shutil.rmtree(p, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            p.unlink()


def _finish(out: Path, work: Path, analysis: str, record: dict) -> None:
    stage, old = work / record["stage"], work / record["old"]
    for rel in record["targets"]:
        _move_in(out, stage, old, rel)
    for rel in record.get("absent", []):  # not in the new set: the old one goes too
        dst = out / rel
        if dst.exists() or dst.is_symlink():
            (old / rel).parent.mkdir(parents=True, exist_ok=True)
            os.replace(dst, old / rel)
    _record_path(work, analysis).unlink()
    _remove(old)
    _remove(stage)


def recover(out: Path | str, analysis: str) -> str | None:
    """Complete or clean up what a killed run of `analysis` left in `out`; call under the lock.

    Returns ``"completed"`` when a committed set was moved into place, ``"cleaned"`` when
    only stale staging folders or temporary files were removed, None when there was nothing.
    """
    out = Path(out)
    work = out / WORK_DIR
    name = safepath.safe_name(analysis)
    done = None
    rec = _record_path(work, analysis)
    if rec.exists():
        record = json.loads(rec.read_text(encoding="utf-8"))
        _finish(out, work, analysis, record)
        log.warning("%s: completed the publication of %s that an interrupted run had begun",
                    out, analysis)
        done = "completed"
    stale = [*work.glob(f"{name}.stage.*"), *work.glob(f"{name}.old.*"),
             # left by lantian versions that wrote beside the outputs
             *(out / "layers").glob(f".{name}.*.tmp"), *(out / "layers").glob(f".{name}.old"),
             *(out / "layers" / name).glob(".counties.*.tmp"),  # a killed county export
             *(out / "maps").glob(f".{name}.*.*")]
    for p in stale:
        _remove(p)
    if stale and done is None:
        log.info("%s: removed %d temporary file(s) left by an interrupted run of %s", out,
                 len(stale), analysis)
        done = "cleaned"
    return done


class _HoldInterrupt:
    """Hold SIGINT back for the duration of the block and re-raise it at the end."""

    def __enter__(self) -> _HoldInterrupt:
        self.caught = False
        self.old = None
        if threading.current_thread() is threading.main_thread():
            self.old = signal.signal(signal.SIGINT, self._note)
        return self

    def _note(self, signum, frame) -> None:  # noqa: ANN001
        self.caught = True

    def __exit__(self, *exc) -> None:
        if self.old is not None:
            signal.signal(signal.SIGINT, self.old)
        if self.caught and exc[0] is None:
            raise KeyboardInterrupt


class Staging:
    """A new output set of `analysis` under construction; :meth:`publish` puts it in place.

    Use inside :func:`lock`. ``layers_dir`` and ``maps_dir`` are where the run writes
    ``layers/<analysis>/…`` and ``maps/<analysis>.…``; :meth:`discard` (or leaving the ``with``
    block with an error) removes the staging folder and leaves the previous set as it was.
    """

    def __init__(self, out: Path | str, analysis: str) -> None:
        self.out = Path(out)
        self.analysis = analysis
        self.work = self.out / WORK_DIR
        token = secrets.token_hex(4)
        name = safepath.safe_name(analysis)
        self.stage = self.work / f"{name}.stage.{token}"
        self.old = self.work / f"{name}.old.{token}"
        self.layers_dir = self.stage / "layers" / name
        self.maps_dir = self.stage / "maps"
        self.maps_dir.mkdir(parents=True)
        self.layers_dir.parent.mkdir(parents=True)
        self.published = False

    def __enter__(self) -> Staging:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:  # noqa: ANN001
        if not self.published:
            self.discard()

    def discard(self) -> None:
        """Remove the staging folder (nothing was published)."""
        _remove(self.stage)

    def publish(self) -> None:
        """Put the whole staged set in place of the previous one (see the module docstring)."""
        every = targets(self.analysis, self.stage, self.out)
        present = [rel for rel in every if (self.stage / rel).exists()]
        record = {"stage": self.stage.name, "old": self.old.name, "targets": present,
                  "absent": [rel for rel in every if rel not in present]}
        rec = _record_path(self.work, self.analysis)
        tmp = rec.with_name(rec.name + ".tmp")
        with _HoldInterrupt():
            tmp.write_text(json.dumps(record), encoding="utf-8")
            os.replace(tmp, rec)  # the commit point
            self.published = True
            PUBLISHED.append(self.analysis)
            _finish(self.out, self.work, self.analysis, record)


def interrupt_message() -> str:
    """What a Ctrl-C left: which analyses were published and which were left as they were."""
    parts = []
    if PUBLISHED:
        parts.append(f"the new results of {', '.join(dict.fromkeys(PUBLISHED))} were "
                     "published in full")
    if LEFT:
        parts.append(f"the previous results of {', '.join(dict.fromkeys(LEFT))} were left "
                     "as they were")
    if not parts:
        parts.append("no output was changed")
    return "interrupted; " + "; ".join(parts) + "."


def oserror_message(out: Path | str, err: OSError) -> str:
    """An InputError message for a write that failed (full disk, permissions)."""
    why = err.strerror or str(err)
    if err.filename:
        why += f": {err.filename}"
    hint = ("free some space" if err.errno == errno.ENOSPC else "check the folder's permissions")
    return (f"--out {out}: writing the results failed ({why}); the previous results were "
            f"left as they were; {hint} and run again.")

