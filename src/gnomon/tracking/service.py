"""Tracking rules and validation: the only caller of a TrackingStore."""

from __future__ import annotations

import random
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, Protocol

from gnomon import checks
from gnomon._types import Page, Scope, get_or_create, now_ms
from gnomon.artifacts.local import clean_key
from gnomon.artifacts.store import ArtifactInfo, ArtifactStore
from gnomon.errors import Conflict, GnomonError, InvalidInput, NotFound
from gnomon.suggestions import MAX_CANDIDATES, did_you_mean
from gnomon.tracking import validation as v
from gnomon.tracking.entities import (
    Experiment,
    FinishedRun,
    Lifecycle,
    Metric,
    NewRun,
    Run,
    RunData,
    RunStatus,
    RunUpdate,
)
from gnomon.tracking.search import DEFAULT_MAX_RESULTS, RunQuery, build_query
from gnomon.tracking.series import (
    MAX_ACTIVITY_EXPERIMENTS,
    MAX_SERIES_POINTS,
    ExperimentActivity,
    MetricSeries,
    check_max_points,
)
from gnomon.tracking.store import TrackingStore

_ADJECTIVES = ("amber", "brisk", "calm", "dapper", "eager", "fond", "gentle", "hardy", "keen")
_NOUNS = ("otter", "heron", "lynx", "finch", "bison", "gecko", "ibis", "koala", "marten")

# The artifact paths of the models a run logged (recorded by the registry): never rewritten.
SealedPaths = Callable[[Scope, str], Sequence[str]]


class LoggedModelPaths(Protocol):
    """What the registry provides to seal logged models (tracking cannot import it)."""

    def __call__(self, scope: Scope, run_id: str) -> Sequence[str]: ...


