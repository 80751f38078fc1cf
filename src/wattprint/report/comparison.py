"""Runs side by side: each run's figures with their uncertainty, and whether the difference from the first run is
larger than the noise, judged from the runs' own standard uncertainties and, where a run has repetitions (runs of
the same config fingerprint), from how much those repetitions scatter."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from wattprint.api.records import RunRecord
from wattprint.core.units import J_PER_KWH

FIGURES = ("energy_kwh", "emissions_g", "duration_s")
"""The figures compared: IT energy, emissions and wall time."""

COVERAGE = 2.0
"""A difference larger than this many combined standard uncertainties (about 95 %) is larger than the noise."""


def _value(run: RunRecord, figure: str) -> tuple[float | None, float]:
    """The run's ``figure`` and its standard uncertainty (absolute)."""
    if figure == "energy_kwh":
        value = run.energy_j / J_PER_KWH
        return value, value * run.energy_uncertainty_rel
    if figure == "emissions_g":
        if run.emissions_g is None:
            return None, 0.0
        return run.emissions_g, run.emissions_g * (run.emissions_uncertainty_rel or 0.0)
    return run.duration_s, 0.0  # a wall-clock duration: its reading error is negligible


@dataclass(frozen=True)
class SideFigure:
    """One figure of one compared run: its value (the mean of its repetitions when it has some), the standard
    uncertainty of that value, and what the uncertainty is made of."""

    value: float
    uncertainty: float
    measurement: float
    scatter: float | None
    repetitions: int

    def to_dict(self) -> dict[str, Any]:
        rel = self.uncertainty / self.value if self.value else None
        return {"value": self.value, "uncertainty": self.uncertainty, "uncertainty_rel": rel,
                "measurement_uncertainty": self.measurement, "scatter_sd": self.scatter,
                "repetitions": self.repetitions}


def side_figure(runs: Sequence[RunRecord], figure: str) -> SideFigure | None:
    """``figure`` over ``runs`` (a run and its repetitions): the mean, with the standard uncertainty of the mean
    from their scatter combined with their measurement uncertainty (kept whole: a method's error does not average
    out over repetitions)."""
    pairs = [(v, u) for v, u in (_value(r, figure) for r in runs) if v is not None]
    if not pairs:
        return None
    n = len(pairs)
    mean = sum(v for v, _ in pairs) / n
    measurement = sum(u for _, u in pairs) / n
    scatter = None
    if n >= 2:
        scatter = math.sqrt(sum((v - mean) ** 2 for v, _ in pairs) / (n - 1))
    total = math.sqrt(measurement ** 2 + (scatter ** 2 / n if scatter is not None else 0.0))
    return SideFigure(mean, total, measurement, scatter, n)


@dataclass(frozen=True)
class Difference:
    """A run's figure against the first run's: the difference, its combined standard uncertainty, and the verdict."""

    figure: str
    difference: float
    difference_rel: float | None
    uncertainty: float
    z: float | None
    larger_than_noise: bool
    basis: str

    def to_dict(self) -> dict[str, Any]:
        return {"figure": self.figure, "difference": self.difference, "difference_rel": self.difference_rel,
                "uncertainty": self.uncertainty, "z": self.z, "larger_than_noise": self.larger_than_noise,
                "basis": self.basis}


def difference(figure: str, base: SideFigure, other: SideFigure) -> Difference:
    """``other`` minus ``base``, and whether it exceeds ``COVERAGE`` combined standard uncertainties."""
    delta = other.value - base.value
    sigma = math.hypot(base.uncertainty, other.uncertainty)
    z = delta / sigma if sigma > 0 else None
    if base.repetitions > 1 or other.repetitions > 1:
        basis = (f"repetitions ({base.repetitions} and {other.repetitions} runs): their scatter and the measurement "
                 "uncertainty")
    else:
        basis = "each run's measurement uncertainty only (no repetitions: the run-to-run noise is not known)"
    if figure == "duration_s" and sigma == 0:
        basis = "no repetitions: the run-to-run noise of the duration is not known"
    larger = z is not None and abs(z) > COVERAGE
    return Difference(figure, delta, delta / base.value if base.value else None, sigma, z, larger, basis)


@dataclass(frozen=True)
class Comparison:
    """Runs compared with the first: each run's figures and its differences from the first."""

    runs: tuple[RunRecord, ...]
    figures: tuple[dict[str, SideFigure | None], ...]
    differences: tuple[tuple[Difference, ...], ...]

    def to_dict(self) -> dict[str, Any]:
        from wattprint.core.codec import to_dict

        return {
            "coverage": COVERAGE,
            "runs": [
                {"run": to_dict(run),
                 "figures": {k: (v.to_dict() if v is not None else None) for k, v in figures.items()},
                 "versus_first": [d.to_dict() for d in diffs]}
                for run, figures, diffs in zip(self.runs, self.figures, self.differences, strict=True)
            ],
        }


def compare_runs(runs: Sequence[RunRecord], repetitions: Mapping[str, Sequence[RunRecord]] | None = None
                 ) -> Comparison:
    """``runs`` side by side, each against the first; ``repetitions`` maps a run id to that run's repetitions
    (itself included), whose mean and scatter then stand for the run."""
    if len(runs) < 2:
        raise ValueError("comparing needs two runs or more: give each run's id")
    repetitions = repetitions or {}
    figures = []
    for run in runs:
        group = repetitions.get(run.run_id) or [run]
        figures.append({figure: side_figure(group, figure) for figure in FIGURES})
    differences = []
    for figs in figures:
        diffs = []
        for figure in FIGURES:
            base, other = figures[0][figure], figs[figure]
            if base is not None and other is not None:
                diffs.append(difference(figure, base, other))
        differences.append(tuple(diffs))
    return Comparison(tuple(runs), tuple(figures), tuple(differences))
