"""Pipeline runs, step runs, step artifacts, schedules and schedule ticks.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def _workspace_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["workspace_id"], ["workspaces.id"], name=f"fk_{table}_workspace_id_workspaces"
    )


def upgrade() -> None:
    op.create_table(
        "pipeline_runs",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("workspace_id", sa.String(64), nullable=False),
        sa.Column("pipeline", sa.String(256), nullable=False),
        sa.Column("function", sa.String(1000), nullable=False),
        sa.Column("spec", sa.Text(), nullable=False),
        sa.Column("params", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("executor", sa.String(16), nullable=False),
        sa.Column("trigger", sa.String(600), nullable=False),
        sa.Column("tracking_run_id", sa.String(32), nullable=True),
        sa.Column("resumed_from", sa.String(32), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(256), nullable=False),
        sa.Column("started_ms", sa.BigInteger(), nullable=False),
        sa.Column("ended_ms", sa.BigInteger(), nullable=True),
        _workspace_fk("pipeline_runs"),
        sa.PrimaryKeyConstraint("id", name="pk_pipeline_runs"),
    )
    op.create_index(
        "ix_pipeline_runs_workspace_pipeline",
        "pipeline_runs",
        ["workspace_id", "pipeline", "started_ms"],
    )
    op.create_table(
        "step_runs",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("run_id", sa.String(32), nullable=False),
        sa.Column("workspace_id", sa.String(64), nullable=False),
        sa.Column("node", sa.String(256), nullable=False),
        sa.Column("step", sa.String(256), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("cache_key", sa.String(64), nullable=True),
        sa.Column("cached_from", sa.String(32), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("started_ms", sa.BigInteger(), nullable=False),
        sa.Column("ended_ms", sa.BigInteger(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("logs_digest", sa.String(32), nullable=True),
        sa.Column("tracking_run_id", sa.String(32), nullable=True),
        sa.Column("params", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["pipeline_runs.id"],
            name="fk_step_runs_run_id_pipeline_runs",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_step_runs"),
    )
    op.create_index("uq_step_runs_run_node", "step_runs", ["run_id", "node"], unique=True)
    op.create_index("ix_step_runs_cache", "step_runs", ["workspace_id", "cache_key"])
    op.create_table(
        "step_artifacts",
        sa.Column("step_run_id", sa.String(32), nullable=False),
        sa.Column("direction", sa.String(3), nullable=False),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("workspace_id", sa.String(64), nullable=False),
        sa.Column("digest", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("type_name", sa.String(300), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("preview", sa.String(300), nullable=False),
        sa.Column("link", sa.String(600), nullable=True),
        sa.ForeignKeyConstraint(
            ["step_run_id"],
            ["step_runs.id"],
            name="fk_step_artifacts_step_run_id_step_runs",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("step_run_id", "direction", "name", name="pk_step_artifacts"),
    )
    op.create_index("ix_step_artifacts_digest", "step_artifacts", ["workspace_id", "digest"])
    op.create_index("ix_step_artifacts_link", "step_artifacts", ["workspace_id", "link"])
    op.create_table(
        "pipeline_schedules",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("workspace_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("pipeline", sa.String(1000), nullable=False),
        sa.Column("params", sa.Text(), nullable=False),
        sa.Column("cron", sa.String(200), nullable=True),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("dataset", sa.String(256), nullable=True),
        sa.Column("monitor", sa.String(256), nullable=True),
        sa.Column("alert_rule", sa.String(256), nullable=True),
        sa.Column("catchup", sa.String(16), nullable=False),
        sa.Column("executor", sa.String(16), nullable=False),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("next_ms", sa.BigInteger(), nullable=True),
        sa.Column("seen_version", sa.Integer(), nullable=True),
        sa.Column("seen_alert_ms", sa.BigInteger(), nullable=True),
        sa.Column("created_by", sa.String(256), nullable=False),
        sa.Column("created_time", sa.BigInteger(), nullable=False),
        _workspace_fk("pipeline_schedules"),
        sa.PrimaryKeyConstraint("id", name="pk_pipeline_schedules"),
    )
    op.create_index(
        "uq_pipeline_schedules_workspace_name",
        "pipeline_schedules",
        ["workspace_id", "name"],
        unique=True,
    )
    op.create_table(
        "schedule_ticks",
        sa.Column("schedule_id", sa.String(32), nullable=False),
        sa.Column("tick", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("owner", sa.String(64), nullable=True),
        sa.Column("pipeline_run_id", sa.String(32), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("updated_ms", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["schedule_id"],
            ["pipeline_schedules.id"],
            name="fk_schedule_ticks_schedule_id_pipeline_schedules",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("schedule_id", "tick", name="pk_schedule_ticks"),
    )


def downgrade() -> None:
    op.drop_table("schedule_ticks")
    op.drop_index("uq_pipeline_schedules_workspace_name", "pipeline_schedules")
    op.drop_table("pipeline_schedules")
    op.drop_index("ix_step_artifacts_link", "step_artifacts")
    op.drop_index("ix_step_artifacts_digest", "step_artifacts")
    op.drop_table("step_artifacts")
    op.drop_index("ix_step_runs_cache", "step_runs")
    op.drop_index("uq_step_runs_run_node", "step_runs")
    op.drop_table("step_runs")
    op.drop_index("ix_pipeline_runs_workspace_pipeline", "pipeline_runs")
    op.drop_table("pipeline_runs")
