"""Alembic environment: always run with a connection handed in by gnomon.store.migrate."""

from __future__ import annotations

from alembic import context

from gnomon.store.metadata import metadata
from gnomon.store.migrate import load_all_tables

load_all_tables()
connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
