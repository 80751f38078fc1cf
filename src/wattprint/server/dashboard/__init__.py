"""The team server's web dashboard: HTML pages and their static files (scripts, styles, the vendored Chart.js),
served by the same process under ``/``. Pages hold no data: their scripts read it from the API v1 with the
browser's token, so a page shown without a token asks for one and shows nothing else."""

from __future__ import annotations

from fastapi import FastAPI


def install(app: FastAPI) -> None:
    """Add the dashboard's pages and static files to ``app`` (kept out of the OpenAPI document)."""
    from fastapi.staticfiles import StaticFiles

    from wattprint.server.dashboard.pages import STATIC_DIR, STATIC_URL, router

    app.include_router(router)
    app.mount(STATIC_URL, StaticFiles(directory=STATIC_DIR), name="static")
