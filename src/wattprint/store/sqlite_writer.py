"""Saving runs into a SQLite store with the standard library alone: the recorder's way in.

Opening a store through SQLAlchemy costs every process that saves a run about 0.35 s of CPU and 15 MB of memory
(importing SQLAlchemy), at its first flush or, for a short script, at exit. A SQLite store that exists and is
already at the newest schema revision needs none of that: :func:`open_writer` writes it with ``sqlite3``, the
same rows (:mod:`wattprint.store.rows`), the same pragmas (WAL, busy timeout, foreign keys) and the same
transactions (``BEGIN IMMEDIATE``, monotonic upserts of absolute values) as ``RunStore.save``. Anything else (a new
file, an older schema, PostgreSQL, a URL with options) goes through :func:`~wattprint.store.open_store`, which
creates or migrates the schema and explains what is wrong.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Sequence

from wattprint.store.errors import StoreError
from wattprint.store.records import ComponentRecord, IntervalRecord, RunRecord, TaskRecord
from wattprint.store.rows import (
    COMPONENT_COLUMNS,
    HEAD_REVISION,
    INTERVAL_COLUMNS,
    INTERVAL_KEY,
    RUN_COLUMNS,
    RUN_KEY,
    TASK_COLUMNS,
    TASK_KEY,
    save_rows,
)
from wattprint.store.urls import resolve_store_url

TYPE_CHECKING = False
if TYPE_CHECKING:
    import sqlite3

    from wattprint.store.runstore import RunStore

__all__ = ["SqliteWriter", "open_writer"]

BUSY_TIMEOUT_S = 30.0
"""How long a write waits for another process's write (``runstore.SQLITE_BUSY_TIMEOUT_S``)."""

TABLES = {
    "runs": RUN_COLUMNS,
    "run_components": COMPONENT_COLUMNS,
    "intervals": INTERVAL_COLUMNS,
    "tasks": TASK_COLUMNS,
}


def open_writer(url: str | None = None, *, lock_timeout_s: float | None = None) -> SqliteWriter | RunStore:
    """A store to save runs into, opened as cheaply as it can be: a :class:`SqliteWriter` for an existing SQLite
    store at the newest schema revision, else :func:`~wattprint.store.open_store` (which may raise StoreError).

    Both have ``save(run, components, intervals, tasks, lock_timeout_s=None)``, ``close()`` and ``url``.
    ``lock_timeout_s`` bounds every wait for a lock another process holds, opening included (a store locked for
    longer is a StoreError); None waits the usual busy timeout.
    """
    resolved = resolve_store_url(url)
    writer = _open_sqlite(resolved, lock_timeout_s) if resolved is not None else None
    if writer is not None:
        return writer
    from wattprint.store.runstore import open_store

    return open_store(url, lock_timeout_s=lock_timeout_s)


def _open_sqlite(url: str, lock_timeout_s: float | None = None) -> SqliteWriter | None:
    """A writer for ``url`` if it is a plain SQLite file that exists, can be written and is at the newest revision."""
    if not url.startswith("sqlite:///"):
        return None
    database = url[len("sqlite:///"):]
    if database in ("", ":memory:") or "?" in database or database.startswith("file:"):
        return None
    path = os.path.abspath(database)
    if not (
        os.path.isfile(path)
        and os.access(path, os.R_OK | os.W_OK)
        and os.access(os.path.dirname(path), os.W_OK | os.X_OK)
    ):
        return None
    import sqlite3

    timeout_s = BUSY_TIMEOUT_S if lock_timeout_s is None else lock_timeout_s
    try:
        connection = _connect(path, timeout_s)
    except sqlite3.Error as error:
        if _locked(error):
            raise StoreError(_locked_message(url, timeout_s, error)) from error
        return None
    try:
        ready = _at_head(connection)
    except sqlite3.Error as error:
        connection.close()
        if _locked(error):  # open_store would wait for the same lock again: say so now
            raise StoreError(_locked_message(url, timeout_s, error)) from error
        return None
    if not ready:
        connection.close()
        return None
    return SqliteWriter(url, path, connection, timeout_s)


def _locked(error: Exception) -> bool:
    text = str(error).lower()
    return "locked" in text or "busy" in text


def _locked_message(url: str, timeout_s: float, error: Exception) -> str:
    return (
        f"the store {url} stayed locked by another process for {timeout_s:g} s ({error}); find the process "
        f"holding it with: fuser {url[len('sqlite:///'):]}"
    )


def _connect(path: str, timeout_s: float = BUSY_TIMEOUT_S) -> sqlite3.Connection:
    import sqlite3

    connection = sqlite3.connect(path, timeout=timeout_s, isolation_level=None, check_same_thread=False)
    try:
        connection.execute(f"PRAGMA busy_timeout = {int(timeout_s * 1000)}")
        deadline = time.monotonic() + timeout_s
        while True:  # another process creating the database may hold it briefly
            try:
                connection.execute("PRAGMA journal_mode = WAL")
                break
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        connection.execute("PRAGMA foreign_keys = ON")
        connection.execute("PRAGMA synchronous = NORMAL")
    except BaseException:
        connection.close()
        raise
    return connection


