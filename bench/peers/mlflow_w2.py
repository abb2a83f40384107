"""W2 on MLflow: populate runs with ``log_batch``, then time ``search_runs`` and
``get_metric_history``; prints one JSON line.

Runs inside the MLflow peer venv (``bench/.peers/mlflow``); imports neither gnomon nor bench.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

FILTER = "metrics.acc > 0.9 and params.model = 'rf'"
ORDER_BY = ["metrics.f1 DESC"]


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--query-reps", type=int, default=20)
    return parser.parse_args()


def _populate(client: Any, experiment_id: str, data: dict[str, Any]) -> str:
    from mlflow.entities import Metric, Param

    cols = data["runs"]
    now = int(time.time() * 1000)
    for i in range(len(cols["model"])):
        run_id = client.create_run(experiment_id, run_name=f"run-{i}").info.run_id
        metrics = [Metric(key, cols[key][i], now, 0) for key in ("acc", "f1", "loss")]
        params = [Param("model", cols["model"][i]), Param("depth", cols["depth"][i])]
        client.log_batch(run_id, metrics=metrics, params=params)
        client.set_terminated(run_id)
    run_id = client.create_run(experiment_id, run_name="history").info.run_id
    history = [Metric("loss", value, now, step) for step, value in enumerate(data["history"])]
    client.log_batch(run_id, metrics=history)
    client.set_terminated(run_id)
    return str(run_id)


def _median_ms(call: Callable[[], list[Any]], reps: int) -> tuple[float, list[Any]]:
    result = call()  # warm-up
    samples = []
    for _ in range(reps):
        started = time.perf_counter()
        result = call()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples), result


def main() -> None:
    args = _parse()
    data = json.loads(args.data.read_text())
    began = time.perf_counter()
    import mlflow
    from mlflow import MlflowClient

    imported = time.perf_counter()
    client = MlflowClient()
    experiment_id = client.create_experiment("w2", artifact_location=str(args.workdir / "art"))
    ready = time.perf_counter()
    history_run = _populate(client, experiment_id, data)
    populated = time.perf_counter()

    def search() -> list[str]:
        found = client.search_runs(
            [experiment_id], filter_string=FILTER, order_by=ORDER_BY, max_results=100
        )
        return [run.info.run_name for run in found]

    search_ms, names = _median_ms(search, args.query_reps)
    history_ms, history = _median_ms(
        lambda: client.get_metric_history(history_run, "loss"), args.query_reps
    )
    figures = {
        "seconds": search_ms / 1000,
        "search_ms": search_ms,
        "history_ms": history_ms,
        "rows": len(names),
        "first_run": names[0] if names else None,
        "history_points": len(history),
        "populate_seconds": populated - ready,
        "import_s": imported - began,
        "startup_s": ready - began,
        "version": mlflow.__version__,
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
