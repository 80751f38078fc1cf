"""A report over all the runs of one project: totals, a per-run table, and the trend by day and from run to run.

Totals add the runs' figures. Their uncertainties add linearly (the runs of a project share their sensors,
models and intensity data, so their errors are taken as fully correlated): an upper bound, never too narrow.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from wattprint._version import __version__
from wattprint.api.records import RunRecord
from wattprint.core.formatting import (
    format_duration,
    format_emissions,
    format_energy,
    format_energy_kwh,
    format_volume_l,
    shorten,
)
from wattprint.core.units import J_PER_KWH
from wattprint.report.content import RunContent
from wattprint.report.summary import iso8601

RECENT = 5
"""The trend compares the mean of the last RECENT runs with the RECENT before them."""


@dataclass(frozen=True)
class DayTotal:
    day: str
    runs: int
    energy_kwh: float
    emissions_g: float


@dataclass(frozen=True)
class ProjectContent:
    """The runs of a project, oldest first, with their totals."""

    project: str
    contents: tuple[RunContent, ...]

    @property
    def runs(self) -> tuple[RunRecord, ...]:
        return tuple(c.run for c in self.contents)

    @property
    def duration_s(self) -> float:
        return sum(r.duration_s for r in self.runs)

    @property
    def energy_kwh(self) -> float:
        return sum(r.energy_j for r in self.runs) / J_PER_KWH

    @property
    def energy_uncertainty_rel(self) -> float:
        return _linear([(r.energy_j, r.energy_uncertainty_rel) for r in self.runs])

    @property
    def priced(self) -> tuple[RunRecord, ...]:
        """The runs with emissions recorded."""
        return tuple(r for r in self.runs if r.emissions_g is not None)

    @property
    def facility_energy_kwh(self) -> float:
        return sum(r.facility_energy_j or 0.0 for r in self.priced) / J_PER_KWH

    @property
    def emissions_g(self) -> float:
        return sum(r.emissions_g or 0.0 for r in self.priced)

    @property
    def emissions_uncertainty_rel(self) -> float:
        return _linear([(r.emissions_g or 0.0, r.emissions_uncertainty_rel or 0.0) for r in self.priced])

    @property
    def water_l(self) -> float | None:
        values = [r.water_l for r in self.priced if r.water_l is not None]
        return sum(values) if values else None

    def by_day(self) -> list[DayTotal]:
        """Totals per calendar day (UTC) of the runs' start."""
        days: dict[str, list[RunRecord]] = defaultdict(list)
        for run in self.runs:
            days[(iso8601(run.started_at) or "")[:10]].append(run)
        return [
            DayTotal(day, len(runs), sum(r.energy_j for r in runs) / J_PER_KWH, sum(r.emissions_g or 0 for r in runs))
            for day, runs in sorted(days.items())
        ]

    def trend_sentence(self) -> str:
        """The mean emissions (else energy) of the last runs against the runs before them."""
        priced = self.priced
        use_emissions = len(priced) == len(self.runs) and priced
        values = [r.emissions_g or 0.0 for r in priced] if use_emissions else [r.energy_j for r in self.runs]
        what = "emissions" if use_emissions else "IT energy"
        show = format_emissions if use_emissions else format_energy
        if len(values) < 2:
            return f"One run so far: no trend yet ({what} {show(values[0]) if values else '-'})."
        n = min(RECENT, len(values) // 2)
        recent, before = values[-n:], values[-2 * n:-n]
        mean_recent, mean_before = sum(recent) / n, sum(before) / n
        if mean_before > 0:
            change = (mean_recent / mean_before - 1.0) * 100
            direction = "up" if change > 0 else "down"
            return (f"The last {n} run(s) averaged {show(mean_recent)} of {what} per run, against {show(mean_before)} "
                    f"for the {n} before them ({direction} {abs(change):.0f} %).")
        return f"The last {n} run(s) averaged {show(mean_recent)} of {what} per run."


def _linear(pairs: Sequence[tuple[float, float]]) -> float:
    total = sum(v for v, _ in pairs)
    return sum(v * u for v, u in pairs) / total if total > 0 else max((u for _, u in pairs), default=0.0)


def project_content(store: object, project: str) -> ProjectContent:
    """Every run of ``project`` in ``store``, oldest first; LookupError naming the known projects when it has none."""
    from wattprint.report.content import run_content

    runs = store.runs(project=project, limit=None)  # type: ignore[attr-defined]
    if not runs:
        known = store.projects()  # type: ignore[attr-defined]
        listed = ", ".join(repr(p) for p in known) if known else "none yet"
        raise LookupError(f"project {project!r} has no runs in the store; projects: {listed}")
    return ProjectContent(project, tuple(run_content(store, run.run_id) for run in reversed(runs)))


def run_labels(runs: Sequence[RunRecord]) -> list[str]:
    """A short label per run for a chart axis: its name (or id prefix) and start date, unique within ``runs``.

    Id prefixes repeat (runs made in the same millisecond share them), and names repeat across a project; the
    date and time (to the minute, then the second) tell them apart, and a ``#n`` what is still equal.
    """
    def label(run: RunRecord, precision: int) -> str:
        when = (iso8601(run.started_at) or "")[5:precision].replace("T", " ")
        return f"{shorten(run.name or run.run_id[:8], 24)} {when}".strip()

    labels = [label(r, 16) for r in runs]
    repeated = {x for x in labels if labels.count(x) > 1}
    labels = [label(r, 19) if x in repeated else x for r, x in zip(runs, labels, strict=True)]
    seen: dict[str, int] = {}
    unique = []
    for x in labels:
        seen[x] = seen.get(x, 0) + 1
        unique.append(x if labels.count(x) == 1 else f"{x} #{seen[x]}")
    return unique


def run_rows(content: ProjectContent) -> tuple[list[str], list[list[str]]]:
    header = ["Run", "Name", "Status", "Started (UTC)", "Duration", "IT energy", "Emissions",
              "Uncertainty", "Location", "Methods"]
    rows = []
    for item in content.contents:
        run = item.run
        methods = ", ".join(f"{component} {method}" for component, method, _ in item.methods())
        rows.append([
            run.run_id[:12], run.name or "-", run.status, iso8601(run.started_at) or "-",
            format_duration(run.duration_s), format_energy(run.energy_j),
            "-" if run.emissions_g is None else format_emissions(run.emissions_g),
            "-" if run.emissions_uncertainty_rel is None else f"±{run.emissions_uncertainty_rel:.0%}",
            item.location_name if item.has_carbon else "-", methods or "-",
        ])
    return header, rows


def day_rows(content: ProjectContent) -> list[list[object]]:
    return [[d.day, d.runs, format_energy_kwh(d.energy_kwh), format_emissions(d.emissions_g)]
            for d in content.by_day()]


DAY_HEADER = ["Day", "Runs", "IT energy", "Emissions"]


def total_rows(content: ProjectContent) -> list[tuple[str, str]]:
    rows = [
        ("Project", content.project),
        ("Runs", str(len(content.runs))),
        ("From", iso8601(content.runs[0].started_at) or "-"),
        ("To", iso8601(content.runs[-1].ended_at or content.runs[-1].started_at) or "-"),
        ("Total duration", format_duration(content.duration_s)),
        ("IT energy", f"{format_energy_kwh(content.energy_kwh)} ±{content.energy_uncertainty_rel:.0%}"),
    ]
    if content.priced:
        rows += [
            ("Facility energy", format_energy_kwh(content.facility_energy_kwh)),
            ("Emissions", f"{format_emissions(content.emissions_g)} ±{content.emissions_uncertainty_rel:.0%}"),
        ]
        if content.water_l is not None:
            rows.append(("Water", format_volume_l(content.water_l)))
    missing = len(content.runs) - len(content.priced)
    if missing:
        rows.append(("Runs without emissions", str(missing)))
    rows.append(("Trend", content.trend_sentence()))
    return rows


def project_markdown(content: ProjectContent) -> str:
    from wattprint.report.markdown import table

    lines = [f"# Energy and carbon report: project {content.project}", ""]
    lines += table(["", "Value"], total_rows(content))
    header, rows = run_rows(content)
    lines += ["", "## Runs, oldest first", ""]
    lines += table(header, rows, right=(5, 6, 7))
    lines += ["", "## By day (UTC)", ""]
    lines += table(DAY_HEADER, day_rows(content), right=(1, 2, 3))
    lines += ["", "Totals add the runs' figures; their uncertainties add linearly (the runs share sensors and data).",
              "", f"Report generated by wattprint {__version__}.", ""]
    return "\n".join(lines)


def project_html(content: ProjectContent, *, chart: bool = True) -> str:
    from wattprint.report.html import esc, html_table, page, png_figure

    sections = [f"<h1>Energy and carbon report: project {esc(content.project)}</h1>"]
    sections.append('<section id="totals"><h2>Totals</h2>'
                    + html_table(["", "Value"], total_rows(content), table_id="totals-table") + "</section>")
    trend = ['<section id="trend"><h2>Trend</h2>', f"<p>{esc(content.trend_sentence())}</p>"]
    if chart:
        from wattprint.report.charts import trend_chart

        png, why = trend_chart(run_labels(content.runs),
                               [r.emissions_g or 0.0 for r in content.runs],
                               [r.energy_j / J_PER_KWH for r in content.runs])
        if png is not None:
            trend.append(png_figure(png, "Emissions and energy per run", "Emissions and IT energy per run."))
        else:
            trend.append(f'<p class="muted no-chart">No chart: {esc(why)}.</p>')
    trend.append(html_table(DAY_HEADER, day_rows(content), numeric=(1, 2, 3), table_id="days"))
    trend.append("</section>")
    header, rows = run_rows(content)
    sections.append('<section id="runs-section"><h2>Runs, oldest first</h2>'
                    + html_table(header, rows, numeric=(5, 6, 7), table_id="runs") + "</section>")
    sections.append("".join(trend))
    sections.append('<p class="muted">Totals add the runs\' figures; their uncertainties add linearly (the runs share '
                    "sensors and data).</p>")
    return page(f"wattprint report: project {content.project}", sections)


def project_latex(content: ProjectContent) -> str:
    from wattprint.report.tex import escape

    label = "tab:wattprint-project"
    lines = [
        f"% Energy and carbon footprint of project {escape(content.project)}, written by wattprint {__version__}.",
        r"\paragraph{Energy and carbon footprint.}",
    ]
    text = (f"The {len(content.runs)} runs of this project took {format_duration(content.duration_s)} in all and used "
            f"{format_energy_kwh(content.energy_kwh)} of IT energy (±{content.energy_uncertainty_rel:.0%})")
    if content.priced:
        text += (f", emitting {format_emissions(content.emissions_g)} (±{content.emissions_uncertainty_rel:.0%}; "
                 "uncertainties added linearly across runs)")
    lines.append(escape(text + ".") + f" Table~\\ref{{{label}}} lists the runs.")
    lines += ["", r"\begin{table}[ht]", r"  \centering",
              f"  \\caption{{Runs of project {escape(content.project)}.}}", f"  \\label{{{label}}}",
              r"  \begin{tabular}{llrrr}", r"    \hline",
              r"    Run & Started (UTC) & Duration & IT energy & Emissions (CO$_2$e) \\", r"    \hline"]
    for run in content.runs:
        emissions = "--" if run.emissions_g is None else escape(format_emissions(run.emissions_g).replace(" CO2e", ""))
        lines.append(f"    {escape(run.run_id[:12])} & {escape(iso8601(run.started_at) or '')} & "
                     f"{escape(format_duration(run.duration_s))} & {escape(format_energy(run.energy_j))} & "
                     f"{emissions} \\\\")
    lines += [r"    \hline", r"  \end{tabular}", r"\end{table}", ""]
    return "\n".join(lines)
