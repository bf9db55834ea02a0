"""Run one writer in a forked child process while this process goes on with the others.

GDAL's writers hold Python's GIL (a thread would not run beside them), so a national season's
GeoPackage (~8 s for 1.5 M features) and its Shapefiles (~10 s) would be written one after
the other on a machine with cores to spare. :func:`beside` forks: the child gets this
process's memory as it is (copy-on-write, nothing pickled), runs the writer, and exits with
``os._exit`` (no ``atexit``, no flushing of the parent's buffers); leaving the block waits for
it and raises its exception here (pickled through a pipe), so an error in either writer
stops the run the same way. If this process raises first, the child is killed (SIGKILL)
and reaped before the exception goes on, so nothing writes into a folder being removed.

Forking is used only on Linux and only for work worth a process (the caller decides, e.g. by
rows); elsewhere, with ``when=False``, or when the system refuses a new process, the
function runs in this process at the start of the block, with the same results. The child
must not depend on threads of this process: the writers here use GDAL, SQLite and pyarrow
(whose thread pools are restarted after a fork), in the child's single thread.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import signal
import sys
import warnings
from collections.abc import Callable, Iterator
from typing import Any

log = logging.getLogger(__name__)


def available() -> bool:
    """Whether writers can run in a forked child here (Linux with ``os.fork``)."""
    return sys.platform.startswith("linux") and hasattr(os, "fork")


@contextlib.contextmanager
def beside(fn: Callable[..., Any], *args: Any, when: bool = True,
           **kwargs: Any) -> Iterator[None]:
    """Run ``fn(*args, **kwargs)`` in a forked child during the block; wait for it at its end.

    The child's exception is raised here when the block ends (after the block's own work);
    an exception of the block stops the child first. With ``when=False`` (or where forking
    is not available) `fn` runs here, before the block. `fn`'s return value is not kept:
    it writes files.
    """
    if not (when and available()):
        fn(*args, **kwargs)
        yield
        return
    read_end, write_end = os.pipe()
    try:
        with warnings.catch_warnings():
            # Python >= 3.12 warns on fork() in a process with threads: the child here runs
            # only `fn` in its one thread and leaves by os._exit (see the module docstring)
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
    except OSError as err:  # no memory or process left for a child: the same work here
        os.close(read_end)
        os.close(write_end)
        log.info("could not fork a writer (%s): writing in this process", err)
        fn(*args, **kwargs)
        yield
        return
    if pid == 0:  # pragma: no cover - the child (its outcome is checked in the parent)
        os.close(read_end)
        code, payload = 0, b""
        try:
            fn(*args, **kwargs)
        except BaseException as err:  # noqa: BLE001 - every outcome goes to the parent
            code = 1
            try:
                payload = pickle.dumps(err)
            except Exception:  # noqa: BLE001 - an exception that does not pickle
                payload = pickle.dumps(RuntimeError(f"{type(err).__name__}: {err}"))
        try:
            with os.fdopen(write_end, "wb") as pipe:
                pipe.write(payload)
        finally:
            os._exit(code)
    os.close(write_end)
    try:
        yield
    except BaseException:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)  # its files are thrown away with the folder
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)
        os.close(read_end)
        raise
    with os.fdopen(read_end, "rb") as pipe:
        payload = pipe.read()  # until the child closes it (ends)
    _, status = os.waitpid(pid, 0)
    if os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0:
        return
    if payload:
        raise pickle.loads(payload)
    how = (f"was stopped by signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status)
           else f"exited with status {os.WEXITSTATUS(status)}")
    name = getattr(fn, "__qualname__", repr(fn))
    raise RuntimeError(f"the writer {name} (child process {pid}) {how} without a message; "
                       "its files are incomplete. Run again; if it happens again, report it.")
