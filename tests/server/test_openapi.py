"""The OpenAPI document: the committed copy (docs/api/openapi.json, which the JavaScript client is generated from)
is what the server serves, and every schema it refers to is in it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx

from tests.fakes.server import TeamServer, server_cli, sqlite_url

COMMITTED = Path(__file__).resolve().parents[2] / "docs" / "api" / "openapi.json"
FIX = "regenerate it: wattprint server openapi -o docs/api/openapi.json"


def test_the_committed_document_is_the_served_one(team_server: TeamServer, tmp_path: Path) -> None:
    served = httpx.get(f"{team_server.url}/openapi.json", timeout=30).json()
    assert served == json.loads(COMMITTED.read_text(encoding="utf-8")), f"docs/api/openapi.json is out of date: {FIX}"
    printed = server_cli("openapi", store_url=sqlite_url(tmp_path / "unused.sqlite"))
    assert printed.returncode == 0, printed.stderr
    assert printed.stdout == COMMITTED.read_text(encoding="utf-8"), FIX


def test_every_reference_resolves_and_every_route_is_documented(team_server: TeamServer) -> None:
    document = json.loads(COMMITTED.read_text(encoding="utf-8"))
    schemas = document["components"]["schemas"]
    for name in re.findall(r'"#/components/schemas/([^"]+)"', json.dumps(document)):
        assert name in schemas, name
    paths = document["paths"]
    expected = {
        "/api/v1/health": {"get"}, "/api/v1/runs": {"get"}, "/api/v1/runs/{run_id}": {"get", "put"},
        "/api/v1/runs/{run_id}/reprice": {"get"}, "/api/v1/projects": {"get"},
        "/api/v1/projects/{name}/summary": {"get"}, "/api/v1/projects/{name}/duplicates": {"get"},
        "/api/v1/regions": {"get"}, "/api/v1/estimate": {"post"}, "/api/v1/compare-regions": {"post"},
        "/api/v1/tokens": {"get", "post"}, "/api/v1/tokens/{token_id}": {"delete"},
        # the dashboard's (server/api_reports.py, server/badges.py)
        "/api/v1/report-formats": {"get"}, "/api/v1/runs/{run_id}/report": {"get"},
        "/api/v1/projects/{name}/report": {"get"}, "/api/v1/runs/{run_id}/paper": {"get"},
        "/api/v1/runs/{run_id}/summary": {"get"}, "/api/v1/compare": {"get"}, "/api/v1/badge.svg": {"get"},
        "/api/v1/badges": {"get"},
        # run groups (server/api_groups.py)
        "/api/v1/groups/{group_id}": {"get"}, "/api/v1/groups/{group_id}/report": {"get"},
    }
    assert {path: set(operations) for path, operations in paths.items()} == expected
    put = paths["/api/v1/runs/{run_id}"]["put"]
    assert put["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/RunDocument"}
    assert put["responses"]["4XX"]["content"]["application/problem+json"]
    # the records are the wire format's, as its committed JSON Schema describes them
    assert set(schemas["RunRecord"]["properties"]) >= {"run_id", "energy_j", "emissions_g", "extra"}
    # the calculator and health need no token; everything else names the bearer scheme
    for path, operations in paths.items():
        for method, operation in operations.items():
            public = path in ("/api/v1/health", "/api/v1/regions", "/api/v1/estimate", "/api/v1/compare-regions")
            assert ("security" in operation) != public, (method, path)
