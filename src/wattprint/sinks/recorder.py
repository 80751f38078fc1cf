"""Recording runs in the store, safely: periodic flushes from one background writer thread per process.

A running tracker's recorder turns meter snapshots into store records: the run's totals, its task windows, and
its energy in interval buckets whose width grows with the run's age (10 s for the first hour, 60 s for the first
day, 600 s after), so a week on eight GPUs stays in megabytes while totals stay exact. Every record is written
with its absolute value, never an increment, so a retried flush never duplicates anything.

The writer thread opens the store on its own, so ``start()`` stays fast; an existing SQLite store is written with
``sqlite3`` alone (``store.open_writer``), sparing each tracked process the import of SQLAlchemy. The run's
``running`` row is written right after ``start()``, then every ``flush_interval_s``, at ``stop()``, at normal
interpreter exit, and on SIGTERM; a job killed with SIGKILL loses at most one interval and is later shown as
``killed``. Every wait for a store another process holds locked is bounded (``WRITER_LOCK_TIMEOUT_S``). When the
store cannot be opened or written, the whole run goes to a local spool that the next successful open (or a
reading command) replays, and the reason is logged once; the user's job never sees an exception. The first save
that reaches the store again writes the whole run, and retires the run's spool file.
"""

from __future__ import annotations

import atexit
import math
import os
import signal
import sys
import threading
import time
import weakref
from collections import deque

from wattprint import _forksafe, _log
from wattprint._log import warn_once
from wattprint.core.units import J_PER_KWH
from wattprint.measure.meter import Snapshot
from wattprint.measure.windows import window_result
from wattprint.sinks.payload import Payload, component_records, origin, run_record, task_record

TYPE_CHECKING = False
if TYPE_CHECKING:

    from wattprint.core.results import RunResult
    from wattprint.run.tracker import Tracker
    from wattprint.store.records import IntervalRecord, TaskRecord
    from wattprint.store.runstore import RunStore
    from wattprint.store.sqlite_writer import SqliteWriter

BUCKET_WIDTHS_S = ((3600.0, 10.0), (86400.0, 60.0), (math.inf, 600.0))
"""(run age up to which, bucket width): interval resolution by the age of the run."""

LATE_SAVE_WAIT_S = 30.0
"""How long a re-priced save waits for the run's final save to be done before it is queued anyway."""

WRITER_LOCK_TIMEOUT_S = 2.0
"""How long an open or a save waits for a store that another process holds locked before the run is spooled:
short, so that a final save and its spool fit in the exit drain (``EXIT_DRAIN_S``)."""
RETRY_OPEN_S = 30.0
"""After a store could not be opened, periodic flushes spool without trying it again for this long."""
RETRY_WRITE_S = 10.0
"""After a save failed, periodic flushes spool without trying the store again for this long."""
EXIT_DRAIN_S = 10.0
"""How long normal interpreter exit waits for the final saves; what is still unsaved then is spooled at once."""


def bucket_width_s(offset_s: float) -> float:
    for age, width in BUCKET_WIDTHS_S:
        if offset_s < age:
            return width
    return BUCKET_WIDTHS_S[-1][1]


