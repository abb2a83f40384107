"""MON's setup: a gnomon home with a training dataset version, a model trained on it and the
deployment ``web`` serving it, and a day of that deployment's prediction records, written as
the model server writes them.

The data has W6's shape (``bench.data.w6_table``: 20 standard normal columns ``n00``..``n19``,
5 text columns ``c0``..``c4``); the last hours are W6's *current* table, so the monitor must
find drift there and nowhere else. Records are Parquet files of
``gnomon.predictions.records.RECORD_COLUMNS`` under
``records/deployment=web/date=YYYY-MM-DD/hour=HH/part-<ms>-<uuid>.parquet``: a request per
row, ``inputs`` the JSON object of the row, ``outputs`` the model's prediction, no violations,
``time`` spaced evenly through each hour at ``rate`` a second. The server writes a file about
every second; these are one file a minute (``FILE_S``), so a day is 1,440 files, not 86,400.

Each row's JSON is built by DuckDB (``json_object``, vectorised and on every core): the same
JSON a record holds, at about 4 s an hour of 1,080,000 rows on two cores, where pyarrow's
float-to-text cast alone takes 14 s.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.data import W6_CATEGORIES, W6_NUMERIC, w6_table

DEPLOYMENT, MODEL, DATASET = "web", "mon", "mon-train"
TRAIN_ROWS, FIT_ROWS = 100_000, 5_000
HOUR_MS = 3_600_000
FILE_S = 60  # seconds of records per file
MANIFEST = "manifest.json"  # written last: a folder without it is an unfinished generation

NUMERIC = [f"n{index:02d}" for index in range(W6_NUMERIC)]
CATEGORICAL = [f"c{index}" for index in range(len(W6_CATEGORIES))]


def labels(frame: Any) -> Any:
    """What the model learns: a linear rule on three numbers and one category, so shifting
    ``n02`` moves the predictions too."""
    score = frame["n00"] + frame["n02"] - 0.5 * frame["n05"] + (frame["c1"] == "c1-00")
    return (score > 0.5).astype(int)


def build_home(seed: int) -> Any:
    """In the current ``GNOMON_HOME``: dataset ``mon-train`` (``TRAIN_ROWS`` rows), a one-hot +
    logistic regression pipeline fitted on its first ``FIT_ROWS`` rows, logged with
    ``training_data`` (its contract comes from the dataset), registered as ``mon`` version 1
    and served by deployment ``web``. Returns the fitted pipeline."""
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    import gnomon

    train = w6_table(TRAIN_ROWS, seed).to_pandas()
    version = gnomon.log_dataset(train, DATASET)
    fit = train.iloc[:FIT_ROWS]
    encode = ColumnTransformer(
        [("categories", OneHotEncoder(handle_unknown="ignore"), CATEGORICAL)],
        remainder="passthrough",
    )
    model = make_pipeline(encode, LogisticRegression(max_iter=500)).fit(fit, labels(fit))
    with gnomon.start_run(name="mon"):
        uri = gnomon.log_model(model, "model", input_example=fit.head(5), training_data=version.ref)
    gnomon.register_model(uri, MODEL)
    gnomon.get_client().deployments.create(DEPLOYMENT, f"{MODEL}/1")
    return model


def span(hours: int, now_ms: int) -> tuple[int, int]:
    """``hours`` whole hours ending at least an hour before ``now_ms``: every window closed."""
    end = (now_ms // HOUR_MS - 1) * HOUR_MS
    return end - hours * HOUR_MS, end


def write_records(
    folder: Path, model: Any, generated: dict[str, Any], now_ms: int
) -> dict[str, Any]:
    """Generate the records ``generated`` (MON's data: hours, rate, shifted hours, seed)
    describes into ``folder``/records, then its manifest (the span, the rows, the seconds)."""
    import numpy as np

    started = time.perf_counter()
    hours, rate, seed = generated["hours"], generated["rate"], generated["seed"]
    start, end = span(hours, now_ms)
    rng = np.random.default_rng(seed)
    rows = 0
    with ThreadPoolExecutor(2) as pool:  # pyarrow writes without the GIL: overlap the next hour
        pending: list[Any] = []
        for hour in range(hours):
            shifted = hour >= hours - generated["shifted_hours"]
            table = _hour_table(model, rng, seed + 1 + hour, start + hour * HOUR_MS, rate, shifted)
            for future in pending:
                future.result()
            pending = _write_hour(pool, folder / "records", table, start + hour * HOUR_MS, rate)
            rows += table.num_rows
        for future in pending:
            future.result()
    seconds = time.perf_counter() - started
    manifest = {"start_ms": start, "end_ms": end, "rows": rows, "hours": hours, "seconds": seconds}
    (folder / MANIFEST).write_text(json.dumps(manifest))
    return manifest


def cached_records(cache: Path, model: Any, generated: dict[str, Any], now_ms: int) -> Path:
    """``cache``, holding the records, generated there on first use (an unfinished folder
    from a failed run is generated again)."""
    if (cache / MANIFEST).exists():
        return cache
    shutil.rmtree(cache, ignore_errors=True)
    partial = cache.with_name(cache.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    write_records(partial, model, generated, now_ms)
    partial.rename(cache)
    return cache


def link_records(cache: Path, store_root: Path) -> dict[str, Any]:
    """The cached records hard-linked into a predictions store's folder (read only by the
    monitor, so every repetition can share the files); the cache's manifest."""
    target = store_root / "records"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(cache / "records", target, copy_function=os.link)
    manifest: dict[str, Any] = json.loads((cache / MANIFEST).read_text())
    return manifest


