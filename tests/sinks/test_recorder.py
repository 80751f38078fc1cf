"""The recorder: interval buckets that stay few for long runs, with exact totals, and idempotent payloads."""

from __future__ import annotations

import pytest

from wattprint.core.results import RunResult
from wattprint.measure.meter import Snapshot
from wattprint.measure.windows import window_result
from wattprint.sensors.base import SensorMeta
from wattprint.sinks.recorder import BUCKET_WIDTHS_S, RunRecorder, bucket_width_s

SLOTS = [("gpu-key", "counter"), ("cpu-key", "model")]
META = {"gpu-key": SensorMeta("gpu", "gpu:0", {"counter": 0.05}), "cpu-key": SensorMeta("cpu", "cpu", {"model": 0.4})}


def snapshot(t: float) -> Snapshot:
    """A run drawing 300 W on the GPU and 50 W on the CPU since t = 0."""
    return Snapshot(t, 1_700_000_000.0 + t, (300.0 * t, 50.0 * t), SLOTS, META)


class FakeTracker:
    record_fields = {"command": None, "exit_code": None}


def result_at(start: Snapshot, end: Snapshot, status: str = "running") -> RunResult:
    window = window_result("run", start, end, "machine")
    return RunResult(
        name="run", started_at=window.started_at, duration_s=window.duration_s, energy_j=window.energy_j,
        uncertainty_rel=window.uncertainty_rel, attribution="machine", components=window.components,
        devices=window.devices, run_id="0" * 32, project="p", status=status,
    )


def test_bucket_width_grows_with_the_age_of_the_run() -> None:
    assert bucket_width_s(0) == 10
    assert bucket_width_s(3599) == 10
    assert bucket_width_s(3600) == 60
    assert bucket_width_s(86_399) == 60
    assert bucket_width_s(86_400) == 600
    assert BUCKET_WIDTHS_S[-1][1] == 600


def test_a_week_on_eight_gpus_stays_small_and_exact() -> None:
    start = snapshot(0.0)
    recorder = RunRecorder(FakeTracker(), "sqlite:///unused", 10.0, start)  # type: ignore[arg-type]
    week = 7 * 86_400
    flushes = 0
    t = 0.0
    while t < week:
        t = min(week, t + 10.0)
        final = t >= week
        recorder.payload(snapshot(t), result_at(start, snapshot(t), "finished" if final else "running"), final=final)
        flushes += 1
    everything = recorder.everything(recorder.payload(snapshot(week), result_at(start, snapshot(week)), final=True))
    buckets = {i.bucket for i in everything.intervals}
    # 360 buckets of 10 s in the first hour, 1,380 of 60 s to a day, 864 of 600 s for the other six days
    assert len(buckets) == 360 + 1380 + 864
    assert len(everything.intervals) == 2 * len(buckets)
    # bucket rows take about 100 bytes: eight GPUs, CPU and RAM for a week stay around 3 MB
    assert len(buckets) * 10 * 100 < 5_000_000
    gpu = sum(i.energy_j for i in everything.intervals if i.component == "gpu")
    assert gpu == pytest.approx(300.0 * week, rel=1e-12)
    ordered = sorted(everything.intervals, key=lambda i: (i.bucket, i.device))
    for previous, following in zip(ordered[:-2:2], ordered[2::2], strict=True):
        assert previous.end_offset_s == pytest.approx(following.start_offset_s)  # buckets tile the run


def test_each_flush_rewrites_the_open_bucket_with_its_absolute_value() -> None:
    start = snapshot(0.0)
    recorder = RunRecorder(FakeTracker(), "sqlite:///unused", 10.0, start)  # type: ignore[arg-type]
    first = recorder.payload(snapshot(4.0), result_at(start, snapshot(4.0)), final=False)
    second = recorder.payload(snapshot(8.0), result_at(start, snapshot(8.0)), final=False)
    assert {i.bucket for i in first.intervals} == {i.bucket for i in second.intervals} == {0}
    gpu = [i for i in second.intervals if i.component == "gpu"][0]
    assert gpu.energy_j == pytest.approx(300.0 * 8)  # the whole bucket so far, not the increment
    third = recorder.payload(snapshot(12.0), result_at(start, snapshot(12.0)), final=False)
    assert {i.bucket for i in third.intervals} == {0}  # bucket 0 closes at 12 s (>= 10 s wide)
    fourth = recorder.payload(snapshot(15.0), result_at(start, snapshot(15.0)), final=False)
    assert {i.bucket for i in fourth.intervals} == {1}
    assert [i.start_offset_s for i in fourth.intervals] == [12.0, 12.0]


class RacingTracker(FakeTracker):
    """A tracker whose running state a periodic flush reads (as if taken just before ``stop()``)."""

    run_id, project, name, attribution = "0" * 32, "p", "run", "machine"

    def __init__(self, state: tuple[Snapshot, RunResult]) -> None:
        self.state = state

    def _flush_state(self) -> tuple[Snapshot, RunResult]:
        return self.state


def test_a_flush_that_loses_the_race_with_stop_is_dropped_and_payloads_only_move_forward(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from wattprint.sinks import recorder as recorder_module

    start = snapshot(0.0)
    tracker = RacingTracker((snapshot(4.0), result_at(start, snapshot(4.0))))
    recorder = RunRecorder(tracker, "sqlite:///unused", 10.0, start)  # type: ignore[arg-type]
    clock = iter([1001.0, 1000.0, 999.0, 998.0, 997.0])  # the wall clock steps back (NTP) between payloads
    monkeypatch.setattr(recorder_module.time, "time", lambda: next(clock))
    first = recorder.periodic()  # the run's row at once, before anything is measured
    assert first is not None and (first.run.status, first.run.energy_j, first.intervals) == ("running", 0.0, [])
    running = recorder.periodic()
    assert running is not None and running.run.updated_at > first.run.updated_at
    final = recorder.payload(snapshot(5.0), result_at(start, snapshot(5.0), "finished"), final=True)
    assert running is not None and final.run.updated_at > running.run.updated_at  # the store keeps the newest
    # the writer thread read the running state before stop() and makes its payload after the final one: dropped,
    # else its 'running' row, newer, would replace 'finished'
    assert recorder.periodic() is None
