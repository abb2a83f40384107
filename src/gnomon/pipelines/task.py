"""One step run, as a worker (a local process, a Ray task, a container) executes it.

The task names the step by reference and its inputs by digest: a worker reads the inputs from
the object store, calls the function, writes each output back and answers with digests and
a preview, never with the values, so every executor moves the same small messages.
"""

from __future__ import annotations

import contextlib
import io
import logging
import time
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from gnomon.pipelines.context import StepContext, entered, left
from gnomon.pipelines.decorators import resolve
from gnomon.pipelines.materialize import decode, encode
from gnomon.pipelines.objects import Objects, ObjectsAddress

MAX_LOG_CHARS = 1_000_000  # a step's captured output beyond this keeps its tail


@dataclass(frozen=True, slots=True)
class ArtifactRef:
    digest: str
    kind: str


Inputs = ArtifactRef | tuple[ArtifactRef, ...]  # one output, or a list of outputs (fan-in)


@dataclass(frozen=True, slots=True)
class StepTask:
    node: str
    function: str  # the step, "module:qualname"
    artifacts: Mapping[str, Inputs]  # inputs read from upstream outputs
    values: Mapping[str, Any]  # inputs given as parameters or constants
    outputs: tuple[str, ...]
    objects: ObjectsAddress
    attempt: int = 1
    context: StepContext | None = None


@dataclass(frozen=True, slots=True)
class OutputMeta:
    name: str
    digest: str
    kind: str
    type_name: str
    size: int
    preview: str
    link: str | None = None
    fresh: bool = False  # nobody had stored this content before (see Objects.put_fresh)

    def ref(self) -> ArtifactRef:
        return ArtifactRef(self.digest, self.kind)


@dataclass(frozen=True, slots=True)
class StepError:
    type: str
    message: str
    traceback: str
    user_code: bool = True  # False: the platform failed (a missing artifact, a store error)
    timed_out: bool = False


@dataclass(frozen=True, slots=True)
class StepOutcome:
    node: str
    attempt: int
    started: float  # epoch seconds
    ended: float
    outputs: tuple[OutputMeta, ...] = ()
    logs: str = ""
    error: StepError | None = None
    worker: str = field(default="")

    @property
    def ok(self) -> bool:
        return self.error is None


class _Capture(logging.Handler):
    def __init__(self, out: io.StringIO) -> None:
        super().__init__(logging.INFO)
        self.out = out
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.out.write(self.format(record) + "\n")


def execute(task: StepTask, objects: Objects | None = None, worker: str = "") -> StepOutcome:
    """Run the task's step; every failure comes back as an outcome, never as an exception."""
    started = time.time()
    store = objects or task.objects.open()
    try:
        kwargs = dict(task.values)
        for name, ref in task.artifacts.items():
            if isinstance(ref, tuple):
                kwargs[name] = [_load(store, item) for item in ref]
            else:
                kwargs[name] = _load(store, ref)
        function = resolve(task.function).fn
    except Exception as exc:
        return _failed(task, started, "", exc, user_code=False, worker=worker)
    logs = io.StringIO()
    handler = _Capture(logs)
    root = logging.getLogger()
    root.addHandler(handler)
    token = entered(task.context)
    try:
        with contextlib.redirect_stdout(logs), contextlib.redirect_stderr(logs):
            result = function(**kwargs)
    except BaseException as exc:  # SystemExit from a step is a failure of that step
        return _failed(task, started, logs.getvalue(), exc, user_code=True, worker=worker)
    finally:
        root.removeHandler(handler)
        left(token)
    text = _tail(logs.getvalue())
    try:
        outputs = tuple(_store_outputs(task, result, store))
    except _OutputShape as exc:
        return _failed(task, started, text, exc, user_code=True, worker=worker)
    except Exception as exc:
        return _failed(task, started, text, exc, user_code=False, worker=worker)
    return StepOutcome(task.node, task.attempt, started, time.time(), outputs, text, None, worker)


def _load(store: Objects, ref: ArtifactRef) -> Any:
    path = store.local_file(ref.digest) if ref.kind == "file" else None
    data = b"" if path is not None else store.get(ref.digest)
    return decode(ref.kind, data, path)


class _OutputShape(Exception):
    pass


def _store_outputs(task: StepTask, result: Any, store: Objects) -> list[OutputMeta]:
    names = task.outputs
    if not names:
        return []
    if len(names) == 1:
        values = [result]
    elif isinstance(result, Mapping):
        missing = [name for name in names if name not in result]
        if missing:
            raise _OutputShape(f"step {task.node!r} returned no output {missing[0]!r}")
        values = [result[name] for name in names]
    elif isinstance(result, (tuple, list)) and len(result) == len(names):
        values = list(result)
    else:
        raise _OutputShape(
            f"step {task.node!r} declares {len(names)} outputs ({', '.join(names)}) but "
            f"returned {type(result).__name__}"
        )
    metas = []
    for name, value in zip(names, values, strict=True):
        encoded = encode(value)
        digest, fresh = store.put_fresh(encoded.data)
        metas.append(
            OutputMeta(
                name,
                digest,
                encoded.kind,
                encoded.type_name,
                len(encoded.data),
                encoded.preview,
                encoded.link,
                fresh,
            )
        )
    return metas


def _tail(text: str) -> str:
    if len(text) <= MAX_LOG_CHARS:
        return text
    return "[… earlier output cut]\n" + text[-MAX_LOG_CHARS:]


def _failed(
    task: StepTask, started: float, logs: str, exc: BaseException, *, user_code: bool, worker: str
) -> StepOutcome:
    error = StepError(
        type=type(exc).__name__,
        message=str(exc)[:4000],
        traceback="".join(traceback.format_exception(exc))[-20_000:],
        user_code=user_code,
    )
    return StepOutcome(
        task.node, task.attempt, started, time.time(), (), _tail(logs), error, worker
    )


__all__ = ["ArtifactRef", "Inputs", "OutputMeta", "StepError", "StepOutcome", "StepTask", "execute"]
