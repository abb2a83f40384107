"""gnomon.tune end to end on the embedded store: the optimum is found, trials are runs,
studies resume, pruning stops trials early, parallel workers never repeat or lose a trial,
failures and bad input are named, and the best model is registered."""

from __future__ import annotations

from pathlib import Path

import pytest

import gnomon
from gnomon.errors import InvalidInput, NotFound, UserCodeError
from gnomon.tuning.analysis import analyze
from tests.integration.tuning import objectives
from tests.integration.tuning.objectives import SPACE


def test_finds_the_optimum_and_records_every_trial_as_a_run(gnomon_home: Path) -> None:
    result = gnomon.tune(objectives.quadratic, SPACE, n_trials=60, study="bowl", seed=0)
    best = result.best
    assert best.value < 0.3
    assert abs(best.params["x"] - 2.0) < 0.6 and abs(best.params["y"] + 1.0) < 0.6
    assert result.states == {"COMPLETE": 60}

    client = gnomon.get_client()
    parent = client.get_run(result.run_id)
    assert parent.status == "FINISHED"
    assert parent.tags["gnomon.tuning.best_run"] == best.run_id
    assert parent.metrics["best_value"] == pytest.approx(best.value)
    assert parent.params["sampler"] == "tpe"
    trials = client.search_runs(
        parent.experiment_id, filter="tags.`gnomon.tuning.study` = 'bowl'", max_results=1000
    )
    children = [r for r in trials.items if r.parent_run_id == parent.id]
    assert len(children) == 60
    assert sorted(int(r.tags["gnomon.tuning.trial"]) for r in children) == list(range(60))
    run = client.get_run(best.run_id)
    assert run.metrics["value"] == pytest.approx(best.value)
    assert float(run.params["x"]) == pytest.approx(best.params["x"])
    assert run.tags["gnomon.tuning.state"] == "COMPLETE" and run.status == "FINISHED"


def test_a_study_resumes_where_it_stopped(gnomon_home: Path) -> None:
    first = gnomon.tune(objectives.quadratic, SPACE, n_trials=5, study="resumed", seed=1)
    second = gnomon.tune(objectives.quadratic, SPACE, n_trials=4, study="resumed", seed=2)
    assert second.study.id == first.study.id and second.run_id == first.run_id
    report = analyze(gnomon.get_client().tuning, second.study)  # type: ignore[attr-defined]
    assert [t.number for t in report.trials] == list(range(9))
    assert second.best.value <= first.best.value
    with pytest.raises(InvalidInput, match="has directions"):
        gnomon.tune(objectives.quadratic, SPACE, n_trials=1, study="resumed", direction="maximize")


def test_pruned_trials_are_marked_and_stop_early(gnomon_home: Path) -> None:
    result = gnomon.tune(
        objectives.curves,
        {"x": {"type": "float", "low": -10.0, "high": 10.0}},
        n_trials=30,
        pruner="median",
        sampler="random",
        seed=3,
    )
    assert result.states.get("PRUNED", 0) > 0
    client = gnomon.get_client()
    report = analyze(client.tuning, result.study)  # type: ignore[attr-defined]
    for trial in report.trials:
        run = client.get_run(trial.run_id)
        if trial.state == "PRUNED":
            assert trial.last_step is not None and trial.last_step < 9
            assert run.status == "KILLED" and run.tags["gnomon.tuning.state"] == "PRUNED"
            history = client.get_metric_history(run.id, "intermediate_value")
            assert len(history) == trial.last_step + 1
        else:
            assert trial.state == "COMPLETE" and trial.last_step == 9


def test_parallel_workers_never_repeat_or_lose_a_trial(gnomon_home: Path) -> None:
    result = gnomon.tune(objectives.quadratic, SPACE, n_trials=13, parallelism=3, seed=4)
    assert result.states == {"COMPLETE": 13} and result.new_trials == 13
    client = gnomon.get_client()
    report = analyze(client.tuning, result.study)  # type: ignore[attr-defined]
    assert sorted(t.number for t in report.trials) == list(range(13))
    runs = {t.run_id for t in report.trials}
    assert len(runs) == 13 and all(client.get_run(r).parent_run_id == result.run_id for r in runs)


