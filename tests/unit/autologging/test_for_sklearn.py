"""scikit-learn autologging on embedded SQLite: what a fit logs, pipelines, search CVs with
child runs, reverting, and that neither gnomon's failures nor the user's change the fit."""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from joblib import parallel_config
from sklearn import metrics as m
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.datasets import load_diabetes, load_iris
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import GridSearchCV, LeaveOneOut
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from sklearn.tree import DecisionTreeClassifier
from sklearn.utils.parallel import Parallel

import gnomon
from gnomon.autologging.redaction import is_secret
from gnomon.autologging.session import dataset_tags
from gnomon.tracking.entities import RunStatus
from tests.unit.autologging.runs import only_run, runs


@pytest.fixture
def autologged(gnomon_home: Path) -> Iterator[None]:
    gnomon.autolog("sklearn")
    yield
    gnomon.autolog("sklearn", disable=True)


@pytest.fixture(scope="module")
def iris() -> tuple[pd.DataFrame, pd.Series]:
    x, y = load_iris(return_X_y=True, as_frame=True)
    return x, y


def test_a_fit_logs_params_metrics_data_and_the_model(autologged: None, iris: Any) -> None:
    x, y = iris
    model = LogisticRegression(C=0.5, max_iter=1000).fit(x, y)
    run = only_run()
    assert (run.name, run.status) == ("LogisticRegression", RunStatus.FINISHED)
    assert run.params["C"] == "0.5" and run.params["max_iter"] == "1000"
    assert run.tags["estimator_name"] == "LogisticRegression"
    assert run.tags["gnomon.autolog"] == "sklearn"
    assert run.tags["training.rows"] == "150" and run.tags["training.columns"] == "4"
    assert run.tags["training.digest"] == dataset_tags(x)["training.digest"]

    predicted, proba = model.predict(x), model.predict_proba(x)
    expected = {
        "training_accuracy": m.accuracy_score(y, predicted),
        "training_precision": m.precision_score(y, predicted, average="weighted"),
        "training_recall": m.recall_score(y, predicted, average="weighted"),
        "training_f1": m.f1_score(y, predicted, average="weighted"),
        "training_log_loss": m.log_loss(y, proba),
        "training_roc_auc": m.roc_auc_score(y, proba, multi_class="ovr", average="weighted"),
        "training_score": model.score(x, y),
    }
    assert run.metrics == pytest.approx(expected)

    loaded = gnomon.load_model(f"runs:/{run.id}/model")
    np.testing.assert_array_equal(loaded.predict(x), predicted)
    assert loaded.contract is not None
    digest = run.tags["training.digest"]
    assert loaded.spec.training_data == f"150 rows x 4 columns, sha256 {digest}"


def test_two_classes_score_class_1_and_weights_count(autologged: None, iris: Any) -> None:
    x, y = iris
    binary = (y == 1).astype(int)
    weight = np.where(binary == 1, 3.0, 1.0)
    model = LogisticRegression(max_iter=1000).fit(x, binary, sample_weight=weight)
    predicted, proba = model.predict(x), model.predict_proba(x)[:, 1]
    metrics = only_run().metrics
    assert metrics["training_precision"] == pytest.approx(
        m.precision_score(binary, predicted, sample_weight=weight)
    )
    assert metrics["training_roc_auc"] == pytest.approx(
        m.roc_auc_score(binary, proba, sample_weight=weight)
    )
    assert metrics["training_accuracy"] != pytest.approx(m.accuracy_score(binary, predicted))


def test_a_regressor_logs_weighted_errors(autologged: None) -> None:
    x, y = load_diabetes(return_X_y=True)
    x, y = x[:200], y[:200]
    weight = np.linspace(0.1, 2.0, len(y))
    model = Ridge(alpha=0.1).fit(x, y, weight)  # sample_weight by position
    predicted = model.predict(x)
    mse = m.mean_squared_error(y, predicted, sample_weight=weight)
    assert only_run().metrics == pytest.approx(
        {
            "training_mse": mse,
            "training_rmse": math.sqrt(mse),
            "training_mae": m.mean_absolute_error(y, predicted, sample_weight=weight),
            "training_r2": m.r2_score(y, predicted, sample_weight=weight),
            "training_score": model.score(x, y, sample_weight=weight),
        }
    )
    assert only_run().metrics["training_mse"] != pytest.approx(m.mean_squared_error(y, predicted))


