"""Errors as ``application/problem+json`` (RFC 9457): what went wrong, the fix, and the fields at fault."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PROBLEM_TYPE = "https://wattprint.org/problems/{slug}"
MEDIA_TYPE = "application/problem+json"

TITLES = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Payload too large",
    415: "Unsupported media type",
    422: "Invalid request",
    500: "Server error",
    503: "Store unavailable",
}


@dataclass(frozen=True)
class FieldError:
    """One field at fault, named by its path in the request's terms (``run.energy_j``, ``intervals[3].bucket``,
    ``query.since``)."""

    field: str
    message: str


@dataclass
class Problem(Exception):
    """An error answered as problem+json; ``detail`` says what was wrong and how to fix it."""

    status: int
    slug: str
    detail: str
    errors: list[FieldError] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "type": PROBLEM_TYPE.format(slug=self.slug),
            "title": TITLES.get(self.status, "Error"),
            "status": self.status,
            "detail": self.detail,
        }
        if self.errors:
            data["errors"] = [{"field": e.field, "message": e.message} for e in self.errors]
        return data


def invalid(errors: list[FieldError], what: str = "the request") -> Problem:
    """A 422 naming every field at fault."""
    first = errors[0]
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return Problem(422, "invalid-request", f"{what} is not valid: {first.field}: {first.message}{more}", errors)


def unauthorised(detail: str) -> Problem:
    return Problem(401, "unauthorised", detail, headers={"WWW-Authenticate": 'Bearer realm="wattprint"'})


def forbidden(detail: str) -> Problem:
    return Problem(403, "forbidden", detail)


def not_found(detail: str) -> Problem:
    return Problem(404, "not-found", detail)


PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "An error (RFC 9457): what was wrong and how to fix it, with the fields at fault.",
    "type": "object",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
                "required": ["field", "message"],
            },
        },
    },
    "required": ["type", "title", "status", "detail"],
}
