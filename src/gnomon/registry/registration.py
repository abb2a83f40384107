"""Registering a run's logged model: the registry keeps its own copy of the model folder.

A registered version must outlive the run it came from (runs get deleted, their artifacts
collected), so registration copies the folder into the registry's storage and the version
points there. Loading by ``models:/…`` reads only that copy.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gnomon._types import Scope, new_id
from gnomon.artifacts.store import ArtifactStore
from gnomon.errors import InvalidInput, NotFound
from gnomon.registry.entities import ModelVersion, NewVersion
from gnomon.registry.service import RegistryService
from gnomon.registry.uris import parse_run_uri
from gnomon.tracking.service import TrackingService

if TYPE_CHECKING:
    from gnomon.models import Contract

MODEL_FILE = "gnomon-model.yaml"
CONTRACT_EDITED_BY = "gnomon.contract.edited_by"  # the tag naming who last edited a contract


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
        uri = parse_run_uri(source)
        self.tracking.get_run(scope, uri.run_id)  # NotFound names the run
        with tempfile.TemporaryDirectory(prefix="gnomon-register-") as tmp:
            folder = self._download_run_model(scope, uri.run_id, uri.path, Path(tmp))
            return self.register_folder(
                scope,
                folder,
                name,
                source=str(uri),
                run_id=uri.run_id,
                description=description,
                tags=tags,
                alias=alias,
            )

    def register_folder(
        self,
        scope: Scope,
        folder: Path,
        name: str,
        *,
        source: str,
        run_id: str | None = None,
        description: str = "",
        tags: Mapping[str, Any] | None = None,
        alias: str | None = None,
    ) -> ModelVersion:
        """Register a local gnomon model folder (an import, or a run's downloaded model)."""
        from gnomon.models import load_model, read_spec

        self.registry.check_model_name(name)
        if alias is not None:
            self.registry.check_alias(alias)
        spec = read_spec(folder)
        load_model(folder)  # hashes and loadability are checked before anything is stored
        storage_uri = f"{self.storage_root}/{scope.workspace}/registry/{new_id()}"
        self._open_store(storage_uri).put_dir(folder, "")
        version = self.registry.create_version(
            scope,
            name,
            NewVersion(
                source=source,
                run_id=run_id,
                storage_uri=storage_uri,
                flavor=spec.flavor,
                description=description,
                tags=dict(tags or {}),
                created_by=scope.principal,
            ),
        )
        if alias is not None:
            self.registry.set_alias(scope, name, alias, version.version)
            version = replace(version, aliases=[alias])  # a new version has no other alias
        return version

    def read_contract(self, scope: Scope, name: str, version: int | str | None) -> Contract | None:
        """The input contract of a registered version (None: saved without an example)."""
        from gnomon.models import read_spec

        found = self.registry.resolve(scope, name, version)
        with tempfile.TemporaryDirectory(prefix="gnomon-contract-") as tmp:
            self._open_store(found.storage_uri).download(MODEL_FILE, Path(tmp))
            return read_spec(Path(tmp)).contract

    def write_contract(
        self, scope: Scope, name: str, version: int | str | None, contract: Contract
    ) -> ModelVersion:
        """Replace the input contract of a registered version (the model files stay as they
        are: the contract is not part of the hashed files), recorded in the audit trail of
        the version as a tag."""
        from gnomon.models import read_spec, write_spec

        found = self.registry.resolve(scope, name, version)
        store = self._open_store(found.storage_uri)
        with tempfile.TemporaryDirectory(prefix="gnomon-contract-") as tmp:
            store.download(MODEL_FILE, Path(tmp))
            spec = read_spec(Path(tmp))
            write_spec(Path(tmp), replace(spec, contract=contract))
            store.put_file(Path(tmp) / MODEL_FILE, MODEL_FILE)
        self.registry.set_version_tag(
            scope, found.model_name, found.version, CONTRACT_EDITED_BY, scope.principal
        )
        return replace(found, tags={**found.tags, CONTRACT_EDITED_BY: scope.principal})

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
