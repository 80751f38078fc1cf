"""Sending runs to the real server (SQLite and PostgreSQL) and reading them back: equal records, idempotent
re-sends, no roll-back by an older state, nothing half-written by a bad document, 413 past the size limit."""

from __future__ import annotations

import json
from dataclasses import replace

import httpx
import pytest

from tests.fakes.pg import count, full_run, make_components, make_intervals, make_run, make_tasks, run_id
from tests.fakes.server import TeamServer
from wattprint.api.codec import from_dict, to_dict
from wattprint.api.records import RunDocument
from wattprint.store import open_store


def document(rid: str, buckets: int = 5, **changes: object) -> RunDocument:
    run = full_run(rid) if not changes else make_run(rid, **changes)
    return RunDocument(run=run, components=tuple(make_components()), intervals=tuple(make_intervals(buckets)),
                       tasks=tuple(make_tasks(3)))


def put(server: TeamServer, doc: RunDocument | dict, token: str | None = None, rid: str | None = None
        ) -> httpx.Response:
    body = doc if isinstance(doc, dict) else to_dict(doc)
    rid = rid or body["run"]["run_id"]
    return httpx.put(f"{server.url}/api/v1/runs/{rid}", json=body, headers=server.auth(token), timeout=30)


def get_document(server: TeamServer, rid: str) -> RunDocument:
    answer = httpx.get(f"{server.url}/api/v1/runs/{rid}", headers=server.auth(), timeout=30)
    assert answer.status_code == 200, answer.text
    return from_dict(RunDocument, answer.json())


def check_round_trip(server: TeamServer) -> None:
    doc = document(run_id(1, 1))
    answer = put(server, doc)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"run_id": doc.run.run_id, "updated_at": doc.run.updated_at, "stored": True}
    got = get_document(server, doc.run.run_id)
    assert got.run == doc.run  # every field, unicode, JSON and float exactness included
    assert got.components == doc.components
    assert got.intervals == tuple(sorted(doc.intervals, key=lambda i: (i.bucket, i.device)))
    assert got.tasks == doc.tasks
    # a unique prefix reads the same run
    assert get_document(server, doc.run.run_id[:8]).run == doc.run
    # and the store holds what the local tool reads
    store = open_store(server.store_url)
    try:
        assert store.run(doc.run.run_id) == doc.run
        assert store.intervals(doc.run.run_id) == list(got.intervals)
    finally:
        store.close()


def check_idempotent_and_monotonic(server: TeamServer) -> None:
    rid = run_id(2, 1)
    early = document(rid, buckets=3, status="running", updated_at=1_760_000_050.0, ended_at=None, energy_j=100.0)
    late = document(rid, buckets=6, status="finished", updated_at=1_760_000_100.0, energy_j=200.0)
    assert put(server, early).json()["stored"] is True
    for _ in range(3):  # the same state again changes nothing
        answer = put(server, late)
        assert answer.status_code == 200 and answer.json() == {"run_id": rid, "updated_at": 1_760_000_100.0,
                                                                "stored": True}
    # the older state arriving late (a retry of a lost response) does not roll the run back
    answer = put(server, early)
    assert answer.status_code == 200
    assert answer.json() == {"run_id": rid, "updated_at": 1_760_000_100.0, "stored": False}
    got = get_document(server, rid)
    assert got.run == late.run and got.run.status == "finished" and got.run.energy_j == 200.0
    assert len(got.intervals) == 6 * 3 and got.components == late.components
    store = open_store(server.store_url)
    try:
        assert count(store, "SELECT count(*) FROM runs WHERE run_id = :r", r=rid) == 1
        assert count(store, "SELECT count(*) FROM intervals WHERE run_id = :r", r=rid) == 18
        assert count(store, "SELECT count(*) FROM tasks WHERE run_id = :r", r=rid) == 3
    finally:
        store.close()


