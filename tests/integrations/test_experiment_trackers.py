"""The framework callbacks log their run into the experiment trackers the training already logs to: a real
Lightning fit with an MLFlowLogger (a local SQLite tracking store: MLflow refuses file stores now), a real
transformers Trainer on a tiny random-weight model reporting to MLflow, and a Lightning fit with a WandbLogger in
offline mode; each read back with the tracker's own client or files. Runs of the process that are not the
callback's stay out."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

import wattprint
from tests.fakes.mlflow_store import history, tracking_store
from tests.fakes.wandb_log import read_run
from wattprint.core.units import J_PER_KWH


@pytest.fixture(scope="module")
def store_uri(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One SQLite tracking store for the module."""
    return tracking_store(tmp_path_factory.mktemp("mlflow"))


def lightning_fit(tmp_path: Path, logger: Any, max_epochs: int, **callback_kwargs: object) -> Any:
    import lightning.pytorch as pl
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    from wattprint.integrations.lightning import WattprintCallback

    class MLP(pl.LightningModule):
        def __init__(self) -> None:
            super().__init__()
            self.net = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 1))

        def training_step(self, batch: Any, batch_idx: int) -> Any:
            x, y = batch
            return torch.nn.functional.mse_loss(self.net(x), y)

        def configure_optimizers(self) -> Any:
            return torch.optim.SGD(self.parameters(), lr=0.05)

    torch.manual_seed(0)
    loader = DataLoader(TensorDataset(torch.randn(256, 8), torch.randn(256, 1)), batch_size=32)
    callback = WattprintCallback(project="lightning", **callback_kwargs)
    trainer = pl.Trainer(max_epochs=max_epochs, callbacks=[callback], logger=logger, accelerator="cpu", devices=1,
                         enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
                         log_every_n_steps=1)
    trainer.fit(MLP(), loader)
    return callback


def test_lightning_with_an_mlflow_logger_logs_the_run_there(tmp_path: Path, model_only: dict[str, object],
                                                            store_uri: str) -> None:
    from lightning.pytorch.loggers import MLFlowLogger
    from mlflow.tracking import MlflowClient

    uri = store_uri
    logger = MLFlowLogger(experiment_name="fit", tracking_uri=uri)
    with wattprint.Tracker(store="off", flush_interval_s=0.1, **model_only) as other:  # another run of the process
        callback = lightning_fit(tmp_path, logger, 3, store="off", flush_interval_s=0.1, location="FR", **model_only)
        time.sleep(0.2)
    result = callback.result
    assert result is not None and result.predictions
    run = MlflowClient(uri).get_run(logger.run_id)
    metrics, tags = run.data.metrics, run.data.tags
    # the exporter's figures, the run's final totals
    assert metrics["wattprint.energy_kwh"] == pytest.approx(result.energy_kwh, rel=1e-9)
    assert result.emissions_g is not None
    assert metrics["wattprint.emissions_g"] == pytest.approx(result.emissions_g, rel=1e-9)
    client = MlflowClient(uri)
    epochs = history(client, logger.run_id, "wattprint.epoch.energy_kwh")
    assert [step for step, _ in epochs] == [1, 2, 3]
    assert sum(kwh for _, kwh in epochs) == pytest.approx(sum(t.energy_j for t in result.tasks) / J_PER_KWH)
    predicted = history(client, logger.run_id, "wattprint.predicted_energy_kwh")
    assert [step for step, _ in predicted] == [p.after for p in result.predictions]
    assert tags["wattprint.run_id"] == result.run_id and tags["wattprint.status"] == "finished"
    assert tags["wattprint.method"] == "cpu=model, ram=model" and tags["wattprint.location"] == "FR"
    # the callback's own per-epoch metrics, through the logger
    assert len(history(client, logger.run_id, "wattprint/energy_kwh")) == 3
    assert other.run_id not in {t for t in tags.values()}  # the other run of the process stays out
    assert [a.path for a in client.list_artifacts(logger.run_id, "wattprint")] == [
        f"wattprint/wattprint-MLP-{result.run_id[:8]}.html"]  # the run's HTML report


def test_a_transformers_trainer_reporting_to_mlflow_logs_the_run_there(
        tmp_path: Path, model_only: dict[str, object], monkeypatch: pytest.MonkeyPatch, store_uri: str) -> None:
    import mlflow
    import torch
    import transformers
    from mlflow.tracking import MlflowClient

    from wattprint.integrations.transformers import WattprintCallback

    uri = store_uri
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", "bert")
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(uri)
    torch.manual_seed(0)
    config = transformers.BertConfig(vocab_size=64, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                                     intermediate_size=32, max_position_embeddings=32, num_labels=2)
    model = transformers.BertForSequenceClassification(config)  # built from a config: nothing downloaded
    dataset = [{"input_ids": torch.randint(0, 64, (12,)), "attention_mask": torch.ones(12, dtype=torch.long),
                "labels": torch.tensor(i % 2)} for i in range(32)]
    arguments = transformers.TrainingArguments(
        output_dir=str(tmp_path / "out"), num_train_epochs=2, per_device_train_batch_size=8, logging_steps=1,
        report_to=["mlflow"], use_cpu=True, save_strategy="no", disable_tqdm=True, dataloader_pin_memory=False)
    callback = WattprintCallback(project="bert", store="off", flush_interval_s=0.1, location="FR", **model_only)
    trainer = transformers.Trainer(model=model, args=arguments, train_dataset=dataset, callbacks=[callback])
    try:
        trainer.train()
        (run,) = MlflowClient(uri).search_runs([MlflowClient(uri).get_experiment_by_name("bert").experiment_id])
    finally:
        if mlflow.active_run() is not None:
            mlflow.end_run()
        mlflow.set_tracking_uri(previous)
    result = callback.result
    assert result is not None and result.status == "finished"
    metrics, tags = run.data.metrics, run.data.tags
    assert metrics["wattprint.energy_kwh"] == pytest.approx(result.energy_kwh, rel=1e-9)
    assert tags["wattprint.run_id"] == result.run_id and tags["wattprint.method"] == "cpu=model, ram=model"
    assert len(history(MlflowClient(uri), run.info.run_id, "wattprint.energy_kwh")) >= 2  # the total as it grew
    epochs = history(MlflowClient(uri), run.info.run_id, "wattprint.epoch.energy_kwh")
    assert [step for step, _ in epochs] == [1, 2]


def test_lightning_with_a_wandb_logger_logs_the_run_there(tmp_path: Path, model_only: dict[str, object],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from lightning.pytorch.loggers import WandbLogger

    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_DIR", str(tmp_path))
    monkeypatch.setenv("WANDB_SILENT", "true")
    monkeypatch.setenv("WANDB_CONFIG_DIR", str(tmp_path / "wandb-config"))
    logger = WandbLogger(project="fit", save_dir=str(tmp_path))
    try:
        callback = lightning_fit(tmp_path, logger, 2, store="off", flush_interval_s=0.1, location="FR", **model_only)
    finally:
        experiment = logger.experiment
        experiment.finish()
    result = callback.result
    assert result is not None
    logged = read_run(Path(experiment.dir).parent)
    assert logged.summary["wattprint/energy_kwh"] == pytest.approx(result.energy_kwh, rel=1e-9)
    assert logged.config["wattprint"]["run_id"] == result.run_id
    assert logged.config["wattprint"]["method"] == "cpu=model, ram=model"
    assert [row["wattprint/epoch"] for row in logged.history if "wattprint/epoch" in row] == [1, 2]
