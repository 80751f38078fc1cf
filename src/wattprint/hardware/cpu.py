"""The CPU model and topology, read from /proc/cpuinfo."""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass


@dataclass(frozen=True)
class CpuInfo:
    vendor: str | None
    """``GenuineIntel``, ``AuthenticAMD``, ... or None when unknown."""
    model_name: str | None
    sockets: int
    logical_cpus: int
    virtualized: bool
    """True when the CPU reports the ``hypervisor`` flag (a virtual machine)."""


def parse_cpuinfo(text: str) -> CpuInfo:
    """Parse the text of /proc/cpuinfo (x86 and Arm layouts)."""
    vendor = model = None
    sockets: set[str] = set()
    processors = 0
    virtualized = False
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if not sep:
            continue
        key = key.strip()
        value = value.strip()
        if key == "processor":
            processors += 1
        elif key == "vendor_id" and vendor is None:
            vendor = value
        elif key in ("model name", "Model") and model is None and value:
            model = " ".join(value.split())
        elif key == "physical id":
            sockets.add(value)
        elif key in ("flags", "Features") and not virtualized:
            virtualized = "hypervisor" in value.split()
    return CpuInfo(
        vendor=vendor,
        model_name=model,
        sockets=max(1, len(sockets)),
        logical_cpus=processors or (os.cpu_count() or 1),
        virtualized=virtualized,
    )


@functools.lru_cache(maxsize=8)
def read_cpuinfo(path: str = "/proc/cpuinfo") -> CpuInfo:
    """The machine's CpuInfo; a machine without /proc/cpuinfo gets an unknown model."""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return parse_cpuinfo(handle.read())
    except OSError:
        import platform

        return CpuInfo(
            vendor=None,
            model_name=platform.processor() or None,
            sockets=1,
            logical_cpus=os.cpu_count() or 1,
            virtualized=False,
        )
