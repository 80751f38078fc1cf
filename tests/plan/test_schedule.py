"""Carbon-aware scheduling: plans on synthetic forecasts with known optima, the deadline cases, waiting for a
green window and pausing at safe points (injected sleeps and clocks), and ``wattprint plan`` against a real HTTP
server on 127.0.0.1."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import wattprint
from tests.fakes.provider_server import ReplayServer, Reply, Seen, provider
from wattprint.carbon.providers import IntensityPoint
from wattprint.core.errors import ConfigError
from wattprint.plan.schedule import (
    GreenPause,
    parse_deadline,
    parse_duration,
    percentile,
    plan,
    plan_for,
    wait_for_green,
)

WATTPRINT = str(Path(sys.executable).with_name("wattprint"))
H = 3600.0
T0 = 1_800_000_000.0  # 2027-01-15T08:00:00Z, a whole hour


@pytest.fixture
def server() -> Iterator[ReplayServer]:
    with ReplayServer() as running:
        yield running


def hourly(values: list[float], start: float = T0, *, kind: str = "average", step: float = H) -> list[IntensityPoint]:
    return [IntensityPoint(start + i * step, start + (i + 1) * step, v, kind, "Z", "test", "test", forecast=True)
            for i, v in enumerate(values)]


def brute_force(points: list[IntensityPoint], duration: float, earliest: float, latest: float,
                step: float = 60.0) -> float:
    """The lowest window mean found by trying every start ``step`` apart (the forecast must cover the windows)."""
    def mean(start: float) -> float:
        total = 0.0
        for p in points:
            total += max(0.0, min(p.end_s, start + duration) - max(p.start_s, start)) * p.g_per_kwh
        return total / duration

    best, start = mean(earliest), earliest
    while start <= latest:
        best = min(best, mean(start))
        start += step
    return min(best, mean(latest))


# -- plan() ----------------------------------------------------------------------------------------------------


def test_the_best_window_is_the_rolling_minimum_of_the_forecast_mean() -> None:
    forecast = hourly([300, 200, 100, 150, 400, 50, 60, 500])
    best = plan("2h", forecast, now=T0, energy_kwh=10.0)
    # two-hour means from each hour: 250, 150, 125, 275, 225, 55, 280
    assert best.start_s == T0 + 5 * H and best.wait_s == 5 * H
    assert best.mean_g_per_kwh == pytest.approx(55.0) and best.now_mean_g_per_kwh == pytest.approx(250.0)
    assert best.saving_rel == pytest.approx(1 - 55 / 250)
    assert (best.expected_emissions_g, best.now_emissions_g, best.saving_g) == pytest.approx((550.0, 2500.0, 1950.0))
    assert best.extrapolated_s == 0.0 and best.kind == "average" and best.notes == ()


def test_a_deadline_cuts_the_search() -> None:
    forecast = hourly([300, 200, 100, 150, 400, 50, 60, 500])
    best = plan(2 * H, forecast, T0 + 5 * H, now=T0)  # must end by 5 h: start by 3 h
    assert best.start_s == T0 + 2 * H and best.mean_g_per_kwh == pytest.approx(125.0)
    assert best.deadline_s == T0 + 5 * H and best.end_s <= best.deadline_s


def test_start_now_is_best_on_a_rising_forecast() -> None:
    best = plan(3 * H, hourly([100, 120, 140, 160, 180, 200]), now=T0 + 600)
    assert best.start_s == T0 + 600 and best.wait_s == 0.0 and best.saving_rel == 0.0


def test_ties_go_to_the_earliest_start() -> None:
    best = plan(H, hourly([300, 100, 100, 100, 300]), now=T0)
    assert best.start_s == T0 + H


def test_uneven_spacing_and_window_ends_on_edges_match_brute_force() -> None:
    widths = [1800, 7200, 900, 900, 3600, 600, 5400, 1800, 2700, 3600]
    values = [220, 180, 40, 400, 90, 30, 250, 60, 70, 300]
    forecast, start = [], T0
    for width, value in zip(widths, values, strict=True):
        forecast.append(IntensityPoint(start, start + width, value, "average", "Z", "t", "t"))
        start += width
    horizon = start
    for duration in (1200.0, 3000.0, 2 * H, 5 * H):
        best = plan(duration, forecast, now=T0)
        assert best.mean_g_per_kwh <= brute_force(forecast, duration, T0, horizon - duration) + 1e-9
        assert best.mean_g_per_kwh == pytest.approx(brute_force(forecast, duration, T0, horizon - duration,
                                                                step=1.0), abs=0.05)
    # the best 20 minutes straddle the 30 g (600 s) and the 90 g periods, ending where 30 ends
    best = plan(1200.0, forecast, now=T0)
    assert best.end_s == T0 + sum(widths[:6]) and best.mean_g_per_kwh == pytest.approx((600 * 90 + 600 * 30) / 1200)


def test_a_job_longer_than_the_horizon_is_priced_at_the_forecasts_mean_beyond_it() -> None:
    forecast = hourly([400, 400, 100, 100])  # mean 250
    best = plan(6 * H, forecast, now=T0)
    # start at 2 h: 100 + 100, then four hours at the mean 250 -> 200 g/kWh; now: 400 + 400 + 100 + 100 + 2 x 250
    assert best.start_s == T0 + 2 * H and best.mean_g_per_kwh == pytest.approx((200 + 4 * 250) / 6)
    assert best.now_mean_g_per_kwh == pytest.approx((1000 + 500) / 6)
    assert best.extrapolated_s == 4 * H
    assert any("longer than the forecast" in note for note in best.notes)


def test_a_deadline_that_leaves_no_room_means_start_now() -> None:
    best = plan(4 * H, hourly([400, 10, 10, 10, 10, 10]), T0 + 3 * H, now=T0)
    assert best.start_s == T0 and any("no room to wait" in note and "after the deadline" in note
                                      for note in best.notes)


def test_a_forecast_starting_later_and_gaps_are_filled_with_its_mean() -> None:
    forecast = hourly([100, 300], start=T0 + H) + hourly([50], start=T0 + 4 * H)  # a gap from 3 h to 4 h
    best = plan(H, forecast, now=T0)
    assert best.start_s == T0 + 4 * H and best.mean_g_per_kwh == 50.0
    gap = plan(H, forecast, now=T0 + 2.5 * H, deadline=T0 + 4 * H)
    # from now: half an hour at 300, the gap, then 50: the gap is priced at the mean of what is ahead (133.3),
    # lower than starting now (216.7), and is said to be extrapolated
    assert gap.start_s == T0 + 3 * H and gap.extrapolated_s == H
    assert gap.mean_g_per_kwh == pytest.approx((0.5 * 300 + 50) / 1.5)
    assert gap.now_mean_g_per_kwh == pytest.approx(0.5 * 300 + 0.5 * (0.5 * 300 + 50) / 1.5)
    assert any("starts at" in n for n in plan(H, forecast, now=T0).notes)


def test_bad_plans_are_refused() -> None:
    with pytest.raises(ConfigError, match="forecast points"):
        plan(H, [], now=T0)
    with pytest.raises(ConfigError, match="more than 0"):
        plan(0, hourly([1, 2]), now=T0)
    with pytest.raises(ConfigError, match="mixes average and marginal"):
        plan(H, hourly([1]) + hourly([2], start=T0 + H, kind="marginal"), now=T0)
    marginal = plan(H, hourly([5, 1], kind="marginal"), now=T0)
    assert marginal.kind == "marginal" and any("marginal" in n for n in marginal.notes)


def test_durations_deadlines_and_percentiles_are_parsed() -> None:
    assert [parse_duration(v) for v in ("6h", "90m", "1h30m", "2d", "45s", "3600", "01:30", 12, dt.timedelta(
        minutes=2))] == [21600, 5400, 5400, 172800, 45, 3600, 5400, 12, 120]
    with pytest.raises(ConfigError, match="not a duration"):
        parse_duration("soon")
    assert parse_deadline("12h", now=T0) == T0 + 12 * H
    assert parse_deadline("2027-01-15T10:00Z", now=T0) == T0 + 2 * H
    assert parse_deadline("2027-01-15T11:00+01:00", now=T0) == T0 + 2 * H
    assert parse_deadline(dt.datetime(2027, 1, 15, 10, tzinfo=dt.timezone.utc)) == T0 + 2 * H
    assert parse_deadline("2027-01-15T10:00", now=T0) == dt.datetime(2027, 1, 15, 10).timestamp()  # local time
    with pytest.raises(ConfigError, match="Unix seconds"):
        parse_deadline(3600, now=T0)
    with pytest.raises(ConfigError, match="neither a time"):
        parse_deadline("tomorrow-ish", now=T0)
    assert percentile([5, 1, 4, 2, 3], 40) == 2 and percentile([5, 1, 4, 2, 3], 100) == 5
    assert percentile([7], 0) == 7


# -- plan_for() and wattprint plan against the server ---------------------------------------------------------------


def em_forecast(values_by_zone: dict[str, list[float]]) -> Callable[[Seen], Reply]:
    """Electricity Maps' forecast answer (the documented shape), hourly from the current hour, per zone."""

    def answer(seen: Seen) -> Reply:
        zone = seen.query.get("zone", "")
        if zone not in values_by_zone:
            return Reply({"error": f"Zone '{zone}' does not exist."}, status=404)
        now = time.time()
        start = now - now % H
        items = [{"carbonIntensity": v, "datetime": dt.datetime.fromtimestamp(start + i * H, dt.timezone.utc)
                  .isoformat().replace("+00:00", "Z")} for i, v in enumerate(values_by_zone[zone])]
        return Reply({"zone": zone, "forecast": items, "updatedAt": "2026-01-01T00:00:00.000Z"})

    return answer


