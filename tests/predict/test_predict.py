"""Prediction of a training's totals from its first epochs: known answers, interval coverage, and the tracker."""

from __future__ import annotations

import json
import math
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest

import wattprint
from tests.fakes.fake_nvml import FakeGpu, FakeNvml
from wattprint.core.errors import ConfigError, TrackerStateError
from wattprint.predict.prediction import (
    ASSUMED_SPREAD_REL,
    Prediction,
    Progress,
    normal_quantile,
    predict_total,
    t_quantile,
)

WATTPRINT = str(Path(sys.executable).with_name("wattprint"))


# -- quantiles -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("level", "df", "expected"),
    [(0.9, 1, 6.3138), (0.95, 1, 12.7062), (0.9, 2, 2.9200), (0.9, 4, 2.1318), (0.95, 10, 2.2281),
     (0.99, 30, 2.7500), (0.95, 120, 1.9799), (0.9, 5000, 1.6452)],
)
def test_t_quantiles_match_the_tables(level: float, df: int, expected: float) -> None:
    assert t_quantile(level, df) == pytest.approx(expected, abs=1e-4)


def test_normal_quantiles() -> None:
    assert normal_quantile(0.9) == pytest.approx(1.644854, abs=1e-6)
    assert normal_quantile(0.95) == pytest.approx(1.959964, abs=1e-6)


# -- known answers -------------------------------------------------------------------------------------------------


def test_constant_epochs_predict_the_exact_total_with_no_spread() -> None:
    prediction = predict_total([10.0] * 3, [0.5] * 3, [100.0] * 3, total=10)
    assert prediction.unit == "epoch" and prediction.after == 3 and prediction.after_epochs == 3
    assert prediction.after_steps is None
    assert prediction.duration_s == pytest.approx(100.0)
    assert prediction.energy_kwh == pytest.approx(5.0)
    assert prediction.emissions_g == pytest.approx(1000.0)
    for figure in ("duration_s", "energy_kwh", "emissions_g"):
        assert getattr(prediction, figure + "_low") == pytest.approx(getattr(prediction, figure))
        assert getattr(prediction, figure + "_high") == pytest.approx(getattr(prediction, figure))
    assert prediction.interval_method == "t" and prediction.units_used == 3 and not prediction.warmup_excluded


def test_one_epoch_predicts_with_an_assumed_spread() -> None:
    prediction = predict_total([10.0], [1.0], None, total=5, level=0.9)
    assert prediction.energy_kwh == pytest.approx(5.0)
    assert prediction.interval_method == "assumed"
    remaining = 4
    half = normal_quantile(0.9) * ASSUMED_SPREAD_REL * 1.0 * math.sqrt(remaining + remaining**2)
    assert prediction.energy_kwh_high == pytest.approx(5.0 + half)
    assert prediction.energy_kwh_low == pytest.approx(5.0 - half)
    assert prediction.emissions_g is None and prediction.emissions_g_high is None


def test_noisy_epochs_give_the_t_interval_of_the_remaining_sum() -> None:
    durations = [9.0, 11.0, 10.0, 12.0, 8.0]
    prediction = predict_total(durations, [d / 10 for d in durations], None, total=20, level=0.9)
    mean, sd = 10.0, math.sqrt(2.5)
    remaining = 15
    half = t_quantile(0.9, 4) * sd * math.sqrt(remaining + remaining**2 / 5)
    assert prediction.duration_s == pytest.approx(50.0 + remaining * mean)
    assert prediction.duration_s_high == pytest.approx(200.0 + half)
    assert prediction.duration_s_low == pytest.approx(200.0 - half)
    assert prediction.energy_kwh_high == pytest.approx((200.0 + half) / 10)


