"""MLflow's logged models: the model, its params and its tags.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mlflow_logged_models",
        sa.Column("id", sa.String(34), nullable=False),
        sa.Column("workspace_id", sa.String(64), nullable=False),
        sa.Column("experiment_id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("source_run_id", sa.String(32), nullable=True),
        sa.Column("model_type", sa.String(256), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("storage_uri", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(256), nullable=False),
        sa.Column("created_time", sa.BigInteger(), nullable=False),
        sa.Column("updated_time", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name="fk_mlflow_logged_models_workspace_id_workspaces",
        ),
        sa.ForeignKeyConstraint(
            ["experiment_id"],
            ["experiments.id"],
            name="fk_mlflow_logged_models_experiment_id_experiments",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["source_run_id"],
            ["runs.id"],
            name="fk_mlflow_logged_models_source_run_id_runs",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_mlflow_logged_models"),
    )
    op.create_index(
        "ix_mlflow_logged_models_experiment",
        "mlflow_logged_models",
        ["workspace_id", "experiment_id", "name"],
    )
    op.create_index("ix_mlflow_logged_models_run", "mlflow_logged_models", ["source_run_id"])
    for table, length in (("mlflow_logged_model_params", 6000), ("mlflow_logged_model_tags", 8000)):
        op.create_table(
            table,
            sa.Column("model_id", sa.String(34), nullable=False),
            sa.Column("key", sa.String(250), nullable=False),
            sa.Column("value", sa.String(length), nullable=False),
            sa.ForeignKeyConstraint(
                ["model_id"],
                ["mlflow_logged_models.id"],
                name=f"fk_{table}_model_id_mlflow_logged_models",
                ondelete="CASCADE",
            ),
            sa.PrimaryKeyConstraint("model_id", "key", name=f"pk_{table}"),
            sqlite_with_rowid=False,
        )


def downgrade() -> None:
    op.drop_table("mlflow_logged_model_tags")
    op.drop_table("mlflow_logged_model_params")
    op.drop_index("ix_mlflow_logged_models_run", table_name="mlflow_logged_models")
    op.drop_index("ix_mlflow_logged_models_experiment", table_name="mlflow_logged_models")
    op.drop_table("mlflow_logged_models")
