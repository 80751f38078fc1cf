"""The public tracking API: ``track()`` (context manager and decorator), ``Tracker`` and task windows."""

from __future__ import annotations

import functools
import os
import threading
import time
from collections.abc import Callable, Sequence

from wattprint import _log
from wattprint._log import warn_once
from wattprint.errors import ConfigError, TrackerStateError, check_choice
from wattprint.meter import Snapshot, Subscription, get_meter
from wattprint.results import RunResult, WindowResult
from wattprint.sensors import SensorConfig
from wattprint.windows import window_result

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, TypeVar

    from wattprint.carbon import Intensity
    from wattprint.recorder import RunRecorder

    F = TypeVar("F", bound=Callable[..., Any])

def new_run_id() -> str:
    """A 32-hex-digit id that sorts by creation time (48-bit milliseconds, then 80 random bits)."""
    return f"{int(time.time() * 1000):012x}{os.urandom(10).hex()}"


MAX_KEPT_TASKS = 10_000
"""Task windows a run keeps for its result; each window's own ``result`` is unaffected by the cap."""


class Window:
    """A measurement window inside a running tracker: ``with run.task("epoch-1") as window: ...``.

    Windows may nest and overlap; each is measured between its own edges. ``window.result`` is available once
    it stops (at the latest when its tracker stops), and is computed on first access, so a window costs two
    meter readings and nothing more.
    """

    __slots__ = ("name", "_tracker", "_start", "_end", "_result")

    def __init__(self, tracker: Tracker, name: str) -> None:
        self.name = name
        self._tracker = tracker
        self._start: Snapshot | None = None
        self._end: Snapshot | None = None
        self._result: WindowResult | None = None

    @property
    def result(self) -> WindowResult | None:
        """The window's energy once it has stopped; None while it runs."""
        if self._result is None and self._end is not None:
            assert self._start is not None
            self._result = self._tracker._account(
                window_result(self.name, self._start, self._end, self._tracker.attribution)
            )
        return self._result

    def start(self) -> Window:
        if self._start is not None:
            raise TrackerStateError(f"task {self.name!r} was already started; create a new one with run.task()")
        self._start = self._tracker._edge()
        self._tracker._opened(self)
        return self

    def stop(self) -> WindowResult:
        """End the window (a second call returns the same result)."""
        if self._end is None:
            if self._start is None:
                raise TrackerStateError(f"task {self.name!r} was never started")
            self._finish(self._tracker._edge_or_final())
        result = self.result
        assert result is not None
        return result

    def _finish(self, end: Snapshot) -> None:
        self._end = end
        self._tracker._closed(self)

    def snapshot(self) -> WindowResult:
        """Energy so far, without stopping."""
        if self._end is not None:
            return self.result  # type: ignore[return-value]
        if self._start is None:
            raise TrackerStateError(f"task {self.name!r} was never started")
        return self._tracker._account(
            window_result(self.name, self._start, self._tracker._edge(), self._tracker.attribution)
        )

    def __enter__(self) -> Window:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        if self._end is None and self._start is not None:
            self._finish(self._tracker._edge_or_final())