def test_a_pipeline_is_one_run(autologged: None, iris: Any) -> None:
    x, y = iris
    pipeline = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(x, y)
    run = only_run()
    assert run.name == "Pipeline"
    assert run.params["standardscaler"] == "StandardScaler()"
    assert run.params["logisticregression__C"] == "1.0"
    assert run.params["steps"] == (
        "[('standardscaler', StandardScaler()), ('logisticregression', LogisticRegression())]"
    )
    assert run.metrics["training_accuracy"] == pytest.approx(pipeline.score(x, y))
    # fit_transform sits behind available_if: patched, it is still there only when it works.
    assert not hasattr(pipeline, "fit_transform")
    make_pipeline(StandardScaler(), PCA(2)).fit_transform(x)
    assert [r.name for r in runs()] == ["Pipeline", "Pipeline"]  # not one per step


def test_a_search_logs_its_best_and_a_child_run_per_candidate(gnomon_home: Path, iris: Any) -> None:
    x, y = iris
    gnomon.autolog("sklearn", max_tuning_runs=2)
    try:
        grid = {"max_depth": [1, 2, 3]}
        tree = DecisionTreeClassifier(random_state=0)
        search = GridSearchCV(tree, grid, cv=3).fit(x, y)
    finally:
        gnomon.autolog("sklearn", disable=True)
    parent, *children = runs()
    assert parent.name == "GridSearchCV" and parent.parent_run_id is None
    assert parent.params["best_max_depth"] == "3"
    assert parent.params["estimator__random_state"] == "0"
    assert parent.params["estimator"] == "DecisionTreeClassifier()"
    assert parent.metrics["best_cv_score"] == pytest.approx(search.best_score_)
    assert parent.metrics["training_accuracy"] == pytest.approx(search.score(x, y))
    model = gnomon.load_model(f"runs:/{parent.id}/model")
    np.testing.assert_array_equal(model.predict(x), search.best_estimator_.predict(x))

    results = search.cv_results_
    assert [c.params["max_depth"] for c in children] == ["3", "2"]  # best first, 2 of 3
    for child, index in zip(children, (2, 1), strict=True):
        assert child.parent_run_id == parent.id and child.status == RunStatus.FINISHED
        assert child.name == f"DecisionTreeClassifier-{index}"
        assert child.metrics["mean_test_score"] == pytest.approx(results["mean_test_score"][index])
        assert child.metrics["std_test_score"] == pytest.approx(results["std_test_score"][index])
        assert child.metrics["rank_test_score"] == results["rank_test_score"][index]
        assert "mean_fit_time" in child.metrics
        assert not [key for key in child.metrics if key.startswith("split")]  # one per fold


def test_leave_one_out_children_log_no_metric_per_fold(autologged: None, iris: Any) -> None:
    x, y = iris
    rows = x.index[::5]  # 30 rows: 30 folds
    GridSearchCV(
        Ridge(), {"alpha": [0.1]}, cv=LeaveOneOut(), scoring="neg_mean_absolute_error"
    ).fit(x.loc[rows], y.loc[rows])
    [child] = [run for run in runs() if run.parent_run_id is not None]
    assert sorted(child.metrics) == [
        "mean_fit_time",
        "mean_score_time",
        "mean_test_score",
        "rank_test_score",
        "std_fit_time",
        "std_score_time",
        "std_test_score",
    ]


