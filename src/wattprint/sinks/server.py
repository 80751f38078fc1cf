"""The team server as a sink: every payload of a run also goes to the server, from the writer thread, after the
local store has it; the local store is the outbox (``store.outbox``).

A send is one bounded request (``SEND_TIMEOUT_S``), never waited for by ``stop()``. What a failed send could not
deliver stays in memory and goes right after the next send that works; the run is marked *queued* in the local
store, so that if this process ends first, the next tracked run's writer (or ``wattprint push``) sends it whole.
After the server could not be reached or failed (5xx), nothing is sent to it for a while that doubles with each
failure (``BACKOFF_FIRST_S`` to ``BACKOFF_MAX_S``). A refusal (a bad or revoked token, another project's token, a
payload the server rejects) is logged once with its fix and not tried again in this process. After a send that
worked, the writer sends, within a short time budget, the runs earlier processes left queued for this server.
"""

from __future__ import annotations

import contextlib
import os
import random
import time

from wattprint._log import warn_once
from wattprint.sinks import register

TYPE_CHECKING = False
if TYPE_CHECKING:
    from wattprint.api.records import (
        ComponentRecord,
        IntervalRecord,
        RequestIntervalRecord,
        RunDocument,
        RunRecord,
        TaskRecord,
    )
    from wattprint.client.http import ServerClient, ServerError
    from wattprint.sinks.payload import Payload
    from wattprint.store.runstore import RunStore
    from wattprint.store.sqlite_writer import SqliteWriter

__all__ = ["ServerSink"]

SEND_TIMEOUT_S = 4.0
"""How long one send may take (connecting: ``client.http.CONNECT_TIMEOUT_S``): a send in flight and the final one
fit in the exit drain (``recorder.EXIT_DRAIN_S``) together."""
BACKOFF_FIRST_S = 2.0
BACKOFF_MAX_S = 300.0
"""After a failed send the server is left alone for the first pause, doubled at each failure up to the last."""
BACKLOG_EVERY_S = 60.0
"""How often the writer looks in the outbox for runs of earlier processes still to send."""
BACKLOG_BUDGET_S = 2.0
"""How long one write may spend sending such runs (the rest goes with later writes)."""
OUTBOX_LOCK_TIMEOUT_S = 2.0


class _Unsent:
    """What the server lacks of one run: its newest state and totals, the buckets and tasks not acknowledged."""

    __slots__ = ("run", "components", "intervals", "tasks", "requests")

    def __init__(self) -> None:
        self.run: RunRecord | None = None
        self.components: tuple[ComponentRecord, ...] = ()
        self.intervals: dict[tuple[int, str], IntervalRecord] = {}
        self.tasks: dict[int, TaskRecord] = {}
        self.requests: dict[tuple[int, str], RequestIntervalRecord] = {}

    def add(self, payload: Payload) -> None:
        self.run = payload.run
        if payload.components:
            self.components = tuple(payload.components)
        for interval in payload.intervals:
            self.intervals[(interval.bucket, interval.device)] = interval
        for task in payload.tasks:
            self.tasks[task.seq] = task
        for row in payload.requests:
            self.requests[(row.bucket, row.endpoint)] = row

    def document(self) -> RunDocument:
        from wattprint.api.records import RunDocument

        assert self.run is not None
        return RunDocument(run=self.run, components=self.components, intervals=tuple(self.intervals.values()),
                           tasks=tuple(self.tasks.values()), request_intervals=tuple(self.requests.values()))


