"""Work on a second core: a function run in a forked process, its result sent back when the caller asks for it.

Python runs one thread at a time, and a query the caller folds row by row keeps the database driver waiting on the
interpreter (measured: a journal query on a thread of its own ran no faster than in turn with the Python that read
it). A forked process has an interpreter of its own. The child inherits the parent's memory (the function, its
arguments, every imported module) but must not touch the parent's database connections: the function opens its own
(``make_engine`` of the same URL). It ends with ``os._exit`` (multiprocessing's own way for a forked child), so
nothing inherited is finalized there. Where ``fork`` does not exist, or there is one core, the function simply runs
when its result is asked for.

A forked child never outlives its parent, whatever ends the parent (``kill -9`` included): it asks the kernel to kill
it when the parent dies (Linux ``PR_SET_PDEATHSIG``), checks it was not orphaned before asking, and a watchdog
thread ends it should the parent change (elsewhere, or if the request failed). It closes its copy of the pipe's
reading end, so that a send to a dead parent fails instead of waiting for a reader that is itself. And ``forget``
(run first in the child) lets go of what the parent's connections hold, without touching them
(``storage.db.forget_inherited``): a child still holding the parent's socket would keep the parent's session, its
transaction and its locks alive on the server after the parent died.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from multiprocessing.connection import Connection
from typing import Any, TypeVar

T = TypeVar("T")


def cores() -> int:
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def can_fork() -> bool:
    return cores() > 1 and "fork" in multiprocessing.get_all_start_methods()


class Claims:
    """Work in ``parts`` numbered pieces shared by two processes: this one takes pieces from the first up, the
    forked one from the last down, each the next piece nobody holds, until they meet. Whichever runs faster (the
    machine's other load, a piece heavier than its share) simply takes more."""

    def __init__(self, parts: int) -> None:
        self._ends = multiprocessing.get_context("fork").Array("i", [0, parts]) if can_fork() else [0, parts]
        self._lock = getattr(self._ends, "get_lock", None)

    def _take(self, low: bool) -> int | None:
        lock = self._lock() if self._lock is not None else None
        if lock is not None:
            lock.acquire()
        try:
            first, end = self._ends[0], self._ends[1]
            if first >= end:
                return None
            if low:
                self._ends[0] = first + 1
                return int(first)
            self._ends[1] = end - 1
            return int(end - 1)
        finally:
            if lock is not None:
                lock.release()

    def first(self) -> int | None:
        """The lowest piece nobody holds (this process's side)."""
        return self._take(low=True)

    def last(self) -> int | None:
        """The highest piece nobody holds (the forked process's side)."""
        return self._take(low=False)


#: ``prctl`` option: the signal the kernel sends this process when its parent dies (linux/prctl.h).
_PR_SET_PDEATHSIG = 1
#: Seconds between the watchdog's looks at the parent.
WATCH_EVERY = 0.5


def _die_with_parent(parent: int) -> None:
    """End this (forked) process when ``parent`` ends: the kernel's death signal where there is one, and a watchdog
    thread that sees the process re-parented."""
    if sys.platform.startswith("linux"):
        with suppress(OSError, AttributeError):  # no prctl: the watchdog alone
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(WATCH_EVERY)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watchdog", daemon=True).start()


def _child(
    parent: int,
    receive: Connection,
    send: Connection,
    forget: Callable[[], None] | None,
    fn: Callable[..., Any],
    args: tuple[Any, ...],
) -> None:
    _die_with_parent(parent)
    receive.close()
    try:
        if forget is not None:
            forget()
        result: tuple[bool, Any] = (True, fn(*args))
    except BaseException as exc:  # sent to the parent and raised there
        result = (False, exc)
    try:
        send.send(result)
    finally:
        send.close()


def start(fn: Callable[..., T], *args: Any, forget: Callable[[], None] | None = None) -> Callable[[], T]:
    """Start ``fn(*args)`` in a forked process (``forget`` run there first); the returned function waits for its
    result (or its exception)."""
    if not can_fork():
        return lambda: fn(*args)
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(os.getpid(), receive, send, forget, fn, args), daemon=True)
    process.start()
    send.close()

    def result() -> T:
        try:
            ok, value = receive.recv()
        except EOFError:
            process.join()
            raise RuntimeError(f"the worker process ended without a result (exit code {process.exitcode})") from None
        finally:
            receive.close()
        process.join()
        if not ok:
            raise value
        return value  # type: ignore[no-any-return]

    return result
