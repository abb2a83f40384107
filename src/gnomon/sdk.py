"""``gnomon.Client``: the explicit SDK, a thin facade over the capability services."""

from __future__ import annotations

import atexit
import weakref
from collections.abc import Iterable, Mapping, Sequence
from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, overload

from gnomon._gc import collection_paused
from gnomon._types import Page, Scope
from gnomon.artifacts.store import ArtifactInfo
from gnomon.backends import Services, open_services
from gnomon.config import Settings
from gnomon.deployments.api import DeploymentsApi
from gnomon.registry.api import RegistryApi
from gnomon.tracking import artifact_formats as formats
from gnomon.tracking.buffer import BufferOptions, LogBuffer
from gnomon.tracking.capture import current_user
from gnomon.tracking.comparison import RunComparison, distinct_run_ids
from gnomon.tracking.entities import Experiment, Lifecycle, Metric, Run, RunStatus
from gnomon.tracking.frame import RunPage, pick_output
from gnomon.tracking.search import DEFAULT_MAX_RESULTS

if TYPE_CHECKING:
    import pandas as pd


class Client:
    """Talks to the store ``GNOMON_URI`` names, or the embedded default under ``GNOMON_HOME``.

    Example:
        >>> client = gnomon.Client()
        >>> client.search_runs(experiment="churn", filter="metrics.acc > 0.9")
    """

    _opened = False  # whether a client was made in this process

    def __init__(
        self,
        uri: str | None = None,
        *,
        workspace: str | None = None,
        settings: Settings | None = None,
        scope: Scope | None = None,
    ) -> None:
        # The first client's imports, engine and services live on (_gc.py); later ones (the
        # server's, made per call) are cheap and need no process-wide pause.
        with collection_paused() if not Client._opened else nullcontext():
            settings = settings or Settings()
            updates = {k: v for k, v in (("uri", uri), ("workspace", workspace)) if v is not None}
            self.settings = settings.model_copy(update=updates) if updates else settings
            self._services: Services = open_services(self.settings)
            self._principal = self.settings.user or current_user()
            # Built on first use (see ``scope``); given by the worker, which acts for the owner
            # of a policy or schedule in its workspace.
            self._scope: Scope | None = scope
            self.tracking = self._services.tracking
            self.buffer = LogBuffer(
                self._write_buffered, BufferOptions.from_settings(self.settings)
            )
        Client._opened = True
        _live_buffers.add(self.buffer)

    @property
    def scope(self) -> Scope:
        """Who acts, and in which workspace: its id, as every store sees it. Embedded mode
        found the id at open; a remote client asks the server for it once, on first use.

        Raises:
            NotFound: GNOMON_WORKSPACE does not exist, or is not the caller's.
        """
        if self._scope is None:
            workspace_id = self._services.workspace_id
            if workspace_id is None:  # remote: the transport names the workspace
                from gnomon.auth.api import AuthApi

                workspace_id = self._services.get(AuthApi).get_workspace().id
            self._scope = Scope(workspace_id, self._principal)
        return self._scope

    @property
    def registry(self) -> RegistryApi:
        """The model registry: registered models, versions and aliases, in both modes."""
        return self._services.api(RegistryApi, self.scope)

    @property
    def deployments(self) -> DeploymentsApi:
        """Deployments: which model versions answer an endpoint and how traffic is split."""
        return self._services.api(DeploymentsApi, self.scope)

    def __getattr__(self, name: str) -> object:
        # Any other capability's API, by the name it exposes in its wiring (client.<name>).
        # Checked before the scope, which a remote client asks the server for.
        if name.startswith("_") or not self._services.offers(name):
            raise AttributeError(name)
        return self._services.api_named(name, self.scope)

    def _write_buffered(self, run_id: str, data: Any, end: RunStatus | None = None) -> None:
        self.tracking.write_validated(self.scope, run_id, data, end)

    def flush(self) -> None:
        """Write everything the fluent API has buffered."""
        self.buffer.flush()

    def close(self) -> None:
        """Flush and stop the background writer; the client stays usable synchronously."""
        self.buffer.close()

    # -- experiments -------------------------------------------------------------------------

    def create_experiment(self, name: str) -> Experiment:
        return self.tracking.create_experiment(self.scope, name)

    def get_experiment(self, experiment: str) -> Experiment:
        """An experiment by name or id. Raises ``NotFound``."""
        return self.tracking.resolve_experiment(self.scope, experiment)

    def list_experiments(
        self, include_deleted: bool = False, max_results: int = 1000, page_token: str | None = None
    ) -> Page[Experiment]:
        lifecycle = None if include_deleted else Lifecycle.ACTIVE
        return self.tracking.list_experiments(self.scope, lifecycle, max_results, page_token)

    def rename_experiment(self, experiment: str, new_name: str) -> Experiment:
        exp = self.get_experiment(experiment)
        return self.tracking.rename_experiment(self.scope, exp.id, new_name)

    def delete_experiment(self, experiment: str) -> Experiment:
        return self.tracking.delete_experiment(self.scope, self.get_experiment(experiment).id)

    def restore_experiment(self, experiment: str) -> Experiment:
        return self.tracking.restore_experiment(self.scope, self.get_experiment(experiment).id)

    # -- runs --------------------------------------------------------------------------------

    def create_run(
        self,
        experiment_id: str,
        name: str | None = None,
        tags: Mapping[str, Any] | None = None,
        parent_run_id: str | None = None,
        description: str = "",
        start_time: int | None = None,
    ) -> Run:
        """Start a RUNNING run; ``start_time`` (ms since the epoch) defaults to now."""
        return self.tracking.create_run(
            self.scope,
            experiment_id,
            name,
            tags=tags,
            parent_run_id=parent_run_id,
            description=description,
            start_time=start_time,
        )

    def get_run(self, run_id: str) -> Run:
        return self.tracking.get_run(self.scope, run_id)

    def end_run(self, run_id: str, status: RunStatus | str = RunStatus.FINISHED) -> Run:
        return self.tracking.end_run(self.scope, run_id, status)

    def delete_run(self, run_id: str) -> Run:
        return self.tracking.delete_run(self.scope, run_id)

    def restore_run(self, run_id: str) -> Run:
        return self.tracking.restore_run(self.scope, run_id)

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Mapping[str, Any] | None = None,
        tags: Mapping[str, Any] | None = None,
    ) -> None:
        """Write metrics, params and tags now, in one transaction."""
        self.tracking.log_batch(self.scope, run_id, metrics, params, tags)

    def log_metric(self, run_id: str, key: str, value: float, step: int = 0) -> None:
        self.log_batch(run_id, metrics=[Metric(key, value, step, 0)])

    def log_param(self, run_id: str, key: str, value: Any) -> None:
        self.log_batch(run_id, params={key: value})

    def set_tag(self, run_id: str, key: str, value: Any) -> None:
        self.log_batch(run_id, tags={key: value})

    def get_metric_history(self, run_id: str, key: str) -> list[Metric]:
        return self.tracking.get_metric_history(self.scope, run_id, key)

    @overload
    def search_runs(
        self,
        experiment: str | Iterable[str],
        filter: str | None = None,
        order_by: Sequence[str] | None = None,
        max_results: int = DEFAULT_MAX_RESULTS,
        page_token: str | None = None,
        include_deleted: bool = False,
        output: Literal["page"] = "page",
    ) -> RunPage: ...

    @overload
    def search_runs(
        self,
        experiment: str | Iterable[str],
        filter: str | None = None,
        order_by: Sequence[str] | None = None,
        max_results: int = DEFAULT_MAX_RESULTS,
        page_token: str | None = None,
        include_deleted: bool = False,
        *,
        output: Literal["pandas"],
    ) -> pd.DataFrame: ...

    def search_runs(
        self,
        experiment: str | Iterable[str],
        filter: str | None = None,
        order_by: Sequence[str] | None = None,
        max_results: int = DEFAULT_MAX_RESULTS,
        page_token: str | None = None,
        include_deleted: bool = False,
        output: Literal["page", "pandas"] = "page",
    ) -> RunPage | pd.DataFrame:
        """Runs of one or more experiments (names or ids) matching ``filter``: a ``Page``
        (``.to_pandas()`` converts it), or with ``output="pandas"`` a DataFrame of one row
        per run with ``params.<key>``, ``metrics.<key>`` and ``tags.<key>`` columns.

        Example:
            >>> client.search_runs("churn", "metrics.acc > 0.9 and params.model = 'rf'",
            ...                    order_by=["metrics.f1 DESC"], max_results=10)

        Raises:
            InvalidInput: a bad filter or order, or an unknown ``output``.
        """
        found = self.tracking.search_runs(
            self.scope, experiment, filter, order_by, max_results, page_token, include_deleted
        )
        return pick_output(RunPage(found.items, found.next_page_token), output)

    def compare_runs(self, run_ids: Sequence[str]) -> RunComparison:
        """Params and metrics of two or more runs side by side (``.to_pandas()``; a table
        in a notebook, differing rows highlighted and the best metric values starred).

        Example:
            >>> client.compare_runs([baseline.id, candidate.id]).differing

        Raises:
            InvalidInput: fewer than two different run ids.
            NotFound: a run id names no run.
        """
        return RunComparison.of([self.get_run(run_id) for run_id in distinct_run_ids(run_ids)])

    # -- artifacts ---------------------------------------------------------------------------

    def log_artifact(
        self, run_id: str, local_path: str | Path, artifact_path: str | None = None
    ) -> str:
        return self.tracking.log_artifact(self.scope, run_id, local_path, artifact_path)

    def log_text(self, run_id: str, text: str, artifact_file: str) -> str:
        """Write ``text`` to the artifact ``artifact_file`` of a running run."""
        return self.tracking.log_text(self.scope, run_id, text, artifact_file)

    def log_dict(self, run_id: str, dictionary: Mapping[str, Any], artifact_file: str) -> str:
        """Write ``dictionary`` as JSON, or YAML when ``artifact_file`` ends .yaml/.yml."""
        data = formats.dict_bytes(dictionary, artifact_file)
        return self.tracking.log_bytes(self.scope, run_id, data, artifact_file)

    def load_dict(self, run_id: str, artifact_file: str) -> Any:
        data = self.tracking.load_bytes(self.scope, run_id, artifact_file)
        return formats.dict_from_bytes(data, artifact_file)

    def log_table(self, run_id: str, frame: pd.DataFrame, artifact_file: str) -> str:
        """Write a DataFrame as Parquet; ``artifact_file`` must end .parquet."""
        data = formats.table_bytes(frame, artifact_file)
        return self.tracking.log_bytes(self.scope, run_id, data, artifact_file)

    def load_table(self, run_id: str, artifact_file: str) -> pd.DataFrame:
        data = self.tracking.load_bytes(self.scope, run_id, artifact_file)
        return formats.table_from_bytes(data, artifact_file)

    def log_image(self, run_id: str, image: Any, artifact_file: str) -> str:
        """Write a NumPy array (uint8, or float in [0, 1]) or a PIL image as a PNG."""
        data = formats.image_bytes(image, artifact_file)
        return self.tracking.log_bytes(self.scope, run_id, data, artifact_file)

    def log_figure(self, run_id: str, figure: Any, artifact_file: str) -> str:
        """Write a matplotlib figure as PNG, SVG or PDF, or a plotly figure as HTML."""
        data = formats.figure_bytes(figure, artifact_file)
        return self.tracking.log_bytes(self.scope, run_id, data, artifact_file)

    def list_artifacts(self, run_id: str, path: str = "") -> list[ArtifactInfo]:
        return self.tracking.list_artifacts(self.scope, run_id, path)

    def download_artifacts(
        self, run_id: str, path: str = "", dst: str | Path | None = None
    ) -> Path:
        return self.tracking.download_artifacts(self.scope, run_id, path, dst)


_live_buffers: weakref.WeakSet[LogBuffer] = weakref.WeakSet()


@atexit.register
def _flush_at_exit() -> None:
    for buffer in list(_live_buffers):
        try:
            buffer.close()
        except Exception:  # exiting: report, never raise
            import logging

            logging.getLogger(__name__).exception("gnomon: could not flush at exit")
