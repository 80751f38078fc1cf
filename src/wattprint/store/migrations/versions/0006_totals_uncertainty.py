"""The totals index also holds the runs' relative uncertainties (issue 15).

A project's totals and its summaries give their energy and emissions with a ± (the runs' relative uncertainties
weighted by their energy and emissions); ``ix_runs_project_totals`` now holds those two columns too, so the totals
are still summed from the index alone.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

OLD = ["project_id", "started_at", "energy_j", "duration_s", "emissions_g"]
NEW = [*OLD, "energy_uncertainty_rel", "emissions_uncertainty_rel"]


def upgrade() -> None:
    op.drop_index("ix_runs_project_totals", table_name="runs")
    op.create_index("ix_runs_project_totals", "runs", NEW)


def downgrade() -> None:
    op.drop_index("ix_runs_project_totals", table_name="runs")
    op.create_index("ix_runs_project_totals", "runs", OLD)
