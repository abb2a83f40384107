"""W2 on MLflow: populate runs with ``mlflow.start_run``, then time ``mlflow.search_runs`` by
experiment name and ``get_metric_history`` in a fresh process; prints one JSON line.

Runs inside the MLflow peer venv (``bench/.peers/mlflow``); imports neither gnomon nor bench.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
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
    parser.add_argument("--query", metavar="RUN_ID", help="time the queries only, here")
    return parser.parse_args()


def _populate(data: dict[str, Any], workdir: Path) -> str:
    """Runs made as a user makes them, with ``mlflow.start_run`` (and its source tags)."""
    import mlflow
    from mlflow import MlflowClient
    from mlflow.entities import Metric

    over_http = os.environ.get("MLFLOW_TRACKING_URI", "").startswith("http")
    # A server keeps artifacts where it is configured to (gnomon refuses a chosen location).
    mlflow.create_experiment("w2", artifact_location=None if over_http else str(workdir / "art"))
    mlflow.set_experiment("w2")
    cols = data["runs"]
    for i in range(len(cols["model"])):
        with mlflow.start_run(run_name=f"run-{i}"):
            mlflow.log_params({"model": cols["model"][i], "depth": cols["depth"][i]})
            mlflow.log_metrics({key: cols[key][i] for key in ("acc", "f1", "loss")}, step=0)
    now = int(time.time() * 1000)
    with mlflow.start_run(run_name="history") as run:
        history = [Metric("loss", value, now, step) for step, value in enumerate(data["history"])]
        MlflowClient().log_batch(run.info.run_id, metrics=history)
    return str(run.info.run_id)


def _median_ms(call: Callable[[], list[Any]], reps: int) -> tuple[float, list[Any]]:
    result = call()  # warm-up
    samples = []
    for _ in range(reps):
        started = time.perf_counter()
        result = call()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples), result


def _query(history_run: str, reps: int) -> dict[str, Any]:
    """The timed part, in a fresh process, by experiment name as a user searches."""
    began = time.perf_counter()
    import mlflow
    from mlflow import MlflowClient

    client = MlflowClient()

    def search() -> list[str]:
        found = mlflow.search_runs(
            experiment_names=["w2"],
            filter_string=FILTER,
            order_by=ORDER_BY,
            max_results=100,
            output_format="list",
        )
        return [run.info.run_name for run in found]

    first = time.perf_counter()
    search()
    first_ms = (time.perf_counter() - first) * 1000
    search_ms, names = _median_ms(search, reps)
    history_ms, history = _median_ms(lambda: client.get_metric_history(history_run, "loss"), reps)
    floor = _client_floor(search, history_run, reps)
    return {
        "seconds": search_ms / 1000,
        "search_ms": search_ms,
        "first_search_ms": first_ms,
        "history_ms": history_ms,
        "rows": len(names),
        "first_run": names[0] if names else None,
        "history_points": len(history),
        "startup_s": first - began,
        **floor,
        "version": mlflow.__version__,
    }


def _client_floor(search: Callable[[], list[str]], history_run: str, reps: int) -> dict[str, Any]:
    """The same calls against a proxy that replays the server's answers: the client's cost."""
    upstream = os.environ.get("MLFLOW_TRACKING_URI", "")
    if not upstream.startswith("http"):
        return {}
    import mlflow
    from canned_proxy import canned
    from mlflow import MlflowClient

    with canned(upstream) as url:
        mlflow.set_tracking_uri(url)
        try:
            client = MlflowClient(url)
            search_ms, _ = _median_ms(search, reps)
            history_ms, _ = _median_ms(lambda: client.get_metric_history(history_run, "loss"), reps)
        finally:
            mlflow.set_tracking_uri(upstream)
    return {"search_floor_ms": search_ms, "history_floor_ms": history_ms}


def main() -> None:
    args = _parse()
    if args.query:
        print(json.dumps(_query(args.query, args.query_reps)))
        return
    data = json.loads(args.data.read_text())
    began = time.perf_counter()
    history_run = _populate(data, args.workdir)
    populated = time.perf_counter() - began
    command = [sys.executable, __file__, "--data", str(args.data), "--workdir", str(args.workdir)]
    done = subprocess.run(
        [*command, "--query-reps", str(args.query_reps), "--query", history_run],
        capture_output=True,
        text=True,
        check=True,
        env=os.environ,
    )
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    print(json.dumps({**figures, "populate_seconds": populated}))


if __name__ == "__main__":
    main()
