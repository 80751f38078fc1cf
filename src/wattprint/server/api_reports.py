"""Reports and comparisons over HTTP, for the dashboard and scripts: a run's or a project's report in every
registered format, the paper paragraph and model-card block ready to copy, and runs compared side by side."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse, Response

from wattprint.core.errors import WattprintError
from wattprint.server import openapi
from wattprint.server.access import check_read, principal, state
from wattprint.server.api_runs import find_run
from wattprint.server.problems import FieldError, invalid
from wattprint.server.tokens import Principal
from wattprint.store.runstore import RunStore

router = APIRouter(prefix="/api/v1", tags=["reports"])

MEDIA_TYPES = {"md": "text/markdown", "html": "text/html", "latex": "application/x-tex"}
"""The media type of a report format's text; any other format is plain text."""
MAX_COMPARED = 12
MAX_REPETITIONS = 500


def _format(name: str) -> Any:
    from wattprint.report import formats

    try:
        return formats.get(name)
    except WattprintError:
        raise invalid([FieldError("query.format", f"must be one of {', '.join(formats.names())}, got {name!r}")]
                      ) from None


def _extension(fmt: Any) -> str:
    return fmt.extensions[0] if fmt.extensions else ".md"  # a model-card block is a README.md's front matter


def _attachment(text: str, fmt: Any, stem: str, download: bool) -> Response:
    media = MEDIA_TYPES.get(fmt.name, "text/plain")
    headers = {}
    if download:
        safe = "".join(c if c.isalnum() or c in "-_." else "-" for c in stem)[:80] or "report"
        headers["Content-Disposition"] = f'attachment; filename="{safe}{_extension(fmt)}"'
    return Response(text, media_type=f"{media}; charset=utf-8", headers=headers)


def _rendered(render: Any, *args: Any) -> str:
    """A renderer's text; a run it cannot describe in that format (a model card without emissions) is a 422."""
    try:
        text: str = render(*args)
    except WattprintError as error:
        raise invalid([FieldError("query.format", str(error))]) from None
    return text


def _content(store: RunStore, run_id: str) -> Any:
    from wattprint.report.content import content_from_records
    from wattprint.store.requests import read_request_intervals

    return content_from_records(store.run(run_id), store.components(run_id), store.intervals(run_id),
                                store.tasks(run_id), read_request_intervals(store, run_id))


@router.get("/report-formats", summary="The report formats", name="report_formats", responses=openapi.ANY_JSON)
def report_formats(who: Principal = Depends(principal)) -> JSONResponse:  # noqa: B008
    """Every report format a run or a project can be rendered in: its name, what people call it, its extension."""
    from wattprint.report import formats

    return JSONResponse({"items": [{"name": f.name, "human_name": f.human_name, "extension": _extension(f)}
                                   for f in formats.formats()]})


@router.get("/runs/{run_id}/report", summary="A run's report", name="run_report", tags=["runs"],
            responses={200: {"description": "the report's text", "content": {"text/plain": {}}}})
def run_report(
    request: Request,
    run_id: str = Path(description="a run id, or a unique prefix of 4+ hex digits"),
    format: str = Query("md", description="a report format (GET /api/v1/report-formats)"),  # noqa: A002
    training_type: str = Query("pre-training", description="the model card's training_type"),
    download: bool = Query(True, description="answer as a file to save (Content-Disposition: attachment)"),
    who: Principal = Depends(principal),  # noqa: B008
) -> Response:
    """The run's report in ``format`` (what ``wattprint report --format`` writes)."""
    from wattprint.report.formats import ReportOptions

    fmt = _format(format)
    store = state(request).store
    run = find_run(store, run_id, who)
    text = _rendered(fmt.render_run, _content(store, run.run_id), ReportOptions(training_type=training_type))
    return _attachment(text, fmt, f"wattprint-run-{run.run_id[:12]}", download)


@router.get("/projects/{name:path}/report", summary="A project's report", name="project_report", tags=["projects"],
            responses={200: {"description": "the report's text", "content": {"text/plain": {}}}})
