"""The served OpenAPI document: FastAPI's, with the wire format's records as its schemas and errors as
problem+json; ``docs/api/openapi.json`` is a copy of it (``wattprint server openapi``), which a test compares."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from wattprint.server.problems import MEDIA_TYPE, PROBLEM_SCHEMA

REF = "#/components/schemas/{name}"


def ref(name: str) -> dict[str, str]:
    return {"$ref": REF.format(name=name)}


def _json(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _object(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": required or list(properties)}


_NUMBER_OR_NULL = {"anyOf": [{"type": "number"}, {"type": "null"}]}
_TOTALS = {
    "runs": {"type": "integer"},
    "energy_j": {"type": "number"},
    "emissions_g": _NUMBER_OR_NULL,
    "duration_s": {"type": "number"},
    "avg_power_w": {**_NUMBER_OR_NULL, "description": "total energy over total time"},
    "energy_uncertainty_rel": {"type": "number", "description": "the runs' relative standard uncertainties "
                               "weighted by their energy (a bound: errors all going the same way)"},
    "emissions_uncertainty_rel": {**_NUMBER_OR_NULL, "description": "the same, weighted by the runs' emissions"},
}

PUT_RUN: dict[str, Any] = {
    "requestBody": {"required": True, "content": {"application/json": {"schema": ref("RunDocument")}}},
    "responses": {"200": _json(_object({"run_id": {"type": "string"}, "updated_at": {"type": "number"},
                                        "stored": {"type": "boolean", "description": "whether the state sent is "
                                                   "the stored one (false: the server had a newer one)"}}))},
}
RUN_LIST: dict[int | str, dict[str, Any]] = {
    200: _json(_object({"items": {"type": "array", "items": ref("RunRecord")},
                        "next_cursor": {"anyOf": [{"type": "string"}, {"type": "null"}]}}))}
RUN_DOCUMENT: dict[int | str, dict[str, Any]] = {200: _json(ref("RunDocument"))}
PROJECTS: dict[int | str, dict[str, Any]] = {200: _json(_object({"items": {"type": "array", "items": _object({
    "name": {"type": "string"}, **_TOTALS, "first_started_at": {"type": "number"},
    "last_started_at": {"type": "number"}})}}))}
SUMMARY: dict[int | str, dict[str, Any]] = {200: _json(_object({
    "project": {"type": "string"}, "by": {"type": "string"},
    "groups": {"type": "array", "items": _object({"key": {"anyOf": [{"type": "string"}, {"type": "null"}]},
                                                   **_TOTALS})}}))}
TOKEN = _object({"token_id": {"type": "string"}, "name": {"type": "string"},
                 "scope": {"type": "string", "enum": ["ingest", "read", "admin"]},
                 "project": {"anyOf": [{"type": "string"}, {"type": "null"}]}, "created_at": {"type": "number"},
                 "revoked_at": _NUMBER_OR_NULL, "last_used_at": _NUMBER_OR_NULL})
TOKENS: dict[int | str, dict[str, Any]] = {200: _json(_object({"items": {"type": "array", "items": TOKEN}}))}
NEW_TOKEN: dict[int | str, dict[str, Any]] = {201: _json(
    {**TOKEN, "properties": {**TOKEN["properties"], "token": {"type": "string", "description": "shown once"}}})}
CREATE_TOKEN: dict[str, Any] = {"requestBody": {"required": True, "content": {"application/json": {"schema": _object(
    {"scope": {"type": "string", "enum": ["ingest", "read", "admin"]},
     "project": {"anyOf": [{"type": "string"}, {"type": "null"}], "description": "required for ingest"},
     "name": {"anyOf": [{"type": "string"}, {"type": "null"}]}}, ["scope"])}}}}
ANY_JSON: dict[int | str, dict[str, Any]] = {200: _json({"type": "object"})}


def records_schemas() -> dict[str, Any]:
    """The wire format's record schemas (``api/schema/records.schema.json``), referring to each other as OpenAPI
    components."""
    import wattprint.api

    path = Path(wattprint.api.__file__).with_name("schema") / "records.schema.json"
    text = path.read_text(encoding="utf-8").replace('"#/$defs/', '"#/components/schemas/')
    defs: dict[str, Any] = json.loads(text)["$defs"]
    return defs


def finish(document: dict[str, Any]) -> dict[str, Any]:
    """FastAPI's document with the records' schemas, and every error answered as a problem (RFC 9457)."""
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    schemas.update(records_schemas())
    schemas["Problem"] = PROBLEM_SCHEMA
    problem = {"description": "an error (RFC 9457) naming the fields at fault and the fix",
               "content": {MEDIA_TYPE: {"schema": ref("Problem")}}}
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            responses.pop("422", None)
            responses["4XX"] = problem
    document["components"] = {key: components[key] for key in sorted(components)}
    components["schemas"] = {key: schemas[key] for key in sorted(schemas)}
    document["components"]["schemas"] = components["schemas"]
    return document