def check_bad_documents(server: TeamServer) -> None:
    rid = run_id(3, 1)
    good = to_dict(document(rid))
    cases = [
        (lambda d: d["run"].__setitem__("energy_j", "12"), "run.energy_j"),
        (lambda d: d["run"].pop("status"), "run.status"),
        (lambda d: d["run"].__setitem__("status", "done"), "run.status"),
        (lambda d: d["intervals"][3].__setitem__("bucket", 1.5), "intervals[3].bucket"),
        (lambda d: d["intervals"][4].__setitem__("energy_j", None), "intervals[4].energy_j"),
        (lambda d: d["tasks"][1]["components"][0].__setitem__("method", 7), "tasks[1].components[0].method"),
        (lambda d: d["run"].__setitem__("duration_s", -1.0), "run.duration_s"),
        (lambda d: d["run"].__setitem__("run_id", "not-hex"), "run.run_id"),
        (lambda d: d.__setitem__("intervals", {"bucket": 0}), "intervals"),
        (lambda d: d["run"].__setitem__("extra", {"predictions": "soon"}), "run.extra.predictions"),
    ]
    for spoil, field in cases:
        body = json.loads(json.dumps(good))
        spoil(body)
        answer = put(server, body, rid=rid)
        assert answer.status_code == 422, (field, answer.text)
        assert answer.headers["content-type"] == "application/problem+json"
        problem = answer.json()
        assert problem["status"] == 422 and problem["type"].startswith("https://wattprint.org/problems/")
        assert field in [e["field"] for e in problem["errors"]], (field, problem)
        assert field in problem["detail"]
    # the URL and the body must name the same run
    other = run_id(3, 2)
    answer = put(server, good, rid=other)
    assert answer.status_code == 422 and answer.json()["errors"][0]["field"] == "run.run_id"
    assert other in answer.json()["errors"][0]["message"]
    # not JSON at all, and JSON's missing numbers
    for raw in (b"{not json", b'{"run": NaN}'):
        answer = httpx.put(f"{server.url}/api/v1/runs/{rid}", content=raw, headers=server.auth(), timeout=30)
        assert answer.status_code == 400 and "not valid JSON" in answer.json()["detail"]
    # nothing of any of them was written
    store = open_store(server.store_url)
    try:
        for table in ("runs", "intervals", "tasks", "run_components", "projects"):
            assert count(store, f"SELECT count(*) FROM {table}") == 0, table
    finally:
        store.close()


@pytest.mark.parametrize("check", [check_round_trip, check_idempotent_and_monotonic, check_bad_documents])
def test_sqlite(team_server: TeamServer, check) -> None:
    check(team_server)


@pytest.mark.parametrize("check", [check_round_trip, check_idempotent_and_monotonic, check_bad_documents])
def test_postgres(team_server_pg: TeamServer, check) -> None:
    check(team_server_pg)


def test_oversized_body_is_refused(tmp_path) -> None:
    from tests.fakes.server import sqlite_url, start_server

    with start_server(sqlite_url(tmp_path / "small.sqlite"), tmp_path, args=["--max-body-mb", "0.05"]) as server:
        small = document(run_id(4, 1), buckets=2)
        assert put(server, small).status_code == 200
        big = document(run_id(4, 2), buckets=200)  # about 160 kB of JSON
        answer = put(server, big)
        assert answer.status_code == 413, answer.text
        assert answer.headers["content-type"] == "application/problem+json"
        assert "--max-body-mb" in answer.json()["detail"]
        # a body sent without a length (chunked) is cut off at the limit too
        raw = json.dumps(to_dict(big)).encode()
        answer = httpx.put(f"{server.url}/api/v1/runs/{big.run.run_id}", content=iter([raw[:40_000], raw[40_000:]]),
                           headers={**server.auth(), "content-type": "application/json"}, timeout=30)
        assert answer.status_code == 413
        store = open_store(server.store_url)
        try:
            assert [r.run_id for r in store.runs()] == [small.run.run_id]
        finally:
            store.close()


