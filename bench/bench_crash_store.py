"""Attacks on the run store's promises, rerun with figures (issue 13): nothing lost, nothing rolled back.

    python bench/bench_crash_store.py [--kills 20] [--locked 3] [--pg-trials 1]

1. SIGKILL at random times: a tracked process (flush every 2 s) killed 0-5 s after ``start()``. Every run must
   be in the store, shown as ``killed``; the loss is the run's age at the kill minus its stored duration.
   Every fourth kill comes within 0.5 s of ``start()``, before the first periodic flush.
2. A locked SQLite store: the store is held ``BEGIN EXCLUSIVE`` while a run ends. The process must exit
   promptly with the run in the spool, and ``wattprint runs`` must show it once the lock is released.
3. PostgreSQL restarted mid-run: a 12-s run with a task every 50 ms into a throwaway cluster that is stopped
   at 3 s and started again at 7 s. The store must end up with every task and every bucket.

Real processes, a real SQLite file and a real PostgreSQL server (``tests/fakes/pg.py`` starts one from the installed
binaries); no RAPL or GPU needed (the CPU and RAM models measure).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "fakes"))
WATTPRINT = str(Path(sys.executable).with_name("wattprint"))

KILLED_CHILD = """
import sys, time, wattprint
run = wattprint.Tracker(store=sys.argv[1], gpus=False, powercap_root=sys.argv[2], flush_interval_s=2.0).start()
print(run.run_id, flush=True)
while True:
    with run.task("step"):
        time.sleep(0.05)
"""

LOCKED_CHILD = """
import sys, time, wattprint
with wattprint.track(store=sys.argv[1], name="locked-out", gpus=False, powercap_root=sys.argv[2]) as run:
    with run.task("t"):
        time.sleep(0.2)
print(run.run_id, flush=True)
"""

PG_CHILD = """
import sys, time, wattprint
end = time.monotonic() + float(sys.argv[3])
with wattprint.track(store=sys.argv[1], name="pg-restart", gpus=False, powercap_root=sys.argv[2],
                     flush_interval_s=1.0) as run:
    print(run.run_id, flush=True)
    count = 0
    while time.monotonic() < end:
        with run.task(f"task-{count}"):
            time.sleep(0.05)
        count += 1
