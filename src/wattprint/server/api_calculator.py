"""The calculator without a token: the region list, an estimate without running, the same work priced in other
regions, and a stored run re-priced elsewhere (``wattprint.plan``)."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from wattprint.core.errors import WattprintError
from wattprint.server import openapi
from wattprint.server.access import principal, state
from wattprint.server.api_runs import find_run, read_body
from wattprint.server.documents import parse_json
from wattprint.server.problems import FieldError, invalid
from wattprint.server.tokens import Principal

router = APIRouter(prefix="/api/v1", tags=["calculator"])

MAX_REGIONS = 500


def _keywords(function: Callable[..., Any], data: Any, *, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """The body's keys as keyword arguments of ``function``: a 422 naming a key it does not take."""
    if not isinstance(data, dict):
        raise invalid([FieldError("(body)", "must be a JSON object of the calculator's parameters")])
    known = [name for name in inspect.signature(function).parameters if name not in skip]
    errors = []
    for key in data:
        if key not in known:
            import difflib

            close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
            hint = f"did you mean {close[0]!r}? " if close else ""
            errors.append(FieldError(key, f"is not a parameter: {hint}allowed: {', '.join(known)}"))
    if errors:
        raise invalid(errors)
    return dict(data)


def _call(function: Callable[..., Any], keywords: dict[str, Any]) -> Any:
    """``function(**keywords)``; its complaint about a value becomes a 422 naming that parameter."""
    try:
        return function(**keywords)
    except (WattprintError, ValueError, TypeError, LookupError) as error:
        message = str(error.args[0]) if error.args else str(error)
        field = next((key for key in keywords if message.startswith((key, f"--{key}"))), "(body)")
        raise invalid([FieldError(field, message)]) from None


@router.get("/regions", summary="Known locations and cloud regions", name="list_regions", responses=openapi.ANY_JSON)
def regions(q: str | None = Query(None, description="search words: a country, zone, region or provider"),
            limit: int = Query(50, ge=1, le=MAX_REGIONS)) -> JSONResponse:
    """Locations and cloud regions with their grid intensity and its source (best matches first)."""
    from wattprint.report.regions import list_regions, region_dict

    return JSONResponse({"items": [region_dict(r) for r in list_regions(q or None, limit=limit)]})


@router.post("/estimate", summary="Estimate a job without running it", responses=openapi.ANY_JSON)
async def estimate(request: Request) -> JSONResponse:
    """The energy, emissions and water of a job described by its hardware and duration (``wattprint estimate``)."""
    from wattprint.plan.estimate import estimate as plan_estimate

    data = parse_json(await read_body(request, state(request)))
    result = await run_in_threadpool(_call, plan_estimate, _keywords(plan_estimate, data))
    return JSONResponse(result.to_dict())


@router.post("/compare-regions", summary="Price the same work in many regions", responses=openapi.ANY_JSON)
async def compare_regions(request: Request) -> JSONResponse:
    """``energy_kwh`` (or an ``estimate``: the parameters of POST /estimate) priced at every region of
    ``providers`` and at ``locations``, greenest first."""
    from wattprint.plan.compare import compare_estimate
    from wattprint.plan.compare import compare_regions as plan_compare
    from wattprint.plan.estimate import estimate as plan_estimate

    data = parse_json(await read_body(request, state(request)))
    if isinstance(data, dict) and "estimate" in data:
        rest = {k: v for k, v in data.items() if k != "estimate"}
        keywords = _keywords(compare_estimate, rest, skip=("estimate",))
        job = _call(plan_estimate, _keywords(plan_estimate, data["estimate"]))
        result = await run_in_threadpool(_call, lambda **kw: compare_estimate(job, **kw), keywords)
    else:
        result = await run_in_threadpool(_call, plan_compare, _keywords(plan_compare, data))
    return JSONResponse(result.to_dict())


@router.get("/runs/{run_id}/reprice", summary="A stored run priced in other regions", name="reprice_run", tags=["runs"],
            responses=openapi.ANY_JSON)
def reprice(
    request: Request,
    run_id: str = Path(description="a run id, or a unique prefix of 4+ hex digits"),
    location: list[str] | None = Query(None, description="a location to price the run at (repeatable); default: "  # noqa: B008
                                                         "every cloud region"),
    who: Principal = Depends(principal),  # noqa: B008
) -> JSONResponse:
    """The IT energy the run measured, priced at each location with that location's intensity and PUE."""
    from wattprint.plan.compare import compare_estimate
    from wattprint.plan.estimate import estimate_run

    store = state(request).store
    run = find_run(store, run_id, who)
    components = store.components(run.run_id)
    try:
        priced = estimate_run(run, components)
    except (WattprintError, LookupError):
        priced = estimate_run(run, components, intensity=0.0)  # a run without a known location: compare only
    try:
        comparison = compare_estimate(priced, locations=location or None)
    except (WattprintError, LookupError, ValueError) as error:
        message = str(error.args[0]) if error.args else str(error)
        raise invalid([FieldError("query.location", message)]) from None
    return JSONResponse(comparison.to_dict())