def test_a_slow_first_epoch_is_left_out_when_there_are_enough_others() -> None:
    durations = [30.0, 10.0, 10.0, 10.0]
    prediction = predict_total(durations, [d / 100 for d in durations], None, total=10)
    assert prediction.warmup_excluded and prediction.units_used == 3
    assert prediction.duration_s == pytest.approx(60.0 + 6 * 10.0)  # spent (warm-up included) + 6 x 10 s
    assert prediction.energy_kwh == pytest.approx(0.6 + 6 * 0.1)
    # with only one other epoch the warm-up cannot be told from noise: both count
    early = predict_total([30.0, 10.0], [0.3, 0.1], None, total=10)
    assert not early.warmup_excluded and early.duration_s == pytest.approx(40.0 + 8 * 20.0)


def test_a_first_epoch_within_the_noise_is_kept() -> None:
    prediction = predict_total([10.4, 10.0, 9.7, 10.2], [1.0] * 4, None, total=10)
    assert not prediction.warmup_excluded and prediction.units_used == 4
    rng = random.Random(7)
    false_alarms = 0
    for _ in range(2000):
        durations = [rng.gauss(10, 1) for _ in range(6)]
        false_alarms += predict_total(durations, durations, None, total=20).warmup_excluded
    assert false_alarms < 0.03 * 2000  # the 99 % one-sided test: about 1 % of iid runs


def test_the_spent_total_includes_setup_and_nothing_remains_after_the_last_epoch() -> None:
    prediction = predict_total([5.0, 5.0], [1.0, 1.0], [2.0, 2.0], total=2, spent=(12.0, 2.5, 5.0))
    assert prediction.interval_method == "complete" and prediction.remaining == 0
    assert (prediction.duration_s, prediction.energy_kwh, prediction.emissions_g) == (12.0, 2.5, 5.0)
    assert prediction.energy_kwh_low == prediction.energy_kwh_high == 2.5


def test_steps_in_groups_predict_per_step() -> None:
    progress = Progress(1000, unit="step")
    for _ in range(4):
        progress.add(2.0, 0.02, None, units=10)  # ten steps of 0.2 s each
    prediction = progress.predict()
    assert prediction is not None and prediction.unit == "step" and prediction.after_steps == 40
    assert prediction.after_epochs is None
    assert prediction.duration_s == pytest.approx(200.0)
    assert prediction.energy_kwh == pytest.approx(2.0)


def test_prediction_round_trips_through_a_dict() -> None:
    prediction = predict_total([1.0, 1.2], [0.1, 0.12], [3.0, 3.6], total=4)
    data = json.loads(json.dumps(prediction.to_dict()))
    assert data["after_epochs"] == 2 and data["after_steps"] is None
    assert Prediction.from_dict(data) == prediction
    assert "after epoch 2/4" in prediction.describe()


def test_bad_input_is_refused() -> None:
    with pytest.raises(ConfigError, match="total_epochs"):
        Progress(0)
    with pytest.raises(ConfigError, match="prediction_level"):
        Progress(3, level=1.5)
    with pytest.raises(ConfigError, match="one value per unit"):
        predict_total([1.0], [1.0, 2.0], None, total=3)
    with pytest.raises(ConfigError, match="duration_s"):
        Progress(3).add(float("nan"), 1.0, None)


# -- interval coverage on simulated runs ---------------------------------------------------------------------------


def _coverage(rng: random.Random, *, after: int, total: int, warmup: float, runs: int = 2000) -> float:
    covered = 0
    for _ in range(runs):
        durations = [rng.gauss(60.0, 6.0) for _ in range(total)]
        durations[0] *= warmup
        energies = [d * 0.3 / 3600 for d in durations]  # 300 W
        prediction = predict_total(durations[:after], energies[:after], None, total=total, level=0.9)
        truth = sum(energies)
        covered += prediction.energy_kwh_low <= truth <= prediction.energy_kwh_high
    return covered / runs


@pytest.mark.parametrize("after", [3, 5, 10])
def test_90_percent_intervals_cover_about_90_percent_of_noisy_runs(after: int) -> None:
    coverage = _coverage(random.Random(after), after=after, total=30, warmup=1.0)
    assert 0.87 <= coverage <= 0.93  # 2000 runs: the binomial standard error is 0.007


