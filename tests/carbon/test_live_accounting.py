"""Time-resolved accounting: runs priced with live intensities fetched in the background from a real HTTP server
on 127.0.0.1, beside the location-based average; fallbacks recorded; the meter's job hook; the store and the CLI.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import math
import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import wattprint
from tests.fakes.provider_server import TOKEN, ReplayServer, Reply, Seen
from wattprint.accounting.footprint import account_intervals
from wattprint.carbon import resolve_location
from wattprint.carbon.live import CARRIED, FALLBACK, FORECAST, LIVE, MISSING, LiveIntensity
from wattprint.carbon.providers import IntensityPoint, make_provider, provider_from_config
from wattprint.carbon.providers.base import parse_time
from wattprint.core.codec import to_dict
from wattprint.measure.meter import get_meter
from wattprint.report.summary import run_json, run_text
from wattprint.settings.config import load_config
from wattprint.store import open_store

WATTPRINT = str(Path(sys.executable).with_name("wattprint"))
PERIOD = 1800.0


def stamp(t: float) -> str:
    return dt.datetime.fromtimestamp(t, dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def uk_periods(start: float, count: int, value: Callable[[float], float], *, period: float = PERIOD,
               actual: bool = True) -> dict[str, Any]:
    """A Carbon Intensity API answer (the documented shape) for ``count`` periods from ``start``."""
    data = []
    for i in range(count):
        a = start + i * period
        g = value(a)
        data.append({"from": stamp(a), "to": stamp(a + period),
                     "intensity": {"forecast": g, "actual": g if actual else None, "index": "moderate"}})
    return {"data": data}


def uk_grid(api: ReplayServer, value: Callable[[float], float], *, period: float = PERIOD,
            gate: threading.Event | Callable[[], bool] | None = None) -> None:
    """The GB API answering with ``value`` of each period, whatever time it is asked (once ``gate`` opens)."""

    def latest(_: Seen) -> Reply:
        now = time.time()
        return Reply(uk_periods(now - now % period, 1, value, period=period), gate=gate)

    def span(seen: Seen) -> Reply:  # /intensity/{from}/{to} (history) or /intensity/{from}/fw48h (forecast)
        parts = seen.path.split("/")
        now = time.time()
        if parts[3] == "fw48h":  # (times in the path have minute precision: periods shorter than that start now)
            return Reply(uk_periods(now - now % period, 48, value, period=period, actual=False), gate=gate)
        start = parse_time(parts[2])
        start -= start % period
        end = max(parse_time(parts[3]), now)
        return Reply(uk_periods(start, max(1, math.ceil((end - start) / period)), value, period=period), gate=gate)

    api.route("/intensity", latest)
    api.route("/intensity/*", span)


@pytest.fixture
def live_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[ReplayServer]:
    """A replay server the live provider settings point at."""
    with ReplayServer() as replay:
        monkeypatch.setenv("WATTPRINT_INTENSITY_URL", replay.url)
        monkeypatch.setenv("WATTPRINT_INTENSITY_TIMEOUT_S", "2")
        yield replay


def tracked(model_only: dict[str, object], seconds: float = 0.3, **kwargs: Any) -> wattprint.Tracker:
    kwargs.setdefault("store", "off")
    kwargs.setdefault("pue", 1.0)
    with wattprint.track(**model_only, **kwargs) as run:
        live = run.live_intensity
        assert live is not None
        assert live.ready.wait(10), "the first fetch never ended"
        busy = time.perf_counter() + seconds
        while time.perf_counter() < busy:
            pass
    return run


# -- the meter's background jobs -----------------------------------------------------------------------------------


def test_meter_jobs_run_in_its_thread_outside_its_lock_as_scheduled(model_only: dict[str, object]) -> None:
    meter = get_meter()
    calls: list[str] = []
    done = threading.Event()
    with wattprint.track(store="off", **model_only) as run:
        sub = run._sub

        def job() -> float | None:
            calls.append(threading.current_thread().name)
            meter.read(sub)  # the meter's lock is free: holding it here would deadlock
            if len(calls) == 3:
                done.set()
                return None  # not again
            return 0.05

        job_id = meter.add_job(job, name="test")
        assert done.wait(5)
        time.sleep(0.3)
        meter.remove_job(job_id)
    assert calls == ["wattprint-meter"] * 3


def test_a_failing_meter_job_is_logged_once_and_measuring_goes_on(model_only: dict[str, object],
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    meter = get_meter()
    failures = []

    def broken() -> float:
        failures.append(1)
        raise RuntimeError("boom")

    with caplog.at_level(logging.WARNING, logger="wattprint"), wattprint.track(store="off", **model_only) as run:
        job_id = meter.add_job(broken, name="broken")
        deadline = time.monotonic() + 5
        while not failures and time.monotonic() < deadline:
            time.sleep(0.01)
        ticks = meter.ticks
        deadline = time.monotonic() + 30  # (the next tick comes about a second later; later on a busy machine)
        while meter.ticks <= ticks and time.monotonic() < deadline:
            time.sleep(0.05)
        meter.remove_job(job_id)
        assert meter.ticks > ticks and meter.running
    assert failures == [1]  # a failed job is not called again
    assert [r.message for r in caplog.records].count("wattprint: background job broken failed: boom") == 1
    assert run.result is not None and run.result.energy_j > 0


# -- pricing (no network) ------------------------------------------------------------------------------------------


def _point(start: float, end: float, g: float, **flags: Any) -> IntensityPoint:
    kind = flags.pop("kind", "average")
    return IntensityPoint(start, end, g, kind, "GB", "test", "uk", **flags)


def test_intervals_are_priced_with_the_value_valid_at_their_time() -> None:
    static = resolve_location("GB")
    live = LiveIntensity(make_provider("uk"), zone="GB", fallback=lambda: static)
    live.add_points([_point(0, 1800, 100.0), _point(1800, 3600, 300.0, estimated=True),
                     _point(5400, 7200, 200.0, forecast=True), _point(0, 1800, 999.0, estimated=True)])
    intervals = [(0.0, 1800.0, 1.0, 0.05), (1800.0, 3600.0, 1.0, 0.05), (3600.0, 3800.0, 1.0, 0.05),
                 (5400.0, 7200.0, 1.0, 0.05), (9000.0, 10800.0, 2.0, 0.05)]
    priced = live.price_intervals(intervals, account_intervals, pue=1.0)
    assert [p.status for p in priced.intervals] == [LIVE, LIVE, CARRIED, FORECAST, FALLBACK]
    g = static.g_per_kwh
    # a realised value is never replaced by an estimate; the newest realised value is carried a little past its
    # period's end (at most 15 min); a forecast prices its period; where nothing is known the yearly figure does
    assert [p.g_per_kwh for p in priced.intervals] == [100.0, 300.0, 300.0, 200.0, g]
    assert priced.emissions_g == pytest.approx(100 + 300 + 300 + 200 + 2 * g)
    assert (priced.live_share, priced.forecast_share, priced.fallback_share) == pytest.approx((0.5, 1 / 6, 1 / 3))
    assert priced.kind == "average" and priced.coverage == pytest.approx(2 / 3)
    assert any("priced with the yearly average" in note for note in priced.notes)
    assert [entry[3] for entry in priced.timeline()] == [LIVE, LIVE, CARRIED, FORECAST, FALLBACK]


def test_live_uncertainties_and_the_static_location_are_kept() -> None:
    static = resolve_location("gcp:europe-west1")
    live = LiveIntensity(make_provider("electricitymaps", token="x"), zone="BE", fallback=lambda: static)
    live.add_points([_point(0, 3600, 150.0), _point(3600, 7200, 180.0, estimated=True)])
    measured, estimated = live.intensity_at(10.0), live.intensity_at(4000.0)
    assert (measured.uncertainty_rel, estimated.uncertainty_rel) == (0.05, 0.10)
    assert measured.provider == "gcp" and measured.how_located == "argument" and measured.year is None
    result = live.price_intervals([(0.0, 3600.0, 1.0, 0.0), (3600.0, 7200.0, 1.0, 0.0)], account_intervals)
    # the PUE of the cloud region applies as it does to the average footprint
    pue = account_intervals([(0.0, 1.0, 1.0, 0.0)], static).total.pue
    assert result.emissions_g == pytest.approx(pue * (150 + 180))


def test_marginal_values_are_never_mixed_with_averages() -> None:
    static = resolve_location("US-CA")
    wt = make_provider("watttime", username="u", password="p")
    live = LiveIntensity(wt, zone="CAISO_NORTH", fallback=lambda: static)
    live.add_points([_point(0, 300, 400.0, kind="marginal"), _point(300, 600, 500.0, kind="marginal")])
    intervals = [(0.0, 300.0, 1.0, 0.0), (300.0, 600.0, 1.0, 0.0), (3000.0, 3300.0, 2.0, 0.0)]
    result = live.price_intervals(intervals, account_intervals, pue=1.0)
    assert result.kind == "marginal"
    assert [p.status for p in result.intervals] == [LIVE, LIVE, MISSING]
    assert result.intervals[2].g_per_kwh is None and result.intervals[2].emissions_g is None
    assert result.emissions_g == pytest.approx(400 + 500)  # the uncovered interval is left out, not averaged in
    assert result.coverage == pytest.approx(0.5)
    nothing = live.price_intervals([(9000.0, 9300.0, 1.0, 0.0)], account_intervals, pue=1.0)
    assert nothing.emissions_g is None and nothing.coverage == 0.0


# -- runs against the server ---------------------------------------------------------------------------------------


def test_a_run_is_priced_with_the_live_value_beside_the_yearly_average(live_env: ReplayServer,
                                                                        model_only: dict[str, object]) -> None:
    uk_grid(live_env, lambda t: 263.0)
    run = tracked(model_only, location="GB", intensity_provider="uk")
    result = run.result
    assert result is not None and result.footprint is not None and result.time_resolved is not None
    resolved = result.time_resolved
    static = resolve_location("GB")
    assert result.footprint.intensity.g_per_kwh == static.g_per_kwh  # the location-based average stays
    assert result.emissions_g == pytest.approx(result.energy_kwh * static.g_per_kwh)
    assert resolved.emissions_g == pytest.approx(result.energy_kwh * 263.0)
    assert (resolved.kind, resolved.provider, resolved.zone, resolved.fallback_share) == ("average", "uk", "GB", 0.0)
    assert sum(p.energy_kwh for p in resolved.intervals) == pytest.approx(result.energy_kwh)
    data = result.to_dict()
    assert data["time_resolved"]["emissions_g"] == pytest.approx(resolved.emissions_g)
    assert data["emissions_g"] == pytest.approx(result.emissions_g)
    assert live_env.requests("/intensity")  # fetched by the background job


def test_the_run_is_cut_at_the_providers_period_edges(live_env: ReplayServer, model_only: dict[str, object]) -> None:
    period = 0.25  # a provider with quarter-second periods (the real GB API with its period shortened)
    def value(t: float) -> float:
        return 100.0 + 100.0 * (round(t / period) % 3)

    uk_grid(live_env, value, period=period)
    config = load_config({"intensity_provider": "uk"})
    source = provider_from_config(config)
    assert source is not None
    source.period_s = period  # type: ignore[misc]
    try:
        run = tracked(model_only, seconds=1.6, location="GB", intensity_provider="uk")
    finally:
        del source.period_s  # type: ignore[misc]
    intervals = run.result.time_resolved.intervals
    assert len(intervals) >= 4
    for part in intervals:
        mid = (part.start_s + part.end_s) / 2
        assert part.g_per_kwh == value(math.floor(mid / period) * period), part
        assert part.status in (LIVE, FORECAST, CARRIED)
    # One cut per period edge, never before the edge: each cut lies in a later period than the one before. (How
    # soon after its edge a cut comes depends on how busy the machine is, so that is not asserted.)
    cuts = [part.start_s for part in intervals[1:]]
    periods = [math.floor(cut / period) for cut in cuts]
    assert periods == sorted(set(periods)), cuts
    spans = [(part.start_s, part.end_s) for part in intervals]
    assert all(a[1] == pytest.approx(b[0], abs=0.01) for a, b in zip(spans, spans[1:], strict=False)), spans
    assert len(run.result.time_resolved.timeline()) >= 3


def test_a_provider_failure_falls_back_and_is_recorded_on_the_intervals(
    live_env: ReplayServer, model_only: dict[str, object], caplog: pytest.LogCaptureFixture
) -> None:
    live_env.route("/intensity", Reply({"message": "maintenance"}, status=503))
    live_env.route("/intensity/*", Reply({"message": "maintenance"}, status=503))
    with caplog.at_level(logging.WARNING, logger="wattprint"):
        run = tracked(model_only, location="GB", intensity_provider="uk")
    result = run.result
    resolved = result.time_resolved
    assert resolved.fallback_share == 1.0 and {p.status for p in resolved.intervals} == {FALLBACK}
    assert resolved.emissions_g == pytest.approx(result.emissions_g)  # priced with the yearly figure, saying so
    assert any("HTTP 503" in note for note in resolved.notes)
    assert resolved.fallback_reasons == (("provider_error", 1.0),)
    assert any("for want of a live value: the provider failed (" in note and "HTTP 503" in note
               for note in resolved.notes), resolved.notes
    assert any("live carbon intensity" in r.message and "HTTP 503" in r.message for r in caplog.records)


def test_a_slow_provider_never_holds_up_the_users_thread(live_env: ReplayServer,
                                                          model_only: dict[str, object]) -> None:
    # The provider answers only when the test lets it (after the run): a stop that waited for the request
    # would wait for the gate's full minute, however busy or idle the machine.
    released = threading.Event()
    live_env.route("/intensity", Reply({"data": []}, gate=released))
    live_env.route("/intensity/*", Reply({"data": []}, gate=released))
    try:
        begun = time.monotonic()
        with wattprint.track(**model_only, store="off", location="GB", intensity_provider="uk") as run:
            deadline = time.monotonic() + 30
            while not live_env.requests() and time.monotonic() < deadline:
                time.sleep(0.01)
            assert live_env.requests(), "the first fetch was never sent"
        assert time.monotonic() - begun < 30  # start, measure and stop while a request hangs
        assert run.result.time_resolved.fallback_share == 1.0
    finally:
        released.set()
    assert run.wait_saved(30)


def test_a_marginal_run_keeps_the_average_footprint_and_labels_the_marginal_total(
    live_env: ReplayServer, model_only: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WATTPRINT_WATTTIME_USERNAME", "ada")
    monkeypatch.setenv("WATTPRINT_WATTTIME_PASSWORD", "pw")
    live_env.route("/login", Reply({"token": "t"}))

    def series(_: Seen) -> Reply:
        now = time.time()
        start = now - now % 300
        data = [{"point_time": stamp(start + i * 300), "value": 1000.0} for i in range(-1, 12)]
        return Reply({"data": data, "meta": {"units": "lbs_co2_per_mwh", "signal_type": "co2_moer",
                                             "region": "CAISO_NORTH", "data_point_period_seconds": 300}})

    live_env.route("/v3/historical", series)
    live_env.route("/v3/forecast", series)
    run = tracked(model_only, location="US-CA", intensity_provider="watttime", intensity_zone="CAISO_NORTH")
    result = run.result
    resolved = result.time_resolved
    assert resolved.kind == "marginal" and resolved.coverage == 1.0
    assert resolved.emissions_g == pytest.approx(result.energy_kwh * 1000.0 * 0.45359237)
    assert result.footprint.intensity.kind == "average"
    assert result.emissions_g == pytest.approx(result.energy_kwh * result.footprint.intensity.g_per_kwh)


def test_the_store_keeps_the_time_resolved_total_and_prices_each_bucket(
    live_env: ReplayServer, model_only: dict[str, object], tmp_path: Path
) -> None:
    uk_grid(live_env, lambda t: 120.0)
    url = f"sqlite:///{tmp_path / 'runs.sqlite'}"
    run = tracked(model_only, location="GB", intensity_provider="uk", store=url)
    assert run.wait_saved(30)
    with open_store(url) as store:
        record = store.run(run.run_id)
        intervals = store.intervals(run.run_id)
        components = store.components(run.run_id)
    live = to_dict(record.details.time_resolved)
    assert live["emissions_g"] == pytest.approx(run.result.time_resolved.emissions_g)
    assert live["kind"] == "average" and live["bucket_status"] == {}
    assert intervals and all(i.intensity_g_per_kwh == 120.0 for i in intervals)
    assert sum(i.emissions_g for i in intervals) == pytest.approx(live["emissions_g"], rel=1e-6)
    assert record.emissions_g == pytest.approx(run.result.emissions_g)  # the average total beside it
    data = run_json(record, components)
    assert data["signal_kind"] == "average" and data["time_resolved"]["provider"] == "uk"
    text = run_text(record, components)
    assert "time-resolved" in text and "average signal" in text and "intensity over the run" in text


def test_fallback_buckets_are_stored_as_such(live_env: ReplayServer, model_only: dict[str, object],
                                             tmp_path: Path) -> None:
    live_env.route("/intensity", Reply({}, status=500))
    live_env.route("/intensity/*", Reply({}, status=500))
    url = f"sqlite:///{tmp_path / 'runs.sqlite'}"
    run = tracked(model_only, location="GB", intensity_provider="uk", store=url)
    assert run.wait_saved(30)
    with open_store(url) as store:
        record = store.run(run.run_id)
        intervals = store.intervals(run.run_id)
    assert to_dict(record.details.time_resolved)["bucket_status"] == {"fallback": [0]}
    assert {i.intensity_g_per_kwh for i in intervals} == {resolve_location("GB").g_per_kwh}
    assert "at the yearly average (the provider failed)" in run_text(record, [])


# -- settings ------------------------------------------------------------------------------------------------------


def test_live_settings_fail_at_construction(model_only: dict[str, object]) -> None:
    with pytest.raises(wattprint.ConfigError, match="electricitymaps_token"):
        wattprint.Tracker(intensity_provider="electricitymaps", **model_only)
    with pytest.raises(wattprint.ConfigError, match="cannot serve location 'FR'"):
        wattprint.Tracker(intensity_provider="uk", location="FR", **model_only)
    with pytest.raises(wattprint.ConfigError, match="intensity_zone 'DK3'"):
        wattprint.Tracker(intensity_provider="energidataservice", intensity_zone="DK3", **model_only)
    with pytest.raises(wattprint.ConfigError, match="intensity_provider"):
        wattprint.Tracker(intensity_provider="carbonara", **model_only)
    assert wattprint.Tracker(**model_only).live_intensity is None


def test_tokens_never_reach_logs_or_stored_runs(live_env: ReplayServer, model_only: dict[str, object],
                                                tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("WATTPRINT_ELECTRICITYMAPS_TOKEN", TOKEN)
    live_env.route("/carbon-intensity/latest", Reply({"message": "Invalid authentication credentials"}, status=401))
    live_env.route("/carbon-intensity/forecast", Reply({"message": "Invalid authentication credentials"}, status=401))
    url = f"sqlite:///{tmp_path / 'runs.sqlite'}"
    with caplog.at_level(logging.DEBUG, logger="wattprint"):
        run = tracked(model_only, location="DE", intensity_provider="electricitymaps", store=url)
        assert run.wait_saved(30)
    assert live_env.requests("/carbon-intensity/latest")[0].headers["auth-token"] == TOKEN  # it was sent...
    with open_store(url) as store:
        record = store.run(run.run_id)
    stored = json.dumps(to_dict(record)) + json.dumps(list(record.notes)) + repr(run.config)
    assert "Invalid authentication credentials" in stored
    assert TOKEN not in stored and TOKEN not in caplog.text  # ...and nowhere else
    assert run.result.time_resolved.fallback_share == 1.0


def stored_as_ended(path: Path) -> Callable[[], bool]:
    """True once the SQLite store at ``path`` holds a run that has ended (its final save is done)."""

    def ended() -> bool:
        if not path.exists():
            return False
        try:
            with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=0.1)) as db:
                return db.execute("SELECT count(*) FROM runs WHERE ended_at IS NOT NULL").fetchone()[0] > 0
        except sqlite3.Error:
            return False

    return ended


def test_the_command_line_shows_both_totals_and_the_signal_kind(live_env: ReplayServer, no_rapl: str,
                                                                tmp_path: Path) -> None:
    # The provider answers only once the run has stopped and been stored (on a loaded machine the first answer
    # often comes after a short run's end): the run is then re-priced with it, in the output and in the store.
    store = tmp_path / "runs.sqlite"
    uk_grid(live_env, lambda t: 150.0, gate=stored_as_ended(store))
    env = {**os.environ, "WATTPRINT_STORE": str(store),
           "WATTPRINT_POWERCAP_ROOT": no_rapl, "WATTPRINT_GPUS": "false", "WATTPRINT_PUE": "1.0",
           "WATTPRINT_INTENSITY_URL": live_env.url, "WATTPRINT_INTENSITY_TIMEOUT_S": "60",
           "XDG_CACHE_HOME": str(tmp_path / "cache")}
    code = "import time; end = time.perf_counter() + 1.0\nwhile time.perf_counter() < end: pass"
    completed = subprocess.run([WATTPRINT, "run", "--provider", "uk", "--zone", "GB", "--json", "--", sys.executable,
                                "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    data = json.loads(completed.stdout)
    assert data["signal_kind"] == "average" and data["emissions_g"] > 0
    live = data["time_resolved"]
    assert live["provider"] == "uk" and live["zone"] == "GB" and live["fallback_share"] == 0.0, live["notes"]
    assert live["emissions_g"] == pytest.approx(data["energy_kwh"] * 150.0)
    assert any("re-priced after the run stopped" in note for note in live["notes"])
    assert data["emissions_g"] == pytest.approx(data["energy_kwh"] * data["intensity"]["g_per_kwh"])
    with open_store(f"sqlite:///{store}") as opened:
        record = opened.run(data["run_id"])
        intervals = opened.intervals(data["run_id"])
    assert to_dict(record.details.time_resolved)["fallback_share"] == 0.0
    assert to_dict(record.details.time_resolved)["bucket_status"] == {}
    assert intervals and {i.intensity_g_per_kwh for i in intervals} == {150.0}
    shown = subprocess.run([WATTPRINT, "show", data["run_id"]], env=env, capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0, shown.stderr
    assert "time-resolved" in shown.stdout + shown.stderr and "emissions" in shown.stdout + shown.stderr


def test_a_live_value_that_lands_after_stop_reprices_the_run_and_the_stored_run(
    live_env: ReplayServer, model_only: dict[str, object], tmp_path: Path
) -> None:
    released = threading.Event()
    uk_grid(live_env, lambda t: 150.0, gate=released)
    url = f"sqlite:///{tmp_path / 'runs.sqlite'}"
    with wattprint.track(**model_only, store=url, pue=1.0, location="GB", intensity_provider="uk") as run:
        deadline = time.monotonic() + 30
        while not live_env.requests("/intensity") and time.monotonic() < deadline:
            time.sleep(0.01)
        assert live_env.requests("/intensity"), "the first fetch was never sent"
    stopped = run.result
    assert stopped is not None and stopped.time_resolved is not None
    # at stop, the request is still held by the server: the run is priced with the yearly average, saying why
    assert stopped.time_resolved.fallback_share == 1.0
    assert stopped.time_resolved.fallback_reasons == (("in_flight", 1.0),)
    assert any("for want of a live value: the provider had not answered when the run stopped" in note
               for note in stopped.time_resolved.notes), stopped.time_resolved.notes
    released.set()
    assert run.wait_saved(30)
    result = run.result
    assert result is not stopped and result.run_id == stopped.run_id and result.energy_j == stopped.energy_j
    resolved = result.time_resolved
    assert resolved.fallback_share == 0.0 and resolved.live_share == 1.0 and resolved.fallback_reasons == ()
    assert resolved.emissions_g == pytest.approx(result.energy_kwh * 150.0)
    assert any("re-priced after the run stopped" in note for note in resolved.notes)
    with open_store(url) as store:
        record = store.run(run.run_id)
        intervals = store.intervals(run.run_id)
    live = to_dict(record.details.time_resolved)
    assert live["fallback_share"] == 0.0 and live["bucket_status"] == {}
    assert live["emissions_g"] == pytest.approx(resolved.emissions_g)
    assert intervals and {i.intensity_g_per_kwh for i in intervals} == {150.0}
    assert sum(i.emissions_g for i in intervals) == pytest.approx(live["emissions_g"], rel=1e-6)
    assert record.status == "finished" and record.ended_at == pytest.approx(stopped.started_at + stopped.duration_s,
                                                                            abs=5.0)


def test_a_run_stopped_before_its_first_request_asks_after_stopping(live_env: ReplayServer) -> None:
    uk_grid(live_env, lambda t: 170.0)
    source = provider_from_config(load_config({"intensity_provider": "uk"}))
    assert source is not None
    live = LiveIntensity(source, zone="GB", fallback=lambda: resolve_location("GB"))
    live.stop()  # the meter's job never ran: nothing was asked
    now = time.time()
    interval = [(now - 0.01, now, 1e-6, 0.05)]
    before = live.price_intervals(interval, account_intervals, pue=1.0)
    assert before.fallback_reasons == (("not_asked", 1.0),) and live_env.requests() == []
    settled = threading.Event()
    assert live.settle(settled.set)
    assert settled.wait(30)
    after = live.price_intervals(interval, account_intervals, pue=1.0)
    assert after.fallback_share == 0.0 and after.intervals[0].g_per_kwh == 170.0
    assert not live.settle(settled.set)  # answered: nothing more to wait for


def test_the_note_says_why_the_yearly_average_was_used(live_env: ReplayServer,
                                                       model_only: dict[str, object]) -> None:
    # answers, but for a period that ended an hour ago: no value for the time of the run
    def old(_: Seen) -> Reply:
        now = time.time()
        return Reply(uk_periods(now - now % PERIOD - 2 * PERIOD, 1, lambda t: 200.0))

    live_env.route("/intensity", old)
    live_env.route("/intensity/*", old)
    run = tracked(model_only, location="GB", intensity_provider="uk")
    resolved = run.result.time_resolved
    assert resolved.fallback_share == 1.0 and resolved.fallback_reasons == (("no_data", 1.0),)
    assert any("for want of a live value: the provider gave no value for that time" in n for n in resolved.notes)
    assert resolved.to_dict()["fallback_reasons"] == {"no_data": 1.0}


def test_a_run_that_began_in_an_earlier_period_asks_for_its_history(live_env: ReplayServer) -> None:
    uk_grid(live_env, lambda t: 180.0 if t < time.time() - time.time() % PERIOD else 140.0)
    source = provider_from_config(load_config({"intensity_provider": "uk"}))
    assert source is not None
    now = time.time()
    current = now - now % PERIOD
    live = LiveIntensity(source, zone="GB", fallback=lambda: resolve_location("GB"))
    live._run_start_s = current - 600.0  # the run began ten minutes before the current half hour
    live._fetch("latest", now)
    assert live.price(current - 300.0).status == FALLBACK
    assert live._due["history"] == now  # asked at once, not in an hour
    live._fetch("history", now)
    assert live.price(current - 300.0).status == LIVE and live.price(current - 300.0).intensity.g_per_kwh == 180.0
    assert live.price(now).intensity.g_per_kwh == 140.0
    history = [s.path for s in live_env.requests() if s.path.startswith("/intensity/")]
    assert len(history) == 1 and history[0].split("/")[2] <= stamp(current - 600.0 - PERIOD)[:16] + "Z"
