"""``/api/v1/tokens``: an admin lists, makes and revokes tokens (a new token's secret is shown once)."""

from __future__ import annotations

import time

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from wattprint.server import openapi
from wattprint.server.access import check_admin, principal, state
from wattprint.server.api_runs import read_body
from wattprint.server.documents import parse_json
from wattprint.server.problems import FieldError, invalid, not_found
from wattprint.server.tokens import SCOPES, Principal, create_token, token_json
from wattprint.store import queries

router = APIRouter(prefix="/api/v1", tags=["tokens"])


@router.get("/tokens", summary="Every token (no secrets)", responses=openapi.TOKENS)
def list_tokens(request: Request, who: Principal = Depends(principal)) -> JSONResponse:  # noqa: B008
    check_admin(who)
    return JSONResponse({"items": [token_json(row) for row in queries.tokens(state(request).store)]})


@router.post("/tokens", summary="Make a token", name="create_token", status_code=201, responses=openapi.NEW_TOKEN,
             openapi_extra=openapi.CREATE_TOKEN)
async def new_token(request: Request, who: Principal = Depends(principal)) -> JSONResponse:  # noqa: B008
    """A new token of ``scope`` (``ingest`` needs ``project``); the answer holds the token, shown only this once."""
    check_admin(who)
    server = state(request)
    data = parse_json(await read_body(request, server))
    if not isinstance(data, dict):
        raise invalid([FieldError("(body)", 'must be an object such as {"scope": "ingest", "project": "mnist"}')])
    errors = []
    scope, project, name = data.get("scope"), data.get("project"), data.get("name")
    if scope not in SCOPES:
        errors.append(FieldError("scope", f"must be one of {', '.join(SCOPES)}, got {scope!r}"))
    for key, value in (("project", project), ("name", name)):
        if value is not None and (not isinstance(value, str) or not value.strip()):
            errors.append(FieldError(key, "must be a non-empty string, or left out"))
    for key in data:
        if key not in ("scope", "project", "name"):
            errors.append(FieldError(key, "is not a token field: give scope, project and name"))
    if scope == "ingest" and project is None:
        errors.append(FieldError("project", "is required for an ingest token: it writes runs of one project"))
    if scope in ("read", "admin") and project is not None:
        errors.append(FieldError("project", f"must be left out: a {scope} token is not tied to a project"))
    if errors:
        raise invalid(errors)
    row, token = await run_in_threadpool(create_token, server.store, str(scope), project, name)
    return JSONResponse({**token_json(row), "token": token}, status_code=201)


@router.delete("/tokens/{token_id}", summary="Revoke a token", name="revoke_token", responses=openapi.ANY_JSON)
def revoke(request: Request, token_id: str = Path(description="the token's id (12 hex digits)"),
           who: Principal = Depends(principal)) -> JSONResponse:  # noqa: B008
    """Revoke a token at once; revoking it again changes nothing."""
    check_admin(who)
    server = state(request)
    if not queries.revoke_token(server.store, token_id, time.time()):
        raise not_found(f"there is no token {token_id}; list them with GET /api/v1/tokens")
    server.checker.forget(token_id)
    row = queries.token(server.store, token_id)
    return JSONResponse(token_json(row) if row else {"token_id": token_id})
