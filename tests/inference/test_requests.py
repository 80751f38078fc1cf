"""Requests inside a real tracker: shares of counter energy set exactly, overlapping threads and asyncio tasks
adding up to the measured energy, idle time, and the errors for misuse."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import pytest

import wattprint
from tests.fakes.sysfs import CounterDriver, set_energy, write_zone
from wattprint.core.errors import ConfigError, TrackerStateError
from wattprint.inference import summarize
from wattprint.run.requests import request_edges


def rapl_tree(root: Path) -> tuple[str, Path, Path]:
    control = root / "powercap" / "intel-rapl"
    package = write_zone(control, "intel-rapl:0", "package-0", 0)
    dram = write_zone(control, "intel-rapl:0:0", "dram", 0, parent=package)
    return str(root / "powercap"), package, dram


def peak_concurrency(spans: list[tuple[float, float]]) -> int:
    events = sorted([(start, 1) for start, _ in spans] + [(end, -1) for _, end in spans])
    level = peak = 0
    for _, change in events:
        level += change
        peak = max(peak, level)
    return peak


def busy(seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def test_counter_energy_set_between_exact_edges_is_shared_exactly_and_idle_kept_apart(tmp_path: Path) -> None:
    root, package, dram = rapl_tree(tmp_path)
    with wattprint.Tracker(powercap_root=root, gpus=False, store="off") as run:
        request_edges(run, "meter")  # the counters jump between edges: each edge reads them
        set_energy(package, 1_000_000)  # 1 J before any request: idle
        a = run.request(endpoint="/generate").start()
        set_energy(package, 5_000_000)  # 4 J, A alone
        b = run.request(endpoint="/generate").start()
        set_energy(package, 13_000_000)  # 8 J shared by A and B (sizes unknown: equally)
        b.stop()
        set_energy(package, 15_000_000)  # 2 J, A alone
        set_energy(dram, 1_000_000)  # and 1 J of RAM
        a.stop()
        set_energy(package, 18_000_000)  # 3 J idle
    assert run.result is not None and run.result.energy_j == pytest.approx(19.0)
    assert a.energy is not None and b.energy is not None
    assert a.energy.energy_j == pytest.approx(4 + 4 + 2 + 1)
    assert b.energy.energy_j == pytest.approx(4)
    assert a.energy.method == "counter" and a.energy.sharing == "time" and a.energy.endpoint == "/generate"
    assert a.energy.edges == "meter" and a.energy.interpolation_uncertainty_rel == 0.0
    assert b.energy.uncertainty_rel == pytest.approx(0.05)  # the package counter's own, nothing added
    result = summarize(run)
    assert result is not None
    assert result.idle_energy_j == pytest.approx(4.0)
    assert result.whole.energy_j + result.idle_energy_j == pytest.approx(run.result.energy_j, rel=1e-9)
    assert result.measured_energy_j == pytest.approx(run.result.energy_j, rel=1e-12)
    assert [r.request_id for r in result.records()] == ["1", "2"]
    assert all(r.run_id == run.run_id for r in result.records())


def test_overlapping_requests_from_threads_add_up_to_the_measured_energy(tmp_path: Path) -> None:
    root, package, dram = rapl_tree(tmp_path)
    threads_n, rounds = 4, 5
    together = threading.Barrier(threads_n)
    errors: list[BaseException] = []
    with CounterDriver({package: 40.0, dram: 5.0}, max_range_uj=262_143_328_850), \
            wattprint.Tracker(powercap_root=root, gpus=False, store="off") as run:

        def client(index: int) -> None:
            try:
                for round_ in range(rounds):
                    with run.request(tokens_in=10 + index) as req:
                        together.wait(timeout=30)  # every thread is inside a request at once
                        busy(0.002 * (index + 1))
                        req.tokens_out = 5 * (round_ + 1)
                    busy(0.001)
            except BaseException as error:  # noqa: BLE001 - reported by the main thread
                errors.append(error)

        threads = [threading.Thread(target=client, args=(i,)) for i in range(threads_n)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert not errors
    assert run.result is not None
    result = summarize(run)
    assert result is not None
    assert result.whole.requests == threads_n * rounds and result.open_requests == 0
    assert result.unsettled_energy_j == 0.0
    total = sum(r.energy_j for r in result.requests) + result.idle_energy_j
    assert total == pytest.approx(run.result.energy_j, rel=1e-9)
    assert peak_concurrency([(r.start_s, r.end_s) for r in result.requests]) == threads_n
    assert result.window is not None and result.steady is not None
    assert result.whole.method == "counter" and result.whole.sharing in ("tokens", "mixed")
    assert result.whole.tokens_out == threads_n * sum(5 * (r + 1) for r in range(rounds))


def test_overlapping_requests_from_asyncio_add_up_to_the_measured_energy(model_only: dict[str, object]) -> None:
    tasks_n = 6
    results = []

    async def serve(run: wattprint.Tracker) -> None:
        entered = 0
        all_in = asyncio.Event()

        async def handle(index: int) -> None:
            nonlocal entered
            async with run.request(tokens_in=index + 1) as req:
                entered += 1
                if entered == tasks_n:
                    all_in.set()
                await asyncio.wait_for(all_in.wait(), timeout=30)  # every task is inside a request at once
                busy(0.003)
                await asyncio.sleep(0)
                req.tokens_out = 2 * index
            results.append(req)

        await asyncio.gather(*(handle(i) for i in range(tasks_n)))

    with wattprint.Tracker(store="off", **model_only) as run:  # type: ignore[arg-type]
        asyncio.run(serve(run))
        busy(0.01)
    assert run.result is not None
    result = summarize(run)
    assert result is not None and result.whole.requests == tasks_n
    assert peak_concurrency([(r.start_s, r.end_s) for r in result.requests]) == tasks_n
    assert all(req.energy is not None and req.energy.energy_j > 0 for req in results)
    total = sum(r.energy_j for r in result.requests) + result.idle_energy_j
    assert total == pytest.approx(run.result.energy_j, rel=1e-9)
    assert result.whole.method == "model"  # this machine's CPU and RAM models: never called measured
    assert result.idle_energy_j > 0


def test_a_request_still_open_when_the_run_stops_ends_with_it(model_only: dict[str, object]) -> None:
    run = wattprint.Tracker(store="off", **model_only).start()  # type: ignore[arg-type]
    req = run.request(tokens_in=3).start()
    busy(0.005)
    result = run.stop()
    assert result is not None
    req.stop()  # after the run: keeps the run's end
    found = summarize(run)
    assert found is not None and found.whole.requests == 1 and found.open_requests == 0
    assert found.requests[0].end_s == pytest.approx(result.duration_s)
    assert found.whole.energy_j + found.idle_energy_j == pytest.approx(result.energy_j, rel=1e-9)


def test_each_run_of_a_tracker_has_its_own_requests(model_only: dict[str, object]) -> None:
    run = wattprint.Tracker(store="off", **model_only)  # type: ignore[arg-type]
    with run:
        with run.request(items=2):
            busy(0.001)
    assert summarize(run) is not None
    with run:
        pass
    assert summarize(run) is None  # the second run served none


@pytest.mark.parametrize(
    ("sizes", "message"),
    [
        ({"tokens_in": -1}, "tokens_in must be 0 or more, got -1"),
        ({"tokens_out": 2.5}, "tokens_out must be a whole number of tokens"),
        ({"items": True}, "items must be a whole number of items"),
        ({"tokens_in": "12"}, "tokens_in must be a whole number"),
    ],
)
def test_bad_sizes_are_refused_with_the_fix(model_only: dict[str, object], sizes: dict[str, object],
                                            message: str) -> None:
    with wattprint.Tracker(store="off", **model_only) as run:  # type: ignore[arg-type]
        with pytest.raises(ConfigError, match=message):
            run.request(**sizes)  # type: ignore[arg-type]
        with run.request() as req:
            with pytest.raises(ConfigError, match="0 or more"):
                req.tokens_out = -5
            assert req.tokens_out is None


def test_misuse_of_the_request_lifecycle_says_what_to_do(model_only: dict[str, object]) -> None:
    run = wattprint.Tracker(store="off", **model_only)  # type: ignore[arg-type]
    with pytest.raises(TrackerStateError, match=r"run.request\(\) needs a running tracker"):
        run.request(tokens_in=3)
    with run:
        req = run.request(tokens_in=3)
        with pytest.raises(TrackerStateError, match="never started"):
            req.stop()
        with pytest.raises(TrackerStateError, match="first_token"):
            req.first_token()
        with req:
            with pytest.raises(TrackerStateError, match="already started"):
                req.start()
        with pytest.raises(TrackerStateError, match="before the request ends"):
            req.tokens_out = 4
        req.stop()  # a second stop does nothing
    assert req.energy is not None and req.energy.tokens_in == 3


def test_figures_while_the_run_goes_on_cover_the_settled_requests(model_only: dict[str, object]) -> None:
    with wattprint.Tracker(store="off", **model_only) as run:  # type: ignore[arg-type]
        with run.request(tokens_in=4, tokens_out=6):
            busy(0.002)
        open_one = run.request(tokens_in=1).start()
        so_far = summarize(run)
        assert so_far is not None and so_far.whole.requests == 1 and so_far.open_requests == 1
        assert so_far.whole.emissions_g_per_1000_requests is not None  # priced with the running footprint
        open_one.stop()
    final = summarize(run)
    assert final is not None and final.whole.requests == 2 and final.open_requests == 0
