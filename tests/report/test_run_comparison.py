"""Runs compared with the first: figures with their standard uncertainty, repetitions' mean and scatter, and the
verdict on whether a difference is larger than the noise."""

from __future__ import annotations

import math

import pytest

from tests.fakes.pg import make_run, run_id
from wattprint.report.comparison import COVERAGE, compare_runs, side_figure


def test_two_runs_without_repetitions_use_their_measurement_uncertainty() -> None:
    a = make_run(run_id(1, 1), energy_j=3.6e6, energy_uncertainty_rel=0.05)  # 1 kWh ± 0.05
    b = make_run(run_id(1, 2), energy_j=3.6e6 * 1.1, energy_uncertainty_rel=0.05)  # 1.1 kWh ± 0.055
    result = compare_runs([a, b])
    energy = next(d for d in result.differences[1] if d.figure == "energy_kwh")
    assert energy.difference == pytest.approx(0.1)
    assert energy.uncertainty == pytest.approx(math.hypot(0.05, 0.055))
    assert energy.z == pytest.approx(0.1 / math.hypot(0.05, 0.055))
    assert not energy.larger_than_noise and "no repetitions" in energy.basis
    c = make_run(run_id(1, 3), energy_j=3.6e6 * 1.5, energy_uncertainty_rel=0.05)
    assert next(d for d in compare_runs([a, c]).differences[1] if d.figure == "energy_kwh").larger_than_noise
    # emissions are left out for a run without them, duration has no noise without repetitions
    assert {d.figure for d in result.differences[1]} == {"energy_kwh", "duration_s"}
    duration = next(d for d in result.differences[1] if d.figure == "duration_s")
    assert duration.z is None and not duration.larger_than_noise


def test_repetitions_stand_for_a_run_with_their_mean_and_scatter() -> None:
    reps = [make_run(run_id(2, i), energy_j=3.6e6 * e, energy_uncertainty_rel=0.0) for i, e in
            enumerate((1.0, 1.2, 0.8), start=1)]
    figure = side_figure(reps, "energy_kwh")
    assert figure is not None
    assert figure.value == pytest.approx(1.0) and figure.repetitions == 3
    assert figure.scatter == pytest.approx(0.2)  # sample standard deviation
    assert figure.uncertainty == pytest.approx(0.2 / math.sqrt(3))
    other = make_run(run_id(2, 9), energy_j=3.6e6 * 1.3, energy_uncertainty_rel=0.0)
    result = compare_runs([reps[0], other], {reps[0].run_id: reps})
    energy = next(d for d in result.differences[1] if d.figure == "energy_kwh")
    assert energy.difference == pytest.approx(0.3)
    assert energy.z == pytest.approx(0.3 / (0.2 / math.sqrt(3)))
    assert energy.larger_than_noise == (energy.z > COVERAGE) and "repetitions (3 and 1 runs)" in energy.basis
    data = result.to_dict()
    assert data["runs"][0]["figures"]["energy_kwh"]["repetitions"] == 3
    assert data["runs"][1]["versus_first"][0]["figure"] == "energy_kwh"


def test_one_run_is_not_a_comparison() -> None:
    with pytest.raises(ValueError, match="two runs or more"):
        compare_runs([make_run(run_id(3, 1))])
