"""HttpRegistryClient: ``client.registry`` over a gnomon server's REST API (the contract is
documented on :class:`gnomon.registry.api.RegistryApi`).

The server's service raises the errors, which the transport turns back into the same classes.
Model files travel through the server, so the client needs no credentials for the registry's
storage. Bodies and answers are the models of ``schemas.py``, as the routes read and write them.
"""

from __future__ import annotations

import tarfile
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gnomon import checks
from gnomon._types import Page
from gnomon.client.transport import Transport, body, key_path, segment
from gnomon.errors import InvalidInput
from gnomon.registry.archive import extract_model_archive
from gnomon.registry.entities import (
    AliasEvent,
    LoggedModel,
    ModelVersion,
    RegisteredModel,
    VersionStatus,
)
from gnomon.registry.schemas import (
    AliasEventOut,
    ContractBody,
    CreateModel,
    LoggedModelOut,
    ModelVersionOut,
    RecordLoggedModel,
    RegisteredModelOut,
    RegisterVersion,
    SetAlias,
    SetTag,
    UpdateModel,
    UpdateVersion,
)
from gnomon.registry.service import RegistryService, parse_model_uri
from gnomon.tracking import validation

if TYPE_CHECKING:
    from gnomon.modelfolder import Contract

VERSION_HEADER = "x-gnomon-version"  # the number of the version a download resolved to


