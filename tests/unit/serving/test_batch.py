"""predict_file over a local model folder, in-process (the worker pool is covered end to end
by tests/integration/serving/test_predict_command.py)."""

from __future__ import annotations

import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sklearn.linear_model import LogisticRegression

from gnomon.errors import InvalidInput, NotFound
from gnomon.modelfolder import save_model
from gnomon.serving.batch import (
    BatchResult,
    _in_order,
    predict_file,
    read_prediction_metadata,
)


def _features(rows: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"x": rng.uniform(-3, 3, rows), "y": rng.uniform(-3, 3, rows)})


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, LogisticRegression]:
    """A model folder whose contract bounds x and y to about [-3.6, 3.6], and its model."""
    train = _features(200)
    model = LogisticRegression().fit(train, (train["x"] + train["y"] > 0).astype(int))
    folder = tmp_path_factory.mktemp("model") / "model"
    save_model(model, folder, input_example=train)
    return folder, model


@pytest.fixture
def data(tmp_path: Path) -> pd.DataFrame:
    """103 rows with an id column the contract does not know, written to in.parquet."""
    frame = _features(103, seed=1)
    frame.insert(0, "id", [f"c{i:03d}" for i in range(len(frame))])
    frame.to_parquet(tmp_path / "in.parquet", index=False)
    return frame


def _predict(tmp_path: Path, folder: Path, **options: object) -> BatchResult:
    return predict_file(
        str(folder), tmp_path / "in.parquet", tmp_path / "out.parquet", workers=1, **options
    )


def test_predictions_match_the_model_in_input_order_across_chunks(
    tmp_path: Path, trained: tuple[Path, LogisticRegression], data: pd.DataFrame
) -> None:
    folder, model = trained
    result = _predict(tmp_path, folder, chunk_rows=10)
    out = pd.read_parquet(tmp_path / "out.parquet")
    assert list(out.columns) == ["id", "x", "y", "prediction"]
    assert out["id"].tolist() == data["id"].tolist()
    assert out["prediction"].tolist() == model.predict(data[["x", "y"]]).tolist()
    assert pq.ParquetFile(tmp_path / "out.parquet").metadata.num_row_groups == 11
    assert (result.rows, result.output, result.model_name, result.model_version) == (
        103,
        tmp_path / "out.parquet",
        None,
        None,
    )
    assert {p.name for p in tmp_path.iterdir()} == {"in.parquet", "out.parquet"}


def test_metadata_records_the_model(
    tmp_path: Path, trained: tuple[Path, LogisticRegression], data: pd.DataFrame
) -> None:
    folder, _ = trained
    _predict(tmp_path, folder)
    meta = read_prediction_metadata(tmp_path / "out.parquet")
    assert meta["model_uri"] == str(folder)
    assert meta["rows"] == 103
    assert len(meta["model_hash"]) == 64
    assert meta["created_at"].endswith("+00:00")
    assert "model_version" not in meta and "model_name" not in meta


def test_keep_and_proba(
    tmp_path: Path, trained: tuple[Path, LogisticRegression], data: pd.DataFrame
) -> None:
    folder, model = trained
    _predict(tmp_path, folder, keep=["id"], proba=True, chunk_rows=50)
    out = pd.read_parquet(tmp_path / "out.parquet")
    assert list(out.columns) == ["id", "prediction", "probability_0", "probability_1"]
    expected = model.predict_proba(data[["x", "y"]])
    np.testing.assert_allclose(out[["probability_0", "probability_1"]].to_numpy(), expected)


def test_unknown_keep_column_is_refused(
    tmp_path: Path, trained: tuple[Path, LogisticRegression], data: pd.DataFrame
) -> None:
    with pytest.raises(InvalidInput, match=r"cannot keep \['nope'\]"):
        _predict(tmp_path, trained[0], keep=["id", "nope"])


def test_progress_reports_rows_done_of_the_total(
    tmp_path: Path, trained: tuple[Path, LogisticRegression], data: pd.DataFrame
) -> None:
    seen: list[tuple[int, int | None]] = []
    _predict(tmp_path, trained[0], chunk_rows=40, on_progress=lambda d, t: seen.append((d, t)))
    assert seen == [(0, 103), (40, 103), (80, 103), (103, 103)]


def test_a_violating_chunk_stops_the_job_and_leaves_no_file(
    tmp_path: Path, trained: tuple[Path, LogisticRegression], data: pd.DataFrame
) -> None:
    data.loc[57, "x"] = 99.0
    data.to_parquet(tmp_path / "in.parquet", index=False)
    (tmp_path / "out.parquet").write_text("yesterday's")
    with pytest.raises(InvalidInput) as caught:
        _predict(tmp_path, trained[0], chunk_rows=20)
    message = caught.value.message
    assert "rows 40 to 59" in message and "row 57 column 'x': above_maximum" in message
    assert caught.value.details["violations"][0]["row"] == 57
    assert (tmp_path / "out.parquet").read_text() == "yesterday's"
    assert {p.name for p in tmp_path.iterdir()} == {"in.parquet", "out.parquet"}


