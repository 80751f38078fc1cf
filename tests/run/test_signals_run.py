"""``wattprint run`` and signals: the run covers the command's own shutdown, stores its real exit code and status,
and a signal sent to the whole process group reaches the command once.

Every command tells the test, on its stdout (which ``wattprint run --json`` passes on to stderr), when its
handlers are in place, so the signal is sent at a known moment.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

WATTPRINT = str(Path(sys.executable).with_name("wattprint"))

GRACEFUL = r"""
import signal, sys, time
def shutdown(signum, frame):
    end = time.monotonic() + 1.5  # a graceful shutdown that takes a while (a checkpoint, draining requests)
    while time.monotonic() < end:
        pass
    sys.exit(0)
signal.signal(signal.SIGTERM, shutdown)
print("ready", flush=True)
time.sleep(60)
sys.exit(5)
"""

COUNTING = r"""
import os, signal, sys, time
received = []
signal.signal(signal.SIGINT, lambda signum, frame: received.append(signum))
# Python's handler may run once for two signals that came close together; its C-level handler writes one byte
# per delivery to the wakeup fd, so each delivery is counted.
r, w = os.pipe()
os.set_blocking(w, False)
os.set_blocking(r, False)
signal.set_wakeup_fd(w)
print("ready", flush=True)
deadline = time.monotonic() + 60
while not received and time.monotonic() < deadline:
    time.sleep(0.01)
time.sleep(2.0)  # a duplicate passed on by wattprint comes within milliseconds
print(f"count={os.read(r, 100).count(bytes([signal.SIGINT]))}", flush=True)
sys.exit(0)
"""


@pytest.fixture
def env(tmp_path: Path, no_rapl: str) -> dict[str, str]:
    environment = dict(os.environ)
    environment.update(WATTPRINT_STORE=str(tmp_path / "runs.sqlite"), WATTPRINT_POWERCAP_ROOT=no_rapl,
                       WATTPRINT_GPUS="false", WATTPRINT_FLUSH_INTERVAL_S="0.2")
    return environment


def start(code: str, env: dict[str, str]) -> subprocess.Popen[str]:
    """``wattprint run --json`` of a Python command, in a process group of its own and without a terminal (as
    under a batch scheduler or a CI runner); returns once the command says it is ready."""
    process = subprocess.Popen([WATTPRINT, "run", "--json", "--", sys.executable, "-c", code], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
                               start_new_session=True)
    assert process.stderr is not None
    line = process.stderr.readline()
    assert line == "ready\n", (line, process.stderr.read())
    return process


def finish(process: subprocess.Popen[str]) -> tuple[str, dict]:
    """The command's remaining output (and wattprint's messages) and the run wattprint printed as JSON."""
    out, err = process.communicate(timeout=60)
    assert out.startswith("{"), (out, err)
    return err, json.loads(out) | {"stderr": err}


def stored(env: dict[str, str], run_id: str) -> dict:
    with sqlite3.connect(env["WATTPRINT_STORE"]) as connection:
        connection.row_factory = sqlite3.Row
        return dict(connection.execute("SELECT * FROM runs WHERE run_id = ?", (run_id,)).fetchone())


def test_the_run_covers_the_commands_graceful_shutdown_after_sigterm(env: dict[str, str]) -> None:
    process = start(GRACEFUL, env)
    process.send_signal(signal.SIGTERM)
    _, data = finish(process)
    assert process.returncode == 0, data["stderr"]
    assert (data["status"], data["exit_code"]) == ("finished", 0)
    assert data["duration_s"] >= 1.5  # measured until the command exited, not until the signal
    row = stored(env, data["run_id"])
    assert (row["status"], row["exit_code"]) == ("finished", 0)
    assert row["duration_s"] == pytest.approx(data["duration_s"])


@pytest.mark.parametrize("name", ["SIGTERM", "SIGINT"])
def test_a_command_ended_by_a_passed_on_signal_stores_its_exit_code(name: str, env: dict[str, str]) -> None:
    number = getattr(signal, name)
    process = start("import time\nprint('ready', flush=True)\ntime.sleep(60)\n", env)
    os.kill(process.pid, number)  # to wattprint alone: it passes the signal on
    _, data = finish(process)
    assert process.returncode == 128 + number, data["stderr"]
    assert (data["status"], data["exit_code"]) == ("killed", 128 + number)
    row = stored(env, data["run_id"])
    assert (row["status"], row["exit_code"]) == ("killed", 128 + number)


@pytest.mark.parametrize("to_group", [True, False], ids=["process-group", "wattprint-only"])
def test_sigint_reaches_the_command_once(to_group: bool, env: dict[str, str]) -> None:
    process = start(COUNTING, env)
    if to_group:
        os.killpg(process.pid, signal.SIGINT)  # like a scheduler ending a job's process group, no terminal
    else:
        os.kill(process.pid, signal.SIGINT)
    out, data = finish(process)
    assert "count=1" in out, (out, data["stderr"])
    assert process.returncode == 0 and (data["status"], data["exit_code"]) == ("finished", 0)
