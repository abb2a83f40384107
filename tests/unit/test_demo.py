"""``gnomon demo``: real scikit-learn models, tracked through the fluent SDK."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

import gnomon
from gnomon.demo import EXPERIMENT, DemoResult, ModelSpec, model_specs, run_demo
from gnomon.errors import InvalidInput
from gnomon.tracking.entities import RunStatus


@pytest.fixture
def home(gnomon_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh home, for the tests that run a demo of their own."""
    monkeypatch.setenv("GNOMON_CAPTURE_ENVIRONMENT", "false")
    return gnomon_home


@dataclass(frozen=True)
class Shared:
    result: DemoResult
    home: Path
    trained: list[str]
    output: str  # what `gnomon demo --quick` printed


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shared]:
    """One quick demo, served, that the tests only read: each run costs seconds."""
    from gnomon import backends
    from gnomon.tracking import fluent

    home = tmp_path_factory.mktemp("demo") / "home"
    with pytest.MonkeyPatch.context() as env:
        for name in ("GNOMON_URI", "GNOMON_ARTIFACTS", "GNOMON_WORKSPACE", "GNOMON_EXPERIMENT"):
            env.delenv(name, raising=False)
        env.setenv("GNOMON_HOME", str(home))
        env.setenv("GNOMON_CAPTURE_ENVIRONMENT", "false")
        fluent._reset()
        trained: list[str] = []
        results: list[DemoResult] = []

        def recorded(quick: bool, on_trained: Callable[[ModelSpec], None]) -> DemoResult:
            # The command's own run, seen from here. Ray is left out: its executor has tests
            # of its own, and a Ray start costs seconds.
            def both(spec: ModelSpec) -> None:
                trained.append(spec.name)
                on_trained(spec)

            results.append(run_demo(quick, on_trained=both, ray=False))
            return results[-1]

        # The one demo of this module, run as users run it: `gnomon demo --quick`.
        from gnomon.cli.app import app

        env.setattr("gnomon.demo.run_demo", recorded)
        printed = CliRunner(env={"COLUMNS": "200"}).invoke(app, ["demo", "--quick"])
        assert printed.exit_code == 0, printed.output
        yield Shared(results[0], home, trained, printed.stdout)
        fluent._reset()
        backends.close_databases()


@pytest.fixture
def demo(shared: Shared, monkeypatch: pytest.MonkeyPatch) -> DemoResult:
    """The shared demo's result, with the fluent SDK pointed at its home."""
    from gnomon.tracking import fluent

    monkeypatch.setenv("GNOMON_HOME", str(shared.home))
    monkeypatch.setenv("GNOMON_CAPTURE_ENVIRONMENT", "false")
    for name in ("GNOMON_URI", "GNOMON_ARTIFACTS", "GNOMON_WORKSPACE", "GNOMON_EXPERIMENT"):
        monkeypatch.delenv(name, raising=False)
    fluent._reset()
    return shared.result


def test_quick_demo_tracks_one_run_per_model(shared: Shared, demo: DemoResult) -> None:
    result, home, trained = demo, shared.home, shared.trained
    expected = [spec.name for spec in model_specs(quick=True)]
    assert trained == expected == [run.name for run in result.runs]
    for run in result.runs:
        assert run.status is RunStatus.FINISHED
        assert run.tags["dataset"] == "breast_cancer"
        assert run.params["model"] == run.name
        for key in ("accuracy", "f1", "roc_auc"):
            assert 0.8 < run.metrics[key] <= 1.0, (run.name, key)
    assert result.store_uri == f"sqlite:///{home / 'gnomon.db'}"
    assert result.artifact_root == str(home / "artifacts")


def test_best_run_is_the_highest_f1(demo: DemoResult, shared: Shared) -> None:
    result = demo
    assert result.best is not None
    assert result.best.metrics["f1"] == max(run.metrics["f1"] for run in result.runs)


def test_best_model_is_registered_as_production_and_loads_back(
    demo: DemoResult, shared: Shared
) -> None:
    from gnomon.demo import PRODUCTION, REGISTERED_MODEL

    result = demo
    assert result.winner is not None and result.registered is not None
    version = result.registered
    assert (version.model_name, version.aliases) == (REGISTERED_MODEL, [PRODUCTION])
    assert version.run_id == result.winner.id
    # The model loaded by alias is the winner's: the validation accuracy it logged.
    assert result.loaded_accuracy == pytest.approx(result.winner.metrics["accuracy"])
    loaded = gnomon.load_model(f"models:/{REGISTERED_MODEL}@{PRODUCTION}")
    assert loaded.contract is not None
    assert loaded.contract.input_names[0] == "mean radius"


def test_demo_serves_production_and_shows_a_refusal(demo: DemoResult) -> None:
    served = demo.served
    assert served is not None
    assert len(served.answer["predictions"]) == 3 and set(served.answer["predictions"]) <= {0, 1}
    assert served.refusal_status == 422
    problems = {
        (v["column"], v["problem"]) for v in served.refusal["error"]["details"]["violations"]
    }
    assert problems == {("mean radius", "below_minimum"), ("mean texture", "wrong_type")}
    assert served.records == 3  # the refused request predicted nothing, so recorded nothing


