"""The run store as a sink, with the local spool as its outbox: what cannot be written to the store now is kept
in the spool, and written to the store when it works again.

One ``StoreSink`` per store URL serves every run saved there. The store is opened on the writer thread at the
first write (``store.open_writer``: ``sqlite3`` alone for an existing SQLite store), so ``start()`` stays fast.
Every wait for a store another process holds locked is bounded (``WRITER_LOCK_TIMEOUT_S``). When the store cannot
be opened or written, the whole run goes to the spool, the reason is logged once, and the store is left alone for a
while (``RETRY_OPEN_S``, ``RETRY_WRITE_S``), except for a run's final state; the first save that reaches the store
again writes the whole run, retires the run's spool file, and replays what other runs spooled meanwhile.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time

from wattprint import _log
from wattprint._log import warn_once

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from wattprint.sinks.payload import Payload
    from wattprint.store.runstore import RunStore
    from wattprint.store.sqlite_writer import SqliteWriter

WRITER_LOCK_TIMEOUT_S = 2.0
"""How long an open or a save waits for a store that another process holds locked before the run is spooled:
short, so that a final save and its spool fit in the exit drain (``recorder.EXIT_DRAIN_S``)."""
RETRY_OPEN_S = 30.0
"""After a store could not be opened, periodic flushes spool without trying it again for this long."""
RETRY_WRITE_S = 10.0
"""After a save failed, periodic flushes spool without trying the store again for this long."""


def spool_dir(url: str) -> str:
    """The spool of one store: one directory per store URL under the per-user spool directory."""
    from wattprint.store.spool import store_spool_dir

    return store_spool_dir(url)


class StoreSink:
    """The store at ``url``; ``history(payload)`` gives the whole run a payload belongs to (its buckets and tasks
    so far), which a spool file and the first save after a failure need."""

    name = "store"

    def __init__(self, url: str, *, history: Callable[[Payload], Payload] | None = None) -> None:
        self.url = url
        self._history = history or (lambda payload: payload)
        self._store: RunStore | SqliteWriter | None = None
        self._retry_at = 0.0
        self._replay_due = False
        self._behind: set[str] = set()
        """Runs whose last save failed: the store lacks part of them, so their next save writes all of it."""
        self._spooled_at: dict[str, float] = {}
        """``updated_at`` of each run's state last written to the spool."""
        self._spool_lock = threading.Lock()  # spool() may also come from the main thread at exit

    def __repr__(self) -> str:
        return f"StoreSink({self.url!r})"

    def open(self) -> None:
        """Open the store now rather than at the first write (a failure is logged, and writes spool meanwhile)."""
        self._opened(final=True)

    def write(self, payload: Payload) -> None:
        """Save the payload to the store, or, when the store cannot take it, the whole run to the spool."""
        run = payload.run
        store = self._opened(final=run.status != "running")  # a run's last state tries a store that may work again
        if store is not None:
            data = self._history(payload) if run.run_id in self._behind else payload
            try:
                store.save(data.run, data.components, data.intervals, data.tasks,
                           lock_timeout_s=WRITER_LOCK_TIMEOUT_S, requests=data.requests)
            except Exception as error:  # noqa: BLE001 - StoreError, a driver's error, anything
                self._drop(RETRY_WRITE_S)
                warn_once(
                    f"store-write:{self.url}",
                    f"wattprint: a run could not be written to the store ({error}). Measuring goes on; the run "
                    f"is kept in memory and in the local spool {spool_dir(self.url)}.",
                )
            else:
                self._behind.discard(run.run_id)
                spooled = self._spooled_at.get(run.run_id)
                if spooled is not None and spooled <= data.run.updated_at:
                    self._retire(run.run_id, data.run.updated_at)
                if self._replay_due:
                    self._replay_due = False
                    self._replay(store)
                return
        self._behind.add(run.run_id)
        self.spool(payload)

    def spool(self, payload: Payload) -> None:
        """Write the whole run of ``payload`` to the spool (also from the main thread, at exit)."""
        from wattprint.store.spool import spool_save

        whole = self._history(payload)
        try:
            with self._spool_lock:
                spool_save(spool_dir(self.url), whole.run, whole.components, whole.intervals, whole.tasks,
                           whole.requests)
                self._spooled_at[whole.run.run_id] = whole.run.updated_at
        except Exception as error:  # noqa: BLE001
            warn_once(
                f"spool-write:{self.url}",
                f"wattprint: the local spool cannot be written either ({error}); the run is kept in memory only "
                "(run.result).",
            )

    def close(self) -> None:
        """Release the store's connections; the next write opens it again."""
        self._drop(0.0)

    def _opened(self, *, final: bool) -> RunStore | SqliteWriter | None:
        """The open store; after a failure, reopened no sooner than its retry time, except for a final save
        (bounded by the lock timeout), which must not leave a store that works again unused."""
        if self._store is not None:
            return self._store
        if not final and time.monotonic() < self._retry_at:
            return None
        from wattprint.store import open_writer

        try:
            self._store = open_writer(self.url, lock_timeout_s=WRITER_LOCK_TIMEOUT_S)
        except Exception as error:  # noqa: BLE001 - StoreError, driver missing, anything
            self._retry_at = time.monotonic() + RETRY_OPEN_S
            warn_once(
                f"store-open:{self.url}",
                f"wattprint: runs cannot be saved to the store ({error}). Measuring goes on; runs are kept in "
                f"memory and in the local spool {spool_dir(self.url)}, and saved when the store works again.",
            )
            return None
        self._replay_due = True  # at every (re)open, after the save at hand: what was spooled meanwhile
        return self._store

    def _drop(self, retry_after_s: float) -> None:
        """Let go of the store (a failed one is not tried again for ``retry_after_s``)."""
        store, self._store = self._store, None
        self._retry_at = time.monotonic() + retry_after_s
        if store is not None:
            with contextlib.suppress(Exception):
                store.close()

    def _replay(self, store: RunStore | SqliteWriter) -> None:
        directory = spool_dir(self.url)
        if not os.path.isdir(directory):
            return
        from wattprint.store.spool import replay_spool

        try:
            count = replay_spool(directory, store)
        except Exception as error:  # noqa: BLE001
            warn_once(f"spool-replay:{self.url}", f"wattprint: spooled runs could not be replayed: {error}")
            return
        if count:
            _log.info("wattprint: saved %d spooled run(s) to the store", count)

    def _retire(self, run_id: str, updated_at: float) -> None:
        """The store holds the run's newest state: its spool file, now stale, must not be replayed later."""
        from wattprint.store.spool import retire

        try:
            with self._spool_lock:
                retire(spool_dir(self.url), run_id, updated_at)
                self._spooled_at.pop(run_id, None)
        except OSError as error:
            _log.debug("wattprint: a spool file could not be removed: %s", error)
