"""Eight clients sending runs to the real server at once (SQLite and PostgreSQL): nothing lost, nothing doubled."""

from __future__ import annotations

import threading

import httpx
import pytest

from tests.fakes.pg import count, make_components, make_intervals, make_run, make_tasks, run_id
from tests.fakes.server import TeamServer
from wattprint.api.codec import to_dict
from wattprint.api.records import RunDocument
from wattprint.store import open_store

CLIENTS, RUNS, BUCKETS, FLUSHES = 8, 4, 30, 3
DEVICES = 3


def client(server: TeamServer, worker: int, barrier: threading.Barrier, failures: list[str]) -> None:
    """One client: each run sent as a recorder would, a flush at a time (each with the buckets since the last)."""
    intervals = make_intervals(BUCKETS)
    per_flush = BUCKETS // FLUSHES * DEVICES
    with httpx.Client(base_url=server.url, headers=server.auth(), timeout=60) as http:
        barrier.wait(timeout=60)
        for index in range(RUNS):
            rid = run_id(worker, index)
            for flush in range(FLUSHES):
                final = flush == FLUSHES - 1
                run = make_run(rid, project=f"team-{worker % 3}", status="finished" if final else "running",
                               updated_at=1_760_000_000.0 + flush, ended_at=1_760_000_100.5 if final else None)
                doc = RunDocument(run=run, components=tuple(make_components()),
                                  intervals=tuple(intervals[flush * per_flush:(flush + 1) * per_flush]),
                                  tasks=tuple(make_tasks(flush + 1)[flush:]))
                answer = http.put(f"/api/v1/runs/{rid}", json=to_dict(doc))
                if answer.status_code != 200 or answer.json()["stored"] is not True:
                    failures.append(f"{rid} flush {flush}: {answer.status_code} {answer.text}")


def check_eight_clients(server: TeamServer) -> None:
    barrier = threading.Barrier(CLIENTS)
    failures: list[str] = []
    threads = [threading.Thread(target=client, args=(server, w, barrier, failures)) for w in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not any(t.is_alive() for t in threads)
    assert failures == []
    store = open_store(server.store_url)
    try:
        total = CLIENTS * RUNS
        assert count(store, "SELECT count(*) FROM runs") == total
        assert count(store, "SELECT count(*) FROM runs WHERE status = 'finished'") == total
        assert count(store, "SELECT count(*) FROM intervals") == total * BUCKETS * DEVICES
        assert count(store, "SELECT count(*) FROM tasks") == total * FLUSHES
        assert count(store, "SELECT count(*) FROM run_components") == total * DEVICES
        assert count(store, "SELECT count(*) FROM projects") == 3
        expected = sorted(make_intervals(BUCKETS), key=lambda i: (i.bucket, i.device))
        for worker in range(CLIENTS):
            assert store.intervals(run_id(worker, RUNS - 1)) == expected
    finally:
        store.close()
    listed = httpx.get(f"{server.url}/api/v1/runs", params={"limit": 1000}, headers=server.auth()).json()
    assert len({item["run_id"] for item in listed["items"]}) == CLIENTS * RUNS


def test_sqlite(team_server: TeamServer) -> None:
    check_eight_clients(team_server)


@pytest.mark.usefixtures("postgres_admin_url")
def test_postgres(team_server_pg: TeamServer) -> None:
    check_eight_clients(team_server_pg)
