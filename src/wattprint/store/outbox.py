"""The local store as the outbox of a team server: which state of each run each server has acknowledged.

A server is a *target* (its base URL). The ``sent_runs`` table (migration 0002) holds, per target and run, the
newest ``updated_at`` that target acknowledged; a run is *unsent* to a target when it has no mark there or the
stored run is newer than its mark. A run whose sending failed is marked :data:`QUEUED` (nothing acknowledged yet),
so the next tracked run's writer knows to send it; ``wattprint push`` sends every unsent run, marked or not.

Works on any store that saves runs (``RunStore`` through SQLAlchemy, or the recorder's ``SqliteWriter``), through
the same transaction they save in; the statements are the SQL both SQLite and PostgreSQL accept.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence

TYPE_CHECKING = False
if TYPE_CHECKING:
    from wattprint.store.writing import RunWriter

__all__ = ["QUEUED", "acknowledged", "mark_queued", "mark_sent", "unsent"]

QUEUED = 0.0
"""The mark of a run queued for a target that has acknowledged none of its states yet."""

_MARK = (
    'INSERT INTO "sent_runs" ("target", "run_id", "sent_updated_at", "sent_at") '
    'SELECT CAST(:target AS TEXT), "run_id", :sent_updated_at, :sent_at FROM "runs" WHERE "run_id" = :run_id '
    'ON CONFLICT ("target", "run_id") DO '
)
MARK_SENT = _MARK + (
    'UPDATE SET "sent_updated_at" = excluded."sent_updated_at", "sent_at" = excluded."sent_at" '
    'WHERE "sent_runs"."sent_updated_at" < excluded."sent_updated_at"'
)
"""A run's acknowledged state, unless a newer one is marked already (only for runs the store holds)."""
MARK_QUEUED = _MARK + "NOTHING"
"""A run queued for a target, unless it has a mark there already."""


def mark_sent(store: RunWriter, target: str, acks: Iterable[tuple[str, float]]) -> None:
    """Record that ``target`` holds each run's state up to ``updated_at`` (``acks``: run id, updated_at), in one
    transaction. A mark never goes back; a run the store does not hold is left out."""
    now = time.time()
    rows = [{"target": target, "run_id": run_id, "sent_updated_at": float(updated_at), "sent_at": now}
            for run_id, updated_at in acks]
    if rows:
        with store._transaction() as db:
            db.execute(MARK_SENT, rows)


def mark_queued(store: RunWriter, target: str, run_ids: Iterable[str]) -> None:
    """Record that runs are to be sent to ``target`` (those with a mark there already keep it)."""
    now = time.time()
    rows = [{"target": target, "run_id": run_id, "sent_updated_at": QUEUED, "sent_at": now} for run_id in run_ids]
    if rows:
        with store._transaction() as db:
            db.execute(MARK_QUEUED, rows)


def unsent(store: RunWriter, target: str, *, project: str | None = None, queued_only: bool = False,
           exclude: Sequence[str] = (), limit: int | None = None) -> list[tuple[str, float]]:
    """Runs (id, updated_at) whose stored state ``target`` has not acknowledged, oldest first: every such run, or
    with ``queued_only`` those marked for it (what a writer sends in the background); ``project`` keeps one
    project's runs, ``exclude`` leaves runs out (those a writer is sending already)."""
    sql = (
        'SELECT r."run_id", r."updated_at" FROM "runs" r '
        'LEFT JOIN "sent_runs" s ON s."run_id" = r."run_id" AND s."target" = :target '
        'LEFT JOIN "projects" p ON p."project_id" = r."project_id" '
        'WHERE (s."run_id" IS NULL OR s."sent_updated_at" < r."updated_at")'
    )
    params: dict[str, object] = {"target": target}
    if queued_only:
        sql += ' AND s."run_id" IS NOT NULL'
    if project is not None:
        sql += ' AND p."name" = :project'
        params["project"] = project
    if exclude:
        marks = ", ".join(f":x{i}" for i in range(len(exclude)))
        sql += f' AND r."run_id" NOT IN ({marks})'
        params.update({f"x{i}": run_id for i, run_id in enumerate(exclude)})
    sql += ' ORDER BY r."started_at", r."run_id"'
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    with store._transaction() as db:
        return [(str(run_id), float(updated_at)) for run_id, updated_at in db.query(sql, params)]


def acknowledged(store: RunWriter, target: str) -> dict[str, float]:
    """Each run's mark at ``target`` (:data:`QUEUED` for one queued without an acknowledged state)."""
    sql = 'SELECT "run_id", "sent_updated_at" FROM "sent_runs" WHERE "target" = :target'
    with store._transaction() as db:
        return {str(run_id): float(mark) for run_id, mark in db.query(sql, {"target": target})}
