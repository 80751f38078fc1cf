"""Units: the one place that says how many joules make a kilowatt-hour, and the conversions built on it."""

from __future__ import annotations

J_PER_KWH = 3.6e6
"""Joules in one kilowatt-hour (1 kW × 3,600 s)."""

J_PER_WH = 3.6e3
"""Joules in one watt-hour."""


def j_to_kwh(energy_j: float) -> float:
    """Joules to kilowatt-hours."""
    return energy_j / J_PER_KWH


def kwh_to_j(energy_kwh: float) -> float:
    """Kilowatt-hours to joules."""
    return energy_kwh * J_PER_KWH
