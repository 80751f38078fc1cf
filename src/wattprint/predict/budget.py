"""Budgets and the epoch and step bookkeeping of a tracked training.

A :class:`Budget` caps a run's energy (kWh) and/or emissions (g CO2e). At every epoch boundary (or group of
steps) the :class:`TrainingMonitor` of a running tracker measures the unit just completed, predicts the whole
training's totals (:mod:`.prediction`), logs the prediction, and checks it against the budget: the upper
bound of the prediction interval or its central value (``basis``); without a known total, what the run has
already spent. The ``policy`` says what happens when a budget is exceeded: ``warn`` logs a warning, ``stop``
raises :class:`wattprint.BudgetExceeded` at that boundary (framework callbacks ask the trainer to stop
instead), ``ask`` asks on the terminal whether to stop — only when stdin is a terminal; in a batch job it falls
back to ``warn`` and says so, so a job never waits for an answer.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from wattprint import _log
from wattprint._log import warn_once
from wattprint.core.errors import BudgetExceeded, ConfigError
from wattprint.core.formatting import format_emissions
from wattprint.predict.prediction import Prediction, Progress, _kwh, check_total

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, TextIO

    from wattprint.core.results import WindowResult
    from wattprint.measure.meter import Snapshot

POLICIES = ("warn", "stop", "ask")
BASES = ("upper", "central")

MAX_STEP_GROUPS = 100
"""Steps are measured in groups so that a training makes at most about this many step predictions."""
MIN_STEP_GROUP_S = 0.5
"""...and each group of steps lasts at least about this long (the group size is set by the first group)."""
MAX_STORED_PREDICTIONS = 500
"""A run's record keeps at most this many predictions (evenly spread, the last always kept)."""

_FIGURES = (("energy_kwh", "energy"), ("emissions_g", "emissions"))


@dataclass(frozen=True)
class Budget:
    """Limits on a run's total energy (IT energy, kWh) and emissions (g CO2e), and what to do when exceeded."""

    energy_kwh: float | None = None
    emissions_g: float | None = None
    policy: str = "warn"
    basis: str = "upper"

    def __post_init__(self) -> None:
        for name in ("energy_kwh", "emissions_g"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))
                                      or not value >= 0 or value == float("inf")):
                raise ConfigError(f"budget {name} must be a finite number of at least 0 or None, got {value!r}")
        if self.policy not in POLICIES:
            raise ConfigError(f"budget_policy={self.policy!r} is not valid; allowed values: 'warn', 'stop', 'ask'")
        if self.basis not in BASES:
            raise ConfigError(f"budget_basis={self.basis!r} is not valid; allowed values: 'upper', 'central'")

    @property
    def active(self) -> bool:
        return self.energy_kwh is not None or self.emissions_g is not None

    def exceeded(self, prediction: Prediction) -> tuple[tuple[str, float, float], ...]:
        """(figure, predicted value, limit) for each limit the prediction exceeds, on this budget's basis."""
        over = []
        for figure, _word in _FIGURES:
            limit = getattr(self, figure)
            value = prediction.bound(figure, self.basis)
            if limit is not None and value is not None and value > limit:
                over.append((figure, value, float(limit)))
        return tuple(over)

    def exceeded_spent(self, energy_kwh: float, emissions_g: float | None) -> tuple[tuple[str, float, float], ...]:
        """(figure, spent value, limit) for each limit already exceeded by what a run has spent."""
        over = []
        for figure, value in (("energy_kwh", energy_kwh), ("emissions_g", emissions_g)):
            limit = getattr(self, figure)
            if limit is not None and value is not None and value > limit:
                over.append((figure, value, float(limit)))
        return tuple(over)

    def to_dict(self) -> dict[str, Any]:
        return {"energy_kwh": self.energy_kwh, "emissions_g": self.emissions_g, "policy": self.policy,
                "basis": self.basis}


def _value_text(figure: str, value: float) -> str:
    return _kwh(value) if figure == "energy_kwh" else format_emissions(value)


def describe_exceeded(exceeded: tuple[tuple[str, float, float], ...], basis: str | None) -> str:
    """``energy 1.3 Wh > budget 1 Wh`` (and emissions), with what the figure was."""
    what = {"upper": "upper bound", "central": "central value", None: "spent"}[basis]
    parts = []
    for figure, value, limit in exceeded:
        word = dict(_FIGURES)[figure]
        parts.append(f"{word} {_value_text(figure, value)} ({what}) > budget {_value_text(figure, limit)}")
    return "; ".join(parts)


def stdin_is_terminal(stdin: Any = None) -> bool:
    """Whether ``stdin`` (default ``sys.stdin``) is an interactive terminal; False when there is none."""
    stream = sys.stdin if stdin is None else stdin
    try:
        return bool(stream is not None and stream.isatty())
    except (AttributeError, ValueError, OSError):  # closed, detached or replaced streams
        return False


