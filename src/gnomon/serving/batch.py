"""Batch inference: a model over a Parquet or CSV file, chunk by chunk, into a Parquet file.

:func:`predict_file` streams the input in chunks, checks each against the model's input
contract with :func:`~gnomon.serving.enforce.enforce`, predicts in a pool of worker processes
(each loads the model once), and writes the chunks in input order with a ``ParquetWriter``.
Neither file is ever whole in memory: at most two chunks per worker are in flight.

The output holds the input columns (or the ``keep`` ones), ``prediction`` and, on request,
``probability_0`` … ``probability_<k-1>`` in the order of the model's classes. It is written
beside the target and renamed into place, so a failed job leaves no file. Its Parquet
key-value metadata records the model that produced it (:func:`read_prediction_metadata`).
"""

from __future__ import annotations

import hashlib
import math
import multiprocessing
import os
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from gnomon.errors import GnomonError, InvalidInput, NotFound, Unavailable
from gnomon.progress import progress_bar
from gnomon.serving.batch_io import METADATA_PREFIX, Reader, Sink
from gnomon.serving.enforce import MAX_REPORTED, Policy, Violation, enforce

if TYPE_CHECKING:
    from gnomon.modelfolder import LoadedModel
    from gnomon.sdk import Client

DEFAULT_CHUNK_ROWS: Final = 50_000
PREDICTION: Final = "prediction"
PROBABILITY: Final = "probability_"
_INT_KEYS: Final = frozenset({"rows", "model_version"})
_SHOWN: Final = 3  # violations named in a rejection's one-line message

ProgressCallback = Callable[[int, int | None], None]
"""Called after each chunk is written with (rows done, total rows or None when unknown)."""


@dataclass(frozen=True, slots=True)
class BatchResult:
    """What :func:`predict_file` wrote; ``violations`` counts those predicted anyway (warn)."""

    output: Path
    rows: int
    seconds: float
    model_uri: str
    model_name: str | None
    model_version: int | None
    violations: int = 0

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else float("inf")


def predict_file(
    uri: str,
    input_path: str | os.PathLike[str],
    output_path: str | os.PathLike[str],
    *,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    workers: int | None = None,
    policy: Policy | str = Policy.REJECT,
    keep: Sequence[str] | None = None,
    proba: bool = False,
    client: Client | None = None,
    on_progress: ProgressCallback | None = None,
) -> BatchResult:
    """Predict with the model ``uri`` on every row of a Parquet or CSV file.

    With ``workers`` above 1, call this under ``if __name__ == "__main__":`` in a script:
    worker processes are spawned, and they import the script's main module.

    Args:
        uri: ``models:/name@alias``, ``models:/name/3``, ``runs:/<id>/<path>`` or a local
            model folder. An alias is resolved once, so the whole file comes from one version.
        input_path: a Parquet file, or a CSV file (by its ``.csv`` suffix).
        output_path: the local Parquet file to write (replaced if it exists).
        chunk_rows: rows per chunk (CSV chunks are whole 4 MiB blocks, so may be larger).
        workers: processes that predict; default the usable CPUs. 1 predicts in-process.
        policy: contract violations: ``reject`` stops the job, ``warn`` predicts anyway,
            ``clip`` clips out-of-range values and rejects other problems.
        keep: input columns to copy into the output; default all of them.
        proba: add a ``probability_<i>`` column per class.
        client: the client for ``models:/`` and ``runs:/`` URIs; default the fluent one.
        on_progress: called with (rows done, total rows or None) after each chunk; default
            a progress bar in a notebook or a terminal (see :mod:`gnomon.progress`).

    Returns:
        The output path, the row count, the time taken and the model's name and version.

    Raises:
        NotFound: the input file, or the model, version, alias or run does not exist.
        InvalidInput: unreadable input, a bad output path, a chunk that breaks the contract
            (rows numbered from 0 across the whole file), or a model that refuses the values.
        Unavailable: a worker process died (often out of memory).

    Example:
        >>> predict_file("models:/churn@production", "today.parquet", "preds.parquet")
    """
    chosen = _policy(policy)
    if chunk_rows < 1:
        raise InvalidInput(f"chunk_rows must be at least 1, got {chunk_rows}")
    source, target = _check_paths(input_path, output_path)
    started = time.perf_counter()
    created_at = datetime.now(UTC).isoformat(timespec="seconds")
    with _fetched_model(uri, client) as model:
        if proba and not model.loaded.has_proba:
            raise InvalidInput(f"the {model.loaded.flavor} model {uri!r} has no predict_proba")
        job = _Job(str(model.folder), chosen, proba)
        with Reader.open(source, model.loaded, chunk_rows) as reader:
            columns = _kept(reader.schema, keep)
            count = _workers(workers, reader.total_rows, chunk_rows)
            with Sink(target, model.metadata(created_at)) as sink, _shown(on_progress) as shown:
                violations = _run(reader, columns, job, model.loaded, count, sink, shown)
    return BatchResult(
        target,
        sink.rows,
        time.perf_counter() - started,
        uri,
        model.name,
        model.version,
        violations,
    )


