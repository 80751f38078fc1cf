"""The run store on SQLAlchemy Core: one schema for the embedded SQLite file and a team's PostgreSQL database.

Opening a store checks that it can be written and brings its schema to the newest migration (Alembic is imported
only when a migration is due). Every write is an upsert of absolute values in one transaction, so a retried
flush never duplicates anything, and it is monotonic: a run row is replaced only by one at least as new
(``updated_at``), so a stale spool file replayed late never rolls a finished run back. SQLite runs in WAL mode
with a busy timeout and takes its write lock at the start of a write transaction (``BEGIN IMMEDIATE``), so
several processes can write to one file at once.
"""

from __future__ import annotations

import functools
import json
import os
import re
import time
import weakref
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import fields
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event, select, text, update
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError

from wattprint.api.records import RunExtra
from wattprint.core.codec import from_dict
from wattprint.store import schema, sqlite
from wattprint.store.errors import StoreError
from wattprint.store.records import (
    STATUSES,
    ComponentRecord,
    IntervalRecord,
    RunRecord,
    TaskRecord,
    component_from_dict,
)
from wattprint.store.urls import mask_password, resolve_store_url
from wattprint.store.writing import RunWriter, revisions

TYPE_CHECKING = False
if TYPE_CHECKING:
    from wattprint.store.writing import Database

MIGRATIONS_DIR = Path(__file__).with_name("migrations")

REVISIONS = ("0001", "0002", "0003", "0004", "0005", "0006")
"""Every migration this version ships, oldest first (the last is ``schema.HEAD_REVISION``)."""

SQLITE_BUSY_TIMEOUT_S = sqlite.BUSY_TIMEOUT_S
"""How long a SQLite writer waits for another process's write to finish."""

PG_CONNECT_TIMEOUT_S = 5
STALE_AFTER_S = 15 * 60.0
"""A ``running`` run not flushed for this long has lost its writer (a job killed on another host)."""

_MIGRATION_LOCK_KEY = 0x7761747470726E74
"""PostgreSQL advisory lock that serialises schema migrations of concurrent openers ("wattprnt")."""

_HEX_PREFIX = re.compile(r"^[0-9a-f]{4,32}$")
_MIN_PREFIX = 4

_RUN_COLUMNS = tuple(c.name for c in schema.runs.columns)


def open_store(url: str | None = None, *, lock_timeout_s: float | None = None) -> RunStore:
    """Open the store at ``url`` (default: the per-user SQLite file), creating or migrating its schema.

    ``lock_timeout_s`` bounds every wait of this store's writes for a lock another process holds (SQLite's busy
    timeout; PostgreSQL's ``lock_timeout``, with a ``statement_timeout`` of twice that); None waits
    ``SQLITE_BUSY_TIMEOUT_S`` on SQLite and as long as it takes on PostgreSQL.

    Raises StoreError saying what failed (unwritable directory, bad URL, unreachable database, missing driver,
    a lock held past ``lock_timeout_s``) and how to fix it.
    """
    resolved = resolve_store_url(url)
    if resolved is None:
        raise StoreError(f"storing is turned off (store={url!r}); give a store URL or path to open one")
    engine = _create_engine(resolved, lock_timeout_s)
    display = _display_url(resolved)
    try:
        _prepare(engine, display, lock_timeout_s)
    except BaseException:
        engine.dispose()
        raise
    return RunStore(engine, display, lock_timeout_s=lock_timeout_s)


