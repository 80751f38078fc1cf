"""Keras 3 (any backend): ``model.fit(..., callbacks=[WattprintCallback(project="mnist")])``.

Starts a run when training begins, marks every training batch as a step and every epoch as an epoch, adds
``wattprint/*`` metrics (energy and emissions so far, the predicted totals and their bounds) to the epoch's
``logs`` (so they reach ``History`` and the callbacks after this one), sets ``model.stop_training`` when the
budget policy says stop, and stores the run when training ends. Imports ``keras`` when imported (choose the
backend first, e.g. ``KERAS_BACKEND=torch``). Keras has no hook for a failed fit: call
``callback.stop("failed")`` in your ``except`` block if you catch the error and go on.
"""

from __future__ import annotations

from typing import Any

import keras

from wattprint.integrations._training import CallbackMixin, finite_count


class WattprintCallback(CallbackMixin, keras.callbacks.Callback):
    """Measure, predict and budget a Keras training.

    ``hyperparameters`` are used for the config fingerprint (Keras has no canonical set of its own, so without
    them the run has no fingerprint). ``unit``: ``epoch`` or ``step`` predictions (default: epochs when there
    are at least two, else steps). Other keyword arguments are those of :class:`wattprint.Tracker`.
    """

    framework = "keras"

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        params = self.params or {}
        total_epochs = finite_count(params.get("epochs"))
        steps = finite_count(params.get("steps"))
        total_steps = steps * total_epochs if steps is not None and total_epochs is not None else None
        model = getattr(self, "model", None)
        self.training.start(
            total_epochs=total_epochs,
            total_steps=total_steps,
            name=getattr(model, "name", None),
            experiments=_experiments,
        )

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        if self.training.step():
            self.model.stop_training = True

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        stop = self.training.epoch_end()
        if logs is not None:
            logs.update(self.training.metrics())
        if stop:
            self.model.stop_training = True

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        self.training.stop("finished")


def _experiments() -> list[Any]:
    """The MLflow run active where training begins (``mlflow.start_run()``, autologging) and the W&B run."""
    from wattprint.integrations._experiments import active_experiments

    return active_experiments()
