"""The tracking store contract, implemented by SQL (embedded) and HTTP (remote) stores."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from gnomon._types import Page, Scope
from gnomon.tracking.entities import (
    Experiment,
    Lifecycle,
    Metric,
    NewRun,
    Run,
    RunData,
    RunUpdate,
)
from gnomon.tracking.search import RunQuery
from gnomon.tracking.series import ExperimentActivity, MetricSeries


class TrackingStore(Protocol):
    """Experiments, runs and what runs log, inside the caller's workspace.

    Objects of another workspace behave exactly as if they did not exist (``NotFound``).
    Inputs arrive validated by the tracking service; the store enforces what needs the
    database: uniqueness, existence and run state, each check and write in one transaction.
    """

    def create_experiment(self, scope: Scope, name: str, artifact_root: str) -> Experiment:
        """Create an active experiment whose artifacts live under ``artifact_root/<its id>``.
        Raises ``AlreadyExists`` when the name is taken in the workspace, by an active or a
        deleted experiment."""
        ...

    def get_experiment(self, scope: Scope, experiment_id: str) -> Experiment:
        """Raises ``NotFound`` naming the id."""
        ...

    def get_experiment_by_name(self, scope: Scope, name: str) -> Experiment:
        """Raises ``NotFound`` naming the experiment."""
        ...

    def list_experiments(
        self,
        scope: Scope,
        lifecycle: Lifecycle | None = Lifecycle.ACTIVE,
        max_results: int = 1000,
        page_token: str | None = None,
    ) -> Page[Experiment]:
        """Experiments ordered by name; ``lifecycle=None`` lists active and deleted."""
        ...

    def rename_experiment(self, scope: Scope, experiment_id: str, new_name: str) -> Experiment:
        """Raises ``NotFound`` or ``AlreadyExists`` (the new name is taken)."""
        ...

    def set_experiment_lifecycle(
        self, scope: Scope, experiment_id: str, lifecycle: Lifecycle
    ) -> Experiment:
        """Delete (soft) or restore an experiment. Its runs keep their own lifecycle; searches
        and listings skip deleted experiments unless asked. Raises ``NotFound``."""
        ...

    def create_run(self, scope: Scope, run: NewRun) -> Run:
        """Start a RUNNING run, artifacts under ``<experiment location>/<run id>/artifacts``. Raises
        ``NotFound`` for an unknown experiment or parent run, ``Conflict`` when the experiment
        is deleted."""
        ...

    def get_run(self, scope: Scope, run_id: str) -> Run:
        """The run with its params, tags and latest metrics. Raises ``NotFound``."""
        ...

    def update_run(self, scope: Scope, run_id: str, update: RunUpdate) -> Run:
        """Change name, description or status (with end time). Setting RUNNING on an ended
        run resumes it. Raises ``NotFound``."""
        ...

    def set_run_lifecycle(self, scope: Scope, run_id: str, lifecycle: Lifecycle) -> Run:
        """Delete (soft) or restore one run. Raises ``NotFound``."""
        ...

    def log_batch(self, scope: Scope, run_id: str, data: RunData) -> None:
        """Write metrics, params and tags in one transaction: all or nothing.

        Raises ``NotFound`` for an unknown run, ``Conflict`` when the run is not RUNNING or a
        param already holds a different value (the message names both values).
        """
        ...

    def get_metric_history(self, scope: Scope, run_id: str, key: str) -> list[Metric]:
        """Every point of one metric ordered by step, then timestamp. Raises ``NotFound`` for
        an unknown run; an unknown key gives an empty list."""
        ...

    def metric_series(
        self,
        scope: Scope,
        run_id: str,
        key: str,
        max_points: int,
        steps: tuple[int | None, int | None] = (None, None),
    ) -> MetricSeries:
        """One metric's points with steps in ``steps`` (inclusive, None: open), every point
        when at most ``max_points``, else the lowest and highest per bucket of steps (see
        ``series.py``). Raises ``NotFound`` for an unknown run."""
        ...

    def experiment_activity(
        self, scope: Scope, experiment_ids: Sequence[str]
    ) -> list[ExperimentActivity]:
        """Per experiment, in the order given: its active runs and their newest start or end
        (0 and None for an unknown id)."""
        ...

    def search_runs(self, scope: Scope, query: RunQuery) -> Page[Run]:
        """Runs of the query's experiments matching every filter, ordered as asked, then by
        start time (newest first). Runs lacking an ordering metric or param sort last."""
        ...
