"""Where the kernel exposes RAPL counters (powercap), and which of its domains wattprint reads."""

from __future__ import annotations

import os
from collections.abc import Sequence

RAPL_DOMAINS = ("package", "dram", "psys")
POWERCAP_ROOT_VARIABLE = "WATTPRINT_POWERCAP_ROOT"
DEFAULT_POWERCAP_ROOTS = ("/sys/class/powercap", "/sys/devices/virtual/powercap")


def powercap_roots(root: str | Sequence[str] | None = None) -> tuple[str, ...]:
    """The RAPL roots to search: the argument, else ``$WATTPRINT_POWERCAP_ROOT`` (``os.pathsep``-separated),
    else the kernel's two paths."""
    if root is None:
        root = os.environ.get(POWERCAP_ROOT_VARIABLE) or None
    if root is None:
        return DEFAULT_POWERCAP_ROOTS
    if isinstance(root, str):
        return tuple(p for p in root.split(os.pathsep) if p)
    return tuple(root)
