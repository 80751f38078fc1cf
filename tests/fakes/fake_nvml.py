"""A fake NVML (the ``pynvml`` calls wattprint uses), for machines without an NVIDIA GPU.

Each fake GPU draws a power given as a function of time; its total-energy counter is the exact integral of
that power, so a window's true energy is known. Options model what real boards do: no energy counter
(pre-Volta), a counter that is stuck, a GPU that gets lost, MIG slices, per-process utilisation samples.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

NVML_ERROR_NOT_SUPPORTED = 3
NVML_ERROR_NOT_FOUND = 6
NVML_ERROR_GPU_IS_LOST = 15


class NVMLError(Exception):
    def __init__(self, value: int) -> None:
        super().__init__(value)
        self.value = value

    def __str__(self) -> str:
        return {3: "Not Supported", 6: "Not Found", 15: "GPU is lost"}.get(self.value, f"NVML error {self.value}")


class NVMLError_NotSupported(NVMLError):  # noqa: N801 - the pynvml name
    def __init__(self) -> None:
        super().__init__(NVML_ERROR_NOT_SUPPORTED)


@dataclass
class Sample:
    pid: int
    timeStamp: int  # noqa: N815 - the pynvml field name
    smUtil: int  # noqa: N815
    memUtil: int = 0  # noqa: N815
    encUtil: int = 0  # noqa: N815
    decUtil: int = 0  # noqa: N815


@dataclass
class Process:
    pid: int
    usedGpuMemory: int  # noqa: N815


@dataclass
class Attributes:
    gpuInstanceSliceCount: int  # noqa: N815
    multiprocessorCount: int = 0  # noqa: N815


@dataclass
class FakeMig:
    parent: FakeGpu
    uuid: str
    slices: int
    gpu_instance_id: int


@dataclass
class FakeGpu:
    name: str = "NVIDIA H100 80GB HBM3"
    uuid: str = "GPU-00000000-0000-0000-0000-000000000000"
    power_w: float | Callable[[float], float] = 300.0
    limit_w: float = 700.0
    has_counter: bool = True
    stuck_counter: bool = False
    lost_after_s: float | None = None
    migs: list[FakeMig] = field(default_factory=list)
    samples: list[Sample] = field(default_factory=list)
    processes: list[Process] = field(default_factory=list)
    clock: Callable[[], float] = time.monotonic

    def __post_init__(self) -> None:
        self.t0 = self.clock()
        self.energy_calls = 0
        self.power_calls = 0

    def power_at(self, t: float) -> float:
        return self.power_w(t - self.t0) if callable(self.power_w) else self.power_w

    def energy_j(self) -> float:
        """Integral of the power since creation (midpoint rule on 1 ms steps for a time-varying power)."""
        now = self.clock() - self.t0
        if not callable(self.power_w):
            return self.power_w * now
        step = 0.001
        n = int(now / step)
        total = sum(self.power_w((i + 0.5) * step) * step for i in range(n))
        return total + self.power_w(now) * (now - n * step)

    def check_lost(self) -> None:
        if self.lost_after_s is not None and self.clock() - self.t0 >= self.lost_after_s:
            raise NVMLError(NVML_ERROR_GPU_IS_LOST)


class FakeNvml:
    """Module-like object with the pynvml functions wattprint calls."""

    NVMLError = NVMLError
    NVMLError_NotSupported = NVMLError_NotSupported

    def __init__(self, gpus: list[FakeGpu]) -> None:
        self.gpus = gpus
        self.init_calls = 0

    def nvmlInit(self) -> None:  # noqa: N802 - pynvml names
        self.init_calls += 1

    def nvmlShutdown(self) -> None:  # noqa: N802
        pass

    def nvmlDeviceGetCount(self) -> int:  # noqa: N802
        return len(self.gpus)

    def nvmlDeviceGetHandleByIndex(self, index: int) -> FakeGpu:  # noqa: N802
        if not 0 <= index < len(self.gpus):
            raise NVMLError(2)
        return self.gpus[index]

    def nvmlDeviceGetUUID(self, handle: FakeGpu | FakeMig) -> str:  # noqa: N802
        return handle.uuid

    def nvmlDeviceGetName(self, handle: FakeGpu) -> str:  # noqa: N802
        return handle.name

    def nvmlDeviceGetTotalEnergyConsumption(self, handle: FakeGpu) -> int:  # noqa: N802
        handle.check_lost()
        if not handle.has_counter:
            raise NVMLError_NotSupported()
        handle.energy_calls += 1
        if handle.stuck_counter:
            return 123_456
        return int(handle.energy_j() * 1000)

    def nvmlDeviceGetPowerUsage(self, handle: FakeGpu) -> int:  # noqa: N802
        handle.check_lost()
        handle.power_calls += 1
        return int(handle.power_at(handle.clock()) * 1000)

    def nvmlDeviceGetEnforcedPowerLimit(self, handle: FakeGpu) -> int:  # noqa: N802
        return int(handle.limit_w * 1000)

    def nvmlDeviceGetMigMode(self, handle: FakeGpu) -> list[int]:  # noqa: N802
        return [1, 1] if handle.migs else [0, 0]

    def nvmlDeviceGetMaxMigDeviceCount(self, handle: FakeGpu) -> int:  # noqa: N802
        if not handle.migs:
            raise NVMLError_NotSupported()
        return 7

    def nvmlDeviceGetMigDeviceHandleByIndex(self, handle: FakeGpu, index: int) -> FakeMig:  # noqa: N802
        if index >= len(handle.migs):
            raise NVMLError(NVML_ERROR_NOT_FOUND)
        return handle.migs[index]

    def nvmlDeviceGetGpuInstanceId(self, mig: FakeMig) -> int:  # noqa: N802
        return mig.gpu_instance_id

    def nvmlDeviceGetAttributes(self, mig: FakeMig) -> Attributes:  # noqa: N802
        return Attributes(gpuInstanceSliceCount=mig.slices)

    def nvmlDeviceGetProcessUtilization(self, handle: FakeGpu, last_seen: int) -> list[Sample]:  # noqa: N802
        fresh = [s for s in handle.samples if s.timeStamp > last_seen]
        if not fresh:
            raise NVMLError(NVML_ERROR_NOT_FOUND)
        return fresh

    def nvmlDeviceGetComputeRunningProcesses(self, handle: FakeGpu) -> list[Process]:  # noqa: N802
        return list(handle.processes)
