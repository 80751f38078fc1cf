"""The wire record of a prediction, in a module of its own: every tracker's budget loads it at construction,
and it needs none of the other records (nor the result types they carry)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PredictionRecord:
    """A prediction of a whole training's totals, made after ``after`` of its ``total`` units (epochs or steps).

    Each figure has a central value and the ``low``/``high`` bounds of a ``level`` prediction interval
    (``interval_method``: ``t`` from the spread seen, ``assumed`` with one unit seen, ``complete`` when nothing
    remains). ``spent_*`` are the run's totals when the prediction was made. ``emissions_g*`` are None when the
    run has no carbon accounting.
    """

    __wire_derived__ = ("after_epochs", "after_steps")

    unit: str
    after: int
    total: int
    duration_s: float
    duration_s_low: float
    duration_s_high: float
    energy_kwh: float
    energy_kwh_low: float
    energy_kwh_high: float
    emissions_g: float | None
    emissions_g_low: float | None
    emissions_g_high: float | None
    level: float
    interval_method: str
    units_used: int
    """Units (epochs or steps) whose figures the mean and spread come from."""
    warmup_excluded: bool
    """The first epoch (or group of steps) was slower and left out of the mean and spread."""
    spent_duration_s: float
    spent_energy_kwh: float
    spent_emissions_g: float | None
    made_at: float
    """Unix time when the prediction was made."""

    @property
    def after_epochs(self) -> int | None:
        """Epochs completed when the prediction was made (None for step predictions)."""
        return self.after if self.unit == "epoch" else None

    @property
    def after_steps(self) -> int | None:
        """Steps completed when the prediction was made (None for epoch predictions)."""
        return self.after if self.unit == "step" else None
