"""Run tags: ``track(tags=...)`` and ``wattprint run --tag`` checked and normalised, kept in the run's extra and in
``run_tags`` by every writer (the recorder's and the server's), found by ``wattprint runs --tag`` on a store and on
a server and by ``GET /api/v1/runs?tag=``; hostile tag strings only match themselves; an upgraded store has the
tags of the runs it already held."""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

import wattprint
from tests.fakes.pg import make_components, make_intervals, make_run, run_id
from tests.fakes.server import TeamServer, sqlite_url
from wattprint.api.codec import to_dict
from wattprint.api.records import RunDocument, RunExtra
from wattprint.cli.main import main
from wattprint.core.errors import ConfigError
from wattprint.run.options import RunOptions
from wattprint.store import open_store
from wattprint.store.queries import RunFilter, find_runs


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_tags_are_checked_and_normalised() -> None:
    assert RunOptions(tags=[" baseline", "fp16", "baseline"]).tags == ("baseline", "fp16")
    assert RunOptions(tags="baseline").tags == ("baseline",)
    assert RunOptions(tags={"b", "a"}).tags == ("a", "b")
    assert RunOptions().tags is None
    for bad, said in ((5, "tags must be a list of names"), (["a", 3], "tags[1]"), (["x" * 65], "tags[0] is 65"),
                      (["a\nb"], "control character"), (["  "], "non-empty")):
        with pytest.raises(ConfigError, match=said.replace("[", r"\[")):
            RunOptions(tags=bad)
    with pytest.raises(ConfigError, match="tags"):
        wattprint.Tracker(tags=[""], store="off")


def tagged(rid: str, tags: tuple[str, ...], **changes: object) -> RunDocument:
    run = make_run(rid, extra=RunExtra(tags=tags), **changes)
    return RunDocument(run=run, components=tuple(make_components()), intervals=tuple(make_intervals(1)))


HOSTILE = ("' OR 1=1 --", "%", "_", "b%", "a'); DROP TABLE runs; --")


def test_tags_on_a_store_and_on_the_server(tmp_path: Path, team_server: TeamServer, no_rapl: str,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    store = str(tmp_path / "runs.sqlite")
    token = httpx.post(team_server.url + "/api/v1/tokens", json={"scope": "ingest", "project": "mnist"},
                       headers=team_server.auth(), timeout=30).json()["token"]
    # a tracked run, written by the recorder into the store and sent to the server by its sink
    with wattprint.Tracker(project="mnist", tags=["baseline", "fp16"], store=store, server=team_server.url,
                           server_token=token, gpus=False, powercap_root=no_rapl, flush_interval_s=0.1) as run:
        time.sleep(0.2)
    assert run.wait_saved(timeout=30)
    tracked = run.run_id
    # the command line's --tag, into the same store
    code, _, err = cli(capsys, "run", "--store", store, "--project", "mnist", "--tag", "baseline", "--", "true")
    assert code == 0, err
    with open_store(store) as local:
        assert local.run(tracked).extra.tags == ("baseline", "fp16")
        assert [r.run_id for r in find_runs(local, RunFilter(tags=("fp16",)))] == [tracked]
        assert len(find_runs(local, RunFilter(tags=("baseline",)))) == 2
        assert [r.run_id for r in find_runs(local, RunFilter(tags=("baseline", "fp16")))] == [tracked]
        assert find_runs(local, RunFilter(tags=("baseline", "nope"))) == []
    code, out, _ = cli(capsys, "runs", "--store", store, "--tag", "fp16", "--json")
    assert code == 0 and [r["run_id"] for r in json.loads(out)] == [tracked]
    code, out, _ = cli(capsys, "runs", "--store", store, "--project", "mnist", "--tag", "nope")
    assert code == 0 and "no runs with the tag nope in project 'mnist'" in out

    # the server stored the tags it received; a newer state replaces them
    def listed(*tags: str, headers: dict[str, str] | None = None) -> list[str]:
        answer = httpx.get(team_server.url + "/api/v1/runs", params=[("tag", t) for t in tags],
                           headers=headers or team_server.auth(), timeout=30)
        assert answer.status_code == 200, answer.text
        return [r["run_id"] for r in answer.json()["items"]]

    from tests.fakes.wait import wait_for

    wait_for(lambda: listed("fp16") == [tracked], "the tracked run on the server with its tags", timeout=60)
    other = run_id(9, 1)
    doc = tagged(other, ("baseline", *HOSTILE))
    assert httpx.put(f"{team_server.url}/api/v1/runs/{other}", json=to_dict(doc), headers=team_server.auth(),
                     timeout=30).status_code == 200
    assert set(listed("baseline")) == {tracked, other}
    for hostile in HOSTILE:
        assert listed(hostile) == [other]
    assert listed("%%") == [] and listed("' OR '1'='1") == []
    newer = replace(doc, run=replace(doc.run, updated_at=doc.run.updated_at + 10, extra=RunExtra(tags=("v2",))))
    assert httpx.put(f"{team_server.url}/api/v1/runs/{other}", json=to_dict(newer), headers=team_server.auth(),
                     timeout=30).status_code == 200
    assert listed("baseline") == [tracked] and listed("v2") == [other]
    # an older state sent late changes nothing
    assert httpx.put(f"{team_server.url}/api/v1/runs/{other}", json=to_dict(doc), headers=team_server.auth(),
                     timeout=30).json()["stored"] is False
    assert listed("v2") == [other] and listed("%") == []
    # an ingest token lists its project's runs with the tag
    assert listed("fp16", headers={"Authorization": f"Bearer {token}"}) == [tracked]
    answer = httpx.get(team_server.url + "/api/v1/runs", params={"tag": "a\x00b"}, headers=team_server.auth())
    assert answer.status_code == 422 and answer.json()["errors"][0]["field"] == "query.tag[0]"
    # runs --server --tag reads the same through the API
    code, out, err = cli(capsys, "runs", "--server", team_server.url, "--server-token", team_server.admin_token or "",
                         "--tag", "baseline", "--tag", "fp16", "--json")
    assert code == 0, err
    assert [r["run_id"] for r in json.loads(out)] == [tracked]


def test_an_upgraded_store_has_the_tags_of_its_runs(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    with open_store(sqlite_url(path)) as store:
        store.save(make_run(run_id(1, 1), extra=RunExtra(tags=("old", "kept"))), make_components())
        store.save(make_run(run_id(1, 2)), make_components())
    # the store as revision 0004 left it: no run_tags table
    with sqlite3.connect(path) as db:
        db.execute("DROP TABLE run_tags")
        db.execute("DROP INDEX ix_runs_project_totals")
        db.execute("UPDATE alembic_version SET version_num = '0004'")
    with open_store(sqlite_url(path)) as store:
        assert [r.run_id for r in find_runs(store, RunFilter(tags=("old",)))] == [run_id(1, 1)]
        assert [r.run_id for r in find_runs(store, RunFilter(tags=("kept", "old")))] == [run_id(1, 1)]
