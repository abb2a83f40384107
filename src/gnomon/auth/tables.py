"""Tables owned by identity and access: workspaces (the tenant of every other object), users,
API tokens, memberships, failed logins and the audit log."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from gnomon.store.metadata import metadata

NAME_LENGTH = 64

# 64-bit ids on PostgreSQL; SQLite autoincrements only an INTEGER PRIMARY KEY (64-bit anyway).
_BIG_ID = BigInteger().with_variant(Integer(), "sqlite")

workspaces = Table(
    "workspaces",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(256), nullable=False, unique=True),
    Column("created_time", BigInteger, nullable=False),
)

users = Table(
    "users",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("name", String(NAME_LENGTH), nullable=False, unique=True),
    # argon2 PHC string (algorithm, parameters, salt and hash); never the password.
    Column("password_hash", String(256), nullable=False),
    Column("is_admin", Boolean, nullable=False),
    Column("disabled", Boolean, nullable=False),
    Column("created_time", BigInteger, nullable=False),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("user_id", String(32), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(128), nullable=False),
    # SHA-256 hex of the secret: authentication is one unique-index lookup.
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("prefix", String(8), nullable=False),
    Column("workspace_id", String(64), ForeignKey("workspaces.id", ondelete="CASCADE")),
    Column("role", String(16)),
    Column("expires_time", BigInteger),
    Column("revoked_time", BigInteger),
    Column("created_time", BigInteger, nullable=False),
    Column("last_used_time", BigInteger),
    Index("ix_api_tokens_user_id", "user_id", "created_time"),
)

memberships = Table(
    "memberships",
    metadata,
    Column(
        "workspace_id",
        String(64),
        ForeignKey("workspaces.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("user_id", String(32), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("role", String(16), nullable=False),
    # Listing a user's workspaces starts from the user.
    Index("ix_memberships_user_id", "user_id"),
)

# What the login rate limiter counts; rows older than its window are pruned as new ones come.
failed_logins = Table(
    "failed_logins",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_name", String(NAME_LENGTH), nullable=False),
    Column("address", String(64)),
    Column("time", BigInteger, nullable=False),
    Index("ix_failed_logins_user_name_time", "user_name", "time"),
    Index("ix_failed_logins_address_time", "address", "time"),
    Index("ix_failed_logins_time", "time"),
)

# Append-only. No foreign keys: the log outlives the users and workspaces it names.
audit_events = Table(
    "audit_events",
    metadata,
    Column("id", _BIG_ID, primary_key=True, autoincrement=True),
    Column("time", BigInteger, nullable=False),
    Column("actor", String(256), nullable=False),
    Column("workspace_id", String(64)),
    Column("action", String(64), nullable=False),
    Column("object_type", String(64), nullable=False),
    Column("object_id", String(256), nullable=False),
    Column("details", Text, nullable=False),  # JSON object
    Column("address", String(64)),
    Index("ix_audit_events_time", "time"),
    # Workspace admins list their own workspace's events, newest first.
    Index("ix_audit_events_workspace_id_time", "workspace_id", "time"),
)
