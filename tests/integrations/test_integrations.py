"""Framework callbacks in real, tiny trainings on the CPU: Lightning, transformers and Keras (torch backend)."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from wattprint.store import open_store

TINY_KWH = 1e-12


def test_the_package_imports_no_framework() -> None:
    code = ("import sys, wattprint.integrations, wattprint.integrations._training\n"
            "loaded = [m for m in ('torch', 'lightning', 'pytorch_lightning', 'transformers', 'keras') "
            "if m in sys.modules]\n"
            "assert not loaded, loaded\n")
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)


def test_callbacks_refuse_bad_arguments_before_training(model_only: dict[str, object]) -> None:
    pytest.importorskip("lightning")
    from wattprint.core.errors import ConfigError
    from wattprint.integrations.lightning import WattprintCallback

    with pytest.raises(ConfigError, match="unit"):
        WattprintCallback(unit="batch", **model_only)
    with pytest.raises(ConfigError, match="total_epochs"):
        WattprintCallback(total_epochs=3, **model_only)
    with pytest.raises(ConfigError, match="budget_policy"):
        WattprintCallback(budget_policy="halt", **model_only)


def test_callbacks_pass_settings_and_hardware_to_the_tracker_and_name_a_misspelt_keyword(
    model_only: dict[str, object],
) -> None:
    from tests.fakes.fake_nvml import FakeGpu, FakeNvml
    from wattprint.core.errors import ConfigError
    from wattprint.integrations._training import TrackedTraining
    from wattprint.run.options import Hardware
    from wattprint.settings.typed import load_settings

    settings = load_settings({"store": "off", "budget_kwh": 1.0, **model_only}, environ={}, user_config=os.devnull)
    hardware = Hardware(nvml=FakeNvml([FakeGpu(power_w=50.0)]))
    training = TrackedTraining("demo", "p", None, None, None, True, {"settings": settings, "hardware": hardware,
                                                                     "pue": 1.2})
    tracker = training.start(total_epochs=2, total_steps=None)
    try:
        assert tracker.settings == settings.with_arguments({"pue": 1.2, "project": "p"})
        assert tracker.hardware is hardware
        assert tracker.total_epochs == 2 and tracker.budget.energy_kwh == 1.0
    finally:
        training.stop()
    with pytest.raises(ConfigError, match=r"unknown keyword argument 'budget_kw' \(did you mean 'budget_kwh'\?\)"):
        TrackedTraining("demo", "p", None, None, None, True, {"budget_kw": 1.0, **model_only})


# -- PyTorch Lightning ---------------------------------------------------------------------------------------------


def lightning_fit(tmp_path: Path, max_epochs: int, **callback_kwargs: object):  # noqa: ANN201
    torch = pytest.importorskip("torch")
    pl = pytest.importorskip("lightning.pytorch")
    from lightning.pytorch.loggers import CSVLogger
    from torch.utils.data import DataLoader, TensorDataset

    from wattprint.integrations.lightning import WattprintCallback

    class MLP(pl.LightningModule):
        def __init__(self, hidden: int = 16, lr: float = 0.05) -> None:
            super().__init__()
            self.save_hyperparameters()
            self.net = torch.nn.Sequential(torch.nn.Linear(8, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 1))

        def training_step(self, batch, batch_idx):  # noqa: ANN001, ANN201
            x, y = batch
            loss = torch.nn.functional.mse_loss(self.net(x), y)
            self.log("train_loss", loss)
            return loss

        def configure_optimizers(self):  # noqa: ANN201
            return torch.optim.SGD(self.parameters(), lr=self.hparams.lr)

    torch.manual_seed(0)
    loader = DataLoader(TensorDataset(torch.randn(256, 8), torch.randn(256, 1)), batch_size=32)
    callback = WattprintCallback(project="lightning", **callback_kwargs)
    trainer = pl.Trainer(
        max_epochs=max_epochs, callbacks=[callback], logger=CSVLogger(str(tmp_path), name="logs"),
        accelerator="cpu", devices=1, enable_checkpointing=False, enable_progress_bar=False,
        enable_model_summary=False, log_every_n_steps=1,
    )
    trainer.fit(MLP(), loader)
    return trainer, callback


def test_lightning_training_is_tracked_predicted_logged_and_stored(
    tmp_path: Path, model_only: dict[str, object]
) -> None:
    store = str(tmp_path / "runs.sqlite")
    trainer, callback = lightning_fit(tmp_path, 3, store=store, **model_only)
    run = callback.run
    assert run is not None and not run.running
    result = callback.result
    assert result.status == "finished" and result.name == "MLP" and result.project == "lightning"
    assert [t.name for t in result.tasks] == ["epoch-1", "epoch-2", "epoch-3"]
    assert [p.after_epochs for p in run.predictions] == [1, 2, 3]
    assert all(p.total == 3 for p in run.predictions)
    # the metrics reached Lightning: callback_metrics and the CSV logger
    metrics = trainer.callback_metrics
    for name in ("wattprint/energy_kwh", "wattprint/emissions_g", "wattprint/predicted_energy_kwh",
                 "wattprint/predicted_energy_kwh_high"):
        assert name in metrics
    assert float(metrics["wattprint/predicted_energy_kwh"]) == pytest.approx(run.predictions[-1].energy_kwh)
    with open(Path(trainer.logger.log_dir) / "metrics.csv", newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if row.get("wattprint/energy_kwh")]
    assert len(rows) == 3
    assert float(rows[-1]["wattprint/predicted_energy_kwh"]) > 0
    # stored, with the module's hyperparameters in the fingerprint
    assert run.wait_saved()
    with open_store(store) as opened:
        record = opened.run(run.run_id)
        assert record.status == "finished" and len(record.details.predictions) == 3
        assert record.config_fingerprint == run.config_fingerprint is not None
        assert record.details.fingerprint is not None
        assert record.details.fingerprint.hyperparameters == {"hidden": 16, "lr": 0.05}
        assert [t.name for t in opened.tasks(run.run_id)] == ["epoch-1", "epoch-2", "epoch-3"]


def test_lightning_one_epoch_predicts_per_step(tmp_path: Path, model_only: dict[str, object]) -> None:
    _, callback = lightning_fit(tmp_path, 1, store="off", predict_every_steps=2, **model_only)
    predictions = callback.run.predictions
    assert [p.after_steps for p in predictions] == [2, 4, 6, 8]
    assert {p.unit for p in predictions} == {"step"} and predictions[0].total == 8


def test_lightning_budget_stop_ends_training_gracefully(tmp_path: Path, model_only: dict[str, object]) -> None:
    trainer, callback = lightning_fit(
        tmp_path, 10, store="off", budget_kwh=TINY_KWH, budget_policy="stop", **model_only
    )
    assert trainer.current_epoch == 1  # stopped after the first epoch's prediction, not after ten
    result = callback.result
    assert result.status == "finished" and callback.run.should_stop
    assert any("stopped by the budget policy 'stop'" in note for note in result.notes)


# -- Hugging Face transformers -------------------------------------------------------------------------------------


def transformers_train(tmp_path: Path, epochs: int, **callback_kwargs: object):  # noqa: ANN201
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    from wattprint.integrations.transformers import WattprintCallback

    torch.manual_seed(0)
    config = transformers.BertConfig(
        vocab_size=64, hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32,
        max_position_embeddings=32, num_labels=2,
    )
    model = transformers.BertForSequenceClassification(config)  # built from a config: nothing downloaded
    dataset = [
        {"input_ids": torch.randint(0, 64, (12,)), "attention_mask": torch.ones(12, dtype=torch.long),
         "labels": torch.tensor(i % 2)}
        for i in range(32)
    ]
    arguments = transformers.TrainingArguments(
        output_dir=str(tmp_path / "out"), num_train_epochs=epochs, per_device_train_batch_size=8,
        logging_steps=1, report_to=[], use_cpu=True, save_strategy="no", disable_tqdm=True,
        dataloader_pin_memory=False,
    )
    callback = WattprintCallback(project="bert", **callback_kwargs)
    trainer = transformers.Trainer(model=model, args=arguments, train_dataset=dataset, callbacks=[callback])
    trainer.train()
    return trainer, callback


def test_transformers_training_is_tracked_predicted_logged_and_stored(
    tmp_path: Path, model_only: dict[str, object]
) -> None:
    store = str(tmp_path / "runs.sqlite")
    trainer, callback = transformers_train(tmp_path, 3, store=store, **model_only)
    run = callback.run
    result = callback.result
    assert result.status == "finished" and result.name == "BertForSequenceClassification"
    assert [p.after_epochs for p in run.predictions] == [1, 2, 3]
    assert [t.name for t in result.tasks] == ["epoch-1", "epoch-2", "epoch-3"]
    logged = [entry for entry in trainer.state.log_history if "wattprint/energy_kwh" in entry]
    assert len(logged) >= 12  # every logging step (12 optimizer steps)
    assert any("wattprint/predicted_energy_kwh" in entry for entry in logged)
    assert run.wait_saved()
    with open_store(store) as opened:
        record = opened.run(run.run_id)
    assert len(record.details.predictions) == 3
    assert record.details.fingerprint is not None
    hyperparameters = record.details.fingerprint.hyperparameters
    assert hyperparameters["training"]["num_train_epochs"] == 3
    assert "output_dir" not in hyperparameters["training"]
    assert hyperparameters["model"]["config"]["hidden_size"] == 16


def test_transformers_budget_stop_ends_training_gracefully(tmp_path: Path, model_only: dict[str, object]) -> None:
    trainer, callback = transformers_train(
        tmp_path, 5, store="off", budget_kwh=TINY_KWH, budget_policy="stop", **model_only
    )
    assert trainer.state.global_step == 4  # one epoch of four steps, not twenty
    assert callback.run.should_stop and callback.result.status == "finished"


# -- Keras 3 on the torch backend (a process of its own: the backend is chosen before keras is imported) -----------

KERAS_SCRIPT = """
import json, os, sys
os.environ["KERAS_BACKEND"] = "torch"
import numpy as np
import keras
from wattprint.integrations.keras import WattprintCallback