def _shown(on_progress: ProgressCallback | None) -> AbstractContextManager[ProgressCallback]:
    if on_progress is not None:
        return nullcontext(on_progress)
    return progress_bar("predicting", unit="rows")


def read_prediction_metadata(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The ``gnomon.*`` key-value metadata of a predictions file, without the prefix.

    Returns:
        ``model_uri``, ``model_name`` and ``model_version`` (int) where the model had them,
        ``model_hash`` (sha256 over the model's file hashes), ``source_run_id`` where known,
        ``created_at`` (ISO 8601, UTC) and ``rows`` (int). Empty for a file gnomon did not write.

    Raises:
        NotFound: no file at ``path``.
        InvalidInput: the file is not Parquet.
    """
    file = Path(path)
    if not file.is_file():
        raise NotFound(f"no predictions file at '{file}'")
    try:
        stored = pq.read_metadata(file).metadata or {}
    except (pa.ArrowException, OSError) as exc:
        raise InvalidInput(f"cannot read '{file}' as Parquet: {exc}") from None
    found: dict[str, Any] = {}
    for raw_key, raw_value in stored.items():
        key = raw_key.decode()
        if key.startswith(METADATA_PREFIX):
            name = key[len(METADATA_PREFIX) :]
            value = raw_value.decode()
            found[name] = int(value) if name in _INT_KEYS else value
    return found


# -- the model ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Model:
    loaded: LoadedModel
    folder: Path
    uri: str
    name: str | None
    version: int | None

    def metadata(self, created_at: str) -> dict[str, str]:
        values = {
            "model_uri": self.uri,
            "model_name": self.name,
            "model_version": self.version,
            "model_hash": _model_hash(self.loaded.spec.files),
            "source_run_id": self.loaded.spec.source_run_id,
            "created_at": created_at,
        }
        return {METADATA_PREFIX + k: str(v) for k, v in values.items() if v is not None}


@contextmanager
def _fetched_model(uri: str, client: Client | None) -> Iterator[_Model]:
    """The model loaded, and its folder kept on disk for the workers until the job ends."""
    import tempfile

    from gnomon.modelfolder import load_folder
    from gnomon.registry.fluent import fetch_model
    from gnomon.tracking import fluent

    with tempfile.TemporaryDirectory(prefix="gnomon-predict-") as tmp:
        name: str | None = None
        version: int | None = None
        if uri.startswith("models:/"):
            from gnomon.serving.loading import pin

            client = client or fluent.get_client()
            name, version, exact = pin(uri, client)
            folder = fetch_model(exact, Path(tmp), client)
        elif uri.startswith("runs:/"):
            folder = fetch_model(uri, Path(tmp), client or fluent.get_client())
        else:
            folder = Path(uri)
            if not folder.is_dir():
                raise InvalidInput(
                    f"cannot load {uri!r}: expected models:/<name>@<alias>, "
                    "models:/<name>/<version>, runs:/<run id>/<path> or a local model folder"
                )
        yield _Model(load_folder(folder), folder, uri, name, version)


def _model_hash(files: dict[str, str]) -> str | None:
    if not files:
        return None
    listing = "".join(f"{name}\0{digest}\n" for name, digest in sorted(files.items()))
    return hashlib.sha256(listing.encode()).hexdigest()


# -- predicting one chunk ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Job:
    """What a worker process needs to build its predictor; small, so cheap to pickle."""

    folder: str
    policy: Policy
    proba: bool


@dataclass(frozen=True, slots=True)
class _Chunk:
    """A worker's answer: the new columns, or none when the contract rejected the chunk."""

    columns: list[tuple[str, pa.Array]]
    violations: list[Violation]  # the first MAX_REPORTED, rows numbered across the file
    count: int


class _Predictor:
    def __init__(self, model: LoadedModel, policy: Policy, proba: bool) -> None:
        self.model = model
        self.policy = policy
        self.proba = proba

    def __call__(self, table: pa.Table, offset: int) -> _Chunk:
        frame = table.to_pandas()
        found: list[Violation] = []
        contract = self.model.contract
        if contract is not None and contract.inputs:
            frame, found = enforce(frame, contract, self.policy)
        shown = [replace(v, row=v.row + offset) if v.row >= 0 else v for v in found[:MAX_REPORTED]]
        if found and self.policy is not Policy.WARN:
            return _Chunk([], shown, len(found))
        return _Chunk(self._predict(frame, offset), shown, len(found))

    def _predict(self, frame: Any, offset: int) -> list[tuple[str, pa.Array]]:
        where = f"rows {offset} to {offset + len(frame) - 1}"
        try:
            outputs = [(PREDICTION, self.model.predict(frame))]
            if self.proba:
                proba = np.asarray(self.model.predict_proba(frame)).reshape(len(frame), -1)
                outputs += [(f"{PROBABILITY}{i}", proba[:, i]) for i in range(proba.shape[1])]
        except GnomonError:
            raise
        except (ValueError, TypeError) as exc:  # the model refused these values
            raise InvalidInput(f"the model could not predict on {where}: {exc}") from exc
        return [(name, _to_arrow(values, len(frame), name, where)) for name, values in outputs]


def _to_arrow(values: Any, rows: int, name: str, where: str) -> pa.Array:
    array = np.asarray(values)
    if len(array) != rows:
        raise InvalidInput(f"the model returned {len(array)} values for the {rows} {where}")
    try:
        # Multi-output predictions become one list per row.
        return pa.array(array.tolist() if array.ndim > 1 else array)
    except (pa.ArrowException, TypeError, ValueError) as exc:
        raise InvalidInput(f"the model's {name} for {where} cannot be stored: {exc}") from None


# A worker process predicts with one model for its whole life: the process pool's initializer
# stores it here, where the function each chunk is submitted to can find it.
_worker: _Predictor | None = None


def _start_worker(job: _Job) -> None:
    global _worker
    from gnomon.modelfolder import load_folder

    _worker = _Predictor(load_folder(job.folder), job.policy, job.proba)
    try:  # one BLAS/OpenMP thread per worker: the workers already use every core
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)
    except ImportError:
        pass


def _predict_in_worker(table: pa.Table, offset: int) -> _Chunk:
    assert _worker is not None, "the pool initializer did not run"
    return _worker(table, offset)


# -- the job -----------------------------------------------------------------------------------

Submit = Callable[[pa.Table, int], "Future[_Chunk]"]


def _run(
    reader: Reader,
    keep: list[str],
    job: _Job,
    model: LoadedModel,
    workers: int,
    sink: Sink,
    on_progress: ProgressCallback | None,
) -> int:
    """Predict every chunk and write it in order; returns the violations predicted anyway."""
    contract = model.contract
    wanted = set(contract.input_names) if contract is not None and contract.inputs else None
    sent = [c for c in reader.schema.names if wanted is None or c in wanted]
    violations = 0
    if on_progress is not None:
        on_progress(0, reader.total_rows)
    try:
        with _executor(job, model, workers) as submit:
            results = _in_order(reader.chunks(), lambda t, o: submit(t.select(sent), o), workers)
            for offset, table, chunk in results:
                if chunk.count and job.policy is not Policy.WARN:
                    raise _rejection(chunk, offset, table.num_rows, reader.path)
                violations += chunk.count
                sink.write(_output(table.select(keep), chunk.columns))
                if on_progress is not None:
                    on_progress(sink.rows, reader.total_rows)
    except BrokenProcessPool as exc:
        raise Unavailable(
            f"a worker process died while predicting on '{reader.path}' (out of memory?): "
            "try fewer workers or smaller chunks"
        ) from exc
    if sink.rows == 0:
        raise InvalidInput(f"'{reader.path}' has no rows: nothing to predict")
    return violations


@contextmanager
def _executor(job: _Job, model: LoadedModel, workers: int) -> Iterator[Submit]:
    if workers == 1:
        predictor = _Predictor(model, job.policy, job.proba)
        yield lambda table, offset: _run_now(predictor, table, offset)
        return
    # spawn, not fork: a forked child inherits the parent's threads and OpenMP state, a known
    # way to deadlock; each worker pays one interpreter start instead.
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(workers, context, initializer=_start_worker, initargs=(job,))
    try:
        yield lambda table, offset: pool.submit(_predict_in_worker, table, offset)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _run_now(predictor: _Predictor, table: pa.Table, offset: int) -> Future[_Chunk]:
    future: Future[_Chunk] = Future()
    try:
        future.set_result(predictor(table, offset))
    except Exception as exc:
        future.set_exception(exc)
    return future


def _in_order(
    chunks: Iterable[tuple[int, pa.Table]], submit: Submit, workers: int
) -> Iterator[tuple[int, pa.Table, _Chunk]]:
    """Results in input order, with at most two chunks per worker in flight (memory bound):
    one being predicted and one waiting, so no worker idles while the writer catches up."""
    limit = 2 * workers if workers > 1 else 1
    pending: deque[tuple[int, pa.Table, Future[_Chunk]]] = deque()
    for offset, table in chunks:
        pending.append((offset, table, submit(table, offset)))
        if len(pending) >= limit:
            offset, table, future = pending.popleft()
            yield offset, table, future.result()
    while pending:
        offset, table, future = pending.popleft()
        yield offset, table, future.result()


def _output(table: pa.Table, columns: list[tuple[str, pa.Array]]) -> pa.Table:
    for name, array in columns:
        if name in table.column_names:
            raise InvalidInput(
                f"the input already has a column '{name}'; leave it out with --keep/keep"
            )
        table = table.append_column(name, array)
    return table


def _rejection(chunk: _Chunk, offset: int, rows: int, path: Path) -> InvalidInput:
    count = chunk.count
    shown = "; ".join(_describe(v) for v in chunk.violations[:_SHOWN])
    more = f"; and {count - _SHOWN} more" if count > _SHOWN else ""
    message = (
        f"rows {offset} to {offset + rows - 1} of '{path}' break the model's contract "
        f"({count} problem{'s' if count > 1 else ''}; nothing was written): {shown}{more}"
    )
    details = {"violations": [v.to_dict() for v in chunk.violations], "count": count}
    return InvalidInput(message, details)


def _describe(v: Violation) -> str:
    where = f"row {v.row} column '{v.column}'" if v.row >= 0 else f"column '{v.column}'"
    got = f", got {v.value!r}" if v.row >= 0 else ""
    return f"{where}: {v.problem}, expected {v.expected}{got}"


def _check_paths(
    input_path: str | os.PathLike[str], output_path: str | os.PathLike[str]
) -> tuple[Path, Path]:
    for role, given in (("input", input_path), ("output", output_path)):
        if "://" in os.fspath(given):  # checked before Path() folds "s3://" into "s3:/"
            raise InvalidInput(f"the {role} must be a local path, not '{os.fspath(given)}'")
    source, target = Path(input_path), Path(output_path)
    if not source.exists():
        raise NotFound(f"input file '{source}' does not exist")
    if not source.is_file():
        raise InvalidInput(f"input '{source}' is not a file; pass one Parquet or CSV file")
    if not target.parent.is_dir():
        raise InvalidInput(f"cannot write '{target}': folder '{target.parent}' does not exist")
    if target.is_dir():
        raise InvalidInput(f"cannot write '{target}': it is a folder")
    if target.resolve() == source.resolve():
        raise InvalidInput(f"the output '{target}' would overwrite the input")
    return source, target


def _kept(schema: pa.Schema, keep: Sequence[str] | None) -> list[str]:
    if keep is None:
        return list(schema.names)
    unknown = [c for c in keep if c not in schema.names]
    if unknown:
        raise InvalidInput(f"cannot keep {unknown}: the input's columns are {schema.names}")
    return list(dict.fromkeys(keep))


def _workers(requested: int | None, total_rows: int | None, chunk_rows: int) -> int:
    if requested is not None and requested < 1:
        raise InvalidInput(f"workers must be at least 1, got {requested}")
    count = requested or _usable_cpus()
    if total_rows is not None:  # a worker with no chunk to predict only costs a model load
        count = min(count, max(1, math.ceil(total_rows / chunk_rows)))
    return count


def _usable_cpus() -> int:
    # The CPUs this process may run on, which a container or taskset can make fewer than all.
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity is not None else os.cpu_count() or 1


def _policy(policy: Policy | str) -> Policy:
    try:
        return Policy(policy)
    except ValueError:
        raise InvalidInput(f"unknown policy {policy!r}: use reject, warn or clip") from None


__all__ = [
    "DEFAULT_CHUNK_ROWS",
    "BatchResult",
    "ProgressCallback",
    "predict_file",
    "read_prediction_metadata",
]
