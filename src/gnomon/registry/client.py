"""RegistryClient: ``client.registry`` embedded, the registry service bound to the client's
scope (the contract is documented on :class:`gnomon.registry.api.RegistryApi`)."""

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
    """Each method delegates to the service, or to the registrar where files move."""

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
        return self.registrar.register(
            self.scope, source, name, description=description, tags=tags, alias=alias
        )

    def import_mlflow(
        self, path: str | Path, name: str, *, alias: str | None = None, description: str = ""
    ) -> ModelVersion:
        import tempfile

        from gnomon.registry.mlflow_import import convert_mlflow_model

        source = Path(path)
        with tempfile.TemporaryDirectory(prefix="gnomon-import-") as tmp:
            folder = Path(tmp) / "model"
            tags = convert_mlflow_model(source, folder)  # in this process, never the server's
            # register_folder, not import_folder: the lineage tags are stored with the version
            return self.registrar.register_folder(
                self.scope,
                folder,
                name,
                source=f"mlflow:{source.resolve()}",  # a label: the version names no run
                description=description,
                tags=tags,
                alias=alias,
                shown_as="the imported model",
            )

    def get_contract(self, name: str, version: int | str | None = None) -> Contract | None:
        return self.registrar.read_contract(self.scope, name, version)

    def set_contract(
        self, name: str, version: int | str | None, contract: Contract
    ) -> ModelVersion:
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
        return self.service.set_alias(self.scope, name, alias, version)

    def delete_alias(self, name: str, alias: str) -> AliasEvent:
        return self.service.delete_alias(self.scope, name, alias)

    def alias_history(self, name: str, alias: str | None = None) -> list[AliasEvent]:
        return self.service.list_alias_events(self.scope, name, alias)

    def download_version(self, uri: str, dst: Path) -> Path:
        return self.registrar.download_version(self.scope, uri, dst)

    def record_logged_model(self, run_id: str, path: str) -> LoggedModel:
        return self.registrar.record_logged_model(self.scope, run_id, path)

    def get_logged_model(self, run_id: str, path: str) -> LoggedModel:
        return self.registrar.get_logged_model(self.scope, run_id, path)
