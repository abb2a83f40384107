"""W4 on Feast 0.67: ``materialize`` of W4's source into the SQLite online store (DuckDB
offline store), then ``get_online_features`` of one entity and of 100; prints one JSON line.

Runs inside the Feast peer venv (``bench/.peers/feast``); imports neither gnomon nor bench.
This process writes a feature repo (``feature_store.yaml``: local provider, duckdb offline
store, sqlite online store) under the workdir and applies the entity and the view (not timed).
The job is then a fresh child process (``--job``), its peak memory that child's
``ru_maxrss``: it opens the store and times ``materialize`` over the source's whole span,
then ``get_online_features(...).to_dict()`` for the same entities as the gnomon side, with
the same warm-up and counts, and checks the same 500 entities' values.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import statistics
import subprocess
import sys
import sysconfig
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ENV = {"FEAST_USAGE": "False", "DO_NOT_TRACK": "1"}  # no usage reporting (there is no network)


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--job", action="store_true")
    return parser.parse_args()


def _repo(data: dict[str, Any], repo: Path) -> None:
    """The feature repo's config, and the entity and view applied to its registry."""
    from feast import Entity, FeatureStore, FeatureView, Field, FileSource, ValueType
    from feast.types import Float64

    repo.mkdir()
    (repo / "feature_store.yaml").write_text(
        "project: w4\nprovider: local\n"
        f"registry: {repo / 'registry.db'}\n"
        f"online_store:\n  type: sqlite\n  path: {repo / 'online.db'}\n"
        "offline_store:\n  type: duckdb\n"
        "entity_key_serialization_version: 3\n"
    )
    entity = Entity(name="entity", join_keys=[data["join_key"]], value_type=ValueType.INT64)
    source = FileSource(
        path=data["source"],
        timestamp_field=data["timestamp_field"],
        created_timestamp_column=data["created_field"],
    )
    view = FeatureView(
        name="w4",
        entities=[entity],
        schema=[Field(name=f, dtype=Float64) for f in data["features"]],
        source=source,
        online=True,
    )
    FeatureStore(repo_path=str(repo)).apply([entity, view])


def _percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def _timed(call: Any, arguments: list[Any], warm: int) -> list[float]:
    for argument in arguments[:warm]:
        call(argument)
    samples = []
    for argument in arguments:
        started = time.perf_counter()
        call(argument)
        samples.append(time.perf_counter() - started)
    return samples


def _job(data: dict[str, Any], repo: Path) -> None:
    started = time.perf_counter()
    from feast import FeatureStore

    imported = time.perf_counter()
    store = FeatureStore(repo_path=str(repo))
    opened = time.perf_counter()
    # the source spans 30 days from 2024-01-01 (UTC); a margin either side
    first = datetime(2023, 12, 31, tzinfo=UTC)
    store.materialize(start_date=first, end_date=first + timedelta(days=33))
    materialized = time.perf_counter()
    key, refs = data["join_key"], [f"w4:{f}" for f in data["features"]]

    def get(rows: list[dict[str, int]]) -> dict[str, list[Any]]:
        return store.get_online_features(features=refs, entity_rows=rows).to_dict()

    single = _timed(get, [[{key: entity}] for entity in data["single"]], 200)
    batches = _timed(get, [[{key: e} for e in batch] for batch in data["batches"]], 20)
    found = get([{key: entity} for entity in data["checked"]])
    rows = list(zip(*(found[f] for f in data["features"]), strict=True))
    mismatches = sum(list(row) != want for row, want in zip(rows, data["expected"], strict=True))
    print(
        json.dumps(
            {
                "materialize_s": materialized - opened,
                "entities": _stored(repo),
                "get1_p50_us": statistics.median(single) * 1e6,
                "get1_p99_us": _percentile(single, 0.99) * 1e6,
                "get100_p50_ms": statistics.median(batches) * 1e3,
                "get100_p99_ms": _percentile(batches, 0.99) * 1e3,
                "mismatches": mismatches,
                "import_s": imported - started,
                "db_mb": sum(p.stat().st_size for p in repo.glob("online.db*")) / 2**20,
            }
        ),
        flush=True,
    )


def _stored(repo: Path) -> int:
    """Entities in Feast's online table of the view (one row per entity and feature)."""
    import sqlite3

    with sqlite3.connect(repo / "online.db") as conn:
        (table,) = conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE '%w4'"
        ).fetchone()
        return int(conn.execute(f'SELECT count(DISTINCT entity_key) FROM "{table}"').fetchone()[0])


def _child(args: list[str], workdir: Path) -> tuple[float, float, str]:
    """Seconds and peak resident MB of one child process, and its stdout."""
    out, err = workdir / "stdout", workdir / "stderr"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        started = time.perf_counter()
        process = subprocess.Popen(args, stdout=stdout, stderr=stderr, env={**os.environ, **ENV})
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"feast job failed: {err.read_text().strip()[-800:]}")
    return seconds, usage.ru_maxrss / 1024, out.read_text()  # Linux: ru_maxrss in KiB


def main() -> None:
    args = _parse()
    data = json.loads(args.data.read_text())
    repo = args.workdir / "repo"
    if args.job:
        _job(data, repo)
        return
    os.environ.update(ENV)
    # uv installs no .pyc files; compiled once here (untimed), as a pip install would
    compileall.compile_dir(sysconfig.get_paths()["purelib"], quiet=2, workers=0)
    _repo(data, repo)
    tail = ["--data", str(args.data), "--workdir", str(args.workdir)]
    seconds, peak_mb, out = _child([sys.executable, __file__, "--job", *tail], args.workdir)
    job = json.loads(out.strip().splitlines()[-1])
    from importlib.metadata import version

    print(
        json.dumps(
            {**job, "peak_mb": peak_mb, "process_seconds": seconds, "version": version("feast")}
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
