"""Attribution: which share of the energy the sensors see belongs to the tracked work.

- ``machine``: everything the sensors see (the default).
- ``process``: the process tree's share: its share of the machine's CPU time (CPU time used over the CPU
  time available, elapsed time x logical CPUs) for CPU energy, its share of the memory in use (resident set)
  for RAM, and its share of each GPU's SM utilisation (NVML per-process samples; by GPU memory when NVML has
  no samples) for GPUs.
- ``cgroup``: the container's share: its CPU time (``cpu.stat`` / ``cpuacct.usage``) over the machine's CPU
  time, its ``memory.current`` over the memory in use. GPUs visible in a container are the container's.

The CPU share is of the machine's capacity, not of its busy time: a tree that keeps one of four CPUs busy is
charged a quarter of the CPU energy, idle power included, and the energy of unused capacity is charged to no
one. (A share of busy time would be ill-conditioned on an idle machine, where a single 10 ms tick of anyone's
work would decide who pays for all the idle power.) The sampler's own thread is not counted as the tree's work.

Shares are measured over windows of at least ``SHARE_WINDOW_S``: the kernel counts CPU time in 10 ms ticks,
so a shorter window would say little. Each share applies to the energy measured since the previous reading.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Sequence

from wattprint.core.errors import ConfigError
from wattprint.hardware.procfs import MemInfo, ProcStat
from wattprint.sensors.base import Sensor

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

MODES = ("machine", "process", "cgroup")
SHARE_WINDOW_S = 0.25


def descendants(pid: int, proc_root: str = "/proc") -> list[int] | None:
    """Every descendant of ``pid`` from the kernel's per-thread ``children`` lists: a cost in proportion to the
    tree, not to the number of processes on the machine. None where the kernel does not offer those lists."""
    found: list[int] = []
    stack = [pid]
    while stack:
        parent = stack.pop()
        try:
            threads = os.listdir(f"{proc_root}/{parent}/task")
        except OSError:
            continue  # exited meanwhile
        for thread in threads:
            try:
                with open(f"{proc_root}/{parent}/task/{thread}/children", "rb") as handle:
                    children = [int(c) for c in handle.read().split()]
            except FileNotFoundError:
                if os.path.isdir(f"{proc_root}/{parent}/task/{thread}"):
                    return None  # the thread is there but the kernel keeps no children lists
                continue  # the thread ended meanwhile
            except (OSError, ValueError):
                continue
            for child in children:
                if child not in found:
                    found.append(child)
                    stack.append(child)
    return found


class Attribution:
    """Machine attribution: every share is 1."""

    mode = "machine"
    needs_updates = False

    def __init__(self) -> None:
        self.shares: dict[str, float] = {}

    def share(self, sensor: Sensor) -> float:
        return self.shares.get(sensor.key, 1.0)

    def update(self, now: float, sensors: Sequence[Sensor]) -> bool:
        """Measure the shares since the previous update; False when there was too little data to be final."""
        return True

    def refresh(self) -> None:
        """Expensive rediscovery (the process tree), done from the meter's thread only."""

    def describe(self) -> str:
        return "machine"

    def close(self) -> None:
        pass


class _ShareAttribution(Attribution):
    """Common part of process and cgroup attribution: CPU-time and memory shares against the machine's."""

    needs_updates = True

    def __init__(self, proc_root: str) -> None:
        super().__init__()
        self._stat = ProcStat(os.path.join(proc_root, "stat"))
        self._meminfo = MemInfo(os.path.join(proc_root, "meminfo"))
        self._total_s = self._stat.read()[1]
        self._owned_cpu_s = self._cpu_s()
        self._baseline_t = time.monotonic()
        self.cpu_share: float | None = None
        self.ram_share = 0.0

    def _cpu_s(self) -> float:
        raise NotImplementedError

    def _memory_bytes(self) -> int:
        raise NotImplementedError

    def _gpu_share(self, sensor: Sensor) -> float | None:
        return None

    def update(self, now: float, sensors: Sequence[Sensor]) -> bool:
        total_s = self._stat.read()[1]
        owned_s = self._cpu_s()
        total_delta = total_s - self._total_s
        owned_delta = max(0.0, owned_s - self._owned_cpu_s)  # negative when a process left the tree
        self.cpu_share = min(1.0, owned_delta / total_delta) if total_delta > 0 else 0.0
        measured = now - self._baseline_t >= SHARE_WINDOW_S
        if measured:  # else a provisional share, until a window long enough to mean something has passed
            self._total_s, self._owned_cpu_s, self._baseline_t = total_s, owned_s, now
        _, used = self._meminfo.read()
        self.ram_share = min(1.0, self._memory_bytes() / used) if used > 0 else 0.0
        for sensor in sensors:
            if sensor.component in ("cpu", "platform"):
                self.shares[sensor.key] = self.cpu_share
            elif sensor.component == "ram":
                self.shares[sensor.key] = self.ram_share
            elif sensor.component == "gpu":
                share = self._gpu_share(sensor)
                if share is not None:
                    self.shares[sensor.key] = share
        return measured

    def close(self) -> None:
        self._stat.close()
        self._meminfo.close()


