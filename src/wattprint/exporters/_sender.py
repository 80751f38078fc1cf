"""A background thread per network sink: the writer thread only queues, so a slow or unreachable service never
holds up the store and the other sinks. What fails is logged once; what cannot be queued drops the oldest."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

from wattprint._log import warn_once

MAX_PENDING = 1000
"""Sends queued at most; beyond, the oldest is dropped (a service down for hours costs no memory)."""


class Sender:
    """Runs queued sends, in order, in a daemon thread named ``wattprint-<name>``."""

    def __init__(self, name: str, max_pending: int = MAX_PENDING) -> None:
        self.name = name
        self._pending: deque[Callable[[], None]] = deque()
        self._max_pending = max_pending
        self._cond = threading.Condition()
        self._busy = False
        self._thread: threading.Thread | None = None

    def submit(self, send: Callable[[], None]) -> None:
        with self._cond:
            if len(self._pending) >= self._max_pending:
                self._pending.popleft()
                warn_once(f"sink-dropped:{self.name}", f"wattprint: the {self.name} sink cannot keep up; its oldest "
                                                       "unsent figures are dropped")
            self._pending.append(send)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=f"wattprint-{self.name}", daemon=True)
                self._thread.start()
            self._cond.notify_all()

    def drain(self, timeout: float | None = None) -> bool:
        """Wait until everything queued has been sent (or failed); False on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while self._pending or self._busy:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._cond.wait(remaining)
        return True

    def _run(self) -> None:
        while True:
            with self._cond:
                if not self._pending:
                    self._thread = None  # a later submit starts a new thread
                    self._cond.notify_all()
                    return
                send = self._pending.popleft()
                self._busy = True
            try:
                send()
            except Exception as error:  # noqa: BLE001 - a sink must not stop the others
                warn_once(f"sink-write:{self.name}", f"wattprint: the {self.name} sink could not write a run "
                                                     f"({error}); the other sinks and the store go on")
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()
