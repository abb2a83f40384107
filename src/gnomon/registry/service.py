"""Registry rules and validation: the only caller of a RegistryStore."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from gnomon import checks
from gnomon._types import Page, Scope, get_or_create, now_ms
from gnomon.errors import GnomonError, InvalidInput, NotFound
from gnomon.registry.entities import (
    LOGGED_PATH_LENGTH,
    AliasEvent,
    LoggedModel,
    ModelQuery,
    ModelVersion,
    NewVersion,
    RegisteredModel,
    VersionQuery,
    VersionStatus,
    VersionUpdate,
)
from gnomon.registry.store import RegistryStore
from gnomon.suggestions import MAX_CANDIDATES, did_you_mean
from gnomon.tracking import validation as v

MODELS_SCHEME = "models:/"
LATEST = "latest"
DEFAULT_MAX_RESULTS = 100

_ALIAS = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")
# Names that would read like a version number in models:/name@<alias> or a CLI argument.
_VERSION_LIKE = re.compile(r"[0-9]+|[vV][0-9]+")
_RESERVED_ALIASES = frozenset({LATEST})
_SHA256 = re.compile(r"[0-9a-f]{64}")

Selector = int | str | None


class RegistryService:
    """Registered models, versions, aliases and ``models:/`` URIs for one store."""

    def __init__(self, store: RegistryStore) -> None:
        self.store = store

    # -- rules shared with callers that validate before doing slow work ----------------------

    @staticmethod
    def check_model_name(name: object) -> str:
        """Experiment-name rules, and no ``/`` or ``@``: they delimit ``models:/`` URIs."""
        checked = v.check_name("model", name)
        if "/" in checked or "@" in checked:
            raise InvalidInput(
                f"model name {checked!r} contains '/' or '@', which delimit models:/ URIs",
                {"name": checked},
            )
        return checked

    @staticmethod
    def check_alias(alias: object) -> str:
        if not isinstance(alias, str) or not alias:
            raise InvalidInput(f"alias must be a non-empty string, got {alias!r}")
        if _VERSION_LIKE.fullmatch(alias):
            raise InvalidInput(
                f"alias {alias!r} reads like a version number; pick a name such as 'production'",
                {"alias": alias},
            )
        if alias.lower() in _RESERVED_ALIASES:
            raise InvalidInput(
                f"alias {alias!r} is reserved (it means the newest READY version)",
                {"alias": alias},
            )
        if not _ALIAS.fullmatch(alias):
            raise InvalidInput(
                f"alias {alias!r} must start with a letter and hold at most 64 letters, digits, "
                "'_' or '-'",
                {"alias": alias},
            )
        return alias

    @staticmethod
    def parse_model_uri(uri: object) -> tuple[str, int | str | None]:
        """Split ``models:/name/3``, ``models:/name@alias``, ``models:/name/latest`` or
        ``models:/name`` into the model name and a version number, alias or ``None``.

        Raises:
            InvalidInput: anything else, naming the URI.
        """
        return parse_model_uri(uri)

    # -- models ------------------------------------------------------------------------------

    def create_model(
        self,
        scope: Scope,
        name: str,
        description: str = "",
        tags: Mapping[str, Any] | None = None,
    ) -> RegisteredModel:
        """Raises ``AlreadyExists`` when the name is taken, ``InvalidInput`` for a bad name."""
        return self.store.create_model(
            scope,
            self.check_model_name(name),
            checks.text("description", description, empty=True),
            v.tags_dict(tags),
        )

    def get_model(self, scope: Scope, name: str) -> RegisteredModel:
        """Raises ``NotFound`` naming the model, with the closest name of the workspace."""
        try:
            return self.store.get_model(scope, checks.text("model name", name))
        except NotFound:
            hint = self._close(scope, name)
            raise NotFound(f"registered model {checks.shown(name)} not found{hint}") from None

    def get_or_create_model(self, scope: Scope, name: str) -> RegisteredModel:
        return get_or_create(
            lambda: self.get_model(scope, name), lambda: self.create_model(scope, name)
        )

    def search_models(
        self,
        scope: Scope,
        name_like: str | None = None,
        tags: Mapping[str, Any] | None = None,
        max_results: int = DEFAULT_MAX_RESULTS,
        page_token: str | None = None,
    ) -> Page[RegisteredModel]:
        """Models by name; ``name_like`` is a case-insensitive SQL ``LIKE`` pattern (``%``,
        ``_``) and every tag in ``tags`` must match exactly."""
        if name_like is not None:
            checks.text("name_like", name_like)
        checks.max_results(max_results, checks.BROWSE_RESULTS_LIMIT)
        query = ModelQuery(name_like, v.tags_dict(tags), max_results, page_token)
        return self.store.search_models(scope, query)

    def update_model(self, scope: Scope, name: str, description: str) -> RegisteredModel:
        return self.store.update_model(
            scope,
            checks.text("model name", name),
            checks.text("description", description, empty=True),
        )

    def set_model_tag(self, scope: Scope, name: str, key: str, value: Any) -> None:
        tag = checks.key("tag", key)
        self.store.set_model_tag(
            scope, checks.text("model name", name), tag, v.tag_value(tag, value)
        )

    def delete_model_tag(self, scope: Scope, name: str, key: str) -> None:
        self.store.delete_model_tag(scope, checks.text("model name", name), checks.key("tag", key))

    def delete_model(self, scope: Scope, name: str) -> None:
        """Delete a model that has no versions left. Raises ``NotFound`` or ``Conflict``."""
        self.store.delete_model(scope, checks.text("model name", name))

    # -- versions ----------------------------------------------------------------------------

    def create_version(
        self, scope: Scope, name: str, new: NewVersion, *, create_model: bool = True
    ) -> ModelVersion:
        """Add the next version of ``name`` (created first when missing, unless
        ``create_model=False``). A ``runs:/<run id>/<path>`` source fills in ``run_id``.

        Raises:
            NotFound: the model does not exist and ``create_model`` is false.
            InvalidInput: a bad name, source, run id, flavor or tag.
        """
        self.check_model_name(name)
        checked = _checked_new_version(new)
        if create_model:
            self.get_or_create_model(scope, name)
        return self.store.create_version(scope, name, checked)

    def get_version(self, scope: Scope, name: str, version: int) -> ModelVersion:
        return self.store.get_version(scope, checks.text("model name", name), _version(version))

    def search_versions(
        self,
        scope: Scope,
        name: str | None = None,
        run_id: str | None = None,
        status: VersionStatus | str | None = None,
        tags: Mapping[str, Any] | None = None,
        max_results: int = DEFAULT_MAX_RESULTS,
        page_token: str | None = None,
    ) -> Page[ModelVersion]:
        """Versions matching every argument given, by model name then newest first."""
        checks.max_results(max_results, checks.BROWSE_RESULTS_LIMIT)
        query = VersionQuery(
            model_name=None if name is None else checks.text("model name", name),
            run_id=None if run_id is None else checks.text("run_id", run_id),
            status=None if status is None else _as_status(status),
            tags=v.tags_dict(tags),
            max_results=max_results,
            page_token=page_token,
        )
        return self.store.search_versions(scope, query)

    def update_version(
        self,
        scope: Scope,
        name: str,
        version: int,
        description: str | None = None,
        status: VersionStatus | str | None = None,
    ) -> ModelVersion:
        """Describe, archive (``ARCHIVED``) or restore (``READY``) a version."""
        update = VersionUpdate(
            description=None
            if description is None
            else checks.text("description", description, True),
            status=None if status is None else _as_status(status),
        )
        return self.store.update_version(
            scope, checks.text("model name", name), _version(version), update
        )

    def set_version_tag(self, scope: Scope, name: str, version: int, key: str, value: Any) -> None:
        tag = checks.key("tag", key)
        self.store.set_version_tag(
            scope, checks.text("model name", name), _version(version), tag, v.tag_value(tag, value)
        )

    def delete_version_tag(self, scope: Scope, name: str, version: int, key: str) -> None:
        self.store.delete_version_tag(
            scope, checks.text("model name", name), _version(version), checks.key("tag", key)
        )

    def delete_version(self, scope: Scope, name: str, version: int) -> None:
        """Delete a version; aliases pointing at it are removed and recorded as moves by
        ``scope.principal``. Its number is never given out again."""
        self.store.delete_version(
            scope, checks.text("model name", name), _version(version), scope.principal
        )

    def record_spec_digest(
        self, scope: Scope, name: str, version: int, previous: str | None, digest: str
    ) -> ModelVersion:
        """Record the sha256 of a rewritten ``gnomon-model.yaml`` (a contract edit), if the
        recorded one is still ``previous``. Raises ``Conflict`` when it changed meanwhile."""
        update = VersionUpdate(
            spec_sha256=_sha256("spec_sha256", digest), previous_spec_sha256=previous
        )
        return self.store.update_version(
            scope, checks.text("model name", name), _version(version), update
        )

    # -- models logged by runs ---------------------------------------------------------------

    def record_logged_model(
        self, scope: Scope, run_id: str, path: str, files: Mapping[str, str], spec_sha256: str
    ) -> LoggedModel:
        """Record the digests of a model a RUNNING run just stored under ``path``; from then
        on the run's artifacts under ``path`` are sealed.

        Raises:
            NotFound: the run does not exist.
            Conflict: the run is not RUNNING, or already logged a model at ``path``.
        """
        model = LoggedModel(
            run_id=checks.text("run_id", run_id),
            path=logged_path(path),
            files=_digests(files),
            spec_sha256=_sha256("spec_sha256", spec_sha256),
            created_time=now_ms(),
        )
        return self.store.record_logged_model(scope, model)

    def get_logged_model(self, scope: Scope, run_id: str, path: str) -> LoggedModel:
        """The digests recorded when the run logged a model at ``path``.

        Raises:
            NotFound: no model is recorded there (or the run does not exist).
        """
        key = logged_path(path)
        for model in self.store.list_logged_models(scope, checks.text("run_id", run_id)):
            if model.path == key:
                return model
        raise NotFound(f"run {run_id!r} has no gnomon model recorded at {key!r}")

    def logged_model_paths(self, scope: Scope, run_id: str) -> list[str]:
        """The artifact paths of the run's recorded models: sealed against writes."""
        return [m.path for m in self.store.list_logged_models(scope, run_id)]

    # -- aliases -----------------------------------------------------------------------------

    def set_alias(self, scope: Scope, name: str, alias: str, version: int) -> AliasEvent:
        """Point ``alias`` at ``version`` atomically, recorded as moved by ``scope.principal``.

        Raises:
            NotFound: the model or the version does not exist.
            InvalidInput: the alias is a number, ``v<number>``, ``latest`` or malformed.
        """
        return self.store.set_alias(
            scope,
            checks.text("model name", name),
            self.check_alias(alias),
            _version(version),
            scope.principal,
        )

    def delete_alias(self, scope: Scope, name: str, alias: str) -> AliasEvent:
        return self.store.delete_alias(
            scope, checks.text("model name", name), self.check_alias(alias), scope.principal
        )

    def get_version_by_alias(self, scope: Scope, name: str, alias: str) -> ModelVersion:
        return self.store.get_version_by_alias(
            scope, checks.text("model name", name), self.check_alias(alias)
        )

    def list_alias_events(
        self, scope: Scope, name: str, alias: str | None = None
    ) -> list[AliasEvent]:
        """Every move of the model's aliases (or of one alias), oldest first."""
        return self.store.list_alias_events(
            scope,
            checks.text("model name", name),
            None if alias is None else self.check_alias(alias),
        )

    # -- resolution --------------------------------------------------------------------------

    def resolve(self, scope: Scope, name: str, version_or_alias: Selector = None) -> ModelVersion:
        """The version a selector names: a number (``3`` or ``"3"``), an alias, or ``None`` /
        ``"latest"`` for the highest READY version.

        Raises:
            NotFound: the model, version or alias does not exist, or no version is READY.
            InvalidInput: a selector that is neither.
        """
        try:
            return self._resolve(scope, name, version_or_alias)
        except NotFound:
            self.get_model(scope, name)  # an unknown model: NotFound with a suggestion
            raise  # the model exists: its version or alias does not

    def _resolve(self, scope: Scope, name: str, version_or_alias: Selector) -> ModelVersion:
        selector = version_or_alias
        if selector is None or (isinstance(selector, str) and selector.lower() == LATEST):
            return self._latest_ready(scope, name)
        if isinstance(selector, str) and checks.decimal(selector):  # not isdigit(): "²"
            return self.get_version(scope, name, int(selector))
        if isinstance(selector, str):
            try:
                alias = self.check_alias(selector)
            except InvalidInput as exc:
                raise InvalidInput(
                    f"version {selector[:40]!r} is not a version number, 'latest' or an alias: "
                    f"{exc.message}",
                    {"version": selector[:40]},
                ) from None
            return self.get_version_by_alias(scope, name, alias)
        return self.get_version(scope, name, selector)

    def resolve_uri(self, scope: Scope, uri: str) -> ModelVersion:
        """The version a ``models:/`` URI names (see ``parse_model_uri``)."""
        return self.resolve(scope, *parse_model_uri(uri))

    def _close(self, scope: Scope, name: str) -> str:
        """A "did you mean" among the first model names of the caller's workspace, or ""."""
        query = ModelQuery(max_results=MAX_CANDIDATES)
        try:
            page = self.store.search_models(scope, query)
        except GnomonError:  # the suggestion is a courtesy: never the error that is reported
            return ""
        return did_you_mean(name, (m.name for m in page.items))

    def _latest_ready(self, scope: Scope, name: str) -> ModelVersion:
        page = self.search_versions(scope, name, status=VersionStatus.READY, max_results=1)
        if page.items:
            return page.items[0]
        self.store.get_model(scope, name)  # NotFound names an unknown model
        raise NotFound(f"registered model {name!r} has no READY version")