def test_plan_for_several_locations_best_first_with_failures(server: ReplayServer) -> None:
    server.route("/carbon-intensity/forecast", em_forecast({"DE": [400, 300, 200, 250, 380, 390, 400, 420],
                                                            "FR": [60, 50, 40, 45, 70, 80, 60, 55]}))
    em = provider("electricitymaps", server)
    now = time.time()
    plans = plan_for(["DE", "FR", "US-CA"], "2h", provider=em, now=now)
    assert [p.location for p in plans.plans] == ["FR", "DE"]
    assert plans.best is not None and plans.best.zone == "FR"
    france, germany = plans.plans
    hour = now - now % H
    assert france.start_s == pytest.approx(hour + 2 * H) and france.mean_g_per_kwh == pytest.approx(42.5)
    assert germany.start_s == pytest.approx(hour + 2 * H) and germany.mean_g_per_kwh == pytest.approx(225.0)
    assert [where for where, _ in plans.failures] == ["US-CA"]  # no safe Electricity Maps zone for a US state
    data = plans.to_dict()
    assert data["best"]["location"] == "FR" and data["failures"][0]["location"] == "US-CA"


@pytest.fixture
def cli_env(server: ReplayServer, tmp_path: Path, no_rapl: str) -> dict[str, str]:
    return {**os.environ, "WATTPRINT_STORE": str(tmp_path / "runs.sqlite"), "WATTPRINT_POWERCAP_ROOT": no_rapl,
            "WATTPRINT_GPUS": "false", "WATTPRINT_INTENSITY_URL": server.url,
            "WATTPRINT_ELECTRICITYMAPS_TOKEN": "cli-token", "XDG_CACHE_HOME": str(tmp_path / "cache")}


