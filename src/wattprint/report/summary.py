"""Summaries of runs: the JSON object scripts read, and the text people read.

Both are built from store records, so a run just measured and a run read back from the store print the same.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from wattprint.api.records import ComponentRecord, RunRecord, TaskRecord
from wattprint.core.codec import to_dict
from wattprint.core.formatting import format_duration, format_emissions, format_energy, format_volume_l, shorten
from wattprint.core.results import MODEL, weakest_method
from wattprint.core.units import J_PER_KWH


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
        "components": [to_dict(c) for c in components],
        **carbon_json(run),
        **live_json(run),
        **prediction_json(run),
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
        "parent_run": run.details.parent_run,
        "wattprint_version": run.wattprint_version,
    }


def carbon_json(run: RunRecord) -> dict[str, Any]:
    """The carbon keys of a run's JSON: facility energy, PUE, emissions, water, the intensity and equivalents."""
    from dataclasses import asdict

    intensity = run.intensity_record
    if intensity is None or run.emissions_g is None:
        return {"facility_energy_kwh": None, "pue": None, "emissions_g": None, "emissions_uncertainty_rel": None,
                "water_l": None, "intensity": None, "equivalents": []}
    from wattprint.accounting.equivalents import equivalents

    return {
        "facility_energy_kwh": (run.facility_energy_j or 0.0) / J_PER_KWH,
        "pue": run.pue,
        "pue_source": run.details.pue_source,
        "emissions_g": run.emissions_g,
        "emissions_uncertainty_rel": run.emissions_uncertainty_rel,
        "water_l": run.water_l,
        "embodied_g": run.embodied_g,
        "intensity": to_dict(intensity),
        "location": run.location,
        "equivalents": [asdict(e) for e in equivalents(run.emissions_g)],
    }


def carbon_lines(run: RunRecord) -> list[str]:
    """The emissions line, where the intensity came from, everyday equivalents, and how to set an unknown location."""
    if run.emissions_g is None:
        return []
    from wattprint.accounting.equivalents import format_equivalents
    from wattprint.carbon import location_hint
    from wattprint.carbon.intensity import source_with_year
    from wattprint.carbon.location import HOW_UNKNOWN

    water = f"   water {format_volume_l(run.water_l)}" if run.water_l is not None else ""
    lines = [
        f"  emissions {format_emissions(run.emissions_g)} ± {run.emissions_uncertainty_rel or 0:.0%}   "
        f"facility energy {format_energy(run.facility_energy_j or 0.0)} (PUE {run.pue:.2f}){water}",
        f"  intensity {run.intensity_g_per_kwh:.4g} gCO2e/kWh ± {run.intensity_uncertainty_rel or 0:.0%} "
        f"({run.details.intensity_zone_name or run.intensity_zone}; "
        f"{source_with_year(run.intensity_source or 'source not recorded', run.intensity_year)}; {run.how_located})",
    ]
    everyday = format_equivalents(run.emissions_g)  # empty when no equivalent reads as something
    if everyday:
        lines.append(f"  {everyday}")
    if run.how_located == HOW_UNKNOWN:
        hint = location_hint()
        if hint:
            lines.append(f"  {hint}")
    return lines


def live_json(run: RunRecord) -> dict[str, Any]:
    """The time-resolved total priced with a live provider (None without one) and the signal kind (docs/live.md).

    It stands beside ``emissions_g``, the location-based average total; a ``marginal`` one is not comparable.
    """
    live = run.details.time_resolved
    if live is None:
        return {"signal_kind": run.intensity_kind, "time_resolved": None}
    return {"signal_kind": live.kind, "time_resolved": to_dict(live)}


_SPARKS = "▁▂▃▄▅▆▇█"


def intensity_sparkline(timeline: Sequence[Sequence[Any]], width: int = 32) -> str:
    """The intensity over a run as block characters, one per equal slice of time (a gap is a space)."""
    known = [(float(a), float(b), float(g)) for a, b, g, *_ in timeline if g is not None and b > a]
    if not known:
        return ""
    start, end = known[0][0], max(b for _, b, _ in known)
    low, high = min(g for *_, g in known), max(g for *_, g in known)
    step = (end - start) / width if end > start else 1.0
    marks = []
    for index in range(width):
        a, b = start + index * step, start + (index + 1) * step
        weight = total = 0.0
        for left, right, value in known:
            overlap = min(b, right) - max(a, left)
            if overlap > 0:
                weight += overlap
                total += overlap * value
        if weight <= 0:
            marks.append(" ")
            continue
        level = 3 if high <= low else round((total / weight - low) / (high - low) * (len(_SPARKS) - 1))
        marks.append(_SPARKS[level])
    return "".join(marks).rstrip()


