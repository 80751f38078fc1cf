"""The recorder's SQLite writer (``open_writer``): the same rows as ``RunStore.save`` without importing SQLAlchemy,
on real SQLite files, and ``open_store`` wherever the fast path does not apply."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

pytest.register_assert_rewrite("pg")

from tests.fakes.pg import (  # noqa: E402
    check_idempotent,
    check_killed,
    check_round_trip,
    full_run,
    make_components,
    make_intervals,
    make_run,
    make_tasks,
    run_id,
)
from wattprint.store import (  # noqa: E402
    SqliteWriter,
    StoreError,
    open_store,
    open_writer,
    sqlite_writer,
)
from wattprint.store import rows as store_rows  # noqa: E402


class WrittenByWriter:
    """A RunStore whose saves go through a SqliteWriter: the shared store scenarios, written the fast way."""

    def __init__(self, path: Path) -> None:
        self.reader = open_store(str(path))
        self.writer = open_writer(str(path))
        assert isinstance(self.writer, SqliteWriter)

    def save(self, *args: object, **kwargs: object) -> None:
        self.writer.save(*args, **kwargs)  # type: ignore[arg-type]

    def __getattr__(self, name: str) -> object:
        return getattr(self.reader, name)

    def close(self) -> None:
        self.writer.close()
        self.reader.close()


@pytest.fixture
def written(tmp_path: Path):  # noqa: ANN201
    store = WrittenByWriter(tmp_path / "runs.sqlite")
    yield store
    store.close()


def test_the_rows_match_the_schema_and_its_revision() -> None:
    from wattprint.store import schema
    from wattprint.store.runstore import REVISIONS, SQLITE_BUSY_TIMEOUT_S

    tables = schema.metadata.tables
    assert tuple(c.name for c in tables["runs"].columns) == store_rows.RUN_COLUMNS
    for name, columns in sqlite_writer.TABLES.items():
        assert set(columns) == {c.name for c in tables[name].columns}, name
    assert schema.HEAD_REVISION == store_rows.HEAD_REVISION == REVISIONS[-1]
    assert sqlite_writer.BUSY_TIMEOUT_S == SQLITE_BUSY_TIMEOUT_S


@pytest.mark.parametrize("scenario", [check_round_trip, check_idempotent, check_killed])
def test_the_store_scenarios_hold_when_written_by_the_writer(written: WrittenByWriter, scenario) -> None:  # noqa: ANN001
    scenario(written)


def test_the_writer_and_runstore_write_identical_rows(tmp_path: Path) -> None:
    a, b = tmp_path / "a.sqlite", tmp_path / "b.sqlite"
    rid = run_id(7, 1)
    records = (full_run(rid), make_components(), make_intervals(3), make_tasks(2))
    second = make_run(run_id(7, 2), project="mnist")
    with open_store(str(a)) as store:
        store.save(*records)
        store.save(second)
    open_store(str(b)).close()
    with open_writer(str(b)) as writer:
        assert isinstance(writer, SqliteWriter)
        writer.save(*records)
        writer.save(second)

    def dump(path: Path) -> dict[str, list[tuple]]:
        with sqlite3.connect(path) as connection:
            tables = ("runs", "run_components", "intervals", "tasks")
            out = {t: sorted(connection.execute(f"SELECT * FROM {t}").fetchall(), key=repr) for t in tables}
            out["projects"] = connection.execute("SELECT project_id, name FROM projects ORDER BY name").fetchall()
            return out

    assert dump(a) == dump(b)


def test_a_store_that_is_missing_or_behind_is_opened_with_open_store(tmp_path: Path) -> None:
    from wattprint.store import RunStore

    new = tmp_path / "new" / "runs.sqlite"
    first = open_writer(str(new))  # nothing there yet: open_store creates the schema
    assert isinstance(first, RunStore)
    first.save(make_run(run_id(8, 1)))
    first.close()
    with open_writer(str(new)) as second:  # now it exists at the newest revision
        assert isinstance(second, SqliteWriter)
        second.save(make_run(run_id(8, 2)))
    with open_store(str(new)) as store:
        assert [r.run_id for r in store.runs()] == [run_id(8, 2), run_id(8, 1)]
    # a store whose revision this version does not know is left to open_store, which says so
    with sqlite3.connect(new) as connection:
        connection.execute("UPDATE alembic_version SET version_num = '9999'")
    with pytest.raises(StoreError, match="schema revision 9999"):
        open_writer(str(new))
    with pytest.raises(StoreError, match="storing is turned off"):
        open_writer("off")


def test_a_closed_writer_refuses_to_save(tmp_path: Path) -> None:
    path = tmp_path / "runs.sqlite"
    open_store(str(path)).close()
    writer = open_writer(str(path))
    writer.close()
    with pytest.raises(StoreError, match="was closed"):
        writer.save(make_run(run_id(9, 1)))
    with pytest.raises(ValueError, match="run_id must be 32 lowercase hex digits"):
        open_writer(str(path)).save(make_run("not-a-run-id"))


def writer_script(path: Path) -> str:
    """The start of a child process's script: the shared record builders and a writer opened on ``path``."""
    here = Path(__file__).resolve().parents[1] / "fakes"
    return (
        "import sys\n"
        f"sys.path.insert(0, {str(here)!r})\n"
        "from pg import make_run, make_components, make_intervals, make_tasks, run_id\n"
        "from wattprint.store import open_writer\n"
        f"writer = open_writer({str(path)!r})\n"
    )


