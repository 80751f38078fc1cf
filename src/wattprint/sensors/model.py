"""Model sensors for machines without energy counters (every cloud VM): CPU from TDP and utilisation, RAM per GB.

These figures are estimates and are labelled ``model`` with a wide uncertainty; see docs/measurement.md for
why each figure was chosen.

CPU: P = P_idle + (P_max - P_idle) x utilisation, with utilisation from /proc/stat measured over windows of at
least ``UTIL_WINDOW_S`` (the kernel counts CPU time in 10 ms ticks, so shorter windows carry no information).
P_max is the TDP of the CPU model (from the embedded TDP table) times the number of sockets; P_idle is
``IDLE_FRACTION`` of it. On a virtual machine only a slice of the host CPU is ours, so P_max is the TDP share
of the vCPUs we see. An unknown CPU gets per-thread figures.

RAM: ``RAM_W_PER_GB`` x memory in use (total minus available, capped at the cgroup's memory limit).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

from wattprint.core.methods import MODEL, DeviceInfo
from wattprint.hardware.cpu import CpuInfo
from wattprint.hardware.procfs import MemInfo, ProcStat
from wattprint.sensors.base import ProbeResult, Sensor
from wattprint.sensors.family import OK, WARN, Diagnosis, SensorContext
from wattprint.settings.hints import setting

TYPE_CHECKING = False
if TYPE_CHECKING:
    from wattprint.data import CpuSpec

IDLE_FRACTION = 0.21
"""Idle power as a fraction of full-load power: Cloud Carbon Footprint's average 0.74 W idle / 3.5 W full
load per vCPU (from SPECpower results)."""
PER_THREAD_IDLE_W = 0.74
PER_THREAD_MAX_W = 3.5
"""Cloud Carbon Footprint's average per-vCPU figures, used for a CPU not in the TDP table."""
RAM_W_PER_GB = 0.3725
"""Green Algorithms' memory power (W per GB), close to CCF's 0.392 and CodeCarbon's former 0.375."""

UNCERTAINTY_TDP = 0.4
UNCERTAINTY_TDP_VM = 0.5
UNCERTAINTY_USER_TDP = 0.3
UNCERTAINTY_PER_THREAD = 0.6
UNCERTAINTY_RAM = 0.5

UTIL_WINDOW_S = 0.1


@dataclass(frozen=True)
class CpuPowerModel:
    idle_w: float
    max_w: float
    basis: str
    """One sentence saying where ``max_w`` came from."""
    uncertainty_rel: float
    known_model: bool


def cpu_power_model(
    cpu: CpuInfo,
    tdp_w: float | None = None,
    lookup: Callable[[str], CpuSpec | None] | None = None,
) -> CpuPowerModel:
    """Choose the CPU power model for this machine: a user-given TDP, the TDP table, or per-thread defaults."""
    threads = cpu.logical_cpus
    if tdp_w is not None:
        return CpuPowerModel(
            idle_w=IDLE_FRACTION * tdp_w,
            max_w=tdp_w,
            basis=f"maximum CPU power {tdp_w:g} W given by the user (cpu_tdp_w)",
            uncertainty_rel=UNCERTAINTY_USER_TDP,
            known_model=True,
        )
    spec = None
    if cpu.model_name:
        if lookup is None:
            from wattprint.data import lookup_cpu

            lookup = lookup_cpu
        spec = lookup(cpu.model_name)
    if spec is not None:
        tdp = float(spec.tdp_w)
        name = spec.name
        cores = spec.cores
        if not cpu.virtualized:
            max_w = tdp * cpu.sockets
            return CpuPowerModel(
                idle_w=IDLE_FRACTION * max_w,
                max_w=max_w,
                basis=f"TDP of {name} ({tdp:g} W) x {cpu.sockets} socket(s)",
                uncertainty_rel=UNCERTAINTY_TDP,
                known_model=True,
            )
        if cores:
            per_thread = tdp / (2 * cores)
            max_w = per_thread * threads
            return CpuPowerModel(
                idle_w=IDLE_FRACTION * max_w,
                max_w=max_w,
                basis=(
                    f"virtual machine: {threads} vCPU(s) x TDP of {name} ({tdp:g} W) / {2 * cores} threads "
                    f"(two per core assumed)"
                ),
                uncertainty_rel=UNCERTAINTY_TDP_VM,
                known_model=True,
            )
    what = f"CPU {cpu.model_name!r}" if cpu.model_name else "this CPU"
    reason = "is not in the TDP table" if spec is None else "has no core count in the TDP table (virtual machine)"
    return CpuPowerModel(
        idle_w=PER_THREAD_IDLE_W * threads,
        max_w=PER_THREAD_MAX_W * threads,
        basis=(
            f"{what} {reason}: per-thread default of {PER_THREAD_IDLE_W:g} W idle to {PER_THREAD_MAX_W:g} W "
            f"busy x {threads} thread(s); {setting('cpu_tdp_w')} for a better estimate"
        ),
        uncertainty_rel=UNCERTAINTY_PER_THREAD,
        known_model=False,
    )


