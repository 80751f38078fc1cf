"""Rendering a run or a project in one of the report formats (what ``wattprint report`` prints). The formats, their
names and extensions come from the registry in ``report/formats.py``."""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    """``FORMATS``, ``EXTENSIONS`` and ``NAMES`` as they were before the registry, read from it when asked for."""
    from wattprint.report import formats

    if name == "FORMATS":
        return formats.names()
    if name == "EXTENSIONS":
        return {ext: fmt.name for ext, fmt in formats.by_extension().items()}
    if name == "NAMES":
        return {fmt.name: fmt.human_name for fmt in formats.formats()}
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def format_for_path(path: str) -> str:
    """The report format a file name asks for by its extension (no extension: Markdown). An extension wattprint
    cannot write (``.pdf``, ``.docx``) is a ConfigError naming the ones it can, rather than Markdown in a .pdf."""
    import os

    from wattprint.report import formats

    suffix = os.path.splitext(path)[1].lower()
    if not suffix:
        return "md"
    extensions = formats.by_extension()
    if suffix in extensions:
        return extensions[suffix].name
    from wattprint.core.errors import ConfigError
    from wattprint.settings.hints import setting

    known = ", ".join(f"{ext} ({fmt.human_name})" for ext, fmt in extensions.items())
    pdf = " For a PDF, write .html and print it to PDF from a browser." if suffix == ".pdf" else ""
    raise ConfigError(
        f"cannot write a report as {path!r}: wattprint does not write {suffix} files. It writes {known}; name the "
        f"file with one of those extensions, or {setting('format')} ({', '.join(formats.names())}) to choose the "
        f"format whatever the name.{pdf}"
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
    """The report of one run (``run``) or a project in ``fmt`` (md, html, latex, model-card, or a registered
    format); with ``update``, the model card at that path gets the co2_eq_emissions block as well."""
    from wattprint.report import formats

    chosen = formats.get(fmt)
    if (run is None) == (project is None):
        from wattprint.core.errors import ConfigError

        raise ConfigError("give one run (an id, a prefix or 'last') or a project, not both and not neither")
    options = formats.ReportOptions(chart=chart, training_type=training_type, update=update)
    if project is not None:
        from wattprint.report.project import project_content

        return chosen.render_project(project_content(store, project), options)
    from wattprint.report.content import run_content

    assert run is not None  # checked above
    return chosen.render_run(run_content(store, run), options)
