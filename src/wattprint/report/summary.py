"""Summaries of runs: the JSON object scripts read, and the text people read.

Both are built from store records, so a run just measured and a run read back from the store print the same.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from wattprint.results import J_PER_KWH, MODEL, weakest_method
from wattprint.store.records import ComponentRecord, RunRecord, TaskRecord


def iso8601(unix_s: float | None) -> str | None:
    """UTC ISO 8601 with seconds, e.g. ``2026-11-23T18:21:05Z``."""
    if unix_s is None:
        return None
    return dt.datetime.fromtimestamp(unix_s, dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def run_json(
    run: RunRecord, components: Sequence[ComponentRecord], tasks: Sequence[TaskRecord] = ()
) -> dict[str, Any]:
    """The one JSON object of ``wattprint run --json`` and ``wattprint show --json``."""
    used = [c.method for c in components if c.energy_j > 0] or [c.method for c in components]
    return {
        "run_id": run.run_id,
        "project": run.project,
        "name": run.name,
        "status": run.status,
        "started_at": iso8601(run.started_at),
        "ended_at": iso8601(run.ended_at),
        "duration_s": run.duration_s,
        "attribution": run.attribution,
        "energy_j": run.energy_j,
        "energy_kwh": run.energy_j / J_PER_KWH,
        "energy_uncertainty_rel": run.energy_uncertainty_rel,
        "method": weakest_method(used) if used else MODEL,
        "components": [
            {
                "component": c.component,
                "device": c.device,
                "energy_j": c.energy_j,
                "avg_power_w": c.avg_power_w,
                "method": c.method,
                "uncertainty_rel": c.uncertainty_rel,
            }
            for c in components
        ],
        "tasks": [
            {
                "name": t.name,
                "started_at": iso8601(t.started_at),
                "duration_s": t.duration_s,
                "energy_j": t.energy_j,
                "uncertainty_rel": t.uncertainty_rel,
                "method": t.method,
            }
            for t in tasks
        ],
        "hardware": list(run.hardware),
        "notes": list(run.notes),
        "host": run.hostname,
        "user": run.username,
        "command": run.command,
        "exit_code": run.exit_code,
        "wattprint_version": run.wattprint_version,
    }


def format_energy(joules: float) -> str:
    """Energy in the unit that reads best: J, Wh or kWh."""
    wh = joules / 3600
    if wh < 0.1:
        return f"{joules:.1f} J"
    if wh < 1000:
        return f"{wh:.2f} Wh"
    return f"{wh / 1000:.3f} kWh"


def format_duration(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


def run_text(run: RunRecord, components: Sequence[ComponentRecord], tasks: Sequence[TaskRecord] = ()) -> str:
    """A few lines for a terminal: totals, the component table with methods and uncertainties, tasks, notes."""
    title = " · ".join(p for p in (run.project, run.name) if p)
    lines = [f"run {run.run_id[:12]}  {title}  [{run.status}]".rstrip()]
    power = run.energy_j / run.duration_s if run.duration_s > 0 else 0.0
    lines.append(
        f"  {format_duration(run.duration_s)}   {format_energy(run.energy_j)} ± {run.energy_uncertainty_rel:.0%}"
        f"   average {power:.1f} W   attribution {run.attribution}"
    )
    if run.command:
        exit_text = "" if run.exit_code is None else f" (exit {run.exit_code})"
        lines.append(f"  command: {run.command}{exit_text}")
    if components:
        lines.append(f"  {'component':<10} {'device':<12} {'energy':>12} {'power':>9}  {'method':<8} {'±':>4}")
        for c in components:
            lines.append(
                f"  {c.component:<10} {c.device:<12} {format_energy(c.energy_j):>12} {c.avg_power_w:>7.1f} W  "
                f"{c.method:<8} {c.uncertainty_rel:>4.0%}"
            )
    if tasks:
        shown = ", ".join(f"{t.name} {format_energy(t.energy_j)}" for t in tasks[:5])
        more = f", … {len(tasks) - 5} more" if len(tasks) > 5 else ""
        lines.append(f"  tasks ({len(tasks)}): {shown}{more}")
    for note in run.notes:
        lines.append(f"  note: {note}")
    return "\n".join(lines)


def runs_table(runs: Sequence[RunRecord]) -> str:
    """One line per run, newest first."""
    if not runs:
        return "no runs yet"
    header = (
        f"{'run':<12}  {'started (UTC)':<19}  {'project':<14} {'name':<18} {'status':<8} {'duration':>9} "
        f"{'energy':>11}"
    )
    lines = [header]
    for run in runs:
        started = (iso8601(run.started_at) or "")[:19].replace("T", " ")
        lines.append(
            f"{run.run_id[:12]:<12}  {started:<19}  {(run.project or '-')[:14]:<14} {(run.name or '-')[:18]:<18} "
            f"{run.status:<8} {format_duration(run.duration_s):>9} {format_energy(run.energy_j):>11}"
        )
    return "\n".join(lines)