class CpuModelSensor(Sensor):
    """CPU power from utilisation and a power model."""

    def __init__(
        self,
        model: CpuPowerModel,
        cpu: CpuInfo,
        *,
        interval_s: float,
        start_t: float,
        proc_stat_path: str = "/proc/stat",
    ) -> None:
        self.key = "model:cpu"
        self.component = "cpu"
        self.device = "cpu"
        self.method = MODEL
        self.group = "model-cpu"
        self.uncertainty_by_method = {MODEL: model.uncertainty_rel}
        self.model = model
        self._cpu = cpu
        self._interval_s = interval_s
        self._stat = ProcStat(proc_stat_path)
        self._busy_s, self._total_s = self._stat.read()
        # Until a first window is measured, the average utilisation since boot is the best guess.
        self.utilization = self._busy_s / self._total_s if self._total_s > 0 else 0.5
        self._stat_t = start_t
        self._last_t = start_t

    @property
    def power_w(self) -> float:
        return self.model.idle_w + (self.model.max_w - self.model.idle_w) * self.utilization

    def advance(self, now: float) -> tuple[float, str]:
        if now - self._stat_t >= UTIL_WINDOW_S:
            busy_s, total_s = self._stat.read()
            elapsed = total_s - self._total_s
            if elapsed > 0:
                self.utilization = min(1.0, max(0.0, (busy_s - self._busy_s) / elapsed))
            self._busy_s, self._total_s, self._stat_t = busy_s, total_s, now
        energy = self.power_w * max(0.0, now - self._last_t)
        self._last_t = now
        return energy, MODEL

    def next_poll_s(self) -> float:
        return self._interval_s

    def info(self) -> DeviceInfo:
        return DeviceInfo(
            component="cpu",
            device="cpu",
            model=self._cpu.model_name,
            source="model",
            power_limit_w=self.model.max_w,
            detail=f"{self.model.basis}; idle {self.model.idle_w:.1f} W",
        )

    def close(self) -> None:
        self._stat.close()