class RunStore(RunWriter):
    """Runs, their per-device totals, interval buckets and task windows in one database.

    Safe to share between threads; open a new one in a forked child (``open_store`` again).
    """

    url: str
    """The store's URL with any password masked, for display."""

    def __init__(self, engine: Engine, url: str, *, lock_timeout_s: float | None = None) -> None:
        self.url = url
        self._engine = engine
        self._lock_timeout_s = lock_timeout_s
        self._writer = engine.execution_options(wattprint_write=True)
        self._dialect = engine.dialect.name
        self._hostname = os.uname().nodename
        self._closed = False
        _open_stores.add(self)

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self._dialect

    # -- writing (``save`` and ``save_many`` are RunWriter's, the same for every store) -------------------------

    @contextmanager
    def _transaction(self, lock_timeout_s: float | None = None) -> Iterator[Database]:
        with self._write(lock_timeout_s) as conn:
            if self._dialect != "postgresql":
                yield AlchemyDatabase(conn)
                return
            from wattprint.store.postgres import PostgresDatabase

            db = PostgresDatabase(conn)
            try:
                yield db
            except BaseException as error:
                db.abandon(error)
                raise
            db.commit()

    @contextmanager
    def _write(self, lock_timeout_s: float | None = None) -> Iterator[Connection]:
        self._check_open()
        timeout_s = self._lock_timeout_s if lock_timeout_s is None else lock_timeout_s
        writer = self._writer
        if timeout_s is not None and self._dialect == "sqlite":
            writer = writer.execution_options(wattprint_busy_s=timeout_s)
        try:
            with writer.begin() as conn:
                if timeout_s is not None and self._dialect == "postgresql":
                    _pg_timeouts(conn, timeout_s)
                yield conn
        except DBAPIError as error:
            raise StoreError(f"cannot write to the store {self.url}: {_reason(error)}") from error

    # -- reading -------------------------------------------------------------------------------------------------

    def runs(self, project: str | None = None, limit: int | None = 20, status: str | None = None) -> list[RunRecord]:
        """Runs, newest first; ``running`` runs whose writer is gone are reported (and stored) as ``killed``."""
        if status is not None and status not in STATUSES:
            raise ValueError(f"status={status!r} is not valid; allowed values: {', '.join(STATUSES)}")
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
            raise ValueError(f"limit must be a non-negative integer or None, got {limit!r}")
        self._reap()
        query = _run_select()
        if project is not None:
            query = query.where(schema.projects.c.name == project)
        if status is not None:
            query = query.where(schema.runs.c.status == status)
        query = query.order_by(schema.runs.c.started_at.desc(), schema.runs.c.run_id.desc())
        if limit is not None:
            query = query.limit(limit)
        with self._read() as conn:
            return [_run_from_row(row._mapping) for row in conn.execute(query)]

    def run(self, ref: str) -> RunRecord:
        """A run by id, by a unique prefix of at least 4 hex digits, or ``last`` (the newest run).

        Raises LookupError saying that no run matches, or which runs an ambiguous prefix matches.
        """
        run_id = self._resolve(ref)
        self._reap([run_id])
        with self._read() as conn:
            row = conn.execute(_run_select().where(schema.runs.c.run_id == run_id)).first()
        if row is None:  # deleted between the two queries
            raise LookupError(f"no run {run_id} in the store {self.url}")
        return _run_from_row(row._mapping)

    def _resolve(self, ref: str) -> str:
        if not isinstance(ref, str):
            raise LookupError(f"{ref!r} is not a run reference: give a run id, a prefix of one, or 'last'")
        key = ref.strip().lower()
        runs = schema.runs
        if key == "last":
            with self._read() as conn:
                found = conn.execute(
                    select(runs.c.run_id).order_by(runs.c.started_at.desc(), runs.c.run_id.desc()).limit(1)
                ).scalar()
            if found is None:
                raise LookupError(f"the store {self.url} has no runs yet")
            return str(found)
        if not _HEX_PREFIX.match(key):
            raise LookupError(
                f"{ref!r} is not a run reference: give a run id (32 hex digits), a unique prefix of at least "
                f"{_MIN_PREFIX} hex digits, or 'last'"
            )
        with self._read() as conn:
            if len(key) == 32:
                matches = list(conn.execute(select(runs.c.run_id).where(runs.c.run_id == key)).scalars())
            else:
                # a range on the primary key uses its index (LIKE would not, in either database)
                query = (
                    select(runs.c.run_id)
                    .where(runs.c.run_id >= key, runs.c.run_id < key + "g", runs.c.run_id.like(key + "%"))
                    .order_by(runs.c.run_id)
                )
                matches = list(conn.execute(query).scalars())
        if not matches:
            raise LookupError(f"no run matches {ref!r} in the store {self.url}")
        if len(matches) > 1:
            shown = ", ".join(m[: max(len(key) + 4, 12)] + "..." for m in matches[:5])
            more = f" and {len(matches) - 5} more" if len(matches) > 5 else ""
            raise LookupError(f"prefix {key} matches {len(matches)} runs: {shown}{more}; give more digits")
        return str(matches[0])

    def components(self, run_id: str) -> list[ComponentRecord]:
        """The run's per-device totals, in the order they were saved."""
        table = schema.run_components
        query = select(table).where(table.c.run_id == run_id).order_by(table.c.position)
        with self._read() as conn:
            return [_record(ComponentRecord, row) for row in conn.execute(query)]

    def intervals(self, run_id: str) -> list[IntervalRecord]:
        """The run's interval buckets, ordered by bucket and device."""
        table = schema.intervals
        query = select(table).where(table.c.run_id == run_id).order_by(table.c.bucket, table.c.device)
        with self._read() as conn:
            return [_record(IntervalRecord, row) for row in conn.execute(query)]

    def tasks(self, run_id: str) -> list[TaskRecord]:
        """The run's task windows, in the order they ended."""
        table = schema.tasks
        query = select(table).where(table.c.run_id == run_id).order_by(table.c.seq)
        with self._read() as conn:
            return [
                TaskRecord(
                    seq=row.seq,
                    name=row.name,
                    started_at=row.started_at,
                    duration_s=row.duration_s,
                    energy_j=row.energy_j,
                    uncertainty_rel=row.uncertainty_rel,
                    method=row.method,
                    components=tuple(component_from_dict(c) for c in json.loads(row.components)),
                )
                for row in conn.execute(query)
            ]

    def projects(self) -> list[str]:
        """Names of every project in the store, sorted."""
        table = schema.projects
        with self._read() as conn:
            return [str(name) for name in conn.execute(select(table.c.name).order_by(table.c.name)).scalars()]

    def close(self) -> None:
        """Release the store's connections; the store cannot be used afterwards."""
        self._closed = True
        self._engine.dispose()
        _open_stores.discard(self)

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        self._check_open()
        try:
            with self._engine.connect() as conn:
                yield conn
        except DBAPIError as error:
            raise StoreError(f"cannot read the store {self.url}: {_reason(error)}") from error

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError(f"the store {self.url} was closed; open it again with open_store()")

    # -- killed runs ---------------------------------------------------------------------------------------------

    def _reap(self, run_ids: Iterable[str] | None = None) -> list[str]:
        """Mark ``running`` runs whose writer is gone as ``killed``; returns their ids."""
        runs = schema.runs
        query = select(runs.c.run_id, runs.c.hostname, runs.c.pid, runs.c.updated_at).where(
            runs.c.status == "running"
        )
        if run_ids is not None:
            query = query.where(runs.c.run_id.in_(list(run_ids)))
        with self._read() as conn:
            candidates = conn.execute(query).all()
        now = time.time()
        gone = [row for row in candidates if self._writer_gone(row.hostname, row.pid, row.updated_at, now)]
        if not gone:
            return []
        with self._write() as conn:
            for row in gone:
                # only if no flush came in since we looked: a live writer's update wins
                conn.execute(
                    update(runs)
                    .where(runs.c.run_id == row.run_id, runs.c.status == "running", runs.c.updated_at == row.updated_at)
                    .values(status="killed")
                )
        return [row.run_id for row in gone]

    def _writer_gone(self, hostname: str, pid: int, updated_at: float, now: float) -> bool:
        if now - updated_at > STALE_AFTER_S:
            return True
        if hostname != self._hostname or pid <= 0:
            return False
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        except OSError:  # PermissionError: alive, owned by someone else
            return False
        return False


