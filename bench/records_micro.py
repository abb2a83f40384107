"""Prediction records, old path against new: ``python -m bench.records_micro [--requests N]``.

Submits N one-row requests of 20 float columns (parsed and cast as the server does) to a
:class:`~gnomon.predictions.records.RecordWriter` on a local store, first as the server did
(records built row by row, copied below, then ``submit``), then with ``submit_request``, and
prints per path (the old path's building shows in the request column: the server once
deferred it to the writer thread, so compare the two columns' sum):

- request path: CPU µs per submit on the calling thread (what a request pays);
- writer: CPU seconds per 1,000 records spent building and writing them, measured as the
  process's CPU time over the submits and the final flush minus the calling thread's submits.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pandas as pd

from gnomon.artifacts import LocalArtifactStore
from gnomon.modelfolder import ColumnSpec, Contract
from gnomon.predictions.entities import AnsweredRequest, PredictionRecord
from gnomon.predictions.records import RecordWriter
from gnomon.serving.enforce import Policy, enforce
from gnomon.serving.inputs import parse_body

COLUMNS = [f"f{i}" for i in range(20)]
CONTRACT = Contract(inputs=[ColumnSpec(name, "float64") for name in COLUMNS])
T0 = 1_700_000_000_000

Answer = tuple[str, pd.DataFrame, list[Any], float]
Submit = Callable[[RecordWriter, Answer], None]


def _answers(count: int) -> list[Answer]:
    """Requests as the server holds them after predicting: id, checked frame, outputs, latency."""
    rng = np.random.default_rng(0)
    answers: list[Answer] = []
    for index, values in enumerate(rng.normal(size=(count, len(COLUMNS))).tolist()):
        body = orjson.dumps({"records": [dict(zip(COLUMNS, values, strict=True))]})
        frame, _ = enforce(parse_body(body, "application/json", COLUMNS), CONTRACT, Policy.REJECT)
        answers.append((f"req-{index}", frame, [index % 2], 0.8))
    return answers


def _old_records(
    request_id: str, frame: pd.DataFrame, values: list[Any], latency_ms: float
) -> list[PredictionRecord]:
    """The server's builder before submit_request (``serving/app.py`` ``_records``)."""
    now = int(time.time() * 1000)
    rows = frame.to_dict(orient="records")
    found: list[dict[str, Any]] = []
    per_row = latency_ms / max(len(rows), 1)
    return [
        PredictionRecord(
            request_id=request_id if len(rows) == 1 else f"{request_id}:{index}",
            time_ms=now,
            deployment="w3",
            model_name="w3",
            model_version=1,
            role="primary",
            inputs=row,
            outputs=value,
            latency_ms=per_row,
            violations=[v for v in found if v["row"] == index] or None,
        )
        for index, (row, value) in enumerate(zip(rows, values, strict=True))
    ]


def _submit_old(writer: RecordWriter, answer: Answer) -> None:
    request_id, frame, values, latency_ms = answer
    writer.submit(_old_records(request_id, frame, values, latency_ms))


def _submit_new(writer: RecordWriter, answer: Answer) -> None:
    request_id, frame, values, latency_ms = answer
    now = int(time.time() * 1000)
    writer.submit_request(
        AnsweredRequest(request_id, now, "w3", "w3", 1, "primary", frame, values, latency_ms)
    )


def _measure(submit: Submit, answers: list[Answer], root: Path) -> tuple[float, float]:
    """(request-path µs per submit, writer CPU seconds per 1,000 records)."""
    writer = RecordWriter(LocalArtifactStore(root), interval=3600.0)
    process_start = time.process_time()
    thread_start = time.thread_time()
    for answer in answers:
        submit(writer, answer)
    request_cpu = time.thread_time() - thread_start
    writer.close()  # writes everything still queued, on this thread
    writer_cpu = time.process_time() - process_start - request_cpu
    assert writer.written == len(answers), (writer.written, writer.dropped)
    return request_cpu / len(answers) * 1e6, writer_cpu / len(answers) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.records_micro", description=__doc__)
    parser.add_argument("--requests", type=int, default=20_000, help="one-row requests per run")
    parser.add_argument("--reps", type=int, default=3, help="runs per path; medians are shown")
    args = parser.parse_args()
    answers = _answers(args.requests)
    results: dict[str, list[tuple[float, float]]] = {"old": [], "new": []}
    with tempfile.TemporaryDirectory() as tmp:
        for rep in range(args.reps):
            for name, submit in (("old", _submit_old), ("new", _submit_new)):
                results[name].append(_measure(submit, answers, Path(tmp) / f"{name}-{rep}"))
    print(
        f"{args.requests:,} one-row requests of {len(COLUMNS)} float columns, median of {args.reps}"
    )
    print(f"{'path':<5} {'request µs/submit':>18} {'writer CPU s/1k records':>24}")
    for name, samples in results.items():
        request_us = statistics.median(s[0] for s in samples)
        writer_s = statistics.median(s[1] for s in samples)
        print(f"{name:<5} {request_us:>18.2f} {writer_s:>24.4f}")


if __name__ == "__main__":
    main()
