"""Prediction of a training's totals from its first epochs (or steps), with a prediction interval.

Pure arithmetic over per-unit figures (duration, energy, emissions); the tracker feeds it the figures it
measured and priced, so a prediction is in the same terms as the run's own result.

Model: the units still to come (epochs, or groups of steps) are independent draws from one distribution whose
mean and spread are estimated from the units seen so far. The predicted total is what the run has spent so far
plus the remaining units times the estimated mean. The interval is a Student-t prediction interval for the sum
of the remaining units: it covers both the variation of future units and the error of the estimated mean,
``half-width = t(level, m-1) * s * sqrt(R*g + R**2 / m)`` for ``R`` remaining units, ``m`` groups used, ``g``
units per group and ``s`` the sample standard deviation of the per-unit figure. It is exact for normally
distributed, independent units. A slower first unit (warm-up: compilation, caches, data loading) is left out of
the mean and spread when at least two others are available and it is an outlier beyond the 99 % one-sided
prediction bound of the others (and more than 5 % slower). With a single unit seen there is no spread to
measure: a per-unit spread of ``ASSUMED_SPREAD_REL`` is assumed and the interval is marked ``assumed``.

The interval is about what wattprint will report for the run, not about the measurement error of the energy
itself: that systematic uncertainty is in each result's ``uncertainty_rel``.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

from wattprint.api.prediction import PredictionRecord
from wattprint.core.errors import ConfigError
from wattprint.core.formatting import format_duration, format_mass_g

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

UNITS = ("epoch", "step")
DEFAULT_LEVEL = 0.9
"""The default coverage of prediction intervals."""
ASSUMED_SPREAD_REL = 0.15
"""Per-unit relative standard deviation assumed while only one unit has been seen."""
WARMUP_TEST_LEVEL = 0.99
"""A first unit slower than this one-sided prediction bound of the others is taken as a warm-up."""
WARMUP_MIN_EXCESS_REL = 0.05
"""...and it must be at least this much slower than their mean (constant runs have no spread to test with)."""
WARMUP_MIN_OTHERS = 2

METHOD_T = "t"
METHOD_ASSUMED = "assumed"
METHOD_COMPLETE = "complete"


@dataclass(frozen=True)
class Prediction(PredictionRecord):
    """A prediction of a whole training's totals: the wire format's :class:`~wattprint.api.records.PredictionRecord`
    (its fields are documented there) with what the predictor and budgets ask of it."""

    @property
    def remaining(self) -> int:
        return max(0, self.total - self.after)

    def bound(self, figure: str, basis: str) -> float | None:
        """``figure`` (``duration_s``, ``energy_kwh``, ``emissions_g``) by ``basis``: ``central`` or ``upper``."""
        value = getattr(self, figure if basis == "central" else figure + "_high")
        return None if value is None else float(value)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (``after_epochs``/``after_steps`` included), in the wire format's one shape."""
        from wattprint.core.codec import to_dict

        return to_dict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Prediction:
        """The prediction a ``to_dict()`` (for example a stored one) describes; unknown keys are ignored."""
        from wattprint.core.codec import from_dict

        return from_dict(cls, data)

    def describe(self) -> str:
        """One line: what was predicted after how many units, with the interval."""
        emissions = ""
        if self.emissions_g is not None:
            emissions = (
                f", {format_mass_g(self.emissions_g)} CO2e ({format_mass_g(self.emissions_g_low or 0.0)}–"
                f"{format_mass_g(self.emissions_g_high or 0.0)})"
            )
        spread = {METHOD_T: "", METHOD_ASSUMED: ", spread assumed", METHOD_COMPLETE: ""}.get(self.interval_method, "")
        warmup = ", warm-up left out" if self.warmup_excluded else ""
        return (
            f"after {self.unit} {self.after}/{self.total}: predicted total {_kwh(self.energy_kwh)} "
            f"({_kwh(self.energy_kwh_low)}–{_kwh(self.energy_kwh_high)}){emissions}, "
            f"{format_duration(self.duration_s)} "
            f"({format_duration(self.duration_s_low)}–{format_duration(self.duration_s_high)}) "
            f"[{self.level:.0%} interval{spread}{warmup}]"
        )


# -- the predictor -------------------------------------------------------------------------------------------------


class _Running:
    """Mean and variance in one pass (Welford), so a prediction costs the same after 10 or 10,000 units."""

    __slots__ = ("count", "mean", "_m2")

    def __init__(self) -> None:
        self.count = 0
        self.mean = 0.0
        self._m2 = 0.0

    def add(self, value: float) -> None:
        self.count += 1
        delta = value - self.mean
        self.mean += delta / self.count
        self._m2 += delta * (value - self.mean)

    def merged(self, value: float) -> tuple[int, float, float]:
        """(count, mean, variance) with ``value`` added, without changing this one."""
        count = self.count + 1
        delta = value - self.mean
        mean = self.mean + delta / count
        m2 = self._m2 + delta * (value - mean)
        return count, mean, m2 / (count - 1) if count > 1 else 0.0

    @property
    def variance(self) -> float:
        return max(0.0, self._m2 / (self.count - 1)) if self.count > 1 else 0.0


