"""Text for the terminal: the lines the command line prints besides the summaries and reports of this package.

The command line parses, calls the library and prints what these functions return; none of them prints.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

# -- live status lines --------------------------------------------------------------------------------------------


def status_line(snapshot: Any, *, label: str = "wattprint", hint: str = "") -> str:
    """One live status line (``wattprint run``, ``monitor``): elapsed time, average power and energy so far."""
    from wattprint.core.formatting import format_energy

    line = f"{label}  {snapshot.duration_s:7.1f} s  {snapshot.avg_power_w:7.1f} W  {format_energy(snapshot.energy_j)}"
    return f"{line}  {hint}" if hint else line


def monitoring_text(duration_s: float | None) -> str:
    """What ``monitor`` says when it starts without a terminal for its status line."""
    return "wattprint: monitoring this machine" + (f" for {duration_s:g} s" if duration_s else
                                                   " until Ctrl-C or SIGTERM")


STILL_SAVING = "wattprint: the run is still being saved to the store"
"""The note after a run's summary when the store has not finished saving it."""


# -- waiting for a green window -----------------------------------------------------------------------------------


def green_waiting_text(threshold_g_per_kwh: float | None, percentile: float | None, deadline: str) -> str:
    """What ``run --when-green`` waits for, said before it waits."""
    if threshold_g_per_kwh is not None:
        aim = f"the intensity to fall to {threshold_g_per_kwh:g} gCO2e/kWh"
    elif percentile is not None:
        aim = f"the intensity to fall to the {percentile:g}th percentile of the forecast"
    else:
        aim = "the best planned start"
    return f"wattprint: waiting for {aim}, at the latest until {deadline}"


def green_started_lines(green: Any) -> list[str]:
    """How the wait for a green window ended (a ``GreenWait``), with its notes."""
    from wattprint.core.formatting import format_duration

    value = f" at {green.g_per_kwh:.4g} gCO2e/kWh ({green.kind})" if green.g_per_kwh is not None else ""
    lines = [f"wattprint: starting after {format_duration(green.waited_s)} ({green.reason}){value}"]
    return lines + [f"wattprint: note: {note}" for note in green.notes]


# -- plans --------------------------------------------------------------------------------------------------------


