"""Deployment tables: one row per deployment with its current routing, and its history.

Routing and config are small JSON documents read and written whole: a server reads one row
to know what to serve, and every change is one update guarded by the revision it read.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Integer, String, Table, Text

from gnomon.store.metadata import metadata
from gnomon.tracking.validation import NAME_LENGTH

deployments = Table(
    "deployments",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("workspace_id", String(64), ForeignKey("workspaces.id"), nullable=False),
    Column("name", String(NAME_LENGTH), nullable=False),
    Column("description", Text, nullable=False),
    Column("routing", Text, nullable=False),
    Column("config", Text, nullable=False),
    Column("revision", Integer, nullable=False),
    Column("created_time", BigInteger, nullable=False),
    Column("updated_time", BigInteger, nullable=False),
    Column("created_by", String(256), nullable=False),
    Index("uq_deployments_workspace_name", "workspace_id", "name", unique=True),
)

deployment_events = Table(
    "deployment_events",
    metadata,
    Column(
        "deployment_id",
        String(32),
        ForeignKey("deployments.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("revision", Integer, primary_key=True, autoincrement=False),
    Column("action", String(16), nullable=False),
    Column("routing", Text, nullable=False),
    Column("config", Text, nullable=False),
    Column("actor", String(256), nullable=False),
    Column("time", BigInteger, nullable=False),
    Column("note", Text, nullable=False),
)