class Tracker:
    """Measures the energy of the code between ``start()`` and ``stop()``.

    Arguments are checked here, so a typo fails before any work starts. A tracker can be started again after
    stopping; each start is a fresh run with a new ``run_id``.
    """

    def __init__(
        self,
        project: str | None = None,
        name: str | None = None,
        *,
        attribution: str | None = None,
        interval_s: float | None = None,
        pid: int | None = None,
        gpus: bool | None = None,
        cpu_tdp_w: float | None = None,
        powercap_root: str | Sequence[str] | None = None,
        rapl_domains: Sequence[str] | None = None,
        nvml: Any = None,
        amdsmi: Any = None,
        store: str | None = None,
        flush_interval_s: float | None = None,
        location: str | None = None,
        pue: float | None = None,
        cloud_metadata: bool | None = None,
        ip_geolocation: bool | None = None,
    ) -> None:
        from wattprint.config import load_config

        self._kwargs = dict(
            project=project, name=name, attribution=attribution, interval_s=interval_s, pid=pid, gpus=gpus,
            cpu_tdp_w=cpu_tdp_w, powercap_root=powercap_root, rapl_domains=rapl_domains, nvml=nvml, amdsmi=amdsmi,
            store=store, flush_interval_s=flush_interval_s, location=location, pue=pue,
            cloud_metadata=cloud_metadata, ip_geolocation=ip_geolocation,
        )
        for argument, value in (("project", project), ("name", name)):
            if value is not None and (not isinstance(value, str) or not value.strip()):
                raise ConfigError(f"{argument} must be a non-empty string or None, got {value!r}")
        if powercap_root is not None and not isinstance(powercap_root, str):
            powercap_root = os.pathsep.join(powercap_root)
        self.config = load_config({
            "project": project, "attribution": attribution, "interval_s": interval_s, "gpus": gpus,
            "cpu_tdp_w": cpu_tdp_w, "powercap_root": powercap_root, "rapl_domains": rapl_domains, "store": store,
            "flush_interval_s": flush_interval_s, "location": location, "pue": pue, "cloud_metadata": cloud_metadata,
            "ip_geolocation": ip_geolocation,
        })
        """Every setting and where it came from (arguments, environment, project file, user config, default)."""
        get = self.config.get
        self.project: str | None = get("project")  # type: ignore[assignment]
        self.name = name
        self.attribution: str = get("attribution")  # type: ignore[assignment]
        if pid is not None and (isinstance(pid, bool) or not isinstance(pid, int) or pid <= 0):
            raise ConfigError(f"pid must be a positive process id or None, got {pid!r}")
        if pid is not None and self.attribution == "machine":
            raise ConfigError("pid= only applies to attribution='process' or 'cgroup'")
        if pid is not None or self.attribution == "cgroup":
            from wattprint.attribution import make_attribution

            make_attribution(self.attribution, pid=pid).close()  # fail now if the process or its cgroup is gone
        self.pid = pid
        self._config = SensorConfig(
            powercap_root=get("powercap_root"),  # type: ignore[arg-type]
            rapl_domains=tuple(get("rapl_domains")),  # type: ignore[arg-type]
            gpus=bool(get("gpus")),
            nvml=nvml,
            amdsmi=amdsmi,
            cpu_tdp_w=get("cpu_tdp_w"),  # type: ignore[arg-type]
            interval_s=float(get("interval_s")),  # type: ignore[arg-type]
        )
        self.store: str | None = get("store")  # type: ignore[assignment]
        self.flush_interval_s = float(get("flush_interval_s"))  # type: ignore[arg-type]
        self._intensity: Intensity | None = None
        self._intensity_lock = threading.Lock()
        location_setting = self.config.setting("location")
        if location_setting.value is not None:  # a location that does not exist fails now, not at the end of a job
            from wattprint.carbon import lookup_location

            lookup_location(str(location_setting.value), origin=location_setting.source)
        self.command: str | None = None
        """The command a ``wattprint run`` ran, stored with the run."""
        self.exit_code: int | None = None
        self._recorder: RunRecorder | None = None
        self._lock = threading.RLock()
        self._sub: Subscription | None = None
        self._start: Snapshot | None = None
        self._final: Snapshot | None = None
        self._open: dict[int, Window] = {}
        self._done: list[Window] = []
        self._dropped_tasks = 0
        self.run_id: str | None = None
        self.result: RunResult | None = None
        """The result of the last finished run (None until one stops)."""

    # -- lifecycle -----------------------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._sub is not None

    def start(self) -> Tracker:
        """Start a fresh measurement. Starting a running tracker does nothing."""
        with self._lock:
            if self._sub is not None and not self._sub.stale:
                warn_once(f"double-start:{id(self)}", "wattprint: start() on a running tracker is ignored")
                return self
            meter = get_meter()
            self._sub = meter.subscribe(self._config, self.attribution, self.pid)
            self._start = meter.read(self._sub)
            self._final = None
            self._open = {}
            self._done = []
            self._dropped_tasks = 0
            self.run_id = new_run_id()
            self.result = None
            self._recorder = None
            if self._intensity is None and (self.config.get("cloud_metadata") or self.config.get("ip_geolocation")):
                # Network sources answer in a background thread; results wait for them only if they are slow.
                threading.Thread(target=self.intensity, name="wattprint-locate", daemon=True).start()
            url = self._store_url()
            if url is not None:
                from wattprint.recorder import RunRecorder, get_writer, track_live

                self._recorder = RunRecorder(self, url, self.flush_interval_s, self._start)
                get_writer().add(self._recorder)
                track_live(self)
        return self

    def intensity(self) -> Intensity:
        """The grid carbon intensity runs are priced with, and how the location was decided (resolved once)."""
        with self._intensity_lock:
            if self._intensity is None:
                self._intensity = _locate(self.config)
            return self._intensity

    def _account(self, window: WindowResult) -> WindowResult:
        """The window with its footprint: facility energy, emissions and water at this tracker's location."""
        from dataclasses import replace

        from wattprint.accounting import account

        footprint = account(
            window.energy_kwh, window.uncertainty_rel, self.intensity(),
            pue=self.config.get("pue"), duration_s=window.duration_s,  # type: ignore[arg-type]
        )
        return replace(window, footprint=footprint)

    def _store_url(self) -> str | None:
        from wattprint.store.urls import resolve_store_url

        return resolve_store_url(self.store)

    @property
    def record_fields(self) -> dict[str, Any]:
        """Fields of the stored run that the tracker knows beyond its result."""
        return {"command": self.command, "exit_code": self.exit_code}

    def wait_saved(self, timeout: float | None = 30.0) -> bool:
        """Wait until the last run has been written to the store (or spooled); False on timeout."""
        recorder = self._recorder
        return True if recorder is None else recorder.saved.wait(timeout)

    def _flush_state(self) -> tuple[Snapshot, RunResult] | None:
        """A snapshot and the running result, for a periodic flush (None when not running)."""
        with self._lock:
            sub = self._sub
            if sub is None or sub.stale:
                return None
            end = sub.meter.read(sub)
            return end, self._result(end, "running", sub)

    def stop(self, status: str = "finished") -> RunResult | None:
        """End the measurement and return the run's result. Stopping again returns the same result.

        ``status`` is ``finished``, ``failed`` or ``killed``. The run is saved to the store in the background;
        ``wait_saved()`` waits for it.
        """
        check_choice("status", status, ("finished", "failed", "killed"))
        with self._lock:
            sub = self._sub
            if sub is None:
                return self.result
            if sub.stale:
                _log.debug("wattprint: tracker %s was started before fork; nothing to stop here", self.run_id)
                self._sub = None
                return None
            meter = sub.meter
            end = meter.read(sub, final=True)
            self._final = end
            for window in list(self._open.values()):
                window._finish(end)
            self.result = self._result(end, status, sub)
            self._sub = None
            meter.unsubscribe(sub)
            recorder = self._recorder
            if recorder is not None:
                from wattprint.recorder import forget_live, get_writer

                forget_live(self)
                get_writer().finish(recorder, recorder.payload(end, self.result, final=True))
            return self.result

    def snapshot(self) -> RunResult:
        """Totals so far, without stopping (the last result once stopped)."""
        with self._lock:
            sub = self._sub
            if sub is None or sub.stale:
                if self.result is not None:
                    return self.result
                raise TrackerStateError("snapshot() needs a running tracker: call start() first")
            return self._result(sub.meter.read(sub), "running", sub)

    def task(self, name: str) -> Window:
        """A window measured between its own edges: ``with run.task("epoch-1") as window: ...``."""
        if not isinstance(name, str) or not name:
            raise ConfigError(f"task name must be a non-empty string, got {name!r}")
        if self._sub is None:
            raise TrackerStateError(
                f"run.task({name!r}) needs a running tracker: call run.start() first or use "
                "`with wattprint.track(...) as run:`"
            )
        return Window(self, name)

    @property
    def tasks(self) -> list[WindowResult]:
        """Finished task windows of the current (or last) run, in the order they ended."""
        with self._lock:
            done = list(self._done)
        return [w.result for w in done if w.result is not None]

    # -- internals used by windows -------------------------------------------------------------------------

    def _edge(self) -> Snapshot:
        sub = self._sub
        if sub is None:
            raise TrackerStateError("the tracker is not running")
        if sub.stale:
            raise TrackerStateError(
                "this tracker was started in the parent process; start a new tracker in the forked child"
            )
        return sub.meter.read(sub)

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

    def _result(self, end: Snapshot, status: str, sub: Subscription) -> RunResult:
        assert self._start is not None and self.run_id is not None
        window = self._account(window_result(self.name or "run", self._start, end, self.attribution))
        meter = sub.meter
        notes = meter.notes(sub)
        if self._dropped_tasks:
            notes.append(
                f"{self._dropped_tasks} task windows beyond the first {MAX_KEPT_TASKS} are not kept in this result "
                "(each window's own result was still measured)."
            )
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
            hardware=tuple(meter.hardware(sub)),
            notes=tuple(notes),
            tasks=tuple(self.tasks),
            footprint=window.footprint,
        )

    # -- context manager and decorator ------------------------------------------------------------------

    def __enter__(self) -> Tracker:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        if exc_type is None or (isinstance(exc, SystemExit) and exc.code in (None, 0)):
            status = "finished"
        elif issubclass(exc_type, KeyboardInterrupt):
            status = "killed"
        else:
            status = "failed"
        self.stop(status)

    def clone(self) -> Tracker:
        """A new, stopped tracker with the same arguments."""
        return Tracker(**self._kwargs)

    def __call__(self, func: F) -> F:
        """Use as a decorator: every call of ``func`` is measured as a run of its own.

        The wrapper's ``tracker`` attribute is the tracker of the latest call, and ``result`` its result.
        """
        kwargs = dict(self._kwargs)
        if kwargs["name"] is None:
            kwargs["name"] = func.__qualname__

        import inspect

        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def async_wrapper(*args: Any, **kw: Any) -> Any:
                tracker = Tracker(**kwargs)
                async_wrapper.tracker = tracker  # type: ignore[attr-defined]
                try:
                    with tracker:
                        return await func(*args, **kw)
                finally:
                    async_wrapper.result = tracker.result  # type: ignore[attr-defined]

            async_wrapper.tracker = None  # type: ignore[attr-defined]
            async_wrapper.result = None  # type: ignore[attr-defined]
            return async_wrapper  # type: ignore[return-value]

        @functools.wraps(func)
        def wrapper(*args: Any, **kw: Any) -> Any:
            tracker = Tracker(**kwargs)
            wrapper.tracker = tracker  # type: ignore[attr-defined]
            try:
                with tracker:
                    return func(*args, **kw)
            finally:
                wrapper.result = tracker.result  # type: ignore[attr-defined]

        wrapper.tracker = None  # type: ignore[attr-defined]
        wrapper.result = None  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    def __repr__(self) -> str:
        state = f"running run {self.run_id}" if self.running else "stopped"
        return f"<Tracker project={self.project!r} name={self.name!r} attribution={self.attribution!r} {state}>"


_located: dict[tuple[object, ...], Intensity] = {}
_located_lock = threading.Lock()


def _locate(config: Any) -> Intensity:
    """Resolve the location once per process and set of settings (a cloud's metadata service is asked once)."""
    from wattprint.carbon import locate

    setting = config.setting("location")
    key = (setting.value, setting.source == "argument", config.get("cloud_metadata"), config.get("ip_geolocation"))
    with _located_lock:
        cached = _located.get(key)
    if cached is None:
        cached = locate(config=config)
        with _located_lock:
            _located[key] = cached
    return cached


def track(project: str | Callable[..., Any] | None = None, /, **kwargs: Any) -> Any:
    """Measure a block or a function.

    ``with wattprint.track(project="mnist") as run: ...``, ``@wattprint.track(project="mnist")`` or plain
    ``@wattprint.track``. Keyword arguments are those of :class:`Tracker`.
    """
    if callable(project):
        return Tracker(**kwargs)(project)
    if project is not None:
        kwargs["project"] = project
    return Tracker(**kwargs)
