"""The machine agent behind ``wattprint agent``: the whole machine measured continuously (the meter's machine-wide
sensors, through a tracker that stores nothing), and, on request, the share of its CPU and RAM energy taken by each
of the top N process trees or control groups (the attribution rules of ``measure.attribution``).

Every ``interval_s`` the agent reads the machine's energy so far; power is the energy added over that interval.
A process tree is a child of ``tree_root`` (PID 1 by default: each service, container shim or login) with its
descendants; a control group is a leaf of the cgroup hierarchy. Each unit is charged its share of the machine's
CPU time for CPU (and platform) energy and its share of memory in use for RAM energy, over the interval; GPUs are
not split between units (their energy is in the machine's figures). The figures say how they were obtained: each
device's method, and ``attributed`` shares for units.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass

from wattprint._log import warn_once
from wattprint.measure.attribution import CgroupAttribution, ProcessAttribution

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from wattprint.core.results import RunResult
    from wattprint.hardware.cgroup import CgroupPaths
    from wattprint.measure.attribution import Attribution

__all__ = ["DEFAULT_INTERVAL_S", "Agent", "DeviceReading", "Reading", "UnitReading", "cgroup_leaves", "tree_roots"]

DEFAULT_INTERVAL_S = 5.0
"""Seconds between two readings by default: a third of Prometheus's usual 15 s scrape."""
SHARED_BY_CPU_TIME = ("cpu", "platform")
"""Components split between units by their share of the machine's CPU time (RAM by memory in use)."""
CGROUP_DEPTH = 4
"""How deep the cgroup hierarchy is searched for leaves (systemd: slice / service or scope / ...)."""


@dataclass(frozen=True)
class DeviceReading:
    """One device of the machine: its energy since the agent started, and its power over the latest interval."""

    component: str
    device: str
    method: str
    energy_j: float
    power_w: float
    uncertainty_rel: float


@dataclass(frozen=True)
class UnitReading:
    """One process tree or control group's share of one component: energy since the agent first saw it, power
    over the latest interval."""

    kind: str
    """``process`` (a process tree) or ``cgroup``."""
    key: str
    """The tree's root pid, or the cgroup's path under its hierarchy."""
    name: str
    """The root process's command name, or the cgroup's path."""
    component: str
    energy_j: float
    power_w: float


@dataclass(frozen=True)
class Reading:
    """Everything the agent shows, at one instant."""

    t: float
    """Unix time of the reading."""
    interval_s: float
    """Seconds since the previous reading (the window of every power)."""
    duration_s: float
    """Seconds since the agent started."""
    devices: tuple[DeviceReading, ...]
    units: tuple[UnitReading, ...]
    """The top units by power over the interval (none unless asked for), each component a reading."""
    emissions_g: float | None
    emissions_uncertainty_rel: float | None
    intensity_g_per_kwh: float | None
    intensity_zone: str | None
    intensity_source: str | None
    hostname: str

    @property
    def power_w(self) -> float:
        return sum(device.power_w for device in self.devices)

    @property
    def energy_j(self) -> float:
        return sum(device.energy_j for device in self.devices)


def tree_roots(root: int = 1, proc_root: str = "/proc") -> list[int]:
    """The children of process ``root``: each the root of one process tree."""
    found: list[int] = []
    try:
        threads = os.listdir(f"{proc_root}/{root}/task")
    except OSError:
        return found
    for thread in threads:
        try:
            with open(f"{proc_root}/{root}/task/{thread}/children", "rb") as handle:
                found += [int(child) for child in handle.read().split()]
        except (OSError, ValueError):
            continue
    return found


def cgroup_leaves(cgroup_root: str = "/sys/fs/cgroup") -> list[CgroupPaths]:
    """Every leaf control group (one without child groups) that has CPU accounting, cgroup v2 or v1."""
    from wattprint.hardware.cgroup import CgroupPaths

    if os.path.exists(os.path.join(cgroup_root, "cgroup.controllers")):
        return [CgroupPaths(2, path, path) for path in _leaves(cgroup_root, "cpu.stat")]
    for mount in ("cpuacct", "cpu,cpuacct", "cpuacct,cpu"):
        base = os.path.join(cgroup_root, mount)
        if os.path.isdir(base):
            leaves = []
            for path in _leaves(base, "cpuacct.usage"):
                memory = os.path.join(cgroup_root, "memory", os.path.relpath(path, base))
                leaves.append(CgroupPaths(1, path, memory if os.path.isdir(memory) else None))
            return leaves
    return []


