"""Tables owned by identity and access: workspaces, the tenant of every other object."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, String, Table

from gnomon.store.metadata import metadata

workspaces = Table(
    "workspaces",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(256), nullable=False, unique=True),
    Column("created_time", BigInteger, nullable=False),
)
