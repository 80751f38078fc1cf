"""The steady-state window of a run's requests, defined in :mod:`wattprint.run.steady` (a run's result names it)."""

from __future__ import annotations

from wattprint.run.steady import RULE, SteadyWindow, steady_window

__all__ = ["RULE", "SteadyWindow", "steady_window"]
