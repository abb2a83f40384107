"""The closed loop: policies, their versions, firings, rollouts and rollout decisions.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def _workspace(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["workspace_id"], ["workspaces.id"], name=f"fk_{table}_workspace_id_workspaces"
    )


def upgrade() -> None:
    op.create_table(
        "automation_policies",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("workspace_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("schedule_id", sa.String(32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("spec", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(256), nullable=False),
        sa.Column("created_time", sa.BigInteger(), nullable=False),
        sa.Column("updated_time", sa.BigInteger(), nullable=False),
        _workspace("automation_policies"),
        sa.PrimaryKeyConstraint("id", name="pk_automation_policies"),
        sa.UniqueConstraint(
            "workspace_id", "name", name="uq_automation_policies_workspace_id_name"
        ),
    )
    op.create_table(
        "automation_policy_versions",
        sa.Column("policy_id", sa.String(32), nullable=False),
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("spec", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(256), nullable=False),
        sa.Column("created_time", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["policy_id"],
            ["automation_policies.id"],
            name="fk_automation_policy_versions_policy_id_automation_policies",
        ),
        sa.PrimaryKeyConstraint("policy_id", "version", name="pk_automation_policy_versions"),
    )
    op.create_table(
        "automation_firings",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("workspace_id", sa.String(64), nullable=False),
        sa.Column("policy_id", sa.String(32), nullable=False),
        sa.Column("policy_version", sa.Integer(), nullable=False),
        sa.Column("tick", sa.String(200), nullable=False),
        sa.Column("model", sa.String(128), nullable=False),
        sa.Column("in_flight", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("pipeline_run_id", sa.String(32), nullable=True),
        sa.Column("candidate_version", sa.Integer(), nullable=True),
        sa.Column("champion_version", sa.Integer(), nullable=True),
        sa.Column("gate", sa.Text(), nullable=True),
        sa.Column("risk", sa.Text(), nullable=True),
        sa.Column("rollout_id", sa.String(32), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("started_ms", sa.BigInteger(), nullable=False),
        sa.Column("updated_ms", sa.BigInteger(), nullable=False),
        _workspace("automation_firings"),
        sa.ForeignKeyConstraint(
            ["policy_id"],
            ["automation_policies.id"],
            name="fk_automation_firings_policy_id_automation_policies",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_automation_firings"),
    )
    op.create_index(
        "ix_automation_firings_policy", "automation_firings", ["policy_id", "started_ms"]
    )
    op.create_index(
        "uq_automation_firings_in_flight",
        "automation_firings",
        ["workspace_id", "model", "in_flight"],
        unique=True,
    )
    op.create_table(
        "automation_rollouts",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("workspace_id", sa.String(64), nullable=False),
        sa.Column("deployment", sa.String(128), nullable=False),
        sa.Column("model", sa.String(128), nullable=False),
        sa.Column("candidate_version", sa.Integer(), nullable=False),
        sa.Column("champion_version", sa.Integer(), nullable=True),
        sa.Column("firing_id", sa.String(32), nullable=True),
        sa.Column("risk", sa.Text(), nullable=False),
        sa.Column("plan", sa.Text(), nullable=False),
        sa.Column("stage", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("active", sa.Integer(), nullable=True),
        sa.Column("stage_started_ms", sa.BigInteger(), nullable=False),
        sa.Column("extensions", sa.Integer(), nullable=False),
        sa.Column("lease_owner", sa.String(128), nullable=True),
        sa.Column("lease_until", sa.BigInteger(), nullable=True),
        sa.Column("created_by", sa.String(256), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("updated_ms", sa.BigInteger(), nullable=False),
        _workspace("automation_rollouts"),
        sa.PrimaryKeyConstraint("id", name="pk_automation_rollouts"),
    )
    op.create_index(
        "ix_automation_rollouts_deployment",
        "automation_rollouts",
        ["workspace_id", "deployment", "created_ms"],
    )
    op.create_index(
        "uq_automation_rollouts_active",
        "automation_rollouts",
        ["workspace_id", "deployment", "active"],
        unique=True,
    )
    op.create_table(
        "automation_rollout_decisions",
        sa.Column("rollout_id", sa.String(32), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("at_ms", sa.BigInteger(), nullable=False),
        sa.Column("stage", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("figures", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["rollout_id"],
            ["automation_rollouts.id"],
            name="fk_automation_rollout_decisions_rollout_id_automation_rollouts",
        ),
        sa.PrimaryKeyConstraint("rollout_id", "seq", name="pk_automation_rollout_decisions"),
    )


def downgrade() -> None:
    op.drop_table("automation_rollout_decisions")
    op.drop_index("uq_automation_rollouts_active", "automation_rollouts")
    op.drop_index("ix_automation_rollouts_deployment", "automation_rollouts")
    op.drop_table("automation_rollouts")
    op.drop_index("uq_automation_firings_in_flight", "automation_firings")
    op.drop_index("ix_automation_firings_policy", "automation_firings")
    op.drop_table("automation_firings")
    op.drop_table("automation_policy_versions")
    op.drop_table("automation_policies")
