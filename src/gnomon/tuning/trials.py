"""One worker's share of a study: Optuna proposes, the objective runs inside a tracking run
nested under the study's, and the outcome goes to both the journal and the run.

The same code runs in the caller's process, in a local worker process and in a Ray task;
each reaches the store through its own fluent client (``GNOMON_*`` from the caller)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from gnomon.errors import GnomonError, InvalidInput

STUDY_TAG = "gnomon.tuning.study"
TRIAL_TAG = "gnomon.tuning.trial"
STATE_TAG = "gnomon.tuning.state"
RUN_ATTR = "gnomon_run_id"  # the trial's user attribute naming its run
INTERMEDIATE = "intermediate_value"  # the metric trial.report values are logged as


@dataclass(frozen=True, slots=True)
class TrialJob:
    """What a worker needs to run trials of a study; ``objective`` is cloudpickled."""

    study_id: str
    study_name: str
    objective: bytes
    space: dict[str, Any]  # specs (space.to_json)
    directions: tuple[str, ...]
    metric_names: tuple[str, ...]
    sampler: str
    pruner: str | None
    seed: int | None
    experiment_id: str
    parent_run_id: str
    timeout: float | None
    catch: tuple[type[BaseException], ...] = ()
    params: dict[str, Any] = field(default_factory=dict)  # fixed, passed to the objective


class Trial:
    """What the objective gets: the parameters chosen for this trial, and Optuna's trial for
    reporting intermediate values (pruning) or suggesting more parameters by hand.

    Example:
        >>> def objective(trial):
        ...     model = RandomForestClassifier(**trial.params).fit(X, y)
        ...     return model.score(X_test, y_test)
    """

    def __init__(self, trial: Any, params: dict[str, Any], run_id: str, fixed: dict[str, Any]):
        self.optuna = trial
        self.params = params
        self.run_id = run_id
        self.fixed = fixed  # the study's fixed parameters (``params=`` of tune)
        self._step = -1

    @property
    def number(self) -> int:
        return int(self.optuna.number)

    def suggest_float(self, name: str, low: float, high: float, **kwargs: Any) -> float:
        value = float(self.optuna.suggest_float(name, low, high, **kwargs))
        self.params[name] = value
        return value

    def suggest_int(self, name: str, low: int, high: int, **kwargs: Any) -> int:
        value = int(self.optuna.suggest_int(name, low, high, **kwargs))
        self.params[name] = value
        return value

    def suggest_categorical(self, name: str, choices: Sequence[Any]) -> Any:
        value = self.optuna.suggest_categorical(name, choices)
        self.params[name] = value
        return value

    def report(self, value: float, step: int) -> None:
        """An intermediate value (a validation score after epoch ``step``): the pruner
        compares it with other trials' at the same step; it is logged as a metric too."""
        import optuna

        import gnomon

        if not math.isfinite(value):  # diverged: no later step will say more
            raise optuna.TrialPruned(f"reported {value} at step {step}")
        self.optuna.report(value, step)
        gnomon.log_metric(INTERMEDIATE, float(value), step=step)
        self._step = max(self._step, step)

    def should_prune(self) -> bool:
        return bool(self.optuna.should_prune())

    def prune(self) -> None:
        """Stop this trial here, as pruned."""
        import optuna

        raise optuna.TrialPruned(f"pruned at step {self._step}")

    def __repr__(self) -> str:
        return f"Trial(number={self.number}, params={self.params!r})"


def run_trials(
    job: TrialJob,
    n_trials: int | None,
    worker: int,
    on_trial: Callable[[int], None] | None = None,
) -> int:
    """Run up to ``n_trials`` (until ``job.timeout``) trials of the study; the number run.
    ``on_trial`` is called with the count after each."""
    import cloudpickle
    import optuna

    import gnomon
    from gnomon.tuning.journal import storage
    from gnomon.tuning.samplers import make_pruner, make_sampler
    from gnomon.tuning.space import parse_space

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    client = gnomon.get_client()
    space = parse_space({name: _from_json(spec) for name, spec in job.space.items()})
    seed = None if job.seed is None else job.seed + worker
    study = optuna.load_study(
        study_name=job.study_name,
        storage=storage(client.tuning, job.study_id),  # type: ignore[attr-defined]
        sampler=make_sampler(job.sampler, space, seed, len(job.directions)),
        pruner=make_pruner(job.pruner, len(job.directions)),
    )
    objective: Callable[[Trial], Any] = cloudpickle.loads(job.objective)
    ran = 0

    def one(trial: Any) -> Any:
        nonlocal ran
        ran += 1
        return run_one(job, objective, space, client, trial)

    try:
        callbacks = [lambda _study, _trial: on_trial(ran)] if on_trial else None
        study.optimize(
            one, n_trials=n_trials, timeout=job.timeout, catch=job.catch, callbacks=callbacks
        )
    finally:
        gnomon.flush()
    return ran


