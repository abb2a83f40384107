"""HttpRegistryClient: ``client.registry`` over a gnomon server's REST API.

It mirrors :class:`gnomon.registry.client.RegistryClient` method for method: the server's
service raises the errors, which the transport turns back into the same classes. Model files
travel through the server, so the client needs no credentials for the registry's storage.
"""

from __future__ import annotations

import tarfile
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from gnomon._types import Page
from gnomon.client.transport import Transport
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
    LoggedModelOut,
    ModelVersionOut,
    RegisteredModelOut,
)
from gnomon.registry.service import RegistryService, parse_model_uri
from gnomon.tracking import validation
from gnomon.wire import PageOut

if TYPE_CHECKING:
    from gnomon.modelfolder import Contract

VERSION_HEADER = "x-gnomon-version"  # the number of the version a download resolved to


class HttpRegistryClient:
    """Registered models, versions and aliases of ``workspace`` through a gnomon server."""

    def __init__(self, transport: Transport, workspace: str) -> None:
        self.transport = transport
        self.workspace = workspace

    def register(
        self,
        source: str,
        name: str,
        *,
        description: str = "",
        tags: Mapping[str, Any] | None = None,
        alias: str | None = None,
    ) -> ModelVersion:
        """Register a run's model (``runs:/<run id>/<path>``) as the next version of ``name``;
        the server copies the files, so the client needs no storage credentials."""
        body = {
            "source": source,
            "description": description,
            "tags": validation.tags_dict(tags),
            "alias": alias,
        }
        return _version(self._call("POST", f"{_model(name)}/versions", json=body))

    def import_mlflow(
        self, path: str | Path, name: str, *, alias: str | None = None, description: str = ""
    ) -> ModelVersion:
        """Register an MLflow model folder (sklearn or python_function flavor) as a version:
        converted here, then uploaded as a gnomon model folder."""
        from gnomon.modelfolder import save_model
        from gnomon.registry.mlflow_import import read_mlflow_model

        source = Path(path)
        imported = read_mlflow_model(source)
        with tempfile.TemporaryDirectory(prefix="gnomon-import-") as tmp:
            folder = Path(tmp) / "model"
            flavor = "pyfunc" if imported.flavor == "python_function" else None
            save_model(imported.model, folder, flavor=flavor, input_example=imported.input_example)
            archive = Path(tmp) / "model.tar.gz"
            with tarfile.open(archive, "w:gz") as tar:
                for entry in sorted(folder.iterdir()):
                    tar.add(entry, arcname=entry.name)
            params = {
                "source": f"mlflow:{source.resolve()}",
                "description": description,
                "alias": alias,
            }
            return _version(
                self._call(
                    "POST",
                    f"{_model(name)}/import",
                    params=params,
                    content=archive.read_bytes(),  # bytes: a retry can send them again
                    headers={"content-type": "application/gzip"},
                )
            )

    def get_contract(self, name: str, version: int | str | None = None) -> Contract | None:
        """The input contract of a version (number, alias, or the latest)."""
        body = self._call("GET", f"{_version_path(name, version)}/contract")
        return None if body is None else ContractBody.model_validate(body).contract()

    def set_contract(
        self, name: str, version: int | str | None, contract: Contract
    ) -> ModelVersion:
        """Replace a version's input contract (what the model server enforces)."""
        body = ContractBody.of(contract).model_dump(mode="json")
        return _version(self._call("PUT", f"{_version_path(name, version)}/contract", json=body))

    def create_model(
        self, name: str, description: str = "", tags: Mapping[str, Any] | None = None
    ) -> RegisteredModel:
        body = {"name": name, "description": description, "tags": validation.tags_dict(tags)}
        return _registered(self._call("POST", "/models", json=body))

    def get_model(self, name: str) -> RegisteredModel:
        return _registered(self._call("GET", _model(name)))

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
        page = PageOut[RegisteredModelOut].model_validate(
            self._call("GET", "/models", params=params)
        )
        return Page([m.entity() for m in page.items], page.next_page_token)

    def update_model(self, name: str, description: str) -> RegisteredModel:
        return _registered(self._call("PATCH", _model(name), json={"description": description}))

    def delete_model(self, name: str) -> None:
        self._call("DELETE", _model(name))

    def get_version(self, name: str, version: int | str | None = None) -> ModelVersion:
        """A version by number, alias or ``None``/"latest" (the highest READY version)."""
        return _version(self._call("GET", _version_path(name, version)))

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
        page = PageOut[ModelVersionOut].model_validate(
            self._call("GET", "/model-versions", params=params)
        )
        return Page([v.entity() for v in page.items], page.next_page_token)

    def update_version(
        self,
        name: str,
        version: int,
        description: str | None = None,
        status: VersionStatus | str | None = None,
    ) -> ModelVersion:
        body = {"description": description, "status": None if status is None else str(status)}
        return _version(self._call("PATCH", _version_path(name, version), json=body))

    def archive_version(self, name: str, version: int) -> ModelVersion:
        return self.update_version(name, version, status=VersionStatus.ARCHIVED)

    def set_version_tag(self, name: str, version: int, key: str, value: Any) -> None:
        tag = validation.check_key("tag", key)
        body = {"value": validation.tag_value(tag, value)}
        self._call("PUT", f"{_version_path(name, version)}/tags/{_key(tag)}", json=body)

    def delete_version(self, name: str, version: int) -> None:
        self._call("DELETE", _version_path(name, version))

    def set_alias(self, name: str, alias: str, version: int) -> AliasEvent:
        """Point ``alias`` at ``version`` (atomically; recorded with who and when)."""
        path = f"{_model(name)}/aliases/{_alias(alias)}"
        return _event(self._call("PUT", path, json={"version": _number(version)}))

    def delete_alias(self, name: str, alias: str) -> AliasEvent:
        return _event(self._call("DELETE", f"{_model(name)}/aliases/{_alias(alias)}"))

    def alias_history(self, name: str, alias: str | None = None) -> list[AliasEvent]:
        params = {"alias": alias}
        body = self._call("GET", f"{_model(name)}/aliases/history", params=params)
        return [AliasEventOut.model_validate(e).entity() for e in body]

    def download_version(self, uri: str, dst: Path) -> Path:
        """Copy the model folder of ``models:/…`` into ``dst``, checked here against the
        digests the server recorded at registration; returns the local folder."""
        from gnomon.modelfolder.hashing import verify_recorded

        name, selector = parse_model_uri(uri)
        version = self.get_version(name, selector)  # an alias is resolved once, here
        dst = Path(dst)
        dst.mkdir(parents=True, exist_ok=True)
        path = f"{_version_path(name, version.version)}/files"
        with self.transport.stream("GET", path, workspace=self.workspace) as response:
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
        verify_recorded(target, version.files, version.spec_sha256)
        return target

    def record_logged_model(self, run_id: str, path: str) -> LoggedModel:
        """Hash the model folder a running run stored at ``path`` and record the digests
        (``log_model`` calls it); the run's artifacts under ``path`` are sealed from then on.
        The server hashes what it stored: nothing the client computed is recorded."""
        body = self._call("POST", f"/runs/{_seg(run_id)}/logged-models", json={"path": path})
        return LoggedModelOut.model_validate(body).entity()

    def get_logged_model(self, run_id: str, path: str) -> LoggedModel:
        """The digests recorded when the run logged its model at ``path``."""
        body = self._call("GET", f"/runs/{_seg(run_id)}/logged-models/{_key(path)}")
        return LoggedModelOut.model_validate(body).entity()

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        return self.transport.request(method, path, workspace=self.workspace, **kwargs)


