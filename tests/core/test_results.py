"""Result arithmetic checked by hand: methods, uncertainties, aggregation."""

from __future__ import annotations

import math

import pytest

from wattprint.core.results import DeviceEnergy, aggregate, device_energy, weakest_method


def test_weakest_method() -> None:
    assert weakest_method(["counter", "counter"]) == "counter"
    assert weakest_method(["counter", "sampled"]) == "sampled"
    assert weakest_method(["model", "counter"]) == "model"
    with pytest.raises(ValueError):
        weakest_method([])


def test_a_device_that_fell_back_mid_window_is_reported_as_modelled() -> None:
    device = device_energy("cpu", "package-0", {"counter": 300.0, "model": 100.0}, {"counter": 0.05, "model": 0.4}, 10)
    assert device.energy_j == 400.0
    assert device.avg_power_w == 40.0
    assert device.method == "model"
    assert device.uncertainty_rel == pytest.approx((300 * 0.05 + 100 * 0.4) / 400)


def test_devices_of_a_component_add_linearly_components_in_quadrature() -> None:
    devices = [
        DeviceEnergy("cpu", "package-0", 100.0, 10.0, "counter", 0.05),
        DeviceEnergy("cpu", "package-1", 300.0, 30.0, "counter", 0.05),
        DeviceEnergy("gpu", "gpu:0", 1000.0, 100.0, "counter", 0.05),
        DeviceEnergy("ram", "ram", 50.0, 5.0, "model", 0.5),
    ]
    components, overall = aggregate(devices, 10.0)
    assert components["cpu"].energy_j == 400.0
    assert components["cpu"].uncertainty_rel == pytest.approx(0.05)
    assert components["cpu"].devices == ("package-0", "package-1")
    assert components["ram"].method == "model"
    expected = math.sqrt((400 * 0.05) ** 2 + (1000 * 0.05) ** 2 + (50 * 0.5) ** 2) / 1450
    assert overall == pytest.approx(expected)


def test_zero_energy_keeps_the_nominal_uncertainty() -> None:
    components, overall = aggregate([DeviceEnergy("gpu", "gpu:0", 0.0, 0.0, "counter", 0.05)], 1.0)
    assert components["gpu"].uncertainty_rel == 0.05
    assert overall == 0.0


# -- issue 12: results read as the summary `wattprint show` prints, and the quickstart shows the footprint ------


def _tracked_run(tmp_path, **kwargs):  # noqa: ANN001, ANN202
    import time

    import wattprint

    store = str(tmp_path / "runs.sqlite")
    with wattprint.track(project="demo", name="sgd", store=store, location="FR", powercap_root=str(tmp_path),
                         **kwargs) as run:
        for epoch in range(2):
            with run.task(f"epoch-{epoch}"):
                end = time.perf_counter() + 0.05
                while time.perf_counter() < end:
                    pass
    assert run.wait_saved(timeout=30)
    return run, store


def test_a_result_prints_as_wattprint_show_prints_it(tmp_path) -> None:  # noqa: ANN001
    from wattprint.report.summary import run_text
    from wattprint.store import open_store

    run, store = _tracked_run(tmp_path)
    result = run.result
    text = str(result)
    with open_store(store) as opened:
        record = opened.run(result.run_id)
        stored = run_text(record, opened.components(result.run_id), opened.tasks(result.run_id))
    assert text == stored
    assert f"run {result.run_id[:12]}" in text and "demo · sgd" in text
    assert "emissions" in text and "CO2e ±" in text and "France" in text and "argument" in text
    assert "tasks (2): epoch-0" in text
    assert len(text) < 1500 and "DeviceEnergy(" not in text


def test_repr_is_one_short_useful_line(tmp_path) -> None:  # noqa: ANN001
    run, _ = _tracked_run(tmp_path)
    result = run.result
    line = repr(result)
    assert "\n" not in line and len(line) < 200, line
    assert line.startswith("<RunResult ") and result.run_id[:12] in line and "CO2e" in line and "±" in line
    task = result.tasks[0]
    assert repr(task).startswith("<WindowResult name='epoch-0'") and len(repr(task)) < 200
    assert str(task).startswith("epoch-0 ") and "emissions" in str(task)


