"""What one write of a run carries, built from a tracker's results: the run's record, its per-device totals, the
interval buckets that changed and the task windows that ended (the payload every sink receives)."""

from __future__ import annotations

import getpass
import os
from collections.abc import Mapping
from dataclasses import asdict, replace

from wattprint._version import __version__

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from wattprint.api.records import (
        ComponentRecord,
        IntervalRecord,
        RequestIntervalRecord,
        RunExtra,
        RunRecord,
        TaskRecord,
    )
    from wattprint.core.results import RunResult, WindowResult
    from wattprint.run.tracker import Tracker


def _username() -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no passwd entry in some containers
        return str(os.getuid())


def origin() -> dict[str, Any]:
    """Where, by whom and with what a run is recorded: the same in its placeholder row and every later one."""
    return {"hostname": os.uname().nodename, "username": _username(), "pid": os.getpid(),
            "wattprint_version": __version__}


def component_records(result: WindowResult) -> tuple[ComponentRecord, ...]:
    """A result's per-device totals: the result's own records (``ComponentRecord`` is ``DeviceEnergy``)."""
    return tuple(result.devices)


def task_record(seq: int, task: WindowResult) -> TaskRecord:
    from wattprint.api.records import ComponentRecord, TaskRecord

    return TaskRecord(
        seq=seq,
        name=task.name,
        started_at=task.started_at,
        duration_s=task.duration_s,
        energy_j=task.energy_j,
        uncertainty_rel=task.uncertainty_rel,
        method=task.method,
        components=tuple(
            ComponentRecord(c.component, "all", c.energy_j, c.avg_power_w, c.method, c.uncertainty_rel)
            for c in task.components.values()
        ),
    )


def run_extra(result: RunResult, tracker: Tracker, interval_status: Mapping[int, str] | None = None) -> RunExtra:
    """The typed ``extra`` of a run: carbon details, training progress (predictions, budget, fingerprint), the
    parent run, and the time-resolved total when live intensity priced it (docs/live.md)."""
    from wattprint.api.records import RunExtra, TimeResolvedRecord
    from wattprint.core.codec import from_dict

    values: dict[str, Any] = dict(getattr(tracker, "record_extra", None) or {})  # docs/predict.md
    tags = getattr(getattr(tracker, "options", None), "tags", None)
    if tags:
        values["tags"] = tuple(tags)  # docs/team.md: filtered on by a team server
    footprint = result.footprint
    if footprint is not None:
        values.update(
            pue_source=footprint.pue_source,
            wue_l_per_kwh=footprint.wue_l_per_kwh,
            wue_source=footprint.wue_source,
            intensity_zone_name=footprint.intensity.zone_name,
            intensity_licence=footprint.intensity.licence,
            carbon_notes=tuple(footprint.notes),
        )
    extra = from_dict(RunExtra, values)
    if result.time_resolved is not None:
        by_status: dict[str, list[int]] = {}
        for bucket, status in sorted((interval_status or {}).items()):
            if status != "live":
                by_status.setdefault(status, []).append(bucket)
        live = from_dict(TimeResolvedRecord, {**result.time_resolved.to_dict(), "bucket_status": by_status})
        extra = replace(extra, time_resolved=live)
    return extra


def run_record(result: RunResult, *, updated_at: float, ended_at: float | None, tracker: Tracker,
               interval_status: Mapping[int, str] | None = None) -> RunRecord:
    """The store's view of a run result, with who and where it ran. ``interval_status`` says how each interval
    bucket was priced with live intensities (``live``, ``forecast``, ``carried``, ``fallback``)."""
    from wattprint.api.records import RunRecord
    from wattprint.core.codec import to_dict

    fields = dict(tracker.record_fields)
    if result.footprint is not None:
        fields.update(result.footprint.record_fields())
    extra = run_extra(result, tracker, interval_status)
    fields["extra"] = extra if to_dict(extra, sparse=True) else None
    return RunRecord(
        run_id=result.run_id,
        project=result.project,
        name=result.name,
        status=result.status,
        started_at=result.started_at,
        updated_at=updated_at,
        ended_at=ended_at,
        duration_s=result.duration_s,
        energy_j=result.energy_j,
        energy_uncertainty_rel=result.uncertainty_rel,
        attribution=result.attribution,
        **origin(),
        hardware=tuple(asdict(info) for info in result.hardware),
        notes=tuple(result.notes),
        **fields,
    )


class Payload:
    """What one flush writes; ``requests``: the run's requests summed per time bucket and endpoint, the rows that
    changed (docs/inference.md)."""

    __slots__ = ("run", "components", "intervals", "tasks", "requests")

    def __init__(
        self,
        run: RunRecord,
        components: tuple[ComponentRecord, ...],
        intervals: list[IntervalRecord],
        tasks: list[TaskRecord],
        requests: list[RequestIntervalRecord] | None = None,
    ) -> None:
        self.run = run
        self.components = components
        self.intervals = intervals
        self.tasks = tasks
        self.requests = requests or []
