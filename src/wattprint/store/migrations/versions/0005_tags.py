"""Run tags, for filtering on a team server, and an index for project totals (issue 15).

A run's tags are in its ``extra`` JSON (``RunExtra.tags``, the wire format's); this table holds them again, one row
per (run, tag), so that runs with a tag are found through an index. Every save replaces a run's rows with the tags
of the state it stores (``wattprint.store.writing``); tags already in stored runs are copied in here.

``ix_runs_project_totals`` holds every column a project's totals and daily summary read, so they are summed from
the index alone (``wattprint.store.queries``), not from the table's wide rows.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

BACKFILL = {
    "sqlite": "INSERT OR IGNORE INTO run_tags (run_id, tag) SELECT runs.run_id, tags.value FROM runs, "
              "json_each(runs.extra, '$.tags') AS tags WHERE runs.extra IS NOT NULL AND json_valid(runs.extra) "
              "AND json_type(runs.extra, '$.tags') = 'array'",
    "postgresql": "INSERT INTO run_tags (run_id, tag) SELECT DISTINCT run_id, jsonb_array_elements_text("
                  "extra::jsonb -> 'tags') FROM runs WHERE extra IS NOT NULL AND "
                  "jsonb_typeof(extra::jsonb -> 'tags') = 'array' ON CONFLICT DO NOTHING",
}


def upgrade() -> None:
    op.create_table(
        "run_tags",
        sa.Column("run_id", sa.String(32), sa.ForeignKey("runs.run_id", ondelete="CASCADE", name="fk_run_tags_run"),
                  nullable=False),
        sa.Column("tag", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("run_id", "tag", name="pk_run_tags"),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_run_tags_tag", "run_tags", ["tag", "run_id"])
    op.create_index("ix_runs_project_totals", "runs",
                    ["project_id", "started_at", "energy_j", "duration_s", "emissions_g"])
    backfill = BACKFILL.get(op.get_bind().dialect.name)
    if backfill is not None:
        op.execute(backfill)


def downgrade() -> None:
    op.drop_index("ix_runs_project_totals", table_name="runs")
    op.drop_index("ix_run_tags_tag", table_name="run_tags")
    op.drop_table("run_tags")