def parse_model_uri(uri: object) -> tuple[str, int | str | None]:
    """``models:/name/3`` → ``("name", 3)``, ``models:/name@alias`` → ``("name", "alias")``,
    ``models:/name/latest`` → ``("name", "latest")``, ``models:/name`` → ``("name", None)``.

    Raises:
        InvalidInput: anything else, naming the URI.
    """
    if not isinstance(uri, str) or not uri.startswith(MODELS_SCHEME):
        raise InvalidInput(
            f"not a model URI: {uri!r} (expected models:/<name>/<version>, "
            "models:/<name>@<alias> or models:/<name>)"
        )
    rest = uri[len(MODELS_SCHEME) :]
    try:
        if "@" in rest:
            name, alias = rest.split("@", 1)
            return RegistryService.check_model_name(name), RegistryService.check_alias(alias)
        name, slash, version = rest.partition("/")
        RegistryService.check_model_name(name)
    except InvalidInput as exc:
        raise InvalidInput(f"invalid model URI {uri!r}: {exc.message}") from None
    if not slash:
        return name, None
    if version == LATEST:
        return name, LATEST
    if checks.decimal(version) and int(version) >= 1:
        return name, int(version)
    raise InvalidInput(
        f"invalid model URI {uri!r}: after the name comes /<version number>, /latest or @<alias>"
    )