def test_every_run_logs_a_loadable_model(demo: DemoResult, shared: Shared) -> None:
    result = demo
    for run in result.runs:
        model = gnomon.load_model(f"runs:/{run.id}/model")
        assert model.spec.source_run_id == run.id
        assert model.contract is not None and len(model.contract.input_names) == 30


def test_boosting_logs_a_learning_curve(demo: DemoResult, shared: Shared) -> None:
    result = demo
    boosting = next(run for run in result.runs if run.name == "gradient-boosting")
    history = gnomon.get_client().get_metric_history(boosting.id, "staged_validation_accuracy")
    assert [point.step for point in history] == list(range(1, 26))


def test_each_run_stores_its_confusion_matrix(demo: DemoResult, shared: Shared) -> None:
    result, home = demo, shared.home
    client = gnomon.get_client()
    run = result.runs[0]
    assert [a.path for a in client.list_artifacts(run.id)] == ["confusion_matrix.json", "model"]
    copy = client.download_artifacts(run.id, "confusion_matrix.json", dst=home / "download")
    matrix = json.loads(copy.read_text())
    assert matrix["labels"] == ["malignant", "benign"]
    assert sum(map(sum, matrix["matrix"])) == 86  # a fifth of the 426 rows left for training


def test_demo_tunes_a_forest_in_parallel_and_registers_the_best(demo: DemoResult) -> None:
    from gnomon.demo_tuning import ALIAS, EXPERIMENT, MODEL_NAME, QUICK_TRIALS

    tuning = demo.tuning
    assert tuning is not None and tuning.trials == {"COMPLETE": QUICK_TRIALS}
    assert 0.8 < tuning.best_f1 <= 1.0 and set(tuning.best_params) >= {"max_depth"}
    client = gnomon.get_client()
    version = client.registry.get_version(MODEL_NAME, ALIAS)
    trial = client.get_run(version.run_id)
    assert trial.metrics["f1"] == pytest.approx(tuning.best_f1)
    study = client.get_run(trial.parent_run_id)
    assert (
        study.name == tuning.study and client.get_experiment(EXPERIMENT).id == study.experiment_id
    )
    # its contract's ranges come from the training data's version, which the trial used
    assert demo.data is not None
    assert [i.ref for i in client.datasets.inputs(trial.id)] == [demo.data.version]
    contract = gnomon.load_model(f"models:/{MODEL_NAME}@{ALIAS}").contract
    assert contract is not None and all(c.minimum is not None for c in contract.inputs)


def test_demo_closes_the_loop_and_rolls_a_bad_candidate_back(demo: DemoResult) -> None:
    from gnomon.demo_loop import DEPLOYMENT, POLICY
    from gnomon.demo_loop_flow import MODEL

    loop = demo.loop
    assert loop is not None
    firing = loop.firing
    assert firing["status"] == "promoted" and firing["gate"]["passed"]
    assert firing["gate"]["production"]["rows"] >= 50  # labelled records judged it too
    assert firing["risk"]["level"] == "medium"
    assert loop.promoted["state"] == "promoted" and loop.rolled_back["state"] == "rolled_back"
    assert [a for a, _ in loop.promoted["decisions"]] == [
        "start", "advance", "advance", "advance", "promote",
    ]  # fmt: skip
    assert "accuracy on outcomes" in loop.rolled_back["decisions"][-1][1]
    assert loop.failed == 0 and loop.requests > 500
    assert 0 < loop.canary_to_rollback_s < loop.drift_to_promotion_s < 240
    client = gnomon.get_client()
    production = client.registry.get_version(MODEL, "production")
    assert f"{MODEL}/{production.version}" == loop.promoted["candidate"]
    arms = client.deployments.get(DEPLOYMENT).routing.arms
    assert [(a.ref, a.weight) for a in arms] == [(f"{MODEL}@production", 100)] or [
        (a.ref, a.weight) for a in arms
    ] == [(loop.promoted["candidate"], 100)]
    assert client.policies.get(POLICY).spec.model == MODEL


def test_demo_command_prints_the_comparison(shared: Shared, demo: DemoResult) -> None:
    output, home = shared.output, shared.home
    for expected in ("logistic-regression", "random-forest", "gradient-boosting", "roc_auc"):
        assert expected in output
    assert "best run by f1:" in output
    assert str(home / "gnomon.db") in output
    assert str(home / "artifacts") in output
    assert "verdict: " in output and "production: " in output
    assert "tuned a random forest in parallel" in output
    assert "closed loop: drifted traffic" in output and "promote: promoted" in output
    runs = gnomon.get_client().search_runs(EXPERIMENT)
    assert len(runs) == 4  # three models and the evaluation of the best against the next


def test_demo_command_refuses_a_workspace_the_fluent_sdk_would_not_use(home: Path) -> None:
    from gnomon.cli.app import app

    result = CliRunner().invoke(app, ["--workspace", "team-a", "demo", "--quick"])
    assert result.exit_code == 1
    assert "set GNOMON_WORKSPACE=team-a" in result.stderr


