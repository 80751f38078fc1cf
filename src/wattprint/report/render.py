"""Rendering a run or a project in one of the report formats (what ``wattprint report`` prints)."""

from __future__ import annotations

from typing import Any

FORMATS = ("md", "html", "latex", "model-card")


def render_report(
    store: Any,
    fmt: str,
    *,
    run: str | None = None,
    project: str | None = None,
    training_type: str = "pre-training",
    chart: bool = True,
    update: str | None = None,
) -> str:
    """The report of one run (``run``) or a project in ``fmt`` (md, html, latex, model-card); with ``update``, the
    model card at that path gets the co2_eq_emissions block as well."""
    from wattprint.errors import check_choice
    from wattprint.report import model_card

    check_choice("format", fmt, FORMATS)
    if (run is None) == (project is None):
        from wattprint.errors import ConfigError

        raise ConfigError("give one run (an id, a prefix or 'last') or a project, not both and not neither")
    if project is not None:
        from wattprint.report import project as reports

        content = reports.project_content(store, project)
        if fmt == "md":
            return reports.project_markdown(content)
        if fmt == "html":
            return reports.project_html(content, chart=chart)
        if fmt == "latex":
            return reports.project_latex(content)
        block = model_card.co2_eq_emissions(list(content.contents), training_type=training_type)
    else:
        from wattprint.report.content import run_content

        assert run is not None  # checked above
        single = run_content(store, run)
        if fmt == "md":
            from wattprint.report.markdown import markdown_report

            return markdown_report(single)
        if fmt == "html":
            from wattprint.report.html import html_report

            return html_report(single, chart=chart)
        if fmt == "latex":
            from wattprint.report.latex import latex_report

            return latex_report(single)
        block = model_card.co2_eq_emissions(single, training_type=training_type)
    if update:
        model_card.update_model_card(update, block)
    return model_card.model_card_text(block)
