"""An MLflow registry written into gnomon's, after the runs: each registered model, each of
its versions as the same model, and its aliases.

A version becomes a gnomon logged model in its imported run's experiment (source run: that
run), holding a copy of the model's files, sealed READY, then a registry version made exactly
as one MLflow's client registers (``registering.mlflow_version``). Files are read as artifacts
are: only from the allowed folders, no link followed (``import_confined.py``). The files of an
MLflow 3 version are its logged model's; an older version's are its ``runs:/<run>/<path>``
below the run's artifacts, or the local folder its source names.

gnomon numbers versions itself: MLflow's number is kept in the tag ``mlflow.version``, and an
alias moves to the gnomon version made from the MLflow version it names. A version carries
``VERSION_TAG`` (``<name>/<number>``) and names the gnomon copy of its run: a version with both
is already imported and skipped, so running the import again adds nothing (and a second MLflow
store's ``price/1`` is not taken for the first's). A version whose run is not imported is not
imported either. An alias already pointing elsewhere in gnomon is left as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gnomon._types import Scope
from gnomon.artifacts.keys import clean_key
from gnomon.errors import GnomonError, NotFound, Unavailable
from gnomon.mlflow_compat.import_artifacts import ArtifactCopier
from gnomon.mlflow_compat.import_confined import ConfinedFolder, Refused
from gnomon.mlflow_compat.import_registry_sources import (
    SourceLoggedModel,
    SourceModel,
    SourceVersion,
)
from gnomon.mlflow_compat.import_sources import SourceRun
from gnomon.mlflow_compat.import_summary import ImportSummary
from gnomon.mlflow_compat.import_values import OWN_TAGS, refusal
from gnomon.mlflow_compat.logged_models import LoggedModel, LoggedModelService, ModelStatus
from gnomon.mlflow_compat.registering import logged_model_source, mlflow_version
from gnomon.registry.entities import ModelVersion
from gnomon.registry.service import RegistryService
from gnomon.tracking import validation as v
from gnomon.tracking.entities import Run

VERSION_TAG = "gnomon.import.mlflow_version"
SOURCE_TAG = "gnomon.import.mlflow_source"
NUMBER_TAG = "mlflow.version"
REMOTE = "registered models are imported into an embedded store or on the server host for now"


class _Refused(Exception):
    """A version not imported, with the reason."""


@dataclass(slots=True)
class RegistryTarget:
    """Where the registry goes, and what the run import left to find a version's run."""

    registry: RegistryService
    models: LoggedModelService
    runs: dict[str, Run]  # MLflow run id -> its gnomon run
    source_runs: dict[str, SourceRun]  # MLflow run id -> as the source has it


