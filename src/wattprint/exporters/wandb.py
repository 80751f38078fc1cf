"""Weights & Biases: each run's energy, emissions, power and prediction as metrics of a W&B run, how they were
obtained (method, uncertainty) and where the run was priced in its config, its totals in the summary.

Every metric is under ``wattprint/`` with an x-axis of its own (``define_metric``): the totals so far at every
flush (``wattprint/flush``), each ended epoch's energy (``wattprint/epoch``), each prediction after the epoch (or
step) it was made after (``wattprint/predicted_after``). Each is a row of its own, as W&B's Lightning and
transformers integrations log theirs (against ``trainer/global_step``, ``train/global_step``), never an explicit
``step=``: a run you log into with explicit steps would drop rows whose step is behind.
The W&B run is the one active where the sink is made (or where a tracker starts, for the ``exporters`` setting);
with none, the sink starts one per wattprint run and finishes it with the run's end.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

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

    from wattprint.api.records import TaskRecord
    from wattprint.settings.typed import Settings

__all__ = ["PREFIX", "WandbSink"]

PREFIX = "wattprint/"
"""Every metric, summary and config key the sink writes starts with this."""

EPOCH = re.compile(r"epoch-(\d+)")
EXIT_CODES = {"finished": 0, "failed": 1, "killed": 130}
"""The exit code a W&B run the sink started is finished with, by the wattprint run's end."""
AXES = {"flush": ("energy_kwh", "emissions_g", "power_w", "duration_s", "component/*"),
        "epoch": ("epoch/energy_kwh",), "task": ("task/energy_kwh",), "predicted_after": ("predicted/*",)}
"""Each step metric and the metrics drawn against it."""


@dataclass
class _Logged:
    run: Any
    started_here: bool
    flushes: int = 0
    predictions: int = 0
    config: dict[str, object] | None = None


def _wandb() -> Any:
    try:
        import wandb
    except ImportError as error:
        raise ImportError(missing("wandb", "wandb", "the Weights & Biases exporter")) from error
    return wandb


