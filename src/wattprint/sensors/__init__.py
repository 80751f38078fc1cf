"""Sensors, one module per hardware family behind one interface (:class:`wattprint.sensors.base.Sensor`).

:func:`probe` finds what this machine can measure: RAPL counters for the CPU package and DRAM, NVIDIA and
AMD GPUs, and the CPU and RAM power models for whatever has no counter.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from wattprint.sensors.base import ProbeResult, Sensor
from wattprint.sensors.powercap import (  # noqa: F401 - part of this package's interface
    DEFAULT_POWERCAP_ROOTS,
    POWERCAP_ROOT_VARIABLE,
    RAPL_DOMAINS,
    powercap_roots,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["SensorConfig", "probe", "powercap_roots", "Sensor", "ProbeResult"]

@dataclass(frozen=True)
class SensorConfig:
    """Everything that decides which sensors a tracker uses; hardware paths and libraries are injectable."""

    powercap_root: str | tuple[str, ...] | None = None
    """None: ``$WATTPRINT_POWERCAP_ROOT`` or the kernel's paths."""
    rapl_domains: tuple[str, ...] = ("package", "dram")
    gpus: bool = True
    nvml: Any = field(default=None, compare=True)
    """A module with the ``pynvml`` API to use instead of ``pynvml``."""
    amdsmi: Any = None
    cpu_tdp_w: float | None = None
    interval_s: float = 1.0
    proc_root: str = "/proc"
    cgroup_root: str = "/sys/fs/cgroup"


def probe(config: SensorConfig, start_t: float) -> ProbeResult:
    """Open every sensor this machine offers under ``config``; model sensors fill what counters miss."""
    from wattprint.hardware.cgroup import memory_limit_bytes
    from wattprint.hardware.cpu import read_cpuinfo
    from wattprint.sensors import presence
    from wattprint.sensors.model import CpuModelSensor, RamModelSensor, cpu_power_model

    cpu = read_cpuinfo(os.path.join(config.proc_root, "cpuinfo"))
    stat_path = os.path.join(config.proc_root, "stat")
    meminfo_path = os.path.join(config.proc_root, "meminfo")

    def model_cpu(since: float) -> list[Sensor]:
        model = cpu_power_model(cpu, config.cpu_tdp_w)
        return [CpuModelSensor(model, cpu, interval_s=config.interval_s, start_t=since, proc_stat_path=stat_path)]

    def model_ram(since: float) -> list[Sensor]:
        limit = memory_limit_bytes(config.cgroup_root, config.proc_root)
        return [
            RamModelSensor(interval_s=config.interval_s, start_t=since, limit_bytes=limit, meminfo_path=meminfo_path)
        ]

    roots = powercap_roots(config.powercap_root)
    if any(os.path.isdir(root) for root in roots):
        from wattprint.sensors import rapl

        found = rapl.probe(
            roots,
            config.rapl_domains,
            vendor=cpu.vendor or "",
            start_t=start_t,
            fallbacks={"cpu": model_cpu, "ram": model_ram, "platform": lambda t: model_cpu(t) + model_ram(t)},
        )
    else:  # no powercap interface at all (virtual machines, containers without /sys/class/powercap)
        found = ProbeResult([], [], frozenset())
    sensors: list[Sensor] = list(found.sensors)
    notes = list(found.notes)
    if "cpu" not in found.covers:
        modelled = model_cpu(start_t)
        sensors += modelled
        model = modelled[0].model  # type: ignore[attr-defined]
        if not model.known_model:
            notes.append(f"CPU power is modelled: {model.basis}.")
    if "ram" not in found.covers:
        sensors += model_ram(start_t)

    env = os.environ
    nvidia_found = False
    if config.gpus and presence.nvidia_possible(config.nvml):
        from wattprint.sensors import nvidia

        gpu = nvidia.probe(
            module=config.nvml,
            visible=env.get("CUDA_VISIBLE_DEVICES"),
            interval_s=config.interval_s,
            start_t=start_t,
        )
        sensors += gpu.sensors
        notes += gpu.notes
        nvidia_found = bool(gpu.sensors)
    if config.gpus and (config.amdsmi is not None or not nvidia_found) and presence.amd_possible(config.amdsmi):
        from wattprint.sensors import amd

        radeon = amd.probe(module=config.amdsmi, environ=env, interval_s=config.interval_s, start_t=start_t)
        sensors += radeon.sensors
        notes += radeon.notes
    covers = frozenset(s.component for s in sensors) | found.covers
    return ProbeResult(sensors=sensors, notes=notes, covers=covers)
