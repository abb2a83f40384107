"""Dataset tables: datasets by name per workspace, their immutable versions, the content
objects each workspace holds (what deduplication checks before storing a file), and the
versions each run used (lineage)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Integer, String, Table, Text

from gnomon.store.metadata import metadata
from gnomon.tracking.validation import NAME_LENGTH

DIGEST_LENGTH = 48  # "xxh128:" and 32 hex digits

datasets = Table(
    "datasets",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("workspace_id", String(64), ForeignKey("workspaces.id"), nullable=False),
    Column("name", String(NAME_LENGTH), nullable=False),
    Column("description", Text, nullable=False),
    Column("latest_version", Integer, nullable=False),
    Column("created_time", BigInteger, nullable=False),
    Column("updated_time", BigInteger, nullable=False),
    Column("created_by", String(256), nullable=False),
    Index("uq_datasets_workspace_name", "workspace_id", "name", unique=True),
)

dataset_versions = Table(
    "dataset_versions",
    metadata,
    Column(
        "dataset_id", String(32), ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("manifest_digest", String(DIGEST_LENGTH), nullable=False),
    Column("files", BigInteger, nullable=False),
    Column("bytes", BigInteger, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("message", Text, nullable=False),
    Column("source", Text, nullable=False),  # JSON: where the content came from
    Column("run_id", String(32), nullable=True),  # the run that made it, if any
    Column("created_time", BigInteger, nullable=False),
    Column("created_by", String(256), nullable=False),
)

dataset_objects = Table(
    "dataset_objects",
    metadata,
    Column("workspace_id", String(64), ForeignKey("workspaces.id"), primary_key=True),
    Column("digest", String(DIGEST_LENGTH), primary_key=True),
    Column("size", BigInteger, nullable=False),
    # stored, or last found stored by an add (None: before revision 0013): gc's grace period
    Column("stored_time", BigInteger, nullable=True),
    sqlite_with_rowid=False,
)

run_inputs = Table(
    "run_inputs",
    metadata,
    Column("run_id", String(32), ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "dataset_id", String(32), ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("context", String(64), nullable=False),  # training, evaluation, input...
    Column("recorded_time", BigInteger, nullable=False),
    Index("ix_run_inputs_dataset_version", "dataset_id", "version"),
)

# The dataset's current schema: inferred from its first table version, then owned (edited by
# people); later versions are validated against it. Changed under its revision, like a
# deployment, so two editors cannot silently overwrite each other.
dataset_schemas = Table(
    "dataset_schemas",
    metadata,
    Column(
        "dataset_id", String(32), ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("schema", Text, nullable=False),  # JSON
    Column("revision", Integer, nullable=False),
    Column("updated_time", BigInteger, nullable=False),
    Column("updated_by", String(256), nullable=False),
)

# Who may use a restricted dataset (server mode): no row means the workspace's roles decide
# alone; with rows, only the users listed (and the workspace's admins) see it at all.
dataset_access = Table(
    "dataset_access",
    metadata,
    Column(
        "dataset_id", String(32), ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("user_name", String(256), primary_key=True),
    Column("role", String(16), nullable=False),  # reader | writer
)