def wattprint_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([WATTPRINT, *args], env=env, capture_output=True, text=True, timeout=120)


def test_the_plan_command(server: ReplayServer, cli_env: dict[str, str]) -> None:
    server.route("/carbon-intensity/forecast", em_forecast({"DE": [400, 300, 200, 250, 380, 390, 400, 420],
                                                            "FR": [60, 50, 40, 45, 70, 80, 60, 55]}))
    completed = wattprint_cli("plan", "--duration", "2h", "--provider", "electricitymaps", "--location", "DE",
                              "--location", "FR", "--power", "500", "--json", env=cli_env)
    assert completed.returncode == 0, completed.stderr
    data = json.loads(completed.stdout)
    best = data["best"]
    assert best["location"] == "FR" and best["mean_g_per_kwh"] == pytest.approx(42.5)
    assert best["energy_kwh"] == pytest.approx(1.0)  # 500 W for 2 h
    assert best["expected_emissions_g"] == pytest.approx(42.5)
    assert 45 <= best["now_mean_g_per_kwh"] <= 55  # now is within the first hour: part 60, part 50, part 40
    assert best["saving_g"] == pytest.approx(best["now_emissions_g"] - 42.5)
    assert best["wait_s"] > 3000 and best["kind"] == "average"
    text = wattprint_cli("plan", "--duration", "2h", "--provider", "electricitymaps", "--location", "DE",
                         "--deadline", "3h", env=cli_env)
    assert text.returncode == 0, text.stderr
    assert "DE: start" in text.stdout and "if started now" in text.stdout and "average signal" in text.stdout
    assert "cli-token" not in text.stdout + text.stderr


