"""Rendering a run or a project in one of the report formats (what ``wattprint report`` prints)."""

from __future__ import annotations

from typing import Any

FORMATS = ("md", "html", "latex", "model-card")
EXTENSIONS = {".md": "md", ".markdown": "md", ".html": "html", ".htm": "html", ".tex": "latex"}
"""The file extensions whose format is known; any other needs the format named."""
NAMES = {"md": "Markdown", "html": "HTML", "latex": "LaTeX", "model-card": "model card block (YAML)"}


def format_for_path(path: str) -> str:
    """The report format a file name asks for by its extension (no extension: Markdown). An extension wattprint
    cannot write (``.pdf``, ``.docx``) is a ConfigError naming the ones it can, rather than Markdown in a .pdf."""
    import os

    suffix = os.path.splitext(path)[1].lower()
    if not suffix:
        return "md"
    if suffix in EXTENSIONS:
        return EXTENSIONS[suffix]
    from wattprint.core.errors import ConfigError
    from wattprint.settings.hints import setting

    known = ", ".join(f"{ext} ({NAMES[fmt]})" for ext, fmt in EXTENSIONS.items())
    pdf = " For a PDF, write .html and print it to PDF from a browser." if suffix == ".pdf" else ""
    raise ConfigError(
        f"cannot write a report as {path!r}: wattprint does not write {suffix} files. It writes {known}; name the "
        f"file with one of those extensions, or {setting('format')} ({', '.join(FORMATS)}) to choose the format "
        f"whatever the name.{pdf}"
    )


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
    from wattprint.core.errors import check_choice
    from wattprint.report import model_card

    check_choice("format", fmt, FORMATS)
    if (run is None) == (project is None):
        from wattprint.core.errors import ConfigError

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
