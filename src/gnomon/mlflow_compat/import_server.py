"""Reading an MLflow tracking server through its REST API (``--from http(s)://host:port``),
with httpx: ``experiments/search`` and ``runs/search`` page by page, ``metrics/get-history``
per metric, and artifacts through the proxied ``mlflow-artifacts`` API (a run whose artifact
location is ``mlflow-artifacts:/…``; others are listed as left out, as for a store).

The server is data from elsewhere, so every call has a timeout, every page a bounded size and
every file the size limit the caller gives (gnomon's ``GNOMON_MAX_ARTIFACT_BYTES``). A run's
artifacts are downloaded into a private folder just before the run is written, and the
previous run's are removed then, so at most one run's files are on disk; the importer then
reads them through ``ConfinedFolder`` like a file store's. ``MLFLOW_TRACKING_TOKEN``, when set,
is sent as a bearer token.
"""

from __future__ import annotations

import math
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx

from gnomon.artifacts.keys import clean_key
from gnomon.errors import InvalidInput, Unavailable
from gnomon.mlflow_compat.import_confined import ConfinedFolder
from gnomon.mlflow_compat.import_sources import (
    PARENT_TAG,
    SourceExperiment,
    SourcePoint,
    SourceRun,
    SourceRunData,
    restore_infinity,
)
from gnomon.mlflow_compat.import_summary import Skipped
from gnomon.mlflow_compat.import_values import refusal

API = "/api/2.0/mlflow"
ARTIFACTS_API = "/api/2.0/mlflow-artifacts/artifacts"
PROXIED = "mlflow-artifacts:"
EXPERIMENTS_PAGE = 1_000
RUNS_PAGE = 1_000
HISTORY_PAGE = 25_000  # the most MLflow's server returns at once
MAX_PAGES = 100_000  # a server that never stops paging is cut off
TIMEOUT = httpx.Timeout(60.0, connect=10.0)
_CHUNK = 1 << 20


