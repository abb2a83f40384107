"""An MLflow SQLite tracking store for the import benchmark (IMP), written by MLflow itself.

Runs inside the MLflow peer venv; imports neither gnomon nor bench. ``--seed-runs`` runs are
made with ``MlflowClient`` (params, tags, a metric history, an artifact file); the rest are
copies of those rows under fresh run ids, made in SQL, so that 10,000 runs take seconds to
make instead of minutes while every row keeps the layout MLflow wrote. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import time
import uuid
from pathlib import Path


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--artifacts", type=Path, required=True)
    parser.add_argument("--runs", type=int, required=True)
    parser.add_argument("--steps", type=int, required=True)
    parser.add_argument("--seed-runs", type=int, default=20)
    return parser.parse_args()


def _seed(args: argparse.Namespace) -> None:
    from mlflow import MlflowClient
    from mlflow.entities import Metric, Param, RunTag

    client = MlflowClient(tracking_uri=f"sqlite:///{args.db}")
    experiment = client.create_experiment("imported", artifact_location=str(args.artifacts))
    note = args.artifacts.parent / "notes.txt"
    note.write_text("an artifact that travels with every seed run\n")
    now = int(time.time() * 1000)
    for i in range(min(args.seed_runs, args.runs)):
        run = client.create_run(experiment, run_name=f"seed-{i}", tags={"team": "bench"})
        run_id = run.info.run_id
        metrics = [Metric("loss", 1 / (s + 1 + i), now + s, s) for s in range(args.steps)]
        metrics.append(Metric("acc", 0.5 + i / 1000, now, 0))
        params = [Param("model", "rf" if i % 2 else "gb"), Param("depth", str(3 + i % 5))]
        client.log_batch(run_id, metrics=metrics, params=params, tags=[RunTag("split", "a")])
        client.log_artifact(run_id, str(note))
        client.set_terminated(run_id)


def _replicate(db: Path, total: int) -> None:
    """Copy the seed runs' rows under fresh ids until there are ``total`` runs; a copy keeps
    its seed's artifact location, so each imported run copies the seed's files."""
    conn = sqlite3.connect(db)
    seeds = [row[0] for row in conn.execute("SELECT run_uuid FROM runs")]
    have = len(seeds)
    tables = ("runs", "params", "tags", "metrics", "latest_metrics")
    columns = {t: [c[1] for c in conn.execute(f"PRAGMA table_info({t})")] for t in tables}
    with conn:
        while have < total:
            seed, new = seeds[have % len(seeds)], uuid.uuid4().hex
            for table in tables:
                names = columns[table]
                picked = ", ".join(_copied(c) for c in names)
                values = [new if c == "run_uuid" else f"-{have}" for c in names if _bound(c)]
                conn.execute(
                    f"INSERT INTO {table} ({', '.join(names)}) SELECT {picked} FROM {table} "
                    "WHERE run_uuid = ?",
                    (*values, seed),
                )
            have += 1
    conn.close()


def _bound(column: str) -> bool:
    return column in ("run_uuid", "name")


def _copied(column: str) -> str:
    """The SELECT term copying ``column``: the new id and a suffixed name are bound."""
    if column == "run_uuid":
        return "?"
    if column == "name":
        return "name || ?"
    return column


def main() -> None:
    args = _parse()
    began = time.perf_counter()
    _seed(args)
    _replicate(args.db, args.runs)
    conn = sqlite3.connect(args.db)
    runs = conn.execute("SELECT count(*) FROM runs").fetchone()[0]
    points = conn.execute("SELECT count(*) FROM metrics").fetchone()[0]
    conn.close()
    made = {"runs": runs, "points": points, "make_seconds": time.perf_counter() - began}
    print(json.dumps(made), flush=True)


if __name__ == "__main__":
    main()
