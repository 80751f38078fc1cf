"""The initial schema: projects, runs, per-device run totals, interval buckets and task windows.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "projects",
        sa.Column("project_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String, nullable=False),
        sa.Column("created_at", sa.Double, nullable=False),
        sa.UniqueConstraint("name", name="uq_projects_name"),
    )
    op.create_table(
        "runs",
        sa.Column("run_id", sa.String(32), primary_key=True),
        sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.project_id", name="fk_runs_project"),
                  nullable=True),
        sa.Column("name", sa.Text),
        sa.Column("status", sa.String, nullable=False),
        sa.Column("started_at", sa.Double, nullable=False),
        sa.Column("updated_at", sa.Double, nullable=False),
        sa.Column("ended_at", sa.Double),
        sa.Column("duration_s", sa.Double, nullable=False),
        sa.Column("energy_j", sa.Double, nullable=False),
        sa.Column("energy_uncertainty_rel", sa.Double, nullable=False),
        sa.Column("attribution", sa.String, nullable=False),
        sa.Column("hostname", sa.Text, nullable=False),
        sa.Column("username", sa.Text, nullable=False),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("wattprint_version", sa.String, nullable=False),
        sa.Column("command", sa.Text),
        sa.Column("exit_code", sa.Integer),
        sa.Column("config_fingerprint", sa.String),
        sa.Column("hardware", sa.Text, nullable=False),
        sa.Column("notes", sa.Text, nullable=False),
        # carbon and water (filled by the accounting issue; nullable until then)
        sa.Column("location", sa.Text),
        sa.Column("how_located", sa.Text),
        sa.Column("intensity_g_per_kwh", sa.Double),
        sa.Column("intensity_zone", sa.Text),
        sa.Column("intensity_source", sa.Text),
        sa.Column("intensity_year", sa.Integer),
        sa.Column("intensity_kind", sa.String),
        sa.Column("intensity_uncertainty_rel", sa.Double),
        sa.Column("pue", sa.Double),
        sa.Column("facility_energy_j", sa.Double),
        sa.Column("emissions_g", sa.Double),
        sa.Column("emissions_uncertainty_rel", sa.Double),
        sa.Column("water_l", sa.Double),
        sa.Column("embodied_g", sa.Double),
        sa.Column("extra", sa.Text),
        sa.CheckConstraint(
            "status IN ('running', 'finished', 'failed', 'killed')", name="ck_runs_status"
        ),
    )
    op.create_index("ix_runs_started_at", "runs", ["started_at"])
    op.create_index("ix_runs_project_started_at", "runs", ["project_id", "started_at"])
    op.create_index("ix_runs_status", "runs", ["status"])
    op.create_table(
        "run_components",
        sa.Column("run_id", sa.String(32), sa.ForeignKey("runs.run_id", ondelete="CASCADE",
                                                         name="fk_run_components_run"), nullable=False),
        sa.Column("component", sa.String, nullable=False),
        sa.Column("device", sa.String, nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("energy_j", sa.Double, nullable=False),
        sa.Column("avg_power_w", sa.Double, nullable=False),
        sa.Column("method", sa.String, nullable=False),
        sa.Column("uncertainty_rel", sa.Double, nullable=False),
        sa.PrimaryKeyConstraint("run_id", "component", "device", name="pk_run_components"),
    )
    op.create_table(
        "intervals",
        sa.Column("run_id", sa.String(32), sa.ForeignKey("runs.run_id", ondelete="CASCADE",
                                                         name="fk_intervals_run"), nullable=False),
        sa.Column("bucket", sa.Integer, nullable=False),
        sa.Column("device", sa.String, nullable=False),
        sa.Column("component", sa.String, nullable=False),
        sa.Column("start_offset_s", sa.Double, nullable=False),
        sa.Column("end_offset_s", sa.Double, nullable=False),
        sa.Column("energy_j", sa.Double, nullable=False),
        sa.Column("avg_power_w", sa.Double, nullable=False),
        sa.Column("method", sa.String, nullable=False),
        sa.Column("uncertainty_rel", sa.Double, nullable=False),
        sa.Column("emissions_g", sa.Double),
        sa.Column("intensity_g_per_kwh", sa.Double),
        sa.PrimaryKeyConstraint("run_id", "bucket", "device", name="pk_intervals"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "tasks",
        sa.Column("run_id", sa.String(32), sa.ForeignKey("runs.run_id", ondelete="CASCADE",
                                                         name="fk_tasks_run"), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("started_at", sa.Double, nullable=False),
        sa.Column("duration_s", sa.Double, nullable=False),
        sa.Column("energy_j", sa.Double, nullable=False),
        sa.Column("uncertainty_rel", sa.Double, nullable=False),
        sa.Column("method", sa.String, nullable=False),
        sa.Column("components", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("run_id", "seq", name="pk_tasks"),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.drop_table("tasks")
    op.drop_table("intervals")
    op.drop_table("run_components")
    op.drop_index("ix_runs_status", table_name="runs")
    op.drop_index("ix_runs_project_started_at", table_name="runs")
    op.drop_index("ix_runs_started_at", table_name="runs")
    op.drop_table("runs")
    op.drop_table("projects")
