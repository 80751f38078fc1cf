"""The tracker API: context manager, decorator, explicit start/stop, windows, snapshots, lifecycle."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import threading
import time

import pytest

import wattprint
from tests.fakes.fake_nvml import FakeGpu, FakeNvml
from wattprint.core.errors import ConfigError, TrackerStateError


def busy(seconds: float) -> int:
    end = time.perf_counter() + seconds
    n = 0
    while time.perf_counter() < end:
        n += 1
    return n


def gpu_tracker(no_rapl: str, power_w: float = 200.0, **kwargs: object) -> wattprint.Tracker:
    """A tracker whose GPU energy is exactly known: a fake GPU at constant power."""
    return wattprint.Tracker(nvml=FakeNvml([FakeGpu(power_w=power_w)]), powercap_root=no_rapl, **kwargs)


def test_readme_example_shape(model_only: dict[str, object]) -> None:
    with wattprint.track(project="mnist", name="baseline", **model_only) as run:
        for epoch in range(3):
            with run.task(f"epoch-{epoch}") as window:
                busy(0.05)
            assert window.result is not None
            assert window.result.energy_j > 0
            assert set(window.result.components) == {"cpu", "ram"}
    result = run.result
    assert result is not None
    assert result.project == "mnist" and result.name == "baseline" and result.status == "finished"
    assert result.energy_kwh == pytest.approx(result.energy_j / 3.6e6)
    assert [t.name for t in result.tasks] == ["epoch-0", "epoch-1", "epoch-2"]
    assert sum(t.energy_j for t in result.tasks) <= result.energy_j
    assert result.method == "model"
    assert 0 < result.uncertainty_rel < 1
    assert len(result.run_id) == 32


def test_windows_nest_and_overlap_with_exact_edges(no_rapl: str) -> None:
    with gpu_tracker(no_rapl, power_w=100.0, gpus=True) as run:
        outer = run.task("outer").start()
        first = run.task("first").start()
        time.sleep(0.1)
        second = run.task("second").start()  # overlaps first
        time.sleep(0.1)
        first.stop()
        time.sleep(0.1)
        second.stop()
        outer.stop()
    for window in (outer, first, second):
        gpu = window.result.components["gpu"]
        assert gpu.energy_j == pytest.approx(100.0 * window.result.duration_s, rel=0.01)
    assert first.result.duration_s + second.result.duration_s > outer.result.duration_s  # they overlap
    assert outer.result.energy_j >= max(first.result.energy_j, second.result.energy_j)


def test_snapshot_gives_live_totals(no_rapl: str) -> None:
    run = gpu_tracker(no_rapl, power_w=50.0).start()
    try:
        time.sleep(0.1)
        early = run.snapshot()
        time.sleep(0.1)
        later = run.snapshot()
        assert early.status == "running"
        assert later.energy_j > early.energy_j
        assert later.components["gpu"].energy_j == pytest.approx(50.0 * later.duration_s, rel=0.02)
        with run.task("t") as window:
            time.sleep(0.02)
            live = window.snapshot()
        assert 0 < live.energy_j <= window.result.energy_j
    finally:
        run.stop()


def test_start_after_stop_is_a_fresh_run_and_stop_twice_is_harmless(model_only: dict[str, object]) -> None:
    run = wattprint.Tracker(**model_only)
    run.start()
    with run.task("one"):
        pass
    first = run.stop()
    assert run.stop() is first
    run.start()
    second = run.stop()
    assert first is not None and second is not None
    assert first.run_id != second.run_id
    assert second.tasks == ()
    assert len(first.tasks) == 1


def test_decorator_with_and_without_arguments(model_only: dict[str, object]) -> None:
    @wattprint.track(project="p", **model_only)
    def train(n: int) -> int:
        return busy(0.02) + n

    assert train(1) > 1
    assert train.result.project == "p"
    assert train.result.name.endswith("train")
    first_id = train.result.run_id
    train(2)
    assert train.result.run_id != first_id

    @wattprint.track
    def plain() -> str:
        return "ok"

    assert plain() == "ok"
    assert plain.result.status == "finished"


def test_decorated_function_that_raises_is_recorded_as_failed(model_only: dict[str, object]) -> None:
    @wattprint.track(**model_only)
    def broken() -> None:
        raise KeyError("boom")

    with pytest.raises(KeyError):
        broken()
    assert broken.result.status == "failed"


def test_async_functions_can_be_decorated(model_only: dict[str, object]) -> None:
    @wattprint.track(**model_only)
    async def serve() -> int:
        await asyncio.sleep(0.01)
        return 7

    assert asyncio.run(serve()) == 7
    assert serve.result.duration_s >= 0.01


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"attribution": "gpu"}, "attribution = 'gpu' from argument: must be one of 'machine', 'process', 'cgroup'"),
        ({"interval_s": 0}, "interval_s = 0 from argument: must be a number between 0.01 and 3600"),
        ({"interval_s": "1"}, "interval_s = '1' from argument: must be a number"),
        ({"rapl_domains": ("core",)}, "rapl_domains = ('core',) from argument: must be a non-empty list of"),
        ({"pid": 1234}, "pid= only applies"),
        ({"attribution": "process", "pid": 2**30}, "no such process"),
        ({"cpu_tdp_w": -5}, "cpu_tdp_w = -5 from argument: must be a number between 1 and 10000"),
        ({"project": ""}, "project must be a non-empty string"),
        ({"gpus": "yes"}, "gpus = 'yes' from argument: must be true or false"),
    ],
)
def test_invalid_arguments_raise_at_construction(kwargs: dict[str, object], message: str) -> None:
    import re

    with pytest.raises(ConfigError, match=re.escape(message)):
        wattprint.Tracker(**kwargs)


def test_task_outside_a_running_tracker_says_what_to_do(model_only: dict[str, object]) -> None:
    run = wattprint.Tracker(**model_only)
    with pytest.raises(TrackerStateError, match="call run.start"):
        run.task("x")
    with pytest.raises(TrackerStateError):
        run.snapshot()


def test_windows_open_when_the_run_stops_end_with_it(model_only: dict[str, object]) -> None:
    run = wattprint.Tracker(**model_only).start()
    window = run.task("left-open").start()
    result = run.stop()
    assert window.result is not None
    assert window.stop() is window.result
    assert result is not None and [t.name for t in result.tasks] == ["left-open"]


def test_the_first_footprint_is_prepared_in_the_background_while_running(model_only: dict[str, object]) -> None:
    from wattprint.measure.meter import get_meter

    with wattprint.Tracker(location="FR", **model_only) as run:
        deadline = time.monotonic() + 10
        while run._intensity is None and time.monotonic() < deadline:  # nothing on the user's thread asked for it
            time.sleep(0.05)
        prepared = run._intensity
    assert prepared is not None and prepared.zone == "FR"
    assert run.result is not None and run.result.footprint is not None
    assert run.result.footprint.intensity is prepared
    with wattprint.Tracker(location="DE", **model_only) as quick:
        pass  # stopped before the job ran: stop prices the run itself, and the job is gone
    assert quick.result is not None and quick.result.footprint is not None
    assert quick.result.footprint.intensity.zone == "DE"
    assert not [job for job in get_meter()._jobs.values() if job[2] == "prepare-footprint"]


def test_a_hundred_start_stop_cycles_leave_no_thread(model_only: dict[str, object]) -> None:
    before = threading.active_count()
    run = wattprint.Tracker(**model_only)
    for _ in range(100):
        run.start()
        run.stop()
    from wattprint.sinks.recorder import current_writer

    writer = current_writer()
    assert writer is None or writer.wait_idle(timeout=30)  # the runs are saved by then
    assert threading.active_count() == before
    assert not [t for t in threading.enumerate() if t.name.startswith("wattprint")]


def test_one_sampler_thread_is_shared_by_concurrent_trackers(no_rapl: str) -> None:
    results: dict[int, wattprint.RunResult] = {}
    meter_threads: set[int] = set()
    barrier = threading.Barrier(4)

    def worker(index: int) -> None:
        with gpu_tracker(no_rapl, power_w=100.0, name=f"worker-{index}") as run:
            barrier.wait()
            with run.task("work"):
                time.sleep(0.15)
            meter_threads.update(t.ident or 0 for t in threading.enumerate() if t.name == "wattprint-meter")
            barrier.wait()
        results[index] = run.result

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(meter_threads) == 1
    assert sorted(results) == [0, 1, 2, 3]
    for result in results.values():
        assert result.components["gpu"].energy_j == pytest.approx(100.0 * result.duration_s, rel=0.02)
        assert len({r.run_id for r in results.values()}) == 4


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_measures_on_its_own(no_rapl: str) -> None:
    parent = gpu_tracker(no_rapl, power_w=80.0).start()
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        status = 1
        try:
            assert parent.stop() is None  # the parent's run is not the child's to stop
            with gpu_tracker(no_rapl, power_w=80.0) as child:
                time.sleep(0.1)
            threads = [t.name for t in threading.enumerate()]
            ok = child.result.components["gpu"].energy_j > 0 and "wattprint-meter" not in threads
            os.write(write_fd, f"{child.result.energy_j:.3f} {ok}".encode())
            status = 0
        finally:
            os._exit(status)
    os.close(write_fd)
    message = os.read(read_fd, 1024).decode()
    os.close(read_fd)
    _, status = os.waitpid(pid, 0)
    assert status == 0, message
    energy, ok = message.split()
    assert ok == "True" and float(energy) > 0
    time.sleep(0.05)
    result = parent.stop()
    assert result is not None
    assert result.components["gpu"].energy_j == pytest.approx(80.0 * result.duration_s, rel=0.02)


def test_no_network_and_no_subprocess_while_tracking(
    model_only: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []

    def forbidden(name: str):  # noqa: ANN202
        def refuse(*args: object, **kwargs: object) -> None:
            calls.append(name)
            raise AssertionError(f"{name} called while tracking")

        return refuse

    monkeypatch.setattr(socket.socket, "connect", forbidden("socket.connect"))
    monkeypatch.setattr(socket, "create_connection", forbidden("socket.create_connection"))
    monkeypatch.setattr(subprocess.Popen, "__init__", forbidden("subprocess.Popen"))
    monkeypatch.setattr(os, "system", forbidden("os.system"))
    with wattprint.track(attribution="process", interval_s=0.05, **model_only) as run:
        with run.task("t"):
            busy(0.2)
        run.snapshot()
    assert calls == []
    assert run.result.energy_j > 0


def test_a_failing_sensor_never_raises_into_user_code(no_rapl: str) -> None:
    gpu = FakeGpu(power_w=100.0, lost_after_s=0.05)
    with wattprint.Tracker(nvml=FakeNvml([gpu]), powercap_root=no_rapl, interval_s=0.02) as run:
        for _ in range(5):
            with run.task("step"):
                time.sleep(0.03)
    assert run.result.status == "finished"
    assert any("No longer measured" in note for note in run.result.notes)


def test_results_serialise_to_json(model_only: dict[str, object]) -> None:
    import json

    with wattprint.track(project="j", **model_only) as run:
        with run.task("t"):
            pass
    data = json.loads(json.dumps(run.result.to_dict()))
    assert data["project"] == "j"
    assert data["energy_kwh"] == pytest.approx(run.result.energy_kwh)
    assert data["components"]["cpu"]["method"] == "model"
    assert data["tasks"][0]["name"] == "t"
    assert {"energy_j", "avg_power_w", "method", "uncertainty_rel"} <= set(data["devices"][0])


def test_importing_and_starting_a_tracker_leaves_the_result_types_for_later(no_rapl: str) -> None:
    """The result dataclasses cost milliseconds to create: the import of Tracker and its start() do without them,
    and the meter's thread creates them before stop() needs them."""
    code = (
        "import sys, time\n"
        "from wattprint import Tracker\n"
        "imported = 'wattprint.core.results' in sys.modules\n"
        f"run = Tracker(store='off', gpus=False, powercap_root={no_rapl!r}).start()\n"
        "started = 'wattprint.core.results' in sys.modules\n"
        "deadline = time.monotonic() + 20\n"
        "while 'wattprint.core.results' not in sys.modules and time.monotonic() < deadline:\n"
        "    time.sleep(0.05)\n"
        "prepared = 'wattprint.core.results' in sys.modules\n"
        "result = run.stop()\n"
        "print(imported, started, prepared, type(result).__name__)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "False", "True", "RunResult"]
