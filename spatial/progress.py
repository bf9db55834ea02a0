"""Progress of long steps: the library says where it is, the command line shows it.

The library wraps long loops in :func:`track` and long steps in :func:`step`; by default each
step is one ``INFO`` log line. The ``lantian`` command installs a reporter with
:func:`set_reporter`: a bar on a terminal, one line per step otherwise (:class:`Bar`,
:class:`Lines`), nothing with ``-q``.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from typing import IO, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
#: ``reporter(description, done, total)``: called with done = 0 … total
Reporter = Callable[[str, int, int], None]


def _log_reporter(desc: str, done: int, total: int) -> None:
    if done < total:
        log.info("%s (%d/%d)", desc, done + 1, total)


_reporter: Reporter = _log_reporter


def set_reporter(reporter: Reporter | None) -> Reporter:
    """Install `reporter` (None: log lines); returns the previous one."""
    global _reporter
    old = _reporter
    _reporter = reporter or _log_reporter
    return old


def report(desc: str, done: int, total: int) -> None:
    """Tell the reporter that `done` of `total` parts of `desc` are done."""
    _reporter(desc, done, total)


def track(items: Iterable[T], desc: str, *, total: int | None = None) -> Iterator[T]:
    """Yield `items`, reporting progress after each (``total`` for iterators without len)."""
    n = total if total is not None else len(items)  # type: ignore[arg-type]
    report(desc, 0, n)
    i = 0
    for item in items:
        yield item
        i += 1
        report(desc, min(i, n), n)
    if i < n:
        report(desc, n, n)


@contextlib.contextmanager
def step(desc: str) -> Iterator[None]:
    """One long step: reported when it starts and when it ends."""
    report(desc, 0, 1)
    try:
        yield
    finally:
        report(desc, 1, 1)


class Lines:
    """One line per step on `stream` (for logs and pipes): ``… reading inputs (2/5)``."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        self.stream = stream or sys.stderr

    def __call__(self, desc: str, done: int, total: int) -> None:
        if done < total:
            part = f" ({done + 1}/{total})" if total > 1 else ""
            print(f"{time.strftime('%H:%M:%S')} {desc}{part}", file=self.stream, flush=True)


class Bar:
    """A bar redrawn in place on a terminal: ``reading inputs [#######-----]  7/12``."""

    def __init__(self, stream: IO[str] | None = None, width: int = 30) -> None:
        self.stream = stream or sys.stderr
        self.width = width

    def __call__(self, desc: str, done: int, total: int) -> None:
        total = max(total, 1)
        filled = int(self.width * done / total)
        bar = "#" * filled + "-" * (self.width - filled)
        end = "\n" if done >= total else ""
        self.stream.write(f"\r{desc} [{bar}] {done}/{total}{end}")
        self.stream.flush()