def test_candidates_fitted_on_threads_make_no_runs_of_their_own(
    autologged: None, iris: Any
) -> None:
    x, y = iris
    search = GridSearchCV(DecisionTreeClassifier(), {"max_depth": [1, 2]}, cv=2, n_jobs=2)
    with parallel_config(backend="threading"):  # threads do not inherit the guard by themselves
        search.fit(x, y)
    names = sorted(run.name for run in runs())
    assert names == ["DecisionTreeClassifier-0", "DecisionTreeClassifier-1", "GridSearchCV"]


def test_disable_puts_every_original_back(gnomon_home: Path, iris: Any) -> None:
    x, y = iris
    originals = [LogisticRegression.fit, vars(Pipeline)["fit_transform"], Parallel.__call__]
    gnomon.autolog("sklearn")
    assert LogisticRegression.fit is not originals[0]
    assert gnomon.autolog("sklearn", disable=True) == ["sklearn"]
    now = [LogisticRegression.fit, vars(Pipeline)["fit_transform"], Parallel.__call__]
    assert all(a is b for a, b in zip(now, originals, strict=True))
    LogisticRegression(max_iter=1000).fit(x, y)
    assert runs() == []


class Fetch(TransformerMixin, BaseEstimator):
    """A step that reads its rows from a service, with the credentials as params."""

    def __init__(
        self, api_token: str = "", db_password: str = "", token_pattern: str = r"\w+"
    ) -> None:
        self.api_token = api_token
        self.db_password = db_password
        self.token_pattern = token_pattern

    def fit(self, x: Any, y: Any = None) -> Fetch:
        return self

    def transform(self, x: Any) -> Any:
        return x


def scaled(x: Any, api_key: str, factor: float) -> Any:
    return x * factor


def test_secret_params_are_logged_as_stars(autologged: None, iris: Any) -> None:
    x, y = iris
    steps = [
        ("fetch", Fetch(api_token="sk-live-SECRET123", db_password="hunter2")),
        ("scale", FunctionTransformer(scaled, kw_args={"api_key": "k-42", "factor": 2})),
        ("model", LogisticRegression(max_iter=1000)),
    ]
    Pipeline(steps).fit(x, y)
    params = only_run().params
    assert params["fetch__api_token"] == "***" and params["fetch__db_password"] == "***"
    assert params["fetch__token_pattern"] == r"\w+"  # a vectorizer's param, no secret
    assert params["scale__kw_args"] == "{'api_key': ***, 'factor': 2}"
    assert params["model__C"] == "1.0"
    for secret in ("SECRET123", "hunter2", "k-42"):
        assert not [key for key, value in params.items() if secret in value]


@pytest.mark.parametrize(
    ("key", "secret"),
    [
        ("fetch__api_token", True),
        ("HF_TOKEN", True),
        ("client_secret", True),
        ("aws_secret_access_key", True),
        ("db__passwd", True),
        ("apiKey", True),
        ("credentials", True),
        ("ssh_private_key", True),
        ("vectorizer__token_pattern", False),
        ("tokenizer", False),
        ("max_tokens", False),
        ("password_policy__C", False),  # only the last segment names the param
    ],
)
def test_which_param_names_are_secrets(key: str, secret: bool) -> None:
    assert is_secret(key) is secret


def test_binary_text_labels_score_the_class_evaluate_scores(autologged: None, iris: Any) -> None:
    x, y = iris
    labels = np.where(y == 1, "yes", "no")  # versicolor against the rest: a poor linear fit
    model = LogisticRegression(max_iter=1000).fit(x, labels)
    training = only_run().metrics
    predicted = model.predict(x)
    assert training["training_f1"] == pytest.approx(m.f1_score(labels, predicted, pos_label="yes"))
    assert training["training_f1"] != pytest.approx(
        m.f1_score(labels, predicted, average="weighted")
    )
    proba = model.predict_proba(x)[:, 1]
    assert training["training_roc_auc"] == pytest.approx(m.roc_auc_score(labels == "yes", proba))

    evaluated = gnomon.evaluate(model, x, labels)
    for name in ("f1", "precision", "recall", "roc_auc"):
        assert evaluated.metrics[name] == pytest.approx(training[f"training_{name}"]), name


