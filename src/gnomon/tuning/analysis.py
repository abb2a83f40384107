"""What a study found, for people: its trials, the best one(s), the optimisation history and
each parameter's importance, replayed from the study's journal by Optuna itself.

Used by ``gnomon tune show``, the HTML report and the web UI alike, so they never disagree."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

from gnomon.errors import InvalidInput
from gnomon.tuning.api import TuningApi
from gnomon.tuning.entities import Study
from gnomon.tuning.trials import RUN_ATTR

MAX_IMPORTANCE_TRIALS = 5_000  # the newest completed trials the importances are fitted on
MAX_REPLAYED_LOGS = 200_000  # about 30,000 trials: replayed in seconds, in bounded memory


@dataclass(frozen=True, slots=True)
class TrialRow:
    number: int
    state: str  # COMPLETE, PRUNED, FAIL, RUNNING, WAITING
    values: tuple[float, ...] | None
    params: dict[str, Any]
    run_id: str | None
    seconds: float | None
    last_step: int | None  # the last intermediate value's step (pruned trials stop early)


@dataclass(frozen=True, slots=True)
class StudyReport:
    study: Study
    trials: list[TrialRow]  # by number
    best: list[TrialRow]  # the best trial, or the Pareto front
    states: dict[str, int]
    importances: dict[str, float] = field(default_factory=dict)  # first objective's
    note: str = ""  # why importances are missing, when they are

    @property
    def metric_names(self) -> list[str]:
        names = self.study.settings.get("metric_names")
        if isinstance(names, list) and len(names) == len(self.study.directions):
            return [str(n) for n in names]
        return (
            ["value"]
            if len(self.study.directions) == 1
            else [f"value_{i}" for i in range(len(self.study.directions))]
        )

    def history(self) -> list[tuple[int, float, float]]:
        """(trial number, value, best so far) of each completed trial, first objective."""
        maximize = self.study.directions[0] == "maximize"
        best: float | None = None
        found = []
        for trial in self.trials:
            if trial.state != "COMPLETE" or not trial.values:
                continue
            value = trial.values[0]
            if not math.isfinite(value):
                continue
            if best is None or (value > best if maximize else value < best):
                best = value
            found.append((trial.number, value, best))
        return found


def analyze(tuning: TuningApi, study: Study, importances: bool = True) -> StudyReport:
    """The study as it stands.

    Raises:
        InvalidInput: its journal is too large to replay here, or holds what no Optuna
            worker writes (a journal is any editor's to append to: it is data, checked).
    """
    import optuna
    from optuna.storages.journal import JournalStorage

    from gnomon.tuning.journal import CheckedJournal

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    if study.logs > MAX_REPLAYED_LOGS:
        raise InvalidInput(
            f"study {study.name!r} has {study.logs:,} journal entries; at most "
            f"{MAX_REPLAYED_LOGS:,} are replayed to show it"
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Optuna's, on a hostile journal's odd values
            loaded = optuna.load_study(
                study_name=study.name, storage=JournalStorage(CheckedJournal(tuning, study.id))
            )
            frozen = loaded.get_trials(deepcopy=False)
            trials = [_row(t, len(study.directions)) for t in frozen]
            best_trials = loaded.best_trials if any(t.state == "COMPLETE" for t in trials) else []
    except InvalidInput:
        raise
    except Exception as exc:  # a journal no Optuna worker wrote
        raise InvalidInput(
            f"study {study.name!r}: its journal cannot be replayed ({type(exc).__name__})"
        ) from None
    states: dict[str, int] = {}
    for row in trials:
        states[row.state] = states.get(row.state, 0) + 1
    by_number = {row.number: row for row in trials}
    best = [by_number[t.number] for t in best_trials if t.number in by_number]
    found, note = ({}, "") if not importances else _importances(loaded, frozen)
    return StudyReport(study, trials, best, states, found, note)


def _row(trial: Any, objectives: int) -> TrialRow:
    """A trial as shown, its figures checked: finite numbers, one value per objective."""
    seconds = None
    if trial.datetime_start and trial.datetime_complete:
        seconds = (trial.datetime_complete - trial.datetime_start).total_seconds()
    steps = trial.intermediate_values
    if not all(isinstance(k, int) and not isinstance(k, bool) for k in steps):
        raise InvalidInput("a trial's intermediate values are not numbered by steps")
    values = None if trial.values is None else tuple(trial.values)
    if values is not None and (
        len(values) != objectives
        or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
        or not all(math.isfinite(v) for v in values)
    ):
        raise InvalidInput(f"trial {trial.number} has values no objective gives: {values!r}")
    attrs = trial.user_attrs if isinstance(trial.user_attrs, dict) else {}
    run_id = attrs.get(RUN_ATTR)
    return TrialRow(
        number=trial.number,
        state=trial.state.name,
        values=values,
        params=dict(trial.params),
        run_id=run_id if isinstance(run_id, str) else None,
        seconds=seconds,
        last_step=max(steps) if steps else None,
    )


def _importances(study: Any, frozen: list[Any]) -> tuple[dict[str, float], str]:
    """Each parameter's share of the first objective's variance (PED-ANOVA: no extra
    package, fast), over the newest completed trials; empty, with the reason, when it
    cannot be told."""
    import optuna
    from optuna.importance import PedAnovaImportanceEvaluator

    complete = [t for t in frozen if t.state == optuna.trial.TrialState.COMPLETE]
    if len(complete) < 2:
        return {}, "importances need at least two completed trials"
    if not any(len(t.distributions) for t in complete):
        return {}, "the trials have no parameters"
    newest = complete[-MAX_IMPORTANCE_TRIALS:]
    target = None  # one objective: PED-ANOVA reads its direction itself
    if len(study.directions) > 1:  # the first objective's, made "lower is better"
        sign = -1.0 if study.directions[0] == optuna.study.StudyDirection.MAXIMIZE else 1.0
        target = lambda t: sign * t.values[0]  # noqa: E731
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "lower is better" (it is, above); overflows
            if len(newest) == len(complete):
                found = optuna.importance.get_param_importances(
                    study, evaluator=PedAnovaImportanceEvaluator(), target=target, normalize=True
                )
            else:
                found = _on(study, newest, target)
    except Exception as exc:  # odd but valid values: no importances
        return {}, f"importances cannot be computed: {type(exc).__name__}"
    return {k: float(v) for k, v in found.items()}, ""


def _on(study: Any, trials: list[Any], target: Any) -> dict[str, float]:
    """Importances over ``trials`` only: a throwaway in-memory copy of the study."""
    import optuna
    from optuna.importance import PedAnovaImportanceEvaluator

    copy = optuna.create_study(directions=study.directions)
    copy.add_trials(trials)
    return dict(
        optuna.importance.get_param_importances(
            copy, evaluator=PedAnovaImportanceEvaluator(), target=target, normalize=True
        )
    )
