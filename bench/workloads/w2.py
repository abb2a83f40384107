"""W2 and W2L on gnomon: populate runs, then time the search and the metric history read in
a fresh process, through the calls a user makes; prints one JSON line.

W2 makes its runs with ``gnomon.start_run`` (so they carry the code-version and environment
tags real runs carry). W2L's 100,000 runs are made with ``Client.create_run`` + ``log_batch``
carrying the tags of one ``start_run`` run, so they look the same at a fraction of the time.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from types import ModuleType
from typing import Any

from bench.workloads._common import FILTER, ORDER_BY, emit, load, median_ms, parser


def _populate_fluent(gnomon: ModuleType, data: dict[str, Any]) -> str:
    cols = data["runs"]
    gnomon.set_experiment("w2")
    for i in range(len(cols["model"])):
        with gnomon.start_run(name=f"run-{i}"):
            gnomon.log_params({"model": cols["model"][i], "depth": cols["depth"][i]})
            gnomon.log_metrics({key: cols[key][i] for key in ("acc", "f1", "loss")}, step=0)
    return _history(gnomon, data)


def _populate_batch(gnomon: ModuleType, data: dict[str, Any]) -> str:
    cols = data["runs"]
    gnomon.set_experiment("w2")
    with gnomon.start_run(name="tags-template") as template:
        pass
    client = gnomon.Client()
    experiment_id = template.experiment_id
    tags = {k: v for k, v in client.get_run(template.id).tags.items() if k.startswith("gnomon.")}
    client.delete_run(template.id)
    now = int(time.time() * 1000)
    for i in range(len(cols["model"])):
        run_id = client.create_run(experiment_id=experiment_id, name=f"run-{i}", tags=tags).id
        metrics = [
            gnomon.Metric(key=key, value=cols[key][i], step=0, timestamp=now)
            for key in ("acc", "f1", "loss")
        ]
        params = {"model": cols["model"][i], "depth": cols["depth"][i]}
        client.log_batch(run_id, metrics=metrics, params=params, tags={})
        client.end_run(run_id)
    return _history(gnomon, data)


def _history(gnomon: ModuleType, data: dict[str, Any]) -> str:
    client = gnomon.Client()
    with gnomon.start_run(name="history") as run:
        now = int(time.time() * 1000)
        history = [
            gnomon.Metric(key="loss", value=value, step=step, timestamp=now)
            for step, value in enumerate(data["history"])
        ]
        client.log_batch(run.id, metrics=history, params={}, tags={})
    return str(run.id)


def _query(history_run: str, reps: int) -> dict[str, Any]:
    """The timed part, in a fresh process: first call, then the median of ``reps`` more."""
    began = time.perf_counter()
    import gnomon

    client = gnomon.Client()

    def search() -> list[str]:
        page = client.search_runs(
            experiment="w2", filter=FILTER, order_by=ORDER_BY, max_results=100
        )
        return [run.name for run in page]

    first = time.perf_counter()
    search()
    first_ms = (time.perf_counter() - first) * 1000
    search_ms, found = median_ms(search, reps)
    history_ms, history = median_ms(lambda: client.get_metric_history(history_run, "loss"), reps)
    return {
        "seconds": search_ms / 1000,
        "search_ms": search_ms,
        "first_search_ms": first_ms,
        "history_ms": history_ms,
        "rows": len(found),
        "first_run": found[0] if found else None,
        "history_points": len(history),
        "startup_s": first - began,
        "version": gnomon.__version__,
    }


def main() -> None:
    cli = parser()
    cli.add_argument("--query-reps", type=int, default=20)
    cli.add_argument("--populate", choices=("fluent", "batch"), default="fluent")
    cli.add_argument("--query", metavar="RUN_ID", help="time the queries only, here")
    args = cli.parse_args()
    if args.query:
        emit(_query(args.query, args.query_reps))
        return
    data = load(args.data)
    import gnomon

    began = time.perf_counter()
    populate = _populate_fluent if args.populate == "fluent" else _populate_batch
    history_run = populate(gnomon, data)
    populated = time.perf_counter() - began
    gnomon.flush()
    command = [sys.executable, "-m", "bench.workloads.w2", "--data", str(args.data)]
    command += ["--workdir", str(args.workdir), "--query-reps", str(args.query_reps)]
    done = subprocess.run(
        [*command, "--query", history_run],
        capture_output=True,
        text=True,
        check=True,
        env=os.environ,
    )
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    emit({**figures, "populate_seconds": populated, "populate": args.populate})


if __name__ == "__main__":
    main()