@register
class ServerSink:
    """Sends runs to the team server at ``url`` with ``token`` (a string or a settings ``Secret``); ``store`` is
    the local store whose outbox marks what was sent (None: no outbox, so what fails is only kept in memory).

    Every payload of the process is sent, or, once :meth:`follow` was called, only the followed runs'.
    """

    name = "server"

    def __init__(self, url: str, token: object = None, *, store: str | None = None,
                 timeout_s: float = SEND_TIMEOUT_S) -> None:
        from wattprint.client.http import server_url

        self.target = server_url(url)
        self.store = store
        self.timeout_s = timeout_s
        self._token = token
        self._followed: set[str] | None = None
        self._reset()

    def __repr__(self) -> str:
        return f"ServerSink({self.target!r})"

    def _reset(self) -> None:
        self._pid = os.getpid()
        self._client: ServerClient | None = None
        self._unsent: dict[str, _Unsent] = {}
        self._queued: set[str] = set()
        self._failures = 0
        self._retry_at = 0.0
        self._refused: str | None = None
        self._refused_projects: set[str | None] = set()
        self._refused_runs: set[str] = set()
        self._outbox: SqliteWriter | RunStore | None = None
        self._reader: RunStore | None = None
        self._backlog_at = 0.0

    def follow(self, run_id: str) -> None:
        """Send this run's payloads (and, from now on, only those of followed runs)."""
        if self._followed is None:
            self._followed = set()
        self._followed.add(run_id)

    # -- RunSink -------------------------------------------------------------------------------------------------

    def open(self) -> None:
        from wattprint.client.http import ServerClient

        if self._pid != os.getpid():  # a forked child: its parent's connections and memory are not its own
            self._reset()
        if self._client is None:
            self._client = ServerClient(self.target, self._token, timeout_s=self.timeout_s)

    def write(self, payload: Payload) -> None:
        run = payload.run
        if self._followed is not None and run.run_id not in self._followed:
            return
        unsent = self._unsent.setdefault(run.run_id, _Unsent())
        unsent.add(payload)
        if not self._send(unsent):
            return
        for other in list(self._unsent.values()):  # runs whose sends failed before: what they lack, from memory
            if other.run is not None and not self._send(other) and self._retry_at > time.monotonic():
                return  # the server went away again
        self._catch_up()

    def _send(self, unsent: _Unsent) -> bool:
        """Send what the server lacks of one run; on failure, keep it (and mark the run queued). Whether it went."""
        run = unsent.run
        assert run is not None
        if self._is_refused(run):  # in this process, never: the store keeps it whole for 'wattprint push'
            self._unsent.pop(run.run_id, None)
            self._queue(run.run_id)
            return False
        if time.monotonic() < self._retry_at:
            self._queue(run.run_id)
            return False
        from wattprint.client.http import ServerRefused, ServerUnavailable

        if self._client is None:
            self.open()
        assert self._client is not None
        try:
            self._client.put_run(unsent.document(), timeout_s=self.timeout_s)
        except ServerUnavailable as error:
            self._unavailable(error)
            self._queue(run.run_id)
            return False
        except ServerRefused as error:
            self._refusal(run, error)
            self._unsent.pop(run.run_id, None)
            self._queue(run.run_id)
            return False
        self._failures = 0
        if self._unsent.get(run.run_id) is unsent:
            del self._unsent[run.run_id]  # a later payload starts afresh (a re-priced save after the final one)
        self._mark_sent([(run.run_id, run.updated_at)])
        return True

    def close(self) -> None:
        client, self._client = self._client, None
        outbox, self._outbox = self._outbox, None
        reader, self._reader = self._reader, None
        for thing in (client, outbox, reader):
            if thing is not None:
                with contextlib.suppress(Exception):  # releasing what is gone anyway
                    thing.close()

    # -- what may be sent ------------------------------------------------------------------------------------------

    def _is_refused(self, run: RunRecord) -> bool:
        return (self._refused is not None or run.project in self._refused_projects
                or run.run_id in self._refused_runs)

    def _unavailable(self, error: ServerError) -> None:
        """Leave the server alone for a while that doubles with each failure in a row."""
        pause = min(BACKOFF_FIRST_S * 2 ** self._failures, BACKOFF_MAX_S)
        self._failures += 1
        self._retry_at = time.monotonic() + pause * random.uniform(0.8, 1.2)  # noqa: S311 - jitter
        warn_once(f"server-down:{self.target}",
                  f"wattprint: runs cannot be sent to the team server now ({error}). They are kept in the local "
                  "store and sent later, by the next tracked run or 'wattprint push'.")

    def _refusal(self, run: RunRecord, error: ServerError) -> None:
        """A refusal is not tried again in this process: the token for every run, or this project, or this run."""
        if error.status in (401, 404):
            self._refused = str(error)
            key = f"server-refused:{self.target}"
        elif error.status == 403:
            self._refused_projects.add(run.project)
            key = f"server-refused:{self.target}:{run.project}"
        else:
            self._refused_runs.add(run.run_id)
            key = f"server-refused:{self.target}:{error.status}"
        warn_once(key, f"wattprint: {error}. The run stays in the local store; once fixed, 'wattprint push' "
                       "sends it.")

    # -- the outbox ------------------------------------------------------------------------------------------------

    def _store(self) -> SqliteWriter | RunStore | None:
        """The local store's writer for the outbox marks (None without a store, or while it cannot be opened)."""
        if self._outbox is None and self.store is not None:
            from wattprint.store import open_writer

            try:
                self._outbox = open_writer(self.store, lock_timeout_s=OUTBOX_LOCK_TIMEOUT_S)
            except Exception as error:  # noqa: BLE001 - the store's own sink says what is wrong with it
                warn_once(f"server-outbox:{self.store}",
                          f"wattprint: the local store cannot record which runs the team server has ({error})")
        return self._outbox

    def _queue(self, run_id: str) -> None:
        """Mark the run queued for this server, once: if this process ends before it is sent, another sends it."""
        if run_id in self._queued:
            return
        store = self._store()
        if store is None:
            return
        from wattprint.store.outbox import mark_queued

        try:
            mark_queued(store, self.target, [run_id])
        except Exception as error:  # noqa: BLE001
            warn_once(f"server-outbox-write:{self.store}",
                      f"wattprint: the local store cannot record which runs the team server lacks ({error})")
            return
        self._queued.add(run_id)

    def _mark_sent(self, acks: list[tuple[str, float]]) -> None:
        store = self._store()
        if store is None:
            return
        from wattprint.store.outbox import mark_sent

        try:
            mark_sent(store, self.target, acks)
        except Exception as error:  # noqa: BLE001
            warn_once(f"server-outbox-write:{self.store}",
                      f"wattprint: the local store cannot record which runs the team server has ({error})")

    def _catch_up(self) -> None:
        """Send, for ``BACKLOG_BUDGET_S`` at most, runs earlier processes left queued for this server."""
        now = time.monotonic()
        if now < self._backlog_at or self.store is None:
            return
        self._backlog_at = now + BACKLOG_EVERY_S
        store = self._store()
        if store is None or self._client is None:
            return
        from wattprint.store.outbox import unsent

        busy = sorted(self._unsent)
        try:
            if not unsent(store, self.target, queued_only=True, exclude=busy, limit=1):
                return
            if self._reader is None:
                from wattprint.store import open_store

                self._reader = open_store(self.store, lock_timeout_s=OUTBOX_LOCK_TIMEOUT_S)
            from wattprint.client.push import push

            result = push(self._reader, self._client, queued_only=True, exclude=busy,
                          skip_projects=self._refused_projects, retry_for_s=0.0, timeout_s=self.timeout_s,
                          deadline=now + BACKLOG_BUDGET_S)
        except Exception as error:  # noqa: BLE001 - the backlog waits for the next try
            warn_once(f"server-backlog:{self.target}",
                      f"wattprint: runs queued for the team server could not be sent yet ({error})")
            return
        self._refused_projects.update(r.project for r in result.refused if r.status == 403)
        if result.error is not None:  # what stopped the push stops this sink's sends too
            from wattprint.client.http import ServerUnavailable

            status = result.error_status
            if status in (401, 404):
                self._refused = result.error
                warn_once(f"server-refused:{self.target}", f"wattprint: {result.error}. Runs stay in the local "
                                                           "store; once fixed, 'wattprint push' sends them.")
            else:
                self._unavailable(ServerUnavailable(result.error, status))
        elif result.left and not result.refused:
            self._backlog_at = 0.0  # out of time, not out of luck: go on at the next write
