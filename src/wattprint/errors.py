"""Exceptions raised into user code: only for invalid input, never for background measurement trouble."""

from __future__ import annotations


class WattprintError(Exception):
    """Base class of the errors wattprint raises."""


class ConfigError(WattprintError, ValueError):
    """An argument or setting is invalid; the message names it and the allowed values."""


class TrackerStateError(WattprintError, RuntimeError):
    """An operation does not fit the tracker's state (for example a task on a tracker that is not running)."""


def check_choice(argument: str, value: object, allowed: tuple[str, ...]) -> str:
    """Return ``value`` if it is one of ``allowed``; otherwise raise a ConfigError naming both."""
    if value not in allowed:
        choices = ", ".join(repr(a) for a in allowed)
        raise ConfigError(f"{argument}={value!r} is not valid; allowed values: {choices}")
    return str(value)


def check_number(argument: str, value: object, *, minimum: float, maximum: float) -> float:
    """Return ``value`` as a float if it is a finite number within [minimum, maximum]; otherwise raise."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{argument} must be a number between {minimum:g} and {maximum:g}, got {value!r}")
    number = float(value)
    if not (minimum <= number <= maximum):  # also rejects NaN
        raise ConfigError(f"{argument} must be between {minimum:g} and {maximum:g}, got {value!r}")
    return number


class BudgetExceeded(WattprintError):
    """A run's predicted (or spent) energy or emissions exceed its budget, and the budget policy says stop.

    Raised at an epoch (or step-group) boundary by ``run.epoch_end()``, ``run.step()`` or the end of
    ``with run.epoch():``, when ``budget_policy`` is ``stop`` (or ``ask`` and the answer was to stop). The run
    is recorded up to that point. ``prediction`` is the :class:`wattprint.predict.Prediction` that exceeded the
    budget (None when no total was given and the spent figures exceeded it), ``budget`` the
    :class:`wattprint.budget.Budget`, and ``exceeded`` a tuple of ``(figure, value, limit)`` such as
    ``("energy_kwh", 1.3, 1.0)``.
    """

    def __init__(
        self, message: str, *, prediction: object = None, budget: object = None, exceeded: tuple = ()
    ) -> None:
        super().__init__(message)
        self.prediction = prediction
        self.budget = budget
        self.exceeded = exceeded
