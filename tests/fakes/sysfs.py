"""Powercap (RAPL) sysfs trees written by tests, laid out as the kernel lays them out."""

from __future__ import annotations

import threading
import time
from pathlib import Path


def write_zone(
    root: Path,
    zone_id: str,
    name: str,
    energy_uj: int = 0,
    max_range_uj: int = 262_143_328_850,
    *,
    power_limit_uw: int | None = None,
    parent: Path | None = None,
) -> Path:
    """Create one zone directory (nested under ``parent`` for sub-zones) and return its path."""
    directory = (parent or root) / zone_id
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "name").write_text(name + "\n")
    (directory / "energy_uj").write_text(f"{energy_uj}\n")
    (directory / "max_energy_range_uj").write_text(f"{max_range_uj}\n")
    (directory / "enabled").write_text("1\n")
    if power_limit_uw is not None:
        (directory / "constraint_0_name").write_text("long_term\n")
        (directory / "constraint_0_power_limit_uw").write_text(f"{power_limit_uw}\n")
    return directory


def set_energy(zone: Path, energy_uj: int) -> None:
    """Rewrite the counter in place, as the kernel's value changes under the same open file."""
    with open(zone / "energy_uj", "r+") as handle:
        handle.seek(0)
        handle.write(f"{energy_uj}\n".ljust(24))
        handle.truncate()


class CounterDriver:
    """A thread advancing zones' counters at constant powers, wrapping at their range, like the hardware."""

    def __init__(self, zones: dict[Path, float], max_range_uj: int, period_s: float = 0.0005) -> None:
        self.zones = zones
        self.max_range_uj = max_range_uj
        self.period_s = period_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.t0 = 0.0

    def energy_j(self, zone: Path, t: float) -> float:
        return self.zones[zone] * (t - self.t0)

    def _run(self) -> None:
        while not self._stop.is_set():
            now = time.monotonic()
            for zone, power in self.zones.items():
                set_energy(zone, int(power * (now - self.t0) * 1e6) % self.max_range_uj)
            time.sleep(self.period_s)

    def __enter__(self) -> CounterDriver:
        self.t0 = time.monotonic()
        for zone in self.zones:
            set_energy(zone, 0)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def two_socket_tree(root: Path) -> dict[str, Path]:
    """Two packages, each with core, uncore and dram sub-zones, plus psys and an MMIO copy of package-0."""
    control = root / "intel-rapl"
    zones = {
        "package-0": write_zone(control, "intel-rapl:0", "package-0", 1_000_000, power_limit_uw=150_000_000),
        "package-1": write_zone(control, "intel-rapl:1", "package-1", 2_000_000, power_limit_uw=150_000_000),
        "psys": write_zone(control, "intel-rapl:2", "psys", 5_000_000),
    }
    for socket in (0, 1):
        parent = zones[f"package-{socket}"]
        write_zone(root, f"intel-rapl:{socket}:0", "core", 10, parent=parent)
        write_zone(root, f"intel-rapl:{socket}:1", "uncore", 20, parent=parent)
        zones[f"dram-{socket}"] = write_zone(root, f"intel-rapl:{socket}:2", "dram", 30 + socket, parent=parent)
    zones["mmio-package-0"] = write_zone(root / "intel-rapl-mmio", "intel-rapl-mmio:0", "package-0", 999)
    return zones
