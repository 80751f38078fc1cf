"""Group commit on real stores (SQLite and PostgreSQL): sends that arrive together are saved in one transaction, each
answered with its own outcome; a bad send fails alone; a run sent twice is never in one batch twice."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from tests.fakes.pg import count, make_components, make_intervals, make_run, make_tasks, run_id
from wattprint.server.ingest import GroupCommit
from wattprint.store import open_store, queries
from wattprint.store.runstore import RunStore


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RunStore]:
    url = f"sqlite:///{tmp_path / 'runs.sqlite'}" if request.param == "sqlite" else request.getfixturevalue("pg_url")
    opened = open_store(url)
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def batches(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The run ids of each transaction ``save_runs`` wrote (the real function, watched)."""
    seen: list[list[str]] = []
    real = queries.save_runs

    def watched(store: RunStore, saves: list[queries.RunSave]) -> list[object]:
        seen.append([save.run.run_id for save in saves])
        return real(store, saves)

    monkeypatch.setattr(queries, "save_runs", watched)
    return seen


def send(rid: str, flush: int = 0, **changes: object) -> queries.RunSave:
    run = make_run(rid, project="team", updated_at=1_760_000_000.0 + flush, **changes)
    return queries.RunSave(run, tuple(make_components()), tuple(make_intervals(4)[flush * 3:]),
                           tuple(make_tasks(flush + 1)), project="team", check_project=True)


def test_sends_that_arrive_together_share_a_transaction(store: RunStore, batches: list[list[str]]) -> None:
    saves = [send(run_id(1, i)) for i in range(12)]

    async def main() -> list[queries.SaveOutcome]:
        commit = GroupCommit(store)
        return await asyncio.gather(*(commit.save(save) for save in saves))

    outcomes = asyncio.run(main())
    assert all(o.stored and o.updated_at == s.run.updated_at for o, s in zip(outcomes, saves, strict=True))
    assert sorted(rid for batch in batches for rid in batch) == sorted(s.run.run_id for s in saves)
    assert len(batches) < len(saves) and max(map(len, batches)) > 1
    assert count(store, "SELECT count(*) FROM runs") == 12
    assert count(store, "SELECT count(*) FROM intervals") == 12 * 12
    assert count(store, "SELECT count(*) FROM tasks") == 12


def test_a_bad_send_fails_alone(store: RunStore, batches: list[list[str]]) -> None:
    good = [send(run_id(2, i)) for i in range(5)]
    bad = send(run_id(2, 9), status="exploded")

    async def main() -> list[object]:
        commit = GroupCommit(store, batches_at_once=1)  # the first send alone, the other five in one batch
        return await asyncio.gather(*(commit.save(s) for s in [*good[:3], bad, *good[3:]]), return_exceptions=True)

    answers = asyncio.run(main())
    failed = answers.pop(3)
    assert isinstance(failed, ValueError) and "status='exploded'" in str(failed)
    assert all(isinstance(a, queries.SaveOutcome) and a.stored for a in answers)
    assert any(len(batch) > 1 and bad.run.run_id in batch for batch in batches)  # tried together, then alone
    assert count(store, "SELECT count(*) FROM runs") == 5


def test_another_projects_run_is_refused_and_the_rest_written(store: RunStore) -> None:
    theirs = run_id(3, 0)
    queries.save_document(store, make_run(theirs, project="other"), project="other")
    saves = [send(run_id(3, i)) for i in range(1, 4)]

    async def main() -> list[object]:
        commit = GroupCommit(store)
        return await asyncio.gather(*(commit.save(s) for s in [send(theirs), *saves]), return_exceptions=True)

    refused, *written = asyncio.run(main())
    assert isinstance(refused, queries.ProjectMismatch) and refused.stored == "other"
    assert all(isinstance(a, queries.SaveOutcome) and a.stored for a in written)
    assert count(store, "SELECT count(*) FROM intervals WHERE run_id = :r", r=theirs) == 0
    assert count(store, "SELECT count(*) FROM runs") == 4


def test_a_run_sent_twice_goes_in_two_batches_and_the_newer_state_stays(store: RunStore,
                                                                          batches: list[list[str]]) -> None:
    rid = run_id(4, 0)
    newer, older = send(rid, flush=1, status="finished"), send(rid, flush=0, status="running")
    others = [send(run_id(4, i)) for i in range(1, 4)]

    async def main() -> list[queries.SaveOutcome]:
        commit = GroupCommit(store, batches_at_once=1)  # one batch after the other: the newer state goes first
        return await asyncio.gather(*(commit.save(s) for s in [others[0], newer, older, *others[1:]]))

    first, after_newer, after_older, *_ = asyncio.run(main())
    assert after_newer.stored and not after_older.stored and after_older.updated_at == newer.run.updated_at
    assert all(len(batch) == len(set(batch)) for batch in batches)
    assert [batch.count(rid) for batch in batches] == [0, 1, 1]
    assert store.run(rid).status == "finished"
    assert count(store, "SELECT count(*) FROM intervals WHERE run_id = :r", r=rid) == 12  # the older's filled in


def test_sends_over_the_interval_limit_are_split(store: RunStore, batches: list[list[str]],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    import wattprint.server.ingest as ingest

    monkeypatch.setattr(ingest, "MAX_INTERVALS", 20)
    saves = [replace(send(run_id(5, i)), intervals=tuple(make_intervals(4))) for i in range(6)]  # 12 each

    async def main() -> None:
        commit = GroupCommit(store)
        await asyncio.gather(*(commit.save(s) for s in saves))

    asyncio.run(main())
    assert all(len(batch) == 1 for batch in batches)
    assert count(store, "SELECT count(*) FROM intervals") == 6 * 12