def live_lines(run: RunRecord) -> list[str]:
    """The time-resolved total beside the average one, the intensity over the run, waits and pauses."""
    live = live_json(run)["time_resolved"]
    if not live:
        return []
    where = f"{live.get('provider_title')}, zone {live.get('zone') or 'unknown'}"
    grams, uncertainty = live.get("emissions_g"), live.get("emissions_uncertainty_rel") or 0.0
    if live.get("kind") == "marginal":
        figure = "no marginal value" if grams is None else f"{format_emissions(grams)} ± {uncertainty:.0%}"
        lines = [f"  marginal {figure} ({where}; emissions caused at the margin, not comparable with the average "
                 f"above; covers {live.get('coverage', 0.0):.0%} of the energy)"]
    else:
        shares = f"{live.get('live_share', 0.0):.0%} live"
        if live.get("forecast_share"):
            shares += f", {live['forecast_share']:.0%} forecast"
        if live.get("fallback_share"):
            shares += f", {live['fallback_share']:.0%} at the yearly average"
            from wattprint.carbon.live import FALLBACK_REASONS

            why = [FALLBACK_REASONS.get(r, r) for r in (live.get("fallback_reasons") or {})]
            if why:
                shares += f" ({'; '.join(why)})"
        lines = [f"  time-resolved {format_emissions(grams or 0.0)} ± {uncertainty:.0%} ({where}, average signal; "
                 f"{shares})"]
    timeline = live.get("timeline") or []
    values = [entry[2] for entry in timeline if entry[2] is not None]
    if values:
        spark = intensity_sparkline(timeline)
        mean = live.get("intensity_g_per_kwh")
        middle = f", mean {mean:.4g}" if mean is not None else ""
        lines.append(f"  intensity over the run {spark}  {min(values):.4g}–{max(values):.4g}{middle} gCO2e/kWh")
    actions = []
    if live.get("waited_s"):
        actions.append(f"waited {format_duration(live['waited_s'])} for a greener start")
    if live.get("pauses"):
        actions.append(f"paused {format_duration(live.get('paused_s') or 0.0)} at {live['pauses']} safe point(s)")
    if actions:
        lines.append("  carbon-aware: " + "; ".join(actions))
    return lines


_PREDICTED_FIGURES = ("energy_kwh", "emissions_g", "duration_s")


def prediction_json(run: RunRecord) -> dict[str, Any]:
    """The config fingerprint, the stored predictions, the budget, and against the actual totals: the last
    prediction made while units remained (``prediction``) and the first one (``first_prediction``)."""
    details = run.details
    predictions = [to_dict(p) for p in details.predictions]
    open_ended = [p for p in predictions if p.get("after", 0) < p.get("total", 0)]
    last = (open_ended or predictions)[-1] if predictions else None
    return {
        "config_fingerprint": run.config_fingerprint,
        "prediction": _versus_actual(run, last),
        "first_prediction": _versus_actual(run, predictions[0] if predictions else None),
        "predictions": predictions,
        "budget": None if details.budget is None else to_dict(details.budget),
    }


def _versus_actual(run: RunRecord, prediction: dict[str, Any] | None) -> dict[str, Any] | None:
    if prediction is None:
        return None
    actual = {"energy_kwh": run.energy_j / J_PER_KWH, "emissions_g": run.emissions_g, "duration_s": run.duration_s}
    comparison = {}
    for figure in _PREDICTED_FIGURES:
        predicted, value = prediction.get(figure), actual[figure]
        low, high = prediction.get(figure + "_low"), prediction.get(figure + "_high")
        if predicted is None or value is None:
            continue
        comparison[figure] = {
            "predicted": predicted, "low": low, "high": high, "actual": value,
            "error_rel": (value - predicted) / predicted if predicted else None,
            "within_interval": low is not None and high is not None and low <= value <= high,
        }
    return {**prediction, "vs_actual": comparison}


def _prediction_line(label: str, prediction: dict[str, Any]) -> str:
    units = f"{prediction['unit']} {prediction['after']} of {prediction['total']}"
    return f"  {label} after {units} ({prediction['level']:.0%} interval): " + ", ".join(
        f"{_figure_text(figure, prediction[figure])} ({_figure_text(figure, prediction[figure + '_low'])}–"
        f"{_figure_text(figure, prediction[figure + '_high'])})"
        for figure in _PREDICTED_FIGURES if prediction.get(figure) is not None
    )


def _versus_line(comparison: dict[str, Any]) -> str:
    return ", ".join(
        f"{_figure_text(figure, c['actual'])} ({c['error_rel']:+.0%}, "
        f"{'inside' if c['within_interval'] else 'outside'} the interval)"
        if c["error_rel"] is not None else _figure_text(figure, c["actual"])
        for figure, c in comparison.items()
    )


