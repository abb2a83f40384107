"""Writing an MLflow store into gnomon, through the tracking service, resumably.

Experiments are matched by name, or created when missing. Only an experiment the import
creates takes the source's lifecycle: one it matched is the user's, and keeps its own (a
deleted one takes no new runs; the summary says why). A run's user is the importing user, as
for every gnomon client; the MLflow user is kept in the tag ``MLFLOW_USER_TAG``.
Runs are written parents first, so a nested run gets its parent's gnomon id. A run takes few
calls: ``create_run``; its params, tags and metric points in as few ``log_batch`` calls as the
limits allow (``import_values.py``); its artifact files (``import_artifacts.py``); then
``end_run`` and ``delete_run`` as the source says. A value gnomon's validation refuses is
left out and listed in the summary, and the rest of its run kept.

Resuming: a run is created carrying ``MLFLOW_RUN_TAG`` (the MLflow run id), and only its last
batch, after every value and artifact file, carries ``COMPLETE_TAG``. Running the import again
skips complete runs (ending or deleting them if a crash came between that batch and those
steps) and finishes incomplete ones by sending everything again: params and tags take the
same value again, the store keeps a metric point sent twice once, and an artifact file is
overwritten with the same bytes. No run is created twice.

Registered models, their versions and aliases follow the runs (``import_registry.py``), when
the caller passes the registry and logged-model services (an embedded store, or the server
host); otherwise the summary says why they were left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from gnomon import checks
from gnomon._types import Scope
from gnomon.errors import GnomonError, InvalidInput, NotFound, Unavailable
from gnomon.mlflow_compat.import_artifacts import ArtifactCopier
from gnomon.mlflow_compat.import_confined import ConfinedFolder
from gnomon.mlflow_compat.import_registry import REMOTE, RegistryImporter, RegistryTarget
from gnomon.mlflow_compat.import_registry_sources import read_registry
from gnomon.mlflow_compat.import_sources import (
    NOTE_TAG,
    MlflowSource,
    SourceExperiment,
    SourceRun,
    SourceRunData,
)
from gnomon.mlflow_compat.import_summary import ImportSummary, Skipped
from gnomon.mlflow_compat.import_values import Batch, batches, checked_values, valid
from gnomon.mlflow_compat.logged_models import LoggedModelService
from gnomon.progress import ProgressCallback
from gnomon.registry.service import RegistryService
from gnomon.tracking import validation as v
from gnomon.tracking.entities import Experiment, Lifecycle, Run, RunStatus
from gnomon.tracking.search import build_query
from gnomon.tracking.service import TrackingService

MLFLOW_RUN_TAG = "gnomon.import.mlflow_run_id"
SOURCE_TAG = "gnomon.import.source"
COMPLETE_TAG = "gnomon.import.complete"
MLFLOW_USER_TAG = "gnomon.import.mlflow_user"
_INDEX_PAGE = 5_000
_STATUSES = {s.value: s for s in RunStatus}


@dataclass(slots=True)
class _Target:
    source: SourceExperiment
    experiment: Experiment
    runs: list[SourceRun]
    created: bool  # by this import: the only kind whose lifecycle it sets


def import_mlflow(
    service: TrackingService,
    scope: Scope,
    source: MlflowSource,
    experiments: Sequence[str] = (),
    on_progress: ProgressCallback | None = None,
    artifacts_root: Path | None = None,
    registry: RegistryService | None = None,
    models: LoggedModelService | None = None,
) -> ImportSummary:
    """Copy ``source`` (or only the ``experiments`` named) into the caller's workspace, and
    its registered models with ``registry`` and ``models`` (both needed: without them the
    summary lists the registry as left out). A version is imported when its run is.

    ``on_progress`` is called with (runs done, runs in all) as the import goes, more than once
    per run. A run that fails part way (an unreadable artifact file) is listed in
    ``ImportSummary.incomplete`` and the import goes on; running it again finishes that run.
    Artifacts are read only from inside the store's own folder and ``artifacts_root``.

    Raises:
        InvalidInput: an experiment named in ``experiments`` is not in the source.
        NotFound: ``artifacts_root`` is not a folder.
        Unavailable: gnomon's store went away; what was written stays, run again to go on.
    """
    root = None
    if artifacts_root is not None:
        if not artifacts_root.is_dir():
            raise NotFound(f"--artifacts-root folder {str(artifacts_root)!r} not found")
        root = ConfinedFolder(artifacts_root)
    importer = _Importer(service, scope, source, on_progress, root)
    if registry is not None and models is not None:
        importer.registry = (registry, models)
    return importer.run(experiments)


def imported_runs(service: TrackingService, scope: Scope, experiment_id: str) -> dict[str, Run]:
    """The runs an import wrote into an experiment, by MLflow run id, deleted ones included
    (the way for a later registry import to find a model version's run)."""
    found: dict[str, Run] = {}
    token: str | None = None
    while True:
        where = f"tags.{MLFLOW_RUN_TAG} IS NOT NULL"
        query = build_query([experiment_id], where, None, _INDEX_PAGE, token, True)
        page = service.search_query(scope, query)
        for run in page.items:
            mlflow_id = run.tags[MLFLOW_RUN_TAG]
            if mlflow_id not in found or _complete(run):  # a complete copy wins
                found[mlflow_id] = run
        token = page.next_page_token
        if token is None:
            return found


class _Importer:
    def __init__(
        self,
        service: TrackingService,
        scope: Scope,
        source: MlflowSource,
        on_progress: ProgressCallback | None,
        artifacts_root: ConfinedFolder | None,
    ) -> None:
        self.service, self.scope, self.source = service, scope, source
        self.summary = ImportSummary(source.uri)
        self.artifacts = ArtifactCopier(service, scope, self.summary, source.folder, artifacts_root)
        self.imported: dict[str, Run] = {}  # MLflow run id -> its gnomon run
        self.registry: tuple[RegistryService, LoggedModelService] | None = None
        self._on_progress = on_progress
        self._done = self._total = 0

    def run(self, names: Sequence[str]) -> ImportSummary:
        targets = [t for e in self._chosen(names) if (t := self._target(e)) is not None]
        self.summary.skipped += self.source.problems  # rows and files the reader left out
        self._total = sum(len(t.runs) for t in targets)
        self._progress()
        experiments = {t.source.id: t.experiment for t in targets}
        for run in _parents_first([r for t in targets for r in t.runs]):
            self._import_run(run, experiments[run.experiment_id])
            self._done += 1
            self._progress()
        self._import_registry({r.id: r for t in targets for r in t.runs})
        for target in targets:
            self._settle(target)
        ids = (r.id for t in targets for r in t.runs)
        self.summary.run_ids = {i: self.imported[i].id for i in ids if i in self.imported}
        return self.summary

    def _import_registry(self, source_runs: dict[str, SourceRun]) -> None:
        """After the runs (a version's logged model goes in its run's experiment), before an
        experiment deleted in MLflow is deleted here."""
        models, logged = read_registry(self.source)
        if not models:
            return
        if self.registry is None:
            names = ", ".join(repr(m.name) for m in models[:5])
            more = f" and {len(models) - 5} more" if len(models) > 5 else ""
            self.summary.skip("registered models", names + more, REMOTE)
            return
        target = RegistryTarget(*self.registry, self.imported, source_runs)
        RegistryImporter(target, self.scope, self.summary, self.artifacts, logged).run(models)

    # -- experiments ---------------------------------------------------------------------------

    def _chosen(self, names: Sequence[str]) -> list[SourceExperiment]:
        found = self.source.experiments()
        if not names:
            return found
        missing = sorted(set(names) - {e.name for e in found})
        if missing:
            have = ", ".join(repr(e.name) for e in found[:20]) or "none"
            raise InvalidInput(
                f"no experiment named {', '.join(map(repr, missing))} in {self.source.uri} "
                f"(it has {have})"
            )
        return [e for e in found if e.name in names]

    def _target(self, source: SourceExperiment) -> _Target | None:
        runs = self.source.runs(source)
        try:
            name = v.check_name("experiment", source.name)
        except InvalidInput as exc:
            self.summary.skip(
                "experiment", source.name, f"{exc.message}; {len(runs)} runs left out"
            )
            return None
        try:
            experiment = self.service.get_experiment_by_name(self.scope, name)
            created = False
            self.summary.experiments_matched += 1
        except NotFound:
            experiment = self.service.create_experiment(self.scope, name)
            created = True
            self.summary.experiments_created += 1
        if source.tags:
            subject = f"experiment {name!r} ({len(source.tags)} tags)"
            self.summary.skip("experiment tags", subject, "gnomon experiments keep no tags")
        self.imported.update(imported_runs(self.service, self.scope, experiment.id))
        return _Target(source, experiment, runs, created)

    def _settle(self, target: _Target) -> None:
        """A created experiment ends as the source's; a matched one keeps its lifecycle."""
        current = self.service.get_experiment(self.scope, target.experiment.id)
        wanted = Lifecycle.DELETED if target.source.deleted else Lifecycle.ACTIVE
        if current.lifecycle is wanted:
            return
        if target.created:  # created active; if deleted since, by someone else: left so
            if wanted is Lifecycle.DELETED:
                self.service.delete_experiment(self.scope, current.id)
            return
        source = wanted.value
        self.summary.skip(
            "experiment lifecycle",
            f"experiment {current.name!r} ({source} in MLflow, {current.lifecycle.value} here)",
            "an experiment the import did not create keeps its lifecycle",
        )

    # -- runs ----------------------------------------------------------------------------------

    def _import_run(self, run: SourceRun, experiment: Experiment) -> None:
        existing = self.imported.get(run.id)
        if existing is not None and _complete(existing):
            self._finish(run, existing)
            self.summary.runs_already_imported += 1
            return
        if existing is None and experiment.lifecycle is Lifecycle.DELETED:
            reason = f"experiment {experiment.name!r} is deleted in gnomon; restore it to import"
            self.summary.skip("run", f"run {run.id}", reason)
            return
        try:
            self._write_run(run, experiment, existing)
        except Unavailable:
            raise  # every later write would fail the same way
        except (GnomonError, OSError, ValueError) as exc:  # ValueError: a file not UTF-8
            reason = exc.message if isinstance(exc, GnomonError) else f"{type(exc).__name__}: {exc}"
            self.summary.incomplete.append(Skipped("run", f"run {run.id}", reason))
            return
        if existing is None:
            self.summary.runs_imported += 1
        else:
            self.summary.runs_resumed += 1

    def _write_run(self, run: SourceRun, experiment: Experiment, existing: Run | None) -> None:
        subject = f"run {run.id}"
        data = self.source.run_data(run)
        parts = batches(checked_values(data, subject, self.summary))
        plan = self.artifacts.plan(run, subject)
        if existing is None:
            target = self._create(run, experiment, data, subject)
        else:
            target = self.service.resume_run(self.scope, existing.id)  # RUNNING, as it was
        if not plan.files:  # nothing comes after the values: their last batch marks the run
            parts[-1].tags[COMPLETE_TAG] = "true"
        for batch in parts:
            self.service.log_batch(self.scope, target.id, batch.metrics, batch.params, batch.tags)
            self._count(batch)
            self._progress()
        if plan.files:
            self.artifacts.copy(target.id, plan, subject)
            self._progress()
            self.service.log_batch(self.scope, target.id, tags={COMPLETE_TAG: "true"})
        self._finish(run, target)  # RUNNING and active: only the import writes to it

    def _create(
        self, run: SourceRun, experiment: Experiment, data: SourceRunData, subject: str
    ) -> Run:
        parent: str | None = None
        if run.parent_id:
            found = self.imported.get(run.parent_id)
            if found is None:
                reason = "its parent run is not imported; imported as a top-level run"
                self.summary.skip("parent", f"{subject} (parent {run.parent_id})", reason)
            else:
                parent = found.id
        if run.status not in _STATUSES:
            reason = f"status {run.status} has no gnomon equivalent; kept as RUNNING"
            self.summary.skip("status", subject, reason)
        s = self.summary
        note = data.tags.get(NOTE_TAG, "")
        marks = {MLFLOW_RUN_TAG: run.id, SOURCE_TAG: self.source.uri}
        user = valid(s, "user", subject, run.user, lambda u: v.tag_value(MLFLOW_USER_TAG, u))
        if user is not None:
            marks[MLFLOW_USER_TAG] = user
        created = self.service.create_run(  # its user: the importing one, as for any client
            self.scope,
            experiment.id,
            valid(s, "run name", subject, run.name, lambda n: v.check_name("run", n)),
            description=valid(s, "description", subject, note, _description) or "",
            parent_run_id=parent,
            tags=marks,
            start_time=valid(s, "start time", subject, run.start_time, _start_time),
        )
        self.imported[run.id] = created
        return created

    def _finish(self, run: SourceRun, current: Run) -> None:
        """End and delete the gnomon run as the MLflow run is; each step done once."""
        status = _STATUSES.get(run.status, RunStatus.RUNNING)
        if status.is_terminal and current.status is RunStatus.RUNNING:
            end = valid(self.summary, "end time", f"run {run.id}", run.end_time, _end_time)
            current = self.service.end_run(self.scope, current.id, status, end)
        if run.deleted and current.lifecycle is Lifecycle.ACTIVE:
            current = self.service.delete_run(self.scope, current.id)
        self.imported[run.id] = current

    def _count(self, batch: Batch) -> None:
        self.summary.params += len(batch.params)
        self.summary.tags += len(batch.tags) - (COMPLETE_TAG in batch.tags)
        self.summary.metric_points += len(batch.metrics)

    def _progress(self) -> None:
        if self._on_progress is not None:
            self._on_progress(self._done, self._total)


def _complete(run: Run | None) -> bool:
    return run is not None and run.tags.get(COMPLETE_TAG) == "true"


def _description(text: str) -> str:
    return checks.text("description", text, empty=True)


def _start_time(millis: int) -> int:
    return checks.millis("start_time", millis)


def _end_time(millis: int) -> int:
    return checks.millis("end_time", millis)


def _parents_first(runs: list[SourceRun]) -> list[SourceRun]:
    """``runs`` in their order, except that a run's parent (when among them) comes first."""
    by_id = {run.id: run for run in runs}
    placed: set[str] = set()
    ordered: list[SourceRun] = []
    for run in runs:
        chain: list[SourceRun] = []
        current: SourceRun | None = run
        while current is not None and current.id not in placed:
            placed.add(current.id)  # also ends a cycle, which MLflow cannot make anyway
            chain.append(current)
            current = by_id.get(current.parent_id) if current.parent_id else None
        ordered.extend(reversed(chain))
    return ordered