def test_a_run_saved_again_with_more_intervals_keeps_them_all(team_server: TeamServer) -> None:
    rid = run_id(5, 1)
    first = document(rid, buckets=2, status="running", updated_at=1_760_000_010.0, ended_at=None)
    more = replace(first, run=replace(first.run, updated_at=1_760_000_020.0),
                   intervals=tuple(make_intervals(4)[6:]))  # buckets 2 and 3 only
    assert put(team_server, first).status_code == 200
    assert put(team_server, more).status_code == 200
    assert [(i.bucket, i.device) for i in get_document(team_server, rid).intervals] == [
        (b, d) for b in range(4) for d in sorted(("package-0", "gpu:0", "dram"))]


def test_a_run_is_read_by_a_unique_prefix_and_an_ambiguous_one_is_named(team_server: TeamServer) -> None:
    first, second = "abcd0000" + "0" * 24, "abcd1111" + "0" * 24
    for rid in (first, second):
        assert put(team_server, document(rid, buckets=1, updated_at=1_760_000_001.0)).status_code == 200
    assert get_document(team_server, "abcd1").run.run_id == second
    answer = httpx.get(f"{team_server.url}/api/v1/runs/abcd", headers=team_server.auth(), timeout=30)
    assert answer.status_code == 409 and answer.headers["content-type"] == "application/problem+json"
    assert "matches 2 runs" in answer.json()["detail"] and "give more digits" in answer.json()["detail"]
    for ref, status in (("abc", 404), ("zzzz", 404), ("ffff", 404), ("last", 404)):
        answer = httpx.get(f"{team_server.url}/api/v1/runs/{ref}", headers=team_server.auth(), timeout=30)
        assert answer.status_code == status, (ref, answer.text)
        assert answer.json()["detail"]


def test_a_store_that_fails_is_a_503_the_client_can_retry(tmp_path) -> None:
    from tests.fakes.pg import PostgresServer, find_pg_bin
    from tests.fakes.server import start_server

    bindir = find_pg_bin()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    cluster = PostgresServer(bindir)  # a cluster of its own: this test stops it
    cluster.start()
    stopped = False
    try:
        with start_server(cluster.admin_url, tmp_path) as server:
            assert put(server, document(run_id(6, 1))).status_code == 200
            cluster._run(str(bindir / "pg_ctl"), "-D", str(cluster.data), "-m", "immediate", "-w", "stop")
            stopped = True
            answer = put(server, document(run_id(6, 2)))
            assert answer.status_code == 503, answer.text
            assert answer.headers["content-type"] == "application/problem+json"
            assert "try again" in answer.json()["detail"]
            assert httpx.get(f"{server.url}/api/v1/health", timeout=30).status_code == 200
    finally:
        if stopped:
            import shutil

            shutil.rmtree(cluster.root, ignore_errors=True)
        else:
            cluster.stop()


def test_several_worker_processes_serve_one_store(tmp_path) -> None:
    from tests.fakes.server import sqlite_url, start_server

    with start_server(sqlite_url(tmp_path / "workers.sqlite"), tmp_path, args=["--workers", "2"]) as server:
        assert server.admin_token is not None
        docs = [document(run_id(7, i), buckets=2, updated_at=1_760_000_000.0 + i) for i in range(12)]
        with httpx.Client(base_url=server.url, headers=server.auth(), timeout=30) as http:
            for doc in docs:
                answer = http.put(f"/api/v1/runs/{doc.run.run_id}", json=to_dict(doc))
                assert answer.status_code == 200, answer.text
            listed = http.get("/api/v1/runs", params={"limit": 100}).json()["items"]
        assert sorted(r["run_id"] for r in listed) == sorted(d.run.run_id for d in docs)
        assert server.log().count(server.admin_token) == 1
        assert "Started parent process" in server.log() or server.log().count("Started server process") >= 2
