"""W2 and W2L on gnomon: populate runs through ``Client.log_batch``, then time the search and
the metric history read; prints one JSON line.
"""

from __future__ import annotations

import time
from types import ModuleType
from typing import Any

from bench.workloads._common import FILTER, ORDER_BY, emit, load, median_ms, parser


def _populate(gnomon: ModuleType, client: Any, experiment_id: str, data: dict[str, Any]) -> str:
    cols = data["runs"]
    now = int(time.time() * 1000)
    for i in range(len(cols["model"])):
        run_id = client.create_run(experiment_id=experiment_id, name=f"run-{i}").id
        metrics = [
            gnomon.Metric(key=key, value=cols[key][i], step=0, timestamp=now)
            for key in ("acc", "f1", "loss")
        ]
        params = {"model": cols["model"][i], "depth": cols["depth"][i]}
        client.log_batch(run_id, metrics=metrics, params=params, tags={})
        client.end_run(run_id)
    run_id = client.create_run(experiment_id=experiment_id, name="history").id
    history = [
        gnomon.Metric(key="loss", value=value, step=step, timestamp=now)
        for step, value in enumerate(data["history"])
    ]
    client.log_batch(run_id, metrics=history, params={}, tags={})
    client.end_run(run_id)
    return str(run_id)


def main() -> None:
    cli = parser()
    cli.add_argument("--query-reps", type=int, default=20)
    args = cli.parse_args()
    data = load(args.data)
    began = time.perf_counter()
    import gnomon

    imported = time.perf_counter()
    client = gnomon.Client()
    experiment_id = client.create_experiment("w2").id
    ready = time.perf_counter()
    history_run = _populate(gnomon, client, experiment_id, data)
    populated = time.perf_counter()

    def search() -> list[str]:
        page = client.search_runs(
            experiment="w2", filter=FILTER, order_by=ORDER_BY, max_results=100
        )
        return [run.name for run in page]

    search_ms, found = median_ms(search, args.query_reps)
    history_ms, history = median_ms(
        lambda: client.get_metric_history(history_run, "loss"), args.query_reps
    )
    emit(
        {
            "seconds": search_ms / 1000,
            "search_ms": search_ms,
            "history_ms": history_ms,
            "rows": len(found),
            "first_run": found[0] if found else None,
            "history_points": len(history),
            "populate_seconds": populated - ready,
            "import_s": imported - began,
            "startup_s": ready - began,
            "version": gnomon.__version__,
        }
    )


if __name__ == "__main__":
    main()
