"""Registry entities: plain frozen values, the same in embedded and remote mode."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

LOGGED_PATH_LENGTH = 1000  # the longest artifact path a logged model is recorded under
# A version registered through MLflow's API: an MLflow model folder, whose MLmodel's digest
# is recorded as its spec (gnomon's own folders record gnomon-model.yaml's).
MLFLOW_FLAVOR = "mlflow"
MLMODEL_FILE = "MLmodel"


class VersionStatus(StrEnum):
    READY = "READY"
    ARCHIVED = "ARCHIVED"


@dataclass(frozen=True, slots=True)
class RegisteredModel:
    """A named model. ``latest_version`` is the highest existing version number (any status),
    ``aliases`` maps each alias to the version it points at."""

    id: str
    workspace_id: str
    name: str
    description: str
    created_time: int
    updated_time: int
    tags: dict[str, str] = field(default_factory=dict)
    latest_version: int | None = None
    aliases: dict[str, int] = field(default_factory=dict)

    def _repr_html_(self) -> str:  # a notebook's view of the model
        from gnomon.registry.html import model_html

        return model_html(self)


@dataclass(frozen=True, slots=True)
class ModelVersion:
    """One numbered version. ``source`` is where it came from (``runs:/<run id>/<path>``);
    ``storage_uri`` is the registry's own copy of the model folder, which outlives the run.
    ``files`` and ``spec_sha256`` are the sha256 of each model file and of its
    ``gnomon-model.yaml`` as the registry stored them: loading checks the copy against these,
    never against the YAML beside the files (``None``: nothing recorded, it cannot load)."""

    model_name: str
    version: int
    source: str
    run_id: str | None
    storage_uri: str
    status: VersionStatus
    flavor: str
    created_time: int
    created_by: str
    updated_time: int
    description: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    aliases: list[str] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)
    spec_sha256: str | None = None

    def _repr_html_(self) -> str:  # a notebook's view of the version
        from gnomon.registry.html import version_html

        return version_html(self)


@dataclass(frozen=True, slots=True)
class AliasEvent:
    """One move of an alias: ``version`` is where it points now (``None``: removed),
    ``previous`` where it pointed before (``None``: it did not exist)."""

    model_name: str
    alias: str
    version: int | None
    previous: int | None
    actor: str
    time: int


@dataclass(frozen=True, slots=True)
class NewVersion:
    """What ``create_version`` needs; fields can grow without breaking store implementations."""

    source: str
    storage_uri: str
    created_by: str
    run_id: str | None = None
    flavor: str = ""
    description: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    spec_sha256: str | None = None


@dataclass(frozen=True, slots=True)
class VersionUpdate:
    """Fields of a version to change; ``None`` leaves a field as it is.

    ``spec_sha256`` records a rewritten ``gnomon-model.yaml`` (a contract edit); it is only
    written while the recorded digest still equals ``previous_spec_sha256``, so two edits
    racing cannot leave the record naming a file that is not there."""

    description: str | None = None
    status: VersionStatus | None = None
    spec_sha256: str | None = None
    previous_spec_sha256: str | None = None


@dataclass(frozen=True, slots=True)
class LoggedModel:
    """A model folder a run logged, as the side that stored it hashed it then: ``runs:/``
    loads and registrations check the files against these digests, and the run's artifacts
    under ``path`` can never be written again."""

    run_id: str
    path: str
    files: dict[str, str]
    spec_sha256: str
    created_time: int


@dataclass(frozen=True, slots=True)
class ModelQuery:
    """Registered models whose name matches ``name_like`` (SQL ``LIKE``, case-insensitive:
    ``%`` any run of characters, ``_`` one) and that carry every tag in ``tags``; by name."""

    name_like: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    max_results: int = 100
    page_token: str | None = None


@dataclass(frozen=True, slots=True)
class VersionQuery:
    """Versions matching every given field, ordered by model name, then newest version first."""

    model_name: str | None = None
    run_id: str | None = None
    status: VersionStatus | None = None
    tags: dict[str, str] = field(default_factory=dict)
    max_results: int = 100
    page_token: str | None = None


def spec_file_of(version: ModelVersion) -> str:
    """The file whose digest a version records as its spec's."""
    from gnomon.modelfolder.spec import MODEL_FILE

    return MLMODEL_FILE if version.flavor == MLFLOW_FLAVOR else MODEL_FILE