@sinks.register
class WandbSink(ExperimentSink):
    """A sink that logs every run of the process into Weights & Biases (``pip install 'wattprint[wandb]'``).

    ``run``: the W&B run to log into (default: ``wandb.run`` where the sink is made). Without one, a W&B run is
    started per wattprint run with ``project``, ``entity``, ``mode`` (``offline`` writes it to disk for
    ``wandb sync``) and ``dir``, named after the run. W&B is called from the sink's own thread; closing waits at
    most ``close_timeout_s`` for what is still queued. ``only_followed``: log only the runs :meth:`follow` names.
    ``report``: each run's HTML report as an artifact when it ends.
    """

    name = "wandb"
    settings_keys = ("wandb_project", "wandb_entity", "wandb_mode")

    @classmethod
    def from_settings(cls, settings: Settings) -> WandbSink:
        """The sink of the ``exporters`` setting: each run into the W&B run active where its tracker starts
        (:meth:`follow`), else into one it starts with ``wandb_project``, ``wandb_entity`` and ``wandb_mode``."""
        sink = cls(project=settings.wandb_project, entity=settings.wandb_entity, mode=settings.wandb_mode)
        sink.run = None  # each run's own W&B run, read when its tracker starts
        return sink

    def __init__(self, run: Any = None, *, project: str | None = None, entity: str | None = None,
                 mode: str | None = None, dir: str | None = None, close_timeout_s: float = 10.0,
                 only_followed: bool = False, report: bool = True) -> None:
        super().__init__(close_timeout_s=close_timeout_s, only_followed=only_followed, report=report)
        wandb = _wandb()
        self.run = run if run is not None else wandb.run
        self.project = project
        self.entity = entity
        self.mode = mode
        self.dir = dir

    def follow(self, run_id: str, wandb_run: Any = None) -> None:
        """Log wattprint run ``run_id`` into ``wandb_run``, by default the active ``wandb.run`` now (where its
        tracker starts); with neither, the sink's own choice stands."""
        self._follow(run_id, wandb_run if wandb_run is not None else _wandb().run)

    def wandb_run(self, run_id: str) -> Any:
        """The W&B run that wattprint run ``run_id`` is logged into (None before its first payload is sent)."""
        logged = self._runs.get(run_id)
        return logged.run if logged is not None else None

    def _queue(self, sender: Sender, figures: RunFigures, tasks: list[TaskRecord], whole: Any) -> None:
        sender.submit(lambda: self._log(figures, tasks, whole))

    def _log(self, figures: RunFigures, tasks: list[TaskRecord], whole: Any = None) -> None:
        record = figures.run
        logged = self._logged(figures)
        run = logged.run
        logged.flushes += 1
        totals = {PREFIX + key: value for key, value in _run_metrics(figures)}
        run.log({PREFIX + "flush": logged.flushes, **totals})
        for task in tasks:
            match = EPOCH.fullmatch(task.name)
            axis, step = ("epoch", int(match.group(1))) if match else ("task", task.seq)
            run.log({PREFIX + axis: step, f"{PREFIX}{axis}/energy_kwh": task.energy_j / J_PER_KWH})
        predictions = record.details.predictions if record.extra else ()
        for prediction in predictions[logged.predictions:]:
            values = {"energy_kwh": prediction.energy_kwh, "energy_kwh_low": prediction.energy_kwh_low,
                      "energy_kwh_high": prediction.energy_kwh_high, "emissions_g": prediction.emissions_g,
                      "emissions_g_low": prediction.emissions_g_low, "emissions_g_high": prediction.emissions_g_high,
                      "duration_s": prediction.duration_s}
            row: dict[str, object] = {PREFIX + "predicted_after": prediction.after}
            row.update({f"{PREFIX}predicted/{key}": value for key, value in values.items() if value is not None})
            run.log(row)
        logged.predictions = len(predictions)
        run.summary.update({**totals, PREFIX + "status": record.status})
        config = _run_config(figures)
        if config != logged.config:
            run.config.update({"wattprint": config}, allow_val_change=True)
            logged.config = config
        if whole:
            self._log_report(run, record, whole)
        if record.status != "running" and logged.started_here:
            run.finish(exit_code=EXIT_CODES.get(record.status, 0))

    def _log_report(self, run: Any, record: Any, whole: Any) -> None:
        """The ended run's HTML report, as an artifact of type ``report``."""
        import tempfile
        from pathlib import Path

        html = html_report(record, whole[0], whole[1], whole[2], sink=self.name)
        if html is None:
            return
        name = report_name(record)
        with tempfile.TemporaryDirectory() as directory:
            path = Path(directory) / name
            path.write_text(html, encoding="utf-8")
            artifact = _wandb().Artifact(name.removesuffix(".html"), type="report",
                                         description="wattprint's report of the run")
            artifact.add_file(str(path))
            run.log_artifact(artifact)

    def _logged(self, figures: RunFigures) -> _Logged:
        """What was logged of this run, starting its W&B run first when the sink has none to log into."""
        record = figures.run
        logged = self._runs.get(record.run_id)
        if logged is not None:
            return logged
        chosen = self._followed.pop(record.run_id, self.run)
        if chosen is not None:
            logged = _Logged(chosen, started_here=False)
        else:
            wandb = _wandb()
            options = {key: value for key, value in (("project", self.project), ("entity", self.entity),
                                                     ("mode", self.mode), ("dir", self.dir)) if value is not None}
            options.setdefault("project", "wattprint")
            # console off: a run the exporter starts must not wrap the process's own output
            chosen = wandb.init(name=record.name or None, reinit="create_new", settings=wandb.Settings(console="off"),
                                **options)
            logged = _Logged(chosen, started_here=True)
        for axis, metrics in AXES.items():
            logged.run.define_metric(PREFIX + axis, hidden=True)
            for metric in metrics:
                logged.run.define_metric(PREFIX + metric, step_metric=PREFIX + axis)
        self._runs[record.run_id] = logged
        return logged


def _run_metrics(figures: RunFigures) -> list[tuple[str, float]]:
    """The run's totals so far, a component's energy under ``component/<name>/``."""
    return figures.metrics("component/{component}/energy_kwh")


def _run_config(figures: RunFigures) -> dict[str, object]:
    """How the figures were obtained (per device the run used), and where and how the run was priced."""
    config = figures.described()
    config["devices"] = [f"{d.device} ({d.component}, {d.method})" for d in figures.devices]
    return config