class RegistryImporter:
    def __init__(
        self,
        target: RegistryTarget,
        scope: Scope,
        summary: ImportSummary,
        artifacts: ArtifactCopier,
        logged: dict[str, SourceLoggedModel],
    ) -> None:
        self.target, self.scope, self.summary = target, scope, summary
        self.artifacts = artifacts
        self.logged = logged

    def run(self, models: list[SourceModel]) -> None:
        for model in models:
            try:
                self._model(model)
            except Unavailable:
                raise
            except GnomonError as exc:
                self.summary.skip("registered model", repr(model.name), exc.message)

    def _model(self, source: SourceModel) -> None:
        registry = self.target.registry
        why = refusal(registry.check_model_name, source.name)
        if why is not None:
            reason = f"{why}; {len(source.versions)} versions left out"
            self.summary.skip("registered model", repr(source.name), reason)
            return
        try:
            registry.get_model(self.scope, source.name)
            self.summary.models_matched += 1
        except NotFound:
            tags = self._tags(source.tags, f"model {source.name!r}")
            registry.create_model(self.scope, source.name, source.description, tags)
            self.summary.models_created += 1
        made: dict[int, int] = {}  # MLflow version number -> gnomon's
        for version in source.versions:
            subject = f"{source.name}/{version.number}"
            try:
                made[version.number] = self._version(source.name, version, subject)
            except _Refused as exc:
                self.summary.skip("model version", subject, str(exc))
            except Unavailable:
                raise
            except (GnomonError, OSError) as exc:
                why = (
                    exc.message if isinstance(exc, GnomonError) else f"{type(exc).__name__}: {exc}"
                )
                self.summary.skip("model version", subject, why)
        self._aliases(source, made)

    def _version(self, name: str, version: SourceVersion, subject: str) -> int:
        run = self.target.runs.get(version.run_id or "")
        if run is None:
            raise _Refused("its run is not imported: import its experiment with it")
        # The run tells this store's version from another store's of the same name and number.
        found = self.target.registry.search_versions(
            self.scope, name, run.id, tags={VERSION_TAG: subject}, max_results=1
        )
        if found.items:
            self.summary.versions_already_imported += 1
            return found.items[0].version
        if version.status != "READY":
            raise _Refused(f"its status is {version.status}, not READY")
        folder, path = self._files(version)
        logged = self._copy(run, version, folder, path)
        tags = self._tags(version.tags, f"version {subject}")
        tags.update(
            {NUMBER_TAG: str(version.number), VERSION_TAG: subject, SOURCE_TAG: version.source}
        )
        try:
            new = mlflow_version(
                self.target.models,
                logged,
                source=logged_model_source(logged),
                created_by=self.scope.principal,
                description=version.description,
                tags=tags,
            )
            made: ModelVersion = self.target.registry.create_version(self.scope, name, new)
        except BaseException:
            self._discard(logged)  # no version points at it: a rerun makes it again
            raise
        self.summary.versions_imported += 1
        return made.version

    def _files(self, version: SourceVersion) -> tuple[ConfinedFolder, Path]:
        """The allowed folder holding the version's model files, and their folder's path."""
        located: tuple[ConfinedFolder, Path] | str | None
        model_id = version.model_id
        if model_id is not None:
            logged = self.logged.get(model_id)
            store = self.artifacts.store
            own = logged.local_artifacts if logged is not None else None
            if own is not None and store is not None and store.kind(own) == "folder":
                return store, own
            uri = (logged.artifact_location if logged else None) or version.storage_location
            if not uri:
                raise _Refused(f"logged model {model_id} is not in the store")
            located = self.artifacts.confine(uri)
        elif version.source.startswith("runs:/"):
            run_id, _, inside = version.source[len("runs:/") :].partition("/")
            run = self.target.source_runs.get(run_id)
            located = self.artifacts.locate(run) if run is not None else None
            if located is None:
                raise _Refused(f"run {run_id} or its artifacts are not in the store")
            if not isinstance(located, str):
                located = located[0], located[1] / inside
        else:
            located = self.artifacts.confine(version.storage_location or version.source)
        if isinstance(located, str):
            raise _Refused(f"{version.source}: {located}")
        return located

    def _copy(
        self, run: Run, version: SourceVersion, folder: ConfinedFolder, path: Path
    ) -> LoggedModel:
        """A READY gnomon logged model holding a copy of the files below ``path``."""
        try:
            listed = list(folder.files(path))
        except Refused as exc:
            raise _Refused(f"{path}: {exc.reason}") from None
        for key, _, why in listed:
            why = why or refusal(clean_key, key)
            if why is not None:  # a model missing a file would not load
                raise _Refused(f"model file {key!r}: {why}")
        if not any(key == "MLmodel" for key, _, _ in listed):
            raise _Refused(f"{path} holds no MLmodel file: not an MLflow model")
        models = self.target.models
        logged = self.logged.get(version.model_id or "")
        model = models.create(
            self.scope,
            run.experiment_id,
            logged.name if logged else Path(path).name or "model",
            source_run_id=run.id,
            tags={SOURCE_TAG: version.source},
        )
        try:
            store = models.store(model)
            copied = 0
            for key, file, _ in listed:
                with folder.pinned(file) as (local, size):
                    store.put_file(local, key)
                copied += size
            sealed = models.finalize(self.scope, model.id, ModelStatus.READY)
        except BaseException:
            self._discard(model)  # a half copy would never be sealed or found again
            raise
        self.summary.model_files += len(listed)
        self.summary.model_bytes += copied
        return sealed

    def _discard(self, model: LoggedModel) -> None:
        self.target.models.delete_files(model)
        self.target.models.delete(self.scope, model.id)

    def _aliases(self, source: SourceModel, made: dict[int, int]) -> None:
        registry = self.target.registry
        current = registry.get_model(self.scope, source.name).aliases
        for alias, number in sorted(source.aliases.items()):
            subject = f"{source.name}@{alias}"
            wanted = made.get(number)
            if wanted is None:
                self.summary.skip("alias", subject, f"version {number} is not imported")
                continue
            if current.get(alias) == wanted:
                continue
            refused = refusal(registry.check_alias, alias)
            if alias in current:
                refused = f"points at version {current[alias]} in gnomon; left as it is"
            if refused is not None:
                self.summary.skip("alias", subject, refused)
                continue
            registry.set_alias(self.scope, source.name, alias, wanted)
            self.summary.aliases_set += 1

    def _tags(self, tags: dict[str, str], subject: str) -> dict[str, str]:
        kept = {}
        for key, value in tags.items():
            why = "reserved for the importer's marks" if key.startswith(OWN_TAGS) else None
            why = why or refusal(v.tags_dict, {key: value})
            if why is None:
                kept[key] = value
            else:
                self.summary.skip("tag", f"{subject}: {key}", why)
        return kept
