"""The HTML report of a run that has ended, for the exporters that keep files beside the figures (MLflow artifacts,
W&B artifacts): each run's records gathered from its payloads, rendered when its final payload comes.

The report layer is above this one, so it is found by name when a report is wanted, as an entry point is
(``REPORT_CONTENT``, ``REPORT_FORMATS``), never imported by this module; without it (or when rendering fails) the
exporter logs its figures without the report, and says so once.
"""

from __future__ import annotations

import importlib
import importlib.util

from wattprint._log import warn_once

TYPE_CHECKING = False
if TYPE_CHECKING:
    from wattprint.api.records import ComponentRecord, IntervalRecord, RunRecord, TaskRecord
    from wattprint.sinks.payload import Payload

REPORT_CONTENT = "wattprint.report.content"
REPORT_FORMATS = "wattprint.report.formats"


class RunHistory:
    """Each running run's interval buckets and tasks so far (a payload holds only those that changed)."""

    def __init__(self) -> None:
        self._intervals: dict[str, dict[tuple[int, str, str, str], IntervalRecord]] = {}
        self._tasks: dict[str, dict[int, TaskRecord]] = {}
        self._ended: set[str] = set()

    def add(self, payload: Payload) -> tuple[list[IntervalRecord], list[TaskRecord]] | None:
        """Take one payload; at a run's end (its final payload), its whole intervals and tasks, forgotten here (a
        save re-priced after the end, docs/live.md, makes no second report)."""
        run_id = payload.run.run_id
        if run_id in self._ended:
            return None
        intervals = self._intervals.setdefault(run_id, {})
        for record in payload.intervals:
            intervals[(record.bucket, record.component, record.device, record.method)] = record
        tasks = self._tasks.setdefault(run_id, {})
        for task in payload.tasks:
            tasks[task.seq] = task
        if payload.run.status == "running":
            return None
        del self._intervals[run_id], self._tasks[run_id]
        self._ended.add(run_id)
        return ([intervals[key] for key in sorted(intervals)], [tasks[seq] for seq in sorted(tasks)])


def html_report(run: RunRecord, components: tuple[ComponentRecord, ...], intervals: list[IntervalRecord],
                tasks: list[TaskRecord], sink: str) -> str | None:
    """The run's HTML report (``wattprint report --format html``), its power chart included when matplotlib is
    installed; None (said once) when the report layer cannot render it."""
    try:
        content = importlib.import_module(REPORT_CONTENT)
        formats = importlib.import_module(REPORT_FORMATS)
        chart = importlib.util.find_spec("matplotlib") is not None
        found = content.RunContent(run, tuple(components), tuple(intervals), tuple(tasks))
        html: str = formats.get("html").render_run(found, formats.ReportOptions(chart=chart))
        return html
    except Exception as error:  # noqa: BLE001 - the figures are logged without it
        warn_once(f"report-artifact:{sink}", f"wattprint: the {sink} sink could not render a run's HTML report "
                                             f"({error}); its figures are logged without it")
        return None


def report_name(run: RunRecord) -> str:
    """The report's file name: the run's name and the start of its id."""
    import re

    stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", run.name or "run").strip("-") or "run"
    return f"wattprint-{stem}-{run.run_id[:8]}.html"