class ProcessAttribution(_ShareAttribution):
    """The share of one process tree (the tracking process by default, or the command ``wattprint run`` started)."""

    mode = "process"

    def __init__(self, pid: int | None = None, proc_root: str = "/proc") -> None:
        import psutil

        self._psutil = psutil
        self.pid = os.getpid() if pid is None else pid
        try:
            self._root = psutil.Process(self.pid)
        except psutil.Error as error:
            raise ConfigError(f"pid={pid!r}: no such process to attribute energy to ({error})") from error
        self._tree: list[Any] = [self._root]
        self._proc_root = proc_root
        self._meter_tid: int | None = None
        self._tick_s = 1.0 / os.sysconf("SC_CLK_TCK")
        self._discover()
        super().__init__(proc_root)

    def refresh(self) -> None:
        """Rediscover the tree; called from the meter's thread, which is how we learn which thread it is."""
        self._meter_tid = threading.get_native_id()
        self._discover()

    def _discover(self) -> None:
        pids = descendants(self.pid, self._proc_root)
        if pids is None:  # no /proc/<pid>/task/<tid>/children here: scan every process
            try:
                self._tree = [self._root, *self._root.children(recursive=True)]
            except self._psutil.Error:
                self._tree = [self._root]
            return
        known = {p.pid: p for p in self._tree}
        tree = [self._root]
        for pid in pids:
            process = known.get(pid)
            if process is None:
                try:
                    process = self._psutil.Process(pid)
                except self._psutil.Error:
                    continue
            tree.append(process)
        self._tree = tree

    def pids(self) -> list[int]:
        return [p.pid for p in self._tree]

    def _cpu_s(self) -> float:
        total = -self._meter_cpu_s()
        for process in self._tree:
            try:
                times = process.cpu_times()
            except self._psutil.Error:
                continue
            total += times.user + times.system + times.children_user + times.children_system
        return total

    def _meter_cpu_s(self) -> float:
        """CPU time of wattprint's own sampler thread, when it runs inside the tree: not the tracked work's."""
        if self._meter_tid is None or self.pid != os.getpid():
            return 0.0
        try:
            with open(f"/proc/self/task/{self._meter_tid}/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            return 0.0
        return (int(fields[11]) + int(fields[12])) * self._tick_s  # utime, stime

    def _memory_bytes(self) -> int:
        total = 0
        for process in self._tree:
            try:
                total += process.memory_info().rss
            except self._psutil.Error:
                continue
        return total

    def _gpu_share(self, sensor: Sensor) -> float | None:
        return sensor.process_share(self.pids())

    def describe(self) -> str:
        return f"process tree of pid {self.pid}"


class CgroupAttribution(_ShareAttribution):
    """The share of this process's control group (its container)."""

    mode = "cgroup"

    def __init__(self, pid: int | None = None, cgroup_root: str = "/sys/fs/cgroup", proc_root: str = "/proc") -> None:
        from wattprint.hardware.cgroup import CgroupReader, find_cgroup

        paths = find_cgroup("self" if pid is None else pid, cgroup_root, proc_root)
        if paths is None or paths.cpu_dir is None:
            raise ConfigError(
                "attribution='cgroup' needs a readable cgroup (v2 cpu.stat or v1 cpuacct.usage) for this process, "
                f"and none was found under {cgroup_root}; use attribution='process' or 'machine'"
            )
        self._reader = CgroupReader(paths)
        super().__init__(proc_root)

    def _cpu_s(self) -> float:
        return self._reader.cpu_usage_s() or 0.0

    def _memory_bytes(self) -> int:
        return self._reader.memory_bytes() or 0

    def _gpu_share(self, sensor: Sensor) -> float | None:
        return 1.0

    def describe(self) -> str:
        return f"cgroup {self._reader.label} (v{self._reader.paths.version})"


def make_attribution(
    mode: str, *, pid: int | None = None, proc_root: str = "/proc", cgroup_root: str = "/sys/fs/cgroup"
) -> Attribution:
    if mode == "machine":
        return Attribution()
    if mode == "process":
        return ProcessAttribution(pid, proc_root)
    if mode == "cgroup":
        return CgroupAttribution(pid, cgroup_root, proc_root)
    raise ConfigError(f"attribution={mode!r} is not valid; allowed values: 'machine', 'process', 'cgroup'")


def attribution_key(mode: str, pid: int | None) -> str:
    """The key under which attributions are shared by trackers (one per mode and tree)."""
    if mode == "process":
        return f"process:{os.getpid() if pid is None else pid}"
    if mode == "cgroup":
        return f"cgroup:{'self' if pid is None else pid}"
    return "machine"
