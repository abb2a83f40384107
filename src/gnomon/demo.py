"""``gnomon demo``: train a few scikit-learn models on a bundled dataset, one tracked run each.

Everything goes through the public fluent SDK, so the demo doubles as an example of it: the
training data is versioned as a dataset (its schema inferred, a profile written) and every
run records that version as its input; a second batch with a planted anomaly is validated
against the schema; autologging records each fit (params, training metrics, the data's
shape and digest and the model), the models are ranked on a validation split, the best
is evaluated against the runner-up on a held-out test split with plots and a verdict, and
the verdict's winner is registered and served. scikit-learn is imported inside the
functions: it is an optional extra and slow to import.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import gnomon
from gnomon.errors import InvalidInput
from gnomon.registry.entities import ModelVersion
from gnomon.tracking.entities import Run

if TYPE_CHECKING:
    from gnomon.data.validation import ValidationReport
    from gnomon.demo_features import FeatureDemo
    from gnomon.demo_loop import LoopDemo
    from gnomon.demo_monitor import MonitorDemo
    from gnomon.demo_pipeline import PipelineDemo
    from gnomon.demo_tuning import TuningDemo
    from gnomon.evaluation import EvaluationResult

EXPERIMENT = "demo"
REGISTERED_MODEL = "demo-classifier"
PRODUCTION = "production"
DEPLOYMENT = "demo-classifier-api"
_CANARY_WEIGHT = 25
BATCH_TAG = "demo.batch"  # marks the runs of one `gnomon demo`, to pick the best among them
_TEST_SIZE = 0.25  # held out for the evaluation: never seen while choosing the best model
_VALIDATION_SIZE = 0.2  # of the rest: what the models are ranked on
_SEED = 42
# The verdict the demo asks of the best model: at least as good as the runner-up on F1.
THRESHOLDS = {"f1": {"min_delta": 0.0}}
SEGMENT = "radius_band"  # the test rows by tumour size: is the best model best for each?
DATASET = "demo-breast-cancer"
PLANTED_COLUMN = "mean radius"  # the second batch's anomaly: radii in micrometres, not mm


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """One model to train: ``build`` turns ``params`` into an unfitted estimator."""

    name: str
    family: str
    params: dict[str, Any]
    build: Callable[[dict[str, Any]], Any]


@dataclass(frozen=True, slots=True)
class DataDemo:
    """The training data as a dataset version, its profile, and a second batch checked."""

    version: str  # "demo-breast-cancer@1"
    rows: int
    columns: int
    profile_path: str  # the HTML report, under GNOMON_HOME
    batch_report: ValidationReport  # the planted batch against the dataset's schema


@dataclass(frozen=True, slots=True)
class DemoResult:
    runs: list[Run]
    best: Run | None  # by F1 on the validation split
    store_uri: str
    artifact_root: str
    registered: ModelVersion | None = None
    # Accuracy of the model loaded back by alias on the test split (equals the run's).
    loaded_accuracy: float | None = None
    served: ServingDemo | None = None
    evaluation: EvaluationResult | None = None
    winner: Run | None = None  # what the evaluation's verdict sent to production
    data: DataDemo | None = None
    pipelines: PipelineDemo | None = None  # the training as a pipeline: cached, lineage, Ray
    features: FeatureDemo | None = None  # a feature view, a training frame, answers by id
    tuning: TuningDemo | None = None  # a forest tuned in parallel, the best registered
    loop: LoopDemo | None = None  # drift → retraining → gate → canary → promotion; a rollback


@dataclass(frozen=True, slots=True)
class ServingDemo:
    """What serving the production model showed: an answer, a refusal, the records, and a
    canary of the runner-up taking a share of the traffic."""

    url: str
    deployment: str
    answer: dict[str, Any]
    refusal_status: int
    refusal: dict[str, Any]
    records: int  # records of the first (good) request
    canary: CanaryDemo | None = None
    monitoring: MonitorDemo | None = None


@dataclass(frozen=True, slots=True)
class CanaryDemo:
    version: int
    run_name: str
    weight: int
    requests: int
    answered_by: dict[int, int]  # model version -> requests it answered
    recorded: dict[str, int]  # "role version" -> prediction records written


@dataclass(frozen=True, slots=True)
class _Split:
    x_train: Any
    x_valid: Any
    x_test: Any
    y_train: Any
    y_valid: Any
    y_test: Any
    labels: list[str]


def model_specs(quick: bool = False) -> list[ModelSpec]:
    """The models the demo trains; ``quick`` trains three small ones (for tests)."""
    trees = 25 if quick else 200
    boosting = 25 if quick else 150
    specs = [
        ModelSpec("logistic-regression", "linear", {"C": 1.0, "max_iter": 1000}, _logistic),
        ModelSpec(
            "random-forest", "ensemble", {"n_estimators": trees, "max_depth": 8}, _random_forest
        ),
        ModelSpec(
            "gradient-boosting",
            "ensemble",
            {"n_estimators": boosting, "learning_rate": 0.1, "max_depth": 3},
            _gradient_boosting,
        ),
        ModelSpec("knn", "neighbors", {"n_neighbors": 7}, _knn),
        ModelSpec("svc", "kernel", {"C": 1.0, "kernel": "rbf"}, _svc),
    ]
    return specs[:3] if quick else specs


def run_demo(
    quick: bool = False,
    on_trained: Callable[[ModelSpec], None] | None = None,
    serve: bool = True,
    pipelines: bool = True,
    ray: bool = True,
    tune: bool = True,
    loop: bool = True,
) -> DemoResult:
    """Train every model of :func:`model_specs`, each as a run of experiment ``demo``.

    Args:
        quick: train fewer and smaller models.
        on_trained: called after each model's run has ended (drives a progress bar).
        pipelines: also run the training as a pipeline (twice, then on Ray if ``ray``).
        tune: also tune a random forest in parallel (a minute; seconds when ``quick``).
        loop: also close the loop: drift, retraining, gate, canary, promotion, a rollback
            (half a minute).

    Raises:
        InvalidInput: scikit-learn is not installed.
    """
    _require_sklearn()
    split = _load_split()
    data = _version_data(split)
    gnomon.set_experiment(EXPERIMENT)
    batch = uuid.uuid4().hex
    run_ids = []
    gnomon.autolog("sklearn")
    try:
        for spec in model_specs(quick):
            run_ids.append(_train(spec, split, batch, data.version))
            if on_trained is not None:
                on_trained(spec)
    finally:
        gnomon.autolog("sklearn", disable=True)
    client = gnomon.get_client()
    ranked = client.search_runs(
        EXPERIMENT,
        filter=f"tags.`{BATCH_TAG}` = '{batch}'",
        order_by=["metrics.f1 DESC"],
        max_results=2,
    ).items
    best = ranked[0] if ranked else None
    runner_up = ranked[1] if len(ranked) > 1 else None
    evaluation = _evaluate(best, runner_up, split) if best and runner_up else None
    # The gate: the best on validation goes to production if it holds up on the test split
    # against the runner-up; otherwise the runner-up does. The other one gets the canary.
    winner, other = best, runner_up
    if evaluation is not None and evaluation.verdict is not None and not evaluation.verdict.passed:
        winner, other = runner_up, best
    registered, accuracy = _promote(winner, split) if winner is not None else (None, None)
    served = _serve(split, other) if registered is not None and serve else None
    features = None
    if registered is not None and serve:
        from gnomon.demo_features import run_features

        measures = split.x_test.reset_index(drop=True)
        features = run_features(measures, f"models:/{REGISTERED_MODEL}@{PRODUCTION}")
    tuning = None
    if tune:
        from gnomon.demo_tuning import run_tuning

        tuning = run_tuning(
            split.x_train, split.y_train, split.x_valid, split.y_valid, data.version, quick
        )
    closed = None
    if loop and serve:
        from gnomon.demo_loop import run_loop

        closed = run_loop(split)
    flows = None
    if pipelines:
        from gnomon.demo_pipeline import run_pipelines

        flows = run_pipelines(data.version, ray=ray)
    return DemoResult(
        runs=[client.get_run(run_id) for run_id in run_ids],
        best=best,
        winner=winner,
        store_uri=client.settings.store_uri,
        artifact_root=client.settings.artifact_root,
        registered=registered,
        loaded_accuracy=accuracy,
        served=served,
        evaluation=evaluation,
        data=data,
        pipelines=flows,
        features=features,
        tuning=tuning,
        loop=closed,
    )


def _version_data(split: _Split) -> DataDemo:
    """The training rows as a dataset version (schema inferred), its profile as HTML, and a
    second batch with a planted anomaly validated against the schema."""
    from pathlib import Path

    client = gnomon.get_client()
    train = split.x_train.assign(target=split.y_train)
    version = gnomon.log_dataset(train, DATASET, message="training split").ref
    report = Path(client.settings.home) / "demo" / "profile.html"
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(client.datasets.profile_html(version), encoding="utf-8")
    second = split.x_test.assign(target=split.y_test)
    planted = second.head(5).index
    second.loc[planted, PLANTED_COLUMN] = second.loc[planted, PLANTED_COLUMN] * 1000
    checked = client.datasets.validate(DATASET, second)
    return DataDemo(version, len(train), train.shape[1], str(report), checked)


def _evaluate(best: Run, runner_up: Run, split: _Split) -> EvaluationResult:
    """The best model against the runner-up on the held-out test split, in a run of its own:
    metrics side by side, per tumour-size band, the plots, and the verdict of ``THRESHOLDS``."""
    import pandas as pd

    test = split.x_test.assign(target=split.y_test.to_numpy())
    bands = pd.qcut(test["mean radius"], 3, labels=["small", "medium", "large"])
    test[SEGMENT] = bands.astype(str)
    tags = {"demo.candidate": best.id, "demo.baseline": runner_up.id}
    with gnomon.start_run(name=f"evaluate {best.name} vs {runner_up.name}", tags=tags):
        return gnomon.evaluate(
            f"runs:/{best.id}/model",
            test,
            "target",
            model_type="classifier",
            baseline=f"runs:/{runner_up.id}/model",
            thresholds=THRESHOLDS,
            segment_by=SEGMENT,
        )


def _promote(best: Run, split: _Split) -> tuple[ModelVersion, float]:
    """Register the run's model as production, then load it back by that alias: its
    validation accuracy must equal the one the run logged."""
    from sklearn.metrics import accuracy_score

    version = gnomon.register_model(
        f"runs:/{best.id}/model",
        REGISTERED_MODEL,
        alias=PRODUCTION,
        description=f"winner of a demo batch's evaluation ({best.name})",
    )
    loaded = gnomon.load_model(f"models:/{REGISTERED_MODEL}@{PRODUCTION}")
    return version, float(accuracy_score(split.y_valid, loaded.predict(split.x_valid)))


def _serve(split: _Split, runner_up: Run | None) -> ServingDemo:
    """Serve the production model through a deployment on a real local server; send a good
    and a bad request; then start a canary of the other model and show the split."""
    import httpx

    from gnomon._types import now_ms
    from gnomon.config import Settings
    from gnomon.demo_monitor import send, watch
    from gnomon.serving.loading import ServeOptions, build_app
    from gnomon.serving.local import run_in_thread

    client = gnomon.get_client()
    _reset_deployment(client)
    started = now_ms()
    good = split.x_test.head(3).to_dict(orient="records")
    bad = [{**good[0], "mean radius": -5.0}, {**good[1], "mean texture": "rough"}]
    rows = split.x_train.to_dict(orient="records")  # all inside the contract
    canary = None
    options = ServeOptions(deployment=DEPLOYMENT, poll_seconds=0.2)
    with run_in_thread(build_app(options, Settings())) as url, httpx.Client() as http:
        answer = http.post(f"{url}/predict", json={"records": good}).json()
        refused = http.post(f"{url}/predict", json={"records": bad})
        if runner_up is not None:
            version = gnomon.register_model(
                f"runs:/{runner_up.id}/model",
                REGISTERED_MODEL,
                description=f"challenger of a demo batch ({runner_up.name})",
            )
            changed = client.deployments.set_route(
                DEPLOYMENT, f"{REGISTERED_MODEL}/{version.version}", canary=_CANARY_WEIGHT
            )
            _wait_for_revision(http, url, changed.revision)
            sent = [http.post(f"{url}/predict", json=rows[i % len(rows)]) for i in range(200)]
            answered = [r.json()["model_version"] for r in sent]
            canary_ids = {r.json()["request_id"] for r in sent}
            canary = (version.version, runner_up.name, answered, canary_ids)
        # Then the population changes: calm held-out tumours, then only the largest ones.
        calm, drifted = _traffic(split)
        outcomes = send(http, url, *calm) | send(http, url, *drifted)
    # The server wrote every record on shutdown.
    records = client.deployments.records(DEPLOYMENT, with_outcomes=False)
    first = int((records["request_id"].str.split(":").str[0] == answer["request_id"]).sum())
    shown = None
    if canary is not None:
        version_number, name, answered, ids = canary
        ours = records[records["request_id"].isin(ids)]
        recorded = ours.groupby(["role", "model_version"]).size()
        shown = CanaryDemo(
            version=version_number,
            run_name=name,
            weight=_CANARY_WEIGHT,
            requests=len(answered),
            answered_by={v: answered.count(v) for v in sorted(set(answered))},
            recorded={f"{role} v{v}": int(n) for (role, v), n in recorded.items()},
        )
    watched = watch(DEPLOYMENT, outcomes, started)
    return ServingDemo(
        url, DEPLOYMENT, answer, refused.status_code, refused.json(), first, shown, watched
    )


def _traffic(split: _Split) -> tuple[tuple[Any, Any], tuple[Any, Any]]:
    """(rows, labels) of calm traffic (held-out tumours as they come) and drifted traffic
    (the held-out and validation tumours with the largest radii, 200 requests)."""
    import pandas as pd

    calm = (split.x_test, split.y_test)
    pool = pd.concat([split.x_valid, split.x_test])
    labels = pd.concat([split.y_valid, split.y_test])
    largest = pool[PLANTED_COLUMN].rank(pct=True) > 0.6
    rows, truth = pool[largest], labels[largest]
    repeat = [i % len(rows) for i in range(200)]
    return calm, (rows.iloc[repeat], truth.iloc[repeat])


def _reset_deployment(client: Any) -> None:
    """The demo's deployment serving production alone, whatever an earlier demo left."""
    from gnomon.errors import NotFound

    production = f"{REGISTERED_MODEL}@{PRODUCTION}"
    try:
        current = client.deployments.get(DEPLOYMENT)
    except NotFound:
        client.deployments.create(DEPLOYMENT, production, description="gnomon demo")
        return
    arms = current.routing.arms
    if len(arms) != 1 or arms[0].ref != production:
        client.deployments.set_route(DEPLOYMENT, production, note="gnomon demo: reset")