def logged_path(path: object) -> str:
    """An artifact path normalised as the artifact stores write it (``a/b``)."""
    from gnomon.artifacts.keys import clean_key

    key = clean_key(checks.text("path", path))
    if len(key) > LOGGED_PATH_LENGTH:
        raise InvalidInput(f"path is {len(key)} characters; at most {LOGGED_PATH_LENGTH}")
    return key


def _sha256(field: str, value: object) -> str:
    if not isinstance(value, str) or not _SHA256.fullmatch(value):
        raise InvalidInput(f"{field} must be a sha256 hex digest, got {value!r}", {field: value})
    return value


def _digests(files: object) -> dict[str, str]:
    from gnomon.modelfolder.spec import check_model_path

    if not isinstance(files, Mapping):
        raise InvalidInput(f"files must map paths to sha256 digests, got {type(files).__name__}")
    return {check_model_path(k, "file"): _sha256(f"sha256 of {k}", v) for k, v in files.items()}


def _checked_new_version(new: NewVersion) -> NewVersion:
    if not isinstance(new, NewVersion):
        raise InvalidInput(f"expected a NewVersion, got {type(new).__name__}")
    source = checks.text("source", new.source)
    run_id = new.run_id
    if source.startswith("runs:/"):
        from_source = source[len("runs:/") :].split("/", 1)[0]
        if not from_source:
            raise InvalidInput(f"source {source!r} names no run (expected runs:/<run id>/<path>)")
        if run_id is not None and run_id != from_source:
            raise InvalidInput(f"run_id {run_id!r} differs from the run in source {source!r}")
        run_id = from_source
    if run_id is not None and (not isinstance(run_id, str) or not 1 <= len(run_id) <= 32):
        raise InvalidInput(f"run_id must be a run id (at most 32 characters), got {run_id!r}")
    flavor = checks.text("flavor", new.flavor, empty=True)
    if len(flavor) > 64:
        raise InvalidInput(f"flavor {flavor[:40]!r}… is {len(flavor)} characters; at most 64")
    created_by = checks.text("created_by", new.created_by)
    if len(created_by) > 256:
        raise InvalidInput(f"created_by is {len(created_by)} characters; at most 256")
    return replace(
        new,
        source=source,
        run_id=run_id,
        storage_uri=checks.text("storage_uri", new.storage_uri),
        description=checks.text("description", new.description, empty=True),
        tags=v.tags_dict(new.tags),
        files=_digests(new.files),
        spec_sha256=None if new.spec_sha256 is None else _sha256("spec_sha256", new.spec_sha256),
    )


def _version(version: object) -> int:
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise InvalidInput(f"version must be a positive integer, got {version!r}")
    if version >= 2**31:
        raise InvalidInput(f"version {version} is out of range")
    return version


def _as_status(status: VersionStatus | str) -> VersionStatus:
    return checks.member(VersionStatus, status, "version status")
