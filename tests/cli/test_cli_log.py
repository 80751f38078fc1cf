"""wattprint's own lines on stderr: one per prediction by default, ``log_level`` honoured, never twice."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

TRAINING = """
import time, wattprint
{setup}
with wattprint.track(total_epochs=3, store="off", location="FR") as run:
    for _ in range(3):
        end = time.perf_counter() + 0.05
        while time.perf_counter() < end: pass
        run.epoch_end()
"""


def train(env: dict[str, str], setup: str = "") -> str:
    completed = subprocess.run([sys.executable, "-c", TRAINING.format(setup=setup)], env=env, capture_output=True,
                               text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    return completed.stderr


@pytest.fixture
def env(no_rapl: str, tmp_path: Path) -> dict[str, str]:
    environment = dict(os.environ)
    environment.update(WATTPRINT_POWERCAP_ROOT=no_rapl, WATTPRINT_GPUS="false")
    return environment


def predictions(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "predicted total" in line]


def test_one_line_per_prediction_on_stderr_by_default(env: dict[str, str]) -> None:
    lines = predictions(train(env))
    assert len(lines) == 3 and all(line.startswith("wattprint: run ") for line in lines)
    assert "after epoch 1/3" in lines[0]


def test_log_level_silences_them(env: dict[str, str], tmp_path: Path) -> None:
    assert predictions(train({**env, "WATTPRINT_LOG_LEVEL": "warning"})) == []
    config = tmp_path / "config.toml"
    config.write_text('log_level = "error"\n')
    assert predictions(train({**env, "WATTPRINT_CONFIG": str(config)})) == []


def test_an_application_that_configures_logging_gets_each_line_once(env: dict[str, str]) -> None:
    stderr = train(env, setup="import logging; logging.basicConfig(level=logging.INFO, format='APP %(message)s')")
    lines = predictions(stderr)
    assert len(lines) == 3 and all(line.startswith("APP wattprint: run ") for line in lines)
    debug = train({**env, "WATTPRINT_LOG_LEVEL": "debug"},
                  setup="import logging; logging.basicConfig(level=logging.DEBUG, format='APP %(message)s')")
    assert len(predictions(debug)) == 3
