"""An MLflow store's model registry, read as plain values: registered models with their tags
and aliases, their versions, and the MLflow 3 logged models those versions name.

The file store keeps the registry under ``<root>/models/<name>/`` (``meta.yaml``, ``tags/``,
``aliases/<alias>`` holding a version number, ``version-<n>/meta.yaml`` and ``tags/``) and a
logged model under ``<root>/<experiment>/models/<model id>/``, its files in ``artifacts/``. The
SQL store has the tables ``registered_models``, ``registered_model_tags``, ``model_versions``,
``model_version_tags``, ``registered_model_aliases`` and ``logged_models``. A version MLflow
deleted (stage ``Deleted_Internal``) is left out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gnomon.mlflow_compat.import_confined import Refused
from gnomon.mlflow_compat.import_file_store import FileStoreSource
from gnomon.mlflow_compat.import_sources import MlflowSource
from gnomon.mlflow_compat.import_sql_store import SqlStoreSource

DELETED_STAGE = "Deleted_Internal"
MODELS = "models"


@dataclass(frozen=True, slots=True)
class SourceVersion:
    number: int
    source: str
    run_id: str | None
    description: str
    status: str  # READY, PENDING_REGISTRATION or FAILED_REGISTRATION
    storage_location: str | None
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def model_id(self) -> str | None:
        """The logged model an MLflow 3 version names (``models:/<model id>``)."""
        if self.source.startswith("models:/m-") and "/" not in self.source[len("models:/") :]:
            return self.source[len("models:/") :]
        return None


@dataclass(frozen=True, slots=True)
class SourceModel:
    name: str
    description: str
    tags: dict[str, str]
    aliases: dict[str, int]
    versions: list[SourceVersion]  # by number


@dataclass(frozen=True, slots=True)
class SourceLoggedModel:
    id: str
    name: str
    artifact_location: str | None
    local_artifacts: Path | None = None  # a file store's own folder for it, moved or not


def read_registry(
    source: MlflowSource,
) -> tuple[list[SourceModel], dict[str, SourceLoggedModel]]:
    """The source's registered models, and the logged models by id."""
    if isinstance(source, FileStoreSource):
        return _FileRegistry(source).read()
    if isinstance(source, SqlStoreSource):
        return _sql_registry(source)
    return [], {}


class _FileRegistry:
    def __init__(self, source: FileStoreSource) -> None:
        self.source = source
        self.folder = source.folder

    def read(self) -> tuple[list[SourceModel], dict[str, SourceLoggedModel]]:
        models = []
        for name, kind in self._entries(self.source.root / MODELS):
            if kind == "folder":
                model = self._model(self.source.root / MODELS / name)
                if model is not None:
                    models.append(model)
        return models, self._logged_models()

    def _model(self, folder: Path) -> SourceModel | None:
        meta = self._meta(folder)
        if not meta or not isinstance(meta.get("name"), str):
            return None
        aliases = {}
        for alias, text in self._texts(folder / "aliases").items():
            if text.strip().isdigit():
                aliases[alias] = int(text.strip())
        versions = []
        for name, kind in self._entries(folder):
            if kind == "folder" and name.startswith("version-"):
                version = self._version(folder / name)
                if version is not None:
                    versions.append(version)
        return SourceModel(
            name=meta["name"],
            description=_text(meta.get("description")),
            tags=self._texts(folder / "tags"),
            aliases=aliases,
            versions=sorted(versions, key=lambda v: v.number),
        )

    def _version(self, folder: Path) -> SourceVersion | None:
        meta = self._meta(folder)
        number = meta.get("version") if meta else None
        if not meta or not isinstance(number, int) or meta.get("current_stage") == DELETED_STAGE:
            return None
        return SourceVersion(
            number=number,
            source=_text(meta.get("source")),
            run_id=_text(meta.get("run_id")) or None,
            description=_text(meta.get("description")),
            status=_text(meta.get("status")) or "READY",
            storage_location=_text(meta.get("storage_location")) or None,
            tags=self._texts(folder / "tags"),
        )

    def _logged_models(self) -> dict[str, SourceLoggedModel]:
        found = {}
        for experiment in self.source.experiment_folders:
            for model_id, kind in self._entries(experiment / MODELS):
                meta = self._meta(experiment / MODELS / model_id) if kind == "folder" else None
                if meta and meta.get("model_id") == model_id:
                    location = _text(meta.get("artifact_location")) or None
                    own = experiment / MODELS / model_id / "artifacts"
                    name = _text(meta.get("name")) or "model"
                    found[model_id] = SourceLoggedModel(model_id, name, location, own)
        return found

    def _entries(self, folder: Path) -> list[tuple[str, str]]:
        try:
            return self.folder.entries(folder)
        except Refused:
            return []

    def _meta(self, folder: Path) -> dict[str, Any] | None:
        import yaml

        try:
            found = yaml.safe_load(self.folder.read_bytes(folder / "meta.yaml"))
        except (Refused, OSError, yaml.YAMLError):
            return None
        return found if isinstance(found, dict) else None

    def _texts(self, folder: Path) -> dict[str, str]:
        found = {}
        try:
            listed = list(self.folder.files(folder))
        except Refused:
            return {}
        for key, path, why in listed:
            if why is None:
                try:
                    found[key] = self.folder.read_bytes(path).decode("utf-8")
                except (Refused, OSError, UnicodeDecodeError):
                    continue
        return found


