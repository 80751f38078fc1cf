"""``wattprint report --server``: a run and a project reported from a team server read exactly as from a store
holding the same runs; a run the server lacks is a clear error."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.fakes.pg import make_components, make_intervals, make_run, make_tasks, run_id
from tests.fakes.server import TeamServer
from wattprint.api.codec import to_dict
from wattprint.api.records import RunDocument
from wattprint.cli.main import main
from wattprint.store import open_store


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_report_from_a_server_is_the_report_from_a_store(tmp_path: Path, team_server: TeamServer,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    store = str(tmp_path / "same.sqlite")
    documents = [RunDocument(run=make_run(run_id(1, i), project="mnist", started_at=1_760_000_000.0 + i * 100),
                             components=tuple(make_components()), intervals=tuple(make_intervals(4)),
                             tasks=tuple(make_tasks(2))) for i in range(3)]
    with open_store(store) as local:
        for doc in documents:
            local.save(doc.run, doc.components, doc.intervals, doc.tasks)
            answer = httpx.put(f"{team_server.url}/api/v1/runs/{doc.run.run_id}", json=to_dict(doc),
                               headers=team_server.auth(), timeout=30)
            assert answer.status_code == 200, answer.text
    server = ("--server", team_server.url, "--server-token", team_server.admin_token or "")
    for what in ((documents[1].run.run_id[:16],), ("--project", "mnist")):
        for fmt in ("md", "latex", "html"):
            code, from_store, err = cli(capsys, "report", *what, "--format", fmt, "--store", store)
            assert code == 0, err
            code, from_server, err = cli(capsys, "report", *what, "--format", fmt, *server)
            assert code == 0, err
            assert from_server == from_store and from_server.strip()
    code, _, err = cli(capsys, "report", "ffff0000", *server)
    assert code == 1 and "no run matches 'ffff0000'" in err and team_server.url in err
