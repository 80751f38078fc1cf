"""Runs recorded by the tracker into a real store: totals, intervals, tasks, flushes, and stores that fail."""

from __future__ import annotations

import logging
import subprocess
import sys
import time
from pathlib import Path

import pytest

import wattprint
from tests.fakes.fake_nvml import FakeGpu, FakeNvml
from wattprint.store import open_store


def gpu_run(store: str, no_rapl: str, **kwargs: object) -> wattprint.Tracker:
    return wattprint.Tracker(nvml=FakeNvml([FakeGpu(power_w=100.0)]), powercap_root=no_rapl, store=store, **kwargs)


def test_a_run_is_saved_with_its_totals_intervals_and_tasks(tmp_path: Path, no_rapl: str) -> None:
    url = f"sqlite:///{tmp_path / 'runs.sqlite'}"
    with gpu_run(url, no_rapl, project="p", name="saved", flush_interval_s=0.1) as run:
        for i in range(3):
            with run.task(f"epoch-{i}"):
                time.sleep(0.1)
    assert run.wait_saved(timeout=30)
    result = run.result
    assert result is not None
    with open_store(url) as store:
        record = store.run(result.run_id)
        assert (record.project, record.name, record.status) == ("p", "saved", "finished")
        assert record.energy_j == pytest.approx(result.energy_j)
        assert record.ended_at is not None and record.pid > 0
        components = store.components(result.run_id)
        assert {(c.component, c.device, c.method) for c in components} == {
            (d.component, d.device, d.method) for d in result.devices
        }
        intervals = store.intervals(result.run_id)
        assert {i.bucket for i in intervals} == {0}  # a 0.3 s run fits in the first 10 s bucket
        assert sum(i.energy_j for i in intervals) == pytest.approx(result.energy_j, rel=1e-9)
        gpu = [i for i in intervals if i.component == "gpu"]
        assert sum(i.energy_j for i in gpu) == pytest.approx(100.0 * result.duration_s, rel=0.01)
        tasks = store.tasks(result.run_id)
        assert [t.name for t in tasks] == ["epoch-0", "epoch-1", "epoch-2"]
        assert tasks[0].energy_j == pytest.approx(result.tasks[0].energy_j)
        assert {c.component for c in tasks[0].components} == set(result.tasks[0].components)


def test_a_running_run_is_flushed_periodically(tmp_path: Path, no_rapl: str) -> None:
    url = f"sqlite:///{tmp_path / 'runs.sqlite'}"
    run = gpu_run(url, no_rapl, flush_interval_s=0.1).start()
    try:
        deadline = time.monotonic() + 20
        record = None
        while time.monotonic() < deadline:
            time.sleep(0.2)
            try:
                with open_store(url) as store:
                    record = store.run("last")
            except LookupError:
                continue
            if record.energy_j > 10:
                break
        assert record is not None and record.status == "running" and record.ended_at is None
        assert record.energy_j > 10
    finally:
        run.stop()
    assert run.wait_saved(timeout=30)


def test_an_unwritable_store_never_breaks_the_job_and_is_replayed_later(
    tmp_path: Path, no_rapl: str, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the store's directory should be")
    url = f"sqlite:///{blocker / 'runs.sqlite'}"
    caplog.set_level(logging.WARNING, logger="wattprint")
    results = []
    for _ in range(2):
        with gpu_run(url, no_rapl) as run:
            with run.task("work"):
                time.sleep(0.05)
        assert run.wait_saved(timeout=30)
        results.append(run.result)
    assert all(r is not None and r.energy_j > 0 for r in results)  # measured and kept in memory
    warnings = [r.message for r in caplog.records if "cannot be saved to the store" in r.message]
    assert len(warnings) == 1  # once, with the reason and where the runs went
    assert "spool" in warnings[0]
    from wattprint.sinks.recorder import spool_dir

    spooled = list(Path(spool_dir(url)).glob("*.json"))
    assert len(spooled) == 2

    # The store's directory becomes creatable: the next process to use the store saves the spooled runs.
    blocker.unlink()
    code = (
        "import wattprint\n"
        f"run = wattprint.Tracker(store={url!r}, gpus=False, powercap_root={no_rapl!r}).start()\n"
        "run.stop(); assert run.wait_saved(30)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
    with open_store(url) as store:
        saved = {r.run_id for r in store.runs(limit=None)}
        assert {r.run_id for r in results} <= saved and len(saved) == 3
        for result in results:
            assert store.run(result.run_id).energy_j == pytest.approx(result.energy_j)
            assert store.tasks(result.run_id)[0].name == "work"
    assert list(Path(spool_dir(url)).glob("*.json")) == []


def test_a_database_that_is_down_does_not_slow_the_job(tmp_path: Path, no_rapl: str) -> None:
    url = "postgresql://wattprint@127.0.0.1:9/nothing-listens-here"
    started = time.perf_counter()
    with gpu_run(url, no_rapl) as run:
        time.sleep(0.05)
    elapsed = time.perf_counter() - started
    assert run.result is not None and run.result.energy_j > 0
    assert elapsed < 2.0  # the store is opened by the writer thread, never on the job's thread
    assert run.wait_saved(timeout=30)


WRITER = """
import sys, time, wattprint
for i in range(5):
    with wattprint.track(project=sys.argv[1], name=f"run-{i}", gpus=False, powercap_root=sys.argv[2]) as run:
        with run.task("t"):
            time.sleep(0.01)
    assert run.wait_saved(30)
"""


def test_several_processes_recording_into_one_store(
    tmp_path: Path, no_rapl: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'shared.sqlite'}"
    monkeypatch.setenv("WATTPRINT_STORE", url)
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, f"w{i}", no_rapl]) for i in range(3)]
    assert [w.wait(timeout=120) for w in writers] == [0, 0, 0]
    with open_store(url) as store:
        runs = store.runs(limit=None)
        assert len(runs) == 15 and len({r.run_id for r in runs}) == 15
        assert sorted(store.projects()) == ["w0", "w1", "w2"]
        assert all(r.status == "finished" for r in runs)
        assert all(len(store.tasks(r.run_id)) == 1 for r in runs)


def test_a_tracked_process_saves_into_an_existing_store_without_sqlalchemy(tmp_path: Path, no_rapl: str) -> None:
    url = f"sqlite:///{tmp_path / 'runs.sqlite'}"
    code = (
        "import sys, time, wattprint\n"
        f"with wattprint.track(store={url!r}, project='light', gpus=False, powercap_root={no_rapl!r}) as run:\n"
        "    with run.task('t'):\n"
        "        time.sleep(0.05)\n"
        "assert run.wait_saved(30)\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'sqlalchemy', 'alembic'}))\n"
    )
    first = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == "['alembic', 'sqlalchemy']"  # a new store is created through the migrations
    second = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert second.returncode == 0, second.stderr
    assert second.stdout.strip() == "[]"  # an existing one is written with sqlite3 alone
    with open_store(url) as store:
        runs = store.runs(project="light", limit=None)
        assert len(runs) == 2 and all(r.status == "finished" for r in runs)
        assert all(store.tasks(r.run_id)[0].name == "t" for r in runs)
