"""Sensors, one module per hardware family behind one interface (:class:`wattprint.sensors.base.Sensor`), listed in
one registry (:mod:`wattprint.sensors.registry`).

:func:`probe` finds what this machine can measure: RAPL counters for the CPU package and DRAM, NVIDIA and
AMD GPUs, the families other packages add, and the CPU and RAM power models for whatever has no counter.
"""

from __future__ import annotations

from wattprint.sensors.base import ProbeResult, Sensor
from wattprint.sensors.family import Diagnosis, SensorConfig, SensorContext, SensorFamily
from wattprint.sensors.powercap import (  # noqa: F401 - part of this package's interface
    DEFAULT_POWERCAP_ROOTS,
    POWERCAP_ROOT_VARIABLE,
    RAPL_DOMAINS,
    powercap_roots,
)
from wattprint.sensors.registry import families, probe, register, unregister

__all__ = ["SensorConfig", "probe", "powercap_roots", "Sensor", "ProbeResult", "SensorFamily", "SensorContext",
           "Diagnosis", "families", "register", "unregister"]