print(count, flush=True)
"""


def environment(work: Path, store: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WATTPRINT_")}
    env.update(WATTPRINT_STORE=store, WATTPRINT_CONFIG=os.devnull, XDG_DATA_HOME=str(work / "data"))
    return env


def sigkill(work: Path, no_rapl: str, trials: int) -> dict[str, object]:
    from wattprint.store import open_store

    url = f"sqlite:///{work / 'killed.sqlite'}"
    env = environment(work, url)
    open_store(url).close()  # an existing store, as a user's is after the first run (creating one migrates it)
    losses, present, killed, missing = [], 0, 0, []
    ages_present: list[float] = []
    rng = random.Random(13)
    for _ in range(trials):
        child = subprocess.Popen([sys.executable, "-c", KILLED_CHILD, url, no_rapl], stdout=subprocess.PIPE,
                                 text=True, env=env)
        assert child.stdout is not None
        rid = child.stdout.readline().strip()
        started = time.monotonic()
        time.sleep(rng.uniform(0.0, 5.0) if _ % 4 else rng.uniform(0.0, 0.5))  # every 4th within 0.5 s
        child.send_signal(signal.SIGKILL)
        age = time.monotonic() - started
        child.wait()
        with open_store(url) as store:
            try:
                record = store.run(rid)
            except LookupError:
                missing.append(round(age, 3))
                continue
        present += 1
        ages_present.append(age)
        killed += record.status == "killed"
        losses.append(max(0.0, age - record.duration_s))
    return {"trials": trials, "present": present, "shown_killed": killed, "max_loss_s": round(max(losses), 2),
            "median_loss_s": round(sorted(losses)[len(losses) // 2], 2), "flush_interval_s": 2.0,
            "missing_killed_at_age_s": missing, "youngest_present_s": round(min(ages_present), 3)}


def locked(work: Path, no_rapl: str, trials: int) -> dict[str, object]:
    from wattprint.store import open_store
    from wattprint.store.spool import pending

    delays, spooled, shown = [], 0, 0
    for i in range(trials):
        path = work / f"locked-{i}.sqlite"
        url = f"sqlite:///{path}"
        env = environment(work, url)
        open_store(url).close()
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        try:
            child = subprocess.Popen([sys.executable, "-c", LOCKED_CHILD, url, no_rapl], stdout=subprocess.PIPE,
                                     text=True, env=env)
            assert child.stdout is not None
            rid = child.stdout.readline().strip()
            ended = time.monotonic()
            child.wait()
            delays.append(time.monotonic() - ended)
            os.environ["XDG_DATA_HOME"] = env["XDG_DATA_HOME"]
            spooled += rid in {w.run_id for w in pending(url)}
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        listed = subprocess.run([WATTPRINT, "runs", "--json"], env=env, capture_output=True, text=True)
        shown += [(r["run_id"], r["status"]) for r in json.loads(listed.stdout or "[]")] == [(rid, "finished")]
    return {"trials": trials, "exit_delay_s_max": round(max(delays), 2), "in_spool": spooled,
            "shown_by_runs_after_unlock": shown}


def pg_restart(work: Path, no_rapl: str, trials: int) -> dict[str, object]:
    from pg import PostgresServer, find_pg_bin

    from wattprint.store import open_store

    bindir = find_pg_bin()
    if bindir is None:
        return {"skipped": "no PostgreSQL binaries"}
    out: list[dict[str, object]] = []
    for _ in range(trials):
        server = PostgresServer(bindir)
        server.start()
        pg_ctl = str(server.bindir / "pg_ctl")
        options = (f"-c listen_addresses=127.0.0.1 -p {server.port} -c unix_socket_directories={server.root} "
                   "-c fsync=off -c synchronous_commit=off")
        try:
            url = server.admin_url
            env = environment(work, url)
            open_store(url).close()
            child = subprocess.Popen([sys.executable, "-c", PG_CHILD, url, no_rapl, "12"], stdout=subprocess.PIPE,
                                     text=True, env=env)
            assert child.stdout is not None
            rid = child.stdout.readline().strip()
            time.sleep(3.0)
            server._run(pg_ctl, "-D", str(server.data), "-m", "fast", "-w", "stop")
            time.sleep(4.0)
            server._run(pg_ctl, "-D", str(server.data), "-l", str(server.root / "server.log"), "-w", "-t", "60",
                        "-o", options, "start")
            total = int(child.stdout.readline().strip())
            child.wait()
            with open_store(url) as store:
                record = store.run(rid)
                tasks = store.tasks(rid)
                intervals = store.intervals(rid)
            buckets = sorted({i.bucket for i in intervals})
            out.append({
                "status": record.status, "tasks_stored": len(tasks), "tasks_total": total,
                "buckets": len(buckets), "buckets_contiguous": buckets == list(range(len(buckets))),
                "first_bucket_s": [round(min(i.start_offset_s for i in intervals if i.bucket == 0), 2),
                                   round(max(i.end_offset_s for i in intervals if i.bucket == 0), 2)],
                "interval_energy_over_total": round(sum(i.energy_j for i in intervals) / record.energy_j, 9),
            })
        finally:
            server.stop()
    return {"trials": out}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--locked", type=int, default=3)
    parser.add_argument("--pg-trials", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="wattprint-crash-") as tmp:
        work = Path(tmp)
        no_rapl = work / "powercap-empty"
        no_rapl.mkdir()
        os.environ["XDG_DATA_HOME"] = str(work / "data")
        figures = {}
        for name, attack, count in (("sigkill", sigkill, args.kills), ("locked_sqlite", locked, args.locked),
                                    ("postgres_restart", pg_restart, args.pg_trials)):
            started = time.perf_counter()
            figures[name] = attack(work, str(no_rapl), count)
            figures[name]["wall_s"] = round(time.perf_counter() - started, 1)
            print(f"{name}: {json.dumps(figures[name])}", flush=True)


if __name__ == "__main__":
    main()
