"""Shared fixtures: hardware stand-ins (sysfs trees, fake NVML) and a check that no meter thread leaks."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from wattprint import _log

# fixtures shared by several layers' tests: a throwaway PostgreSQL cluster, the live providers' replay server
pytest_plugins = ["tests.fakes.pg", "tests.fakes.provider_server"]


@pytest.fixture
def no_rapl(tmp_path: Path) -> str:
    """A powercap root with no zones: the machine has no RAPL (like this project's CI VMs)."""
    empty = tmp_path / "powercap-empty"
    empty.mkdir()
    return str(empty)


@pytest.fixture
def model_only(no_rapl: str) -> dict[str, object]:
    """Tracker arguments that measure with the CPU and RAM models only, whatever the machine has."""
    return {"powercap_root": no_rapl, "gpus": False}


@pytest.fixture
def env(tmp_path: Path, no_rapl: str) -> dict[str, str]:
    """The environment for running the ``wattprint`` command in a child process: a SQLite store of the test's own,
    no RAPL, no GPUs (test files that need more define their own ``env``)."""
    environment = dict(os.environ)
    environment.update(WATTPRINT_STORE=str(tmp_path / "runs.sqlite"), WATTPRINT_POWERCAP_ROOT=no_rapl,
                       WATTPRINT_GPUS="false")
    return environment


@pytest.fixture(scope="session")
def session_store(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One SQLite store for the runs that tests make without asking for a store of their own."""
    return str(tmp_path_factory.mktemp("store") / "runs.sqlite")


@pytest.fixture(autouse=True)
def isolated_settings(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory,
                      session_store: str) -> None:
    """No developer's config, environment or home directory leaks into a test, and no test writes into them."""
    for name in list(os.environ):
        if name.startswith("WATTPRINT_"):
            monkeypatch.delenv(name)
    home = tmp_path_factory.getbasetemp() / "home"
    monkeypatch.setenv("WATTPRINT_CONFIG", os.devnull)
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("WATTPRINT_STORE", session_store)


@pytest.fixture(autouse=True)
def meter_left_clean():
    """Every test must stop what it starts: no subscription and no sampler thread afterwards."""
    _log.forget_warnings()
    yield
    from wattprint.measure import meter
    from wattprint.sinks import recorder

    writer = recorder.current_writer()
    if writer is not None:
        assert writer.wait_idle(timeout=30), "runs were still being saved 30 s after the test"

    current = meter._meter
    if current is not None:
        assert not current._probes, "a tracker was left running"
        assert current._thread is None
    assert not [t for t in threading.enumerate() if t.name in ("wattprint-meter", "wattprint-store")]
