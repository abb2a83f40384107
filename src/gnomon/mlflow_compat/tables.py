"""MLflow's logged models (MLflow 3): a model logged by MLflow's client, its files in the
artifact store, its params and tags in key/value tables (as tracking's and the registry's,
so that setting one tag never rewrites what another writer is changing)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, Index, String, Table, Text

from gnomon.checks import KEY_LENGTH
from gnomon.store.metadata import metadata
from gnomon.tracking.validation import NAME_LENGTH, PARAM_VALUE_LENGTH, TAG_VALUE_LENGTH

MODEL_ID_LENGTH = 34  # "m-" and 32 hex digits, as MLflow writes its model ids

mlflow_logged_models = Table(
    "mlflow_logged_models",
    metadata,
    Column("id", String(MODEL_ID_LENGTH), primary_key=True),
    Column("workspace_id", String(64), ForeignKey("workspaces.id"), nullable=False),
    Column(
        "experiment_id",
        String(32),
        ForeignKey("experiments.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("name", String(NAME_LENGTH), nullable=False),
    Column("source_run_id", String(32), ForeignKey("runs.id", ondelete="SET NULL")),
    Column("model_type", String(NAME_LENGTH), nullable=False),
    Column("status", String(16), nullable=False),
    Column("storage_uri", Text, nullable=False),
    Column("created_by", String(256), nullable=False),
    Column("created_time", BigInteger, nullable=False),
    Column("updated_time", BigInteger, nullable=False),
    Index("ix_mlflow_logged_models_experiment", "workspace_id", "experiment_id", "name"),
    Index("ix_mlflow_logged_models_run", "source_run_id"),
)


def _key_value(name: str, value_length: int) -> Table:
    return Table(
        name,
        metadata,
        Column(
            "model_id",
            String(MODEL_ID_LENGTH),
            ForeignKey("mlflow_logged_models.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        Column("key", String(KEY_LENGTH), primary_key=True),
        Column("value", String(value_length), nullable=False),
        sqlite_with_rowid=False,
    )


mlflow_logged_model_params = _key_value("mlflow_logged_model_params", PARAM_VALUE_LENGTH)
mlflow_logged_model_tags = _key_value("mlflow_logged_model_tags", TAG_VALUE_LENGTH)