def test_coverage_holds_with_a_warm_up_epoch_left_out() -> None:
    coverage = _coverage(random.Random(11), after=5, total=30, warmup=3.0)
    assert 0.87 <= coverage <= 0.93


# -- the tracker -----------------------------------------------------------------------------------------------


def gpu_tracker(no_rapl: str, power_w: float = 100.0, **kwargs: object) -> wattprint.Tracker:
    """A tracker whose energy is known: one fake GPU at constant power, no RAPL, the CPU modelled."""
    return wattprint.Tracker(nvml=FakeNvml([FakeGpu(power_w=power_w)]), powercap_root=no_rapl, **kwargs)


def test_epoch_end_predicts_after_every_epoch_and_the_last_matches_the_total(
    no_rapl: str, tmp_path: Path
) -> None:
    store = str(tmp_path / "runs.sqlite")
    with gpu_tracker(no_rapl, project="p", total_epochs=5, location="FR", store=store) as run:
        for _ in range(5):
            time.sleep(0.12)  # long enough that the tracker's own first-time work (~20 ms) is a small warm-up
            epoch = run.epoch_end()
            assert epoch.energy_j > 0
    result = run.result
    assert result is not None and result.status == "finished"
    assert [t.name for t in result.tasks] == [f"epoch-{i}" for i in range(1, 6)]
    predictions = run.predictions
    assert [p.after_epochs for p in predictions] == [1, 2, 3, 4, 5]
    assert [p.interval_method for p in predictions] == ["assumed", "t", "t", "t", "complete"]
    assert result.predictions == tuple(predictions)
    first, last = predictions[0], predictions[-1]
    # the prediction after the first epoch lands near the final total, inside its interval
    assert first.energy_kwh_low <= result.energy_kwh <= first.energy_kwh_high
    assert last.energy_kwh == pytest.approx(result.energy_kwh, rel=0.05)
    # emissions are priced as the run's own accounting prices them
    for p in predictions:
        assert p.emissions_g == pytest.approx(p.energy_kwh * result.pue * result.intensity.g_per_kwh, rel=1e-6)
    assert run.wait_saved()
    show = subprocess.run([WATTPRINT, "--store", store, "show", "last", "--json"], capture_output=True, text=True,
                          check=True)
    data = json.loads(show.stdout)
    assert len(data["predictions"]) == 5
    # shown: the last prediction made while epochs remained, and the first, each against the actual totals
    assert data["prediction"]["after_epochs"] == 4 and data["first_prediction"]["after_epochs"] == 1
    vs = data["prediction"]["vs_actual"]["energy_kwh"]
    assert vs["actual"] == pytest.approx(result.energy_kwh)
    assert vs["predicted"] == pytest.approx(predictions[3].energy_kwh)
    fourth = predictions[3]
    assert vs["within_interval"] == (fourth.energy_kwh_low <= result.energy_kwh <= fourth.energy_kwh_high)
    assert data["first_prediction"]["vs_actual"]["energy_kwh"]["within_interval"]
    text = subprocess.run([WATTPRINT, "--store", store, "show", "last"], capture_output=True, text=True,
                          check=True).stdout
    assert "predicted after epoch 4 of 5 (90% interval)" in text
    assert "actual:" in text and "the interval)" in text


def test_show_says_when_the_training_ended_before_its_last_epoch(no_rapl: str, tmp_path: Path) -> None:
    store = str(tmp_path / "runs.sqlite")
    with gpu_tracker(no_rapl, total_epochs=6, store=store) as run:
        for _ in range(3):
            time.sleep(0.05)
            run.epoch_end()
    assert run.wait_saved()
    text = subprocess.run([WATTPRINT, "--store", store, "show", "last"], capture_output=True, text=True,
                          check=True).stdout
    assert "actual (the training ended after 3 of 6 epochs):" in text


