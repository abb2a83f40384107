"""Tracking tables: experiments, runs and what runs log."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
)

from gnomon.checks import KEY_LENGTH
from gnomon.store.metadata import metadata
from gnomon.tracking.validation import PARAM_VALUE_LENGTH, TAG_VALUE_LENGTH

experiments = Table(
    "experiments",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("workspace_id", String(64), ForeignKey("workspaces.id"), nullable=False),
    Column("name", String(256), nullable=False),
    Column("lifecycle", String(16), nullable=False),
    Column("artifact_location", Text, nullable=False),
    Column("created_time", BigInteger, nullable=False),
    Column("updated_time", BigInteger, nullable=False),
    Index("uq_experiments_workspace_name", "workspace_id", "name", unique=True),
)

runs = Table(
    "runs",
    metadata,
    Column("id", String(32), primary_key=True),
    # Denormalised from the experiment so scoping a run needs no join.
    Column("workspace_id", String(64), ForeignKey("workspaces.id"), nullable=False),
    Column(
        "experiment_id",
        String(32),
        ForeignKey("experiments.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("name", String(256), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("status", String(16), nullable=False),
    Column("lifecycle", String(16), nullable=False),
    Column("user", String(256), nullable=False),
    Column("start_time", BigInteger, nullable=False),
    Column("end_time", BigInteger),
    Column("parent_run_id", String(32), ForeignKey("runs.id", ondelete="SET NULL")),
    Column("artifact_uri", Text, nullable=False),
    Index("ix_runs_experiment_start", "experiment_id", "start_time"),
    Index("ix_runs_parent_run_id", "parent_run_id"),
    # SQLite: rows live in the primary-key B-tree, so a lookup by run id is one search.
    sqlite_with_rowid=False,
)

params = Table(
    "params",
    metadata,
    Column("run_id", String(32), ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(KEY_LENGTH), primary_key=True),
    Column("value", String(PARAM_VALUE_LENGTH), nullable=False),
    # Search filters on (key, value) first, then joins back to the run.
    Index("ix_params_key_value", "key", "value", "run_id"),
    sqlite_with_rowid=False,
)

tags = Table(
    "tags",
    metadata,
    Column("run_id", String(32), ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(KEY_LENGTH), primary_key=True),
    Column("value", String(TAG_VALUE_LENGTH), nullable=False),
    Index("ix_tags_key_value", "key", "value", "run_id"),
    sqlite_with_rowid=False,
)

# Every logged point. NULL value means NaN (SQLite cannot store NaN; ±inf it keeps).
metrics = Table(
    "metrics",
    metadata,
    Column("run_id", String(32), ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
    Column("key", String(KEY_LENGTH), nullable=False),
    Column("step", BigInteger, nullable=False),
    Column("timestamp", BigInteger, nullable=False),
    Column("value", Float),
    # Covers the history read: one index range scan, no table lookups.
    Index("ix_metrics_run_key_step", "run_id", "key", "step", "timestamp", "value"),
)

# A finished run's series, one row per key: steps and timestamps as little-endian int64,
# values as float64 (NaN kept), in (step, timestamp) order (tracking/sql_packs.py).
metric_packs = Table(
    "metric_packs",
    metadata,
    Column("run_id", String(32), ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(KEY_LENGTH), primary_key=True),
    Column("points", Integer, nullable=False),
    Column("step_bytes", LargeBinary, nullable=False),
    Column("time_bytes", LargeBinary, nullable=False),
    Column("value_bytes", LargeBinary, nullable=False),
)

# The value at the highest (step, timestamp) per run and key: what search and get_run read,
# so neither scans the history.
latest_metrics = Table(
    "latest_metrics",
    metadata,
    Column("run_id", String(32), ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(KEY_LENGTH), primary_key=True),
    Column("step", BigInteger, nullable=False),
    Column("timestamp", BigInteger, nullable=False),
    Column("value", Float),
    Index("ix_latest_metrics_key_value", "key", "value", "run_id"),
    sqlite_with_rowid=False,
)
