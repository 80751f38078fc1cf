"""Forks and multiprocessing: a forked child never hangs on an import wattprint's threads had under way, and runs in
``multiprocessing`` children are saved with every start method.

Everything runs in child processes of the test, so a hang shows as a timeout, not as a stuck test run.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fakes.children import FORK_SWEEP

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")

FORK_DURING_IMPORT = r"""
import os, sys, threading, time
import wattprint

store, powercap = sys.argv[1], sys.argv[2]
importing, forking = threading.Event(), threading.Event()

class Pause:
    # Holds a background thread inside its import of accounting.footprint (with that module's import lock) until
    # this process forks, and a little longer, so that the fork happens while the import is under way.
    def find_spec(self, name, path=None, target=None):
        if name == "wattprint.accounting.footprint" and threading.current_thread() is not threading.main_thread():
            importing.set()
            forking.wait(10)
            time.sleep(0.3)
        return None

sys.meta_path.insert(0, Pause())
run = wattprint.Tracker(project="fork", store=store, powercap_root=powercap, gpus=False).start()
assert importing.wait(20), "no background import of wattprint.accounting.footprint"
forking.set()  # the import goes on 0.3 s from now: a fork that does not wait for it lands in the middle of it
pid = os.fork()
if pid == 0:
    from wattprint.accounting.footprint import account  # hangs if the parent's import lock came along
    os._exit(0)
deadline = time.monotonic() + 20
while time.monotonic() < deadline:
    done, status = os.waitpid(pid, os.WNOHANG)
    if done:
        print("child exited", os.waitstatus_to_exitcode(status), flush=True)
        break
    time.sleep(0.05)
else:
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    print("child hung", flush=True)
run.stop()
"""


MULTIPROCESSING = r"""
import multiprocessing, sys, time
import wattprint

def busy(seconds):
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass

def with_block(store, powercap):
    with wattprint.track(project="mp", name="with-block", store=store, powercap_root=powercap, gpus=False):
        busy(0.2)

def never_stopped(store, powercap):
    wattprint.Tracker(project="mp", name="never-stopped", store=store, powercap_root=powercap, gpus=False).start()
    busy(0.2)

def raises(store, powercap):
    wattprint.Tracker(project="mp", name="raises", store=store, powercap_root=powercap, gpus=False).start()
    busy(0.2)
    raise RuntimeError("the target failed")

if __name__ == "__main__":
    method, store, powercap = sys.argv[1:4]
    context = multiprocessing.get_context(method)
    processes = [context.Process(target=target, args=(store, powercap))
                 for target in (with_block, never_stopped, raises)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(60)
    print("exitcodes", [p.exitcode for p in processes], flush=True)
"""


def stored_runs(store: Path, project: str) -> list[dict]:
    if not store.exists():
        return []
    with sqlite3.connect(store) as connection:
        connection.row_factory = sqlite3.Row
        rows = connection.execute(
            "SELECT runs.* FROM runs JOIN projects ON runs.project_id = projects.project_id WHERE projects.name = ?",
            (project,),
        ).fetchall()
    return [dict(row) for row in rows]


def test_a_fork_while_a_background_thread_imports_leaves_a_child_that_can_import(tmp_path: Path, no_rapl: str) -> None:
    completed = subprocess.run([sys.executable, "-c", FORK_DURING_IMPORT, str(tmp_path / "runs.sqlite"), no_rapl],
                               capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    assert "child exited 0" in completed.stdout, completed.stdout + completed.stderr


def test_forks_in_the_first_second_of_a_run_never_hang(tmp_path: Path, no_rapl: str) -> None:
    store = tmp_path / "runs.sqlite"
    forks = 20
    completed = subprocess.run([sys.executable, "-c", FORK_SWEEP, str(store), no_rapl, str(forks)],
                               capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stderr
    assert "hung=0" in completed.stdout, completed.stdout + completed.stderr
    children = stored_runs(store, "sweep-child")
    assert len(children) == forks and all(r["status"] == "finished" for r in children)


@pytest.mark.parametrize("method", ["fork", "forkserver", "spawn"])
def test_runs_in_multiprocessing_children_are_saved(method: str, tmp_path: Path, no_rapl: str) -> None:
    script = tmp_path / "mp_runs.py"  # spawn and forkserver import the main module: it must be a file
    script.write_text(MULTIPROCESSING)
    store = tmp_path / "runs.sqlite"
    completed = subprocess.run([sys.executable, str(script), method, str(store), no_rapl], capture_output=True,
                               text=True, timeout=300, cwd=tmp_path)
    assert "exitcodes [0, 0, 1]" in completed.stdout, completed.stdout + completed.stderr
    runs = {r["name"]: r for r in stored_runs(store, "mp")}
    assert {name: (r["status"], r["ended_at"] is not None) for name, r in runs.items()} == {
        "with-block": ("finished", True),
        "never-stopped": ("finished", True),
        "raises": ("failed", True),
    }
    assert all(r["energy_j"] > 0 for r in runs.values())