epochs, store, powercap_root, extra = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
keras.utils.set_random_seed(0)
model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16, activation="relu"), keras.layers.Dense(1)],
                         name="tiny")
model.compile(optimizer="sgd", loss="mse")
x, y = np.random.rand(256, 8).astype("float32"), np.random.rand(256, 1).astype("float32")
callback = WattprintCallback(project="keras", store=store, powercap_root=powercap_root, gpus=False,
                             hyperparameters={"hidden": 16, "optimizer": "sgd"}, **extra)
history = model.fit(x, y, epochs=int(epochs), batch_size=32, callbacks=[callback], verbose=0)
run = callback.run
run.wait_saved()
print(json.dumps({
    "backend": keras.backend.backend(),
    "history": {key: [float(v) for v in values] for key, values in history.history.items()},
    "epochs_run": len(history.epoch),
    "status": run.result.status,
    "run_id": run.run_id,
    "fingerprint": run.config_fingerprint,
    "predictions": [p.after_epochs for p in run.predictions],
    "tasks": [t.name for t in run.result.tasks],
    "should_stop": run.should_stop,
}))
"""


def keras_fit(tmp_path: Path, no_rapl: str, epochs: int, store: str, **extra: object) -> dict:
    import importlib.util

    if importlib.util.find_spec("keras") is None or importlib.util.find_spec("torch") is None:
        pytest.skip("keras and torch are needed")  # not imported here: the backend must be chosen first
    script = tmp_path / "keras_fit.py"
    script.write_text(textwrap.dedent(KERAS_SCRIPT))
    completed = subprocess.run(
        [sys.executable, str(script), str(epochs), store, no_rapl, json.dumps(extra)],
        capture_output=True, text=True, timeout=300, env={**os.environ, "KERAS_BACKEND": "torch"},
    )
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout.strip().splitlines()[-1])


def test_keras_training_is_tracked_predicted_logged_and_stored(tmp_path: Path, no_rapl: str) -> None:
    store = str(tmp_path / "runs.sqlite")
    outcome = keras_fit(tmp_path, no_rapl, 3, store)
    assert outcome["backend"] == "torch" and outcome["status"] == "finished"
    assert outcome["predictions"] == [1, 2, 3]
    assert outcome["tasks"] == ["epoch-1", "epoch-2", "epoch-3"]
    history = outcome["history"]
    assert len(history["loss"]) == 3
    assert len(history["wattprint/energy_kwh"]) == 3 and len(history["wattprint/predicted_energy_kwh"]) == 3
    assert history["wattprint/energy_kwh"][2] > history["wattprint/energy_kwh"][0] > 0
    with open_store(store) as opened:
        record = opened.run(outcome["run_id"])
    assert record.config_fingerprint == outcome["fingerprint"] is not None
    assert len(record.details.predictions) == 3


def test_keras_budget_stop_ends_training_gracefully(tmp_path: Path, no_rapl: str) -> None:
    outcome = keras_fit(tmp_path, no_rapl, 10, "off", budget_kwh=TINY_KWH, budget_policy="stop")
    assert outcome["epochs_run"] == 1 and outcome["should_stop"] and outcome["status"] == "finished"
