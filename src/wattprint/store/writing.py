"""Saving runs, written once for every store: the statements and the save algorithm (stdlib only).

``RunStore`` (SQLite or PostgreSQL, through SQLAlchemy) and ``SqliteWriter`` (SQLite through ``sqlite3``, the
recorder's fast way in) both inherit :class:`RunWriter`; each gives only a transaction on its own connection
(a :class:`Database`). The statements are generated from the rows' columns and keys (:mod:`wattprint.store.rows`)
in the SQL both databases accept (``INSERT ... ON CONFLICT (...) DO UPDATE SET ... WHERE ...``, SQLite 3.35 or
newer), so the two ways cannot disagree on a column, a key or the rule that an older state never rolls a run back.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Iterable, Mapping, Sequence

from wattprint.store.records import ComponentRecord, IntervalRecord, RunRecord, TaskRecord
from wattprint.store.requests import REQUEST_COLUMNS, REQUEST_KEY, RequestIntervalRecord, request_rows
from wattprint.store.requests import TABLE as REQUEST_TABLE
from wattprint.store.rows import (
    COMPONENT_COLUMNS,
    INTERVAL_COLUMNS,
    INTERVAL_KEY,
    RUN_COLUMNS,
    RUN_KEY,
    TAG_COLUMNS,
    TAG_KEY,
    TASK_COLUMNS,
    TASK_KEY,
    replaces,
    save_rows,
    tag_rows,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from contextlib import AbstractContextManager
    from typing import Any, Protocol, TypeVar

    W = TypeVar("W", bound="RunWriter")
    Row = dict[str, Any]
    Params = Mapping[str, Any]

    class Database(Protocol):
        """One open transaction of a store, whatever the driver: statements use ``:name`` parameters."""

        dialect: str
        """``sqlite`` or ``postgresql``."""

        def query(self, sql: str, params: Params | None = None) -> list[tuple[Any, ...]]:
            """The rows a statement returns."""
            ...

        def execute(self, sql: str, params: Params | Sequence[Params]) -> None:
            """Run a statement once, or once per mapping of a (non-empty) sequence of them."""
            ...


Item = tuple[RunRecord, Sequence[ComponentRecord], Sequence[IntervalRecord], Sequence[TaskRecord]]
"""One run's records, as ``save`` takes them."""
RequestItem = tuple[RunRecord, Sequence[ComponentRecord], Sequence[IntervalRecord], Sequence[TaskRecord],
                    Sequence[RequestIntervalRecord]]
"""One run's records with its requests summed per time bucket and endpoint (``store.requests``)."""

BATCH_SIZE = 500
"""Runs ``save_many`` writes per transaction, unless told otherwise."""


# -- the statements ----------------------------------------------------------------------------------------------


def _names(columns: Iterable[str]) -> str:
    return ", ".join(f'"{c}"' for c in columns)


_MULTI: dict[str, tuple[str, tuple[str, ...], str]] = {}
"""Each row statement made here -> (its INSERT head, its columns, its ON CONFLICT tail): how to write it for many
rows at once (:func:`execute_rows`)."""


def _statement(table: str, columns: Sequence[str], tail: str = "") -> str:
    head = f'INSERT INTO "{table}" ({_names(columns)}) VALUES '
    sql = head + f"({', '.join(f':{c}' for c in columns)})" + tail
    _MULTI[sql] = (head, tuple(columns), tail)
    return sql


def insert(table: str, columns: Sequence[str]) -> str:
    return _statement(table, columns)


def upsert(table: str, columns: Sequence[str], keys: Sequence[str], *, where: str = "") -> str:
    """Insert a row, or replace every other column of the stored row with the same ``keys`` (where ``where``)."""
    changes = ", ".join(f'"{c}" = excluded."{c}"' for c in columns if c not in keys)
    guard = f" WHERE {where}" if where else ""
    return _statement(table, columns, f" ON CONFLICT ({_names(keys)}) DO UPDATE SET {changes}{guard}")


