"""Inference figures of a run (energy per request, per token, per 1,000 requests): :func:`summarize` for a tracker,
the types and the arithmetic defined in :mod:`wattprint.run.request_figures` so that a run's result can carry them
(``run.result.inference``)."""

from __future__ import annotations

from wattprint.run.request_figures import (
    InferenceFigures,
    InferenceResult,
    figures,
    from_intervals,
    percentile,
    summarize_log,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from wattprint.run.base import TrackerBase

__all__ = ["InferenceFigures", "InferenceResult", "figures", "from_intervals", "percentile", "summarize",
           "summarize_log"]


def summarize(run: TrackerBase, *, window: tuple[float, float] | None = None) -> InferenceResult | None:
    """The inference figures of a tracker's current or last run (None when it served no request).

    While the run goes on, the figures cover the requests settled so far; after it stops, every request.
    """
    from wattprint.run.requests import request_log

    log = request_log(run)
    if log is None:
        return None
    result = run.result
    if log.final and window is None and result is not None and result.inference is not None:
        return result.inference  # made when the run stopped
    if not log.final:
        from wattprint.run.tracker import Tracker

        result = run.snapshot() if isinstance(run, Tracker) and run.running else None  # prices the figures so far
    return summarize_log(log, window=window, result=result)
