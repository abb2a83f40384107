"""Tuning tables: a workspace's studies, and each study's journal (Optuna's own log of
operations, one JSON object per row, numbered from 0)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from gnomon.store.metadata import metadata

NAME_LENGTH = 128

tuning_studies = Table(
    "tuning_studies",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("workspace_id", String(64), ForeignKey("workspaces.id"), nullable=False),
    Column("name", String(NAME_LENGTH), nullable=False),
    Column("directions", Text, nullable=False),  # JSON list: "minimize" | "maximize"
    Column("settings", Text, nullable=False),  # JSON: sampler, pruner, space, objective
    Column("experiment_id", String(32), nullable=True),
    Column("run_id", String(32), nullable=True),  # the study's run; trials nest under it
    Column("logs", BigInteger, nullable=False),  # journal rows so far: the next one's number
    Column("created_time", BigInteger, nullable=False),
    Column("created_by", String(256), nullable=False),
    Column("updated_time", BigInteger, nullable=False),
    UniqueConstraint("workspace_id", "name", name="uq_tuning_studies_workspace_id_name"),
)

tuning_journal = Table(
    "tuning_journal",
    metadata,
    Column("study_id", String(32), ForeignKey("tuning_studies.id"), primary_key=True),
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("log", Text, nullable=False),
)
