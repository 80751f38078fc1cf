"""Run groups: distributed runs across ranks and nodes (issue 19).

A part's group lives in the run's ``extra`` JSON (``extra.group.group_id``, the wire format's ``RunExtra.group``);
this revision indexes that expression, so a group's parts are found without reading every run and no column is
added that every writer would have to fill (``wattprint.store.groups`` queries the same expression).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

GROUP_ID_SQL = {
    "sqlite": "json_extract(extra, '$.group.group_id')",
    "postgresql": "((extra::jsonb -> 'group') ->> 'group_id')",
}
"""The group id of a run's ``extra``, as each database indexes it; ``wattprint.store.groups`` keeps the same text."""


def upgrade() -> None:
    expression = GROUP_ID_SQL.get(op.get_bind().dialect.name)
    if expression is not None:
        op.execute(f"CREATE INDEX ix_runs_group_id ON runs (({expression}))")


def downgrade() -> None:
    if op.get_bind().dialect.name in GROUP_ID_SQL:
        op.execute("DROP INDEX ix_runs_group_id")
