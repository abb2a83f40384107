"""Model registry: registered models, versions, tags, aliases and alias history.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _model_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["model_id"],
        ["registered_models.id"],
        name=f"fk_{table}_model_id_registered_models",
        ondelete="CASCADE",
    )


def _version_fk(table: str, ondelete: str | None) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["model_id", "version"],
        ["model_versions.model_id", "model_versions.version"],
        name=f"fk_{table}_model_id_model_versions",
        ondelete=ondelete,
    )


def upgrade() -> None:
    op.create_table(
        "registered_models",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("workspace_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("last_version", sa.Integer(), nullable=False),
        sa.Column("created_time", sa.BigInteger(), nullable=False),
        sa.Column("updated_time", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspaces.id"], name="fk_registered_models_workspace_id_workspaces"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_registered_models"),
    )
    op.create_index(
        "uq_registered_models_workspace_name",
        "registered_models",
        ["workspace_id", "name"],
        unique=True,
    )
    op.create_table(
        "model_versions",
        sa.Column("model_id", sa.String(32), nullable=False),
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("run_id", sa.String(32), nullable=True),
        sa.Column("storage_uri", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("flavor", sa.String(64), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(256), nullable=False),
        sa.Column("created_time", sa.BigInteger(), nullable=False),
        sa.Column("updated_time", sa.BigInteger(), nullable=False),
        _model_fk("model_versions"),
        sa.PrimaryKeyConstraint("model_id", "version", name="pk_model_versions"),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_model_versions_run_id", "model_versions", ["run_id"])
    op.create_table(
        "model_tags",
        sa.Column("model_id", sa.String(32), nullable=False),
        sa.Column("key", sa.String(250), nullable=False),
        sa.Column("value", sa.String(8000), nullable=False),
        _model_fk("model_tags"),
        sa.PrimaryKeyConstraint("model_id", "key", name="pk_model_tags"),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_model_tags_key_value", "model_tags", ["key", "value", "model_id"])
    op.create_table(
        "version_tags",
        sa.Column("model_id", sa.String(32), nullable=False),
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("key", sa.String(250), nullable=False),
        sa.Column("value", sa.String(8000), nullable=False),
        _version_fk("version_tags", "CASCADE"),
        sa.PrimaryKeyConstraint("model_id", "version", "key", name="pk_version_tags"),
        sqlite_with_rowid=False,
    )
    op.create_index(
        "ix_version_tags_key_value", "version_tags", ["key", "value", "model_id", "version"]
    )
    op.create_table(
        "model_aliases",
        sa.Column("model_id", sa.String(32), nullable=False),
        sa.Column("alias", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        _model_fk("model_aliases"),
        _version_fk("model_aliases", None),
        sa.PrimaryKeyConstraint("model_id", "alias", name="pk_model_aliases"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "alias_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("model_id", sa.String(32), nullable=False),
        sa.Column("alias", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("previous", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(256), nullable=False),
        sa.Column("time", sa.BigInteger(), nullable=False),
        _model_fk("alias_events"),
        sa.PrimaryKeyConstraint("id", name="pk_alias_events"),
    )
    op.create_index("ix_alias_events_model_id_alias", "alias_events", ["model_id", "alias", "id"])


def downgrade() -> None:
    for table in (
        "alias_events",
        "model_aliases",
        "version_tags",
        "model_tags",
        "model_versions",
        "registered_models",
    ):
        op.drop_table(table)
