"""Budgets on a run's energy and emissions: each policy, each basis, the terminal question and batch jobs."""

from __future__ import annotations

import io
import logging
import os
import pty
import sys
import threading
import time
from pathlib import Path

import pytest

import wattprint
from tests.fakes.fake_nvml import FakeGpu, FakeNvml
from wattprint.core.errors import BudgetExceeded, ConfigError
from wattprint.predict.budget import Budget, ask_to_stop, describe_exceeded, stdin_is_terminal
from wattprint.predict.prediction import predict_total
from wattprint.store import open_store

TINY_KWH = 1e-9  # far below one epoch of a 100 W GPU for 20 ms (5.6e-7 kWh)


def gpu_tracker(no_rapl: str, **kwargs: object) -> wattprint.Tracker:
    return wattprint.Tracker(nvml=FakeNvml([FakeGpu(power_w=100.0)]), powercap_root=no_rapl, **kwargs)


def train(run: wattprint.Tracker, epochs: int, seconds: float = 0.02) -> int:
    """Epochs done before the tracker raised or the loop ended."""
    done = 0
    for _ in range(epochs):
        time.sleep(seconds)
        run.epoch_end()
        done += 1
    return done


# -- the budget itself ---------------------------------------------------------------------------------------------


def test_the_basis_decides_which_predicted_total_is_compared() -> None:
    prediction = predict_total([9.0, 11.0, 10.0], [0.9, 1.1, 1.0], [90.0, 110.0, 100.0], total=10)
    assert prediction.energy_kwh == pytest.approx(10.0) and prediction.energy_kwh_high > 11.0
    upper = Budget(energy_kwh=10.5, basis="upper")
    central = Budget(energy_kwh=10.5, basis="central")
    assert upper.exceeded(prediction) == (("energy_kwh", prediction.energy_kwh_high, 10.5),)
    assert central.exceeded(prediction) == ()
    assert Budget(emissions_g=999.0, basis="central").exceeded(prediction) == (("emissions_g", 1000.0, 999.0),)
    assert describe_exceeded((("energy_kwh", 0.0011, 0.001),), "upper") == "energy 1.1 Wh (upper bound) > budget 1 Wh"
    assert describe_exceeded((("emissions_g", 2.0, 1.5),), None) == "emissions 2 g CO2e (spent) > budget 1.5 g CO2e"


def test_bad_budgets_are_refused(no_rapl: str) -> None:
    with pytest.raises(ConfigError, match="budget_policy"):
        Budget(energy_kwh=1.0, policy="halt")
    with pytest.raises(ConfigError, match="budget_basis"):
        Budget(energy_kwh=1.0, basis="lower")
    with pytest.raises(ConfigError, match="budget_kwh"):
        gpu_tracker(no_rapl, budget_kwh=-1.0)
    with pytest.raises(ConfigError, match="budget_policy"):
        gpu_tracker(no_rapl, budget_policy="halt")


# -- policies ------------------------------------------------------------------------------------------------------


def test_warn_logs_once_and_training_goes_on(no_rapl: str, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="wattprint"):
        with gpu_tracker(no_rapl, total_epochs=4, budget_kwh=TINY_KWH, store="off") as run:
            assert train(run, 4) == 4
    warnings = [r.getMessage() for r in caplog.records if "budget" in r.getMessage()]
    assert len(warnings) == 1 and "is predicted to exceed its budget after epoch 1 of 4" in warnings[0]
    assert isinstance(run.budget_exceeded, BudgetExceeded) and not run.should_stop
    assert run.budget_exceeded.prediction is run.predictions[0]
    assert any("training went on" in note for note in run.result.notes)


def test_stop_raises_at_the_epoch_boundary_and_the_run_is_kept(no_rapl: str, tmp_path: Path) -> None:
    store = str(tmp_path / "runs.sqlite")
    done = 0
    with pytest.raises(BudgetExceeded) as caught:
        with gpu_tracker(no_rapl, project="p", total_epochs=10, budget_kwh=TINY_KWH, budget_policy="stop",
                         store=store) as run:
            done = train(run, 10)
    assert done == 0  # raised by the first epoch_end: no epoch after it ran
    error = caught.value
    assert error.budget.energy_kwh == TINY_KWH and error.budget.policy == "stop"
    assert error.prediction.after_epochs == 1 and error.exceeded[0][0] == "energy_kwh"
    assert error.exceeded[0][1] == error.prediction.energy_kwh_high
    assert run.should_stop and run.result.status == "finished"
    assert any("stopped by the budget policy 'stop'" in note for note in run.result.notes)
    assert run.wait_saved()
    with open_store(store) as opened:
        record = opened.run(run.run_id)
    budget = record.details.budget
    assert budget is not None and budget.stop_requested is True and budget.exceeded is True
    assert len(record.details.predictions) == 1


def test_stop_raises_once_and_callers_may_only_ask(no_rapl: str) -> None:
    with gpu_tracker(no_rapl, total_epochs=5, budget_kwh=TINY_KWH, budget_policy="stop", store="off") as run:
        assert run.epoch_end(raise_on_budget=False) is not None  # a framework callback's way: no exception
        assert run.should_stop and run.budget_exceeded is not None
    run2 = gpu_tracker(no_rapl, total_epochs=5, budget_kwh=TINY_KWH, budget_policy="stop", store="off")
    with run2:
        with pytest.raises(BudgetExceeded):
            run2.epoch_end()
        run2.epoch_end()  # caught and carried on: the exception is raised once per run
        assert run2.should_stop


