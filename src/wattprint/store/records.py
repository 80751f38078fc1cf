"""What the store keeps: plain frozen dataclasses with the unit in every field name (stdlib only).

The recorder builds these from meter snapshots; the store and the spool write and read them unchanged, so a
record read back compares equal to the one that was saved.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from wattprint.core.units import J_PER_KWH

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


STATUSES = ("running", "finished", "failed", "killed")
"""A run's status; ``killed`` is also given to a ``running`` run whose writer is gone."""


@dataclass(frozen=True)
class ComponentRecord:
    """Energy of one device of a component over a whole run (or a task window, with ``device="all"``)."""

    component: str
    device: str
    energy_j: float
    avg_power_w: float
    method: str
    uncertainty_rel: float


@dataclass(frozen=True)
class IntervalRecord:
    """Energy of one device in one time bucket of a run; buckets widen as the run ages (the recorder decides)."""

    bucket: int
    start_offset_s: float
    end_offset_s: float
    component: str
    device: str
    energy_j: float
    avg_power_w: float
    method: str
    uncertainty_rel: float
    emissions_g: float | None = None
    intensity_g_per_kwh: float | None = None


@dataclass(frozen=True)
class TaskRecord:
    """A task window of a run, numbered in the order the windows ended."""

    seq: int
    name: str
    started_at: float
    duration_s: float
    energy_j: float
    uncertainty_rel: float
    method: str
    components: tuple[ComponentRecord, ...] = ()


@dataclass(frozen=True)
class RunRecord:
    """A run as stored: identity, who and where, totals, and room for the carbon figures of later issues."""

    run_id: str
    project: str | None
    name: str | None
    status: str
    started_at: float
    updated_at: float
    ended_at: float | None
    duration_s: float
    energy_j: float
    energy_uncertainty_rel: float
    attribution: str
    hostname: str
    username: str
    pid: int
    wattprint_version: str
    command: str | None = None
    exit_code: int | None = None
    config_fingerprint: str | None = None
    hardware: tuple[dict, ...] = ()
    notes: tuple[str, ...] = ()
    location: str | None = None
    how_located: str | None = None
    intensity_g_per_kwh: float | None = None
    intensity_zone: str | None = None
    intensity_source: str | None = None
    intensity_year: int | None = None
    intensity_kind: str | None = None
    intensity_uncertainty_rel: float | None = None
    pue: float | None = None
    facility_energy_j: float | None = None
    emissions_g: float | None = None
    emissions_uncertainty_rel: float | None = None
    water_l: float | None = None
    embodied_g: float | None = None
    extra: dict | None = None

    @property
    def energy_kwh(self) -> float:
        return self.energy_j / J_PER_KWH


# -- plain dicts, for JSON (the spool) -------------------------------------------------------------------------


def component_to_dict(record: ComponentRecord) -> dict[str, Any]:
    return {f.name: getattr(record, f.name) for f in fields(ComponentRecord)}


def interval_to_dict(record: IntervalRecord) -> dict[str, Any]:
    """An interval's fields by name, in the record's order (store rows, exports)."""
    return {f.name: getattr(record, f.name) for f in fields(IntervalRecord)}


def component_from_dict(data: dict[str, Any]) -> ComponentRecord:
    return ComponentRecord(**data)


def task_to_dict(record: TaskRecord) -> dict[str, Any]:
    data = {f.name: getattr(record, f.name) for f in fields(TaskRecord)}
    data["components"] = [component_to_dict(c) for c in record.components]
    return data


def task_from_dict(data: dict[str, Any]) -> TaskRecord:
    values = dict(data)
    values["components"] = tuple(component_from_dict(c) for c in values.get("components", ()))
    return TaskRecord(**values)


def run_to_dict(record: RunRecord) -> dict[str, Any]:
    data = {f.name: getattr(record, f.name) for f in fields(RunRecord)}
    data["hardware"] = [dict(item) for item in record.hardware]
    data["notes"] = list(record.notes)
    return data


def run_from_dict(data: dict[str, Any]) -> RunRecord:
    values = dict(data)
    values["hardware"] = tuple(dict(item) for item in values.get("hardware", ()))
    values["notes"] = tuple(values.get("notes", ()))
    return RunRecord(**values)


INTERVAL_FIELDS = tuple(f.name for f in fields(IntervalRecord))
"""Column order of intervals written as rows (the spool keeps them as lists, not dicts, to stay small)."""


def interval_to_row(record: IntervalRecord) -> list[Any]:
    return [getattr(record, name) for name in INTERVAL_FIELDS]


def interval_from_row(row: list[Any], columns: tuple[str, ...] = INTERVAL_FIELDS) -> IntervalRecord:
    return IntervalRecord(**dict(zip(columns, row, strict=True)))