class AlchemyDatabase:
    """A SQLAlchemy connection as the save algorithm's :class:`~wattprint.store.writing.Database`."""

    __slots__ = ("connection", "dialect")

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.dialect = connection.dialect.name

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in self.connection.execute(_text(sql), params or {})]

    def execute(self, sql: str, params: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> None:
        self.connection.execute(_text(sql), params if isinstance(params, Mapping) else list(params))


@functools.lru_cache(maxsize=64)
def _text(sql: str) -> Any:
    return text(sql)


# -- rows ------------------------------------------------------------------------------------------------------


R = TypeVar("R", ComponentRecord, IntervalRecord)


def _record(cls: type[R], row: Any) -> R:
    """A record whose fields are columns of the same names in ``row``."""
    mapping = row._mapping
    return cls(**{f.name: mapping[f.name] for f in fields(cls)})


def _run_select() -> Any:
    runs, projects = schema.runs, schema.projects
    return select(runs, projects.c.name.label("project_name")).select_from(
        runs.outerjoin(projects, runs.c.project_id == projects.c.project_id)
    )


def _run_from_row(row: Any) -> RunRecord:
    values = {name: row[name] for name in _RUN_COLUMNS if name != "project_id"}
    values["hardware"] = tuple(dict(item) for item in json.loads(values["hardware"]))
    values["notes"] = tuple(json.loads(values["notes"]))
    values["extra"] = None if values["extra"] is None else from_dict(RunExtra, json.loads(values["extra"]),
                                                                       lenient=True)
    return RunRecord(project=row["project_name"], **values)


# -- opening ---------------------------------------------------------------------------------------------------


def _display_url(url: str) -> str:
    if url.startswith("sqlite:///"):
        return url
    return mask_password(url)


def _pg_timeouts(conn: Connection, timeout_s: float) -> None:
    """Bound this transaction's waits: for a lock (``LOCK TABLE`` by another session), and for any statement."""
    ms = max(1, int(timeout_s * 1000))
    conn.exec_driver_sql(f"SET LOCAL lock_timeout = {ms}")
    conn.exec_driver_sql(f"SET LOCAL statement_timeout = {2 * ms}")


def _create_engine(url: str, lock_timeout_s: float | None = None) -> Engine:
    if url.startswith("sqlite"):
        return _sqlite_engine(url, SQLITE_BUSY_TIMEOUT_S if lock_timeout_s is None else lock_timeout_s)
    return _postgres_engine(url)


def _sqlite_engine(url: str, busy_timeout_s: float = SQLITE_BUSY_TIMEOUT_S) -> Engine:
    database = url[len("sqlite:///"):]
    memory = database in ("", ":memory:")
    if not memory:
        _check_sqlite_path(database)
        _create_private(database)
    options: dict[str, Any] = {"connect_args": {"timeout": busy_timeout_s, "check_same_thread": False}}
    if memory:
        from sqlalchemy.pool import StaticPool

        options["poolclass"] = StaticPool
    try:
        engine = create_engine(url, **options)
    except ArgumentError as error:
        raise StoreError(f"store URL {url!r} is not valid: {error}") from error

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, record: Any) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself (below)
        sqlite.configure(dbapi_connection, busy_timeout_s, wal=not memory)

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # a writer takes the write lock up front, so it waits (busy timeout) instead of failing mid-transaction
        options = conn.get_execution_options()
        # every transaction sets its own wait, so a bounded one never leaks into the next use of the connection
        conn.exec_driver_sql(sqlite.busy_timeout_pragma(options.get("wattprint_busy_s", busy_timeout_s)))
        conn.exec_driver_sql("BEGIN IMMEDIATE" if options.get("wattprint_write") else "BEGIN")

    return engine


