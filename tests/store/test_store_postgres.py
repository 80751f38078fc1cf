"""The run store on a real PostgreSQL server (a throwaway cluster started for the session; see ``pg.py``)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

pytest.register_assert_rewrite("pg")  # its shared checks get pytest's assertion messages

from tests.fakes.pg import (  # noqa: E402
    check_concurrent,
    check_idempotent,
    check_killed,
    check_lookup,
    check_migrated_from_empty,
    check_round_trip,
    free_port,
    make_run,
    run_id,
    run_writers,
)
from wattprint.store import StoreError, open_store  # noqa: E402
from wattprint.store.spool import replay_spool, spool_save  # noqa: E402


@pytest.fixture
def store(pg_url: str):  # noqa: ANN201
    opened = open_store(pg_url)
    yield opened
    opened.close()


def test_migrates_an_empty_database_to_the_newest_schema(store) -> None:  # noqa: ANN001
    assert store.dialect == "postgresql"
    check_migrated_from_empty(store)


def test_every_field_round_trips(store) -> None:  # noqa: ANN001
    check_round_trip(store)


def test_saves_are_idempotent(store) -> None:  # noqa: ANN001
    check_idempotent(store)


def test_runs_are_found_by_id_prefix_and_last(store) -> None:  # noqa: ANN001
    with pytest.raises(LookupError, match="no runs yet"):
        store.run("last")
    check_lookup(store)


def test_running_runs_whose_writer_is_gone_are_killed(store) -> None:  # noqa: ANN001
    check_killed(store)


def test_the_password_is_masked_for_display(pg_url: str) -> None:
    with_password = pg_url.replace("postgres@", "postgres:s3cret@")  # trust authentication ignores it
    with open_store(with_password) as opened:
        assert "s3cret" not in opened.url and "***" in opened.url
        assert "s3cret" not in repr(opened)


def test_concurrent_writer_processes_lose_and_duplicate_nothing(pg_url: str, tmp_path: Path) -> None:
    workers, runs, buckets = 4, 10, 30  # the database is empty: the writers also race to migrate it
    run_writers(pg_url, workers, runs, buckets, tmp_path)
    with open_store(pg_url) as opened:
        check_concurrent(opened, workers, runs, buckets)


def test_a_database_that_is_down_is_a_store_error_quickly() -> None:
    started = time.monotonic()
    with pytest.raises(StoreError) as info:
        open_store(f"postgresql://wattprint:pw@127.0.0.1:{free_port()}/runs")
    assert time.monotonic() - started < 5.5
    message = str(info.value)
    assert "cannot connect to the PostgreSQL store" in message and "pw@" not in message
    assert "check that the server is running" in message


def test_a_database_that_does_not_exist_is_a_store_error(postgres_admin_url: str) -> None:
    base, _, _ = postgres_admin_url.rpartition("/")
    with pytest.raises(StoreError, match="wattprint_no_such_db"):
        open_store(f"{base}/wattprint_no_such_db")


def test_a_database_with_foreign_tables_is_refused(pg_url: str) -> None:
    import psycopg

    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE runs (id integer)")
    with pytest.raises(StoreError, match=r"already has table\(s\) runs that wattprint did not create"):
        open_store(pg_url)


def test_the_spool_replays_into_postgres(pg_url: str, tmp_path: Path) -> None:
    run = make_run(run_id(8, 1))
    spool_save(tmp_path, run)
    with open_store(pg_url) as opened:
        assert replay_spool(tmp_path, opened) == 1
        assert replay_spool(tmp_path, opened) == 0
        assert opened.runs() == [run]


def test_a_statement_failing_in_the_pipeline_rolls_the_whole_save_back(store) -> None:  # noqa: ANN001
    """Statements after the last read are sent without waiting (pipeline mode): one that fails still fails the
    save, as a StoreError naming the database's reason, and nothing of it is written."""
    from tests.fakes.pg import count, make_intervals
    from wattprint.store.writing import INTERVAL_UPSERT, execute_rows, prepare, write

    rid = run_id(7, 1)
    with pytest.raises(StoreError, match="duplicate key|ON CONFLICT DO UPDATE command cannot affect row a second"):
        with store._transaction() as db:
            write(db, prepare([(make_run(rid), (), make_intervals(2), ())]), {})
            row = {"run_id": rid, "bucket": 0, "device": "package-0", "component": "cpu", "start_offset_s": 0.0,
                   "end_offset_s": 10.0, "energy_j": 1.0, "avg_power_w": 0.1, "method": "counter",
                   "uncertainty_rel": 0.05, "emissions_g": None, "intensity_g_per_kwh": None}
            execute_rows(db, INTERVAL_UPSERT, [row, dict(row)])  # one key twice: PostgreSQL refuses the statement
    assert count(store, "SELECT count(*) FROM runs") == 0
    assert count(store, "SELECT count(*) FROM intervals") == 0
    store.save(make_run(rid), intervals=make_intervals(2))  # the connection went back to the pool usable
    assert count(store, "SELECT count(*) FROM intervals WHERE run_id = :r", r=rid) == 6
