"""Fork safety of wattprint's background threads: their work, which may import modules, runs in sections that
``os.fork()`` waits for.

A fork copies the import locks of the modules being imported at that instant, owned by a thread that does not
exist in the child: the child's first import of such a module then waits forever (a ``multiprocessing`` or
DataLoader worker stuck in ``import``). The meter's and the store writer's threads run each unit of work (a
sampler tick, a meter job, a flush) inside :func:`section`, never a wait, so a fork is delayed by at most one
such unit (``FORK_WAIT_S`` at most) and the child never inherits a half-done import of theirs. Sections do not
exclude each other: only a fork waits for them, and they wait while a fork is under way.
"""

from __future__ import annotations

import os
import sys
import threading
import time

FORK_WAIT_S = 5.0
"""The longest a fork waits for the sections under way (a store write waits for a locked store 4 s at most)."""


class _Sections:
    """Shared sections that a fork waits for, and that wait while a fork is under way."""

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._active = 0
        self._forks = 0
        self._mine = threading.local()

    def __enter__(self) -> None:
        depth = getattr(self._mine, "depth", 0)
        with self._cond:
            while self._forks and depth == 0:
                self._cond.wait()
            self._active += 1
        self._mine.depth = depth + 1

    def __exit__(self, *exc: object) -> None:
        self._mine.depth -= 1
        with self._cond:
            self._active -= 1
            if not self._active:
                self._cond.notify_all()
        if not _after_logging and "logging" in sys.modules:
            _register()

    def before_fork(self) -> None:
        calls = getattr(self._mine, "fork_calls", 0)
        self._mine.fork_calls = calls + 1
        if calls:  # registered twice (see _register): the first call of this fork waited
            return
        own = getattr(self._mine, "depth", 0)  # a fork from inside a section does not wait for itself
        deadline = time.monotonic() + FORK_WAIT_S
        with self._cond:
            self._forks += 1
            while self._active > own:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(remaining)

    def after_fork_in_parent(self) -> None:
        self._mine.fork_calls -= 1
        if self._mine.fork_calls:
            return
        with self._cond:
            self._forks -= 1
            self._cond.notify_all()


_sections = _Sections()
_after_logging = False


def section() -> _Sections:
    """``with section(): ...``: background work that a fork waits for."""
    return _sections


def _before_fork() -> None:
    _sections.before_fork()


def _after_fork_in_parent() -> None:
    _sections.after_fork_in_parent()


def _after_fork_in_child() -> None:
    global _sections
    _sections = _Sections()  # the threads that were in sections are gone


def _register() -> None:
    """Register the fork hooks; once more after ``logging`` is imported (often by a section: SQLAlchemy), so ours
    run before logging's, which holds the logging lock during the fork that a section may need to finish."""
    global _after_logging
    if not hasattr(os, "register_at_fork"):
        return
    _after_logging = "logging" in sys.modules
    os.register_at_fork(before=_before_fork, after_in_parent=_after_fork_in_parent,
                        after_in_child=_after_fork_in_child)


_register()
