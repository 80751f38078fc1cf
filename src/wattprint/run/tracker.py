"""The public tracking API: ``track()`` (context manager and decorator), ``Tracker`` and task windows."""

from __future__ import annotations

import functools
import os
import threading
import time
from collections.abc import Callable, Sequence

from wattprint import _log
from wattprint._log import warn_once
from wattprint.core.errors import ConfigError, TrackerStateError, check_choice
from wattprint.measure.meter import Snapshot, Subscription, get_meter
from wattprint.measure.windows import window_result
from wattprint.sensors import SensorConfig

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any, TypeVar

    from wattprint.carbon import Intensity
    from wattprint.carbon.live import LiveIntensity, TimeResolved
    from wattprint.core.errors import BudgetExceeded
    from wattprint.core.results import RunResult, WindowResult
    from wattprint.predict.budget import TrainingMonitor
    from wattprint.predict.prediction import Prediction
    from wattprint.sinks.recorder import RunRecorder

    F = TypeVar("F", bound=Callable[..., Any])

def new_run_id() -> str:
    """A 32-hex-digit id that sorts by creation time (48-bit milliseconds, then 80 random bits)."""
    return f"{int(time.time() * 1000):012x}{os.urandom(10).hex()}"


PREPARE_AFTER_S = 0.5
"""When, after start, the meter's thread prepares the first footprint of a process (``_prepare_footprint``)."""

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


