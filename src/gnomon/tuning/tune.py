"""``gnomon.tune``: an Optuna study whose trials are runs, on this process, local processes
or Ray, its state in gnomon's database so it survives and resumes."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from gnomon.errors import AlreadyExists, Conflict, InvalidInput, NotFound
from gnomon.tuning.entities import Study
from gnomon.tuning.samplers import PRUNERS, SAMPLERS, make_pruner, make_sampler
from gnomon.tuning.service import check_directions, study_name
from gnomon.tuning.space import parse_space, to_json
from gnomon.tuning.trials import RUN_ATTR, STUDY_TAG, Trial, TrialJob, explain, run_trials

MAX_PARALLELISM = 256
MAX_TRIALS = 100_000  # a journal holds about this many (MAX_STUDY_LOGS)
ROLE_TAG = "gnomon.tuning.role"


@dataclass(frozen=True, slots=True)
class BestTrial:
    number: int
    values: tuple[float, ...]
    params: dict[str, Any]
    run_id: str | None

    @property
    def value(self) -> float:
        return self.values[0]


@dataclass(frozen=True, slots=True)
class TuningResult:
    """What a ``tune`` call left: the study, its best trial(s) (the Pareto front when there
    are several objectives), counts of trials by state, and the version registered."""

    study: Study
    best_trials: list[BestTrial]
    states: dict[str, int]
    run_id: str | None
    registered: Any = None  # a ModelVersion
    new_trials: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def best(self) -> BestTrial:
        if not self.best_trials:
            raise NotFound(f"study {self.study.name!r} has no completed trial")
        if self.study.multi_objective:
            raise InvalidInput("a multi-objective study has a Pareto front: see best_trials")
        return self.best_trials[0]

    def _repr_html_(self) -> str:
        from gnomon.tuning.html import result_html

        return result_html(self)


def tune(
    objective: Callable[[Trial], Any],
    space: Mapping[str, Any] | None = None,
    n_trials: int | None = None,
    direction: Literal["minimize", "maximize"] = "minimize",
    *,
    directions: Sequence[str] | None = None,
    metric_names: Sequence[str] | None = None,
    study: str | None = None,
    sampler: str = "tpe",
    pruner: str | None = None,
    parallelism: int = 1,
    executor: Literal["local", "ray"] = "local",
    timeout: float | None = None,
    seed: int | None = None,
    params: Mapping[str, Any] | None = None,
    register: str | None = None,
    alias: str | None = None,
    model_name: str = "model",
    catch: tuple[type[BaseException], ...] = (),
    ray_address: str | None = None,
    worker_resources: Mapping[str, float] | None = None,
    objective_ref: str | None = None,
) -> TuningResult:
    """Search ``space`` for the parameters that optimise ``objective``, every trial a run.

    ``objective(trial)`` gets a :class:`Trial` whose ``params`` were chosen from ``space``
    and returns a number (a list of numbers with ``directions``). Each trial is a run nested
    under the study's run, with its params, the value(s) as metrics (``metric_names``, by
    default ``value``), and what the objective logs itself (``gnomon.log_model``). With
    ``trial.report(value, step)`` and a ``pruner``, unpromising trials stop early.

    The study (``study``, default a new name) lives in gnomon's database: calling ``tune``
    again with its name adds trials to it. ``parallelism`` workers run trials at once, as
    local processes or Ray tasks (``executor="ray"``, on ``ray_address`` or a local Ray);
    their objective is cloudpickled, so a script's must sit under
    ``if __name__ == "__main__"``. On Ray each worker asks for ``worker_resources``
    (default ``{"CPU": 1}``; e.g. ``{"GPU": 1}`` for a trial that trains on a GPU, or
    ``{"CPU": 0.25}`` for one that mostly waits). ``register`` registers the best trial's
    model (logged as ``model_name`` in its run) and points ``alias`` at it.

    Example:
        >>> result = gnomon.tune(
        ...     objective,
        ...     {"max_depth": {"type": "int", "low": 2, "high": 16}},
        ...     n_trials=50,
        ...     direction="maximize",
        ...     parallelism=4,
        ... )
        >>> result.best.params

    Raises:
        InvalidInput: a wrong space, sampler, pruner or count; directions unlike the
            existing study's; neither ``n_trials`` nor ``timeout``.
        UserCodeError: the objective raised (not in ``catch``); the trial is recorded FAIL.
    """
    import cloudpickle

    import gnomon

    names = check_directions(list(directions) if directions else [direction])
    metrics = _metric_names(metric_names, len(names))
    _check_counts(n_trials, timeout, parallelism)
    if sampler not in SAMPLERS:
        raise InvalidInput(f"sampler must be one of {', '.join(SAMPLERS)}, got {sampler!r}")
    if pruner is not None and pruner not in PRUNERS:
        raise InvalidInput(f"pruner must be one of {', '.join(PRUNERS)}, or None, got {pruner!r}")
    if executor not in ("local", "ray"):
        raise InvalidInput(f"executor must be 'local' or 'ray', got {executor!r}")
    if not callable(objective):
        raise InvalidInput(f"the objective must be callable, got {type(objective).__name__}")
    resources = _resources(worker_resources)
    if alias is not None and register is None:
        raise InvalidInput("alias needs register: the name to register the best model as")
    if register is not None and len(names) > 1:
        raise InvalidInput(
            "a multi-objective study has no single best trial to register: register one "
            "of result.best_trials with gnomon.register_model"
        )
    distributions = parse_space(space)
    make_sampler(sampler, distributions, seed, len(names))  # wrong settings fail before a run
    make_pruner(pruner, len(names))
    client = gnomon.get_client()
    settings = {
        "sampler": sampler,
        "pruner": pruner,
        "space": to_json(distributions),
        "metric_names": list(metrics),
        "objective": objective_ref or _reference(objective),
    }
    found, parent = _open_study(client, study, names, settings)
    job = TrialJob(
        study_id=found.id,
        study_name=found.name,
        objective=cloudpickle.dumps(objective),
        space=to_json(distributions),
        directions=names,
        metric_names=metrics,
        sampler=sampler,
        pruner=pruner,
        seed=seed,
        experiment_id=parent.experiment_id,
        parent_run_id=parent.id,
        timeout=timeout,
        catch=catch,
        params=dict(params or {}),
    )
    _log_settings(client, parent.id, job, n_trials, parallelism, executor)
    try:
        ran = _run(job, n_trials, parallelism, executor, ray_address, resources)
    except BaseException as exc:
        gnomon.end_run("KILLED" if isinstance(exc, KeyboardInterrupt) else "FAILED")
        if isinstance(exc, Exception):
            raise explain(exc, found.name) from exc
        raise
    result = summarize(client, found, parent.id, ran)
    _log_best(client, parent.id, result)
    gnomon.end_run()
    if register is not None:
        result = _register(result, register, alias, model_name)
    return result


def _run(
    job: TrialJob,
    n_trials: int | None,
    parallelism: int,
    executor: str,
    address: str | None,
    resources: dict[str, float],
) -> int:
    from gnomon.progress import progress_bar

    if parallelism == 1 and executor == "local":
        with progress_bar(f"tuning {job.study_name}", total=n_trials, unit="trials") as advance:
            return run_trials(job, n_trials, 0, lambda done: advance(done, n_trials))
    from gnomon.tuning.parallel import run_parallel

    return run_parallel(job, n_trials, parallelism, executor, address, resources)


def _open_study(
    client: Any, name: str | None, directions: tuple[str, ...], settings: dict[str, Any]
) -> tuple[Study, Any]:
    """The study (created, with its run, when new) and its run, now active."""
    import optuna

    import gnomon
    from gnomon.tuning.journal import storage

    optuna.logging.set_verbosity(optuna.logging.WARNING)  # not a line per trial on stderr
    tuning = client.tuning
    if name is not None:
        try:
            existing = tuning.get_study(study_name(name))
        except NotFound:
            existing = None
        if existing is not None:
            if existing.directions != directions:
                raise InvalidInput(
                    f"study {existing.name!r} has directions {list(existing.directions)}, "
                    f"not {list(directions)}"
                )
            run = gnomon.start_run(run_id=existing.run_id, nested=True)
            return existing, run.run
    chosen = study_name(name) if name is not None else _new_name()
    run = gnomon.start_run(chosen, nested=True, tags={ROLE_TAG: "study", STUDY_TAG: chosen})
    try:
        created = tuning.create_study(
            chosen,
            directions,
            settings=settings,
            experiment_id=run.experiment_id,
            run_id=run.id,
        )
        optuna.create_study(
            study_name=chosen, storage=storage(tuning, created.id), directions=list(directions)
        )
    except AlreadyExists:  # made meanwhile by another caller: join it, this run is not needed
        gnomon.end_run("KILLED")
        client.delete_run(run.id)
        return _open_study(client, chosen, directions, settings)
    except BaseException:
        gnomon.end_run("FAILED")
        raise
    return created, run.run


def summarize(client: Any, study: Study, run_id: str | None, new_trials: int = 0) -> TuningResult:
    """The study as it stands: best trial(s) and counts by state, replayed from its journal."""
    import optuna

    from gnomon.tuning.journal import storage

    loaded = optuna.load_study(study_name=study.name, storage=storage(client.tuning, study.id))
    trials = loaded.get_trials(deepcopy=False)
    states: dict[str, int] = {}
    for trial in trials:
        states[trial.state.name] = states.get(trial.state.name, 0) + 1
    best = [
        BestTrial(t.number, tuple(t.values), dict(t.params), t.user_attrs.get(RUN_ATTR))
        for t in (loaded.best_trials if states.get("COMPLETE") else [])
    ]
    return TuningResult(study, best, states, run_id, None, new_trials)


def _log_settings(
    client: Any, run_id: str, job: TrialJob, n_trials: int | None, parallelism: int, executor: str
) -> None:
    params = {
        "sampler": job.sampler,
        "pruner": job.pruner or "none",
        "directions": ",".join(job.directions),
        "parallelism": parallelism,
        "executor": executor,
    }
    with contextlib.suppress(Conflict):  # a resumed study's run may differ: params stay
        client.log_batch(run_id, params=params)
    if n_trials is not None:
        client.set_tag(run_id, "gnomon.tuning.n_trials", str(n_trials))


def _log_best(client: Any, run_id: str, result: TuningResult) -> None:
    from gnomon.tracking.entities import Metric

    tags = {f"gnomon.tuning.{state.lower()}": str(n) for state, n in result.states.items()}
    metrics = []
    if result.best_trials and not result.study.multi_objective:
        best = result.best_trials[0]
        tags["gnomon.tuning.best_trial"] = str(best.number)
        if best.run_id:
            tags["gnomon.tuning.best_run"] = best.run_id
        names = _names(result)
        metrics = [
            Metric(f"best_{n}", v, 0, _now()) for n, v in zip(names, best.values, strict=False)
        ]
    client.log_batch(run_id, metrics=metrics, tags=tags)


def _register(result: TuningResult, name: str, alias: str | None, model_name: str) -> TuningResult:
    import gnomon

    best = result.best
    if best.run_id is None:
        raise NotFound(f"study {result.study.name!r}: the best trial has no run")
    source = f"runs:/{best.run_id}/{model_name}"
    try:
        version = gnomon.register_model(source, name, alias=alias)
    except NotFound as exc:
        raise NotFound(
            f"the best trial ({best.number}) logged no model {model_name!r} in its run "
            f"{best.run_id}: call gnomon.log_model(model, {model_name!r}) in the objective "
            f"({exc})"
        ) from None
    return TuningResult(
        result.study, result.best_trials, result.states, result.run_id, version, result.new_trials
    )


def _names(result: TuningResult) -> list[str]:
    return list(result.study.settings.get("metric_names") or ["value"])


def _metric_names(given: Sequence[str] | None, count: int) -> tuple[str, ...]:
    from gnomon.checks import key

    if given is None:
        return ("value",) if count == 1 else tuple(f"value_{i}" for i in range(count))
    names = tuple(key("metric", n) for n in given)
    if len(names) != count or len(set(names)) != count:
        raise InvalidInput(f"metric_names must name each of the {count} objective(s) once")
    return names


def _check_counts(n_trials: int | None, timeout: float | None, parallelism: int) -> None:
    if n_trials is None and timeout is None:
        raise InvalidInput("give n_trials, timeout or both: otherwise the study never ends")
    if n_trials is not None and (
        isinstance(n_trials, bool)
        or not isinstance(n_trials, int)
        or not 1 <= n_trials <= MAX_TRIALS
    ):
        raise InvalidInput(
            f"n_trials must be an integer from 1 to {MAX_TRIALS:,}, got {n_trials!r}"
        )
    if timeout is not None and (
        isinstance(timeout, bool) or not isinstance(timeout, int | float) or not timeout > 0
    ):
        raise InvalidInput(f"timeout must be a positive number of seconds, got {timeout!r}")
    if isinstance(parallelism, bool) or not isinstance(parallelism, int):
        raise InvalidInput(f"parallelism must be an integer, got {parallelism!r}")
    if not 1 <= parallelism <= MAX_PARALLELISM:
        raise InvalidInput(f"parallelism must be from 1 to {MAX_PARALLELISM}, got {parallelism}")


def _resources(given: Mapping[str, float] | None) -> dict[str, float]:
    """A Ray worker's resources: CPU and GPU shares, or custom resources, each 0 to 1,024."""
    if given is None:
        return {"CPU": 1.0}
    if not isinstance(given, Mapping) or len(given) > 16:
        raise InvalidInput("worker_resources must map at most 16 resource names to amounts")
    found = {}
    for name, amount in given.items():
        bad = isinstance(amount, bool) or not isinstance(amount, int | float)
        if not isinstance(name, str) or not name or bad or not 0 <= amount <= 1024:
            raise InvalidInput(f"worker_resources: {name!r} must be an amount from 0 to 1,024")
        found[name] = float(amount)
    return found


def _reference(objective: Any) -> str:
    module = getattr(objective, "__module__", None) or "?"
    return f"{module}:{getattr(objective, '__qualname__', type(objective).__name__)}"


def _new_name() -> str:
    import secrets
    import time

    return f"study-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(2)}"


def _now() -> int:
    import time

    return int(time.time() * 1000)


__all__ = ["BestTrial", "Trial", "TuningResult", "summarize", "tune"]