def test_epoch_windows_predict_and_an_epoch_that_raised_does_not(no_rapl: str) -> None:
    with gpu_tracker(no_rapl, total_epochs=4, store="off") as run:
        time.sleep(0.02)  # setup before the first epoch: spent, but not an epoch
        for _ in range(2):
            with run.epoch() as window:
                time.sleep(0.03)
            assert window.result is not None
        with pytest.raises(RuntimeError):
            with run.epoch():
                raise RuntimeError("diverged")
    assert [p.after for p in run.predictions] == [1, 2]
    assert [t.name for t in run.result.tasks] == ["epoch-1", "epoch-2", "epoch-3"]
    last = run.predictions[-1]
    assert last.spent_duration_s > sum(t.duration_s for t in run.result.tasks[:2])  # the setup is spent too
    assert last.duration_s == pytest.approx(last.spent_duration_s + 2 * 0.03, abs=0.03)


def test_total_epochs_per_call_and_predict_after_from_the_environment(
    no_rapl: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WATTPRINT_PREDICT_AFTER", "3")
    monkeypatch.setenv("WATTPRINT_PREDICTION_LEVEL", "0.8")
    with gpu_tracker(no_rapl, store="off") as run:
        for _ in range(4):
            run.epoch_end(total_epochs=6)
    assert [p.after for p in run.predictions] == [3, 4]
    assert all(p.level == 0.8 and p.total == 6 for p in run.predictions)


def test_steps_predict_per_group_and_keep_no_task_per_step(no_rapl: str) -> None:
    with gpu_tracker(no_rapl, total_steps=100, predict_every_steps=10, store="off") as run:
        made = []
        for _ in range(100):
            time.sleep(0.002)
            prediction = run.step()
            if prediction is not None:
                made.append(prediction)
    assert [p.after_steps for p in run.predictions] == list(range(10, 101, 10))
    assert made == run.predictions
    assert run.result.tasks == ()
    assert run.predictions[-1].energy_kwh == pytest.approx(run.result.energy_kwh, rel=0.05)


def test_steps_group_by_time_when_no_group_size_is_given(no_rapl: str) -> None:
    with gpu_tracker(no_rapl, total_steps=10_000, store="off") as run:
        started = time.monotonic()
        while time.monotonic() - started < 1.3:
            time.sleep(0.0005)
            run.step()
    assert run.predictions[-1].after_steps < 10_000
    predictions = run.predictions
    assert 1 <= len(predictions) <= 3  # groups of at least half a second
    assert predictions[0].after_steps >= 100  # and at least 1 % of the steps


def test_epochs_need_a_running_tracker_and_good_arguments(no_rapl: str) -> None:
    run = gpu_tracker(no_rapl, store="off")
    with pytest.raises(TrackerStateError, match="epoch_end"):
        run.epoch_end()
    with pytest.raises(TrackerStateError, match="step"):
        run.step()
    with pytest.raises(ConfigError, match="total_epochs"):
        gpu_tracker(no_rapl, total_epochs=0)
    with pytest.raises(ConfigError, match="total_steps"):
        gpu_tracker(no_rapl, total_steps=2.5)
    with pytest.raises(ConfigError, match="prediction_level"):
        gpu_tracker(no_rapl, prediction_level=1.5)
    with run:
        with pytest.raises(ConfigError, match="count"):
            run.step(0)


# -- the documentation -----------------------------------------------------------------------------------------


DOCS = Path(__file__).resolve().parents[2] / "docs" / "predict.md"


def _doc_blocks() -> list[str]:
    import re

    return re.findall(r"```python\n(.*?)```", DOCS.read_text(), flags=re.DOTALL)


@pytest.mark.parametrize("index", range(len(_doc_blocks())))
def test_the_examples_of_docs_predict_run(index: int, tmp_path: Path, no_rapl: str) -> None:
    import os

    environment = {**os.environ, "WATTPRINT_POWERCAP_ROOT": no_rapl, "WATTPRINT_GPUS": "false"}
    completed = subprocess.run([sys.executable, "-c", _doc_blocks()[index]], cwd=tmp_path, capture_output=True,
                               text=True, timeout=300, env=environment)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip()  # every example prints what it shows
