"""MLflow's logged models (MLflow 3) kept by gnomon: what ``mlflow.<flavor>.log_model`` makes
through MLflow's client, so that the model can then be registered and loaded back.

A logged model is created PENDING, its files are uploaded into its own folder of the
artifact store, and MLflow's client finalizes it READY (or FAILED). From then on its files
are sealed: a registered version points at them and records their digests. The server only
stores and hashes the files; it never loads the model.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, delete, select, update

from gnomon._types import Scope, new_id, now_ms
from gnomon.artifacts import ArtifactStore
from gnomon.checks import KEY_LENGTH
from gnomon.errors import Conflict, InvalidInput, NotFound
from gnomon.mlflow_compat.tables import (
    mlflow_logged_model_params,
    mlflow_logged_model_tags,
    mlflow_logged_models,
)
from gnomon.store.database import Database
from gnomon.store.paging import fetch_page
from gnomon.tracking import validation as v
from gnomon.tracking.entities import Lifecycle
from gnomon.tracking.service import TrackingService

MAX_FILES_HASHED = 10_000  # files of one model whose digests a registration records


class ModelStatus(StrEnum):
    PENDING = "PENDING"
    READY = "READY"
    FAILED = "FAILED"


@dataclass(frozen=True, slots=True)
class LoggedModel:
    id: str
    experiment_id: str
    name: str
    source_run_id: str | None
    model_type: str
    status: ModelStatus
    storage_uri: str
    created_by: str
    created_time: int
    updated_time: int
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)


class LoggedModelService:
    """Logged models in the metadata database, scoped by workspace like everything else."""

    def __init__(
        self,
        db: Database,
        tracking: TrackingService,
        artifact_root: str,
        open_store: Callable[[str], ArtifactStore],
    ) -> None:
        self.db = db
        self.tracking = tracking
        self.artifact_root = artifact_root.rstrip("/")
        self._open_store = open_store

    def create(
        self,
        scope: Scope,
        experiment_id: str,
        name: str,
        *,
        source_run_id: str | None = None,
        model_type: str = "",
        params: Mapping[str, str] | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> LoggedModel:
        """Raises: NotFound (the experiment or run), InvalidInput (a name, param or tag)."""
        experiment = self.tracking.get_experiment(scope, experiment_id)
        if experiment.lifecycle is not Lifecycle.ACTIVE:
            raise Conflict(f"experiment {experiment.id!r} is deleted: restore it first")
        if source_run_id:
            run = self.tracking.get_run(scope, source_run_id)
            if run.experiment_id != experiment.id:
                raise InvalidInput(
                    f"run {source_run_id!r} is in experiment {run.experiment_id!r}, "
                    f"not {experiment.id!r}"
                )
        v.check_name("logged model", name)
        v.check_name("model type", model_type or "model")
        checked_params = v.params_dict(params or {})
        checked_tags = v.tags_dict(tags)
        model_id = f"m-{new_id()}"
        now = now_ms()
        row = {
            "id": model_id,
            "workspace_id": scope.workspace,
            "experiment_id": experiment.id,
            "name": name,
            "source_run_id": source_run_id or None,
            "model_type": model_type,
            "status": ModelStatus.PENDING.value,
            "storage_uri": f"{self.artifact_root}/{scope.workspace}/mlflow-models/{model_id}",
            "created_by": scope.principal,
            "created_time": now,
            "updated_time": now,
        }
        with self.db.write() as conn:
            conn.execute(mlflow_logged_models.insert().values(**row))
            _write(conn, mlflow_logged_model_params, model_id, checked_params)
            _write(conn, mlflow_logged_model_tags, model_id, checked_tags)
            return self._get(conn, scope, model_id)

    def get(self, scope: Scope, model_id: str) -> LoggedModel:
        with self.db.read() as conn:
            return self._get(conn, scope, model_id)

    def search(
        self,
        scope: Scope,
        experiment_ids: Sequence[str],
        *,
        name: str | None = None,
        source_run_id: str | None = None,
        max_results: int = 100,
        page_token: str | None = None,
    ) -> tuple[list[LoggedModel], str | None]:
        table = mlflow_logged_models
        query = select(table).where(
            table.c.workspace_id == scope.workspace, table.c.experiment_id.in_(experiment_ids)
        )
        if name is not None:
            query = query.where(table.c.name == name)
        if source_run_id is not None:
            query = query.where(table.c.source_run_id == source_run_id)
        query = query.order_by(table.c.created_time.desc(), table.c.id)
        with self.db.read() as conn:
            rows, token = fetch_page(conn, query, max_results, page_token)
            return [self._with_data(conn, row) for row in rows], token

    def finalize(self, scope: Scope, model_id: str, status: ModelStatus) -> LoggedModel:
        """PENDING → READY or FAILED, once.

        Raises: NotFound, Conflict (already finalized as something else)."""
        with self.db.write() as conn:
            model = self._get(conn, scope, model_id)
            if model.status is status:
                return model
            if model.status is not ModelStatus.PENDING or status is ModelStatus.PENDING:
                raise Conflict(
                    f"logged model {model_id!r} is {model.status.value}; "
                    f"it cannot become {status.value}"
                )
            conn.execute(
                update(mlflow_logged_models)
                .where(mlflow_logged_models.c.id == model_id)
                .values(status=status.value, updated_time=now_ms())
            )
            return self._get(conn, scope, model_id)

    def set_tags(self, scope: Scope, model_id: str, tags: Mapping[str, str]) -> None:
        checked = v.tags_dict(tags)
        with self.db.write() as conn:
            self._get(conn, scope, model_id)
            conn.execute(
                delete(mlflow_logged_model_tags).where(
                    mlflow_logged_model_tags.c.model_id == model_id,
                    mlflow_logged_model_tags.c.key.in_(list(checked)),
                )
            )
            _write(conn, mlflow_logged_model_tags, model_id, checked)

    def delete_tag(self, scope: Scope, model_id: str, key: str) -> None:
        if not key or len(key) > KEY_LENGTH:
            raise InvalidInput(f"tag key must be 1 to {KEY_LENGTH} characters")
        with self.db.write() as conn:
            self._get(conn, scope, model_id)
            conn.execute(
                delete(mlflow_logged_model_tags).where(
                    mlflow_logged_model_tags.c.model_id == model_id,
                    mlflow_logged_model_tags.c.key == key,
                )
            )

    def log_params(self, scope: Scope, model_id: str, params: Mapping[str, str]) -> None:
        """Raises: Conflict (a param already set to another value: params are immutable)."""
        checked = v.params_dict(params)
        with self.db.write() as conn:
            model = self._get(conn, scope, model_id)
            for key, value in checked.items():
                if key in model.params and model.params[key] != value:
                    raise Conflict(
                        f"param {key!r} of logged model {model_id!r} is already "
                        f"{model.params[key]!r}; params are immutable"
                    )
            new = {k: val for k, val in checked.items() if k not in model.params}
            _write(conn, mlflow_logged_model_params, model_id, new)

    def delete(self, scope: Scope, model_id: str) -> None:
        with self.db.write() as conn:
            self._get(conn, scope, model_id)
            conn.execute(delete(mlflow_logged_models).where(mlflow_logged_models.c.id == model_id))

    # -- files -------------------------------------------------------------------------------

    def store(self, model: LoggedModel) -> ArtifactStore:
        return self._open_store(model.storage_uri)

    def check_upload(self, scope: Scope, model_id: str) -> LoggedModel:
        """The model, if files may still be added: only while it is PENDING.

        Raises: NotFound, Conflict (finalized: its files are sealed)."""
        model = self.get(scope, model_id)
        if model.status is not ModelStatus.PENDING:
            raise Conflict(
                f"logged model {model_id!r} is {model.status.value}: its files are sealed"
            )
        return model

    def digests(self, model: LoggedModel) -> dict[str, str]:
        """sha256 of each of the model's files, for a registration to record. The files are
        listed (and counted) first, then copied and hashed one at a time, so a large model is
        neither held in memory nor copied whole to disk."""
        store = self.store(model)
        keys: list[str] = []
        pending = [""]
        while pending:
            for info in store.list(pending.pop()):
                if info.is_dir:
                    pending.append(info.path)
                    continue
                keys.append(info.path)
                if len(keys) > MAX_FILES_HASHED:
                    raise InvalidInput(
                        f"logged model {model.id!r} has more than {MAX_FILES_HASHED:,} files"
                    )
        found: dict[str, str] = {}
        for key in sorted(keys):
            with tempfile.TemporaryDirectory(prefix="gnomon-mlflow-model-") as folder:
                local = store.download(key, Path(folder))
                digest = hashlib.sha256()
                with local.open("rb") as source:
                    for chunk in iter(lambda: source.read(1 << 20), b""):
                        digest.update(chunk)
                found[key] = digest.hexdigest()
        return found

    def delete_files(self, model: LoggedModel) -> None:
        store = self.store(model)
        for entry in store.list(""):
            store.delete(entry.path)

    # -- helpers -----------------------------------------------------------------------------

    def _get(self, conn: Connection, scope: Scope, model_id: str) -> LoggedModel:
        table = mlflow_logged_models
        row = conn.execute(
            select(table).where(table.c.id == model_id, table.c.workspace_id == scope.workspace)
        ).first()
        if row is None:
            raise NotFound(f"logged model {model_id!r} not found")
        return self._with_data(conn, row)

    def _with_data(self, conn: Connection, row: Any) -> LoggedModel:
        params = _read(conn, mlflow_logged_model_params, row.id)
        tags = _read(conn, mlflow_logged_model_tags, row.id)
        values = {c: getattr(row, c) for c in _FIELDS}
        return LoggedModel(**values, status=ModelStatus(row.status), params=params, tags=tags)


_FIELDS = (
    "id",
    "experiment_id",
    "name",
    "source_run_id",
    "model_type",
    "storage_uri",
    "created_by",
    "created_time",
    "updated_time",
)


def _write(conn: Connection, table: Any, model_id: str, values: Mapping[str, str]) -> None:
    if values:
        rows = [{"model_id": model_id, "key": k, "value": val} for k, val in values.items()]
        conn.execute(table.insert(), rows)


def _read(conn: Connection, table: Any, model_id: str) -> dict[str, str]:
    rows = conn.execute(select(table.c.key, table.c.value).where(table.c.model_id == model_id))
    return dict(rows.all())
