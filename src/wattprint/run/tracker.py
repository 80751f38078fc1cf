"""The public tracking API: ``track()`` (context manager and decorator) and ``Tracker``.

``Tracker`` is built up by concern (``run/base.py`` says how): this module holds its arguments, start, stop and
windows; ``pricing``, ``training`` and ``recording`` the rest; ``windows`` the task windows.
"""

from __future__ import annotations

import functools
import os
import threading
import time
from collections.abc import Callable

from wattprint import _log
from wattprint._log import warn_once
from wattprint.core.errors import ConfigError, TrackerStateError, check_choice
from wattprint.measure.meter import Snapshot, Subscription, get_meter
from wattprint.measure.windows import window_result
from wattprint.run.base import MAX_KEPT_TASKS
from wattprint.run.pricing import PREPARE_AFTER_S
from wattprint.run.recording import Recording
from wattprint.run.windows import EpochWindow, Window
from wattprint.sensors import SensorConfig

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, TypeVar

    from typing_extensions import Unpack

    from wattprint.core.results import RunResult, WindowResult
    from wattprint.run.arguments import TrackArguments, TrackerArguments
    from wattprint.run.group import GroupPart
    from wattprint.run.options import Hardware
    from wattprint.run.requests import Request
    from wattprint.settings.typed import Settings

    F = TypeVar("F", bound=Callable[..., Any])

__all__ = ["MAX_KEPT_TASKS", "PREPARE_AFTER_S", "EpochWindow", "Tracker", "Window", "new_run_id", "track"]


def new_run_id() -> str:
    """A 32-hex-digit id that sorts by creation time (48-bit milliseconds, then 80 random bits)."""
    return f"{int(time.time() * 1000):012x}{os.urandom(10).hex()}"