def _sql_registry(
    source: SqlStoreSource,
) -> tuple[list[SourceModel], dict[str, SourceLoggedModel]]:
    if not {"registered_models", "model_versions"} <= source.tables:
        return [], {}
    model_tags = _grouped(source.read("SELECT name, key, value FROM registered_model_tags"))
    version_tags: dict[tuple[str, int], dict[str, str]] = {}
    for name, version, key, value in source.read(
        "SELECT name, version, key, value FROM model_version_tags"
    ):
        version_tags.setdefault((name, version), {})[key] = value or ""
    aliases: dict[str, dict[str, int]] = {}
    if "registered_model_aliases" in source.tables:
        for name, alias, version in source.read(
            "SELECT name, alias, version FROM registered_model_aliases"
        ):
            aliases.setdefault(name, {})[alias] = version
    versions: dict[str, list[SourceVersion]] = {}
    for row in source.read(
        "SELECT name, version, source, run_id, description, status, current_stage, "
        "storage_location FROM model_versions ORDER BY name, version"
    ):
        if row.current_stage == DELETED_STAGE or not isinstance(row.version, int):
            continue
        versions.setdefault(row.name, []).append(
            SourceVersion(
                number=row.version,
                source=_text(row.source),
                run_id=_text(row.run_id) or None,
                description=_text(row.description),
                status=_text(row.status) or "READY",
                storage_location=_text(row.storage_location) or None,
                tags=version_tags.get((row.name, row.version), {}),
            )
        )
    models = [
        SourceModel(
            name=name,
            description=_text(description),
            tags=model_tags.get(name, {}),
            aliases=aliases.get(name, {}),
            versions=versions.get(name, []),
        )
        for name, description in source.read(
            "SELECT name, description FROM registered_models ORDER BY name"
        )
        if isinstance(name, str)
    ]
    logged: dict[str, SourceLoggedModel] = {}
    if "logged_models" in source.tables:
        for model_id, name, location in source.read(
            "SELECT model_id, name, artifact_location FROM logged_models"
        ):
            if isinstance(model_id, str):
                logged[model_id] = SourceLoggedModel(
                    model_id, _text(name) or "model", _text(location) or None
                )
    return models, logged


def _grouped(rows: list[Any]) -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = {}
    for name, key, value in rows:
        found.setdefault(name, {})[key] = value or ""
    return found


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""
