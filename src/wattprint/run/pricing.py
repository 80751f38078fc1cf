"""Pricing a tracker's energy: where the machine is, the grid's carbon intensity (yearly or live), footprints."""

from __future__ import annotations

import threading
from collections.abc import Callable

from wattprint import _log
from wattprint.run.base import TrackerBase

TYPE_CHECKING = False
if TYPE_CHECKING:
    from wattprint.carbon import Intensity
    from wattprint.carbon.live import LiveIntensity, TimeResolved
    from wattprint.core.results import WindowResult
    from wattprint.measure.meter import Snapshot, Subscription
    from wattprint.settings.typed import Settings

PREPARE_AFTER_S = 0.5
"""When, after start, the meter's thread prepares the first footprint of a process (``_prepare_footprint``)."""


class Pricing(TrackerBase):
    """The location and intensity a tracker's runs are priced with, resolved once, and the live intensities."""

    _intensity: Intensity | None
    _intensity_lock: threading.RLock
    _live: LiveIntensity | None
    _repricing: threading.Event | None
    _prepare_job: int | None

    def _init_pricing(self) -> None:
        """Check the location and the live provider now, not at the end of a job."""
        self._intensity = None
        self._intensity_lock = threading.RLock()  # reentrant: a SIGTERM handler may interrupt its holder
        self._live = None
        self._repricing = None
        self._prepare_job = None
        self._check_live()
        location = self.settings.location
        if location is not None:  # a location that does not exist fails now, not at the end of a job
            from wattprint.carbon import lookup_location

            lookup_location(location, origin=self.settings.source("location"))

    def _prepare_footprint(self) -> Callable[[], float | None]:
        """A meter job that, half a second after start, does the one-off work of a process's first footprint
        (creating the result types, resolving the location, loading the grid and PUE tables, importing the
        accounting), so that ``stop()`` does not: it is most of a first stop's time otherwise."""
        first = True

        def job() -> float | None:
            nonlocal first
            if first:
                first = False
                return PREPARE_AFTER_S
            network = self.settings.cloud_metadata or self.settings.ip_geolocation
            if self._intensity is None and network:
                return None  # the locate thread started by start() resolves it
            try:
                import wattprint.core.results  # noqa: F401 - its dataclasses, kept off the import path of Tracker
                from wattprint.accounting.footprint import account

                account(0.0, 0.0, self.intensity(), pue=self.settings.pue, duration_s=0.0)
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
                self._intensity = _locate(self.settings)
            return self._intensity

    # -- live intensity (docs/live.md) ---------------------------------------------------------------------

    @property
    def live_intensity(self) -> LiveIntensity | None:
        """The live intensities of the current (or last) run; None unless ``intensity_provider`` names one."""
        return self._live

    def _check_live(self) -> None:
        """A live provider without its credential, a malformed zone, or a location the provider cannot serve fails
        now, not at the end of a job."""
        name = self.settings.intensity_provider
        if name == "none":
            return
        from wattprint.carbon.providers import check_provider_settings, provider_class, zone_for

        check_provider_settings(self.config)
        location = self.settings.location
        if self.settings.intensity_zone is None and location is not None:
            zone_for(provider_class(name), location=location)

    def _start_live(self, sub: Subscription | None) -> None:
        """Start fetching live intensities in the meter's thread and cutting the run at period edges."""
        self._live = None
        self._repricing = None
        if self.settings.intensity_provider == "none" or sub is None:
            return
        from wattprint.carbon.live import live_for_config

        live = live_for_config(self.config, self.intensity)
        if live is not None:
            self._live = live.start(self._start, lambda: self._scoped(sub.meter.read(sub)))

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

                again = live.time_resolved(end, account_intervals, pue=self.settings.pue)
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

        return live.time_resolved(end, account_intervals, pue=self.settings.pue)

    def _account(self, window: WindowResult) -> WindowResult:
        """The window with its footprint: facility energy, emissions and water at this tracker's location."""
        from dataclasses import replace

        from wattprint.accounting.footprint import account

        footprint = account(
            window.energy_kwh, window.uncertainty_rel, self.intensity(),
            pue=self.settings.pue, duration_s=window.duration_s,
        )
        return replace(window, footprint=footprint)


_located: dict[tuple[object, ...], Intensity] = {}
_located_lock = threading.RLock()  # reentrant, as Tracker._intensity_lock


def _locate(settings: Settings) -> Intensity:
    """Resolve the location once per process and set of settings (a cloud's metadata service is asked once)."""
    from wattprint.carbon import locate

    key = (settings.location, settings.source("location") == "argument", settings.cloud_metadata,
           settings.ip_geolocation)
    with _located_lock:
        cached = _located.get(key)
    if cached is None:
        cached = locate(config=settings.config)
        with _located_lock:
            _located[key] = cached
    return cached
