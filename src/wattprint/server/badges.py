"""SVG badges of a project's or a run's energy or CO2e, for a README. A README's image cannot send a token, so a
badge URL may carry a key instead: an HMAC of what the badge shows under the server's key, which opens that one
badge and nothing else (``GET /api/v1/badges`` gives the URLs to readers who may see the figure)."""

from __future__ import annotations

import hashlib
import hmac
from html import escape
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials

from wattprint.core.formatting import format_emissions, format_energy
from wattprint.server import openapi
from wattprint.server.access import check_read, principal, state
from wattprint.server.api_runs import find_run
from wattprint.server.problems import FieldError, Problem, invalid
from wattprint.server.tokens import ANONYMOUS, Principal, server_key
from wattprint.store import queries

router = APIRouter(prefix="/api/v1", tags=["badges"])

FIGURES = ("energy", "co2e")
LABELS = {"energy": "energy", "co2e": "CO2e"}
_CHAR_W = 6.6  # px per character of 11 px Verdana/DejaVu Sans, on average: badges need no font metrics to be legible


def badge_svg(label: str, value: str, colour: str = "#2e7d32") -> str:
    """A flat two-part badge: ``label`` on grey, ``value`` on ``colour``; text escaped, widths from the text."""
    left = int(len(label) * _CHAR_W + 12)
    right = int(len(value) * _CHAR_W + 12)
    width = left + right
    title = escape(f"{label}: {value}")
    label, value = escape(label), escape(value)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="20" role="img" aria-label="{title}">'
        f"<title>{title}</title>"
        f'<rect width="{left}" height="20" rx="3" fill="#555"/>'
        f'<rect x="{left}" width="{right}" height="20" rx="3" fill="{colour}"/>'
        f'<rect x="{left}" width="4" height="20" fill="{colour}"/>'
        f'<g fill="#fff" text-anchor="middle" font-family="Verdana,DejaVu Sans,sans-serif" font-size="11">'
        f'<text x="{left / 2:.1f}" y="14">{label}</text>'
        f'<text x="{left + right / 2:.1f}" y="14">{value}</text></g></svg>'
    )


def _key(request: Request) -> str:
    found: str | None = getattr(request.app.state, "badge_key", None)
    if found is None:
        found = server_key(state(request).store)
        request.app.state.badge_key = found
    return found


def badge_key(request: Request, subject: str) -> str:
    """The key that opens the badge of ``subject`` (``project:NAME`` or ``run:ID``): 16 hex digits of an HMAC."""
    return hmac.new(_key(request).encode(), f"badge:{subject}".encode(), hashlib.sha256).hexdigest()[:16]


def _subject(project: str | None, run: str | None) -> tuple[str, str]:
    if (project is None) == (run is None):
        raise invalid([FieldError("query.project", "give project=NAME or run=ID (one of them)")])
    return ("project", project) if project is not None else ("run", str(run))


def _who(request: Request) -> Principal:
    header = request.headers.get("authorization")
    credentials = None
    if header:
        scheme, _, value = header.strip().partition(" ")
        credentials = HTTPAuthorizationCredentials(scheme=scheme, credentials=value.strip())
    return principal(request, credentials)


def _figure(request: Request, kind: str, ref: str, figure: str, who: Principal | None) -> tuple[str, str]:
    """The badge's label and value; ``who`` None: the key was checked (the run or project is readable)."""
    store = state(request).store
    if kind == "run":
        run = find_run(store, ref, who or ANONYMOUS)  # who None: the key opened this run's badge
        energy_j, emissions_g = run.energy_j, run.emissions_g
        uncertainty = run.emissions_uncertainty_rel if figure == "co2e" else run.energy_uncertainty_rel
    else:
        if who is not None:
            check_read(who, ref)
        totals = queries.project_totals(store, [ref])
        if not totals:
            from wattprint.server.problems import not_found

            raise not_found(f"there is no project {ref!r} on this server (GET /api/v1/projects)")
        energy_j, emissions_g, uncertainty = totals[0].energy_j, totals[0].emissions_g, None
    if figure == "energy":
        text = format_energy(energy_j)
    else:
        text = "not priced" if emissions_g is None else format_emissions(emissions_g)
    if uncertainty and (figure == "energy" or emissions_g is not None):
        text += f" ± {uncertainty:.0%}"
    return LABELS[figure], text


@router.get("/badge.svg", summary="An SVG badge of a project's or a run's energy or CO2e", name="badge",
            responses={200: {"description": "an SVG image", "content": {"image/svg+xml": {}}}},
            openapi_extra={"security": [{"HTTPBearer": []}, {}]})
def badge(
    request: Request,
    project: str | None = Query(None, description="the project's totals"),
    run: str | None = Query(None, description="one run (an id or a unique prefix)"),
    figure: str = Query("co2e", description=f"one of {', '.join(FIGURES)}"),
    key: str | None = Query(None, description="the badge's key (GET /api/v1/badges): opens this badge without a "
                                              "token"),
) -> Response:
    """The badge as SVG: anyone holding its key may see it, as may any reader of the project or run."""
    kind, ref = _subject(project, run)
    if figure not in FIGURES:
        raise invalid([FieldError("query.figure", f"must be one of {', '.join(FIGURES)}, got {figure!r}")])
    who: Principal | None
    if key is not None and hmac.compare_digest(key, badge_key(request, f"{kind}:{ref}")):
        who = None
    elif key is not None:
        raise Problem(403, "forbidden", f"this key does not open the badge of {kind} {ref!r}: copy the badge URL "
                      "again from the dashboard (GET /api/v1/badges)")
    else:
        who = _who(request)
    label, value = _figure(request, kind, ref, figure, who)
    return Response(badge_svg(label, value), media_type="image/svg+xml",
                    headers={"Cache-Control": "max-age=300"})


@router.get("/badges", summary="A project's or a run's badge URLs", name="badge_urls", responses=openapi.ANY_JSON)
def badges(
    request: Request,
    project: str | None = Query(None, description="the project's badges"),
    run: str | None = Query(None, description="one run's badges (an id or a unique prefix)"),
    who: Principal = Depends(principal),  # noqa: B008
) -> JSONResponse:
    """The badge URLs (with keys, for a README) and Markdown to paste, for readers of the project or run."""
    from urllib.parse import urlencode

    kind, ref = _subject(project, run)
    if kind == "run":
        ref = find_run(state(request).store, ref, who).run_id
    else:
        check_read(who, ref)
    base = str(request.base_url).rstrip("/")
    items: list[dict[str, Any]] = []
    for figure in FIGURES:
        query = urlencode({kind: ref, "figure": figure, "key": badge_key(request, f"{kind}:{ref}")})
        url = f"{base}/api/v1/badge.svg?{query}"
        items.append({"figure": figure, "url": url, "markdown": f"![{LABELS[figure]}]({url})"})
    return JSONResponse({kind: ref, "items": items})
