"""Run groups (distributed runs) for people and scripts: ``wattprint show GROUP`` and the group lines of
``wattprint runs`` (docs/distributed.md)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from wattprint.core.formatting import format_duration, format_emissions, format_energy, shorten
from wattprint.core.units import J_PER_KWH
from wattprint.report.summary import iso8601, runs_table

TYPE_CHECKING = False
if TYPE_CHECKING:
    from wattprint.api.records import RunRecord
    from wattprint.store.groups import GroupTotals


def group_json(totals: GroupTotals, sacct: Any = None) -> dict[str, Any]:
    """The one JSON object of ``wattprint show GROUP --json``."""
    found: dict[str, Any] = {
        "group_id": totals.group_id,
        "launcher": totals.launcher,
        "project": totals.project,
        "name": totals.name,
        "status": totals.status,
        "started_at": iso8601(totals.started_at),
        "ended_at": iso8601(totals.ended_at),
        "duration_s": totals.duration_s,
        "energy_j": totals.energy_j,
        "energy_kwh": totals.energy_j / J_PER_KWH,
        "method": _method(totals),
        "energy_uncertainty_rel": _weighted(totals, "energy_uncertainty_rel"),
        "emissions_g": totals.emissions_g,
        "emissions_uncertainty_rel": None if totals.emissions_g is None else _weighted(
            totals, "emissions_uncertainty_rel"),
        "world_size": totals.world_size,
        "attempts": totals.attempts,
        "components": dict(totals.components),
        "nodes": [{"node": n.node, "hostname": n.hostname, "parts": n.parts, "energy_j": n.energy_j,
                   "leader_run_id": n.leader} for n in totals.nodes],
        "parts": [{"run_id": p.run.run_id, "rank": p.group.rank, "local_rank": p.group.local_rank, "node": p.node,
                   "attempt": p.group.attempt, "measures_host": p.group.measures_host, "status": p.run.status,
                   "duration_s": p.run.duration_s, "energy_j": p.counted_j} for p in totals.parts],
        "devices": [{"node": d.node, "component": d.component, "device": d.device, "energy_j": d.energy_j,
                     "method": d.method, "reported_by": d.reported_by} for d in totals.devices],
        "notes": list(totals.notes),
    }
    if sacct is not None:
        found["slurm"] = sacct.to_json()
    return found


def _method(totals: GroupTotals) -> str | None:
    """The least direct method among the devices counted (None for a group with no device yet)."""
    from wattprint.core.methods import METHODS, weakest_method

    known = [d.method.split("+")[0] for d in totals.devices if d.method.split("+")[0] in METHODS]
    return weakest_method(known) if known else None


def _weighted(totals: GroupTotals, name: str) -> float | None:
    """A part's relative uncertainty ``name`` weighted by the energy it adds, taken as correlated (a bound)."""
    weights = [(p.counted_j, getattr(p.run, name)) for p in totals.parts if getattr(p.run, name) is not None]
    total = sum(weight for weight, _ in weights)
    return sum(weight * rel for weight, rel in weights) / total if total > 0 else None


def group_text(totals: GroupTotals, sacct: Any = None) -> str:
    """What ``wattprint show GROUP`` prints: the totals, then per node, per part and per device."""
    return group_json_text(group_json(totals), None if sacct is None else sacct.lines(totals.energy_j))


