"""XGBoost and LightGBM autologging on embedded SQLite: the native ``train`` calls and the
scikit-learn wrappers, reverting, and that neither gnomon's failures nor the user's change
the training."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest
import xgboost as xgb
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import gnomon
from gnomon.autologging.session import dataset_tags
from gnomon.tracking.entities import RunStatus
from tests.unit.autologging.runs import history, only_run, runs


@pytest.fixture
def autologged(gnomon_home: Path) -> Iterator[None]:
    gnomon.autolog(["xgboost", "lightgbm"])
    yield
    gnomon.autolog(["xgboost", "lightgbm"], disable=True)


@pytest.fixture(scope="module")
def data() -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(0)
    x = pd.DataFrame(rng.normal(size=(80, 3)), columns=["age", "income", "tenure"])
    y = ((x["age"] + 0.5 * rng.normal(size=80)) > 0).astype(int)
    return x, y


XGB_PARAMS = {"objective": "binary:logistic", "eval_metric": "logloss", "max_depth": 2}
LGB_PARAMS = {"objective": "binary", "num_leaves": 4, "min_data_in_leaf": 5, "verbose": -1}


def test_xgboost_train_logs_rounds_best_importance_data_and_the_booster(
    autologged: None, data: Any
) -> None:
    x, y = data
    train, valid = xgb.DMatrix(x[:60], label=y[:60]), xgb.DMatrix(x[60:], label=y[60:])
    evals_result: dict[str, Any] = {}
    booster = xgb.train(
        XGB_PARAMS,
        train,
        num_boost_round=8,
        evals=[(train, "train"), (valid, "validation")],
        evals_result=evals_result,
        early_stopping_rounds=3,
        verbose_eval=False,
    )
    run = only_run()
    assert (run.name, run.status, run.tags["gnomon.autolog"]) == ("xgboost", "FINISHED", "xgboost")
    assert run.params == {
        "objective": "binary:logistic",
        "eval_metric": "logloss",
        "max_depth": "2",
        "num_boost_round": "8",
        "early_stopping_rounds": "3",
    }
    rounds = booster.num_boosted_rounds()
    for data_name in ("train", "validation"):
        logged = history(run, f"{data_name}-logloss")
        assert len(logged) == rounds
        assert logged == pytest.approx(evals_result[data_name]["logloss"])
    assert run.metrics["best_iteration"] == booster.best_iteration
    assert run.metrics["best_score"] == pytest.approx(booster.best_score)
    assert (run.tags["training.rows"], run.tags["training.columns"]) == ("60", "3")

    importance = gnomon.load_dict(run.id, "feature_importance.json")
    assert importance["gain"] == pytest.approx(booster.get_score(importance_type="gain"))
    assert set(importance) == {"weight", "gain", "cover"}

    model = gnomon.load_model(f"runs:/{run.id}/model")
    assert model.contract is not None
    assert model.contract.input_names == ["age", "income", "tenure"]
    np.testing.assert_allclose(model.predict(x[60:]), booster.predict(valid))
    digest = run.tags["training.digest"]
    assert model.spec.training_data == f"60 rows x 3 columns, sha256 {digest}"


def test_xgboost_classifier_logs_params_eval_results_and_the_estimator(
    autologged: None, data: Any
) -> None:
    x, y = data
    clf = xgb.XGBClassifier(n_estimators=5, max_depth=2).fit(
        x[:60], y[:60], eval_set=[(x[60:], y[60:])], verbose=False
    )
    run = only_run()  # XGBClassifier.fit calls XGBModel.fit: one run still
    assert (run.name, run.status) == ("XGBClassifier", "FINISHED")
    assert (run.params["n_estimators"], run.params["max_depth"]) == ("5", "2")
    assert run.tags["estimator_name"] == "XGBClassifier"
    assert run.tags["training.digest"] == dataset_tags(x[:60])["training.digest"]
    logged = history(run, "validation_0-logloss")
    assert logged == pytest.approx(clf.evals_result()["validation_0"]["logloss"])
    assert len(logged) == 5
    model = gnomon.load_model(f"runs:/{run.id}/model")
    np.testing.assert_array_equal(model.predict(x), clf.predict(x))
    np.testing.assert_allclose(model.predict_proba(x), clf.predict_proba(x))
    digest = run.tags["training.digest"]
    assert model.spec.training_data == f"60 rows x 3 columns, sha256 {digest}"


def test_lightgbm_train_logs_iterations_importance_data_and_the_booster(
    autologged: None, data: Any
) -> None:
    x, y = data
    train = lgb.Dataset(x[:60], label=y[:60])
    valid = lgb.Dataset(x[60:], label=y[60:], reference=train)
    recorded: dict[str, Any] = {}
    booster = lgb.train(
        LGB_PARAMS,
        train,
        num_boost_round=6,
        valid_sets=[train, valid],
        valid_names=["train", "valid"],
        callbacks=[lgb.record_evaluation(recorded)],
    )
    run = only_run()
    assert (run.name, run.status, run.tags["gnomon.autolog"]) == (
        "lightgbm",
        "FINISHED",
        "lightgbm",
    )
    assert run.params["num_leaves"] == "4" and run.params["num_boost_round"] == "6"
    for data_name in ("train", "valid"):
        logged = history(run, f"{data_name}-binary_logloss")
        assert len(logged) == 6
        assert logged == pytest.approx(recorded[data_name]["binary_logloss"])
    assert run.tags["training.digest"] == dataset_tags(x[:60])["training.digest"]

    importance = gnomon.load_dict(run.id, "feature_importance.json")
    split = booster.feature_importance("split")
    assert importance["split"] == dict(zip(x.columns, split.astype(float), strict=True))

    model = gnomon.load_model(f"runs:/{run.id}/model")
    assert model.contract is not None and model.contract.input_names == list(x.columns)
    np.testing.assert_allclose(model.predict(x), booster.predict(x))
    digest = run.tags["training.digest"]
    assert model.spec.training_data == f"60 rows x 3 columns, sha256 {digest}"


def test_lightgbm_early_stopping_logs_the_best_iteration(autologged: None, data: Any) -> None:
    x, y = data
    train = lgb.Dataset(x[:60].to_numpy(), label=y[:60])
    valid = lgb.Dataset(x[60:].to_numpy(), label=y[60:], reference=train)
    with gnomon.start_run(name="mine") as run:
        booster = lgb.train(
            {**LGB_PARAMS, "learning_rate": 0.5},
            train,
            num_boost_round=40,
            valid_sets=[valid],
            callbacks=[lgb.early_stopping(2, verbose=False)],
        )
        assert gnomon.active_run() is run  # it logged to the user's run and left it open
    stored = only_run()
    assert stored.name == "mine"
    assert booster.best_iteration < 40
    assert stored.metrics["best_iteration"] == booster.best_iteration
    # Every iteration evaluated: the best, then the 2 without improvement that stopped it.
    assert len(history(stored, "valid_0-binary_logloss")) == booster.best_iteration + 2


def test_lgbm_regressor_logs_eval_results_and_the_estimator(autologged: None, data: Any) -> None:
    x, _ = data
    target = x["income"] * 2.0
    reg = lgb.LGBMRegressor(n_estimators=4, num_leaves=4, min_child_samples=5, verbose=-1)
    reg.fit(x[:60], target[:60], eval_X=(x[60:],), eval_y=(target[60:],))
    run = only_run()
    assert (run.name, run.params["n_estimators"]) == ("LGBMRegressor", "4")
    assert history(run, "valid_0-l2") == pytest.approx(reg.evals_result_["valid_0"]["l2"])
    model = gnomon.load_model(f"runs:/{run.id}/model")
    np.testing.assert_allclose(model.predict(x), reg.predict(x))


def test_with_sklearn_autolog_only_the_outermost_call_logs(gnomon_home: Path, data: Any) -> None:
    x, y = data
    gnomon.autolog(["sklearn", "xgboost"])
    try:
        xgb.XGBClassifier(n_estimators=2).fit(x, y)
        make_pipeline(StandardScaler(), xgb.XGBClassifier(n_estimators=2)).fit(x, y)
    finally:
        gnomon.autolog(["sklearn", "xgboost"], disable=True)
    first, second = runs()
    assert (first.name, first.tags["gnomon.autolog"]) == ("XGBClassifier", "xgboost")
    assert (second.name, second.tags["gnomon.autolog"]) == ("Pipeline", "sklearn")


def test_disable_puts_every_original_back(gnomon_home: Path, data: Any) -> None:
    x, y = data
    originals = [
        (xgb, "train", xgb.train),
        (xgb.XGBModel, "fit", vars(xgb.XGBModel)["fit"]),
        (xgb.XGBClassifier, "fit", vars(xgb.XGBClassifier)["fit"]),
        (lgb, "train", lgb.train),
        (lgb.LGBMClassifier, "fit", vars(lgb.LGBMClassifier)["fit"]),
    ]
    assert gnomon.autolog(["xgboost", "lightgbm"]) == ["xgboost", "lightgbm"]
    assert all(vars(owner)[name] is not original for owner, name, original in originals)
    assert gnomon.autolog(["xgboost", "lightgbm"], disable=True) == ["xgboost", "lightgbm"]
    assert all(vars(owner)[name] is original for owner, name, original in originals)
    assert "fit" not in vars(xgb.XGBRegressor)  # inherited, and still only inherited
    xgb.train(XGB_PARAMS, xgb.DMatrix(x, label=y), num_boost_round=2)
    lgb.LGBMClassifier(n_estimators=2, verbose=-1).fit(x, y)
    assert runs() == []


class EndsTheRun(xgb.callback.TrainingCallback):
    """Ends the autologged run from under the training, as another process could: gnomon's
    writes to it then fail."""

    def after_training(self, model: Any) -> Any:
        run = gnomon.active_run()
        assert run is not None
        gnomon.get_client().end_run(run.id, "FINISHED")
        return model


def test_gnomon_failing_warns_and_training_carries_on(
    autologged: None, data: Any, caplog: pytest.LogCaptureFixture
) -> None:
    x, y = data
    train = xgb.DMatrix(x, label=y)
    with caplog.at_level(logging.WARNING, logger="gnomon.autolog"):
        booster = xgb.train(XGB_PARAMS, train, num_boost_round=3, callbacks=[EndsTheRun()])
    assert booster.num_boosted_rounds() == 3
    warnings = [r.getMessage() for r in caplog.records if r.name == "gnomon.autolog"]
    assert any("could not log the model: Conflict" in w for w in warnings), warnings
    assert gnomon.active_run() is None
    xgb.train(XGB_PARAMS, train, num_boost_round=2)  # the next training logs as usual
    assert [r.status for r in runs()] == [RunStatus.FINISHED, RunStatus.FINISHED]
    assert "gnomon.logged_models" in runs()[1].tags


class Stop(Exception):
    pass


def stop_at_second_iteration(env: Any) -> None:
    if env.iteration == 1:
        raise Stop("the user's callback")


def test_a_failing_training_raises_as_is_and_fails_its_run(autologged: None, data: Any) -> None:
    x, y = data
    with pytest.raises(Stop, match="the user's callback"):
        lgb.train(LGB_PARAMS, lgb.Dataset(x, label=y), 5, callbacks=[stop_at_second_iteration])
    assert gnomon.active_run() is None
    run = only_run()
    assert (run.name, run.status, run.params["num_leaves"]) == ("lightgbm", "FAILED", "4")
    with pytest.raises(xgb.core.XGBoostError):
        xgb.train({"objective": "no-such-objective"}, xgb.DMatrix(x, label=y), 2)
    assert [r.status for r in runs()] == [RunStatus.FAILED, RunStatus.FAILED]
