"""The save algorithm's :class:`~wattprint.store.writing.Database` on PostgreSQL: statements go straight to the
psycopg connection under SQLAlchemy's transaction, in pipeline mode.

A save is a dozen statements of which only two read something back; in pipeline mode the others are sent
without waiting for their answers, and the COMMIT goes with the last of them: a save costs four round trips
instead of a dozen, and no SQLAlchemy statement compilation. A failure surfaces at the next read or at
:meth:`PostgresDatabase.commit` as SQLAlchemy's ``DBAPIError``, as it would through SQLAlchemy, and the
transaction is rolled back whole.

Imported only for a PostgreSQL store (psycopg is the ``postgres`` extra).
"""

from __future__ import annotations

import contextlib
import functools
import re
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any

import psycopg
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

_NAMED = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


@functools.lru_cache(maxsize=256)
def driver_sql(sql: str) -> str:
    """``sql`` with ``:name`` parameters written as psycopg's ``%(name)s`` (and a literal ``%`` doubled)."""
    return _NAMED.sub(r"%(\1)s", sql.replace("%", "%%"))


class PostgresDatabase:
    """One open PostgreSQL transaction (a SQLAlchemy connection's) as a ``Database``, in pipeline mode."""

    dialect = "postgresql"
    __slots__ = ("_driver", "_pipeline", "_entered", "connection")

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self._driver: Any = connection.connection.driver_connection
        self._pipeline: AbstractContextManager[Any] | None = None
        self._entered: Any = None

    def _cursor(self) -> Any:
        if self._pipeline is None:
            self._pipeline = self._driver.pipeline()
            self._entered = self._pipeline.__enter__()
        return self._driver.cursor()

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
        try:
            cursor = self._cursor()
            cursor.execute(driver_sql(sql), params or {})
            self._entered.sync()
            return [tuple(row) for row in cursor.fetchall()]
        except psycopg.Error as error:
            raise _wrap(sql, params, error) from error

    def execute(self, sql: str, params: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> None:
        try:
            cursor = self._cursor()
            if isinstance(params, Mapping):
                cursor.execute(driver_sql(sql), params)
            else:
                cursor.executemany(driver_sql(sql), list(params))
        except psycopg.Error as error:
            raise _wrap(sql, params, error) from error

    def commit(self) -> None:
        """Commit with the statements still queued, in one round trip: the first that failed raises here and the
        transaction is rolled back (SQLAlchemy's own commit afterwards finds nothing left to do)."""
        pipeline, self._pipeline = self._pipeline, None
        if pipeline is not None:
            try:
                self._driver.commit()
                pipeline.__exit__(None, None, None)
            except psycopg.Error as error:
                with contextlib.suppress(Exception):
                    pipeline.__exit__(type(error), error, error.__traceback__)
                raise _wrap("(pipelined statements)", None, error) from error

    def abandon(self, error: BaseException) -> None:
        """Leave pipeline mode after ``error``; the transaction is rolled back next."""
        pipeline, self._pipeline = self._pipeline, None
        if pipeline is not None:
            with contextlib.suppress(Exception):  # the statements' own error is the one raised
                pipeline.__exit__(type(error), error, error.__traceback__)


def _wrap(sql: str, params: Any, error: Exception) -> BaseException:
    return DBAPIError.instance(sql, params, error, psycopg.Error)
