"""The team server's tables and the client's outbox marks: API tokens, the server's own settings (the token hash
key), and which state of each run has been sent to which server.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "server_tokens",
        sa.Column("token_id", sa.String(32), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("scope", sa.String, nullable=False),
        sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.project_id", name="fk_server_tokens_project"),
                  nullable=True),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.Double, nullable=False),
        sa.Column("revoked_at", sa.Double),
        sa.Column("last_used_at", sa.Double),
        sa.CheckConstraint("scope IN ('ingest', 'read', 'admin')", name="ck_server_tokens_scope"),
    )
    op.create_table(
        "server_settings",
        sa.Column("name", sa.String, primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    op.create_table(
        "sent_runs",
        sa.Column("target", sa.Text, nullable=False),
        sa.Column("run_id", sa.String(32), sa.ForeignKey("runs.run_id", ondelete="CASCADE", name="fk_sent_runs_run"),
                  nullable=False),
        sa.Column("sent_updated_at", sa.Double, nullable=False),
        sa.Column("sent_at", sa.Double, nullable=False),
        sa.PrimaryKeyConstraint("target", "run_id", name="pk_sent_runs"),
    )


def downgrade() -> None:
    op.drop_table("sent_runs")
    op.drop_table("server_settings")
    op.drop_table("server_tokens")
