"""Measurement windows: the energy between two meter snapshots, per device and per component."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from wattprint.core.results import WindowResult
    from wattprint.measure.meter import Snapshot


def window_result(name: str, start: Snapshot, end: Snapshot, attribution: str) -> WindowResult:
    """The energy between two snapshots of the same subscription, per device and per component."""
    from wattprint.core.results import WindowResult, aggregate, device_energy  # on first use: not on the import path

    duration = max(0.0, end.t_monotonic - start.t_monotonic)
    before = start.values
    per_sensor: dict[str, dict[str, float]] = {}
    for index, value in enumerate(end.values):
        key, method = end.slots[index]
        per_sensor.setdefault(key, {})[method] = value - (before[index] if index < len(before) else 0.0)
    devices = []
    for key, meta in end.meta.items():
        by_method = per_sensor.get(key) or {next(iter(meta.uncertainty_by_method)): 0.0}
        devices.append(device_energy(meta.component, meta.device, by_method, meta.uncertainty_by_method, duration))
    devices.sort(key=lambda d: (d.component, d.device))
    components, uncertainty = aggregate(devices, duration)
    return WindowResult(
        name=name,
        started_at=start.wall_time,
        duration_s=duration,
        energy_j=sum(d.energy_j for d in devices),
        uncertainty_rel=uncertainty,
        attribution=attribution,
        components=components,
        devices=tuple(devices),
    )
