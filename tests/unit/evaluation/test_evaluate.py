"""gnomon.evaluate end to end (embedded): metrics equal scikit-learn's on the same data, and
what it logs to the run reads back."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from sklearn import metrics as m
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.tree import DecisionTreeClassifier

import gnomon
from gnomon.errors import InvalidInput, UserCodeError
from gnomon.evaluation import evaluating, segments

ROWS = 150
BASELINE_CURVE = (255, 127, 14)  # matplotlib's second colour (C1): the baseline's curve


def churn(seed: int = 0) -> pd.DataFrame:
    """Two features, a region, and a noisy yes/no label."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "age": rng.uniform(20, 60, ROWS),
            "spend": rng.normal(0, 1, ROWS),
            "region": rng.choice(["north", "south", "east"], ROWS, p=[0.5, 0.3, 0.2]),
        }
    )
    score = (frame["age"] - 40) / 10 + frame["spend"] + rng.normal(0, 0.8, ROWS)
    frame["churned"] = np.where(score > 0, "yes", "no")
    return frame


def fit(frame: pd.DataFrame, columns: list[str], target: str = "churned") -> LogisticRegression:
    return LogisticRegression(max_iter=500).fit(frame[columns], frame[target])


def artifact(run_id: str, path: str) -> bytes:
    client = gnomon.get_client()
    return client.tracking.load_bytes(client.scope, run_id, path)


def png(run_id: str, path: str) -> tuple[int, int]:
    data = artifact(run_id, path)
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return Image.open(io.BytesIO(data)).size


def draws(run_id: str, path: str, colour: tuple[int, int, int]) -> bool:
    """Whether the plot at ``path`` has a line of ``colour`` (more than a few pixels)."""
    image = Image.open(io.BytesIO(artifact(run_id, path))).convert("RGB")
    pixels = np.asarray(image).reshape(-1, 3).astype(int)
    return int((np.abs(pixels - colour).max(axis=1) <= 10).sum()) > 20


def test_binary_classifier_metrics_equal_sklearn(gnomon_home: Path) -> None:
    frame = churn()
    model = fit(frame, ["age", "spend"])
    result = gnomon.evaluate(model, frame, "churned")

    x, y = frame[["age", "spend"]], frame["churned"]
    pred, proba = model.predict(x), model.predict_proba(x)
    assert list(model.classes_) == ["no", "yes"]  # "yes", the greater label, is positive
    expected = {
        "accuracy": m.accuracy_score(y, pred),
        "precision": m.precision_score(y, pred, pos_label="yes"),
        "recall": m.recall_score(y, pred, pos_label="yes"),
        "f1": m.f1_score(y, pred, pos_label="yes"),
        "roc_auc": m.roc_auc_score(y == "yes", proba[:, 1]),
        "log_loss": m.log_loss(y, proba),
    }
    assert result.metrics == pytest.approx(expected, abs=1e-12)
    assert result.rows == ROWS and result.verdict is None and result.baseline_metrics is None
    assert result.confusion_matrix is not None
    assert result.confusion_matrix.classes == ["no", "yes"]
    assert result.confusion_matrix.matrix == m.confusion_matrix(y, pred).tolist()

    run = gnomon.get_client().get_run(result.run_id)
    assert run.status.value == "FINISHED" and run.name == "evaluate"  # its own run, ended
    logged = {k[len("eval_") :]: v for k, v in run.metrics.items() if k.startswith("eval_")}
    assert logged == pytest.approx(expected, abs=1e-12)
    assert run.tags["gnomon.evaluation.model_type"] == "classifier"
    assert set(result.artifacts) == {"confusion_matrix", "roc_curve", "pr_curve", "result"}
    for name in ("confusion_matrix", "roc_curve", "pr_curve"):
        assert png(result.run_id, result.artifacts[name]) == (500, 400)
    assert not draws(result.run_id, result.artifacts["roc_curve"], BASELINE_CURVE)
    assert result.model == "in-memory LogisticRegression" and result.baseline is None
    stored = json.loads(artifact(result.run_id, "evaluation/result.json"))
    assert stored == result.to_dict() and stored["metrics"]["f1"] == pytest.approx(expected["f1"])


def test_pos_label_picks_the_positive_class(gnomon_home: Path) -> None:
    frame = churn()
    model = fit(frame, ["age", "spend"])
    result = gnomon.evaluate(model, frame, "churned", pos_label="no")
    y, pred = frame["churned"], model.predict(frame[["age", "spend"]])
    assert result.metrics["recall"] == pytest.approx(m.recall_score(y, pred, pos_label="no"))
    with pytest.raises(InvalidInput, match="pos_label 'maybe' is not one of the classes"):
        gnomon.evaluate(model, frame, "churned", pos_label="maybe")


