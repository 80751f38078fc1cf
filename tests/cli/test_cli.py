"""The ``wattprint`` command through its real entry point, with a real SQLite store; and crash safety."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fakes.wait import wait_for

WATTPRINT = str(Path(sys.executable).with_name("wattprint"))
BUSY = "import time\nend = time.perf_counter() + {s}\nwhile time.perf_counter() < end: pass\n"


@pytest.fixture
def env(tmp_path: Path, no_rapl: str) -> dict[str, str]:
    """The environment of a user whose runs go to a fresh SQLite file; no RAPL, no GPUs (as on CI)."""
    environment = dict(os.environ)
    environment.update(
        WATTPRINT_STORE=str(tmp_path / "runs.sqlite"),
        WATTPRINT_POWERCAP_ROOT=no_rapl,
        WATTPRINT_GPUS="false",
        WATTPRINT_FLUSH_INTERVAL_S="0.2",
    )
    return environment


def wattprint(*args: str, env: dict[str, str], check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
    completed = subprocess.run([WATTPRINT, *args], env=env, capture_output=True, text=True, timeout=timeout)
    if check and completed.returncode != 0:
        raise AssertionError(f"wattprint {' '.join(args)} exited {completed.returncode}:\n{completed.stderr}")
    return completed


def show(ref: str, env: dict[str, str]) -> dict:
    return json.loads(wattprint("show", ref, "--json", env=env).stdout)


def test_version_and_help_with_examples(env: dict[str, str]) -> None:
    from wattprint import __version__

    assert wattprint("--version", env=env).stdout.strip() == f"wattprint {__version__}"
    for command in ("run", "runs", "show", "export", "doctor"):
        text = wattprint(command, "--help", env=env).stdout
        assert "examples:" in text and f"wattprint {command}" in text


def test_run_passes_the_exit_code_and_prints_json(env: dict[str, str]) -> None:
    code = BUSY.format(s=0.6) + "raise SystemExit(3)\n"
    completed = wattprint("run", "--json", "--project", "p", "--name", "n", "--", sys.executable, "-c", code,
                          env=env, check=False)
    assert completed.returncode == 3, completed.stderr
    data = json.loads(completed.stdout)
    assert {"run_id", "project", "name", "status", "started_at", "duration_s", "attribution", "energy_kwh",
            "energy_uncertainty_rel", "components"} <= set(data)
    assert (data["project"], data["name"], data["status"], data["exit_code"]) == ("p", "n", "failed", 3)
    assert data["attribution"] == "process"
    assert data["started_at"].endswith("Z") and "T" in data["started_at"]
    assert data["duration_s"] >= 0.6
    assert data["energy_kwh"] > 0
    for component in data["components"]:
        assert set(component) == {"component", "device", "energy_j", "avg_power_w", "method", "uncertainty_rel"}
    cpu = next(c for c in data["components"] if c["component"] == "cpu")
    assert cpu["method"] == "model" and cpu["energy_j"] > 0
    stored = show(data["run_id"][:10], env)
    assert stored["run_id"] == data["run_id"] and stored["status"] == "failed"
    assert stored["energy_kwh"] == pytest.approx(data["energy_kwh"])


def test_runs_show_and_export(env: dict[str, str], tmp_path: Path) -> None:
    first = json.loads(wattprint("run", "--json", "--project", "a", "--", sys.executable, "-c", "pass", env=env).stdout)
    second = json.loads(
        wattprint("run", "--json", "--project", "b", "--", sys.executable, "-c", BUSY.format(s=0.3), env=env).stdout
    )
    listed = json.loads(wattprint("runs", "--json", env=env).stdout)
    assert [r["run_id"] for r in listed] == [second["run_id"], first["run_id"]]
    assert [r["run_id"] for r in json.loads(wattprint("runs", "--project", "a", "--json", env=env).stdout)] == [
        first["run_id"]
    ]
    assert show("last", env)["run_id"] == second["run_id"]
    text = wattprint("show", "last", env=env).stdout
    assert second["run_id"][:12] in text and "model" in text and "cpu" in text
    assert first["run_id"][:12] in wattprint("runs", env=env).stdout

    rows = list(csv.DictReader(io.StringIO(wattprint("export", env=env).stdout)))
    assert [r["run_id"] for r in rows] == [first["run_id"], second["run_id"]]  # oldest first
    assert float(rows[1]["energy_kwh"]) == pytest.approx(second["energy_kwh"])

    out = tmp_path / "intervals.json"
    wattprint("export", "--intervals", "-o", str(out), "--project", "b", env=env)
    exported = json.loads(out.read_text())
    assert [r["run_id"] for r in exported] == [second["run_id"]]
    intervals = exported[0]["intervals"]
    assert intervals and sum(i["energy_j"] for i in intervals) == pytest.approx(second["energy_kwh"] * 3.6e6)

    interval_csv = list(csv.DictReader(io.StringIO(wattprint("export", "--intervals", "--format", "csv",
                                                             env=env).stdout)))
    assert {r["run_id"] for r in interval_csv} <= {first["run_id"], second["run_id"]}
    assert {"bucket", "component", "device", "energy_j", "method"} <= set(interval_csv[0])


def test_show_explains_a_missing_or_ambiguous_run(env: dict[str, str]) -> None:
    missing = wattprint("show", "ffffffff", env=env, check=False)
    assert missing.returncode == 1 and "ffffffff" in missing.stderr


def test_bad_configuration_is_reported_with_its_source(env: dict[str, str]) -> None:
    env = {**env, "WATTPRINT_INTERVAL_S": "fast"}
    completed = wattprint("run", "--", sys.executable, "-c", "pass", env=env, check=False)
    assert completed.returncode == 1
    assert "interval_s" in completed.stderr and "WATTPRINT_INTERVAL_S" in completed.stderr
    assert "fast" in completed.stderr


def test_a_command_that_cannot_start(env: dict[str, str]) -> None:
    completed = wattprint("run", "--", "/nonexistent/program", env=env, check=False)
    assert completed.returncode == 127 and "cannot run" in completed.stderr


def test_doctor_reports_every_area(env: dict[str, str]) -> None:
    checks = json.loads(wattprint("doctor", "--json", env=env, check=False).stdout)
    areas = {c["area"] for c in checks}
    assert {"cpu", "rapl", "nvidia", "amd", "memory", "cgroup", "store"} <= areas
    rapl = next(c for c in checks if c["area"] == "rapl")
    assert rapl["status"] == "missing" and rapl["fix"]
    store = next(c for c in checks if c["area"] == "store")
    assert store["status"] == "ok" and "run(s)" in store["summary"]
    text = wattprint("doctor", env=env, check=False).stdout
    assert "fix:" in text


def running_run(env: dict[str, str]) -> dict | None:
    completed = wattprint("show", "last", "--json", env=env, check=False)
    if completed.returncode != 0:
        return None
    data = json.loads(completed.stdout)
    return data if data["status"] == "running" and data["energy_kwh"] > 0 else None


def test_sigkill_of_wattprint_run_keeps_what_was_flushed(env: dict[str, str]) -> None:
    import psutil

    process = subprocess.Popen([WATTPRINT, "run", "--", sys.executable, "-c", "import time; time.sleep(60)"], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    orphans = []
    try:
        flushed = wait_for(lambda: running_run(env), what="a first flush", timeout=30)
        orphans = psutil.Process(process.pid).children(recursive=True)
        process.send_signal(signal.SIGKILL)
        process.wait()
    finally:
        for orphan in orphans:  # the measured command outlives a SIGKILLed wattprint
            orphan.kill()
    killed = show(flushed["run_id"], env)
    assert killed["status"] == "killed"
    assert killed["energy_kwh"] >= flushed["energy_kwh"] > 0


def test_sigterm_is_passed_on_and_the_run_is_killed(env: dict[str, str]) -> None:
    process = subprocess.Popen([WATTPRINT, "run", "--json", "--", sys.executable, "-c", "import time; time.sleep(60)"],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_for(lambda: running_run(env), what="a first flush", timeout=30)
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 128 + signal.SIGTERM, err
    data = json.loads(out)
    assert data["status"] == "killed" and data["exit_code"] == 143
    assert show(data["run_id"], env)["status"] == "killed"


def test_a_child_killed_by_a_signal(env: dict[str, str]) -> None:
    completed = wattprint("run", "--json", "--", "sh", "-c", "kill -9 $$", env=env, check=False)
    assert completed.returncode == 137
    assert json.loads(completed.stdout)["status"] == "killed"


LIBRARY_RUN = """
import time, wattprint
with wattprint.track(project="lib", flush_interval_s=0.2) as run:
    print(run.run_id, flush=True)
    time.sleep(60)
"""


def test_a_library_run_killed_with_sigterm_is_saved_as_killed(env: dict[str, str]) -> None:
    process = subprocess.Popen([sys.executable, "-c", LIBRARY_RUN], env=env, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    run_id = process.stdout.readline().strip()
    wait_for(lambda: running_run(env), what="a first flush", timeout=30)
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGTERM  # it still dies of the signal, as it would without wattprint
    data = show(run_id, env)
    assert data["status"] == "killed" and data["ended_at"] is not None


def test_a_library_run_killed_with_sigkill_is_shown_as_killed(env: dict[str, str]) -> None:
    process = subprocess.Popen([sys.executable, "-c", LIBRARY_RUN], env=env, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    run_id = process.stdout.readline().strip()
    flushed = wait_for(lambda: running_run(env), what="a first flush", timeout=30)
    process.kill()
    process.wait(timeout=30)
    data = show(run_id, env)
    assert data["status"] == "killed"
    assert data["energy_kwh"] >= flushed["energy_kwh"] > 0
