"""The run store on a real SQLite file: schema, round trips, idempotent saves, lookups, killed runs, failures to
open, several writer processes at once, the spool, and lazy imports."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
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
    column_value,
    count,
    free_port,
    full_run,
    make_components,
    make_intervals,
    make_run,
    make_tasks,
    run_id,
    run_unprivileged,
    run_writers,
    unprivileged_dir,
)
from wattprint.api.records import RunExtra  # noqa: E402
from wattprint.store import StoreError, default_store_url, open_store, resolve_store_url  # noqa: E402
from wattprint.store.records import IntervalRecord  # noqa: E402
from wattprint.store.runstore import REVISIONS, RunStore  # noqa: E402
from wattprint.store.spool import default_spool_dir, load_spool_file, replay_spool, spool_save, spooled_files  # noqa: E402


@pytest.fixture
def store(tmp_path: Path):  # noqa: ANN201
    opened = open_store(str(tmp_path / "store" / "runs.sqlite"))
    yield opened
    opened.close()


# -- URLs ------------------------------------------------------------------------------------------------------


def test_store_urls_resolve_to_the_forms_documented(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    default = default_store_url()
    assert default == f"sqlite:///{tmp_path}/xdg/wattprint/runs.sqlite"
    assert resolve_store_url(None) == default
    assert resolve_store_url("") == default
    assert resolve_store_url("  ") == default
    for off in ("off", "none", "false", "OFF", " None "):
        assert resolve_store_url(off) is None
    assert resolve_store_url(str(tmp_path / "a.sqlite")) == f"sqlite:///{tmp_path}/a.sqlite"
    monkeypatch.chdir(tmp_path)
    assert resolve_store_url("rel/runs.db") == f"sqlite:///{tmp_path}/rel/runs.db"
    assert resolve_store_url("sqlite:////abs/runs.sqlite") == "sqlite:////abs/runs.sqlite"
    assert resolve_store_url("sqlite:///rel.sqlite") == "sqlite:///rel.sqlite"
    assert resolve_store_url("postgresql://u:p@db.example/team") == "postgresql+psycopg://u:p@db.example/team"
    assert resolve_store_url("postgresql+psycopg://u@h:5433/x") == "postgresql+psycopg://u@h:5433/x"


@pytest.mark.parametrize(
    "value",
    ["mysql://u:secret@h/db", "http://example.com/runs", "postgres://u:secret@h/db", "sqlite://", "postgresql:db"],
)
def test_a_bad_url_is_a_store_error_naming_the_value_and_the_forms(value: str) -> None:
    with pytest.raises(StoreError) as info:
        open_store(value)
    message = str(info.value)
    assert "secret" not in message
    assert value.split("://")[0] in message
    assert "postgresql://" in message or "sqlite:///" in message


def test_the_default_store_lives_in_the_user_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    with open_store() as opened:
        assert opened.url == f"sqlite:///{tmp_path}/xdg/wattprint/runs.sqlite"
        opened.save(make_run(run_id(9, 9)))
    assert (tmp_path / "xdg" / "wattprint" / "runs.sqlite").is_file()
    assert (tmp_path / "xdg" / "wattprint").stat().st_mode & 0o777 == 0o700  # private by default
    assert default_spool_dir() == tmp_path / "xdg" / "wattprint" / "spool"
    with pytest.raises(StoreError, match="turned off"):
        open_store("off")


# -- schema and data -------------------------------------------------------------------------------------------


def test_migrates_an_empty_database_to_the_newest_schema(store: RunStore) -> None:
    check_migrated_from_empty(store)
    engine = store._engine
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
        sql = conn.exec_driver_sql("SELECT sql FROM sqlite_master WHERE name = 'intervals'").scalar()
    assert "WITHOUT ROWID" in sql


def test_the_head_revision_is_the_last_migration_shipped() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from wattprint.store import schema
    from wattprint.store.runstore import MIGRATIONS_DIR

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    script = ScriptDirectory.from_config(config)
    assert script.get_heads() == [schema.HEAD_REVISION]
    assert [r.revision for r in reversed(list(script.walk_revisions()))] == list(REVISIONS)


def test_opening_an_up_to_date_store_skips_alembic(tmp_path: Path) -> None:
    path = tmp_path / "runs.sqlite"
    open_store(str(path)).close()
    code = (
        "import sys, time\n"
        "from wattprint.store import open_store\n"
        f"store = open_store({str(path)!r})\n"
        "t = time.perf_counter(); open_store(store.url).close(); elapsed = time.perf_counter() - t\n"
        "print('alembic' in sys.modules, elapsed)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    imported, elapsed = done.stdout.split()
    assert imported == "False"
    print(f"reopening an up-to-date store: {float(elapsed) * 1000:.1f} ms")


def test_a_store_from_a_newer_wattprint_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "runs.sqlite"
    with open_store(str(path)) as opened, opened._engine.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '9999'")
    with pytest.raises(StoreError, match="schema revision 9999.*newer wattprint"):
        open_store(str(path))


def test_every_field_round_trips(store: RunStore) -> None:
    check_round_trip(store)


def test_saves_are_idempotent(store: RunStore) -> None:
    check_idempotent(store)


def test_save_many_never_rolls_a_newer_run_back_but_fills_in_what_it_lacks(store: RunStore) -> None:
    rid = run_id(1, 1)
    store.save(make_run(rid, status="finished", updated_at=2000.0), make_components(), make_intervals(1), make_tasks(1))
    older = make_run(rid, status="running", updated_at=1000.0, energy_j=1.0)
    assert store.save_many([(older, make_components()[:1], make_intervals(2), make_tasks(2))]) == [rid]
    kept = store.run(rid)
    assert (kept.status, kept.updated_at, kept.energy_j) == ("finished", 2000.0, 12_345.678)
    assert count(store, "SELECT count(*) FROM run_components WHERE run_id = :r", r=rid) == 3
    assert len(store.intervals(rid)) == 6 and len(store.tasks(rid)) == 2


def test_runs_are_found_by_id_prefix_and_last(store: RunStore) -> None:
    with pytest.raises(LookupError, match="no runs yet"):
        store.run("last")
    check_lookup(store)


def test_running_runs_whose_writer_is_gone_are_killed(store: RunStore) -> None:
    check_killed(store)


def test_invalid_records_are_refused_before_writing(store: RunStore) -> None:
    with pytest.raises(ValueError, match="run_id must be 32 lowercase hex digits"):
        store.save(make_run("ABC"))
    with pytest.raises(ValueError, match="status='paused' is not valid"):
        store.save(make_run(run_id(1, 1), status="paused"))
    with pytest.raises(ValueError, match="RunRecord.extra must hold JSON values only"):
        store.save(make_run(run_id(1, 1), extra=RunExtra(source_fields={"x": object()})))
    assert count(store, "SELECT count(*) FROM runs") == 0


def test_an_in_memory_store_works_for_a_process() -> None:
    with open_store("sqlite:///:memory:") as opened:
        check_round_trip(opened)


def test_a_closed_store_says_so(tmp_path: Path) -> None:
    opened = open_store(str(tmp_path / "runs.sqlite"))
    opened.close()
    with pytest.raises(StoreError, match="closed"):
        opened.runs()


# -- stores that cannot be opened ------------------------------------------------------------------------------


def test_a_read_only_directory_or_file_is_a_store_error_at_open() -> None:
    base = unprivileged_dir()
    try:
        (base / "ro").mkdir()
        (base / "ro").chmod(0o555)
        (base / "rw").mkdir()
        (base / "rw").chmod(0o777)
        locked = base / "rw" / "locked.sqlite"
        open_store(str(locked)).close()
        for suffix in ("-wal", "-shm"):
            Path(str(locked) + suffix).unlink(missing_ok=True)
        locked.chmod(0o444)
        code = (
            "from wattprint.store import open_store, StoreError\n"
            "for path in " + repr([str(base / "ro" / "runs.sqlite"), str(base / "ro" / "sub" / "runs.sqlite"),
                                   str(locked)]) + ":\n"
            "    try:\n"
            "        open_store(path)\n"
            "    except StoreError as error:\n"
            "        print('StoreError:', error)\n"
            "    else:\n"
            "        print('opened', path)\n"
        )
        done = run_unprivileged(code)
        assert done.returncode == 0, done.stderr
        lines = done.stdout.splitlines()
        assert len(lines) == 3, done.stdout
        assert lines[0].startswith("StoreError:") and "is not writable" in lines[0] and "WATTPRINT_STORE" in lines[0]
        assert lines[1].startswith("StoreError:") and "cannot create the store directory" in lines[1]
        assert "Permission denied" in lines[1]
        assert lines[2].startswith("StoreError:") and "read-only" in lines[2] and "locked.sqlite" in lines[2]
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_a_file_that_is_not_a_database_is_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello, this is not SQLite\n" * 100)
    with pytest.raises(StoreError, match="is not a SQLite database"):
        open_store(str(path))
    with pytest.raises(StoreError, match="is a directory"):
        open_store(str(tmp_path))


def test_a_missing_postgres_driver_says_what_to_install() -> None:
    code = (
        "import sys\n"
        "sys.modules['psycopg'] = None  # as if psycopg were not installed\n"
        "from wattprint.store import open_store, StoreError\n"
        "try:\n"
        "    open_store('postgresql://someone@127.0.0.1:1/db')\n"
        "except StoreError as error:\n"
        "    print(error)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert 'pip install "wattprint[postgres]"' in done.stdout


# -- several processes -----------------------------------------------------------------------------------------


def test_concurrent_writer_processes_lose_and_duplicate_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/shared/runs.sqlite"  # created by the writers themselves, all at once
    workers, runs, buckets = 4, 15, 30
    started = time.perf_counter()
    run_writers(url, workers, runs, buckets, tmp_path)
    print(f"{workers} writers x {runs} runs x 4 saves: {time.perf_counter() - started:.2f} s")
    with open_store(url) as opened:
        check_concurrent(opened, workers, runs, buckets)


# -- the spool -------------------------------------------------------------------------------------------------


def test_runs_spooled_while_the_store_is_down_are_replayed_once(tmp_path: Path) -> None:
    pytest.importorskip("psycopg")
    down = f"postgresql://nobody@127.0.0.1:{free_port()}/wattprint"
    spool = tmp_path / "spool"
    rid = run_id(5, 1)
    run = full_run(rid)
    components, intervals, tasks = make_components(), make_intervals(6), make_tasks(2)
    with pytest.raises(StoreError):
        open_store(down)
    # what the recorder does: each flush rewrites the run's spool file with its state so far
    spool_save(spool, make_run(rid, status="running"), components, intervals[:9], tasks[:1])
    path = spool_save(spool, run, components, intervals[6:], tasks[1:])
    assert path == spool / f"{rid}.json" and spooled_files(spool) == [path]
    other = make_run(run_id(5, 2), project=None)
    spool_save(spool, other)
    with open_store(str(tmp_path / "runs.sqlite")) as opened:
        assert replay_spool(spool, opened) == 2
        assert spooled_files(spool) == []
        assert opened.run(rid) == run
        assert opened.intervals(rid) == sorted(intervals, key=lambda i: (i.bucket, i.device))
        assert opened.tasks(rid) == tasks and opened.components(rid) == components
        assert opened.run(other.run_id) == other
        before = [count(opened, f"SELECT count(*) FROM {t}") for t in ("runs", "intervals", "tasks", "run_components")]
        assert before == [2, 18, 2, 3]
        assert replay_spool(spool, opened) == 0
        # the same state spooled again (a retried flush) and replayed again changes nothing
        spool_save(spool, run, components, intervals, tasks)
        assert replay_spool(spool, opened) == 1
        after = [count(opened, f"SELECT count(*) FROM {t}") for t in ("runs", "intervals", "tasks", "run_components")]
        assert after == before


def test_spool_files_round_trip_exactly_and_merge_like_the_store(tmp_path: Path) -> None:
    rid = run_id(6, 1)
    run = full_run(rid)
    awkward = [
        IntervalRecord(0, 0.0, 0.1 + 0.2, "gpu", "gpu:0", 1e-320, 5e-324, "sampled", 1 / 3, 2.2250738585072014e-308,
                       1.7976931348623157e308),
        IntervalRecord(1, 0.1 + 0.2, 10.000000000000002, "cpu", "package-0", 123456789.12345679, 0.0, "counter", 0.05),
    ]
    spool_save(tmp_path, run, make_components(), awkward, make_tasks(2))
    got_run, got_components, got_intervals, got_tasks = load_spool_file(tmp_path / f"{rid}.json")
    assert got_run == run and got_components == make_components()
    assert got_intervals == awkward and got_tasks == make_tasks(2)
    # later writes replace the run, merge intervals by (bucket, device) and tasks by seq, keep components if none
    changed = IntervalRecord(1, 0.3, 20.0, "cpu", "package-0", 2.0, 0.1, "counter", 0.05)
    spool_save(tmp_path, make_run(rid), (), [changed], make_tasks(3)[2:])
    got_run, got_components, got_intervals, got_tasks = load_spool_file(tmp_path / f"{rid}.json")
    assert got_run == make_run(rid, updated_at=got_run.updated_at)
    assert got_components == make_components()
    assert got_intervals == [awkward[0], changed]
    assert got_tasks == make_tasks(3)


def test_a_damaged_spool_file_is_set_aside(tmp_path: Path) -> None:
    (tmp_path / f"{run_id(7, 1)}.json").write_text("{not json")
    (tmp_path / f"{run_id(7, 2)}.json").write_text(json.dumps({"format": "something-else"}))
    spool_save(tmp_path, make_run(run_id(7, 3)))
    with open_store(str(tmp_path / "db" / "runs.sqlite")) as opened:
        assert replay_spool(tmp_path, opened) == 1
        assert [r.run_id for r in opened.runs()] == [run_id(7, 3)]
    assert sorted(p.name for p in tmp_path.glob("*.bad")) == [f"{run_id(7, 1)}.json.bad", f"{run_id(7, 2)}.json.bad"]
    assert spooled_files(tmp_path) == []


# -- import cost -----------------------------------------------------------------------------------------------


def test_importing_wattprint_and_the_store_records_does_not_import_sqlalchemy() -> None:
    code = (
        "import sys\n"
        "import wattprint\n"
        "import wattprint.store, wattprint.store.records, wattprint.store.spool, wattprint.store.urls\n"
        "from wattprint.store import StoreError, resolve_store_url, RunRecord\n"
        "resolve_store_url('/tmp/x.sqlite')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('sqlalchemy', 'alembic', 'psycopg')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize("opener", ["open_store", "open_writer"])
def test_a_store_at_an_older_revision_is_migrated_and_keeps_its_runs(tmp_path: Path, opener: str) -> None:
    """A store written by the previous release (schema 0001) is brought to the head revision by either way in,
    its runs untouched, and the tables of the new revision are there to use."""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import create_engine, inspect

    from wattprint.store import open_writer, schema
    from wattprint.store.runstore import MIGRATIONS_DIR

    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    engine = create_engine(url)
    with engine.begin() as conn:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        config.attributes["connection"] = conn
        command.upgrade(config, REVISIONS[0])
    assert REVISIONS[0] != schema.HEAD_REVISION
    old = make_run("a" * 32, project="legacy", energy_j=1234.5)
    from wattprint.store.rows import save_rows

    run_row, *_ = save_rows(old)
    with engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO projects (name, created_at) VALUES ('legacy', 0)")
        run_row["project_id"] = conn.exec_driver_sql("SELECT project_id FROM projects").scalar()
        conn.execute(schema.runs.insert(), run_row)
    engine.dispose()

    opened = open_store(url) if opener == "open_store" else open_writer(url)
    try:
        opened.save(make_run("b" * 32, project="legacy"))
    finally:
        opened.close()
    with open_store(url) as store:
        assert store.run("a" * 32) == old
        assert store.run("b" * 32).project == "legacy"
        assert column_value(store, "SELECT version_num FROM alembic_version") == schema.HEAD_REVISION
        assert {"server_tokens", "server_settings", "sent_runs"} <= set(inspect(store._engine).get_table_names())


def test_rows_go_to_postgresql_as_json_that_refuses_non_finite_numbers() -> None:
    """The rows' JSON (pydantic-core's encoder where installed) reads back as the rows; a NaN or an infinity is
    refused as json refuses it, and a name that merely spells one is written as it is."""
    import json
    import math

    from wattprint.store.writing import rows_json

    rows = [{"run_id": "a" * 32, "energy_j": 0.1 + 0.2, "name": "NaN-Infinity run", "n": 3, "none": None}]
    assert json.loads(rows_json(rows)) == rows
    for bad in (math.nan, math.inf, -math.inf):
        with pytest.raises(ValueError, match="JSON compliant"):
            rows_json([{**rows[0], "energy_j": bad}])