def _wait_for_revision(http: Any, url: str, revision: int) -> None:
    import time

    deadline = time.monotonic() + 30
    while http.get(f"{url}/schema").json()["revision"] < revision:
        if time.monotonic() > deadline:
            raise InvalidInput(f"the demo server did not pick up revision {revision}")
        time.sleep(0.05)


def _require_sklearn() -> None:
    try:
        import sklearn  # noqa: F401
    except ImportError:
        raise InvalidInput("the demo needs scikit-learn: pip install 'gnomon[sklearn]'") from None


def _load_split() -> _Split:
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split

    data = load_breast_cancer(as_frame=True)  # named columns make a readable contract
    x_rest, x_test, y_rest, y_test = train_test_split(
        data.data, data.target, test_size=_TEST_SIZE, random_state=_SEED, stratify=data.target
    )
    x_train, x_valid, y_train, y_valid = train_test_split(
        x_rest, y_rest, test_size=_VALIDATION_SIZE, random_state=_SEED, stratify=y_rest
    )
    labels = [str(n) for n in data.target_names]
    return _Split(x_train, x_valid, x_test, y_train, y_valid, y_test, labels)


def _train(spec: ModelSpec, split: _Split, batch: str, data: str) -> str:
    # Autologging records the fit: every param, training metrics, the training data's shape
    # and digest, and the model with its contract. The run adds what it is scored on, and
    # the dataset version it was trained on (lineage: `gnomon data used-by`).
    with gnomon.start_run(name=spec.name) as run:
        gnomon.log_input(data, context="training")
        gnomon.set_tag("dataset", "breast_cancer")
        gnomon.set_tag("model_family", spec.family)
        gnomon.set_tag(BATCH_TAG, batch)
        # The chosen hyperparameters by their own names (a pipeline's are autologged prefixed).
        gnomon.log_params({"model": spec.name, **spec.params, "test_size": _TEST_SIZE})
        model = spec.build(spec.params)
        model.fit(split.x_train, split.y_train)
        _log_staged_accuracy(model, split)
        gnomon.log_metrics(_scores(model, split))
        gnomon.log_text(_confusion_json(model, split), "confusion_matrix.json")
    return run.id