def _hour_table(model: Any, rng: Any, seed: int, hour_ms: int, rate: int, shifted: bool) -> Any:
    """One hour of records as an Arrow table of ``RECORD_COLUMNS``, then the typed copy of
    each input (``in.<name>``) that the model server writes beside the JSON."""
    import numpy as np
    import pyarrow as pa

    from gnomon.predictions.columnar import TYPED_PREFIX
    from gnomon.predictions.records import RECORD_COLUMNS
    from gnomon.predictions.writer import schema

    rows = 3600 * rate
    inputs = w6_table(rows, seed, current=shifted)
    predictions = predict(model, inputs)
    wanted = schema(RECORD_COLUMNS)
    offsets = np.arange(rows, dtype=np.int64) * 1000 // rate
    columns = {
        "request_id": _request_ids(rng, rows),
        "time": pa.array(hour_ms + offsets, wanted.field("time").type),
        "deployment": pa.repeat(pa.scalar(DEPLOYMENT), rows),
        "model_name": pa.repeat(pa.scalar(MODEL), rows),
        "model_version": pa.repeat(pa.scalar(1, pa.int64()), rows),
        "role": pa.repeat(pa.scalar("primary"), rows),
        "latency_ms": pa.array(0.4 + rng.exponential(0.6, rows)),
        "inputs": _json_objects(inputs),
        "outputs": pa.array(predictions.astype(np.int64)).cast(pa.string()),
        "violations": pa.nulls(rows, pa.string()),
    }
    table = pa.Table.from_arrays([columns[name] for name in wanted.names], schema=wanted)
    for name in inputs.column_names:
        table = table.append_column(TYPED_PREFIX + name, inputs.column(name))
    return table


def predict(model: Any, inputs: Any) -> Any:
    """``model.predict`` of an Arrow table, worked out from the fitted pipeline's own weights:
    its OneHotEncoder takes ~4 s an hour of text values, this ~0.2 s. The first rows are
    checked against ``model.predict`` itself.

    Raises:
        RuntimeError: the two disagree (the pipeline is not the one ``build_home`` fits).
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    encode, classifier = model[0], model[-1]
    weights = dict(zip(encode.get_feature_names_out(), classifier.coef_[0], strict=True))
    score = np.full(inputs.num_rows, classifier.intercept_[0])
    for name in NUMERIC:
        score += weights[f"remainder__{name}"] * inputs.column(name).to_numpy()
    found = encode.named_transformers_["categories"].categories_
    for name, categories in zip(CATEGORICAL, found, strict=True):
        per_code = np.array([weights[f"categories__{name}_{v}"] for v in categories] + [0.0])
        codes = pc.index_in(inputs.column(name), value_set=pa.array(categories.tolist()))
        score += per_code[pc.fill_null(codes, len(categories)).to_numpy()]  # unknown: none
    predictions = classifier.classes_[(score > 0).astype(int)]
    head = inputs.slice(0, 10_000)
    if not np.array_equal(predictions[: head.num_rows], model.predict(head.to_pandas())):
        raise RuntimeError("predictions from the weights differ from model.predict")
    return predictions


def _json_objects(table: Any) -> Any:
    """Each row of ``table`` as its JSON object text (keys: the column names)."""
    import duckdb

    pairs = ", ".join(f"'{name}', \"{name}\"" for name in table.column_names)
    with duckdb.connect() as con:
        con.execute("SET enable_progress_bar = false")
        con.register("inputs", table)
        found = con.sql(f"SELECT json_object({pairs})::VARCHAR AS inputs FROM inputs")
        return found.to_arrow_table().column("inputs").combine_chunks()


def _request_ids(rng: Any, rows: int) -> Any:
    """``rows`` distinct 32-digit hex ids, as the server's ``uuid4().hex``, without a Python
    string per row."""
    import numpy as np
    import pyarrow as pa

    digits = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
    nibbles = rng.integers(0, 16, size=(rows, 32), dtype=np.uint8)
    text = digits[nibbles].tobytes()
    offsets = np.arange(rows + 1, dtype=np.int32) * 32
    return pa.StringArray.from_buffers(rows, pa.py_buffer(offsets), pa.py_buffer(text))


def _write_hour(
    pool: ThreadPoolExecutor, records: Path, table: Any, hour_ms: int, rate: int
) -> list[Any]:
    """The hour's files, one per ``FILE_S`` seconds, written by ``pool``."""
    moment = datetime.fromtimestamp(hour_ms // 1000, UTC)
    folder = records / f"deployment={DEPLOYMENT}" / moment.strftime("date=%Y-%m-%d/hour=%H")
    folder.mkdir(parents=True)
    per_file = FILE_S * rate
    futures = []
    for index, first in enumerate(range(0, table.num_rows, per_file)):
        written_ms = hour_ms + (index + 1) * FILE_S * 1000  # when the server would write it
        name = f"part-{written_ms:013d}-{uuid.uuid4().hex}.parquet"
        futures.append(pool.submit(_write_file, table.slice(first, per_file), folder / name))
    return futures


def _write_file(table: Any, path: Path) -> None:
    import pyarrow.parquet as pq

    pq.write_table(table, path)  # the writer's own call: default (snappy) compression
    path.chmod(0o600)