def ask_to_stop(message: str, stdin: TextIO | None = None, stdout: TextIO | None = None) -> bool | None:
    """Ask on the terminal whether to stop training; None (without asking) when stdin is not a terminal.

    The default answer (Enter, end of input) is to go on: only ``y``/``yes`` stops.
    """
    stdin = sys.stdin if stdin is None else stdin
    stdout = sys.stderr if stdout is None else stdout
    if not stdin_is_terminal(stdin):
        return None
    try:
        stdout.write(f"wattprint: {message}\nStop training now? [y/N] ")
        stdout.flush()
        answer = stdin.readline()
    except (OSError, ValueError):
        return None
    return answer.strip().lower() in ("y", "yes")


# -- a running training --------------------------------------------------------------------------------------------


class TrainingMonitor:
    """One run's epochs and steps: measures each unit, predicts the totals, logs and checks the budget.

    ``measure(start, end)`` must return the accounted window between two meter snapshots of the run (the tracker
    gives its own accounting, so predictions are in the same terms as the run's result).
    """

    def __init__(
        self,
        *,
        run_id: str,
        start: Snapshot,
        measure: Callable[[Snapshot, Snapshot], WindowResult],
        total_epochs: int | None,
        total_steps: int | None,
        predict_after: int,
        level: float,
        every_steps: int | None,
        budget: Budget,
        stdin: Any = None,
    ) -> None:
        self.run_id = run_id
        self._run_start = start
        self._measure = measure
        self.predict_after = predict_after
        self.budget = budget
        self._stdin = stdin
        self.epochs = Progress(total_epochs, unit="epoch", level=level)
        self.steps = Progress(total_steps, unit="step", level=level)
        self.epoch_edge: Snapshot | None = None
        self.step_count = 0
        self._step_edge: Snapshot | None = None
        self._step_edge_count = 0
        self._group: int | None = every_steps
        self._next_step_check = every_steps or self._min_first_group()
        self.predictions: list[Prediction] = []
        self.exceeded: BudgetExceeded | None = None
        """The first budget excess of this run, whatever the policy (None while within budget)."""
        self.should_stop = False
        """The budget policy (``stop``, or ``ask`` answered yes) wants the training to stop."""
        self.raised = False
        self._answer: bool | None = None
        self._fallback_said = False
        self.notes: list[str] = []

    # -- which unit predicts -------------------------------------------------------------------------------

    @property
    def unit(self) -> str | None:
        """``epoch`` when the number of epochs is known, else ``step`` when the number of steps is."""
        if self.epochs.total is not None:
            return "epoch"
        if self.steps.total is not None:
            return "step"
        return None

    def _steps_measured(self) -> bool:
        return self.unit == "step" or (self.unit is None and self.budget.active)

    def _min_first_group(self) -> int:
        total = self.steps.total
        return max(1, -(-total // MAX_STEP_GROUPS)) if total else 1

    # -- boundaries ----------------------------------------------------------------------------------------

    def epoch_started(self, start: Snapshot) -> None:
        if self.epoch_edge is None:
            self.epoch_edge = start

    def epoch_done(self, end: Snapshot, total_epochs: int | None = None) -> BudgetExceeded | None:
        """An epoch ended at ``end``; returns the exception to raise when the budget policy says stop."""
        if total_epochs is not None:
            self.epochs.total = check_total("total_epochs", total_epochs)
        cycle = self._measure(self.epoch_edge or self._run_start, end)
        self.epoch_edge = end
        self.epochs.add(cycle.duration_s, cycle.energy_kwh, cycle.emissions_g)
        if self.unit != "epoch":
            return self._check(None, end) if self.unit is None and self.budget.active else None
        return self._predicted(self.epochs, end)

    def step_due(self, count: int, total_steps: int | None) -> bool:
        """Count ``count`` steps; True when a group of steps may be complete (cheap: called every step)."""
        self.step_count += count
        if total_steps is not None and total_steps != self.steps.total:
            self.steps.total = check_total("total_steps", total_steps)
            if self._group is None:
                self._next_step_check = max(self._next_step_check, self._min_first_group())
        return self.step_count >= self._next_step_check

    def step_boundary(self, end_now: Callable[[], Snapshot]) -> BudgetExceeded | None:
        """Close the group of steps if it is complete (reading the meter through ``end_now``)."""
        if not self._steps_measured() or self.step_count < self._next_step_check:
            return None
        if self._group is None:  # the first group also sets the group size: long enough to be worth a reading
            import time

            started = (self._step_edge or self._run_start).t_monotonic
            if time.monotonic() - started < MIN_STEP_GROUP_S:
                self._next_step_check = self.step_count + 1
                return None
            self._group = self.step_count - self._step_edge_count
        end = end_now()
        cycle = self._measure(self._step_edge or self._run_start, end)
        units = self.step_count - self._step_edge_count
        self._step_edge, self._step_edge_count = end, self.step_count
        self._next_step_check = self.step_count + self._group
        self.steps.add(cycle.duration_s, cycle.energy_kwh, cycle.emissions_g, units)
        if self.unit != "step":
            return self._check(None, end)
        return self._predicted(self.steps, end)

    # -- predictions and the budget ------------------------------------------------------------------------

    def _predicted(self, progress: Progress, end: Snapshot) -> BudgetExceeded | None:
        if progress.total is not None and progress.done > progress.total:
            warn_once(
                f"beyond-total:{self.run_id}:{progress.unit}",
                f"wattprint: run {self.run_id[:8]} has done {progress.done} {progress.unit}s, more than the "
                f"total_{progress.unit}s={progress.total} it was given; predictions now equal the totals so far",
            )
        if progress.done < self.predict_after:
            return self._check(None, end) if self.budget.active else None
        spent = self._measure(self._run_start, end)
        prediction = progress.predict((spent.duration_s, spent.energy_kwh, spent.emissions_g))
        if prediction is None:
            return None
        self.predictions.append(prediction)
        _log.info("wattprint: run %s %s", self.run_id[:8], prediction.describe())
        return self._check(prediction, end, spent)

    def _check(
        self, prediction: Prediction | None, end: Snapshot, spent: WindowResult | None = None
    ) -> BudgetExceeded | None:
        budget = self.budget
        if not budget.active:
            return None
        if prediction is not None:
            over = budget.exceeded(prediction)
            basis: str | None = budget.basis
        else:
            spent = spent or self._measure(self._run_start, end)
            over = budget.exceeded_spent(spent.energy_kwh, spent.emissions_g)
            basis = None
        if not over:
            return None
        where = self._where(prediction)
        message = (
            f"run {self.run_id[:8]} {'is predicted to exceed' if prediction else 'has exceeded'} its budget "
            f"{where}: {describe_exceeded(over, basis)}"
        )
        if self.exceeded is None:
            self.exceeded = BudgetExceeded(message, prediction=prediction, budget=budget, exceeded=over)
        policy = budget.policy
        if policy == "ask":
            policy = self._ask(message)
        if policy == "warn":
            if warn_once(f"budget:{self.run_id}", f"wattprint: {message} (budget_policy {budget.policy!r})"):
                self.notes.append(f"Budget exceeded {where}: {describe_exceeded(over, basis)}; training went on.")
            return None
        if not self.should_stop:
            self.should_stop = True
            self.notes.append(f"Budget exceeded {where}: {describe_exceeded(over, basis)}; training was stopped "
                              f"by the budget policy {budget.policy!r}.")
            _log.get_logger().warning("wattprint: %s; stopping the training (budget_policy %r)", message,
                                      budget.policy)
        exception = BudgetExceeded(message, prediction=prediction, budget=budget, exceeded=over)
        return exception

    def _ask(self, message: str) -> str:
        """``stop`` or ``warn``: the answer on the terminal (asked once per run), or ``warn`` without one."""
        if self._answer is None:
            answer = ask_to_stop(message + ".", stdin=self._stdin)
            if answer is None:
                if not self._fallback_said:
                    self._fallback_said = True
                    self.notes.append("budget_policy 'ask' needs a terminal and stdin is not one (a batch job?): "
                                      "the budget only warned.")
                    warn_once(f"budget-ask:{self.run_id}", "wattprint: budget_policy 'ask' needs a terminal; stdin "
                              "is not one, so this run falls back to 'warn' and does not wait for an answer")
                return "warn"
            self._answer = answer
            self.notes.append(f"Asked on the terminal whether to stop: {'stop' if answer else 'go on'}.")
        return "stop" if self._answer else "warn"

    def _where(self, prediction: Prediction | None) -> str:
        if prediction is not None:
            return f"after {prediction.unit} {prediction.after} of {prediction.total}"
        if self.epochs.done:
            return f"after epoch {self.epochs.done}"
        return f"after step {self.step_count}"

    # -- for the record ------------------------------------------------------------------------------------

    def record(self) -> dict[str, Any]:
        """What the run's record keeps: predictions (at most MAX_STORED_PREDICTIONS) and the budget outcome."""
        data: dict[str, Any] = {}
        predictions = list(self.predictions)
        if predictions:
            if len(predictions) > MAX_STORED_PREDICTIONS:
                step = (len(predictions) - 1) / (MAX_STORED_PREDICTIONS - 1)
                predictions = [predictions[round(i * step)] for i in range(MAX_STORED_PREDICTIONS)]
            data["predictions"] = [p.to_dict() for p in predictions]
        if self.budget.active:
            exceeded = self.exceeded
            data["budget"] = {
                **self.budget.to_dict(),
                "exceeded": exceeded is not None,
                "exceeded_figures": [list(item) for item in exceeded.exceeded] if exceeded else [],
                "message": str(exceeded) if exceeded else None,
                "stop_requested": self.should_stop,
            }
        return data

