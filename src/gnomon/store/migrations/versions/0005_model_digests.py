"""Model digests: the sha256 of each registered version's files and YAML, and the models
each run logged, recorded by the side that stored them.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-19
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable: versions registered before this revision have nothing recorded (and so
    # cannot be loaded until registered again). SQLite adds nullable columns in place.
    op.add_column("model_versions", sa.Column("files", sa.Text(), nullable=True))
    op.add_column("model_versions", sa.Column("spec_sha256", sa.String(64), nullable=True))
    op.create_table(
        "logged_models",
        sa.Column("run_id", sa.String(32), nullable=False),
        sa.Column("path", sa.String(1000), nullable=False),
        sa.Column("files", sa.Text(), nullable=False),
        sa.Column("spec_sha256", sa.String(64), nullable=False),
        sa.Column("created_time", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name="fk_logged_models_run_id_runs", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("run_id", "path", name="pk_logged_models"),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.drop_table("logged_models")
    with op.batch_alter_table("model_versions") as batch:
        batch.drop_column("spec_sha256")
        batch.drop_column("files")
