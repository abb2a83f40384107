"""IMP on gnomon: ``gnomon import mlflow`` of an MLflow SQLite store of N runs; prints one JSON
line. The store is made first by MLflow itself (``bench/peers/mlflow_store.py`` in the MLflow
venv, not timed); the import is timed as a user runs it, a ``gnomon`` process of its own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from bench.venvs import MLFLOW
from bench.workloads._common import emit, load, parser


def main() -> None:
    args = parser().parse_args()
    data = load(args.data)
    db, artifacts = args.workdir / "mlflow.db", args.workdir / "mlflow-artifacts"
    made_by = [str(MLFLOW.python), str(MLFLOW.script("store"))]
    shape = ["--runs", str(data["runs"]), "--steps", str(data["steps"])]
    made = subprocess.run(
        [*made_by, "--db", str(db), "--artifacts", str(artifacts), *shape],
        capture_output=True,
        text=True,
        check=True,
    )
    store = json.loads(made.stdout.strip().splitlines()[-1])
    gnomon = str(Path(sys.executable).parent / "gnomon")
    command = [gnomon, "import", "mlflow", "--from", f"sqlite:///{db}", "--output", "json"]
    command += ["--artifacts-root", str(artifacts)]
    began = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=os.environ, check=True)
    seconds = time.perf_counter() - began
    summary = json.loads(done.stdout)
    emit(
        {
            "seconds": seconds,
            "runs_per_s": summary["runs_imported"] / seconds,
            "runs": summary["runs_imported"],
            "points": summary["metric_points"],
            "artifact_files": summary["artifact_files"],
            "skipped": len(summary["skipped"]),
            "store_runs": store["runs"],
            "make_seconds": store["make_seconds"],
        }
    )


if __name__ == "__main__":
    main()
