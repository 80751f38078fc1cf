"""Run groups read back from a store: a distributed run's parts summed so that no device is counted twice.

Each part (one rank's run) measured what it owns (``wattprint.run.group``): the node's leader the machine-wide
components, every rank its own GPUs; with ``attribution = "process"`` every part its own share of everything. The
totals here sum the parts by device: a machine-wide device is keyed by (attempt, node, component, device) and
counted once, from the largest report if several parts sent it (a note says so); a rank's own devices are keyed
by the part. Elastic restarts are attempts whose energy all counts (the work was done), each with its own leader.
The group's duration is its wall time, first start to last end.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import literal_column, select

from wattprint.api.records import PER_RANK_COMPONENTS, GroupRecord
from wattprint.store import schema
from wattprint.store.records import ComponentRecord, RunRecord
from wattprint.store.runstore import RunStore, _record, _run_from_row, _run_select

GROUP_ID_SQL = {
    "sqlite": "json_extract(extra, '$.group.group_id')",
    "postgresql": "((extra::jsonb -> 'group') ->> 'group_id')",
}
"""The group id of a run's ``extra`` in each database's SQL: the text migration 0004 indexes, so kept the same."""


@dataclass(frozen=True)
class PartTotal:
    """One part (rank) of a group: its run, its place, and the energy it adds to the group's total."""

    run: RunRecord
    group: GroupRecord
    counted_j: float
    node: str


@dataclass(frozen=True)
class NodeTotal:
    """One node of a group: its host, its parts and the energy counted for it."""

    node: str
    hostname: str
    parts: int
    energy_j: float
    leader: str | None
    """The run id of the part that measured the node's machine-wide components (None if no part did)."""


@dataclass(frozen=True)
class DeviceTotal:
    component: str
    device: str
    node: str
    energy_j: float
    method: str
    reported_by: int
    """How many parts sent this device: more than one means it was counted once, not that many times."""


@dataclass(frozen=True)
class GroupTotals:
    """A run group's totals, with its per-node, per-part and per-device breakdown."""

    group_id: str
    launcher: str
    project: str | None
    name: str | None
    status: str
    started_at: float
    ended_at: float
    duration_s: float
    energy_j: float
    emissions_g: float | None
    world_size: int | None
    attempts: int
    components: dict[str, float]
    nodes: tuple[NodeTotal, ...]
    parts: tuple[PartTotal, ...]
    devices: tuple[DeviceTotal, ...]
    notes: tuple[str, ...] = field(default=())


def group_id_column(store: RunStore) -> Any:
    """The indexed expression of a run's group id in ``store``'s database (a SQLAlchemy column expression)."""
    return literal_column(GROUP_ID_SQL[store.dialect])


def group_parts(store: RunStore, group_id: str) -> list[RunRecord]:
    """Every stored part of the group, oldest first (through the index of migration 0004)."""
    runs = schema.runs
    query = (_run_select().where(group_id_column(store) == group_id)
             .order_by(runs.c.started_at, runs.c.run_id))
    store._reap()  # noqa: SLF001 - as RunStore.runs does: a part whose writer is gone reads as killed
    with store._read() as conn:  # noqa: SLF001
        return [_run_from_row(row._mapping) for row in conn.execute(query)]


def _components(store: RunStore, run_ids: Sequence[str]) -> dict[str, list[ComponentRecord]]:
    table = schema.run_components
    found: dict[str, list[ComponentRecord]] = {run_id: [] for run_id in run_ids}
    with store._read() as conn:  # noqa: SLF001
        for start in range(0, len(run_ids), 500):
            query = (select(table).where(table.c.run_id.in_(run_ids[start:start + 500]))
                     .order_by(table.c.run_id, table.c.position))
            for row in conn.execute(query):
                found[row.run_id].append(_record(ComponentRecord, row))
    return found


def group_totals(store: RunStore, group_id: str) -> GroupTotals:
    """The group's totals; LookupError naming the group when the store holds no part of it."""
    parts = [run for run in group_parts(store, group_id) if run.details.group is not None]
    if not parts:
        raise LookupError(f"no run group {group_id!r} in the store {store.url}")
    return summarise(parts, _components(store, [run.run_id for run in parts]))