def _leaves(base: str, marker: str) -> list[str]:
    leaves = []
    stack = [(base, 0)]
    while stack:
        directory, depth = stack.pop()
        try:
            children = [entry.path for entry in os.scandir(directory) if entry.is_dir(follow_symlinks=False)]
        except OSError:
            continue
        groups = [child for child in children if os.path.exists(os.path.join(child, marker))]
        if not groups or depth >= CGROUP_DEPTH:
            if directory != base:
                leaves.append(directory)
            continue
        stack += [(child, depth + 1) for child in groups]
    return leaves


class _CgroupShare(CgroupAttribution):
    """The share of one control group found by its path (not by a process in it)."""

    def __init__(self, paths: CgroupPaths, proc_root: str) -> None:
        from wattprint.hardware.cgroup import CgroupReader

        self._reader = CgroupReader(paths)
        super(CgroupAttribution, self).__init__(proc_root)  # the share counters, without looking a process up


class _Unit:
    """A process tree or control group the agent follows: its attribution and its energy so far per component."""

    def __init__(self, kind: str, key: str, name: str, attribution: Attribution) -> None:
        self.kind, self.key, self.name = kind, key, name
        self.attribution = attribution
        self.energy_j: dict[str, float] = {}
        self.power_w: dict[str, float] = {}

    def charge(self, now: float, added_j: dict[str, float], interval_s: float) -> None:
        """Charge the unit its share of the energy ``added_j`` (per component) over the latest interval."""
        attribution = self.attribution
        attribution.refresh()
        attribution.update(time.monotonic(), ())
        cpu_share = getattr(attribution, "cpu_share", None) or 0.0
        ram_share = getattr(attribution, "ram_share", 0.0)
        for component, energy_j in added_j.items():
            if component in SHARED_BY_CPU_TIME:
                share = cpu_share
            elif component == "ram":
                share = ram_share
            else:
                continue
            self.energy_j[component] = self.energy_j.get(component, 0.0) + share * energy_j
            self.power_w[component] = share * energy_j / interval_s if interval_s > 0 else 0.0

    def readings(self) -> list[UnitReading]:
        return [UnitReading(self.kind, self.key, self.name, component, energy_j, self.power_w.get(component, 0.0))
                for component, energy_j in sorted(self.energy_j.items())]


