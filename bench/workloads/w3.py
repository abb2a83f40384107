"""W3 and W3b (online serving), one system per process: train the model, save it the way the
system wants it, start the system's model server on a free loopback port, drive it with the
closed-loop load generator and print one JSON line of figures.

``--system gnomon``: ``gnomon.log_model`` + ``register_model`` then ``gnomon serve
models:/w3@production --workers 1`` (``--no-records`` for the records-off variant).
``--system mlflow``: ``bench/peers/mlflow_w3.py`` saves it (cloudpickle) in the peer venv, then
``mlflow models serve --env-manager local`` (its default, 1 worker).
``--system floor``: a pickled model behind ``bench/workloads/w3_floor.py`` on uvicorn, 1 worker.
"""

from __future__ import annotations

import json
import os
import pickle
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench import servers
from bench.venvs import MLFLOW
from bench.w3_model import train
from bench.workloads import loadgen
from bench.workloads._common import emit, load, parser

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
CHECKED_ROWS = 50  # answers compared with the in-process prediction


def _predict_ms(model: Any, rows: list[dict[str, float]]) -> float:
    """Median in-process ``predict`` of one row (a one-row frame), over 200 calls."""
    import pandas as pd

    frames = [pd.DataFrame.from_records([row]) for row in rows[:200]]
    model.predict(frames[0])
    samples = []
    for frame in frames:
        started = time.perf_counter()
        model.predict(frame)
        samples.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(samples), 3)


def _gnomon(model: Any, frame: Any, workdir: Path, port: int, records: bool) -> list[str]:
    import gnomon

    with gnomon.start_run():
        uri = gnomon.log_model(model, "model", input_example=frame)
    gnomon.register_model(uri, "w3", alias="production")
    net = ["--host", servers.HOST, "--port", str(port), "--workers", "1"]
    flags = [] if records else ["--no-records"]
    return [str(BIN / "gnomon"), "serve", "models:/w3@production", *net, *flags]


def _mlflow(data_file: Path, workdir: Path, port: int) -> list[str]:
    model_dir = workdir / "mlflow-model"
    script = [str(MLFLOW.python), str(MLFLOW.script("w3"))]
    done = subprocess.run(
        [*script, "--data", str(data_file), "--model-dir", str(model_dir)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit("mlflow_w3.py failed: " + done.stderr.strip()[-2000:])
    serve = ["models", "serve", "-m", str(model_dir), "--env-manager", "local"]
    return [str(MLFLOW.python.parent / "mlflow"), *serve, "-h", servers.HOST, "-p", str(port)]


def _floor(model: Any, workdir: Path, port: int) -> list[str]:
    (workdir / "model.pkl").write_bytes(pickle.dumps(model))
    net = ["--host", servers.HOST, "--port", str(port), "--workers", "1"]
    app = "bench.workloads.w3_floor:app"
    return [sys.executable, "-m", "uvicorn", app, *net, "--log-level", "warning"]


def main() -> None:
    args = parser()
    args.add_argument("--system", choices=("gnomon", "mlflow", "floor"), required=True)
    args.add_argument("--no-records", action="store_true", help="gnomon: records off")
    args.add_argument("--duration", type=float, default=20.0, help="measured seconds")
    args.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds first")
    args.add_argument("--connections", type=int, default=16)
    opts = args.parse_args()
    data = load(opts.data)
    rows: list[dict[str, float]] = data["rows"]
    model, frame = train(data["model"])
    expected = model.predict(frame.__class__.from_records(rows[:CHECKED_ROWS])).tolist()
    port = servers.free_port()
    env = dict(os.environ)
    extra: dict[str, str] = {}
    if opts.system == "gnomon":
        command = _gnomon(model, frame, opts.workdir, port, not opts.no_records)
        health, path = "/healthz", "/predict"
        key = "records"
    elif opts.system == "mlflow":
        command, health, path = _mlflow(opts.data, opts.workdir, port), "/health", "/invocations"
        # it execs ``uvicorn`` from PATH: the peer venv's
        path_var = f"{MLFLOW.python.parent}{os.pathsep}{env.get('PATH', '')}"
        extra = {"MLFLOW_ALLOW_PICKLE_DESERIALIZATION": "true", "PATH": path_var}
        key = "dataframe_records"
    else:
        command, health, path = _floor(model, opts.workdir, port), "/healthz", "/predict"
        extra = {"W3_FLOOR_MODEL": str(opts.workdir / "model.pkl")}
        key = "records"
    bodies = [json.dumps({key: [row]}).encode() for row in rows]
    log = opts.workdir / "server.log"
    with servers.serving(command, port, health, log, env, extra, cwd=REPO) as url:
        measured = loadgen.run(
            url + path,
            bodies,
            connections=opts.connections,
            duration_s=opts.duration,
            warmup_s=opts.warmup,
        )
    mismatches = sum(
        loadgen.predictions(body)[0] != expected[i]
        for i, body in measured.answers.items()
        if i < CHECKED_ROWS
    )
    figures = measured.figures()
    emit(
        {
            **figures,
            "seconds": figures["measured_s"],
            "mismatches": mismatches,
            "checked": sum(i < CHECKED_ROWS for i in measured.answers),
            "workers": 1,
            "connections": opts.connections,
            "predict_ms": _predict_ms(model, rows),
            "error_kinds": json.dumps(measured.error_kinds) if measured.error_kinds else "",
        }
    )


if __name__ == "__main__":
    main()
