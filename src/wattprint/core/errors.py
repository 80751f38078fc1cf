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


MAX_NAME_CHARS = 200
"""Longest project, run, task or zone name accepted: names label tables and charts, they are not documents."""
MAX_PATH_CHARS = 4096
"""Longest path accepted (Linux's PATH_MAX)."""


def shown(value: object, limit: int = 60) -> str:
    """``repr(value)`` cut to ``limit`` characters, so an error about a huge value stays readable."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def _control_character(text: str) -> int | None:
    """Index of the first control character (C0, DEL, C1) in ``text``, if any."""
    for index, char in enumerate(text):
        code = ord(char)
        if code < 32 or 127 <= code < 160:
            return index
    return None


def check_name(argument: str, value: object, *, max_chars: int = MAX_NAME_CHARS, source: str = "") -> str | None:
    """Return ``value`` if it is None or a short printable name; otherwise raise a ConfigError naming it."""
    where = f" (from {source})" if source and source != "argument" else ""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ConfigError(
            f"{argument}{where} must be a string of at most {max_chars} characters or None, got "
            f"{type(value).__name__} {shown(value)}"
        )
    if not value.strip():
        raise ConfigError(f"{argument}{where} must be a non-empty string or None, got {shown(value)}")
    if len(value) > max_chars:
        raise ConfigError(
            f"{argument}{where} is {len(value):,} characters long; at most {max_chars} are allowed: use a "
            "shorter name (record longer descriptions as hyperparameters)"
        )
    index = _control_character(value)
    if index is not None:
        raise ConfigError(
            f"{argument}{where} contains the control character {value[index]!r} at position {index}; use "
            "printable characters only (no newlines, tabs or NUL)"
        )
    return value


def check_path(argument: str, value: object, *, many: bool = False) -> str | None:
    """Return ``value`` as a path string if it is None, a str or an ``os.PathLike`` (or, with ``many``, a list or
    tuple of them, joined with ``os.pathsep``); otherwise raise a ConfigError naming the argument."""
    import os

    if value is None:
        return None
    what = "a path (str or pathlib.Path)" + (", a list of paths" if many else "") + " or None"
    if many and isinstance(value, (list, tuple)):
        if not value:
            raise ConfigError(f"{argument} must be {what}, got an empty {type(value).__name__}")
        return os.pathsep.join(str(check_path(f"{argument}[{i}]", item)) for i, item in enumerate(value))
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if not isinstance(value, str):
        raise ConfigError(f"{argument} must be {what}, got {type(value).__name__} {shown(value)}")
    if not value.strip():
        raise ConfigError(f"{argument} must not be empty; give a path or leave it out (None)")
    if "\0" in value:
        raise ConfigError(f"{argument} contains a NUL character, which no path can hold: {shown(value)}")
    if len(value) > MAX_PATH_CHARS * (64 if many else 1):
        raise ConfigError(f"{argument} is {len(value):,} characters long, longer than any path ({MAX_PATH_CHARS})")
    return value


def check_module(argument: str, value: object, required: tuple[str, ...], example: str) -> object:
    """Return ``value`` if it is None or offers every attribute in ``required`` (a library module or a test
    double of it); otherwise raise a ConfigError saying what was expected."""
    if value is None:
        return None
    missing = [name for name in required if not callable(getattr(value, name, None))]
    if missing:
        raise ConfigError(
            f"{argument} must be the {example} module (or an object with its API) or None, got "
            f"{type(value).__name__} {shown(value)}, which has no {', '.join(missing)}(); leave it out to "
            "use the installed library"
        )
    return value


def check_flag(argument: str, value: object) -> bool | None:
    """Return ``value`` if it is None, True or False; otherwise raise (1, "no" and the like are ambiguous)."""
    if value is None or isinstance(value, bool):
        return value
    raise ConfigError(f"{argument} must be True, False or None, got {type(value).__name__} {shown(value)}")


class BudgetExceeded(WattprintError):
    """A run's predicted (or spent) energy or emissions exceed its budget, and the budget policy says stop.

    Raised at an epoch (or step-group) boundary by ``run.epoch_end()``, ``run.step()`` or the end of
    ``with run.epoch():``, when ``budget_policy`` is ``stop`` (or ``ask`` and the answer was to stop). The run
    is recorded up to that point. ``prediction`` is the :class:`wattprint.Prediction` that exceeded the
    budget (None when no total was given and the spent figures exceeded it), ``budget`` the
    :class:`wattprint.predict.budget.Budget`, and ``exceeded`` a tuple of ``(figure, value, limit)`` such as
    ``("energy_kwh", 1.3, 1.0)``.
    """

    def __init__(
        self, message: str, *, prediction: object = None, budget: object = None, exceeded: tuple = ()
    ) -> None:
        super().__init__(message)
        self.prediction = prediction
        self.budget = budget
        self.exceeded = exceeded