def test_missing_scikit_learn_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sklearn", None)  # makes `import sklearn` fail
    with pytest.raises(InvalidInput, match=r"pip install 'gnomon\[sklearn\]'"):
        run_demo(quick=True)


def test_demo_runs_a_canary_of_the_runner_up(demo: DemoResult, shared: Shared) -> None:
    result = demo
    assert result.served is not None and result.served.canary is not None
    canary = result.served.canary
    production = result.registered
    assert production is not None and canary.version == production.version + 1
    assert set(canary.answered_by) == {production.version, canary.version}
    assert sum(canary.answered_by.values()) == canary.requests == 200
    # 25% of 200: five standard deviations either side (about 6.1 each).
    assert 20 <= canary.answered_by[canary.version] <= 80
    # Every answer was recorded under the role that gave it.
    assert canary.recorded == {
        f"primary v{production.version}": canary.answered_by[production.version],
        f"canary v{canary.version}": canary.answered_by[canary.version],
    }
    status = gnomon.get_client().deployments.get(result.served.deployment)
    assert status.routing.candidate is not None and status.routing.candidate.weight == 25


def test_demo_autologs_each_fit_and_undoes_the_patches(demo: DemoResult, shared: Shared) -> None:
    from sklearn.ensemble import RandomForestClassifier

    result = demo
    forest = next(run for run in result.runs if run.name == "random-forest")
    assert forest.tags["training.rows"] == "340"  # 569 rows less the test and validation
    assert forest.tags["training.columns"] == "30"
    assert forest.params["n_estimators"] == "25"
    assert 0.9 < forest.metrics["training_accuracy"] <= 1.0
    # The demo switched autologging off again: a fit now logs nothing.
    assert not getattr(RandomForestClassifier.fit, "__gnomon_autolog__", False)


def test_demo_evaluates_the_best_against_the_runner_up(demo: DemoResult, shared: Shared) -> None:
    result = demo
    evaluation, best = result.evaluation, result.best
    assert evaluation is not None and best is not None and evaluation.verdict is not None
    ranked = sorted(result.runs, key=lambda run: (run.metrics["f1"], run.start_time), reverse=True)
    assert best.id == ranked[0].id  # chosen on the validation split
    run = gnomon.get_client().get_run(evaluation.run_id)
    assert (run.tags["demo.candidate"], run.tags["demo.baseline"]) == (best.id, ranked[1].id)
    assert evaluation.rows == 143  # the held-out quarter, never used to choose
    # The verdict follows the test F1 of each, and the gate follows the verdict.
    baseline = evaluation.baseline_metrics
    assert baseline is not None
    held_up = evaluation.metrics["f1"] >= baseline["f1"]
    assert evaluation.verdict.passed == held_up
    assert result.winner is not None
    assert result.winner.id == (best.id if held_up else ranked[1].id)
    assert result.registered is not None and result.registered.run_id == result.winner.id
    assert evaluation.segments is not None
    assert set(evaluation.segments["radius_band"]) == {"small", "medium", "large"}
    plots = [p for p in evaluation.artifacts.values() if p.endswith(".png")]
    assert "evaluation/confusion_matrix.png" in plots
    copy = gnomon.get_client().download_artifacts(run.id, plots[0], dst=shared.home / "plots")
    assert copy.read_bytes().startswith(b"\x89PNG")


def test_demo_versions_profiles_and_checks_its_data(demo: DemoResult, shared: Shared) -> None:
    from gnomon.demo import DATASET, PLANTED_COLUMN

    result = demo
    data = result.data
    assert data is not None and data.version == f"{DATASET}@1"
    datasets = gnomon.get_client().datasets
    assert datasets.schema(DATASET).column(PLANTED_COLUMN).type == "float"
    for run in result.runs:  # every run points to the data version it was trained on
        assert [(i.ref, i.context) for i in datasets.inputs(run.id)] == [(data.version, "training")]
    # the demo's runs, and the pipeline's train steps (docs/pipelines.md)
    assert {r.run_id for r in datasets.used_by(data.version).runs} >= {r.id for r in result.runs}
    planted = [
        a
        for a in data.batch_report.anomalies
        if (a.kind, a.column) == ("out_of_range", PLANTED_COLUMN)
    ]
    assert planted and planted[0].count >= 5
    page = Path(data.profile_path).read_text()
    assert "<svg" in page and PLANTED_COLUMN in page


def test_the_training_runs_as_a_pipeline_twice_the_second_time_from_the_cache(
    demo: DemoResult,
) -> None:
    flows = demo.pipelines
    assert flows is not None
    assert flows.first.counts == {"succeeded": 5}
    assert flows.cached.counts == {"cached": 5}
    assert flows.gate["passed"] is True
    assert flows.registered == "model:demo-pipeline-classifier/1"
    assert flows.lineage is not None
    ids = {node.id for node in flows.lineage.nodes}
    assert demo.data is not None and f"dataset:{demo.data.version}" in ids
    steps = {node.label for node in flows.lineage.nodes if node.kind == "step"}
    assert {"register", "evaluate", "train", "split", "load"} <= steps
    assert flows.on_ray is None