class _Series:
    """One figure per group of units, kept as a per-unit rate: the first group apart (it may be a warm-up)."""

    __slots__ = ("first", "rest")

    def __init__(self) -> None:
        self.first: float | None = None
        self.rest = _Running()

    def add(self, rate: float) -> None:
        if self.first is None:
            self.first = rate
        else:
            self.rest.add(rate)

    def stats(self, skip_first: bool) -> tuple[int, float, float]:
        """(groups used, mean per-unit rate, variance of the per-unit rate)."""
        if skip_first or self.first is None:
            return self.rest.count, self.rest.mean, self.rest.variance
        return self.rest.merged(self.first)


class Progress:
    """Figures of the units of one training as they complete, and predictions of its totals.

    ``add()`` takes the duration, energy and emissions of one group of ``units`` units (one epoch; or a group of
    steps, all groups about the same size); ``predict()`` gives the :class:`Prediction` for ``total`` units.
    """

    def __init__(self, total: int | None, *, unit: str = "epoch", level: float = DEFAULT_LEVEL) -> None:
        if unit not in UNITS:
            raise ConfigError(f"unit={unit!r} is not valid; allowed values: 'epoch', 'step'")
        self.unit = unit
        self.total = check_total(f"total_{unit}s", total)
        self.level = check_level(level)
        self.done = 0
        """Units completed."""
        self.groups = 0
        self._duration = _Series()
        self._energy = _Series()
        self._emissions: _Series | None = _Series()
        self._spent = [0.0, 0.0, 0.0]

    def add(self, duration_s: float, energy_kwh: float, emissions_g: float | None, units: int = 1) -> None:
        """One group of ``units`` completed units and its figures."""
        if units < 1:
            raise ConfigError(f"units must be at least 1, got {units!r}")
        for name, value in (("duration_s", duration_s), ("energy_kwh", energy_kwh)):
            if not math.isfinite(value) or value < 0:
                raise ConfigError(f"{name} must be a finite number of at least 0, got {value!r}")
        self.done += units
        self.groups += 1
        self._duration.add(duration_s / units)
        self._energy.add(energy_kwh / units)
        self._spent[0] += duration_s
        self._spent[1] += energy_kwh
        if emissions_g is None or not math.isfinite(emissions_g):
            self._emissions = None
        elif self._emissions is not None:
            self._emissions.add(emissions_g / units)
            self._spent[2] += emissions_g

    @property
    def warmup(self) -> bool:
        """Whether the first group is slow enough, against enough others, to be left out as a warm-up."""
        first, rest = self._duration.first, self._duration.rest
        if first is None or rest.count < WARMUP_MIN_OTHERS:
            return False
        if first <= rest.mean * (1.0 + WARMUP_MIN_EXCESS_REL):
            return False
        others = rest.count
        bound = rest.mean + t_quantile(2 * WARMUP_TEST_LEVEL - 1, others - 1) * math.sqrt(
            rest.variance * (1.0 + 1.0 / others)
        )
        return first > bound

    def predict(
        self,
        spent: tuple[float, float, float | None] | None = None,
        *,
        total: int | None = None,
        made_at: float | None = None,
    ) -> Prediction | None:
        """The predicted totals (None before the first unit or without a ``total``).

        ``spent`` is (duration_s, energy_kwh, emissions_g) the whole run has used so far, setup included;
        default: the sum of the units added.
        """
        if total is not None:
            self.total = check_total(f"total_{self.unit}s", total)
        if self.groups == 0 or self.total is None:
            return None
        if spent is None:
            spent = (self._spent[0], self._spent[1], self._spent[2] if self._emissions is not None else None)
        remaining = max(0, self.total - self.done)
        skip = self.warmup
        groups_used = self.groups - 1 if skip else self.groups
        per_group = self.done / self.groups
        methods = set()

        def interval(series: _Series, spent_value: float) -> tuple[float, float, float]:
            count, mean, variance = series.stats(skip)
            central = spent_value + remaining * mean
            if remaining == 0:
                methods.add(METHOD_COMPLETE)
                half = 0.0
            elif count >= 2:
                methods.add(METHOD_T)
                half = t_quantile(self.level, count - 1) * math.sqrt(
                    variance * (remaining * per_group + remaining**2 / count)
                )
            else:
                methods.add(METHOD_ASSUMED)
                sd = ASSUMED_SPREAD_REL * mean
                half = normal_quantile(self.level) * sd * math.sqrt(remaining * per_group + remaining**2)
            return central, max(spent_value, central - half), central + half

        duration, duration_low, duration_high = interval(self._duration, spent[0])
        energy, energy_low, energy_high = interval(self._energy, spent[1])
        emissions: tuple[float | None, float | None, float | None] = (None, None, None)
        if self._emissions is not None and spent[2] is not None:
            emissions = interval(self._emissions, spent[2])
        method = next(m for m in (METHOD_ASSUMED, METHOD_T, METHOD_COMPLETE) if m in methods)
        return Prediction(
            unit=self.unit,
            after=self.done,
            total=self.total,
            duration_s=duration,
            duration_s_low=duration_low,
            duration_s_high=duration_high,
            energy_kwh=energy,
            energy_kwh_low=energy_low,
            energy_kwh_high=energy_high,
            emissions_g=emissions[0],
            emissions_g_low=emissions[1],
            emissions_g_high=emissions[2],
            level=self.level,
            interval_method=method,
            units_used=round(groups_used * per_group),
            warmup_excluded=skip,
            spent_duration_s=spent[0],
            spent_energy_kwh=spent[1],
            spent_emissions_g=spent[2] if emissions[0] is not None else None,
            made_at=time.time() if made_at is None else made_at,
        )


