"""Registry tables: registered models, versions, tags, aliases and the history of aliases.

Tags live in key/value tables rather than a JSON column, as in tracking: a tag filter is an
indexed join that compiles the same on SQLite and PostgreSQL (their JSON operators differ),
and setting one tag writes one row instead of rewriting a blob another writer may be
changing at the same time.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from gnomon.checks import KEY_LENGTH
from gnomon.registry.entities import LOGGED_PATH_LENGTH
from gnomon.store.metadata import metadata
from gnomon.tracking.validation import NAME_LENGTH, TAG_VALUE_LENGTH

ALIAS_LENGTH = 64

# 64-bit ids on PostgreSQL; SQLite autoincrements only an INTEGER PRIMARY KEY (64-bit anyway).
_BIG_ID = BigInteger().with_variant(Integer(), "sqlite")

registered_models = Table(
    "registered_models",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("workspace_id", String(64), ForeignKey("workspaces.id"), nullable=False),
    Column("name", String(NAME_LENGTH), nullable=False),
    Column("description", Text, nullable=False),
    # The highest number ever given, so a deleted version's number is never handed out again:
    # models:/name/3 must always mean the same files. Incremented under the model row's lock.
    Column("last_version", Integer, nullable=False),
    Column("created_time", BigInteger, nullable=False),
    Column("updated_time", BigInteger, nullable=False),
    Index("uq_registered_models_workspace_name", "workspace_id", "name", unique=True),
)

model_versions = Table(
    "model_versions",
    metadata,
    Column(
        "model_id",
        String(32),
        ForeignKey("registered_models.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("source", Text, nullable=False),
    # No foreign key to runs: a version outlives its run (the registry keeps its own copy).
    Column("run_id", String(32)),
    Column("storage_uri", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("flavor", String(64), nullable=False),
    Column("description", Text, nullable=False),
    Column("created_by", String(256), nullable=False),
    Column("created_time", BigInteger, nullable=False),
    Column("updated_time", BigInteger, nullable=False),
    # What the registry stored, hashed by the side that stored it: {path: sha256} as JSON,
    # and the sha256 of gnomon-model.yaml. Loading checks the copy against these, so
    # rewriting a file and the YAML's hash list in storage is still caught. NULL: a version
    # registered before 0005 (nothing to check against, so it cannot load).
    Column("files", Text),
    Column("spec_sha256", String(64)),
    Index("ix_model_versions_run_id", "run_id"),
    sqlite_with_rowid=False,
)

model_tags = Table(
    "model_tags",
    metadata,
    Column(
        "model_id",
        String(32),
        ForeignKey("registered_models.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("key", String(KEY_LENGTH), primary_key=True),
    Column("value", String(TAG_VALUE_LENGTH), nullable=False),
    Index("ix_model_tags_key_value", "key", "value", "model_id"),
    sqlite_with_rowid=False,
)

version_tags = Table(
    "version_tags",
    metadata,
    Column("model_id", String(32), primary_key=True),
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("key", String(KEY_LENGTH), primary_key=True),
    Column("value", String(TAG_VALUE_LENGTH), nullable=False),
    ForeignKeyConstraint(
        ["model_id", "version"],
        ["model_versions.model_id", "model_versions.version"],
        ondelete="CASCADE",
    ),
    Index("ix_version_tags_key_value", "key", "value", "model_id", "version"),
    sqlite_with_rowid=False,
)

# Each model a run logged, hashed when it was stored: the run's files under ``path`` are
# sealed from then on, and runs:/ loads and registrations are checked against these digests.
logged_models = Table(
    "logged_models",
    metadata,
    Column("run_id", String(32), ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    Column("path", String(LOGGED_PATH_LENGTH), primary_key=True),
    Column("files", Text, nullable=False),
    Column("spec_sha256", String(64), nullable=False),
    Column("created_time", BigInteger, nullable=False),
    sqlite_with_rowid=False,
)

# The foreign key to the version (no cascade) is the backstop: the database refuses an alias
# pointing at a version that does not exist, and deleting a version that an alias still
# names fails instead of leaving the alias dangling.
model_aliases = Table(
    "model_aliases",
    metadata,
    Column(
        "model_id",
        String(32),
        ForeignKey("registered_models.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("alias", String(ALIAS_LENGTH), primary_key=True),
    Column("version", Integer, nullable=False),
    ForeignKeyConstraint(
        ["model_id", "version"], ["model_versions.model_id", "model_versions.version"]
    ),
    sqlite_with_rowid=False,
)

# Every alias move, in commit order per model (moves of one model are serialised by the
# model row's lock, so ids grow in the order the moves happened).
alias_events = Table(
    "alias_events",
    metadata,
    Column("id", _BIG_ID, primary_key=True, autoincrement=True),
    Column(
        "model_id",
        String(32),
        ForeignKey("registered_models.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("alias", String(ALIAS_LENGTH), nullable=False),
    Column("version", Integer),
    Column("previous", Integer),
    Column("actor", String(256), nullable=False),
    Column("time", BigInteger, nullable=False),
    Index("ix_alias_events_model_id_alias", "model_id", "alias", "id"),
)
