"""MLflow: each run's energy, emissions, power and prediction as metrics of an MLflow run, its method, uncertainty
and location as tags.

At every flush the run's totals so far are logged (step: the flush's number, so the curve grows through the run),
each ended epoch's energy with the epoch's number as its step, and each new prediction with the epoch (or step) it
was made after. Tags say how the figures were obtained. The MLflow run is the one given, else the one active where
the sink was made; with neither, the sink starts one per wattprint run and ends it with the run's status.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from wattprint import sinks
from wattprint.core.units import J_PER_KWH
from wattprint.exporters import missing
from wattprint.exporters._experiment import ExperimentSink
from wattprint.exporters._report import html_report, report_name
from wattprint.exporters._sender import Sender
from wattprint.exporters.totals import RunFigures

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from wattprint.api.records import RunRecord, TaskRecord
    from wattprint.settings.typed import Settings

__all__ = ["PREFIX", "MlflowSink"]

PREFIX = "wattprint."
"""Every metric and tag the sink logs starts with this."""

EPOCH = re.compile(r"epoch-(\d+)")
STATUS = {"finished": "FINISHED", "failed": "FAILED", "killed": "KILLED"}
"""MLflow's status for a run the sink started, by the wattprint run's end."""


@dataclass
class _Logged:
    """What the sink has logged of one wattprint run."""

    mlflow_run_id: str
    started_here: bool
    flushes: int = 0
    predictions: int = 0
    tags: dict[str, str] = field(default_factory=dict)


@sinks.register
class MlflowSink(ExperimentSink):
    """A sink that logs every run of the process into MLflow (``pip install 'wattprint[mlflow]'``).

    ``run_id``: the MLflow run to log into (default: the active one where the sink is made, else one started per
    wattprint run in ``experiment``). ``tracking_uri``: where MLflow stores runs (default: MLflow's own setting,
    ``MLFLOW_TRACKING_URI`` or ``mlflow.set_tracking_uri``, read where the sink is made). MLflow is called from
    the sink's own thread; closing waits at most ``close_timeout_s`` for what is still queued. ``only_followed``:
    log only the runs :meth:`follow` names. ``report``: each run's HTML report as an artifact when it ends.
    """

    name = "mlflow"
    settings_keys = ("mlflow_tracking_uri", "mlflow_experiment")

    @classmethod
    def from_settings(cls, settings: Settings) -> MlflowSink:
        """The sink of the ``exporters`` setting: each run into the MLflow run active where its tracker starts
        (:meth:`follow`), else into one it starts in ``mlflow_experiment``, at ``mlflow_tracking_uri``."""
        sink = cls(tracking_uri=settings.mlflow_tracking_uri, experiment=settings.mlflow_experiment)
        sink.run_id = None  # each run's own MLflow run, read when its tracker starts
        return sink

    def __init__(self, run_id: str | None = None, *, tracking_uri: str | None = None,
                 experiment: str | None = None, close_timeout_s: float = 10.0, only_followed: bool = False,
                 report: bool = True) -> None:
        try:
            import mlflow
        except ImportError as error:
            raise ImportError(missing("mlflow", "mlflow", "the MLflow exporter")) from error
        super().__init__(close_timeout_s=close_timeout_s, only_followed=only_followed, report=report)
        active = mlflow.active_run()  # MLflow keeps the active run per thread: read it here, not in the writer's
        self.run_id = run_id if run_id is not None else (active.info.run_id if active is not None else None)
        self.tracking_uri = tracking_uri or mlflow.get_tracking_uri()
        self.experiment = experiment
        self._client: Any = None

    def follow(self, run_id: str, mlflow_run_id: str | None = None) -> None:
        """Log wattprint run ``run_id`` into ``mlflow_run_id``, by default the MLflow run active in the calling
        thread (the tracker's, where it starts); with neither, the sink's own choice stands."""
        if mlflow_run_id is None:
            import mlflow

            active = mlflow.active_run()
            mlflow_run_id = active.info.run_id if active is not None else None
        self._follow(run_id, mlflow_run_id)

    def open(self) -> None:
        from mlflow.tracking import MlflowClient

        self._client = MlflowClient(tracking_uri=self.tracking_uri)
        super().open()

    def close(self) -> None:
        """Send what is queued (waiting at most ``close_timeout_s``), then let go of the client."""
        super().close()
        self._client = None

    def mlflow_run_id(self, run_id: str) -> str | None:
        """The MLflow run that wattprint run ``run_id`` is logged into (None before its first payload is sent)."""
        logged = self._runs.get(run_id)
        return logged.mlflow_run_id if logged is not None else None

    def _queue(self, sender: Sender, figures: RunFigures, tasks: list[TaskRecord], whole: Any) -> None:
        client = self._client
        assert client is not None, "the writer opens a sink before writing to it"
        sender.submit(lambda: self._log(client, figures, tasks, whole))

    def _log(self, client: Any, figures: RunFigures, tasks: list[TaskRecord], whole: Any = None) -> None:
        from mlflow.entities import Metric, RunTag

        record = figures.run
        logged = self._logged(client, record)
        logged.flushes += 1
        now_ms = int(record.updated_at * 1000)
        metrics = [Metric(PREFIX + key, value, now_ms, logged.flushes) for key, value in _run_metrics(figures)]
        for task in tasks:
            key, step = _task_key(task)
            metrics.append(Metric(PREFIX + key, task.energy_j / J_PER_KWH, now_ms, step))
        predictions = record.details.predictions if record.extra else ()
        for prediction in predictions[logged.predictions:]:
            values = {"predicted_energy_kwh": prediction.energy_kwh,
                      "predicted_energy_kwh_low": prediction.energy_kwh_low,
                      "predicted_energy_kwh_high": prediction.energy_kwh_high,
                      "predicted_emissions_g": prediction.emissions_g,
                      "predicted_emissions_g_low": prediction.emissions_g_low,
                      "predicted_emissions_g_high": prediction.emissions_g_high,
                      "predicted_duration_s": prediction.duration_s}
            metrics += [Metric(PREFIX + key, value, now_ms, prediction.after)
                        for key, value in values.items() if value is not None]
        tags = {key: value for key, value in _run_tags(figures).items() if logged.tags.get(key) != value}
        client.log_batch(logged.mlflow_run_id, metrics=metrics,
                         tags=[RunTag(PREFIX + key, value) for key, value in tags.items()])
        logged.predictions = len(predictions)
        logged.tags.update(tags)
        if whole:
            html = html_report(record, whole[0], whole[1], whole[2], sink=self.name)
            if html is not None:
                client.log_text(logged.mlflow_run_id, html, f"wattprint/{report_name(record)}")
        if record.status != "running" and logged.started_here:
            client.set_terminated(logged.mlflow_run_id, STATUS.get(record.status, "FINISHED"),
                                  end_time=int((record.ended_at or record.updated_at) * 1000))

    def _logged(self, client: Any, record: RunRecord) -> _Logged:
        """What was logged of this run, starting its MLflow run first when the sink has none to log into."""
        logged = self._runs.get(record.run_id)
        if logged is not None:
            return logged
        chosen = self._followed.pop(record.run_id, self.run_id)
        if chosen is not None:
            logged = _Logged(chosen, started_here=False)
        else:
            experiment_id = "0"
            if self.experiment is not None:
                found = client.get_experiment_by_name(self.experiment)
                experiment_id = found.experiment_id if found is not None else client.create_experiment(
                    self.experiment)
            run = client.create_run(experiment_id, start_time=int(record.started_at * 1000),
                                          run_name=record.name or None)
            logged = _Logged(run.info.run_id, started_here=True)
        self._runs[record.run_id] = logged
        return logged


def _task_key(task: TaskRecord) -> tuple[str, int]:
    """An epoch's metric has the epoch's number as its step; another task's, its place among the run's tasks."""
    match = EPOCH.fullmatch(task.name)
    return ("epoch.energy_kwh", int(match.group(1))) if match else ("task.energy_kwh", task.seq)


def _run_metrics(figures: RunFigures) -> list[tuple[str, float]]:
    return figures.metrics("{component}.energy_kwh")


def _run_tags(figures: RunFigures) -> dict[str, str]:
    """How the figures were obtained, and where the run was priced (MLflow tags are strings)."""
    tags = {"status": figures.run.status}
    for key, value in figures.described().items():
        tags[key] = value if isinstance(value, str) else f"{value:.6g}"
    return tags