class RunRecorder:
    """Builds the records of one run from its snapshots; all state stays in memory for spooling."""

    def __init__(self, tracker: Tracker, url: str, flush_interval_s: float, start: Snapshot) -> None:
        self.tracker = tracker
        self.url = url
        self.flush_interval_s = flush_interval_s
        self.next_due = time.monotonic()  # the first flush at once: a job killed early still leaves its run
        self._first = True
        self._identity = tuple(getattr(tracker, key, None) for key in ("run_id", "project", "name", "attribution"))
        self.saved = threading.Event()
        self.behind = False
        """A save failed: the store lacks part of the run, so the next save writes all of it."""
        self.spooled_at: float | None = None
        """``updated_at`` of the state last written to the spool (None: nothing spooled)."""
        self._start = start
        self._bucket = 0
        self._bucket_start = start
        self._buckets: dict[int, list[IntervalRecord]] = {}
        self._tasks: list[TaskRecord] = []
        self._bucket_status: dict[int, str] = {}
        self._lock = threading.RLock()  # reentrant: a SIGTERM handler may interrupt payload() in the main thread
        self._ended_at: float | None = None
        self._updated_at = 0.0
        self.late = threading.Event()
        """Clear while a re-priced save may follow the final one (a live value still on its way, docs/live.md)."""
        self.late.set()

    def payload(self, end: Snapshot, result: RunResult, *, final: bool) -> Payload:
        """Records for the state at ``end``: the run, its totals, the buckets that changed and new tasks."""
        from wattprint.store.records import IntervalRecord

        with self._lock:
            changed = []
            bucket_result = window_result("bucket", self._bucket_start, end, result.attribution)
            start_offset = self._bucket_start.t_monotonic - self._start.t_monotonic
            end_offset = end.t_monotonic - self._start.t_monotonic
            if bucket_result.duration_s > 0 or self._bucket not in self._buckets:
                footprint = result.footprint
                g_per_kwh = footprint.intensity.g_per_kwh if footprint else None
                live = self._live_intensity(start_offset, end_offset) if footprint else None
                if live is not None:
                    g_per_kwh, self._bucket_status[self._bucket] = live
                g_per_j = footprint.pue * g_per_kwh / J_PER_KWH if footprint and g_per_kwh is not None else None
                self._buckets[self._bucket] = [
                    IntervalRecord(
                        bucket=self._bucket,
                        start_offset_s=start_offset,
                        end_offset_s=end_offset,
                        component=d.component,
                        device=d.device,
                        energy_j=d.energy_j,
                        avg_power_w=d.avg_power_w,
                        method=d.method,
                        uncertainty_rel=d.uncertainty_rel,
                        emissions_g=d.energy_j * g_per_j if g_per_j is not None else None,
                        intensity_g_per_kwh=g_per_kwh,
                    )
                    for d in bucket_result.devices
                ]
                changed = list(self._buckets[self._bucket])
            if final and result.footprint is not None and self._bucket_status:
                changed += self._repriced(result.footprint.pue)
            if end_offset - start_offset >= bucket_width_s(start_offset) and not final:
                self._bucket += 1
                self._bucket_start = end
            new_tasks = [task_record(len(self._tasks) + i, t) for i, t in enumerate(result.tasks[len(self._tasks):])]
            self._tasks.extend(new_tasks)
            now = self._updated_at = max(time.time(), self._updated_at + 1e-6)  # later payloads are newer
            if result.status != "running" and self._ended_at is None:
                self._ended_at = now  # a re-priced save after the final one keeps the run's end
            run = run_record(
                result, updated_at=now, ended_at=self._ended_at if result.status != "running" else None,
                tracker=self.tracker, interval_status=dict(self._bucket_status),
            )
            return Payload(run, component_records(result), changed, new_tasks)

    def expect_late(self) -> None:
        """A re-priced save may follow the final one: the writer's drain waits for ``late_done`` (bounded)."""
        self.late.clear()
        with _late_lock:
            _late_recorders.add(self)

    def late_done(self, end: Snapshot, result: RunResult | None) -> None:
        """Queue the save of the run re-priced with a live value that came after its end (None: nothing changed),
        after the final save, so that it lands last."""
        try:
            if result is not None:
                self.saved.wait(LATE_SAVE_WAIT_S)  # the final save first
                self.saved.clear()
                get_writer().finish(self, self.payload(end, result, final=True))
        finally:
            self.late.set()
            with _late_lock:
                _late_recorders.discard(self)

    def _repriced(self, pue: float) -> list[IntervalRecord]:
        """At the end of a run, the closed buckets priced without a live value that has arrived since."""
        from dataclasses import replace

        changed: list[IntervalRecord] = []
        for bucket, status in list(self._bucket_status.items()):
            records = self._buckets.get(bucket)
            if status == "live" or bucket == self._bucket or not records:
                continue
            live = self._live_intensity(records[0].start_offset_s, records[0].end_offset_s)
            if live is None or live[1] == status:
                continue
            g_per_kwh, self._bucket_status[bucket] = live
            self._buckets[bucket] = [
                replace(r, intensity_g_per_kwh=g_per_kwh, emissions_g=r.energy_j * pue * g_per_kwh / J_PER_KWH)
                for r in records
            ]
            changed += self._buckets[bucket]
        return changed

    def _live_intensity(self, start_offset: float, end_offset: float) -> tuple[float, str] | None:
        """A bucket's average intensity at its midpoint, and how it was priced, with a live provider (docs/live.md).
        None without one, or with a marginal one: buckets then keep the location-based average (no mixing)."""
        live = getattr(self.tracker, "live_intensity", None)
        if live is None or live.kind != "average":
            return None
        priced = live.price(self._start.wall_time + (start_offset + end_offset) / 2.0)
        return priced.intensity.g_per_kwh, priced.status

    def placeholder(self) -> Payload | None:
        """The ``running`` row of a run just started, with nothing measured yet: written first, so that a job
        killed before its first measured flush is still shown (as ``killed``). None once a payload was made."""
        from wattprint.store.records import RunRecord

        run_id, project, name, attribution = self._identity
        with self._lock:
            if self._updated_at > 0.0 or run_id is None:
                return None
            now = self._updated_at = time.time()
            run = RunRecord(
                run_id=run_id, project=project, name=name or "run", status="running", started_at=self._start.wall_time,
                updated_at=now, ended_at=None, duration_s=0.0, energy_j=0.0, energy_uncertainty_rel=0.0,
                attribution=attribution or "machine", **origin(), **self.tracker.record_fields,
            )
            return Payload(run, (), [], [])

    def everything(self, payload: Payload) -> Payload:
        """The whole run so far, for a spool file that must stand on its own."""
        with self._lock:
            intervals = [record for bucket in sorted(self._buckets) for record in self._buckets[bucket]]
            return Payload(payload.run, payload.components, intervals, list(self._tasks))

    def periodic(self) -> Payload | None:
        """A flush of the running tracker (None once it has stopped: its final flush is queued instead)."""
        if self._first:  # the run's row at once, before anything is measured or priced (that takes a while)
            self._first = False
            self.next_due = time.monotonic()  # the first measured flush right after it
            return self.placeholder()
        state = self.tracker._flush_state()
        if state is None:
            return None
        end, result = state
        with self._lock:
            if self._ended_at is not None:  # stop() made the final payload meanwhile: a later 'running' must not
                return None  # be written over it (the store keeps the newest state)
            return self.payload(end, result, final=False)