def test_multiclass_metrics_are_weighted_like_sklearn(gnomon_home: Path) -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(ROWS, 3))
    y = np.argmax(x + rng.normal(0, 0.7, size=x.shape), axis=1)
    model = LogisticRegression(max_iter=500).fit(x, y)
    with pytest.raises(InvalidInput, match="pos_label applies to two classes; the model has 3"):
        gnomon.evaluate(model, x, y, pos_label=1)
    with gnomon.start_run() as run:
        result = gnomon.evaluate(model, x, y)  # NumPy data, targets as an array
    pred, proba = model.predict(x), model.predict_proba(x)
    expected = {
        "accuracy": m.accuracy_score(y, pred),
        "precision": m.precision_score(y, pred, average="weighted"),
        "recall": m.recall_score(y, pred, average="weighted"),
        "f1": m.f1_score(y, pred, average="weighted"),
        "roc_auc": m.roc_auc_score(y, proba, multi_class="ovr", average="weighted"),
        "log_loss": m.log_loss(y, proba),
    }
    assert result.metrics == pytest.approx(expected, abs=1e-12)
    assert result.run_id == run.id  # logged to the active run, which stays open
    assert gnomon.get_client().get_run(run.id).metrics["eval_f1"] == pytest.approx(expected["f1"])
    assert result.confusion_matrix is not None
    assert result.confusion_matrix.matrix == m.confusion_matrix(y, pred).tolist()
    assert png(run.id, "evaluation/roc_curve.png")


def test_regressor_metrics_equal_sklearn(gnomon_home: Path) -> None:
    rng = np.random.default_rng(2)
    frame = pd.DataFrame({"rooms": rng.integers(1, 6, ROWS), "area": rng.uniform(30, 150, ROWS)})
    frame["price"] = 50 * frame["rooms"] + 2 * frame["area"] + rng.normal(0, 20, ROWS)
    model = LinearRegression().fit(frame[["rooms", "area"]], frame["price"])
    result = gnomon.evaluate(model, frame, "price", model_type="regressor")

    pred = model.predict(frame[["rooms", "area"]])
    expected = {
        "rmse": m.root_mean_squared_error(frame["price"], pred),
        "mae": m.mean_absolute_error(frame["price"], pred),
        "r2": m.r2_score(frame["price"], pred),
    }
    assert result.metrics == pytest.approx(expected, abs=1e-9)
    assert result.confusion_matrix is None
    assert set(result.artifacts) == {"residuals", "result"}
    assert png(result.run_id, "evaluation/residuals.png") == (900, 400)


