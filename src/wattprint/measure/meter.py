"""The meter: one sampler thread per process, shared by every tracker, reading sensors and attributing energy.

Trackers subscribe with their sensor configuration and attribution. The meter keeps, for each configuration
and attribution, the cumulative energy of every sensor by method; a window's energy is the difference between
the snapshots taken at its edges, so nested and overlapping windows each get exact edges. Between edges the
thread reads sensors only as often as they ask (model and sampled sensors every interval, counters as often as
wrap safety needs). The thread starts with the first subscription, ends with the last, and a forked child
starts its own.

Sensor failures never reach user code: they are logged once, noted in the results, and the failed sensor's
fallback (the CPU or RAM model) measures from the last good reading on.
"""

from __future__ import annotations

import itertools
import math
import os
import threading
import time
from collections.abc import Callable

from wattprint import _forksafe, _log
from wattprint._log import warn_once
from wattprint.core.methods import DeviceInfo
from wattprint.measure.attribution import SHARE_WINDOW_S, Attribution, attribution_key, make_attribution
from wattprint.sensors import SensorConfig, probe
from wattprint.sensors.base import Sensor, SensorError, SensorMeta


class Snapshot:
    """Cumulative attributed energy of every (sensor, method) slot of one subscription at one instant.

    ``values[i]`` is the energy (J) measured by ``slots[i]`` = ``(sensor key, method)``; ``slots`` only grows,
    so a snapshot's values line up with the first ``len(values)`` slots. Kept small and flat: windows hold two.
    """

    __slots__ = ("t_monotonic", "wall_time", "values", "slots", "meta")

    def __init__(
        self,
        t_monotonic: float,
        wall_time: float,
        values: tuple[float, ...],
        slots: list[tuple[str, str]],
        meta: dict[str, SensorMeta],
    ) -> None:
        self.t_monotonic = t_monotonic
        self.wall_time = wall_time
        self.values = values
        self.slots = slots
        self.meta = meta


class _Probe:
    """The sensors of one configuration and the cumulative energy each attribution has received from them."""

    __slots__ = ("config", "sensors", "notes", "meta", "infos", "next_due", "slots", "slot_of", "values", "users")

    def __init__(self, config: SensorConfig, sensors: list[Sensor], notes: list[str]) -> None:
        self.config = config
        self.sensors = sensors
        self.notes = notes
        self.meta: dict[str, SensorMeta] = {}
        """Replaced, never mutated, when a sensor is added: snapshots keep a reference."""
        self.infos: dict[str, DeviceInfo] = {}
        self.next_due: dict[str, float] = {}
        self.slots: list[tuple[str, str]] = []
        self.slot_of: dict[tuple[str, str], int] = {}
        self.values: dict[str, list[float]] = {}
        """attribution key -> cumulative energy per slot."""
        self.users: dict[str, int] = {}
        """attribution key -> number of subscriptions."""

    def register(self, sensor: Sensor) -> None:
        self.meta = {**self.meta, sensor.key: sensor.meta()}
        try:
            self.infos[sensor.key] = sensor.info()
        except Exception:  # noqa: BLE001 - info is best effort
            _log.debug("no device info for %s", sensor.key, exc_info=True)

    def slot(self, key: str, method: str) -> int:
        index = self.slot_of.get((key, method))
        if index is None:
            index = len(self.slots)
            self.slots.append((key, method))
            self.slot_of[(key, method)] = index
            for values in self.values.values():
                values.append(0.0)
        return index


class _AttributionEntry:
    __slots__ = ("attribution", "users", "last_update")

    def __init__(self, attribution: Attribution) -> None:
        self.attribution = attribution
        self.users = 0
        self.last_update: float | None = None


class SubscriptionClosing(RuntimeError):
    """A background thread gave up waiting for the meter: its subscription is being stopped at a signal."""