def _wait_late(timeout: float | None) -> None:
    """Wait (at most ``timeout``) for re-priced saves still to come (docs/live.md); the runs are saved already, so
    a late value that does not come in time only leaves them priced as they were, saying why."""
    deadline = None if timeout is None else time.monotonic() + timeout
    with _late_lock:
        late = list(_late_recorders)
    for recorder in late:
        if not recorder.late.wait(None if deadline is None else max(0.0, deadline - time.monotonic())):
            return


class StoreWriter:
    """The process's store writer thread: periodic flushes of running trackers and their final saves."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self._cond = threading.Condition()
        self._recorders: list[RunRecorder] = []
        self._finals: deque[tuple[RunRecorder, Payload]] = deque()
        self._busy = False
        self._thread: threading.Thread | None = None
        self._stores: dict[str, RunStore | SqliteWriter] = {}
        self._retry_at: dict[str, float] = {}
        self._unsaved: dict[RunRecorder, Payload] = {}
        self._to_replay: set[str] = set()

    def add(self, recorder: RunRecorder) -> None:
        with self._cond:
            self._recorders.append(recorder)
            self._ensure_thread()
            self._cond.notify()

    def finish(self, recorder: RunRecorder, payload: Payload) -> None:
        with self._cond:
            if recorder in self._recorders:
                self._recorders.remove(recorder)
            self._finals.append((recorder, payload))
            self._unsaved[recorder] = payload
            self._ensure_thread()
            self._cond.notify()

    def drain(self, timeout: float | None = None) -> bool:
        """Wait until every queued save is done; False on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        _wait_late(None if timeout is None else timeout / 2.0)
        with self._cond:
            while self._finals or self._busy:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._cond.wait(remaining)
        return True

    def spool_unsaved(self) -> int:
        """Spool, from the calling thread, every final save not done yet: at exit, when the drain ran out of time,
        so the run is kept even if the writer thread is still waiting for the store. Returns how many."""
        with self._cond:
            unsaved = list(self._unsaved.items())
        for recorder, payload in unsaved:
            self._spool(recorder, payload)
        return len(unsaved)

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until every save is done and the thread has ended (no tracker running); False on timeout."""
        if not self.drain(timeout):
            return False
        with self._cond:
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
            return not thread.is_alive()
        return True

    def _ensure_thread(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="wattprint-store", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            with self._cond:
                while True:
                    now = time.monotonic()
                    due = [r for r in self._recorders if r.next_due <= now]
                    if self._finals or due:
                        break
                    if not self._recorders:
                        self._thread = None
                        self._cond.notify_all()
                        return
                    self._cond.wait(min(r.next_due for r in self._recorders) - now)
                finals = list(self._finals)
                self._finals.clear()
                self._busy = True
            section = _forksafe.section()
            section.__enter__()  # a fork waits for this flush: none of its imports is cut in half
            try:
                for recorder in due:
                    recorder.next_due = time.monotonic() + recorder.flush_interval_s
                    payload = recorder.periodic()
                    if payload is not None:
                        self._save(recorder, payload)
                for recorder, payload in finals:
                    try:
                        self._save(recorder, payload, final=True)
                    finally:
                        with self._cond:
                            self._unsaved.pop(recorder, None)
                        recorder.saved.set()
            except Exception:  # noqa: BLE001 - the writer must survive anything
                _log.error("wattprint: the store writer failed")
            finally:
                section.__exit__()
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    def _store(self, url: str, *, final: bool = False) -> RunStore | SqliteWriter | None:
        """The open store at ``url``; after a failure, reopened no sooner than its retry time, except for a final
        save (bounded by the lock timeout), which must not leave a store that works again unused."""
        store = self._stores.get(url)
        if store is not None:
            return store
        if not final and time.monotonic() < self._retry_at.get(url, 0.0):
            return None
        from wattprint.store import open_writer

        try:
            store = open_writer(url, lock_timeout_s=WRITER_LOCK_TIMEOUT_S)
        except Exception as error:  # noqa: BLE001 - StoreError, driver missing, anything
            self._retry_at[url] = time.monotonic() + RETRY_OPEN_S
            warn_once(
                f"store-open:{url}",
                f"wattprint: runs cannot be saved to the store ({error}). Measuring goes on; runs are kept in "
                f"memory and in the local spool {spool_dir(url)}, and saved when the store works again.",
            )
            return None
        self._stores[url] = store
        self._to_replay.add(url)  # at every (re)open, after the save at hand: what was spooled meanwhile
        return store

    def _replay(self, url: str, store: RunStore | SqliteWriter) -> None:
        directory = spool_dir(url)
        if not os.path.isdir(directory):
            return
        from wattprint.store.spool import replay_spool

        try:
            count = replay_spool(directory, store)
        except Exception as error:  # noqa: BLE001
            warn_once(f"spool-replay:{url}", f"wattprint: spooled runs could not be replayed: {error}")
            return
        if count:
            _log.info("wattprint: saved %d spooled run(s) to the store", count)

    def _save(self, recorder: RunRecorder, payload: Payload, *, final: bool = False) -> None:
        store = self._store(recorder.url, final=final)
        if store is not None:
            # after a failed save the store lacks what changed meanwhile: write the whole run, not only the news
            data = recorder.everything(payload) if recorder.behind else payload
            try:
                store.save(data.run, data.components, data.intervals, data.tasks,
                           lock_timeout_s=WRITER_LOCK_TIMEOUT_S)
            except Exception as error:  # noqa: BLE001
                self._stores.pop(recorder.url, None)
                self._retry_at[recorder.url] = time.monotonic() + RETRY_WRITE_S
                warn_once(
                    f"store-write:{recorder.url}",
                    f"wattprint: a run could not be written to the store ({error}). Measuring goes on; the run "
                    f"is kept in memory and in the local spool {spool_dir(recorder.url)}.",
                )
            else:
                recorder.behind = False
                if recorder.spooled_at is not None and recorder.spooled_at <= data.run.updated_at:
                    self._retire(recorder, data.run.run_id, data.run.updated_at)
                if recorder.url in self._to_replay:
                    self._to_replay.discard(recorder.url)
                    self._replay(recorder.url, store)
                return
        recorder.behind = True
        self._spool(recorder, payload)

    def _retire(self, recorder: RunRecorder, run_id: str, updated_at: float) -> None:
        """The store holds the run's newest state: its spool file, now stale, must not be replayed later."""
        from wattprint.store.spool import retire

        try:
            retire(spool_dir(recorder.url), run_id, updated_at)
            recorder.spooled_at = None
        except OSError as error:
            _log.debug("wattprint: a spool file could not be removed: %s", error)

    def _spool(self, recorder: RunRecorder, payload: Payload) -> None:
        from wattprint.store.spool import spool_save

        whole = recorder.everything(payload)
        try:
            spool_save(spool_dir(recorder.url), whole.run, whole.components, whole.intervals, whole.tasks)
            recorder.spooled_at = whole.run.updated_at
        except Exception as error:  # noqa: BLE001
            warn_once(
                f"spool-write:{recorder.url}",
                f"wattprint: the local spool cannot be written either ({error}); the run is kept in memory only "
                "(run.result).",
            )


