"""Feature definitions, their versions, and views' materialisation state.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-10
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def _workspace_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["workspace_id"], ["workspaces.id"], name=f"fk_{table}_workspace_id_workspaces"
    )


def upgrade() -> None:
    op.create_table(
        "feature_definitions",
        sa.Column("workspace_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("spec", sa.Text(), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("created_time", sa.BigInteger(), nullable=False),
        sa.Column("updated_time", sa.BigInteger(), nullable=False),
        sa.Column("updated_by", sa.String(256), nullable=False),
        _workspace_fk("feature_definitions"),
        sa.PrimaryKeyConstraint("workspace_id", "kind", "name", name="pk_feature_definitions"),
    )
    op.create_table(
        "feature_definition_versions",
        sa.Column("workspace_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("spec", sa.Text(), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("created_time", sa.BigInteger(), nullable=False),
        sa.Column("created_by", sa.String(256), nullable=False),
        _workspace_fk("feature_definition_versions"),
        sa.PrimaryKeyConstraint(
            "workspace_id", "kind", "name", "version", name="pk_feature_definition_versions"
        ),
    )
    op.create_table(
        "feature_materializations",
        sa.Column("workspace_id", sa.String(64), nullable=False),
        sa.Column("view", sa.String(128), nullable=False),
        sa.Column("watermark_ms", sa.BigInteger(), nullable=True),
        sa.Column("last_run_ms", sa.BigInteger(), nullable=False),
        sa.Column("rows", sa.BigInteger(), nullable=False),
        _workspace_fk("feature_materializations"),
        sa.PrimaryKeyConstraint("workspace_id", "view", name="pk_feature_materializations"),
    )


def downgrade() -> None:
    op.drop_table("feature_materializations")
    op.drop_table("feature_definition_versions")
    op.drop_table("feature_definitions")