def test_the_emissions_budget_and_the_central_basis(no_rapl: str) -> None:
    with pytest.raises(BudgetExceeded) as caught:
        with gpu_tracker(no_rapl, total_epochs=3, location="PL", budget_g=1e-9, budget_basis="central",
                         budget_policy="stop", store="off") as run:
            train(run, 3)
    figure, value, limit = caught.value.exceeded[0]
    assert figure == "emissions_g" and limit == 1e-9
    assert value == caught.value.prediction.emissions_g  # the central value, not the upper bound
    assert run.predictions[0].emissions_g > 0


def test_without_a_total_the_spent_figures_are_held_against_the_budget(no_rapl: str) -> None:
    with pytest.raises(BudgetExceeded, match="has exceeded its budget after epoch 1") as caught:
        with gpu_tracker(no_rapl, budget_kwh=TINY_KWH, budget_policy="stop", store="off") as run:
            train(run, 5)
    assert caught.value.prediction is None and run.predictions == []
    # steps too: groups of steps are measured when a budget is set, even without a total
    with pytest.raises(BudgetExceeded, match="after step 5"):
        with gpu_tracker(no_rapl, budget_kwh=TINY_KWH, budget_policy="stop", predict_every_steps=5,
                         store="off") as steps:
            for _ in range(20):
                time.sleep(0.01)
                steps.step()


def test_budgets_come_from_the_configuration(no_rapl: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WATTPRINT_BUDGET_KWH", str(TINY_KWH))
    monkeypatch.setenv("WATTPRINT_BUDGET_POLICY", "stop")
    run = gpu_tracker(no_rapl, total_epochs=3, store="off")
    assert run.budget == Budget(energy_kwh=TINY_KWH, policy="stop", basis="upper")
    assert run.config.setting("budget_kwh").source == "environment variable WATTPRINT_BUDGET_KWH"
    with pytest.raises(BudgetExceeded):
        with run:
            train(run, 3)


def test_a_budget_that_holds_says_nothing(no_rapl: str, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="wattprint"):
        with gpu_tracker(no_rapl, total_epochs=3, budget_kwh=1.0, budget_policy="stop", store="off") as run:
            assert train(run, 3) == 3
    assert run.budget_exceeded is None and not run.should_stop
    assert not [r for r in caplog.records if "budget" in r.getMessage()]


# -- ask -----------------------------------------------------------------------------------------------------------


def test_ask_in_a_batch_job_falls_back_to_warn_says_so_and_never_blocks(
    no_rapl: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    read_end, write_end = os.pipe()  # stdin of a batch job: a pipe nobody writes to; reading it would block
    stdin = os.fdopen(read_end, "r")
    monkeypatch.setattr(sys, "stdin", stdin)
    outcome: dict[str, object] = {}

    def job() -> None:
        with gpu_tracker(no_rapl, total_epochs=3, budget_kwh=TINY_KWH, budget_policy="ask", store="off") as run:
            outcome["epochs"] = train(run, 3)
        outcome["run"] = run

    try:
        with caplog.at_level(logging.WARNING, logger="wattprint"):
            thread = threading.Thread(target=job)
            thread.start()
            thread.join(timeout=20)
            blocked = thread.is_alive()
    finally:
        os.write(write_end, b"\n")  # unblock a reader, should there be one, so the test can end
        thread.join(timeout=20)
        os.close(write_end)
        stdin.close()
    assert not blocked, "budget_policy='ask' waited for input on a stdin that is not a terminal"
    assert outcome["epochs"] == 3
    run = outcome["run"]
    assert isinstance(run, wattprint.Tracker) and not run.should_stop and run.budget_exceeded is not None
    messages = " ".join(r.getMessage() for r in caplog.records)
    assert "needs a terminal" in messages and "falls back to 'warn'" in messages
    assert any("stdin is not one" in note for note in run.result.notes)


def _terminal(answer: bytes) -> tuple[io.TextIOWrapper, int]:
    """A real pseudo-terminal as stdin, with ``answer`` already typed on it."""
    controller, terminal = pty.openpty()
    os.write(controller, answer)
    return os.fdopen(terminal, "r"), controller


def test_ask_on_a_terminal_stops_when_the_answer_is_yes(
    no_rapl: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    stdin, controller = _terminal(b"y\n")
    monkeypatch.setattr(sys, "stdin", stdin)
    try:
        assert stdin_is_terminal()
        with pytest.raises(BudgetExceeded):
            with gpu_tracker(no_rapl, total_epochs=4, budget_kwh=TINY_KWH, budget_policy="ask",
                             store="off") as run:
                train(run, 4)
    finally:
        stdin.close()
        os.close(controller)
    assert run.should_stop and len(run.predictions) == 1
    assert "Stop training now? [y/N]" in capsys.readouterr().err
    assert any("Asked on the terminal whether to stop: stop" in note for note in run.result.notes)


def test_ask_on_a_terminal_goes_on_when_the_answer_is_no_and_asks_once(
    no_rapl: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    stdin, controller = _terminal(b"n\n")
    monkeypatch.setattr(sys, "stdin", stdin)
    try:
        with gpu_tracker(no_rapl, total_epochs=3, budget_kwh=TINY_KWH, budget_policy="ask", store="off") as run:
            assert train(run, 3) == 3  # a second question would block here: nothing more was typed
    finally:
        stdin.close()
        os.close(controller)
    assert not run.should_stop
    assert capsys.readouterr().err.count("Stop training now?") == 1


def test_ask_to_stop_without_a_terminal_returns_none_without_reading() -> None:
    class Exploding(io.StringIO):
        def readline(self, *args: object) -> str:  # type: ignore[override]
            raise AssertionError("read from a stdin that is not a terminal")

    assert ask_to_stop("over budget", stdin=Exploding()) is None
