"""Monitors, their window results, alert rules, events, channels and silences.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def _monitor_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["monitor_id"], ["monitors.id"], name=f"fk_{table}_monitor_id_monitors", ondelete="CASCADE"
    )


def _workspace_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["workspace_id"], ["workspaces.id"], name=f"fk_{table}_workspace_id_workspaces"
    )


def upgrade() -> None:
    op.create_table(
        "monitors",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("workspace_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("deployment", sa.String(256), nullable=False),
        sa.Column("spec", sa.Text(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("created_time", sa.BigInteger(), nullable=False),
        sa.Column("created_by", sa.String(256), nullable=False),
        sa.Column("updated_time", sa.BigInteger(), nullable=False),
        sa.Column("watermark_ms", sa.BigInteger(), nullable=True),
        sa.Column("last_run_ms", sa.BigInteger(), nullable=True),
        sa.Column("lease_owner", sa.String(64), nullable=True),
        sa.Column("lease_until_ms", sa.BigInteger(), nullable=True),
        _workspace_fk("monitors"),
        sa.PrimaryKeyConstraint("id", name="pk_monitors"),
    )
    op.create_index("uq_monitors_workspace_name", "monitors", ["workspace_id", "name"], unique=True)
    op.create_table(
        "monitor_results",
        sa.Column("monitor_id", sa.String(32), nullable=False),
        sa.Column("start_ms", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("end_ms", sa.BigInteger(), nullable=False),
        sa.Column("row_count", sa.Integer(), nullable=False),
        sa.Column("figures", sa.Text(), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("computed_ms", sa.BigInteger(), nullable=False),
        _monitor_fk("monitor_results"),
        sa.PrimaryKeyConstraint("monitor_id", "start_ms", name="pk_monitor_results"),
    )
    op.create_table(
        "alert_rules",
        sa.Column("monitor_id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("spec", sa.Text(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("created_time", sa.BigInteger(), nullable=False),
        sa.Column("created_by", sa.String(256), nullable=False),
        _monitor_fk("alert_rules"),
        sa.PrimaryKeyConstraint("monitor_id", "name", name="pk_alert_rules"),
    )
    op.create_table(
        "alert_events",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("monitor_id", sa.String(32), nullable=False),
        sa.Column("rule", sa.String(256), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("at_ms", sa.BigInteger(), nullable=False),
        sa.Column("window_end_ms", sa.BigInteger(), nullable=False),
        sa.Column("event", sa.Text(), nullable=False),
        sa.Column("silenced", sa.Boolean(), nullable=False),
        sa.Column("deliveries", sa.Text(), nullable=False),
        _monitor_fk("alert_events"),
        sa.PrimaryKeyConstraint("id", name="pk_alert_events"),
    )
    op.create_index("ix_alert_events_monitor_time", "alert_events", ["monitor_id", "at_ms"])
    op.create_table(
        "alert_channels",
        sa.Column("workspace_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("spec", sa.Text(), nullable=False),
        sa.Column("created_time", sa.BigInteger(), nullable=False),
        sa.Column("created_by", sa.String(256), nullable=False),
        _workspace_fk("alert_channels"),
        sa.PrimaryKeyConstraint("workspace_id", "name", name="pk_alert_channels"),
    )
    op.create_table(
        "alert_silences",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("workspace_id", sa.String(64), nullable=False),
        sa.Column("spec", sa.Text(), nullable=False),
        sa.Column("ends_ms", sa.BigInteger(), nullable=False),
        sa.Column("created_time", sa.BigInteger(), nullable=False),
        _workspace_fk("alert_silences"),
        sa.PrimaryKeyConstraint("id", name="pk_alert_silences"),
    )
    op.create_index(
        "ix_alert_silences_workspace_end", "alert_silences", ["workspace_id", "ends_ms"]
    )


def downgrade() -> None:
    op.drop_index("ix_alert_silences_workspace_end", table_name="alert_silences")
    op.drop_table("alert_silences")
    op.drop_table("alert_channels")
    op.drop_index("ix_alert_events_monitor_time", table_name="alert_events")
    op.drop_table("alert_events")
    op.drop_table("alert_rules")
    op.drop_table("monitor_results")
    op.drop_index("uq_monitors_workspace_name", table_name="monitors")
    op.drop_table("monitors")