def fill(table: str, columns: Sequence[str], keys: Sequence[str]) -> str:
    """Insert a row unless one with the same ``keys`` is stored; leave that one as it is."""
    return _statement(table, columns, f" ON CONFLICT ({_names(keys)}) DO NOTHING")


@functools.lru_cache(maxsize=64)
def _json_rows_sql(statement: str) -> str:
    """``statement`` (one made by :func:`insert`, :func:`upsert` or :func:`fill`) for PostgreSQL, taking every row
    at once as one JSON array of objects, read into the table's own row type (``json_populate_recordset``)."""
    head, columns, tail = _MULTI[statement]
    table = head.split('"')[1]
    return (f"{head.replace(' VALUES ', ' ')}SELECT {_names(columns)} FROM "
            f'json_populate_recordset(NULL::"{table}", CAST(:rows AS json)){tail}')


def execute_rows(db: Database, statement: str, rows: Sequence[Params]) -> None:
    """Run an insert ``statement`` for every row of ``rows``. PostgreSQL gets them in one statement, as one JSON
    parameter (one execution instead of one per row: the same rows, a fraction of the server's and the driver's
    work; Python's shortest float text reads back as the same double); SQLite runs the statement per row in its
    own loop (``executemany``), which is as fast. Rows must not repeat a conflict key (ON CONFLICT updates a row
    once)."""
    if not rows:
        return
    if db.dialect == "postgresql":
        _, columns, _ = _MULTI[statement]
        if rows[0].keys() - set(columns):  # keys that are no column: left out (they need not be JSON values)
            rows = [{c: row[c] for c in columns} for row in rows]
        db.execute(_json_rows_sql(statement), {"rows": rows_json(rows)})
    else:
        db.execute(statement, rows)


def _standard_json(rows: Sequence[Params]) -> str:
    return json.dumps(rows, separators=(",", ":"), allow_nan=False)


@functools.cache
def _fast_json() -> Callable[..., bytes] | None:
    """pydantic-core's encoder, looked for once (a missing module is not cached by Python: importing it again at
    every save would search the path again); None where it is not installed."""
    try:
        from pydantic_core import to_json
    except ImportError:
        return None
    return to_json


def rows_json(rows: Sequence[Params]) -> str:
    """Rows as one JSON array of objects, NaN and infinities refused. pydantic-core's encoder where it is installed
    (the server's extra brings it): it writes floats, most of an interval row, four times faster than ``json``."""
    fast = _fast_json()
    if fast is None:
        return _standard_json(rows)
    text = fast(rows, inf_nan_mode="constants").decode()
    if "NaN" in text or "Infinity" in text:  # cheap to look for; only a bad row (or a name holding it) has them
        return _standard_json(rows)  # which refuses a non-finite number, or writes the same text
    return text


RUN_UPSERT = upsert("runs", RUN_COLUMNS, RUN_KEY, where='"runs"."updated_at" <= excluded."updated_at"')
"""The run row, unless the stored one is newer (``rows.replaces``, in SQL): an old spool file never rolls a run
back. PostgreSQL locks the row either way, so what :func:`_stored` reads next stays true until the commit."""
COMPONENT_DELETE = 'DELETE FROM "run_components" WHERE "run_id" = :run_id'
COMPONENT_INSERT = insert("run_components", COMPONENT_COLUMNS)
INTERVAL_UPSERT = upsert("intervals", INTERVAL_COLUMNS, INTERVAL_KEY)
INTERVAL_FILL = fill("intervals", INTERVAL_COLUMNS, INTERVAL_KEY)
TASK_UPSERT = upsert("tasks", TASK_COLUMNS, TASK_KEY)
TASK_FILL = fill("tasks", TASK_COLUMNS, TASK_KEY)
REQUEST_UPSERT = upsert(REQUEST_TABLE, REQUEST_COLUMNS, REQUEST_KEY)
REQUEST_FILL = fill(REQUEST_TABLE, REQUEST_COLUMNS, REQUEST_KEY)
TAG_DELETE = 'DELETE FROM "run_tags" WHERE "run_id" = :run_id'
TAG_INSERT = fill("run_tags", TAG_COLUMNS, TAG_KEY)
PROJECT_SELECT = 'SELECT "project_id" FROM "projects" WHERE "name" = :name'
PROJECT_INSERT = fill("projects", ("name", "created_at"), ("name",))
SELECT_REVISIONS = "SELECT version_num FROM alembic_version"


