"""``RegistryApi``: what ``client.registry`` offers, embedded or through a server.

Two classes implement it with the same signatures: ``client.RegistryClient`` (the service
over the SQL store, bound to the client's scope) and ``http.HttpRegistryClient`` (the REST
API, where the server's service raises the errors and the transport decodes them into the
same classes). ``tests/contract/registry_api_contract.py`` runs one suite on both.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from gnomon._types import Page
from gnomon.registry.entities import (
    AliasEvent,
    LoggedModel,
    ModelVersion,
    RegisteredModel,
    VersionStatus,
)

if TYPE_CHECKING:
    from gnomon.modelfolder import Contract


class RegistryApi(Protocol):
    """Registered models, their versions and aliases, in one workspace.

    Models are named by name, versions by model name and number. Objects of another
    workspace behave as if they did not exist (``NotFound``).
    """

    # -- registering -------------------------------------------------------------------------

    def register(
        self,
        source: str,
        name: str,
        *,
        description: str = "",
        tags: Mapping[str, Any] | None = None,
        alias: str | None = None,
    ) -> ModelVersion:
        """Register a run's model (``runs:/<run id>/<path>``) as the next version of ``name``
        (created when missing). Files are copied where the registry's storage is: by the
        server in remote mode, so the client needs no storage credentials.

        Raises:
            NotFound: the run does not exist.
            InvalidInput: a bad source, name, alias or tag, or no gnomon model at the path.
        """
        ...

    def import_mlflow(
        self, path: str | Path, name: str, *, alias: str | None = None, description: str = ""
    ) -> ModelVersion:
        """Register an MLflow model folder (sklearn or python_function flavor) as a version;
        it names no run.

        Raises:
            NotFound: no ``MLmodel`` in the folder.
            InvalidInput: a flavor gnomon cannot read, or a bad name or alias.
        """
        ...

    def get_contract(self, name: str, version: int | str | None = None) -> Contract | None:
        """The input contract of a version (number, alias, or the latest); ``None`` when the
        model was saved without an input example."""
        ...

    def set_contract(
        self, name: str, version: int | str | None, contract: Contract
    ) -> ModelVersion:
        """Replace a version's input contract (what the model server enforces); only the
        YAML changes, and the version is tagged with who edited it.

        Raises:
            Conflict: another edit of the same version won the race; nothing was written.
        """
        ...

    # -- models ------------------------------------------------------------------------------

    def create_model(
        self, name: str, description: str = "", tags: Mapping[str, Any] | None = None
    ) -> RegisteredModel:
        """A model with no versions yet.

        Raises:
            AlreadyExists: the name is taken in the workspace.
            InvalidInput: a bad name (empty, or holding '/' or '@'), description or tag.
        """
        ...

    def get_model(self, name: str) -> RegisteredModel:
        """The model with its tags, aliases and latest version. Raises ``NotFound``."""
        ...

    def search_models(
        self,
        name_like: str | None = None,
        tags: Mapping[str, Any] | None = None,
        max_results: int = 100,
        page_token: str | None = None,
    ) -> Page[RegisteredModel]:
        """Models ordered by name; ``name_like`` is a case-insensitive SQL ``LIKE`` pattern
        (``%``, ``_``) and every tag in ``tags`` must match exactly.

        Raises:
            InvalidInput: ``max_results`` outside 1 to 1000, or a bad page token.
        """
        ...

    def update_model(self, name: str, description: str) -> RegisteredModel:
        """Raises ``NotFound``."""
        ...

    def delete_model(self, name: str) -> None:
        """Delete a model with no versions left, with its tags and alias history.

        Raises:
            NotFound: no such model.
            Conflict: it still has versions.
        """
        ...

    # -- versions ----------------------------------------------------------------------------

    def get_version(self, name: str, version: int | str | None = None) -> ModelVersion:
        """A version by number (``3`` or ``"3"``), alias, or ``None``/``"latest"`` (the
        highest READY version).

        Raises:
            NotFound: the model, version or alias does not exist, or no version is READY.
            InvalidInput: a selector that is none of those.
        """
        ...

    def search_versions(
        self,
        name: str | None = None,
        run_id: str | None = None,
        status: VersionStatus | str | None = None,
        max_results: int = 100,
        page_token: str | None = None,
    ) -> Page[ModelVersion]:
        """Versions matching every argument given, by model name then newest first.

        Raises:
            InvalidInput: an unknown status, ``max_results`` outside 1 to 1000.
        """
        ...

    def update_version(
        self,
        name: str,
        version: int,
        description: str | None = None,
        status: VersionStatus | str | None = None,
    ) -> ModelVersion:
        """Describe, archive (``ARCHIVED``) or restore (``READY``) a version; ``None`` leaves
        a field as it is.

        Raises:
            NotFound: no such model or version.
            InvalidInput: an unknown status, or a version that is not a positive integer.
        """
        ...

    def archive_version(self, name: str, version: int) -> ModelVersion:
        """``update_version(name, version, status=ARCHIVED)``: ``latest`` skips it."""
        ...

    def set_version_tag(self, name: str, version: int, key: str, value: Any) -> None:
        """Add or overwrite one tag (the value is stored as text). Raises ``NotFound``."""
        ...

    def delete_version(self, name: str, version: int) -> None:
        """Delete a version; aliases pointing at it are removed and recorded as moves. Its
        number is never given out again. Raises ``NotFound``."""
        ...

    # -- aliases -----------------------------------------------------------------------------

    def set_alias(self, name: str, alias: str, version: int) -> AliasEvent:
        """Point ``alias`` at ``version`` atomically, recorded with who and when.

        Raises:
            NotFound: the model or the version does not exist.
            InvalidInput: the alias is a number, ``v<number>``, ``latest`` or malformed.
        """
        ...

    def delete_alias(self, name: str, alias: str) -> AliasEvent:
        """Remove an alias (the event's ``version`` is ``None``). Raises ``NotFound``."""
        ...

    def alias_history(self, name: str, alias: str | None = None) -> list[AliasEvent]:
        """Every move of the model's aliases (or of one alias), oldest first."""
        ...

    # -- files -------------------------------------------------------------------------------

    def download_version(self, uri: str, dst: Path) -> Path:
        """Copy the model folder of ``models:/…`` into ``dst``, checked against the digests
        recorded at registration; returns the local folder.

        Raises:
            NotFound: the model, version or alias does not exist.
            InvalidInput: a file was changed, added or removed in storage since.
        """
        ...

    def record_logged_model(self, run_id: str, path: str) -> LoggedModel:
        """Hash the model folder a running run stored at ``path`` and record the digests
        (``log_model`` calls it); the run's artifacts under ``path`` are sealed from then on.
        Only what the storage holds is hashed: nothing a client computed is recorded.

        Raises:
            NotFound: the run does not exist.
            Conflict: the run is not RUNNING, or already logged a model at ``path``.
        """
        ...

    def get_logged_model(self, run_id: str, path: str) -> LoggedModel:
        """The digests recorded when the run logged its model at ``path``. Raises
        ``NotFound``."""
        ...


if TYPE_CHECKING:  # mypy holds both implementations to the Protocol
    from gnomon.registry.client import RegistryClient
    from gnomon.registry.http import HttpRegistryClient

    _embedded: type[RegistryApi] = RegistryClient
    _remote: type[RegistryApi] = HttpRegistryClient
