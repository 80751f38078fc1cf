"""``/api/v1/projects``: totals per project, a project's totals by time, user, host or location, and its repeated
trainings. Sums are taken in SQL; a mean power is always total energy over total time."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse

from wattprint.server import openapi
from wattprint.server.access import check_read, principal, state
from wattprint.server.problems import FieldError, invalid, not_found
from wattprint.server.tokens import Principal
from wattprint.store import queries
from wattprint.store.runstore import RunStore

router = APIRouter(prefix="/api/v1", tags=["projects"])


def _totals(totals: queries.Totals) -> dict[str, Any]:
    return {"runs": totals.runs, "energy_j": totals.energy_j, "emissions_g": totals.emissions_g,
            "duration_s": totals.duration_s, "avg_power_w": totals.avg_power_w,
            "energy_uncertainty_rel": totals.energy_uncertainty_rel,
            "emissions_uncertainty_rel": totals.emissions_uncertainty_rel}


@router.get("/projects", summary="Every project and its totals", name="list_projects", responses=openapi.PROJECTS)
def projects(request: Request, who: Principal = Depends(principal)) -> JSONResponse:  # noqa: B008
    """Projects by name, each with its runs' total energy, emissions and time (an ingest token sees its own)."""
    names = [who.project] if who.scope == "ingest" and who.project is not None else None
    found = queries.project_totals(state(request).store, names)
    return JSONResponse({"items": [
        {"name": t.key, **_totals(t), "first_started_at": t.first_started_at, "last_started_at": t.last_started_at}
        for t in found]})


def _known_project(store: RunStore, name: str) -> None:
    if not queries.project_exists(store, name):
        import difflib

        known = store.projects()
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        hint = f"did you mean {close[0]!r}? " if close else ""
        shown = ", ".join(repr(p) for p in known[:10]) + (" ..." if len(known) > 10 else "")
        raise not_found(f"there is no project {name!r} on this server; {hint}projects: {shown or 'none yet'} "
                        "(GET /api/v1/projects)")


@router.get("/projects/{name:path}/summary", summary="A project's totals by group", name="project_summary",
            responses=openapi.SUMMARY)
def summary(
    request: Request,
    name: str = Path(description="the project's name"),
    by: str = Query("day", description=f"one of {', '.join(queries.GROUPS)}"),
    who: Principal = Depends(principal),  # noqa: B008
) -> JSONResponse:
    """The project's runs totalled per UTC day, ISO week, month, user, host, location or hardware."""
    check_read(who, name)
    if by not in queries.GROUPS:
        raise invalid([FieldError("query.by", f"must be one of {', '.join(queries.GROUPS)}, got {by!r}")])
    store = state(request).store
    _known_project(store, name)
    groups = queries.project_groups(store, name, by)
    return JSONResponse({"project": name, "by": by, "groups": [{"key": g.key, **_totals(g)} for g in groups]})


@router.get("/projects/{name:path}/duplicates", summary="A project's repeated trainings", name="project_duplicates",
            responses=openapi.ANY_JSON)
def duplicates(request: Request, name: str = Path(description="the project's name"),
               who: Principal = Depends(principal)) -> JSONResponse:  # noqa: B008
    """Groups of the project's runs with one config fingerprint, and the energy and emissions of the repeats."""
    from wattprint.report.duplicates import duplicates_json, find_duplicates

    check_read(who, name)
    store = state(request).store
    _known_project(store, name)
    return JSONResponse({"project": name,
                         **duplicates_json(find_duplicates(store.runs(project=name, limit=None)))})
