"""A framework's training logged into the experiment trackers it already logs to: the MLflow run of a Lightning
``MLFlowLogger`` or of transformers' ``report_to=["mlflow"]``, the W&B run of a ``WandbLogger`` or of
``report_to=["wandb"]`` (or, for any framework, the MLflow or W&B run active when training starts).

The callback's run goes there through the MLflow and W&B exporters (docs/exporters.md): per flush and per epoch its
energy, emissions, power and prediction as metrics, how they were obtained and where the run was priced as tags
(MLflow) or config (W&B), only for the devices the run used. Each exporter follows this run only, and is detached
once the run's final figures are sent. Nothing here ever interrupts training: a problem is logged once.
"""

from __future__ import annotations

from dataclasses import dataclass

from wattprint import _log

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from wattprint.run.tracker import Tracker

__all__ = ["Experiment", "ExperimentLogging", "active_experiments", "lightning_experiments",
           "transformers_experiments"]

SAVE_WAIT_S = 30.0
"""How long the end of training waits for the run's final save before the exporters are detached."""
SEND_WAIT_S = 30.0
"""How long the end of training waits for the exporters to send the run's final figures and its report."""


@dataclass(frozen=True)
class Experiment:
    """A run of an experiment tracker to log into: ``kind`` ``mlflow`` (``run`` an MLflow run id, with its
    ``tracking_uri``) or ``wandb`` (``run`` a W&B run)."""

    kind: str
    run: Any
    tracking_uri: str | None = None


def lightning_experiments(trainer: Any) -> list[Experiment]:
    """The MLflow and W&B runs of a Lightning trainer's loggers."""
    found: list[Experiment] = []
    for logger in getattr(trainer, "loggers", None) or ():
        kind = type(logger).__name__
        try:
            if kind == "MLFlowLogger":
                found.append(Experiment("mlflow", logger.run_id, getattr(logger, "_tracking_uri", None)))
            elif kind == "WandbLogger":
                found.append(Experiment("wandb", logger.experiment))
        except Exception as error:  # noqa: BLE001 - training goes on without it
            _log.warn_once(f"experiment-{kind}", f"wattprint: the run of the {kind} cannot be found ({error}); "
                                                 "wattprint's figures are not logged there")
    return found


def transformers_experiments(args: Any) -> list[Experiment]:
    """The MLflow and W&B runs a transformers Trainer reports to (``report_to``), active when training begins."""
    report_to = getattr(args, "report_to", None) or ()
    names = {report_to} if isinstance(report_to, str) else set(report_to)
    if "all" in names:
        names = {"mlflow", "wandb"}
    return active_experiments(tuple(sorted(names & {"mlflow", "wandb"})))


def active_experiments(kinds: tuple[str, ...] = ("mlflow", "wandb")) -> list[Experiment]:
    """The MLflow run active in this thread and the W&B run of this process, of the ``kinds`` asked for, when
    their libraries are already imported (the training uses them) and a run is active."""
    import sys

    found: list[Experiment] = []
    mlflow = sys.modules.get("mlflow")
    if "mlflow" in kinds and mlflow is not None:
        active = mlflow.active_run()
        if active is not None:
            found.append(Experiment("mlflow", active.info.run_id, mlflow.get_tracking_uri()))
    wandb = sys.modules.get("wandb")
    if "wandb" in kinds and wandb is not None and getattr(wandb, "run", None) is not None:
        found.append(Experiment("wandb", wandb.run))
    return found


class ExperimentLogging:
    """The exporters that log one training's run into its experiment trackers' runs: made and attached before the
    run starts (a run that is not stored still reaches them), told which run to follow once it has started."""

    def __init__(self, framework: str, experiments: list[Experiment]) -> None:
        from wattprint import sinks

        self.framework = framework
        self.sinks: list[tuple[Any, Experiment]] = []
        for experiment in experiments:
            try:
                sink = _sink(experiment)
                sinks.attach(sink)
            except Exception as error:  # noqa: BLE001 - training goes on without it
                self._failed(experiment, error)
                continue
            self.sinks.append((sink, experiment))

    def follow(self, tracker: Tracker) -> None:
        """Log the run ``tracker`` has just started (and only it) into the experiments' runs."""
        run_id = tracker.run_id
        for sink, experiment in self.sinks:
            try:
                if run_id is not None:
                    sink.follow(run_id, experiment.run)
            except Exception as error:  # noqa: BLE001 - training goes on without it
                self._failed(experiment, error)

    def _failed(self, experiment: Experiment, error: Exception) -> None:
        _log.warn_once(f"experiment-{self.framework}-{experiment.kind}",
                       f"wattprint: the {self.framework} run cannot be logged into {experiment.kind} ({error}); it "
                       "is stored as usual")

    def release(self, tracker: Tracker) -> None:
        """Once the stopped run's final figures are saved (and so handed to the exporters), send them and detach."""
        if not self.sinks:
            return
        from wattprint import sinks

        tracker.wait_saved(SAVE_WAIT_S)
        attached, self.sinks = self.sinks, []
        for sink, _ in attached:
            sinks.detach(sink)  # closing sends what is queued


def _sink(experiment: Experiment) -> Any:
    if experiment.kind == "mlflow":
        from wattprint.exporters.mlflow import MlflowSink

        return MlflowSink(tracking_uri=experiment.tracking_uri, only_followed=True, close_timeout_s=SEND_WAIT_S)
    from wattprint.exporters.wandb import WandbSink

    return WandbSink(only_followed=True, close_timeout_s=SEND_WAIT_S)
