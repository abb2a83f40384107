"""W4 on Feast 0.67: ``materialize`` of W4's source into the SQLite online store (DuckDB
offline store), then ``get_online_features`` of one entity and of 100; prints one JSON line.

Runs inside the Feast peer venv (``bench/.peers/feast``); imports neither gnomon nor bench.
This process writes the feature repo under the workdir (``feast_common.prepare``, not timed).
The job is then a fresh child process (``--job``), its peak memory that child's
``ru_maxrss``: it opens the store and times ``materialize`` over the source's whole span,
then ``get_online_features(...).to_dict()`` for the same entities as the gnomon side, with
the same warm-up and counts, and checks the same 500 entities' values.
"""

from __future__ import annotations

import json
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import feast_common

VIEW = "w4"


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
    key, refs = data["join_key"], [f"{VIEW}:{f}" for f in data["features"]]

    def get(rows: list[dict[str, int]]) -> dict[str, list[Any]]:
        return store.get_online_features(features=refs, entity_rows=rows).to_dict()

    single = _timed(get, [[{key: entity}] for entity in data["single"]], 200)
    batches = _timed(get, [[{key: e} for e in batch] for batch in data["batches"]], 20)
    found = get([{key: entity} for entity in data["checked"]])
    rows = list(zip(*(found[f] for f in data["features"]), strict=True))
    mismatches = sum(list(row) != want for row, want in zip(rows, data["expected"], strict=True))
    feast_common.emit(
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
    )


def _stored(repo: Path) -> int:
    """Entities in Feast's online table of the view (one row per entity and feature)."""
    import sqlite3

    with sqlite3.connect(repo / "online.db") as conn:
        (table,) = conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE ?", (f"%{VIEW}",)
        ).fetchone()
        return int(conn.execute(f'SELECT count(DISTINCT entity_key) FROM "{table}"').fetchone()[0])


def main() -> None:
    args = feast_common.parse()
    data = json.loads(args.data.read_text())
    repo = args.workdir / "repo"
    if args.job:
        _job(data, repo)
        return
    feast_common.prepare(data, repo, VIEW, online=True)
    seconds, peak_mb, job = feast_common.run_job(__file__, args)
    feast_common.emit(
        {
            **job,
            "peak_mb": peak_mb,
            "process_seconds": seconds,
            "version": feast_common.feast_version(),
        }
    )


if __name__ == "__main__":
    main()
