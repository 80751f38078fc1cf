"""How energy was obtained: the method of every figure, their ranking, and what a sensor measures.

Kept apart from :mod:`wattprint.core.results` so that the sensors and the meter can be imported (by
``from wattprint import Tracker``) without creating the result dataclasses, which only a finished
measurement needs; ``wattprint.core.results`` re-exports everything here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

COUNTER = "counter"
"""A hardware energy counter (RAPL, NVML total energy, amdsmi) read at the window edges."""
SAMPLED = "sampled"
"""Power readings integrated over time."""
MODEL = "model"
"""An estimate from a power model (TDP and utilisation, W per GB of memory)."""

IMPORTED = "imported"
"""A figure brought in from another tool's files (CodeCarbon, Carbontracker), as that file states it."""

METHODS = (COUNTER, SAMPLED, MODEL, IMPORTED)
"""From the most to the least direct: what wattprint did not measure itself ranks last."""



def weakest_method(methods: Iterable[str]) -> str:
    """The least direct of ``methods``: a mix of measured and modelled energy is reported as modelled."""
    rank = -1
    for method in methods:
        rank = max(rank, METHODS.index(method))
    if rank < 0:
        raise ValueError("weakest_method() needs at least one method")
    return METHODS[rank]


@dataclass(frozen=True)
class DeviceInfo:
    """What a sensor measures: the hardware model, its power limit, and how its energy is obtained."""

    component: str
    device: str
    model: str | None
    source: str
    power_limit_w: float | None = None
    detail: str = ""