def run_one(
    job: TrialJob, objective: Callable[[Trial], Any], space: Any, client: Any, trial: Any
) -> Any:
    """One trial: its run, the objective inside it, the outcome logged; Optuna's exceptions
    (pruned) and the objective's own are raised on for Optuna to record."""
    import optuna

    import gnomon
    from gnomon.tracking.fluent import enter_run
    from gnomon.tuning.space import suggest

    params = suggest(trial, space)
    tags = {STUDY_TAG: job.study_name, TRIAL_TAG: str(trial.number)}
    created = client.create_run(
        job.experiment_id, f"trial-{trial.number}", tags=tags, parent_run_id=job.parent_run_id
    )
    trial.set_user_attr(RUN_ATTR, created.id)
    handle = Trial(trial, params, created.id, dict(job.params))
    with enter_run(created) as run:
        try:
            returned = objective(handle)
        except optuna.TrialPruned:
            _finish(client, run.id, handle, {}, "PRUNED")
            gnomon.end_run("KILLED")
            raise
        except BaseException:
            _finish(client, run.id, handle, {}, "FAIL")
            gnomon.end_run("FAILED")
            raise
        values = _values(returned, job)
        if not all(math.isfinite(v) for v in values):
            # Optuna fails a trial that returns NaN; inf is failed alike, so a journal
            # (JSON) never holds a value it cannot write
            _finish(client, run.id, handle, {}, "FAIL")
            gnomon.set_tag("gnomon.tuning.error", f"the objective returned {values}")
            gnomon.end_run("FAILED")
            return math.nan if len(values) == 1 else [math.nan] * len(values)
        metrics = dict(zip(job.metric_names, values, strict=True))
        _finish(client, run.id, handle, metrics, "COMPLETE")
    return values[0] if len(values) == 1 else values


def _finish(client: Any, run_id: str, handle: Trial, metrics: dict[str, float], state: str) -> None:
    from gnomon.tracking.entities import Metric

    now = int(time.time() * 1000)
    client.log_batch(
        run_id,
        metrics=[Metric(k, v, 0, now) for k, v in metrics.items()],
        params={k: v for k, v in handle.params.items()},
        tags={STATE_TAG: state},
    )


def _values(returned: Any, job: TrialJob) -> list[float]:
    """The objective's value(s) as floats, one per direction."""
    many = returned if isinstance(returned, list | tuple) else [returned]
    if len(many) != len(job.directions):
        raise InvalidInput(
            f"the objective returned {len(many)} value(s); study {job.study_name!r} has "
            f"{len(job.directions)} objective(s)"
        )
    values = []
    for value in many:
        if isinstance(value, bool) or not isinstance(value, int | float):
            try:
                value = float(value)  # a NumPy scalar
            except (TypeError, ValueError):
                raise InvalidInput(
                    f"the objective must return a number, got {type(value).__name__}"
                ) from None
        values.append(float(value))
    return values


def _from_json(spec: Any) -> Any:
    from optuna.distributions import json_to_distribution

    return json_to_distribution(spec) if isinstance(spec, str) else spec


def explain(exc: BaseException, study: str) -> GnomonError:
    """A failure in a trial as gnomon's error: gnomon's own as they are, the objective's as
    a UserCodeError naming the study."""
    from gnomon.errors import UserCodeError

    if isinstance(exc, GnomonError):
        return exc
    return UserCodeError(f"a trial of study {study!r} raised {type(exc).__name__}: {exc}", exc)
