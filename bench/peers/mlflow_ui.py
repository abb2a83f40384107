"""UI and UIq on MLflow: the server calls behind its UI's pages, at size; prints one JSON line.

Runs inside the MLflow peer venv; imports neither gnomon nor bench. An MLflow SQLite store
gets the same experiment as gnomon's side: a seed run made with ``MlflowClient`` whose rows are
copied in SQL under fresh ids with each run's own params and metrics (10,000 runs in seconds,
in the layout MLflow writes), and a run whose 100,000-step loss curve is inserted likewise.
Then ``mlflow server --workers 1`` serves it and each page's calls are timed over one kept-alive
``requests`` session: a warm-up, then the median of ``--query-reps``. MLflow's pages are drawn
in the browser from JSON, so these figures leave out the drawing gnomon's pages include.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

Point = tuple[str, float, int, int, int, str]  # key, value, timestamp, step, is_nan, run id
HOST = "127.0.0.1"
LIMIT_MS = 100.0
SAMPLED = 320  # points per curve MLflow's charts ask get-history-bulk-interval for
SLOW_REPS = 3


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--query-reps", type=int, default=20)
    return parser.parse_args()


def _populate(db: Path, artifacts: Path, data: dict[str, Any]) -> dict[str, str]:
    """The experiment, its runs and the curve in ``db``; the ids the calls need."""
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{db}")
    experiment = client.create_experiment("ui", artifact_location=str(artifacts))
    now = int(time.time() * 1000)
    seed = client.create_run(experiment, run_name="seed", start_time=now).info.run_id
    client.set_terminated(seed, end_time=now)
    curve = client.create_run(experiment, run_name="long-curve", start_time=now)
    curve_id = curve.info.run_id
    client.log_param(curve_id, "model", "rf")
    client.set_terminated(curve_id, end_time=now + len(data["curve"]))
    conn = sqlite3.connect(db)
    with conn:
        trials = _copy_runs(conn, seed, data["runs"], now - 3_000_000)
        conn.execute("DELETE FROM runs WHERE run_uuid = ?", (seed,))
        conn.execute("DELETE FROM tags WHERE run_uuid = ?", (seed,))
        points = [("loss", v, now + s, s, 0, curve_id) for s, v in enumerate(data["curve"])]
        _insert_points(conn, points, [points[-1]])
    conn.close()
    return {"experiment": experiment, "curve": curve_id, "trial": trials[0]}


def _copy_runs(
    conn: sqlite3.Connection, seed: str, cols: dict[str, list[Any]], t0: int
) -> list[str]:
    """A copy of the seed's run and tag rows per run, with its own name, times, params and
    metrics."""
    names = [c[1] for c in conn.execute("PRAGMA table_info(runs)")]
    own = {"run_uuid", "name", "start_time", "end_time", "artifact_uri"}
    picked = ", ".join("?" if c in own else c for c in names)
    copy_run = f"INSERT INTO runs ({', '.join(names)}) SELECT {picked} FROM runs WHERE run_uuid = ?"
    seed_tags = conn.execute("SELECT key, value FROM tags WHERE run_uuid = ?", (seed,)).fetchall()
    base = conn.execute("SELECT artifact_uri FROM runs WHERE run_uuid = ?", (seed,)).fetchone()[0]
    ids, params, tags, points = [], [], [], []
    for i in range(len(cols["model"])):
        run_id, name, start = uuid.uuid4().hex, f"trial-{i}", t0 + i * 100
        own_values = {
            "run_uuid": run_id,
            "name": name,
            "start_time": start,
            "end_time": start + 60,
            "artifact_uri": base.replace(seed, run_id),
        }
        conn.execute(copy_run, (*(own_values[c] for c in names if c in own), seed))
        params += [(k, cols[k][i], run_id) for k in ("model", "depth", "lr")]
        tags += [(k, name if k == "mlflow.runName" else v, run_id) for k, v in seed_tags]
        points += [(k, cols[k][i], start + 50, 0, 0, run_id) for k in ("acc", "f1", "loss")]
        ids.append(run_id)
    conn.executemany("INSERT INTO params (key, value, run_uuid) VALUES (?, ?, ?)", params)
    conn.executemany("INSERT INTO tags (key, value, run_uuid) VALUES (?, ?, ?)", tags)
    _insert_points(conn, points, points)
    return ids


def _insert_points(conn: sqlite3.Connection, points: list[Point], latest: list[Point]) -> None:
    columns = "(key, value, timestamp, step, is_nan, run_uuid) VALUES (?, ?, ?, ?, ?, ?)"
    conn.executemany(f"INSERT INTO metrics {columns}", points)
    conn.executemany(f"INSERT INTO latest_metrics {columns}", latest)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def _server(db: Path, artifacts: Path, log: Path) -> Iterator[str]:
    """``mlflow server`` with one worker in its own process group; its URL once healthy.

    Without its job runner: its start-up (a runner and six consumer processes) takes the CPU
    for half a minute, which would fall on the first pages timed; the pages need no jobs."""
    import requests

    port = _free_port()
    command = [str(Path(sys.executable).parent / "mlflow"), "server"]
    command += ["--backend-store-uri", f"sqlite:///{db}", "--default-artifact-root", str(artifacts)]
    command += ["--host", HOST, "--port", str(port), "--workers", "1"]
    with log.open("wb") as out:
        process = subprocess.Popen(
            command,
            env={**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://{HOST}:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            with contextlib.suppress(requests.RequestException):
                if requests.get(url + "/health", timeout=2).status_code == 200:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                sys.exit(f"mlflow server did not start: {log.read_text()[-800:]}")
            time.sleep(0.2)
        yield url
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _median_ms(call: Callable[[], Any], reps: int) -> tuple[float, Any]:
    """The median over ``reps`` calls after a warm-up; over ``SLOW_REPS`` when the warm-up
    took seconds (MLflow's whole 100,000-point history), so that the side takes minutes."""
    started = time.perf_counter()
    result = call()  # warm-up
    if time.perf_counter() - started > 1.0:
        reps = min(reps, SLOW_REPS)
    samples = []
    for _ in range(reps):
        started = time.perf_counter()
        result = call()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples), result