def test_warn_predicts_anyway_and_clip_clips(
    tmp_path: Path, trained: tuple[Path, LogisticRegression], data: pd.DataFrame
) -> None:
    data.loc[[3, 90], "x"] = 99.0
    data.to_parquet(tmp_path / "in.parquet", index=False)
    assert _predict(tmp_path, trained[0], policy="warn").violations == 2
    assert pd.read_parquet(tmp_path / "out.parquet")["prediction"].iloc[3] == 1
    assert _predict(tmp_path, trained[0], policy="clip").violations == 0


def test_csv_input(tmp_path: Path, trained: tuple[Path, LogisticRegression]) -> None:
    folder, model = trained
    frame = _features(30, seed=2).round(3)
    frame["x"] = frame["x"].round()  # a float column that reads as integers in CSV
    frame.to_csv(tmp_path / "in.csv", index=False)
    predict_file(str(folder), tmp_path / "in.csv", tmp_path / "out.parquet", workers=1)
    out = pd.read_parquet(tmp_path / "out.parquet")
    assert out["x"].dtype == np.float64
    assert out["prediction"].tolist() == model.predict(frame).tolist()


def test_bad_paths_are_named(tmp_path: Path, trained: tuple[Path, LogisticRegression]) -> None:
    folder = str(trained[0])
    source = tmp_path / "in.parquet"
    _features(5).to_parquet(source)
    with pytest.raises(NotFound, match=r"input file .*missing\.parquet' does not exist"):
        predict_file(folder, tmp_path / "missing.parquet", tmp_path / "out.parquet")
    with pytest.raises(InvalidInput, match=r"folder .*nowhere' does not exist"):
        predict_file(folder, source, tmp_path / "nowhere" / "out.parquet")
    with pytest.raises(InvalidInput, match="would overwrite the input"):
        predict_file(folder, source, source)
    with pytest.raises(InvalidInput, match="must be a local path"):
        predict_file(folder, source, "s3://bucket/out.parquet")
    (tmp_path / "junk.parquet").write_text("not parquet")
    with pytest.raises(InvalidInput, match=r"cannot read .*junk\.parquet' as Parquet"):
        predict_file(folder, tmp_path / "junk.parquet", tmp_path / "out.parquet")
    with pytest.raises(InvalidInput, match="cannot load 'no-such-folder'"):
        predict_file("no-such-folder", source, tmp_path / "out.parquet")
    with pytest.raises(InvalidInput, match="unknown policy 'maybe'"):
        predict_file(folder, source, tmp_path / "out.parquet", policy="maybe")
    assert not (tmp_path / "out.parquet").exists()


def test_empty_input_is_refused(tmp_path: Path, trained: tuple[Path, LogisticRegression]) -> None:
    _features(0).to_parquet(tmp_path / "in.parquet")
    with pytest.raises(InvalidInput, match="has no rows"):
        _predict(tmp_path, trained[0])
    assert not (tmp_path / "out.parquet").exists()


def test_a_prediction_column_in_the_input_is_refused(
    tmp_path: Path, trained: tuple[Path, LogisticRegression]
) -> None:
    _features(5).assign(prediction=1).to_parquet(tmp_path / "in.parquet")
    with pytest.raises(InvalidInput, match="already has a column 'prediction'"):
        _predict(tmp_path, trained[0])


def test_metadata_of_other_files(tmp_path: Path) -> None:
    pq.write_table(pa.table({"a": [1]}), tmp_path / "plain.parquet")
    assert read_prediction_metadata(tmp_path / "plain.parquet") == {}
    with pytest.raises(NotFound):
        read_prediction_metadata(tmp_path / "missing.parquet")


def test_in_order_keeps_order_and_bounds_what_is_in_flight() -> None:
    """Results come in submission order though later chunks finish first, and no more than
    two chunks per worker are ever submitted and not yet handed back."""
    in_flight = 0
    most = 0

    def slow_first(offset: int) -> int:
        time.sleep(0.02 if offset % 20 == 0 else 0.0)
        return offset

    with ThreadPoolExecutor(4) as pool:

        def submit(table: pa.Table, offset: int) -> Future[int]:
            nonlocal in_flight, most
            in_flight += 1
            most = max(most, in_flight)
            return pool.submit(slow_first, offset)

        chunks = [(i * 10, pa.table({"a": [i]})) for i in range(12)]
        order = []
        for offset, _, answer in _in_order(chunks, submit, workers=2):  # type: ignore[arg-type]
            in_flight -= 1
            order.append((offset, answer))
    assert order == [(i * 10, i * 10) for i in range(12)]
    assert most == 4
