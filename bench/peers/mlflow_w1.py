"""W1 on MLflow: a training loop logging one metric point per call; prints one JSON line.

Runs inside the MLflow peer venv (``bench/.peers/mlflow``); imports neither gnomon nor bench.
Modes: ``per-call`` (synchronous ``log_metric``) and ``async`` (``synchronous=False`` with
MLflow's 1 s batching, ``MLFLOW_ASYNC_LOGGING_BUFFERING_SECONDS``, its fastest mode).
``--points N`` logs only the first N points (whole runs, or the first steps of one run) and
reports ``seconds`` extrapolated to the full data set, for the slow per-call mode over HTTP.
``--request-reps N`` adds ``request_p50_ms``: the median of N ``get_experiment`` calls.
Over HTTP, per-call mode also reports ``floor_seconds``: the same loop against a proxy that
replays the server's answers (``canned_proxy.py``), the client's own cost.
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
    parser.add_argument("--points", type=int, default=0, help="log only this many (0: all)")
    parser.add_argument("--request-reps", type=int, default=0)
    return parser.parse_args()


def _subset(runs: list[dict[str, Any]], steps: int, points: int) -> tuple[list[Any], int]:
    """The first ``points`` points: whole runs, or the first steps of the first run."""
    per_run = steps * len(runs[0]["metrics"])
    if points <= 0 or points >= per_run * len(runs):
        return runs, steps
    if points >= per_run:
        return runs[: points // per_run], steps
    return runs[:1], max(1, points // len(runs[0]["metrics"]))


def _request_p50_ms(client: Any, experiment_id: str, reps: int) -> dict[str, float]:
    """Median latency of a small call, ``get_experiment``, after one warm-up."""
    if reps <= 0:
        return {}
    client.get_experiment(experiment_id)
    samples = []
    for _ in range(reps):
        started = time.perf_counter()
        client.get_experiment(experiment_id)
        samples.append((time.perf_counter() - started) * 1000)
    return {"request_p50_ms": statistics.median(samples)}


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


def _client_floor(
    mlflow: Any, experiment_id: str, runs: list[Any], steps: int, scale: float, mode: str
) -> dict[str, float]:
    """The same loop against a proxy that replays the server's answers: the client's cost."""
    upstream = os.environ.get("MLFLOW_TRACKING_URI", "")
    if mode != "per-call" or not upstream.startswith("http"):
        return {}
    from canned_proxy import canned

    with canned(upstream) as url:
        mlflow.set_tracking_uri(url)
        try:
            mlflow.set_experiment(experiment_id=experiment_id)
            _train(mlflow, runs[:1], 1, sync=True)  # the proxy learns each call's answer
            started = time.perf_counter()
            _train(mlflow, runs, steps, sync=True)
            measured = time.perf_counter() - started
        finally:
            mlflow.set_tracking_uri(upstream)
    return {"floor_seconds": measured * scale}


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
    over_http = os.environ.get("MLFLOW_TRACKING_URI", "").startswith("http")
    # A server keeps artifacts where it is configured to (gnomon refuses a chosen location).
    location = None if over_http else str(args.workdir / "art")
    experiment_id = client.create_experiment("w1", artifact_location=location)
    mlflow.set_experiment(experiment_id=experiment_id)
    ready = time.perf_counter()
    runs, steps = _subset(data["runs"], data["steps"], args.points)
    start_ms = _train(mlflow, runs, steps, sync=args.mode == "per-call")
    measured = time.perf_counter() - ready
    total = len(data["runs"]) * data["steps"] * len(data["runs"][0]["metrics"])
    points = len(runs) * steps * len(runs[0]["metrics"])
    figures = {
        "seconds": measured * total / points,
        "points_per_s": points / measured,
        "extrapolated": points < total,
        "points_measured": points,
        "seconds_measured": measured,
        "start_run_ms": statistics.median(start_ms),
        "first_start_run_ms": start_ms[0],
        "import_s": imported - began,
        "startup_s": ready - began,
        **_stored(client, experiment_id),
        **_request_p50_ms(client, experiment_id, args.request_reps),
        **_client_floor(mlflow, experiment_id, runs, steps, total / points, args.mode),
        "version": mlflow.__version__,
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
