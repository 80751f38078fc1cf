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
    from wattprint.core.errors import BudgetExceeded, ConfigError, TrackerStateError, WattprintError
    from wattprint.core.results import ComponentEnergy, DeviceEnergy, DeviceInfo, RunResult, WindowResult
    from wattprint.plan.estimate import estimate
    from wattprint.plan.inference import estimate_inference
    from wattprint.plan.schedule import GreenPause, wait_for_green
    from wattprint.predict.budget import Budget
    from wattprint.predict.prediction import Prediction
    from wattprint.run.options import Hardware
    from wattprint.run.tracker import Tracker, Window, track
    from wattprint.settings.typed import Settings, load_settings

__all__ = [
    "__version__",
    "track",
    "Tracker",
    "Window",
    "Settings",
    "load_settings",
    "Hardware",
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
    "estimate_inference",
]

_LAZY = {
    "track": "wattprint.run.tracker",
    "Tracker": "wattprint.run.tracker",
    "Window": "wattprint.run.tracker",
    "Settings": "wattprint.settings.typed",
    "load_settings": "wattprint.settings.typed",
    "Hardware": "wattprint.run.options",
    "RunResult": "wattprint.core.results",
    "WindowResult": "wattprint.core.results",
    "ComponentEnergy": "wattprint.core.results",
    "DeviceEnergy": "wattprint.core.results",
    "DeviceInfo": "wattprint.core.results",
    "WattprintError": "wattprint.core.errors",
    "ConfigError": "wattprint.core.errors",
    "TrackerStateError": "wattprint.core.errors",
    "wait_for_green": "wattprint.plan.schedule",
    "GreenPause": "wattprint.plan.schedule",
    "BudgetExceeded": "wattprint.core.errors",
    "Budget": "wattprint.predict.budget",
    "Prediction": "wattprint.predict.prediction",
    "estimate": "wattprint.plan.estimate",
    "estimate_inference": "wattprint.plan.inference",
}


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__)