def summarise(parts: Sequence[RunRecord], components: dict[str, list[ComponentRecord]]) -> GroupTotals:
    """Totals of a group's parts (each with its ``extra.group``) and their component records."""
    notes: list[str] = []
    kept: dict[tuple[object, ...], tuple[float, ComponentRecord, str, int]] = {}
    """device key -> (energy, record, run id, parts that reported it)."""
    node_of: dict[str, str] = {}
    for run in parts:
        group = run.details.group
        assert group is not None
        node = run.hostname if group.node_rank is None else f"{group.node_rank}"
        node_of[run.run_id] = node
        for record in components[run.run_id]:
            per_part = record.component in PER_RANK_COMPONENTS or run.attribution == "process"
            key: tuple[object, ...] = (run.run_id, record.component, record.device) if per_part else (
                group.attempt, node, record.component, record.device)
            before = kept.get(key)
            if before is None:
                kept[key] = (record.energy_j, record, run.run_id, 1)
            else:
                best = max((before[0], before[1], before[2]), (record.energy_j, record, run.run_id),
                           key=lambda item: item[0])
                kept[key] = (best[0], best[1], best[2], before[3] + 1)
    counted: dict[str, float] = {run.run_id: 0.0 for run in parts}
    devices: list[DeviceTotal] = []
    by_component: dict[str, float] = {}
    for key, (energy, record, run_id, reporters) in kept.items():
        counted[run_id] += energy
        by_component[record.component] = by_component.get(record.component, 0.0) + energy
        devices.append(DeviceTotal(record.component, record.device, node_of[run_id], energy, record.method,
                                   reporters))
        if reporters > 1 and energy > 0:
            notes.append(f"{record.component} {record.device} on node {node_of[run_id]} was reported by "
                         f"{reporters} parts (attempt {key[0]}); counted once.")
    part_totals = tuple(
        PartTotal(run, run.details.group, counted[run.run_id], node_of[run.run_id])  # type: ignore[arg-type]
        for run in sorted(parts, key=lambda r: (_rank(r), r.started_at))
    )
    nodes = []
    for node in sorted(set(node_of.values()), key=_node_order):
        members = [p for p in part_totals if p.node == node]
        leader = next((p.run.run_id for p in members if p.group.measures_host), None)
        nodes.append(NodeTotal(node, members[0].run.hostname, len(members), sum(p.counted_j for p in members),
                               leader))
    started = min(run.started_at for run in parts)
    ended = max(run.ended_at or run.updated_at for run in parts)
    emissions = None
    if any(run.emissions_g is not None for run in parts):
        emissions = sum((run.emissions_g or 0.0) * (counted[run.run_id] / run.energy_j if run.energy_j > 0 else 0.0)
                        for run in parts)
    first = parts[0]
    group = first.details.group
    assert group is not None
    last_attempt = max(p.group.attempt for p in part_totals)
    statuses = {p.run.status for p in part_totals if p.group.attempt == last_attempt}  # an elastic restart's own
    status = next((s for s in ("running", "failed", "killed") if s in statuses), "finished")
    return GroupTotals(
        group_id=group.group_id, launcher=group.launcher, project=first.project, name=first.name, status=status,
        started_at=started, ended_at=ended, duration_s=max(0.0, ended - started),
        energy_j=sum(counted.values()), emissions_g=emissions,
        world_size=max((p.group.world_size or 0 for p in part_totals), default=0) or None,
        attempts=1 + last_attempt, components=by_component, nodes=tuple(nodes),
        parts=part_totals, devices=tuple(sorted(devices, key=lambda d: (_node_order(d.node), d.component,
                                                                        d.device))),
        notes=tuple(notes),
    )


def _rank(run: RunRecord) -> tuple[int, int]:
    group = run.details.group
    assert group is not None
    return (group.attempt, group.rank if group.rank is not None else 1 << 30)


def _node_order(node: str) -> tuple[int, str]:
    return (int(node), "") if node.isdigit() else (1 << 30, node)