@functools.lru_cache(maxsize=64)
def _select_updated(count: int) -> str:
    marks = ", ".join(f":r{i}" for i in range(count))
    tagged = 'EXISTS (SELECT 1 FROM "run_tags" WHERE "run_tags"."run_id" = "runs"."run_id")'
    return f'SELECT "run_id", "updated_at", {tagged} FROM "runs" WHERE "run_id" IN ({marks})'


# -- the algorithm -----------------------------------------------------------------------------------------------

Prepared = tuple[RunRecord, "Row", list["Row"], list["Row"], list["Row"], list["Row"]]


def prepare(items: Iterable[Item | RequestItem]) -> list[Prepared]:
    """The rows of each run (checked), made before a transaction begins so that it stays short."""
    return [(item[0], *save_rows(*item[:4]), request_rows(item[0].run_id, item[4] if len(item) > 4 else ()))
            for item in items]


def _stored(db: Database, ids: Sequence[str], tagged: set[str] | None = None) -> dict[str, float]:
    """The stored ``updated_at`` of those of ``ids`` that are stored; ``tagged`` receives those with tag rows."""
    found = db.query(_select_updated(len(ids)), {f"r{i}": run_id for i, run_id in enumerate(ids)})
    if tagged is not None:
        tagged.update(str(run_id) for run_id, _, has_tags in found if has_tags)
    return {str(run_id): float(updated_at) for run_id, updated_at, _ in found}


def _project_id(db: Database, project: str | None, known: dict[str, int]) -> int | None:
    if project is None:
        return None
    if project not in known:
        found = db.query(PROJECT_SELECT, {"name": project})
        if not found:
            db.execute(PROJECT_INSERT, {"name": project, "created_at": time.time()})
            found = db.query(PROJECT_SELECT, {"name": project})
        known[project] = int(found[0][0])
    return known[project]


def write(db: Database, batch: Sequence[Prepared], projects: dict[str, int], *, report: bool = False,
          stored_out: dict[str, float] | None = None) -> list[str]:
    """Write runs of distinct ids in the transaction ``db``, by the rules of :meth:`RunWriter.save`; with
    ``report``, return the ids of those that were stored before; ``stored_out`` receives each run's stored
    ``updated_at`` after the write. A few statements per batch, not per run."""
    ids = [run.run_id for run, *_ in batch]
    before = _stored(db, ids) if report else {}
    for name in sorted({run.project for run, *_ in batch if run.project is not None}):
        _project_id(db, name, projects)  # new projects in the order of their names: two writers lock alike
    for run, run_row, *_ in batch:
        run_row["project_id"] = _project_id(db, run.project, projects)
    execute_rows(db, RUN_UPSERT, [run_row for _, run_row, *_ in batch])
    tagged: set[str] = set()
    stored = _stored(db, ids, tagged)  # each run's newest state: the one just given unless the store had a newer one
    if stored_out is not None:
        stored_out.update(stored)
    replaced: list[Row] = []
    rows: dict[str, list[Row]] = {name: [] for name in (COMPONENT_INSERT, INTERVAL_UPSERT, INTERVAL_FILL,
                                                         TASK_UPSERT, TASK_FILL, REQUEST_UPSERT, REQUEST_FILL)}
    for run, run_row, component_rows, interval_rows, task_rows, req_rows in batch:
        newer = replaces(stored.get(run.run_id), run_row["updated_at"])
        if newer and component_rows:  # an older state leaves the newer totals alone
            replaced.append({"run_id": run.run_id})
            rows[COMPONENT_INSERT] += component_rows
        # an older state only fills in buckets and tasks the store lacks
        rows[INTERVAL_UPSERT if newer else INTERVAL_FILL] += interval_rows
        rows[TASK_UPSERT if newer else TASK_FILL] += task_rows
        rows[REQUEST_UPSERT if newer else REQUEST_FILL] += req_rows
    if replaced:
        db.execute(COMPONENT_DELETE, replaced)
    _write_tags(db, [run for run, run_row, *_ in batch if replaces(stored.get(run.run_id), run_row["updated_at"])],
                tagged)
    for statement, values in rows.items():
        execute_rows(db, statement, values)
    return [run_id for run_id in ids if run_id in before]