def _log_staged_accuracy(model: Any, split: _Split) -> None:
    # Boosting builds its prediction one tree at a time: log test accuracy after each, so the
    # run carries a learning curve (one metric point per step).
    if not hasattr(model, "staged_predict"):
        return
    from sklearn.metrics import accuracy_score

    for step, predicted in enumerate(model.staged_predict(split.x_valid), start=1):
        accuracy = accuracy_score(split.y_valid, predicted)
        gnomon.log_metric("staged_validation_accuracy", accuracy, step)


def _scores(model: Any, split: _Split) -> dict[str, float]:
    from sklearn.metrics import accuracy_score, f1_score, roc_auc_score

    predicted = model.predict(split.x_valid)
    # ROC AUC needs a score, not a label; SVC has no predict_proba unless asked to calibrate.
    if hasattr(model, "predict_proba"):
        score = model.predict_proba(split.x_valid)[:, 1]
    else:
        score = model.decision_function(split.x_valid)
    return {
        "accuracy": float(accuracy_score(split.y_valid, predicted)),
        "f1": float(f1_score(split.y_valid, predicted)),
        "roc_auc": float(roc_auc_score(split.y_valid, score)),
    }


def _confusion_json(model: Any, split: _Split) -> str:
    from sklearn.metrics import confusion_matrix

    matrix = confusion_matrix(split.y_valid, model.predict(split.x_valid))
    return json.dumps({"labels": split.labels, "matrix": matrix.tolist()}, indent=2)


# -- model builders: one per spec, importing only what it needs ------------------------------


def _scaled(estimator: Any) -> Any:
    # Distance- and gradient-based models need standardised features to converge and compare.
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), estimator)


def _logistic(params: dict[str, Any]) -> Any:
    from sklearn.linear_model import LogisticRegression

    return _scaled(LogisticRegression(**params))


def _random_forest(params: dict[str, Any]) -> Any:
    from sklearn.ensemble import RandomForestClassifier

    return RandomForestClassifier(**params, random_state=_SEED)


def _gradient_boosting(params: dict[str, Any]) -> Any:
    from sklearn.ensemble import GradientBoostingClassifier

    return GradientBoostingClassifier(**params, random_state=_SEED)


def _knn(params: dict[str, Any]) -> Any:
    from sklearn.neighbors import KNeighborsClassifier

    return _scaled(KNeighborsClassifier(**params))


def _svc(params: dict[str, Any]) -> Any:
    from sklearn.svm import SVC

    return _scaled(SVC(**params))
