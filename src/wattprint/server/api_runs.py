"""``/api/v1/runs``: send a whole run (idempotent, monotonic), list runs filtered and paged, read one run."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse

from wattprint.api.records import STATUSES, RunDocument
from wattprint.core.codec import to_dict
from wattprint.server import openapi
from wattprint.server.access import ServerState, check_read, check_write, principal, state
from wattprint.server.documents import read_document
from wattprint.server.problems import FieldError, Problem, invalid, not_found
from wattprint.server.tokens import Principal
from wattprint.store import queries
from wattprint.store.runstore import RunStore

router = APIRouter(prefix="/api/v1", tags=["runs"])

MAX_LIMIT = 1000


async def read_body(request: Request, server: ServerState) -> bytes:
    """The body, refused with 413 past the server's limit (a declared length is refused before it is read)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > server.max_body_bytes:
        raise too_large(server)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > server.max_body_bytes:
            raise too_large(server)
        chunks.append(chunk)
    return b"".join(chunks)


def too_large(server: ServerState) -> Problem:
    mib = server.max_body_bytes / 2**20
    return Problem(413, "payload-too-large",
                   f"the request body is over this server's limit of {mib:g} MiB: send a long run in several PUTs "
                   "(each with the intervals not sent yet), or start the server with a larger --max-body-mb")


@router.put("/runs/{run_id}", summary="Send a whole run", openapi_extra=openapi.PUT_RUN)
async def put_run(request: Request, run_id: str = Path(description="the run's id, 32 hex digits"),
                  who: Principal = Depends(principal)) -> JSONResponse:  # noqa: B008
    """Store a run document: idempotent, and an older state never replaces a newer one; one transaction."""
    server = state(request)
    document = read_document(await read_body(request, server), run_id)
    check_write(who, document.run.project)
    save = queries.RunSave(document.run, document.components, document.intervals, document.tasks,
                           document.request_intervals, project=document.run.project,
                           check_project=who.scope == "ingest")
    try:
        outcome = await server.ingest.save(save)
    except queries.ProjectMismatch as mismatch:
        raise Problem(403, "forbidden", f"run {run_id} is stored under project {mismatch.stored!r}; "
                      f"token {who.token_id} may not write it") from None
    return JSONResponse({"run_id": run_id, "updated_at": outcome.updated_at, "stored": outcome.stored})


def parse_time(value: str | None, name: str) -> float | None:
    """Unix seconds, or an ISO 8601 time (UTC unless it names its offset)."""
    if value is None or value == "":
        return None
    try:
        return float(value)
    except ValueError:
        pass
    import datetime

    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.datetime.fromisoformat(text)
    except ValueError:
        raise invalid([FieldError(f"query.{name}", f"{value!r} is not a time: give unix seconds or ISO 8601 "
                                                   "(2026-12-02 or 2026-12-02T14:00:00Z)")]) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return moment.timestamp()


def _encode_cursor(sort: str, value: float, run_id: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([sort, value, run_id]).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str, sort: str) -> tuple[float, str]:
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        given_sort, value, run_id = data
        if given_sort != sort or not isinstance(value, (int, float)) or not isinstance(run_id, str):
            raise ValueError(sort)
    except (ValueError, TypeError, binascii.Error):
        raise invalid([FieldError("query.cursor", "is not a cursor of this listing: pass next_cursor of the previous "
                                                  "page unchanged, with the same sort and filters")]) from None
    return float(value), run_id


@router.get("/runs", summary="List runs", responses=openapi.RUN_LIST)
def list_runs(
    request: Request,
    project: str | None = Query(None, description="only this project's runs"),
    user: str | None = Query(None, description="only this user's runs"),
    host: str | None = Query(None, description="only runs on this host"),
    status: str | None = Query(None, description=f"only runs with this status: {', '.join(STATUSES)}"),
    since: str | None = Query(None, description="runs started at or after: unix seconds or ISO 8601"),
    until: str | None = Query(None, description="runs started before: unix seconds or ISO 8601"),
    tag: list[str] = Query([], description="only runs with this tag; repeat it for runs with every one given"),  # noqa: B008
    group: str | None = Query(None, description="only the parts of this run group (GET /api/v1/groups/{group_id})"),
    sort: str = Query("-started_at", description="started_at, updated_at, energy_j or duration_s; - descending"),
    limit: int = Query(50, ge=1, le=MAX_LIMIT, description="runs per page"),
    cursor: str | None = Query(None, description="next_cursor of the previous page"),
    who: Principal = Depends(principal),  # noqa: B008
) -> JSONResponse:
    """Runs matching every filter given, a page at a time (keyset pagination: each run appears once)."""
    if who.scope == "ingest":
        if project is None:
            project = who.project
        check_read(who, project)
    errors = [FieldError(f"query.{name}", "must not contain NUL characters") for name, value in
              (("project", project), ("user", user), ("host", host), ("group", group))
              if value is not None and "\x00" in value]
    errors += [FieldError(f"query.tag[{i}]", "must not contain NUL characters") for i, value in enumerate(tag)
               if "\x00" in value]
    if status is not None and status not in STATUSES:
        errors.append(FieldError("query.status", f"must be one of {', '.join(STATUSES)}, got {status!r}"))
    if sort.lstrip("-") not in queries.RUN_SORTS:
        errors.append(FieldError("query.sort", f"must be one of {', '.join(queries.RUN_SORTS)}, each with - for "
                                               f"descending; got {sort!r}"))
    if errors:
        raise invalid(errors)
    where = queries.RunFilter(project=project, user=user, host=host, status=status,
                              since=parse_time(since, "since"), until=parse_time(until, "until"),
                              tags=tuple(tag), group=group)
    after = _decode_cursor(cursor, sort) if cursor else None
    runs = queries.find_runs(state(request).store, where, sort=sort, limit=limit + 1, after=after)
    next_cursor = None
    if len(runs) > limit:
        runs = runs[:limit]
        last = runs[-1]
        next_cursor = _encode_cursor(sort, getattr(last, sort.lstrip("-")), last.run_id)
    return JSONResponse({"items": [to_dict(run) for run in runs], "next_cursor": next_cursor})


def find_run(store: RunStore, ref: str, who: Principal) -> Any:
    """The run ``ref`` names (an id or a unique prefix of 4+ hex digits), if ``who`` may read it."""
    if ref.strip().lower() == "last":
        raise not_found("'last' is not a run id here: list runs with GET /api/v1/runs?limit=1")
    try:
        run = store.run(ref)
    except LookupError as error:
        message = str(error.args[0]) if error.args else str(error)
        if "matches" in message and "runs" in message:
            raise Problem(409, "ambiguous-run", message) from None
        raise not_found(message + "; list runs with GET /api/v1/runs") from None
    check_read(who, run.project)
    return run


@router.get("/runs/{run_id}", summary="Read one run", responses=openapi.RUN_DOCUMENT)
def get_run(request: Request, run_id: str = Path(description="a run id, or a unique prefix of 4+ hex digits"),
            who: Principal = Depends(principal)) -> JSONResponse:  # noqa: B008
    """The run with its components, intervals and tasks."""
    store = state(request).store
    run = find_run(store, run_id, who)
    from wattprint.store.requests import read_request_intervals

    document = RunDocument(run=run, components=tuple(store.components(run.run_id)),
                           intervals=tuple(store.intervals(run.run_id)), tasks=tuple(store.tasks(run.run_id)),
                           request_intervals=tuple(read_request_intervals(store, run.run_id)))
    return JSONResponse(to_dict(document))