def test_show_gives_the_first_prediction_beside_the_last() -> None:
    """The early prediction is the one a user acted on: `show` compares it with the actual totals too."""
    from wattprint.api.records import RunExtra, RunRecord
    from wattprint.core.codec import from_dict
    from wattprint.report.summary import prediction_lines

    def prediction(after: int, kwh: float) -> dict:
        return {"unit": "epoch", "after": after, "total": 5, "level": 0.9, "energy_kwh": kwh,
                "energy_kwh_low": kwh * 0.8, "energy_kwh_high": kwh * 1.2, "emissions_g": None,
                "duration_s": 100.0, "duration_s_low": 90.0, "duration_s_high": 110.0}

    run = RunRecord(run_id="r" * 32, project=None, name=None, status="finished", started_at=0.0, updated_at=1.0,
                    ended_at=1.0, duration_s=100.0, energy_j=2.0 * 3.6e6, energy_uncertainty_rel=0.05,
                    attribution="process", hostname="h", username="u", pid=1, wattprint_version="0",
                    extra=from_dict(RunExtra, {"predictions": [prediction(1, 1.5), prediction(2, 1.8),
                                                               prediction(4, 1.95), prediction(5, 2.0)]},
                                    lenient=True))
    lines = prediction_lines(run)
    first = next(i for i, line in enumerate(lines) if "first predicted after epoch 1 of 5" in line)
    # 1.5 kWh predicted after epoch 1, 2 kWh actual: +33 %, outside 1.2-1.8 kWh
    assert "vs actual: 2 kWh (+33%, outside the interval)" in lines[first + 1]
    assert any("last predicted after epoch 4 of 5" in line for line in lines)
    assert any(line.startswith("  actual: 2 kWh (+3%, inside the interval)") for line in lines)
    # one prediction only: shown once
    single = RunRecord(**{**run.__dict__, "extra": from_dict(RunExtra, {"predictions": [prediction(1, 1.5)]},
                                                             lenient=True)})
    assert sum("predicted after" in line for line in prediction_lines(single)) == 1


def test_the_quickstart_shows_the_footprint_where_it_was_priced_and_stored(tmp_path) -> None:  # noqa: ANN001
    """The README's main command: energy ±, CO2e ±, the location and how it was decided with a hint to set it,
    where the run went and how to see it again."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[2] / "examples" / "quickstart.py"
    env = {k: v for k, v in os.environ.items() if not k.startswith("WATTPRINT_")}
    env["WATTPRINT_STORE"] = str(tmp_path / "runs.sqlite")
    env["XDG_CONFIG_HOME"] = str(tmp_path)  # no user config file places the machine
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300, env=env,
                          cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "epoch 2:" in out and "emissions" in out
    footprint = next(line for line in out.splitlines() if line.startswith("footprint:"))
    assert footprint.count("±") == 2 and "CO2e" in footprint
    assert "location: World" in out and "WATTPRINT_LOCATION=FR" in out and 'location="FR"' in out
    assert f"stored in {tmp_path / 'runs.sqlite'}" in out and "wattprint show last" in out
    assert "RunResult(" not in out
    env["WATTPRINT_LOCATION"] = "FR"
    located = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300, env=env,
                             cwd=tmp_path).stdout
    assert "location: France (FR); the location came from the configuration" in located


def test_show_lists_only_equivalents_that_read_as_something() -> None:
    from wattprint.report.summary import carbon_lines
    from wattprint.store.records import RunRecord

    def run(grams: float) -> RunRecord:
        return RunRecord(run_id="r" * 32, project=None, name=None, status="finished", started_at=0.0,
                         updated_at=1.0, ended_at=1.0, duration_s=1.0, energy_j=1.0, energy_uncertainty_rel=0.05,
                         attribution="process", hostname="h", username="u", pid=1, wattprint_version="0",
                         location="FR", how_located="argument", intensity_g_per_kwh=44.0, intensity_zone="FR",
                         intensity_source="Ember", intensity_year=2024, intensity_kind="average", pue=1.0,
                         facility_energy_j=1.0, emissions_g=grams, emissions_uncertainty_rel=0.1)

    # 5 g: 0.40 smartphone charges reads as something; 0.020 km by car does not
    (line,) = [x for x in carbon_lines(run(5.0)) if x.startswith("  ≈")]
    assert "0.4 smartphone charges" in line and "km" not in line
    assert not [x for x in carbon_lines(run(0.5)) if x.startswith("  ≈")]
