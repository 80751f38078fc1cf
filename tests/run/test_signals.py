"""SIGTERM at chosen moments: a run is saved as killed, and the process exits promptly, wherever the main thread is.

Each child process signals itself from inside the code under test (a patched method or sensor), so the moment is
exact and nothing depends on timing.
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.fakes.children import SIGTERM_CHILD as CHILD


def stored(path: Path, run_id: str) -> dict | None:
    with sqlite3.connect(path) as connection:
        connection.row_factory = sqlite3.Row
        row = connection.execute("SELECT * FROM runs WHERE run_id = ?", (run_id,)).fetchone()
    return dict(row) if row is not None else None


def sigterm_inside(where: str, tmp_path: Path, no_rapl: str) -> tuple[dict | None, float, int]:
    """Run CHILD, which sends itself SIGTERM at ``where``; its stored run, its exit delay and its return code."""
    store = tmp_path / "runs.sqlite"
    process = subprocess.Popen([sys.executable, "-c", CHILD, where, str(store), no_rapl], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    exited = time.monotonic()
    lines = out.split()
    assert len(lines) == 2, (out, err)
    run_id, killed_at = lines[0], float(lines[1])
    return stored(store, run_id), exited - killed_at, process.returncode


@pytest.mark.parametrize("where", ["snapshot", "task-start", "task-end", "stop", "writer-waiting"])
def test_sigterm_inside_the_tracker_saves_the_run_as_killed_and_exits_promptly(
    where: str, tmp_path: Path, no_rapl: str
) -> None:
    run, delay_s, returncode = sigterm_inside(where, tmp_path, no_rapl)
    assert returncode == -signal.SIGTERM  # it still dies of the signal, as it would without wattprint
    assert run is not None, "the run was not saved"
    assert run["ended_at"] is not None, f"no final save: {run}"
    expected = "finished" if where == "stop" else "killed"  # stop() had already decided the status
    assert run["status"] in (expected, "killed")
    assert run["energy_j"] > 0
    # Before the fix, the handler waited 5 s for a lock the interrupted main thread held (and lost the save).
    assert delay_s < 4.0, f"the process took {delay_s:.1f} s to exit after SIGTERM"


def test_a_second_sigterm_during_the_save_does_not_cut_it_short(tmp_path: Path, no_rapl: str) -> None:
    """A job's supervisor may signal twice (the whole group, then the process): the save still completes."""
    store = tmp_path / "runs.sqlite"
    code = CHILD.replace("os.kill(os.getpid(), signal.SIGTERM)",
                         "os.kill(os.getpid(), signal.SIGTERM); os.kill(os.getpid(), signal.SIGTERM)")
    out = subprocess.run([sys.executable, "-c", code, "snapshot", str(store), no_rapl], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == -signal.SIGTERM, out.stderr
    run = stored(store, out.stdout.split()[0])
    assert run is not None and run["status"] == "killed" and run["ended_at"] is not None


def test_a_users_own_sigterm_handler_still_runs_after_the_save(tmp_path: Path, no_rapl: str) -> None:
    store = tmp_path / "runs.sqlite"
    code = ("import signal, sys\n"
            "signal.signal(signal.SIGTERM, lambda *a: (print('user handler', flush=True), sys.exit(7)))\n" + CHILD)
    out = subprocess.run([sys.executable, "-c", code, "snapshot", str(store), no_rapl], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 7, out.stderr
    lines = out.stdout.split("\n")
    assert "user handler" in lines
    run = stored(store, lines[0])
    assert run is not None and run["status"] == "killed" and run["ended_at"] is not None

