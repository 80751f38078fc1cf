"""The one small interface every sensor implements.

A sensor turns one device's hardware readings into energy. The meter calls :meth:`Sensor.advance` at window
edges and whenever :meth:`Sensor.next_poll_s` asks for it; each call returns the energy since the previous call
and the method that measured it. A sensor that can no longer measure raises :class:`SensorError`; the meter
then logs the reason once and puts the sensor's :meth:`Sensor.fallback` in its place.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from wattprint.core.methods import COUNTER, MODEL, SAMPLED, DeviceInfo

__all__ = ["COUNTER", "MODEL", "SAMPLED", "Sensor", "SensorError", "SensorMeta", "ProbeResult"]


class SensorError(Exception):
    """A sensor stopped working; the message says why and, where possible, how to fix it."""


class SensorMeta:
    """What results need to know about a sensor, even once it is gone."""

    __slots__ = ("component", "device", "uncertainty_by_method")

    def __init__(self, component: str, device: str, uncertainty_by_method: dict[str, float]) -> None:
        self.component = component
        self.device = device
        self.uncertainty_by_method = uncertainty_by_method


class Sensor:
    """Base class: subclasses set the attributes in ``__init__`` and implement ``advance``."""

    key: str
    """Unique within the process, e.g. ``rapl:/sys/class/powercap/intel-rapl:0``."""
    component: str
    device: str
    method: str
    group: str
    """Sensors that fall back together (all RAPL package zones become one CPU model)."""
    uncertainty_by_method: dict[str, float]

    def advance(self, now: float) -> tuple[float, str]:
        """Energy in J since the previous call (or since creation) up to ``now`` (time.monotonic), and its method."""
        raise NotImplementedError

    def next_poll_s(self) -> float | None:
        """Longest time the meter may wait before the next ``advance``; None when edges alone suffice."""
        return None

    def info(self) -> DeviceInfo:
        raise NotImplementedError

    def meta(self) -> SensorMeta:
        return SensorMeta(self.component, self.device, dict(self.uncertainty_by_method))

    def fallback(self, since: float) -> list[Sensor]:
        """Sensors that replace this sensor's whole group after a failure, measuring from ``since``."""
        return []

    def last_good_t(self) -> float | None:
        """Monotonic time of the last reading that is known to be right (the fallback starts there)."""
        return None

    def runtime_notes(self) -> list[str]:
        """Remarks that arose while measuring (a counter abandoned for sampling, say)."""
        return []

    def process_share(self, pids: Iterable[int]) -> float | None:
        """Share of this device used by ``pids`` since the previous call, when the device can tell."""
        return None

    def close(self) -> None:
        """Release files and handles."""


class ProbeResult:
    """Sensors found by a probe, plus notes on what was not usable and how to fix it."""

    __slots__ = ("sensors", "notes", "covers")

    def __init__(self, sensors: list[Sensor], notes: list[str], covers: frozenset[str]) -> None:
        self.sensors = sensors
        self.notes = notes
        self.covers = covers
        """Components these sensors measure (``psys`` covers cpu and ram)."""


SensorFactory = Callable[[float], list[Sensor]]