class Tracker(Recording):
    """Measures the energy of the code between ``start()`` and ``stop()``.

    ``settings`` (``wattprint.settings.typed.load_settings()``) replaces reading the settings' sources;
    keyword arguments are settings keys (docs/configuration.md), the run's options (``pid``, ``total_epochs``,
    ``total_steps``, ``predict_every_steps``, ``hyperparameters``) and the hardware libraries to use (``nvml``,
    ``amdsmi``; or ``hardware=Hardware(...)``). Arguments are checked here, so a typo fails before any work
    starts. A tracker can be started again after stopping; each start is a fresh run with a new ``run_id``.
    """

    def __init__(
        self,
        project: str | None = None,
        name: str | None = None,
        *,
        settings: Settings | None = None,
        hardware: Hardware | None = None,
        **overrides: Unpack[TrackerArguments],
    ) -> None:
        from wattprint.core.errors import check_name, check_path
        from wattprint.run.options import split_overrides
        from wattprint.settings.typed import Settings, load_settings

        self._arguments: dict[str, Any] = dict(overrides, project=project, name=name, settings=settings,
                                               hardware=hardware)
        arguments, self.options, self.hardware = split_overrides(overrides, hardware)
        arguments["project"] = project
        for argument in ("project", "location", "intensity_zone"):
            check_name(argument, arguments.get(argument))
        check_name("name", name)
        arguments["powercap_root"] = check_path("powercap_root", arguments.get("powercap_root"), many=True)
        if isinstance(arguments.get("store"), str):
            check_path("store", arguments["store"])
        if settings is None:
            settings = load_settings(arguments)
        elif not isinstance(settings, Settings):
            raise ConfigError(f"settings must be a wattprint.settings.typed.Settings or None, got "
                              f"{type(settings).__name__}")
        else:
            settings = settings.with_arguments(arguments)
        self.settings = settings
        self.config = settings.config
        check_name("project", settings.project, source=settings.source("project"))
        self.project = settings.project
        self.name = name
        self.attribution = settings.attribution
        pid = self.options.pid
        if pid is not None and self.attribution == "machine":
            raise ConfigError("pid= only applies to attribution='process' or 'cgroup'")
        if pid is not None or self.attribution == "cgroup":
            from wattprint.measure.attribution import make_attribution

            make_attribution(self.attribution, pid=pid).close()  # fail now if the process or its cgroup is gone
        self.pid = pid
        self._config = SensorConfig(
            powercap_root=settings.powercap_root,
            rapl_domains=settings.rapl_domains,
            gpus=settings.gpus,
            nvml=self.hardware.nvml,
            amdsmi=self.hardware.amdsmi,
            cpu_tdp_w=settings.cpu_tdp_w,
            interval_s=settings.interval_s,
        )
        self.store = settings.store
        self.flush_interval_s = settings.flush_interval_s
        self._init_training()
        self._next_run_id: str | None = None
        self.parent_run = _parent_run()
        self._init_pricing()
        self.command = None
        self.exit_code = None
        self._recorder = None
        self._final_queued = False
        self._lock = threading.RLock()
        """Reentrant: the SIGTERM handler stops the tracker in the main thread, maybe inside a call that holds it."""
        self._sub = None
        self._start = None
        self._final = None
        self._open = {}
        self._done = []
        self._dropped_tasks = 0
        self.run_id = None
        self.result = None
        """The result of the last finished run (None until one stops)."""

    # -- lifecycle -----------------------------------------------------------------------------------------------

    def start(self) -> Tracker:
        """Start a fresh measurement. Starting a running tracker does nothing."""
        with self._lock:
            if self._sub is not None and not self._sub.stale:
                warn_once(f"double-start:{id(self)}", "wattprint: start() on a running tracker is ignored")
                return self
            meter = get_meter()
            self._sub = meter.subscribe(self._config, self.attribution, self.pid)
            self._part = self._join_group()
            self._start = self._scoped(meter.read(self._sub))
            self._final = None
            self._open = {}
            self._done = []
            self._dropped_tasks = 0
            self.run_id, self._next_run_id = self._next_run_id or new_run_id(), None
            self.result = None
            self._recorder = None
            self._final_queued = False
            self._start_training()
            self._start_live(self._sub)
            self._prepare_job = meter.add_job(self._prepare_footprint(), name="prepare-footprint")
            if self._intensity is None and (self.settings.cloud_metadata or self.settings.ip_geolocation):
                # Network sources answer in a background thread; results wait for them only if they are slow.
                threading.Thread(target=self._locate_in_background, name="wattprint-locate", daemon=True).start()
            url = self._store_url()
            if self._exporting() or url is not None:
                from wattprint.sinks.recorder import RunRecorder, get_writer, track_live

                self._recorder = RunRecorder(self, url, self.flush_interval_s, self._start)
                get_writer().add(self._recorder)
                track_live(self)
        return self

    def _flush_state(self) -> tuple[Snapshot, RunResult] | None:
        """A snapshot and the running result, for a periodic flush (None when not running, or when the tracker is
        being stopped at a signal: the writer thread must then be free for the final save, not wait for locks
        that the interrupted main thread holds)."""
        from wattprint.measure.meter import SubscriptionClosing

        sub = self._sub
        if sub is None or sub.stale:
            return None
        while not self._lock.acquire(timeout=0.05):
            if sub.closing or self._sub is not sub:
                return None
        try:
            if self._sub is not sub:
                return None
            end = self._scoped(sub.meter.read(sub))
            return end, self._result(end, "running", sub)
        except SubscriptionClosing:
            return None
        finally:
            self._lock.release()

    def stop(self, status: str = "finished") -> RunResult | None:
        """End the measurement and return the run's result. Stopping again returns the same result.

        ``status`` is ``finished``, ``failed`` or ``killed``. The run is saved to the store in the background;
        ``wait_saved()`` waits for it.
        """
        check_choice("status", status, ("finished", "failed", "killed"))
        with self._lock:
            return self._stop_locked(status, at_exit=False)

    def _stop_at_exit(self, status: str, lock_wait_s: float = 1.0) -> None:
        """Stop for a SIGTERM handler or an exiting process: in the thread that runs it (the main thread, for a
        signal), which may hold the tracker's lock already (reentrant) or have been interrupted inside a call; a
        lock that another thread keeps is waited for ``lock_wait_s`` at most, then the stop goes on without it."""
        sub = self._sub
        if sub is not None:
            sub.closing = True  # background flushes waiting for this tracker or the meter give up
        locked = self._lock.acquire(timeout=lock_wait_s)
        try:
            self._stop_locked(status, at_exit=True)
        finally:
            if locked:
                self._lock.release()

    def _stop_locked(self, status: str, *, at_exit: bool) -> RunResult | None:
        sub = self._sub
        if sub is None:
            if at_exit:
                self._queue_final()  # a stop() interrupted after its last reading: its save may not be queued
            return self.result
        if sub.stale:
            _log.debug("wattprint: tracker %s was started before fork; nothing to stop here", self.run_id)
            self._sub = None
            return None
        meter = sub.meter
        end = self._scoped(meter.read(sub, final=True))
        self._final = end
        for window in list(self._open.values()):
            window._finish(end)
        if self._prepare_job is not None:
            meter.remove_job(self._prepare_job)
            self._prepare_job = None
        self.result = self._result(end, status, sub)
        self._sub = None
        from wattprint.run.requests import with_inference  # docs/inference.md: the requests it served

        self.result = with_inference(self, self.result)
        self._stop_live(end, late=not at_exit)
        meter.unsubscribe(sub, join=not at_exit)  # at exit the sampler thread may wait for a lock this one holds
        if self._part is not None:
            self._part.close()
        self._queue_final()
        return self.result

    def _join_group(self) -> GroupPart | None:
        """This run's part in the run group of ``group=`` or of the launcher that started the process (None
        outside one); a part other than its node's leader measures its own devices only (docs/distributed.md)."""
        from wattprint.run.group import GroupPart, resolve

        record = resolve(self.options.group)
        return None if record is None else GroupPart(record, self.attribution)

    def _queue_final(self) -> None:
        """Hand the stopped run's final save to the store writer, once."""
        recorder, end, result = self._recorder, self._final, self.result
        if recorder is None or self._final_queued or end is None or result is None:
            return
        from wattprint.sinks.recorder import forget_live, get_writer

        forget_live(self)
        get_writer().finish(recorder, recorder.payload(end, result, final=True))
        self._final_queued = True

    def snapshot(self) -> RunResult:
        """Totals so far, without stopping (the last result once stopped)."""
        with self._lock:
            sub = self._sub
            if sub is None or sub.stale:
                if self.result is not None:
                    return self.result
                raise TrackerStateError("snapshot() needs a running tracker: call start() first")
            return self._result(self._scoped(sub.meter.read(sub)), "running", sub)

    def task(self, name: str) -> Window:
        """A window measured between its own edges: ``with run.task("epoch-1") as window: ...``."""
        from wattprint.core.errors import check_name

        if check_name("task name", name) is None:
            raise ConfigError("task name must be a non-empty string, got None")
        if self._sub is None:
            raise TrackerStateError(
                f"run.task({name!r}) needs a running tracker: call run.start() first or use "
                "`with wattprint.track(...) as run:`"
            )
        return Window(self, name)

    def request(self, tokens_in: int | None = None, *, tokens_out: int | None = None, items: int | None = None,
                endpoint: str | None = None, exact: bool = False) -> Request:
        """A request served in the run, sharing the measured energy with those it overlaps (docs/inference.md);
        ``exact``: read the meter at its edges instead of interpolating between readings (costs a reading each)."""
        from wattprint.run.requests import Request

        return Request(self, tokens_in=tokens_in, tokens_out=tokens_out, items=items, endpoint=endpoint, exact=exact)

    @property
    def tasks(self) -> list[WindowResult]:
        """Finished task windows of the current (or last) run, in the order they ended."""
        with self._lock:
            done = list(self._done)
        return [w.result for w in done if w.result is not None]

    def _result(self, end: Snapshot, status: str, sub: Subscription) -> RunResult:
        assert self._start is not None and self.run_id is not None
        window = self._account(window_result(self.name or "run", self._start, end, self.attribution))
        meter = sub.meter
        notes = meter.notes(sub)
        hardware = meter.hardware(sub)
        if self._part is not None:
            notes += self._part.notes
            hardware = self._part.hardware(hardware, end)
        if self._monitor is not None:
            notes += self._monitor.notes
        if self._dropped_tasks:
            notes.append(
                f"{self._dropped_tasks} task windows beyond the first {MAX_KEPT_TASKS} are not kept in this result "
                "(each window's own result was still measured)."
            )
        from wattprint.core.results import RunResult

        return RunResult(
            name=window.name,
            started_at=window.started_at,
            duration_s=window.duration_s,
            energy_j=window.energy_j,
            uncertainty_rel=window.uncertainty_rel,
            attribution=window.attribution,
            components=window.components,
            devices=window.devices,
            run_id=self.run_id,
            project=self.project,
            status=status,
            hardware=tuple(hardware),
            notes=tuple(notes),
            tasks=tuple(self.tasks),
            footprint=window.footprint,
            predictions=tuple(self._monitor.predictions) if self._monitor is not None else (),
            config_fingerprint=self.config_fingerprint,
            time_resolved=self._time_resolved(end),
        )

    # -- context manager and decorator ------------------------------------------------------------------

    def __enter__(self) -> Tracker:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        if exc_type is None or (isinstance(exc, SystemExit) and exc.code in (None, 0)) or _budget_stop(exc):
            status = "finished"
        elif issubclass(exc_type, KeyboardInterrupt):
            status = "killed"
        else:
            status = "failed"
        self.stop(status)

    def clone(self) -> Tracker:
        """A new, stopped tracker with the same arguments (the settings' sources are read again)."""
        return Tracker(**self._arguments)

    def __call__(self, func: F) -> F:
        """Use as a decorator: every call of ``func`` is measured as a run of its own.

        The wrapper's ``tracker`` attribute is the tracker of the latest call, and ``result`` its result.
        """
        import inspect
        from typing import cast

        arguments = dict(self._arguments)
        if arguments["name"] is None:
            arguments["name"] = func.__qualname__

        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def async_wrapper(*args: Any, **kw: Any) -> Any:
                tracker = Tracker(**arguments)
                async_wrapper.__dict__["tracker"] = tracker
                try:
                    with tracker:
                        return await func(*args, **kw)
                finally:
                    async_wrapper.__dict__["result"] = tracker.result

            async_wrapper.__dict__.update(tracker=None, result=None)
            return cast("F", async_wrapper)

        @functools.wraps(func)
        def wrapper(*args: Any, **kw: Any) -> Any:
            tracker = Tracker(**arguments)
            wrapper.__dict__["tracker"] = tracker
            try:
                with tracker:
                    return func(*args, **kw)
            finally:
                wrapper.__dict__["result"] = tracker.result

        wrapper.__dict__.update(tracker=None, result=None)
        return cast("F", wrapper)

    def __repr__(self) -> str:
        state = f"running run {self.run_id}" if self.running else "stopped"
        return f"<Tracker project={self.project!r} name={self.name!r} attribution={self.attribution!r} {state}>"


