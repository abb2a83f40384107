"""Monitoring tables: monitors with their spec, reference state, watermark and run lease;
one row of figures per evaluated window; alert rules with their state, alert events with
their deliveries, channels and silences.

Specs, figures and details are JSON documents read and written whole.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from gnomon.store.metadata import metadata
from gnomon.tracking.validation import NAME_LENGTH

monitors = Table(
    "monitors",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("workspace_id", String(64), ForeignKey("workspaces.id"), nullable=False),
    Column("name", String(NAME_LENGTH), nullable=False),
    Column("deployment", String(NAME_LENGTH), nullable=False),
    Column("spec", Text, nullable=False),
    Column("state", Text, nullable=False),  # the fitted reference: outlier detector, baseline
    Column("created_time", BigInteger, nullable=False),
    Column("created_by", String(256), nullable=False),
    Column("updated_time", BigInteger, nullable=False),
    Column("watermark_ms", BigInteger, nullable=True),
    Column("last_run_ms", BigInteger, nullable=True),
    # Who may run it now: two workers never evaluate the same window twice.
    Column("lease_owner", String(64), nullable=True),
    Column("lease_until_ms", BigInteger, nullable=True),
    Index("uq_monitors_workspace_name", "workspace_id", "name", unique=True),
)

monitor_results = Table(
    "monitor_results",
    metadata,
    Column(
        "monitor_id", String(32), ForeignKey("monitors.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("start_ms", BigInteger, primary_key=True, autoincrement=False),
    Column("end_ms", BigInteger, nullable=False),
    Column("row_count", Integer, nullable=False),
    Column("figures", Text, nullable=False),
    Column("details", Text, nullable=False),
    Column("computed_ms", BigInteger, nullable=False),
)

alert_rules = Table(
    "alert_rules",
    metadata,
    Column(
        "monitor_id", String(32), ForeignKey("monitors.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("name", String(NAME_LENGTH), primary_key=True),
    Column("spec", Text, nullable=False),
    Column("state", Text, nullable=False),
    Column("created_time", BigInteger, nullable=False),
    Column("created_by", String(256), nullable=False),
)

alert_events = Table(
    "alert_events",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("monitor_id", String(32), ForeignKey("monitors.id", ondelete="CASCADE"), nullable=False),
    Column("rule", String(NAME_LENGTH), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("value", Float, nullable=True),
    Column("at_ms", BigInteger, nullable=False),
    Column("window_end_ms", BigInteger, nullable=False),
    Column("event", Text, nullable=False),  # the event as channels receive it
    Column("silenced", Boolean, nullable=False),
    Column("deliveries", Text, nullable=False),
    Index("ix_alert_events_monitor_time", "monitor_id", "at_ms"),
)

alert_channels = Table(
    "alert_channels",
    metadata,
    Column("workspace_id", String(64), ForeignKey("workspaces.id"), primary_key=True),
    Column("name", String(NAME_LENGTH), primary_key=True),
    Column("spec", Text, nullable=False),
    Column("created_time", BigInteger, nullable=False),
    Column("created_by", String(256), nullable=False),
)

alert_silences = Table(
    "alert_silences",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("workspace_id", String(64), ForeignKey("workspaces.id"), nullable=False),
    Column("spec", Text, nullable=False),
    Column("ends_ms", BigInteger, nullable=False),
    Column("created_time", BigInteger, nullable=False),
    Index("ix_alert_silences_workspace_end", "workspace_id", "ends_ms"),
)
