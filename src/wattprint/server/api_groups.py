"""``/api/v1/groups/{group_id}``: a run group (a distributed run) with its totals per node, rank and device, the
same JSON as ``wattprint show GROUP --json``; and its report in every registered format but the model card."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse, Response

from wattprint.report.group_report import GROUP_FORMATS
from wattprint.server.access import check_read, principal, state
from wattprint.server.problems import FieldError, invalid, not_found
from wattprint.server.tokens import Principal

router = APIRouter(prefix="/api/v1", tags=["groups"])

_STR_OR_NULL = {"anyOf": [{"type": "string"}, {"type": "null"}]}
_NUMBER_OR_NULL = {"anyOf": [{"type": "number"}, {"type": "null"}]}
_INT_OR_NULL = {"anyOf": [{"type": "integer"}, {"type": "null"}]}


def _object(properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": list(properties)}


GROUP_SCHEMA = _object({
    "group_id": {"type": "string"}, "launcher": {"type": "string"}, "project": _STR_OR_NULL, "name": _STR_OR_NULL,
    "status": {"type": "string"}, "started_at": {"type": "string"}, "ended_at": {"type": "string"},
    "duration_s": {"type": "number", "description": "wall time, the first part's start to the last part's end"},
    "energy_j": {"type": "number"}, "energy_kwh": {"type": "number"},
    "method": {**_STR_OR_NULL, "description": "the least direct method among the devices counted"},
    "energy_uncertainty_rel": {**_NUMBER_OR_NULL, "description": "the parts' weighted by the energy each adds"},
    "emissions_g": _NUMBER_OR_NULL, "emissions_uncertainty_rel": _NUMBER_OR_NULL,
    "world_size": _INT_OR_NULL, "attempts": {"type": "integer"},
    "components": {"type": "object", "additionalProperties": {"type": "number"}},
    "nodes": {"type": "array", "items": _object({
        "node": {"type": "string"}, "hostname": {"type": "string"}, "parts": {"type": "integer"},
        "energy_j": {"type": "number"}, "leader_run_id": _STR_OR_NULL})},
    "parts": {"type": "array", "items": _object({
        "run_id": {"type": "string"}, "rank": _INT_OR_NULL, "local_rank": _INT_OR_NULL, "node": {"type": "string"},
        "attempt": {"type": "integer"}, "measures_host": {"type": "boolean"}, "status": {"type": "string"},
        "duration_s": {"type": "number"},
        "energy_j": {"type": "number", "description": "what this part adds to the group (each device once)"}})},
    "devices": {"type": "array", "items": _object({
        "node": {"type": "string"}, "component": {"type": "string"}, "device": {"type": "string"},
        "energy_j": {"type": "number"}, "method": {"type": "string"},
        "reported_by": {"type": "integer", "description": "parts that sent this device; it is counted once"}})},
    "notes": {"type": "array", "items": {"type": "string"}},
})
GROUP: dict[int | str, dict[str, Any]] = {200: {"description": "OK", "content": {
    "application/json": {"schema": GROUP_SCHEMA}}}}


def group_json_of(request: Request, group_id: str, who: Principal) -> dict[str, Any]:
    """The group's JSON, if ``who`` may read its project; 404 naming the group when the store has no part of it."""
    from wattprint.report.run_groups import group_json
    from wattprint.store.groups import group_totals

    if "\x00" in group_id:
        raise invalid([FieldError("path.group_id", "must not contain NUL characters")])
    try:
        totals = group_totals(state(request).store, group_id)
    except LookupError:
        raise not_found(f"there is no run group {group_id!r} on this server: a group's id is in each of its parts' "
                        "extra.group.group_id (GET /api/v1/runs)") from None
    check_read(who, totals.project)
    return group_json(totals)


@router.get("/groups/{group_id}", summary="Read one run group", responses=GROUP)
def get_group(request: Request, group_id: str = Path(description="the group's id (a part's extra.group.group_id)"),
              who: Principal = Depends(principal)) -> JSONResponse:  # noqa: B008
    """A distributed run's totals, each device counted once, with its nodes, parts (ranks), devices and attempts."""
    return JSONResponse(group_json_of(request, group_id, who))


@router.get("/groups/{group_id}/report", summary="A run group's report", tags=["reports"],
            responses={200: {"description": "the report's text", "content": {
                "text/markdown": {"schema": {"type": "string"}}, "text/html": {"schema": {"type": "string"}},
                "application/x-tex": {"schema": {"type": "string"}}}}})
def group_report(request: Request, group_id: str = Path(description="the group's id"),
                 format: str = Query("md", description=f"one of {', '.join(GROUP_FORMATS)}"),  # noqa: A002
                 download: bool = Query(False, description="as a file to save (Content-Disposition)"),
                 who: Principal = Depends(principal)) -> Response:  # noqa: B008
    """The group's report: totals, per node, per rank and per device."""
    from wattprint.report.group_report import render_group

    if format not in GROUP_FORMATS:
        raise invalid([FieldError("query.format", f"must be one of {', '.join(GROUP_FORMATS)} for a run group, "
                                                  f"got {format!r}")])
    data = group_json_of(request, group_id, who)
    media = {"md": "text/markdown", "html": "text/html", "latex": "application/x-tex"}[format]
    headers = {}
    if download:
        safe = "".join(c if c.isalnum() or c in "-_." else "-" for c in group_id)[:80] or "group"
        extension = {"md": ".md", "html": ".html", "latex": ".tex"}[format]
        headers["Content-Disposition"] = f'attachment; filename="{safe}{extension}"'
    return Response(render_group(data, format), media_type=f"{media}; charset=utf-8", headers=headers)
