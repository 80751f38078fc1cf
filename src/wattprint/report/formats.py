"""The registry of report formats: each declares its name, the name people read, its file extensions and how it
renders a run and a project, so that ``render_report``, the extension rule and ``wattprint report --format`` all
follow from one list. A new format is one module calling ``register()``, or an entry point in the group
``wattprint.report_formats`` naming a ``ReportFormat`` (loaded on first use; one that fails is logged once and
skipped, never raised)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from wattprint.core.plugins import Registry

if TYPE_CHECKING:
    from wattprint.report.content import RunContent
    from wattprint.report.project import ProjectContent

ENTRY_POINT_GROUP = "wattprint.report_formats"


@dataclass(frozen=True)
class ReportOptions:
    """What a renderer may honour beyond the content: the HTML chart, the model card's training type, and the
    model card file to merge the block into (``update``)."""

    chart: bool = True
    training_type: str = "pre-training"
    update: str | None = None


@dataclass(frozen=True)
class ReportFormat:
    """One report format: ``name`` is what ``--format`` takes, ``human_name`` what messages call it, ``extensions``
    the lower-case file suffixes (with the dot) that choose it; ``render_run`` and ``render_project`` turn a run's
    or a project's content into the report's text."""

    name: str
    human_name: str
    extensions: tuple[str, ...]
    render_run: Callable[[RunContent, ReportOptions], str]
    render_project: Callable[[ProjectContent, ReportOptions], str]


def _markdown_run(content: RunContent, options: ReportOptions) -> str:
    from wattprint.report.markdown import markdown_report

    return markdown_report(content)


def _markdown_project(content: ProjectContent, options: ReportOptions) -> str:
    from wattprint.report.project import project_markdown

    return project_markdown(content)


def _html_run(content: RunContent, options: ReportOptions) -> str:
    from wattprint.report.html import html_report

    return html_report(content, chart=options.chart)


def _html_project(content: ProjectContent, options: ReportOptions) -> str:
    from wattprint.report.project import project_html

    return project_html(content, chart=options.chart)


def _latex_run(content: RunContent, options: ReportOptions) -> str:
    from wattprint.report.latex import latex_report

    return latex_report(content)


def _latex_project(content: ProjectContent, options: ReportOptions) -> str:
    from wattprint.report.project import project_latex

    return project_latex(content)


def _model_card_run(content: RunContent, options: ReportOptions) -> str:
    from wattprint.report import model_card

    return _model_card(model_card.co2_eq_emissions(content, training_type=options.training_type), options)


def _model_card_project(content: ProjectContent, options: ReportOptions) -> str:
    from wattprint.report import model_card

    block = model_card.co2_eq_emissions(list(content.contents), training_type=options.training_type)
    return _model_card(block, options)


def _model_card(block: dict[str, object], options: ReportOptions) -> str:
    """The model card text of ``block``, merged into the card at ``options.update`` first when one is named."""
    from wattprint.report import model_card

    if options.update:
        model_card.update_model_card(options.update, block)
    return model_card.model_card_text(block)


BUILT_IN = (
    ReportFormat("md", "Markdown", (".md", ".markdown"), _markdown_run, _markdown_project),
    ReportFormat("html", "HTML", (".html", ".htm"), _html_run, _html_project),
    ReportFormat("latex", "LaTeX", (".tex",), _latex_run, _latex_project),
    ReportFormat("model-card", "model card block (YAML)", (), _model_card_run, _model_card_project),
)
"""The formats wattprint ships, in the order messages and ``--format`` list them."""

def _check(fmt: object, taken: Sequence[ReportFormat]) -> str | None:
    """Why ``fmt`` cannot join ``taken`` (a name or an extension already used), or None."""
    if not isinstance(fmt, ReportFormat):
        return f"{fmt!r} is not a wattprint.report.formats.ReportFormat"
    for other in taken:
        if other.name == fmt.name:
            return f"the report format name {fmt.name!r} is taken ({other.human_name})"
        clash = set(other.extensions) & set(fmt.extensions)
        if clash:
            return f"the extension {sorted(clash)[0]} already means {other.human_name} ({other.name!r})"
    bad = [ext for ext in fmt.extensions if not ext.startswith(".") or ext != ext.lower()]
    if bad:
        return f"report format {fmt.name!r}: extensions are lower-case with a leading dot, not {bad[0]!r}"
    return None


REGISTRY: Registry[ReportFormat] = Registry("report format", ENTRY_POINT_GROUP, {f.name: f for f in BUILT_IN},
                                            _check)
"""The formats: built-in, from entry points, then registered (a broken entry point is logged once, skipped)."""


def register(fmt: ReportFormat) -> ReportFormat:
    """Add ``fmt`` to the formats ``render_report`` and ``wattprint report`` accept; returns it. A name or an
    extension another format already has is a ValueError saying which (``unregister`` it first to replace it)."""
    return REGISTRY.register(fmt)


def unregister(name: str) -> None:
    """Remove the format ``register`` added as ``name`` (the built-in ones and entry points stay)."""
    REGISTRY.unregister(name)


def formats() -> tuple[ReportFormat, ...]:
    """Every report format: the built-in ones, those of entry points, then those ``register`` added."""
    return REGISTRY.all()


def names() -> tuple[str, ...]:
    """The names ``--format`` (and ``render_report``'s ``fmt``) accept, in order."""
    return tuple(fmt.name for fmt in formats())


def get(name: str) -> ReportFormat:
    """The format called ``name``; any other name is a ConfigError listing the ones there are."""
    from wattprint.core.errors import check_choice

    known = {fmt.name: fmt for fmt in formats()}
    check_choice("format", name, tuple(known))
    return known[name]


def by_extension() -> dict[str, ReportFormat]:
    """File extension (lower-case, with the dot) -> the format it chooses, in the formats' order."""
    return {ext: fmt for fmt in formats() for ext in fmt.extensions}

