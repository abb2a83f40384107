"""``gnomon demo``: train a few scikit-learn models on a bundled dataset, one tracked run each.

Everything goes through the public fluent SDK, so the demo doubles as an example of it.
scikit-learn is imported inside the functions: it is an optional extra and slow to import.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gnomon
from gnomon.errors import InvalidInput
from gnomon.registry.entities import ModelVersion
from gnomon.tracking.entities import Run

EXPERIMENT = "demo"
REGISTERED_MODEL = "demo-classifier"
PRODUCTION = "production"
BATCH_TAG = "demo.batch"  # marks the runs of one `gnomon demo`, to pick the best among them
_TEST_SIZE = 0.25
_DATA_REF = "sklearn.datasets.load_breast_cancer"
_SEED = 42


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """One model to train: ``build`` turns ``params`` into an unfitted estimator."""

    name: str
    family: str
    params: dict[str, Any]
    build: Callable[[dict[str, Any]], Any]


@dataclass(frozen=True, slots=True)
class DemoResult:
    runs: list[Run]
    best: Run | None
    store_uri: str
    artifact_root: str
    registered: ModelVersion | None = None
    # Accuracy of the model loaded back by alias on the test split (equals the run's).
    loaded_accuracy: float | None = None
    served: ServingDemo | None = None


@dataclass(frozen=True, slots=True)
class ServingDemo:
    """What serving the production model showed: an answer, a refusal, the records."""

    url: str
    answer: dict[str, Any]
    refusal_status: int
    refusal: dict[str, Any]
    records: int


@dataclass(frozen=True, slots=True)
class _Split:
    x_train: Any
    x_test: Any
    y_train: Any
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
) -> DemoResult:
    """Train every model of :func:`model_specs`, each as a run of experiment ``demo``.

    Args:
        quick: train fewer and smaller models.
        on_trained: called after each model's run has ended (drives a progress bar).

    Raises:
        InvalidInput: scikit-learn is not installed.
    """
    _require_sklearn()
    split = _load_split()
    gnomon.set_experiment(EXPERIMENT)
    batch = uuid.uuid4().hex
    run_ids = []
    for spec in model_specs(quick):
        run_ids.append(_train(spec, split, batch))
        if on_trained is not None:
            on_trained(spec)
    client = gnomon.get_client()
    found = client.search_runs(
        EXPERIMENT,
        filter=f"tags.`{BATCH_TAG}` = '{batch}'",
        order_by=["metrics.f1 DESC"],
        max_results=1,
    )
    best = found.items[0] if found.items else None
    registered, accuracy = _promote(best, split) if best is not None else (None, None)
    served = _serve(split) if registered is not None and serve else None
    return DemoResult(
        runs=[client.get_run(run_id) for run_id in run_ids],
        best=best,
        store_uri=client.settings.store_uri,
        artifact_root=client.settings.artifact_root,
        registered=registered,
        loaded_accuracy=accuracy,
        served=served,
    )


def _promote(best: Run, split: _Split) -> tuple[ModelVersion, float]:
    """Register the best run's model as production, then load it back by that alias."""
    from sklearn.metrics import accuracy_score

    version = gnomon.register_model(
        f"runs:/{best.id}/model",
        REGISTERED_MODEL,
        alias=PRODUCTION,
        description=f"best of a demo batch by f1 ({best.name})",
    )
    loaded = gnomon.load_model(f"models:/{REGISTERED_MODEL}@{PRODUCTION}")
    return version, float(accuracy_score(split.y_test, loaded.predict(split.x_test)))


def _serve(split: _Split) -> ServingDemo:
    """Serve the production model on a real local server; send a good and a bad request."""
    import tempfile

    import httpx

    from gnomon.artifacts import LocalArtifactStore
    from gnomon.serving.app import ServedModel, create_serving_app
    from gnomon.serving.local import run_in_thread
    from gnomon.serving.records import RecordWriter, read_records

    uri = f"models:/{REGISTERED_MODEL}@{PRODUCTION}"
    version = gnomon.get_client().registry.get_version(REGISTERED_MODEL, PRODUCTION)
    served = ServedModel(gnomon.load_model(uri), REGISTERED_MODEL, version.version, uri, "demo")
    good = split.x_test.head(3).to_dict(orient="records")
    bad = [{**good[0], "mean radius": -5.0}, {**good[1], "mean texture": "rough"}]
    with tempfile.TemporaryDirectory(prefix="gnomon-demo-serving-") as tmp:
        store = LocalArtifactStore(tmp)
        app = create_serving_app(served, RecordWriter(store, interval=30))
        with run_in_thread(app) as url:
            answer = httpx.post(f"{url}/predict", json={"records": good}).json()
            refused = httpx.post(f"{url}/predict", json={"records": bad})
        recorded = len(read_records(store))  # the server wrote them on shutdown
    return ServingDemo(url, answer, refused.status_code, refused.json(), recorded)


def _require_sklearn() -> None:
    try:
        import sklearn  # noqa: F401
    except ImportError:
        raise InvalidInput("the demo needs scikit-learn: pip install 'gnomon[sklearn]'") from None


def _load_split() -> _Split:
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split

    data = load_breast_cancer(as_frame=True)  # named columns make a readable contract
    x_train, x_test, y_train, y_test = train_test_split(
        data.data, data.target, test_size=_TEST_SIZE, random_state=_SEED, stratify=data.target
    )
    return _Split(x_train, x_test, y_train, y_test, [str(n) for n in data.target_names])


def _train(spec: ModelSpec, split: _Split, batch: str) -> str:
    with gnomon.start_run(name=spec.name) as run:
        gnomon.set_tag("dataset", "breast_cancer")
        gnomon.set_tag("model_family", spec.family)
        gnomon.set_tag(BATCH_TAG, batch)
        gnomon.log_params({"model": spec.name, **spec.params, "test_size": _TEST_SIZE})
        model = spec.build(spec.params)
        model.fit(split.x_train, split.y_train)
        _log_staged_accuracy(model, split)
        gnomon.log_metrics(_scores(model, split))
        gnomon.log_text(_confusion_json(model, split), "confusion_matrix.json")
        gnomon.log_model(model, "model", input_example=split.x_train, training_data=_DATA_REF)
    return run.id


def _log_staged_accuracy(model: Any, split: _Split) -> None:
    # Boosting builds its prediction one tree at a time: log test accuracy after each, so the
    # run carries a learning curve (one metric point per step).
    if not hasattr(model, "staged_predict"):
        return
    from sklearn.metrics import accuracy_score

    for step, predicted in enumerate(model.staged_predict(split.x_test), start=1):
        gnomon.log_metric("staged_test_accuracy", accuracy_score(split.y_test, predicted), step)


def _scores(model: Any, split: _Split) -> dict[str, float]:
    from sklearn.metrics import accuracy_score, f1_score, roc_auc_score

    predicted = model.predict(split.x_test)
    # ROC AUC needs a score, not a label; SVC has no predict_proba unless asked to calibrate.
    if hasattr(model, "predict_proba"):
        score = model.predict_proba(split.x_test)[:, 1]
    else:
        score = model.decision_function(split.x_test)
    return {
        "accuracy": float(accuracy_score(split.y_test, predicted)),
        "f1": float(f1_score(split.y_test, predicted)),
        "roc_auc": float(roc_auc_score(split.y_test, score)),
    }


def _confusion_json(model: Any, split: _Split) -> str:
    from sklearn.metrics import confusion_matrix

    matrix = confusion_matrix(split.y_test, model.predict(split.x_test))
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
