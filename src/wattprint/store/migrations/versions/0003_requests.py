"""Inference requests stored compactly: per-interval aggregates (issue 17).

One row per (run, time bucket, endpoint) of requests summed (``RequestIntervalRecord``), not a row per request:
a day at 1,000 requests/s stays in megabytes. Bucket -1 holds the steady-state window's requests.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "request_intervals",
        sa.Column("run_id", sa.String(32),
                  sa.ForeignKey("runs.run_id", ondelete="CASCADE", name="fk_request_intervals_run"), nullable=False),
        sa.Column("bucket", sa.Integer, nullable=False),
        sa.Column("endpoint", sa.Text, nullable=False),
        sa.Column("start_offset_s", sa.Double, nullable=False),
        sa.Column("end_offset_s", sa.Double, nullable=False),
        sa.Column("requests", sa.Integer, nullable=False),
        sa.Column("energy_j", sa.Double, nullable=False),
        sa.Column("method", sa.String, nullable=False),
        sa.Column("uncertainty_rel", sa.Double, nullable=False),
        sa.Column("sharing", sa.String, nullable=False),
        sa.Column("latency_s", sa.Double, nullable=False),
        sa.Column("tokens_in", sa.BigInteger),
        sa.Column("tokens_out", sa.BigInteger),
        sa.Column("tokens_out_energy_j", sa.Double, nullable=False),
        sa.Column("items", sa.BigInteger),
        sa.Column("items_energy_j", sa.Double, nullable=False),
        sa.Column("prefill_tokens", sa.BigInteger, nullable=False),
        sa.Column("prefill_energy_j", sa.Double),
        sa.Column("decode_tokens", sa.BigInteger, nullable=False),
        sa.Column("decode_energy_j", sa.Double),
        sa.Column("first_token_requests", sa.Integer, nullable=False),
        sa.Column("time_to_first_token_s", sa.Double, nullable=False),
        sa.Column("idle_energy_j", sa.Double, nullable=False),
        sa.Column("idle_s", sa.Double, nullable=False),
        sa.Column("latency_hist", sa.Text, nullable=False),
        sa.Column("energy_hist", sa.Text, nullable=False),
        sa.Column("concurrency", sa.Integer),
        sa.PrimaryKeyConstraint("run_id", "bucket", "endpoint", name="pk_request_intervals"),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.drop_table("request_intervals")
