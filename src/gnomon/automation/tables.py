"""Closed-loop tables: policies and their versions, firings (one retraining each), rollouts
and the decisions each rollout made.

"At most one in flight" is a unique index over a column that is 1 while a firing (or a
rollout) is open and NULL afterwards: both databases keep NULLs apart in a unique index, so
inserting a second open row fails, whichever worker tries, and closed rows never collide.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from gnomon.store.metadata import metadata

NAME_LENGTH = 128

policies = Table(
    "automation_policies",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("workspace_id", String(64), ForeignKey("workspaces.id"), nullable=False),
    Column("name", String(NAME_LENGTH), nullable=False),
    Column("schedule_id", String(32), nullable=False),  # the schedule holding its triggers
    Column("version", Integer, nullable=False),  # the spec in force: policy_versions' row
    Column("spec", Text, nullable=False),  # JSON: model, deployment, gate, rollout, cool-down
    Column("created_by", String(256), nullable=False),
    Column("created_time", BigInteger, nullable=False),
    Column("updated_time", BigInteger, nullable=False),
    UniqueConstraint("workspace_id", "name", name="uq_automation_policies_workspace_id_name"),
)

policy_versions = Table(
    "automation_policy_versions",
    metadata,
    Column("policy_id", String(32), ForeignKey("automation_policies.id"), primary_key=True),
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("spec", Text, nullable=False),
    Column("note", Text, nullable=False),
    Column("created_by", String(256), nullable=False),
    Column("created_time", BigInteger, nullable=False),
)

firings = Table(
    "automation_firings",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("workspace_id", String(64), ForeignKey("workspaces.id"), nullable=False),
    Column("policy_id", String(32), ForeignKey("automation_policies.id"), nullable=False),
    Column("policy_version", Integer, nullable=False),
    Column("tick", String(200), nullable=False),  # the schedule tick that fired it
    Column("model", String(NAME_LENGTH), nullable=False),
    Column("in_flight", Integer, nullable=True),  # 1 while open, NULL once ended
    Column("status", String(32), nullable=False),
    Column("pipeline_run_id", String(32), nullable=True),
    Column("candidate_version", Integer, nullable=True),
    Column("champion_version", Integer, nullable=True),
    Column("gate", Text, nullable=True),  # JSON: the verdict and its evidence
    Column("risk", Text, nullable=True),  # JSON: the level and each change found
    Column("rollout_id", String(32), nullable=True),
    Column("message", Text, nullable=True),
    Column("started_ms", BigInteger, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
    Index("ix_automation_firings_policy", "policy_id", "started_ms"),
    Index("uq_automation_firings_in_flight", "workspace_id", "model", "in_flight", unique=True),
)

rollouts = Table(
    "automation_rollouts",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("workspace_id", String(64), ForeignKey("workspaces.id"), nullable=False),
    Column("deployment", String(NAME_LENGTH), nullable=False),
    Column("model", String(NAME_LENGTH), nullable=False),
    Column("candidate_version", Integer, nullable=False),
    Column("champion_version", Integer, nullable=True),
    Column("firing_id", String(32), nullable=True),
    Column("risk", Text, nullable=False),  # JSON
    Column("plan", Text, nullable=False),  # JSON: the stages and the limits they are held to
    Column("stage", Integer, nullable=False),  # index into the plan's stages
    Column("state", String(32), nullable=False),
    Column("active", Integer, nullable=True),  # 1 while running, NULL once ended
    Column("stage_started_ms", BigInteger, nullable=False),
    Column("extensions", Integer, nullable=False),  # of the current stage's hold
    Column("lease_owner", String(128), nullable=True),
    Column("lease_until", BigInteger, nullable=True),
    Column("created_by", String(256), nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
    Index("ix_automation_rollouts_deployment", "workspace_id", "deployment", "created_ms"),
    Index("uq_automation_rollouts_active", "workspace_id", "deployment", "active", unique=True),
)

decisions = Table(
    "automation_rollout_decisions",
    metadata,
    Column("rollout_id", String(32), ForeignKey("automation_rollouts.id"), primary_key=True),
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("at_ms", BigInteger, nullable=False),
    Column("stage", Integer, nullable=False),
    Column("action", String(32), nullable=False),
    Column("reason", Text, nullable=False),
    Column("figures", Text, nullable=False),  # JSON: the evidence the decision read
)
