"""What the experiment-tracker sinks (MLflow, W&B) share: the runs they follow, the figures folded from payloads,
the history kept for each run's report, and logging queued on a thread of their own."""

from __future__ import annotations

from wattprint.exporters._report import RunHistory
from wattprint.exporters._sender import Sender
from wattprint.exporters.totals import RunFigures, Totals

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from wattprint.api.records import TaskRecord
    from wattprint.sinks.payload import Payload


class ExperimentSink:
    """A sink that logs wattprint runs into an experiment tracker's runs. A subclass names itself (``name``) and
    queues its logging in ``_queue``; ``only_followed``: log only the runs :meth:`_follow` names (a framework
    callback's), not every run of the process; ``report``: log each run's HTML report when it ends."""

    name: str

    def __init__(self, *, close_timeout_s: float, only_followed: bool, report: bool) -> None:
        self.close_timeout_s = close_timeout_s
        self.only_followed = only_followed
        self.report = report
        self.totals = Totals()
        self._sender: Sender | None = None
        self._runs: dict[str, Any] = {}
        self._followed: dict[str, Any] = {}
        self._only: set[str] = set()
        self._history = RunHistory()

    def _follow(self, run_id: str, target: Any) -> None:
        """Log wattprint run ``run_id`` into the tracker's run ``target`` (None: the sink's own choice stands)."""
        if target is not None:
            self._followed[run_id] = target
        self._only.add(run_id)

    def open(self) -> None:
        self._sender = Sender(self.name)

    def close(self) -> None:
        """Send what is queued (waiting at most ``close_timeout_s``)."""
        if self._sender is not None:
            self._sender.drain(self.close_timeout_s)
        self._sender = None

    def write(self, payload: Payload) -> None:
        """Fold the payload in and queue its logging: the tracker's library is called from the sink's own thread,
        so a slow or unreachable tracking server never holds up the store and the other sinks."""
        if self.only_followed and payload.run.run_id not in self._only:
            return
        figures = self.totals.add(payload)
        whole = self._history.add(payload) if self.report else None
        sender = self._sender
        assert sender is not None, "the writer opens a sink before writing to it"
        self._queue(sender, figures, list(payload.tasks), whole and (payload.components, *whole))

    def _queue(self, sender: Sender, figures: RunFigures, tasks: list[TaskRecord], whole: Any) -> None:
        raise NotImplementedError
