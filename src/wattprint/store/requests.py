"""A run's requests in the store: one row per (time bucket, endpoint) of ``RequestIntervalRecord`` (stdlib only).

Rows are written with their absolute sums, never increments, so a retried save duplicates nothing; the recorder
sends the rows that changed since its last flush. Histograms are JSON text (sparse ``[bin, count]`` pairs).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import fields

from wattprint.api.records import RequestIntervalRecord

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from wattprint.store.runstore import RunStore

TABLE = "request_intervals"
REQUEST_COLUMNS = ("run_id", *(f.name for f in fields(RequestIntervalRecord)))
"""Columns of the ``request_intervals`` table, in its order: the run's id and the record's fields."""
REQUEST_KEY = ("run_id", "bucket", "endpoint")
"""The unique key of a row (its upserts conflict on it)."""
_HISTOGRAMS = ("latency_hist", "energy_hist")
_NAMES = ", ".join(f'"{c}"' for c in REQUEST_COLUMNS)
SELECT = f'SELECT {_NAMES} FROM "{TABLE}" WHERE "run_id" = :run_id ORDER BY "bucket", "endpoint"'
"""A run's rows, time buckets in order (the steady-state rows, bucket -1, first)."""


def request_row(run_id: str, record: RequestIntervalRecord) -> dict[str, Any]:
    """The row of one record."""
    row: dict[str, Any] = {"run_id": run_id}
    for name in REQUEST_COLUMNS[1:]:
        value = getattr(record, name)
        row[name] = json.dumps([list(pair) for pair in value], separators=(",", ":")) if name in _HISTOGRAMS else value
    return row


def request_rows(run_id: str, records: Iterable[RequestIntervalRecord]) -> list[dict[str, Any]]:
    """One row per key, the last record given for a key winning."""
    return list({(r.bucket, r.endpoint): request_row(run_id, r) for r in records}.values())


def request_from_row(row: Sequence[Any], columns: Sequence[str] = REQUEST_COLUMNS) -> RequestIntervalRecord:
    """The record a stored row holds (``run_id`` dropped)."""
    values = dict(zip(columns, row, strict=True))
    values.pop("run_id", None)
    for name in _HISTOGRAMS:
        values[name] = tuple((int(b), int(c)) for b, c in json.loads(values[name] or "[]"))
    return RequestIntervalRecord(**values)


def read_request_intervals(store: RunStore, run_id: str) -> list[RequestIntervalRecord]:
    """A stored run's request rows, time buckets in order, the steady-state rows (bucket -1) first."""
    from sqlalchemy import text

    with store._read() as conn:
        return [request_from_row(tuple(row)) for row in conn.execute(text(SELECT), {"run_id": run_id})]
