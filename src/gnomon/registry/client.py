"""``client.registry``: the model registry through the SDK, bound to the client's workspace."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gnomon._types import Page, Scope
from gnomon.registry.entities import (
    AliasEvent,
    LoggedModel,
    ModelVersion,
    RegisteredModel,
    VersionStatus,
)
from gnomon.registry.registration import Registrar
from gnomon.registry.service import RegistryService

if TYPE_CHECKING:
    from gnomon.modelfolder import Contract


class RegistryClient:
    """Registered models, versions and aliases (each method delegates to the service)."""

    def __init__(self, service: RegistryService, registrar: Registrar, scope: Scope) -> None:
        self.service = service
        self.registrar = registrar
        self.scope = scope

    def register(
        self,
        source: str,
        name: str,
        *,
        description: str = "",
        tags: Mapping[str, Any] | None = None,
        alias: str | None = None,
    ) -> ModelVersion:
        """Register a run's model (``runs:/<run id>/<path>``) as the next version of ``name``."""
        return self.registrar.register(
            self.scope, source, name, description=description, tags=tags, alias=alias
        )

    def import_mlflow(
        self, path: str | Path, name: str, *, alias: str | None = None, description: str = ""
    ) -> ModelVersion:
        """Register an MLflow model folder (sklearn or python_function flavor) as a version."""
        import tempfile

        from gnomon.modelfolder import save_model
        from gnomon.registry.mlflow_import import read_mlflow_model

        source = Path(path)
        imported = read_mlflow_model(source)
        with tempfile.TemporaryDirectory(prefix="gnomon-import-") as tmp:
            folder = Path(tmp) / "model"
            flavor = "pyfunc" if imported.flavor == "python_function" else None
            save_model(imported.model, folder, flavor=flavor, input_example=imported.input_example)
            return self.registrar.import_folder(  # a label: the version names no run
                self.scope,
                folder,
                name,
                source=f"mlflow:{source.resolve()}",
                description=description,
                alias=alias,
            )

    def get_contract(self, name: str, version: int | str | None = None) -> Contract | None:
        """The input contract of a version (number, alias, or the latest)."""
        return self.registrar.read_contract(self.scope, name, version)

    def set_contract(
        self, name: str, version: int | str | None, contract: Contract
    ) -> ModelVersion:
        """Replace a version's input contract (what the model server enforces)."""
        return self.registrar.write_contract(self.scope, name, version, contract)

    def create_model(
        self, name: str, description: str = "", tags: Mapping[str, Any] | None = None
    ) -> RegisteredModel:
        return self.service.create_model(self.scope, name, description, tags)

    def get_model(self, name: str) -> RegisteredModel:
        return self.service.get_model(self.scope, name)

    def search_models(
        self,
        name_like: str | None = None,
        tags: Mapping[str, Any] | None = None,
        max_results: int = 100,
        page_token: str | None = None,
    ) -> Page[RegisteredModel]:
        return self.service.search_models(self.scope, name_like, tags, max_results, page_token)

    def update_model(self, name: str, description: str) -> RegisteredModel:
        return self.service.update_model(self.scope, name, description)

    def delete_model(self, name: str) -> None:
        self.service.delete_model(self.scope, name)

    def get_version(self, name: str, version: int | str | None = None) -> ModelVersion:
        """A version by number, alias or ``None``/"latest" (the highest READY version)."""
        return self.service.resolve(self.scope, name, version)

    def search_versions(
        self,
        name: str | None = None,
        run_id: str | None = None,
        status: VersionStatus | str | None = None,
        max_results: int = 100,
        page_token: str | None = None,
    ) -> Page[ModelVersion]:
        return self.service.search_versions(
            self.scope, name, run_id, status, None, max_results, page_token
        )

    def update_version(
        self,
        name: str,
        version: int,
        description: str | None = None,
        status: VersionStatus | str | None = None,
    ) -> ModelVersion:
        return self.service.update_version(self.scope, name, version, description, status)

    def archive_version(self, name: str, version: int) -> ModelVersion:
        return self.update_version(name, version, status=VersionStatus.ARCHIVED)

    def set_version_tag(self, name: str, version: int, key: str, value: Any) -> None:
        self.service.set_version_tag(self.scope, name, version, key, value)

    def delete_version(self, name: str, version: int) -> None:
        self.service.delete_version(self.scope, name, version)

    def set_alias(self, name: str, alias: str, version: int) -> AliasEvent:
        """Point ``alias`` at ``version`` (atomically; recorded with who and when)."""
        return self.service.set_alias(self.scope, name, alias, version)

    def delete_alias(self, name: str, alias: str) -> AliasEvent:
        return self.service.delete_alias(self.scope, name, alias)

    def alias_history(self, name: str, alias: str | None = None) -> list[AliasEvent]:
        return self.service.list_alias_events(self.scope, name, alias)

    def download_version(self, uri: str, dst: Path) -> Path:
        """Copy the model folder of ``models:/…`` into ``dst``, checked against the digests
        recorded at registration; returns the local folder."""
        return self.registrar.download_version(self.scope, uri, dst)

    def record_logged_model(self, run_id: str, path: str) -> LoggedModel:
        """Hash the model folder a running run stored at ``path`` and record the digests
        (``log_model`` calls it); the run's artifacts under ``path`` are sealed from then on."""
        return self.registrar.record_logged_model(self.scope, run_id, path)

    def get_logged_model(self, run_id: str, path: str) -> LoggedModel:
        """The digests recorded when the run logged its model at ``path``."""
        return self.registrar.get_logged_model(self.scope, run_id, path)