def _at_head(connection: sqlite3.Connection) -> bool:
    """Whether the store is at the newest revision with every column the rows fill (in a write transaction, so
    a store that cannot be written is left to ``open_store`` to explain)."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        found = connection.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
        ).fetchone()
        if not found:
            return False
        revisions = sorted(str(row[0]) for row in connection.execute("SELECT version_num FROM alembic_version"))
        if revisions != [HEAD_REVISION]:
            return False
        for table, columns in TABLES.items():
            have = {row[1] for row in connection.execute(f'PRAGMA table_info("{table}")')}
            if not set(columns) <= have:
                return False
        return True
    finally:
        connection.execute("COMMIT")


def _upsert(table: str, columns: tuple[str, ...], keys: tuple[str, ...], *, where: str = "",
            update: bool = True) -> str:
    names = ", ".join(f'"{c}"' for c in columns)
    values = ", ".join(f":{c}" for c in columns)
    conflict = ", ".join(f'"{k}"' for k in keys)
    insert = f'INSERT INTO "{table}" ({names}) VALUES ({values}) ON CONFLICT ({conflict})'
    if not update:
        return f"{insert} DO NOTHING"
    changes = ", ".join(f'"{c}" = excluded."{c}"' for c in columns if c not in keys)
    return f"{insert} DO UPDATE SET {changes}{f' WHERE {where}' if where else ''}"


_RUN_UPSERT = _upsert("runs", RUN_COLUMNS, RUN_KEY, where='"runs"."updated_at" <= excluded."updated_at"')
"""The run row, unless the stored one is newer (``rows.replaces``): an old spool file never rolls a run back."""
_INTERVAL_UPSERT = _upsert("intervals", INTERVAL_COLUMNS, INTERVAL_KEY)
_TASK_UPSERT = _upsert("tasks", TASK_COLUMNS, TASK_KEY)
_COMPONENT_INSERT = 'INSERT INTO "run_components" ({}) VALUES ({})'.format(
    ", ".join(f'"{c}"' for c in COMPONENT_COLUMNS), ", ".join(f":{c}" for c in COMPONENT_COLUMNS)
)
_INTERVAL_FILL = _upsert("intervals", INTERVAL_COLUMNS, INTERVAL_KEY, update=False)
_TASK_FILL = _upsert("tasks", TASK_COLUMNS, TASK_KEY, update=False)


class SqliteWriter:
    """Writes runs into one SQLite store at the newest revision, exactly as ``RunStore.save`` does.

    Safe to share between threads; a forked child opens a connection of its own on its first save.
    """

    dialect = "sqlite"

    def __init__(self, url: str, path: str, connection: sqlite3.Connection,
                 busy_timeout_s: float = BUSY_TIMEOUT_S) -> None:
        self.url = url
        """The store's URL, for display."""
        self._path = path
        self._connection = connection
        self._busy_timeout_s = busy_timeout_s
        self._busy_now_s = busy_timeout_s
        self._pid = os.getpid()
        self._lock = threading.Lock()
        self._closed = False

    def __repr__(self) -> str:
        return f"SqliteWriter({self.url!r})"

    def __enter__(self) -> SqliteWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def save(
        self,
        run: RunRecord,
        components: Sequence[ComponentRecord] = (),
        intervals: Sequence[IntervalRecord] = (),
        tasks: Sequence[TaskRecord] = (),
        *,
        lock_timeout_s: float | None = None,
    ) -> None:
        """Write a run in one transaction; saving the same records again changes nothing, and records older than
        the stored run change nothing either (see ``RunStore.save``). ``lock_timeout_s`` bounds the wait for
        another process's lock (default: the writer's busy timeout)."""
        import sqlite3

        run_row, component_rows, interval_rows, task_rows = save_rows(run, components, intervals, tasks)
        busy_s = self._busy_timeout_s if lock_timeout_s is None else lock_timeout_s
        with self._lock:
            if self._closed:
                raise StoreError(f"the store {self.url} was closed; open it again with open_writer()")
            try:
                connection = self._connected()
                if busy_s != self._busy_now_s:
                    connection.execute(f"PRAGMA busy_timeout = {int(busy_s * 1000)}")
                    self._busy_now_s = busy_s
                connection.execute("BEGIN IMMEDIATE")
                try:
                    run_row["project_id"] = _project_id(connection, run.project)
                    newer = connection.execute(_RUN_UPSERT, run_row).rowcount != 0
                    if component_rows and newer:  # an older state leaves the newer totals alone
                        connection.execute('DELETE FROM "run_components" WHERE "run_id" = ?', (run.run_id,))
                        connection.executemany(_COMPONENT_INSERT, component_rows)
                    # an older state only fills in buckets and tasks the store lacks
                    if interval_rows:
                        connection.executemany(_INTERVAL_UPSERT if newer else _INTERVAL_FILL, interval_rows)
                    if task_rows:
                        connection.executemany(_TASK_UPSERT if newer else _TASK_FILL, task_rows)
                except BaseException:
                    if connection.in_transaction:
                        connection.execute("ROLLBACK")
                    raise
                connection.execute("COMMIT")
            except sqlite3.Error as error:
                raise StoreError(f"cannot write to the store {self.url}: {error}") from error

    def close(self) -> None:
        """Release the connection; the writer cannot be used afterwards."""
        with self._lock:
            self._closed = True
            if self._pid == os.getpid():
                self._connection.close()

    def _connected(self) -> sqlite3.Connection:
        if self._pid != os.getpid():  # a forked child must not use its parent's connection (nor close it)
            self._connection = _connect(self._path, self._busy_timeout_s)
            self._busy_now_s = self._busy_timeout_s
            self._pid = os.getpid()
        return self._connection


def _project_id(connection: sqlite3.Connection, project: str | None) -> int | None:
    if project is None:
        return None
    query = 'SELECT "project_id" FROM "projects" WHERE "name" = ?'
    found = connection.execute(query, (project,)).fetchone()
    if found is None:
        connection.execute(
            'INSERT INTO "projects" ("name", "created_at") VALUES (?, ?) ON CONFLICT ("name") DO NOTHING',
            (project, time.time()),
        )
        found = connection.execute(query, (project,)).fetchone()
    return int(found[0])
