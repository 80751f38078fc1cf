"""CodeCarbon's API calls as wattprint runs: a CodeCarbon run is a run marked imported from CodeCarbon, and each
of its emission reports one interval bucket per component (stdlib only; the routes are in ``codecarbon_api``).

CodeCarbon's client sends, per report, the energy, emissions and time since its previous report: energies in kWh
(its ``pue`` setting included, which the API does not send), emissions in kg, the duration truncated to whole
seconds, and the client's clock as an ISO 8601 ``timestamp``. Summing the truncated durations would lose up to a
second per report, so a run's time is read from the reports' timestamps instead: each bucket ends at its
report's timestamp and starts where the previous one ended; the first starts its own time before it, which is
``emissions_sum / emissions_rate`` (CodeCarbon computes the rate from the exact time), not the truncated
``duration``. Reports of under a second CodeCarbon's client never sends: their energy is missing from its runs.
"""

from __future__ import annotations

import datetime as dt
import math
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from wattprint._version import __version__
from wattprint.api.records import ComponentRecord, IntervalRecord, RunExtra, RunRecord
from wattprint.core.units import J_PER_KWH
from wattprint.importers.codecarbon import INTENSITY_UNCERTAINTY_UNLISTED, TOOL, UNCERTAINTY
from wattprint.importers.common import IMPORTED

COMPONENTS = ("cpu", "gpu", "ram")
NAMESPACE = uuid.UUID("1f6c1d0e-8d0a-4f0b-9a57-7761747470e1")
"""The namespace of the ids this server gives CodeCarbon's organisation and projects (stable, so never stored)."""
ORGANIZATION_ID = str(uuid.uuid5(NAMESPACE, "organization"))
ORGANIZATION = {"id": ORGANIZATION_ID, "name": "wattprint",
                "description": "this wattprint server: its projects are CodeCarbon's projects"}
SAME_TIME_S = 1e-3
"""A report whose timestamp is this close to a stored one's is that report sent again (a retry): not added."""


def project_id(name: str) -> str:
    """The CodeCarbon id of the wattprint project ``name``."""
    return str(uuid.uuid5(NAMESPACE, "project:" + name))


def project_json(name: str) -> dict[str, Any]:
    return {"id": project_id(name), "name": name, "description": f"wattprint project {name}",
            "organization_id": ORGANIZATION_ID}


def parse_time(text: str) -> float:
    """Unix seconds of an ISO 8601 time (CodeCarbon sends the client's local time with its offset; UTC if none)."""
    moment = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.timestamp()


def new_run(body: Mapping[str, Any], *, project: str | None, experiment: Mapping[str, Any] | None,
            now: float) -> RunRecord:
    """The run a ``POST /runs`` creates: no energy yet, ``running`` until its first report."""
    cc_id = str(uuid.uuid4())
    started = parse_time(body["timestamp"]) if body.get("timestamp") else now
    hardware = [{"component": "cpu", "device": "cpu", "model": body.get("cpu_model"), "source": TOOL,
                 "power_limit_w": None, "detail": f"cpu_count {body.get('cpu_count') or '?'} (as CodeCarbon sent)"}]
    if body.get("gpu_count"):
        hardware.append({"component": "gpu", "device": "gpu", "model": body.get("gpu_model"), "source": TOOL,
                         "power_limit_w": None, "detail": f"gpu_count {body['gpu_count']} (as CodeCarbon sent)"})
    if body.get("ram_total_size") is not None:
        hardware.append({"component": "ram", "device": "ram", "model": f"{float(body['ram_total_size']):.3g} GB",
                         "source": TOOL, "power_limit_w": None, "detail": "ram_total_size (as CodeCarbon sent)"})
    said = ", ".join(f"{key}={body[key]}" for key in ("region", "provider") if body.get(key))
    version = body.get("codecarbon_version")
    name = (experiment or {}).get("name") or f"codecarbon {cc_id[:8]}"
    return RunRecord(
        run_id=uuid.UUID(cc_id).hex, project=project, name=name, status="running", started_at=started,
        updated_at=now, ended_at=None, duration_s=0.0, energy_j=0.0,
        energy_uncertainty_rel=max(UNCERTAINTY.values()), attribution=str(body.get("tracking_mode") or "machine"),
        hostname="unknown (sent by CodeCarbon)", username="unknown (sent by CodeCarbon)", pid=0,
        wattprint_version=__version__, hardware=tuple(hardware),
        notes=(f"sent by CodeCarbon {version or '(version not stated)'} through its API client; its energies are "
               "as CodeCarbon computed them (its pue setting included, which the API does not send)",),
        how_located=f"CodeCarbon's run states {said}" if said else "CodeCarbon's run states no location",
        extra=RunExtra(imported_from=TOOL, tool_version=version, source_run_id=cc_id,
                       source_fields={key: value for key, value in body.items() if value is not None},
                       uncertainty_source="assigned by wattprint: CodeCarbon's API states no method or uncertainty"),
    )


