"""Fast readers of machine-wide CPU time and memory from /proc, keeping files open between reads."""

from __future__ import annotations

import os
import sys

_BUSY_FIELDS = (0, 1, 2, 5, 6)  # user, nice, system, irq, softirq (guest time is already inside user/nice)
_IDLE_FIELDS = (3, 4)  # idle, iowait
_STEAL_FIELD = 7


class ProcStat:
    """Cumulative busy and total CPU time of the whole machine, in seconds, from the first line of /proc/stat.

    Steal time (the hypervisor ran someone else) counts towards the total but not towards busy time.
    On systems without /proc it falls back to psutil.
    """

    def __init__(self, path: str = "/proc/stat") -> None:
        self._path = path
        self._fd: int | None = None
        self._tick_s = 1.0 / os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 0.01
        if sys.platform.startswith("linux") or os.path.exists(path):
            self._fd = os.open(path, os.O_RDONLY)

    def read(self) -> tuple[float, float]:
        """Return ``(busy_s, total_s)`` summed over all CPUs since boot."""
        if self._fd is None:
            return _psutil_cpu_times()
        head = os.pread(self._fd, 512, 0)
        fields = head[: head.index(b"\n")].split()[1:]
        values = [int(v) for v in fields[:8]]
        values += [0] * (8 - len(values))
        busy = sum(values[i] for i in _BUSY_FIELDS)
        total = busy + sum(values[i] for i in _IDLE_FIELDS) + values[_STEAL_FIELD]
        return busy * self._tick_s, total * self._tick_s

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _psutil_cpu_times() -> tuple[float, float]:
    import psutil

    times = psutil.cpu_times()
    idle = times.idle + getattr(times, "iowait", 0.0)
    total = sum(times)
    return total - idle, total


_MEMINFO_KEYS = (b"MemTotal", b"MemAvailable", b"MemFree", b"Buffers", b"Cached")


class MemInfo:
    """Machine memory from /proc/meminfo: total and in use (total minus available), in bytes."""

    def __init__(self, path: str = "/proc/meminfo") -> None:
        self._fd: int | None = os.open(path, os.O_RDONLY) if os.path.exists(path) else None

    def read(self) -> tuple[int, int]:
        """Return ``(total_bytes, used_bytes)``."""
        if self._fd is None:
            import psutil

            vm = psutil.virtual_memory()
            return vm.total, vm.total - vm.available
        text = os.pread(self._fd, 8192, 0)
        values: dict[bytes, int] = {}
        # Linux lists MemTotal, MemFree and MemAvailable first: parse the other ~50 lines only when they are not
        # there (kernels before 3.14, other layouts), since the meter reads this file every interval
        for lines in (text.split(b"\n", 3)[:3], text.splitlines()):
            for line in lines:
                key, _, rest = line.partition(b":")
                if key in _MEMINFO_KEYS:
                    values[key] = int(rest.split()[0]) * 1024
            if b"MemTotal" in values and b"MemAvailable" in values:
                break
        total = values.get(b"MemTotal", 0)
        if b"MemAvailable" in values:
            available = values[b"MemAvailable"]
        else:  # kernels before 3.14
            available = values.get(b"MemFree", 0) + values.get(b"Buffers", 0) + values.get(b"Cached", 0)
        return total, max(0, total - available)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
