"""What the framework callbacks share: one tracked training, its metrics, and when to stop.

A callback starts a :class:`wattprint.Tracker` when training starts, marks epochs and steps, and stops it when
training ends. Predictions are per epoch when the training has at least two epochs, per step otherwise (``unit``
overrides). The budget policy never raises inside the framework's loop: the callback asks the trainer to stop.
A failure of wattprint itself is logged once and never interrupts training.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any, SupportsFloat

from wattprint import _log
from wattprint.core.errors import ConfigError, check_choice
from wattprint.run.tracker import Tracker

TYPE_CHECKING = False
if TYPE_CHECKING:
    from wattprint.core.results import RunResult

METRIC_PREFIX = "wattprint/"
"""Every metric a callback logs is named ``wattprint/<figure>``."""


def finite_count(value: object) -> int | None:
    """``value`` as a positive whole number, or None when it is unknown, unlimited or not positive."""
    if value is None or isinstance(value, bool) or not isinstance(value, (str, SupportsFloat)):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(number) or number < 1:
        return None
    return int(math.ceil(number))


class TrackedTraining:
    """The tracker of one training run by a framework callback."""

    def __init__(
        self,
        framework: str,
        project: str | None,
        name: str | None,
        hyperparameters: Mapping[str, Any] | None,
        unit: str | None,
        log_metrics: bool,
        tracker_kwargs: dict[str, Any],
    ) -> None:
        if unit is not None:
            check_choice("unit", unit, ("epoch", "step"))
        for forbidden in ("total_epochs", "total_steps"):
            if forbidden in tracker_kwargs:
                raise ConfigError(f"{forbidden}= is taken from the trainer; pass unit='epoch' or unit='step' to "
                                  "choose what predictions count")
        self.framework = framework
        self.project = project
        self.name = name
        self.hyperparameters = hyperparameters
        self.unit = unit
        self.log_metrics = log_metrics
        self.tracker_kwargs = dict(tracker_kwargs)
        Tracker(project, name, hyperparameters=hyperparameters, **self.tracker_kwargs)  # bad arguments fail now
        self.tracker: Tracker | None = None
        self.chosen_unit: str | None = None
        self._total_steps: int | None = None
        self.experiments: Any = None

    @property
    def running(self) -> bool:
        return self.tracker is not None and self.tracker.running

    def start(
        self,
        *,
        total_epochs: int | None,
        total_steps: int | None,
        name: str | None = None,
        framework_hyperparameters: Callable[[], Mapping[str, Any] | None] | None = None,
        group: Any = None,
        experiments: Callable[[], list[Any]] | None = None,
    ) -> Tracker:
        """Start a run for a training of ``total_epochs`` epochs / ``total_steps`` steps (None: unknown); ``group``
        is the framework's distributed training as a ``GroupRecord`` (a ``group=`` given to the callback names it);
        ``experiments``: the MLflow / W&B runs the training logs to, where the run is logged too."""
        if self.running:
            self.stop("killed")  # a fit that never reached its end hook
        unit = self.unit or ("epoch" if total_epochs is not None and total_epochs >= 2 else "step")
        self.chosen_unit = unit
        hyperparameters = self.hyperparameters
        if hyperparameters is None and framework_hyperparameters is not None:
            hyperparameters = _fingerprintable(self.framework, framework_hyperparameters)
        self._total_steps = total_steps if unit == "step" else None
        kwargs = dict(self.tracker_kwargs)
        if group is not None:
            given = kwargs.get("group")
            kwargs["group"] = group if given is None else replace(group, group_id=given)
        self.tracker = Tracker(
            self.project,
            self.name or name,
            total_epochs=total_epochs if unit == "epoch" else None,
            total_steps=self._total_steps,
            hyperparameters=hyperparameters,
            **kwargs,
        )
        if experiments is not None:  # attached before the start, so that a run not stored still reaches them
            from wattprint.integrations._experiments import ExperimentLogging

            self.experiments = ExperimentLogging(self.framework, experiments())
        tracker = self.tracker.start()
        if self.experiments is not None:
            self.experiments.follow(tracker)
        return tracker

    def set_total_steps(self, total_steps: int | None) -> None:
        """The number of steps, once the framework knows it (used when predictions are per step)."""
        if self.chosen_unit == "step" and total_steps is not None:
            self._total_steps = total_steps

    def step(self) -> bool:
        """One training step done; True when the budget wants training stopped."""
        tracker = self.tracker
        if tracker is None or not tracker.running:
            return False
        try:
            tracker.step(total_steps=self._total_steps, raise_on_budget=False)
        except Exception:  # noqa: BLE001 - never interrupt the user's training
            _log.warn_once(f"{self.framework}-step", f"wattprint: marking a {self.framework} step failed")
            _log.debug("step failed", exc_info=True)
        return tracker.should_stop

    def epoch_end(self) -> bool:
        """One epoch done; True when the budget wants training stopped."""
        tracker = self.tracker
        if tracker is None or not tracker.running:
            return False
        try:
            tracker.epoch_end(raise_on_budget=False)
        except Exception:  # noqa: BLE001
            _log.warn_once(f"{self.framework}-epoch", f"wattprint: marking a {self.framework} epoch failed")
            _log.debug("epoch_end failed", exc_info=True)
        return tracker.should_stop

    def metrics(self) -> dict[str, float]:
        """The run so far and the latest prediction, as ``wattprint/...`` metrics (empty when not tracking)."""
        tracker = self.tracker
        if tracker is None or not tracker.running or not self.log_metrics:
            return {}
        try:
            now = tracker.snapshot()
        except Exception:  # noqa: BLE001
            _log.debug("snapshot failed", exc_info=True)
            return {}
        values: dict[str, float | None] = {"energy_kwh": now.energy_kwh, "emissions_g": now.emissions_g}
        prediction = tracker.prediction
        if prediction is not None:
            for figure in ("energy_kwh", "emissions_g", "duration_s"):
                values[f"predicted_{figure}"] = getattr(prediction, figure)
                values[f"predicted_{figure}_low"] = getattr(prediction, figure + "_low")
                values[f"predicted_{figure}_high"] = getattr(prediction, figure + "_high")
        return {METRIC_PREFIX + key: float(value) for key, value in values.items() if value is not None}

    def stop(self, status: str = "finished") -> None:
        tracker = self.tracker
        if tracker is not None and tracker.running:
            tracker.stop(status)
            if self.experiments is not None:
                self.experiments.release(tracker)  # the final figures sent to MLflow / W&B


class CallbackMixin:
    """The constructor and accessors of every framework callback; mixed in before the framework's base class,
    whose constructor it calls. A subclass names its ``framework``."""

    framework = ""

    def __init__(
        self,
        project: str | None = None,
        name: str | None = None,
        *,
        hyperparameters: Mapping[str, Any] | None = None,
        unit: str | None = None,
        log_metrics: bool = True,
        **tracker_kwargs: Any,
    ) -> None:
        super().__init__()
        self.training = TrackedTraining(self.framework, project, name, hyperparameters, unit, log_metrics,
                                        tracker_kwargs)

    @property
    def run(self) -> Tracker | None:
        """The tracker of the current (or last) training."""
        return self.training.tracker

    @property
    def result(self) -> RunResult | None:
        tracker = self.training.tracker
        return tracker.result if tracker is not None else None

    def stop(self, status: str = "finished") -> None:
        """Stop and store the run now (``failed`` after an exception the framework does not report)."""
        self.training.stop(status)


def _fingerprintable(framework: str, read: Callable[[], Mapping[str, Any] | None]) -> Mapping[str, Any] | None:
    """The framework's own hyperparameters when they can be fingerprinted; None (and a note in the log) if not."""
    from wattprint.run.fingerprint import canonical

    try:
        found = read()
        if not found:
            return None
        canonical(found)
        return found
    except Exception as error:  # noqa: BLE001 - the fingerprint is optional here; training must go on
        _log.warn_once(f"{framework}-hyperparameters",
                       f"wattprint: the {framework} hyperparameters cannot be fingerprinted ({error}); pass "
                       "hyperparameters= to the callback to fingerprint this run")
        return None
