"""The dashboard's pages: each is one template filled with what its URL names (a project, a run); the figures
come from the API, fetched by the page's script."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path as FilePath
from typing import Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, Response

from wattprint._version import __version__

HERE = FilePath(__file__).resolve().parent
STATIC_DIR = HERE / "static"
TEMPLATES_DIR = HERE / "templates"
STATIC_URL = "/static"
router = APIRouter(include_in_schema=False)

NAV = (("/", "Overview", "overview"), ("/compare", "Compare", "compare"), ("/calculator", "Calculator", "calculator"),
       ("/settings", "Settings", "settings"))


@lru_cache(maxsize=1)
def _environment() -> Any:
    import jinja2

    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)), autoescape=True,
                              undefined=jinja2.StrictUndefined)


@lru_cache(maxsize=64)
def _asset_version(name: str) -> str:
    """A short fingerprint of a static file, so a browser fetches it again after an upgrade."""
    import hashlib

    return hashlib.sha256((STATIC_DIR / name).read_bytes()).hexdigest()[:10]


def render(page: str, title: str, **values: Any) -> HTMLResponse:
    """The page ``page`` (its template and its script) with ``values`` for the template."""

    def asset(name: str) -> str:
        return f"{STATIC_URL}/{name}?v={_asset_version(name)}"

    html = _environment().get_template(f"{page}.html").render(
        page=page, title=title, nav=NAV, asset=asset, version=__version__, **values)
    return HTMLResponse(html, headers={"Cache-Control": "no-cache"})


@router.get("/", response_class=HTMLResponse)
def overview() -> HTMLResponse:
    return render("overview", "Projects")


@router.get("/projects/{name:path}", response_class=HTMLResponse)
def project(name: str = Path()) -> HTMLResponse:
    return render("project", f"Project {name}", project=name)


@router.get("/runs/{run_id}", response_class=HTMLResponse)
def run(run_id: str = Path()) -> HTMLResponse:
    return render("run", f"Run {run_id[:12]}", run_id=run_id)


@router.get("/groups/{group_id}", response_class=HTMLResponse)
def group(group_id: str = Path()) -> HTMLResponse:
    return render("group", f"Run group {group_id}", group_id=group_id)


@router.get("/compare", response_class=HTMLResponse)
def compare() -> HTMLResponse:
    return render("compare", "Compare runs")


@router.get("/calculator", response_class=HTMLResponse)
def calculator() -> HTMLResponse:
    return render("calculator", "Calculator")


@router.get("/settings", response_class=HTMLResponse)
def settings() -> HTMLResponse:
    return render("settings", "Settings")


@router.get("/favicon.ico")
def favicon(request: Request) -> Response:
    return Response((STATIC_DIR / "favicon.svg").read_bytes(), media_type="image/svg+xml")
