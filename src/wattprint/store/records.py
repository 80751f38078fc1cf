"""What the store keeps: the records of the wire format (:mod:`wattprint.api.records`), and their plain dicts and
rows through the one codec (:mod:`wattprint.core.codec`); the names here are kept for the store's modules.

The recorder builds these from meter snapshots; the store and the spool write and read them unchanged, so a
record read back compares equal to the one that was saved.
"""

from __future__ import annotations

from dataclasses import fields

from wattprint.api.records import STATUSES, ComponentRecord, IntervalRecord, RunRecord, TaskRecord
from wattprint.core.codec import from_dict, to_dict

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "INTERVAL_FIELDS",
    "STATUSES",
    "ComponentRecord",
    "IntervalRecord",
    "RunRecord",
    "TaskRecord",
    "component_from_dict",
    "component_to_dict",
    "interval_from_row",
    "interval_to_dict",
    "interval_to_row",
    "run_from_dict",
    "run_to_dict",
    "task_from_dict",
    "task_to_dict",
]


# -- plain dicts, for JSON (the spool, store rows, exports): the codec under the store's names ---------------------


def component_to_dict(record: ComponentRecord) -> dict[str, Any]:
    return to_dict(record)


def component_from_dict(data: dict[str, Any]) -> ComponentRecord:
    return from_dict(ComponentRecord, data)


def interval_to_dict(record: IntervalRecord) -> dict[str, Any]:
    """An interval's fields by name, in the record's order (store rows, exports)."""
    return to_dict(record)


def task_to_dict(record: TaskRecord) -> dict[str, Any]:
    return to_dict(record)


def task_from_dict(data: dict[str, Any]) -> TaskRecord:
    return from_dict(TaskRecord, data)


def run_to_dict(record: RunRecord) -> dict[str, Any]:
    return to_dict(record)


def run_from_dict(data: dict[str, Any]) -> RunRecord:
    return from_dict(RunRecord, data)


INTERVAL_FIELDS = tuple(f.name for f in fields(IntervalRecord))
"""Column order of intervals written as rows (the spool keeps them as lists, not dicts, to stay small)."""


def interval_to_row(record: IntervalRecord) -> list[Any]:
    return [getattr(record, name) for name in INTERVAL_FIELDS]


def interval_from_row(row: list[Any], columns: tuple[str, ...] = INTERVAL_FIELDS) -> IntervalRecord:
    return IntervalRecord(**dict(zip(columns, row, strict=True)))
