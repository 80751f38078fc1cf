"""A Markdown report of one run: totals, components with methods and uncertainties, power over time, tasks,
location, hardware, equivalents, data sources with years, the paper paragraph, notes and the tool version."""

from __future__ import annotations

from collections.abc import Sequence

from wattprint._version import __version__
from wattprint.carbon.intensity import source_with_year
from wattprint.core.formatting import format_duration, format_emissions, format_energy, format_number, format_volume_l
from wattprint.report.content import RunContent
from wattprint.report.summary import iso8601

MAX_POWER_ROWS = 200
"""Power-over-time rows shown in a text table; longer runs are thinned to about this many."""


def cell(value: object) -> str:
    """A table cell: pipes escaped, line breaks folded."""
    text = "" if value is None else str(value)
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def table(header: Sequence[str], rows: Sequence[Sequence[object]], *, right: Sequence[int] = ()) -> list[str]:
    """A GitHub-flavoured Markdown table."""
    align = ["---:" if i in right else "---" for i in range(len(header))]
    lines = ["| " + " | ".join(cell(h) for h in header) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return lines


def percent(value: float | None) -> str:
    return "-" if value is None else f"±{value:.0%}"


def summary_rows(content: RunContent) -> list[tuple[str, str]]:
    """(label, value) pairs of the run's totals, shared by the Markdown and HTML reports."""
    run = content.run
    rows = [
        ("Run", run.run_id),
        ("Project", run.project or "-"),
        ("Name", run.name or "-"),
        ("Status", run.status),
        ("Started (UTC)", iso8601(run.started_at) or "-"),
        ("Ended (UTC)", iso8601(run.ended_at) or "-"),
        ("Duration", format_duration(run.duration_s)
         + (f" ({format_number(run.duration_s / 3600)} h)" if run.duration_s >= 360 else "")),
        ("Attribution", run.attribution),
        ("IT energy", f"{format_energy(run.energy_j)} {percent(run.energy_uncertainty_rel)}"),
    ]
    if content.has_carbon:
        extra = content.details
        rows += [
            ("Facility energy", format_energy(run.facility_energy_j or 0.0)),
            ("PUE", f"{run.pue:.3g}" + (f" ({extra.pue_source})" if extra.pue_source else "")),
            ("Emissions", f"{format_emissions(run.emissions_g or 0.0)} {percent(run.emissions_uncertainty_rel)}"),
            ("Grid intensity", f"{run.intensity_g_per_kwh or 0:.4g} gCO2e/kWh {percent(run.intensity_uncertainty_rel)}"
                               f" ({source_with_year(run.intensity_source or 'not recorded', run.intensity_year)};"
                               f" {run.intensity_kind})"),
            ("Location", content.location_sentence),
            ("Water", format_volume_l(run.water_l) if run.water_l is not None else
             extra.wue_source or "not estimated"),
        ]
        if run.embodied_g is not None:
            rows.append(("Embodied emissions", format_emissions(run.embodied_g)))
    else:
        rows.append(("Emissions", "not computed for this run"))
    if content.imported_from:
        tool = f"{content.imported_from} {content.details.tool_version or ''}".strip()
        rows.append(("Recorded by", f"{tool}; imported with wattprint {run.wattprint_version} from "
                                    f"{content.details.file}"))
    else:
        label = {"measured": "Measured with", "estimated": "Estimated with",
                 "mixed": "Measured and estimated with"}[content.obtained]
        methods = ", ".join(f"{component} {method}" for component, method, _ in content.methods())
        rows.append((label, f"wattprint {run.wattprint_version}" + (f" ({methods})" if methods else "")))
    return rows


def power_rows(content: RunContent) -> tuple[list[str], list[list[str]]]:
    """The power-over-time table: header and rows (thinned to about MAX_POWER_ROWS)."""
    steps = content.power_steps()
    names = content.power_components()
    header = ["From (s)", "To (s)", *[f"{n} (W)" for n in names], "Total (W)", "Energy"]
    stride = max(1, -(-len(steps) // MAX_POWER_ROWS))
    rows = []
    for step in steps[::stride]:
        rows.append([f"{step.start_offset_s:.1f}", f"{step.end_offset_s:.1f}",
                     *[format_number(step.power_w.get(n, 0.0)) for n in names], format_number(step.total_power_w),
                     format_energy(step.energy_j)])
    return header, rows


COMPONENT_HEADER = ["Component", "Device", "Energy", "Average power (W)", "Method", "Uncertainty"]
TASK_HEADER = ["#", "Task", "Started (UTC)", "Duration", "Energy", "Method", "Uncertainty"]
EQUIVALENT_HEADER = ["Equivalent", "Value", "Factor", "Source", "Vintage"]


def component_rows(content: RunContent) -> list[list[object]]:
    """Energy by component in human units, for the Markdown and HTML reports."""
    return [[c.component, c.device, format_energy(c.energy_j), format_number(c.avg_power_w), c.method,
             percent(c.uncertainty_rel)] for c in content.components]


def task_rows(content: RunContent) -> list[list[object]]:
    return [[t.seq, t.name, iso8601(t.started_at), format_duration(t.duration_s), format_energy(t.energy_j),
             t.method, percent(t.uncertainty_rel)] for t in content.tasks]


def equivalent_rows(content: RunContent) -> list[list[object]]:
    """The equivalents that read as something, two significant figures (with the emissions' uncertainty)."""
    from wattprint.accounting.equivalents import readable

    spread = content.run.emissions_uncertainty_rel
    return [[e.label, f"≈ {e.value_text}" + (f" (±{spread:.0%})" if spread else ""),
             f"{format_number(e.factor)} {e.factor_unit}", e.source, e.vintage]
            for e in readable(content.equivalents())]


def markdown_report(content: RunContent, *, paragraph: bool = True) -> str:
    """The whole report as Markdown."""
    from wattprint.report.paper import paper_paragraph

    run = content.run
    lines = [f"# Energy and carbon report: {content.title}", ""]
    lines += table(["", "Value"], summary_rows(content))
    lines += ["", "## Energy by component", ""]
    if content.components:
        lines += table(COMPONENT_HEADER, component_rows(content), right=(2, 3, 5))
    else:
        lines.append("No component energy was recorded.")
    lines += ["", "## Power over time", ""]
    if content.intervals:
        header, rows = power_rows(content)
        steps = len(content.power_steps())
        if len(rows) < steps:
            lines += [f"Every {-(-steps // len(rows))}th of {steps} intervals.", ""]
        lines += table(header, rows, right=tuple(range(len(header))))
    else:
        lines.append("No interval records: this run has totals only.")
    lines += ["", "## Tasks", ""]
    if content.tasks:
        lines += table(TASK_HEADER, task_rows(content), right=(0, 4, 6))
    else:
        lines.append("No task windows were recorded.")
    inference = content.inference
    if inference is not None:
        from wattprint.report.inference import HEADER, inference_rows, window_sentence

        lines += ["", "## Inference", "", window_sentence(inference), "", *table(HEADER, inference_rows(inference))]
    lines += ["", "## Location", "", content.location_sentence + "."]
    hardware = [h for h in run.hardware if isinstance(h, dict)]
    lines += ["", "## Hardware", ""]
    if hardware:
        lines += table(
            ["Component", "Device", "Model", "Read by", "Detail"],
            [[h.get("component"), h.get("device"), h.get("model"), h.get("source"), h.get("detail")]
             for h in hardware],
        )
    else:
        lines.append("No hardware was recorded.")
    equivalents = equivalent_rows(content)
    if equivalents:
        lines += ["", "## Everyday equivalents", ""]
        lines += table(EQUIVALENT_HEADER, equivalents, right=(1,))
    lines += ["", "## Data sources", ""]
    lines += table(["What", "Source", "Year or vintage", "Licence"],
                   [[s.what, s.source, s.year or "-", s.licence or "-"] for s in content.sources()])
    if paragraph:
        lines += ["", "## For your paper", "", paper_paragraph(content)]
    notes = [*run.notes, *content.details.carbon_notes]
    if notes:
        lines += ["", "## Notes", ""]
        lines += [f"- {cell(note)}" for note in notes]
    lines += ["", f"Report generated by wattprint {__version__}; run "
                  f"{content.obtained_phrase(f'wattprint {run.wattprint_version}')}.", ""]
    return "\n".join(lines)
