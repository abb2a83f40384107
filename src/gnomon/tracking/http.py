"""HttpTrackingStore: the tracking store over a gnomon server's REST API."""

from __future__ import annotations

import tarfile
import tempfile
from collections.abc import Sequence
from pathlib import Path

from gnomon._types import Page, Scope
from gnomon.artifacts.store import ArtifactInfo
from gnomon.client.transport import API_PREFIX, Transport, body, key_path, segment
from gnomon.errors import InvalidInput
from gnomon.tracking.entities import (
    Experiment,
    Lifecycle,
    Metric,
    NewRun,
    Run,
    RunData,
    RunUpdate,
)
from gnomon.tracking.schemas import (
    ArtifactOut,
    CreateExperiment,
    CreateRun,
    ExperimentOut,
    LogBatch,
    MetricWire,
    RenameExperiment,
    RunOut,
    SearchRuns,
    UpdateRun,
)
from gnomon.tracking.search import RunQuery
from gnomon.tracking.series import ExperimentActivity, MetricSeries, series_of
from gnomon.wire import PageOut

ARCHIVE_HEADER = "x-gnomon-archive"


class HttpTrackingStore:
    """Every call is one request; the server's service enforces the same rules and raises
    the same errors, which the transport turns back into the same classes.

    The workspace is the transport's, by name (sent as a header with every request); a
    scope's workspace is its id, which the server finds from that name.
    """

    def __init__(self, transport: Transport) -> None:
        self.transport = transport

    def create_experiment(self, scope: Scope, name: str, artifact_root: str) -> Experiment:
        # The server decides where artifacts live; artifact_root is the client's and unused.
        new = body(CreateExperiment, name=name)
        return self.transport.one("POST", "/experiments", ExperimentOut, json=new).entity()

    def get_experiment(self, scope: Scope, experiment_id: str) -> Experiment:
        return self.transport.one("GET", _experiment_path(experiment_id), ExperimentOut).entity()

    def get_experiment_by_name(self, scope: Scope, name: str) -> Experiment:
        path = f"/experiments/by-name/{segment(name)}"
        return self.transport.one("GET", path, ExperimentOut).entity()

    def list_experiments(
        self,
        scope: Scope,
        lifecycle: Lifecycle | None = Lifecycle.ACTIVE,
        max_results: int = 1000,
        page_token: str | None = None,
    ) -> Page[Experiment]:
        params = {
            "lifecycle": "all" if lifecycle is None else lifecycle.value,
            "max_results": max_results,
            "page_token": page_token,
        }
        page = self.transport.page("/experiments", ExperimentOut, params=params)
        return Page([e.entity() for e in page], page.next_page_token)

    def rename_experiment(self, scope: Scope, experiment_id: str, new_name: str) -> Experiment:
        path, change = _experiment_path(experiment_id), body(RenameExperiment, name=new_name)
        return self.transport.one("PATCH", path, ExperimentOut, json=change).entity()

    def set_experiment_lifecycle(
        self, scope: Scope, experiment_id: str, lifecycle: Lifecycle
    ) -> Experiment:
        path = _experiment_path(experiment_id)
        if lifecycle is Lifecycle.DELETED:
            return self.transport.one("DELETE", path, ExperimentOut).entity()
        return self.transport.one("POST", f"{path}/restore", ExperimentOut).entity()

    def create_run(self, scope: Scope, run: NewRun) -> Run:
        new = body(
            CreateRun,
            experiment_id=run.experiment_id,
            name=run.name,
            description=run.description,
            parent_run_id=run.parent_run_id,
            tags=run.tags,
            user=run.user,
            start_time=run.start_time,
        )
        return self.transport.one("POST", "/runs", RunOut, json=new).entity()

    def get_run(self, scope: Scope, run_id: str) -> Run:
        return self.transport.one("GET", _run_path(run_id), RunOut).entity()

    def update_run(self, scope: Scope, run_id: str, update: RunUpdate) -> Run:
        change = body(
            UpdateRun,
            name=update.name,
            description=update.description,
            status=update.status,
            end_time=update.end_time,
        )
        return self.transport.one("PATCH", _run_path(run_id), RunOut, json=change).entity()

    def set_run_lifecycle(self, scope: Scope, run_id: str, lifecycle: Lifecycle) -> Run:
        if lifecycle is Lifecycle.DELETED:
            return self.transport.one("DELETE", _run_path(run_id), RunOut).entity()
        return self.transport.one("POST", f"{_run_path(run_id)}/restore", RunOut).entity()

    def log_batch(self, scope: Scope, run_id: str, data: RunData) -> None:
        if not data:
            return
        batch = LogBatch(
            metrics=[MetricWire.model_validate(m) for m in data.metrics],
            params=data.params,
            tags=data.tags,
        )
        self.transport.request(
            "POST",
            f"{_run_path(run_id)}/batch",
            content=batch.model_dump_json().encode(),  # NaN and ±inf as strings
            headers={"content-type": "application/json"},
        )

    def metric_series(
        self,
        scope: Scope,
        run_id: str,
        key: str,
        max_points: int,
        steps: tuple[int | None, int | None] = (None, None),
    ) -> MetricSeries:
        # The server's pages cut series in SQL; a remote client cuts the history it read.
        points = [(m.step, m.value) for m in self.get_metric_history(scope, run_id, key)]
        return series_of(key, points, max_points, steps)

    def experiment_activity(
        self, scope: Scope, experiment_ids: Sequence[str]
    ) -> list[ExperimentActivity]:
        found = []
        for experiment_id in experiment_ids:
            count, last, token = 0, None, None
            while True:
                query = RunQuery((experiment_id,), max_results=1000, page_token=token)
                page = self.search_runs(scope, query)
                count += len(page)
                times = [r.end_time or r.start_time for r in page]
                last = max((t for t in (*times, last) if t is not None), default=None)
                token = page.next_page_token
                if token is None:
                    break
            found.append(ExperimentActivity(experiment_id, count, last))
        return found

    def get_metric_history(self, scope: Scope, run_id: str, key: str) -> list[Metric]:
        path = f"{_run_path(run_id)}/metrics/{key_path(key)}/history"
        return [m.entity() for m in self.transport.many("GET", path, MetricWire)]

    def search_runs(self, scope: Scope, query: RunQuery) -> Page[Run]:
        if not query.experiment_ids:  # as the SQL store answers; the server wants at least one
            return Page([], None)
        search = body(
            SearchRuns,
            experiment_ids=list(query.experiment_ids),
            filter=query.filter_text,
            order_by=list(query.order_text),
            max_results=query.max_results,
            page_token=query.page_token,
            include_deleted=query.include_deleted,
        )
        page = self.transport.one("POST", "/runs/search", PageOut[RunOut], json=search)
        return Page([r.entity() for r in page.items], page.next_page_token)