def project_report(
    request: Request,
    name: str = Path(description="the project's name"),
    format: str = Query("md", description="a report format (GET /api/v1/report-formats)"),  # noqa: A002
    download: bool = Query(True, description="answer as a file to save (Content-Disposition: attachment)"),
    who: Principal = Depends(principal),  # noqa: B008
) -> Response:
    """The project's report in ``format``: its runs, totals and trend."""
    from wattprint.report.formats import ReportOptions
    from wattprint.report.project import project_content
    from wattprint.server.api_projects import _known_project

    check_read(who, name)
    fmt = _format(format)
    store = state(request).store
    _known_project(store, name)
    text = _rendered(fmt.render_project, project_content(store, name), ReportOptions())
    return _attachment(text, fmt, f"wattprint-{name}", download)


@router.get("/runs/{run_id}/paper", summary="A run's paper paragraph and model-card block", name="run_paper",
            tags=["runs"], responses=openapi.ANY_JSON)
def run_paper(request: Request, run_id: str = Path(description="a run id, or a unique prefix of 4+ hex digits"),
              who: Principal = Depends(principal)) -> JSONResponse:  # noqa: B008
    """The paragraph for a paper (plain and LaTeX) and the Hugging Face ``co2_eq_emissions`` block, ready to
    copy; ``model_card`` is null, with ``model_card_error`` saying why, for a run without emissions."""
    from wattprint.report import model_card
    from wattprint.report.paper import paper_paragraph

    store = state(request).store
    run = find_run(store, run_id, who)
    content = _content(store, run.run_id)
    card: str | None = None
    card_error = None
    try:
        card = model_card.block_yaml(model_card.co2_eq_emissions(content))
    except WattprintError as error:
        card_error = str(error)
    return JSONResponse({"run_id": run.run_id, "paragraph": paper_paragraph(content),
                         "paragraph_latex": paper_paragraph(content, latex=True), "model_card": card,
                         "model_card_error": card_error})


@router.get("/compare", summary="Runs side by side", name="compare_runs", tags=["runs"], responses=openapi.ANY_JSON)
def compare(
    request: Request,
    run: list[str] = Query(description="a run id or unique prefix; give two or more, the first is the baseline"),  # noqa: B008
    repetitions: bool = Query(True, description="stand each run by its repetitions (finished runs of its project "
                                                "with its config fingerprint) when it has some"),
    who: Principal = Depends(principal),  # noqa: B008
) -> JSONResponse:
    """Each run's energy, emissions and duration with their standard uncertainties, and whether its difference
    from the first run is larger than the noise (the runs' uncertainties and their repetitions' scatter)."""
    from wattprint.report.comparison import compare_runs

    if not 2 <= len(run) <= MAX_COMPARED:
        raise invalid([FieldError("query.run", f"give 2 to {MAX_COMPARED} runs (run=ID&run=ID), got {len(run)}")])
    store = state(request).store
    records = [find_run(store, ref, who) for ref in run]
    groups = {}
    if repetitions:
        for record in records:
            if record.config_fingerprint:
                same = [r for r in store.runs(project=record.project, limit=None)
                        if r.config_fingerprint == record.config_fingerprint and r.status != "running"]
                if len(same) > 1 and any(r.run_id == record.run_id for r in same):
                    groups[record.run_id] = same[:MAX_REPETITIONS]
    return JSONResponse(compare_runs(records, groups).to_dict())


@router.get("/runs/{run_id}/summary", summary="A run summarised for people", name="run_summary", tags=["runs"],
            responses=openapi.ANY_JSON)
def run_summary(request: Request, run_id: str = Path(description="a run id, or a unique prefix of 4+ hex digits"),
                who: Principal = Depends(principal)) -> JSONResponse:  # noqa: B008
    """What ``wattprint show --json`` prints (predictions against the actual totals, the intensity and its
    source), with the power over time a report draws and where the location came from, in words."""
    from dataclasses import asdict

    from wattprint.report.summary import run_json

    store = state(request).store
    run = find_run(store, run_id, who)
    content = _content(store, run.run_id)
    steps, note = content.chart_steps()
    return JSONResponse({
        **run_json(content.run, content.components, content.tasks),
        "tags": list(content.details.tags),
        "location_sentence": content.location_sentence,
        "obtained": content.obtained,
        "method_sentence": content.method_sentence(),
        "methods": [{"component": c, "method": m, "uncertainty_rel": u} for c, m, u in content.methods()],
        "power_steps": [{**asdict(s), "total_power_w": s.total_power_w} for s in steps],
        "power_note": note,
        "group": None if content.details.group is None else asdict(content.details.group),  # a part's run group
    })
