"""What a hardware family declares to the sensor registry: its name, the components it can measure, the settings it
reads, how it probes and how ``doctor`` diagnoses it; and what a probe or a diagnosis is given to work with."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from wattprint.sensors.base import ProbeResult, Sensor, SensorFactory

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from wattprint.hardware.cpu import CpuInfo

__all__ = ["OK", "WARN", "MISSING", "ERROR", "GPU", "DMI_ROOT", "Diagnosis", "SensorConfig", "SensorContext",
           "SensorFamily"]

OK = "ok"
WARN = "warn"
"""Works, with a caveat."""
MISSING = "missing"
"""Not on this machine."""
ERROR = "error"
"""Should work here, and fails."""
GPU = "gpu"
"""The component the ``gpus`` setting turns off: a family that measures nothing else is not probed then."""
DMI_ROOT = "/sys/class/dmi/id"


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


@dataclass(frozen=True)
class Diagnosis:
    """One line of ``wattprint doctor``: ``area`` (usually the family's name), ``status`` (:data:`OK`, :data:`WARN`,
    :data:`MISSING` or :data:`ERROR`), what was found, and how to fix it."""

    area: str
    status: str
    summary: str
    fix: str | None = None


class SensorContext:
    """What a family's probe and diagnosis read: the configuration, the machine's files, and the components the
    families probed before it already measure; the CPU is read once for all of them."""

    __slots__ = ("config", "start_t", "covered", "environ", "cpuinfo_path", "dmi_root", "_shared")

    def __init__(
        self,
        config: SensorConfig,
        start_t: float = 0.0,
        *,
        covered: frozenset[str] = frozenset(),
        environ: Mapping[str, str] | None = None,
        cpuinfo_path: str | None = None,
        dmi_root: str = DMI_ROOT,
        fallback: Callable[[frozenset[str], float], list[Sensor]] | None = None,
    ) -> None:
        self.config = config
        self.start_t = start_t
        """Monotonic time the sensors measure from."""
        self.covered = covered
        self.environ: Mapping[str, str] = os.environ if environ is None else environ
        self.cpuinfo_path = cpuinfo_path or os.path.join(config.proc_root, "cpuinfo")
        self.dmi_root = dmi_root
        self._shared = _Shared(fallback)

    def covering(self, covered: frozenset[str], start_t: float | None = None) -> SensorContext:
        """This context for a later family: ``covered`` is measured already (the CPU read is shared)."""
        other = SensorContext(self.config, self.start_t if start_t is None else start_t, covered=covered,
                              environ=self.environ, cpuinfo_path=self.cpuinfo_path, dmi_root=self.dmi_root)
        other._shared = self._shared
        return other

    def cpu(self) -> CpuInfo:
        """The CPU as ``/proc/cpuinfo`` (or ``cpuinfo_path``) describes it, read on first use."""
        if self._shared.cpu is None:
            from wattprint.hardware.cpu import read_cpuinfo

            self._shared.cpu = read_cpuinfo(self.cpuinfo_path)
        return self._shared.cpu

    def fallback(self, components: Iterable[str]) -> SensorFactory:
        """What replaces a failed sensor of ``components``: the sensors the filling families (the models) open for
        them from a given time; none when no family fills them."""
        wanted = frozenset(components)
        fill = self._shared.fill
        return lambda since: fill(wanted, since) if fill is not None else []


class _Shared:
    """What the contexts of one probe share: the CPU once read, and how the filling families are asked."""

    __slots__ = ("cpu", "fill")

    def __init__(self, fill: Callable[[frozenset[str], float], list[Sensor]] | None) -> None:
        self.cpu: CpuInfo | None = None
        self.fill = fill


@dataclass(frozen=True)
class SensorFamily:
    """One hardware family. ``probe`` opens its sensors (a :class:`ProbeResult`, never raising for missing hardware);
    ``diagnose`` says what ``doctor`` prints about it; ``present``, when given, is a cheap check made before ``probe``
    (and before importing anything heavy) of whether the hardware can exist here.

    ``components`` are those it can measure, ``methods`` how (``counter``, ``sampled``, ``model``) and ``settings``
    the setting keys it reads. A family that ``fills`` (the models) is probed after all the others and measures only
    what they left uncovered; its sensors still keep the family's place in the registry's order."""

    name: str
    title: str
    components: tuple[str, ...]
    methods: tuple[str, ...]
    probe: Callable[[SensorContext], ProbeResult]
    diagnose: Callable[[SensorContext], list[Diagnosis]]
    settings: tuple[str, ...] = ()
    present: Callable[[SensorContext], bool] | None = None
    fills: bool = False

    def wanted(self, config: SensorConfig) -> bool:
        """Whether ``config`` asks for this family at all: ``gpus = false`` turns off families of GPUs only."""
        return config.gpus or not set(self.components) <= {GPU}
