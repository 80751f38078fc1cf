"""CodeCarbon's API on the team server: the real ``codecarbon`` tracker, pointed at ``/codecarbon`` with a project
token as its api_key, stores its run as a wattprint run marked CodeCarbon's; its setup calls answer; a wrong token
is refused; a report sent twice is stored once; whole-second durations lose no time; bad reports are named."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.fakes.pg import make_components, make_run, run_id
from tests.fakes.server import TeamServer, caller_tokens, serve_app, sqlite_url
from wattprint.server import create_app
from wattprint.server.tokens import create_token
from wattprint.store import open_store

TRACKER = """
import time
from codecarbon import OfflineEmissionsTracker

tracker = OfflineEmissionsTracker(
    country_iso_code="FRA", output_dir={out!r}, save_to_file=True, save_to_api=True, api_endpoint={endpoint!r},
    api_key={key!r}, {experiment}api_call_interval=-1, measure_power_secs=0.5, log_level="error",
    allow_multiple_runs=True)
tracker.start()
for _ in range(2):  # two reports, each over CodeCarbon's one-second floor: a flush, then the stop
    end = time.perf_counter() + 1.6
    while time.perf_counter() < end:
        sum(range(1000))
    if _ == 0:
        tracker.flush()
tracker.stop()
"""
@dataclass
class Team:
    url: str
    tokens: dict[str, str]


def seeded_store(path: Path):  # noqa: ANN201 - a RunStore
    """A store with one run of project alpha and one of beta."""
    store = open_store(sqlite_url(path))
    for rid, project in ((run_id(1, 1), "alpha"), (run_id(2, 1), "beta")):
        store.save(make_run(rid, project=project, updated_at=1_760_000_100.0), make_components())
    return store


LOCAL_ONLY = {"HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9", "NO_PROXY": "127.0.0.1",
              "http_proxy": "http://127.0.0.1:9", "https_proxy": "http://127.0.0.1:9", "no_proxy": "127.0.0.1"}
"""No network but the server's: CodeCarbon's own look-ups fail fast."""


def run_tracker(tmp_path: Path, endpoint: str, key: str, experiment_id: str | None = None) -> dict[str, str]:
    """Run the real tracker in a child process; the last row of its own CSV (its totals)."""
    pytest.importorskip("codecarbon")
    out = tmp_path / f"cc-{uuid.uuid4().hex[:6]}"
    out.mkdir()
    experiment = f"experiment_id={experiment_id!r}, " if experiment_id else ""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WATTPRINT_")} | LOCAL_ONLY
    code = TRACKER.format(out=str(out), endpoint=endpoint, key=key, experiment=experiment)
    done = subprocess.run([sys.executable, "-c", code], cwd=out, env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    with open(out / "emissions.csv", newline="") as handle:
        return list(csv.DictReader(handle))[-1]


def cc_runs(server_url: str, token: str) -> list[dict]:
    answer = httpx.get(f"{server_url}/api/v1/runs", headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert answer.status_code == 200, answer.text
    return [r for r in answer.json()["items"] if (r.get("extra") or {}).get("imported_from") == "codecarbon"]


def test_the_real_codecarbon_tracker_sends_its_run(tmp_path: Path, team_server: TeamServer) -> None:
    store = open_store(team_server.store_url)
    try:
        _, token = create_token(store, "ingest", "vision")
    finally:
        store.close()
    endpoint = team_server.url + "/codecarbon"
    totals = run_tracker(tmp_path, endpoint, token)
    [run] = cc_runs(team_server.url, team_server.admin_token or "")
    assert run["project"] == "vision" and run["status"] == "finished"
    assert run["extra"]["imported_from"] == "codecarbon" and run["extra"]["tool_version"] == totals[
        "codecarbon_version"]
    # the energy is CodeCarbon's own total, to the last digit, whatever the number of reports
    assert run["energy_j"] == pytest.approx(float(totals["energy_consumed"]) * 3.6e6, rel=1e-9)
    assert run["emissions_g"] == pytest.approx(float(totals["emissions"]) * 1000, rel=1e-9)
    # its time is not the sum of whole seconds (two reports of about 1.6 s each were sent as 1 s each)
    assert run["duration_s"] > 2.5
    assert run["duration_s"] == pytest.approx(float(totals["duration"]), abs=1.0)
    detail = httpx.get(f"{team_server.url}/api/v1/runs/{run['run_id']}", headers=team_server.auth(), timeout=30)
    document = detail.json()
    assert len({i["bucket"] for i in document["intervals"]}) == 2
    assert {c["component"] for c in document["components"]} == {"cpu", "ram"}
    assert all(c["method"] == "imported" and c["uncertainty_rel"] > 0 for c in document["components"])
    assert sum(c["energy_j"] for c in document["components"]) == pytest.approx(run["energy_j"], rel=1e-12)
    assert any("CodeCarbon" in note for note in run["notes"])

    # the setup calls of CodeCarbon's client: organisation, project, experiment; a run of that experiment is named
    # after it, in its project
    admin = {"x-api-token": team_server.admin_token or ""}
    [org] = httpx.get(f"{endpoint}/organizations", headers=admin).json()
    made = httpx.post(f"{endpoint}/projects", headers=admin,
                      json={"name": "nlp", "description": "", "organization_id": org["id"]})
    assert made.status_code == 201, made.text
    projects = httpx.get(f"{endpoint}/organizations/{org['id']}/projects", headers=admin).json()
    assert {p["name"] for p in projects} == {"vision", "nlp"}
    experiment = httpx.post(f"{endpoint}/experiments", headers=admin, json={
        "timestamp": "2026-12-03T10:00:00+00:00", "name": "bert-base", "description": "", "on_cloud": False,
        "project_id": made.json()["id"]})
    assert experiment.status_code == 201, experiment.text
    assert httpx.get(f"{endpoint}/projects/{made.json()['id']}/experiments", headers=admin).json()[0]["name"] == \
        "bert-base"
    # the vision token may not send runs of nlp's experiment
    refused = httpx.post(f"{endpoint}/runs", headers={"x-api-token": token},
                         json={"experiment_id": experiment.json()["id"]})
    assert refused.status_code == 403 and "vision" in refused.json()["detail"]
    run_tracker(tmp_path, endpoint, team_server.admin_token or "", experiment.json()["id"])
    named = [r for r in cc_runs(team_server.url, team_server.admin_token or "") if r["project"] == "nlp"]
    assert [r["name"] for r in named] == ["bert-base"] and named[0]["energy_j"] > 0


@pytest.fixture
def remote(tmp_path: Path) -> Iterator[Team]:
    """The application as bound to a non-loopback address, served on 127.0.0.1."""
    store = seeded_store(tmp_path / "team.sqlite")
    tokens = caller_tokens(store)
    try:
        with serve_app(create_app(store, host="192.0.2.10")) as url:
            yield Team(url + "/codecarbon", tokens)
    finally:
        store.close()


def report(run_id: str, timestamp: str, **changes: object) -> dict[str, object]:
    values: dict[str, object] = {
        "timestamp": timestamp, "run_id": run_id, "duration": 1, "emissions_sum": 1.7e-6, "emissions_rate": 1e-6,
        "cpu_power": 10.0, "gpu_power": 0.0, "ram_power": 5.0, "cpu_energy": 2e-5, "gpu_energy": 0.0,
        "ram_energy": 1e-5, "energy_consumed": 3e-5, "wue": 0}
    return values | changes


def post(team: Team, path: str, who: str | None, body: object, header: str = "x-api-token") -> httpx.Response:
    headers = {} if who is None else {header: team.tokens.get(who, who) if header == "x-api-token"
                                      else f"Bearer {team.tokens.get(who, who)}"}
    return httpx.post(team.url + path, json=body, headers=headers, timeout=30)


def test_tokens_reports_sent_twice_and_bad_reports(remote: Team) -> None:
    # CodeCarbon's client creates its run just before sending its first report
    body = {"timestamp": "2026-12-03T10:00:01.900+00:00", "experiment_id": str(uuid.uuid4()), "cpu_count": 2}
    for who, status in (("none", 401), ("api_key", 401), ("forged", 401), ("revoked", 401), ("read", 403)):
        answer = post(remote, "/runs", None if who == "none" else who, body)
        assert answer.status_code == status, (who, answer.text)
        assert answer.headers["content-type"] == "application/problem+json"
    assert "api_key" in post(remote, "/runs", None, body).json()["detail"]
    assert httpx.get(remote.url + "/organizations", timeout=30).status_code == 401
    made = post(remote, "/runs", "alpha", body, header="authorization")  # a bearer token works too
    assert made.status_code == 201, made.text
    cc_id = made.json()["id"]
    # another project's token may not add to it
    assert post(remote, "/emissions", "beta", report(cc_id, "2026-12-03T10:00:02+00:00")).status_code == 403
    # a report sent twice (a retry) is stored once; its 1 s is really 1.7 s (emissions over their rate)
    for _ in range(2):
        answer = post(remote, "/emissions", "alpha", report(cc_id, "2026-12-03T10:00:02+00:00"))
        assert answer.status_code == 201, answer.text
    assert post(remote, "/emissions", "alpha", report(cc_id, "2026-12-03T10:00:04+00:00")).status_code == 201
    # bad reports name the field, and change nothing
    for bad, field in ((report(cc_id, "2026-12-03T10:00:05+00:00", cpu_energy=-1.0), "body.cpu_energy"),
                       (report(cc_id, "yesterday"), "body.timestamp"),
                       (report("not-an-id", "2026-12-03T10:00:05+00:00"), "body.run_id"),
                       ({k: v for k, v in report(cc_id, "2026-12-03T10:00:05+00:00").items() if k != "ram_energy"},
                        "body.ram_energy")):
        answer = post(remote, "/emissions", "alpha", bad)
        assert answer.status_code == 422, answer.text
        assert field in [e["field"] for e in answer.json()["errors"]]
    unknown = post(remote, "/emissions", "alpha", report(str(uuid.uuid4()), "2026-12-03T10:00:05+00:00"))
    assert unknown.status_code == 404
    run_url = remote.url.replace("/codecarbon", f"/api/v1/runs/{uuid.UUID(cc_id).hex}")
    document = httpx.get(run_url, headers={"Authorization": f"Bearer {remote.tokens['read']}"}, timeout=30).json()
    run = document["run"]
    assert run["project"] == "alpha"
    assert run["energy_j"] == pytest.approx(2 * 3e-5 * 3.6e6)
    assert run["emissions_g"] == pytest.approx(2 * 1.7e-3)
    assert run["duration_s"] == pytest.approx(1.7 + 2.0)  # the first report's 1.7 s, then the 2 s between reports
    assert sorted({i["bucket"] for i in document["intervals"]}) == [0, 1]
    # the setup calls: read tokens read, ingest tokens see their project only
    org = httpx.get(remote.url + "/organizations", headers={"x-api-token": remote.tokens["read"]}).json()[0]
    listed = httpx.get(f"{remote.url}/organizations/{org['id']}/projects", headers={"x-api-token": remote.tokens[
        "alpha"]}).json()
    assert [p["name"] for p in listed] == ["alpha"]
    check = httpx.get(remote.url + "/auth/check", headers={"x-api-token": remote.tokens["alpha"]}).json()
    assert check["project"] == "alpha" and check["scope"] == "ingest"
    assert post(remote, "/projects", "alpha", {"name": "beta", "description": ""}).status_code == 403
    created = post(remote, "/organizations", "alpha", {"name": "my lab", "description": ""})
    assert created.status_code == 201 and created.json()["id"] == org["id"]
    assert post(remote, "/organizations", "read", {"name": "my lab", "description": ""}).status_code == 403



def test_an_oversized_report_is_refused_before_it_is_read(tmp_path: Path) -> None:
    store = seeded_store(tmp_path / "small.sqlite")
    tokens = caller_tokens(store)
    try:
        with serve_app(create_app(store, host="192.0.2.10", max_body_mb=0.01)) as url:
            body = {"experiment_id": str(uuid.uuid4()), "cpu_model": "x" * 20_000}
            answer = httpx.post(f"{url}/codecarbon/runs", json=body, headers={"x-api-token": tokens["alpha"]})
            assert answer.status_code == 413 and "--max-body-mb" in answer.json()["detail"]
            chunked = httpx.post(f"{url}/codecarbon/runs", content=iter([b"{}"]),
                                 headers={"x-api-token": tokens["alpha"], "content-type": "application/json"})
            assert chunked.status_code == 411
            assert httpx.get(f"{url}/api/v1/runs?project=alpha", headers={"Authorization": f"Bearer {tokens['read']}"}
                             ).json()["items"][0]["run_id"] == "018f00000001" + "00000001" + "0" * 12
    finally:
        store.close()


def test_codecarbon_calls_over_postgresql(team_server_pg: TeamServer) -> None:
    endpoint = team_server_pg.url + "/codecarbon"
    admin = {"x-api-token": team_server_pg.admin_token or ""}
    made = httpx.post(f"{endpoint}/projects", headers=admin, json={"name": "pg_%", "description": ""})
    assert made.status_code == 201, made.text
    experiment = httpx.post(f"{endpoint}/experiments", headers=admin,
                            json={"name": "resnet", "description": "", "project_id": made.json()["id"]}).json()
    listed = httpx.get(f"{endpoint}/projects/{made.json()['id']}/experiments", headers=admin).json()
    assert [e["id"] for e in listed] == [experiment["id"]]
    run = httpx.post(f"{endpoint}/runs", headers=admin, json={
        "timestamp": "2026-12-03T10:00:01.900+00:00", "experiment_id": experiment["id"], "gpu_count": 1,
        "gpu_model": "1 x NVIDIA A100"})
    assert run.status_code == 201, run.text
    cc_id = run.json()["id"]
    for stamp in ("2026-12-03T10:00:02+00:00", "2026-12-03T10:00:02+00:00", "2026-12-03T10:00:04+00:00"):
        sent = httpx.post(f"{endpoint}/emissions", headers=admin, json=report(cc_id, stamp, gpu_energy=4e-5,
                                                                              energy_consumed=7e-5))
        assert sent.status_code == 201, sent.text
    document = httpx.get(f"{team_server_pg.url}/api/v1/runs/{uuid.UUID(cc_id).hex}", headers=team_server_pg.auth(),
                         timeout=30).json()
    assert document["run"]["project"] == "pg_%" and document["run"]["name"] == "resnet"
    assert document["run"]["energy_j"] == pytest.approx(2 * 7e-5 * 3.6e6)
    assert {c["component"]: c["energy_j"] for c in document["components"]} == pytest.approx(
        {"cpu": 2 * 2e-5 * 3.6e6, "gpu": 2 * 4e-5 * 3.6e6, "ram": 2 * 1e-5 * 3.6e6})
    assert len(document["intervals"]) == 6 and document["run"]["duration_s"] == pytest.approx(3.7)