def spool_dir(url: str) -> str:
    """The spool of one store: one directory per store URL under the per-user spool directory."""
    from wattprint.store.spool import store_spool_dir

    return store_spool_dir(url)


_writer: StoreWriter | None = None
_writer_lock = threading.RLock()
_late_recorders: set[RunRecorder] = set()
_late_lock = threading.Lock()
_live: weakref.WeakSet[Tracker] = weakref.WeakSet()
_exit_status: str | None = None
_hooks_installed = False


def get_writer() -> StoreWriter:
    global _writer
    with _writer_lock:
        if _writer is None or _writer.pid != os.getpid():
            _writer = StoreWriter()
        return _writer


def current_writer() -> StoreWriter | None:
    """The writer if this process has one (for tests and diagnostics)."""
    return _writer if _writer is not None and _writer.pid == os.getpid() else None


def track_live(tracker: Tracker) -> None:
    """Remember a running tracker, so exit and SIGTERM can stop and save it."""
    install_exit_hooks()
    _live.add(tracker)


def forget_live(tracker: Tracker) -> None:
    _live.discard(tracker)


def _stop_all(status: str, timeout: float, *, at_signal: bool = False) -> None:
    """Stop every running tracker and wait (``timeout``) for their saves; what is still unsaved then is spooled.

    ``at_signal``: in a signal handler, in the main thread, which may have been interrupted anywhere, even inside
    a tracker's or the meter's lock (both reentrant); each tracker is stopped in this thread, so nothing waits for
    the interrupted code, and background flushes waiting for it give up."""
    trackers = list(_live)
    if at_signal:
        for tracker in trackers:
            sub = tracker._sub
            if sub is not None:
                sub.closing = True
    for tracker in trackers:
        try:
            if at_signal:
                tracker._stop_at_exit(status)
            else:
                tracker.stop(status)
        except Exception:  # noqa: BLE001
            _log.debug("stopping a tracker at exit failed", exc_info=True)
    writer = current_writer()
    if writer is not None and not writer.drain(timeout):
        spooled = writer.spool_unsaved()  # the writer thread dies with the process: keep the runs now
        warn_once("drain-timeout", f"wattprint: runs were still being saved after {timeout:g} s at exit; "
                                   f"{spooled} run(s) kept in the local spool instead")


