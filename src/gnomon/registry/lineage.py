"""Which registered model versions came from which runs: the models side of
``gnomon data used-by`` (the data capability, built first, cannot read these tables)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from gnomon._types import Scope
from gnomon.data.entities import ModelUse
from gnomon.registry.tables import model_versions, registered_models
from gnomon.store.database import Database

_m = registered_models.c
_v = model_versions.c
_IN_CHUNK = 500


def versions_of_runs(db: Database, scope: Scope, run_ids: Sequence[str]) -> list[ModelUse]:
    """The workspace's model versions whose source run is one of ``run_ids``."""
    wanted = sorted(set(run_ids))
    found: list[ModelUse] = []
    with db.read() as conn:
        for start in range(0, len(wanted), _IN_CHUNK):
            rows = conn.execute(
                select(_m.name, _v.version, _v.run_id)
                .join(registered_models, _m.id == _v.model_id)
                .where(_m.workspace_id == scope.workspace)
                .where(_v.run_id.in_(wanted[start : start + _IN_CHUNK]))
            ).all()
            found.extend(ModelUse(name, version, run_id) for name, version, run_id in rows)
    return sorted(found, key=lambda use: (use.model, use.version))
