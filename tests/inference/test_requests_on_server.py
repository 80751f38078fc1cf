"""A run's request sums reach the team server (the real server on 127.0.0.1) both ways, by ``push`` and by the
server sink of a running tracker, and ``show --server`` rebuilds the same inference figures from them."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

import wattprint
from tests.fakes.server import TeamServer, team_server  # noqa: F401 - fixture
from tests.fakes.sysfs import set_energy, write_zone
from wattprint.cli.main import main
from wattprint.client import ServerClient, push
from wattprint.sinks import recorder
from wattprint.store import open_store
from wattprint.store.requests import read_request_intervals


@pytest.fixture(autouse=True)
def no_server_sink_left() -> object:
    yield
    from wattprint.run.server import detach_all

    detach_all()


def serve(tmp_path: Path, **options: object) -> wattprint.Tracker:
    control = tmp_path / "powercap" / "intel-rapl"
    package = write_zone(control, "intel-rapl:0", "package-0", 0)
    run = wattprint.Tracker(powercap_root=str(tmp_path / "powercap"), gpus=False, project="serving",
                            store=str(tmp_path / "runs.sqlite"), **options)  # type: ignore[arg-type]
    with run:
        for i in range(4):
            with run.request(tokens_in=5, endpoint="POST /generate") as req:
                set_energy(package, (i + 1) * 2_000_000)
                req.tokens_out = 10
    assert run.wait_saved(60)
    return run


def local_rows(tmp_path: Path, rid: str) -> list[object]:
    with open_store(str(tmp_path / "runs.sqlite")) as store:
        return list(read_request_intervals(store, rid))


def test_push_sends_the_request_sums_and_show_server_rebuilds_the_figures(
        tmp_path: Path, team_server: TeamServer, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    run = serve(tmp_path)
    rid = run.run_id or ""
    rows = local_rows(tmp_path, rid)
    assert rows and sum(r.requests for r in rows if r.bucket >= 0) == 4
    with open_store(str(tmp_path / "runs.sqlite")) as store, ServerClient(team_server.url,
                                                                           team_server.admin_token) as client:
        sent = push(store, client)
        assert sent.sent
        there = client.run(rid)
    assert sorted(there.request_intervals, key=lambda r: (r.bucket, r.endpoint)) == rows
    assert main(["show", rid, "--server", team_server.url, "--server-token", team_server.admin_token, "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)["inference"]
    assert shown["whole"]["requests"] == 4 and shown["whole"]["tokens_out"] == 40
    assert run.result is not None and run.result.inference is not None
    assert shown["whole"]["energy_j"] == pytest.approx(run.result.inference.whole.energy_j, rel=1e-9)
    report = httpx.get(f"{team_server.url}/api/v1/runs/{rid}/report", params={"format": "md"},
                       headers=team_server.auth(), timeout=30)
    assert report.status_code == 200, report.text
    assert "## Inference" in report.text  # the server's reports carry the run's request sums too


def test_the_server_sink_sends_the_request_sums_of_a_running_tracker(tmp_path: Path,
                                                                     team_server: TeamServer) -> None:  # noqa: F811
    answer = httpx.post(team_server.url + "/api/v1/tokens", json={"scope": "ingest", "project": "serving"},
                        headers=team_server.auth(), timeout=10)
    assert answer.status_code == 201, answer.text
    run = serve(tmp_path, server=team_server.url, server_token=answer.json()["token"], flush_interval_s=0.1)
    writer = recorder.current_writer()
    assert writer is None or writer.wait_idle(timeout=30)
    rid = run.run_id or ""
    with ServerClient(team_server.url, team_server.admin_token) as client:
        there = client.run(rid)
    assert sorted(there.request_intervals, key=lambda r: (r.bucket, r.endpoint)) == local_rows(tmp_path, rid)