def predict_total(
    durations_s: Sequence[float],
    energies_kwh: Sequence[float],
    emissions_g: Sequence[float] | None = None,
    *,
    total: int,
    unit: str = "epoch",
    level: float = DEFAULT_LEVEL,
    spent: tuple[float, float, float | None] | None = None,
) -> Prediction:
    """The prediction after the units whose figures are given (one value per epoch), for ``total`` units."""
    if len(durations_s) != len(energies_kwh) or (emissions_g is not None and len(emissions_g) != len(durations_s)):
        raise ConfigError("durations_s, energies_kwh and emissions_g must have one value per unit each")
    if not durations_s:
        raise ConfigError("predict_total() needs the figures of at least one completed unit")
    progress = Progress(total, unit=unit, level=level)
    for index, (duration, energy) in enumerate(zip(durations_s, energies_kwh, strict=True)):
        progress.add(duration, energy, None if emissions_g is None else emissions_g[index])
    prediction = progress.predict(spent)
    assert prediction is not None
    return prediction


# -- checks --------------------------------------------------------------------------------------------------------


def check_total(argument: str, value: object) -> int | None:
    """``value`` if it is None or a whole number of at least 1; otherwise a ConfigError naming ``argument``."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{argument} must be a whole number of at least 1 or None, got {value!r}")
    return value


def check_level(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.5 <= value < 1.0:
        raise ConfigError(f"prediction_level must be a number from 0.5 to below 1, got {value!r}")
    return float(value)


# -- quantiles -----------------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=64)
def normal_quantile(level: float) -> float:
    """The two-sided ``level`` quantile of the standard normal distribution (1.645 for 0.9).

    Bisection on ``erf`` (P(|Z| < z) = erf(z / sqrt 2)): exact to float precision, and no import of ``statistics``.
    """
    low, high = 0.0, 40.0
    for _ in range(80):
        middle = (low + high) / 2
        if math.erf(middle / math.sqrt(2.0)) < level:
            low = middle
        else:
            high = middle
    return (low + high) / 2


def _t_two_sided(t: float, df: int) -> float:
    """P(|T| < t) for Student's t with ``df`` degrees of freedom: the finite series of Abramowitz and Stegun
    26.7.3 and 26.7.4 (exact for whole ``df``)."""
    theta = math.atan(t / math.sqrt(df))
    sin, cos2 = math.sin(theta), math.cos(theta) ** 2
    if df % 2 == 0:
        term = total = 1.0
        for k in range(1, df // 2):
            term *= cos2 * (2 * k - 1) / (2 * k)
            total += term
        return sin * total
    if df == 1:
        return 2.0 * theta / math.pi
    term = total = math.cos(theta)
    for k in range(1, (df - 1) // 2):
        term *= cos2 * (2 * k) / (2 * k + 1)
        total += term
    return 2.0 / math.pi * (theta + sin * total)


@functools.lru_cache(maxsize=256)
def t_quantile(level: float, df: int) -> float:
    """The two-sided ``level`` quantile of Student's t with ``df`` degrees of freedom (2.132 for 0.9 and 4)."""
    if df < 1:
        raise ValueError(f"df must be at least 1, got {df}")
    if df > 1000:  # Cornish-Fisher expansion about the normal quantile; error well below 1e-6 here
        z = normal_quantile(level)
        return z + (z**3 + z) / (4 * df) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)
    low, high = 0.0, math.pi / 2
    for _ in range(60):  # bisection on the angle atan(t / sqrt(df)): the probability is monotone in it
        middle = (low + high) / 2
        if _t_two_sided(math.sqrt(df) * math.tan(middle), df) < level:
            low = middle
        else:
            high = middle
    return math.sqrt(df) * math.tan((low + high) / 2)


# -- formatting (the predicted energy keeps three significant figures, as predictions are rough) ------------------


def _kwh(kwh: float) -> str:
    from wattprint.core.formatting import format_energy_kwh  # the one energy formatter (mWh, Wh, kWh)

    return format_energy_kwh(kwh)


