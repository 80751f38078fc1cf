"""A short tracked run on two fake GPUs and the modelled CPU and RAM, priced in France, flushed often, so that
every exporter sees several payloads of it (the only stand-in is NVML: the machine has no GPU)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

import wattprint
from tests.fakes.fake_nvml import FakeGpu, FakeNvml
from wattprint.core.results import RunResult

GPUS = (("GPU-00000000-0000-0000-0000-00000000000a", 120.0), ("GPU-00000000-0000-0000-0000-00000000000b", 80.0))


def fake_nvml() -> FakeNvml:
    return FakeNvml([FakeGpu(uuid=uuid, power_w=power) for uuid, power in GPUS])


@pytest.fixture
def nvml() -> FakeNvml:
    """The two fake GPUs, for a test that makes its own tracker."""
    return fake_nvml()


@pytest.fixture
def tracked(tmp_path: Path, no_rapl: str) -> Callable[..., RunResult]:
    """``tracked(epochs, during=None)``: a finished, saved run of ``epochs`` task windows of 0.15 s each, with
    ``during(run)`` called after each window (while the run is still running)."""

    def run_it(epochs: int = 3, during: Callable[[wattprint.Tracker], None] | None = None,
               **arguments: object) -> RunResult:
        options: dict[str, object] = dict(
            nvml=fake_nvml(), powercap_root=no_rapl, store=f"sqlite:///{tmp_path / 'runs.sqlite'}",
            flush_interval_s=0.1, interval_s=0.05, location="FR", project="exp", name="train")
        options.update(arguments)
        with wattprint.Tracker(**options) as run:
            for epoch in range(epochs):
                with run.task(f"epoch-{epoch}"):
                    time.sleep(0.15)
                if during is not None:
                    during(run)
        assert run.wait_saved(timeout=30)
        assert run.result is not None
        return run.result

    return run_it
