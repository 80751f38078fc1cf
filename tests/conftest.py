"""Shared fixtures: hardware stand-ins (sysfs trees, fake NVML) and a check that no meter thread leaks."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from wattprint import _log


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


@pytest.fixture(autouse=True)
def meter_left_clean():
    """Every test must stop what it starts: no subscription and no sampler thread afterwards."""
    _log.forget_warnings()
    yield
    from wattprint import meter

    current = meter._meter
    if current is not None:
        assert not current._probes, "a tracker was left running"
        assert current._thread is None
    assert not [t for t in threading.enumerate() if t.name == "wattprint-meter"]
