"""CodeCarbon's API under ``/codecarbon``: a CodeCarbon tracker given ``api_endpoint="http://SERVER/codecarbon"``
and a wattprint token as its ``api_key`` sends its runs here, stored as wattprint runs (``codecarbon_runs``).

Its client sends the key as ``x-api-token`` (or ``Authorization: Bearer``). CodeCarbon's placeholder key, the
literal ``api_key`` it sends when none is configured, counts as no token. Organisations, projects and experiments
are CodeCarbon's setup calls: one organisation (this server), its projects are wattprint projects, and an
experiment (kept in the server's settings) names a project and the runs' name. A run of an experiment this server
does not know goes to the token's project (an ingest token), else to no project.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from wattprint.server.access import check_read, check_write, principal_of, state
from wattprint.server.api_runs import too_large
from wattprint.server.codecarbon_runs import (
    ORGANIZATION,
    ORGANIZATION_ID,
    add_report,
    is_repeat,
    new_run,
    parse_time,
    project_id,
    project_json,
)
from wattprint.server.problems import FieldError, Problem, invalid, not_found
from wattprint.server.tokens import Principal
from wattprint.store import queries
from wattprint.store.runstore import RunStore


def limit_body(request: Request) -> None:
    """413 for a body over the server's limit, before FastAPI reads it (CodeCarbon's client declares its length)."""
    if request.method not in ("POST", "PUT", "PATCH"):
        return
    server = state(request)
    declared = request.headers.get("content-length")
    if declared is None:
        raise Problem(411, "length-required", "send the body with a Content-Length header")
    if not declared.isdigit() or int(declared) > server.max_body_bytes:
        raise too_large(server)


router = APIRouter(prefix="/codecarbon", tags=["codecarbon"], include_in_schema=False,
                   dependencies=[Depends(limit_body)])
"""CodeCarbon's API, not wattprint's: left out of the OpenAPI document (and so of the JavaScript client)."""

PLACEHOLDER_KEY = "api_key"
"""The key CodeCarbon sends when none is configured: no token."""
EXPERIMENT = "codecarbon:experiment:"
"""The server settings holding CodeCarbon experiments (``<prefix><id>``: JSON with its name and project)."""
_LOCKS = tuple(threading.Lock() for _ in range(64))
"""Reports of one run are added one at a time (each reads the run's buckets, then adds one)."""


def cc_principal(request: Request) -> Principal:
    """The requester, from CodeCarbon's ``x-api-token`` header or a bearer token."""
    token = request.headers.get("x-api-token")
    if token is None:
        header = request.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        token = value.strip() if scheme.lower() == "bearer" else None
    if token is not None and token.strip() in ("", PLACEHOLDER_KEY):
        token = None
    return principal_of(request, token, "the token as CodeCarbon's api_key (its x-api-token header)")


class RunCreate(BaseModel):
    """What CodeCarbon's client sends to create a run (``codecarbon.core.schemas.RunCreate``)."""

    timestamp: str | None = None
    experiment_id: str
    os: str | None = None
    python_version: str | None = None
    codecarbon_version: str | None = None
    cpu_count: int | None = Field(None, ge=0)
    cpu_model: str | None = None
    gpu_count: int | None = Field(None, ge=0)
    gpu_model: str | None = None
    longitude: float | None = None
    latitude: float | None = None
    region: str | None = None
    provider: str | None = None
    ram_total_size: float | None = Field(None, ge=0)
    tracking_mode: str | None = None


class EmissionCreate(BaseModel):
    """One report of CodeCarbon's client: the figures since its previous report (kWh, kg, W, whole seconds)."""

    timestamp: str
    run_id: str
    duration: float = Field(ge=0)
    emissions_sum: float = Field(ge=0)
    emissions_rate: float | None = None
    cpu_power: float | None = Field(None, ge=0)
    gpu_power: float | None = Field(None, ge=0)
    ram_power: float | None = Field(None, ge=0)
    cpu_energy: float = Field(ge=0)
    gpu_energy: float = Field(ge=0)
    ram_energy: float = Field(ge=0)
    energy_consumed: float = Field(ge=0)
    cpu_utilization_percent: float | None = None
    gpu_utilization_percent: float | None = None
    ram_utilization_percent: float | None = None
    wue: float | None = None


class ProjectCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    description: str = ""
    organization_id: str | None = None


class ExperimentCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    description: str = ""
    project_id: str
    timestamp: str | None = None
    on_cloud: bool | None = None
    country_name: str | None = None
    country_iso_code: str | None = None
    region: str | None = None
    cloud_provider: str | None = None
    cloud_region: str | None = None


def _time(text: str | None, field: str) -> None:
    if text is None:
        return
    try:
        parse_time(text)
    except ValueError:
        raise invalid([FieldError(field, f"{text[:40]!r} is not an ISO 8601 time")]) from None


def _experiment(store: RunStore, experiment_id: str) -> dict[str, Any] | None:
    value = queries.setting(store, EXPERIMENT + experiment_id)
    return None if value is None else dict(json.loads(value))


def _project_named(store: RunStore, cc_project_id: str) -> str:
    for name in queries.project_names(store):
        if project_id(name) == cc_project_id:
            return name
    raise not_found(f"no project has the CodeCarbon id {cc_project_id}: list them with GET "
                    f"/codecarbon/organizations/{ORGANIZATION_ID}/projects")


def _readable(who: Principal, names: list[str]) -> list[str]:
    return [name for name in names if who.scope != "ingest" or name == who.project]


@router.get("/auth/check", summary="CodeCarbon: check the key")
def auth_check(who: Principal = Depends(cc_principal)) -> JSONResponse:  # noqa: B008
    return JSONResponse({"user": who.token_id or "anonymous", "scope": who.scope, "project": who.project})


@router.get("/organizations", summary="CodeCarbon: list organisations")
def organizations(who: Principal = Depends(cc_principal)) -> JSONResponse:  # noqa: B008
    return JSONResponse([ORGANIZATION])


class OrganizationCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    description: str = ""


@router.post("/organizations", summary="CodeCarbon: create an organisation", status_code=201)
def create_organization(body: OrganizationCreate, who: Principal = Depends(cc_principal)) -> JSONResponse:  # noqa: B008
    """This server is one organisation: ``codecarbon config`` creating one gets that one (its projects are this
    server's projects, whatever the name asked for)."""
    if who.scope == "read":
        check_write(who, None)
    return JSONResponse(ORGANIZATION, status_code=201)


@router.get("/organizations/{organization_id}", summary="CodeCarbon: read the organisation")
def organization(organization_id: str, who: Principal = Depends(cc_principal)) -> JSONResponse:  # noqa: B008
    if organization_id != ORGANIZATION_ID:
        raise not_found(f"this server's one organisation is {ORGANIZATION_ID}")
    return JSONResponse(ORGANIZATION)


@router.get("/organizations/{organization_id}/projects", summary="CodeCarbon: list projects")
def organization_projects(request: Request, organization_id: str,
                          who: Principal = Depends(cc_principal)) -> JSONResponse:  # noqa: B008
    if organization_id != ORGANIZATION_ID:
        raise not_found(f"this server's one organisation is {ORGANIZATION_ID}")
    names = _readable(who, queries.project_names(state(request).store))
    return JSONResponse([project_json(name) for name in names])


@router.post("/projects", summary="CodeCarbon: create a project", status_code=201)
def create_project(request: Request, body: ProjectCreate,
                   who: Principal = Depends(cc_principal)) -> JSONResponse:  # noqa: B008
    check_write(who, body.name)
    queries.ensure_project(state(request).store, body.name)
    return JSONResponse(project_json(body.name), status_code=201)


@router.get("/projects/{cc_project_id}", summary="CodeCarbon: read a project")
def get_project(request: Request, cc_project_id: str,
                who: Principal = Depends(cc_principal)) -> JSONResponse:  # noqa: B008
    name = _project_named(state(request).store, cc_project_id)
    check_read(who, name)
    return JSONResponse(project_json(name))


@router.get("/projects/{cc_project_id}/experiments", summary="CodeCarbon: list a project's experiments")
def project_experiments(request: Request, cc_project_id: str,
                        who: Principal = Depends(cc_principal)) -> JSONResponse:  # noqa: B008
    store = state(request).store
    name = _project_named(store, cc_project_id)
    check_read(who, name)
    found = [json.loads(value) for value in queries.settings_named(store, EXPERIMENT).values()]
    return JSONResponse([item for item in found if item.get("project") == name])


@router.post("/experiments", summary="CodeCarbon: create an experiment", status_code=201)
def create_experiment(request: Request, body: ExperimentCreate,
                      who: Principal = Depends(cc_principal)) -> JSONResponse:  # noqa: B008
    store = state(request).store
    _time(body.timestamp, "body.timestamp")
    name = _project_named(store, body.project_id)
    check_write(who, name)
    experiment = {**body.model_dump(), "id": str(uuid.uuid4()), "project": name}
    queries.ensure_setting(store, EXPERIMENT + experiment["id"], json.dumps(experiment))
    return JSONResponse(experiment, status_code=201)


@router.get("/experiments/{experiment_id}", summary="CodeCarbon: read an experiment")
def get_experiment(request: Request, experiment_id: str,
                   who: Principal = Depends(cc_principal)) -> JSONResponse:  # noqa: B008
    experiment = _experiment(state(request).store, experiment_id)
    if experiment is None:
        raise not_found(f"no experiment {experiment_id} on this server: make one with POST /codecarbon/experiments")
    check_read(who, experiment["project"])
    return JSONResponse(experiment)


@router.post("/runs", summary="CodeCarbon: start a run", status_code=201)
async def create_run(request: Request, body: RunCreate,
                     who: Principal = Depends(cc_principal)) -> JSONResponse:  # noqa: B008
    store = state(request).store
    _time(body.timestamp, "body.timestamp")
    experiment = await run_in_threadpool(_experiment, store, body.experiment_id)
    project = experiment["project"] if experiment is not None else who.project  # None but for ingest tokens
    check_write(who, project)
    run = new_run(body.model_dump(), project=project, experiment=experiment, now=time.time())
    await run_in_threadpool(queries.save_document, store, run, project=project, check_project=True)
    assert run.extra is not None and run.extra.source_run_id is not None
    return JSONResponse({**body.model_dump(), "id": run.extra.source_run_id, "wattprint_run_id": run.run_id},
                        status_code=201)


@router.post("/emissions", summary="CodeCarbon: add a report to a run", status_code=201)
async def add_emission(request: Request, body: EmissionCreate,
                       who: Principal = Depends(cc_principal)) -> JSONResponse:  # noqa: B008
    _time(body.timestamp, "body.timestamp")
    try:
        run_id = uuid.UUID(body.run_id).hex
    except ValueError:
        raise invalid([FieldError("body.run_id", f"{body.run_id[:40]!r} is not a run id this server gave "
                                                 "(POST /codecarbon/runs)")]) from None
    await run_in_threadpool(_add, state(request).store, run_id, body.model_dump(), who)
    return JSONResponse({"id": str(uuid.uuid4()), "run_id": body.run_id}, status_code=201)


def _add(store: RunStore, run_id: str, report: dict[str, Any], who: Principal) -> None:
    with _LOCKS[int(run_id[:8], 16) % len(_LOCKS)]:
        exists, project = queries.run_project(store, run_id)
        if not exists:
            raise not_found(f"no run {report['run_id']} on this server: CodeCarbon's client makes one with POST "
                            "/codecarbon/runs first")
        check_write(who, project)
        run = store.run(run_id)
        if run.extra is None or run.extra.imported_from != "codecarbon":
            raise Problem(409, "not-codecarbon", f"run {run_id} was not sent by CodeCarbon: send wattprint runs "
                                                 "with PUT /api/v1/runs/{run_id}")
        intervals = store.intervals(run_id)
        if is_repeat(report, run, intervals):
            return  # the same report sent again: stored once
        updated, components, added = add_report(run, intervals, report, now=time.time())
        queries.save_document(store, updated, components, added, project=project, check_project=True)

