"""W1 on gnomon: a training loop logging one metric point per call; prints one JSON line.

Timed from the first ``start_run`` to the last run's end (the data durable). Environment
capture at ``start_run`` stays on: it is part of what W1 measures. With ``GNOMON_URI`` set to
a server (W1s) the same loop runs over HTTP; ``--request-reps N`` then adds
``request_p50_ms``, the median of N ``Client.get_experiment`` calls.
"""

from __future__ import annotations

import functools
import statistics
import time
from types import ModuleType
from typing import Any

from bench.workloads._common import emit, load, median_ms, parser


def _train(gnomon: ModuleType, runs: list[dict[str, Any]], steps: int) -> list[float]:
    start_ms: list[float] = []
    for spec in runs:
        started = time.perf_counter()
        active = gnomon.start_run(name=spec["name"])
        start_ms.append((time.perf_counter() - started) * 1000)
        with active:
            gnomon.log_params(spec["params"])
            for step in range(steps):
                for key, values in spec["metrics"].items():
                    gnomon.log_metric(key, values[step], step=step)
    return start_ms


def _stored(gnomon: ModuleType, runs: list[dict[str, Any]]) -> dict[str, int]:
    """Points read back, and the environment tags (``gnomon.*``) of the first run."""
    client = gnomon.Client()
    page = client.search_runs(experiment="w1", max_results=1000)
    keys = list(runs[0]["metrics"])
    points = sum(len(client.get_metric_history(run.id, key)) for run in page for key in keys)
    env_tags = sum(1 for tag in page[0].tags if tag.startswith("gnomon.")) if len(page) else 0
    return {"points_stored": points, "env_tags": env_tags}


def main() -> None:
    cli = parser()
    cli.add_argument("--request-reps", type=int, default=0)
    args = cli.parse_args()
    data = load(args.data)
    began = time.perf_counter()
    import gnomon

    imported = time.perf_counter()
    gnomon.set_experiment("w1")
    ready = time.perf_counter()
    start_ms = _train(gnomon, data["runs"], data["steps"])
    seconds = time.perf_counter() - ready
    points = len(data["runs"]) * data["steps"] * len(data["runs"][0]["metrics"])
    figures = {
        "seconds": seconds,
        "points_per_s": points / seconds,
        "extrapolated": False,
        "points_measured": points,
        "start_run_ms": statistics.median(start_ms),
        "first_start_run_ms": start_ms[0],
        "import_s": imported - began,
        "startup_s": ready - began,
        **_stored(gnomon, data["runs"]),
        "version": gnomon.__version__,
    }
    if args.request_reps > 0:
        client = gnomon.Client()
        call = functools.partial(client.get_experiment, "w1")
        figures["request_p50_ms"] = median_ms(call, args.request_reps)[0]
    emit(figures)


if __name__ == "__main__":
    main()
