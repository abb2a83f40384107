"""Where a run logged models, which tracking seals against writes (``LoggedModelPaths``).

One query on ``logged_models``, in a module that imports none of the rest of the registry: a
run's first artifact write (its environment files) asks for it, and the registry's service,
store and client are imported only when something else needs them.
"""

from __future__ import annotations

import functools

from sqlalchemy import Dialect

from gnomon._types import Scope
from gnomon.store import driver_sql
from gnomon.store.database import Database


def logged_model_paths(db: Database, scope: Scope, run_id: str) -> list[str]:
    """The artifact paths of the models run ``run_id`` of the scope's workspace logged."""
    with db.read() as conn:
        found = driver_sql.rows(conn, _paths_sql(conn.dialect), (run_id, scope.workspace))
    return [path for (path,) in found]


@functools.lru_cache(maxsize=4)
def _paths_sql(dialect: Dialect) -> str:
    m = driver_sql.marker(dialect)
    return (
        "SELECT l.path FROM logged_models AS l JOIN runs AS r ON r.id = l.run_id "
        f"WHERE l.run_id = {m} AND r.workspace_id = {m} ORDER BY l.path"
    )
