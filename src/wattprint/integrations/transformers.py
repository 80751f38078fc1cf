"""Hugging Face transformers: ``Trainer(..., callbacks=[WattprintCallback(project="bert")])``.

Starts a run when training begins, marks every optimizer step and epoch, adds ``wattprint/*`` metrics (energy and
emissions so far, the predicted totals and their bounds) to every log the Trainer writes (its ``logs`` dict, so
the reporting integrations see them, and ``state.log_history``), sets ``control.should_training_stop`` when the
budget policy says stop, and stores the run when training ends. In a distributed training every process tracks
its part of one run group (docs/distributed.md), and a budget stop is agreed by all ranks. Imports
``transformers`` when imported. The Trainer has no hook for a failed training: call ``callback.stop("failed")``
in your ``except`` block if you catch the error and go on.
"""

from __future__ import annotations

from typing import Any

from transformers import TrainerCallback

from wattprint.integrations._training import CallbackMixin, finite_count

_RUN_SPECIFIC = ("dir", "token", "hub", "report_to", "run_name", "logging", "save", "rank", "device", "tqdm",
                 "overwrite", "resume", "push_to", "eval_on_start")
"""Training arguments whose words mark them as about where and how a run reports, not what it trains."""


class WattprintCallback(CallbackMixin, TrainerCallback):
    """Measure, predict and budget a ``transformers`` Trainer training.

    ``hyperparameters`` (for the config fingerprint) default to the training arguments that shape the result
    (output, logging, saving and hub settings left out) and the model's config. ``unit``: ``epoch`` or ``step``
    predictions (default: epochs when there are at least two, else optimizer steps). Other keyword arguments are
    those of :class:`wattprint.Tracker`.
    """

    framework = "transformers"

    def on_train_begin(self, args: Any, state: Any, control: Any, model: Any = None, **kwargs: Any) -> None:
        done_epochs = int(state.epoch or 0)
        total_epochs = finite_count(state.num_train_epochs)
        if total_epochs is not None and total_epochs >= 1 << 40:  # max_steps given: epochs are unbounded
            total_epochs = None
        if total_epochs is not None:
            total_epochs = finite_count(total_epochs - done_epochs)
        total_steps = finite_count((state.max_steps or 0) - (state.global_step or 0))
        self.training.start(
            total_epochs=total_epochs,
            total_steps=total_steps,
            name=type(model).__name__ if model is not None else None,
            framework_hyperparameters=lambda: _hyperparameters(args, model),
            group=_group(args),
            experiments=lambda: _experiments(args, state),
        )

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if _agreed(args, self.training.tracker, self.training.step()):
            control.should_training_stop = True

    def on_epoch_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if _agreed(args, self.training.tracker, self.training.epoch_end()):
            control.should_training_stop = True

    def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None, **kwargs: Any) -> None:
        metrics = self.training.metrics() if state.is_world_process_zero else {}  # rank 0's part is logged
        if not metrics:
            return
        if logs is not None:
            logs.update(metrics)
        history = getattr(state, "log_history", None)
        if history and history[-1].get("step") == state.global_step:  # the Trainer appended a copy of `logs`
            history[-1].update(metrics)

    def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self.training.stop("finished")


def _hyperparameters(args: Any, model: Any) -> dict[str, Any]:
    training = {
        key: value
        for key, value in args.to_dict().items()
        if not any(word in key for word in _RUN_SPECIFIC)
    }
    found: dict[str, Any] = {"training": training}
    config = getattr(model, "config", None)
    if config is not None and hasattr(config, "to_diff_dict"):
        found["model"] = {"class": type(model).__name__, "config": config.to_diff_dict()}
    return found


def _group(args: Any) -> Any:
    """The training's run group (None for one process)."""
    from wattprint.integrations.distributed import framework_group

    world = int(getattr(args, "world_size", 1) or 1)
    return framework_group("transformers", rank=int(getattr(args, "process_index", 0) or 0),
                           local_rank=getattr(args, "local_process_index", None), world_size=world)


def _experiments(args: Any, state: Any) -> list[Any]:
    """The MLflow and W&B runs the Trainer reports to (rank 0's: the run group's figures are logged once)."""
    from wattprint.integrations._experiments import transformers_experiments

    return transformers_experiments(args) if state.is_world_process_zero else []


def _agreed(args: Any, tracker: Any, stop: bool) -> bool:
    """``stop`` on every rank when any rank's budget says stop, or the group's spending or predicted total
    exceeds the budget (one all_reduce; one process: as is)."""
    if int(getattr(args, "world_size", 1) or 1) <= 1:
        return stop
    from wattprint.integrations.distributed import group_decision

    return group_decision(tracker, stop)
