"""The run store: runs, their per-device totals, interval buckets and task windows, in SQLite or PostgreSQL.

>>> from wattprint.store import open_store
>>> store = open_store()            # the per-user SQLite file; WATTPRINT_STORE / store= pick another
>>> store.runs(limit=5)             # doctest: +SKIP

This package imports SQLAlchemy only when a store is opened (``open_store``, ``RunStore``), and the records (the
wire format's) on first use, so the tracker can use its URL helpers at start cheaply; ``open_writer`` saves runs
into an existing SQLite store without SQLAlchemy at all.
"""

from __future__ import annotations

from wattprint._lazy import lazy_exports
from wattprint.store.errors import StoreError
from wattprint.store.urls import default_store_url, resolve_store_url

TYPE_CHECKING = False
if TYPE_CHECKING:
    from wattprint.store.records import STATUSES, ComponentRecord, IntervalRecord, RunRecord, TaskRecord
    from wattprint.store.runstore import RunStore, open_store
    from wattprint.store.spool import default_spool_dir, replay_spool, spool_save
    from wattprint.store.sqlite_writer import SqliteWriter, open_writer

__all__ = [
    "open_store",
    "open_writer",
    "SqliteWriter",
    "default_store_url",
    "resolve_store_url",
    "RunStore",
    "StoreError",
    "RunRecord",
    "ComponentRecord",
    "IntervalRecord",
    "TaskRecord",
    "STATUSES",
    "spool_save",
    "replay_spool",
    "default_spool_dir",
]

_LAZY = {
    **{name: "wattprint.api.records" for name in ("STATUSES", "ComponentRecord", "IntervalRecord", "RunRecord",
                                                  "TaskRecord")},
    "open_store": "wattprint.store.runstore",
    "RunStore": "wattprint.store.runstore",
    "open_writer": "wattprint.store.sqlite_writer",
    "SqliteWriter": "wattprint.store.sqlite_writer",
    "spool_save": "wattprint.store.spool",
    "replay_spool": "wattprint.store.spool",
    "default_spool_dir": "wattprint.store.spool",
}


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__)
