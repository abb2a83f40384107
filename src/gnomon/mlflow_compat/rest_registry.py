"""MLflow's model registry API (``/api/2.0/mlflow/registered-models``, ``model-versions``)
over gnomon's RegistryService: one registry, whichever client registers.

A version registered through MLflow's client is an MLflow model: its source is a logged
model (``models:/<model id>``, what MLflow 3 registers), READY, whose files the version
points at and whose digests it records. It has the flavor ``mlflow``; gnomon's own models
keep theirs. MLflow's client can download a version only when it is an MLflow model.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import Field

from gnomon.auth.entities import AuditAction
from gnomon.errors import InvalidInput, NotFound
from gnomon.mlflow_compat.logged_models import ModelStatus
from gnomon.mlflow_compat.registering import MLFLOW_FLAVOR, mlflow_version
from gnomon.mlflow_compat.rest_logged_models import Models, Registry, model_artifacts_uri
from gnomon.mlflow_compat.rest_tracking import API, Reader, Writer
from gnomon.mlflow_compat.rest_wire import (
    MAX_LIST_ITEMS,
    Body,
    KeyValue,
    answer,
    as_dict,
    equality_filter,
    page_answer,
)
from gnomon.registry.entities import ModelVersion, RegisteredModel, VersionStatus
from gnomon.registry.routes import audit_version
from gnomon.registry.service import RegistryService
from gnomon.server.audit import audit
from gnomon.wire import BROWSE_RESULTS_LIMIT, BrowsePageSize, PageSize, Text

PREFIX = ""
router = APIRouter(tags=["mlflow"])
MODELS = f"{API}/registered-models"
VERSIONS = f"{API}/model-versions"
_LOGGED_MODEL_SOURCE = re.compile(r"models:/(m-[0-9a-f]{32})")


def model_json(model: RegisteredModel) -> dict[str, Any]:
    return {
        "name": model.name,
        "creation_timestamp": model.created_time,
        "last_updated_timestamp": model.updated_time,
        "description": model.description,
        "tags": [{"key": k, "value": v} for k, v in model.tags.items()],
        "aliases": [{"alias": a, "version": str(n)} for a, n in model.aliases.items()],
    }


def version_json(version: ModelVersion) -> dict[str, Any]:
    found = {
        "name": version.model_name,
        "version": str(version.version),
        "creation_timestamp": version.created_time,
        "last_updated_timestamp": version.updated_time,
        "user_id": version.created_by,
        "current_stage": "Archived" if version.status is VersionStatus.ARCHIVED else "None",
        "description": version.description,
        "source": version.source,
        "status": "READY",
        "tags": [{"key": k, "value": v} for k, v in version.tags.items()],
        "aliases": list(version.aliases),
    }
    if version.run_id:
        found["run_id"] = version.run_id
    logged = _LOGGED_MODEL_SOURCE.fullmatch(version.source)
    if logged:
        found["model_id"] = logged.group(1)
    return found


# -- registered models -----------------------------------------------------------------------


class CreateModel(Body):
    name: Text
    description: Text = ""
    tags: list[KeyValue] = Field(default_factory=list, max_length=MAX_LIST_ITEMS)


class ModelName(Body):
    name: Text


class UpdateModel(Body):
    name: Text
    description: Text = ""


class ModelTag(Body):
    name: Text
    key: Text
    value: Text = ""


class ModelTagKey(Body):
    name: Text
    key: Text


class SetAlias(Body):
    name: Text
    alias: Text
    version: Text


class Alias(Body):
    name: Text
    alias: Text


class LatestVersions(Body):
    name: Text
    stages: list[Text] = Field(default_factory=list, max_length=8)


@router.post(f"{MODELS}/create")
def create_model(
    body: CreateModel, request: Request, caller: Writer, registry: Registry
) -> Response:
    model = registry.create_model(caller.scope, body.name, body.description, as_dict(body.tags))
    audit(request, caller, AuditAction.CREATE, "model", model.name)
    return answer({"registered_model": model_json(model)})


@router.get(f"{MODELS}/get")
def get_model(name: Text, caller: Reader, registry: Registry) -> Response:
    model = registry.get_model(caller.scope, name)
    return answer({"registered_model": _with_latest(registry, caller.scope, model)})


@router.get(f"{MODELS}/search")
def search_models(
    caller: Reader,
    registry: Registry,
    filter: Text | None = None,
    max_results: BrowsePageSize = 100,  # MLflow's default page
    page_token: Text | None = None,
) -> Response:
    exact, pattern = _name_filter(filter or "")
    if exact is not None:  # one name: that model or none
        try:
            found = [registry.get_model(caller.scope, exact)]
        except NotFound:
            found = []
        return answer({"registered_models": [model_json(m) for m in found]})
    page = registry.search_models(caller.scope, pattern, None, max_results, page_token)
    found = [model_json(m) for m in page.items]
    return page_answer("registered_models", found, page.next_page_token)


@router.patch(f"{MODELS}/update")
def update_model(
    body: UpdateModel, request: Request, caller: Writer, registry: Registry
) -> Response:
    model = registry.update_model(caller.scope, body.name, body.description)
    audit(request, caller, AuditAction.UPDATE, "model", model.name)
    return answer({"registered_model": model_json(model)})


@router.delete(f"{MODELS}/delete")
def delete_model(body: ModelName, request: Request, caller: Writer, registry: Registry) -> Response:
    registry.delete_model(caller.scope, body.name)
    audit(request, caller, AuditAction.DELETE, "model", body.name)
    return answer({})


@router.post(f"{MODELS}/set-tag")
def set_model_tag(body: ModelTag, request: Request, caller: Writer, registry: Registry) -> Response:
    registry.set_model_tag(caller.scope, body.name, body.key, body.value)
    audit(request, caller, AuditAction.UPDATE, "model", body.name, {"tag": body.key})
    return answer({})


@router.delete(f"{MODELS}/delete-tag")
def delete_model_tag(
    body: ModelTagKey, request: Request, caller: Writer, registry: Registry
) -> Response:
    registry.delete_model_tag(caller.scope, body.name, body.key)
    audit(request, caller, AuditAction.UPDATE, "model", body.name, {"tag_deleted": body.key})
    return answer({})


@router.post(f"{MODELS}/alias")
def set_alias(body: SetAlias, request: Request, caller: Writer, registry: Registry) -> Response:
    event = registry.set_alias(caller.scope, body.name, body.alias, _number(body.version))
    details = {"version": event.version, "previous": event.previous}
    audit(request, caller, AuditAction.UPDATE, "model_alias", f"{body.name}@{body.alias}", details)
    return answer({})


@router.delete(f"{MODELS}/alias")
def delete_alias(body: Alias, request: Request, caller: Writer, registry: Registry) -> Response:
    event = registry.delete_alias(caller.scope, body.name, body.alias)
    details = {"previous": event.previous}
    audit(request, caller, AuditAction.DELETE, "model_alias", f"{body.name}@{body.alias}", details)
    return answer({})


@router.get(f"{MODELS}/alias")
def get_by_alias(name: Text, alias: Text, caller: Reader, registry: Registry) -> Response:
    version = registry.get_version_by_alias(caller.scope, name, alias)
    return answer({"model_version": version_json(version)})


@router.post(f"{MODELS}/get-latest-versions")
def latest_versions(body: LatestVersions, caller: Reader, registry: Registry) -> Response:
    if any(stage.lower() not in ("none", "") for stage in body.stages):
        raise InvalidInput("gnomon has no stages: use aliases (models:/<name>@<alias>)")
    model = registry.get_model(caller.scope, body.name)
    if model.latest_version is None:
        return answer({"model_versions": []})
    version = registry.get_version(caller.scope, body.name, model.latest_version)
    return answer({"model_versions": [version_json(version)]})


# -- versions --------------------------------------------------------------------------------


class CreateVersion(Body):
    name: Text
    source: Text
    run_id: Text | None = None
    tags: list[KeyValue] = Field(default_factory=list, max_length=MAX_LIST_ITEMS)
    description: Text = ""
    model_id: Text | None = None


class VersionRef(Body):
    name: Text
    version: Text


class UpdateVersion(VersionRef):
    description: Text = ""


class VersionTag(VersionRef):
    key: Text
    value: Text = ""


class VersionTagKey(VersionRef):
    key: Text


@router.post(f"{VERSIONS}/create")
def create_version(
    body: CreateVersion, request: Request, caller: Writer, registry: Registry, models: Models
) -> Response:
    logged = _LOGGED_MODEL_SOURCE.fullmatch(body.source)
    if logged is None or (body.model_id and body.model_id != logged.group(1)):
        raise InvalidInput(
            f"source {body.source!r} is not a logged model: gnomon registers MLflow models "
            "logged with MLflow 3's log_model, as models:/<model id>"
        )
    model = models.get(caller.scope, logged.group(1))
    if model.status is not ModelStatus.READY:
        raise InvalidInput(f"logged model {model.id!r} is {model.status.value}, not READY")
    if body.run_id and model.source_run_id and body.run_id != model.source_run_id:
        raise InvalidInput(f"run {body.run_id!r} did not log model {model.id!r}")
    new = mlflow_version(
        models,
        model,
        source=body.source,
        created_by=caller.principal.name,
        description=body.description,
        tags=as_dict(body.tags),
    )
    version = registry.create_version(caller.scope, body.name, new)
    audit_version(request, caller, AuditAction.CREATE, version, {"source": version.source})
    return answer({"model_version": version_json(version)})


@router.get(f"{VERSIONS}/get")
def get_version(name: Text, version: Text, caller: Reader, registry: Registry) -> Response:
    found = registry.get_version(caller.scope, name, _number(version))
    return answer({"model_version": version_json(found)})


@router.patch(f"{VERSIONS}/update")
def update_version(
    body: UpdateVersion, request: Request, caller: Writer, registry: Registry
) -> Response:
    found = registry.update_version(
        caller.scope, body.name, _number(body.version), body.description
    )
    audit_version(request, caller, AuditAction.UPDATE, found, {"description": body.description})
    return answer({"model_version": version_json(found)})


@router.delete(f"{VERSIONS}/delete")
def delete_version(
    body: VersionRef, request: Request, caller: Writer, registry: Registry
) -> Response:
    number = _number(body.version)
    registry.delete_version(caller.scope, body.name, number)
    audit(request, caller, AuditAction.DELETE, "model_version", f"{body.name}/{number}")
    return answer({})


@router.post(f"{VERSIONS}/set-tag")
def set_version_tag(
    body: VersionTag, request: Request, caller: Writer, registry: Registry
) -> Response:
    number = _number(body.version)
    registry.set_version_tag(caller.scope, body.name, number, body.key, body.value)
    target = f"{body.name}/{number}"
    audit(request, caller, AuditAction.UPDATE, "model_version", target, {"tag": body.key})
    return answer({})


@router.delete(f"{VERSIONS}/delete-tag")
def delete_version_tag(
    body: VersionTagKey, request: Request, caller: Writer, registry: Registry
) -> Response:
    number = _number(body.version)
    registry.delete_version_tag(caller.scope, body.name, number, body.key)
    target = f"{body.name}/{number}"
    audit(request, caller, AuditAction.UPDATE, "model_version", target, {"tag_deleted": body.key})
    return answer({})


@router.get(f"{VERSIONS}/search")
def search_versions(
    caller: Reader,
    registry: Registry,
    filter: Text | None = None,
    max_results: PageSize = 100,  # MLflow's default page; its client asks for 10,000
    page_token: Text | None = None,
) -> Response:
    terms = equality_filter(filter or "", ("name", "run_id"), "model versions")
    size = min(max_results, BROWSE_RESULTS_LIMIT)  # a shorter page, with a token to go on
    page = registry.search_versions(
        caller.scope,
        terms.get("name"),
        terms.get("run_id"),
        max_results=size,
        page_token=page_token,
    )
    found = [version_json(v) for v in page.items]
    return page_answer("model_versions", found, page.next_page_token)


@router.get(f"{VERSIONS}/get-download-uri")
def download_uri(
    name: Text, version: Text, caller: Reader, registry: Registry, models: Models
) -> Response:
    found = registry.get_version(caller.scope, name, _number(version))
    logged = _LOGGED_MODEL_SOURCE.fullmatch(found.source)
    if found.flavor != MLFLOW_FLAVOR or logged is None:
        raise InvalidInput(
            f"version {found.version} of {name!r} is a gnomon model (flavor {found.flavor!r}): "
            "load it with gnomon.load_model, not MLflow"
        )
    return answer({"artifact_uri": model_artifacts_uri(models.get(caller.scope, logged.group(1)))})


@router.post(f"{VERSIONS}/transition-stage")
def transition_stage(caller: Writer) -> Response:
    raise InvalidInput("gnomon has no stages: set an alias instead (registered-models/alias)")


# -- helpers ---------------------------------------------------------------------------------


def _with_latest(registry: RegistryService, scope: Any, model: RegisteredModel) -> dict[str, Any]:
    found = model_json(model)
    if model.latest_version is not None:
        latest = registry.get_version(scope, model.name, model.latest_version)
        found["latest_versions"] = [version_json(latest)]
    return found


def _number(version: str) -> int:
    if _VERSION.fullmatch(version) is None:  # ASCII digits only: "²".isdigit() is true
        raise InvalidInput(f"version must be a positive whole number, not {version!r}")
    return int(version)


_VERSION = re.compile(r"[1-9][0-9]{0,8}")


_NOT_PROMPTS = re.compile(r"tags?\.`mlflow\.prompt\.is_prompt`\s*!=\s*'true'", re.IGNORECASE)
_NAME = re.compile(r"\s*name\s*(=|LIKE|ILIKE)\s*'([^']*)'\s*", re.IGNORECASE)


def _name_filter(text: str) -> tuple[str | None, str | None]:
    """(an exact name, a LIKE pattern) from ``name = '…'`` or ``name LIKE '…'``. MLflow's
    client adds a term leaving prompts out of every search; gnomon has no prompts."""
    text = _NOT_PROMPTS.sub("", text).strip()
    text = re.sub(r"^\s*AND\s+|\s+AND\s*$", "", text, flags=re.IGNORECASE)
    if not text.strip():
        return None, None
    found = _NAME.fullmatch(text)
    if found is None:
        raise InvalidInput(
            f"registered models are filtered by name = '…' or name LIKE '…' only, not {text!r}"
        )
    if found.group(1) == "=":
        return found.group(2), None
    return None, found.group(2)