class TrackingService:
    """Experiments, runs, logging, search and run artifacts for one store.

    Artifacts are sealed: they are written only while the run is RUNNING, and a path under a
    model the run logged (``sealed_paths``) is never written again, even after a resume.
    Without ``sealed_paths`` (a remote client) the server holding the storage enforces it.
    """

    def __init__(
        self,
        store: TrackingStore,
        artifact_root: str,
        open_artifacts: Callable[[Run], ArtifactStore],
        sealed_paths: SealedPaths | None = None,
    ) -> None:
        self.store = store
        self.artifact_root = artifact_root.rstrip("/")
        self._open_artifacts = open_artifacts
        self._sealed_paths = sealed_paths

    # -- experiments -------------------------------------------------------------------------

    def create_experiment(self, scope: Scope, name: str) -> Experiment:
        v.check_name("experiment", name)
        return self.store.create_experiment(scope, name, f"{self.artifact_root}/{scope.workspace}")

    def get_experiment(self, scope: Scope, experiment_id: str) -> Experiment:
        return self.store.get_experiment(scope, checks.text("experiment_id", experiment_id))

    def get_experiment_by_name(self, scope: Scope, name: str) -> Experiment:
        return self.store.get_experiment_by_name(scope, checks.text("experiment name", name))

    def resolve_experiment(self, scope: Scope, id_or_name: str) -> Experiment:
        """An experiment by name, or by id when no experiment has that name."""
        try:
            return self.get_experiment_by_name(scope, id_or_name)
        except NotFound:
            try:
                return self.get_experiment(scope, id_or_name)
            except NotFound:
                hint = self._close_experiment(scope, id_or_name)
                raise NotFound(f"experiment {checks.shown(id_or_name)} not found{hint}") from None

    def _close_experiment(self, scope: Scope, name: str) -> str:
        """A "did you mean" among the first names of the caller's workspace, or ""."""
        try:
            page = self.store.list_experiments(scope, Lifecycle.ACTIVE, MAX_CANDIDATES, None)
        except GnomonError:  # the suggestion is a courtesy: never the error that is reported
            return ""
        return did_you_mean(name, (e.name for e in page.items))

    def get_or_create_experiment(self, scope: Scope, name: str) -> Experiment:
        return get_or_create(
            lambda: self.get_experiment_by_name(scope, name),
            lambda: self.create_experiment(scope, name),
        )

    def list_experiments(
        self,
        scope: Scope,
        lifecycle: Lifecycle | None = Lifecycle.ACTIVE,
        max_results: int = 1000,
        page_token: str | None = None,
    ) -> Page[Experiment]:
        """Experiments by name; ``lifecycle=None`` lists active and deleted ones."""
        checks.max_results(max_results)
        return self.store.list_experiments(scope, lifecycle, max_results, page_token)

    def rename_experiment(self, scope: Scope, experiment_id: str, new_name: str) -> Experiment:
        v.check_name("experiment", new_name)
        return self.store.rename_experiment(scope, experiment_id, new_name)

    def delete_experiment(self, scope: Scope, experiment_id: str) -> Experiment:
        return self.store.set_experiment_lifecycle(scope, experiment_id, Lifecycle.DELETED)

    def restore_experiment(self, scope: Scope, experiment_id: str) -> Experiment:
        return self.store.set_experiment_lifecycle(scope, experiment_id, Lifecycle.ACTIVE)

    # -- runs --------------------------------------------------------------------------------

    def create_run(
        self,
        scope: Scope,
        experiment_id: str,
        name: str | None = None,
        *,
        description: str = "",
        parent_run_id: str | None = None,
        tags: Mapping[str, Any] | None = None,
        user: str | None = None,
        start_time: int | None = None,
    ) -> Run:
        new = NewRun(
            experiment_id=checks.text("experiment_id", experiment_id),
            name=v.check_name("run", name) if name is not None else _generated_name(),
            user=checks.text("user", user) if user else scope.principal,
            start_time=checks.millis("start_time", start_time) if start_time else now_ms(),
            description=checks.text("description", description, empty=True),
            parent_run_id=_optional_text("parent_run_id", parent_run_id),
            tags=v.tags_dict(tags),
        )
        return self.store.create_run(scope, new)

    def get_run(self, scope: Scope, run_id: str) -> Run:
        return self.store.get_run(scope, checks.text("run_id", run_id))

    def add_finished_runs(
        self, scope: Scope, parent_run_id: str, finished: Sequence[FinishedRun]
    ) -> list[str]:
        """Record runs that already ended under ``parent_run_id`` (a pipeline's steps); a store
        with ``add_finished_runs`` writes them in one transaction, others run by run."""
        parent = self.get_run(scope, parent_run_id)
        checked = []
        for item in finished:
            if not item.status.is_terminal:
                raise InvalidInput(
                    f"a finished run ends FINISHED, FAILED or KILLED, not {item.status}"
                )
            new = replace(
                item.run,
                experiment_id=parent.experiment_id,
                name=v.check_name("run", item.run.name),
                parent_run_id=parent.id,
                tags=v.tags_dict(item.run.tags),
            )
            data = RunData(
                [_checked_metric(m) for m in item.data.metrics],
                v.params_dict(item.data.params),
                v.tags_dict(item.data.tags),
            )
            checked.append(
                FinishedRun(new, item.status, checks.millis("end_time", item.end_time), data)
            )
        bulk = getattr(self.store, "add_finished_runs", None)
        if bulk is not None:
            ids: list[str] = bulk(scope, checked)
            return ids
        ids = []
        for item in checked:
            run = self.store.create_run(scope, item.run)
            self.store.log_batch(scope, run.id, item.data)
            self.store.update_run(
                scope, run.id, RunUpdate(status=item.status, end_time=item.end_time)
            )
            ids.append(run.id)
        return ids

    def update_run(
        self,
        scope: Scope,
        run_id: str,
        name: str | None = None,
        description: str | None = None,
        status: RunStatus | str | None = None,
        end_time: int | None = None,
    ) -> Run:
        """Rename, describe, end (a terminal status) or resume (RUNNING) a run, all at once."""
        if name is not None:
            v.check_name("run", name)
        if description is not None:
            checks.text("description", description, empty=True)
        update = RunUpdate(
            name=name,
            description=description,
            status=None if status is None else _as_status(status),
            end_time=None if end_time is None else checks.millis("end_time", end_time),
        )
        return self.store.update_run(scope, checks.text("run_id", run_id), update)

    def end_run(
        self,
        scope: Scope,
        run_id: str,
        status: RunStatus | str = RunStatus.FINISHED,
        end_time: int | None = None,
    ) -> Run:
        final = _as_status(status)
        if not final.is_terminal:
            raise InvalidInput(f"a run ends as FINISHED, FAILED or KILLED, not {final.value}")
        if end_time is not None:
            checks.millis("end_time", end_time)
        return self.store.update_run(scope, run_id, RunUpdate(status=final, end_time=end_time))

    def resume_run(self, scope: Scope, run_id: str) -> Run:
        """Make an ended run RUNNING again so it can log more."""
        run = self.get_run(scope, run_id)
        if run.status is RunStatus.RUNNING:
            return run
        return self.store.update_run(scope, run_id, RunUpdate(status=RunStatus.RUNNING))

    def delete_run(self, scope: Scope, run_id: str) -> Run:
        return self.store.set_run_lifecycle(scope, run_id, Lifecycle.DELETED)

    def restore_run(self, scope: Scope, run_id: str) -> Run:
        return self.store.set_run_lifecycle(scope, run_id, Lifecycle.ACTIVE)

    # -- logging -----------------------------------------------------------------------------

    def log_batch(
        self,
        scope: Scope,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Mapping[str, Any] | None = None,
        tags: Mapping[str, Any] | None = None,
    ) -> None:
        """Validate everything, then write it in one transaction (all or nothing)."""
        checked = [_checked_metric(m) for m in metrics]
        data = RunData(checked, v.params_dict(params or {}), v.tags_dict(tags))
        self.write_validated(scope, run_id, data)

    def write_validated(
        self, scope: Scope, run_id: str, data: RunData, end: RunStatus | None = None
    ) -> None:
        """Write a batch the SDK's buffer has already validated item by item; with ``end``,
        then end the run so, in the same transaction where the store can."""
        if end is None:
            self.store.log_batch(scope, run_id, data)
            return
        if not end.is_terminal:
            raise InvalidInput(f"a run ends as FINISHED, FAILED or KILLED, not {end.value}")
        ending = getattr(self.store, "log_batch_and_end", None)
        if ending is not None:
            ending(scope, run_id, data, end)
            return
        self.store.log_batch(scope, run_id, data)
        self.store.update_run(scope, run_id, RunUpdate(status=end))

    @property
    def ends_with_a_batch(self) -> bool:
        """Whether the store writes a run's last batch and its end in one transaction."""
        return hasattr(self.store, "log_batch_and_end")

    def get_metric_history(self, scope: Scope, run_id: str, key: str) -> list[Metric]:
        return self.store.get_metric_history(scope, run_id, checks.key("metric", key))

    def metric_series(
        self,
        scope: Scope,
        run_id: str,
        key: str,
        max_points: int = MAX_SERIES_POINTS,
        steps: tuple[int | None, int | None] = (None, None),
    ) -> MetricSeries:
        """A metric's points for a chart: every one up to ``max_points``, else the lowest and
        highest value per bucket of steps (``series.py``); ``steps`` bounds the range (zoom)."""
        key = checks.key("metric", key)
        return self.store.metric_series(scope, run_id, key, check_max_points(max_points), steps)

    def experiment_activity(
        self, scope: Scope, experiment_ids: Sequence[str]
    ) -> list[ExperimentActivity]:
        """Per experiment: how many active runs it has and when one last started or ended."""
        if len(experiment_ids) > MAX_ACTIVITY_EXPERIMENTS:
            raise InvalidInput(
                f"at most {MAX_ACTIVITY_EXPERIMENTS} experiments at once, got {len(experiment_ids)}"
            )
        return self.store.experiment_activity(scope, list(experiment_ids))

    def search_runs(
        self,
        scope: Scope,
        experiments: str | Iterable[str],
        filter: str | None = None,
        order_by: Sequence[str] | None = None,
        max_results: int = DEFAULT_MAX_RESULTS,
        page_token: str | None = None,
        include_deleted: bool = False,
    ) -> Page[Run]:
        """Search runs of experiments given by name or id (see ``tracking.search``)."""
        if isinstance(experiments, str):
            experiments = [experiments]
        ids = [self.resolve_experiment(scope, e).id for e in experiments]
        if not ids:
            raise InvalidInput("search_runs needs at least one experiment")
        query = build_query(ids, filter, order_by, max_results, page_token, include_deleted)
        return self.search_query(scope, query)

    def search_query(self, scope: Scope, query: RunQuery) -> Page[Run]:
        """Search with a query already parsed by ``build_query``."""
        return self.store.search_runs(scope, query)

    # -- artifacts ---------------------------------------------------------------------------

    def log_artifact(
        self, scope: Scope, run_id: str, local_path: str | Path, artifact_path: str | None = None
    ) -> str:
        """Upload a file or a folder under the run's artifacts; returns its artifact path.

        Raises:
            Conflict: the run is not RUNNING, or a path is under a model the run logged.
        """
        source = Path(local_path)
        if not source.exists():
            raise NotFound(f"local file {str(source)!r} not found")
        prefix = (artifact_path or "").strip("/")
        key = f"{prefix}/{source.name}" if prefix else source.name
        keys = [key]
        if source.is_dir():
            files = (p for p in source.rglob("*") if p.is_file())
            keys = [f"{key}/{p.relative_to(source).as_posix()}" for p in files]
        run = self.check_artifact_write(scope, run_id, keys)
        store = self._open_artifacts(run)
        if source.is_dir():
            store.put_dir(source, key)
        else:
            store.put_file(source, key)
        return key

    def put_artifact(self, scope: Scope, run_id: str, key: str, local_file: Path) -> str:
        """Store one local file under the artifact key ``key`` of a running run."""
        run = self.check_artifact_write(scope, run_id, [key])
        self._open_artifacts(run).put_file(local_file, key)
        return key

    def log_text(self, scope: Scope, run_id: str, text: str, artifact_file: str) -> str:
        return self.log_bytes(scope, run_id, text.encode(), artifact_file)

    def log_bytes(self, scope: Scope, run_id: str, data: bytes, artifact_file: str) -> str:
        return self.log_files(scope, run_id, {artifact_file: data})[0]

    def log_files(self, scope: Scope, run_id: str, files: Mapping[str, bytes]) -> list[str]:
        """Write several small artifact files after one check of the run."""
        run = self.check_artifact_write(scope, run_id, list(files))
        store = self._open_artifacts(run)
        for artifact_file, data in files.items():
            store.put_bytes(data, artifact_file)
        return list(files)

    def load_bytes(self, scope: Scope, run_id: str, artifact_file: str) -> bytes:
        """The content of one artifact file.

        Raises:
            NotFound: the run, or the file in its artifacts.
        """
        run = self.get_run(scope, run_id)
        return self._open_artifacts(run).get_bytes(artifact_file)

    def list_artifacts(self, scope: Scope, run_id: str, path: str = "") -> list[ArtifactInfo]:
        run = self.get_run(scope, run_id)
        return self._open_artifacts(run).list(path.strip("/"))

    def download_artifacts(
        self, scope: Scope, run_id: str, path: str = "", dst: str | Path | None = None
    ) -> Path:
        """Copy one artifact (file or folder), or with ``path=""`` all of them, into ``dst``
        (a new temporary folder by default); returns the local path."""
        run = self.get_run(scope, run_id)
        target = Path(dst) if dst is not None else Path(tempfile.mkdtemp(prefix="gnomon-"))
        target.mkdir(parents=True, exist_ok=True)
        store = self._open_artifacts(run)
        key = path.strip("/")
        if key:
            return store.download(key, target)
        for entry in store.list():
            store.download(entry.path, target)
        return target

    def check_artifact_write(self, scope: Scope, run_id: str, keys: Sequence[str]) -> Run:
        """The run, if ``keys`` may be written now; the server checks before reading a body.

        Raises:
            Conflict: the run is not RUNNING, or a key is under a model the run logged.
            InvalidInput: a key that is absolute or climbs out with ``..``.
        """
        run = self._running(scope, run_id, "log artifacts")
        sealed = self._sealed_paths(scope, run_id) if self._sealed_paths else ()
        for key in keys:
            cleaned = clean_key(key)  # as the stores write it, so 'a//b/./c' is 'a/b/c'
            for path in sealed:
                if cleaned == path or cleaned.startswith(f"{path}/"):
                    raise Conflict(
                        f"artifact {cleaned!r} of run {run_id!r} is part of the model logged "
                        f"at {path!r}; a logged model is sealed",
                        {"key": cleaned, "model": path},
                    )
        return run

    def _running(self, scope: Scope, run_id: str, action: str) -> Run:
        run = self.get_run(scope, run_id)
        if run.status is not RunStatus.RUNNING:
            raise Conflict(f"run {run_id!r} is {run.status.value}; cannot {action}")
        return run


def _checked_metric(metric: Metric) -> Metric:
    if not isinstance(metric, Metric):
        raise InvalidInput(f"expected a Metric, got {type(metric).__name__}")
    key = checks.key("metric", metric.key)
    value = v.metric_value(key, metric.value)
    step = v.check_step(key, metric.step)
    timestamp = v.check_step(key, metric.timestamp) or now_ms()
    return Metric(key, value, step, timestamp)


def _optional_text(what: str, value: str | None) -> str | None:
    return None if value is None else checks.text(what, value)


def _generated_name() -> str:
    return f"{random.choice(_ADJECTIVES)}-{random.choice(_NOUNS)}-{random.randint(1, 999)}"


def _as_status(status: RunStatus | str) -> RunStatus:
    return checks.member(RunStatus, status, "run status")