def prediction_lines(run: RunRecord) -> list[str]:
    """The first prediction (the early one a user acted on) and the last one, each beside the actual totals, and
    the budget's outcome."""
    data = prediction_json(run)
    lines = []
    last = data["prediction"]
    first = data["first_prediction"]
    if first is not None and last is not None and first.get("after") != last.get("after"):
        lines.append(_prediction_line("first predicted", first))
        lines.append(f"    vs actual: {_versus_line(first['vs_actual'])}")
        lines.append(_prediction_line("last predicted", last))
    elif last is not None:
        lines.append(_prediction_line("predicted", last))
    if last is not None:
        budget = data["budget"] or {}
        so_far = " so far" if run.status == "running" else ""
        if budget.get("stop_requested"):
            so_far = " (stopped early by the budget)"
        else:
            done = (data["predictions"] or [last])[-1]["after"]
            if run.status != "running" and done < last["total"]:
                so_far = f" (the training ended after {done} of {last['total']} {last['unit']}s)"
        lines.append(f"  actual{so_far}: " + _versus_line(last["vs_actual"]))
    budget = data["budget"]
    if budget:
        limits = " and ".join(
            text for text in (
                format_energy(budget["energy_kwh"] * J_PER_KWH) if budget.get("energy_kwh") is not None else "",
                format_emissions(budget["emissions_g"]) if budget.get("emissions_g") is not None else "",
            ) if text
        )
        outcome = "within budget"
        if budget.get("exceeded"):
            outcome = "exceeded: " + (budget.get("message") or "")
            outcome += "; training was stopped" if budget.get("stop_requested") else "; training went on"
        basis = "the upper bound" if budget.get("basis") == "upper" else "the central value"
        lines.append(f"  budget {limits} (policy {budget.get('policy')}, on {basis}): {outcome}")
    if run.config_fingerprint:
        lines.append(f"  config fingerprint {run.config_fingerprint[:16]}")
    return lines


def _figure_text(figure: str, value: float) -> str:
    if figure == "energy_kwh":
        return format_energy(value * J_PER_KWH)
    if figure == "emissions_g":
        return format_emissions(value)
    return format_duration(value)


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
    lines += live_lines(run)
    lines += prediction_lines(run)
    if run.command:
        exit_text = "" if run.exit_code is None else f" (exit {run.exit_code})"
        lines.append(f"  command: {run.command}{exit_text}")
    parent = run.details.parent_run
    if parent:
        lines.append(f"  part of run {str(parent)[:12]} (the wattprint run that measured this command)")
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


def result_records(result: Any) -> tuple[RunRecord, list[ComponentRecord], list[TaskRecord]]:
    """The store's records of a :class:`~wattprint.core.results.RunResult` held in memory, so that it prints as
    ``wattprint show`` prints the stored run (who ran it and where are this process's)."""
    from types import SimpleNamespace

    from wattprint.sinks.payload import component_records, run_record, task_record

    extra: dict[str, Any] = {}
    if getattr(result, "predictions", ()):
        extra["predictions"] = [p.to_dict() for p in result.predictions]
    end = result.started_at + result.duration_s
    fields = {"command": None, "exit_code": None, "config_fingerprint": getattr(result, "config_fingerprint", None)}
    tracker = SimpleNamespace(record_fields=fields, record_extra=extra)
    record = run_record(result, updated_at=end, ended_at=None if result.status == "running" else end,
                        tracker=tracker)  # type: ignore[arg-type]
    tasks = [task_record(i, t) for i, t in enumerate(getattr(result, "tasks", ()))]
    return record, list(component_records(result)), tasks


def result_text(result: Any) -> str:
    """The summary a person reads of a result in memory: a run as ``wattprint show`` prints it, a task window in
    two or three lines (its energy ±, power, emissions ± and the intensity used)."""
    if hasattr(result, "run_id"):
        return run_text(*result_records(result))
    lines = [f"{result.name}  {format_duration(result.duration_s)}   {format_energy(result.energy_j)} "
             f"± {result.uncertainty_rel:.0%}   average {result.avg_power_w:.1f} W   {result.method}"]
    footprint = result.footprint
    if footprint is not None:
        lines.append(f"  emissions {format_emissions(footprint.emissions_g)} ± "
                     f"{footprint.emissions_uncertainty_rel:.0%} at {footprint.intensity.g_per_kwh:.4g} gCO2e/kWh "
                     f"({footprint.intensity.zone_name}; {footprint.intensity.how_located})")
    return "\n".join(lines)


def result_repr(result: Any) -> str:
    """A short ``repr``: the kind, identity and headline figures (the full data is ``to_dict()``)."""
    kind = type(result).__name__
    who = f"run_id={result.run_id[:12]!r}, name={result.name!r}" if hasattr(result, "run_id") else \
        f"name={result.name!r}"
    emissions = result.emissions_g
    carbon = "" if emissions is None else \
        f", emissions={format_emissions(emissions)} ± {result.emissions_uncertainty_rel or 0:.0%}"
    status = f", status={result.status!r}" if hasattr(result, "status") else ""
    return (f"<{kind} {who}, duration={format_duration(result.duration_s)}, "
            f"energy={format_energy(result.energy_j)} ± {result.uncertainty_rel:.0%} ({result.method}){carbon}"
            f"{status}>")


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
            f"{run.run_id[:12]:<12}  {started:<19}  {shorten(run.project or '-', 14):<14} "
            f"{shorten(run.name or '-', 18):<18} "
            f"{run.status:<8} {format_duration(run.duration_s):>9} {format_energy(run.energy_j):>11}"
        )
    return "\n".join(lines)
