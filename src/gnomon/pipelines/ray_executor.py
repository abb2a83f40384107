"""The Ray executor: each step is one Ray task on a local ``ray.init()`` or a cluster.

A task carries the step by reference and its inputs by digest (``StepTask``); the worker reads
and writes artifacts in the pipeline's object store itself, so Ray's object store only ever
holds the small ``StepOutcome``. Ray's own retries are off (``max_retries=0``): the runner
retries a step as the step asks, and a crashed worker is a failed attempt like any other.

Workers import the step's module by name. Ray gives them the driver's working directory and
script folder only, so each task gets a ``runtime_env`` whose ``PYTHONPATH`` lists the
driver's own ``sys.path`` folders (those outside the interpreter's prefixes; the node's own
``PYTHONPATH`` is kept after them). We chose ``env_vars`` over ``py_modules``/``working_dir``:
on a local ``ray.init`` the folders are already on the machine, so nothing is zipped and
uploaded on each run, it works the same on a Ray this process had already joined (a task's
``runtime_env`` merges with the job's), and values from user modules in a task's arguments
unpickle because the path is set before the worker starts. Its price, measured: the workers
Ray prestarts have no such environment, so a fresh Ray starts others for the first step (about
a second on an idle machine; later steps and runs on that Ray reuse them). A remote cluster
needs the modules installed there, or a ``ray.init(runtime_env={"working_dir": ...})`` made
before the run, which this executor then reuses.

Steps of the script being run (``python train.py``) are imported by workers as ``train``, as
``multiprocessing`` does, so its top level must be guarded by ``if __name__ == "__main__"``;
steps defined in a notebook cannot run on Ray (their step fails, saying so).

Without ``ray_address`` and with no Ray in this process, each run starts a local Ray and shuts
it down at the end (several seconds): call ``ray.init()`` once to share one across runs.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import socket
import sys
import time
from collections.abc import Collection
from dataclasses import replace
from pathlib import Path
from typing import Any

from gnomon.errors import InvalidInput, Unavailable
from gnomon.pipelines.objects import Objects, ObjectsAddress
from gnomon.pipelines.task import StepError, StepOutcome, StepTask, execute

CONNECT_SECONDS = 5.0  # how long an address may take to answer before it is unavailable


@functools.lru_cache(maxsize=8)
def _objects(address: ObjectsAddress) -> Objects:
    return address.open()  # once per worker process, not once per step


def _run_step(task: StepTask) -> StepOutcome:
    """The Ray task: runs in a Ray worker process."""
    worker = f"ray:{socket.gethostname()}:{os.getpid()}"
    return execute(task, _objects(task.objects), worker)


class RayExecutor:
    name = "ray"

    def __init__(
        self, address: ObjectsAddress, ray_address: str | None, parallelism: int | None
    ) -> None:
        self.ray: Any = ray_module()  # imported here: only a ray run needs it
        self.address = address
        self.ray_address = ray_address
        self.parallelism = parallelism
        if ray_address is not None and ray_address != "auto":
            probe_ray(ray_address)  # an unreachable address fails before anything runs
        # Ray itself starts with the first step that must run: a fully cached run never
        # waits seconds for a Ray it does not use.
        self.started = False
        self.joined = False
        self.local = False
        self.totals: dict[str, float] = {}
        self.remote: Any = None
        self.runtime_env = {"env_vars": {**gnomon_settings(), "PYTHONPATH": python_path()}}
        self.pending: dict[Any, tuple[StepTask, float, float | None]] = {}
        self.done: list[StepOutcome] = []

    @property
    def capacity(self) -> int:
        if self.parallelism:
            return max(1, self.parallelism)
        if not self.joined:  # until Ray is up: this machine's CPUs (Ray queues the rest)
            return max(1, os.cpu_count() or 1)
        return max(1, int(self.totals.get("CPU", 1)))

    def _join(self) -> None:
        if self.joined:
            return
        self.started = join_ray(self.ray, self.ray_address)
        self.local = self.started and self.ray_address is None
        self.totals = self.ray.cluster_resources()
        self.remote = self.ray.remote(max_retries=0)(_run_step)
        self.joined = True

    def submit(self, task: StepTask, cpus: float, gpus: float, timeout: float | None) -> None:
        self._join()
        now = time.time()
        short = self._infeasible(cpus, gpus)
        if short:
            self.done.append(_failed(task, now, "Unschedulable", short, user_code=False))
            return
        function = _importable(task.function)
        if function is None:
            message = (
                f"step {task.node!r} is defined in a notebook or REPL: Ray workers import "
                "steps by module, so move it into a .py file (or use executor='local')"
            )
            self.done.append(_failed(task, now, "InvalidInput", message))
            return
        ref = self.remote.options(
            num_cpus=cpus, num_gpus=gpus, name=task.node[:100], runtime_env=self.runtime_env
        ).remote(replace(task, function=function))
        deadline = time.monotonic() + timeout if timeout else None
        self.pending[ref] = (task, now, deadline)

    def wait(self, timeout: float | None) -> list[StepOutcome]:
        if self.done:
            found, self.done = self.done, []
            return found
        if not self.pending:
            return []
        limit = timeout
        deadlines = [d for _, _, d in self.pending.values() if d is not None]
        if deadlines:
            until_first = max(0.0, min(deadlines) - time.monotonic())
            limit = until_first if limit is None else min(limit, until_first)
        refs = list(self.pending)
        ready, rest = self.ray.wait(refs, num_returns=1, timeout=limit)
        if ready and rest:  # take every other finished task too, without waiting
            more, _ = self.ray.wait(rest, num_returns=len(rest), timeout=0)
            ready += more
        outcomes = [self._collect(ref) for ref in ready]
        now = time.monotonic()
        for ref, (task, started, deadline) in list(self.pending.items()):
            if deadline is not None and deadline <= now:
                del self.pending[ref]
                with contextlib.suppress(Exception):  # it may have just ended
                    self.ray.cancel(ref, force=True)
                message = "the step ran past its timeout and was stopped"
                outcomes.append(_failed(task, started, "TimeoutError", message, timed_out=True))
        return outcomes

    def _collect(self, ref: Any) -> StepOutcome:
        task, started, _ = self.pending.pop(ref)
        try:
            outcome: StepOutcome = self.ray.get(ref)
            return outcome
        except self.ray.exceptions.RayTaskError as exc:  # before execute() could catch it:
            cause = getattr(exc, "cause", None) or exc  # e.g. its arguments did not unpickle
            message = f"the Ray task could not run the step: {str(exc)[:2000]}"
            return _failed(task, started, type(cause).__name__, message, user_code=False)
        except self.ray.exceptions.RayError as exc:  # the worker died, or Ray lost the task
            kind = type(exc).__name__
            message = f"the step's Ray worker failed ({kind}): {str(exc)[:2000]}"
            return _failed(task, started, "WorkerDied", message, user_code=True)
        except Exception as exc:  # the outcome could not be read back: the platform's fault
            message = f"the step's result could not be read from Ray: {exc}"
            return _failed(task, started, type(exc).__name__, message, user_code=False)

    def _infeasible(self, cpus: float, gpus: float) -> str | None:
        """Why no node can ever take the step, on a Ray we started here (it cannot grow)."""
        if not self.local:
            return None  # a cluster may autoscale to fit the step
        for key, wanted in (("CPU", cpus), ("GPU", gpus)):
            have = self.totals.get(key, 0.0)
            if wanted > have:
                return f"the step needs {wanted:g} {key}s but the local Ray has {have:g}"
        return None

    def close(self) -> None:
        for ref in self.pending:
            with contextlib.suppress(Exception):
                self.ray.cancel(ref, force=True)
        self.pending.clear()
        if self.started:
            self.ray.shutdown()
            self.started = False


def ray_module() -> Any:
    try:
        import ray
    except ImportError:
        raise InvalidInput("the ray executor needs Ray: pip install 'gnomon[ray]'") from None
    return ray


def join_ray(ray: Any, address: str | None) -> bool:
    """Join Ray, checking an address first; True when this call started or connected it.

    Raises:
        InvalidInput: Ray refused the address (``address`` or ``RAY_ADDRESS``).
        Unavailable: a local Ray did not start, or the cluster did not answer.
    """
    if ray.is_initialized():
        return False  # the Ray this process already joined, whoever started it
    before = _ray_children(ray)
    try:
        if address is None:
            ray.init(include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR)
        elif address.startswith("ray://"):
            ray.init(address=address, logging_level=logging.ERROR)
        else:
            ray.init(address=address, log_to_driver=False, logging_level=logging.ERROR)
    except Exception as exc:
        _stop_half_started(ray, before)
        if isinstance(exc, ValueError):  # e.g. "Invalid address format"
            given = address if address is not None else os.environ.get("RAY_ADDRESS")
            raise InvalidInput(f"Ray refused the address {given!r}: {exc}") from exc
        if address is not None:
            raise Unavailable(f"cannot reach the Ray cluster at {address!r}: {exc}") from exc
        hint = ""
        if type(exc) is Exception:  # how Ray says its node missed its 30 s start-up
            hint = (
                " (a loaded machine can take longer: start Ray once with `ray start --head`;"
                " later runs join it)"
            )
        raise Unavailable(f"cannot start a local Ray: {exc}{hint}") from exc
    return True


def _ray_children(ray: Any) -> dict[int, Any]:
    """This process's descendants that run Ray's own programs (the GCS, the raylet, its
    agents), as psutil processes by id. psutil comes with the ``ray`` extra (and in Ray)."""
    import psutil

    package = os.path.dirname(getattr(ray, "__file__", None) or "")
    found = {}
    for child in psutil.Process().children(recursive=True) if package else ():
        with contextlib.suppress(psutil.Error):
            if any(part.startswith(package + os.sep) for part in child.cmdline()):
                found[child.pid] = child
    return found


def _stop_half_started(ray: Any, before: Collection[int]) -> None:
    """What a failed ``ray.init`` left running. Ray raises its start-up timeout from inside
    the node's constructor, after the GCS and the raylet started and before ``ray.shutdown``
    knows of them: they would live as long as the starting thread (a worker's, for ever)."""
    import psutil

    if not ray.is_initialized():  # not another thread's Ray, joined meanwhile
        with contextlib.suppress(Exception):
            ray.shutdown()
    left = [p for pid, p in _ray_children(ray).items() if pid not in before]
    for process in left:
        with contextlib.suppress(psutil.Error):
            process.terminate()
    _, alive = psutil.wait_procs(left, timeout=3)
    for process in alive:
        with contextlib.suppress(psutil.Error):
            process.kill()


def probe_ray(address: str) -> None:
    """Fail within ``CONNECT_SECONDS`` when nothing listens at the address: Ray's own client
    retries for about 30 s, and a GCS address for longer."""
    host, _, port = address.removeprefix("ray://").rpartition(":")
    host = host.strip("[]")
    if not host or not port.isdigit():
        raise InvalidInput(
            f"ray_address {address[:200]!r} is not 'auto', 'ray://host:port' or 'host:port'"
        )
    try:
        with socket.create_connection((host, int(port)), timeout=CONNECT_SECONDS):
            pass
    except OSError as exc:
        raise Unavailable(f"cannot reach the Ray cluster at {address!r}: {exc}") from None


def _importable(function: str) -> str | None:
    """The step's reference as a worker can import it: a step of the script being run
    (``__main__``) is found in that script by its file name, as ``multiprocessing`` does;
    None for one defined in a notebook."""
    module, _, qualname = function.partition(":")
    if module != "__main__":
        return function
    path = getattr(sys.modules.get("__main__"), "__file__", None)
    return f"{Path(path).stem}:{qualname}" if path else None


def python_path() -> str:
    """The driver's import folders outside the interpreter, then the node's own."""
    prefixes = {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
    found: list[str] = []
    for entry in sys.path:
        path = os.path.realpath(entry or os.curdir)
        inside = any(path == p or path.startswith(p + os.sep) for p in prefixes)
        if not inside and os.path.isdir(path) and path not in found:
            found.append(path)
    return os.pathsep.join([*found, "${PYTHONPATH}"])


def gnomon_settings() -> dict[str, str]:
    """The driver's GNOMON_* settings, so steps reach its store; never its token, which Ray
    would keep in its task specs and show on its dashboard (a worker logs in as itself)."""
    return {
        name: value
        for name, value in os.environ.items()
        if name.startswith("GNOMON_") and name != "GNOMON_TOKEN"
    }


def _failed(
    task: StepTask,
    started: float,
    kind: str,
    message: str,
    *,
    user_code: bool = True,
    timed_out: bool = False,
) -> StepOutcome:
    error = StepError(kind, message, "", user_code, timed_out)
    return StepOutcome(task.node, task.attempt, started, time.time(), (), "", error)


__all__ = ["RayExecutor"]
