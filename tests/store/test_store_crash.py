"""The store never loses or rolls back a run: stale spools, outages, locks held at exit, SIGKILL before the first
flush, and private store files (issue 13, items 1-3, 7 and the file mode; issue 12, item 8).

Each test makes the fault itself: a SQLite lock it holds, a PostgreSQL cluster of its own that it stops and
starts, a spool file it leaves behind, a signal it sends.
"""

from __future__ import annotations

import json
import math
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

pytest.register_assert_rewrite("pg")

import wattprint  # noqa: E402
from tests.fakes.fake_nvml import FakeGpu, FakeNvml  # noqa: E402
from tests.fakes.pg import (  # noqa: E402
    PostgresServer,
    find_pg_bin,
    make_components,
    make_intervals,
    make_run,
    make_tasks,
    run_id,
)
from tests.fakes.wait import wait_for  # noqa: E402
from wattprint.sinks import recorder  # noqa: E402
from wattprint.sinks import store as store_sink  # noqa: E402
from wattprint.store import open_store  # noqa: E402
from wattprint.store.spool import pending, spool_save, spooled_files, store_spool_dir  # noqa: E402

WATTPRINT = str(Path(sys.executable).with_name("wattprint"))


# -- 1. monotonic writes (through every way into the store: test_parity.py) ------------------------------------


def test_a_stale_spool_replayed_later_never_rolls_a_finished_run_back(tmp_path: Path) -> None:
    from wattprint.store.spool import replay_spool

    url = f"sqlite:///{tmp_path / 'runs.sqlite'}"
    rid = run_id(13, 3)
    running = make_run(rid, status="running", updated_at=1_760_000_050.1, ended_at=None, duration_s=50.1)
    finished = make_run(rid, status="finished", updated_at=1_760_000_075.0, duration_s=75.0)
    spool = tmp_path / "spool"
    spool_save(spool, running, make_components(), make_intervals(5), make_tasks(1))
    with open_store(url) as store:
        store.save(finished, make_components(), make_intervals(8), make_tasks(3))
        assert replay_spool(spool, store) == 1  # another process replays the old file
        assert store.run(rid) == finished
        assert len(store.tasks(rid)) == 3 and len(store.intervals(rid)) == 24


# -- 2. after an outage, the first save that succeeds writes the whole run -----------------------------------------


def tracked(url: str, no_rapl: str) -> wattprint.Tracker:
    return wattprint.Tracker(nvml=FakeNvml([FakeGpu(power_w=100.0)]), powercap_root=no_rapl, store=url,
                             flush_interval_s=0.1)


@pytest.fixture
def quick_recovery(monkeypatch: pytest.MonkeyPatch) -> None:
    """Short lock waits and retries, and 0.2-s buckets, so an outage spans several buckets within seconds."""
    monkeypatch.setattr(store_sink, "WRITER_LOCK_TIMEOUT_S", 0.3)
    monkeypatch.setattr(store_sink, "RETRY_OPEN_S", 0.0)
    monkeypatch.setattr(store_sink, "RETRY_WRITE_S", 0.0)
    monkeypatch.setattr(recorder, "BUCKET_WIDTHS_S", ((math.inf, 0.2),))


def outage_and_recovery(url: str, no_rapl: str, outage: Callable[[], None], recover: Callable[[], None]) -> None:
    """A run whose store goes away mid-run and comes back: afterwards the store holds the whole run, with every
    task and every bucket, before and after the run ends, and its spool file is gone."""
    run = tracked(url, no_rapl).start()
    try:
        rid = run.run_id
        assert rid is not None
        with open_store(url) as store:
            wait_for(lambda: store.runs(limit=None), "the running row")
        outage()
        spool = Path(recorder.spool_dir(url))
        for i in range(3):
            with run.task(f"during-{i}"):
                time.sleep(0.1)
        wait_for(lambda: (spool / f"{rid}.json").exists(), "a failed flush to spool the run")
        with run.task("during-3"):
            time.sleep(0.3)
        recover()
        with open_store(url) as store:
            # while still running: the recovered store has the tasks and buckets of the outage (not just news)
            wait_for(lambda: len(store.tasks(rid)) == 4, "the whole run in the store after recovery", timeout=60)
            buckets = sorted({i.bucket for i in store.intervals(rid)})
            assert buckets == list(range(len(buckets)))  # no bucket of the outage missing
    finally:
        run.stop()
    assert run.wait_saved(timeout=60)
    result = run.result
    assert result is not None
    with open_store(url) as store:
        assert store.run(rid).status == "finished"
        assert [t.name for t in store.tasks(rid)] == [f"during-{i}" for i in range(4)]
        intervals = store.intervals(rid)
        buckets = sorted({i.bucket for i in intervals})
        assert buckets == list(range(len(buckets)))
        assert sum(i.energy_j for i in intervals) == pytest.approx(result.energy_j, rel=1e-6)
    assert not spool.joinpath(f"{rid}.json").exists()  # retired: no stale state left to replay


