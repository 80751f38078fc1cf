"""A LaTeX fragment for a paper: the paragraph and a table of energy by component, needing no extra package.

Every piece of text from the run (names, sources, notes) is escaped, so the fragment compiles whatever the run
was called; the few non-ASCII symbols wattprint writes (±, x, ≈, ·) become math-mode commands.
"""

from __future__ import annotations

from wattprint._version import __version__
from wattprint.core.formatting import format_emissions, format_energy
from wattprint.report.content import RunContent
from wattprint.report.paper import paper_paragraph
from wattprint.report.tex import escape

TYPE_CHECKING = False
if TYPE_CHECKING:
    from wattprint.run.request_figures import InferenceResult


def latex_report(content: RunContent) -> str:
    """The paragraph, then a ``table`` of energy by component with methods and uncertainties."""
    run = content.run
    label = f"tab:wattprint-{run.run_id[:8]}"
    lines = [
        f"% Energy and carbon footprint of {escape(content.title)}, written by wattprint {__version__}.",
        "% Paste the paragraph and the table into your paper; they need no extra LaTeX package.",
        r"\paragraph{Energy and carbon footprint.}",
        paper_paragraph(content, latex=True) + f" Table~\\ref{{{label}}} gives the energy by component.",
        "",
        r"\begin{table}[ht]",
        r"  \centering",
        f"  \\caption{{Energy use by component of {escape(content.title)}, "
        f"{escape(content.obtained_phrase('wattprint ' + run.wattprint_version))}.}}",
        f"  \\label{{{label}}}",
        r"  \begin{tabular}{llrrlr}",
        r"    \hline",
        r"    Component & Device & Energy & Average power (W) & Method & Uncertainty \\",
        r"    \hline",
    ]
    for c in content.components:
        lines.append(
            f"    {escape(c.component)} & {escape(c.device)} & {escape(format_energy(c.energy_j))} & "
            f"{c.avg_power_w:.3g} & {escape(c.method)} & {escape(f'±{c.uncertainty_rel:.0%}')} \\\\"
        )
    lines.append(r"    \hline")
    lines.append(
        f"    Total & & {escape(format_energy(run.energy_j))} & & & "
        f"{escape(f'±{run.energy_uncertainty_rel:.0%}')} \\\\"
    )
    if run.emissions_g is not None:
        lines.append(
            f"    Emissions & & {escape(format_emissions(run.emissions_g))} & & & "
            f"{escape(f'±{run.emissions_uncertainty_rel or 0:.0%}')} \\\\"
        )
    lines += [r"    \hline", r"  \end{tabular}", r"\end{table}", ""]
    inference = content.inference
    if inference is not None:
        lines += _inference_table(inference, f"{label}-inference", content.title)
    return "\n".join(lines)


def _inference_table(result: InferenceResult, label: str, title: str) -> list[str]:
    """The inference figures (steady state and whole run) as a second table, with its window in the caption."""
    from wattprint.report.inference import inference_rows, window_sentence

    lines = [
        r"\begin{table}[ht]",
        r"  \centering",
        f"  \\caption{{Inference energy of {escape(title)}. {escape(window_sentence(result))}}}",
        f"  \\label{{{label}}}",
        r"  \begin{tabular}{lll}",
        r"    \hline",
        r"    Figure & Steady state & Whole run \\",
        r"    \hline",
    ]
    lines += [f"    {' & '.join(escape(cell) for cell in row)} \\\\" for row in inference_rows(result)]
    lines += [r"    \hline", r"  \end{tabular}", r"\end{table}", ""]
    return lines