def test_the_plan_command_explains_what_is_missing(cli_env: dict[str, str]) -> None:
    env = {k: v for k, v in cli_env.items() if k != "WATTPRINT_ELECTRICITYMAPS_TOKEN"}
    completed = wattprint_cli("plan", "--duration", "2h", "--location", "DE", env=env)
    assert completed.returncode == 1 and "needs a live provider" in completed.stderr
    completed = wattprint_cli("plan", "--duration", "2h", "--provider", "electricitymaps", "--location", "DE",
                              env=env)
    assert completed.returncode == 1 and "electricitymaps_token" in completed.stderr
    completed = wattprint_cli("plan", "--duration", "soon", "--provider", "uk", env=env)
    assert completed.returncode == 1 and "not a duration" in completed.stderr
    completed = wattprint_cli("plan", "--help", env=env)
    assert completed.returncode == 0 and "wattprint plan --duration 6h" in completed.stdout


# -- waiting ------------------------------------------------------------------------------------------------------


class Clock:
    """A clock that an injected sleep moves forward."""

    def __init__(self, start: float) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def uk_latest(values: list[float]) -> Callable[[Seen], Reply]:
    """The GB API's current value, one of ``values`` per request (the last repeats)."""
    served = []

    def answer(_: Seen) -> Reply:
        value = values[min(len(served), len(values) - 1)]
        served.append(value)
        return Reply({"data": [{"from": "2027-01-15T08:00Z", "to": "2027-01-15T08:30Z",
                                "intensity": {"forecast": value, "actual": value, "index": "moderate"}}]})

    return answer


def test_wait_for_green_waits_for_the_threshold(server: ReplayServer) -> None:
    server.route("/intensity", uk_latest([300, 250, 120]))
    clock = Clock(T0)
    uk = provider("uk", server, clock=clock, cache=None)
    uk.LATEST_TTL_S = 0  # ask every time
    green = wait_for_green(150, deadline="2h", zone="GB", provider=uk, poll_s=600, sleep=clock.sleep, clock=clock)
    assert (green.reason, green.g_per_kwh, green.threshold_g_per_kwh) == ("green", 120.0, 150.0)
    assert clock.sleeps == [600, 600] and green.waited_s == 1200
    assert (green.kind, green.zone, green.provider) == ("average", "GB", "uk")


def test_wait_for_green_never_waits_past_the_deadline(server: ReplayServer) -> None:
    server.route("/intensity", uk_latest([300]))
    clock = Clock(T0)
    uk = provider("uk", server, clock=clock)
    uk.LATEST_TTL_S = 0
    green = wait_for_green(100, deadline=T0 + 1000, zone="GB", provider=uk, poll_s=600, sleep=clock.sleep,
                           clock=clock)
    assert green.reason == "deadline" and clock.sleeps == [600, 400] and green.waited_s == 1000


def test_wait_for_green_starts_at_once_without_data(server: ReplayServer) -> None:
    server.route("/intensity", Reply({"message": "down"}, status=503))
    clock = Clock(T0)
    green = wait_for_green(100, deadline="6h", zone="GB", provider=provider("uk", server, clock=clock),
                           sleep=clock.sleep, clock=clock)
    assert green.reason == "no data" and green.waited_s == 0 and any("HTTP 503" in n for n in green.notes)


def test_wait_for_green_with_a_percentile_of_the_forecast(server: ReplayServer) -> None:
    forecast = {"data": [{"from": f"2027-01-15T{8 + i // 2:02d}:{30 * (i % 2):02d}Z",
                          "to": f"2027-01-15T{8 + (i + 1) // 2:02d}:{30 * ((i + 1) % 2):02d}Z",
                          "intensity": {"forecast": v, "actual": None, "index": "low"}}
                         for i, v in enumerate([300, 280, 260, 100, 90, 310])]}
    server.route("/intensity/2027-01-15T08:00Z/fw48h", Reply(forecast))
    server.route("/intensity", uk_latest([280, 95]))
    clock = Clock(T0 + 60)
    uk = provider("uk", server, clock=clock)
    uk.LATEST_TTL_S = 0
    green = wait_for_green(deadline="3h", percentile_of_forecast=30, zone="GB", provider=uk, poll_s=900,
                           sleep=clock.sleep, clock=clock)
    # six forecast values up to the deadline; their 30th percentile (nearest rank: the 2nd of 6) is 100
    assert green.threshold_g_per_kwh == 100.0 and green.reason == "green" and green.g_per_kwh == 95.0
    assert clock.sleeps == [900]