class RamModelSensor(Sensor):
    """RAM power from the memory in use."""

    def __init__(
        self,
        *,
        interval_s: float,
        start_t: float,
        limit_bytes: int | None = None,
        w_per_gb: float = RAM_W_PER_GB,
        meminfo_path: str = "/proc/meminfo",
    ) -> None:
        self.key = "model:ram"
        self.component = "ram"
        self.device = "ram"
        self.method = MODEL
        self.group = "model-ram"
        self.uncertainty_by_method = {MODEL: UNCERTAINTY_RAM}
        self._w_per_gb = w_per_gb
        self._limit = limit_bytes
        self._interval_s = interval_s
        self._meminfo = MemInfo(meminfo_path)
        self.total_bytes = 0
        self.used_bytes = 0
        self._sample()
        self._sample_t = start_t
        self._last_t = start_t

    def _sample(self) -> None:
        total, used = self._meminfo.read()
        if self._limit is not None:
            total, used = min(total, self._limit), min(used, self._limit)
        self.total_bytes, self.used_bytes = total, used

    @property
    def power_w(self) -> float:
        return self._w_per_gb * self.used_bytes / 1e9

    def advance(self, now: float) -> tuple[float, str]:
        energy = self.power_w * max(0.0, now - self._last_t)
        self._last_t = now
        if now - self._sample_t >= 0.9 * self._interval_s:
            self._sample()
            self._sample_t = now
        return energy, MODEL

    def next_poll_s(self) -> float:
        return self._interval_s

    def info(self) -> DeviceInfo:
        limit = f", capped at the cgroup limit of {self._limit / 1e9:.1f} GB" if self._limit else ""
        return DeviceInfo(
            component="ram",
            device="ram",
            model=f"{self.total_bytes / 1e9:.1f} GB",
            source="model",
            detail=f"{self._w_per_gb:g} W per GB in use{limit}",
        )

    def close(self) -> None:
        self._meminfo.close()


def probe_family(context: SensorContext) -> ProbeResult:
    """The registry's probe: the CPU and RAM models, for whichever of the two no family before measures."""
    config = context.config
    sensors: list[Sensor] = []
    notes: list[str] = []
    if "cpu" not in context.covered:
        cpu = context.cpu()
        model = cpu_power_model(cpu, config.cpu_tdp_w)
        sensors.append(CpuModelSensor(model, cpu, interval_s=config.interval_s, start_t=context.start_t,
                                      proc_stat_path=os.path.join(config.proc_root, "stat")))
        if not model.known_model:
            notes.append(f"CPU power is modelled: {model.basis}.")
    if "ram" not in context.covered:
        from wattprint.hardware.cgroup import memory_limit_bytes

        limit = memory_limit_bytes(config.cgroup_root, config.proc_root)
        sensors.append(RamModelSensor(interval_s=config.interval_s, start_t=context.start_t, limit_bytes=limit,
                                      meminfo_path=os.path.join(config.proc_root, "meminfo")))
    return ProbeResult(sensors, notes, frozenset(s.component for s in sensors))


def diagnose(context: SensorContext) -> list[Diagnosis]:
    """The CPU and the model that measures it without a counter; the memory the RAM model reads."""
    from wattprint.hardware.cgroup import memory_limit_bytes

    cpu = context.cpu()
    where = "virtual machine" if cpu.virtualized else "bare metal"
    described = (
        f"{cpu.model_name or 'unknown CPU'} ({cpu.vendor or 'unknown vendor'}), {cpu.sockets} socket(s), "
        f"{cpu.logical_cpus} logical CPU(s), {where}"
    )
    model = cpu_power_model(cpu)
    if model.known_model:
        found = [Diagnosis("cpu", OK, f"{described}; model when no counter: {model.basis}")]
    else:
        found = [Diagnosis("cpu", WARN, f"{described}; {model.basis}",
                           "set cpu_tdp_w to the CPUs' maximum power in watts: cpu_tdp_w = 65 in wattprint.toml, "
                           "WATTPRINT_CPU_TDP_W=65, or --cpu-tdp-w 65 on 'wattprint run'")]
    config = context.config
    meminfo = MemInfo(os.path.join(config.proc_root, "meminfo"))
    total, used = meminfo.read()
    meminfo.close()
    limit = memory_limit_bytes(config.cgroup_root, config.proc_root)
    limited = f"; cgroup memory limit {limit / 1e9:.1f} GB" if limit else ""
    return found + [Diagnosis("memory", OK, f"{total / 1e9:.1f} GB, {used / 1e9:.1f} GB in use{limited}: RAM energy "
                                            "is modelled unless RAPL dram is readable")]
