"""The control group (container) a process runs in: its CPU time and memory, cgroup v2 or v1.

Paths are taken from ``/proc/<pid>/cgroup``. Inside a container with its own cgroup namespace the path shown
may not exist under the mount point; the mount point itself is then the container's group.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

UNLIMITED = 1 << 62


@dataclass(frozen=True)
class CgroupPaths:
    version: int
    cpu_dir: str | None
    """Directory holding ``cpu.stat`` (v2) or ``cpuacct.usage`` (v1)."""
    memory_dir: str | None
    """Directory holding ``memory.current`` (v2) or ``memory.usage_in_bytes`` (v1)."""


def find_cgroup(pid: int | str = "self", cgroup_root: str = "/sys/fs/cgroup", proc_root: str = "/proc") -> (
    CgroupPaths | None
):
    """Locate the cgroup directories of ``pid``; None when the process is in no readable cgroup hierarchy."""
    try:
        with open(os.path.join(proc_root, str(pid), "cgroup"), encoding="utf-8") as handle:
            lines = handle.read().splitlines()
    except OSError:
        return None
    v1: dict[str, str] = {}
    v2_path: str | None = None
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, path = parts
        if controllers == "":
            v2_path = path
        for controller in controllers.split(","):
            if controller:
                v1[controller] = path

    if os.path.exists(os.path.join(cgroup_root, "cgroup.controllers")) and v2_path is not None:
        directory = _existing(cgroup_root, v2_path, marker="cgroup.procs")
        return CgroupPaths(version=2, cpu_dir=directory, memory_dir=directory)

    cpu_dir = memory_dir = None
    if "cpuacct" in v1:
        for mount in ("cpuacct", "cpu,cpuacct", "cpuacct,cpu"):
            base = os.path.join(cgroup_root, mount)
            if os.path.isdir(base):
                cpu_dir = _existing(base, v1["cpuacct"], marker="cpuacct.usage")
                break
    if "memory" in v1:
        base = os.path.join(cgroup_root, "memory")
        if os.path.isdir(base):
            memory_dir = _existing(base, v1["memory"], marker="memory.usage_in_bytes")
    if cpu_dir is None and memory_dir is None:
        return None
    return CgroupPaths(version=1, cpu_dir=cpu_dir, memory_dir=memory_dir)


def _existing(base: str, path: str, marker: str) -> str | None:
    candidate = os.path.join(base, path.lstrip("/"))
    if os.path.exists(os.path.join(candidate, marker)):
        return candidate
    if os.path.exists(os.path.join(base, marker)):  # cgroup namespace: the mount point is our group
        return base
    return None


class CgroupReader:
    """Reads a cgroup's cumulative CPU time and its current memory use and limit."""

    def __init__(self, paths: CgroupPaths) -> None:
        self.paths = paths

    @property
    def label(self) -> str:
        return self.paths.cpu_dir or self.paths.memory_dir or "?"

    def cpu_usage_s(self) -> float | None:
        """CPU time used by every process in the group since it was created, or None if unreadable."""
        directory = self.paths.cpu_dir
        if directory is None:
            return None
        try:
            if self.paths.version == 2:
                with open(os.path.join(directory, "cpu.stat"), encoding="ascii") as handle:
                    for line in handle:
                        key, _, value = line.partition(" ")
                        if key == "usage_usec":
                            return int(value) / 1e6
                return None
            with open(os.path.join(directory, "cpuacct.usage"), encoding="ascii") as handle:
                return int(handle.read()) / 1e9
        except (OSError, ValueError):
            return None

    def memory_bytes(self) -> int | None:
        """Memory charged to the group now, or None if unreadable."""
        name = "memory.current" if self.paths.version == 2 else "memory.usage_in_bytes"
        return _read_int(self.paths.memory_dir, name)

    def memory_limit_bytes(self) -> int | None:
        """The group's memory limit, or None when it has none."""
        name = "memory.max" if self.paths.version == 2 else "memory.limit_in_bytes"
        limit = _read_int(self.paths.memory_dir, name)
        return None if limit is None or limit >= UNLIMITED else limit


def _read_int(directory: str | None, name: str) -> int | None:
    if directory is None:
        return None
    try:
        with open(os.path.join(directory, name), encoding="ascii") as handle:
            text = handle.read().strip()
    except OSError:
        return None
    if text == "max":
        return UNLIMITED
    try:
        return int(text)
    except ValueError:
        return None


def memory_limit_bytes(cgroup_root: str = "/sys/fs/cgroup", proc_root: str = "/proc") -> int | None:
    """The memory limit of this process's cgroup, or None when unlimited or unknown."""
    paths = find_cgroup("self", cgroup_root, proc_root)
    return CgroupReader(paths).memory_limit_bytes() if paths else None