def _at_exit() -> None:
    _stop_all(_exit_status or "finished", timeout=EXIT_DRAIN_S)


def _excepthook(exc_type, exc, tb) -> None:  # noqa: ANN001
    global _exit_status
    _exit_status = "killed" if issubclass(exc_type, KeyboardInterrupt) else "failed"
    _previous_excepthook(exc_type, exc, tb)


_previous_excepthook = sys.excepthook
_previous_sigterm: object = None
_in_sigterm = False

SIGTERM_DRAIN_S = 4.0
"""How long the SIGTERM handler waits for the final saves before spooling what is left and ending the process."""


def _on_sigterm(signum: int, frame: object) -> None:
    """Save every running tracker as ``killed``, then do what SIGTERM did before: the previous handler, or die of
    the signal. Runs in the main thread, between two bytecodes of whatever it was doing."""
    global _exit_status, _in_sigterm
    if _in_sigterm:
        return  # a second SIGTERM while the first is saving: the first one ends the process when the save is done
    _in_sigterm = True
    try:
        _exit_status = "killed"
        try:
            _stop_all("killed", SIGTERM_DRAIN_S, at_signal=True)
        except Exception:  # noqa: BLE001 - a signal handler must not fail
            _log.debug("saving at SIGTERM failed", exc_info=True)
        previous = _previous_sigterm
        if callable(previous):
            previous(signum, frame)
            return
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)
    finally:
        _in_sigterm = False