def test_a_sqlite_store_locked_mid_run_gets_the_whole_run_once_it_is_free(
    tmp_path: Path, no_rapl: str, quick_recovery: None
) -> None:
    path = tmp_path / "runs.sqlite"
    open_store(str(path)).close()
    holder = sqlite3.connect(path, isolation_level=None)

    def lock() -> None:
        holder.execute("BEGIN EXCLUSIVE")  # as a full disk would, every write fails until it is released

    def unlock() -> None:
        holder.execute("ROLLBACK")

    try:
        outage_and_recovery(f"sqlite:///{path}", no_rapl, lock, unlock)
    finally:
        holder.close()


class RestartablePostgres(PostgresServer):
    """A throwaway cluster of this test's own, stopped and started again on the same port and data."""

    def options(self) -> str:
        return (f"-c listen_addresses=127.0.0.1 -p {self.port} -c unix_socket_directories={self.root} "
                "-c fsync=off -c synchronous_commit=off")

    paused = False

    def pause(self) -> None:
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")
        self.paused = True

    def resume(self) -> None:
        self.paused = False
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "server.log"), "-w",
                  "-t", "60", "-o", self.options(), "start")


@pytest.fixture
def own_postgres() -> Any:
    pytest.importorskip("psycopg")
    bindir = find_pg_bin()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    server = RestartablePostgres(bindir)
    try:
        server.start()
        yield server
    finally:
        if server.paused:  # a test that failed mid-outage: nothing runs any more, only the files remain
            import shutil

            shutil.rmtree(server.root, ignore_errors=True)
        else:
            server.stop()


def test_postgres_stopped_mid_run_gets_the_whole_run_once_it_is_back(
    own_postgres: RestartablePostgres, no_rapl: str, quick_recovery: None
) -> None:
    outage_and_recovery(own_postgres.admin_url, no_rapl, own_postgres.pause, own_postgres.resume)


# -- 3. a store held locked while a run ends: bounded waits, then the spool, before exit ---------------------------

LOCKED_CHILD = """
import sys, time, wattprint
with wattprint.track(store=sys.argv[1], name="locked-out", gpus=False, powercap_root=sys.argv[2]) as run:
    with run.task("t"):
        time.sleep(0.05)
print(run.run_id, flush=True)
"""


def test_a_run_ending_while_the_sqlite_store_is_locked_is_spooled_before_a_prompt_exit(
    tmp_path: Path, no_rapl: str
) -> None:
    path = tmp_path / "runs.sqlite"
    url = f"sqlite:///{path}"
    open_store(str(path)).close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        child = subprocess.Popen([sys.executable, "-c", LOCKED_CHILD, url, no_rapl], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True, env=dict(os.environ, WATTPRINT_STORE=url))
        assert child.stdout is not None
        rid = child.stdout.readline().strip()  # the run has ended: from here on the process only saves and exits
        ended = time.monotonic()
        child.wait(timeout=120)
        exit_delay_s = time.monotonic() - ended
        assert child.returncode == 0, child.stderr.read() if child.stderr else ""
        assert len(rid) == 32
        # bounded: the lock waits are seconds (store_sink.WRITER_LOCK_TIMEOUT_S), not the 30-s busy timeout, twice
        assert exit_delay_s < 2 * recorder.EXIT_DRAIN_S
        waiting = {w.run_id: w for w in pending(url)}
        assert rid in waiting and waiting[rid].status == "finished" and waiting[rid].tasks == 1
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    env = dict(os.environ, WATTPRINT_STORE=url)
    listed = subprocess.run([WATTPRINT, "runs", "--json"], env=env, capture_output=True, text=True, timeout=120)
    assert listed.returncode == 0, listed.stderr
    assert [(r["run_id"], r["status"]) for r in json.loads(listed.stdout)] == [(rid, "finished")]
    assert pending(url) == []


