"""Live carbon intensity for a running tracker: fetched ahead of need by the meter's thread, priced by time.

A :class:`LiveIntensity` belongs to one run. Its job in the meter's sampler thread (never the user's thread)
decides when to fetch and hands each fetch to a short-lived worker thread, so neither sensor readings nor a
tracker's stop ever wait on the network: the value of the current period (``latest``), the forecast, and now and
then the history of the run so far, which replaces estimates with better figures. The job also cuts the run's
energy into intervals at the provider's period boundaries (every hour
for Electricity Maps, half hour for the GB API, five minutes for Energi Data Service and WattTime), so each
interval lies in one period. :meth:`LiveIntensity.price` answers, without waiting, the intensity valid at an
instant and whether it is a live value, a forecast, the newest value carried a little past its period, or the
embedded yearly figure standing in for a value the provider did not give (a ``fallback``, recorded on the
interval). :meth:`LiveIntensity.time_resolved` prices the intervals through ``account_intervals`` and returns
a :class:`TimeResolved` total beside, never instead of, the location-based average footprint.

Average and marginal signals are never mixed: with a marginal provider (WattTime) intervals without a marginal
value are left out of the marginal total, and ``coverage`` says how much of the energy it covers.
"""

from __future__ import annotations

import bisect
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from wattprint import _log
from wattprint._log import warn_once
from wattprint.carbon.intensity import Intensity
from wattprint.carbon.providers.base import (
    MARGINAL,
    IntensityPoint,
    IntensityProvider,
    ProviderAuthError,
    ProviderError,
    ProviderRateLimited,
    RetryPolicy,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from wattprint.measure.meter import Snapshot

__all__ = [
    "CARRIED",
    "FALLBACK",
    "FORECAST",
    "LIVE",
    "MISSING",
    "LiveIntensity",
    "Priced",
    "PricedInterval",
    "TimeResolved",
    "live_for_config",
]

LIVE = "live"
"""Priced with the provider's value for that period."""
FORECAST = "forecast"
"""Priced with the provider's forecast for that period (no realised value was fetched)."""
CARRIED = "carried"
"""Priced with the newest value, carried past the end of its period by at most one period (at most 15 min)."""
FALLBACK = "fallback"
"""Priced with the embedded yearly average: the provider gave no value for that time."""
MISSING = "missing"
"""Marginal accounting only: no marginal value for that time, so the interval is not in the marginal total."""

MEASURED_UNCERTAINTY = 0.05
"""A provider's realised value for its period, applied to the energy used in it."""
ESTIMATED_UNCERTAINTY = 0.10
"""A value the provider marks as estimated or modelled (Electricity Maps' estimates, GB regional values)."""
FORECAST_UNCERTAINTY = 0.15
"""A forecast for the period, never replaced by a realised value."""
CARRIED_UNCERTAINTY = 0.10
"""The previous period's value used a little past its end."""

MAX_CARRY_S = 900.0
MAX_EDGE_S = 3600.0
HISTORY_EVERY_S = 3600.0
FORECAST_EVERY_S = 3600.0
FORECAST_HORIZON_S = 24 * 3600.0
BACKOFF = RetryPolicy(attempts=1, base_s=10.0, max_delay_s=600.0, max_wait_s=900.0)
MAX_NOTES = 20
WORKER_CHECK_S = 0.25
"""While a request is in flight, the meter's job looks again this often (a dict lookup, no I/O)."""
LATE_WAIT_S = 30.0
"""After a run stops, how long the answer of a request still in flight is waited for (in a background thread)
before the run is re-priced with it; each request is also bounded by the provider's own timeout."""

IN_FLIGHT = "in_flight"
NOT_ASKED = "not_asked"
PROVIDER_ERROR = "provider_error"
NO_DATA = "no_data"
TURNED_OFF = "off"
FALLBACK_REASONS = {
    IN_FLIGHT: "the provider had not answered when the run stopped",
    NOT_ASKED: "the run stopped before the provider was asked",
    PROVIDER_ERROR: "the provider failed",
    NO_DATA: "the provider gave no value for that time",
    TURNED_OFF: "live intensity was turned off for this run",
}
"""Why an interval was priced with the yearly average (``TimeResolved.fallback_reasons``), in words."""


@dataclass(frozen=True)
class Priced:
    """The intensity valid at an instant, and where it came from (``live``, ``forecast``, ``carried``,
    ``fallback``); ``point`` is the provider's value used (None for the fallback)."""

    intensity: Intensity
    status: str
    point: IntensityPoint | None = None


@dataclass(frozen=True)
class PricedInterval:
    """One interval of a run priced with the intensity valid at its midpoint. ``g_per_kwh`` and ``emissions_g``
    are None for an interval left out of a marginal total (``status="missing"``)."""

    start_s: float
    end_s: float
    energy_kwh: float
    g_per_kwh: float | None
    emissions_g: float | None
    status: str


@dataclass(frozen=True)
class TimeResolved:
    """A run's emissions priced interval by interval with a live provider's intensities.

    It stands beside the run's location-based ``footprint`` (a yearly average), never replaces it. ``kind`` is
    ``average`` or ``marginal``: a marginal total (emissions caused at the margin, WattTime) is not comparable
    with an average one. ``emissions_g`` is None when a marginal provider gave no value for any of the run.
    ``live_share``, ``forecast_share`` and ``fallback_share`` split the energy by how it was priced (for a
    marginal signal the fallback share is the part left out; ``coverage`` is the rest). ``waited_s`` is the
    time waited for a green window before the run started, ``paused_s``/``pauses`` the time the run spent
    paused at safe points while the grid was dirty. ``fallback_reasons`` splits the fallback share by why no
    live value was used (``in_flight``, ``not_asked``, ``provider_error``, ``no_data``, ``off``), largest first.
    """

    emissions_g: float | None
    emissions_uncertainty_rel: float | None
    intensity_g_per_kwh: float | None
    kind: str
    provider: str
    provider_title: str
    zone: str | None
    source: str
    licence: str
    live_share: float
    forecast_share: float
    fallback_share: float
    intervals: tuple[PricedInterval, ...] = ()
    waited_s: float | None = None
    paused_s: float = 0.0
    pauses: int = 0
    notes: tuple[str, ...] = field(default=())
    fallback_reasons: tuple[tuple[str, float], ...] = ()

    @property
    def coverage(self) -> float:
        """The share of the energy priced with the provider's values (live, carried or forecast)."""
        return max(0.0, 1.0 - self.fallback_share)

    def timeline(self, max_entries: int = 2000) -> list[list[Any]]:
        """``[start_s, end_s, g_per_kwh, status]`` per stretch of constant intensity, oldest first; neighbours
        are merged (energy-weighted) until at most ``max_entries`` remain."""
        merged: list[list[Any]] = []
        weights: list[float] = []
        for part in self.intervals:
            last = merged[-1] if merged else None
            if last is not None and last[2] == part.g_per_kwh and last[3] == part.status:
                last[1] = part.end_s
                weights[-1] += part.energy_kwh
                continue
            merged.append([part.start_s, part.end_s, part.g_per_kwh, part.status])
            weights.append(part.energy_kwh)
        while len(merged) > max_entries:
            pairs, pair_weights = [], []
            for index in range(0, len(merged), 2):
                group = merged[index:index + 2]
                group_weights = weights[index:index + 2]
                values = [g[2] for g in group if g[2] is not None]
                total = sum(group_weights)
                if values and len(values) == len(group):
                    if total > 0:
                        value = sum(g[2] * w for g, w in zip(group, group_weights, strict=True)) / total
                    else:
                        value = sum(values) / len(values)
                else:
                    value = values[0] if values else None
                statuses = {g[3] for g in group}
                pairs.append([group[0][0], group[-1][1], value, statuses.pop() if len(statuses) == 1 else "mixed"])
                pair_weights.append(total)
            merged, weights = pairs, pair_weights
        return merged

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: every field but the intervals, which become the merged ``timeline``."""
        return {
            "emissions_g": self.emissions_g,
            "emissions_uncertainty_rel": self.emissions_uncertainty_rel,
            "intensity_g_per_kwh": self.intensity_g_per_kwh,
            "kind": self.kind,
            "provider": self.provider,
            "provider_title": self.provider_title,
            "zone": self.zone,
            "source": self.source,
            "licence": self.licence,
            "live_share": self.live_share,
            "forecast_share": self.forecast_share,
            "fallback_share": self.fallback_share,
            "coverage": self.coverage,
            "intervals": len(self.intervals),
            "fallback_intervals": sum(1 for p in self.intervals if p.status in (FALLBACK, MISSING)),
            "fallback_reasons": dict(self.fallback_reasons),
            "waited_s": self.waited_s,
            "paused_s": self.paused_s,
            "pauses": self.pauses,
            "notes": list(self.notes),
            "timeline": self.timeline(),
        }


class _Interval:
    __slots__ = ("start_s", "end_s", "energy_kwh", "uncertainty_rel", "end_mono")

    def __init__(self, start_s: float, end_s: float, energy_kwh: float, uncertainty_rel: float,
                 end_mono: float) -> None:
        self.start_s = start_s
        self.end_s = end_s
        self.energy_kwh = energy_kwh
        self.uncertainty_rel = uncertainty_rel
        self.end_mono = end_mono

    def as_tuple(self) -> tuple[float, float, float, float]:
        return (self.start_s, self.end_s, self.energy_kwh, self.uncertainty_rel)


def _measure(start: Snapshot, end: Snapshot) -> _Interval:
    from wattprint.measure.windows import window_result

    window = window_result("interval", start, end, "live")
    return _Interval(start.wall_time, start.wall_time + window.duration_s, window.energy_kwh,
                     window.uncertainty_rel, end.t_monotonic)


class LiveIntensity:
    """The live intensities of one run, fetched in the background, and the run's energy cut at period edges.

    ``provider`` answers; ``zone`` is the provider's zone (None: derived from ``fallback()``'s location in the
    background); ``fallback`` returns the embedded intensity that stands in when the provider gives nothing (it
    also gives the location, PUE and ``how_located`` that live intensities keep). ``clock`` is wall time.
    """

    def __init__(
        self,
        provider: IntensityProvider,
        *,
        zone: str | None = None,
        fallback: Callable[[], Intensity],
        clock: Callable[[], float] = time.time,
        forecast: bool = True,
    ) -> None:
        self.provider = provider
        self.zone = provider.check_zone(zone) if zone is not None else None
        self._fallback = fallback
        self._static: Intensity | None = None
        self.clock = clock
        self.kind = provider.kind
        self._want_forecast = forecast and provider.has_forecast
        self._points_lock = threading.Lock()
        self._actual: dict[float, IntensityPoint] = {}
        self._forecast: dict[float, IntensityPoint] = {}
        self._actual_starts: list[float] = []
        self._forecast_starts: list[float] = []
        self._intensities: dict[tuple[object, ...], Intensity] = {}
        self._notes: list[str] = []
        self._notes_lock = threading.Lock()
        self.ready = threading.Event()
        """Set once the first fetch of the current value has been answered or has failed."""
        # fetching
        self._due: dict[str, float] = {"latest": 0.0}
        self._due_lock = threading.Lock()
        self._worker: threading.Thread | None = None
        if self._want_forecast:
            self._due["forecast"] = 0.0
        self._failures: dict[str, int] = {}
        self._disabled = False
        self.requests = 0
        # why values are missing: when the current value was last answered, and spans of failed requests
        self._answered_at: float | None = None
        self._failing_since: float | None = None
        self._failed_spans: list[tuple[float, float]] = []
        self._last_error: str | None = None
        self._stopped_at: float | None = None
        self._late_s: float | None = None
        # intervals
        self._edge_lock = threading.Lock()
        self._read: Callable[[], Snapshot] | None = None
        self._edges: deque[Snapshot] = deque(maxlen=8)
        self._first: Snapshot | None = None
        self._intervals: list[_Interval] = []
        self._next_edge = math.inf
        self._run_start_s: float | None = None
        self._stopped = False
        self._job_id: int | None = None
        # carbon-aware actions
        self.waited_s: float | None = None
        self.paused_s = 0.0
        self.pauses = 0

    # -- lifecycle -------------------------------------------------------------------------------------------

    def start(self, start: Snapshot | None = None, read: Callable[[], Snapshot] | None = None) -> LiveIntensity:
        """Begin fetching in the meter's thread; with ``start`` and ``read`` (the run's first snapshot and a
        function reading a new one) also cut the run's energy at period edges."""
        from wattprint.measure.meter import get_meter

        with self._edge_lock:
            self._stopped = False
            if start is not None and read is not None:
                self._read = read
                self._first = start
                self._edges.append(start)
                self._run_start_s = start.wall_time
                self._next_edge = self._edge_after(self.clock())
        self._job_id = get_meter().add_job(self._job, name=f"intensity:{self.provider.name}")
        return self

    def stop(self) -> None:
        """Stop fetching and cutting (waits for an edge being read, never for a request)."""
        job_id, self._job_id = self._job_id, None
        if job_id is not None:
            from wattprint.measure.meter import get_meter

            get_meter().remove_job(job_id)
        with self._edge_lock:
            self._stopped = True
            if self._stopped_at is None:
                self._stopped_at = self.clock()

    @property
    def in_flight(self) -> bool:
        """Whether a request to the provider is under way."""
        worker = self._worker
        return worker is not None and worker.is_alive()

    def settle(self, on_settled: Callable[[], None]) -> bool:
        """After :meth:`stop`, when values the run was priced without may still come (a request in flight, or the
        current value never asked for), wait for them in a background thread (at most ``LATE_WAIT_S`` and the
        provider's timeout), then call ``on_settled`` there, once, to re-price the run. Returns False, and calls
        nothing, when no value can come any more (live intensity turned off, or every request answered)."""
        if self._disabled or not self._stopped:
            return False
        worker = self._worker
        if not (worker is not None and worker.is_alive()) and not self._due_now(self.clock()):
            return False

        held = len(self._actual)

        def late() -> None:
            try:
                if worker is not None:
                    worker.join(LATE_WAIT_S)
                    if worker.is_alive():
                        return
                deadline = time.monotonic() + LATE_WAIT_S
                while not self._disabled and time.monotonic() < deadline:
                    now = self.clock()
                    what = self._due_now(now)
                    if what is None:
                        break
                    self._fetch(what, now)
                if len(self._actual) != held and self._stopped_at is not None:
                    self._late_s = max(0.0, self.clock() - self._stopped_at)
            except Exception:  # noqa: BLE001 - a background thread: log, never raise
                _log.debug("wattprint: fetching a late live value failed", exc_info=True)
            finally:
                on_settled()

        threading.Thread(target=late, name="wattprint-intensity-late", daemon=True).start()
        return True

    def _due_now(self, now: float) -> str | None:
        """The request for realised values (``latest`` or ``history``) that is due at ``now``, if any."""
        with self._due_lock:
            due = [(when, what) for what, when in self._due.items() if what != "forecast" and when <= now]
        return min(due)[1] if due else None

    def _edge_after(self, now: float) -> float:
        period = min(self.provider.period_s, MAX_EDGE_S)
        return (math.floor(now / period) + 1.0) * period

    # -- the background job ----------------------------------------------------------------------------------

    def _job(self) -> float | None:
        """One step in the meter's thread: an edge if one is due; requests that are due are handed to a worker
        thread, so neither the sensors nor a tracker's stop ever wait on the network."""
        if self._stopped:
            return None
        now = self.clock()
        if now >= self._next_edge:
            self._take_edge()
            self._next_edge = self._edge_after(self.clock())
        wake = [self._next_edge]
        if not self._disabled:
            worker = self._worker
            with self._due_lock:
                soonest = min(self._due.values(), default=math.inf)
            if worker is not None and worker.is_alive():
                wake.append(now + WORKER_CHECK_S)
            elif soonest <= now:
                self._worker = threading.Thread(target=self._fetch_due, name="wattprint-intensity", daemon=True)
                self._worker.start()
                wake.append(now + WORKER_CHECK_S)
            else:
                wake.append(soonest)
        soonest = min(wake)
        return None if soonest == math.inf else max(0.0, soonest - self.clock())

    def _fetch_due(self) -> None:
        """The worker: every request that is due, most overdue first, one at a time."""
        while not self._stopped and not self._disabled:
            now = self.clock()
            with self._due_lock:
                if not self._due:
                    return
                what, when = min(self._due.items(), key=lambda item: item[1])
            if when > now:
                return
            self._fetch(what, now)

    def _take_edge(self) -> None:
        with self._edge_lock:
            if self._stopped or self._read is None or not self._edges:
                return
            try:
                snapshot = self._read()
            except Exception:  # noqa: BLE001 - the run may be ending; the final snapshot closes the interval
                _log.debug("wattprint: reading an interval edge failed", exc_info=True)
                return
            previous = self._edges[-1]
            if snapshot.t_monotonic <= previous.t_monotonic:
                return
            self._intervals.append(_measure(previous, snapshot))
            self._edges.append(snapshot)

    def _ensure_zone(self) -> None:
        if self.zone is not None:
            return
        from wattprint.carbon.providers import zone_for
        from wattprint.core.errors import ConfigError

        try:
            self.zone = zone_for(self.provider, intensity=self.static())
        except ConfigError as error:
            self._disabled = True
            self._note(f"no live intensity: {error}")
            warn_once(f"live-zone:{self.provider.name}", f"wattprint: {error}; emissions use the yearly average")

    def _request(self, what: str, attempts: int | None) -> list[IntensityPoint]:
        assert self.zone is not None
        self.requests += 1
        now = self.clock()
        if what == "latest":
            return [self.provider.latest(self.zone, attempts=attempts)]
        if what == "forecast":
            return self.provider.forecast(self.zone, FORECAST_HORIZON_S, attempts=attempts)
        start = self._run_start_s if self._run_start_s is not None else now
        start = max(start - self.provider.period_s, now - 86400.0 + 60.0)  # the run so far, within the last day
        return self.provider.history(self.zone, start, now, attempts=attempts)

    def _fetch(self, what: str, now: float) -> None:
        self._ensure_zone()
        if self.zone is None:
            self.ready.set()
            return
        try:
            points = self._request(what, 1)
        except ProviderError as error:
            self._failed(what, error, now)
            return
        except Exception as error:  # noqa: BLE001 - never into the meter's thread
            self._failed(what, ProviderError(f"{self.provider.name}: {type(error).__name__}: {error}"), now)
            return
        finally:
            if what == "latest":
                self.ready.set()
        self._failures.pop(what, None)
        self._merge(points)
        if what == "latest":
            self._answered_at = now
            if self._failing_since is not None:
                self._failed_spans.append((self._failing_since, now))
                self._failing_since = None
        with self._due_lock:
            self._due[what] = self._next_due(what, now)
            if what == "latest" and self._run_start_s is not None and "history" not in self._due:
                # the run began before the current period (or values are missing): ask for its history now
                gap = self._uncovered(self._run_start_s, now)
                self._due["history"] = now if gap else now + HISTORY_EVERY_S

    def _uncovered(self, start: float, end: float) -> bool:
        """Whether realised values leave part of [start, end] uncovered."""
        with self._points_lock:
            cursor = start
            for key in self._actual_starts:
                point = self._actual[key]
                if point.end_s <= cursor:
                    continue
                if point.start_s > cursor:
                    return True
                cursor = point.end_s
                if cursor >= end:
                    return False
            return cursor < end

    def _next_due(self, what: str, now: float) -> float:
        if what == "latest":
            every = min(900.0, max(60.0, self.provider.period_s / 2.0))
            return (math.floor(now / every) + 1.0) * every + min(20.0, every / 10.0)
        return now + (HISTORY_EVERY_S if what == "history" else FORECAST_EVERY_S)

    def _failed(self, what: str, error: ProviderError, now: float) -> None:
        failures = self._failures.get(what, 0) + 1
        self._failures[what] = failures
        self._note(str(error))
        self._last_error = str(error)
        if self._failing_since is None:  # values since the last answer are missing for this reason
            self._failing_since = self._answered_at if self._answered_at is not None else -math.inf
        if isinstance(error, ProviderAuthError):
            if what == "latest":
                self._disabled = True
                self._note(f"{self.provider.title}: stopped asking after the refusal; emissions use the yearly "
                           "average")
            else:
                with self._due_lock:
                    self._due.pop(what, None)  # e.g. a plan without forecasts: keep the rest
        else:
            wait = BACKOFF.delay_s(failures)
            if isinstance(error, ProviderRateLimited) and error.retry_after_s is not None:
                wait = min(BACKOFF.max_wait_s, max(wait, error.retry_after_s))
            with self._due_lock:
                self._due[what] = now + wait
        warn_once(f"live-fetch:{self.provider.name}:{type(error).__name__}",
                  f"wattprint: live carbon intensity: {error}; the intervals it leaves uncovered use the yearly "
                  "average, and say so")

    def _note(self, message: str) -> None:
        with self._notes_lock:
            if message not in self._notes and len(self._notes) < MAX_NOTES:
                self._notes.append(message)

    @property
    def notes(self) -> list[str]:
        with self._notes_lock:
            return list(self._notes)

    # -- points ----------------------------------------------------------------------------------------------

    def _merge(self, points: Sequence[IntensityPoint]) -> None:
        with self._points_lock:
            for point in points:
                if point.forecast:
                    self._forecast[point.start_s] = point
                    continue
                known = self._actual.get(point.start_s)
                if known is None or known.estimated or not point.estimated:
                    self._actual[point.start_s] = point
            self._actual_starts = sorted(self._actual)
            self._forecast_starts = sorted(self._forecast)

    def add_points(self, points: Sequence[IntensityPoint]) -> None:
        """Add values fetched elsewhere (a realised value never gives way to an estimate or a forecast)."""
        self._merge(points)

    def points(self) -> list[IntensityPoint]:
        """Every value held, realised then forecast, each oldest first."""
        with self._points_lock:
            return [self._actual[s] for s in self._actual_starts] + [self._forecast[s] for s in self._forecast_starts]

    def forecast_points(self, since: float | None = None) -> list[IntensityPoint]:
        """The forecast values ending after ``since`` (default: now), oldest first."""
        since = self.clock() if since is None else since
        with self._points_lock:
            return [self._forecast[s] for s in self._forecast_starts if self._forecast[s].end_s > since]

    @staticmethod
    def _covering(starts: list[float], table: dict[float, IntensityPoint], t: float) -> IntensityPoint | None:
        index = bisect.bisect_right(starts, t) - 1
        if index >= 0:
            point = table[starts[index]]
            if point.covers(t):
                return point
        return None

    def static(self) -> Intensity:
        """The embedded intensity standing in for missing values (resolved once)."""
        if self._static is None:
            self._static = self._fallback()
        return self._static

    def price(self, t: float) -> Priced:
        """The intensity valid at Unix time ``t``, without waiting for anything."""
        with self._points_lock:
            point = self._covering(self._actual_starts, self._actual, t)
            status = LIVE
            if point is None:
                point = self._covering(self._forecast_starts, self._forecast, t)
                status = FORECAST
            if point is None and self._actual_starts:
                newest = self._actual[self._actual_starts[-1]]
                if newest.end_s <= t <= newest.end_s + min(MAX_CARRY_S, newest.duration_s):
                    point, status = newest, CARRIED
        if point is None:
            return Priced(self.static(), FALLBACK, None)
        return Priced(self._intensity(point, status), status, point)

    def fallback_reason(self, t: float) -> str:
        """Why Unix time ``t`` has no live value (one of ``FALLBACK_REASONS``)."""
        if self._disabled:
            return TURNED_OFF
        if any(start <= t <= end for start, end in self._failed_spans) or (
                self._failing_since is not None and t >= self._failing_since):
            return PROVIDER_ERROR
        answered = self._answered_at
        if answered is None or t > answered:
            if self.in_flight:
                return IN_FLIGHT
            if answered is None and self.requests == 0:
                return NOT_ASKED
        return NO_DATA

    def intensity_at(self, t: float) -> Intensity:
        """The :class:`Intensity` valid at ``t`` (for ``account_intervals``)."""
        return self.price(t).intensity

    def current(self) -> Priced:
        return self.price(self.clock())

    def _intensity(self, point: IntensityPoint, status: str) -> Intensity:
        if status == FORECAST:
            uncertainty = FORECAST_UNCERTAINTY
        elif status == CARRIED:
            uncertainty = CARRIED_UNCERTAINTY
        else:
            uncertainty = ESTIMATED_UNCERTAINTY if point.estimated else MEASURED_UNCERTAINTY
        # one Intensity per distinct figure (values repeat), found by a cheap key
        key = (point.g_per_kwh, uncertainty, point.kind, point.zone, point.basis)
        cached = self._intensities.get(key)
        if cached is not None:
            return cached
        base = self.static()
        made = replace(
            base,
            g_per_kwh=point.g_per_kwh,
            source=f"{self.provider.title} live {point.kind} ({point.zone})",
            year=None,
            kind=point.kind,
            uncertainty_rel=uncertainty,
            licence=self.provider.licence,
            basis=point.basis or "unspecified",
            notes=(),
        )
        if len(self._intensities) > 10_000:
            self._intensities.clear()
        self._intensities[key] = made
        return made

    # -- intervals and the total -----------------------------------------------------------------------------

    def _intervals_until(self, end: Snapshot) -> list[tuple[float, float, float, float]]:
        with self._edge_lock:
            done = [iv for iv in self._intervals if iv.end_mono <= end.t_monotonic]
            edges = list(self._edges)
            first = self._first
        # the edge that closed the last interval before ``end`` (an edge read after ``end`` is ignored)
        last = next((e for e in reversed(edges) if e.t_monotonic == done[-1].end_mono), None) if done else first
        result = [iv.as_tuple() for iv in done]
        if last is not None and end.t_monotonic > last.t_monotonic:
            result.append(_measure(last, end).as_tuple())
        return result

    def time_resolved(self, end: Snapshot, account: Callable[..., Any], *, pue: float | None = None) -> TimeResolved:
        """The run's emissions up to ``end`` priced interval by interval; ``account`` is
        ``wattprint.accounting.footprint.account_intervals`` (passed in: accounting is a layer above this one)."""
        return self.price_intervals(self._intervals_until(end), account, pue=pue)

    def price_intervals(self, intervals: Sequence[tuple[float, float, float, float]], account: Callable[..., Any],
                        *, pue: float | None = None) -> TimeResolved:
        """Price ``(start_s, end_s, energy_kwh, energy_uncertainty_rel)`` intervals (see :meth:`time_resolved`)."""
        priced = [self.price((iv[0] + iv[1]) / 2.0) for iv in intervals]
        memo = {(iv[0] + iv[1]) / 2.0: p.intensity for iv, p in zip(intervals, priced, strict=True)}

        def intensity_at(t: float) -> Intensity:
            found = memo.get(t)
            return found if found is not None else self.price(t).intensity

        marginal = self.kind == MARGINAL
        used = [i for i, p in enumerate(priced) if not (marginal and p.status == FALLBACK)]
        accounting = account([intervals[i] for i in used], intensity_at, pue=pue) if used or not marginal else None
        emitted: dict[int, tuple[float, float]] = {}
        if accounting is not None:
            for index, part in zip(used, accounting.intervals, strict=True):
                emitted[index] = (part.intensity_g_per_kwh, part.emissions_g)
        parts = []
        shares = {LIVE: 0.0, FORECAST: 0.0, FALLBACK: 0.0}
        total_energy = sum(iv[2] for iv in intervals)
        for index, (iv, p) in enumerate(zip(intervals, priced, strict=True)):
            status = MISSING if marginal and p.status == FALLBACK else p.status
            value, grams = emitted.get(index, (None, None))
            parts.append(PricedInterval(iv[0], iv[1], iv[2], value, grams, status))
            bucket = LIVE if p.status in (LIVE, CARRIED) else p.status
            shares[bucket] += iv[2]
        if total_energy > 0:
            shares = {k: v / total_energy for k, v in shares.items()}
        elif intervals:
            count = len(intervals)
            shares = {k: sum(1 for p in priced if (LIVE if p.status in (LIVE, CARRIED) else p.status) == k) / count
                      for k in shares}
        notes = self.notes
        reasons = self._fallback_reasons(intervals, priced, total_energy)
        if shares[FALLBACK] > 0:
            why = self._reasons_text(reasons)
            if marginal:
                notes.append(f"{shares[FALLBACK]:.0%} of the energy has no marginal value and is not in the marginal "
                             f"total (averages are never mixed in): {why}")
            else:
                notes.append(f"{shares[FALLBACK]:.0%} of the energy was priced with the yearly average "
                             f"({self.static().source}) for want of a live value: {why}")
        if self._late_s is not None:
            notes.append(f"re-priced after the run stopped: the provider's answer came {self._late_s:.1f} s after "
                         "its end")
        if shares[FORECAST] > 0:
            notes.append(f"{shares[FORECAST]:.0%} of the energy was priced with forecasts")
        total = accounting.total if accounting is not None else None
        emissions = total.emissions_g if total is not None else None
        facility = total.facility_energy_kwh if total is not None else 0.0
        return TimeResolved(
            emissions_g=emissions,
            emissions_uncertainty_rel=total.emissions_uncertainty_rel if total is not None else None,
            intensity_g_per_kwh=(emissions / facility if emissions is not None and facility > 0
                                 else (total.intensity.g_per_kwh if total is not None else None)),
            kind=self.kind,
            provider=self.provider.name,
            provider_title=self.provider.title,
            zone=self.zone,
            source=f"{self.provider.title} ({'marginal' if marginal else 'average'} signal, "
                   f"zone {self.zone or 'unknown'})",
            licence=self.provider.licence,
            live_share=shares[LIVE],
            forecast_share=shares[FORECAST],
            fallback_share=shares[FALLBACK],
            intervals=tuple(parts),
            waited_s=self.waited_s,
            paused_s=self.paused_s,
            pauses=self.pauses,
            notes=tuple(notes),
            fallback_reasons=reasons,
        )

    def _fallback_reasons(self, intervals: Sequence[tuple[float, float, float, float]], priced: Sequence[Priced],
                          total_energy: float) -> tuple[tuple[str, float], ...]:
        """The fallback share split by reason, largest first (by energy; by count when no energy was used)."""
        weights: dict[str, float] = {}
        for iv, p in zip(intervals, priced, strict=True):
            if p.status == FALLBACK:
                reason = self.fallback_reason((iv[0] + iv[1]) / 2.0)
                weights[reason] = weights.get(reason, 0.0) + (iv[2] if total_energy > 0 else 1.0)
        whole = total_energy if total_energy > 0 else float(len(intervals))
        return tuple(sorted(((r, w / whole) for r, w in weights.items()), key=lambda item: -item[1]))

    def _reasons_text(self, reasons: Sequence[tuple[str, float]]) -> str:
        parts = []
        for reason, share in reasons:
            text = FALLBACK_REASONS[reason]
            if reason == PROVIDER_ERROR and self._last_error:
                text += f" ({self._last_error})"
            parts.append(text if len(reasons) == 1 else f"{text} ({share:.0%})")
        return "; ".join(parts)

    # -- carbon-aware actions --------------------------------------------------------------------------------

    def record_wait(self, waited_s: float) -> None:
        """The run waited this long for a green window before it started."""
        self.waited_s = float(waited_s)

    def record_pause(self, paused_s: float) -> None:
        """The run paused this long at a safe point while the grid was dirty."""
        self.paused_s += float(paused_s)
        self.pauses += 1


def live_for_config(config: Any, fallback: Callable[[], Intensity]) -> LiveIntensity | None:
    """A LiveIntensity for the provider the settings name (None when ``intensity_provider`` is ``none``)."""
    from wattprint.carbon.providers import provider_from_config

    provider = provider_from_config(config)
    if provider is None:
        return None
    zone = config.get("intensity_zone")
    return LiveIntensity(provider, zone=str(zone) if zone is not None else None, fallback=fallback)

