"""The logged-model half of SqlRegistryStore: the digests of each model a run logged."""

from __future__ import annotations

import json

from sqlalchemy import select

from gnomon._types import Scope
from gnomon.errors import Conflict, NotFound
from gnomon.registry.entities import LoggedModel
from gnomon.registry.tables import logged_models
from gnomon.store.database import Database
from gnomon.tracking.entities import RunStatus
from gnomon.tracking.tables import runs

_logged = logged_models.c


class SqlLoggedModels:
    """Mixed into SqlRegistryStore; every method is one transaction."""

    db: Database

    def record_logged_model(self, scope: Scope, model: LoggedModel) -> LoggedModel:
        with self.db.write() as conn:
            # Checked in the write transaction, so a run ending meanwhile cannot slip by.
            status = conn.execute(
                select(runs.c.status).where(
                    runs.c.id == model.run_id, runs.c.workspace_id == scope.workspace
                )
            ).scalar()
            if status is None:
                raise NotFound(f"run {model.run_id!r} not found")
            if status != RunStatus.RUNNING.value:
                raise Conflict(
                    f"run {model.run_id!r} is {status}; a model is recorded while its run runs",
                    {"run_id": model.run_id, "status": status},
                )
            taken = conn.execute(
                select(_logged.path).where(
                    _logged.run_id == model.run_id, _logged.path == model.path
                )
            ).first()
            if taken is not None:
                raise Conflict(
                    f"run {model.run_id!r} already logged a model at {model.path!r}; a logged "
                    "model is sealed: log the new one under another name",
                    {"run_id": model.run_id, "path": model.path},
                )
            conn.execute(
                logged_models.insert().values(
                    run_id=model.run_id,
                    path=model.path,
                    files=json.dumps(model.files, sort_keys=True),
                    spec_sha256=model.spec_sha256,
                    created_time=model.created_time,
                )
            )
        return model

    def list_logged_models(self, scope: Scope, run_id: str) -> list[LoggedModel]:
        statement = (
            select(logged_models)
            .join(runs, runs.c.id == _logged.run_id)
            .where(_logged.run_id == run_id, runs.c.workspace_id == scope.workspace)
            .order_by(_logged.path)
        )
        with self.db.read() as conn:
            rows = conn.execute(statement).all()
        return [
            LoggedModel(r.run_id, r.path, json.loads(r.files), r.spec_sha256, r.created_time)
            for r in rows
        ]