def test_segments_hold_each_values_metrics(
    gnomon_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    frame = churn()
    frame.loc[frame.index[:3], "region"] = "west"  # a segment too small for both classes
    frame.loc[frame.index[:3], "churned"] = "yes"
    model = fit(frame, ["age", "spend"])
    result = gnomon.evaluate(model, frame, "churned", segment_by="region")

    table = result.segments
    assert table is not None
    assert list(table["region"]) == list(frame["region"].value_counts().index)  # most first
    for _, row in table.iterrows():
        rows = frame[frame["region"] == row["region"]]
        pred = model.predict(rows[["age", "spend"]])
        assert row["count"] == len(rows)
        assert row["f1"] == pytest.approx(m.f1_score(rows["churned"], pred, pos_label="yes"))
        assert row["accuracy"] == pytest.approx(m.accuracy_score(rows["churned"], pred))
    west = table.set_index("region").loc["west"]
    assert np.isnan(west["roc_auc"])  # one class only: undefined, not an error
    stored = gnomon.load_table(result.run_id, "evaluation/segments.parquet")
    pd.testing.assert_frame_equal(stored, table)

    monkeypatch.setattr(segments, "MAX_SEGMENTS", 2)
    capped = gnomon.evaluate(model, frame, "churned", segment_by="region").segments
    assert capped is not None and list(capped["region"]) == ["north", "south"]


def test_baseline_and_a_passing_verdict(gnomon_home: Path) -> None:
    frame = churn()
    with gnomon.start_run():
        champion = gnomon.log_model(fit(frame, ["age"]), "model", input_example=frame[["age"]])
    gnomon.register_model(champion, "churn", alias="production")
    challenger = fit(frame, ["age", "spend"])
    thresholds = {"f1": {"min_delta": 0.0}, "log_loss": {"max_delta": 0.0}}
    result = gnomon.evaluate(
        challenger,
        frame,
        "churned",
        baseline="models:/churn@production",
        thresholds=thresholds,
        segment_by="region",
    )

    champion_model = gnomon.load_model("models:/churn@production")
    base_pred = champion_model.predict(frame[["age"]])
    base_f1 = m.f1_score(frame["churned"], base_pred, pos_label="yes")
    assert result.baseline == "models:/churn@production"
    assert result.segments is not None
    for _, row in result.segments.iterrows():  # each segment scores both models
        rows = (frame["region"] == row["region"]).to_numpy()
        y = frame["churned"][rows]
        mine = m.f1_score(y, challenger.predict(frame[["age", "spend"]][rows]), pos_label="yes")
        theirs = m.f1_score(y, base_pred[rows], pos_label="yes")
        assert (row["f1"], row["baseline_f1"]) == pytest.approx((mine, theirs))
    assert result.baseline_metrics is not None
    assert result.baseline_metrics["f1"] == pytest.approx(base_f1)
    assert result.metrics["f1"] > base_f1  # spend helps
    verdict = result.verdict
    assert verdict is not None and verdict.passed
    checks = {c.metric: c for c in verdict.checks}
    assert checks["f1"].delta == pytest.approx(result.metrics["f1"] - base_f1)
    assert checks["log_loss"].delta is not None and checks["log_loss"].delta < 0  # lower: better

    run = gnomon.get_client().get_run(result.run_id)
    assert run.tags["gnomon.evaluation.verdict"] == "passed"
    assert run.tags["gnomon.evaluation.baseline"] == "models:/churn@production"
    assert run.metrics["eval_baseline_f1"] == pytest.approx(base_f1)
    assert json.loads(artifact(run.id, "evaluation/verdict.json")) == verdict.to_dict()
    assert png(run.id, "evaluation/baseline_confusion_matrix.png")
    for curves in ("evaluation/roc_curve.png", "evaluation/pr_curve.png"):
        assert draws(run.id, curves, BASELINE_CURVE)  # the baseline's curve, overlaid


def test_a_worse_candidate_fails_the_verdict(gnomon_home: Path) -> None:
    frame = churn()
    champion = fit(frame, ["age", "spend"])
    weaker = fit(frame, ["age"])
    thresholds = {"f1": {"min_delta": 0.0}, "accuracy": {"min_value": 0.5}}
    result = gnomon.evaluate(weaker, frame, "churned", baseline=champion, thresholds=thresholds)
    assert result.verdict is not None and not result.verdict.passed
    assert [c.metric for c in result.verdict.failed] == ["f1"]
    assert "worse by" in result.verdict.failed[0].reason
    run = gnomon.get_client().get_run(result.run_id)
    assert run.tags["gnomon.evaluation.verdict"] == "failed"
    assert run.tags["gnomon.evaluation.baseline"] == "in-memory LogisticRegression"
    assert result.baseline == "in-memory LogisticRegression"


def test_score_computes_what_evaluate_logs_and_logs_nothing(gnomon_home: Path) -> None:
    gnomon.set_experiment("default")
    frame = churn()
    candidate, champion = fit(frame, ["age", "spend"]), fit(frame, ["age"])
    options: dict[str, Any] = {"baseline": champion, "thresholds": {"f1": {"min_delta": 0.0}}}
    scored = evaluating.score(candidate, frame, "churned", plots=False, **options)
    assert scored.figures == {}  # not drawn
    assert gnomon.search_runs("default").items == []
    assert scored.verdict is not None and scored.verdict.passed
    result = gnomon.evaluate(candidate, frame, "churned", **options)
    assert (scored.metrics, scored.baseline_metrics) == (result.metrics, result.baseline_metrics)
    assert evaluating.score(candidate, frame, "churned", **options).figures  # drawn by default


def test_a_regressor_verdict_treats_lower_rmse_as_better(gnomon_home: Path) -> None:
    rng = np.random.default_rng(3)
    x = pd.DataFrame({"a": rng.normal(size=ROWS), "b": rng.normal(size=ROWS)})
    y = 3 * x["a"] + x["b"] + rng.normal(0, 0.1, ROWS)
    good, poor = LinearRegression().fit(x, y), LinearRegression().fit(x[["a"]], y)
    rule = {"rmse": {"min_delta": 0.1}}
    better = gnomon.evaluate(good, x, y, model_type="regressor", baseline=poor, thresholds=rule)
    assert better.verdict is not None and better.verdict.passed
    worse = gnomon.evaluate(poor, x, y, model_type="regressor", baseline=good, thresholds=rule)
    assert worse.verdict is not None and not worse.verdict.passed


def test_many_classes_keep_the_metrics_and_leave_out_the_matrix(gnomon_home: Path) -> None:
    rng = np.random.default_rng(4)
    x = rng.normal(size=(300, 2))  # scikit-learn warns when most rows are a class of their own
    y = np.arange(300) % 120  # a quantity read as 120 classes
    model = DecisionTreeClassifier(max_depth=4, random_state=0).fit(x, y)
    assert len(model.classes_) > evaluating.MAX_CLASSES
    result = gnomon.evaluate(model, x, y)

    pred = model.predict(x)
    assert set(result.metrics) == {"accuracy", "precision", "recall", "f1", "roc_auc", "log_loss"}
    assert result.metrics["accuracy"] == pytest.approx(m.accuracy_score(y, pred))
    assert result.confusion_matrix is None and set(result.artifacts) == {"result"}
    assert result.notes == [
        "the model has 120 classes, more than 100: its confusion matrix and per-class curves "
        "are left out (the metrics are complete); the targets are numbers: if they measure a "
        "quantity, pass model_type='regressor'"
    ]
    stored = json.loads(artifact(result.run_id, "evaluation/result.json"))
    assert stored["notes"] == result.notes and stored["confusion_matrix"] is None

    labels = np.array([f"sku-{v}" for v in y])  # labels that are not numbers: no regressor
    named = DecisionTreeClassifier(max_depth=4, random_state=0).fit(x, labels)
    notes = gnomon.evaluate(named, x, labels).notes
    assert len(notes) == 1 and "120 classes" in notes[0] and "regressor" not in notes[0]


def test_a_logged_model_gets_the_columns_its_contract_names(gnomon_home: Path) -> None:
    frame = churn()
    model = fit(frame, ["spend", "age"])
    with gnomon.start_run():
        uri = gnomon.log_model(model, "model", input_example=frame[["spend", "age"]])
    result = gnomon.evaluate(uri, frame, "churned")  # region is left out, columns reordered
    pred = model.predict(frame[["spend", "age"]])
    assert result.metrics["accuracy"] == pytest.approx(m.accuracy_score(frame["churned"], pred))
    run = gnomon.get_client().get_run(result.run_id)
    assert run.tags["gnomon.evaluation.model"] == uri


class Exploding:
    def predict(self, data: Any) -> Any:
        raise RuntimeError("boom")


def _regression_contract_model(frame: pd.DataFrame) -> str:
    model = LinearRegression().fit(frame[["age"]], frame["spend"])
    with gnomon.start_run():
        return gnomon.log_model(model, "regression", input_example=frame[["age"]])


ERRORS: list[tuple[dict[str, Any], str]] = [
    ({"targets": "label"}, "no target column 'label'"),
    ({"targets": np.zeros(3)}, "targets hold 3 values but data has 150 rows"),
    ({"model_type": "ranker"}, "model_type must be one of classifier, regressor"),
    ({"segment_by": "regoin"}, "no segment column 'regoin'; did you mean 'region'?"),
    ({"thresholds": {"recal": {"min_value": 0}}}, "unknown metric 'recal'; did you mean 'recall'?"),
    ({"thresholds": {"f1": {"min_dleta": 0}}}, "unknown threshold 'min_dleta'"),
    ({"thresholds": {"f1": {"min_value": "high"}}}, "must be a finite number"),
    ({"thresholds": {"f1": {"min_delta": 0.0}}}, "compares with a baseline: pass baseline="),
    ({"thresholds": {"rmse": {"max_value": 1}}}, "unknown metric 'rmse'"),
    ({"model": object()}, "must be a fitted model with predict"),
    ({"model_type": "regressor"}, "a regressor's targets must be numbers"),
    ({"targets": "spend"}, "a classifier's targets must be class labels, got continuous"),
    ({"data": "churn.csv"}, "data must be a DataFrame or a 2-D array"),
]


@pytest.mark.parametrize(("change", "message"), ERRORS)
def test_bad_input_is_refused_before_anything_is_logged(
    gnomon_home: Path, change: dict[str, Any], message: str
) -> None:
    gnomon.set_experiment("default")
    frame = churn()
    call: dict[str, Any] = {"model": fit(frame, ["age", "spend"]), "data": frame}
    call.update(targets="churned")
    call.update(change)
    with pytest.raises(InvalidInput, match=re.escape(message)):
        gnomon.evaluate(call.pop("model"), call.pop("data"), call.pop("targets"), **call)
    assert gnomon.search_runs("default").items == []


def test_a_baseline_predicting_something_else_is_refused(gnomon_home: Path) -> None:
    frame = churn()
    with gnomon.start_run():
        classifier = gnomon.log_model(fit(frame, ["age"]), "model", input_example=frame[["age"]])
    regression = _regression_contract_model(frame)
    with pytest.raises(InvalidInput, match="the baseline's contract outputs"):
        gnomon.evaluate(classifier, frame, "churned", baseline=regression)
    renamed = frame.rename(columns={"age": "years"})
    with pytest.raises(InvalidInput, match="data lacks columns the baseline takes: years"):
        gnomon.evaluate(fit(frame, ["age"]), frame, "churned", baseline=fit(renamed, ["years"]))


def test_a_model_that_raises_is_a_user_code_error(gnomon_home: Path) -> None:
    with pytest.raises(UserCodeError, match=r"Exploding\.predict raised RuntimeError"):
        gnomon.evaluate(Exploding(), churn(), "churned")
