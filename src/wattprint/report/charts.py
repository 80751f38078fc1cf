"""Charts for the HTML reports, drawn with matplotlib when the ``report`` extra is installed.

Each function returns PNG bytes, or None with the reason when matplotlib is missing, so a report can say why it
shows a table instead. The figures are drawn on an Agg canvas: no display, no global pyplot state.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from wattprint.core.units import J_PER_KWH
from wattprint.report.content import RunContent

MISSING = "matplotlib is not installed (pip install 'wattprint[report]')"


def _figure(width: float = 8.0, height: float = 3.2):  # noqa: ANN202 - a matplotlib Figure
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _png(figure) -> bytes:  # noqa: ANN001
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def matplotlib_available() -> bool:
    """Whether matplotlib can be imported (it is imported only when a chart is drawn)."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def power_chart(content: RunContent) -> tuple[bytes | None, str]:
    """Stacked power per component over the run's interval buckets (or its tasks, for a run too short for
    buckets): (PNG, "") or (None, why not). :meth:`RunContent.chart_steps` says what resolution it shows."""
    steps, _ = content.chart_steps()
    if not steps:
        return None, "this run has no interval records"
    if not matplotlib_available():
        return None, MISSING
    order = {"gpu": 0, "cpu": 1, "ram": 2}
    names = sorted({n for s in steps for n in s.power_w}, key=lambda n: (order.get(n, 3), n))
    figure = _figure()
    axes = figure.add_subplot()
    edges = [steps[0].start_offset_s] + [s.end_offset_s for s in steps]
    scale, unit = (60.0, "min") if edges[-1] > 600 else (1.0, "s")
    xs = [e / scale for e in edges]
    bottom = [0.0] * len(steps)
    for name in names:
        top = [b + s.power_w.get(name, 0.0) for b, s in zip(bottom, steps, strict=True)]
        axes.stairs(top, xs, baseline=bottom, fill=True, label=name, alpha=0.8)
        bottom = top
    axes.set_xlabel(f"time since start ({unit})")
    axes.set_ylabel("average power (W)")
    axes.set_title("Power over time, by component")
    axes.set_ylim(bottom=0)
    axes.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    return _png(figure), ""


def trend_chart(labels: Sequence[str], emissions_g: Sequence[float], energy_kwh: Sequence[float]) -> tuple[
        bytes | None, str]:
    """Emissions (bars) and IT energy (line) per run, oldest first, each axis in the unit that reads best (mg, g,
    kg; mWh, Wh, kWh): (PNG, "") or (None, why not)."""
    from wattprint.core.formatting import energy_unit, mass_unit

    if not labels:
        return None, "no runs"
    if not matplotlib_available():
        return None, MISSING
    grams, mass = mass_unit(max(emissions_g, default=0.0))
    joules, energy = energy_unit(max(energy_kwh, default=0.0) * J_PER_KWH)
    figure = _figure(8.0, 3.6)
    axes = figure.add_subplot()
    positions = list(range(len(labels)))
    axes.bar(positions, [g / grams for g in emissions_g], color="tab:green", label=f"emissions ({mass} CO2e)")
    axes.set_ylabel(f"emissions ({mass} CO2e)")
    axes.set_xticks(positions, labels, rotation=45, ha="right", fontsize=7)
    other = axes.twinx()
    other.plot(positions, [kwh * J_PER_KWH / joules for kwh in energy_kwh], color="tab:blue", marker="o",
               label=f"IT energy ({energy})")
    other.set_ylabel(f"IT energy ({energy})")
    other.set_ylim(bottom=0)
    axes.set_title("Emissions and energy per run, oldest first")
    return _png(figure), ""
