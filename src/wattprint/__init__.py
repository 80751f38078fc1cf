"""wattprint: measure, predict, report and reduce the energy and carbon footprint of ML work.

>>> import wattprint
>>> with wattprint.track(project="demo") as run:
...     total = sum(range(1000))
>>> run.result.energy_j >= 0
True

Submodules are imported on first use, so ``import wattprint`` stays fast.
"""

from __future__ import annotations

from wattprint._lazy import lazy_exports
from wattprint._version import __version__

TYPE_CHECKING = False  # not imported from typing: it alone would double the import time
if TYPE_CHECKING:
    from wattprint.budget import Budget
    from wattprint.errors import BudgetExceeded, ConfigError, TrackerStateError, WattprintError
    from wattprint.estimation import estimate
    from wattprint.predict import Prediction
    from wattprint.results import ComponentEnergy, DeviceEnergy, DeviceInfo, RunResult, WindowResult
    from wattprint.schedule import GreenPause, wait_for_green
    from wattprint.tracker import Tracker, Window, track

__all__ = [
    "__version__",
    "track",
    "Tracker",
    "Window",
    "RunResult",
    "WindowResult",
    "ComponentEnergy",
    "DeviceEnergy",
    "DeviceInfo",
    "WattprintError",
    "ConfigError",
    "TrackerStateError",
    "wait_for_green",
    "GreenPause",
    "BudgetExceeded",
    "Budget",
    "Prediction",
    "estimate",
]

_LAZY = {
    "track": "wattprint.tracker",
    "Tracker": "wattprint.tracker",
    "Window": "wattprint.tracker",
    "RunResult": "wattprint.results",
    "WindowResult": "wattprint.results",
    "ComponentEnergy": "wattprint.results",
    "DeviceEnergy": "wattprint.results",
    "DeviceInfo": "wattprint.results",
    "WattprintError": "wattprint.errors",
    "ConfigError": "wattprint.errors",
    "TrackerStateError": "wattprint.errors",
    "wait_for_green": "wattprint.schedule",
    "GreenPause": "wattprint.schedule",
    "BudgetExceeded": "wattprint.errors",
    "Budget": "wattprint.budget",
    "Prediction": "wattprint.predict",
    "estimate": "wattprint.estimation",
}


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__)
