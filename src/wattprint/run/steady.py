"""The steady-state window of a run's requests: warm-up and drain left out, as the ML.ENERGY benchmark does.

Concurrency (requests in flight) is a step function of time. Its level during most of the busy time (the
time-weighted median over the time at least one request is in flight) is the steady level; the window runs from
the first moment concurrency reaches it to the last moment it is still at or above it. A server ramping up to a
full batch, holding it, and draining gets the hold; requests served one at a time get their whole busy span.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

RULE = "concurrency at or above its busy-time median, from the first time it gets there to the last"


@dataclass(frozen=True)
class SteadyWindow:
    """Where the steady state was found: seconds from the run's start, the level, and the rule (or ``given``)."""

    start_s: float
    end_s: float
    concurrency: int | None
    """The steady concurrency level (None for a window the caller gave)."""
    rule: str = RULE

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s

    def holds(self, start_s: float, end_s: float) -> bool:
        """Whether a request between ``start_s`` and ``end_s`` lies inside the window."""
        slack = 1e-9 * max(1.0, abs(self.end_s))
        return start_s >= self.start_s - slack and end_s <= self.end_s + slack


def steady_window(spans: Iterable[tuple[float, float]]) -> SteadyWindow | None:
    """The steady-state window of requests given as ``(start_s, end_s)`` pairs; None when there is no busy time."""
    events: list[tuple[float, int]] = []
    for start, end in spans:
        events.append((start, 1))
        events.append((end, -1))
    events.sort()  # at equal times an end (-1) sorts before a start: no spike of concurrency at a handover
    steps: list[tuple[float, float, int]] = []  # (t0, t1, concurrency) with concurrency > 0
    level = 0
    for i, (t, change) in enumerate(events):
        level += change
        t_next = events[i + 1][0] if i + 1 < len(events) else t
        if level > 0 and t_next > t:
            steps.append((t, t_next, level))
    busy = sum(t1 - t0 for t0, t1, _ in steps)
    if busy <= 0:
        return None
    time_at: dict[int, float] = {}
    for t0, t1, c in steps:
        time_at[c] = time_at.get(c, 0.0) + (t1 - t0)
    below = 0.0
    median = max(time_at)
    for c in sorted(time_at):
        below += time_at[c]
        if below >= busy / 2:
            median = c
            break
    at_level = [(t0, t1) for t0, t1, c in steps if c >= median]
    return SteadyWindow(start_s=at_level[0][0], end_s=at_level[-1][1], concurrency=median)
