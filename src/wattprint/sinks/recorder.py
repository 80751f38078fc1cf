"""Recording runs, safely: periodic flushes from one background writer thread per process, to every sink.

A running tracker's recorder turns meter snapshots into store records: the run's totals, its task windows, and
its energy in interval buckets whose width grows with the run's age (10 s for the first hour, 60 s for the first
day, 600 s after), so a week on eight GPUs stays in megabytes while totals stay exact. Every record is written
with its absolute value, never an increment, so a retried flush never duplicates anything.

The writer thread hands each payload to the run's store (:class:`~wattprint.sinks.store.StoreSink`, one per store
URL, which opens the store on this thread, so ``start()`` stays fast, and keeps in the local spool what the store
cannot take) and then to every sink attached to the process (:func:`wattprint.sinks.attach`). A sink that fails is
logged once and never stops the others; the user's job never sees an exception. The run's ``running`` row is
written right after ``start()``, then every ``flush_interval_s``, at ``stop()``, at normal interpreter exit, and
on SIGTERM; a job killed with SIGKILL loses at most one interval and is later shown as ``killed``.
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
from wattprint.sinks.store import StoreSink, spool_dir

__all__ = ["RunRecorder", "StoreWriter", "attach_sink", "current_writer", "detach_sink", "get_writer",
           "has_attached_sinks", "spool_dir"]

TYPE_CHECKING = False
if TYPE_CHECKING:

    from wattprint.api.records import RequestIntervalRecord
    from wattprint.core.results import RunResult
    from wattprint.run.tracker import Tracker
    from wattprint.sinks.base import RunSink
    from wattprint.store.records import IntervalRecord, TaskRecord

BUCKET_WIDTHS_S = ((3600.0, 10.0), (86400.0, 60.0), (math.inf, 600.0))
"""(run age up to which, bucket width): interval resolution by the age of the run."""

LATE_SAVE_WAIT_S = 30.0
"""How long a re-priced save waits for the run's final save to be done before it is queued anyway."""

SINK_RETRY_OPEN_S = 30.0
"""After an attached sink could not be opened, it is not tried again for this long (its payloads are lost)."""
EXIT_DRAIN_S = 10.0
"""How long normal interpreter exit waits for the final saves; what is still unsaved then is spooled at once."""


def bucket_width_s(offset_s: float) -> float:
    for age, width in BUCKET_WIDTHS_S:
        if offset_s < age:
            return width
    return BUCKET_WIDTHS_S[-1][1]


