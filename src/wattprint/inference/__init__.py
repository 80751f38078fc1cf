"""Inference energy: requests inside a run (``run.request(...)``), their share of the measured energy, and the
figures per request, per token and per 1,000 requests over the steady state and the whole run (docs/inference.md).
"""

from __future__ import annotations

from wattprint.inference.figures import InferenceFigures, InferenceResult, figures, summarize, summarize_log
from wattprint.inference.steady import SteadyWindow, steady_window

__all__ = ["InferenceFigures", "InferenceResult", "SteadyWindow", "figures", "steady_window", "summarize",
           "summarize_log"]