def reported_duration(report: Mapping[str, Any]) -> float:
    """The report's time in seconds: its emissions over its emissions rate (both exact) when it has emissions, as
    CodeCarbon sends its duration truncated to whole seconds; else that duration."""
    emissions = float(report.get("emissions_sum") or 0.0)
    rate = float(report.get("emissions_rate") or 0.0)
    if emissions > 0 and rate > 0 and math.isfinite(emissions / rate):
        return emissions / rate
    return float(report["duration"])


def is_repeat(report: Mapping[str, Any], run: RunRecord, intervals: Sequence[IntervalRecord]) -> bool:
    """Whether ``report`` is one already stored, sent again (same timestamp)."""
    end = parse_time(report["timestamp"]) - run.started_at
    return any(abs(interval.end_offset_s - end) < SAME_TIME_S for interval in intervals)


def add_report(run: RunRecord, intervals: Sequence[IntervalRecord], report: Mapping[str, Any], *,
               now: float) -> tuple[RunRecord, tuple[ComponentRecord, ...], list[IntervalRecord]]:
    """The run with one more emission report: its new state, per-device totals, and the report's buckets."""
    end_at = parse_time(report["timestamp"])
    reported_s = reported_duration(report)
    kept = list(intervals)
    started_at = run.started_at
    if not kept and end_at - reported_s < started_at:  # CodeCarbon's client creates its run at the first report
        started_at = end_at - reported_s
    end = end_at - started_at
    start = min(max(i.end_offset_s for i in kept), end) if kept else max(end - reported_s, 0.0)
    bucket = max((i.bucket for i in kept), default=-1) + 1
    span = end - start
    facility_kwh = float(report["energy_consumed"])
    emissions_g = float(report["emissions_sum"]) * 1000.0
    intensity = emissions_g / facility_kwh if facility_kwh > 0 else run.intensity_g_per_kwh
    added = []
    for component in COMPONENTS:
        kwh = float(report.get(f"{component}_energy") or 0.0)
        if component == "gpu" and kwh <= 0 and not any(i.component == "gpu" for i in kept):
            continue
        energy_j = kwh * J_PER_KWH
        power = energy_j / span if span > 0 else float(report.get(f"{component}_power") or 0.0)
        added.append(IntervalRecord(
            bucket=bucket, start_offset_s=start, end_offset_s=end, component=component, device=component,
            energy_j=energy_j, avg_power_w=power, method=IMPORTED, uncertainty_rel=UNCERTAINTY[component],
            emissions_g=None if intensity is None else kwh * intensity, intensity_g_per_kwh=intensity))
    every = kept + added
    components = _totals(every, end)
    energy_j = sum(c.energy_j for c in components)
    absolute = math.sqrt(sum((c.energy_j * c.uncertainty_rel) ** 2 for c in components))
    energy_u = absolute / energy_j if energy_j > 0 else max(UNCERTAINTY.values())
    total_emissions = sum(i.emissions_g or 0.0 for i in every)
    total_intensity = total_emissions / (energy_j / J_PER_KWH) if energy_j > 0 else intensity
    updated = RunRecord(**{
        **{name: getattr(run, name) for name in run.__dataclass_fields__},
        "status": "finished", "started_at": started_at, "updated_at": max(now, run.updated_at + 1e-6),
        "ended_at": started_at + end, "duration_s": end, "energy_j": energy_j, "energy_uncertainty_rel": energy_u,
        "intensity_g_per_kwh": total_intensity,
        "intensity_source": f"CodeCarbon {run.extra.tool_version if run.extra else ''} (its own data; the API "
                            "does not say which)".replace("  ", " "),
        "intensity_kind": "average", "intensity_uncertainty_rel": INTENSITY_UNCERTAINTY_UNLISTED,
        "emissions_g": total_emissions if total_intensity is not None else None,
        "emissions_uncertainty_rel": math.hypot(energy_u, INTENSITY_UNCERTAINTY_UNLISTED),
        "facility_energy_j": energy_j,
        "notes": _notes(run.notes),
    })
    return updated, components, added


def _notes(notes: tuple[str, ...]) -> tuple[str, ...]:
    ended = ("CodeCarbon's API does not say when a run ends: the run reads finished as of its last report, and a "
             "later report extends it")
    return notes if ended in notes else (*notes, ended)


def _totals(intervals: Sequence[IntervalRecord], duration_s: float) -> tuple[ComponentRecord, ...]:
    energy: dict[str, float] = {}
    for interval in intervals:
        energy[interval.component] = energy.get(interval.component, 0.0) + interval.energy_j
    return tuple(ComponentRecord(component=c, device=c, energy_j=energy[c],
                                 avg_power_w=energy[c] / duration_s if duration_s > 0 else 0.0, method=IMPORTED,
                                 uncertainty_rel=UNCERTAINTY[c]) for c in COMPONENTS if c in energy)
