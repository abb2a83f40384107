"""The local executor: steps in a pool of worker processes on this machine.

Workers are started on demand (a chain needs one, a fan-out up to ``parallelism``) and kept
for the whole run, so a step costs a message each way, not a process start. They come from a
fork server (``multiprocessing``'s ``forkserver``) that has imported the pipeline's module:
a fork of the caller itself could inherit its threads and OpenMP state mid-flight, a known
way to hang. A step that runs past its timeout, or kills its process, costs that worker only;
the next task gets a fresh one.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
import time
from collections.abc import Iterator
from multiprocessing.connection import Connection, wait
from typing import Any

from gnomon.pipelines.objects import ObjectsAddress
from gnomon.pipelines.task import StepError, StepOutcome, StepTask, execute

_JOIN_SECONDS = 2.0


def _gnomon_env() -> dict[str, str]:
    return {name: value for name, value in os.environ.items() if name.startswith("GNOMON_")}


def _worker_main(
    conn: Connection, address: ObjectsAddress, env: dict[str, str], path: list[str]
) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the runner's to handle
    # The runner's GNOMON_* settings, so steps reach its store: a fork server keeps the
    # environment it started with, that of the first pipeline run in this process.
    for name in [name for name in os.environ if name.startswith("GNOMON_")]:
        del os.environ[name]
    os.environ.update(env)
    # and the runner's import path: the fork server kept the one it started with, and a
    # folder added since (a notebook's sys.path.append, the CLI's current folder) is needed
    sys.path[:0] = [entry for entry in path if entry not in sys.path]
    objects = address.open()
    name = f"local:{os.getpid()}"
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            break
        if task is None:
            break
        conn.send(execute(task, objects, name))
    conn.close()


def _start_method(modules: tuple[str, ...]) -> str:
    methods = multiprocessing.get_all_start_methods()
    if "__main__" in modules and "fork" in methods:
        # Steps defined in a notebook, a REPL or the script being run exist in this process
        # only; another start method would have to run the script again to find them.
        return "fork"
    return "forkserver" if "forkserver" in methods else "spawn"


@contextlib.contextmanager
def _main_hidden() -> Iterator[None]:
    """Start a worker without running the caller's script again in it. ``multiprocessing``
    imports the parent's ``__main__`` (by its spec or file) in every fork-server or spawned
    child, which runs a script's top level (and its ``gnomon.run_pipeline``) again unless it
    is guarded by ``if __name__ == "__main__"``. No step lives there: those use fork."""
    main = sys.modules.get("__main__")
    saved = {
        name: main.__dict__[name]
        for name in ("__file__", "__spec__")
        if main is not None and name in main.__dict__
    }
    for name in saved:
        setattr(main, name, None)
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(main, name, value)


class _Worker:
    def __init__(self, context: Any, address: ObjectsAddress, env: dict[str, str]) -> None:
        self.conn, child = context.Pipe()
        args = (child, address, env, list(sys.path))
        self.process = context.Process(target=_worker_main, args=args, daemon=True)
        if context.get_start_method() == "fork":
            self.process.start()
        else:
            with _main_hidden():
                self.process.start()
        child.close()
        self.task: StepTask | None = None
        self.deadline: float | None = None

    def kill(self) -> None:
        self.process.kill()
        self.process.join(_JOIN_SECONDS)
        self.conn.close()


class LocalExecutor:
    name = "local"

    def __init__(
        self, address: ObjectsAddress, parallelism: int | None, modules: tuple[str, ...] = ()
    ) -> None:
        self.address = address
        self.capacity = max(1, parallelism or os.cpu_count() or 1)
        method = _start_method(modules)
        self.context = multiprocessing.get_context(method)
        if method == "forkserver":
            preload = ["gnomon.pipelines.local", *(m for m in modules if m != "__main__")]
            self.context.set_forkserver_preload(preload)
        self.env = _gnomon_env()
        self.idle: list[_Worker] = []
        self.busy: dict[Connection, _Worker] = {}
        self.done: list[StepOutcome] = []

    def submit(self, task: StepTask, cpus: float, gpus: float, timeout: float | None) -> None:
        worker = self.idle.pop() if self.idle else _Worker(self.context, self.address, self.env)
        worker.task = task
        worker.deadline = time.monotonic() + timeout if timeout else None
        try:
            worker.conn.send(task)
        except (OSError, ValueError) as exc:  # the worker died while idle
            worker.kill()
            self.done.append(_lost(task, f"the worker process could not take the step: {exc}"))
            return
        self.busy[worker.conn] = worker

    def wait(self, timeout: float | None) -> list[StepOutcome]:
        if self.done:
            found, self.done = self.done, []
            return found
        if not self.busy:
            return []
        deadlines = [w.deadline for w in self.busy.values() if w.deadline is not None]
        now = time.monotonic()
        limit = timeout
        if deadlines:
            until_first = max(0.0, min(deadlines) - now)
            limit = until_first if limit is None else min(limit, until_first)
        sentinels = {w.process.sentinel: w for w in self.busy.values()}
        ready = wait([*self.busy, *sentinels], limit)
        outcomes: list[StepOutcome] = []
        for item in ready:
            worker = self.busy.get(item) if isinstance(item, Connection) else sentinels.get(item)
            if worker is None or worker.conn not in self.busy:
                continue
            outcomes.append(self._collect(worker))
        now = time.monotonic()
        for worker in list(self.busy.values()):
            if worker.deadline is not None and worker.deadline <= now:
                del self.busy[worker.conn]
                worker.kill()
                assert worker.task is not None
                outcomes.append(_timed_out(worker.task))
        return outcomes

    def _collect(self, worker: _Worker) -> StepOutcome:
        del self.busy[worker.conn]
        task = worker.task
        assert task is not None
        try:
            if worker.conn.poll():
                outcome: StepOutcome = worker.conn.recv()
                worker.task = None
                self.idle.append(worker)
                return outcome
        except (EOFError, OSError):
            pass
        worker.process.join(_JOIN_SECONDS)
        code = worker.process.exitcode
        worker.kill()
        return _lost(
            task, f"the step's process ended with exit code {code} (killed, or out of memory?)"
        )

    def close(self) -> None:
        for worker in self.idle:
            with contextlib.suppress(OSError, ValueError):
                worker.conn.send(None)
        for worker in list(self.busy.values()) + self.idle:
            worker.process.join(_JOIN_SECONDS if worker in self.idle else 0)
            if worker.process.is_alive():
                worker.kill()
        self.idle.clear()
        self.busy.clear()


def _lost(task: StepTask, message: str) -> StepOutcome:
    now = time.time()
    error = StepError("WorkerDied", message, "", user_code=True)
    return StepOutcome(task.node, task.attempt, now, now, (), "", error)


def _timed_out(task: StepTask) -> StepOutcome:
    now = time.time()
    error = StepError(
        "TimeoutError", "the step ran past its timeout and was stopped", "", True, True
    )
    return StepOutcome(task.node, task.attempt, now, now, (), "", error)


__all__ = ["LocalExecutor"]