def _budget_stop(exc: BaseException | None) -> bool:
    """A run ended by its budget policy ends as finished (a note says it was stopped), not as failed."""
    from wattprint.core.errors import BudgetExceeded

    return isinstance(exc, BudgetExceeded)


def _parent_run() -> str | None:
    """The run id ``wattprint run`` gave the command this process belongs to (``WATTPRINT_PARENT_RUN``)."""
    from wattprint.settings.config import PARENT_RUN_VARIABLE

    value = os.environ.get(PARENT_RUN_VARIABLE, "").strip()
    if not value:
        return None
    if len(value) != 32 or any(c not in "0123456789abcdef" for c in value):
        warn_once("parent-run", f"wattprint: {PARENT_RUN_VARIABLE}={value[:40]!r} is not a run id (32 hex digits); "
                                "ignored (wattprint run sets it for the command it measures)")
        return None
    return value


def track(project: str | Callable[..., Any] | None = None, /, **kwargs: Unpack[TrackArguments]) -> Any:
    """Measure a block or a function.

    ``with wattprint.track(project="mnist") as run: ...``, ``@wattprint.track(project="mnist")`` or plain
    ``@wattprint.track``. Keyword arguments are those of :class:`Tracker`.
    """
    if callable(project):
        return Tracker(**kwargs)(project)
    if project is not None:
        kwargs["project"] = project
    return Tracker(**kwargs)
