"""W1 on MLflow: a training loop logging one metric point per call; prints one JSON line.

Runs inside the MLflow peer venv (``bench/.peers/mlflow``); imports neither gnomon nor bench.
Modes: ``per-call`` (synchronous ``log_metric``) and ``async`` (``synchronous=False`` with
MLflow's 1 s batching, ``MLFLOW_ASYNC_LOGGING_BUFFERING_SECONDS``, its fastest mode).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path
from typing import Any


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--mode", choices=("per-call", "async"), default="per-call")
    return parser.parse_args()


def _train(mlflow: Any, runs: list[dict[str, Any]], steps: int, sync: bool) -> list[float]:
    start_ms: list[float] = []
    for spec in runs:
        started = time.perf_counter()
        active = mlflow.start_run(run_name=spec["name"])
        start_ms.append((time.perf_counter() - started) * 1000)
        with active:
            mlflow.log_params(spec["params"], synchronous=sync)
            for step in range(steps):
                for key, values in spec["metrics"].items():
                    mlflow.log_metric(key, values[step], step=step, synchronous=sync)
    mlflow.flush_async_logging()  # end_run already drains the queue; a no-op when idle
    return start_ms


def _stored(client: Any, experiment_id: str) -> dict[str, int]:
    """Points read back, and the ``mlflow.*`` tags (source, git, user) of the first run."""
    runs = client.search_runs([experiment_id], max_results=1000)
    points = sum(
        len(client.get_metric_history(run.info.run_id, key))
        for run in runs
        for key in run.data.metrics
    )
    env_tags = sum(1 for tag in runs[0].data.tags if tag.startswith("mlflow.")) if runs else 0
    return {"points_stored": points, "env_tags": env_tags}


def main() -> None:
    args = _parse()
    if args.mode == "async":
        os.environ["MLFLOW_ASYNC_LOGGING_BUFFERING_SECONDS"] = "1"
    data = json.loads(args.data.read_text())
    began = time.perf_counter()
    import mlflow
    from mlflow import MlflowClient

    imported = time.perf_counter()
    client = MlflowClient()
    experiment_id = client.create_experiment("w1", artifact_location=str(args.workdir / "art"))
    mlflow.set_experiment(experiment_id=experiment_id)
    ready = time.perf_counter()
    start_ms = _train(mlflow, data["runs"], data["steps"], sync=args.mode == "per-call")
    seconds = time.perf_counter() - ready
    points = len(data["runs"]) * data["steps"] * len(data["runs"][0]["metrics"])
    figures = {
        "seconds": seconds,
        "points_per_s": points / seconds,
        "start_run_ms": statistics.median(start_ms),
        "first_start_run_ms": start_ms[0],
        "import_s": imported - began,
        "startup_s": ready - began,
        **_stored(client, experiment_id),
        "version": mlflow.__version__,
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