def _write_tags(db: Database, runs: Sequence[RunRecord], tagged: set[str]) -> None:
    """Replace the ``run_tags`` rows of the runs whose state was just stored (a run without tags has none);
    ``tagged``: the runs that have tag rows now (no statement for an untagged run staying untagged)."""
    deleted = [{"run_id": run.run_id} for run in runs if run.run_id in tagged]
    if deleted:
        db.execute(TAG_DELETE, deleted)
    execute_rows(db, TAG_INSERT, [row for run in runs for row in tag_rows(run)])


def revisions(db: Database, dialect: str) -> list[str]:
    """The schema revisions a store is at (none for an empty database)."""
    from wattprint.store.sqlite import SELECT_REVISION_TABLE

    exists = SELECT_REVISION_TABLE if dialect == "sqlite" else "SELECT to_regclass('alembic_version')"
    found = db.query(exists)
    if not found or found[0][0] is None:
        return []
    return sorted(str(row[0]) for row in db.query(SELECT_REVISIONS))


class RunWriter:
    """``save`` and ``save_many``, the same for every store: a subclass gives the transaction they run in."""

    url: str
    """The store's URL (any password masked), for display."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.url!r})"

    def __enter__(self: W) -> W:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the store's connections; it cannot be used afterwards."""
        raise NotImplementedError

    def _transaction(self, lock_timeout_s: float | None = None) -> AbstractContextManager[Database]:
        """A write transaction, committed when the block ends (rolled back on an exception); database errors
        become StoreError. ``lock_timeout_s`` bounds the wait for another process's lock."""
        raise NotImplementedError

    def save(
        self,
        run: RunRecord,
        components: Sequence[ComponentRecord] = (),
        intervals: Sequence[IntervalRecord] = (),
        tasks: Sequence[TaskRecord] = (),
        *,
        lock_timeout_s: float | None = None,
        requests: Sequence[RequestIntervalRecord] = (),
    ) -> None:
        """Write a run in one transaction; saving the same records again changes nothing.

        The run row is upserted by ``run_id`` (its project created if new) unless the stored row is newer (a
        larger ``updated_at``): then the save only fills in intervals and tasks the store lacks, so an older
        state replayed late never replaces a newer one. Otherwise the run's component totals are replaced by
        ``components`` when any are given; intervals are upserted by (run_id, bucket, device) and tasks by
        (run_id, seq), the run's request sums (``requests``) by (run_id, bucket, endpoint). ``lock_timeout_s``
        bounds the wait for another process's lock (StoreError after).
        """
        batch = prepare([(run, components, intervals, tasks, requests)])
        with self._transaction(lock_timeout_s) as db:
            write(db, batch, {})

    def save_many(self, items: Iterable[Item | RequestItem], *, batch_size: int = BATCH_SIZE) -> list[str]:
        """Write many runs, ``batch_size`` per transaction, by the rules of :meth:`save`; return the ids of those
        that were already stored. For imports: a few statements per batch instead of several per run."""
        already: list[str] = []
        projects: dict[str, int] = {}
        batch: list[Item | RequestItem] = []
        ids: set[str] = set()
        for item in items:
            if len(batch) >= batch_size or item[0].run_id in ids:  # a run saved twice: the second in a later batch
                already += self._save_batch(batch, projects)
                batch, ids = [], set()
            batch.append(item)
            ids.add(item[0].run_id)
        if batch:
            already += self._save_batch(batch, projects)
        return already

    def _save_batch(self, items: list[Item | RequestItem], projects: dict[str, int]) -> list[str]:
        batch = prepare(items)
        with self._transaction() as db:
            return write(db, batch, projects, report=True)