def test_wait_for_green_without_a_threshold_waits_for_the_planned_start(server: ReplayServer) -> None:
    def forecast(_: Seen) -> Reply:
        start = T0
        items = [{"carbonIntensity": v, "datetime": dt.datetime.fromtimestamp(start + i * H, dt.timezone.utc)
                  .isoformat().replace("+00:00", "Z")} for i, v in enumerate([400, 380, 90, 100, 300, 350])]
        return Reply({"zone": "DE", "forecast": items})

    server.route("/carbon-intensity/forecast", forecast)
    server.route("/carbon-intensity/latest", Reply({"zone": "DE", "carbonIntensity": 90,
                                                    "datetime": "2027-01-15T10:00:00Z"}))
    clock = Clock(T0 + 120)
    em = provider("electricitymaps", server, clock=clock)
    green = wait_for_green(deadline="5h", duration_s="2h", zone="DE", provider=em, poll_s=1800,
                           sleep=clock.sleep, clock=clock)
    assert green.reason == "planned" and clock.now == T0 + 2 * H and green.g_per_kwh == 90.0
    assert green.waited_s == 2 * H - 120


def test_wait_for_green_checks_its_arguments(server: ReplayServer) -> None:
    uk = provider("uk", server)
    with pytest.raises(ConfigError, match="not both"):
        wait_for_green(100, percentile_of_forecast=20, deadline="1h", zone="GB", provider=uk)
    with pytest.raises(ConfigError, match="threshold_g_per_kwh"):
        wait_for_green(-1, deadline="1h", zone="GB", provider=uk)
    with pytest.raises(ConfigError, match="needs a live provider"):
        wait_for_green(100, deadline="1h", zone="GB")
    with pytest.raises(ConfigError, match="cannot serve location 'FR'"):
        wait_for_green(100, deadline="1h", location="FR", provider=uk)


# -- pausing ------------------------------------------------------------------------------------------------------


def test_green_pause_pauses_while_dirty_and_counts_the_time(server: ReplayServer) -> None:
    server.route("/intensity", uk_latest([100, 300, 300, 300, 140, 400]))
    clock = Clock(T0)
    uk = provider("uk", server, clock=clock)
    uk.LATEST_TTL_S = 0
    pause = GreenPause(threshold_g_per_kwh=150, deadline="8h", zone="GB", provider=uk, poll_s=300,
                       sleep=clock.sleep, clock=clock)
    assert pause() == 0.0  # green: go on
    assert pause() == 900.0  # dirty for three polls, then 140
    assert (pause.paused_s, pause.pauses) == (900.0, 1)
    clock.now = T0 + 9 * H  # past the deadline: never pauses, asks nothing
    asked = len(server.requests())
    assert pause() == 0.0 and len(server.requests()) == asked


def test_green_pause_stops_at_the_deadline_and_at_max_pause(server: ReplayServer) -> None:
    server.route("/intensity", uk_latest([400]))
    clock = Clock(T0)
    uk = provider("uk", server, clock=clock)
    uk.LATEST_TTL_S = 0
    pause = GreenPause(threshold_g_per_kwh=150, deadline=T0 + 1000, zone="GB", provider=uk, poll_s=300,
                       sleep=clock.sleep, clock=clock)
    assert pause() == 1000.0 and clock.sleeps == [300, 300, 300, 100]
    clock = Clock(T0)
    capped = GreenPause(threshold_g_per_kwh=150, deadline="8h", max_pause_s="10m", zone="GB", provider=uk,
                        poll_s=300, sleep=clock.sleep, clock=clock)
    assert capped() == 600.0 and capped() == 0.0  # the budget of pausing is used up
    with pytest.raises(ConfigError, match="one of them"):
        GreenPause(deadline="1h", zone="GB", provider=uk)


