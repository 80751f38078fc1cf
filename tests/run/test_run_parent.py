"""``wattprint run`` and the trackers inside the command it measures: attribution from the settings when no
option is given, inherited by an inner tracker, and the outer run recorded as the inner run's parent."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from wattprint.store import open_store

WATTPRINT = str(Path(sys.executable).with_name("wattprint"))
BUSY = "import time\nend = time.perf_counter() + 0.5\nwhile time.perf_counter() < end: pass\n"


@pytest.fixture
def env(no_rapl: str, tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "WATTPRINT_STORE": str(tmp_path / "runs.sqlite"), "WATTPRINT_POWERCAP_ROOT": no_rapl,
            "WATTPRINT_GPUS": "false", "WATTPRINT_CONFIG": os.devnull}


def wattprint_run(env: dict[str, str], *args: str, code: str = BUSY) -> dict[str, object]:
    completed = subprocess.run([WATTPRINT, "run", *args, "--json", "--", sys.executable, "-c", code], env=env,
                               capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout)


def test_run_measures_the_command_tree_unless_settings_say_otherwise(env: dict[str, str], tmp_path: Path) -> None:
    assert wattprint_run(env)["attribution"] == "process"  # the default of wattprint run
    assert wattprint_run({**env, "WATTPRINT_ATTRIBUTION": "machine"})["attribution"] == "machine"
    (tmp_path / "wattprint.toml").write_text('attribution = "machine"\n')
    completed = subprocess.run([WATTPRINT, "run", "--json", "--", sys.executable, "-c", "pass"], env=env,
                               cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout)["attribution"] == "machine"  # the project file applies
    # an option still wins over the environment
    assert wattprint_run({**env, "WATTPRINT_ATTRIBUTION": "machine"}, "--attribution", "process")[
        "attribution"] == "process"


def test_a_tracker_inside_a_measured_command_inherits_its_attribution_and_records_its_parent(
    env: dict[str, str]
) -> None:
    code = ("import time, wattprint\n"
            "with wattprint.track(name='inner') as run:\n"
            "    end = time.perf_counter() + 0.5\n"
            "    while time.perf_counter() < end: pass\n"
            "print(run.result.attribution, file=__import__('sys').stderr)\n")
    outer = wattprint_run(env, "--name", "outer", code=code)
    with open_store(f"sqlite:///{env['WATTPRINT_STORE']}") as store:
        runs = {run.name: run for run in store.runs()}
    inner = runs["inner"]
    assert runs["outer"].run_id == outer["run_id"]
    # the inner run measures its own process, as the outer one measures the command's tree: it is part of it
    assert inner.attribution == "process" and outer["attribution"] == "process"
    assert inner.details.parent_run == outer["run_id"] and runs["outer"].details.parent_run is None
    assert inner.energy_j < float(outer["energy_j"])  # type: ignore[arg-type]
    shown = subprocess.run([WATTPRINT, "show", inner.run_id], env=env, capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0, shown.stderr
    assert f"part of run {outer['run_id'][:12]}" in shown.stdout
    as_json = subprocess.run([WATTPRINT, "show", inner.run_id, "--json"], env=env, capture_output=True, text=True,
                             timeout=60)
    assert json.loads(as_json.stdout)["parent_run"] == outer["run_id"]


def test_an_inner_tracker_keeps_an_explicit_attribution(env: dict[str, str]) -> None:
    code = ("import wattprint\n"
            "with wattprint.track(name='inner', attribution='machine'):\n"
            "    pass\n")
    outer = wattprint_run(env, code=code)
    with open_store(f"sqlite:///{env['WATTPRINT_STORE']}") as store:
        inner = next(run for run in store.runs() if run.name == "inner")
    assert inner.attribution == "machine" and inner.details.parent_run == outer["run_id"]
