"""``gnomon predict`` on a registered model: through the root app, and once as a real process
with a pool of two workers."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import RandomForestClassifier

import gnomon
from gnomon.serving.batch import read_prediction_metadata
from tests.fixtures.cli import fails, invoke
from tests.fixtures.processes import GNOMON


def _features(rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"age": rng.uniform(20, 60, rows), "income": rng.uniform(1, 10, rows)})


@pytest.fixture
def registered(gnomon_home: Path) -> tuple[RandomForestClassifier, str]:
    """A forest registered as churn version 1 (alias production); returns it and its run id."""
    train = _features(300, seed=0)
    labels = (train["age"] / 10 + train["income"] > 8).astype(int)
    model = RandomForestClassifier(n_estimators=10, random_state=0).fit(train, labels)
    with gnomon.start_run() as run:
        uri = gnomon.log_model(model, "model", input_example=train)
    gnomon.register_model(uri, "churn", alias="production")
    gnomon.flush()
    return model, run.id


@pytest.fixture
def data(tmp_path: Path) -> pd.DataFrame:
    frame = _features(257, seed=1)
    frame.insert(0, "customer", np.arange(257))
    frame.to_parquet(tmp_path / "in.parquet", index=False)
    return frame


def _predict(uri: str, source: Path, out: Path, *extra: str) -> list[str]:
    """The command line; in-process (--workers 1) unless ``extra`` says otherwise."""
    workers = [] if "--workers" in extra else ["--workers", "1"]
    return ["predict", uri, "--input", str(source), "--output", str(out), *workers, *extra]


@pytest.mark.parametrize("uri", ["models:/churn@production", "models:/churn/1", "runs"])
def test_predict_writes_the_models_predictions_in_order(
    tmp_path: Path,
    registered: tuple[RandomForestClassifier, str],
    data: pd.DataFrame,
    uri: str,
) -> None:
    model, run_id = registered
    uri = f"runs:/{run_id}/model" if uri == "runs" else uri
    out = tmp_path / "preds.parquet"
    result = invoke(*_predict(uri, tmp_path / "in.parquet", out, "--chunk-rows", "50"))
    assert result.exit_code == 0, result.output
    assert "wrote 257 predictions by " in result.stdout and str(out) in result.stdout
    written = pd.read_parquet(out)
    assert written["customer"].tolist() == list(range(257))
    assert written["prediction"].tolist() == model.predict(data[["age", "income"]]).tolist()
    meta = read_prediction_metadata(out)
    assert meta["model_uri"] == uri and meta["rows"] == 257
    assert meta["source_run_id"] == run_id
    if uri.startswith("models:/"):
        assert (meta["model_name"], meta["model_version"]) == ("churn", 1)


def test_csv_input_keep_and_proba(
    tmp_path: Path, registered: tuple[RandomForestClassifier, str], data: pd.DataFrame
) -> None:
    model, _ = registered
    data.to_csv(tmp_path / "in.csv", index=False)
    out = tmp_path / "preds.parquet"
    args = _predict("models:/churn@production", tmp_path / "in.csv", out, "--keep", "customer")
    result = invoke(*args, "--proba")
    assert result.exit_code == 0, result.output
    written = pd.read_parquet(out)
    assert list(written.columns) == ["customer", "prediction", "probability_0", "probability_1"]
    features = pd.read_csv(tmp_path / "in.csv")[["age", "income"]]
    assert written["prediction"].tolist() == model.predict(features).tolist()
    np.testing.assert_allclose(written["probability_1"], model.predict_proba(features)[:, 1])


def test_contract_rejection_names_global_rows_and_leaves_no_file(
    tmp_path: Path, registered: tuple[RandomForestClassifier, str], data: pd.DataFrame
) -> None:
    data.loc[123, "age"] = 400.0
    data.to_parquet(tmp_path / "in.parquet", index=False)
    source, out = tmp_path / "in.parquet", tmp_path / "preds.parquet"
    line = fails(*_predict("models:/churn@production", source, out, "--chunk-rows", "100"))
    assert "rows 100 to 199" in line and "row 123 column 'age': above_maximum" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home", "in.parquet"]


def test_bad_paths_and_unknown_models_are_one_line_errors(
    tmp_path: Path, registered: tuple[RandomForestClassifier, str], data: pd.DataFrame
) -> None:
    source, out = str(tmp_path / "in.parquet"), str(tmp_path / "preds.parquet")
    assert "ghost" in fails("predict", "models:/ghost@production", "-i", source, "--output", out)
    assert "'nope'" in fails("predict", "models:/churn@nope", "-i", source, "--output", out)
    line = fails("predict", "models:/churn/1", "-i", str(tmp_path / "no.parquet"), "--output", out)
    assert "no.parquet' does not exist" in line
    line = fails("predict", "models:/churn/1", "-i", source, "--output", "/no/such/dir/p.parquet")
    assert "folder '/no/such/dir' does not exist" in line
    line = fails("predict", "models:/churn/1", "-i", source, "--output", out, "--policy", "maybe")
    assert "unknown policy 'maybe'" in line
    assert not Path(out).exists()


def test_as_a_process_with_two_workers(
    tmp_path: Path, registered: tuple[RandomForestClassifier, str], data: pd.DataFrame
) -> None:
    model, _ = registered
    out = tmp_path / "preds.parquet"
    args = _predict("models:/churn@production", tmp_path / "in.parquet", out, "--workers", "2")
    done = subprocess.run(
        [GNOMON, *args, "--chunk-rows", "30"],
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr
    assert "wrote 257 predictions by churn version 1" in done.stdout
    written = pd.read_parquet(out)
    assert written["customer"].tolist() == list(range(257))
    assert written["prediction"].tolist() == model.predict(data[["age", "income"]]).tolist()
    assert read_prediction_metadata(out)["model_version"] == 1