class EpochWindow(Window):
    """An epoch: a task window whose end feeds the run's predictions and budget (``with run.epoch(): ...``).

    An epoch that ends with an exception, or that the tracker's stop ends, is kept as a task but not predicted
    from.
    """

    __slots__ = ("_total", "_raise", "_failed")

    def __init__(self, tracker: Tracker, name: str, total_epochs: int | None, raise_on_budget: bool) -> None:
        super().__init__(tracker, name)
        self._total = total_epochs
        self._raise = raise_on_budget
        self._failed = False

    def start(self) -> EpochWindow:
        super().start()
        monitor = self._tracker._monitor
        if monitor is not None and self._start is not None:
            monitor.epoch_started(self._start)
        return self

    def _finish(self, end: Snapshot) -> None:
        super()._finish(end)
        if not self._failed and self._tracker._final is None:
            self._tracker._epoch_done(end, self._total, self._raise)

    def __exit__(self, *exc: object) -> None:
        self._failed = exc[0] is not None
        super().__exit__(*exc)


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
        total_epochs: int | None = None,
        total_steps: int | None = None,
        predict_after: int | None = None,
        prediction_level: float | None = None,
        predict_every_steps: int | None = None,
        budget_kwh: float | None = None,
        budget_g: float | None = None,
        budget_policy: str | None = None,
        budget_basis: str | None = None,
        hyperparameters: Mapping[str, Any] | None = None,
        intensity_provider: str | None = None,
        intensity_zone: str | None = None,
    ) -> None:
        from wattprint.settings.config import load_config

        self._kwargs = dict(
            project=project, name=name, attribution=attribution, interval_s=interval_s, pid=pid, gpus=gpus,
            cpu_tdp_w=cpu_tdp_w, powercap_root=powercap_root, rapl_domains=rapl_domains, nvml=nvml, amdsmi=amdsmi,
            store=store, flush_interval_s=flush_interval_s, location=location, pue=pue,
            cloud_metadata=cloud_metadata, ip_geolocation=ip_geolocation,
        )
        self._kwargs.update(
            total_epochs=total_epochs, total_steps=total_steps, predict_after=predict_after,
            prediction_level=prediction_level, predict_every_steps=predict_every_steps, budget_kwh=budget_kwh,
            budget_g=budget_g, budget_policy=budget_policy, budget_basis=budget_basis, hyperparameters=hyperparameters,
        )
        self._kwargs.update(intensity_provider=intensity_provider, intensity_zone=intensity_zone)
        from wattprint.core.errors import check_module, check_name, check_path

        for argument, value in (("project", project), ("name", name), ("location", location),
                                ("intensity_zone", intensity_zone)):
            check_name(argument, value)
        powercap_root = check_path("powercap_root", powercap_root, many=True)
        if isinstance(store, str):
            check_path("store", store)
        check_module("nvml", nvml, ("nvmlInit", "nvmlDeviceGetCount"), "pynvml (nvidia-ml-py)")
        check_module("amdsmi", amdsmi, ("amdsmi_init",), "amdsmi")
        self.config = load_config({
            "project": project, "attribution": attribution, "interval_s": interval_s, "gpus": gpus,
            "cpu_tdp_w": cpu_tdp_w, "powercap_root": powercap_root, "rapl_domains": rapl_domains, "store": store,
            "flush_interval_s": flush_interval_s, "location": location, "pue": pue, "cloud_metadata": cloud_metadata,
            "ip_geolocation": ip_geolocation,
            "predict_after": predict_after, "prediction_level": prediction_level, "budget_kwh": budget_kwh,
            "budget_g": budget_g, "budget_policy": budget_policy, "budget_basis": budget_basis,
            "intensity_provider": intensity_provider, "intensity_zone": intensity_zone,
        })
        """Every setting and where it came from (arguments, environment, project file, user config, default)."""
        get = self.config.get
        check_name("project", get("project"), source=self.config.setting("project").source)
        self.project: str | None = get("project")  # type: ignore[assignment]
        self.name = name
        self.attribution: str = get("attribution")  # type: ignore[assignment]
        if pid is not None and (isinstance(pid, bool) or not isinstance(pid, int) or pid <= 0):
            raise ConfigError(f"pid must be a positive process id or None, got {pid!r}")
        if pid is not None and self.attribution == "machine":
            raise ConfigError("pid= only applies to attribution='process' or 'cgroup'")
        if pid is not None or self.attribution == "cgroup":
            from wattprint.measure.attribution import make_attribution

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
        self._init_training(total_epochs, total_steps, predict_every_steps, hyperparameters)
        self._intensity: Intensity | None = None
        self._intensity_lock = threading.RLock()  # reentrant: a SIGTERM handler may interrupt its holder
        self._live: LiveIntensity | None = None
        self._next_run_id: str | None = None
        self.parent_run = _parent_run()
        """The run of the ``wattprint run`` whose command this process is (None outside one): stored with the run."""
        self._repricing: threading.Event | None = None
        self._prepare_job: int | None = None
        self._check_live()
        location_setting = self.config.setting("location")
        if location_setting.value is not None:  # a location that does not exist fails now, not at the end of a job
            from wattprint.carbon import lookup_location

            lookup_location(str(location_setting.value), origin=location_setting.source)
        self.command: str | None = None
        """The command a ``wattprint run`` ran, stored with the run."""
        self.exit_code: int | None = None
        self._recorder: RunRecorder | None = None
        self._final_queued = False
        self._lock = threading.RLock()
        """Reentrant: the SIGTERM handler stops the tracker in the main thread, maybe inside a call that holds it."""
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
            self.run_id, self._next_run_id = self._next_run_id or new_run_id(), None
            self.result = None
            self._recorder = None
            self._final_queued = False
            self._start_training()
            self._start_live(self._sub)
            self._prepare_job = meter.add_job(self._prepare_footprint(), name="prepare-footprint")
            if self._intensity is None and (self.config.get("cloud_metadata") or self.config.get("ip_geolocation")):
                # Network sources answer in a background thread; results wait for them only if they are slow.
                threading.Thread(target=self._locate_in_background, name="wattprint-locate", daemon=True).start()
            url = self._store_url()
            if url is not None:
                from wattprint.sinks.recorder import RunRecorder, get_writer, track_live

                self._recorder = RunRecorder(self, url, self.flush_interval_s, self._start)
                get_writer().add(self._recorder)
                track_live(self)
        return self

    def _prepare_footprint(self) -> Callable[[], float | None]:
        """A meter job that, half a second after start, does the one-off work of a process's first footprint
        (creating the result types, resolving the location, loading the grid and PUE tables, importing the
        accounting), so that ``stop()``
        does not: it is most of a first stop's time otherwise."""
        first = True

        def job() -> float | None:
            nonlocal first
            if first:
                first = False
                return PREPARE_AFTER_S
            network = self.config.get("cloud_metadata") or self.config.get("ip_geolocation")
            if self._intensity is None and network:
                return None  # the locate thread started by start() resolves it
            try:
                import wattprint.core.results  # noqa: F401 - its dataclasses, kept off the import path of Tracker
                from wattprint.accounting.footprint import account

                account(0.0, 0.0, self.intensity(), pue=self.config.get("pue"), duration_s=0.0)  # type: ignore[arg-type]
            except Exception as error:  # noqa: BLE001 - stop() reports the problem where it belongs
                _log.debug("wattprint: preparing the footprint failed: %s", error)
            return None

        return job

    def _locate_in_background(self) -> None:
        """Resolve the location from network sources in a section that a fork waits for, since it imports modules."""
        from wattprint import _forksafe

        with _forksafe.section():
            self.intensity()

    def intensity(self) -> Intensity:
        """The grid carbon intensity runs are priced with, and how the location was decided (resolved once)."""
        with self._intensity_lock:
            if self._intensity is None:
                self._intensity = _locate(self.config)
            return self._intensity

    # -- live intensity (docs/live.md) ---------------------------------------------------------------------

    @property
    def live_intensity(self) -> LiveIntensity | None:
        """The live intensities of the current (or last) run; None unless ``intensity_provider`` names one."""
        return self._live

    def _check_live(self) -> None:
        """A live provider without its credential, a malformed zone, or a location the provider cannot serve fails
        now, not at the end of a job."""
        name = self.config.get("intensity_provider")
        if name == "none":
            return
        from wattprint.carbon.providers import check_provider_settings, provider_class, zone_for

        check_provider_settings(self.config)
        location = self.config.get("location")
        if self.config.get("intensity_zone") is None and location is not None:
            zone_for(provider_class(str(name)), location=str(location))

    def _start_live(self, sub: Subscription | None) -> None:
        """Start fetching live intensities in the meter's thread and cutting the run at period edges."""
        self._live = None
        self._repricing = None
        if self.config.get("intensity_provider") == "none" or sub is None:
            return
        from wattprint.carbon.live import live_for_config

        live = live_for_config(self.config, self.intensity)
        if live is not None:
            self._live = live.start(self._start, lambda: sub.meter.read(sub))

    def _stop_live(self, end: Snapshot | None = None, *, late: bool = True) -> None:
        """Stop fetching; if part of the run was priced with the yearly average while the provider's answer may
        still come, re-price the run (``result`` and the stored run) in the background once it lands (bounded;
        not for ``late=False``, a stop at a signal or at exit)."""
        live = self._live
        if live is None:
            return
        live.stop()
        if end is None or not late:
            return
        result, recorder = self.result, self._recorder
        resolved = result.time_resolved if result is not None else None
        if result is None or resolved is None or resolved.fallback_share <= 0:
            return
        done = threading.Event()

        def settled() -> None:
            repriced = None
            try:
                from dataclasses import replace

                from wattprint.accounting.footprint import account_intervals

                again = live.time_resolved(end, account_intervals, pue=self.config.get("pue"))  # type: ignore[arg-type]
                if again.to_dict() != resolved.to_dict():
                    repriced = replace(result, time_resolved=again)
                    with self._lock:
                        if self.result is result:
                            self.result = repriced
            except Exception:  # noqa: BLE001 - a background thread: the run keeps its first pricing
                _log.debug("wattprint: re-pricing run %s with a late live value failed", result.run_id, exc_info=True)
            finally:
                if recorder is not None:
                    recorder.late_done(end, repriced)
                done.set()

        if recorder is not None:
            recorder.expect_late()
        self._repricing = done
        if not live.settle(settled):
            if recorder is not None:
                recorder.late_done(end, None)
            done.set()

    def _time_resolved(self, end: Snapshot) -> TimeResolved | None:
        """The run priced interval by interval with the live intensities (None without a live provider)."""
        live = self._live
        if live is None:
            return None
        from wattprint.accounting.footprint import account_intervals

        return live.time_resolved(end, account_intervals, pue=self.config.get("pue"))  # type: ignore[arg-type]

    def _account(self, window: WindowResult) -> WindowResult:
        """The window with its footprint: facility energy, emissions and water at this tracker's location."""
        from dataclasses import replace

        from wattprint.accounting.footprint import account

        footprint = account(
            window.energy_kwh, window.uncertainty_rel, self.intensity(),
            pue=self.config.get("pue"), duration_s=window.duration_s,  # type: ignore[arg-type]
        )
        return replace(window, footprint=footprint)

    def _store_url(self) -> str | None:
        from wattprint.store.urls import resolve_store_url

        return resolve_store_url(self.store)

    @property
    def store_url(self) -> str | None:
        """Where this tracker's runs are stored (password masked), None when storing is off."""
        from wattprint.store.urls import mask_password

        url = self._store_url()
        return mask_password(url) if url else None

    @property
    def record_fields(self) -> dict[str, Any]:
        """Fields of the stored run that the tracker knows beyond its result (the command without credentials, or
        none with ``store_command = false``)."""
        command = self.command
        if command is not None:
            if self.config.get("store_command"):
                from wattprint.run.redact import redact_command

                command = redact_command(command)
            else:
                command = None
        return {"command": command, "exit_code": self.exit_code, "config_fingerprint": self.config_fingerprint}

    @property
    def record_extra(self) -> dict[str, Any]:
        """Data of the stored run without a column of its own: predictions, the budget, what was fingerprinted."""
        monitor = self._monitor
        extra = monitor.record() if monitor is not None else {}
        if self._fingerprint_parts:
            extra["fingerprint"] = self._fingerprint_parts
        if self.parent_run is not None:
            extra["parent_run"] = self.parent_run
        return extra

    def wait_saved(self, timeout: float | None = 30.0) -> bool:
        """Wait until the last run has been written to the store (or spooled), re-priced if a live value came after
        its end (docs/live.md); False on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        repricing = self._repricing
        if repricing is not None and not repricing.wait(timeout):
            return False
        recorder = self._recorder
        remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
        return True if recorder is None else recorder.saved.wait(remaining)

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
            end = sub.meter.read(sub)
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
        end = meter.read(sub, final=True)
        self._final = end
        for window in list(self._open.values()):
            window._finish(end)
        if self._prepare_job is not None:
            meter.remove_job(self._prepare_job)
            self._prepare_job = None
        self.result = self._result(end, status, sub)
        self._sub = None
        self._stop_live(end, late=not at_exit)
        meter.unsubscribe(sub, join=not at_exit)  # at exit the sampler thread may wait for a lock this one holds
        self._queue_final()
        return self.result

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
            return self._result(sub.meter.read(sub), "running", sub)

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

    @property
    def tasks(self) -> list[WindowResult]:
        """Finished task windows of the current (or last) run, in the order they ended."""
        with self._lock:
            done = list(self._done)
        return [w.result for w in done if w.result is not None]

    # -- epochs, steps, predictions and budgets (docs/predict.md) ------------------------------------------

    def _init_training(
        self,
        total_epochs: int | None,
        total_steps: int | None,
        every_steps: int | None,
        hyperparameters: Mapping[str, Any] | None,
    ) -> None:
        from collections.abc import Mapping

        from wattprint.predict.budget import Budget
        from wattprint.predict.prediction import check_level, check_total

        get = self.config.get
        self.total_epochs = check_total("total_epochs", total_epochs)
        self.total_steps = check_total("total_steps", total_steps)
        self._every_steps = check_total("predict_every_steps", every_steps)
        check_level(get("prediction_level"))
        self.budget = Budget(
            get("budget_kwh"), get("budget_g"), get("budget_policy"), get("budget_basis")  # type: ignore[arg-type]
        )
        """The run's energy and emissions budget, the policy when it is exceeded, and the basis of the check."""
        if hyperparameters is not None:
            from wattprint.run.fingerprint import canonical

            if not isinstance(hyperparameters, Mapping):
                raise ConfigError(f"hyperparameters must be a mapping of names to values or None, got "
                                  f"{type(hyperparameters).__name__}")
            from wattprint.core.errors import check_name

            for key in hyperparameters:
                check_name(f"hyperparameters key {key!r}"[:80], key)
            canonical(hyperparameters)  # fail now on a value that cannot be fingerprinted
        self.hyperparameters = hyperparameters
        self.config_fingerprint: str | None = None
        """SHA-256 of the hyperparameters, the git commit and the entry script (None without hyperparameters)."""
        self._fingerprint_parts: dict[str, Any] = {}
        self._monitor: TrainingMonitor | None = None

    def _start_training(self) -> None:
        """Fresh epoch/step bookkeeping and fingerprint for a run being started (under the lock)."""
        from wattprint.predict.budget import TrainingMonitor

        assert self._start is not None and self.run_id is not None
        if self.hyperparameters is not None:
            from wattprint.run.fingerprint import run_fingerprint

            self.config_fingerprint, self._fingerprint_parts = run_fingerprint(self.hyperparameters)
        self._monitor = TrainingMonitor(
            run_id=self.run_id,
            start=self._start,
            measure=self._measure_between,
            total_epochs=self.total_epochs,
            total_steps=self.total_steps,
            predict_after=int(self.config.get("predict_after")),  # type: ignore[call-overload]
            level=float(self.config.get("prediction_level")),  # type: ignore[arg-type]
            every_steps=self._every_steps,
            budget=self.budget,
        )

    def _measure_between(self, start: Snapshot, end: Snapshot) -> WindowResult:
        return self._account(window_result("cycle", start, end, self.attribution))

    def _running_monitor(self, what: str) -> TrainingMonitor:
        monitor = self._monitor
        if self._sub is None or monitor is None:
            raise TrackerStateError(
                f"run.{what}() needs a running tracker: call run.start() first or use "
                "`with wattprint.track(...) as run:`"
            )
        return monitor

    def epoch(self, *, total_epochs: int | None = None, raise_on_budget: bool = True) -> EpochWindow:
        """A window for one epoch, ``with run.epoch(): train_one_epoch()``; its end updates the predictions.

        ``total_epochs`` (here or on the tracker) is the number of epochs of the whole training. When the
        budget policy says stop, the end of the epoch raises :class:`wattprint.BudgetExceeded`
        (``raise_on_budget=False``: only ``run.should_stop`` is set).
        """
        monitor = self._running_monitor("epoch")
        return EpochWindow(self, f"epoch-{monitor.epochs.done + 1}", total_epochs, raise_on_budget)

    def epoch_end(self, *, total_epochs: int | None = None, raise_on_budget: bool = True) -> WindowResult:
        """End the current epoch (begun at the previous ``epoch_end()`` or the start of the run) and begin the
        next; returns the epoch's window. Raises :class:`wattprint.BudgetExceeded` as ``epoch()`` does."""
        monitor = self._running_monitor("epoch_end")
        end = self._edge()
        window = Window(self, f"epoch-{monitor.epochs.done + 1}")
        window._start = monitor.epoch_edge or self._start
        window._finish(end)
        self._epoch_done(end, total_epochs, raise_on_budget)
        result = window.result
        assert result is not None
        return result

    def step(
        self, count: int = 1, *, total_steps: int | None = None, raise_on_budget: bool = True
    ) -> Prediction | None:
        """Count ``count`` training steps done; returns the new prediction when this step completed a group.

        Cheap enough to call every step: the meter is read only once per group of steps (at most about 100
        groups per training, each at least about half a second, or ``predict_every_steps``). Steps predict when
        ``total_steps`` is known and ``total_epochs`` is not. Raises :class:`wattprint.BudgetExceeded` as
        ``epoch()`` does.
        """
        monitor = self._monitor
        if monitor is None or self._sub is None:
            self._running_monitor("step")
        assert monitor is not None
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise ConfigError(f"count must be a whole number of at least 1, got {count!r}")
        if not monitor.step_due(count, total_steps):
            return None
        made = len(monitor.predictions)
        self._raise_budget(monitor, monitor.step_boundary(self._edge), raise_on_budget)
        return monitor.predictions[-1] if len(monitor.predictions) > made else None

    def _epoch_done(self, end: Snapshot, total_epochs: int | None, raise_on_budget: bool) -> None:
        monitor = self._monitor
        if monitor is not None:
            self._raise_budget(monitor, monitor.epoch_done(end, total_epochs), raise_on_budget)

    @staticmethod
    def _raise_budget(monitor: TrainingMonitor, exception: BudgetExceeded | None, raise_on_budget: bool) -> None:
        if exception is not None and raise_on_budget and not monitor.raised:
            monitor.raised = True
            raise exception

    @property
    def predictions(self) -> list[Prediction]:
        """The predictions of the current (or last) run's totals, in the order they were made."""
        monitor = self._monitor
        return list(monitor.predictions) if monitor is not None else []

    @property
    def prediction(self) -> Prediction | None:
        """The latest prediction (None before the first)."""
        monitor = self._monitor
        return monitor.predictions[-1] if monitor is not None and monitor.predictions else None

    @property
    def budget_exceeded(self) -> BudgetExceeded | None:
        """The first budget excess of the current (or last) run, whatever the policy; None while within budget."""
        monitor = self._monitor
        return monitor.exceeded if monitor is not None else None

    @property
    def should_stop(self) -> bool:
        """Whether the budget policy wants the training stopped (framework callbacks stop their trainer)."""
        monitor = self._monitor
        return monitor.should_stop if monitor is not None else False

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
            hardware=tuple(meter.hardware(sub)),
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


_located: dict[tuple[object, ...], Intensity] = {}
_located_lock = threading.RLock()  # reentrant, as Tracker._intensity_lock


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
