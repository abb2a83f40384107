"""Pipeline tables: runs, step runs (the cache is their ``cache_key``), step artifacts (the
lineage edges), schedules and their ticks (one row per tick: the uniqueness that makes a tick
fire once however many workers race for it)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, ForeignKey, Index, Integer, String, Table, Text

from gnomon.store.metadata import metadata
from gnomon.tracking.validation import NAME_LENGTH

pipeline_runs = Table(
    "pipeline_runs",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("workspace_id", String(64), ForeignKey("workspaces.id"), nullable=False),
    Column("pipeline", String(NAME_LENGTH), nullable=False),
    Column("function", String(1000), nullable=False),
    Column("spec", Text, nullable=False),
    Column("params", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("executor", String(16), nullable=False),
    Column("trigger", String(600), nullable=False),
    Column("tracking_run_id", String(32), nullable=True),
    Column("resumed_from", String(32), nullable=True),
    Column("error", Text, nullable=True),
    Column("created_by", String(256), nullable=False),
    Column("started_ms", BigInteger, nullable=False),
    Column("ended_ms", BigInteger, nullable=True),
    Index("ix_pipeline_runs_workspace_pipeline", "workspace_id", "pipeline", "started_ms"),
)

step_runs = Table(
    "step_runs",
    metadata,
    Column("id", String(32), primary_key=True),
    Column(
        "run_id", String(32), ForeignKey("pipeline_runs.id", ondelete="CASCADE"), nullable=False
    ),
    Column("workspace_id", String(64), nullable=False),
    Column("node", String(NAME_LENGTH), nullable=False),
    Column("step", String(NAME_LENGTH), nullable=False),
    Column("status", String(16), nullable=False),
    Column("cache_key", String(64), nullable=True),
    Column("cached_from", String(32), nullable=True),
    Column("attempts", Integer, nullable=False),
    Column("started_ms", BigInteger, nullable=False),
    Column("ended_ms", BigInteger, nullable=False),
    Column("error", Text, nullable=True),
    Column("logs_digest", String(32), nullable=True),
    Column("tracking_run_id", String(32), nullable=True),
    Column("params", Text, nullable=False),
    Index("uq_step_runs_run_node", "run_id", "node", unique=True),
    Index("ix_step_runs_cache", "workspace_id", "cache_key"),
)

step_artifacts = Table(
    "step_artifacts",
    metadata,
    Column(
        "step_run_id", String(32), ForeignKey("step_runs.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("direction", String(3), primary_key=True),
    Column("name", String(NAME_LENGTH), primary_key=True),
    Column("workspace_id", String(64), nullable=False),
    Column("digest", String(32), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("type_name", String(300), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("preview", String(300), nullable=False),
    Column("link", String(600), nullable=True),
    Index("ix_step_artifacts_digest", "workspace_id", "digest"),
    Index("ix_step_artifacts_link", "workspace_id", "link"),
)

pipeline_schedules = Table(
    "pipeline_schedules",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("workspace_id", String(64), ForeignKey("workspaces.id"), nullable=False),
    Column("name", String(NAME_LENGTH), nullable=False),
    Column("pipeline", String(1000), nullable=False),  # "module:attribute" the worker imports
    Column("params", Text, nullable=False),
    Column("cron", String(200), nullable=True),
    Column("timezone", String(64), nullable=False),
    Column("dataset", String(NAME_LENGTH), nullable=True),  # --on-new-version
    Column("monitor", String(NAME_LENGTH), nullable=True),  # --on-alert MONITOR[/RULE]
    Column("alert_rule", String(NAME_LENGTH), nullable=True),
    Column("catchup", String(16), nullable=False),  # latest | all | none
    Column("executor", String(16), nullable=False),
    Column("paused", Boolean, nullable=False),
    Column("next_ms", BigInteger, nullable=True),  # the next cron tick not yet taken
    Column("seen_version", Integer, nullable=True),  # the dataset version last acted on
    Column("seen_alert_ms", BigInteger, nullable=True),  # alert events up to then acted on
    Column("created_by", String(256), nullable=False),
    Column("created_time", BigInteger, nullable=False),
    Index("uq_pipeline_schedules_workspace_name", "workspace_id", "name", unique=True),
)

schedule_ticks = Table(
    "schedule_ticks",
    metadata,
    Column(
        "schedule_id",
        String(32),
        ForeignKey("pipeline_schedules.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("tick", String(64), primary_key=True),  # "cron:<ms>", "dataset:<v>", "alert:<id>"
    Column(
        "status", String(16), nullable=False
    ),  # pending | running | succeeded | failed | skipped
    Column("owner", String(64), nullable=True),
    Column("pipeline_run_id", String(32), nullable=True),
    Column("message", Text, nullable=True),
    Column("created_ms", BigInteger, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
)
