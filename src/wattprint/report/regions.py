"""Listing and searching the known locations and cloud regions, with their grid intensity and its source."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from wattprint.core.errors import check_choice
from wattprint.data import INTENSITY_KINDS, IntensityRecord, intensity_records, search_intensity


def list_regions(
    query: str | None = None, *, kind: str | None = None, limit: int | None = None
) -> list[IntensityRecord]:
    """Rows matching ``query`` (best first), or every row (by kind, then key); Electricity Maps zones included."""
    if kind is not None:
        check_choice("kind", kind, INTENSITY_KINDS)
    if query:
        return search_intensity(query, kinds=[kind] if kind else None, limit=limit)
    records = list(intensity_records(kind=kind, include_electricitymaps=kind in (None, "em-zone")))
    records.sort(key=lambda r: (INTENSITY_KINDS.index(r.kind), r.key))
    return records[:limit] if limit else records


def region_dict(record: IntensityRecord) -> dict[str, Any]:
    return asdict(record)


def regions_table(records: Sequence[IntensityRecord]) -> str:
    if not records:
        return "no location matches"
    from wattprint.core.formatting import shorten

    lines = [f"{'key':<28} {'kind':<13} {'gCO2e/kWh':>9}  {'basis':<11} {'year':<9} {'name':<36} source"]
    for r in records:
        year = str(r.year) if r.year else "not given"
        lines.append(
            f"{r.key:<28} {r.kind:<13} {r.intensity_g_per_kwh:>9.0f}  {r.basis:<11} {year:<9} "
            f"{shorten(r.name, 36):<36} {r.source}"
        )
    lines.append("basis: lifecycle = generation and upstream emissions; direct = generation (combustion) only; "
                 "compare figures of the same basis")
    return "\n".join(lines)
