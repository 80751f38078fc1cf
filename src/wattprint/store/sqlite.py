"""A SQLite connection set up once for both ways into a SQLite store (stdlib only).

``RunStore``'s SQLAlchemy engine (its connect event) and the standard-library writer
(:mod:`wattprint.store.sqlite_writer`) both call :func:`configure`, wait for locks by :func:`while_locked`, and
say what a lock held too long means with :func:`locked_message`: the two cannot drift apart.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

TYPE_CHECKING = False
if TYPE_CHECKING:
    import sqlite3
    from collections.abc import Callable
    from typing import Any, TypeVar

    T = TypeVar("T")

BUSY_TIMEOUT_S = 30.0
"""How long a SQLite write waits for another process's write to finish (unless told otherwise)."""

RETRY_PAUSE_S = 0.05
"""The pause between two tries of a statement that SQLite refused at once because the database was locked."""

SELECT_REVISION_TABLE = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"


def busy_timeout_pragma(timeout_s: float) -> str:
    """The statement that makes this connection's writes wait ``timeout_s`` for another process's lock."""
    return f"PRAGMA busy_timeout = {int(timeout_s * 1000)}"


def configure(connection: Any, busy_timeout_s: float = BUSY_TIMEOUT_S, *, wal: bool = True) -> None:
    """Set up a new connection (a ``sqlite3`` connection or cursor): the busy timeout, WAL (readers never block
    the writer; not for an in-memory database), foreign keys, and ``synchronous = NORMAL`` (safe with WAL)."""
    connection.execute(busy_timeout_pragma(busy_timeout_s))
    if wal:  # another process creating the database may hold it briefly, and this pragma does not wait for it
        while_locked(lambda: connection.execute("PRAGMA journal_mode = WAL"), busy_timeout_s)
    connection.execute("PRAGMA foreign_keys = ON")
    connection.execute("PRAGMA synchronous = NORMAL")


def connect(path: str, busy_timeout_s: float = BUSY_TIMEOUT_S) -> sqlite3.Connection:
    """A configured connection to the SQLite file at ``path``, in autocommit mode (the writer begins its own
    transactions) and usable from any thread."""
    import sqlite3

    connection = sqlite3.connect(path, timeout=busy_timeout_s, isolation_level=None, check_same_thread=False)
    try:
        configure(connection, busy_timeout_s)
    except BaseException:
        connection.close()
        raise
    return connection


def is_locked(error: BaseException) -> bool:
    """Whether ``error`` says another process holds the database locked."""
    text = str(error).lower()
    return "locked" in text or "busy" in text


def while_locked(action: Callable[[], T], timeout_s: float) -> T:
    """``action()``, tried again while the database is locked, for at most ``timeout_s`` (then its error)."""
    import sqlite3

    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return action()
        except sqlite3.OperationalError as error:
            if not is_locked(error) or time.monotonic() > deadline:
                raise
            time.sleep(RETRY_PAUSE_S)


def locked_message(url: str, timeout_s: float | None, reason: object) -> str:
    """What a store that another process kept locked past the wait means, and how to find that process."""
    waited = "" if timeout_s is None else f" for {timeout_s:g} s"
    path = url[len("sqlite:///"):] if url.startswith("sqlite:///") else "<store file>"
    return (
        f"the SQLite store {url} stayed locked by another process{waited} ({reason}); wait for it to finish, or "
        f"find the process holding it with: fuser {path}"
    )


class SqliteDatabase:
    """A ``sqlite3`` connection as the save algorithm's :class:`~wattprint.store.writing.Database`."""

    __slots__ = ("connection",)
    dialect = "sqlite"

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
        return self.connection.execute(sql, params or {}).fetchall()

    def execute(self, sql: str, params: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> None:
        if isinstance(params, Mapping):
            self.connection.execute(sql, params)
        else:
            self.connection.executemany(sql, params)
