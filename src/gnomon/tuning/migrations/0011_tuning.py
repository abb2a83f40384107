"""Tuning studies and their journals.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tuning_studies",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("workspace_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("directions", sa.Text(), nullable=False),
        sa.Column("settings", sa.Text(), nullable=False),
        sa.Column("experiment_id", sa.String(32), nullable=True),
        sa.Column("run_id", sa.String(32), nullable=True),
        sa.Column("logs", sa.BigInteger(), nullable=False),
        sa.Column("created_time", sa.BigInteger(), nullable=False),
        sa.Column("created_by", sa.String(256), nullable=False),
        sa.Column("updated_time", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspaces.id"], name="fk_tuning_studies_workspace_id_workspaces"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_tuning_studies"),
        sa.UniqueConstraint("workspace_id", "name", name="uq_tuning_studies_workspace_id_name"),
    )
    op.create_table(
        "tuning_journal",
        sa.Column("study_id", sa.String(32), nullable=False),
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("log", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["study_id"], ["tuning_studies.id"], name="fk_tuning_journal_study_id_tuning_studies"
        ),
        sa.PrimaryKeyConstraint("study_id", "seq", name="pk_tuning_journal"),
    )


def downgrade() -> None:
    op.drop_table("tuning_journal")
    op.drop_table("tuning_studies")