def _model(name: str) -> str:
    """The path of a model. A name the server could not route is refused here, as the
    embedded service refuses it."""
    if not isinstance(name, str) or not name:
        raise InvalidInput(f"model name must be a non-empty string, got {name!r}")
    if "/" in name:
        RegistryService.check_model_name(name)  # raises, naming the '/'
    return f"/models/{_seg(name)}"


def _version_path(name: str, version: int | str | None) -> str:
    selector = "latest" if version is None else version
    if isinstance(selector, bool) or not isinstance(selector, int | str) or selector == "":
        raise InvalidInput(f"version must be a number, an alias or 'latest', got {version!r}")
    return f"{_model(name)}/versions/{_seg(str(selector))}"


def _alias(alias: str) -> str:
    return _seg(RegistryService.check_alias(alias))


def _number(version: int) -> int:
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise InvalidInput(f"version must be a positive integer, got {version!r}")
    return version


def _registered(body: Any) -> RegisteredModel:
    return RegisteredModelOut.model_validate(body).entity()


def _version(body: Any) -> ModelVersion:
    return ModelVersionOut.model_validate(body).entity()


def _event(body: Any) -> AliasEvent:
    return AliasEventOut.model_validate(body).entity()


def _seg(value: str) -> str:
    """One path segment, escaped (names may hold spaces, '%', '@')."""
    return quote(value, safe="")


def _key(key: str) -> str:
    return quote(key, safe="/")