def _pages(session: Any, url: str, ids: dict[str, str], data: dict[str, Any]) -> dict[str, Any]:
    """Each page's calls, in order, as one function answering its calls' statuses and bytes."""
    api = url + "/ajax-api/2.0/mlflow"
    runs = {
        "experiment_ids": [ids["experiment"]],
        "max_results": 100,
        "order_by": ["attributes.start_time DESC"],
        "run_view_type": "ACTIVE_ONLY",
    }
    first = session.post(f"{api}/runs/search", json=runs).json()
    offset = len(data["runs"]["model"]) - 100
    deepest = base64.b64encode(json.dumps({"offset": offset}).encode()).decode()
    low, high = data["zoom"]
    curve, trial = ids["curve"], ids["trial"]

    def sampled(run_ids: list[str], key: str, **extra: Any) -> Any:
        query = {"run_ids": run_ids, "metric_key": key, "max_results": SAMPLED, **extra}
        return session.get(f"{api}/metrics/get-history-bulk-interval", params=query)

    def get(run_id: str) -> Any:
        return session.get(f"{api}/runs/get", params={"run_id": run_id})

    filtered = {**runs, "filter": data["filter"], "order_by": [data["order"]]}
    return {
        "experiments": lambda: [
            session.get(f"{api}/experiments/search", params={"max_results": 1000})
        ],
        "runs": lambda: [session.post(f"{api}/runs/search", json=runs)],
        "filtered": lambda: [session.post(f"{api}/runs/search", json=filtered)],
        "next_page": lambda: [
            session.post(
                f"{api}/runs/search", json={**runs, "page_token": first["next_page_token"]}
            )
        ],
        "last_page": lambda: [
            session.post(f"{api}/runs/search", json={**runs, "page_token": deepest})
        ],
        "run": lambda: [get(curve), sampled([curve], "loss")],
        "series": lambda: [sampled([curve], "loss", start_step=low, end_step=high)],
        "compare": lambda: [
            get(curve),
            get(trial),
            *(sampled([curve, trial], key) for key in ("acc", "f1", "loss")),
        ],
        "history": lambda: [
            session.get(
                f"{api}/metrics/get-history", params={"run_id": curve, "metric_key": "loss"}
            )
        ],
    }


def _measure(url: str, ids: dict[str, str], data: dict[str, Any], reps: int) -> dict[str, Any]:
    import requests

    figures: dict[str, Any] = {}
    failed = []
    with requests.Session() as session:
        for name, call in _pages(session, url, ids, data).items():
            ms, answers = _median_ms(call, reps)
            figures[f"{name}_ms"] = ms
            figures[f"{name}_kb"] = sum(len(a.content) for a in answers) / 1024
            if any(a.status_code != 200 for a in answers):
                failed.append(name)
    timed = [v for k, v in figures.items() if k.endswith("_ms") and k != "history_ms"]
    figures["slowest_ms"] = max(timed)
    figures["answered"] = not failed
    figures["ok"] = not failed and max(timed) < LIMIT_MS
    figures["failed"] = ",".join(failed) or "-"
    return figures


def main() -> None:
    args = _parse()
    data = json.loads(args.data.read_text())
    db, artifacts = args.workdir / "mlflow.db", args.workdir / "artifacts"
    began = time.perf_counter()
    ids = _populate(db, artifacts, data)
    populated = time.perf_counter() - began
    with _server(db, artifacts, args.workdir / "server.log") as url:
        figures = _measure(url, ids, data, args.query_reps)
    import mlflow

    figures |= {"runs": len(data["runs"]["model"]), "points": len(data["curve"])}
    figures |= {"populate_seconds": populated, "version": mlflow.__version__}
    print(json.dumps(figures), flush=True)


if __name__ == "__main__":
    main()