def _create_private(database: str) -> None:
    """Create a new store file readable by its owner only, wherever it is: runs name hosts, users and commands.
    (SQLite gives its journal files the database file's permissions.)"""
    path = os.path.abspath(database)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    except OSError:
        return  # _check_sqlite_path has explained what can be; SQLite reports the rest at open
    os.close(fd)  # an empty file is an empty SQLite database


def _check_sqlite_path(database: str) -> None:
    """Fail now, with the fix, when the file cannot be written (SQLite would only fail at the first write)."""
    path = os.path.abspath(database)
    directory = os.path.dirname(path)
    hint = "make it writable, or set WATTPRINT_STORE to a writable path (or to 'off' to store nothing)"
    try:
        os.makedirs(directory, mode=0o700, exist_ok=True)  # a new directory is private: runs name hosts and users
    except OSError as error:
        raise StoreError(f"cannot create the store directory {directory}: {error.strerror or error}; {hint}") from error
    if not os.path.isdir(directory):
        raise StoreError(f"the store directory {directory} is not a directory; {hint}")
    if os.path.isdir(path):
        raise StoreError(f"the store path {path} is a directory; give a file path such as {path}/runs.sqlite")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise StoreError(
            f"the store directory {directory} is not writable (SQLite keeps its journal files next to the "
            f"database); {hint}"
        )
    if os.path.exists(path) and not os.access(path, os.R_OK | os.W_OK):
        raise StoreError(f"the store file {path} is read-only; {hint}")


