"""The registry store contract, implemented by SQL (embedded) and, later, HTTP (remote)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from gnomon._types import Page, Scope
from gnomon.registry.entities import (
    AliasEvent,
    LoggedModel,
    ModelQuery,
    ModelVersion,
    NewVersion,
    RegisteredModel,
    VersionQuery,
    VersionUpdate,
)


class RegistryStore(Protocol):
    """Registered models, their versions and aliases, inside the caller's workspace.

    Models are named by name (unique in a workspace), versions by model name and number.
    Objects of another workspace behave exactly as if they did not exist (``NotFound``).
    Inputs arrive validated by the registry service; the store enforces what needs the
    database: uniqueness, existence, numbering and alias moves, each in one transaction.
    """

    # -- models ------------------------------------------------------------------------------

    def create_model(
        self, scope: Scope, name: str, description: str, tags: Mapping[str, str]
    ) -> RegisteredModel:
        """Raises ``AlreadyExists`` when the name is taken in the workspace."""
        ...

    def get_model(self, scope: Scope, name: str) -> RegisteredModel:
        """The model with its tags, aliases and latest version. Raises ``NotFound`` naming it."""
        ...

    def search_models(self, scope: Scope, query: ModelQuery) -> Page[RegisteredModel]:
        """Models matching the query, ordered by name. Raises ``InvalidInput`` for a bad
        page token."""
        ...

    def update_model(self, scope: Scope, name: str, description: str) -> RegisteredModel:
        """Raises ``NotFound``."""
        ...

    def set_model_tag(self, scope: Scope, name: str, key: str, value: str) -> None:
        """Add or overwrite one tag. Raises ``NotFound`` for an unknown model."""
        ...

    def delete_model_tag(self, scope: Scope, name: str, key: str) -> None:
        """Raises ``NotFound`` naming the model or the tag."""
        ...

    def delete_model(self, scope: Scope, name: str) -> None:
        """Delete a model with no versions left, with its tags and alias history.

        Refusing rather than cascading means a model that something may be serving
        (``production``) cannot vanish in one call: its versions go first, each one visible
        in the alias history. Raises ``NotFound``, or ``Conflict`` when versions remain.
        """
        ...

    # -- versions ----------------------------------------------------------------------------

    def create_version(self, scope: Scope, name: str, new: NewVersion) -> ModelVersion:
        """Add a READY version numbered one past the highest number the model ever gave
        (1, 2, …; never reused after a delete). Concurrent calls get distinct, gapless
        numbers. Raises ``NotFound`` for an unknown model."""
        ...

    def get_version(self, scope: Scope, name: str, version: int) -> ModelVersion:
        """Raises ``NotFound`` naming the model or the version."""
        ...

    def search_versions(self, scope: Scope, query: VersionQuery) -> Page[ModelVersion]:
        """Versions matching the query, by model name then newest first. An unknown model
        name gives an empty page. Raises ``InvalidInput`` for a bad page token."""
        ...

    def update_version(
        self, scope: Scope, name: str, version: int, update: VersionUpdate
    ) -> ModelVersion:
        """Change description or status (archive, or make READY again), or the recorded YAML
        digest while it still equals ``update.previous_spec_sha256``. Raises ``NotFound``, or
        ``Conflict`` when that digest changed meanwhile."""
        ...

    def set_version_tag(self, scope: Scope, name: str, version: int, key: str, value: str) -> None:
        """Add or overwrite one tag. Raises ``NotFound``."""
        ...

    def delete_version_tag(self, scope: Scope, name: str, version: int, key: str) -> None:
        """Raises ``NotFound`` naming the model, the version or the tag."""
        ...

    def delete_version(self, scope: Scope, name: str, version: int, actor: str) -> None:
        """Delete a version and its tags; aliases pointing at it are removed in the same
        transaction, each recorded as an alias event by ``actor``. Raises ``NotFound``."""
        ...

    # -- aliases -----------------------------------------------------------------------------

    def set_alias(
        self, scope: Scope, name: str, alias: str, version: int, actor: str
    ) -> AliasEvent:
        """Point ``alias`` at ``version`` and record the move (with the previous version) in
        one transaction; moves of one model are serialised, so the history is a chain.
        Raises ``NotFound`` naming the model or the version."""
        ...

    def delete_alias(self, scope: Scope, name: str, alias: str, actor: str) -> AliasEvent:
        """Remove an alias and record it. Raises ``NotFound`` naming the model or the alias."""
        ...

    def get_version_by_alias(self, scope: Scope, name: str, alias: str) -> ModelVersion:
        """The version ``alias`` points at, read in one statement. Raises ``NotFound`` naming
        the model or the alias."""
        ...

    def list_alias_events(
        self, scope: Scope, name: str, alias: str | None = None
    ) -> list[AliasEvent]:
        """The moves of every alias of the model (or of one), oldest first. Raises
        ``NotFound`` for an unknown model."""
        ...

    # -- models logged by runs ---------------------------------------------------------------

    def record_logged_model(self, scope: Scope, model: LoggedModel) -> LoggedModel:
        """Record the digests of a model a RUNNING run logged, once per path. Raises
        ``NotFound`` for a run outside the workspace, ``Conflict`` when the run is not
        RUNNING or a model is already recorded at that path."""
        ...

    def list_logged_models(self, scope: Scope, run_id: str) -> list[LoggedModel]:
        """The models recorded for a run, by path (empty for an unknown run)."""
        ...