def test_postgres_lock_table_runs_bounds_the_final_save_and_spools_it(
    pg_url: str, no_rapl: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import psycopg

    monkeypatch.setattr(store_sink, "WRITER_LOCK_TIMEOUT_S", 0.5)
    open_store(pg_url).close()
    with psycopg.connect(pg_url) as holder:
        holder.execute("LOCK TABLE runs IN ACCESS EXCLUSIVE MODE")
        started = time.monotonic()
        with tracked(pg_url, no_rapl) as run:
            with run.task("t"):
                time.sleep(0.05)
        assert run.wait_saved(timeout=60)
        assert time.monotonic() - started < 30
        rid = run.run_id
        assert rid in {w.run_id for w in pending(pg_url)}
        holder.rollback()
    with open_store(pg_url) as store:
        from wattprint.store.spool import replay_pending

        assert replay_pending(pg_url, store) == 1
        assert store.run(rid).status == "finished" and len(store.tasks(rid)) == 1


# -- 7. a job killed before its first flush still leaves its run ---------------------------------------------------

EARLY_CHILD = """
import sys, time, wattprint
run = wattprint.Tracker(store=sys.argv[1], name="early", gpus=False, powercap_root=sys.argv[2],
                        flush_interval_s=3600).start()
print(run.run_id, flush=True)
time.sleep(600)
"""


def test_a_job_killed_before_its_first_flush_is_shown_as_killed(tmp_path: Path, no_rapl: str) -> None:
    path = tmp_path / "runs.sqlite"
    url = f"sqlite:///{path}"
    open_store(url).close()
    child = subprocess.Popen([sys.executable, "-c", EARLY_CHILD, url, no_rapl], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        rid = child.stdout.readline().strip()

        def stored() -> bool:
            with sqlite3.connect(path) as connection:
                return connection.execute("SELECT 1 FROM runs WHERE run_id = ?", (rid,)).fetchone() is not None

        # the running row comes right after start(), long before the first flush interval (an hour) ends
        wait_for(stored, "the running row written at start", timeout=60)
        child.send_signal(signal.SIGKILL)
    finally:
        child.kill()
        child.wait()
    env = dict(os.environ, WATTPRINT_STORE=url)
    listed = subprocess.run([WATTPRINT, "runs", "--json"], env=env, capture_output=True, text=True, timeout=120)
    assert listed.returncode == 0, listed.stderr
    assert [(r["run_id"], r["status"], r["name"]) for r in json.loads(listed.stdout)] == [(rid, "killed", "early")]


# -- 13. store files at a custom path are private ------------------------------------------------------------------


def test_a_new_store_file_at_a_custom_path_is_created_0600(tmp_path: Path, no_rapl: str) -> None:
    custom = tmp_path / "custom" / "team.sqlite"
    open_store(str(custom)).close()
    assert custom.stat().st_mode & 0o777 == 0o600
    tracked_path = tmp_path / "tracked.sqlite"
    with wattprint.track(store=str(tracked_path), gpus=False, powercap_root=no_rapl) as run:
        pass
    assert run.wait_saved(timeout=60)
    for path in [tracked_path, *tmp_path.glob("tracked.sqlite-*")]:
        assert path.stat().st_mode & 0o777 == 0o600, path


# -- 12.8. reading commands replay the spool; doctor shows what waits in it ----------------------------------------


def test_reading_commands_show_spooled_runs_and_doctor_lists_them(tmp_path: Path) -> None:
    path = tmp_path / "runs.sqlite"
    url = f"sqlite:///{path}"
    open_store(url).close()
    rid = run_id(13, 8)
    spool_save(store_spool_dir(url), make_run(rid, name="spooled-while-down"), make_components(), make_intervals(2),
               make_tasks(1))
    env = dict(os.environ, WATTPRINT_STORE=url)
    doctor = subprocess.run([WATTPRINT, "doctor", "--json"], env=env, capture_output=True, text=True, timeout=120)
    waiting = [c for c in json.loads(doctor.stdout) if c["area"] == "store" and "spool" in c["summary"]]
    assert len(waiting) == 1 and rid[:8] in waiting[0]["summary"] and "1 run(s)" in waiting[0]["summary"]
    listed = subprocess.run([WATTPRINT, "runs", "--json"], env=env, capture_output=True, text=True, timeout=120)
    assert listed.returncode == 0, listed.stderr
    assert [r["run_id"] for r in json.loads(listed.stdout)] == [rid]
    assert spooled_files(store_spool_dir(url)) == []
    shown = subprocess.run([WATTPRINT, "show", rid[:8], "--json"], env=env, capture_output=True, text=True,
                           timeout=120)
    assert json.loads(shown.stdout)["name"] == "spooled-while-down"


def test_a_reading_command_never_fails_on_a_spool_it_cannot_replay(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'runs.sqlite'}"
    open_store(url).close()
    directory = Path(store_spool_dir(url))
    directory.mkdir(parents=True)
    (directory / f"{run_id(13, 9)}.json").write_text("{not json")
    env = dict(os.environ, WATTPRINT_STORE=url)
    listed = subprocess.run([WATTPRINT, "runs", "--json"], env=env, capture_output=True, text=True, timeout=120)
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout) == []

