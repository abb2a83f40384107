"""Trials in parallel: ``parallelism`` workers, local processes or Ray tasks, each running its
share of the trials against the same study journal (which keeps trial numbers unique).

Local workers come from a fork server, as pipeline steps do: a fork of the caller could
inherit its threads and open database connections mid-flight. The objective travels
cloudpickled; the workers get the caller's ``GNOMON_*`` settings and import path. The caller
watches the journal to draw progress."""

from __future__ import annotations

import multiprocessing
import os
import sys
import time
from concurrent.futures import FIRST_EXCEPTION, Future, ProcessPoolExecutor, wait

from gnomon.tuning.trials import TrialJob, run_trials

_POLL_SECONDS = 0.5


def shares(n_trials: int | None, workers: int) -> list[int | None]:
    """Each worker's number of trials: all of them between them, none left over."""
    if n_trials is None:
        return [None] * workers
    workers = min(workers, n_trials)
    return [n_trials // workers + (1 if i < n_trials % workers else 0) for i in range(workers)]


def run_parallel(
    job: TrialJob,
    n_trials: int | None,
    parallelism: int,
    executor: str,
    address: str | None,
    resources: dict[str, float] | None = None,
) -> int:
    split = shares(n_trials, parallelism)
    if executor == "ray":
        return _on_ray(job, split, address, resources or {"CPU": 1.0})
    return _on_processes(job, split)


def _settings() -> dict[str, str]:
    """The caller's store, as the fluent client sees it (set_tracking_uri included)."""
    import gnomon

    env = {k: v for k, v in os.environ.items() if k.startswith("GNOMON_")}
    settings = gnomon.get_client().settings
    if settings.uri:
        env["GNOMON_URI"] = settings.uri
    if settings.workspace:
        env["GNOMON_WORKSPACE"] = settings.workspace
    env["GNOMON_HOME"] = str(settings.home)
    return env


def _worker(
    job: TrialJob, n_trials: int | None, index: int, env: dict[str, str], path: list[str]
) -> int:
    for name in [name for name in os.environ if name.startswith("GNOMON_")]:
        del os.environ[name]
    os.environ.update(env)
    sys.path[:0] = [entry for entry in path if entry not in sys.path]
    try:
        return run_trials(job, n_trials, index)
    except BaseException as exc:  # the objective's own exception may not unpickle here
        from gnomon.errors import GnomonError
        from gnomon.tuning.trials import explain

        if isinstance(exc, GnomonError):
            raise
        raise GnomonError(str(explain(exc, job.study_name))) from None


def _on_processes(job: TrialJob, split: list[int | None]) -> int:
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    env, path = _settings(), list(sys.path)
    with ProcessPoolExecutor(max_workers=len(split), mp_context=context) as pool:
        futures = [
            pool.submit(_worker, job, share, index, env, path) for index, share in enumerate(split)
        ]
        _watch(job, futures, sum(s or 0 for s in split) or None)
        return sum(f.result() for f in futures)


def _watch(job: TrialJob, futures: list[Future[int]], total: int | None) -> None:
    """Draw progress from the journal until the workers end (the first failure ends it)."""
    import gnomon
    from gnomon.progress import progress_bar
    from gnomon.tuning.tune import summarize

    client = gnomon.get_client()
    study = client.tuning.get_study(job.study_id)  # type: ignore[attr-defined]
    with progress_bar(f"tuning {job.study_name}", total=total, unit="trials") as advance:
        while True:
            done, pending = wait(futures, timeout=_POLL_SECONDS, return_when=FIRST_EXCEPTION)
            if any(f.exception() is not None for f in done):
                for f in pending:
                    f.cancel()
                return
            counts = summarize(client, study, None).states
            advance(sum(n for state, n in counts.items() if state != "RUNNING"), total)
            if not pending:
                return


def _on_ray(
    job: TrialJob, split: list[int | None], address: str | None, resources: dict[str, float]
) -> int:
    from gnomon.pipelines.ray_executor import (
        gnomon_settings,
        join_ray,
        probe_ray,
        python_path,
        ray_module,
    )

    ray = ray_module()
    if address is not None and address != "auto":
        probe_ray(address)  # an unreachable address fails at once, not after Ray's retries
    started = join_ray(ray, address)
    try:
        env = {**gnomon_settings(), **_settings(), "PYTHONPATH": python_path()}
        env.pop("GNOMON_TOKEN", None)  # Ray keeps task specs and shows them: never the token
        custom = {k: v for k, v in resources.items() if k not in ("CPU", "GPU")}
        task = ray.remote(_ray_worker).options(
            runtime_env={"env_vars": env},
            max_retries=0,
            num_cpus=resources.get("CPU", 0.0),
            num_gpus=resources.get("GPU", 0.0),
            resources=custom or None,
        )
        refs = [task.remote(job, share, index) for index, share in enumerate(split)]
        deadline = None if job.timeout is None else time.monotonic() + job.timeout + 60
        while True:
            _, pending = ray.wait(refs, num_returns=len(refs), timeout=_POLL_SECONDS)
            if not pending or (deadline is not None and time.monotonic() > deadline):
                break
        try:
            return sum(ray.get(refs))
        except ray.exceptions.RayTaskError as exc:  # the worker's own error, not Ray's wrapper
            cause = getattr(exc, "cause", None)
            raise (cause if isinstance(cause, Exception) else exc) from None
    finally:
        if started:
            ray.shutdown()


def _ray_worker(job: TrialJob, n_trials: int | None, index: int) -> int:
    # the task's runtime_env set GNOMON_* and PYTHONPATH before the worker started
    env = {k: v for k, v in os.environ.items() if k.startswith("GNOMON_")}
    return _worker(job, n_trials, index, env, [])


__all__ = ["run_parallel", "shares"]
