"""Exporting runs from the store as CSV or JSON, one row per run or per interval."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from wattprint.core.codec import to_dict
from wattprint.report.summary import iso8601, run_json

RUN_COLUMNS = (
    "run_id", "project", "name", "status", "started_at", "ended_at", "duration_s", "attribution", "energy_j",
    "energy_kwh", "energy_uncertainty_rel", "method", "facility_energy_kwh", "pue", "emissions_g",
    "emissions_uncertainty_rel", "water_l", "intensity_g_per_kwh", "intensity_zone", "intensity_source",
    "intensity_year", "how_located", "host", "user", "command", "exit_code",
)
INTERVAL_COLUMNS = (
    "run_id", "project", "name", "bucket", "start", "start_offset_s", "end_offset_s", "component", "device",
    "energy_j", "avg_power_w", "method", "uncertainty_rel", "emissions_g", "intensity_g_per_kwh",
)


def export_runs(store: Any, *, project: str | None = None, fmt: str = "csv", intervals: bool = False) -> str:
    """All runs (of ``project``), oldest first, as CSV or JSON text; with ``intervals``, their interval records."""
    if fmt not in ("csv", "json"):
        raise ValueError(f"format={fmt!r} is not valid; allowed values: 'csv', 'json'")
    runs = list(reversed(store.runs(project=project, limit=None)))
    if fmt == "json":
        items = []
        for run in runs:
            item = run_json(run, store.components(run.run_id), store.tasks(run.run_id))
            if intervals:
                item["intervals"] = [to_dict(i) for i in store.intervals(run.run_id)]
            items.append(item)
        return json.dumps(items, indent=2, ensure_ascii=False) + "\n"
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if intervals:
        writer.writerow(INTERVAL_COLUMNS)
        for run in runs:
            for i in store.intervals(run.run_id):
                writer.writerow([
                    run.run_id, run.project or "", run.name or "", i.bucket, iso8601(run.started_at + i.start_offset_s),
                    f"{i.start_offset_s:.3f}", f"{i.end_offset_s:.3f}", i.component, i.device, repr(i.energy_j),
                    repr(i.avg_power_w), i.method, repr(i.uncertainty_rel),
                    "" if i.emissions_g is None else repr(i.emissions_g),
                    "" if i.intensity_g_per_kwh is None else repr(i.intensity_g_per_kwh),
                ])
        return buffer.getvalue()
    writer.writerow(RUN_COLUMNS)
    for run in runs:
        data = run_json(run, store.components(run.run_id))
        intensity = data.get("intensity") or {}
        data.update({f"intensity_{k}": v for k, v in intensity.items() if k in ("g_per_kwh", "zone", "source", "year")})
        data["how_located"] = intensity.get("how_located")
        writer.writerow(["" if data.get(c) is None else data[c] for c in RUN_COLUMNS])
    return buffer.getvalue()
