"""Registering a run's logged model: the registry keeps its own copy of the model folder.

A registered version must outlive the run it came from (runs get deleted, their artifacts
collected), so registration copies the folder into the registry's storage and the version
points there. Loading by ``models:/…`` reads only that copy.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from gnomon._types import Scope, new_id
from gnomon.artifacts.store import ArtifactStore
from gnomon.errors import InvalidInput, NotFound
from gnomon.registry.entities import ModelVersion, NewVersion
from gnomon.registry.service import RegistryService
from gnomon.registry.uris import parse_run_uri
from gnomon.tracking.service import TrackingService

MODEL_FILE = "gnomon-model.yaml"


class Registrar:
    """Copies models between run artifacts and the registry's storage."""

    def __init__(
        self,
        tracking: TrackingService,
        registry: RegistryService,
        storage_root: str,
        open_store: Callable[[str], ArtifactStore],
    ) -> None:
        self.tracking = tracking
        self.registry = registry
        self.storage_root = storage_root.rstrip("/")
        self._open_store = open_store

    def register(
        self,
        scope: Scope,
        source: str,
        name: str,
        *,
        description: str = "",
        tags: Mapping[str, Any] | None = None,
        alias: str | None = None,
    ) -> ModelVersion:
        """Register ``source`` (``runs:/<run id>/<path>``) as the next version of ``name``.

        Raises:
            NotFound: the run does not exist.
            InvalidInput: the run has no gnomon model at that path, or a bad name or alias.
        """
        from gnomon.models import read_spec

        uri = parse_run_uri(source)
        self.tracking.get_run(scope, uri.run_id)  # NotFound names the run
        self.registry.check_model_name(name)
        if alias is not None:
            self.registry.check_alias(alias)
        with tempfile.TemporaryDirectory(prefix="gnomon-register-") as tmp:
            folder = self._download_run_model(scope, uri.run_id, uri.path, Path(tmp))
            spec = read_spec(folder)
            storage_uri = f"{self.storage_root}/{scope.workspace}/registry/{new_id()}"
            self._open_store(storage_uri).put_dir(folder, "")
        version = self.registry.create_version(
            scope,
            name,
            NewVersion(
                source=str(uri),
                run_id=uri.run_id,
                storage_uri=storage_uri,
                flavor=spec.flavor,
                description=description,
                tags=dict(tags or {}),
                created_by=scope.principal,
            ),
        )
        if alias is not None:
            self.registry.set_alias(scope, name, alias, version.version)
            version = self.registry.get_version(scope, name, version.version)
        return version

    def download_version(self, scope: Scope, uri: str, dst: Path) -> Path:
        """Copy the model folder of ``models:/name/version`` (or ``@alias``) into ``dst``."""
        name, selector = self.registry.parse_model_uri(uri)
        version = self.registry.resolve(scope, name, selector)
        target = dst / f"{name}-v{version.version}"
        target.mkdir(parents=True, exist_ok=True)
        store = self._open_store(version.storage_uri)
        for entry in store.list():
            store.download(entry.path, target)
        return target

    def _download_run_model(self, scope: Scope, run_id: str, path: str, dst: Path) -> Path:
        try:
            folder = self.tracking.download_artifacts(scope, run_id, path, dst)
        except NotFound:
            folder = None
        if folder is None or not (folder / MODEL_FILE).is_file():
            raise InvalidInput(
                f"run {run_id!r} has no gnomon model at {path!r} "
                f"(log one with gnomon.log_model(model, {path!r}))"
            )
        return folder