def test_green_pause_in_a_tracked_run_is_stored_with_it(server: ReplayServer, monkeypatch: pytest.MonkeyPatch,
                                                        model_only: dict[str, object], tmp_path: Path) -> None:
    def latest(_: Seen) -> Reply:
        now = time.time()
        start = now - now % 1800
        stamp = [dt.datetime.fromtimestamp(t, dt.timezone.utc).strftime("%Y-%m-%dT%H:%MZ")
                 for t in (start, start + 1800)]
        return Reply({"data": [{"from": stamp[0], "to": stamp[1], "intensity": {"forecast": 320, "actual": 320}}]})

    def forecast(_: Seen) -> Reply:  # the current half hour at 320, then 100 for the next five
        now = time.time()
        start = now - now % 1800
        stamps = [dt.datetime.fromtimestamp(start + i * 1800, dt.timezone.utc).strftime("%Y-%m-%dT%H:%MZ")
                  for i in range(7)]
        return Reply({"data": [{"from": stamps[i], "to": stamps[i + 1],
                                "intensity": {"forecast": 320 if i == 0 else 100, "actual": None}}
                               for i in range(6)]})

    server.route("/intensity", latest)
    server.route("/intensity/*", forecast)
    monkeypatch.setenv("WATTPRINT_INTENSITY_URL", server.url)
    url = f"sqlite:///{tmp_path / 'runs.sqlite'}"
    with wattprint.track(**model_only, location="GB", intensity_provider="uk", store=url) as run:
        live = run.live_intensity
        assert live is not None and live.ready.wait(10)
        deadline = time.monotonic() + 10
        while not live.forecast_points() and time.monotonic() < deadline:
            time.sleep(0.01)  # the forecast is the worker's second request
        pause = GreenPause(run, threshold_g_per_kwh=200, deadline=time.time() + 0.4, poll_s=0.1)
        paused = pause()  # 320 now: dirty until the deadline
        assert 0.35 <= paused < 1.5
        # the median of the forecast up to the deadline (320 and five times 100) is 100: dirty, for max_pause_s
        median = GreenPause(run, percentile_of_forecast=50, deadline="3h", max_pause_s=0.3, poll_s=0.1)
        assert median.threshold() == 100.0
        assert 0.25 <= median() < 1.5
    assert run.wait_saved(30)
    resolved = run.result.time_resolved
    assert resolved.pauses == 2 and resolved.paused_s == pytest.approx(paused + median.paused_s)
    from wattprint.store import open_store

    with open_store(url) as store:
        stored = store.run(run.run_id).details.time_resolved
    assert stored is not None and stored.pauses == 2 and stored.paused_s == pytest.approx(resolved.paused_s)
    with pytest.raises(ConfigError, match="intensity_provider"):
        GreenPause(wattprint.Tracker(**model_only), threshold_g_per_kwh=1, deadline="1h")


def test_run_when_green_starts_once_green_and_records_the_wait(server: ReplayServer, cli_env: dict[str, str]) -> None:
    server.route("/intensity", uk_latest([90]))
    server.route("/intensity/*", Reply({"data": []}))
    completed = wattprint_cli("run", "--provider", "uk", "--location", "GB", "--when-green", "--threshold", "100",
                              "--deadline", "1h", "--json", "--", sys.executable, "-c", "pass", env=cli_env)
    assert completed.returncode == 0, completed.stderr
    assert "waiting for the intensity to fall to 100 gCO2e/kWh" in completed.stderr
    assert "(green) at 90 gCO2e/kWh" in completed.stderr
    data = json.loads(completed.stdout)
    assert data["time_resolved"]["waited_s"] is not None and data["time_resolved"]["waited_s"] < 5
    missing = wattprint_cli("run", "--provider", "uk", "--when-green", "--", sys.executable, "-c", "pass",
                            env=cli_env)
    assert missing.returncode == 2 and "--when-green needs --deadline" in missing.stderr


def test_exports() -> None:
    assert wattprint.wait_for_green is wait_for_green and wattprint.GreenPause is GreenPause


LIVE_DOC = (Path(__file__).resolve().parents[2] / "docs" / "live.md").read_text()
OFFLINE_BLOCKS = [b for b in re.findall(r"```python\n(.*?)```", LIVE_DOC, flags=re.DOTALL) if "# network" not in b]


@pytest.mark.parametrize("index", range(len(OFFLINE_BLOCKS)))
def test_the_offline_examples_of_the_documentation_run(index: int, tmp_path: Path) -> None:
    completed = subprocess.run([sys.executable, "-c", OFFLINE_BLOCKS[index]], cwd=tmp_path, capture_output=True,
                               text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    if "plan(" in OFFLINE_BLOCKS[index]:
        assert completed.stdout.splitlines() == ["5.0 55.0 250.0", "saves 78%, 585 g", "7200.0"]