class RunRecorder:
    """Builds the records of one run from its snapshots; all state stays in memory for spooling."""

    def __init__(self, tracker: Tracker, url: str | None, flush_interval_s: float, start: Snapshot) -> None:
        self.tracker = tracker
        self.url = url
        """The run's store; None when storing is off (its payloads go to the attached sinks only)."""
        self.flush_interval_s = flush_interval_s
        self.next_due = time.monotonic()  # the first flush at once: a job killed early still leaves its run
        self._first = True
        self._identity = tuple(getattr(tracker, key, None) for key in ("run_id", "project", "name", "attribution"))
        self.saved = threading.Event()
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
            return Payload(run, component_records(result), changed, new_tasks, self._request_rows(changed_only=True))

    def _request_rows(self, *, changed_only: bool) -> list[RequestIntervalRecord]:
        """The run's requests summed per time bucket and endpoint (docs/inference.md), from the tracker."""
        rows = getattr(self.tracker, "request_records", None)
        run_id = self._identity[0]
        if rows is None or run_id is None:
            return []
        try:
            return list(rows(run_id, changed_only=changed_only))
        except Exception as error:  # noqa: BLE001 - the run's other records are saved regardless
            warn_once(f"request-rows:{run_id}", f"wattprint: the run's requests could not be recorded: {error}")
            return []

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
        """The whole run so far, for a spool file that must stand on its own, or a sink that missed payloads."""
        with self._lock:
            intervals = [record for bucket in sorted(self._buckets) for record in self._buckets[bucket]]
            return Payload(payload.run, payload.components, intervals, list(self._tasks),
                           self._request_rows(changed_only=False))

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
    """The process's writer thread: periodic flushes of running trackers and their final saves, each payload
    written to the run's store and to every attached sink."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self._cond = threading.Condition()
        self._recorders: list[RunRecorder] = []
        self._finals: deque[tuple[RunRecorder, Payload]] = deque()
        self._busy = False
        self._thread: threading.Thread | None = None
        self._stores: dict[str, StoreSink] = {}
        self._runs: weakref.WeakValueDictionary[str, RunRecorder] = weakref.WeakValueDictionary()
        self._unsaved: dict[RunRecorder, Payload] = {}
        self._sink_lock = threading.Lock()  # held while the attached sinks write: closing one waits for it
        self._opened: dict[int, RunSink] = {}
        self._open_retry_at: dict[int, tuple[RunSink, float]] = {}  # the sink kept, so that its id stays its own

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
            store = self._store_of(recorder, payload)
            if store is not None:
                store.spool(payload)
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

    def close_sink(self, sink: RunSink, timeout: float | None = None) -> None:
        """Close ``sink`` if this writer opened it, after the write in progress (waiting at most ``timeout`` for
        it). The writer's lock is let go before the sink closes: a sink that takes long to drain holds up no
        flush of any run (a detached sink gets no more writes; one still attached is opened again by the next)."""
        if not self._sink_lock.acquire(timeout=-1 if timeout is None else timeout):
            return
        try:
            opened = self._opened.pop(id(sink), None) is not None
        finally:
            self._sink_lock.release()
        if opened:
            try:
                sink.close()
            except Exception as error:  # noqa: BLE001 - a sink must not fail its caller
                warn_once(f"sink-close:{sink.name}", f"wattprint: the {sink.name} sink failed to close: {error}")

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
                        self._write(recorder, payload)
                for recorder, payload in finals:
                    try:
                        self._write(recorder, payload)
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

    def _write(self, recorder: RunRecorder, payload: Payload) -> None:
        """Hand ``payload`` to the run's store, then to every attached sink; a sink's failure is logged once."""
        store = self._store_of(recorder, payload)
        if store is not None:
            self._deliver(store, payload)
        with _attached_lock:
            if not _attached:
                return
        with self._sink_lock:
            with _attached_lock:  # read under the writer's lock: a sink detached meanwhile gets nothing more
                attached = list(_attached)
            for sink in attached:
                if self._ready(sink):
                    self._deliver(sink, payload)

    def _store_of(self, recorder: RunRecorder, payload: Payload) -> StoreSink | None:
        """The sink of the recorder's store (one per store URL), which can ask for the whole run of ``payload``;
        None when the run's storing is off."""
        with self._cond:
            self._runs[payload.run.run_id] = recorder
            if recorder.url is None:
                return None
            sink = self._stores.get(recorder.url)
            if sink is None:
                sink = self._stores[recorder.url] = StoreSink(recorder.url, history=self._whole)
            return sink

    def _whole(self, payload: Payload) -> Payload:
        recorder = self._runs.get(payload.run.run_id)
        return payload if recorder is None else recorder.everything(payload)

    def _ready(self, sink: RunSink) -> bool:
        """Whether ``sink`` is open, opening it first if need be (a failure is logged once, then retried later)."""
        key = id(sink)
        if key in self._opened:
            return True
        if key in self._open_retry_at and time.monotonic() < self._open_retry_at[key][1]:
            return False
        try:
            sink.open()
        except Exception as error:  # noqa: BLE001 - a sink must not stop the others
            self._open_retry_at[key] = (sink, time.monotonic() + SINK_RETRY_OPEN_S)
            warn_once(f"sink-open:{sink.name}", f"wattprint: the {sink.name} sink could not be opened ({error}); "
                                                "the other sinks and the store go on")
            return False
        self._opened[key] = sink
        self._open_retry_at.pop(key, None)
        return True

    @staticmethod
    def _deliver(sink: RunSink | StoreSink, payload: Payload) -> None:
        try:
            sink.write(payload)
        except Exception as error:  # noqa: BLE001 - a sink must not stop the others
            warn_once(f"sink-write:{sink.name}", f"wattprint: the {sink.name} sink could not write a run ({error}); "
                                                 "the other sinks and the store go on")


_writer: StoreWriter | None = None
_writer_lock = threading.RLock()
_attached: list[RunSink] = []
"""Sinks every payload of this process goes to besides its store (kept in a forked child, which opens them anew)."""
_attached_lock = threading.Lock()
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


def attach_sink(sink: RunSink) -> None:
    """Write every payload to ``sink`` too, from the next one on (``wattprint.sinks.attach``)."""
    with _attached_lock:
        if all(other is not sink for other in _attached):
            _attached.append(sink)


def has_attached_sinks() -> bool:
    """Whether any sink besides the stores is attached to this process (a run with storing off still makes
    payloads for them)."""
    with _attached_lock:
        return bool(_attached)


def detach_sink(sink: RunSink) -> None:
    """Write no more payloads to ``sink``, and close it if it was opened (``wattprint.sinks.detach``)."""
    with _attached_lock:
        _attached[:] = [other for other in _attached if other is not sink]
    writer = current_writer()
    if writer is not None:
        writer.close_sink(sink)


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
    if writer is None:
        return
    if not writer.drain(timeout):
        spooled = writer.spool_unsaved()  # the writer thread dies with the process: keep the runs now
        warn_once("drain-timeout", f"wattprint: runs were still being saved after {timeout:g} s at exit; "
                                   f"{spooled} run(s) kept in the local spool instead")
    with _attached_lock:
        attached = list(_attached)
    for sink in attached:  # flush what they buffer; a later payload opens them again
        writer.close_sink(sink, timeout=1.0)


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
    globals()["_attached_lock"] = threading.Lock()  # the attached sinks stay: the child's writer opens them anew


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