def _postgres_engine(url: str) -> Engine:
    display = mask_password(url)
    try:
        parsed = make_url(url)
    except ArgumentError as error:
        raise StoreError(f"store URL {display!r} is not valid: {error}") from error
    connect_args: dict[str, Any] = {}
    if "connect_timeout" not in parsed.query:
        connect_args["connect_timeout"] = PG_CONNECT_TIMEOUT_S
    try:
        return create_engine(parsed, connect_args=connect_args, pool_pre_ping=True, pool_size=10, max_overflow=10)
    except ImportError as error:
        raise StoreError(
            f"the PostgreSQL store {display} needs the psycopg driver, which is not installed ({error}); "
            'install it with: pip install "wattprint[postgres]"'
        ) from error
    except (ArgumentError, ValueError, TypeError) as error:
        raise StoreError(f"store URL {display!r} is not valid: {error}") from error


def _prepare(engine: Engine, display: str, lock_timeout_s: float | None = None) -> None:
    """Check the store can be written and bring its schema to the newest revision (one transaction)."""
    dialect = engine.dialect.name
    try:
        with engine.execution_options(wattprint_write=True).begin() as conn:
            if dialect == "postgresql" and lock_timeout_s is not None:
                _pg_timeouts(conn, lock_timeout_s)
            if dialect == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY})
            current = _current_revisions(conn)
            if current == [schema.HEAD_REVISION]:
                return
            unknown = [r for r in current if r not in REVISIONS]
            if unknown:
                from wattprint._version import __version__

                raise StoreError(
                    f"the store {display} has schema revision {', '.join(unknown)}, which wattprint {__version__} "
                    "does not know: a newer wattprint wrote it. Upgrade wattprint (pip install -U wattprint), "
                    "or point WATTPRINT_STORE at another store"
                )
            if not current:
                _check_no_foreign_tables(conn, display)
            _migrate(conn)
    except StoreError:
        raise
    except DBAPIError as error:
        raise StoreError(_open_failure(dialect, display, error, lock_timeout_s)) from error
    except SQLAlchemyError as error:
        raise StoreError(f"cannot prepare the store {display}: {error}") from error


def _current_revisions(conn: Connection) -> list[str]:
    return revisions(AlchemyDatabase(conn), conn.dialect.name)


def _check_no_foreign_tables(conn: Connection, display: str) -> None:
    from sqlalchemy import inspect

    existing = set(inspect(conn).get_table_names()) & set(schema.metadata.tables)
    if existing:
        raise StoreError(
            f"the database {display} already has table(s) {', '.join(sorted(existing))} that wattprint did not "
            "create; point WATTPRINT_STORE at an empty database or an existing wattprint store"
        )


def _migrate(conn: Connection) -> None:
    """Run the Alembic migrations up to head on ``conn`` (inside its transaction)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    config.attributes["connection"] = conn
    command.upgrade(config, "head")


def _reason(error: BaseException) -> str:
    original = getattr(error, "orig", None) or error
    lines = [line.strip() for line in str(original).strip().splitlines() if line.strip()]
    return "; ".join(lines[:3]) if lines else type(original).__name__


def _open_failure(dialect: str, display: str, error: DBAPIError, lock_timeout_s: float | None = None) -> str:
    reason = _reason(error)
    if dialect == "sqlite":
        lowered = reason.lower()
        if "readonly" in lowered or "read-only" in lowered:
            return (
                f"the SQLite store {display} is read-only ({reason}); make the file and its directory writable, or "
                "set WATTPRINT_STORE to a writable path (or to 'off' to store nothing)"
            )
        if sqlite.is_locked(error):
            return sqlite.locked_message(display, lock_timeout_s, reason)
        if "not a database" in lowered:
            return f"{display} is not a SQLite database ({reason}); move it away, or set WATTPRINT_STORE to a new path"
        return (
            f"cannot open the SQLite store {display} ({reason}); check that the file and its directory exist and "
            "are writable, or set WATTPRINT_STORE to another path"
        )
    return (
        f"cannot connect to the PostgreSQL store {display} ({reason}); check that the server is running and "
        "reachable and that the user, password and database in WATTPRINT_STORE are right"
    )


# -- forked children -------------------------------------------------------------------------------------------

_open_stores: weakref.WeakSet[RunStore] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    """A forked child must not use its parent's connections: drop them without closing them."""
    for store in list(_open_stores):
        store._engine.dispose(close=False)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
