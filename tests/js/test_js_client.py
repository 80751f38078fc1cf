"""The JavaScript client (clients/js) against a real ``wattprint server`` on 127.0.0.1: its ``node --test`` suite
(every client call, errors, tokens, ingest and the offline queue), the queue across a server restart, and the check
that its generated types match the committed OpenAPI schema."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from tests.fakes.server import TeamServer
from tests.js.jsenv import build, require_node, run_js


def test_generated_types_match_the_openapi_schema() -> None:
    require_node()
    run_js(["npm", "run", "--silent", "check-generated"])


def test_node_suite_against_the_server(team_server: TeamServer) -> None:
    require_node()
    build()
    assert team_server.admin_token
    output = run_js(["npm", "test"], env={"WATTPRINT_TEST_URL": team_server.url,
                                          "WATTPRINT_TEST_TOKEN": team_server.admin_token})
    assert "# fail 0" in output and "# skipped 0" in output, output[-3000:]


def test_offline_queue_across_a_server_restart(team_server: TeamServer, tmp_path: Path) -> None:
    node = require_node()
    build()
    queue = tmp_path / "outbox.json"
    env = {"WATTPRINT_TEST_TOKEN": team_server.admin_token or ""}
    team_server.stop()
    queued = json.loads(run_js([node, "test/scripts/outbox.mjs", "queue", team_server.url, str(queue), "restart"],
                               env=env).strip().splitlines()[-1])
    assert queued["outcome"] == "queued"
    assert queued["run_id"] in json.loads(queue.read_text())
    team_server.start()
    flushed = json.loads(run_js([node, "test/scripts/outbox.mjs", "flush", team_server.url, str(queue)],
                                env=env).strip().splitlines()[-1])
    assert flushed == {"sent": [queued["run_id"]], "left": [], "rejected": []}
    answer = httpx.get(f"{team_server.url}/api/v1/runs/{queued['run_id']}", headers=team_server.auth(), timeout=30)
    assert answer.status_code == 200, answer.text
    assert answer.json()["run"]["energy_j"] == 42
    assert answer.json()["run"]["status"] == "finished"
    assert json.loads(queue.read_text()) == {}