def install_exit_hooks() -> None:
    """atexit, sys.excepthook (to tell a Ctrl-C from an error at exit) and SIGTERM, once per process; and, in a
    ``multiprocessing`` child, multiprocessing's own exit (it leaves by ``os._exit``, without atexit)."""
    _install_exit_hooks()
    _install_multiprocessing_hook()


def _install_exit_hooks() -> None:
    global _hooks_installed, _previous_excepthook, _previous_sigterm
    if _hooks_installed:
        return
    _hooks_installed = True
    atexit.register(_at_exit)
    _previous_excepthook = sys.excepthook
    sys.excepthook = _excepthook
    if threading.current_thread() is threading.main_thread():
        try:
            current = signal.getsignal(signal.SIGTERM)
            if current is not signal.SIG_IGN:
                _previous_sigterm = current if callable(current) else None
                signal.signal(signal.SIGTERM, _on_sigterm)
        except (ValueError, OSError):  # not the main interpreter, or signals unavailable
            pass


_multiprocessing_hooked: int | None = None
"""The pid whose multiprocessing exit saves its runs (a forked grandchild registers its own)."""


def _install_multiprocessing_hook() -> None:
    """In a child of ``multiprocessing`` (fork or forkserver: spawn ends with atexit too), save the runs in its
    exit function: ``Process._bootstrap`` runs its finalizers, registered after the fork, then ``os._exit``."""
    global _multiprocessing_hooked
    if _multiprocessing_hooked == os.getpid():
        return
    process = sys.modules.get("multiprocessing.process")
    if process is None or process.parent_process() is None:
        return
    from multiprocessing import util

    util.Finalize(None, _at_multiprocessing_exit, exitpriority=100)
    _multiprocessing_hooked = os.getpid()


def _at_multiprocessing_exit() -> None:
    """Runs in ``Process._bootstrap``'s ``finally``: an exception on its way out says the target failed."""
    error = sys.exc_info()[1]
    if isinstance(error, KeyboardInterrupt):
        status = "killed"
    elif error is None or (isinstance(error, SystemExit) and error.code in (None, 0)):
        status = _exit_status or "finished"
    else:
        status = "failed"
    _stop_all(status, timeout=EXIT_DRAIN_S)


def _after_fork_in_child() -> None:
    global _writer, _writer_lock
    _writer = None
    _writer_lock = threading.RLock()
    _live.clear()
    _late_recorders.clear()  # their re-pricing threads are not in the child
    globals()["_late_lock"] = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
