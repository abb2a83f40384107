"""Feature registry tables: the current version of each definition (entity, view, service)
per workspace, every version ever applied, and each view's materialisation state."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, Integer, String, Table, Text

from gnomon.store.metadata import metadata

NAME_LENGTH = 128  # definitions.NAME allows 128 characters
DIGEST_LENGTH = 64  # sha256, hex

# One row per live definition; an apply with --prune deletes rows, never their versions.
feature_definitions = Table(
    "feature_definitions",
    metadata,
    Column("workspace_id", String(64), ForeignKey("workspaces.id"), primary_key=True),
    Column("kind", String(16), primary_key=True),  # entity | view | service
    Column("name", String(NAME_LENGTH), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("spec", Text, nullable=False),  # JSON, specs.to_spec
    Column("digest", String(DIGEST_LENGTH), nullable=False),
    Column("created_time", BigInteger, nullable=False),
    Column("updated_time", BigInteger, nullable=False),
    Column("updated_by", String(256), nullable=False),
)

feature_definition_versions = Table(
    "feature_definition_versions",
    metadata,
    Column("workspace_id", String(64), ForeignKey("workspaces.id"), primary_key=True),
    Column("kind", String(16), primary_key=True),
    Column("name", String(NAME_LENGTH), primary_key=True),
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("spec", Text, nullable=False),
    Column("digest", String(DIGEST_LENGTH), nullable=False),
    Column("created_time", BigInteger, nullable=False),
    Column("created_by", String(256), nullable=False),
)

# Where materialisation of a view got to: rows up to ``watermark_ms`` (event time) are in
# the online store, so an incremental run reads only newer ones.
feature_materializations = Table(
    "feature_materializations",
    metadata,
    Column("workspace_id", String(64), ForeignKey("workspaces.id"), primary_key=True),
    Column("view", String(NAME_LENGTH), primary_key=True),
    Column("watermark_ms", BigInteger, nullable=True),
    Column("last_run_ms", BigInteger, nullable=False),
    Column("rows", BigInteger, nullable=False),
)
