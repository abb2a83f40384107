"""Datasets, versions, schemas, access lists, each workspace's content objects, run inputs.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "datasets",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("workspace_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("latest_version", sa.Integer(), nullable=False),
        sa.Column("created_time", sa.BigInteger(), nullable=False),
        sa.Column("updated_time", sa.BigInteger(), nullable=False),
        sa.Column("created_by", sa.String(256), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspaces.id"], name="fk_datasets_workspace_id_workspaces"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_datasets"),
    )
    op.create_index("uq_datasets_workspace_name", "datasets", ["workspace_id", "name"], unique=True)
    op.create_table(
        "dataset_versions",
        sa.Column("dataset_id", sa.String(32), nullable=False),
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("manifest_digest", sa.String(48), nullable=False),
        sa.Column("files", sa.BigInteger(), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("run_id", sa.String(32), nullable=True),
        sa.Column("created_time", sa.BigInteger(), nullable=False),
        sa.Column("created_by", sa.String(256), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["datasets.id"],
            name="fk_dataset_versions_dataset_id_datasets",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("dataset_id", "version", name="pk_dataset_versions"),
    )
    op.create_table(
        "dataset_objects",
        sa.Column("workspace_id", sa.String(64), nullable=False),
        sa.Column("digest", sa.String(48), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspaces.id"], name="fk_dataset_objects_workspace_id_workspaces"
        ),
        sa.PrimaryKeyConstraint("workspace_id", "digest", name="pk_dataset_objects"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "run_inputs",
        sa.Column("run_id", sa.String(32), nullable=False),
        sa.Column("dataset_id", sa.String(32), nullable=False),
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("context", sa.String(64), nullable=False),
        sa.Column("recorded_time", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name="fk_run_inputs_run_id_runs", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["datasets.id"],
            name="fk_run_inputs_dataset_id_datasets",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_id", "dataset_id", "version", name="pk_run_inputs"),
    )
    op.create_index("ix_run_inputs_dataset_version", "run_inputs", ["dataset_id", "version"])
    op.create_table(
        "dataset_schemas",
        sa.Column("dataset_id", sa.String(32), nullable=False),
        sa.Column("schema", sa.Text(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("updated_time", sa.BigInteger(), nullable=False),
        sa.Column("updated_by", sa.String(256), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["datasets.id"],
            name="fk_dataset_schemas_dataset_id_datasets",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("dataset_id", name="pk_dataset_schemas"),
    )
    op.create_table(
        "dataset_access",
        sa.Column("dataset_id", sa.String(32), nullable=False),
        sa.Column("user_name", sa.String(256), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["datasets.id"],
            name="fk_dataset_access_dataset_id_datasets",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("dataset_id", "user_name", name="pk_dataset_access"),
    )


def downgrade() -> None:
    op.drop_table("dataset_access")
    op.drop_table("dataset_schemas")
    op.drop_index("ix_run_inputs_dataset_version", table_name="run_inputs")
    op.drop_table("run_inputs")
    op.drop_table("dataset_objects")
    op.drop_table("dataset_versions")
    op.drop_index("uq_datasets_workspace_name", table_name="datasets")
    op.drop_table("datasets")
