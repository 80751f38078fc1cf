"""Records as table rows: what every writer of the store puts in each column (stdlib only).

Every store's ``save`` (:mod:`wattprint.store.writing`, run by ``RunStore`` through SQLAlchemy and by the
recorder's ``SqliteWriter`` through ``sqlite3``) writes these rows, so no two ways can disagree on a value.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import fields

from wattprint.core.codec import to_dict
from wattprint.store.records import (
    INTERVAL_FIELDS,
    STATUSES,
    ComponentRecord,
    IntervalRecord,
    RunRecord,
    TaskRecord,
    component_to_dict,
)
from wattprint.store.requests import REQUEST_COLUMNS

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

HEAD_REVISION = "0006"
"""The newest schema migration, whose tables these rows fill; a store already at it is opened without Alembic,
and the recorder writes a SQLite store at it with ``sqlite3`` alone. A migration that adds a revision updates this
and the column lists below (``tests/store/test_store_sqlite_writer.py`` compares them with the schema)."""

RUN_COLUMNS = tuple("project_id" if f.name == "project" else f.name for f in fields(RunRecord))
"""Columns of the ``runs`` table, in its order: the record's fields with the project's id for its name."""
COMPONENT_COLUMNS = ("run_id", "component", "device", "position", "energy_j", "avg_power_w", "method",
                     "uncertainty_rel")
INTERVAL_COLUMNS = ("run_id", "bucket", "device", "component", "start_offset_s", "end_offset_s", "energy_j",
                    "avg_power_w", "method", "uncertainty_rel", "emissions_g", "intensity_g_per_kwh")
TASK_COLUMNS = ("run_id", "seq", "name", "started_at", "duration_s", "energy_j", "uncertainty_rel", "method",
                "components")
TAG_COLUMNS = ("run_id", "tag")

TABLES = {
    "runs": RUN_COLUMNS,
    "run_components": COMPONENT_COLUMNS,
    "intervals": INTERVAL_COLUMNS,
    "tasks": TASK_COLUMNS,
    "run_tags": TAG_COLUMNS,
    "request_intervals": REQUEST_COLUMNS,
}
"""The tables a save fills, and their columns."""

RUN_KEY = ("run_id",)
COMPONENT_KEY = ("run_id", "component", "device")
INTERVAL_KEY = ("run_id", "bucket", "device")
TASK_KEY = ("run_id", "seq")
TAG_KEY = ("run_id", "tag")
"""The unique key each table's upserts conflict on (:mod:`wattprint.store.writing` makes the statements)."""


def replaces(stored_updated_at: float | None, updated_at: float) -> bool:
    """Whether a run state of ``updated_at`` may replace the stored one: the monotonic rule of every save, so a
    stale spool file replayed late never rolls a run back. Writers apply it in SQL as ``stored <= new``."""
    return stored_updated_at is None or stored_updated_at <= updated_at


_RUN_ID = re.compile(r"^[0-9a-f]{32}$")


def check_run(run: RunRecord) -> None:
    if not isinstance(run.run_id, str) or not _RUN_ID.match(run.run_id):
        raise ValueError(f"run_id must be 32 lowercase hex digits, got {run.run_id!r}")
    if run.status not in STATUSES:
        raise ValueError(f"status={run.status!r} is not valid; allowed values: {', '.join(STATUSES)}")


def _json(field: str, value: object) -> str:
    try:
        return json.dumps(value, separators=(",", ":"))
    except (TypeError, ValueError) as error:
        raise ValueError(f"RunRecord.{field} must hold JSON values only: {error}") from error


def run_row(run: RunRecord) -> dict[str, Any]:
    """The run's row without its ``project_id`` (the writer looks the project up)."""
    row: dict[str, Any] = {}
    for name in RUN_COLUMNS:
        if name == "project_id":
            continue
        value = getattr(run, name)
        if name == "hardware":
            value = _json(name, [dict(item) for item in value])
        elif name == "notes":
            value = _json(name, list(value))
        elif name == "extra":
            value = None if value is None else _json(name, to_dict(value, sparse=True))
        row[name] = value
    return row


def component_row(run_id: str, position: int, record: ComponentRecord) -> dict[str, Any]:
    return {"run_id": run_id, "position": position, **component_to_dict(record)}


def interval_row(run_id: str, record: IntervalRecord) -> dict[str, Any]:
    """``interval_to_dict`` with the run's id: every field is a plain value, so the record's own attribute
    dictionary is the row (a long run has many intervals); field by field for anything else."""
    row: dict[str, Any] = {"run_id": run_id, **getattr(record, "__dict__", {})}
    if len(row) != _INTERVAL_ROW_LENGTH:
        row = {"run_id": run_id}
        for name in INTERVAL_FIELDS:
            row[name] = getattr(record, name)
    return row


_INTERVAL_ROW_LENGTH = len(INTERVAL_FIELDS) + 1


def task_row(run_id: str, record: TaskRecord) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "seq": record.seq,
        "name": record.name,
        "started_at": record.started_at,
        "duration_s": record.duration_s,
        "energy_j": record.energy_j,
        "uncertainty_rel": record.uncertainty_rel,
        "method": record.method,
        "components": json.dumps([component_to_dict(c) for c in record.components], separators=(",", ":")),
    }


def tag_rows(run: RunRecord) -> list[dict[str, Any]]:
    """The ``run_tags`` rows of a run: one per tag of its ``extra``."""
    tags = run.extra.tags if run.extra is not None else ()
    return [{"run_id": run.run_id, "tag": tag} for tag in dict.fromkeys(tags)]


def save_rows(
    run: RunRecord,
    components: Sequence[ComponentRecord] = (),
    intervals: Sequence[IntervalRecord] = (),
    tasks: Sequence[TaskRecord] = (),
) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """The rows one save writes: the run's, its component totals, intervals and tasks, one row per key (the last
    record given for a key winning, as if the records had been saved one after the other)."""
    check_run(run)
    unique_components = list({(c.component, c.device): c for c in components}.values())
    component_rows = [component_row(run.run_id, i, c) for i, c in enumerate(unique_components)]
    interval_rows = list({(i.bucket, i.device): interval_row(run.run_id, i) for i in intervals}.values())
    task_rows = list({t.seq: task_row(run.run_id, t) for t in tasks}.values())
    return run_row(run), component_rows, interval_rows, task_rows