class Agent:
    """Measures the machine every ``interval_s`` and keeps the latest :class:`Reading` (``latest()``), for the
    exporters to read when they are asked. ``top``: how many process trees (or control groups, ``cgroups=True``)
    to show, by power; ``tree_root``: the process whose children root the trees. ``settings``: tracker keys
    (``powercap_root``, ``location``, ``gpus``...)."""

    def __init__(self, *, interval_s: float = DEFAULT_INTERVAL_S, top: int = 0, cgroups: bool = False,
                 tree_root: int = 1, proc_root: str = "/proc", cgroup_root: str = "/sys/fs/cgroup",
                 **settings: Any) -> None:
        from wattprint.core.errors import ConfigError
        from wattprint.run.tracker import Tracker

        if not interval_s > 0:
            raise ConfigError(f"interval_s must be above 0 seconds, got {interval_s!r} (wattprint agent --interval)")
        if top < 0:
            raise ConfigError(f"top must be 0 or more, got {top!r} (wattprint agent --top)")
        self.interval_s = float(interval_s)
        self.top = top
        self.cgroups = cgroups
        self.tree_root = tree_root
        self.proc_root = proc_root
        self.cgroup_root = cgroup_root
        self.tracker = Tracker(None, "agent", attribution="machine", store="off", **settings)
        self.tracker.exported = False  # the agent's readings are no run: the exporters setting never sees them
        self._lock = threading.Lock()
        self._latest: Reading | None = None
        self._previous: RunResult | None = None
        self._previous_t = 0.0
        self._units: dict[str, _Unit] = {}

    def start(self) -> Agent:
        """Start measuring (the first reading comes after one interval)."""
        self.tracker.start()
        self._previous = self.tracker.snapshot()
        self._previous_t = time.monotonic()
        return self

    def latest(self) -> Reading | None:
        """The latest reading (None before the first one)."""
        with self._lock:
            return self._latest

    def step(self) -> Reading:
        """Read the machine now: its energy and power since the previous reading, charged to the units."""
        previous = self._previous
        if previous is None:
            raise RuntimeError("Agent.step() needs start() first")
        result = self.tracker.snapshot()
        now = time.monotonic()
        interval_s = max(1e-9, result.duration_s - previous.duration_s)
        before = {(d.component, d.device, d.method): d.energy_j for d in previous.devices}
        devices = tuple(
            DeviceReading(d.component, d.device, d.method, d.energy_j,
                          max(0.0, d.energy_j - before.get((d.component, d.device, d.method), 0.0)) / interval_s,
                          d.uncertainty_rel)
            for d in result.devices
        )
        units: tuple[UnitReading, ...] = ()
        if self.top:
            added = {name: max(0.0, c.energy_j - (previous.components[name].energy_j
                                                   if name in previous.components else 0.0))
                     for name, c in result.components.items()}
            units = self._charge_units(now, added, interval_s)
        footprint = result.footprint
        intensity = footprint.intensity if footprint is not None else None
        reading = Reading(
            t=time.time(), interval_s=interval_s, duration_s=result.duration_s, devices=devices, units=units,
            emissions_g=result.emissions_g, emissions_uncertainty_rel=result.emissions_uncertainty_rel,
            intensity_g_per_kwh=intensity.g_per_kwh if intensity is not None else None,
            intensity_zone=intensity.zone if intensity is not None else None,
            intensity_source=intensity.source if intensity is not None else None,
            hostname=_hostname(),
        )
        with self._lock:
            self._latest = reading
        self._previous, self._previous_t = result, now
        return reading

    def run(self, stop: threading.Event, on_reading: Any = None, count: int | None = None) -> None:
        """Take a reading every ``interval_s`` until ``stop`` is set (or ``count`` readings), handing each to
        ``on_reading``. A reading that fails is logged once and the agent goes on."""
        taken = 0
        deadline = time.monotonic() + self.interval_s
        while not stop.wait(max(0.0, deadline - time.monotonic())):
            deadline += self.interval_s
            try:
                reading = self.step()
            except Exception as error:  # noqa: BLE001 - one bad reading must not end the agent
                warn_once("agent-step", f"wattprint agent: a reading failed ({error}); the agent goes on")
                continue
            if on_reading is not None:
                on_reading(reading)
            taken += 1
            if count is not None and taken >= count:
                return

    def close(self) -> None:
        """Stop measuring and let go of what the units held."""
        self.tracker.stop()
        for unit in self._units.values():
            unit.attribution.close()
        self._units.clear()

    def _charge_units(self, now: float, added_j: dict[str, float], interval_s: float) -> tuple[UnitReading, ...]:
        present = self._discover()
        for key in [key for key in self._units if key not in present]:
            self._units.pop(key).attribution.close()  # a tree that ended, a group removed
        for key, (kind, name, make) in present.items():
            if key not in self._units:
                try:
                    self._units[key] = _Unit(kind, key, name, make())
                except Exception:  # noqa: BLE001 - it ended meanwhile, or cannot be read
                    continue
        for unit in list(self._units.values()):
            try:
                unit.charge(now, added_j, interval_s)
            except Exception:  # noqa: BLE001 - it ended meanwhile
                self._units.pop(unit.key).attribution.close()
        ranked = sorted(self._units.values(), key=lambda unit: sum(unit.power_w.values()), reverse=True)
        return tuple(reading for unit in ranked[:self.top] for reading in unit.readings())

    def _discover(self) -> dict[str, tuple[str, str, Any]]:
        """The units present now: key -> (kind, name, a function making its attribution)."""
        if self.cgroups:
            found: dict[str, tuple[str, str, Any]] = {}
            for paths in cgroup_leaves(self.cgroup_root):
                label = paths.cpu_dir or ""
                name = "/" + os.path.relpath(label, self._mount(label))
                found[label] = ("cgroup", name, lambda paths=paths: _CgroupShare(paths, self.proc_root))
            return found
        units: dict[str, tuple[str, str, Any]] = {}
        for pid in tree_roots(self.tree_root, self.proc_root):
            units[str(pid)] = ("process", _command(pid, self.proc_root),
                               lambda pid=pid: ProcessAttribution(pid, self.proc_root))
        return units

    def _mount(self, path: str) -> str:
        """The hierarchy's mount point that ``path`` is under (for a cgroup's name: its path inside it)."""
        for mount in ("cpuacct", "cpu,cpuacct", "cpuacct,cpu", ""):
            base = os.path.join(self.cgroup_root, mount).rstrip("/")
            if path.startswith(base + "/") and (mount or os.path.exists(os.path.join(base, "cgroup.controllers"))):
                return base
        return self.cgroup_root


def _command(pid: int, proc_root: str) -> str:
    try:
        with open(f"{proc_root}/{pid}/comm", encoding="utf-8", errors="replace") as handle:
            return handle.read().strip() or str(pid)
    except OSError:
        return str(pid)


def _hostname() -> str:
    import socket

    return socket.gethostname()
