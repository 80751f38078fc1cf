"""PyTorch Lightning: ``Trainer(callbacks=[WattprintCallback(project="mnist")])``.

Starts a run at fit start, marks every training batch as a step and every training epoch as an epoch, logs
``wattprint/*`` metrics (energy and emissions so far, the predicted totals and their bounds) through
``LightningModule.log`` at the end of each training epoch (so they reach the trainer's loggers and
``trainer.callback_metrics``), stops the trainer gracefully when the budget policy says stop, and stores the
run when fitting ends. In a distributed fit every process tracks its part of one run group (docs/distributed.md):
each node's CPU and RAM once, each rank's own GPUs; a budget stop is agreed by all ranks. Imports Lightning
(``lightning.pytorch``, or the older ``pytorch_lightning``) when imported.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lightning.pytorch.callbacks import Callback
else:
    try:
        from lightning.pytorch.callbacks import Callback
    except ImportError:  # the standalone package
        from pytorch_lightning.callbacks import Callback

from wattprint.integrations._training import CallbackMixin, finite_count


class WattprintCallback(CallbackMixin, Callback):
    """Measure, predict and budget a Lightning training.

    ``hyperparameters`` (for the config fingerprint) default to the module's ``hparams`` (those saved with
    ``save_hyperparameters()``). ``unit``: ``epoch`` or ``step`` predictions (default: epochs when there are at
    least two, else steps). Other keyword arguments are those of :class:`wattprint.Tracker` (``budget_kwh``,
    ``budget_policy``, ``store``, ``location``, ...).
    """

    framework = "lightning"

    def on_fit_start(self, trainer: Any, pl_module: Any) -> None:
        total_epochs = finite_count(trainer.max_epochs)
        self.training.start(
            total_epochs=total_epochs,
            total_steps=None,  # known once the data is set up: on_train_start
            name=type(pl_module).__name__,
            framework_hyperparameters=lambda: dict(getattr(pl_module, "hparams", None) or {}),
            group=_group(trainer),
            experiments=lambda: _experiments(trainer),
        )

    def on_train_start(self, trainer: Any, pl_module: Any) -> None:
        if self.training.running:
            self.training.set_total_steps(_total_batches(trainer, finite_count(trainer.max_epochs)))

    def on_train_batch_end(self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int) -> None:
        if _agreed(trainer, self.training.tracker, self.training.step()):
            trainer.should_stop = True

    def on_train_epoch_end(self, trainer: Any, pl_module: Any) -> None:
        if not self.training.running:
            _agreed(trainer, None, False)  # every rank joins the same collectives
            return
        stop = _agreed(trainer, self.training.tracker, self.training.epoch_end())
        metrics = self.training.metrics() if trainer.is_global_zero else {}  # a part's figures: rank 0's logged
        if metrics:
            pl_module.log_dict(metrics, on_step=False, on_epoch=True, prog_bar=False, logger=True,
                               rank_zero_only=True)
        if stop:
            trainer.should_stop = True

    def on_fit_end(self, trainer: Any, pl_module: Any) -> None:
        self.training.stop("finished")

    def on_exception(self, trainer: Any, pl_module: Any, exception: BaseException) -> None:
        self.training.stop("killed" if isinstance(exception, KeyboardInterrupt) else "failed")

    def teardown(self, trainer: Any, pl_module: Any, stage: str) -> None:
        if stage == "fit":
            self.training.stop("finished")


def _total_batches(trainer: Any, total_epochs: int | None) -> int | None:
    """Training batches of the whole fit (what ``on_train_batch_end`` counts), when known."""
    try:
        per_epoch = finite_count(trainer.num_training_batches)
    except Exception:  # noqa: BLE001 - not set up yet
        per_epoch = None
    total = per_epoch * total_epochs if per_epoch is not None and total_epochs is not None else None
    max_steps = finite_count(getattr(trainer, "max_steps", None))
    if max_steps is not None:
        batches = max_steps * max(1, int(getattr(trainer, "accumulate_grad_batches", 1) or 1))
        total = batches if total is None else min(total, batches)
    return total


def _group(trainer: Any) -> Any:
    """The fit's run group (None for one process)."""
    from wattprint.integrations.distributed import framework_group

    return framework_group("lightning", rank=trainer.global_rank, local_rank=trainer.local_rank,
                           world_size=trainer.world_size, local_world_size=getattr(trainer, "num_devices", None),
                           node_rank=trainer.node_rank, node_count=trainer.num_nodes)


def _experiments(trainer: Any) -> list[Any]:
    """The MLflow and W&B runs of the trainer's loggers (rank 0's: the run group's figures are logged once)."""
    from wattprint.integrations._experiments import lightning_experiments

    return lightning_experiments(trainer) if trainer.is_global_zero else []


def _agreed(trainer: Any, tracker: Any, stop: bool) -> bool:
    """``stop`` on every rank when any rank's budget says stop, or the group's spending or predicted total
    exceeds the budget (one all_reduce over the strategy's process group; one process: as is)."""
    if getattr(trainer, "world_size", 1) <= 1:
        return stop
    from wattprint.integrations.distributed import group_decision

    return group_decision(tracker, stop)