def clock(unix_s: float) -> str:
    """A time as the plans show it: ``2026-11-24 06:00 UTC``."""
    import datetime as dt

    return dt.datetime.fromtimestamp(unix_s, dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def plan_failure_lines(plans: Any) -> list[str]:
    """The locations a ``Plans`` could not plan, and why (for standard error)."""
    return [f"wattprint: {where}: {why}" for where, why in plans.failures]


def plans_text(plans: Any) -> str:
    """The plans of ``wattprint plan``: per location, the best start against starting now, and the best of all."""
    from wattprint.core.formatting import format_duration, format_emissions

    lines: list[str] = []
    for plan in plans.plans:
        label = plan.location or plan.zone
        start = "now" if plan.wait_s < 1 else f"{clock(plan.start_s)} (in {format_duration(plan.wait_s)})"
        line = (f"{label}: start {start}: {plan.mean_g_per_kwh:.4g} gCO2e/kWh on average over "
                f"{format_duration(plan.duration_s)}, against {plan.now_mean_g_per_kwh:.4g} if started now")
        if plan.saving_rel > 0.0005:
            line += f" ({plan.saving_rel:.0%} less)"
        lines.append(line)
        if plan.expected_emissions_g is not None and plan.now_emissions_g is not None:
            saving = format_emissions(plan.saving_g or 0.0)
            lines.append(f"  expected {format_emissions(plan.expected_emissions_g)} against "
                         f"{format_emissions(plan.now_emissions_g)} now: saves {saving}")
        lines.append(f"  {plan.kind} signal, {plan.provider} zone {plan.zone}; forecast until "
                     f"{clock(plan.horizon_end_s)}")
        lines.extend(f"  note: {note}" for note in plan.notes)
    best = plans.best
    if best is not None and len(plans.plans) > 1:
        lines.append(f"best: {best.location or best.zone} at {clock(best.start_s)}")
    return "\n".join(lines)


# -- doctor -------------------------------------------------------------------------------------------------------

_MARKS = {"ok": "ok  ", "warn": "warn", "missing": "--  ", "error": "FAIL"}


def checks_text(checks: Iterable[Any]) -> str:
    """``doctor``'s checks, one line each with its status mark, and the fix under a check that has one."""
    lines: list[str] = []
    for check in checks:
        lines.append(f"[{_MARKS[check.status]}] {check.area:<7} {check.summary}")
        if check.fix:
            lines.append(f"{'':14} fix: {check.fix}")
    return "\n".join(lines)


# -- config -------------------------------------------------------------------------------------------------------


def origin(source: str) -> str:
    """The kind of a setting's source: argument, environment, project file, user config or default."""
    if source == "argument" or source == "default":
        return source
    if source.startswith("environment variable"):
        return "environment"
    if source.startswith("user config"):
        return "user config"
    return "project file"


def _shown(value: Any) -> Any:
    """A value as JSON shows it (secrets stay masked, tuples become lists)."""
    if isinstance(value, tuple):
        return list(value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def settings_json(settings: Iterable[Any], env_vars: Mapping[str, str]) -> list[dict[str, Any]]:
    """``config --json``: each setting's key, value, kind of source, source and environment variable."""
    return [{"key": s.key, "value": _shown(s.value), "origin": origin(s.source), "source": s.source,
             "environment_variable": env_vars[s.key]} for s in settings]


def _value_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return ",".join(str(v) for v in value)
    return f"{value:g}" if isinstance(value, float) else str(value)


def settings_text(settings: Sequence[Any], *, project_file: str | None, user_config: str,
                  user_config_exists: bool) -> str:
    """``config``: a table of key, value and source, then the project file and user config file it read."""
    rows = [(s.key, "-" if s.value is None else _value_text(s.value), s.source) for s in settings]
    lines: list[str] = []
    if rows:
        width = [max([len(r[i]) for r in rows] + [len(h)]) for i, h in enumerate(("key", "value"))]
        lines.append(f"{'key':<{width[0]}}  {'value':<{width[1]}}  source")
        lines.extend(f"{key:<{width[0]}}  {value:<{width[1]}}  {source}" for key, value, source in rows)
    else:
        lines.append("every setting has its default ('wattprint config' lists them)")
    project = project_file or "none (no wattprint.toml or [tool.wattprint] from here upwards)"
    state = "" if user_config_exists else " (not present)"
    lines.append(f"\nproject file: {project}\nuser config:  {user_config}{state}")
    return "\n".join(lines)


# -- import -------------------------------------------------------------------------------------------------------

LISTED = 20
"""Runs listed one per line after an import; the rest are counted."""


def import_text(result: Any, tool: str, path: str) -> str:
    """What ``wattprint import`` stored: the counts, then the first ``LISTED`` runs one per line."""
    from wattprint.core.units import J_PER_KWH

    updated = len(result.already_stored)
    lines = [f"{tool}: {len(result.runs) - updated} run(s) imported, {updated} already in the store updated, "
             f"from {path}"]
    for index, item in enumerate(result.runs):
        if index == LISTED:  # a file of 100,000 runs is not read line by line
            lines.append(f"  ... and {len(result.runs) - LISTED:,} more ('wattprint runs' lists them; --json gives "
                         "all)")
            break
        run = item.run
        emissions = "-" if run.emissions_g is None else f"{run.emissions_g:.4g} g CO2e"
        lines.append(f"  {run.run_id[:12]}  {run.project or '-':<14} {run.name or '-':<32} "
                     f"{run.energy_j / J_PER_KWH:.4g} kWh  {emissions}")
    return "\n".join(lines)


# -- files written ------------------------------------------------------------------------------------------------


def size_text(count: int) -> str:
    """A byte count for people: 812 bytes, 12.3 kB, 4.1 MB."""
    if count < 1000:
        return f"{count} bytes"
    return f"{count / 1000:.1f} kB" if count < 1_000_000 else f"{count / 1e6:.1f} MB"


def wrote_text(path: str, what: str, size_bytes: int) -> str:
    """The line saying that a file was written: where, what (``what``, may be empty) and how big."""
    return f"wattprint: wrote {path} ({what + ', ' if what else ''}{size_text(size_bytes)})"


def energy_workload_text(energy_kwh: float) -> str:
    """The work ``compare-regions --energy-kwh`` prices, as its comparison names it."""
    return f"{energy_kwh:g} kWh of IT energy"


def report_what(fmt: str, *, run: str | None, project: str | None) -> str:
    """What a report file holds, for :func:`wrote_text`: ``HTML report of run last``."""
    from wattprint.report.formats import get

    subject = f"project {project}" if project else f"run {run}"
    return f"{get(fmt).human_name} report of {subject}"


def updated_text(path: str) -> str:
    """The line saying that ``report --update`` merged the model card block into ``path``."""
    return f"wattprint: updated {path}: co2_eq_emissions"


def export_what(fmt: str, runs: int, *, intervals: bool) -> str:
    """What an export file holds, for :func:`wrote_text`: ``CSV, 3 run(s)``."""
    return f"{fmt.upper()}, {runs} {'run(s) with intervals' if intervals else 'run(s)'}"