def test_saving_through_the_writer_imports_neither_sqlalchemy_nor_alembic(tmp_path: Path) -> None:
    path = tmp_path / "runs.sqlite"
    open_store(str(path)).close()
    code = writer_script(path) + (
        "writer.save(make_run(run_id(10, 1)), make_components(), make_intervals(2), make_tasks(2))\n"
        "writer.close()\n"
        "print(type(writer).__name__, sorted(m for m in sys.modules if m.split('.')[0] in ('sqlalchemy', 'alembic')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split(maxsplit=1) == ["SqliteWriter", "[]\n"]
    with open_store(str(path)) as store:
        assert len(store.intervals(run_id(10, 1))) == 6


def test_writer_processes_at_once_and_a_forked_child(tmp_path: Path) -> None:
    path = tmp_path / "runs.sqlite"
    open_store(str(path)).close()
    code = writer_script(path) + (
        "worker = int(sys.argv[1])\n"
        "for index in range(15):\n"
        "    for flush in range(3):\n"
        "        writer.save(make_run(run_id(worker, index), project=f'team-{index % 3}'), make_components(),\n"
        "                    make_intervals(flush + 1))\n"
    )
    procs = [subprocess.Popen([sys.executable, "-c", code, str(w)], stderr=subprocess.PIPE, text=True)
             for w in range(4)]
    writer = open_writer(str(path))
    writer.save(make_run(run_id(20, 1)))
    pid = os.fork()
    if pid == 0:  # the child saves through the writer its parent opened: it must use a connection of its own
        status = 1
        try:
            writer.save(make_run(run_id(20, 2)))
            status = 0
        finally:
            os._exit(status)
    assert os.waitpid(pid, 0)[1] == 0
    writer.save(make_run(run_id(20, 3)))  # the parent's connection still works
    writer.close()
    for proc in procs:
        assert proc.wait(timeout=120) == 0, proc.stderr.read() if proc.stderr else ""
    with open_store(str(path)) as store:
        ids = {r.run_id for r in store.runs(limit=None)}
        assert len(ids) == 4 * 15 + 3 and run_id(20, 2) in ids
        assert store.projects() == ["mnist", "team-0", "team-1", "team-2"]
        assert len(store.intervals(run_id(3, 14))) == 9