def test_several_objectives_give_a_pareto_front(gnomon_home: Path) -> None:
    result = gnomon.tune(
        objectives.two_objectives,
        {"x": {"type": "float", "low": -1.0, "high": 3.0}},
        n_trials=20,
        directions=["minimize", "minimize"],
        metric_names=["left", "right"],
        seed=5,
    )
    front = result.best_trials
    report = analyze(gnomon.get_client().tuning, result.study)  # type: ignore[attr-defined]
    every = [t.values for t in report.trials if t.values]
    assert front and len(every) == 20
    for member in front:  # no trial is at least as good on both and better on one
        assert not any(
            all(o <= m for o, m in zip(other, member.values, strict=True))
            and other != member.values
            for other in every
        )
    with pytest.raises(InvalidInput, match="Pareto front"):
        _ = result.best
    run = gnomon.get_client().get_run(front[0].run_id)
    assert set(run.metrics) >= {"left", "right"}


def test_a_failing_objective_is_the_users_error(gnomon_home: Path) -> None:
    space = {"x": {"type": "float", "low": -1.0, "high": 1.0}}
    with pytest.raises(UserCodeError, match="ValueError: x must not be negative"):
        gnomon.tune(objectives.fails_on_negative_x, space, n_trials=30, study="fragile", seed=0)
    study = gnomon.get_client().tuning.get_study("fragile")  # type: ignore[attr-defined]
    report = analyze(gnomon.get_client().tuning, study)  # type: ignore[attr-defined]
    failed = [t for t in report.trials if t.state == "FAIL"]
    assert len(failed) == 1
    assert gnomon.get_client().get_run(failed[0].run_id).status == "FAILED"
    caught = gnomon.tune(
        objectives.fails_on_negative_x, space, n_trials=10, catch=(ValueError,), seed=1
    )
    assert caught.states.get("FAIL", 0) + caught.states.get("COMPLETE", 0) == 10


def test_the_best_model_is_registered_with_its_alias(gnomon_home: Path) -> None:
    result = gnomon.tune(
        objectives.fits_a_tree,
        {"depth": {"type": "int", "low": 1, "high": 6}},
        n_trials=4,
        direction="maximize",
        register="cancer",
        alias="staging",
        seed=0,
    )
    version = result.registered
    assert version is not None and version.model_name == "cancer"
    assert gnomon.get_client().registry.get_version("cancer", "staging").version == version.version
    assert version.run_id == result.best.run_id


def test_bad_input_is_named_before_anything_runs(gnomon_home: Path) -> None:
    cases = [
        ({"n_trials": None}, "n_trials, timeout or both"),
        ({"n_trials": 0}, "n_trials must be"),
        ({"sampler": "annealing"}, "sampler must be one of"),
        ({"pruner": "always"}, "pruner must be one of"),
        ({"parallelism": 0}, "parallelism must be"),
        ({"executor": "slurm"}, "executor must be"),
        ({"direction": "sideways"}, "not 'minimize' or 'maximize'"),
        ({"alias": "staging"}, "alias needs register"),
        ({"space": {"x": {"type": "float", "low": "a", "high": 1}}}, "parameter 'x'"),
        ({"space": {"x": {"type": "float", "low": 0, "high": 1}}, "sampler": "grid"}, "grid"),
        ({"study": "a/b"}, "study name"),
        ({"worker_resources": {"CPU": -1}}, "worker_resources"),
    ]
    for change, message in cases:
        arguments = {"space": SPACE, "n_trials": 2} | change
        with pytest.raises(InvalidInput, match=message):
            gnomon.tune(objectives.quadratic, **arguments)
    assert gnomon.get_client().tuning.list_studies() == []  # type: ignore[attr-defined]
    with pytest.raises(NotFound):
        gnomon.get_client().tuning.get_study("never")  # type: ignore[attr-defined]
