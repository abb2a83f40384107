"""UI and UIq on gnomon: the web pages' server time at size; prints one JSON line.

A fresh home gets one experiment of 10,000 finished runs (one ``add_finished_runs`` call under
a parent run, as a sweep records its trials) and a run with a 100,000-step loss curve. Then
``gnomon server --no-auth --workers 1`` serves it in its own process, and each page is asked
for over one kept-alive ``httpx`` connection from this process: a warm-up, then the median
of ``--query-reps`` requests. A request's wall time on loopback includes the client's own
cost, so it is an upper bound of the server's.
"""

from __future__ import annotations

import functools
import html
import os
import re
import time
from pathlib import Path
from typing import Any

import httpx

from bench import servers
from bench.workloads._common import emit, load, median_ms, parser

LIMIT_MS = 100.0  # the bound on every page's server time
NEXT_LINK = re.compile(r'class="next" href="([^"]+)"')


def _populate(home: Path, data: dict[str, Any]) -> dict[str, str]:
    """The experiment and its runs in ``home``'s database; the ids the pages need."""
    from gnomon._types import Scope, now_ms
    from gnomon.backends import close_databases, open_services
    from gnomon.config import Settings
    from gnomon.tracking.entities import FinishedRun, Metric, NewRun, RunData, RunStatus

    tracking = open_services(Settings(home=home)).tracking
    scope, cols, now = Scope(), data["runs"], now_ms()
    experiment = tracking.create_experiment(scope, "ui")
    sweep = tracking.create_run(scope, experiment.id, "sweep", start_time=now - 3_600_000)
    finished = []
    for i in range(len(cols["model"])):
        start = now - 3_000_000 + i * 100  # distinct start times: a stable default order
        metrics = [Metric(k, cols[k][i], 0, start + 50) for k in ("acc", "f1", "loss")]
        params = {k: cols[k][i] for k in ("model", "depth", "lr")}
        new = NewRun(experiment.id, f"trial-{i}", scope.principal, start)
        finished.append(
            FinishedRun(new, RunStatus.FINISHED, start + 60, RunData(metrics, params, {}))
        )
    trials = tracking.add_finished_runs(scope, sweep.id, finished)
    tracking.end_run(scope, sweep.id)
    curve = tracking.create_run(scope, experiment.id, "long-curve", start_time=now)
    points = [Metric("loss", v, s, now + s) for s, v in enumerate(data["curve"])]
    tracking.log_batch(scope, curve.id, points, params={"model": "rf"})
    tracking.end_run(scope, curve.id)
    close_databases()
    return {"experiment": experiment.id, "curve": curve.id, "trial": trials[0]}


def _pages(ids: dict[str, str], data: dict[str, Any], next_page: str) -> dict[str, Any]:
    """Each timed page: its figure's name and the request (path and query)."""
    runs = f"/experiments/{ids['experiment']}"
    low, high = data["zoom"]
    return {
        "experiments": ("/", {}),
        "runs": (runs, {}),
        "filtered": (runs, {"filter": data["filter"], "order": data["order"]}),
        "next_page": (next_page, {}),
        "last_page": (runs, {"page": _last_page_token(len(data["runs"]["model"]))}),
        "run": (f"/runs/{ids['curve']}", {}),
        "series": (f"/runs/{ids['curve']}/series", {"key": "loss", "start": low, "end": high}),
        "compare": ("/compare", {"runs": f"{ids['curve']},{ids['trial']}"}),
    }


def _last_page_token(n_runs: int) -> str:
    """A page deep in the listing: 100 runs from the oldest end, the largest offset read."""
    from gnomon._types import encode_offset_token

    return encode_offset_token(max(0, n_runs - 100))


def _measure(url: str, ids: dict[str, str], data: dict[str, Any], reps: int) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    statuses: dict[str, int] = {}
    with httpx.Client(base_url=url, timeout=60.0) as client:
        first = client.get(f"/experiments/{ids['experiment']}")
        found = NEXT_LINK.search(first.text)
        next_page = html.unescape(found.group(1)) if found else "/missing-next-link"
        for name, (path, query) in _pages(ids, data, next_page).items():
            ms, answer = median_ms(functools.partial(client.get, path, params=query), reps)
            figures[f"{name}_ms"] = ms
            statuses[name] = answer.status_code
            figures[f"{name}_kb"] = len(answer.content) / 1024
    failed = [name for name, status in statuses.items() if status != 200]
    figures["slowest_ms"] = max(figures[f"{name}_ms"] for name in statuses)
    figures["answered"] = not failed
    figures["ok"] = not failed and figures["slowest_ms"] < LIMIT_MS
    figures["failed"] = ",".join(failed) or "-"
    return figures


def main() -> None:
    cli = parser()
    cli.add_argument("--query-reps", type=int, default=20)
    args = cli.parse_args()
    data = load(args.data)
    home = args.workdir / "server"  # where bench.servers points the gnomon server
    began = time.perf_counter()
    ids = _populate(home, data)
    populated = time.perf_counter() - began
    server = servers.Server("gnomon", 1)
    env = {k: v for k, v in os.environ.items() if not k.startswith("GNOMON_")}
    with servers.running(server, args.workdir, env) as url:
        figures = _measure(url, ids, data, args.query_reps)
    import gnomon

    emit(
        {
            **figures,
            "runs": len(data["runs"]["model"]),
            "points": len(data["curve"]),
            "populate_seconds": populated,
            "version": gnomon.__version__,
        }
    )


if __name__ == "__main__":
    main()