class HttpRunArtifacts:
    """One run's artifacts through the server (``ArtifactStore``): the client needs no
    credentials for the storage behind it."""

    def __init__(self, transport: Transport, run_id: str) -> None:
        self.transport = transport
        self._path = f"{_run_path(run_id)}/artifacts"
        self.root = f"{transport.base_url}{API_PREFIX}{self._path}"

    def uri(self, key: str) -> str:
        return f"{self.root}/{key}"

    def put_file(self, local_path: Path, key: str) -> None:
        self.transport.upload(f"{self._path}/{key_path(key.strip('/'))}", Path(local_path))

    def put_dir(self, local_dir: Path, prefix: str) -> None:
        for file in sorted(p for p in Path(local_dir).rglob("*") if p.is_file()):
            relative = file.relative_to(local_dir).as_posix()
            self.put_file(file, f"{prefix.rstrip('/')}/{relative}" if prefix else relative)

    def put_bytes(self, data: bytes, key: str) -> None:
        self.transport.request("PUT", f"{self._path}/{key_path(key.strip('/'))}", content=data)

    def get_bytes(self, key: str) -> bytes:
        with self.transport.stream("GET", f"{self._path}/{key_path(key.strip('/'))}") as response:
            return response.read()

    def list(self, prefix: str = "") -> list[ArtifactInfo]:
        found = self.transport.many("GET", self._path, ArtifactOut, params={"path": prefix})
        return [ArtifactInfo(**a.model_dump()) for a in found]

    def download(self, key: str, local_dir: Path) -> Path:
        target = Path(local_dir) / key.rstrip("/").rsplit("/", 1)[-1]
        with self.transport.stream("GET", f"{self._path}/{key_path(key.strip('/'))}") as response:
            archive = response.headers.get(ARCHIVE_HEADER) == "1"
            with tempfile.NamedTemporaryFile(dir=local_dir, delete=False) as sink:
                for chunk in response.iter_bytes():
                    sink.write(chunk)
        if not archive:
            Path(sink.name).replace(target)
            return target
        target.mkdir(parents=True, exist_ok=True)
        with tarfile.open(sink.name, "r:gz") as tar:
            tar.extractall(target, filter="data")
        Path(sink.name).unlink()
        return target

    def delete(self, prefix: str) -> None:
        raise InvalidInput("deleting run artifacts through the server is not supported")


def _experiment_path(experiment_id: str) -> str:
    return f"/experiments/{segment(experiment_id)}"


def _run_path(run_id: str) -> str:
    return f"/runs/{segment(run_id)}"
