"""Weights & Biases: tracked runs logged in offline mode (the real wandb package and its service), read back from
the run's own transaction log: into a run the sink starts and finishes, into the user's active run beside its own
rows, and through the ``exporters`` setting."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import wandb

import wattprint
from tests.fakes.fake_nvml import FakeNvml
from tests.fakes.wait import wait_for
from tests.fakes.wandb_log import OfflineRun, read_run
from wattprint import sinks
from wattprint.core.units import J_PER_KWH
from wattprint.exporters.wandb import WandbSink
from wattprint.run import exporters


@pytest.fixture(autouse=True)
def offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """W&B offline, writing under the test's directory, quiet, with nothing of the developer's."""
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_DIR", str(tmp_path))
    monkeypatch.setenv("WANDB_SILENT", "true")
    monkeypatch.setenv("WANDB_CONFIG_DIR", str(tmp_path / "wandb-config"))
    monkeypatch.delenv("WANDB_PROJECT", raising=False)
    monkeypatch.delenv("WANDB_RUN_ID", raising=False)
    yield tmp_path
    exporters.detach_all()
    if wandb.run is not None:
        wandb.run.finish()


def offline_run(run: object) -> OfflineRun:
    """What a finished W&B run wrote, read back from its offline directory."""
    return read_run(Path(run.dir).parent)  # type: ignore[attr-defined]


def column(history: list[dict[str, object]], key: str) -> list[object]:
    return [row[key] for row in history if key in row]


def test_a_run_the_sink_starts_holds_energy_epochs_predictions_and_how(
        tmp_path: Path, no_rapl: str, nvml: FakeNvml) -> None:
    sink = sinks.attach(WandbSink(project="energy", dir=str(tmp_path), close_timeout_s=60))  # waits for the report
    try:
        with wattprint.Tracker(nvml=nvml, powercap_root=no_rapl, store="off", flush_interval_s=0.1, interval_s=0.05,
                               location="FR", project="exp", name="train", total_epochs=3) as run:
            for _ in range(3):
                with run.epoch():
                    time.sleep(0.15)
                # a flush of the running run, with its power, has reached the sink
                wait_for(lambda: any(d.power_w for d in sink.totals.figures().devices), "a flush with power")
        assert run.wait_saved(timeout=30)
    finally:
        sinks.detach(sink)
    result = run.result
    assert result is not None and result.predictions
    started = sink.wandb_run(result.run_id)
    assert started is not None and started.name == "train" and started.project == "energy"
    logged = offline_run(started)
    summary = logged.summary
    assert summary["wattprint/energy_kwh"] == pytest.approx(result.energy_kwh, rel=1e-9)
    assert result.emissions_g is not None
    assert summary["wattprint/emissions_g"] == pytest.approx(result.emissions_g, rel=1e-9)
    assert summary["wattprint/status"] == "finished"
    gpu_j = sum(d.energy_j for d in result.devices if d.component == "gpu")
    assert summary["wattprint/component/gpu/energy_kwh"] == pytest.approx(gpu_j / J_PER_KWH, rel=1e-9)
    energy = column(logged.history, "wattprint/energy_kwh")
    assert len(energy) >= 3 and energy == sorted(energy)  # the total as it grew, flush after flush
    assert energy[-1] == pytest.approx(result.energy_kwh, rel=1e-9)
    assert column(logged.history, "wattprint/flush") == list(range(1, len(energy) + 1))
    power = column(logged.history, "wattprint/power_w")
    assert power and all(watts > 150 for watts in power)  # two GPUs at 120 W and 80 W, and the CPU model
    epochs = [row for row in logged.history if "wattprint/epoch" in row]
    assert [row["wattprint/epoch"] for row in epochs] == [1, 2, 3]
    assert all(row["wattprint/epoch/energy_kwh"] > 0 for row in epochs)
    predicted = [row for row in logged.history if "wattprint/predicted_after" in row]
    assert [row["wattprint/predicted_after"] for row in predicted] == [p.after for p in result.predictions]
    assert all(row["wattprint/predicted/energy_kwh_low"] <= row["wattprint/predicted/energy_kwh"]
                             <= row["wattprint/predicted/energy_kwh_high"] for row in predicted)
    config = logged.config["wattprint"]
    assert config["run_id"] == result.run_id
    assert config["method"] == "cpu=model, gpu=counter, ram=model"
    assert config["location"] == "FR" and config["intensity_zone"] == "FR" and config["pue"] > 1
    assert sorted(config["devices"]) == sorted(f"{d.device} ({d.component}, {d.method})" for d in result.devices)
    (report,) = logged.artifacts  # the run's HTML report, once it ended
    assert report == (f"wattprint-train-{result.run_id[:8]}", "report", [f"wattprint-train-{result.run_id[:8]}.html"])


def test_into_the_active_run_beside_its_own_rows(tmp_path: Path, no_rapl: str) -> None:
    active = wandb.init(project="mine", dir=str(tmp_path))
    active.log({"loss": 1.0})
    sink = sinks.attach(WandbSink())  # the active run, made here
    try:
        with wattprint.Tracker(powercap_root=no_rapl, gpus=False, location="FR", flush_interval_s=0.1,
                               store="off") as run:
            time.sleep(0.3)
        assert run.wait_saved(timeout=30)
    finally:
        sinks.detach(sink)
    active.log({"loss": 0.5})
    active.finish()
    result = run.result
    assert result is not None and sink.wandb_run(result.run_id) is active
    logged = offline_run(active)
    assert column(logged.history, "loss") == [1, 0.5]  # the user's rows untouched
    assert not [row for row in logged.history if "loss" in row and any(key.startswith("wattprint/") for key in row)]
    assert column(logged.history, "wattprint/flush")[-1] >= 2  # wattprint's rows of their own, on their own axis
    assert logged.summary["wattprint/energy_kwh"] == pytest.approx(result.energy_kwh, rel=1e-9)
    assert logged.config["wattprint"]["method"] == "cpu=model, ram=model"


def test_the_exporters_setting_follows_the_run_active_where_the_tracker_starts(tmp_path: Path, no_rapl: str) -> None:
    options = dict(powercap_root=no_rapl, gpus=False, location="FR", flush_interval_s=0.1, store="off",
                   exporters=["wandb"])
    active = wandb.init(project="mine", dir=str(tmp_path))
    with wattprint.Tracker(**options) as first:
        time.sleep(0.2)
    assert first.wait_saved(timeout=30)
    (sink,) = exporters.attached_exporters()
    assert isinstance(sink, WandbSink)
    exporters.detach_all()  # closed: what is queued is sent
    active.finish()
    assert offline_run(active).summary["wattprint/energy_kwh"] > 0
    with wattprint.Tracker(**options, wandb_project="energy") as second:  # no active run: one of its own
        time.sleep(0.2)
    assert second.wait_saved(timeout=30)
    own = exporters.attached_exporters()[-1]
    assert isinstance(own, WandbSink)
    started = wait_for(lambda: own.wandb_run(second.run_id), "the W&B run the exporter starts")
    assert started.project == "energy"