class Subscription:
    """A tracker's handle on the meter."""

    __slots__ = ("meter", "probe", "attribution_key", "attribution", "active", "closing")

    def __init__(self, meter: Meter, probe: _Probe, attribution_key: str, attribution: Attribution) -> None:
        self.meter = meter
        self.probe = probe
        self.attribution_key = attribution_key
        self.attribution = attribution
        self.active = True
        self.closing = False
        """Set, without any lock, when a signal handler stops the subscription's tracker."""

    @property
    def stale(self) -> bool:
        """True in a forked child: the parent's meter cannot be used there."""
        return self.meter.pid != os.getpid()


class Meter:
    def __init__(self) -> None:
        self.pid = os.getpid()
        self._lock = threading.RLock()
        """Reentrant: a SIGTERM handler reads the meter in the main thread, maybe inside a reading it interrupted."""
        self._probes: dict[SensorConfig, _Probe] = {}
        self._attributions: dict[str, _AttributionEntry] = {}
        self._thread: threading.Thread | None = None
        self._stop: threading.Event | None = None
        self._wake = threading.Event()
        self.ticks = 0
        self._jobs: dict[int, list] = {}
        """job id -> [function, next due (monotonic), name]; run by the sampler thread outside the lock."""
        self._jobs_lock = threading.RLock()
        self._job_ids = itertools.count(1)

    # -- subscriptions -------------------------------------------------------------------------------------

    def subscribe(
        self,
        config: SensorConfig,
        attribution: str = "machine",
        pid: int | None = None,
    ) -> Subscription:
        """Start measuring for one tracker; probes hardware the first time a configuration is used."""
        key = attribution_key(attribution, pid)
        with self._lock:
            entry = self._attributions.get(key)
            if entry is None:
                entry = _AttributionEntry(
                    make_attribution(attribution, pid=pid, proc_root=config.proc_root, cgroup_root=config.cgroup_root)
                )
                self._attributions[key] = entry
            entry.users += 1
            found = self._probes.get(config)
            if found is None:
                result = probe(config, time.monotonic())
                found = _Probe(config=config, sensors=list(result.sensors), notes=list(result.notes))
                for sensor in found.sensors:
                    found.register(sensor)
                self._probes[config] = found
                for note in result.notes:
                    _log.debug("wattprint: %s", note)  # the run's notes show them; not a line per probe
            now = time.monotonic()
            self._advance(found, found.sensors, now)  # bring counters up to now before the new baseline
            found.users[key] = found.users.get(key, 0) + 1
            if key not in found.values:
                found.values[key] = [0.0] * len(found.slots)
            self._ensure_thread()
        self._wake.set()
        return Subscription(self, found, key, entry.attribution)

    def unsubscribe(self, sub: Subscription, *, join: bool = True) -> None:
        """Stop measuring for one tracker; the last one closes the sensors and ends the thread (``join``: waits
        for it; not at a signal, where the thread may be waiting for a lock the interrupted main thread holds)."""
        if not sub.active or sub.stale:
            sub.active = False
            return
        to_join = None
        with self._lock:
            sub.active = False
            found = sub.probe
            found.users[sub.attribution_key] -= 1
            if found.users[sub.attribution_key] == 0:
                del found.users[sub.attribution_key]
                del found.values[sub.attribution_key]
            if not found.users:
                for sensor in found.sensors:
                    _close(sensor)
                self._probes.pop(found.config, None)
            entry = self._attributions[sub.attribution_key]
            entry.users -= 1
            if entry.users == 0:
                entry.attribution.close()
                del self._attributions[sub.attribution_key]
            if not self._probes and self._thread is not None:
                assert self._stop is not None
                self._stop.set()
                to_join, self._thread, self._stop = self._thread, None, None
        if to_join is not None:
            self._wake.set()
            if join and to_join is not threading.current_thread():
                to_join.join(timeout=5)

    def read(self, sub: Subscription, *, final: bool = False) -> Snapshot:
        """Read the subscription's sensors now and return the cumulative attributed energies.

        ``final`` (a run's last reading) also brings the attribution shares up to date, however short the time
        since they were last measured.
        """
        self._acquire(sub)
        try:
            now, wall = time.monotonic(), time.time()  # together: a slow reading must not shift one of them
            found = sub.probe
            self._advance(found, found.sensors, now, update_shares=final)
            return Snapshot(now, wall, tuple(found.values[sub.attribution_key]), found.slots, found.meta)
        finally:
            self._lock.release()

    def notes(self, sub: Subscription) -> list[str]:
        self._acquire(sub)
        try:
            notes = list(sub.probe.notes)
            for sensor in sub.probe.sensors:
                notes += sensor.runtime_notes()
            return notes
        finally:
            self._lock.release()

    def hardware(self, sub: Subscription) -> list[DeviceInfo]:
        self._acquire(sub)
        try:
            return list(sub.probe.infos.values())
        finally:
            self._lock.release()

    def _acquire(self, sub: Subscription) -> None:
        """Take the meter's lock for ``sub``. The main thread waits (whoever else holds it lets go soon); another
        thread gives up with :class:`SubscriptionClosing` once ``sub`` is being stopped at a signal, since the
        lock may then belong to the interrupted main thread, which only lets go after the handler, which waits
        for that thread's tracker lock or for the store writer."""
        if threading.current_thread() is threading.main_thread():
            self._lock.acquire()
            return
        while not self._lock.acquire(timeout=0.05):
            if sub.closing:
                raise SubscriptionClosing("the tracker is being stopped")

    def sensors(self, sub: Subscription) -> list[Sensor]:
        """The sensors measuring for ``sub`` now (for diagnostics)."""
        with self._lock:
            return list(sub.probe.sensors)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # -- background jobs -------------------------------------------------------------------------------------

    def add_job(self, job: Callable[[], float | None], *, name: str) -> int:
        """Run ``job()`` in the sampler thread, outside the meter's lock, soon and then again after the seconds
        it returns (None: not again). For periodic background work that must never run on the user's thread,
        such as cutting a run at the periods of live carbon intensity and deciding when to fetch them. Jobs run
        only while something is measured, one at a time between sensor ticks, so a job must return quickly and
        hand anything slow (a network request) to a thread of its own; its exceptions are logged once. Returns
        an id for :meth:`remove_job`."""
        with self._jobs_lock:
            job_id = next(self._job_ids)
            self._jobs[job_id] = [job, 0.0, name]
        self._wake.set()
        return job_id

    def remove_job(self, job_id: int) -> None:
        """Stop calling a job (a call already under way finishes)."""
        with self._jobs_lock:
            self._jobs.pop(job_id, None)

    def _run_jobs(self) -> float | None:
        """Call the jobs that are due; return the seconds until the next one is (None: none is scheduled)."""
        now = time.monotonic()
        with self._jobs_lock:
            due = [(job_id, entry[0], entry[2]) for job_id, entry in self._jobs.items() if entry[1] <= now]
        for job_id, job, name in due:
            try:
                again = job()
            except Exception as error:  # noqa: BLE001 - a job must not stop measuring
                warn_once(f"meter-job:{name}", f"wattprint: background job {name} failed: {error}")
                again = None
            with self._jobs_lock:
                entry = self._jobs.get(job_id)
                if entry is not None:
                    entry[1] = math.inf if again is None else time.monotonic() + max(0.0, again)
        now = time.monotonic()
        with self._jobs_lock:
            soonest = min((entry[1] for entry in self._jobs.values()), default=math.inf)
        return None if soonest == math.inf else max(0.0, soonest - now)

    # -- measuring ---------------------------------------------------------------------------------------------

    def _advance(self, found: _Probe, sensors: list[Sensor], now: float, update_shares: bool = False) -> None:
        """Read ``sensors`` up to ``now`` and add their energy, attributed, to every subscribed attribution."""
        entries = [(values, self._attributions[key]) for key, values in found.values.items()]
        for _, entry in entries:
            attribution = entry.attribution
            if attribution.needs_updates and (
                update_shares or entry.last_update is None or now - entry.last_update >= SHARE_WINDOW_S
            ):
                try:
                    if attribution.update(now, found.sensors):
                        entry.last_update = now
                except Exception as error:  # noqa: BLE001 - attribution trouble must not stop measuring
                    warn_once(f"attribution:{attribution.mode}", f"wattprint: attribution update failed: {error}")
                    entry.last_update = now
        for sensor in list(sensors):
            try:
                energy, method = sensor.advance(now)
            except Exception as error:  # noqa: BLE001 - SensorError or anything unexpected
                self._replace(found, sensor, error, now)
                continue
            poll = sensor.next_poll_s()
            found.next_due[sensor.key] = now + poll if poll else math.inf
            if energy:
                slot = found.slot(sensor.key, method)
                for values, entry in entries:
                    values[slot] += energy * entry.attribution.share(sensor)

    def _replace(self, found: _Probe, failed: Sensor, error: BaseException, now: float) -> None:
        """Drop a failed sensor and its group; put their fallback in place, measuring from the last good read."""
        group = [s for s in found.sensors if s.group == failed.group]
        since = failed.last_good_t() or now
        try:
            replacements = failed.fallback(since)
        except Exception:  # noqa: BLE001
            _log.debug("fallback for %s failed", failed.key, exc_info=True)
            replacements = []
        for sensor in group:
            found.sensors.remove(sensor)
            found.next_due.pop(sensor.key, None)
            _close(sensor)
        for sensor in replacements:
            found.sensors.append(sensor)
            found.register(sensor)
        devices = ", ".join(s.device for s in group)
        reason = str(error) if isinstance(error, SensorError) else f"{type(error).__name__}: {error}"
        if replacements:
            what = f"{devices}: {reason}. Modelled from then on ({', '.join(s.device for s in replacements)})."
        else:
            what = f"{devices}: {reason}. No longer measured."
        found.notes.append(what)
        warn_once(f"sensor-failed:{failed.key}", f"wattprint: {what}")
        if replacements:
            self._advance(found, replacements, now)

    # -- the thread ----------------------------------------------------------------------------------------------

    def _ensure_thread(self) -> None:
        if self._thread is None:
            self._stop = threading.Event()
            self._thread = threading.Thread(
                target=self._run, args=(self._stop,), name="wattprint-meter", daemon=True
            )
            self._thread.start()

    def _run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                with _forksafe.section():  # a fork waits for this tick: none of its imports is cut in half
                    for entry in list(self._attributions.values()):
                        entry.attribution.refresh()  # slow (process tree scan): outside the lock
                    job_wait = self._run_jobs() if self._jobs else None  # background jobs: outside the lock too
                    with self._lock:
                        if stop.is_set():
                            return
                        wait = self._tick(time.monotonic())
                if job_wait is not None:
                    wait = job_wait if wait is None else min(wait, job_wait)
            except Exception:  # noqa: BLE001 - the thread must survive anything
                _log.error("wattprint: meter tick failed")
                wait = 1.0
            self._wake.wait(wait)
            self._wake.clear()

    def _tick(self, now: float) -> float | None:
        """Read what is due; return how long the thread may sleep."""
        self.ticks += 1
        wait = math.inf
        for found in list(self._probes.values()):
            needs_attribution = any(self._attributions[k].attribution.needs_updates for k in found.values)
            if needs_attribution:  # each share must price the energy of its own interval: read everything
                due = list(found.sensors)
            else:
                due = [s for s in found.sensors if found.next_due.get(s.key, 0.0) <= now + 0.001]
            if due:
                self._advance(found, due, now)
            for sensor in found.sensors:
                wait = min(wait, found.next_due.get(sensor.key, now) - now)
            if needs_attribution:
                wait = min(wait, found.config.interval_s)
        return None if wait == math.inf else max(0.0, wait)


def _close(sensor: Sensor) -> None:
    try:
        sensor.close()
    except Exception:  # noqa: BLE001
        _log.debug("closing %s failed", sensor.key, exc_info=True)


_meter: Meter | None = None
_meter_lock = threading.Lock()


def get_meter() -> Meter:
    """The process's meter (a new one in a forked child)."""
    global _meter
    with _meter_lock:
        if _meter is None or _meter.pid != os.getpid():
            _meter = Meter()
        return _meter


def _after_fork_in_child() -> None:
    global _meter, _meter_lock
    _meter = None
    _meter_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
