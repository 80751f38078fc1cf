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
        **carbon_json(run),
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


def carbon_json(run: RunRecord) -> dict[str, Any]:
    """The carbon keys of a run's JSON: facility energy, PUE, emissions, water, the intensity and equivalents."""
    from dataclasses import asdict

    extra = run.extra or {}
    if run.emissions_g is None:
        return {"facility_energy_kwh": None, "pue": None, "emissions_g": None, "emissions_uncertainty_rel": None,
                "water_l": None, "intensity": None, "equivalents": []}
    from wattprint.equivalents import equivalents

    return {
        "facility_energy_kwh": (run.facility_energy_j or 0.0) / J_PER_KWH,
        "pue": run.pue,
        "pue_source": extra.get("pue_source"),
        "emissions_g": run.emissions_g,
        "emissions_uncertainty_rel": run.emissions_uncertainty_rel,
        "water_l": run.water_l,
        "embodied_g": run.embodied_g,
        "intensity": {
            "g_per_kwh": run.intensity_g_per_kwh,
            "zone": run.intensity_zone,
            "name": extra.get("intensity_name"),
            "source": run.intensity_source,
            "year": run.intensity_year,
            "kind": run.intensity_kind,
            "how_located": run.how_located,
            "uncertainty_rel": run.intensity_uncertainty_rel,
        },
        "location": run.location,
        "equivalents": [asdict(e) for e in equivalents(run.emissions_g)],
    }


def format_emissions(grams: float) -> str:
    """Emissions in the unit that reads best: g, kg or t CO2e."""
    if grams < 0.1:
        return f"{grams * 1000:.3g} mg CO2e"
    if grams < 1000:
        return f"{grams:.3g} g CO2e"
    if grams < 1e6:
        return f"{grams / 1000:.3g} kg CO2e"
    return f"{grams / 1e6:.3g} t CO2e"


def carbon_lines(run: RunRecord) -> list[str]:
    """The emissions line, where the intensity came from, everyday equivalents, and how to set an unknown location."""
    if run.emissions_g is None:
        return []
    from wattprint.carbon import location_hint
    from wattprint.carbon.location import HOW_UNKNOWN
    from wattprint.equivalents import format_equivalents

    extra = run.extra or {}
    water = f"   water {run.water_l:.3g} L" if run.water_l is not None else ""
    lines = [
        f"  emissions {format_emissions(run.emissions_g)} ± {run.emissions_uncertainty_rel or 0:.0%}   "
        f"facility energy {format_energy(run.facility_energy_j or 0.0)} (PUE {run.pue:.2f}){water}",
        f"  intensity {run.intensity_g_per_kwh:.4g} gCO2e/kWh ± {run.intensity_uncertainty_rel or 0:.0%} "
        f"({extra.get('intensity_name') or run.intensity_zone}; {run.intensity_source}"
        f"{', ' + str(run.intensity_year) if run.intensity_year else ''}; {run.how_located})",
    ]
    if run.emissions_g >= 1.0:  # below a gram, everyday equivalents are all vanishing fractions
        lines.append(f"  {format_equivalents(run.emissions_g)}")
    if run.how_located == HOW_UNKNOWN:
        hint = location_hint()
        if hint:
            lines.append(f"  {hint}")
    return lines


def format_energy(joules: float) -> str:
    """Energy in the unit that reads best: J, Wh or kWh."""
    wh = joules / 3600
    if wh < 0.1:
        return f"{joules:.1f} J"
    if wh < 1000:
        return f"{wh:.2f} Wh"
    return f"{wh / 1000:.3f} kWh"


def format_duration(seconds: float) -> str:
    if seconds < 60:
        return f"{max(0.0, seconds):.1f} s"
    seconds = int(round(seconds))
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
    lines += carbon_lines(run)
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