def group_json_text(data: dict[str, Any], extra_lines: Sequence[str] | None = None) -> str:
    """The text of a group from its JSON (``group_json``, or a team server's ``GET /api/v1/groups/{id}``), with
    ``extra_lines`` (SLURM's own figure) before its notes."""
    nodes, parts = data["nodes"], data["parts"]
    emissions = "" if data["emissions_g"] is None else f"   {format_emissions(data['emissions_g'])}"
    attempts = f", {data['attempts']} attempts" if data["attempts"] > 1 else ""
    lines = [
        f"run group {data['group_id']} ({data['launcher']}; {len(parts)} parts on {len(nodes)} "
        f"node{'s' if len(nodes) != 1 else ''}{attempts})   {data['status']}",
        f"  project {data['project'] or '-'}   name {data['name'] or '-'}   started "
        f"{(data['started_at'] or '')[:19].replace('T', ' ')} UTC",
        f"  {format_duration(data['duration_s'])} (wall time, first start to last end)   "
        f"{format_energy(data['energy_j'])}{emissions}",
        "  each device counted once: the node's CPU and RAM from its leader, each rank's own GPUs from its part",
        f"  {'node':<6} {'host':<20} {'parts':>5} {'energy':>12}  leader",
    ]
    for node in nodes:
        lines.append(f"  {node['node']:<6} {shorten(node['hostname'], 20):<20} {node['parts']:>5} "
                     f"{format_energy(node['energy_j']):>12}  {(node['leader_run_id'] or 'none')[:12]}")
    lines.append(f"  {'rank':>4} {'node':<6} {'attempt':>7} {'part':<12} {'status':<8} {'duration':>9} "
                 f"{'energy':>12}")
    for part in parts:
        rank = "?" if part["rank"] is None else str(part["rank"])
        lead = "  (leader)" if part["measures_host"] else ""
        lines.append(f"  {rank:>4} {part['node']:<6} {part['attempt']:>7} {part['run_id'][:12]:<12} "
                     f"{part['status']:<8} {format_duration(part['duration_s']):>9} "
                     f"{format_energy(part['energy_j']):>12}{lead}")
    lines.append(f"  {'node':<6} {'component':<10} {'device':<12} {'energy':>12}  method")
    for device in data["devices"]:
        lines.append(f"  {device['node']:<6} {device['component']:<10} {device['device']:<12} "
                     f"{format_energy(device['energy_j']):>12}  {device['method']}")
    lines += list(extra_lines or ())
    lines += [f"  note: {note}" for note in data["notes"]]
    return "\n".join(lines)


def part_line(run: RunRecord) -> str | None:
    """The line ``wattprint show`` adds for a part of a group (None for a run outside one)."""
    group = run.details.group
    if group is None:
        return None
    place = f"rank {group.rank}" if group.rank is not None else "a rank"
    if group.world_size:
        place += f" of {group.world_size}"
    role = "measured its node's CPU and RAM" if group.measures_host else "measured its own devices"
    return (f"  part of run group {group.group_id} ({place}, {role}); the group's totals: "
            f"wattprint show {group.group_id}")


@dataclass(frozen=True)
class GroupLine:
    """What a listing of runs shows of a run group: one line in place of its parts."""

    group_id: str
    name: str | None
    project: str | None
    status: str
    started_at: float
    duration_s: float
    energy_j: float
    parts: int

    @classmethod
    def of_totals(cls, totals: GroupTotals) -> GroupLine:
        return cls(totals.group_id, totals.name, totals.project, totals.status, totals.started_at,
                   totals.duration_s, totals.energy_j, len(totals.parts))

    @classmethod
    def of_json(cls, found: dict[str, Any]) -> GroupLine:
        """From ``group_json`` (a team server's ``GET /groups/{id}``)."""
        from datetime import datetime

        return cls(found["group_id"], found.get("name"), found.get("project"), found["status"],
                   datetime.fromisoformat(found["started_at"]).timestamp(), found["duration_s"], found["energy_j"],
                   len(found.get("parts") or ()))


def runs_with_groups(runs: Sequence[RunRecord], groups: dict[str, GroupLine]) -> str:
    """``runs_table`` with each run group's parts folded into one line, where its newest part is, naming its parts
    count; ``groups`` holds every group the runs are parts of."""
    if not runs:
        return runs_table(runs)
    lines = [runs_table(runs[:1]).splitlines()[0]]
    shown: set[str] = set()
    for run in runs:
        group = run.details.group
        if group is None or group.group_id not in groups:
            lines.append(runs_table([run]).splitlines()[1])
            continue
        if group.group_id in shown:
            continue
        shown.add(group.group_id)
        found = groups[group.group_id]
        started = (iso8601(found.started_at) or "")[:19].replace("T", " ")
        label = f"{shorten(found.name or '-', 10)} ×{found.parts} parts"
        lines.append(f"{found.group_id[:12]:<12}  {started:<19}  {shorten(found.project or '-', 14):<14} "
                     f"{shorten(label, 18):<18} {found.status:<8} {format_duration(found.duration_s):>9} "
                     f"{format_energy(found.energy_j):>11}  group {found.group_id}")
    return "\n".join(lines)
