"""The state every part of a tracker shares, and its readings of the meter.

A ``Tracker`` is built up by concern, each class adding one to the one below: ``TrackerBase`` (this state and
the window edges), ``Pricing`` (location, intensity, live intensity, footprints), ``Training`` (epochs, steps,
predictions, budget), ``Recording`` (the store), ``Tracker`` (arguments, start, stop, windows, decorator).
"""

from __future__ import annotations

import threading

from wattprint.core.errors import TrackerStateError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from wattprint.core.results import RunResult
    from wattprint.measure.meter import Snapshot, Subscription
    from wattprint.run.group import GroupPart
    from wattprint.run.options import Hardware, RunOptions
    from wattprint.run.windows import Window
    from wattprint.settings.config import Config
    from wattprint.settings.typed import Settings
    from wattprint.sinks.recorder import RunRecorder

MAX_KEPT_TASKS = 10_000
"""Task windows a run keeps for its result; each window's own ``result`` is unaffected by the cap."""


class TrackerBase:
    """A tracker's shared state (set by ``Tracker.__init__`` and ``start``) and its meter readings."""

    settings: Settings
    """Every setting, typed; ``settings.source(key)`` says where a value came from."""
    config: Config
    """The same settings as a ``Config`` (arguments, environment, project file, user config, default)."""
    options: RunOptions
    hardware: Hardware
    project: str | None
    name: str | None
    attribution: str
    pid: int | None
    run_id: str | None
    result: RunResult | None
    _lock: threading.RLock
    _sub: Subscription | None
    _start: Snapshot | None
    _final: Snapshot | None
    _open: dict[int, Window]
    _done: list[Window]
    _dropped_tasks: int
    _recorder: RunRecorder | None
    """The store writer's handle on the current run (None with ``store = "off"``)."""
    _part: GroupPart | None = None
    """This run's part in its run group (a distributed run; docs/distributed.md), None outside one."""

    @property
    def running(self) -> bool:
        return self._sub is not None

    def _edge(self) -> Snapshot:
        sub = self._sub
        if sub is None:
            raise TrackerStateError("the tracker is not running")
        if sub.stale:
            raise TrackerStateError(
                "this tracker was started in the parent process; start a new tracker in the forked child"
            )
        return self._scoped(sub.meter.read(sub))

    def _scoped(self, snap: Snapshot) -> Snapshot:
        """``snap`` as this run measures it: in a run group, without the devices another part measures."""
        part = self._part
        return snap if part is None else part.scope(snap)

    def _edge_or_final(self) -> Snapshot:
        with self._lock:
            if self._sub is None and self._final is not None:
                return self._final
            return self._edge()

    def _opened(self, window: Window) -> None:
        with self._lock:
            self._open[id(window)] = window

    def _closed(self, window: Window) -> None:
        with self._lock:
            self._open.pop(id(window), None)
            if len(self._done) < MAX_KEPT_TASKS:
                self._done.append(window)
            else:
                self._dropped_tasks += 1
