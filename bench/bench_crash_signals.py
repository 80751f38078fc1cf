"""Crash safety under signals, forks and multiprocessing, re-run on demand (issue 13, items 4-8).

    python bench/bench_crash_signals.py [--sigterm 20] [--forks 50] [--processes 4]

1. SIGTERM inside ``snapshot()`` and inside a ``task()`` edge (the process signals itself from a patched method,
   with the tracker's and the meter's locks held), N times each: runs saved as ``killed`` with an end, and the
   delay from the signal to the process's exit.
2. Forks spread over the first second of a run, when wattprint's threads import (N forks): children that hung
   (killed after 30 s) and children whose own run was stored.
3. ``multiprocessing`` with each start method (P processes each, each tracking a run): runs stored of started.

Everything runs in child processes, against a fresh SQLite store in a temporary directory, with the CPU and RAM
models only (no RAPL, no GPU), so it runs anywhere.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType


def _children() -> ModuleType:
    """tests/fakes/children.py, loaded by path: the same child scripts as tests/run/test_signals.py and test_fork.py."""
    path = Path(__file__).resolve().parent.parent / "tests" / "fakes" / "children.py"
    spec = importlib.util.spec_from_file_location("wattprint_bench_children", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


CHILDREN = _children()
SIGTERM_CHILD, FORK_CHILD = CHILDREN.SIGTERM_CHILD, CHILDREN.FORK_SWEEP

MP_SCRIPT = r"""
import multiprocessing, sys, time
import wattprint

def work(store, powercap, i):
    with wattprint.track(project="mp", name=f"p{i}", store=store, powercap_root=powercap, gpus=False):
        end = time.perf_counter() + 0.2
        while time.perf_counter() < end:
            pass

if __name__ == "__main__":
    method, store, powercap, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    context = multiprocessing.get_context(method)
    processes = [context.Process(target=work, args=(store, powercap, i)) for i in range(count)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(120)
    print(sum(p.exitcode == 0 for p in processes), flush=True)
"""


def runs(store: Path, project: str) -> list[tuple[str, str, float | None]]:
    if not store.exists():
        return []
    with sqlite3.connect(store) as connection:
        try:
            return connection.execute(
                "SELECT runs.run_id, runs.status, runs.ended_at FROM runs JOIN projects "
                "ON runs.project_id = projects.project_id WHERE projects.name = ?", (project,)).fetchall()
        except sqlite3.OperationalError:
            return []


def sigterm(where: str, count: int, work: Path, env: dict[str, str]) -> str:
    killed, delays, codes = 0, [], set()
    for i in range(count):
        store = work / f"sig-{where}-{i}.sqlite"
        started = subprocess.run([sys.executable, "-c", SIGTERM_CHILD, where, str(store), env["POWERCAP"]],
                                 capture_output=True, text=True, env=env, timeout=120)
        exited = time.monotonic()
        lines = started.stdout.split()
        codes.add(started.returncode)
        if len(lines) >= 2:
            delays.append(exited - float(lines[1]))
            saved = dict((run_id, (status, ended)) for run_id, status, ended in runs(store, "sig"))
            status, ended = saved.get(lines[0], (None, None))
            killed += status == "killed" and ended is not None
    return (f"SIGTERM inside {where:<9} x{count}: {killed}/{count} saved as killed with an end; exit delay "
            f"median {statistics.median(delays):.2f} s, max {max(delays):.2f} s; return codes {sorted(codes)}")


def forks(count: int, work: Path, env: dict[str, str]) -> str:
    store = work / "forks.sqlite"
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", FORK_CHILD, str(store), env["POWERCAP"], str(count)],
                          capture_output=True, text=True, env=env, timeout=3600)
    hung = done.stdout.strip().removeprefix("hung=") or f"? ({done.stderr.strip()[-200:]})"
    stored = [r for r in runs(store, "sweep-child") if r[1] == "finished"]
    return (f"forks at 0-1 s x{count}: {hung} hung, {len(stored)}/{count} child runs stored "
            f"({time.monotonic() - started:.0f} s)")


def multiprocessing_runs(method: str, count: int, work: Path, env: dict[str, str]) -> str:
    script = work / "mp_script.py"
    script.write_text(MP_SCRIPT)
    store = work / f"mp-{method}.sqlite"
    done = subprocess.run([sys.executable, str(script), method, str(store), env["POWERCAP"], str(count)],
                          capture_output=True, text=True, env=env, timeout=600, cwd=work)
    finished = [r for r in runs(store, "mp") if r[1] == "finished" and r[2] is not None]
    return (f"multiprocessing {method:<10}: {len(finished)}/{count} runs stored as finished "
            f"({done.stdout.strip() or '?'} processes exited 0)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sigterm", type=int, default=20)
    parser.add_argument("--forks", type=int, default=50)
    parser.add_argument("--processes", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        work = Path(directory)
        (work / "powercap").mkdir()
        env = {k: v for k, v in os.environ.items() if not k.startswith("WATTPRINT_")}
        env.update(WATTPRINT_CONFIG=os.devnull, XDG_DATA_HOME=str(work / "data"), XDG_CONFIG_HOME=str(work / "cfg"),
                   XDG_CACHE_HOME=str(work / "cache"), POWERCAP=str(work / "powercap"))
        print(f"wattprint crash safety: signals, forks, multiprocessing ({os.cpu_count()} CPUs, Python "
              f"{sys.version.split()[0]})", flush=True)
        for where in ("snapshot", "task-end"):
            print(sigterm(where, args.sigterm, work, env), flush=True)
        print(forks(args.forks, work, env), flush=True)
        for method in ("fork", "forkserver", "spawn"):
            print(multiprocessing_runs(method, args.processes, work, env), flush=True)


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.default_int_handler)
    main()
