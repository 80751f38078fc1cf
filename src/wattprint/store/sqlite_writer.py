"""Saving runs into a SQLite store with the standard library alone: the recorder's way in.

Opening a store through SQLAlchemy costs every process that saves a run about 0.35 s of CPU and 15 MB of memory
(importing SQLAlchemy), at its first flush or, for a short script, at exit. A SQLite store that exists and is
already at the newest schema revision needs none of that: :func:`open_writer` writes it with ``sqlite3``. It is
not a second implementation: ``save`` and ``save_many`` are ``RunStore``'s own (:mod:`wattprint.store.writing`:
the same statements and algorithm), the connection is set up by the same code (:mod:`wattprint.store.sqlite`);
only the transaction is this module's. Anything else (a new file, an older schema, PostgreSQL, a URL with
options) goes through :func:`~wattprint.store.open_store`, which creates or migrates the schema and explains what
is wrong.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from wattprint.store import sqlite
from wattprint.store.errors import StoreError
from wattprint.store.rows import HEAD_REVISION, TABLES
from wattprint.store.sqlite import BUSY_TIMEOUT_S, SqliteDatabase, busy_timeout_pragma
from wattprint.store.urls import resolve_store_url
from wattprint.store.writing import RunWriter, revisions

TYPE_CHECKING = False
if TYPE_CHECKING:
    import sqlite3

    from wattprint.store.runstore import RunStore

__all__ = ["BUSY_TIMEOUT_S", "TABLES", "SqliteWriter", "open_writer"]


def open_writer(url: str | None = None, *, lock_timeout_s: float | None = None) -> SqliteWriter | RunStore:
    """A store to save runs into, opened as cheaply as it can be: a :class:`SqliteWriter` for an existing SQLite
    store at the newest schema revision, else :func:`~wattprint.store.open_store` (which may raise StoreError).

    Both have ``save(run, components, intervals, tasks, lock_timeout_s=None)``, ``save_many``, ``close()`` and
    ``url``. ``lock_timeout_s`` bounds every wait for a lock another process holds, opening included (a store
    locked for longer is a StoreError); None waits the usual busy timeout.
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
        connection = sqlite.connect(path, timeout_s)
    except sqlite3.Error as error:
        if sqlite.is_locked(error):
            raise StoreError(sqlite.locked_message(url, timeout_s, error)) from error
        return None
    try:
        ready = _at_head(connection)
    except sqlite3.Error as error:
        connection.close()
        if sqlite.is_locked(error):  # open_store would wait for the same lock again: say so now
            raise StoreError(sqlite.locked_message(url, timeout_s, error)) from error
        return None
    if not ready:
        connection.close()
        return None
    return SqliteWriter(url, path, connection, timeout_s)


def _at_head(connection: sqlite3.Connection) -> bool:
    """Whether the store is at the newest revision with every column the rows fill (in a write transaction, so
    a store that cannot be written is left to ``open_store`` to explain)."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        if revisions(SqliteDatabase(connection), "sqlite") != [HEAD_REVISION]:
            return False
        for table, columns in TABLES.items():
            have = {row[1] for row in connection.execute(f'PRAGMA table_info("{table}")')}
            if not set(columns) <= have:
                return False
        return True
    finally:
        connection.execute("COMMIT")


class SqliteWriter(RunWriter):
    """Writes runs into one SQLite store at the newest revision, exactly as ``RunStore.save`` does.

    Safe to share between threads; a forked child opens a connection of its own on its first save.
    """

    dialect = "sqlite"

    def __init__(self, url: str, path: str, connection: sqlite3.Connection,
                 busy_timeout_s: float = BUSY_TIMEOUT_S) -> None:
        self.url = url
        self._path = path
        self._connection = connection
        self._busy_timeout_s = busy_timeout_s
        self._busy_now_s = busy_timeout_s
        self._pid = os.getpid()
        self._lock = threading.Lock()
        self._closed = False

    @contextmanager
    def _transaction(self, lock_timeout_s: float | None = None) -> Iterator[SqliteDatabase]:
        import sqlite3

        busy_s = self._busy_timeout_s if lock_timeout_s is None else lock_timeout_s
        with self._lock:
            if self._closed:
                raise StoreError(f"the store {self.url} was closed; open it again with open_writer()")
            try:
                connection = self._connected()
                if busy_s != self._busy_now_s:
                    connection.execute(busy_timeout_pragma(busy_s))
                    self._busy_now_s = busy_s
                connection.execute("BEGIN IMMEDIATE")
                try:
                    yield SqliteDatabase(connection)
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
            self._connection = sqlite.connect(self._path, self._busy_timeout_s)
            self._busy_now_s = self._busy_timeout_s
            self._pid = os.getpid()
        return self._connection
