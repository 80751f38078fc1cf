"""The team server's application: API v1 on FastAPI over one store, errors as problem+json."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from wattprint._version import __version__
from wattprint.server import openapi
from wattprint.server.access import ServerState
from wattprint.server.problems import MEDIA_TYPE, FieldError, Problem, invalid
from wattprint.server.tokens import TokenChecker, server_key
from wattprint.settings.hints import docs
from wattprint.store.errors import StoreError
from wattprint.store.runstore import RunStore

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
DEFAULT_MAX_BODY_MB = 32.0


def create_app(store: RunStore, *, host: str = DEFAULT_HOST, max_body_mb: float = DEFAULT_MAX_BODY_MB,
               cors_origins: Sequence[str] = ()) -> FastAPI:
    """The application serving ``store``; ``host`` is the address it is bound to, which decides whether requests
    without a token are served (loopback) or refused (any other address). ``cors_origins``: the web pages' origins
    (``https://app.example.org``, or ``*``) whose scripts may call the API from a browser (CORS)."""
    app = build_app()
    app.state.wattprint = ServerState(store=store, checker=TokenChecker(store, server_key(store)), host=host,
                                      max_body_bytes=int(max_body_mb * 2**20))
    if cors_origins:
        from starlette.middleware.cors import CORSMiddleware

        # Tokens travel in the Authorization header, never in cookies: no credentials mode is needed.
        app.add_middleware(CORSMiddleware, allow_origins=list(check_cors_origins(cors_origins)),
                           allow_methods=["GET", "PUT", "POST", "DELETE"],
                           allow_headers=["Authorization", "Content-Type"], expose_headers=["WWW-Authenticate"],
                           max_age=600)
    return app


def check_cors_origins(origins: Sequence[str]) -> tuple[str, ...]:
    """Each origin as a browser sends it (``scheme://host[:port]``, no path), or ``*``; a ConfigError names any
    other."""
    import re

    from wattprint.core.errors import ConfigError

    for origin in origins:
        if origin != "*" and not re.fullmatch(r"https?://[^/\s?#]+", str(origin)):
            raise ConfigError(f"--cors-origin {origin!r} is not an origin: give scheme://host[:port] with no path "
                              "(e.g. https://app.example.org or http://localhost:5173), or * for any page")
    return tuple(origins)


def openapi_document() -> dict[str, Any]:
    """The OpenAPI document every server serves at /openapi.json (docs/api/openapi.json is a copy)."""
    return build_app().openapi()


def build_app() -> FastAPI:
    """The routes and error handlers, without a store (``create_app`` gives it one)."""
    from wattprint.server import api_calculator, api_groups, api_projects, api_runs, api_tokens, codecarbon_api

    app = FastAPI(
        title="wattprint team server",
        version=__version__,
        description=f"Every run of a team in one place: runs, projects, summaries, the calculator ({docs('server')}).",
        openapi_url="/openapi.json",
        generate_unique_id_function=lambda route: route.name,  # operation ids a generated client reads well
    )
    app.add_exception_handler(Problem, _problem)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(HTTPException, _http)
    app.add_exception_handler(StoreError, _store_error)

    @app.get("/api/v1/health", tags=["server"], summary="Whether the server is up", responses=openapi.ANY_JSON)
    def health() -> JSONResponse:
        from wattprint.api.records import WIRE_VERSION

        return JSONResponse({"status": "ok", "version": __version__, "schema_version": WIRE_VERSION})

    for module in (api_runs, api_groups, api_projects, api_calculator, api_tokens, codecarbon_api):
        app.include_router(module.router)
    from wattprint.server import api_reports, badges, dashboard

    for module in (api_reports, badges):
        app.include_router(module.router)
    dashboard.install(app)  # the web pages and their static files, after the API's routes

    def schema() -> dict[str, Any]:
        if app.openapi_schema is None:
            from fastapi.openapi.utils import get_openapi

            app.openapi_schema = openapi.finish(get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes))
        return app.openapi_schema

    app.openapi = schema  # type: ignore[method-assign]  # FastAPI documents replacing this method
    return app


def problem_response(problem: Problem) -> JSONResponse:
    return JSONResponse(problem.body(), status_code=problem.status, media_type=MEDIA_TYPE, headers=problem.headers)


async def _problem(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, Problem)
    return problem_response(error)


def _field(loc: tuple[Any, ...]) -> str:
    where, *rest = loc or ("request",)
    path = str(where)
    for part in rest:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


async def _validation(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    errors = [FieldError(_field(tuple(e.get("loc", ()))), str(e.get("msg", "is not valid"))) for e in error.errors()]
    return problem_response(invalid(errors or [FieldError("request", "is not valid")]))


async def _http(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, HTTPException)
    detail = str(error.detail)
    if error.status_code == 404:
        detail = f"there is no {request.url.path} on this server; the API is under /api/v1 (see /openapi.json)"
    elif error.status_code == 405:
        detail = f"{request.method} is not allowed on {request.url.path}; see /openapi.json for the methods"
    slug = {404: "not-found", 405: "method-not-allowed"}.get(error.status_code, "http-error")
    return problem_response(Problem(error.status_code, slug, detail, headers=dict(error.headers or {})))


async def _store_error(request: Request, error: Exception) -> JSONResponse:
    from wattprint._log import warn_once

    warn_once(f"server-store:{error}", f"the team server could not use its store: {error}")
    return problem_response(Problem(503, "store-unavailable", f"the server's store failed: {error}; try again "
                                    "later (a client keeps the run and sends it again)"))
