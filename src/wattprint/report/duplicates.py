"""Wasted retraining: runs that trained the same thing again, and what the repeats cost.

Runs with the same config fingerprint (the same hyperparameters, git commit and entry script; see
:mod:`wattprint.run.fingerprint`) form a group. The first run of a group (the earliest started) is the original;
every later one is a repeat, and the energy and emissions of the repeats are what retraining cost. Runs without
a fingerprint (no hyperparameters given) are never grouped.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from wattprint.api.records import RunRecord
from wattprint.core.formatting import format_emissions, format_energy
from wattprint.core.units import J_PER_KWH
from wattprint.report.summary import iso8601


@dataclass(frozen=True)
class DuplicateGroup:
    """Runs with one config fingerprint, oldest first: the original and its repeats."""

    fingerprint: str
    runs: tuple[RunRecord, ...]

    @property
    def original(self) -> RunRecord:
        return self.runs[0]

    @property
    def repeats(self) -> tuple[RunRecord, ...]:
        return self.runs[1:]

    @property
    def repeat_energy_kwh(self) -> float:
        """IT energy of the repeats, kWh."""
        return sum(run.energy_j for run in self.repeats) / J_PER_KWH

    @property
    def repeat_emissions_g(self) -> float | None:
        """Emissions of the repeats, g CO2e (None when none of them has carbon figures)."""
        known = [run.emissions_g for run in self.repeats if run.emissions_g is not None]
        return sum(known) if known else None

    @property
    def repeats_without_emissions(self) -> int:
        """Repeats whose emissions are unknown (not counted in ``repeat_emissions_g``)."""
        return sum(1 for run in self.repeats if run.emissions_g is None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "config_fingerprint": self.fingerprint,
            "runs": len(self.runs),
            "repeats": len(self.repeats),
            "repeat_energy_kwh": self.repeat_energy_kwh,
            "repeat_emissions_g": self.repeat_emissions_g,
            "repeats_without_emissions": self.repeats_without_emissions,
            "project": self.original.project,
            "name": self.original.name,
            "run_ids": [run.run_id for run in self.runs],
            "statuses": [run.status for run in self.runs],
            "started_at": [iso8601(run.started_at) for run in self.runs],
        }


def find_duplicates(runs: Iterable[RunRecord]) -> list[DuplicateGroup]:
    """Groups of two or more runs sharing a config fingerprint, the costliest repeats first."""
    groups: dict[str, list[RunRecord]] = {}
    for run in runs:
        if run.config_fingerprint:
            groups.setdefault(run.config_fingerprint, []).append(run)
    found = [
        DuplicateGroup(fingerprint, tuple(sorted(members, key=lambda r: (r.started_at, r.run_id))))
        for fingerprint, members in groups.items()
        if len(members) > 1
    ]
    found.sort(key=lambda g: (-g.repeat_energy_kwh, g.fingerprint))
    return found


def duplicates_json(groups: list[DuplicateGroup]) -> dict[str, Any]:
    """The JSON of ``wattprint runs --duplicates --json``: the groups and the totals of their repeats."""
    emissions = [g.repeat_emissions_g for g in groups if g.repeat_emissions_g is not None]
    return {
        "groups": [g.to_dict() for g in groups],
        "repeats": sum(len(g.repeats) for g in groups),
        "repeat_energy_kwh": sum(g.repeat_energy_kwh for g in groups),
        "repeat_emissions_g": sum(emissions) if emissions else None,
    }


def duplicates_text(groups: list[DuplicateGroup]) -> str:
    """One block per group: the fingerprint, the runs, and the energy and emissions of the repeats."""
    if not groups:
        return "no repeated runs (runs are compared by config fingerprint: pass hyperparameters= to the tracker)"
    lines = []
    for group in groups:
        title = " · ".join(p for p in (group.original.project, group.original.name) if p) or "-"
        lines.append(
            f"{group.fingerprint[:12]}  {title}: {len(group.runs)} runs, {len(group.repeats)} repeat(s) used "
            f"{_cost(group.repeat_energy_kwh, group.repeat_emissions_g)}"
        )
        for index, run in enumerate(group.runs):
            role = "original" if index == 0 else "repeat"
            started = (iso8601(run.started_at) or "")[:19].replace("T", " ")
            lines.append(
                f"  {run.run_id[:12]}  {started}  {run.status:<8} {format_energy(run.energy_j):>11}  {role}"
            )
    summary = duplicates_json(groups)
    lines.append(
        f"in all: {summary['repeats']} repeated run(s) used "
        f"{_cost(summary['repeat_energy_kwh'], summary['repeat_emissions_g'])}"
    )
    return "\n".join(lines)


def _cost(energy_kwh: float, emissions_g: float | None) -> str:
    text = format_energy(energy_kwh * J_PER_KWH)
    if emissions_g is not None:
        text += f" and {format_emissions(emissions_g)}"
    return text
