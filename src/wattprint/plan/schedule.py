"""Carbon-aware scheduling: when to start a job, waiting for a green window, and pausing at safe points.

- :func:`plan` (pure) finds, in a forecast, the start time whose window of the job's length has the lowest
  mean intensity: the rolling-window minimum of the forecast over the job's duration, exact for unevenly spaced
  points, cut by a deadline (the time the job must be finished by).
- :func:`plan_for` asks a live provider for the forecast of one or several locations and plans each.
- :func:`wait_for_green` blocks until the intensity is low (below a threshold, a percentile of the forecast,
  or at the planned best start), never past its deadline (the latest start).
- :class:`GreenPause` is called by a checkpointable training loop at safe points: it pauses while the
  intensity is above a threshold, never past its deadline, and records the time paused with the run.

Waiting and pausing happen on the caller's thread because the caller asked to wait; a tracker's own fetching
never does (it runs in the meter's thread).
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from wattprint.carbon.providers.base import (
    MARGINAL,
    IntensityPoint,
    IntensityProvider,
    ProviderError,
    format_utc,
)
from wattprint.core.errors import ConfigError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from wattprint.carbon.live import LiveIntensity
    from wattprint.run.tracker import Tracker

__all__ = [
    "GreenPause",
    "GreenWait",
    "Plan",
    "Plans",
    "parse_deadline",
    "parse_duration",
    "percentile",
    "plan",
    "plan_for",
    "wait_for_green",
]

DEFAULT_HORIZON_S = 48 * 3600.0


# -- durations and deadlines -------------------------------------------------------------------------------------

_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(d|h|m|s)", re.IGNORECASE)
_UNIT_S = {"d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0}


def parse_duration(value: object, *, what: str = "duration") -> float:
    """Seconds from ``6h``, ``90m``, ``1h30m``, ``2d``, ``45s``, ``3600`` (seconds), ``01:30:00``, a number or a
    timedelta. ConfigError naming ``what`` otherwise."""
    if isinstance(value, dt.timedelta):
        value = value.total_seconds()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if math.isfinite(value) and value >= 0:
            return float(value)
    elif isinstance(value, str) and value.strip():
        text = value.strip().lower().replace(" ", "")
        try:
            number = float(text)
        except ValueError:
            pass
        else:
            if math.isfinite(number) and number >= 0:
                return number
        if re.fullmatch(r"\d+:\d{2}(:\d{2})?", text):
            parts = [int(p) for p in text.split(":")]
            return float(parts[0] * 3600 + parts[1] * 60 + (parts[2] if len(parts) == 3 else 0))
        if re.fullmatch(r"(?:\d+(?:\.\d+)?(?:d|h|m|s))+", text):
            return sum(float(n) * _UNIT_S[u] for n, u in _PART.findall(text))
    raise ConfigError(f"{what} {value!r} is not a duration: use e.g. '6h', '90m', '1h30m', '2d' or seconds")


def parse_deadline(value: object, *, now: float | None = None, what: str = "deadline") -> float:
    """A deadline as Unix seconds, from an ISO 8601 time (``2026-11-24T06:00``, ``...Z``, ``...+01:00``; without
    an offset it is local time), a duration from now (``12h``, a timedelta), a datetime (naive: local time), or
    Unix seconds. ConfigError otherwise."""
    now = time.time() if now is None else now
    if isinstance(value, dt.datetime):
        return value.timestamp()
    if isinstance(value, dt.timedelta):
        return now + value.total_seconds()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if math.isfinite(value) and value >= 1e9:
            return float(value)
        raise ConfigError(f"{what} {value!r}: a number is taken as Unix seconds; for a duration from now pass "
                          "'12h' or a timedelta")
    if isinstance(value, str) and value.strip():
        text = value.strip()
        try:
            return now + parse_duration(text, what=what)
        except ConfigError:
            pass
        iso = text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text
        try:
            moment = dt.datetime.fromisoformat(iso)
        except ValueError:
            pass
        else:
            return moment.timestamp()  # naive: local time
    raise ConfigError(f"{what} {value!r} is neither a time (2026-11-24T06:00, 2026-11-24T06:00Z) nor a duration "
                      "from now (12h, 90m)")


def percentile(values: Sequence[float], percent: float) -> float:
    """The nearest-rank ``percent``-th percentile (0-100) of ``values``."""
    if not values:
        raise ConfigError("a percentile needs at least one value")
    if isinstance(percent, bool) or not isinstance(percent, (int, float)) or not 0 <= percent <= 100:
        raise ConfigError(f"percentile must be between 0 and 100, got {percent!r}")
    ordered = sorted(values)
    rank = max(1, math.ceil(percent / 100.0 * len(ordered)))
    return ordered[rank - 1]


# -- planning ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """The best start for a job of ``duration_s`` and what it saves against starting now.

    Times are Unix seconds. ``mean_g_per_kwh`` is the forecast's mean intensity over the best window,
    ``now_mean_g_per_kwh`` over the window starting now; ``saving_rel`` is 1 - best / now. ``extrapolated_s`` is
    the part of the best window the forecast does not cover (priced at the forecast's mean). With
    ``energy_kwh`` (the job's facility energy) the emissions are given too. ``kind`` is the signal's
    (``marginal`` plans minimise the emissions caused at the margin).
    """

    duration_s: float
    now_s: float
    start_s: float
    mean_g_per_kwh: float
    now_mean_g_per_kwh: float
    deadline_s: float | None
    horizon_end_s: float
    extrapolated_s: float
    kind: str
    energy_kwh: float | None = None
    location: str | None = None
    zone: str | None = None
    provider: str | None = None
    notes: tuple[str, ...] = ()

    @property
    def end_s(self) -> float:
        return self.start_s + self.duration_s

    @property
    def wait_s(self) -> float:
        """How long to wait before starting."""
        return max(0.0, self.start_s - self.now_s)

    @property
    def saving_rel(self) -> float:
        if self.now_mean_g_per_kwh <= 0:
            return 0.0
        return 1.0 - self.mean_g_per_kwh / self.now_mean_g_per_kwh

    @property
    def expected_emissions_g(self) -> float | None:
        return self.energy_kwh * self.mean_g_per_kwh if self.energy_kwh is not None else None

    @property
    def now_emissions_g(self) -> float | None:
        return self.energy_kwh * self.now_mean_g_per_kwh if self.energy_kwh is not None else None

    @property
    def saving_g(self) -> float | None:
        if self.energy_kwh is None:
            return None
        return self.energy_kwh * (self.now_mean_g_per_kwh - self.mean_g_per_kwh)

    def to_dict(self) -> dict[str, Any]:
        return {
            "location": self.location,
            "zone": self.zone,
            "provider": self.provider,
            "kind": self.kind,
            "duration_s": self.duration_s,
            "now": format_utc(self.now_s),
            "start": format_utc(self.start_s),
            "end": format_utc(self.end_s),
            "wait_s": self.wait_s,
            "deadline": format_utc(self.deadline_s) if self.deadline_s is not None else None,
            "horizon_end": format_utc(self.horizon_end_s),
            "mean_g_per_kwh": self.mean_g_per_kwh,
            "now_mean_g_per_kwh": self.now_mean_g_per_kwh,
            "saving_rel": self.saving_rel,
            "energy_kwh": self.energy_kwh,
            "expected_emissions_g": self.expected_emissions_g,
            "now_emissions_g": self.now_emissions_g,
            "saving_g": self.saving_g,
            "extrapolated_s": self.extrapolated_s,
            "notes": list(self.notes),
        }


class _Profile:
    """A forecast as a step function of time with its running integral; times it does not cover take the
    forecast's time-weighted mean (and count as extrapolated)."""

    def __init__(self, points: Sequence[IntensityPoint], now: float) -> None:
        ordered = sorted(points, key=lambda p: (p.start_s, p.end_s))
        segments: list[tuple[float, float, float]] = []
        for point in ordered:
            if point.end_s <= point.start_s:
                continue
            start = point.start_s
            if segments and start < segments[-1][1]:  # overlapping points: the later one wins from its start
                a, _, g = segments[-1]
                segments[-1] = (a, start, g)
                if segments[-1][1] <= a:
                    segments.pop()
            segments.append((start, point.end_s, point.g_per_kwh))
        if not segments:
            raise ConfigError("the forecast has no period of positive length")
        ahead = [(max(a, now), b, g) for a, b, g in segments if b > now] or segments
        length = sum(b - a for a, b, _ in ahead)
        self.filler = sum((b - a) * g for a, b, g in ahead) / length
        self.horizon_start = segments[0][0]
        self.horizon_end = segments[-1][1]
        # knots: every segment and gap, each as (start, value, extrapolated)
        self.starts: list[float] = []
        self.values: list[float] = []
        self.extra: list[bool] = []
        cursor = min(now, self.horizon_start)
        for a, b, g in segments:
            if a > cursor:
                self._add(cursor, self.filler, True)
            self._add(a, g, False)
            cursor = b
        self._add(cursor, self.filler, True)  # beyond the horizon
        self.integral = [0.0]
        self.extrapolated = [0.0]
        for i in range(len(self.starts) - 1):
            width = self.starts[i + 1] - self.starts[i]
            self.integral.append(self.integral[-1] + width * self.values[i])
            self.extrapolated.append(self.extrapolated[-1] + (width if self.extra[i] else 0.0))

    def _add(self, start: float, value: float, extrapolated: bool) -> None:
        if self.starts and start <= self.starts[-1]:
            self.starts.pop(), self.values.pop(), self.extra.pop()
        self.starts.append(start)
        self.values.append(value)
        self.extra.append(extrapolated)

    def _cumulative(self, t: float) -> tuple[float, float]:
        """The integral of intensity and the extrapolated seconds from the first knot to ``t``."""
        i = max(0, bisect.bisect_right(self.starts, t) - 1)
        width = t - self.starts[i]
        return (self.integral[i] + width * self.values[i],
                self.extrapolated[i] + (width if self.extra[i] else 0.0))

    def window(self, start: float, duration: float) -> tuple[float, float]:
        """Mean intensity over [start, start + duration] and its extrapolated seconds."""
        a, ea = self._cumulative(start)
        b, eb = self._cumulative(start + duration)
        return (b - a) / duration, eb - ea

    def breakpoints(self) -> list[float]:
        return list(self.starts)


def plan(
    duration_s: float | str | dt.timedelta,
    forecast_points: Sequence[IntensityPoint],
    deadline: object = None,
    *,
    now: float | None = None,
    energy_kwh: float | None = None,
    location: str | None = None,
) -> Plan:
    """The start in ``[now, deadline - duration]`` with the lowest mean forecast intensity over the job.

    The mean over a window is piecewise linear in its start, so the minimum lies where the window's start or
    end meets a period boundary: those candidates (and now) are evaluated exactly, which handles uneven point
    spacing and gaps. ``deadline`` is when the job must be finished (ISO time, duration from now, datetime or
    Unix seconds); None: the forecast's horizon bounds the start. A job longer than what the forecast covers
    is priced at the forecast's mean beyond it (``extrapolated_s``). Ties go to the earliest start. When the
    deadline leaves no room, the plan is to start now and says so.
    """
    duration = parse_duration(duration_s, what="duration")
    if duration <= 0:
        raise ConfigError(f"duration must be more than 0 s, got {duration_s!r}")
    if not forecast_points:
        raise ConfigError("plan() needs forecast points: the provider gave none")
    kinds = {p.kind for p in forecast_points}
    if len(kinds) > 1:
        raise ConfigError("the forecast mixes average and marginal values; plan one signal at a time")
    kind = kinds.pop()
    now = time.time() if now is None else float(now)
    deadline_s = parse_deadline(deadline, now=now) if deadline is not None else None
    if energy_kwh is not None and (isinstance(energy_kwh, bool) or not isinstance(energy_kwh, (int, float))
                                   or not math.isfinite(energy_kwh) or energy_kwh < 0):
        raise ConfigError(f"energy_kwh must be a number of at least 0, got {energy_kwh!r}")
    profile = _Profile(forecast_points, now)
    notes: list[str] = []
    latest = max(now, profile.horizon_end - duration)
    if profile.horizon_end - duration < now:
        latest = max(now, profile.horizon_end)  # a job longer than the forecast: any start within it
        notes.append(f"the job is longer than the forecast ({format_utc(profile.horizon_end)}); beyond it the "
                     f"forecast's mean ({profile.filler:.4g} gCO2e/kWh) is assumed")
    if deadline_s is not None:
        if deadline_s - duration < now:
            latest = now
            notes.append("the deadline leaves no room to wait: start now"
                         + (" (the job will end after the deadline)" if deadline_s < now + duration else ""))
        else:
            latest = min(latest, deadline_s - duration)
    candidates = {now, latest}
    for knot in profile.breakpoints():
        for start in (knot, knot - duration):
            if now <= start <= latest:
                candidates.add(start)
    best_start, best_mean, best_extra = now, *profile.window(now, duration)
    now_mean = best_mean
    for start in sorted(candidates):
        mean, extra = profile.window(start, duration)
        if mean < best_mean - 1e-9 * max(1.0, abs(best_mean)):
            best_start, best_mean, best_extra = start, mean, extra
    if profile.horizon_start > now:
        notes.append(f"the forecast starts at {format_utc(profile.horizon_start)}; before that its mean is assumed")
    if kind == MARGINAL:
        notes.append("marginal signal: the plan minimises the emissions caused at the margin (not the average)")
    return Plan(
        duration_s=duration,
        now_s=now,
        start_s=best_start,
        mean_g_per_kwh=best_mean,
        now_mean_g_per_kwh=now_mean,
        deadline_s=deadline_s,
        horizon_end_s=profile.horizon_end,
        extrapolated_s=best_extra,
        kind=kind,
        energy_kwh=float(energy_kwh) if energy_kwh is not None else None,
        location=location,
        zone=forecast_points[0].zone,
        provider=forecast_points[0].provider,
        notes=tuple(notes),
    )


@dataclass(frozen=True)
class Plans:
    """Plans for several locations, best first, and the locations that could not be planned (with why)."""

    plans: tuple[Plan, ...]
    failures: tuple[tuple[str, str], ...] = ()

    @property
    def best(self) -> Plan | None:
        return self.plans[0] if self.plans else None

    def to_dict(self) -> dict[str, Any]:
        best = self.best
        return {
            "best": best.to_dict() if best is not None else None,
            "plans": [p.to_dict() for p in self.plans],
            "failures": [{"location": where, "error": why} for where, why in self.failures],
        }


def _provider(provider: IntensityProvider | str | None, config: Any) -> IntensityProvider:
    from wattprint.carbon.providers import provider_from_config
    from wattprint.settings.config import load_config

    if isinstance(provider, IntensityProvider):
        return provider
    if isinstance(provider, str):
        config = load_config({"intensity_provider": provider})
    elif config is None:
        config = load_config()
    found = provider_from_config(config)
    if found is None:
        from wattprint.carbon.providers import provider_words
        from wattprint.settings.hints import docs, setting

        raise ConfigError(f"carbon-aware scheduling needs a live provider: {setting('intensity_provider')} "
                          f"({provider_words()}; see {docs('live')})")
    return found


def _targets(provider: IntensityProvider, locations: Sequence[str] | str | None, zone: str | None,
             config: Any) -> list[tuple[str, str | None, str | Exception]]:
    """(label, location, provider zone or the error) for each place to plan."""
    from wattprint.carbon.providers import zone_for
    from wattprint.settings.config import load_config

    if isinstance(locations, str):
        locations = [locations]
    if zone is not None:
        return [(zone, None, provider.check_zone(zone))]
    if not locations:
        config = config if config is not None else load_config()
        configured_zone = config.get("intensity_zone")
        if configured_zone is not None:
            return [(str(configured_zone), None, provider.check_zone(str(configured_zone)))]
        location = config.get("location")
        if location is None:
            from wattprint.settings.hints import name

            raise ConfigError(f"say where to plan: {name('location')} or {name('zone')}, or set location (or "
                              "intensity_zone) in wattprint.toml or the environment (WATTPRINT_LOCATION)")
        locations = [str(location)]
    targets: list[tuple[str, str | None, str | Exception]] = []
    for location in locations:
        try:
            targets.append((location, location, zone_for(provider, location=location)))
        except ConfigError as error:
            targets.append((location, location, error))
    return targets


def plan_for(
    locations: Sequence[str] | str | None = None,
    duration_s: float | str | dt.timedelta = 3600.0,
    deadline: object = None,
    *,
    provider: IntensityProvider | str | None = None,
    zone: str | None = None,
    energy_kwh: float | None = None,
    now: float | None = None,
    config: Any = None,
) -> Plans:
    """Plan a job in each of ``locations`` (location keys such as ``DE``, ``em:DK-DK1``, ``GB``; or one provider
    ``zone``; default: the configured location or zone) with the forecasts of ``provider`` (an instance, a name,
    or the ``intensity_provider`` setting). Locations the provider cannot serve, or whose forecast fails, are in
    ``failures``; the others are sorted by their best mean intensity."""
    duration = parse_duration(duration_s, what="duration")
    source = _provider(provider, config)
    now = time.time() if now is None else now
    deadline_s = parse_deadline(deadline, now=now) if deadline is not None else None
    horizon = DEFAULT_HORIZON_S if deadline_s is None else max(source.period_s, deadline_s - now)
    plans: list[Plan] = []
    failures: list[tuple[str, str]] = []
    for label, location, target in _targets(source, locations, zone, config):
        if isinstance(target, Exception):
            failures.append((label, str(target)))
            continue
        try:
            points = source.forecast(target, horizon)
            plans.append(plan(duration, points, deadline_s, now=now, energy_kwh=energy_kwh, location=location))
        except (ProviderError, ConfigError) as error:
            failures.append((label, str(error)))
    plans.sort(key=lambda p: (p.mean_g_per_kwh, p.start_s))
    return Plans(tuple(plans), tuple(failures))


# -- waiting -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GreenWait:
    """How a wait for a green window ended.

    ``reason`` is ``green`` (the intensity fell to the threshold), ``planned`` (the planned best start came),
    ``deadline`` (the deadline came first) or ``no data`` (the provider gave nothing: waiting blind would only
    delay the job, so it starts). ``g_per_kwh`` is the intensity at the start when known.
    """

    started_s: float
    waited_s: float
    reason: str
    g_per_kwh: float | None
    threshold_g_per_kwh: float | None
    kind: str
    zone: str | None
    provider: str
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "started": format_utc(self.started_s), "waited_s": self.waited_s, "reason": self.reason,
            "g_per_kwh": self.g_per_kwh, "threshold_g_per_kwh": self.threshold_g_per_kwh, "kind": self.kind,
            "zone": self.zone, "provider": self.provider, "notes": list(self.notes),
        }


def _check_threshold(threshold: object, name: str = "threshold_g_per_kwh") -> float | None:
    if threshold is None:
        return None
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0 <= threshold <= 5000:
        raise ConfigError(f"{name} must be a number of gCO2e/kWh between 0 and 5000, got {threshold!r}")
    return float(threshold)


def _check_poll(poll_s: object) -> float:
    if isinstance(poll_s, bool) or not isinstance(poll_s, (int, float)) or not 0.001 <= poll_s <= 86400:
        raise ConfigError(f"poll_s must be a number of seconds between 0.001 and 86400, got {poll_s!r}")
    return float(poll_s)


def wait_for_green(
    threshold_g_per_kwh: float | None = None,
    *,
    deadline: object,
    percentile_of_forecast: float | None = None,
    duration_s: float | str | dt.timedelta | None = None,
    location: str | None = None,
    zone: str | None = None,
    provider: IntensityProvider | str | None = None,
    poll_s: float = 300.0,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.time,
    config: Any = None,
) -> GreenWait:
    """Block until the grid is green enough to start, at the latest until ``deadline`` (the latest start).

    Green means: the current intensity is at most ``threshold_g_per_kwh``; or, with
    ``percentile_of_forecast`` (0-100), at most that percentile of the forecast up to the deadline; or, with
    neither, that the planned best start for a job of ``duration_s`` (default: one provider period) has come
    (:func:`plan`, finishing by ``deadline`` + ``duration_s``). The provider is checked every ``poll_s``
    (answers are cached). When the provider gives nothing the wait ends at once (``reason="no data"``).
    ``sleep`` and ``clock`` are injectable for tests.
    """
    threshold = _check_threshold(threshold_g_per_kwh)
    poll = _check_poll(poll_s)
    if threshold is not None and percentile_of_forecast is not None:
        raise ConfigError("give threshold_g_per_kwh or percentile_of_forecast, not both")
    source = _provider(provider, config)
    begun = clock()
    deadline_s = parse_deadline(deadline, now=begun)
    label, _, target = _targets(source, [location] if location else None, zone, config)[0]
    if isinstance(target, Exception):
        raise target
    notes: list[str] = []

    def done(reason: str, value: float | None, limit: float | None) -> GreenWait:
        now = clock()
        return GreenWait(now, max(0.0, now - begun), reason, value, limit, source.kind, target, source.name,
                         tuple(notes))

    if threshold is None and percentile_of_forecast is None:
        duration = parse_duration(duration_s, what="duration_s") if duration_s is not None else source.period_s
        while True:
            now = clock()
            try:
                points = source.forecast(target, max(source.period_s, deadline_s + duration - now))
                best = plan(duration, points, deadline_s + duration, now=now)
            except (ProviderError, ConfigError) as error:
                notes.append(str(error))
                return done("no data", None, None)
            if best.start_s <= now + 1.0 or now >= deadline_s:
                value = _current(source, target, notes)
                return done("planned" if now < deadline_s else "deadline", value, None)
            sleep(min(poll, best.start_s - now, max(0.0, deadline_s - now)))
    if percentile_of_forecast is not None:
        try:
            points = source.forecast(target, max(source.period_s, deadline_s - begun))
            values = [p.g_per_kwh for p in points if p.end_s > begun and p.start_s < deadline_s]
            threshold = percentile(values, percentile_of_forecast)
        except (ProviderError, ConfigError) as error:
            notes.append(str(error))
            return done("no data", None, None)
        notes.append(f"threshold {threshold:.4g} gCO2e/kWh: the {percentile_of_forecast:g}th percentile of "
                     f"{len(values)} forecast values")
    assert threshold is not None
    while True:
        value = _current(source, target, notes)
        now = clock()
        if value is None:
            return done("no data", None, threshold)
        if value <= threshold:
            return done("green", value, threshold)
        if now >= deadline_s:
            return done("deadline", value, threshold)
        sleep(min(poll, deadline_s - now))


def _current(provider: IntensityProvider, zone: str, notes: list[str]) -> float | None:
    try:
        return provider.latest(zone).g_per_kwh
    except ProviderError as error:
        if str(error) not in notes:
            notes.append(str(error))
        return None


# -- pausing -------------------------------------------------------------------------------------------------------


class GreenPause:
    """Pause a checkpointable loop at safe points while the grid is dirty: ``pause = GreenPause(run,
    threshold_g_per_kwh=200, deadline="8h")``, then ``pause()`` after each checkpoint.

    A call returns at once when the intensity is at most the threshold (or ``percentile_of_forecast`` of the
    forecast up to the deadline), when nothing is known, or once the deadline (the time after which the job
    never pauses) has passed; otherwise it sleeps, checking every ``poll_s``, until one of these holds or
    ``max_pause_s`` of pausing in all is used. With a running tracker ``run`` (whose ``intensity_provider`` is
    set) it reads the live values the tracker's background fetching keeps current, so a check costs no request,
    and the time paused is stored with the run; without one it asks ``provider`` (or the configured one) in this
    thread, cached. ``paused_s`` and ``pauses`` total the pauses.
    """

    def __init__(
        self,
        run: Tracker | None = None,
        *,
        deadline: object,
        threshold_g_per_kwh: float | None = None,
        percentile_of_forecast: float | None = None,
        poll_s: float = 60.0,
        max_pause_s: float | None = None,
        provider: IntensityProvider | str | None = None,
        zone: str | None = None,
        location: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        config: Any = None,
    ) -> None:
        self.threshold_g_per_kwh = _check_threshold(threshold_g_per_kwh)
        if (self.threshold_g_per_kwh is None) == (percentile_of_forecast is None):
            raise ConfigError("GreenPause needs threshold_g_per_kwh or percentile_of_forecast (one of them)")
        if percentile_of_forecast is not None:
            percentile([0.0], percentile_of_forecast)  # checks the range
        self.percentile_of_forecast = percentile_of_forecast
        self.poll_s = _check_poll(poll_s)
        self.max_pause_s = None if max_pause_s is None else parse_duration(max_pause_s, what="max_pause_s")
        self.sleep = sleep
        self.clock = clock
        self.deadline_s = parse_deadline(deadline, now=clock())
        self.run = run
        self._live: LiveIntensity | None = None
        self._provider: IntensityProvider | None = None
        self._zone: str | None = None
        if run is not None:
            if run.config.get("intensity_provider") == "none":
                from wattprint.settings.hints import docs

                raise ConfigError(f"GreenPause(run) needs the run's intensity_provider to be set (see {docs('live')})")
        else:
            self._provider = _provider(provider, config)
            _, _, target = _targets(self._provider, [location] if location else None, zone, config)[0]
            if isinstance(target, Exception):
                raise target
            self._zone = target
        self.paused_s = 0.0
        self.pauses = 0
        self.notes: list[str] = []

    def _live_values(self) -> LiveIntensity | None:
        if self.run is None:
            return None
        live = self.run.live_intensity
        if live is None:
            from wattprint.core.errors import TrackerStateError

            raise TrackerStateError("GreenPause: the run is not running; call pause() inside the tracked block")
        return live

    def current(self) -> float | None:
        """The intensity now (None when unknown)."""
        live = self._live_values()
        if live is not None:
            from wattprint.carbon.live import FALLBACK

            priced = live.current()
            return None if priced.status == FALLBACK else priced.intensity.g_per_kwh
        assert self._provider is not None and self._zone is not None
        return _current(self._provider, self._zone, self.notes)

    def threshold(self) -> float | None:
        """The threshold now: the one given, or the percentile of the forecast up to the deadline."""
        if self.threshold_g_per_kwh is not None:
            return self.threshold_g_per_kwh
        assert self.percentile_of_forecast is not None
        now = self.clock()
        live = self._live_values()
        try:
            if live is not None:
                points = live.forecast_points(now)
            else:
                assert self._provider is not None and self._zone is not None
                points = self._provider.forecast(self._zone, max(self._provider.period_s, self.deadline_s - now))
        except ProviderError as error:
            self.notes.append(str(error))
            return None
        values = [p.g_per_kwh for p in points if p.end_s > now and p.start_s < self.deadline_s]
        return percentile(values, self.percentile_of_forecast) if values else None

    def __call__(self) -> float:
        """Pause here while the grid is dirty (see the class); returns the seconds paused by this call."""
        begun = self.clock()
        if begun >= self.deadline_s or (self.max_pause_s is not None and self.paused_s >= self.max_pause_s):
            return 0.0
        limit = self.threshold()
        value = self.current()
        if limit is None or value is None or value <= limit:
            return 0.0
        while True:
            now = self.clock()
            remaining = self.deadline_s - now
            if self.max_pause_s is not None:
                remaining = min(remaining, self.max_pause_s - self.paused_s - (now - begun))
            if remaining <= 0:
                break
            self.sleep(min(self.poll_s, remaining))
            value = self.current()
            if value is None or value <= limit:
                break
        paused = max(0.0, self.clock() - begun)
        self.paused_s += paused
        self.pauses += 1
        live = self._live_values()
        if live is not None:
            live.record_pause(paused)
        return paused

    check = __call__