def test_options_leave_out_the_model_and_data(gnomon_home: Path, iris: Any) -> None:
    x, y = iris
    gnomon.autolog("sklearn", log_models=False, log_datasets=False)
    try:
        LogisticRegression(max_iter=1000).fit(x, y)
    finally:
        gnomon.autolog("sklearn", disable=True)
    tags = only_run().tags
    assert "gnomon.logged_models" not in tags and "training.rows" not in tags
    assert "training_accuracy" in only_run().metrics


def test_inside_an_active_run_it_logs_there_and_leaves_it_open(autologged: None, iris: Any) -> None:
    x, y = iris
    with gnomon.start_run(name="mine") as run:
        LogisticRegression(max_iter=1000).fit(x, y)
        assert gnomon.active_run() is run
        LogisticRegression(C=2.0, max_iter=1000).fit(x, y)  # a second model in the same run
        DecisionTreeClassifier(max_depth=1).fit(x, y)
    [mine] = runs()
    assert mine.name == "mine" and mine.params["C"] == "1.0"  # params keep their first value
    registry = gnomon.get_client().registry
    for name in ("model", "model-2", "model-3"):  # no fit's model clashes with an earlier one
        assert registry.get_logged_model(run.id, name).path == name


def test_a_failing_fit_raises_as_is_and_fails_its_run(autologged: None, iris: Any) -> None:
    x, y = iris
    broken = x.copy()
    broken.iloc[0, 0] = np.nan
    with pytest.raises(ValueError, match="contains NaN"):
        LogisticRegression(max_iter=1000).fit(broken, y)
    assert gnomon.active_run() is None
    run = only_run()
    assert (run.name, run.status, run.params["C"]) == ("LogisticRegression", "FAILED", "1.0")


class EndsTheRunWhenFitted(TransformerMixin, BaseEstimator):
    """A pipeline step that ends the autologged run from under the fit, as another process
    could: gnomon's writes to it then fail."""

    def fit(self, x: Any, y: Any = None) -> EndsTheRunWhenFitted:
        run = gnomon.active_run()
        assert run is not None
        gnomon.get_client().end_run(run.id, "FINISHED")
        return self

    def transform(self, x: Any) -> Any:
        return x


def test_gnomon_failing_warns_and_the_fit_carries_on(
    autologged: None, iris: Any, caplog: pytest.LogCaptureFixture
) -> None:
    x, y = iris[0].to_numpy(), iris[1].to_numpy()
    pipeline = make_pipeline(EndsTheRunWhenFitted(), LogisticRegression(max_iter=1000))
    with caplog.at_level(logging.WARNING, logger="gnomon.autolog"):
        assert pipeline.fit(x, y) is pipeline
    assert pipeline.predict(x[:3]).shape == (3,)
    warnings = [r.getMessage() for r in caplog.records if r.name == "gnomon.autolog"]
    assert any("could not log the model: Conflict" in w for w in warnings), warnings
    assert gnomon.active_run() is None
    LogisticRegression(max_iter=1000).fit(x, y)  # the next fit logs as usual
    assert [r.status for r in runs()] == [RunStatus.FINISHED, RunStatus.FINISHED]
    assert "gnomon.logged_models" in runs()[1].tags


def test_scoring_after_the_fit_logs_no_label_encoder(autologged: None, iris: Any) -> None:
    # f1_score fits a LabelEncoder inside scikit-learn; that is not a model of the user's.
    x, y = iris
    with gnomon.start_run(name="by-hand") as active:
        model = DecisionTreeClassifier(max_depth=2).fit(x, y)
        m.f1_score(y, model.predict(x), average="macro")
    [run] = runs()
    assert run.id == active.id
    assert run.tags["estimator_name"] == "DecisionTreeClassifier"
    assert run.tags["training.rows"] == "150"
