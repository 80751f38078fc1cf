"""Who may do what, endpoint by endpoint: no token, a wrong scope, a revoked token, another project's token, the
right one; a server bound to loopback against one bound to another address (the application built for that
address, served on 127.0.0.1); tokens made, listed and revoked by the command line on the store."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.fakes.pg import make_components, make_intervals, make_run, run_id
from tests.fakes.server import TeamServer, caller_tokens, serve_app, server_cli, sqlite_url
from tests.fakes.wait import wait_for
from wattprint.api.codec import to_dict
from wattprint.api.records import RunDocument
from wattprint.server import create_app
from wattprint.store import open_store

ALPHA, BETA = run_id(1, 1), run_id(2, 1)


@dataclass
class Team:
    url: str
    tokens: dict[str, str]


def doc(rid: str, project: str, updated_at: float = 1_760_000_200.0) -> dict:
    run = make_run(rid, project=project, updated_at=updated_at, config_fingerprint="sha256:same")
    return to_dict(RunDocument(run=run, components=tuple(make_components()), intervals=tuple(make_intervals(2))))


def seeded_store(path: Path):  # noqa: ANN201 - a RunStore
    store = open_store(sqlite_url(path))
    for rid, project in ((ALPHA, "alpha"), (BETA, "beta"), (run_id(2, 2), "beta")):
        store.save(make_run(rid, project=project, updated_at=1_760_000_100.0, config_fingerprint="sha256:same"),
                   make_components(), make_intervals(2))
    return store


@pytest.fixture
def remote(tmp_path: Path) -> Iterator[Team]:
    """The application as bound to a non-loopback address (192.0.2.10), served on 127.0.0.1."""
    store = seeded_store(tmp_path / "team.sqlite")
    tokens = caller_tokens(store)
    try:
        with serve_app(create_app(store, host="192.0.2.10")) as url:
            yield Team(url, tokens)
    finally:
        store.close()


@pytest.fixture
def local(tmp_path: Path) -> Iterator[Team]:
    store = seeded_store(tmp_path / "local.sqlite")
    tokens = caller_tokens(store)
    try:
        with serve_app(create_app(store, host="127.0.0.1")) as url:
            yield Team(url, tokens)
    finally:
        store.close()


def call(team: Team, method: str, path: str, who: str | None, body: object = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {team.tokens[who]}"} if who else {}
    return httpx.request(method, team.url + path, headers=headers, json=body, timeout=30)


CALCULATOR = [
    ("GET", "/api/v1/health", None),
    ("GET", "/api/v1/regions?q=france", None),
    ("POST", "/api/v1/estimate", {"gpu": "A100 SXM4 80GB", "hours": 2, "location": "FR"}),
    ("POST", "/api/v1/compare-regions", {"energy_kwh": 10, "locations": ["FR", "DE"]}),
]

# (method, path, body, {principal: expected status}); "none" is no token
RULES = [
    ("PUT", f"/api/v1/runs/{ALPHA}", doc(ALPHA, "alpha"),
     {"none": 401, "revoked": 401, "forged": 401, "read": 403, "beta": 403, "alpha": 200, "admin": 200}),
    ("GET", "/api/v1/runs", None,
     {"none": 401, "revoked": 401, "forged": 401, "read": 200, "alpha": 200, "admin": 200}),
    ("GET", "/api/v1/runs?project=beta", None, {"alpha": 403, "beta": 200, "read": 200}),
    ("GET", f"/api/v1/runs/{BETA}", None, {"none": 401, "revoked": 401, "alpha": 403, "beta": 200, "read": 200}),
    ("GET", f"/api/v1/runs/{BETA}/reprice?location=FR", None, {"none": 401, "alpha": 403, "read": 200}),
    ("GET", "/api/v1/projects", None, {"none": 401, "revoked": 401, "alpha": 200, "read": 200}),
    ("GET", "/api/v1/projects/beta/summary?by=user", None, {"none": 401, "alpha": 403, "beta": 200, "read": 200}),
    ("GET", "/api/v1/projects/beta/duplicates", None, {"none": 401, "alpha": 403, "beta": 200, "admin": 200}),
    ("GET", "/api/v1/tokens", None, {"none": 401, "revoked": 401, "read": 403, "alpha": 403, "admin": 200}),
    ("POST", "/api/v1/tokens", {"scope": "read", "name": "ci"},
     {"none": 401, "read": 403, "alpha": 403, "admin": 201}),
    ("DELETE", "/api/v1/tokens/000000000000", None,
     {"none": 401, "revoked": 401, "read": 403, "alpha": 403, "admin": 404}),
]


def _problem(answer: httpx.Response, status: int) -> None:
    assert answer.status_code == status, answer.text
    if status >= 400:
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["status"] == status and answer.json()["detail"]
    if status == 401:
        assert answer.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize(("method", "path", "body", "expected"), RULES, ids=[f"{m} {p}" for m, p, _, _ in RULES])
def test_non_loopback_server_checks_every_endpoint(remote: Team, method: str, path: str, body: object,
                                                   expected: dict[str, int]) -> None:
    for who, status in expected.items():
        _problem(call(remote, method, path, None if who == "none" else who, body), status)


def test_non_loopback_server_serves_the_calculator_without_a_token(remote: Team) -> None:
    for method, path, body in CALCULATOR:
        answer = call(remote, method, path, None, body)
        assert answer.status_code == 200, (path, answer.text)


def test_what_an_ingest_token_sees_is_its_project(remote: Team) -> None:
    runs = call(remote, "GET", "/api/v1/runs", "alpha").json()["items"]
    assert [r["project"] for r in runs] == ["alpha"]
    assert [p["name"] for p in call(remote, "GET", "/api/v1/projects", "alpha").json()["items"]] == ["alpha"]
    assert [p["name"] for p in call(remote, "GET", "/api/v1/projects", "read").json()["items"]] == ["alpha", "beta"]
    # a run stored under one project cannot be taken over by another project's token
    answer = call(remote, "PUT", f"/api/v1/runs/{ALPHA}", "beta", doc(ALPHA, "beta", updated_at=1_760_000_900.0))
    _problem(answer, 403)
    assert "alpha" in answer.json()["detail"]
    assert call(remote, "GET", f"/api/v1/runs/{ALPHA}", "read").json()["run"]["project"] == "alpha"
    # the messages say what to do
    answer = call(remote, "GET", "/api/v1/runs", None)
    assert "Authorization: Bearer" in answer.json()["detail"] and "192.0.2.10" in answer.json()["detail"]
    assert "revoked" in call(remote, "GET", "/api/v1/runs", "revoked").json()["detail"]
    assert "ingest token" in call(remote, "PUT", f"/api/v1/runs/{ALPHA}", "read", doc(ALPHA, "alpha")).json()[
        "detail"]


def test_loopback_server_reads_and_writes_without_a_token_but_checks_tokens_given(local: Team) -> None:
    _problem(call(local, "PUT", f"/api/v1/runs/{run_id(3, 1)}", None, doc(run_id(3, 1), "gamma")), 200)
    for path in ("/api/v1/runs", f"/api/v1/runs/{BETA}", "/api/v1/projects", "/api/v1/projects/beta/summary"):
        _problem(call(local, "GET", path, None), 200)
    _problem(call(local, "GET", "/api/v1/runs", "revoked"), 401)  # a token given is checked
    _problem(call(local, "GET", "/api/v1/runs", "forged"), 401)
    _problem(call(local, "GET", f"/api/v1/runs/{BETA}", "alpha"), 403)
    _problem(call(local, "GET", "/api/v1/tokens", None), 401)  # tokens are an admin's, even on loopback
    _problem(call(local, "GET", "/api/v1/tokens", "admin"), 200)
    # a request a reverse proxy forwarded came from elsewhere: a token is needed, as on a public address
    for header in ({"X-Forwarded-For": "203.0.113.5"}, {"Forwarded": "for=203.0.113.5"}):
        answer = httpx.get(f"{local.url}/api/v1/runs", headers=header, timeout=30)
        _problem(answer, 401)
        assert "reverse proxy" in answer.json()["detail"]
        answer = httpx.get(f"{local.url}/api/v1/runs", timeout=30,
                           headers={**header, "Authorization": f"Bearer {local.tokens['read']}"})
        _problem(answer, 200)


def test_tokens_through_the_api(remote: Team) -> None:
    made = call(remote, "POST", "/api/v1/tokens", "admin", {"scope": "ingest", "project": "delta", "name": "ci"})
    assert made.status_code == 201
    token = made.json()["token"]
    assert made.json()["token_id"] == token.split("_")[1] and made.json()["project"] == "delta"
    remote.tokens["delta"] = token
    _problem(call(remote, "PUT", f"/api/v1/runs/{run_id(4, 1)}", "delta", doc(run_id(4, 1), "delta")), 200)
    listed = call(remote, "GET", "/api/v1/tokens", "admin").json()["items"]
    assert token not in json.dumps(listed) and all("key_hash" not in t for t in listed)
    assert {t["scope"] for t in listed} == {"admin", "read", "ingest"}
    # revoked through the server: refused at once
    answer = call(remote, "DELETE", f"/api/v1/tokens/{made.json()['token_id']}", "admin")
    assert answer.status_code == 200 and answer.json()["revoked_at"] is not None
    _problem(call(remote, "GET", "/api/v1/runs", "delta"), 401)
    _problem(call(remote, "DELETE", "/api/v1/tokens/000000000000", "admin"), 404)
    for body, field in (({"scope": "owner"}, "scope"), ({"scope": "ingest"}, "project"),
                        ({"scope": "read", "project": "x"}, "project"), ({"scope": "read", "colour": 1}, "colour")):
        answer = call(remote, "POST", "/api/v1/tokens", "admin", body)
        _problem(answer, 422)
        assert field in [e["field"] for e in answer.json()["errors"]]


def test_tokens_on_the_command_line_and_a_running_server(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "cli.sqlite")
    made = server_cli("token", "create", "--scope", "ingest", "--project", "mnist", "--name", "ci", "--json",
                      store_url=url)
    assert made.returncode == 0, made.stderr
    created = json.loads(made.stdout)
    token = created["token"]
    assert (created["scope"], created["project"], created["name"]) == ("ingest", "mnist", "ci")
    refused = server_cli("token", "create", "--scope", "ingest", store_url=url)
    assert refused.returncode == 1 and "--project" in refused.stderr
    server = TeamServer(url, tmp_path, host="127.0.0.1")
    server.start()
    try:
        # the store already had a key (the token above): no admin token is printed, the given token works
        assert server.admin_token is None
        rid = run_id(5, 1)
        answer = httpx.put(f"{server.url}/api/v1/runs/{rid}", json=doc(rid, "mnist"), headers=server.auth(token))
        assert answer.status_code == 200, answer.text
        listed = server_cli("token", "list", "--json", store_url=url)
        assert listed.returncode == 0 and token not in listed.stdout
        assert [t["token_id"] for t in json.loads(listed.stdout)] == [created["token_id"]]
        text = server_cli("token", "list", store_url=url)
        assert created["token_id"] in text.stdout and "active" in text.stdout
        revoked = server_cli("token", "revoke", created["token_id"], store_url=url)
        assert revoked.returncode == 0, revoked.stderr
        # the running server stops accepting it once its cached row is read again (RECHECK_S)
        wait_for(lambda: httpx.get(f"{server.url}/api/v1/runs", headers=server.auth(token)).status_code == 401,
                 "the revoked token to be refused", timeout=30)
        assert "revoked" in server_cli("token", "list", store_url=url).stdout
        unknown = server_cli("token", "revoke", "ffffffffffff", store_url=url)
        assert unknown.returncode == 1 and "no token 'ffffffffffff'" in unknown.stderr
    finally:
        server.stop()
    assert token not in server.log()


def test_first_start_prints_the_admin_token_once(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "first.sqlite")
    server = TeamServer(url, tmp_path)
    server.start()
    try:
        token = server.admin_token
        assert token is not None
        assert server.log().count(token) == 1
        answer = httpx.get(f"{server.url}/api/v1/tokens", headers=server.auth())
        assert answer.status_code == 200 and answer.json()["items"][0]["scope"] == "admin"
        server.restart()
        assert server.log().count(token) == 1  # never again
        assert server.admin_token == token
        assert httpx.get(f"{server.url}/api/v1/tokens", headers=server.auth()).status_code == 200
    finally:
        server.stop()
