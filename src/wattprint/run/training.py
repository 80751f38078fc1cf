"""A tracker's training bookkeeping: epochs, steps, the predictions of the totals and the budget (docs/predict.md)."""

from __future__ import annotations

from wattprint.core.errors import ConfigError, TrackerStateError
from wattprint.measure.windows import window_result
from wattprint.run.pricing import Pricing
from wattprint.run.windows import EpochWindow, Window

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    from wattprint.core.errors import BudgetExceeded
    from wattprint.core.results import WindowResult
    from wattprint.measure.meter import Snapshot
    from wattprint.predict.budget import Budget, TrainingMonitor
    from wattprint.predict.prediction import Prediction


class Training(Pricing):
    """Epochs and steps of a training run, the predictions they feed, and the budget held against them."""

    budget: Budget
    """The run's energy and emissions budget, the policy when it is exceeded, and the basis of the check."""
    config_fingerprint: str | None
    """SHA-256 of the hyperparameters, the git commit and the entry script (None without hyperparameters)."""
    total_epochs: int | None
    total_steps: int | None
    hyperparameters: Mapping[str, Any] | None
    _every_steps: int | None
    _fingerprint_parts: dict[str, Any]
    _monitor: TrainingMonitor | None

    def _init_training(self) -> None:
        """The run's totals, budget and hyperparameters, from its options (checked already) and settings."""
        from wattprint.predict.budget import Budget
        from wattprint.predict.prediction import check_level

        options, settings = self.options, self.settings
        self.total_epochs = options.total_epochs
        self.total_steps = options.total_steps
        self._every_steps = options.predict_every_steps
        self.hyperparameters = options.hyperparameters
        check_level(settings.prediction_level)
        self.budget = Budget(settings.budget_kwh, settings.budget_g, settings.budget_policy, settings.budget_basis)
        self.config_fingerprint = None
        self._fingerprint_parts = {}
        self._monitor = None

    def _start_training(self) -> None:
        """Fresh epoch/step bookkeeping and fingerprint for a run being started (under the lock)."""
        from wattprint.predict.budget import TrainingMonitor

        assert self._start is not None and self.run_id is not None
        if self.hyperparameters is not None:
            from wattprint.run.fingerprint import run_fingerprint

            self.config_fingerprint, self._fingerprint_parts = run_fingerprint(self.hyperparameters)
        self._monitor = TrainingMonitor(
            run_id=self.run_id,
            start=self._start,
            measure=self._measure_between,
            total_epochs=self.total_epochs,
            total_steps=self.total_steps,
            predict_after=self.settings.predict_after,
            level=self.settings.prediction_level,
            every_steps=self._every_steps,
            budget=self.budget,
        )

    def _measure_between(self, start: Snapshot, end: Snapshot) -> WindowResult:
        return self._account(window_result("cycle", start, end, self.attribution))

    def _running_monitor(self, what: str) -> TrainingMonitor:
        monitor = self._monitor
        if self._sub is None or monitor is None:
            raise TrackerStateError(
                f"run.{what}() needs a running tracker: call run.start() first or use "
                "`with wattprint.track(...) as run:`"
            )
        return monitor

    def epoch(self, *, total_epochs: int | None = None, raise_on_budget: bool = True) -> EpochWindow:
        """A window for one epoch, ``with run.epoch(): train_one_epoch()``; its end updates the predictions.

        ``total_epochs`` (here or on the tracker) is the number of epochs of the whole training. When the
        budget policy says stop, the end of the epoch raises :class:`wattprint.BudgetExceeded`
        (``raise_on_budget=False``: only ``run.should_stop`` is set).
        """
        monitor = self._running_monitor("epoch")
        return EpochWindow(self, f"epoch-{monitor.epochs.done + 1}", total_epochs, raise_on_budget)

    def epoch_end(self, *, total_epochs: int | None = None, raise_on_budget: bool = True) -> WindowResult:
        """End the current epoch (begun at the previous ``epoch_end()`` or the start of the run) and begin the
        next; returns the epoch's window. Raises :class:`wattprint.BudgetExceeded` as ``epoch()`` does."""
        monitor = self._running_monitor("epoch_end")
        end = self._edge()
        window = Window(self, f"epoch-{monitor.epochs.done + 1}")
        window._start = monitor.epoch_edge or self._start
        window._finish(end)
        self._epoch_done(end, total_epochs, raise_on_budget)
        result = window.result
        assert result is not None
        return result

    def step(
        self, count: int = 1, *, total_steps: int | None = None, raise_on_budget: bool = True
    ) -> Prediction | None:
        """Count ``count`` training steps done; returns the new prediction when this step completed a group.

        Cheap enough to call every step: the meter is read only once per group of steps (at most about 100
        groups per training, each at least about half a second, or ``predict_every_steps``). Steps predict when
        ``total_steps`` is known and ``total_epochs`` is not. Raises :class:`wattprint.BudgetExceeded` as
        ``epoch()`` does.
        """
        monitor = self._monitor
        if monitor is None or self._sub is None:
            self._running_monitor("step")
        assert monitor is not None
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise ConfigError(f"count must be a whole number of at least 1, got {count!r}")
        if not monitor.step_due(count, total_steps):
            return None
        made = len(monitor.predictions)
        self._raise_budget(monitor, monitor.step_boundary(self._edge), raise_on_budget)
        return monitor.predictions[-1] if len(monitor.predictions) > made else None

    def _epoch_done(self, end: Snapshot, total_epochs: int | None, raise_on_budget: bool) -> None:
        monitor = self._monitor
        if monitor is not None:
            self._raise_budget(monitor, monitor.epoch_done(end, total_epochs), raise_on_budget)

    @staticmethod
    def _raise_budget(monitor: TrainingMonitor, exception: BudgetExceeded | None, raise_on_budget: bool) -> None:
        if exception is not None and raise_on_budget and not monitor.raised:
            monitor.raised = True
            raise exception

    @property
    def predictions(self) -> list[Prediction]:
        """The predictions of the current (or last) run's totals, in the order they were made."""
        monitor = self._monitor
        return list(monitor.predictions) if monitor is not None else []

    @property
    def prediction(self) -> Prediction | None:
        """The latest prediction (None before the first)."""
        monitor = self._monitor
        return monitor.predictions[-1] if monitor is not None and monitor.predictions else None

    @property
    def budget_exceeded(self) -> BudgetExceeded | None:
        """The first budget excess of the current (or last) run, whatever the policy; None while within budget."""
        monitor = self._monitor
        return monitor.exceeded if monitor is not None else None

    @property
    def should_stop(self) -> bool:
        """Whether the budget policy wants the training stopped (framework callbacks stop their trainer)."""
        monitor = self._monitor
        return monitor.should_stop if monitor is not None else False
