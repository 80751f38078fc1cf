"""The local store as the outbox: which state of each run a server acknowledged, and what is still unsent, in
SQLite (through SQLAlchemy and through the recorder's sqlite3 writer) and in PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.pg import make_intervals, make_run, run_id
from wattprint.store import open_store, open_writer, outbox
from wattprint.store.runstore import RunStore

A, B = "http://team-a:8000", "http://team-b:8000"


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RunStore]:
    url = str(tmp_path / "runs.sqlite") if request.param == "sqlite" else request.getfixturevalue("pg_url")
    with open_store(url) as opened:
        yield opened


def _save(store: RunStore, index: int, project: str, updated_at: float) -> str:
    rid = run_id(1, index)
    store.save(make_run(rid, project=project, started_at=1_760_000_000.0 + index, updated_at=updated_at),
               intervals=make_intervals(2))
    return rid


def test_a_run_is_unsent_until_its_stored_state_is_acknowledged(store: RunStore) -> None:
    first, second, third = (_save(store, i, p, 100.0) for i, p in ((1, "mnist"), (2, "mnist"), (3, "cifar")))
    assert [rid for rid, _ in outbox.unsent(store, A)] == [first, second, third]  # oldest first
    assert outbox.unsent(store, A, queued_only=True) == []

    outbox.mark_queued(store, A, [second, run_id(9, 9)])  # a run the store lacks is left out, not an error
    assert outbox.unsent(store, A, queued_only=True) == [(second, 100.0)]
    assert outbox.acknowledged(store, A) == {second: outbox.QUEUED}

    outbox.mark_sent(store, A, [(first, 100.0), (second, 100.0)])
    assert outbox.unsent(store, A) == [(third, 100.0)]
    assert outbox.unsent(store, A, project="mnist") == []
    assert outbox.unsent(store, B) == [(first, 100.0), (second, 100.0), (third, 100.0)]  # each server its own marks
    assert outbox.unsent(store, A, exclude=[third]) == []

    outbox.mark_sent(store, A, [(first, 50.0)])  # an older acknowledgement never moves a mark back
    outbox.mark_queued(store, A, [first])  # nor does queueing a run the server has
    assert outbox.acknowledged(store, A)[first] == 100.0

    store.save(make_run(first, project="mnist", started_at=1_760_000_001.0, updated_at=200.0))  # a newer state
    assert [rid for rid, _ in outbox.unsent(store, A, queued_only=True)] == [first]
    assert outbox.unsent(store, A, limit=1) == [(first, 200.0)]


def test_the_recorders_sqlite3_writer_keeps_the_same_marks(tmp_path: Path) -> None:
    url = str(tmp_path / "runs.sqlite")
    with open_store(url) as store:
        rid = _save(store, 1, "mnist", 100.0)
    writer = open_writer(url)
    try:
        assert type(writer).__name__ == "SqliteWriter"  # no SQLAlchemy on the writer thread
        outbox.mark_queued(writer, A, [rid])
        outbox.mark_sent(writer, A, [(rid, 100.0)])
        assert outbox.unsent(writer, A) == []
    finally:
        writer.close()
    with open_store(url) as store:
        assert outbox.acknowledged(store, A) == {rid: 100.0}
