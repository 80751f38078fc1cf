"""MLflow: tracked runs logged into a real local tracking store and read back with MlflowClient: into the active
run, and into runs the sink starts and ends itself; epochs, predictions and how the figures were obtained."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import mlflow
import pytest
from mlflow.tracking import MlflowClient

import wattprint
from tests.fakes.fake_nvml import FakeNvml
from tests.fakes.mlflow_store import history, tracking_store
from wattprint import sinks
from wattprint.core.results import RunResult
from wattprint.core.units import J_PER_KWH
from wattprint.exporters.mlflow import MlflowSink


@pytest.fixture(scope="module")
def store_uri(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One SQLite tracking store for the module."""
    return tracking_store(tmp_path_factory.mktemp("mlflow"))


@pytest.fixture
def tracking(store_uri: str) -> Iterator[str]:
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(store_uri)
    yield store_uri
    mlflow.set_tracking_uri(previous)


def test_a_run_is_logged_into_the_active_mlflow_run(tracking: str, tracked: Callable[..., RunResult],
                                                     tmp_path: Path) -> None:
    with mlflow.start_run(run_name="training") as active:
        # made where the MLflow run is active, though it logs from another thread; closing waits for the report
        sink = sinks.attach(MlflowSink(close_timeout_s=60))
        try:
            result = tracked(epochs=3)
        finally:
            sinks.detach(sink)
        client = MlflowClient(tracking)
        run = client.get_run(active.info.run_id)
    metrics, tags = run.data.metrics, run.data.tags
    assert metrics["wattprint.energy_kwh"] == pytest.approx(result.energy_kwh, rel=1e-9)
    assert result.emissions_g is not None
    assert metrics["wattprint.emissions_g"] == pytest.approx(result.emissions_g, rel=1e-9)
    assert metrics["wattprint.gpu.energy_kwh"] == pytest.approx(
        sum(d.energy_j for d in result.devices if d.component == "gpu") / J_PER_KWH, rel=1e-9)
    energy = [value for _, value in history(client, active.info.run_id, "wattprint.energy_kwh")]
    assert len(energy) >= 3 and energy == sorted(energy)  # the total as it grew, flush after flush
    power = history(client, active.info.run_id, "wattprint.power_w")
    assert power and all(watts > 150 for _, watts in power)  # two GPUs at 120 W and 80 W, and the CPU model
    epochs = history(client, active.info.run_id, "wattprint.epoch.energy_kwh")
    assert [step for step, _ in epochs] == [0, 1, 2]  # tracked() names its windows epoch-0, epoch-1, ...
    for (_, kwh), task in zip(epochs, result.tasks, strict=True):
        assert kwh == pytest.approx(task.energy_j / J_PER_KWH, rel=1e-9)
    assert tags["wattprint.run_id"] == result.run_id and tags["wattprint.status"] == "finished"
    assert tags["wattprint.method"] == "cpu=model, gpu=counter, ram=model"
    assert float(tags["wattprint.energy_uncertainty_rel"]) == pytest.approx(result.uncertainty_rel, rel=1e-3)
    assert tags["wattprint.intensity_zone"] == "FR" and tags["wattprint.location"]
    assert run.info.status == "RUNNING"  # the user's run: the sink leaves it to them until mlflow.end_run()
    (report,) = client.list_artifacts(active.info.run_id, "wattprint")  # the run's HTML report, once it ended
    assert report.path == f"wattprint/wattprint-train-{result.run_id[:8]}.html"
    html = Path(client.download_artifacts(active.info.run_id, report.path, str(tmp_path))).read_text()
    assert html.lstrip().lower().startswith("<!doctype html") and result.run_id[:8] in html


def test_without_an_active_run_each_run_gets_its_own_ended_with_its_status(
        tracking: str, tmp_path: Path, no_rapl: str, nvml: FakeNvml) -> None:
    sink = sinks.attach(MlflowSink(experiment="energy"))
    try:
        with wattprint.Tracker(nvml=nvml, powercap_root=no_rapl, store=f"sqlite:///{tmp_path / 'r.sqlite'}",
                               flush_interval_s=0.1, location="FR", name="fit", total_epochs=3) as run:
            for _ in range(3):
                with run.epoch():
                    time.sleep(0.15)
        assert run.wait_saved(timeout=30)
        with pytest.raises(RuntimeError):
            with wattprint.Tracker(powercap_root=no_rapl, gpus=False, store=f"sqlite:///{tmp_path / 'r.sqlite'}",
                                   name="broken") as failed:
                raise RuntimeError("the training failed")
        assert failed.wait_saved(timeout=30)
    finally:
        sinks.detach(sink)
    result = run.result
    assert result is not None and result.predictions
    client = MlflowClient(tracking)
    experiment = client.get_experiment_by_name("energy")
    assert experiment is not None
    fit_id, broken_id = sink.mlflow_run_id(result.run_id), sink.mlflow_run_id(failed.run_id or "")
    assert fit_id and broken_id and fit_id != broken_id
    fit, broken = client.get_run(fit_id), client.get_run(broken_id)
    assert fit.info.experiment_id == broken.info.experiment_id == experiment.experiment_id
    assert (fit.info.run_name, fit.info.status) == ("fit", "FINISHED")
    assert (broken.info.run_name, broken.info.status) == ("broken", "FAILED")
    assert fit.data.metrics["wattprint.energy_kwh"] == pytest.approx(result.energy_kwh, rel=1e-9)
    assert [step for step, _ in history(client, fit_id, "wattprint.epoch.energy_kwh")] == [1, 2, 3]
    predicted = history(client, fit_id, "wattprint.predicted_energy_kwh")
    assert [step for step, _ in predicted] == [p.after for p in result.predictions]
    for (_, kwh), prediction in zip(predicted, result.predictions, strict=True):
        assert kwh == pytest.approx(prediction.energy_kwh, rel=1e-9)
    low = dict(history(client, fit_id, "wattprint.predicted_energy_kwh_low"))
    high = dict(history(client, fit_id, "wattprint.predicted_energy_kwh_high"))
    assert all(low[step] <= kwh <= high[step] for step, kwh in predicted)


def test_an_unreachable_tracking_server_stops_nothing(tracked: Callable[..., RunResult], tmp_path: Path,
                                                      caplog: pytest.LogCaptureFixture,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from wattprint.exporters.prometheus import TextfileSink

    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")  # MLflow's own knob: fail at once, not in minutes

    down = sinks.attach(MlflowSink(run_id="0" * 32, tracking_uri="http://127.0.0.1:9"))  # port 9: discard
    textfile = sinks.attach(TextfileSink(tmp_path / "wattprint.prom"))
    try:
        result = tracked(epochs=1)
    finally:
        sinks.detach(down)
        sinks.detach(textfile)
    assert result.status == "finished" and (tmp_path / "wattprint.prom").read_text()
    messages: list[Any] = [r.getMessage() for r in caplog.records if "mlflow sink" in r.getMessage()]
    assert len(messages) == 1 and "could not write a run" in messages[0]