class HttpRegistryClient:
    """Registered models, versions and aliases of the transport's workspace through a gnomon
    server (another workspace's: a transport ``in_workspace`` it)."""

    def __init__(self, transport: Transport) -> None:
        self.transport = transport

    def register(
        self,
        source: str,
        name: str,
        *,
        description: str = "",
        tags: Mapping[str, Any] | None = None,
        alias: str | None = None,
    ) -> ModelVersion:
        tagged = validation.tags_dict(tags)
        new = body(
            RegisterVersion, source=source, description=description, tags=tagged, alias=alias
        )
        return self.transport.one(
            "POST", f"{_model(name)}/versions", ModelVersionOut, json=new
        ).entity()

    def import_mlflow(
        self, path: str | Path, name: str, *, alias: str | None = None, description: str = ""
    ) -> ModelVersion:
        # Converted here (the server never unpickles), then uploaded as a gnomon model folder.
        from gnomon.registry.mlflow_import import convert_mlflow_model

        source = Path(path)
        with tempfile.TemporaryDirectory(prefix="gnomon-import-") as tmp:
            folder = Path(tmp) / "model"
            tags = convert_mlflow_model(source, folder)
            archive = Path(tmp) / "model.tar.gz"
            with tarfile.open(archive, "w:gz") as tar:
                for entry in sorted(folder.iterdir()):
                    tar.add(entry, arcname=entry.name)
            params = {
                "source": f"mlflow:{source.resolve()}",
                "description": description,
                "alias": alias,
            }
            version = self.transport.one(
                "POST",
                f"{_model(name)}/import",
                ModelVersionOut,
                params=params,
                content=archive.read_bytes(),  # bytes: a retry can send them again
                headers={"content-type": "application/gzip"},
            ).entity()
        # The import route takes no tags; the folder's own metadata has the lineage too.
        for key, value in tags.items():
            self.set_version_tag(name, version.version, key, value)
        return self.get_version(name, version.version) if tags else version

    def get_contract(self, name: str, version: int | str | None = None) -> Contract | None:
        answer = self.transport.request("GET", f"{_version_path(name, version)}/contract")
        return None if answer is None else ContractBody.model_validate(answer).contract()

    def set_contract(
        self, name: str, version: int | str | None, contract: Contract
    ) -> ModelVersion:
        path = f"{_version_path(name, version)}/contract"
        return self.transport.one(
            "PUT", path, ModelVersionOut, json=ContractBody.of(contract)
        ).entity()

    def create_model(
        self, name: str, description: str = "", tags: Mapping[str, Any] | None = None
    ) -> RegisteredModel:
        tagged = validation.tags_dict(tags)
        new = body(CreateModel, name=name, description=description, tags=tagged)
        return self.transport.one("POST", "/models", RegisteredModelOut, json=new).entity()

    def get_model(self, name: str) -> RegisteredModel:
        return self.transport.one("GET", _model(name), RegisteredModelOut).entity()

    def search_models(
        self,
        name_like: str | None = None,
        tags: Mapping[str, Any] | None = None,
        max_results: int = 100,
        page_token: str | None = None,
    ) -> Page[RegisteredModel]:
        params = {
            "name_like": name_like,
            "tag": [f"{k}={v}" for k, v in validation.tags_dict(tags).items()] or None,
            "max_results": max_results,
            "page_token": page_token,
        }
        page = self.transport.page("/models", RegisteredModelOut, params=params)
        return Page([m.entity() for m in page], page.next_page_token)

    def update_model(self, name: str, description: str) -> RegisteredModel:
        change = body(UpdateModel, description=description)
        return self.transport.one("PATCH", _model(name), RegisteredModelOut, json=change).entity()

    def delete_model(self, name: str) -> None:
        self.transport.request("DELETE", _model(name))

    def get_version(self, name: str, version: int | str | None = None) -> ModelVersion:
        return self.transport.one("GET", _version_path(name, version), ModelVersionOut).entity()

    def search_versions(
        self,
        name: str | None = None,
        run_id: str | None = None,
        status: VersionStatus | str | None = None,
        max_results: int = 100,
        page_token: str | None = None,
    ) -> Page[ModelVersion]:
        params = {
            "name": name,
            "run_id": run_id,
            "status": None if status is None else str(status),
            "max_results": max_results,
            "page_token": page_token,
        }
        page = self.transport.page("/model-versions", ModelVersionOut, params=params)
        return Page([v.entity() for v in page], page.next_page_token)

    def update_version(
        self,
        name: str,
        version: int,
        description: str | None = None,
        status: VersionStatus | str | None = None,
    ) -> ModelVersion:
        change = body(
            UpdateVersion, description=description, status=None if status is None else str(status)
        )
        path = _version_path(name, version)
        return self.transport.one("PATCH", path, ModelVersionOut, json=change).entity()

    def archive_version(self, name: str, version: int) -> ModelVersion:
        return self.update_version(name, version, status=VersionStatus.ARCHIVED)

    def set_version_tag(self, name: str, version: int, key: str, value: Any) -> None:
        tag = checks.key("tag", key)
        tagged = body(SetTag, value=validation.tag_value(tag, value))
        self.transport.request(
            "PUT", f"{_version_path(name, version)}/tags/{key_path(tag)}", json=tagged
        )

    def delete_version(self, name: str, version: int) -> None:
        self.transport.request("DELETE", _version_path(name, version))

    def set_alias(self, name: str, alias: str, version: int) -> AliasEvent:
        moved = body(SetAlias, version=_number(version))
        return self.transport.one(
            "PUT", _alias_path(name, alias), AliasEventOut, json=moved
        ).entity()

    def delete_alias(self, name: str, alias: str) -> AliasEvent:
        return self.transport.one("DELETE", _alias_path(name, alias), AliasEventOut).entity()

    def alias_history(self, name: str, alias: str | None = None) -> list[AliasEvent]:
        path = f"{_model(name)}/aliases/history"
        answer = self.transport.request("GET", path, params={"alias": alias})
        return [AliasEventOut.model_validate(e).entity() for e in answer]

    def download_version(self, uri: str, dst: Path) -> Path:
        # Checked here against the digests the server recorded at registration.
        from gnomon.modelfolder.hashing import verify_recorded
        from gnomon.registry.entities import spec_file_of

        name, selector = parse_model_uri(uri)
        version = self.get_version(name, selector)  # an alias is resolved once, here
        dst = Path(dst)
        dst.mkdir(parents=True, exist_ok=True)
        path = f"{_version_path(name, version.version)}/files"
        with self.transport.stream("GET", path) as response:
            number = response.headers.get(VERSION_HEADER, "")
            with tempfile.NamedTemporaryFile(dir=dst, suffix=".tar.gz", delete=False) as sink:
                for chunk in response.iter_bytes():
                    sink.write(chunk)
        archive = Path(sink.name)
        try:
            if number != str(version.version):
                raise InvalidInput(f"the server sent version {number!r} for {uri!r}")
            target = dst / f"{name}-v{number}"
            target.mkdir(parents=True, exist_ok=True)
            extract_model_archive(archive, target)
        finally:
            archive.unlink(missing_ok=True)
        verify_recorded(target, version.files, version.spec_sha256, spec_file_of(version))
        return target

    def record_logged_model(self, run_id: str, path: str) -> LoggedModel:
        # The server hashes what it stored: nothing the client computed is recorded.
        where = f"/runs/{segment(run_id)}/logged-models"
        logged = body(RecordLoggedModel, path=path)
        return self.transport.one("POST", where, LoggedModelOut, json=logged).entity()

    def get_logged_model(self, run_id: str, path: str) -> LoggedModel:
        where = f"/runs/{segment(run_id)}/logged-models/{key_path(path)}"
        return self.transport.one("GET", where, LoggedModelOut).entity()


def _model(name: str) -> str:
    """The path of a model. A name the server could not route is refused here, as the
    embedded service refuses it."""
    if not isinstance(name, str) or not name:
        raise InvalidInput(f"model name must be a non-empty string, got {name!r}")
    if "/" in name:
        RegistryService.check_model_name(name)  # raises, naming the '/'
    return f"/models/{segment(name)}"


def _version_path(name: str, version: int | str | None) -> str:
    selector = "latest" if version is None else version
    if isinstance(selector, bool) or not isinstance(selector, int | str) or selector == "":
        raise InvalidInput(f"version must be a number, an alias or 'latest', got {version!r}")
    return f"{_model(name)}/versions/{segment(str(selector))}"


def _alias_path(name: str, alias: str) -> str:
    return f"{_model(name)}/aliases/{segment(RegistryService.check_alias(alias))}"


def _number(version: int) -> int:
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise InvalidInput(f"version must be a positive integer, got {version!r}")
    return version