class ServerSource:
    """An MLflow tracking server, read-only."""

    def __init__(self, uri: str, *, token: str | None, max_file_bytes: int) -> None:
        parsed = urlparse(uri)
        if not parsed.hostname:
            raise InvalidInput(f"MLflow server URI {uri!r} names no host")
        port = f":{parsed.port}" if parsed.port else ""
        self.uri = f"{parsed.scheme}://{parsed.hostname}{port}{parsed.path.rstrip('/')}"
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        auth = (parsed.username or "", parsed.password or "") if parsed.username else None
        self._http = httpx.Client(base_url=self.uri, headers=headers, auth=auth, timeout=TIMEOUT)
        self._max_file_bytes = max_file_bytes
        self._downloads = Path(tempfile.mkdtemp(prefix="gnomon-mlflow-import-"))
        self.folder: ConfinedFolder | None = ConfinedFolder(self._downloads)
        self.problems: list[Skipped] = []
        self._runs: dict[str, dict[str, Any]] = {}  # run id -> its data as the server sent it

    def experiments(self) -> list[SourceExperiment]:
        found = []
        body = {"max_results": EXPERIMENTS_PAGE, "view_type": "ALL"}
        for page in self._pages("POST", f"{API}/experiments/search", body):
            for item in page.get("experiments", []):
                try:
                    tags = {t["key"]: t.get("value", "") for t in item.get("tags", [])}
                    deleted = item.get("lifecycle_stage") == "deleted"
                    name = item["name"]
                    if not isinstance(name, str):
                        raise ValueError(f"its name is {name!r}")
                    found.append(SourceExperiment(str(item["experiment_id"]), name, deleted, tags))
                except (KeyError, TypeError, ValueError, AttributeError) as exc:
                    self.problems.append(Skipped("experiment", repr(item)[:200], _why(exc)))
        return found

    def runs(self, experiment: SourceExperiment) -> list[SourceRun]:
        found = []
        body = {"experiment_ids": [experiment.id], "run_view_type": "ALL", "max_results": RUNS_PAGE}
        for page in self._pages("POST", f"{API}/runs/search", body):
            for item in page.get("runs", []):
                try:
                    found.append(self._run(item, experiment))
                except (KeyError, TypeError, ValueError, AttributeError) as exc:
                    self.problems.append(Skipped("run", repr(item)[:200], _why(exc)))
        return sorted(found, key=lambda r: (r.start_time or 0, r.id))

    def _run(self, item: dict[str, Any], experiment: SourceExperiment) -> SourceRun:
        info, data = item["info"], item.get("data", {})
        run_id = info["run_id"]
        if not isinstance(run_id, str) or not run_id.isalnum():  # it names a folder here
            raise ValueError(f"its run_id is {run_id!r}")
        self._runs[run_id] = data
        tags = {t["key"]: t.get("value", "") for t in data.get("tags", [])}
        uri = info.get("artifact_uri") or None
        proxied = isinstance(uri, str) and uri.startswith(PROXIED)
        return SourceRun(
            id=run_id,
            experiment_id=experiment.id,
            name=info.get("run_name") or None,
            status=info.get("status", "RUNNING"),
            start_time=_number(info.get("start_time")),
            end_time=_number(info.get("end_time")),
            user=info.get("user_id") or None,
            deleted=info.get("lifecycle_stage") == "deleted",
            artifact_uri=uri,
            parent_id=tags.get(PARENT_TAG) or None,
            local_artifacts=self._downloads / run_id if proxied else None,
        )

    def run_data(self, run: SourceRun) -> SourceRunData:
        """Raises ``OSError`` when the server cannot be read: the run stays incomplete."""
        sent = self._runs.get(run.id, {})
        data = SourceRunData(
            params={p["key"]: p.get("value", "") for p in sent.get("params", [])},
            tags={t["key"]: t.get("value", "") for t in sent.get("tags", [])},
        )
        try:
            for key in sorted({m["key"] for m in sent.get("metrics", [])}):
                data.metrics += self._history(run.id, key)
            if run.local_artifacts is not None:
                self._download(run, run.local_artifacts, data)
        except (httpx.HTTPError, Unavailable, KeyError, TypeError, ValueError) as exc:
            raise OSError(f"reading run {run.id} from {self.uri}: {exc}") from None
        return data

    def close(self) -> None:
        self._http.close()
        shutil.rmtree(self._downloads, ignore_errors=True)

    # -- reading -------------------------------------------------------------------------------

    def _history(self, run_id: str, key: str) -> list[SourcePoint]:
        params = {"run_id": run_id, "metric_key": key, "max_results": HISTORY_PAGE}
        points = []
        for page in self._pages("GET", f"{API}/metrics/get-history", params):
            for m in page.get("metrics", []):
                # JSON sends NaN and ±inf as "NaN", "Infinity"; a SQL backend, ±inf as ±DBL_MAX.
                value = restore_infinity(float(m["value"]))
                step, timestamp = _number(m.get("step")) or 0, _number(m.get("timestamp")) or 0
                points.append(
                    SourcePoint(key, math.nan if math.isnan(value) else value, step, timestamp)
                )
        return points

    def _download(self, run: SourceRun, into: Path, data: SourceRunData) -> None:
        for old in self._downloads.iterdir():  # the previous run's files: copied by now
            shutil.rmtree(old, ignore_errors=True)
        root = (run.artifact_uri or "")[len(PROXIED) :].lstrip("/")
        for key, size in self._listing(root):
            why = refusal(clean_key, key)
            if why is None and size > self._max_file_bytes:
                why = f"{size:,} bytes; over the limit of {self._max_file_bytes:,}"
            if why is not None:
                data.problems.append(("artifact", key, why))
                continue
            target = into / key
            target.parent.mkdir(parents=True, exist_ok=True)
            self._fetch(f"{ARTIFACTS_API}/{root}/{key}", target)

    def _listing(self, root: str) -> Iterator[tuple[str, int]]:
        """(key below ``root``, size) of every file, folders walked breadth first."""
        pending, seen = [""], 0
        while pending:
            folder = pending.pop()
            where = f"{root}/{folder}".rstrip("/")
            for entry in self._json("GET", ARTIFACTS_API, {"path": where}).get("files", []):
                key = f"{folder}/{entry['path']}".lstrip("/")
                seen += 1
                if seen > MAX_PAGES:
                    raise ValueError(f"more than {MAX_PAGES:,} artifact entries")
                if entry.get("is_dir"):
                    pending.append(key)
                else:
                    yield key, _number(entry.get("file_size")) or 0

    def _fetch(self, path: str, target: Path) -> None:
        written = 0
        with self._http.stream("GET", path) as response, target.open("wb") as out:
            self._check(response)
            for chunk in response.iter_bytes(_CHUNK):
                written += len(chunk)
                if written > self._max_file_bytes:  # the listing understated it
                    raise ValueError(f"{path} is over {self._max_file_bytes:,} bytes")
                out.write(chunk)

    def _pages(self, method: str, path: str, query: dict[str, Any]) -> Iterator[dict[str, Any]]:
        token: str | None = None
        for _ in range(MAX_PAGES):
            page = self._json(method, path, {**query, **({"page_token": token} if token else {})})
            yield page
            token = page.get("next_page_token") or None
            if token is None:
                return
        raise ValueError(f"{path} still had pages after {MAX_PAGES:,}")

    def _json(self, method: str, path: str, query: dict[str, Any]) -> dict[str, Any]:
        try:
            if method == "GET":
                response = self._http.get(path, params=query)
            else:
                response = self._http.post(path, json=query)
        except httpx.HTTPError as exc:
            raise Unavailable(f"cannot reach the MLflow server {self.uri}: {exc}") from None
        self._check(response)
        try:
            found = response.json()
        except ValueError:
            raise Unavailable(
                f"{self.uri}{path} did not answer JSON: is it an MLflow server?"
            ) from None
        if not isinstance(found, dict):
            raise ValueError(f"{path} answered {type(found).__name__}, not an object")
        return found

    def _check(self, response: httpx.Response) -> None:
        if response.status_code in (401, 403):
            raise InvalidInput(
                f"the MLflow server {self.uri} refused the request ({response.status_code}): "
                "set MLFLOW_TRACKING_TOKEN"
            )
        if response.status_code >= 400:
            response.read()
            raise Unavailable(
                f"the MLflow server {self.uri} answered {response.status_code} to "
                f"{response.request.url.path}: {response.text[:200]}"
            )


def _why(exc: Exception) -> str:
    return f"not as MLflow sends it ({type(exc).__name__}: {exc})"


def _number(value: object) -> int | None:
    """An int64 as MLflow's JSON sends it: a number, or its text."""
    if value is None or value == "":
        return None
    if isinstance(value, int | str) and not isinstance(value, bool):
        return int(value)
    raise ValueError(f"not a whole number: {value!r}")
